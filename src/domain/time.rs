//! Instants as whole Unix seconds, shown as RFC 3339 UTC (`2026-11-23T10:00:00Z`).
//!
//! The domain never reads a clock: the Worker passes `now` in (from `worker::Date`, since
//! `SystemTime::now()` fails at run time on wasm32), and tests pass any instant they like.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(ms: u64) -> Timestamp {
        Timestamp((ms / 1000) as i64)
    }

    pub fn plus(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.0, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    pub fn from_datetime(dt: DateTime<Utc>) -> Timestamp {
        Timestamp(dt.timestamp())
    }

    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|dt| Timestamp(dt.timestamp()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_rfc3339_utc_seconds() {
        let t = Timestamp(1_795_428_000);
        assert_eq!(t.to_rfc3339(), "2026-11-23T10:00:00Z");
        assert_eq!(Timestamp::parse_rfc3339("2026-11-23T10:00:00Z"), Some(t));
        assert_eq!(
            Timestamp::parse_rfc3339("2026-11-23T11:00:00+01:00"),
            Some(t)
        );
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2026-11-23T10:00:00Z\""
        );
        assert_eq!(Timestamp::from_millis(1_795_428_000_999), t);
    }
}
