//! Typed, validated values, parsed once at the edge of the system.
//!
//! An `Email`, `Slug`, `OrgName` or `LogoUrl` that exists has passed its rules; code past the
//! HTTP layer never re-checks a string. Each `parse` returns a message fit for the `errors`
//! entry of a 400 answer.

use serde::{Serialize, Serializer};
use std::fmt;

/// An email address: trimmed, lower-cased, ASCII.
///
/// Internationalised addresses are refused on purpose: comparing them safely needs more
/// than lower-casing, and a lookalike (a dotless `ı`, fullwidth letters) must never match
/// a real address. Domains in Unicode can be written in their `xn--` form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Email, String> {
        let trimmed = raw.trim_matches(|c: char| c == ' ' || c == '\t');
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters or line breaks".into());
        }
        if !trimmed.is_ascii() {
            return Err("must be ASCII; write an internationalised domain in its xn-- form".into());
        }
        let email = trimmed.to_ascii_lowercase();
        if email.is_empty() {
            return Err("is required".into());
        }
        if email.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("is not an email address (no @)".into());
        };
        if !valid_local_part(local) {
            return Err("is not an email address (the part before @ is not valid)".into());
        }
        if !valid_domain(domain) {
            return Err("is not an email address (the domain is not valid)".into());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address as shown to someone who may not be its owner: `a***@example.com`.
    pub fn hint(&self) -> String {
        let (local, domain) = self.0.split_once('@').unwrap_or((&self.0, ""));
        let first = local.chars().next().unwrap_or('*');
        format!("{first}***@{domain}")
    }
}

/// RFC 5322 dot-atom local part (no quoted strings), at most 64 characters.
fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || SPECIALS.contains(c))
}

/// A hostname of at least two labels with an alphabetic top-level label.
fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An organization's slug: 3–48 characters of `a-z0-9-`, no `-` at either end, not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

/// Slugs that would collide with paths of the product or of Roster itself.
pub const RESERVED_SLUGS: &[&str] = &[
    "accept-invite",
    "account",
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "billing",
    "dashboard",
    "health",
    "help",
    "invitations",
    "invite",
    "login",
    "logout",
    "me",
    "new",
    "null",
    "openapi",
    "org",
    "orgs",
    "organizations",
    "roster",
    "settings",
    "signin",
    "signup",
    "static",
    "support",
    "system",
    "undefined",
    "www",
];

impl Slug {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 48;

