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
            Some(raw) => parse_whole_number(raw)
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

/// A whole number as a query string may spell a JSON Schema integer: an optional sign,
/// digits (leading zeros too) and an all-zero fraction (`+5`, `050`, `5.0`).
fn parse_whole_number(raw: &str) -> Option<i64> {
    let whole = match raw.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') => {
            whole
        }
        Some(_) => return None,
        None => raw,
    };
    let digits = whole.strip_prefix(['+', '-']).unwrap_or(whole);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    whole.parse().ok()
}

/// The pattern of every cursor this API issues, all of which it accepts: `after:<seq>` in
/// unpadded base64url, `<seq>` being 1 to 18 decimal digits (so that it always fits an
/// `i64`). Spelled out per base64 quantum so that a string matching it always decodes:
/// three digits make four characters, and a last one or two digits two or three.
pub const CURSOR_PATTERN: &str = concat!(
    "^YWZ0ZXI6",
    "(?:(?:[MN][DTjz]|O[DT])[AEIMQUYcgk][w-z0-5]){0,5}",
    "(?:(?:[MN][DTjz]|O[DT])[AEIMQUYcgk][w-z0-5]|(?:[MN][AQgw]|O[AQ])|(?:[MN][DTjz]|O[DT])[AEIMQUYcgk])$",
);

/// The JSON of a `List` around `data`, a JSON array already rendered, whose last row is at
/// `next_after` when more follow (as [`Page::envelope`] writes it).
pub fn envelope_text(data: &str, next_after: Option<i64>) -> String {
    match next_after {
        // A cursor is base64url: nothing in it needs escaping in a JSON string.
        Some(seq) => format!(
            r#"{{"data":{data},"next_cursor":"{}"}}"#,
            encode_cursor(seq)
        ),
        None => format!(r#"{{"data":{data},"next_cursor":null}}"#),
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
        for bad in [
            "0", "101", "-1", "ten", "1.5", "", "+", "5.", ".5", "1e1", " 5", "0x10", "-0",
        ] {
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

    /// Query strings a JSON Schema `integer` from 1 to 100 may arrive as.
    #[test]
    fn limits_as_a_schema_integer_may_be_spelled() {
        for (raw, limit) in [
            ("050", 50),
            ("+5", 5),
            ("007", 7),
            ("5.0", 5),
            ("100.00", 100),
        ] {
            assert_eq!(Page::parse(Some(raw), None).unwrap().limit, limit, "{raw}");
        }
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
    fn a_rendered_page_gets_the_envelope_a_typed_one_does() {
        let page = Page::parse(Some("2"), None).unwrap();
        for rows in [vec![1i64, 2, 3], vec![1, 2], vec![]] {
            let typed = page.envelope(rows.clone(), |r| *r, |r| Ok(*r)).unwrap();
            let shown: Vec<i64> = rows.iter().copied().take(2).collect();
            let next_after = (rows.len() > 2).then(|| shown[1]);
            let data = serde_json::to_string(&shown).unwrap();
            assert_eq!(
                envelope_text(&data, next_after),
                serde_json::to_string(&typed).unwrap()
            );
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("garbage!"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("after:-1")), None);
    }

    fn cursor_pattern() -> regex::Regex {
        regex::Regex::new(CURSOR_PATTERN).unwrap()
    }

    proptest::proptest! {
        /// Whatever matches the documented pattern is a cursor the API accepts.
        #[test]
        fn every_string_of_the_cursor_pattern_is_accepted(
            cursor in proptest::string::string_regex(&CURSOR_PATTERN[1..CURSOR_PATTERN.len() - 1]).unwrap()
        ) {
            proptest::prop_assert!(Page::parse(None, Some(&cursor)).is_ok(), "{}", cursor);
        }

        /// Every cursor the API issues matches the documented pattern.
        #[test]
        fn every_issued_cursor_matches_the_pattern(seq in 0i64..1_000_000_000_000_000_000) {
            let cursor = encode_cursor(seq);
            proptest::prop_assert!(cursor_pattern().is_match(&cursor), "{}", cursor);
        }
    }

    #[test]
    fn the_cursor_pattern_refuses_what_does_not_decode() {
        let pattern = cursor_pattern();
        for bad in [
            "",
            "garbage",
            "YWZ0ZXI6",
            "YWZ0ZXI6LTE",
            "YWZ0ZXI6MT",
            "YWZ0ZXI6Oj",
        ] {
            assert!(!pattern.is_match(bad), "{bad}");
            assert!(decode_cursor(bad).is_none(), "{bad}");
        }
        assert!(pattern.is_match(&encode_cursor(i64::from(u32::MAX))));
    }
}
