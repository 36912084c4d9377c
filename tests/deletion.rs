//! Deleting an organization can be undone: deletion ends every way in at once and keeps
//! everything, the owner at deletion restores it as it was, and after the grace the
//! scheduled job purges every row of the tenant (checked in local D1 itself) and frees the
//! slug. The server runs with a short `ORG_GRACE_SECONDS`.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::hooks::hooks;
use support::*;

/// Seconds between a deletion and its purge on this server.
const GRACE: u64 = 12;

fn start() -> &'static Server {
    server_with(Options {
        vars: vec![("ORG_GRACE_SECONDS".into(), GRACE.to_string())],
        ..Options::default()
    })
}

/// Runs `sql` on the server's local D1 and returns its rows.
fn d1(sql: &str) -> Vec<Value> {
    start().sql(sql)
}

fn org_id(owner: &User, slug: &str) -> String {
    get(&format!("/v1/orgs/{slug}")).auth(owner).send().ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn data(reply: Value) -> Vec<Value> {
    reply["data"].as_array().cloned().unwrap_or_default()
}

fn api_key(owner: &User, slug: &str) -> String {
    post(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(owner)
        .json(&json!({"name": "backend", "scopes": ["members:read"]}))
        .send()
        .ok(201)["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

/// An organization with something in every table: members, a grant, invitations (one
/// accepted, one pending), extra seats (a ledger entry), used credits, an API key and a
/// webhook subscribed to every event.
struct Tenant {
    owner: User,
    slug: String,
    member: User,
    resource: String,
    accepted_token: String,
    pending_token: String,
    key: String,
    hook: String,
}

fn tenant() -> Tenant {
    start();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let hook = hooks().url("deletion");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": hook, "events": WEBHOOK_EVENTS}))
        .send()
        .ok(201);
    let member = User::new("member");
    let (_, accepted_token) = invite(&owner, &slug, &member.email, "member");
    post(&format!("/v1/invitations/{accepted_token}/accept"))
        .auth(&member)
        .send()
        .ok(200);
    let resource = create_resource(&owner, &slug, "Board");
    put(&format!(
        "/v1/orgs/{slug}/resources/{resource}/grants/{}",
        member.id
    ))
    .auth(&owner)
    .json(&json!({"level": "write"}))
    .send()
    .ok(200);
    put(&format!("/v1/orgs/{slug}/billing/seats"))
        .auth(&owner)
        .json(&json!({"extra": 2}))
        .send()
        .ok(200);
    post(&format!("/v1/orgs/{slug}/usage"))
        .auth(&member)
        .header("idempotency-key", &unique("usage"))
        .json(&json!({"amount": 7, "feature": "export"}))
        .send()
        .ok(201);
    let (_, pending_token) = invite(&owner, &slug, &User::new("later").email, "member");
    let key = api_key(&owner, &slug);
    Tenant {
        owner,
        slug,
        member,
        resource,
        accepted_token,
        pending_token,
        key,
        hook,
    }
}

fn delete_org(owner: &User, slug: &str) {
    delete(&format!("/v1/orgs/{slug}"))
        .auth(owner)
        .send()
        .ok(204);
}

fn restore(user: &User, slug: &str) -> Reply {
    post(&format!("/v1/orgs/{slug}/restore")).auth(user).send()
}

#[test]
fn deletion_ends_every_way_in_and_restoring_brings_everything_back() {
    let t = tenant();
    let (owner, slug) = (&t.owner, t.slug.as_str());
    let members_before = members(owner, slug);
    let billing_before = get(&format!("/v1/orgs/{slug}/billing"))
        .auth(owner)
        .send()
        .ok(200);
    let ledger_before = get(&format!("/v1/orgs/{slug}/billing/ledger"))
        .auth(owner)
        .send()
        .ok(200);
    // Deliveries that fail now are retried by the job; the deletion drops them.
    std::thread::sleep(Duration::from_secs(1));
    hooks().fail(&t.hook);
    let before_failing = hooks().hits(&t.hook).len();
    let newcomer = add_member(owner, slug, "member");
    // invitation.created, member.added, invitation.accepted
    hooks().wait_for_hits(&t.hook, before_failing + 3);

    let sent_before = hooks().delivered(&t.hook).len();
    delete_org(owner, slug);
    hooks().recover(&t.hook);

    for user in [owner, &t.member] {
        get(&format!("/v1/orgs/{slug}"))
            .auth(user)
            .send()
            .expect(404, "not_found");
        get(&format!("/v1/orgs/{slug}/members"))
            .auth(user)
            .send()
            .expect(404, "not_found");
        assert!(data(get("/v1/orgs").auth(user).send().ok(200)).is_empty());
    }
    get(&format!("/v1/orgs/{slug}/resources/{}", t.resource))
        .auth(&t.member)
        .send()
        .expect(404, "not_found");
    get(&format!("/v1/orgs/{slug}"))
        .bearer(&t.key)
        .send()
        .expect(401, "unauthenticated");
    get(&format!("/v1/invitations/{}", t.pending_token))
        .send()
        .expect(410, "invitation_canceled");
    assert_eq!(
        get(&format!("/invite/{}", t.pending_token)).send().status,
        410
    );
    let later = User::new("later");
    post(&format!("/v1/invitations/{}/accept", t.pending_token))
        .auth(&later)
        .send()
        .expect(410, "invitation_canceled");

    // Only the news of the deletion goes out (if its first attempt failed too, the job sends
    // it); the retries of the failed deliveries are dropped.
    start().run_cron();
    hooks().wait_for(&t.hook, sent_before + 1);
    std::thread::sleep(Duration::from_millis(500));
    let late: Vec<String> = hooks().delivered(&t.hook)[sent_before..]
        .iter()
        .map(|h| h.json["type"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(late, ["organization.deleted"]);

    let listed = data(
        get("/v1/me/deleted-organizations")
            .auth(owner)
            .send()
            .ok(200),
    );
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["slug"], slug);
    assert!(listed[0]["purge_at"].is_string());
    assert!(data(
        get("/v1/me/deleted-organizations")
            .auth(&t.member)
            .send()
            .ok(200)
    )
    .is_empty());

    // Only the owner at deletion may restore it.
    restore(&t.member, slug).expect(404, "not_found");
    restore(&User::new("stranger"), slug).expect(404, "not_found");
    post(&format!("/v1/orgs/{slug}/restore"))
        .bearer(&t.key)
        .send()
        .expect(401, "unauthenticated");
    let org = restore(owner, slug).ok(200);
    assert_eq!(org["slug"], slug);
    assert_eq!(org["role"], "owner");
    // Twice finds it restored.
    restore(owner, slug).ok(200);

    let mut after = members(owner, slug);
    assert!(after.remove(&(newcomer.id.clone(), "member".into(), "[]".into())));
    assert_eq!(after, members_before, "members after the restore");
    assert_eq!(
        get(&format!("/v1/orgs/{slug}/billing"))
            .auth(owner)
            .send()
            .ok(200),
        billing_with_newcomer(billing_before),
    );
    assert_eq!(
        get(&format!("/v1/orgs/{slug}/billing/ledger"))
            .auth(owner)
            .send()
            .ok(200),
        ledger_before
    );
    get(&format!("/v1/orgs/{slug}/resources/{}", t.resource))
        .auth(&t.member)
        .send()
        .ok(200);
    get(&format!("/v1/orgs/{slug}/members"))
        .bearer(&t.key)
        .send()
        .ok(200);
    // Canceled invitations stay canceled.
    let preview = get(&format!("/v1/invitations/{}", t.pending_token))
        .send()
        .ok(200);
    assert_eq!(preview["status"], "canceled");
    post(&format!("/v1/invitations/{}/accept", t.pending_token))
        .auth(&later)
        .send()
        .expect(410, "invitation_canceled");
    assert!(data(
        get("/v1/me/deleted-organizations")
            .auth(owner)
            .send()
            .ok(200)
    )
    .is_empty());
    let log = data(
        get(&format!("/v1/orgs/{slug}/audit-log"))
            .auth(owner)
            .send()
            .ok(200),
    );
    assert_eq!(log[0]["action"], "organization.restored");
    assert_eq!(log[1]["action"], "organization.deleted");
    let sent = hooks().wait_for(&t.hook, sent_before + 2);
    assert_eq!(sent[sent_before + 1].json["type"], "organization.restored");
}

/// Each member's id, role and grants.
fn members(owner: &User, slug: &str) -> BTreeSet<(String, String, String)> {
    data(
        get(&format!("/v1/orgs/{slug}/members"))
            .auth(owner)
            .send()
            .ok(200),
    )
    .into_iter()
    .map(|m| {
        (
            m["user_id"].as_str().unwrap_or_default().to_string(),
            m["role"].as_str().unwrap_or_default().to_string(),
            m["grants"].to_string(),
        )
    })
    .collect()
}

/// The billing as it was, with the member added just before the deletion.
fn billing_with_newcomer(mut before: Value) -> Value {
    let seats = &mut before["seats"];
    seats["used"] = json!(seats["used"].as_i64().unwrap() + 1);
    seats["available"] = json!(seats["available"].as_i64().unwrap() - 1);
    // The pending invitation the deletion canceled no longer counts.
    seats["pending_invitations"] = json!(seats["pending_invitations"].as_i64().unwrap() - 1);
    before
}

#[test]
fn the_slug_stays_reserved_until_the_purge() {
    start();
    let owner = User::new("owner");
    let slug = create_org(&owner, "free");
    delete_org(&owner, &slug);
    let other = User::new("other");
    post("/v1/orgs")
        .auth(&other)
        .json(&json!({"name": "Taken", "slug": slug}))
        .send()
        .expect(409, "slug_taken");
    let mine = create_org(&other, "free");
    patch(&format!("/v1/orgs/{mine}"))
        .auth(&other)
        .json(&json!({"slug": slug}))
        .send()
        .expect(409, "slug_taken");
}

#[test]
fn deleted_organizations_are_listed_a_page_at_a_time() {
    start();
    let owner = User::new("owner");
    let first = create_org(&owner, "free");
    let second = create_org(&owner, "free");
    delete_org(&owner, &first);
    delete_org(&owner, &second);
    let page = get("/v1/me/deleted-organizations?limit=1")
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(page["data"][0]["slug"], first.as_str());
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let page = get(&format!(
        "/v1/me/deleted-organizations?limit=1&cursor={cursor}"
    ))
    .auth(&owner)
    .send()
    .ok(200);
    assert_eq!(page["data"][0]["slug"], second.as_str());
    assert!(page["next_cursor"].is_null());
}

#[test]
fn after_the_grace_the_job_purges_every_row_and_frees_the_slug() {
    let t = tenant();
    let (owner, slug) = (&t.owner, t.slug.as_str());
    let id = org_id(owner, slug);
    delete_org(owner, slug);
    std::thread::sleep(Duration::from_secs(GRACE + 1));
    restore(owner, slug).expect(404, "not_found");

    // Every table that holds a tenant's rows, as the schema says: those with `org_id`
    // (the platform's own `_cf_` tables are not to be read).
    let tables: Vec<String> = d1(
        "SELECT t.name FROM sqlite_master t, pragma_table_info(t.name) c
          WHERE t.type = 'table' AND t.name NOT LIKE '\\_cf\\_%' ESCAPE '\\'
            AND c.name = 'org_id' AND t.name <> 'audit_log'",
    )
    .iter()
    .map(|row| row["name"].as_str().expect("a name").to_owned())
    .collect();
    assert!(tables.len() > 15, "{tables:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        start().run_cron();
        if d1(&format!("SELECT count(*) AS n FROM orgs WHERE id = '{id}'"))[0]["n"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "not purged");
    }
    for table in &tables {
        let left = d1(&format!(
            "SELECT count(*) AS n FROM {table} WHERE org_id = '{id}'"
        ));
        assert_eq!(left[0]["n"], 0, "rows left in {table}");
    }
    let audit = d1(&format!(
        "SELECT action, actor_type, actor_id, target_type, target_id, data
           FROM audit_log WHERE org_id = '{id}'"
    ));
    assert_eq!(
        audit,
        [json!({
            "action": "organization.purged",
            "actor_type": "system",
            "actor_id": null,
            "target_type": "organization",
            "target_id": id,
            "data": "{}",
        })]
    );
    for token in [&t.pending_token, &t.accepted_token] {
        get(&format!("/v1/invitations/{token}"))
            .send()
            .expect(404, "not_found");
    }
    get(&format!("/v1/orgs/{slug}"))
        .bearer(&t.key)
        .send()
        .expect(401, "unauthenticated");
    assert!(data(
        get("/v1/me/deleted-organizations")
            .auth(owner)
            .send()
            .ok(200)
    )
    .is_empty());
    post("/v1/orgs")
        .auth(&User::new("next"))
        .json(&json!({"name": "Next", "slug": slug}))
        .send()
        .ok(201);
}
