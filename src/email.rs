//! The invitation email: rendered here (text and HTML, every value escaped), sent through
//! the HTTP provider in Resend's wire format, or written to the log when no provider is set.

use crate::domain::locale::Locale;
use crate::domain::secret::InviteToken;
use crate::domain::time::Timestamp;
use crate::domain::values::RoleKey;
use crate::i18n::{fill, strings};
use crate::render::escape;

/// What an invitation email says, besides its link, and the language it says it in.
pub struct Invite<'a> {
    pub org_name: &'a str,
    pub org_logo_url: Option<&'a str>,
    pub inviter_name: Option<&'a str>,
    pub role: RoleKey,
    pub expires_at: Timestamp,
    pub locale: Locale,
}

/// The email of invitation `invitation_id` whose link `{PUBLIC_URL}/invite/{token}` carries
/// `token`, and the `Idempotency-Key` to send it under: one per invitation and token, so
/// that a repeat of the same attempt is dropped by the provider while a new link is a new
/// email.
pub fn compose(
    public_url: &str,
    invitation_id: &str,
    token: &InviteToken,
    invite: &Invite<'_>,
) -> (Message, String) {
    let link = token.link(public_url);
    let key = format!("invitation-{invitation_id}-{}", &token.digest()[..16]);
    (render(invite, &link), key)
}

/// An email ready to hand to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Strips what could break out of a header line (the provider puts the subject in one).
fn one_line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// The email for `invite`, in its locale, with `link` on a line of its own in the text
/// part.
pub fn render(invite: &Invite<'_>, link: &str) -> Message {
    let words = strings(invite.locale);
    let inviter = invite.inviter_name.unwrap_or(&words.someone);
    let expires = words.date(invite.expires_at);
    let role = words.role(&invite.role);
    let subject = one_line(&fill(
        &words.subject,
        &[("inviter", inviter), ("org", invite.org_name)],
    ));
    let invited = fill(
        &words.invited,
        &[
            ("inviter", inviter),
            ("org", invite.org_name),
            ("role", &role),
        ],
    );
    let expiry = fill(&words.expires, &[("date", &expires)]);
    // The link stands alone on its line so that any mail client makes it clickable.
    let text = format!(
        "{invited}\n\n{open}\n{link}\n\n{expiry} {ignore}\n",
        open = words.open_link,
        ignore = words.ignore,
    );
    let logo = invite
        .org_logo_url
        .map(|url| {
            format!(
                r#"<p><img src="{}" alt="" style="max-height:48px"></p>"#,
                escape(url)
            )
        })
        .unwrap_or_default();
    let invited_html = words.invited_html(inviter, invite.org_name, &invite.role);
    let html = format!(
        r#"<!doctype html>
<html lang="{lang}"><body style="font-family:system-ui,sans-serif;color:#1f2328">
{logo}<p>{invited_html}</p>
<p><a href="{link}" style="display:inline-block;background:#1f6feb;color:#fff;padding:10px 16px;border-radius:8px;text-decoration:none">{accept}</a></p>
<p style="color:#59636e;font-size:14px">{or_open} {link}<br>
{expiry} {ignore}</p>
</body></html>"#,
        lang = invite.locale.as_str(),
        link = escape(link),
        accept = escape(&words.accept),
        or_open = escape(&words.or_open_link),
        expiry = escape(&expiry),
        ignore = escape(&words.ignore),
    );
    Message {
        subject,
        text,
        html,
    }
}

#[cfg(target_arch = "wasm32")]
pub use provider::{send, EmailOutcome};

#[cfg(target_arch = "wasm32")]
mod provider {
    use super::Message;
    use crate::config::EmailConfig;
    use crate::outbound::post_json;
    use serde_json::json;
    use std::time::Duration;

    /// How long the provider may take before the attempt counts as failed.
    const TIMEOUT: Duration = Duration::from_secs(10);

    /// The outcome of one attempt.
    #[derive(Debug)]
    pub enum EmailOutcome {
        /// The provider accepted the email.
        Sent,
        /// No provider is configured: the email went to the log.
        Logged,
        /// The provider refused or did not answer; the reason is for the log.
        Failed(String),
    }

