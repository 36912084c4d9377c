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

use super::invite_link::check_invitee_domain;
use super::plan::{Plan, Seats};
use super::policy::{authorize, check_grant, Action, Actor, Catalogue, RoleDef};
use super::problem::{Code, Problem};
use super::time::Timestamp;
use super::values::{Level, Role, RoleKey};
use std::collections::{HashMap, HashSet};
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

/// The roles an invitation may carry: any role key but `owner` (ownership moves only by
/// transfer). Whether the organization has the role is decided with its catalogue.
pub fn parse_invitation_role(s: &str) -> Result<RoleKey, String> {
    let key = RoleKey::parse(s)
        .map_err(|_| "must be admin, member, viewer or a custom role's key".to_string())?;
    match key.builtin() {
        Some(Role::Owner) => Err("cannot be owner; invite as admin, member or viewer and \
                                  transfer ownership later"
            .into()),
        _ => Ok(key),
    }
}

/// How long an invitation may be asked to last, in seconds: an hour to 30 days.
pub const EXPIRES_IN: std::ops::RangeInclusive<i64> = 3_600..=2_592_000;

/// Longest `redirect_url` accepted.
const REDIRECT_URL_MAX: usize = 2_048;

/// A `redirect_url` for the landing page's button: an absolute URL of the product's own
/// origin (`app_url`'s scheme, host and port), without credentials; returned normalised.
pub fn parse_redirect_url(app_url: &str, s: &str) -> Result<String, String> {
    let refused = || "must be a URL on the app's origin".to_string();
    if s.len() > REDIRECT_URL_MAX {
        return Err(format!("must be at most {REDIRECT_URL_MAX} characters"));
    }
    let app = url::Url::parse(app_url).map_err(|_| refused())?;
    let url = url::Url::parse(s).map_err(|_| refused())?;
    let tuple = matches!(url.scheme(), "http" | "https");
    if !tuple
        || url.origin() != app.origin()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(refused());
    }
    Ok(url.into())
}

/// Where the landing page's button leads: `base` with `token` added to its query
/// (`?token=`, or `&token=` after a query it already has; before any fragment).
pub fn accept_link(base: &str, token: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            url.query_pairs_mut().append_pair("token", token);
            url.into()
        }
        Err(_) => format!("{base}?token={token}"),
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
pub fn check_grants(role: RoleDef, levels: &[Level]) -> Result<(), Problem> {
    levels
        .iter()
        .try_for_each(|level| check_grant(role, *level))
}

/// Seconds left before a resend is allowed again: at most one resend per invitation per
/// 60 seconds, counted from the previous resend (the first is always allowed).
pub fn resend_wait(previous_resend: Option<Timestamp>, now: Timestamp) -> Option<u64> {
    const INTERVAL: i64 = 60;
    let previous = previous_resend?;
    let ready = previous.0 + INTERVAL;
    // Never more than the interval, even when another instance's clock stamped the
    // previous resend a moment ahead of this one.
    (now.0 < ready).then(|| (ready - now.0).min(INTERVAL) as u64)
}

/// A pending invitation already addressed to one of the addresses being invited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    pub id: String,
    pub expires_at: Timestamp,
}

/// What the organization's state, read before inviting, says about the addresses asked
/// for: its plan and seats, which addresses are members or invited already, which resources
/// exist there.
#[derive(Debug, Clone)]
pub struct InviteFacts {
    pub plan: Plan,
    pub seats: Seats,
    /// Members' email addresses.
    pub members: HashSet<String>,
    /// Pending invitations by email address.
    pub pending: HashMap<String, PendingInvitation>,
    /// Ids of the organization's resources among those the grants name.
    pub resources: HashSet<String>,
    /// The organization's roles.
    pub roles: Catalogue,
    /// Ids of the organization's teams among those named, by slug.
    pub teams: HashMap<String, String>,
    /// The email domains the organization invites (`allowed_email_domains`; empty: any).
    pub allowed_domains: Vec<String>,
    pub now: Timestamp,
}

/// Decides invitations one by one against the same facts, remembering the addresses already
/// admitted: a bulk list may name one twice, and only its first occurrence is invited.
#[derive(Debug, Clone)]
pub struct Admissions {
    facts: InviteFacts,
    admitted: HashSet<String>,
}

impl Admissions {
    pub fn new(facts: InviteFacts) -> Admissions {
        Admissions {
            facts,
            admitted: HashSet::new(),
        }
    }

    /// The definition of the role `key` in the organization (400 when it has none).
    pub fn role(&self, key: &RoleKey) -> Result<RoleDef, Problem> {
        self.facts.roles.resolve("role", key)
    }

