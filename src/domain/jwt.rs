//! Verification of the end user's JWT, issued by the product's identity provider.
//!
//! An algorithm allow-list decides which keys may verify a token: HS256 with the shared
//! secret, EdDSA (Ed25519), ES256 and RS256 with public keys from a JWKS. A token whose
//! header names any other algorithm (`none` included) is refused before any key is touched,
//! and so is a token whose header has `crit`: Roster understands no JWS extension, and
//! RFC 7515 (4.1.11) makes a token that needs one it does not understand invalid.
//! Then `iss` must equal the configured issuer, `aud` must contain the configured audience,
//! `exp` is required, and `exp`, `nbf` and `iat` are checked with 60 seconds of leeway.

use super::time::Timestamp;
use chrono::Duration;
use jwt_compact::alg::{Ed25519, Es256, Hs256, Hs256Key, Rsa, RsaPublicKey, StrongAlg, StrongKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmExt, Claims, TimeOptions, UntrustedToken, ValidationError};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 60;

/// The shortest HS256 secret accepted (RFC 7518 asks for a key as long as the hash).
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// The end user a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user_id: String,
    /// Trimmed and lower-cased; compared byte for byte with invitation addresses.
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Why a token was refused. Every variant is answered 401; the message tells the
/// integrator what to fix and never echoes the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    AlgorithmNotAllowed(String),
    CriticalExtension,
    UnknownKey,
    BadSignature,
    Expired,
    MissingExpiry,
    NotYetValid,
    IssuedInFuture,
    WrongIssuer,
    WrongAudience,
    MissingSubject,
}

impl JwtError {
    pub fn message(&self) -> String {
        match self {
            JwtError::Malformed => "The bearer token is not a well-formed JWT.".into(),
            JwtError::AlgorithmNotAllowed(alg) => {
                format!("Tokens signed with `{alg}` are not accepted here.")
            }
            JwtError::CriticalExtension => {
                "The token's header has `crit`; no JWS extension is supported here.".into()
            }
            JwtError::UnknownKey => "No configured key matches the token's `kid`.".into(),
            JwtError::BadSignature => "The token's signature does not verify.".into(),
            JwtError::Expired => "The token has expired.".into(),
            JwtError::MissingExpiry => "The token has no `exp` claim.".into(),
            JwtError::NotYetValid => "The token is not valid yet (`nbf`).".into(),
            JwtError::IssuedInFuture => "The token was issued in the future (`iat`).".into(),
            JwtError::WrongIssuer => "The token's `iss` is not the configured issuer.".into(),
            JwtError::WrongAudience => {
                "The token's `aud` does not include the configured audience.".into()
            }
            JwtError::MissingSubject => "The token has no `sub` claim.".into(),
        }
    }
}

/// A public key from the JWKS, bound to the one algorithm it may verify.
enum PublicKey {
    Ed25519(<Ed25519 as Algorithm>::VerifyingKey),
    Es256(<Es256 as Algorithm>::VerifyingKey),
    Rs256(StrongKey<RsaPublicKey>),
}

impl PublicKey {
    fn alg(&self) -> &'static str {
        match self {
            PublicKey::Ed25519(_) => "EdDSA",
            PublicKey::Es256(_) => "ES256",
            PublicKey::Rs256(_) => "RS256",
        }
    }
}

struct Jwk {
    kid: Option<String>,
    key: PublicKey,
}

/// A token's header parameters besides the registered ones jwt-compact reads (`alg`, `kid`,
/// `typ`, …): where `crit` would be.
type Extensions = Map<String, Value>;

/// Verifies tokens against one configuration (issuer, audience, keys).
pub struct JwtVerifier {
    issuer: String,
    audience: String,
    hs256: Option<Hs256Key>,
    keys: Vec<Jwk>,
}

/// The claims Roster reads besides the registered time claims.
#[derive(Deserialize)]
struct RosterClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    email: Option<Value>,
    #[serde(default)]
    email_verified: Option<Value>,
    #[serde(default)]
    name: Option<Value>,
}

