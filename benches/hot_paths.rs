//! Micro-benchmarks of the work every request does before and after its I/O: finding its
//! route, verifying the caller's JWT (HS256, and EdDSA with a key from a JWKS), asking the
//! policy, and rendering a problem body. Native code at the release profile: it ranks the costs, it does not
//! predict wasm timings. `bench/run.sh` runs it and summarises it in `bench/RESULTS.md`;
//! alone: `cargo bench --bench hot_paths`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use jwt_compact::alg::{Ed25519, Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header};
use roster::domain::jwt::JwtVerifier;
use roster::domain::policy::{
    authorize, decide, Action, Actor, Permission, Permissions, Question, RoleDef,
};
use roster::domain::values::{Level, Role, RoleKey};
use roster::domain::{FieldError, Problem, Timestamp};
use roster::routes::resolve;
use serde_json::{json, Value};
use std::hint::black_box;

const ISSUER: &str = "https://id.bench.roster";
const AUDIENCE: &str = "roster";
const SECRET: &str = "a-benchmark-hs256-secret-of-32-bytes-or-more";
const NOW: Timestamp = Timestamp(1_795_428_000);

/// The claims a product's identity provider typically sends.
fn claims() -> Claims<Value> {
    Claims::new(json!({
        "sub": "user_2bQ4kYwzV1c9",
        "email": "ada@example.com",
        "email_verified": true,
        "name": "Ada Lovelace",
        "iss": ISSUER,
        "aud": [AUDIENCE, "another-api"],
        "iat": NOW.0 - 30,
        "exp": NOW.0 + 3600,
    }))
}

fn jwt(c: &mut Criterion) {
    let hs256 = JwtVerifier::new(ISSUER, AUDIENCE, Some(SECRET), None).expect("hs256 verifier");
    let token = Hs256
        .token(
            &Header::empty(),
            &claims(),
            &Hs256Key::new(SECRET.as_bytes()),
        )
        .expect("hs256 token");
    c.bench_function("jwt/hs256", |b| {
        b.iter(|| hs256.verify(black_box(&token), NOW).expect("valid"))
    });

    // Two signing keys published, as during a key rotation; the token names its own.
    let pair = |seed| ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([seed; 32]));
    let (old, current) = (pair(1), pair(2));
    let jwk = |kid: &str, kp: &ed25519_compact::KeyPair| {
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA", "use": "sig",
               "x": URL_SAFE_NO_PAD.encode(kp.pk.as_ref())})
    };
    let jwks = json!({"keys": [jwk("2025-old", &old), jwk("2026-current", &current)]});
    let eddsa =
        JwtVerifier::new(ISSUER, AUDIENCE, None, Some(&jwks.to_string())).expect("jwks verifier");
    let token = Ed25519
        .token(
            &Header::empty().with_key_id("2026-current"),
            &claims(),
            &current.sk,
        )
        .expect("eddsa token");
    c.bench_function("jwt/eddsa_jwks", |b| {
        b.iter(|| eddsa.verify(black_box(&token), NOW).expect("valid"))
    });
}

fn policy(c: &mut Criterion) {
    let member = Actor::member("user_2bQ4kYwzV1c9", Role::Member);
    c.bench_function("policy/authorize_allowed", |b| {
        b.iter(|| authorize(black_box(&member), black_box(Action::ViewMembers)).expect("allowed"))
    });
    // A refusal also writes the problem's detail.
    c.bench_function("policy/authorize_denied", |b| {
        b.iter(|| {
            let invite = Action::Invite(RoleDef::builtin(Role::Member));
            authorize(black_box(&member), black_box(invite)).expect_err("denied")
        })
    });
    // A custom role's holder handing out another custom role: the permission, then the
    // check that the role given is within the holder's own.
    let lead = RoleDef::custom(
        Permissions::of(&[Permission::MembersManage, Permission::UsageConsume]),
        None,
        Level::Write,
    )
    .expect("a custom role");
    let helper = RoleDef::custom(
        Permissions::of(&[Permission::UsageConsume]),
        None,
        Level::Read,
    )
    .expect("a custom role");
    let holder = Actor::User {
        id: "user_2bQ4kYwzV1c9".into(),
        role: RoleKey::parse("lead").expect("a key"),
        def: lead,
    };
    c.bench_function("policy/custom_role_assigns_within", |b| {
        b.iter(|| {
            authorize(black_box(&holder), black_box(Action::Invite(helper))).expect("allowed")
        })
    });
    let question = Question {
        permission: Some(Permission::UsageConsume),
        resource: Some(true),
        level: Some(Level::Write),
    };
    c.bench_function("policy/custom_role_decide", |b| {
        b.iter(|| {
            decide(
                Some(black_box(&holder)),
                black_box(Some(Level::Admin)),
                question,
            )
        })
    });
}

fn problem(c: &mut Criterion) {
    let not_found = Problem::not_found("organization");
    c.bench_function("problem/not_found_body", |b| {
        b.iter(|| serde_json::to_string(&black_box(&not_found).body()))
    });
    let invalid = Problem::invalid(vec![
        FieldError::new("email", "must be an email address"),
        FieldError::new("role", "must be one of admin, member, viewer"),
    ]);
    c.bench_function("problem/invalid_request_body", |b| {
        b.iter(|| serde_json::to_string(&black_box(&invalid).body()))
    });
}

fn routing(c: &mut Criterion) {
    c.bench_function("routes/resolve_org", |b| {
        b.iter(|| resolve(black_box("GET"), black_box("/v1/orgs/acme")))
    });
    c.bench_function("routes/resolve_member", |b| {
        b.iter(|| {
            resolve(
                black_box("PATCH"),
                black_box("/v1/orgs/acme/members/user_123"),
            )
        })
    });
}

criterion_group!(hot_paths, routing, jwt, policy, problem);
criterion_main!(hot_paths);