    /// Whether `actor` may invite `email` as the role `key` with `grants`, to join `teams`
    /// (by slug) on acceptance.
    pub fn admit(
        &mut self,
        actor: &Actor,
        email: &str,
        key: &RoleKey,
        grants: &[(String, Level)],
        teams: &[String],
    ) -> Result<Admission, Problem> {
        let role = self.role(key)?;
        let facts = &self.facts;
        authorize(actor, Action::Invite(role))?;
        facts.plan.require_role_def(role)?;
        check_grants(role, &grants.iter().map(|g| g.1).collect::<Vec<_>>())?;
        let mut team_ids = Vec::with_capacity(teams.len());
        for (i, slug) in teams.iter().enumerate() {
            match facts.teams.get(slug) {
                Some(id) if !team_ids.contains(id) => team_ids.push(id.clone()),
                Some(_) => {}
                None => {
                    return Err(Problem::invalid_field(
                        &format!("teams[{i}]"),
                        "is not a team of this organization",
                    ))
                }
            }
        }
        if let Some((i, _)) = grants
            .iter()
            .enumerate()
            .find(|(_, (id, _))| !facts.resources.contains(id))
        {
            return Err(Problem::invalid_field(
                &format!("grants[{i}].resource_id"),
                "is not a resource of this organization",
            ));
        }
        if facts.members.contains(email) {
            return Err(already_member(email));
        }
        check_invitee_domain(email, &facts.allowed_domains)?;
        let stale = match facts.pending.get(email) {
            Some(p) if p.expires_at > facts.now => return Err(invitation_pending(email)),
            Some(p) => Some(p.id.clone()),
            None => None,
        };
        if !self.admitted.insert(email.to_owned()) {
            return Err(invitation_pending(email));
        }
        facts.seats.require_free_seat()?;
        Ok(Admission {
            replaces_expired: stale,
            team_ids,
        })
    }
}

/// An invitation found admissible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    /// The id of an earlier pending invitation to the same address whose time ran out: the
    /// new one replaces it.
    pub replaces_expired: Option<String>,
    /// The teams joined on acceptance.
    pub team_ids: Vec<String>,
}

/// `email` belongs to a member already.
pub fn already_member(email: &str) -> Problem {
    Problem::new(
        Code::AlreadyMember,
        format!("{email} is already a member of this organization."),
    )
}

