//! The invitation landing page, `GET /invite/{token}`: what the person who clicked the
//! email link sees, in the invitation's locale; and the invite link's, `GET /join/{token}`
//! (in English: a link is shared, not addressed to anyone). Rendering is pure; every value
//! shown is HTML-escaped.

use crate::domain::locale::Locale;
use crate::domain::time::Timestamp;
use crate::domain::values::RoleKey;
use crate::i18n::{fill, strings};
use crate::render::escape;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The page's only style sheet, inline and allowed by its hash.
const STYLE: &str = "
body { font: 16px/1.5 system-ui, sans-serif; color: #1f2328; background: #f6f8fa; margin: 0; }
main { max-width: 32rem; margin: 4rem auto; padding: 2rem; background: #fff; border-radius: 12px; box-shadow: 0 1px 3px #0002; }
h1 { font-size: 1.5rem; margin-top: 0; }
.logo { max-height: 48px; margin-bottom: 1rem; }
.button { display: inline-block; background: #1f6feb; color: #fff; padding: .7rem 1.2rem; border-radius: 8px; text-decoration: none; font-weight: 600; }
.note { color: #59636e; font-size: .9rem; }
";

/// The page's Content-Security-Policy: nothing runs or loads but its own style sheet (by
/// hash) and https images (the organization's logo); no scripts, frames or form posts.
pub fn content_security_policy() -> String {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src https:; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

/// What the page shows for a pending invitation.
pub struct PendingInvite<'a> {
    pub org_name: &'a str,
    pub org_logo_url: Option<&'a str>,
    pub inviter_name: Option<&'a str>,
    pub role: RoleKey,
    pub expires_at: Timestamp,
    /// Where the button leads: the product's accept page, with the token.
    pub accept_url: &'a str,
    pub locale: Locale,
}

/// The page of a pending invitation (answered 200).
pub fn pending(invite: &PendingInvite<'_>) -> String {
    let words = strings(invite.locale);
    let org = escape(invite.org_name);
    let inviter = invite.inviter_name.unwrap_or(&words.someone);
    let logo = invite
        .org_logo_url
        .map(|url| format!(r#"<img class="logo" src="{}" alt="">"#, escape(url)))
        .unwrap_or_default();
    let title = fill(&escape(&words.page_title), &[("org", &org)]);
    let invited = words.invited_html(inviter, invite.org_name, &invite.role);
    let expiry = escape(&fill(
        &words.expires,
        &[("date", &words.date(invite.expires_at))],
    ));
    let body = format!(
        r#"{logo}
<h1>{title}</h1>
<p>{invited}</p>
<p><a class="button" href="{accept}">{button}</a></p>
<p class="note">{sign_in}
{expiry}</p>"#,
        accept = escape(invite.accept_url),
        button = escape(&words.accept),
        sign_in = escape(&words.sign_in),
    );
    layout(invite.locale, &title, &body)
}

/// Why an invitation cannot be used, for the page answered 404 or 410.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Unknown,
    Expired,
    Canceled,
    Accepted,
    Declined,
}

/// The page of an invitation that cannot be used, in its locale (English for a link that
/// names no invitation).
pub fn unusable(why: Unusable, org_name: Option<&str>, locale: Locale) -> String {
    let words = strings(locale);
    let (title, text) = match why {
        Unusable::Unknown => (&words.unknown_title, escape(&words.unknown_text)),
        Unusable::Expired => (
            &words.expired_title,
            match org_name {
                Some(org) => fill(&escape(&words.expired_ask_org), &[("org", &escape(org))]),
                None => escape(&words.expired_ask),
            },
        ),
        Unusable::Canceled => (&words.canceled_title, escape(&words.canceled_text)),
        Unusable::Accepted => (&words.accepted_title, escape(&words.accepted_text)),
        Unusable::Declined => (&words.declined_title, escape(&words.declined_text)),
    };
    let title = escape(title);
    layout(locale, &title, &format!("<h1>{title}</h1>\n<p>{text}</p>"))
}

/// What the page shows for an active invite link.
pub struct ActiveLink<'a> {
    pub org_name: &'a str,
    pub org_logo_url: Option<&'a str>,
    pub role: RoleKey,
    pub expires_at: Timestamp,
    /// Where the button leads: the product's join page, with the token.
    pub join_url: &'a str,
}

/// The page of an active invite link (answered 200).
pub fn active_link(link: &ActiveLink<'_>) -> String {
    let words = strings(Locale::En);
    let org = escape(link.org_name);
    let logo = link
        .org_logo_url
        .map(|url| format!(r#"<img class="logo" src="{}" alt="">"#, escape(url)))
        .unwrap_or_default();
    let title = fill(&escape(&words.page_title), &[("org", &org)]);
    let body = format!(
        r#"{logo}
<h1>{title}</h1>
<p>You are invited to join <strong>{org}</strong> {role}.</p>
<p><a class="button" href="{join}">Join {org}</a></p>
<p class="note">You will be asked to sign in with a verified email address.
This link works until {date}.</p>"#,
        role = escape(&words.role(&link.role)),
        join = escape(link.join_url),
        date = escape(&words.date(link.expires_at)),
    );
    layout(Locale::En, &title, &body)
}

/// Why an invite link cannot be used, for the page answered 404 or 410.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnusableLink {
    Unknown,
    Expired,
    Revoked,
    Exhausted,
}

/// The page of an invite link that cannot be used; `org_name` when the link names one.
pub fn unusable_link(why: UnusableLink, org_name: Option<&str>) -> String {
    let ask = match org_name {
        Some(org) => format!(
            "Ask someone at <strong>{}</strong> for a new link.",
            escape(org)
        ),
        None => "Ask whoever shared it for a new link.".to_owned(),
    };
    let (title, text) = match why {
        UnusableLink::Unknown => (
            "Invite link not found",
            "This invite link is not valid. Ask whoever shared it for a new one.".to_owned(),
        ),
        UnusableLink::Expired => ("This invite link has expired", ask),
        UnusableLink::Revoked => ("This invite link was revoked", ask),
        UnusableLink::Exhausted => (
            "This invite link has been used up",
            format!("It has been used as many times as it allows. {ask}"),
        ),
    };
    layout(
        Locale::En,
        title,
        &format!("<h1>{title}</h1>\n<p>{text}</p>"),
    )
}

/// The page around `body`; `title` comes escaped.
fn layout(locale: Locale, title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body><main>
{body}
</main></body>
</html>
"#,
        lang = locale.as_str(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::Role;

    #[test]
    fn the_pending_page_escapes_everything_it_shows() {
        let page = pending(&PendingInvite {
            org_name: "<b>Acme</b>",
            org_logo_url: Some("https://x.test/l.png\" onerror=\"alert(1)"),
            inviter_name: Some("Eve <script>alert(1)</script>"),
            role: Role::Admin.into(),
            expires_at: Timestamp(1_795_428_000),
            accept_url: "https://app.test/accept-invite?token=abc&x=\"",
            locale: Locale::En,
        });
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<b>Acme"));
        assert!(!page.contains("\" onerror=\""));
        assert!(page.contains("&lt;b&gt;Acme&lt;/b&gt;"));
        assert!(page.contains("as an admin"));
        assert!(page.contains("November 23, 2026 at 10:00 UTC"));
        assert!(page.contains("<html lang=\"en\">"));
        assert!(page.contains("href=\"https://app.test/accept-invite?token=abc&amp;x=&quot;\""));
    }

    #[test]
    fn unusable_pages_say_why() {
        let en = Locale::En;
        assert!(unusable(Unusable::Expired, Some("Acme"), en).contains("expired"));
        assert!(unusable(Unusable::Canceled, None, en).contains("canceled"));
        assert!(unusable(Unusable::Accepted, None, en).contains("already accepted"));
        assert!(unusable(Unusable::Unknown, None, en).contains("not valid"));
        assert!(unusable(Unusable::Expired, Some("<i>"), en).contains("&lt;i&gt;"));
        let french = unusable(Unusable::Expired, Some("Acme"), Locale::Fr);
        assert!(french.contains("<html lang=\"fr\">"));
        assert!(french.contains("Cette invitation a expiré"));
    }

    #[test]
    fn the_pending_page_is_written_in_its_locale() {
        let page = pending(&PendingInvite {
            org_name: "Acme",
            org_logo_url: None,
            inviter_name: None,
            role: Role::Member.into(),
            expires_at: Timestamp(1_795_428_000),
            accept_url: "https://app.test/accept-invite?token=abc",
            locale: Locale::Ja,
        });
        assert!(page.contains("<html lang=\"ja\">"));
        assert!(page.contains("<title>Acmeに参加</title>"));
        assert!(page.contains("メンバーとして招待しました"));
        assert!(page.contains("2026年11月23日 10:00 UTC"));
    }

    #[test]
    fn the_link_pages_escape_everything_they_show() {
        let page = active_link(&ActiveLink {
            org_name: "<script>alert(1)</script>",
            org_logo_url: Some("https://x.test/l.png\" onerror=\"alert(1)"),
            role: RoleKey::parse("support").unwrap(),
            expires_at: Timestamp(1_795_428_000),
            join_url: "https://app.test/join?token=abc&x=\"",
        });
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("\" onerror=\""));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("with the role “support”"));
        assert!(page.contains("November 23, 2026 at 10:00 UTC"));
        assert!(page.contains("href=\"https://app.test/join?token=abc&amp;x=&quot;\""));
        let gone = unusable_link(UnusableLink::Exhausted, Some("<i>"));
        assert!(gone.contains("used up"));
        assert!(gone.contains("&lt;i&gt;"));
        assert!(unusable_link(UnusableLink::Unknown, None).contains("not valid"));
        assert!(unusable_link(UnusableLink::Revoked, None).contains("revoked"));
        assert!(unusable_link(UnusableLink::Expired, None).contains("expired"));
    }

    #[test]
    fn the_policy_allows_exactly_the_pages_style() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none';"));
        assert!(!csp.contains("unsafe"));
        assert!(!csp.contains("script-src"));
        let page = unusable(Unusable::Unknown, None, Locale::En);
        let style = page
            .split("<style>")
            .nth(1)
            .and_then(|s| s.split("</style>").next())
            .unwrap();
        let hash = STANDARD.encode(Sha256::digest(style.as_bytes()));
        assert!(csp.contains(&format!("'sha256-{hash}'")));
    }
}
