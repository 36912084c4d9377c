//! Invite links — one link, many joiners — and the email domains an organization admits.
//!
//! A link is usable while it is not revoked, not past `expires_at` and, when it has
//! `max_uses`, used fewer times than that; every other state answers 410 with its own code.
//! Who may join through it is decided here too: a verified email within the link's own
//! allowed domains and the organization's (`allowed_email_domains`, empty for any).

use super::problem::{Code, Problem};
use super::time::Timestamp;
use std::fmt;

/// How long a link may be asked to last, in seconds: an hour to 90 days.
pub const EXPIRES_IN: std::ops::RangeInclusive<i64> = 3_600..=7_776_000;
/// How long a link lasts when the request does not say: 7 days.
pub const DEFAULT_EXPIRES_IN: i64 = 604_800;
/// How many joins a link may be limited to.
pub const MAX_USES: std::ops::RangeInclusive<i64> = 1..=10_000;
/// Most domains in an allow-list (the organization's or a link's).
pub const MAX_DOMAINS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkStatus {
    Active,
    Expired,
    Revoked,
    Exhausted,
}

impl LinkStatus {
    pub const ALL: [LinkStatus; 4] = [
        LinkStatus::Active,
        LinkStatus::Expired,
        LinkStatus::Revoked,
        LinkStatus::Exhausted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Active => "active",
            LinkStatus::Expired => "expired",
            LinkStatus::Revoked => "revoked",
            LinkStatus::Exhausted => "exhausted",
        }
    }

    /// The status at `now` of a link as stored. Revoking is what someone decided, so it
    /// says the most; a link past its time is expired whether or not it was used up.
    pub fn of(
        revoked_at: Option<i64>,
        expires_at: Timestamp,
        uses: i64,
        max_uses: Option<i64>,
        now: Timestamp,
    ) -> LinkStatus {
        if revoked_at.is_some() {
            LinkStatus::Revoked
        } else if expires_at <= now {
            LinkStatus::Expired
        } else if max_uses.is_some_and(|max| uses >= max) {
            LinkStatus::Exhausted
        } else {
            LinkStatus::Active
        }
    }

    /// `Ok` for an active link; otherwise the 410 its state answers with.
    pub fn require_active(self) -> Result<(), Problem> {
        match self {
            LinkStatus::Active => Ok(()),
            LinkStatus::Expired => Err(Problem::new(
                Code::InviteLinkExpired,
                "This invite link has expired; ask for a new one.",
            )),
            LinkStatus::Revoked => Err(Problem::new(
                Code::InviteLinkRevoked,
                "This invite link was revoked.",
            )),
            LinkStatus::Exhausted => Err(Problem::new(
                Code::InviteLinkExhausted,
                "This invite link has been used as many times as it allows.",
            )),
        }
    }
}

impl fmt::Display for LinkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The link shared with joiners: `{public_url}/join/{token}`, the one place its token shows.
pub fn join_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/join/{token}")
}