impl JwtVerifier {
    /// Builds a verifier; fails with a message for the operator when the configuration is
    /// unusable (a short secret, a JWKS that does not parse or carries private keys).
    pub fn new(
        issuer: &str,
        audience: &str,
        hs256_secret: Option<&str>,
        jwks: Option<&str>,
    ) -> Result<JwtVerifier, String> {
        if issuer.is_empty() || audience.is_empty() {
            return Err("JWT_ISSUER and JWT_AUDIENCE must be set".into());
        }
        let hs256 = match hs256_secret.filter(|s| !s.is_empty()) {
            Some(secret) if secret.len() < MIN_HS256_SECRET_BYTES => {
                return Err(format!(
                    "JWT_HS256_SECRET must be at least {MIN_HS256_SECRET_BYTES} bytes"
                ))
            }
            Some(secret) => Some(Hs256Key::new(secret.as_bytes())),
            None => None,
        };
        let keys = match jwks.map(str::trim).filter(|s| !s.is_empty()) {
            Some(json) => parse_jwks(json)?,
            None => Vec::new(),
        };
        if hs256.is_none() && keys.is_empty() {
            return Err("set JWT_HS256_SECRET or JWT_JWKS so that tokens can be verified".into());
        }
        Ok(JwtVerifier {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            hs256,
            keys,
        })
    }

    /// Verifies `token` at instant `now` and returns the identity it carries.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Identity, JwtError> {
        let untrusted =
            UntrustedToken::<Extensions>::try_from(token).map_err(|_| JwtError::Malformed)?;
        // Any `crit`, even an empty list (itself invalid), names extensions this verifier
        // would ignore.
        if untrusted.header().other_fields.contains_key("crit") {
            return Err(JwtError::CriticalExtension);
        }
        let alg = untrusted.algorithm().to_owned();
        let kid = untrusted.header().key_id.as_deref();
        let claims = match alg.as_str() {
            "HS256" => {
                let key = self
                    .hs256
                    .as_ref()
                    .ok_or_else(|| JwtError::AlgorithmNotAllowed(alg.clone()))?;
                validate(&Hs256, key, &untrusted)?
            }
            "EdDSA" | "ES256" | "RS256" => {
                let mut candidates = self
                    .keys
                    .iter()
                    .filter(|k| k.key.alg() == alg)
                    .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
                    .peekable();
                if candidates.peek().is_none() {
                    return Err(if self.keys.iter().any(|k| k.key.alg() == alg) {
                        JwtError::UnknownKey
                    } else {
                        JwtError::AlgorithmNotAllowed(alg)
                    });
                }
                let mut last = JwtError::BadSignature;
                let mut verified = None;
                for jwk in candidates {
                    let result = match &jwk.key {
                        PublicKey::Ed25519(key) => validate(&Ed25519, key, &untrusted),
                        PublicKey::Es256(key) => validate(&Es256, key, &untrusted),
                        PublicKey::Rs256(key) => {
                            validate(&StrongAlg(Rsa::rs256()), key, &untrusted)
                        }
                    };
                    match result {
                        Ok(claims) => {
                            verified = Some(claims);
                            break;
                        }
                        Err(e) => last = e,
                    }
                }
                verified.ok_or(last)?
            }
            _ => return Err(JwtError::AlgorithmNotAllowed(alg)),
        };
        self.check_claims(claims, now)
    }

    fn check_claims(
        &self,
        claims: Claims<RosterClaims>,
        now: Timestamp,
    ) -> Result<Identity, JwtError> {
        let at = now.to_datetime();
        let options = TimeOptions::new(Duration::seconds(LEEWAY_SECONDS), move || at);
        claims.validate_expiration(&options).map_err(|e| match e {
            ValidationError::NoClaim(_) => JwtError::MissingExpiry,
            _ => JwtError::Expired,
        })?;
        if claims.not_before.is_some() {
            claims
                .validate_maturity(&options)
                .map_err(|_| JwtError::NotYetValid)?;
        }
        if let Some(iat) = claims.issued_at {
            if iat.timestamp() > now.0 + LEEWAY_SECONDS {
                return Err(JwtError::IssuedInFuture);
            }
        }
        let custom = claims.custom;
        if custom.iss.as_deref() != Some(self.issuer.as_str()) {
            return Err(JwtError::WrongIssuer);
        }
        let audience_ok = match &custom.aud {
            Some(Value::String(aud)) => *aud == self.audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(&self.audience)),
            _ => false,
        };
        if !audience_ok {
            return Err(JwtError::WrongAudience);
        }
        let user_id = custom
            .sub
            .filter(|s| !s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control))
            .ok_or(JwtError::MissingSubject)?;
        Ok(Identity {
            user_id,
            email: custom
                .email
                .as_ref()
                .and_then(Value::as_str)
                .and_then(normalise_email),
            email_verified: custom.email_verified.as_ref().and_then(Value::as_bool) == Some(true),
            name: custom
                .name
                .as_ref()
                .and_then(Value::as_str)
                .and_then(clean_name),
        })
    }
}

