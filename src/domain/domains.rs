//! Verified domains: which names an organization may claim, the TXT record that proves it
//! controls one, reading a DNS-over-HTTPS answer, and what the scheduled re-checks do with
//! what they find. Join requests' states live here too, since only domains lead to them.
//!
//! Everything is pure: the Worker fetches the DNS answer and passes its bytes and `now` in.

use super::plan::Plan;
use super::problem::{Code, Problem};
use super::secret::{random_b64, NoEntropy};
use super::time::Timestamp;
use super::values::{Role, RoleKey};
use serde::Deserialize;
use std::net::IpAddr;

/// The label under which an organization publishes its TXT record.
pub const CHALLENGE_LABEL: &str = "_roster-challenge";
/// What every challenge value starts with.
pub const CHALLENGE_PREFIX: &str = "roster-verification=";
/// A pending domain not verified within this long since it was added fails.
pub const PENDING_WINDOW_SECONDS: i64 = 7 * 86_400;
/// A verified domain whose record has been missing this long fails.
pub const MISSING_WINDOW_SECONDS: i64 = 7 * 86_400;
/// Verified domains are checked again at most this often.
pub const VERIFIED_RECHECK_SECONDS: i64 = 86_400;
/// The longest DNS name (RFC 1035), in its ASCII form.
const MAX_NAME_CHARS: usize = 253;
const MAX_LABEL_CHARS: usize = 63;

/// Public email providers: anyone can have an address there, so a domain of theirs proves
/// nothing about who works for an organization.
pub const PUBLIC_EMAIL_PROVIDERS: &[&str] = &[
    "163.com",
    "126.com",
    "aim.com",
    "aol.com",
    "fastmail.com",
    "gmail.com",
    "gmx.at",
    "gmx.com",
    "gmx.de",
    "gmx.net",
    "googlemail.com",
    "hey.com",
    "hotmail.co.uk",
    "hotmail.com",
    "hotmail.de",
    "hotmail.fr",
    "icloud.com",
    "live.com",
    "mac.com",
    "mail.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "naver.com",
    "outlook.com",
    "outlook.de",
    "pm.me",
    "proton.me",
    "protonmail.ch",
    "protonmail.com",
    "qq.com",
    "rambler.ru",
    "t-online.de",
    "tutanota.com",
    "tuta.io",
    "web.de",
    "yahoo.co.jp",
    "yahoo.co.uk",
    "yahoo.com",
    "yahoo.de",
    "yahoo.fr",
    "yandex.com",
    "yandex.ru",
    "ymail.com",
    "zoho.com",
];

/// Why a domain cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Not a domain name at all (400 `invalid_request`).
    Invalid(&'static str),
    /// A name Roster does not let anyone claim (400 `domain_not_allowed`).
    NotAllowed(String),
}

impl Refused {
    /// The answer to a request that asked for this domain in `field`.
    pub fn problem(self, field: &str) -> Problem {
        match self {
            Refused::Invalid(why) => Problem::invalid_field(field, why),
            Refused::NotAllowed(why) => Problem::new(Code::DomainNotAllowed, why),
        }
    }
}

/// A domain name as stored: lower-case ASCII, IDNA labels as `xn--`, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DomainName(String);

impl DomainName {
    /// Normalises `raw` and refuses what cannot be claimed: IP addresses, names without a
    /// dot, and public email providers.
    pub fn parse(raw: &str) -> Result<DomainName, Refused> {
        let name = normalise(raw)?;
        if !name.contains('.') {
            return Err(Refused::NotAllowed(format!(
                "`{name}` has no dot: only a registered domain can be verified."
            )));
        }
        if is_public_provider(&name) {
            return Err(Refused::NotAllowed(format!(
                "`{name}` is a public email provider: anyone can have an address there."
            )));
        }
        Ok(DomainName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the TXT record is published.
    pub fn record_name(&self) -> String {
        record_name(&self.0)
    }
}

/// Where the TXT record of stored domain `domain` is published.
pub fn record_name(domain: &str) -> String {
    format!("{CHALLENGE_LABEL}.{domain}")
}

/// Lower-cases, drops one trailing dot and converts to ASCII (IDNA), refusing IP addresses
/// and anything that is not a host name.
fn normalise(raw: &str) -> Result<String, Refused> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(Refused::Invalid("must be a domain name"));
    }
    let ip_not_allowed = || Refused::NotAllowed("An IP address is not a domain.".into());
    let bare = trimmed
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(trimmed);
    if bare.parse::<IpAddr>().is_ok() {
        return Err(ip_not_allowed());
    }
    // `url`'s host parser applies UTS #46 (IDNA) mapping: case folding, `xn--` labels.
    let name = match url::Host::parse(trimmed) {
        Ok(url::Host::Domain(name)) => name,
        Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => return Err(ip_not_allowed()),
        Err(_) => return Err(Refused::Invalid("is not a valid domain name")),
    };
    let labels_valid = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_CHARS
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if !labels_valid || name.len() > MAX_NAME_CHARS {
        return Err(Refused::Invalid(
            "is not a valid domain name (labels of a-z, 0-9 and -, at most 253 characters)",
        ));
    }
    // A numeric last label is an address in disguise (`1.2.3.4.5`), never a domain.
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ip_not_allowed());
    }
    Ok(name)
}