/// One email domain of an allow-list: lower-cased and IDNA-normalised (`xn--` form), a
/// name with a dot, not an IP address.
pub fn parse_email_domain(s: &str) -> Result<String, String> {
    let refused = || "must be a domain name such as example.com".to_string();
    if s.chars().count() > 253 {
        return Err(refused());
    }
    let s = s.trim().strip_suffix('.').unwrap_or(s.trim());
    if s.is_empty() || s.contains(['@', '/', ':', ' ']) {
        return Err(refused());
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    match url::Host::parse(s) {
        Ok(url::Host::Domain(domain))
            if domain.contains('.') && domain.len() <= 253 && domain.split('.').all(label_ok) =>
        {
            Ok(domain)
        }
        _ => Err(refused()),
    }
}

/// An allow-list from the domains asked for: each normalised, duplicates dropped (the first
/// kept), at most [`MAX_DOMAINS`]. The error names the index of the first bad one.
pub fn parse_domains(items: &[String]) -> Result<Vec<String>, (Option<usize>, String)> {
    if items.len() > MAX_DOMAINS {
        return Err((None, format!("must list at most {MAX_DOMAINS} domains")));
    }
    let mut domains: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let domain = parse_email_domain(item).map_err(|m| (Some(i), m))?;
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    Ok(domains)
}

/// Whether `email` is within `allowed` (empty: any domain). The domain must be one of them
/// exactly: `sub.example.com` is not `example.com`.
pub fn email_domain_allowed(email: &str, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    allowed.iter().any(|a| a.eq_ignore_ascii_case(domain))
}

/// An invitation to `email` when the organization admits only `allowed`: 409, the settings
/// stand in the way.
pub fn check_invitee_domain(email: &str, allowed: &[String]) -> Result<(), Problem> {
    if email_domain_allowed(email, allowed) {
        return Ok(());
    }
    Err(Problem::new(
        Code::EmailDomainNotAllowed,
        format!(
            "This organization invites only addresses at {}; {email} is not one.",
            allowed.join(", ")
        ),
    ))
}

/// Whether the signed-in person may join through a link: a verified email (403
/// `email_not_verified`) within the link's domains and the organization's (403
/// `email_domain_not_allowed`).
pub fn check_joiner(
    email: Option<&str>,
    verified: bool,
    link_domains: &[String],
    org_domains: &[String],
) -> Result<(), Problem> {
    let Some(email) = email.filter(|_| verified) else {
        return Err(Problem::new(
            Code::EmailNotVerified,
            "Verify your email address, then join.",
        ));
    };
    if email_domain_allowed(email, link_domains) && email_domain_allowed(email, org_domains) {
        return Ok(());
    }
    Err(Problem::new(
        Code::EmailDomainNotAllowedToJoin,
        "This link admits only some email domains, and yours is not among them.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_800_000_000);

    #[test]
    fn status_names_each_way_a_link_stops_working() {
        let later = NOW.plus(60);
        let at = |revoked, expires, uses, max| LinkStatus::of(revoked, expires, uses, max, NOW);
        assert_eq!(at(None, later, 0, None), LinkStatus::Active);
        assert_eq!(at(None, later, 2, Some(3)), LinkStatus::Active);
        assert_eq!(at(None, later, 3, Some(3)), LinkStatus::Exhausted);
        assert_eq!(at(None, NOW, 0, None), LinkStatus::Expired);
        assert_eq!(at(None, NOW, 3, Some(3)), LinkStatus::Expired);
        assert_eq!(at(Some(1), NOW, 3, Some(3)), LinkStatus::Revoked);
        let codes: Vec<_> = LinkStatus::ALL
            .into_iter()
            .filter_map(|s| s.require_active().err())
            .map(|p| (p.code.as_str(), p.status()))
            .collect();
        assert_eq!(
            codes,
            [
                ("invite_link_expired", 410),
                ("invite_link_revoked", 410),
                ("invite_link_exhausted", 410)
            ]
        );
    }

    #[test]
    fn domains_are_normalised() {
        assert_eq!(
            parse_email_domain(" Example.COM. "),
            Ok("example.com".into())
        );
        assert_eq!(
            parse_email_domain("bücher.example"),
            Ok("xn--bcher-kva.example".into())
        );
        for bad in [
            "",
            "localhost",
            "10.0.0.1",
            "[::1]",
            "a@b.com",
            "b.com/x",
            "a b.com",
            ".com",
            "a..com",
            "com.",
            "-a.com",
            "a_b.com",
        ] {
            assert!(parse_email_domain(bad).is_err(), "{bad}");
        }
        let items = ["A.com", "a.com", "b.com"].map(String::from);
        assert_eq!(
            parse_domains(&items),
            Ok(vec!["a.com".into(), "b.com".into()])
        );
        let many = vec!["a.com".to_string(); MAX_DOMAINS + 1];
        assert_eq!(parse_domains(&many).unwrap_err().0, None);
        let bad = ["a.com", "nope"].map(String::from);
        assert_eq!(parse_domains(&bad).unwrap_err().0, Some(1));
    }

    #[test]
    fn an_empty_list_admits_any_domain() {
        let acme = vec!["acme.com".to_string()];
        assert!(email_domain_allowed("ann@elsewhere.org", &[]));
        assert!(email_domain_allowed("ann@acme.com", &acme));
        assert!(!email_domain_allowed("ann@sub.acme.com", &acme));
        assert!(!email_domain_allowed("ann@elsewhere.org", &acme));
        let refused = check_invitee_domain("ann@elsewhere.org", &acme).unwrap_err();
        assert_eq!(
            (refused.code.as_str(), refused.status()),
            ("email_domain_not_allowed", 409)
        );
        assert!(refused.detail.contains("acme.com"));
    }

    #[test]
    fn joiners_need_a_verified_email_in_both_lists() {
        let acme = vec!["acme.com".to_string()];
        let other = vec!["other.com".to_string()];
        assert!(check_joiner(Some("ann@acme.com"), true, &acme, &[]).is_ok());
        assert!(check_joiner(Some("ann@acme.com"), true, &[], &acme).is_ok());
        let code = |r: Result<(), Problem>| {
            let p = r.unwrap_err();
            (p.code.as_str(), p.status())
        };
        assert_eq!(
            code(check_joiner(Some("ann@acme.com"), false, &[], &[])),
            ("email_not_verified", 403)
        );
        assert_eq!(
            code(check_joiner(None, true, &[], &[])),
            ("email_not_verified", 403)
        );
        assert_eq!(
            code(check_joiner(Some("ann@acme.com"), true, &acme, &other)),
            ("email_domain_not_allowed", 403)
        );
        assert_eq!(
            code(check_joiner(Some("ann@other.com"), true, &acme, &[])),
            ("email_domain_not_allowed", 403)
        );
    }

    #[test]
    fn the_url_carries_the_token() {
        assert_eq!(
            join_url("https://roster.example", "tok"),
            "https://roster.example/join/tok"
        );
    }
}
