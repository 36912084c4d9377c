//! Invite links from outside: created, listed and revoked by member managers, the `url`
//! shown once; previewed and landed on without signing in; joined through with every rule
//! (verified email, allowed domains of the link and of the organization, seats, uses,
//! expiry, revocation), also in parallel; the organization's `allowed_email_domains` for
//! invitations; the audit log and webhooks; and the per-address limit of the public token
//! endpoints.

mod support;

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use support::hooks::hooks;
use support::*;

fn links(slug: &str) -> String {
    format!("/v1/orgs/{slug}/invite-links")
}

fn create_link(by: &User, slug: &str, body: Value) -> Reply {
    post(&links(slug)).auth(by).json(&body).send()
}

/// Creates a link and returns it with its token (the last segment of its `url`).
fn link(by: &User, slug: &str, body: Value) -> (Value, String) {
    let link = create_link(by, slug, body).ok(201);
    let url = link["url"].as_str().expect("a url").to_string();
    let token = url.rsplit('/').next().expect("a token").to_string();
    (link, token)
}

fn join(user: &User, token: &str) -> Reply {
    post(&format!("/v1/invite-links/{token}/join"))
        .auth(user)
        .send()
}

fn preview(token: &str) -> Value {
    get(&format!("/v1/invite-links/{token}")).send().ok(200)
}

fn listed(by: &User, slug: &str) -> Vec<Value> {
    get(&format!("{}?limit=100", links(slug)))
        .auth(by)
        .send()
        .ok(200)["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn revoke(by: &User, slug: &str, id: &str) -> Reply {
    delete(&format!("{}/{id}", links(slug))).auth(by).send()
}

fn set_allowed_domains(by: &User, slug: &str, domains: Value) -> Value {
    patch(&format!("/v1/orgs/{slug}"))
        .auth(by)
        .json(&json!({ "allowed_email_domains": domains }))
        .send()
        .ok(200)
}

/// Taken by every test of this file: `wrangler d1 execute` locks the local database, and a
/// request of another test that meets the lock fails, so these tests run one at a time.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `sql` on the server's local D1 (to move a link's expiry into the past).
fn d1(sql: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(root.join("node_modules/.bin/wrangler"))
        .current_dir(&root)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "1")
        .args(["d1", "execute", "DB", "--local", "--persist-to"])
        .arg(server().state_dir())
        .args(["--command", sql])
        .output()
        .expect("wrangler d1 execute runs");
    assert!(
        output.status.success(),
        "d1 execute: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn links_are_created_listed_and_revoked_with_the_url_shown_once() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let (created, token) = link(
        &owner,
        &slug,
        json!({"role": "member", "max_uses": 5, "expires_in": 3600,
               "allowed_domains": ["Example.COM", "example.com."]}),
    );
    assert_eq!(
        created["url"],
        format!("{}/join/{token}", server().base),
        "the url is PUBLIC_URL/join/{{token}}"
    );
    assert_eq!(token.len(), 43, "32 random bytes, base64url");
    assert_eq!(created["status"], "active");
    assert_eq!(created["uses"], 0);
    assert_eq!(created["max_uses"], 5);
    assert_eq!(created["role"], "member");
    assert_eq!(created["allowed_domains"], json!(["example.com"]));
    assert_eq!(created["created_by"]["user_id"], owner.id.as_str());
    assert_eq!(created["revoked_at"], Value::Null);
    let created_at =
        roster::domain::Timestamp::parse_rfc3339(created["created_at"].as_str().unwrap());
    let expires_at =
        roster::domain::Timestamp::parse_rfc3339(created["expires_at"].as_str().unwrap());
    assert_eq!(expires_at.unwrap().0 - created_at.unwrap().0, 3600);

    let (unlimited, _) = link(&owner, &slug, json!({"role": "viewer"}));
    assert_eq!(unlimited["max_uses"], Value::Null);
    let lasts = roster::domain::Timestamp::parse_rfc3339(unlimited["expires_at"].as_str().unwrap())
        .unwrap()
        .0
        - roster::domain::Timestamp::parse_rfc3339(unlimited["created_at"].as_str().unwrap())
            .unwrap()
            .0;
    assert_eq!(lasts, 604_800, "seven days by default");

    let all = listed(&owner, &slug);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["id"], created["id"]);
    assert!(
        all.iter().all(|l| l.get("url").is_none()),
        "no url in lists"
    );

    let id = created["id"].as_str().unwrap();
    revoke(&owner, &slug, id).expect(204, "");
    revoke(&owner, &slug, id).expect(204, "");
    let after = listed(&owner, &slug);
    assert_eq!(after[0]["status"], "revoked");
    assert!(after[0]["revoked_at"].is_string());
    assert_eq!(preview(&token)["status"], "revoked");
    revoke(&owner, &slug, "00000000-0000-4000-8000-000000000000").expect(404, "not_found");
    revoke(&owner, &slug, "not-an-id").expect(404, "not_found");
}

