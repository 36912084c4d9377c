//! What tests are made of: users and their JWTs, unique names, organizations, invitations
//! and members created through the API, and requests released in parallel.

use super::client::{get, post};
use super::server::{server, AUDIENCE, ISSUER, JWT_SECRET};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{AlgorithmExt, Claims, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The webhook events of the contract, as a client would list them.
pub const WEBHOOK_EVENTS: [&str; 30] = [
    "member.added",
    "member.removed",
    "member.role_changed",
    "invitation.created",
    "invitation.accepted",
    "invitation.declined",
    "invitation.expired",
    "invitation.canceled",
    "seats.changed",
    "organization.updated",
    "member.updated",
    "organization.deleted",
    "organization.restored",
    "role.created",
    "role.updated",
    "role.deleted",
    "team.created",
    "team.updated",
    "team.deleted",
    "team.member_added",
    "team.member_removed",
    "domain.verified",
    "domain.failed",
    "join_request.created",
    "join_request.approved",
    "join_request.denied",
    "invite_link.created",
    "invite_link.revoked",
    "member.suspended",
    "member.reactivated",
];

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A string unique within this test run: `prefix-<random>`.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{:x}{:x}{n}",
        std::process::id() % 4096,
        nanos % 65536
    )
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A person of the product, with a fresh id and address.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub verified: bool,
}

impl User {
    pub fn new(name: &str) -> User {
        let base: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        let id = unique(if base.is_empty() { "user" } else { &base });
        User {
            email: format!("{id}@example.com"),
            id,
            name: name.to_string(),
            verified: true,
        }
    }

    pub fn with_email(mut self, email: &str) -> User {
        self.email = email.to_string();
        self
    }

    pub fn unverified(mut self) -> User {
        self.verified = false;
        self
    }

    pub fn claims(&self) -> Value {
        let now = now();
        json!({
            "sub": self.id,
            "email": self.email,
            "email_verified": self.verified,
            "name": self.name,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 600,
        })
    }

    /// A valid HS256 token for this user.
    pub fn token(&self) -> String {
        mint(&self.claims())
    }
}

/// Signs arbitrary claims with the test secret.
pub fn mint(claims: &Value) -> String {
    mint_with(claims, JWT_SECRET)
}

pub fn mint_with(claims: &Value, secret: &str) -> String {
    Hs256
        .token(
            &Header::empty(),
            &Claims::new(claims.clone()),
            &Hs256Key::new(secret.as_bytes()),
        )
        .expect("token")
}

/// Creates an organization owned by `owner` on `plan` and returns its slug.
pub fn create_org(owner: &User, plan: &str) -> String {
    let slug = unique("org");
    post("/v1/orgs")
        .auth(owner)
        .json(&json!({"name": format!("Org {slug}"), "slug": slug, "plan": plan}))
        .send()
        .ok(201);
    slug
}

/// Creates a resource named `name` (kind `property`) in `slug` and returns its id.
pub fn create_resource(by: &User, slug: &str, name: &str) -> String {
    post(&format!("/v1/orgs/{slug}/resources"))
        .auth(by)
        .json(&json!({"name": name, "kind": "property"}))
        .send()
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `f` on `n` threads released at the same instant; returns their results in order.
pub fn in_parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let barrier = &barrier;
                let f = &f;
                s.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a parallel request panicked"))
            .collect()
    })
}

/// Creates an invitation and returns it, without waiting for its email.
pub fn create_invitation(by: &User, slug: &str, email: &str, role: &str) -> Value {
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(by)
        .json(&json!({"email": email, "role": role}))
        .send()
        .ok(201)
}

/// Invites `email` to `slug` as `role` (by `by`) and returns the invitation and the token
/// from the email it sent.
pub fn invite(by: &User, slug: &str, email: &str, role: &str) -> (Value, String) {
    let before = server().mail.to(email).len();
    let invitation = create_invitation(by, slug, email, role);
    let emails = server().mail.wait_for(email, before + 1);
    let token = emails.last().expect("an email").token();
    (invitation, token)
}

/// Adds a new member to `slug` with `role` (invited by `by`, accepted) and returns them.
pub fn add_member(by: &User, slug: &str, role: &str) -> User {
    let user = User::new(role);
    let (_, token) = invite(by, slug, &user.email, role);
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&user)
        .send()
        .ok(200);
    user
}

/// The user ids of `slug`'s members, as `by` sees them.
pub fn member_ids(by: &User, slug: &str) -> Vec<String> {
    get(&format!("/v1/orgs/{slug}/members?limit=100"))
        .auth(by)
        .send()
        .ok(200)["data"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|m| m["user_id"].as_str().map(str::to_string))
        .collect()
}

/// The audit log of `slug` as `by` reads it, newest first (its first 100 entries).
pub fn audit_log(by: &User, slug: &str) -> Vec<Value> {
    get(&format!("/v1/orgs/{slug}/audit-log?limit=100"))
        .auth(by)
        .send()
        .ok(200)["data"]
        .as_array()
        .expect("a list")
        .clone()
}

/// The actions of the audit log of `slug`, newest first.
pub fn audit_actions(by: &User, slug: &str) -> Vec<String> {
    audit_log(by, slug)
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_string))
        .collect()
}

/// Polls `check` for up to 30 seconds (deliveries after a response, the Queue).
#[track_caller]
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Renames organization `slug` (an `organization.updated` event).
pub fn rename_org(owner: &User, slug: &str, name: &str) {
    super::client::patch(&format!("/v1/orgs/{slug}"))
        .auth(owner)
        .json(&json!({"name": name}))
        .send()
        .ok(200);
}

/// Invitation `id` of `slug`, as `by` reads it.
pub fn invitation_of(by: &User, slug: &str, id: &str) -> Value {
    get(&format!("/v1/orgs/{slug}/invitations/{id}"))
        .auth(by)
        .send()
        .ok(200)
}

/// Serialises the tests of one binary that count on who sends what and when: the
/// scheduled job delivers every due row of the server, not one test's, so a test that runs
/// it or waits for a delivery must not overlap another such test.
pub fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