fn is_public_provider(name: &str) -> bool {
    PUBLIC_EMAIL_PROVIDERS.contains(&name)
}

/// The domain of an email address, normalised as a claimed domain is (so that
/// `a@Bücher.example` matches `xn--bcher-kva.example`); `None` when it has none.
pub fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.rsplit_once('@')?;
    normalise(domain).ok()
}

/// A fresh challenge value: `roster-verification=<32 random bytes, base64url>`.
pub fn new_challenge() -> Result<String, NoEntropy> {
    Ok(format!("{CHALLENGE_PREFIX}{}", random_b64()?))
}

/// Verified domains are for plans `pro` and `business`.
pub fn require_plan(plan: Plan) -> Result<(), Problem> {
    match plan {
        Plan::Free => Err(Problem::new(
            Code::LimitReached,
            "The free plan has no verified domains; upgrade to pro or business first.",
        )),
        Plan::Pro | Plan::Business => Ok(()),
    }
}

/// A domain's enrollment role, as a request names it: never `owner` or `admin`, since
/// joining by email domain must not hand out the keys to the organization. Whether the
/// organization has the role is decided with its catalogue.
pub fn parse_enrollment_role(s: &str) -> Result<RoleKey, String> {
    let key = RoleKey::parse(s)
        .map_err(|_| "must be member, viewer or a custom role's key".to_string())?;
    match key.builtin() {
        Some(Role::Owner | Role::Admin) => {
            Err("cannot be owner or admin for people joining by domain".into())
        }
        _ => Ok(key),
    }
}

/// A domain's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DomainStatus {
    Pending,
    Verified,
    Failed,
}