#[test]
fn creating_a_link_needs_members_manage_and_the_right_to_assign_its_role() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    create_link(&member, &slug, json!({"role": "viewer"})).expect(403, "forbidden");
    get(&links(&slug))
        .auth(&member)
        .send()
        .expect(403, "forbidden");
    create_link(&admin, &slug, json!({"role": "admin"})).expect(403, "forbidden");
    create_link(&admin, &slug, json!({"role": "member"})).ok(201);
    create_link(&owner, &slug, json!({"role": "admin"})).ok(201);
    create_link(&User::new("stranger"), &slug, json!({"role": "member"})).expect(404, "not_found");

    let pro = create_org(&owner, "pro");
    create_link(&owner, &pro, json!({"role": "admin"})).expect(409, "role_not_available");

    let bad = create_link(
        &owner,
        &slug,
        json!({"role": "owner", "max_uses": 0, "expires_in": 60, "teams": ["nope"],
               "allowed_domains": ["not a domain"], "extra": 1}),
    )
    .expect(400, "invalid_request");
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["allowed_domains", "expires_in", "extra", "max_uses", "role"]
    );
    create_link(&owner, &slug, json!({"role": "member", "max_uses": 10_001}))
        .expect(400, "invalid_request");
    create_link(
        &owner,
        &slug,
        json!({"role": "member", "expires_in": 7_776_001}),
    )
    .expect(400, "invalid_request");
    let unknown_team = create_link(&owner, &slug, json!({"role": "member", "teams": ["nope"]}))
        .expect(400, "invalid_request");
    assert_eq!(unknown_team.error_fields(), ["teams[0]"]);
    create_link(&owner, &slug, json!({"role": "ghost"})).expect(400, "invalid_request");
}

#[test]
fn a_preview_says_what_the_link_is_for_in_every_state() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let (_, active) = link(&owner, &slug, json!({"role": "member", "max_uses": 1}));
    let shown = preview(&active);
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["role"], "member");
    assert_eq!(shown["organization"]["slug"], slug.as_str());
    assert_eq!(shown["organization"]["logo_url"], Value::Null);

    join(&User::new("first"), &active).ok(200);
    assert_eq!(preview(&active)["status"], "exhausted");

    let (expired, expired_token) = link(&owner, &slug, json!({"role": "member"}));
    d1(&format!(
        "UPDATE invite_links SET expires_at = 1 WHERE id = '{}'",
        expired["id"].as_str().unwrap()
    ));
    assert_eq!(preview(&expired_token)["status"], "expired");

    get("/v1/invite-links/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .send()
        .expect(404, "not_found");
    get("/v1/invite-links/short")
        .send()
        .expect(404, "not_found");

    // A deleted organization's links lead nowhere, cached or not.
    let (_, cached) = link(&owner, &slug, json!({"role": "member"}));
    assert_eq!(preview(&cached)["status"], "active");
    delete(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .send()
        .expect(204, "");
    get(&format!("/v1/invite-links/{cached}"))
        .send()
        .expect(404, "not_found");
    assert_eq!(get(&format!("/join/{cached}")).send().status, 404);
    join(&User::new("late"), &cached).expect(404, "not_found");
}

#[test]
fn joining_checks_every_rule() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let (_, open) = link(&owner, &slug, json!({"role": "member"}));

    post(&format!("/v1/invite-links/{open}/join"))
        .send()
        .expect(401, "unauthenticated");
    join(&User::new("unverified").unverified(), &open).expect(403, "email_not_verified");
    join(&owner, &open).expect(409, "already_member");
    join(
        &User::new("anyone"),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    )
    .expect(404, "not_found");

    // The link's own domains.
    let (_, acme_only) = link(
        &owner,
        &slug,
        json!({"role": "member", "allowed_domains": ["acme.test"]}),
    );
    let refused = join(&User::new("outsider"), &acme_only).expect(403, "email_domain_not_allowed");
    assert_eq!(refused.json["status"], 403);
    join(
        &User::new("insider").with_email(&format!("{}@acme.test", unique("ann"))),
        &acme_only,
    )
    .ok(200);

    // Revoked, used up, expired.
    let (revoked, revoked_token) = link(&owner, &slug, json!({"role": "member"}));
    revoke(&owner, &slug, revoked["id"].as_str().unwrap()).expect(204, "");
    join(&User::new("late"), &revoked_token).expect(410, "invite_link_revoked");

    let (_, once) = link(&owner, &slug, json!({"role": "member", "max_uses": 1}));
    join(&User::new("first"), &once).ok(200);
    join(&User::new("second"), &once).expect(410, "invite_link_exhausted");

    let (expired, expired_token) = link(&owner, &slug, json!({"role": "member"}));
    d1(&format!(
        "UPDATE invite_links SET expires_at = 1 WHERE id = '{}'",
        expired["id"].as_str().unwrap()
    ));
    join(&User::new("too late"), &expired_token).expect(410, "invite_link_expired");

    // Seats: free has one, the owner's.
    let free = create_org(&owner, "free");
    let (_, full) = link(&owner, &free, json!({"role": "member"}));
    join(&User::new("no seat"), &full).expect(409, "seat_limit_reached");
}

