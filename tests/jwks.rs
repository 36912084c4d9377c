//! Tokens signed with asymmetric keys published in `JWT_JWKS`: the Worker reads the key
//! set from its configuration and verifies EdDSA, ES256 and RS256 tokens end to end.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwt_compact::alg::{Ed25519, Es256, Rsa};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{json, Value};
use support::*;

fn ed25519() -> ed25519_compact::KeyPair {
    ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([42; 32]))
}

fn p256() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[17; 32]).expect("a valid scalar")
}

fn rsa() -> rsa::RsaPrivateKey {
    use rsa::pkcs8::DecodePrivateKey;
    rsa::RsaPrivateKey::from_pkcs8_pem(include_str!("fixtures/rsa-test-key.pem"))
        .expect("the test key")
}

fn jwks() -> Value {
    let point = p256().verifying_key().to_encoded_point(false);
    let mut rsa_jwk =
        serde_json::to_value(JsonWebKey::from(&rsa::RsaPublicKey::from(&rsa()))).unwrap();
    rsa_jwk["kid"] = json!("rsa-1");
    json!({"keys": [
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "x": URL_SAFE_NO_PAD.encode(ed25519().pk.as_ref())},
        {"kty": "EC", "crv": "P-256", "kid": "ec-1", "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()), "y": URL_SAFE_NO_PAD.encode(point.y().unwrap())},
        rsa_jwk,
    ]})
}

fn jwks_server() -> &'static Server {
    server_with(Options {
        vars: vec![("JWT_JWKS".into(), jwks().to_string())],
        ..Options::default()
    })
}

#[test]
fn eddsa_es256_and_rs256_tokens_are_accepted() {
    jwks_server();
    let user = User::new("keyholder");
    let claims = Claims::new(user.claims());
    let tokens = [
        (
            "EdDSA",
            Ed25519
                .token(&Header::empty().with_key_id("ed-1"), &claims, &ed25519().sk)
                .unwrap(),
        ),
        (
            "ES256",
            Es256
                .token(&Header::empty().with_key_id("ec-1"), &claims, &p256())
                .unwrap(),
        ),
        (
            "RS256",
            Rsa::rs256()
                .token(&Header::empty().with_key_id("rsa-1"), &claims, &rsa())
                .unwrap(),
        ),
    ];
    for (alg, token) in tokens {
        let me = get("/v1/me").bearer(&token).send();
        assert_eq!(me.status, 200, "{alg}: {}", me.text);
        assert_eq!(me.json["user_id"], user.id, "{alg}");
    }
    // HS256 still works beside the key set.
    get("/v1/me").auth(&user).send().ok(200);
}

#[test]
fn a_key_that_is_not_published_is_refused() {
    jwks_server();
    let user = User::new("forger");
    let other = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7; 32]));
    let claims = Claims::new(user.claims());
    let wrong_key = Ed25519
        .token(&Header::empty().with_key_id("ed-1"), &claims, &other.sk)
        .unwrap();
    get("/v1/me")
        .bearer(&wrong_key)
        .send()
        .expect(401, "unauthenticated");
    let unknown_kid = Ed25519
        .token(&Header::empty().with_key_id("ed-9"), &claims, &ed25519().sk)
        .unwrap();
    get("/v1/me")
        .bearer(&unknown_kid)
        .send()
        .expect(401, "unauthenticated");
}

/// A token whose header lists extensions in `crit` needs them understood, and Roster
/// understands none (RFC 7515 4.1.11): it is refused however well it is signed.
#[test]
fn tokens_with_critical_header_extensions_are_refused() {
    jwks_server();
    let user = User::new("critical");
    let claims = Claims::new(user.claims());
    let plain = Ed25519
        .token(&Header::empty().with_key_id("ed-1"), &claims, &ed25519().sk)
        .unwrap();
    get("/v1/me").bearer(&plain).send().ok(200);
    for extensions in [
        json!({"crit": ["x-unknown"], "x-unknown": true}),
        json!({"crit": ["b64"], "b64": false}),
        json!({"crit": []}),
    ] {
        let header = Header::new(extensions.clone()).with_key_id("ed-1");
        let token = Ed25519.token(&header, &claims, &ed25519().sk).unwrap();
        let reply = get("/v1/me")
            .bearer(&token)
            .send()
            .expect(401, "unauthenticated");
        assert!(
            reply.json["detail"]
                .as_str()
                .is_some_and(|d| d.contains("crit")),
            "{extensions}: {}",
            reply.text
        );
    }
}
