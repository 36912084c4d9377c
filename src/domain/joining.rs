//! Ways into an organization besides an invitation: how a membership came about, and how
//! people with a verified email domain may join.

use std::fmt;

/// How a membership came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinedVia {
    /// The organization's creator.
    Created,
    Invitation,
    InviteLink,
    /// Auto-joined through a verified email domain.
    Domain,
    JoinRequest,
    Scim,
}

impl JoinedVia {
    pub const ALL: [JoinedVia; 6] = [
        JoinedVia::Created,
        JoinedVia::Invitation,
        JoinedVia::InviteLink,
        JoinedVia::Domain,
        JoinedVia::JoinRequest,
        JoinedVia::Scim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JoinedVia::Created => "created",
            JoinedVia::Invitation => "invitation",
            JoinedVia::InviteLink => "invite_link",
            JoinedVia::Domain => "domain",
            JoinedVia::JoinRequest => "join_request",
            JoinedVia::Scim => "scim",
        }
    }

    pub fn parse(s: &str) -> Option<JoinedVia> {
        JoinedVia::ALL.into_iter().find(|j| j.as_str() == s)
    }
}

impl fmt::Display for JoinedVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What people whose verified email is on an organization's verified domain may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Enrollment {
    /// Nothing: the domain is only verified.
    #[default]
    Off,
    /// Ask to join; a member manager approves or denies.
    Request,
    /// Join at once, taking a seat.
    AutoJoin,
}

impl Enrollment {
    pub const ALL: [Enrollment; 3] = [Enrollment::Off, Enrollment::Request, Enrollment::AutoJoin];
    /// The names, as requests spell them, in the order of [`ALL`](Self::ALL).
    pub const NAMES: &'static [&'static str] = &["off", "request", "auto_join"];

    pub fn as_str(self) -> &'static str {
        match self {
            Enrollment::Off => "off",
            Enrollment::Request => "request",
            Enrollment::AutoJoin => "auto_join",
        }
    }

    pub fn parse(s: &str) -> Option<Enrollment> {
        Enrollment::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl fmt::Display for Enrollment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for j in JoinedVia::ALL {
            assert_eq!(JoinedVia::parse(j.as_str()), Some(j));
        }
        for (e, name) in Enrollment::ALL.into_iter().zip(Enrollment::NAMES) {
            assert_eq!(e.as_str(), *name);
            assert_eq!(Enrollment::parse(name), Some(e));
        }
        assert_eq!(JoinedVia::parse("magic"), None);
    }
}