fn validate<A: Algorithm>(
    alg: &A,
    key: &A::VerifyingKey,
    token: &UntrustedToken<'_, Extensions>,
) -> Result<Claims<RosterClaims>, JwtError> {
    alg.validator::<RosterClaims>(key)
        .validate(token)
        .map(|t| t.into_parts().1)
        .map_err(|e| match e {
            ValidationError::InvalidSignature | ValidationError::MalformedSignature(_) => {
                JwtError::BadSignature
            }
            _ => JwtError::Malformed,
        })
}

/// The address as the token states it, trimmed and lower-cased (ASCII only, so a lookalike
/// never folds onto a real address); `None` when it carries control characters.
fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_ascii_lowercase();
    (!email.is_empty() && email.len() <= 254 && !email.chars().any(char::is_control))
        .then_some(email)
}

/// A display name without control characters, at most 200 characters.
fn clean_name(raw: &str) -> Option<String> {
    let name: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned();
    (!name.is_empty()).then_some(name)
}

/// Parses `{"keys": [...]}` (or a bare array) into verifying keys. Each key's `kty`/`crv`
/// decides its algorithm; a stated `alg` must agree, and `use`, when given, must be `sig`.
fn parse_jwks(json: &str) -> Result<Vec<Jwk>, String> {
    let value: Value = serde_json::from_str(json).map_err(|_| "JWT_JWKS is not JSON")?;
    let entries = match &value {
        Value::Object(o) => o.get("keys").and_then(Value::as_array),
        Value::Array(a) => Some(a),
        _ => None,
    }
    .ok_or("JWT_JWKS must be {\"keys\": [...]}")?;
    let mut keys = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let field = |name: &str| entry.get(name).and_then(Value::as_str);
        if field("use").is_some_and(|u| u != "sig") {
            continue;
        }
        let jwk: JsonWebKey<'_> = serde_json::from_value(entry.clone())
            .map_err(|e| format!("JWT_JWKS key {i} does not parse: {e}"))?;
        if jwk.is_signing_key() {
            return Err(format!(
                "JWT_JWKS key {i} contains private key material; publish public keys only"
            ));
        }
        let key =
            match (&jwk, field("crv")) {
                (JsonWebKey::KeyPair { .. }, Some("Ed25519")) => PublicKey::Ed25519(
                    (&jwk)
                        .try_into()
                        .map_err(|e| format!("JWT_JWKS key {i}: {e}"))?,
                ),
                (JsonWebKey::EllipticCurve { .. }, Some("P-256")) => PublicKey::Es256(
                    (&jwk)
                        .try_into()
                        .map_err(|e| format!("JWT_JWKS key {i}: {e}"))?,
                ),
                (JsonWebKey::Rsa { .. }, _) => {
                    let key = RsaPublicKey::try_from(&jwk)
                        .map_err(|e| format!("JWT_JWKS key {i}: {e}"))?;
                    PublicKey::Rs256(StrongKey::try_from(key).map_err(|_| {
                        format!("JWT_JWKS key {i}: RSA keys need 2048 bits or more")
                    })?)
                }
                _ => {
                    return Err(format!(
                    "JWT_JWKS key {i}: only Ed25519 (OKP), P-256 (EC) and RSA keys are supported"
                ))
                }
            };
        if let Some(alg) = field("alg") {
            if alg != key.alg() {
                return Err(format!(
                    "JWT_JWKS key {i}: `alg` {alg} does not fit its key type ({})",
                    key.alg()
                ));
            }
        }
        keys.push(Jwk {
            kid: field("kid").map(str::to_owned),
            key,
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_compact::Header;
    use serde_json::json;

    const SECRET: &str = "an-hs256-secret-of-at-least-32-bytes!";
    const ISS: &str = "https://id.example.com";
    const AUD: &str = "roster";
    const NOW: Timestamp = Timestamp(1_795_428_000);

    fn hs256_verifier() -> JwtVerifier {
        JwtVerifier::new(ISS, AUD, Some(SECRET), None).unwrap()
    }

    fn base_claims() -> Value {
        json!({
            "sub": "user_1",
            "iss": ISS,
            "aud": AUD,
            "exp": NOW.0 + 300,
            "iat": NOW.0,
            "email": " Alice@Example.com ",
            "email_verified": true,
            "name": "Alice",
        })
    }

    fn hs256(claims: &Value, secret: &str) -> String {
        let claims: Claims<Value> = Claims::new(claims.clone());
        Hs256
            .token(&Header::empty(), &claims, &Hs256Key::new(secret.as_bytes()))
            .unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn with(mut claims: Value, key: &str, value: Value) -> Value {
        claims[key] = value;
        claims
    }

    fn without(mut claims: Value, key: &str) -> Value {
        claims.as_object_mut().unwrap().remove(key);
        claims
    }

    #[test]
    fn a_good_hs256_token_yields_the_identity() {
        let id = hs256_verifier()
            .verify(&hs256(&base_claims(), SECRET), NOW)
            .unwrap();
        assert_eq!(
            id,
            Identity {
                user_id: "user_1".into(),
                email: Some("alice@example.com".into()),
                email_verified: true,
                name: Some("Alice".into()),
            }
        );
    }

    #[test]
    fn audience_may_be_a_list() {
        let claims = with(base_claims(), "aud", json!(["other", AUD]));
        assert!(hs256_verifier()
            .verify(&hs256(&claims, SECRET), NOW)
            .is_ok());
        let claims = with(base_claims(), "aud", json!(["other"]));
        assert_eq!(
            hs256_verifier().verify(&hs256(&claims, SECRET), NOW),
            Err(JwtError::WrongAudience)
        );
    }

    #[test]
    fn bad_tokens_are_refused_with_their_reason() {
        let v = hs256_verifier();
        let cases = [
            (
                hs256(&base_claims(), "another-secret-that-is-long-enough!!"),
                JwtError::BadSignature,
            ),
            (
                hs256(&with(base_claims(), "iss", json!("https://evil")), SECRET),
                JwtError::WrongIssuer,
            ),
            (
                hs256(&without(base_claims(), "iss"), SECRET),
                JwtError::WrongIssuer,
            ),
            (
                hs256(&with(base_claims(), "aud", json!("other")), SECRET),
                JwtError::WrongAudience,
            ),
            (
                hs256(&without(base_claims(), "aud"), SECRET),
                JwtError::WrongAudience,
            ),
            (
                hs256(&without(base_claims(), "exp"), SECRET),
                JwtError::MissingExpiry,
            ),
            (
                hs256(&with(base_claims(), "exp", json!(NOW.0 - 61)), SECRET),
                JwtError::Expired,
            ),
            (
                hs256(&with(base_claims(), "nbf", json!(NOW.0 + 61)), SECRET),
                JwtError::NotYetValid,
            ),
            (
                hs256(&with(base_claims(), "iat", json!(NOW.0 + 61)), SECRET),
                JwtError::IssuedInFuture,
            ),
            (
                hs256(&without(base_claims(), "sub"), SECRET),
                JwtError::MissingSubject,
            ),
            (
                hs256(&with(base_claims(), "sub", json!("")), SECRET),
                JwtError::MissingSubject,
            ),
            ("not-a-jwt".to_string(), JwtError::Malformed),
        ];
        for (token, expected) in cases {
            assert_eq!(v.verify(&token, NOW), Err(expected));
        }
    }

    #[test]
    fn leeway_is_sixty_seconds() {
        let v = hs256_verifier();
        for (claim, value) in [
            ("exp", NOW.0 - 59),
            ("nbf", NOW.0 + 59),
            ("iat", NOW.0 + 59),
        ] {
            let token = hs256(&with(base_claims(), claim, json!(value)), SECRET);
            assert!(v.verify(&token, NOW).is_ok(), "{claim} inside leeway");
        }
    }

    #[test]
    fn alg_none_and_unlisted_algorithms_are_refused() {
        let v = hs256_verifier();
        let payload = b64(base_claims().to_string().as_bytes());
        for header in [
            json!({"alg": "none", "typ": "JWT"}),
            json!({"alg": "HS384"}),
            json!({"alg": "RS256"}),
        ] {
            let token = format!("{}.{payload}.", b64(header.to_string().as_bytes()));
            let alg = header["alg"].as_str().unwrap().to_string();
            assert_eq!(
                v.verify(&token, NOW),
                Err(JwtError::AlgorithmNotAllowed(alg))
            );
        }
        // A token signed with the shared secret but re-labelled HS512 is refused too.
        let token = hs256(&base_claims(), SECRET);
        let (_, rest) = token.split_once('.').unwrap();
        let relabelled = format!("{}.{rest}", b64(br#"{"alg":"HS512"}"#));
        assert!(matches!(
            v.verify(&relabelled, NOW),
            Err(JwtError::AlgorithmNotAllowed(_))
        ));
    }

    /// A token signed with the shared secret over a header written by hand.
    fn hs256_with_header(header: &Value, claims: &Value) -> String {
        use hmac::{Hmac, Mac};
        let signed = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", b64(&mac.finalize().into_bytes()))
    }

    #[test]
    fn critical_header_extensions_are_refused() {
        let v = hs256_verifier();
        // The hand-built token verifies as it is, so a refusal below is the `crit`'s doing.
        let plain = hs256_with_header(&json!({"alg": "HS256", "typ": "JWT"}), &base_claims());
        assert!(v.verify(&plain, NOW).is_ok());
        for header in [
            json!({"alg": "HS256", "crit": ["x-unknown"], "x-unknown": 1}),
            json!({"alg": "HS256", "crit": ["x-unknown"]}),
            json!({"alg": "HS256", "crit": ["b64"], "b64": false}),
            json!({"alg": "HS256", "crit": ["exp"], "exp": NOW.0 + 300}),
            json!({"alg": "HS256", "crit": []}),
            json!({"alg": "HS256", "crit": null}),
            json!({"alg": "HS256", "crit": "x-unknown"}),
        ] {
            let token = hs256_with_header(&header, &base_claims());
            assert_eq!(
                v.verify(&token, NOW),
                Err(JwtError::CriticalExtension),
                "{header}"
            );
        }
        // Other header parameters Roster does not know are ignored, as RFC 7515 asks.
        let token = hs256_with_header(&json!({"alg": "HS256", "x-note": "hi"}), &base_claims());
        assert!(v.verify(&token, NOW).is_ok());
    }

    #[test]
    fn hs256_is_refused_when_only_a_jwks_is_configured() {
        let (_, jwks) = ed25519_pair("k1");
        let v = JwtVerifier::new(ISS, AUD, None, Some(&jwks.to_string())).unwrap();
        assert_eq!(
            v.verify(&hs256(&base_claims(), SECRET), NOW),
            Err(JwtError::AlgorithmNotAllowed("HS256".into()))
        );
    }

    #[test]
    fn configuration_errors() {
        assert!(JwtVerifier::new(ISS, AUD, Some("short"), None).is_err());
        assert!(JwtVerifier::new(ISS, AUD, None, None).is_err());
        assert!(JwtVerifier::new("", AUD, Some(SECRET), None).is_err());
        assert!(JwtVerifier::new(ISS, AUD, None, Some("{")).is_err());
        let private = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64(&[1; 32]), "d": b64(&[2; 32])}]});
        assert!(JwtVerifier::new(ISS, AUD, None, Some(&private.to_string())).is_err());
        let mislabelled =
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "RS256", "x": b64(&[1; 32])}]});
        assert!(JwtVerifier::new(ISS, AUD, None, Some(&mislabelled.to_string())).is_err());
    }

    fn ed25519_pair(kid: &str) -> (ed25519_compact::SecretKey, Value) {
        let kp = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7; 32]));
        let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig", "x": b64(kp.pk.as_ref())}]});
        (kp.sk, jwks)
    }

    #[test]
    fn eddsa_from_jwks_with_kid() {
        let (sk, jwks) = ed25519_pair("k1");
        let v = JwtVerifier::new(ISS, AUD, None, Some(&jwks.to_string())).unwrap();
        let claims = Claims::new(base_claims());
        let token = Ed25519
            .token(&Header::empty().with_key_id("k1"), &claims, &sk)
            .unwrap();
        assert_eq!(v.verify(&token, NOW).unwrap().user_id, "user_1");
        let token = Ed25519
            .token(&Header::empty().with_key_id("k2"), &claims, &sk)
            .unwrap();
        assert_eq!(v.verify(&token, NOW), Err(JwtError::UnknownKey));
        // Without a kid every key of the algorithm is tried.
        let token = Ed25519.token(&Header::empty(), &claims, &sk).unwrap();
        assert!(v.verify(&token, NOW).is_ok());
        // Another key pair does not verify.
        let other = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([8; 32]));
        let token = Ed25519.token(&Header::empty(), &claims, &other.sk).unwrap();
        assert_eq!(v.verify(&token, NOW), Err(JwtError::BadSignature));
    }

    #[test]
    fn es256_from_jwks() {
        let sk = p256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap();
        let point = sk.verifying_key().to_encoded_point(false);
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())}]});
        let v = JwtVerifier::new(ISS, AUD, None, Some(&jwks.to_string())).unwrap();
        let token = Es256
            .token(&Header::empty(), &Claims::new(base_claims()), &sk)
            .unwrap();
        assert_eq!(v.verify(&token, NOW).unwrap().user_id, "user_1");
        let expired = with(base_claims(), "exp", json!(NOW.0 - 3600));
        let token = Es256
            .token(&Header::empty(), &Claims::new(expired), &sk)
            .unwrap();
        assert_eq!(v.verify(&token, NOW), Err(JwtError::Expired));
    }

    #[test]
    fn rs256_from_jwks() {
        let rsa = Rsa::rs256();
        let sk = test_rsa_key();
        let public = jwt_compact::alg::RsaPublicKey::from(&sk);
        let jwk = JsonWebKey::from(&public);
        let mut entry = serde_json::to_value(&jwk).unwrap();
        entry["kid"] = json!("rsa1");
        entry["alg"] = json!("RS256");
        let jwks = json!({"keys": [entry]});
        let v = JwtVerifier::new(ISS, AUD, Some(SECRET), Some(&jwks.to_string())).unwrap();
        let token = rsa
            .token(
                &Header::empty().with_key_id("rsa1"),
                &Claims::new(base_claims()),
                &sk,
            )
            .unwrap();
        assert_eq!(v.verify(&token, NOW).unwrap().user_id, "user_1");
        // HS256 still works beside the JWKS.
        assert!(v.verify(&hs256(&base_claims(), SECRET), NOW).is_ok());
    }

    /// A fixed 2048-bit key, so that tests do not spend seconds generating one.
    fn test_rsa_key() -> jwt_compact::alg::RsaPrivateKey {
        use rsa::pkcs8::DecodePrivateKey;
        rsa::RsaPrivateKey::from_pkcs8_pem(include_str!("../../tests/fixtures/rsa-test-key.pem"))
            .unwrap()
    }

    #[test]
    fn identity_claims_are_cleaned() {
        let claims = with(
            with(base_claims(), "name", json!("  Al\u{7}ice  ")),
            "email_verified",
            json!("true"),
        );
        let id = hs256_verifier()
            .verify(&hs256(&claims, SECRET), NOW)
            .unwrap();
        assert_eq!(id.name.as_deref(), Some("Alice"));
        // Only a JSON boolean `true` counts as verified.
        assert!(!id.email_verified);
        let claims = with(base_claims(), "email", json!("ALİCE@example.com"));
        let id = hs256_verifier()
            .verify(&hs256(&claims, SECRET), NOW)
            .unwrap();
        assert_ne!(id.email.as_deref(), Some("alice@example.com"));
    }
}