#[test]
fn the_organizations_allowed_domains_bind_invitations_and_links() {
    let _serial = one_at_a_time();
    let owner = User::new("owner").with_email(&format!("{}@acme.test", unique("owner")));
    let slug = create_org(&owner, "business");
    let org = set_allowed_domains(&owner, &slug, json!(["ACME.test", "acme.test"]));
    assert_eq!(org["allowed_email_domains"], json!(["acme.test"]));
    let admin = add_member_at(&owner, &slug, "admin", "acme.test");
    let member = add_member_at(&owner, &slug, "member", "acme.test");
    patch(&format!("/v1/orgs/{slug}"))
        .auth(&member)
        .json(&json!({"allowed_email_domains": []}))
        .send()
        .expect(403, "forbidden");
    patch(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .json(&json!({"allowed_email_domains": ["not a domain"]}))
        .send()
        .expect(400, "invalid_request");
    let too_many: Vec<String> = (0..51).map(|i| format!("d{i}.test")).collect();
    patch(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .json(&json!({ "allowed_email_domains": too_many }))
        .send()
        .expect(400, "invalid_request");

    // Invitations: 409, alone and item by item.
    let refused = post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&admin)
        .json(&json!({"email": "bob@example.com", "role": "member"}))
        .send()
        .expect(409, "email_domain_not_allowed");
    assert_eq!(refused.json["status"], 409);
    let bulk = post(&format!("/v1/orgs/{slug}/invitations/bulk"))
        .auth(&admin)
        .json(&json!({"invitations": [
            {"email": "bob@example.com", "role": "member"},
            {"email": format!("{}@acme.test", unique("cy")), "role": "member"},
        ]}))
        .send()
        .ok(200);
    assert_eq!(
        bulk["results"][0]["error"]["code"],
        "email_domain_not_allowed"
    );
    assert_eq!(bulk["results"][0]["error"]["status"], 409);
    assert!(bulk["results"][1]["invitation"].is_object());

    // Links: 403 for an address outside them, whatever the link says.
    let (_, open) = link(&owner, &slug, json!({"role": "member"}));
    join(&User::new("outsider"), &open).expect(403, "email_domain_not_allowed");
    let (_, other) = link(
        &owner,
        &slug,
        json!({"role": "member", "allowed_domains": ["example.com"]}),
    );
    join(&User::new("outsider"), &other).expect(403, "email_domain_not_allowed");
    let insider = User::new("insider").with_email(&format!("{}@acme.test", unique("dee")));
    join(&insider, &open).ok(200);

    // `[]` admits any domain again.
    let org = set_allowed_domains(&owner, &slug, json!([]));
    assert_eq!(org["allowed_email_domains"], json!([]));
    join(&User::new("anyone"), &open).ok(200);
    let audit = get(&format!("/v1/orgs/{slug}/audit-log?limit=100"))
        .auth(&owner)
        .send()
        .ok(200);
    let changes: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "organization.updated")
        .map(|e| &e["data"]["allowed_email_domains"])
        .collect();
    assert_eq!(changes, [&json!([]), &json!(["acme.test"])]);
}