    pub fn parse(raw: &str) -> Result<Slug, String> {
        if raw.len() < Self::MIN_LEN || raw.len() > Self::MAX_LEN {
            return Err(format!(
                "must be {}–{} characters",
                Self::MIN_LEN,
                Self::MAX_LEN
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("may contain only a-z, 0-9 and -".into());
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return Err("must not start or end with -".into());
        }
        if RESERVED_SLUGS.contains(&raw) {
            return Err(format!("`{raw}` is reserved"));
        }
        Ok(Slug(raw.to_owned()))
    }

    /// The slug a name suggests: ASCII letters and digits lower-cased, every other run of
    /// characters turned into one `-`. `None` when that is not a valid slug.
    pub fn derive(name: &str) -> Option<Slug> {
        let mut out = String::with_capacity(name.len().min(Self::MAX_LEN));
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            if out.len() >= Self::MAX_LEN {
                break;
            }
        }
        Slug::parse(out.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name (of an organization or a resource): trimmed, 1–100 characters, no
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Name, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Name(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A logo address: an absolute `https` URL of at most 2,048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoUrl(String);

impl LogoUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> Result<LogoUrl, String> {
        if raw.len() > Self::MAX_LEN {
            return Err(format!("must be at most {} characters", Self::MAX_LEN));
        }
        let url = url::Url::parse(raw).map_err(|_| "must be an absolute URL".to_string())?;
        if url.scheme() != "https" {
            return Err("must be an https URL".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        Ok(LogoUrl(url.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A role in an organization. Exactly one member is the `owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The key that names a role: a built-in role's name or the key of one of the organization's
/// custom roles (3–32 characters of `a-z`, `0-9` and `-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleKey(String);

impl RoleKey {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 32;

    pub fn parse(s: &str) -> Result<RoleKey, String> {
        let len = s.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(format!(
                "must be {} to {} characters long",
                Self::MIN_LEN,
                Self::MAX_LEN
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err("may contain only a-z, 0-9 and -".into());
        }
        Ok(RoleKey(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The built-in role this key names, if it names one.
    pub fn builtin(&self) -> Option<Role> {
        Role::parse(&self.0)
    }
}

impl From<Role> for RoleKey {
    fn from(role: Role) -> RoleKey {
        RoleKey(role.as_str().to_owned())
    }
}

impl fmt::Display for RoleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An access level on one resource: `read` < `write` < `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Read = 1,
    Write = 2,
    Admin = 3,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Read, Level::Write, Level::Admin];
    /// The levels' names, as requests spell them, in the order of [`ALL`](Self::ALL).
    pub const NAMES: &'static [&'static str] = &{
        let mut names = [""; Level::ALL.len()];
        let mut i = 0;
        while i < names.len() {
            names[i] = Level::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The number the store keeps, so that SQL can compare and cap levels.
    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn from_rank(rank: i64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.rank() == rank)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fresh opaque id (a random UUID).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether a path segment looks like an id Roster issued; anything else is answered 404
/// without a query.
pub fn is_id(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok()
}

/// Whether `s` can be a D1 session bookmark a response carried (hex digits in dash-separated
/// groups, as D1 writes them). Anything else is refused before it reaches D1, which would
/// read a session constraint's name (`first-primary`) as an instruction.
pub fn is_bookmark(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && s.split('-').all(|group| !group.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let e = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "alice@example.com");
        assert_eq!(e.hint(), "a***@example.com");
    }

    #[test]
    fn email_rejects_bad_addresses() {
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "alice@@example.com",
            "al ice@example.com",
            "alice@exa_mple.com",
            "alice@-example.com",
            "alice@example.123",
            ".alice@example.com",
            "alice.@example.com",
            "al..ice@example.com",
            "alice@example.com\r\nBcc: eve@example.com",
            "alice@example.com\n",
            "alıce@example.com",
            "ａlice@example.com",
            "alice@exämple.com",
            "\"alice\"@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn email_accepts_common_addresses() {
        for good in [
            "a@b.co",
            "first.last+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "x@xn--bcher-kva.de",
        ] {
            assert!(Email::parse(good).is_ok(), "refused {good:?}");
        }
    }

    #[test]
    fn lookalikes_never_equal_the_ascii_address() {
        let real = Email::parse("alice@example.com").unwrap();
        for lookalike in [
            "alıce@example.com",
            "ａlice@example.com",
            "alice@examp1e.com",
        ] {
            assert_ne!(Email::parse(lookalike).ok(), Some(real.clone()));
        }
    }

    #[test]
    fn slug_rules() {
        assert!(Slug::parse("acme").is_ok());
        assert!(Slug::parse("acme-inc-2").is_ok());
        for bad in [
            "ab",
            "-acme",
            "acme-",
            "Acme",
            "ac_me",
            "ac me",
            "admin",
            "me",
            &"a".repeat(49),
        ] {
            assert!(Slug::parse(bad).is_err(), "accepted {bad:?}");
        }
        assert!(Slug::parse(&"a".repeat(48)).is_ok());
    }

    #[test]
    fn slug_derived_from_name() {
        assert_eq!(Slug::derive("Acme, Inc.").unwrap().as_str(), "acme-inc");
        assert_eq!(
            Slug::derive("  Über Café 42 ").unwrap().as_str(),
            "ber-caf-42"
        );
        assert_eq!(Slug::derive("AB"), None);
        assert_eq!(Slug::derive("Admin"), None);
        let long = Slug::derive(&"Long name ".repeat(20)).unwrap();
        assert_eq!(
            long.as_str(),
            "long-name-long-name-long-name-long-name-long-nam"
        );
        // A cut that lands on a separator drops it.
        assert_eq!(
            Slug::derive(&format!("{} tail", "a".repeat(47)))
                .unwrap()
                .as_str()
                .len(),
            47
        );
    }

    #[test]
    fn names_and_logos() {
        assert_eq!(Name::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse("a\u{0}b").is_err());
        assert!(Name::parse(&"é".repeat(100)).is_ok());
        assert!(Name::parse(&"é".repeat(101)).is_err());
        assert!(LogoUrl::parse("https://cdn.example.com/logo.png").is_ok());
        for bad in [
            "http://cdn.example.com/logo.png",
            "javascript:alert(1)",
            "logo.png",
            "https://user:pw@example.com/x.png",
        ] {
            assert!(LogoUrl::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn roles_and_levels_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
            assert_eq!(Level::from_rank(l.rank()), Some(l));
        }
        assert_eq!(Level::NAMES, ["read", "write", "admin"]);
        assert!(Level::Read < Level::Write && Level::Write < Level::Admin);
        assert_eq!(Role::parse("Owner"), None);
    }

    #[test]
    fn role_keys() {
        for r in Role::ALL {
            let key = RoleKey::parse(r.as_str()).unwrap();
            assert_eq!(key.builtin(), Some(r));
            assert_eq!(RoleKey::from(r), key);
        }
        let custom = RoleKey::parse("billing-manager").unwrap();
        assert_eq!(custom.builtin(), None);
        for bad in ["ab", "Billing", "a b", "x".repeat(33).as_str(), "rôle"] {
            assert!(RoleKey::parse(bad).is_err(), "accepted {bad:?}");
        }
        assert!(RoleKey::parse(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn bookmarks() {
        assert!(is_bookmark(
            "00000000-0000000c-00000000-00000000000000000000000000000000"
        ));
        for bad in [
            "",
            "first-primary",
            "first-unconstrained",
            "0000-",
            "-00",
            "00 00",
        ] {
            assert!(!is_bookmark(bad), "{bad:?}");
        }
        assert!(!is_bookmark(&"0".repeat(129)));
    }

    #[test]
    fn ids() {
        let id = new_id();
        assert!(is_id(&id));
        assert!(!is_id("../etc"));
        assert_ne!(new_id(), id);
    }

    proptest! {
        #[test]
        fn parsed_slugs_satisfy_the_rules(s in "[a-z0-9-]{0,60}") {
            if let Ok(slug) = Slug::parse(&s) {
                let s = slug.as_str();
                prop_assert!((3..=48).contains(&s.len()));
                prop_assert!(!s.starts_with('-') && !s.ends_with('-'));
                prop_assert!(!RESERVED_SLUGS.contains(&s));
            }
        }

        #[test]
        fn derived_slugs_are_valid(name in "\\PC{0,80}") {
            if let Some(slug) = Slug::derive(&name) {
                prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
            }
        }

        #[test]
        fn emails_are_normalised_and_injection_free(raw in "\\PC{0,40}") {
            if let Ok(email) = Email::parse(&raw) {
                let s = email.as_str();
                prop_assert!(s.is_ascii());
                prop_assert_eq!(s.to_ascii_lowercase(), s);
                prop_assert!(!s.contains(['\r', '\n', ' ', ',', ';', '<', '>']));
                prop_assert_eq!(s.matches('@').count(), 1);
                prop_assert_eq!(Email::parse(s), Ok(email.clone()));
            }
        }

        #[test]
        fn email_parsing_ignores_case_and_outer_spaces(local in "[a-z][a-z0-9.]{0,10}[a-z]", domain in "[a-z]{1,10}\\.[a-z]{2,4}") {
            let lower = format!("{local}@{domain}");
            let shouted = format!("  {}\t", lower.to_ascii_uppercase());
            if let Ok(a) = Email::parse(&lower) {
                prop_assert_eq!(Email::parse(&shouted), Ok(a));
            }
        }
    }
}