impl DomainStatus {
    pub const ALL: [DomainStatus; 3] = [
        DomainStatus::Pending,
        DomainStatus::Verified,
        DomainStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DomainStatus::Pending => "pending",
            DomainStatus::Verified => "verified",
            DomainStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DomainStatus> {
        DomainStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A join request's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinRequestStatus {
    Pending,
    Approved,
    Denied,
}

impl JoinRequestStatus {
    pub const ALL: [JoinRequestStatus; 3] = [
        JoinRequestStatus::Pending,
        JoinRequestStatus::Approved,
        JoinRequestStatus::Denied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JoinRequestStatus::Pending => "pending",
            JoinRequestStatus::Approved => "approved",
            JoinRequestStatus::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<JoinRequestStatus> {
        JoinRequestStatus::ALL.into_iter().find(|j| j.as_str() == s)
    }
}

/// A DNS answer that says nothing usable: the resolver failed (SERVFAIL, REFUSED, …) or
/// the body is not the JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unusable;

#[derive(Deserialize)]
struct DnsAnswer {
    #[serde(rename = "Status")]
    status: u32,
    #[serde(rename = "Answer", default)]
    answer: Vec<DnsRecord>,
}

#[derive(Deserialize)]
struct DnsRecord {
    #[serde(rename = "type")]
    kind: u32,
    data: String,
}

const TXT: u32 = 16;
const NOERROR: u32 = 0;
const NXDOMAIN: u32 = 3;

/// The TXT values of a DNS JSON answer (`application/dns-json`, as Cloudflare and Google
/// answer it). NXDOMAIN is no values; any other failure status is [`Unusable`].
pub fn txt_values(body: &[u8]) -> Result<Vec<String>, Unusable> {
    let answer: DnsAnswer = serde_json::from_slice(body).map_err(|_| Unusable)?;
    match answer.status {
        NOERROR => answer
            .answer
            .iter()
            .filter(|r| r.kind == TXT)
            .map(|r| txt_data(&r.data))
            .collect(),
        NXDOMAIN => Ok(Vec::new()),
        _ => Err(Unusable),
    }
}

/// One TXT record's value from its presentation form: one or more quoted strings
/// (`"a" "b"`, concatenated, with `\"`, `\\` and `\DDD` escapes), or a bare value as some
/// resolvers give it.
fn txt_data(data: &str) -> Result<String, Unusable> {
    let data = data.trim();
    if !data.starts_with('"') {
        return Ok(data.to_owned());
    }
    let mut out = Vec::new();
    let mut chars = data.bytes().peekable();
    loop {
        while chars.peek().is_some_and(u8::is_ascii_whitespace) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(b'"') => {}
            Some(_) => return Err(Unusable),
        }
        loop {
            match chars.next().ok_or(Unusable)? {
                b'"' => break,
                b'\\' => {
                    let first = chars.next().ok_or(Unusable)?;
                    if first.is_ascii_digit() {
                        let mut value = u32::from(first - b'0');
                        for _ in 0..2 {
                            let d = chars.next().filter(u8::is_ascii_digit).ok_or(Unusable)?;
                            value = value * 10 + u32::from(d - b'0');
                        }
                        out.push(u8::try_from(value).map_err(|_| Unusable)?);
                    } else {
                        out.push(first);
                    }
                }
                b => out.push(b),
            }
        }
    }
    String::from_utf8(out).map_err(|_| Unusable)
}

/// What a lookup found for a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A TXT value equal to the challenge.
    Match,
    /// No TXT record at the name.
    Nothing,
    /// TXT records, none of them the challenge.
    Other(Vec<String>),
}

impl Found {
    /// Compares the TXT values at the record's name with the challenge, exactly.
    pub fn of(values: Vec<String>, challenge: &str) -> Found {
        if values.iter().any(|v| v == challenge) {
            Found::Match
        } else if values.is_empty() {
            Found::Nothing
        } else {
            Found::Other(values)
        }
    }

    /// The 409 `domain_verification_failed` for a lookup that did not match, saying what
    /// was found.
    pub fn failure(&self, record_name: &str, challenge: &str) -> Problem {
        let found = match self {
            Found::Match => return Problem::internal(),
            Found::Nothing => format!("No TXT record was found at `{record_name}`."),
            Found::Other(values) => {
                let shown: Vec<String> = values
                    .iter()
                    .take(3)
                    .map(|v| format!("`{}`", v.chars().take(100).collect::<String>()))
                    .collect();
                let more = values.len().saturating_sub(3);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!(
                    "The TXT records at `{record_name}` are {}{more}, none of them the challenge.",
                    shown.join(", ")
                )
            }
        };
        Problem::new(
            Code::DomainVerificationFailed,
            format!("{found} Publish a TXT record `{challenge}` there and verify again."),
        )
    }
}

/// A domain as the scheduled job sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub status: DomainStatus,
    pub created_at: Timestamp,
    pub missing_since: Option<Timestamp>,
}

/// What a re-check leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// A pending domain's record is there: it becomes verified (`domain.verified`).
    Verify,
    /// Pending for too long, or verified with its record missing for too long: it becomes
    /// failed, its enrollment off (`domain.failed`).
    Fail,
    /// Nothing changes but the time of the check; `missing_since` is what it becomes
    /// (`None` when the record of a verified domain is there).
    Keep { missing_since: Option<Timestamp> },
}

/// Whether `domain` should be checked now: pending ones on every run, verified ones once
/// a day; failed ones never.
pub fn due(status: DomainStatus, last_checked_at: Option<Timestamp>, now: Timestamp) -> bool {
    match status {
        DomainStatus::Pending => true,
        DomainStatus::Verified => {
            last_checked_at.is_none_or(|at| now.0 - at.0 >= VERIFIED_RECHECK_SECONDS)
        }
        DomainStatus::Failed => false,
    }
}

