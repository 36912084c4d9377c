//! The console's rules: how long its links and sessions last, the session cookie, the
//! CSRF token bound to a session, and where "Back to the app" may lead.

use super::invitation::parse_redirect_url;
use super::secret::{random_b64, sha256_hex, NoEntropy};
use super::Timestamp;

/// A console link works for 5 minutes.
pub const LINK_SECONDS: i64 = 300;
/// A session ends 8 hours after it began, whatever it did since.
pub const SESSION_SECONDS: i64 = 8 * 3600;
/// A session ends after an idle hour.
pub const IDLE_SECONDS: i64 = 3600;
/// The session cookie's name.
pub const COOKIE: &str = "roster_console";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// A secret of the console (a link's code or a session's token): 32 random bytes,
/// base64url. Only its digest is stored; it has no `Debug`, so it cannot be logged.
pub struct ConsoleSecret(String);

impl ConsoleSecret {
    pub fn generate() -> Result<ConsoleSecret, NoEntropy> {
        random_b64().map(ConsoleSecret)
    }

    /// Accepts only what `generate` produces, so anything else is refused without a read.
    pub fn parse(s: &str) -> Option<ConsoleSecret> {
        let ok = s.len() == 43
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| ConsoleSecret(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps.
    pub fn digest(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }

    /// The CSRF token of the session this secret opens: derived from it, so a form from
    /// another session (or none) cannot carry it, and nothing more is stored.
    pub fn csrf_token(&self) -> String {
        sha256_hex(format!("console-csrf:{}", self.0).as_bytes())
    }

    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        let expected = self.csrf_token();
        expected.len() == sent.len()
            && expected
                .bytes()
                .zip(sent.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// The link that spends this code: `{public_url}/console/enter/{code}`.
    pub fn link(&self, public_url: &str) -> String {
        format!("{public_url}/console/enter/{}", self.0)
    }
}

/// The `Set-Cookie` value that holds a session: only for the console's paths, never sent
/// by another site's request, unreadable by scripts, and `Secure` when Roster is on https.
pub fn session_cookie(token: &ConsoleSecret, public_url: &str) -> String {
    format!(
        "{COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}",
        token.expose(),
        secure(public_url)
    )
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn cleared_cookie(public_url: &str) -> String {
    format!(
        "{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure(public_url)
    )
}

fn secure(public_url: &str) -> &'static str {
    if public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// The session token in a `Cookie` header, if it holds one of the right form.
pub fn session_from_cookies(header: &str) -> Option<ConsoleSecret> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .find_map(|(_, value)| ConsoleSecret::parse(value.trim()))
}

/// Whether a session that began at `created_at` and was last seen at `last_seen_at` is
/// still open at `now`.
pub fn session_open(created_at: Timestamp, last_seen_at: Timestamp, now: Timestamp) -> bool {
    now.0 < created_at.0 + SESSION_SECONDS && now.0 < last_seen_at.0 + IDLE_SECONDS
}

/// A `return_url` for "Back to the app": on the app's origin, like an invitation's
/// `redirect_url`.
pub fn parse_return_url(app_url: &str, s: &str) -> Result<String, String> {
    parse_redirect_url(app_url, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> ConsoleSecret {
        ConsoleSecret::parse("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ").unwrap()
    }

    #[test]
    fn secrets_have_one_form() {
        assert!(ConsoleSecret::parse("short").is_none());
        assert!(ConsoleSecret::parse("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP!").is_none());
        let fresh = ConsoleSecret::generate().unwrap();
        assert!(ConsoleSecret::parse(fresh.expose()).is_some());
        assert_eq!(secret().digest().len(), 64);
        assert_eq!(
            secret().link("https://r.test"),
            "https://r.test/console/enter/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
        );
    }

    #[test]
    fn the_csrf_token_belongs_to_its_session() {
        let token = secret().csrf_token();
        assert!(secret().csrf_matches(&token));
        assert!(!secret().csrf_matches(""));
        assert!(!secret().csrf_matches(&token[1..]));
        let other = ConsoleSecret::generate().unwrap();
        assert!(!other.csrf_matches(&token));
        assert_ne!(token, secret().digest());
    }

    #[test]
    fn the_cookie_is_strict_and_secure_on_https() {
        let http = session_cookie(&secret(), "http://localhost:8787");
        assert!(http.starts_with("roster_console=abcdefghij"));
        for part in [
            "Path=/console",
            "HttpOnly",
            "SameSite=Strict",
            "Max-Age=28800",
        ] {
            assert!(http.contains(part), "{part}");
        }
        assert!(!http.contains("Secure"));
        assert!(session_cookie(&secret(), "https://roster.test").ends_with("; Secure"));
        assert!(cleared_cookie("https://roster.test").contains("Max-Age=0"));
    }

    #[test]
    fn the_session_is_read_from_its_cookie() {
        let header = "a=b; roster_console=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ; c=d";
        assert_eq!(
            session_from_cookies(header).map(|s| s.digest()),
            Some(secret().digest())
        );
        assert!(session_from_cookies("roster_console=nope").is_none());
        assert!(session_from_cookies("").is_none());
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let start = Timestamp(1_000_000);
        assert!(session_open(start, start, start.plus(IDLE_SECONDS - 1)));
        assert!(!session_open(start, start, start.plus(IDLE_SECONDS)));
        let late = start.plus(SESSION_SECONDS - 10);
        assert!(session_open(start, late, late.plus(5)));
        assert!(!session_open(start, late, start.plus(SESSION_SECONDS)));
    }

    #[test]
    fn the_return_url_stays_on_the_app() {
        let app = "https://app.test";
        assert_eq!(
            parse_return_url(app, "https://app.test/settings").as_deref(),
            Ok("https://app.test/settings")
        );
        for bad in [
            "https://evil.test/",
            "javascript:alert(1)",
            "http://app.test/",
        ] {
            assert!(parse_return_url(app, bad).is_err(), "{bad}");
        }
    }
}