    /// Sends `message` to `to`. The idempotency key lets the provider drop a duplicate of
    /// the same attempt.
    pub async fn send(
        config: &EmailConfig,
        to: &str,
        message: &Message,
        idempotency_key: &str,
    ) -> EmailOutcome {
        let Some(api_url) = &config.api_url else {
            worker::console_log!(
                "email (no EMAIL_API_URL set, so printed here)\nto: {to}\nsubject: {}\n\n{}",
                message.subject,
                message.text
            );
            return EmailOutcome::Logged;
        };
        match post(config, api_url, to, message, idempotency_key).await {
            Ok(()) => EmailOutcome::Sent,
            Err(reason) => EmailOutcome::Failed(reason),
        }
    }

    async fn post(
        config: &EmailConfig,
        api_url: &str,
        to: &str,
        message: &Message,
        idempotency_key: &str,
    ) -> Result<(), String> {
        let body = json!({
            "from": config.from,
            "to": [to],
            "subject": message.subject,
            "html": message.html,
            "text": message.text,
        });
        let authorization = config.api_key.as_ref().map(|key| format!("Bearer {key}"));
        let mut headers = vec![("idempotency-key", idempotency_key)];
        if let Some(authorization) = &authorization {
            headers.push(("authorization", authorization));
        }
        match post_json(
            &format!("{api_url}/emails"),
            &headers,
            &body.to_string(),
            TIMEOUT,
        )
        .await
        {
            Ok(200..=299) => Ok(()),
            Ok(status) => Err(format!("the provider answered {status}")),
            Err(why) => Err(format!("the provider {why}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::Role;

    fn invite<'a>(org: &'a str, inviter: Option<&'a str>) -> Invite<'a> {
        Invite {
            org_name: org,
            org_logo_url: Some("https://cdn.example.com/logo.png"),
            inviter_name: inviter,
            role: Role::Admin.into(),
            expires_at: Timestamp(1_795_428_000),
            locale: Locale::En,
        }
    }

    const LINK: &str = "https://roster.example.com/invite/abc_DEF-123";

    #[test]
    fn the_link_is_on_its_own_line_of_the_text_part() {
        let m = render(&invite("Acme", Some("Alice")), LINK);
        assert!(m
            .text
            .lines()
            .any(|l| l == "https://roster.example.com/invite/abc_DEF-123"));
        assert_eq!(m.subject, "Alice invited you to join Acme");
        assert!(m.text.contains("as an admin"));
        assert!(m.text.contains("November 23, 2026 at 10:00 UTC"));
        assert!(m
            .html
            .contains("https://roster.example.com/invite/abc_DEF-123"));
    }

    #[test]
    fn a_composed_email_carries_its_token_and_a_key_per_invitation_and_token() {
        let token = InviteToken::generate().unwrap();
        let (m, key) = compose("https://r.example", "inv-1", &token, &invite("Acme", None));
        let link = format!("https://r.example/invite/{}", token.expose());
        assert!(m.text.lines().any(|l| l == link));
        assert!(key.starts_with("invitation-inv-1-"));
        let (_, again) = compose("https://r.example", "inv-1", &token, &invite("Acme", None));
        assert_eq!(key, again);
        let other = InviteToken::generate().unwrap();
        let (_, fresh) = compose("https://r.example", "inv-1", &other, &invite("Acme", None));
        assert_ne!(key, fresh);
        assert!(
            !key.contains(token.expose()),
            "the key does not reveal the token"
        );
    }

    #[test]
    fn html_is_escaped_and_the_subject_is_one_line() {
        let m = render(
            &invite(
                "<b>Acme</b>\r\nBcc: eve@example.com",
                Some("<script>x</script>"),
            ),
            LINK,
        );
        assert!(!m.html.contains("<script>x"));
        assert!(!m.html.contains("<b>Acme"));
        assert!(!m.subject.contains('\n') && !m.subject.contains('\r'));
        assert_eq!(
            render(&invite("Acme", None), LINK).subject,
            "Someone invited you to join Acme"
        );
    }

    #[test]
    fn an_email_is_written_in_its_locale() {
        let german = Invite {
            locale: Locale::De,
            ..invite("Acme & Co", Some("Alice"))
        };
        let m = render(&german, LINK);
        assert_eq!(m.subject, "Alice hat Sie eingeladen, Acme & Co beizutreten");
        assert!(m.text.contains("als Administrator"));
        assert!(m.text.contains("23. November 2026 um 10:00 UTC"));
        assert!(m.text.lines().any(|l| l == LINK));
        assert!(m.html.contains("<html lang=\"de\">"));
        assert!(m.html.contains("<strong>Acme &amp; Co</strong>"));
        assert!(m.html.contains("Einladung annehmen"));
    }
}