/// What a re-check of `domain` that found (`found`) or did not find its record leads to.
pub fn recheck(domain: Checked, found: bool, now: Timestamp) -> Recheck {
    match (domain.status, found) {
        (DomainStatus::Pending, true) => Recheck::Verify,
        (DomainStatus::Pending, false) if now.0 - domain.created_at.0 >= PENDING_WINDOW_SECONDS => {
            Recheck::Fail
        }
        (DomainStatus::Verified, false) => {
            let since = domain.missing_since.unwrap_or(now);
            if now.0 - since.0 >= MISSING_WINDOW_SECONDS {
                Recheck::Fail
            } else {
                Recheck::Keep {
                    missing_since: Some(since),
                }
            }
        }
        (DomainStatus::Verified, true) | (DomainStatus::Pending, false) => Recheck::Keep {
            missing_since: None,
        },
        (DomainStatus::Failed, _) => Recheck::Keep {
            missing_since: domain.missing_since,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<String, Refused> {
        DomainName::parse(s).map(|d| d.as_str().to_owned())
    }

    fn not_allowed(s: &str) -> bool {
        matches!(DomainName::parse(s), Err(Refused::NotAllowed(_)))
    }

    #[test]
    fn normalises() {
        assert_eq!(parse("  Example.COM. ").unwrap(), "example.com");
        assert_eq!(parse("Bücher.example").unwrap(), "xn--bcher-kva.example");
        assert_eq!(
            parse("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(parse("sub.acme.co.uk").unwrap(), "sub.acme.co.uk");
    }

    #[test]
    fn refuses_what_cannot_be_claimed() {
        for s in [
            "gmail.com",
            "GMAIL.com.",
            "outlook.com",
            "proton.me",
            "localhost",
            "intranet",
            "10.0.0.1",
            "1.2.3",
            "::1",
            "[2001:db8::1]",
            "127.0.0.1.",
        ] {
            assert!(not_allowed(s), "{s}");
        }
        for s in [
            "",
            " ",
            "a b.com",
            "exa_mple.com",
            "-acme.com",
            "acme-.com",
            "a..b",
        ] {
            assert!(
                matches!(DomainName::parse(s), Err(Refused::Invalid(_))),
                "{s}"
            );
        }
        assert!(matches!(
            DomainName::parse(&format!("{}.com", "a".repeat(64))),
            Err(Refused::Invalid(_))
        ));
    }

    #[test]
    fn email_domains_normalise_like_claimed_ones() {
        assert_eq!(
            email_domain("ana@Bücher.Example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(email_domain("no-at-sign"), None);
    }

    #[test]
    fn challenges_are_random_and_prefixed() {
        let (a, b) = (new_challenge().unwrap(), new_challenge().unwrap());
        assert!(a.starts_with(CHALLENGE_PREFIX) && a.len() == CHALLENGE_PREFIX.len() + 43);
        assert_ne!(a, b);
        let domain = DomainName::parse("acme.example").unwrap();
        assert_eq!(domain.record_name(), "_roster-challenge.acme.example");
    }

    #[test]
    fn only_paid_plans_and_no_admin_roles() {
        assert_eq!(
            require_plan(Plan::Free).unwrap_err().code,
            Code::LimitReached
        );
        assert!(require_plan(Plan::Pro).is_ok() && require_plan(Plan::Business).is_ok());
        for (key, ok) in [
            ("owner", false),
            ("admin", false),
            ("member", true),
            ("support", true),
        ] {
            assert_eq!(parse_enrollment_role(key).is_ok(), ok, "{key}");
        }
    }

    #[test]
    fn reads_dns_json() {
        let body = br#"{"Status":0,"TC":false,"Question":[{"name":"_roster-challenge.acme.example","type":16}],
            "Answer":[{"name":"_roster-challenge.acme.example","type":5,"TTL":60,"data":"x.example."},
                      {"name":"_roster-challenge.acme.example","type":16,"TTL":60,"data":"\"roster-verification=\" \"abc\""},
                      {"name":"_roster-challenge.acme.example","type":16,"TTL":60,"data":"\"v=spf1 \\\"q\\\" \\065\""}]}"#;
        assert_eq!(
            txt_values(body).unwrap(),
            vec!["roster-verification=abc", "v=spf1 \"q\" A"]
        );
        assert_eq!(
            txt_values(br#"{"Status":0,"Answer":[{"type":16,"data":"bare value"}]}"#).unwrap(),
            vec!["bare value"]
        );
        assert_eq!(
            txt_values(br#"{"Status":3}"#).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            txt_values(br#"{"Status":0}"#).unwrap(),
            Vec::<String>::new()
        );
        for garbage in [
            &b"<html>"[..],
            br#"{"Status":2}"#,
            br#"{"Answer":[]}"#,
            br#"{"Status":0,"Answer":[{"type":16,"data":"\"open"}]}"#,
            br#"{"Status":0,"Answer":[{"type":16,"data":"\"a\" b"}]}"#,
        ] {
            assert_eq!(txt_values(garbage), Err(Unusable));
        }
    }

    #[test]
    fn compares_exactly_and_says_what_was_found() {
        let c = "roster-verification=abc";
        assert_eq!(Found::of(vec!["x".into(), c.into()], c), Found::Match);
        assert_eq!(Found::of(vec![], c), Found::Nothing);
        let other = Found::of(vec!["roster-verification=ABC".into()], c);
        assert!(matches!(other, Found::Other(_)));
        let problem = other.failure("_roster-challenge.a.example", c);
        assert_eq!(problem.code, Code::DomainVerificationFailed);
        assert!(problem.detail.contains("roster-verification=ABC"));
        assert!(Found::Nothing
            .failure("_roster-challenge.a.example", c)
            .detail
            .contains("No TXT record"));
    }

    const DAY: i64 = 86_400;

    #[test]
    fn rechecks() {
        let t0 = Timestamp(1_000_000);
        let pending = Checked {
            status: DomainStatus::Pending,
            created_at: t0,
            missing_since: None,
        };
        assert_eq!(recheck(pending, true, t0.plus(DAY)), Recheck::Verify);
        assert_eq!(
            recheck(pending, false, t0.plus(6 * DAY)),
            Recheck::Keep {
                missing_since: None
            }
        );
        assert_eq!(recheck(pending, false, t0.plus(7 * DAY)), Recheck::Fail);
        let verified = Checked {
            status: DomainStatus::Verified,
            ..pending
        };
        let now = t0.plus(30 * DAY);
        assert_eq!(
            recheck(verified, false, now),
            Recheck::Keep {
                missing_since: Some(now)
            }
        );
        let missing = Checked {
            missing_since: Some(now),
            ..verified
        };
        assert_eq!(
            recheck(missing, true, now.plus(DAY)),
            Recheck::Keep {
                missing_since: None
            }
        );
        assert_eq!(
            recheck(missing, false, now.plus(6 * DAY)),
            Recheck::Keep {
                missing_since: Some(now)
            }
        );
        assert_eq!(recheck(missing, false, now.plus(7 * DAY)), Recheck::Fail);
    }

    #[test]
    fn due_checks() {
        let now = Timestamp(10 * DAY);
        assert!(due(DomainStatus::Pending, Some(now), now));
        assert!(due(DomainStatus::Verified, None, now));
        assert!(!due(DomainStatus::Verified, Some(now.plus(-DAY + 1)), now));
        assert!(due(DomainStatus::Verified, Some(now.plus(-DAY)), now));
        assert!(!due(DomainStatus::Failed, None, now));
    }

    proptest! {
        /// Normalising is idempotent, and what it keeps is plain lower-case ASCII.
        #[test]
        fn normalising_is_idempotent(s in "[a-zA-Z0-9äöüß.-]{1,40}") {
            if let Ok(d) = DomainName::parse(&s) {
                prop_assert_eq!(DomainName::parse(d.as_str()).ok(), Some(d.clone()));
                prop_assert!(d.as_str().bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit() || b == b'-' || b == b'.'));
            }
        }

        /// A verified domain never fails before its record has been missing 7 days, and
        /// always once it has.
        #[test]
        fn missing_records_fail_after_seven_days(since in 0i64..1_000_000, after in 0i64..(20 * DAY)) {
            let domain = Checked {
                status: DomainStatus::Verified,
                created_at: Timestamp(0),
                missing_since: Some(Timestamp(since)),
            };
            let outcome = recheck(domain, false, Timestamp(since + after));
            prop_assert_eq!(outcome == Recheck::Fail, after >= MISSING_WINDOW_SECONDS);
        }

        /// Quoted TXT strings are read back as written, whatever they hold.
        #[test]
        fn quoted_strings_round_trip(parts in proptest::collection::vec("[ -~]{0,20}", 1..4)) {
            let data: Vec<String> = parts
                .iter()
                .map(|p| format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            prop_assert_eq!(txt_data(&data.join(" ")), Ok(parts.concat()));
        }
    }
}
