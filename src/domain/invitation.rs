//! The invitation state machine and the rules of accepting.
//!
//! ```text
//!            accept             decline           cancel        expires_at passes
//! pending ──────────> accepted, ──────────> declined, ──────> canceled, ──────────> expired
//! ```
//!
//! Only a pending invitation whose `expires_at` is still ahead can be used, resent or
//! canceled; every other state answers 410 with its own code. An invitation past its
//! `expires_at` is expired at once, whether or not the scheduled job has marked it yet.

use super::policy::grant_cap;
use super::problem::{Code, Problem};
use super::time::Timestamp;
use super::values::{Level, Role};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Accepted,
    Declined,
    Expired,
    Canceled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Pending,
        Status::Accepted,
        Status::Declined,
        Status::Expired,
        Status::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
            Status::Expired => "expired",
            Status::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The status as it stands at `now`: a pending invitation past its expiry is expired.
    pub fn at(self, expires_at: Timestamp, now: Timestamp) -> Status {
        if self == Status::Pending && expires_at <= now {
            Status::Expired
        } else {
            self
        }
    }

    /// `Ok` for a usable (pending) invitation; otherwise the 410 its state answers with.
    pub fn require_pending(self) -> Result<(), Problem> {
        match self {
            Status::Pending => Ok(()),
            Status::Expired => Err(Problem::new(
                Code::InvitationExpired,
                "This invitation has expired; ask for a new one.",
            )),
            Status::Canceled => Err(Problem::new(
                Code::InvitationCanceled,
                "This invitation was canceled.",
            )),
            Status::Accepted | Status::Declined => Err(Problem::new(
                Code::InvitationAlreadyUsed,
                format!("This invitation was already {}.", self.as_str()),
            )),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roles an invitation may carry: any but `owner` (ownership moves only by transfer).
pub fn parse_invitation_role(s: &str) -> Result<Role, String> {
    match Role::parse(s) {
        Some(Role::Owner) => Err("cannot be owner; invite as admin, member or viewer and \
                                  transfer ownership later"
            .into()),
        Some(role) => Ok(role),
        None => Err("must be one of admin, member, viewer".into()),
    }
}

/// Whether the signed-in person may use an invitation sent to `invited`: the token's email
/// must be the same address (compared exactly, after both were lower-cased), and verified.
pub fn check_invitee(invited: &str, email: Option<&str>, verified: bool) -> Result<(), Problem> {
    if email != Some(invited) {
        return Err(Problem::new(
            Code::EmailMismatch,
            "This invitation was sent to another email address; sign in with that address.",
        ));
    }
    if !verified {
        return Err(Problem::new(
            Code::EmailNotVerified,
            "Verify your email address, then accept the invitation.",
        ));
    }
    Ok(())
}

/// The grant levels an invitation may carry for `role`, checked item by item.
pub fn check_grants(role: Role, levels: &[Level]) -> Result<(), Problem> {
    levels
        .iter()
        .try_for_each(|level| super::policy::check_grant(role, *level))
}

/// The level a grant of the invitation ends up at once accepted: capped by the role.
pub fn capped_level(role: Role, level: Level) -> Level {
    level.min(grant_cap(role))
}

/// Seconds left before a resend is allowed again: at most one resend per invitation per
/// 60 seconds, counted from the previous resend (the first is always allowed).
pub fn resend_wait(previous_resend: Option<Timestamp>, now: Timestamp) -> Option<u64> {
    const INTERVAL: i64 = 60;
    let previous = previous_resend?;
    let ready = previous.0 + INTERVAL;
    (now.0 < ready).then(|| (ready - now.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: Timestamp = Timestamp(1_800_000_000);

    #[test]
    fn statuses_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_pending_invitation_expires_at_its_expiry() {
        assert_eq!(Status::Pending.at(NOW.plus(1), NOW), Status::Pending);
        assert_eq!(Status::Pending.at(NOW, NOW), Status::Expired);
        assert_eq!(Status::Canceled.at(NOW.plus(-5), NOW), Status::Canceled);
        assert_eq!(Status::Accepted.at(NOW.plus(-5), NOW), Status::Accepted);
    }

    #[test]
    fn only_pending_is_usable_and_each_state_has_its_code() {
        assert!(Status::Pending.require_pending().is_ok());
        let code = |s: Status| s.require_pending().unwrap_err().code;
        assert_eq!(code(Status::Expired), Code::InvitationExpired);
        assert_eq!(code(Status::Canceled), Code::InvitationCanceled);
        assert_eq!(code(Status::Accepted), Code::InvitationAlreadyUsed);
        assert_eq!(code(Status::Declined), Code::InvitationAlreadyUsed);
        for s in [
            Status::Expired,
            Status::Canceled,
            Status::Accepted,
            Status::Declined,
        ] {
            assert_eq!(s.require_pending().unwrap_err().status(), 410);
        }
    }

    #[test]
    fn invitee_rules() {
        let invited = "alice@example.com";
        assert!(check_invitee(invited, Some("alice@example.com"), true).is_ok());
        let code = |email: Option<&str>, verified| {
            check_invitee(invited, email, verified).unwrap_err().code
        };
        assert_eq!(code(Some("bob@example.com"), true), Code::EmailMismatch);
        assert_eq!(code(None, true), Code::EmailMismatch);
        assert_eq!(code(Some("alıce@example.com"), true), Code::EmailMismatch);
        assert_eq!(code(Some("ａlice@example.com"), true), Code::EmailMismatch);
        assert_eq!(
            code(Some("alice@example.com"), false),
            Code::EmailNotVerified
        );
        // A mismatch is reported before verification: it is the more useful message.
        assert_eq!(code(Some("bob@example.com"), false), Code::EmailMismatch);
    }

    #[test]
    fn invitation_roles() {
        assert!(parse_invitation_role("owner").is_err());
        assert!(parse_invitation_role("superuser").is_err());
        assert_eq!(parse_invitation_role("viewer"), Ok(Role::Viewer));
        assert_eq!(
            check_grants(Role::Viewer, &[Level::Read, Level::Write])
                .unwrap_err()
                .code,
            Code::GrantExceedsRole
        );
        assert!(check_grants(Role::Member, &[Level::Admin]).is_ok());
        assert_eq!(capped_level(Role::Viewer, Level::Admin), Level::Read);
    }

    #[test]
    fn resends_are_limited_to_one_a_minute() {
        assert_eq!(resend_wait(None, NOW), None);
        assert_eq!(resend_wait(Some(NOW), NOW), Some(60));
        assert_eq!(resend_wait(Some(NOW.plus(-59)), NOW), Some(1));
        assert_eq!(resend_wait(Some(NOW.plus(-60)), NOW), None);
    }

    proptest! {
        #[test]
        fn resend_wait_counts_down_from_the_previous_resend(elapsed in 0i64..200) {
            let expected = (elapsed < 60).then(|| (60 - elapsed) as u64);
            prop_assert_eq!(resend_wait(Some(NOW.plus(-elapsed)), NOW), expected);
        }
    }
}
