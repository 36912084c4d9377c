//! Cursor pagination: `?limit=` (default 50, at most 100) and `?cursor=`, answered with
//! `{"data": [...], "next_cursor": "…" | null}` in creation order.
//!
//! A cursor is an opaque token naming the creation sequence number of the last row of the
//! previous page, so pages stay stable while rows are added. Lists in creation order continue
//! after it ([`Page::after`]); lists newest first (the audit log) continue below it
//! ([`Page::before`]).

use crate::api::List;
use crate::domain::Problem;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A list request's window: rows after `after` (a creation sequence number), at most
/// `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    /// The position the cursor names; 0 on the first page.
    pub after: i64,
}

impl Page {
    pub const DEFAULT_LIMIT: i64 = 50;
    pub const MAX_LIMIT: i64 = 100;

    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Page, Problem> {
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|l| (1..=Self::MAX_LIMIT).contains(l))
                .ok_or_else(|| {
                    Problem::invalid_field(
                        "limit",
                        format!("must be a whole number from 1 to {}", Self::MAX_LIMIT),
                    )
                })?,
        };
        let after = match cursor {
            None | Some("") => 0,
            Some(raw) => decode_cursor(raw).ok_or_else(|| {
                Problem::invalid_field("cursor", "is not a cursor this API returned")
            })?,
        };
        Ok(Page { limit, after })
    }

    /// For a list newest first: rows whose sequence number is below this one. The first page
    /// starts at 2^53, past every sequence number and still exact as a D1 (JavaScript) number.
    pub fn before(&self) -> i64 {
        if self.after == 0 {
            1 << 53
        } else {
            self.after
        }
    }

    /// How many rows to ask the store for: one more than the page, to learn whether
    /// another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts `rows` (fetched with [`fetch`](Self::fetch)) to the page and renders each row
    /// into the list envelope; `seq` gives a row's position for the next cursor.
    pub fn envelope<T, U>(
        &self,
        mut rows: Vec<T>,
        seq: impl Fn(&T) -> i64,
        render: impl Fn(&T) -> Result<U, Problem>,
    ) -> Result<List<U>, Problem> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(seq(r)))
        } else {
            None
        };
        Ok(List {
            data: rows.iter().map(render).collect::<Result<_, _>>()?,
            next_cursor,
        })
    }
}

fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{seq}"))
}

fn decode_cursor(raw: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix("after:")?
        .parse()
        .ok()
        .filter(|s| *s >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(Page::parse(None, None).unwrap().limit, 50);
        assert_eq!(Page::parse(Some("100"), None).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", "1.5"] {
            assert!(Page::parse(Some(bad), None).is_err(), "{bad}");
        }
        assert!(Page::parse(None, Some("zzz")).is_err());
        let page = Page::parse(Some("2"), None).unwrap();
        let env = page.envelope(vec![1i64, 2, 3], |r| *r, |r| Ok(*r)).unwrap();
        assert_eq!(env.data, [1, 2]);
        let next = env.next_cursor.unwrap();
        assert_eq!(Page::parse(None, Some(&next)).unwrap().after, 2);
        let last = page.envelope(vec![1i64, 2], |r| *r, |r| Ok(*r)).unwrap();
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn newest_first_pages_continue_below_the_cursor() {
        let first = Page::parse(Some("2"), None).unwrap();
        assert!(first.before() > i64::from(u32::MAX));
        let env = first
            .envelope(vec![9i64, 7, 4], |r| *r, |r| Ok(*r))
            .unwrap();
        assert_eq!(env.data, [9, 7]);
        let next = Page::parse(None, env.next_cursor.as_deref()).unwrap();
        assert_eq!(next.before(), 7);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("garbage!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("after:-1")), None);
    }
}