/// `email` has a pending invitation already (or an earlier item of the same list).
pub fn invitation_pending(email: &str) -> Problem {
    Problem::new(
        Code::InvitationPending,
        format!("{email} already has a pending invitation; resend it instead."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::Permissions;
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
        assert!(parse_invitation_role("Super User").is_err());
        assert_eq!(parse_invitation_role("viewer"), Ok(key(Role::Viewer)));
        assert_eq!(
            parse_invitation_role("billing-manager").unwrap().as_str(),
            "billing-manager"
        );
        let viewer = RoleDef::builtin(Role::Viewer);
        assert_eq!(
            check_grants(viewer, &[Level::Read, Level::Write])
                .unwrap_err()
                .code,
            Code::GrantExceedsRole
        );
        assert!(check_grants(RoleDef::builtin(Role::Member), &[Level::Admin]).is_ok());
    }

    #[test]
    fn resends_are_limited_to_one_a_minute() {
        assert_eq!(resend_wait(None, NOW), None);
        assert_eq!(resend_wait(Some(NOW), NOW), Some(60));
        assert_eq!(resend_wait(Some(NOW.plus(-59)), NOW), Some(1));
        assert_eq!(resend_wait(Some(NOW.plus(-60)), NOW), None);
        assert_eq!(resend_wait(Some(NOW.plus(2)), NOW), Some(60));
    }

    fn owner() -> Actor {
        Actor::member("u", Role::Owner)
    }

    fn key(role: Role) -> RoleKey {
        role.into()
    }

    fn admitted(stale: Option<&str>) -> Admission {
        Admission {
            replaces_expired: stale.map(str::to_owned),
            team_ids: Vec::new(),
        }
    }

    /// A business organization with seats to spare, `members` in it, nothing pending, and
    /// resources `r1` and `r2`.
    fn facts(members: &[&str]) -> InviteFacts {
        InviteFacts {
            plan: Plan::Business,
            seats: Seats::new(Plan::Business, 0, members.len() as i64, 0),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            pending: HashMap::new(),
            resources: ["r1", "r2"].map(str::to_owned).into(),
            roles: Catalogue::new(vec![(
                RoleKey::parse("support").unwrap(),
                RoleDef::custom(Permissions::default(), Some(Level::Read), Level::Read).unwrap(),
            )]),
            teams: [("design".to_owned(), "t1".to_owned())].into(),
            allowed_domains: Vec::new(),
            now: NOW,
        }
    }

    fn code(result: Result<Admission, Problem>) -> Code {
        result.unwrap_err().code
    }

    #[test]
    fn only_the_allowed_email_domains_are_invited() {
        let mut facts = facts(&["ann@other.org"]);
        facts.allowed_domains = vec!["example.com".into()];
        let mut admissions = Admissions::new(facts);
        let refused = admissions
            .admit(&owner(), "bob@other.org", &key(Role::Member), &[], &[])
            .unwrap_err();
        assert_eq!(
            (refused.code.as_str(), refused.status()),
            ("email_domain_not_allowed", 409)
        );
        assert_eq!(
            code(admissions.admit(&owner(), "ann@other.org", &key(Role::Member), &[], &[])),
            Code::AlreadyMember
        );
        assert_eq!(
            admissions.admit(&owner(), "cy@example.com", &key(Role::Member), &[], &[]),
            Ok(admitted(None))
        );
    }

    #[test]
    fn a_member_cannot_be_invited_again() {
        let mut admissions = Admissions::new(facts(&["ann@example.com"]));
        let refused = admissions
            .admit(&owner(), "ann@example.com", &key(Role::Member), &[], &[])
            .unwrap_err();
        assert_eq!(refused.code, Code::AlreadyMember);
        assert!(refused.detail.contains("ann@example.com"));
        assert_eq!(
            admissions.admit(&owner(), "bob@example.com", &key(Role::Member), &[], &[]),
            Ok(admitted(None))
        );
    }

    #[test]
    fn a_live_pending_invitation_blocks_a_new_one_and_an_expired_one_is_replaced() {
        let mut facts = facts(&[]);
        for (email, id, expires_at) in [
            ("live@example.com", "inv-live", NOW.plus(1)),
            ("stale@example.com", "inv-stale", NOW),
        ] {
            let pending = PendingInvitation {
                id: id.into(),
                expires_at,
            };
            facts.pending.insert(email.into(), pending);
        }
        let mut admissions = Admissions::new(facts);
        assert_eq!(
            code(admissions.admit(&owner(), "live@example.com", &key(Role::Member), &[], &[])),
            Code::InvitationPending
        );
        assert_eq!(
            admissions.admit(&owner(), "stale@example.com", &key(Role::Member), &[], &[]),
            Ok(admitted(Some("inv-stale")))
        );
    }

    #[test]
    fn whoever_may_not_invite_the_role_or_the_plan_lacks_it_is_refused() {
        let admin = Actor::member("a", Role::Admin);
        let mut admissions = Admissions::new(facts(&[]));
        assert_eq!(
            code(admissions.admit(&admin, "x@example.com", &key(Role::Admin), &[], &[])),
            Code::Forbidden
        );
        let mut free = facts(&[]);
        free.plan = Plan::Free;
        free.seats = Seats::new(Plan::Free, 0, 0, 0);
        assert_eq!(
            code(Admissions::new(free).admit(
                &owner(),
                "x@example.com",
                &key(Role::Viewer),
                &[],
                &[]
            )),
            Code::RoleNotAvailable
        );
    }

    #[test]
    fn grants_must_suit_the_role_and_name_resources_of_the_organization() {
        let mut admissions = Admissions::new(facts(&[]));
        let grants = |ids: &[&str], level| {
            ids.iter()
                .map(|id| ((*id).to_owned(), level))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            code(admissions.admit(
                &owner(),
                "v@example.com",
                &key(Role::Viewer),
                &grants(&["r1"], Level::Write),
                &[]
            )),
            Code::GrantExceedsRole
        );
        let unknown = admissions
            .admit(
                &owner(),
                "m@example.com",
                &key(Role::Member),
                &grants(&["r1", "elsewhere", "r2"], Level::Read),
                &[],
            )
            .unwrap_err();
        assert_eq!(unknown.code, Code::InvalidRequest);
        assert!(unknown
            .errors
            .iter()
            .any(|e| e.field == "grants[1].resource_id"));
        assert_eq!(
            admissions.admit(
                &owner(),
                "m@example.com",
                &key(Role::Member),
                &grants(&["r1", "r2"], Level::Admin),
                &[]
            ),
            Ok(admitted(None))
        );
    }

    #[test]
    fn custom_roles_and_teams_are_those_of_the_organization() {
        let mut admissions = Admissions::new(facts(&[]));
        let support = RoleKey::parse("support").unwrap();
        let outcome = admissions.admit(
            &owner(),
            "s@example.com",
            &support,
            &[],
            &["design".into(), "design".into()],
        );
        assert_eq!(outcome.unwrap().team_ids, ["t1"]);
        let unknown = RoleKey::parse("nobody").unwrap();
        let refused = admissions
            .admit(&owner(), "n@example.com", &unknown, &[], &[])
            .unwrap_err();
        assert_eq!(refused.errors[0].field, "role");
        let refused = admissions
            .admit(&owner(), "t@example.com", &support, &[], &["sales".into()])
            .unwrap_err();
        assert_eq!(refused.errors[0].field, "teams[0]");
        // The custom role caps grants at `read`.
        let grants = [("r1".to_owned(), Level::Write)];
        assert_eq!(
            code(admissions.admit(&owner(), "g@example.com", &support, &grants, &[])),
            Code::GrantExceedsRole
        );
    }

    #[test]
    fn a_full_organization_admits_nobody() {
        let mut full = facts(&[]);
        full.seats = Seats::new(Plan::Business, 0, 20, 0);
        assert_eq!(
            code(Admissions::new(full).admit(
                &owner(),
                "x@example.com",
                &key(Role::Member),
                &[],
                &[]
            )),
            Code::SeatLimitReached
        );
    }

    proptest! {
        /// In a bulk list, the first occurrence of each address is admitted and every repeat
        /// is refused as pending, wherever it stands.
        #[test]
        fn a_bulk_list_admits_each_address_once(picks in prop::collection::vec(0usize..6, 1..40)) {
            let emails: Vec<String> = picks.iter().map(|i| format!("p{i}@example.com")).collect();
            let mut admissions = Admissions::new(facts(&[]));
            let mut seen = HashSet::new();
            for email in &emails {
                let outcome = admissions.admit(&owner(), email, &key(Role::Member), &[], &[]);
                if seen.insert(email.clone()) {
                    prop_assert_eq!(outcome, Ok(admitted(None)));
                } else {
                    prop_assert_eq!(code(outcome), Code::InvitationPending);
                }
            }
        }

        /// A member is refused wherever it stands in the list, and never counts as admitted.
        #[test]
        fn members_are_refused_anywhere_in_a_list(picks in prop::collection::vec(0usize..6, 1..40)) {
            let mut admissions = Admissions::new(facts(&["p0@example.com", "p3@example.com"]));
            let mut seen = HashSet::new();
            for i in picks {
                let email = format!("p{i}@example.com");
                let outcome = admissions.admit(&owner(), &email, &key(Role::Member), &[], &[]);
                if i == 0 || i == 3 {
                    prop_assert_eq!(code(outcome), Code::AlreadyMember);
                } else if seen.insert(i) {
                    prop_assert_eq!(outcome, Ok(admitted(None)));
                } else {
                    prop_assert_eq!(code(outcome), Code::InvitationPending);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn resend_wait_counts_down_from_the_previous_resend(elapsed in 0i64..200) {
            let expected = (elapsed < 60).then(|| (60 - elapsed) as u64);
            prop_assert_eq!(resend_wait(Some(NOW.plus(-elapsed)), NOW), expected);
        }
    }
    #[test]
    fn a_redirect_must_stay_on_the_apps_origin() {
        let app = "https://app.example.com";
        assert_eq!(
            parse_redirect_url(app, "https://app.example.com/join?team=1").as_deref(),
            Ok("https://app.example.com/join?team=1")
        );
        assert!(parse_redirect_url(app, "https://app.example.com:443/x").is_ok());
        assert!(parse_redirect_url("http://localhost:3000", "http://localhost:3000/a").is_ok());
        for foreign in [
            "https://evil.example.com/join",
            "http://app.example.com/join",
            "https://app.example.com:8443/join",
            "https://app.example.com.evil.test/",
            "https://user:pw@app.example.com/",
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "",
        ] {
            assert!(parse_redirect_url(app, foreign).is_err(), "{foreign}");
        }
        let long = format!("https://app.example.com/{}", "a".repeat(2_100));
        assert!(parse_redirect_url(app, &long).is_err());
    }

    #[test]
    fn the_token_joins_the_links_query() {
        assert_eq!(
            accept_link("https://app.example.com/accept-invite", "abc"),
            "https://app.example.com/accept-invite?token=abc"
        );
        assert_eq!(
            accept_link("https://app.example.com/join?team=1", "abc"),
            "https://app.example.com/join?team=1&token=abc"
        );
        assert_eq!(
            accept_link("https://app.example.com/join#top", "abc"),
            "https://app.example.com/join?token=abc#top"
        );
    }
}
