//! How long Roster keeps what grows without bound: the audit log and usage events for
//! `RETENTION_DAYS` (400 by default, over a year of history), settled deliveries and
//! invitations that ended for 30 days (or `RETENTION_DAYS` when that is shorter).

use super::Timestamp;

/// Days of audit log and usage kept by default.
pub const DEFAULT_DAYS: i64 = 400;
/// Days settled outbox rows and ended invitations are kept, at the most.
pub const SETTLED_DAYS: i64 = 30;

const DAY: i64 = 86_400;

/// The retention of one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    days: i64,
}

impl Retention {
    /// From `RETENTION_DAYS`: a whole number of days, 0 or more; the default otherwise.
    pub fn parse(var: Option<&str>) -> Retention {
        let days = var
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|d| (0..=36_500).contains(d))
            .unwrap_or(DEFAULT_DAYS);
        Retention { days }
    }

    /// Audit entries and usage events from before this are deleted.
    pub fn history_cutoff(self, now: Timestamp) -> Timestamp {
        now.plus(-self.days * DAY)
    }

    /// Settled deliveries and ended invitations from before this are deleted.
    pub fn settled_cutoff(self, now: Timestamp) -> Timestamp {
        now.plus(-self.days.min(SETTLED_DAYS) * DAY)
    }
}

impl Default for Retention {
    fn default() -> Retention {
        Retention { days: DEFAULT_DAYS }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_800_000_000);

    #[test]
    fn cutoffs_by_default_and_as_configured() {
        let default = Retention::parse(None);
        assert_eq!(default, Retention::default());
        assert_eq!(default.history_cutoff(NOW), NOW.plus(-400 * DAY));
        assert_eq!(default.settled_cutoff(NOW), NOW.plus(-30 * DAY));
        let short = Retention::parse(Some("7"));
        assert_eq!(short.history_cutoff(NOW), NOW.plus(-7 * DAY));
        assert_eq!(short.settled_cutoff(NOW), NOW.plus(-7 * DAY));
        assert_eq!(Retention::parse(Some("0")).settled_cutoff(NOW), NOW);
        for bad in ["-1", "forever", "1.5", ""] {
            assert_eq!(Retention::parse(Some(bad)), Retention::default(), "{bad}");
        }
    }
}