/// A member of `slug` with `role` whose address is at `domain`, added through a link.
fn add_member_at(owner: &User, slug: &str, role: &str, domain: &str) -> User {
    let user = User::new(role).with_email(&format!("{}@{domain}", unique(role)));
    let (_, token) = link(owner, slug, json!({"role": role, "max_uses": 1}));
    join(&user, &token).ok(200);
    user
}

#[test]
fn joining_gives_the_links_custom_role_and_teams() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    post(&format!("/v1/orgs/{slug}/roles"))
        .auth(&owner)
        .json(&json!({"key": "support", "name": "Support", "permissions": ["org.read"]}))
        .send()
        .ok(201);
    post(&format!("/v1/orgs/{slug}/teams"))
        .auth(&owner)
        .json(&json!({"name": "Eng"}))
        .send()
        .ok(201);
    let (created, token) = link(
        &owner,
        &slug,
        json!({"role": "support", "teams": ["eng", "eng"]}),
    );
    assert_eq!(created["teams"], json!(["eng"]));
    let joiner = User::new("joiner");
    let member = join(&joiner, &token).ok(200);
    assert_eq!(member["user_id"], joiner.id.as_str());
    assert_eq!(member["role"], "support");
    assert_eq!(member["joined_via"], "invite_link");
    assert_eq!(
        member["teams"],
        json!([{"slug": "eng", "team_role": "member"}])
    );
    let members = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200);
    let listed = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == joiner.id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["joined_via"], "invite_link");
    let owner_row = members["data"][0].clone();
    assert_eq!(owner_row["joined_via"], "created");
    let after = listed_link(&owner, &slug, created["id"].as_str().unwrap());
    assert_eq!(after["uses"], 1);
}

fn listed_link(by: &User, slug: &str, id: &str) -> Value {
    listed(by, slug)
        .into_iter()
        .find(|l| l["id"] == id)
        .expect("the link is listed")
}

#[test]
fn parallel_joins_never_pass_max_uses() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let (created, token) = link(&owner, &slug, json!({"role": "member", "max_uses": 3}));
    let users: Vec<User> = (0..8).map(|i| User::new(&format!("racer{i}"))).collect();
    let replies = in_parallel(users.len(), |i| join(&users[i], &token));
    let joined = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(joined, 3, "exactly max_uses join");
    for reply in replies.into_iter().filter(|r| r.status != 200) {
        reply.expect(410, "invite_link_exhausted");
    }
    let after = listed_link(&owner, &slug, created["id"].as_str().unwrap());
    assert_eq!(after["uses"], 3);
    assert_eq!(after["status"], "exhausted");
    assert_eq!(member_ids(&owner, &slug).len(), 4);
}

#[test]
fn parallel_joins_never_pass_the_seats() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let (_, token) = link(&owner, &slug, json!({"role": "member"}));
    for i in 0..3 {
        join(&User::new(&format!("early{i}")), &token).ok(200);
    }
    // Five seats: the owner and three members leave one.
    let users: Vec<User> = (0..6).map(|i| User::new(&format!("racer{i}"))).collect();
    let replies = in_parallel(users.len(), |i| join(&users[i], &token));
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1);
    for reply in replies.into_iter().filter(|r| r.status != 200) {
        reply.expect(409, "seat_limit_reached");
    }
    assert_eq!(member_ids(&owner, &slug).len(), 5);
}

