//! Secrets Roster hands out — invitation tokens, API keys, webhook signing secrets — and the
//! digests it keeps instead of them.
//!
//! A secret is 32 bytes from the platform's CSPRNG, base64url without padding. Only its
//! SHA-256 is stored (webhook secrets excepted: signing needs the secret itself). Secrets
//! do not implement `Debug` or `Display`, so they cannot slip into a log line by accident.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fmt::Write;

const SECRET_BYTES: usize = 32;
/// Length of 32 bytes in unpadded base64url.
const SECRET_CHARS: usize = 43;

/// The platform could not produce random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoEntropy;

pub fn random_b64() -> Result<String, NoEntropy> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|_| NoEntropy)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn is_b64_secret(s: &str) -> bool {
    s.len() == SECRET_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Lower-case hex of `sha256(data)`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lower-case hex of `HMAC-SHA256(key, message)`.
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The token of an invitation link. It exists in clear only in the email.
pub struct InviteToken(String);

impl InviteToken {
    pub fn generate() -> Result<InviteToken, NoEntropy> {
        random_b64().map(InviteToken)
    }

    /// Accepts only what [`generate`](Self::generate) can produce, so that anything else is
    /// answered 404 without a lookup.
    pub fn parse(s: &str) -> Option<InviteToken> {
        is_b64_secret(s).then(|| InviteToken(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps: `sha256(token)` in hex, also the KV key suffix.
    pub fn digest(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }

    /// The invitation link: `{public_url}/invite/{token}`, the one place the token shows.
    pub fn link(&self, public_url: &str) -> String {
        format!("{public_url}/invite/{}", self.0)
    }
}

/// An organization API key: `rk_` and 43 base64url characters.
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    pub const PREFIX: &'static str = "rk_";

    pub fn generate() -> Result<ApiKeySecret, NoEntropy> {
        random_b64().map(|s| ApiKeySecret(format!("{}{s}", Self::PREFIX)))
    }

    pub fn parse(s: &str) -> Option<ApiKeySecret> {
        s.strip_prefix(Self::PREFIX)
            .filter(|rest| is_b64_secret(rest))
            .map(|_| ApiKeySecret(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first characters, safe to show in lists so that people can tell keys apart.
    pub fn display_prefix(&self) -> String {
        self.0.chars().take(Self::PREFIX.len() + 6).collect()
    }

    pub fn digest(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

/// A SCIM bearer token: `scim_` and 43 base64url characters. It names its organization.
pub struct ScimSecret(String);

impl ScimSecret {
    pub const PREFIX: &'static str = "scim_";

    pub fn generate() -> Result<ScimSecret, NoEntropy> {
        random_b64().map(|s| ScimSecret(format!("{}{s}", Self::PREFIX)))
    }

    pub fn parse(s: &str) -> Option<ScimSecret> {
        s.strip_prefix(Self::PREFIX)
            .filter(|rest| is_b64_secret(rest))
            .map(|_| ScimSecret(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

/// A webhook signing secret: `whsec_` and 43 base64url characters. The endpoint's creator
/// sees it once; the store keeps it, since signing needs the secret itself.
#[derive(Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub const PREFIX: &'static str = "whsec_";

    pub fn generate() -> Result<WebhookSecret, NoEntropy> {
        random_b64().map(|s| WebhookSecret(format!("{}{s}", Self::PREFIX)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `Roster-Signature` header value for a webhook body sent at `unix_time`.
    pub fn sign(&self, unix_time: i64, body: &str) -> String {
        let signed = format!("{unix_time}.{body}");
        format!(
            "t={unix_time},v1={}",
            hmac_sha256_hex(self.0.as_bytes(), signed.as_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_tokens_are_32_random_bytes() {
        let a = InviteToken::generate().unwrap();
        let b = InviteToken::generate().unwrap();
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(URL_SAFE_NO_PAD.decode(a.expose()).unwrap().len(), 32);
        assert!(InviteToken::parse(a.expose()).is_some());
        assert_eq!(a.digest().len(), 64);
        assert_eq!(InviteToken::parse(a.expose()).unwrap().digest(), a.digest());
        for bad in [
            "",
            "short",
            &"a".repeat(44),
            &format!("{}=", &"a".repeat(42)),
            "../../etc/passwd",
        ] {
            assert!(InviteToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn api_keys() {
        let k = ApiKeySecret::generate().unwrap();
        assert!(k.expose().starts_with("rk_"));
        assert_eq!(k.expose().len(), 46);
        assert!(ApiKeySecret::parse(k.expose()).is_some());
        assert!(ApiKeySecret::parse(&k.expose()[3..]).is_none());
        assert_eq!(k.display_prefix().len(), 9);
        assert_ne!(k.digest(), ApiKeySecret::generate().unwrap().digest());
    }

    #[test]
    fn scim_tokens() {
        let t = ScimSecret::generate().unwrap();
        assert!(t.expose().starts_with("scim_"));
        assert_eq!(t.expose().len(), 48);
        assert!(ScimSecret::parse(t.expose()).is_some());
        assert!(ScimSecret::parse(&t.expose()[5..]).is_none());
        assert!(ScimSecret::parse("scim_short").is_none());
        assert_ne!(t.digest(), ScimSecret::generate().unwrap().digest());
    }

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn webhook_signature_format() {
        let secret = WebhookSecret("whsec_test".into());
        let sig = secret.sign(1_700_000_000, "{\"a\":1}");
        let expected = hmac_sha256_hex(b"whsec_test", b"1700000000.{\"a\":1}");
        assert_eq!(sig, format!("t=1700000000,v1={expected}"));
    }

    #[test]
    fn webhook_secrets_are_32_random_bytes_and_read_back_as_stored() {
        let s = WebhookSecret::generate().unwrap();
        let random = s.expose().strip_prefix("whsec_").unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(random).unwrap().len(), 32);
        assert_ne!(s.expose(), WebhookSecret::generate().unwrap().expose());
        let stored: WebhookSecret = serde_json::from_str(&format!("\"{}\"", s.expose())).unwrap();
        assert_eq!(stored.expose(), s.expose());
    }
}
