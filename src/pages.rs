//! The invitation landing page, `GET /invite/{token}`: what the person who clicked the
//! email link sees. Rendering is pure; every value shown is HTML-escaped.

use crate::domain::time::Timestamp;
use crate::render::{escape, human_time, with_article};
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
    pub role: &'a str,
    pub expires_at: Timestamp,
    /// Where the button leads: the product's accept page, with the token.
    pub accept_url: &'a str,
}

/// The page of a pending invitation (answered 200).
pub fn pending(invite: &PendingInvite<'_>) -> String {
    let org = escape(invite.org_name);
    let inviter = escape(invite.inviter_name.unwrap_or("Someone"));
    let logo = invite
        .org_logo_url
        .map(|url| format!(r#"<img class="logo" src="{}" alt="">"#, escape(url)))
        .unwrap_or_default();
    let body = format!(
        r#"{logo}
<h1>Join {org}</h1>
<p><strong>{inviter}</strong> invited you to join <strong>{org}</strong> as {role}.</p>
<p><a class="button" href="{accept}">Accept the invitation</a></p>
<p class="note">You will be asked to sign in with the email address the invitation was sent to.
The invitation expires on {expires}.</p>"#,
        role = escape(&with_article(invite.role)),
        accept = escape(invite.accept_url),
        expires = escape(&human_time(invite.expires_at)),
    );
    layout(&format!("Join {org}"), &body)
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

/// The page of an invitation that cannot be used.
pub fn unusable(why: Unusable, org_name: Option<&str>) -> String {
    let org = org_name.map(escape);
    let (title, text) = match why {
        Unusable::Unknown => (
            "Invitation not found".to_string(),
            "This invitation link is not valid. It may have been replaced by a newer \
             invitation: check your inbox for the latest one, or ask for a new invitation."
                .to_string(),
        ),
        Unusable::Expired => (
            "This invitation has expired".to_string(),
            format!(
                "Ask {} for a new invitation.",
                org.as_deref()
                    .map_or("whoever invited you".to_string(), |o| format!(
                        "someone at {o}"
                    ))
            ),
        ),
        Unusable::Canceled => (
            "This invitation was canceled".to_string(),
            "It can no longer be used. If you think this is a mistake, ask for a new invitation."
                .to_string(),
        ),
        Unusable::Accepted => (
            "This invitation was already accepted".to_string(),
            "Sign in to the app to continue.".to_string(),
        ),
        Unusable::Declined => (
            "This invitation was declined".to_string(),
            "It can no longer be used. Ask for a new invitation if you changed your mind."
                .to_string(),
        ),
    };
    layout(&title, &format!("<h1>{title}</h1>\n<p>{text}</p>"))
}

fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
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
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pending_page_escapes_everything_it_shows() {
        let page = pending(&PendingInvite {
            org_name: "<b>Acme</b>",
            org_logo_url: Some("https://x.test/l.png\" onerror=\"alert(1)"),
            inviter_name: Some("Eve <script>alert(1)</script>"),
            role: "admin",
            expires_at: Timestamp(1_795_428_000),
            accept_url: "https://app.test/accept-invite?token=abc&x=\"",
        });
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<b>Acme"));
        assert!(!page.contains("\" onerror=\""));
        assert!(page.contains("&lt;b&gt;Acme&lt;/b&gt;"));
        assert!(page.contains("as an admin"));
        assert!(page.contains("2026-11-23 10:00 UTC"));
        assert!(page.contains("href=\"https://app.test/accept-invite?token=abc&amp;x=&quot;\""));
    }

    #[test]
    fn unusable_pages_say_why() {
        assert!(unusable(Unusable::Expired, Some("Acme")).contains("expired"));
        assert!(unusable(Unusable::Canceled, None).contains("canceled"));
        assert!(unusable(Unusable::Accepted, None).contains("already accepted"));
        assert!(unusable(Unusable::Unknown, None).contains("not valid"));
        assert!(unusable(Unusable::Expired, Some("<i>")).contains("&lt;i&gt;"));
    }

    #[test]
    fn the_policy_allows_exactly_the_pages_style() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none';"));
        assert!(!csp.contains("unsafe"));
        assert!(!csp.contains("script-src"));
        let page = unusable(Unusable::Unknown, None);
        let style = page
            .split("<style>")
            .nth(1)
            .and_then(|s| s.split("</style>").next())
            .unwrap();
        let hash = STANDARD.encode(Sha256::digest(style.as_bytes()));
        assert!(csp.contains(&format!("'sha256-{hash}'")));
    }
}