#[test]
fn the_landing_page_escapes_and_keeps_itself_private() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = unique("org");
    post("/v1/orgs")
        .auth(&owner)
        .json(&json!({"name": "<script>alert(1)</script> & Co", "slug": slug, "plan": "business"}))
        .send()
        .ok(201);
    let (created, token) = link(&owner, &slug, json!({"role": "viewer"}));
    let page = get(&format!("/join/{token}")).send();
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("x-robots-tag"), Some("noindex"));
    let csp = page.header("content-security-policy").unwrap_or("");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe"));
    assert!(!page.text.contains("<script>"));
    assert!(page
        .text
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(page.text.contains("as a viewer"));
    assert!(page.text.contains(&format!(
        "href=\"https://app.test.roster/join?token={token}\""
    )));

    revoke(&owner, &slug, created["id"].as_str().unwrap()).expect(204, "");
    let gone = get(&format!("/join/{token}")).send();
    assert_eq!(gone.status, 410);
    assert_eq!(gone.header("cache-control"), Some("no-store"));
    assert!(gone.text.contains("revoked"));
    assert!(!gone.text.contains("<script>"));

    let (_, once) = link(&owner, &slug, json!({"role": "viewer", "max_uses": 1}));
    join(&User::new("first"), &once).ok(200);
    let used = get(&format!("/join/{once}")).send();
    assert_eq!(used.status, 410);
    assert!(used.text.contains("used up"));

    let unknown = get("/join/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").send();
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.header("x-robots-tag"), Some("noindex"));
    assert_eq!(get("/join/x").send().status, 404);
}

#[test]
fn links_are_audited_and_delivered() {
    let _serial = one_at_a_time();
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let url = hooks().url("invite-links");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["invite_link.created", "invite_link.revoked", "member.added"]}))
        .send()
        .ok(201);
    let (created, token) = link(&owner, &slug, json!({"role": "member", "max_uses": 2}));
    let id = created["id"].as_str().unwrap();
    let joiner = User::new("joiner");
    join(&joiner, &token).ok(200);
    revoke(&owner, &slug, id).expect(204, "");

    let hits = hooks().wait_for(&url, 3);
    let types: Vec<&str> = hits
        .iter()
        .map(|h| h.json["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["invite_link.created", "member.added", "invite_link.revoked"]
    );
    assert_eq!(hits[0].json["data"]["id"], id);
    assert_eq!(hits[0].json["data"]["role"], "member");
    assert_eq!(hits[0].json["data"]["max_uses"], 2);
    assert_eq!(hits[1].json["data"]["joined_via"], "invite_link");
    assert!(!hits[0].body.contains(&token), "the token is never sent");

    let entries = get(&format!("/v1/orgs/{slug}/audit-log?limit=10"))
        .auth(&owner)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[..3],
        ["invite_link.revoked", "member.added", "invite_link.created"]
    );
    assert_eq!(
        entries[0]["target"],
        json!({"type": "invite_link", "id": id})
    );
    assert_eq!(entries[1]["actor"]["id"], joiner.id.as_str());
    assert_eq!(entries[1]["data"]["joined_via"], "invite_link");
    assert!(!serde_json::to_string(&entries).unwrap().contains(&token));
}

#[test]
fn public_token_endpoints_are_limited_per_client_address() {
    let _serial = one_at_a_time();
    let unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let from = |address: &str, path: &str| get(path).header("cf-connecting-ip", address).send();
    let address = "203.0.113.7";
    // 60 a minute: the first 60 are answered whatever the minute's window; a few more
    // cross into a new window at most once.
    let mut replies = Vec::new();
    for _ in 0..130 {
        let reply = from(address, &format!("/v1/invite-links/{unknown}"));
        let limited = reply.status == 429;
        replies.push(reply);
        if limited && replies.len() > 60 {
            break;
        }
    }
    assert!(replies[..60].iter().all(|r| r.status == 404));
    let limited = replies.pop().unwrap().expect(429, "rate_limited");
    let wait: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&wait));

    // The limit is the address's, on every public token endpoint.
    from(address, &format!("/v1/invitations/{unknown}")).expect(429, "rate_limited");
    assert_eq!(from(address, &format!("/join/{unknown}")).status, 429);
    assert_eq!(from(address, &format!("/invite/{unknown}")).status, 429);
    post(&format!("/v1/invite-links/{unknown}/join"))
        .header("cf-connecting-ip", address)
        .auth(&User::new("joiner"))
        .send()
        .expect(429, "rate_limited");
    // Another address, and the API outside the token endpoints, are not.
    from("203.0.113.8", &format!("/v1/invite-links/{unknown}")).expect(404, "not_found");
    from(address, "/health").ok(200);
}
