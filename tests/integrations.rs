//! Integrations: API keys (issued once, scoped, revoked at once), webhooks (URL rules,
//! signed deliveries, retries, disabling) and the audit log.

mod support;

use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use support::hooks::{hooks, Hit};
use support::*;

const SCOPES: [&str; 8] = [
    "members:read",
    "members:write",
    "invitations:write",
    "resources:read",
    "resources:write",
    "usage:read",
    "usage:write",
    "billing:read",
];

/// The scheduled job sends every due delivery of every organization, so the tests that
/// count on when it runs take turns.
static JOB: Mutex<()> = Mutex::new(());

fn job_turn() -> MutexGuard<'static, ()> {
    JOB.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn owned_org() -> (User, String) {
    let owner = User::new("owner");
    let slug = create_org(&owner, "free");
    (owner, slug)
}

fn create_key(owner: &User, slug: &str, scopes: &[&str]) -> Value {
    post(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(owner)
        .json(&json!({"name": "Backend", "scopes": scopes}))
        .send()
        .ok(201)
}

fn create_hook(owner: &User, slug: &str, url: &str, events: &[&str]) -> Value {
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(owner)
        .json(&json!({"url": url, "events": events}))
        .send()
        .ok(201)
}

fn list(owner: &User, path: &str) -> Vec<Value> {
    let page = get(path).auth(owner).send().ok(200);
    page["data"].as_array().cloned().unwrap_or_default()
}

fn event_ids(hits: &[Hit]) -> Vec<String> {
    hits.iter()
        .map(|h| h.event_id.clone().expect("Roster-Event-Id"))
        .collect()
}

// ---- API keys ----------------------------------------------------------------------------

#[test]
fn api_keys_are_shown_once_listed_without_secrets_and_revoked_at_once() {
    let (owner, slug) = owned_org();
    let keys = format!("/v1/orgs/{slug}/api-keys");
    let key = create_key(
        &owner,
        &slug,
        &["usage:write", "members:read", "usage:write"],
    );
    let secret = key["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("rk_") && secret.len() == 46, "{secret}");
    assert!(secret[3..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(key["name"], "Backend");
    assert_eq!(key["scopes"], json!(["usage:write", "members:read"]));
    assert_eq!(key["prefix"], secret[..9]);
    assert_eq!(key["last_used_at"], Value::Null);
    assert!(key["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let id = key["id"].as_str().unwrap();

    let listed = list(&owner, &keys);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["prefix"], key["prefix"]);
    assert!(
        listed[0].get("secret").is_none(),
        "lists never show secrets"
    );
    let raw = get(&keys).auth(&owner).send().text;
    assert!(!raw.contains(&secret));

    // The key works, and its use is recorded.
    let seen = get(&format!("/v1/orgs/{slug}"))
        .bearer(&secret)
        .send()
        .ok(200);
    assert_eq!(seen["slug"], slug);
    assert_eq!(seen["role"], Value::Null);
    let listed = list(&owner, &keys);
    assert!(listed[0]["last_used_at"].as_str().is_some());

    delete(&format!("{keys}/{id}")).auth(&owner).send().ok(204);
    get(&format!("/v1/orgs/{slug}"))
        .bearer(&secret)
        .send()
        .expect(401, "unauthenticated");
    assert!(list(&owner, &keys).is_empty());
    delete(&format!("{keys}/{id}"))
        .auth(&owner)
        .send()
        .expect(404, "not_found");
}

#[test]
fn api_keys_act_only_in_their_organization_and_never_on_integrations() {
    let (owner, slug) = owned_org();
    let other = create_org(&owner, "free");
    let everything = create_key(&owner, &slug, &SCOPES);
    let key = everything["secret"].as_str().unwrap();
    let bare = create_key(&owner, &slug, &[]);
    let bare = bare["secret"].as_str().unwrap();
    assert_eq!(list(&owner, &format!("/v1/orgs/{slug}/api-keys")).len(), 2);

    // Any key reads its organization.
    get(&format!("/v1/orgs/{slug}")).bearer(bare).send().ok(200);
    // Outside it, a valid key finds nothing — not even its owner's other organization.
    for path in [
        format!("/v1/orgs/{other}"),
        format!("/v1/orgs/{other}/api-keys"),
        format!("/v1/orgs/{other}/audit-log"),
        "/v1/orgs/no-such-org-here".to_string(),
        "/v1/me".to_string(),
        "/v1/orgs".to_string(),
    ] {
        get(&path).bearer(key).send().expect(404, "not_found");
    }
    post("/v1/orgs")
        .bearer(key)
        .json(&json!({"name": "By key"}))
        .send()
        .expect(404, "not_found");

    // Even with every scope, a key manages no integration and no setting.
    let key_id = everything["id"].as_str().unwrap();
    let hook = create_hook(
        &owner,
        &slug,
        "https://hooks.example.com/k",
        &["member.added"],
    );
    let hook_id = hook["id"].as_str().unwrap();
    for secret in [key, bare] {
        let base = format!("/v1/orgs/{slug}");
        for path in ["api-keys", "webhooks", "audit-log"] {
            get(&format!("{base}/{path}"))
                .bearer(secret)
                .send()
                .expect(403, "forbidden");
        }
        post(&format!("{base}/api-keys"))
            .bearer(secret)
            .json(&json!({"name": "Escalate", "scopes": SCOPES}))
            .send()
            .expect(403, "forbidden");
        post(&format!("{base}/webhooks"))
            .bearer(secret)
            .json(&json!({"url": "https://evil.example.com/", "events": ["member.added"]}))
            .send()
            .expect(403, "forbidden");
        delete(&format!("{base}/api-keys/{key_id}"))
            .bearer(secret)
            .send()
            .expect(403, "forbidden");
        delete(&format!("{base}/webhooks/{hook_id}"))
            .bearer(secret)
            .send()
            .expect(403, "forbidden");
        patch(&base)
            .bearer(secret)
            .json(&json!({"name": "Renamed by key"}))
            .send()
            .expect(403, "forbidden");
        delete(&base).bearer(secret).send().expect(403, "forbidden");
    }
    assert_eq!(list(&owner, &format!("/v1/orgs/{slug}/api-keys")).len(), 2);

    // Deleting the organization revokes its keys.
    delete(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .send()
        .ok(204);
    get(&format!("/v1/orgs/{slug}"))
        .bearer(key)
        .send()
        .expect(401, "unauthenticated");
}

#[test]
fn api_key_requests_are_validated() {
    let (owner, slug) = owned_org();
    let keys = format!("/v1/orgs/{slug}/api-keys");
    let reply = post(&keys)
        .auth(&owner)
        .json(&json!({"name": "X", "scopes": ["members:read", "members:admin"]}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["scopes"]);
    assert!(reply.text.contains("members:admin"));
    let reply = post(&keys)
        .auth(&owner)
        .json(&json!({"name": "", "scopes": "members:read", "owner": true}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["name", "scopes", "owner"]);
    let reply = post(&keys)
        .auth(&owner)
        .json(&json!({}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["name", "scopes"]);
    post(&keys)
        .auth(&owner)
        .raw("text/plain", b"name=x".to_vec())
        .send()
        .expect(415, "unsupported_media_type");
    post(&keys)
        .auth(&owner)
        .json(&json!({"name": "x".repeat(70 * 1024), "scopes": []}))
        .send()
        .expect(413, "payload_too_large");
    for id in ["not-an-id", "00000000-0000-4000-8000-000000000000"] {
        delete(&format!("{keys}/{id}"))
            .auth(&owner)
            .send()
            .expect(404, "not_found");
    }
    assert!(list(&owner, &keys).is_empty());
}

#[test]
fn a_page_of_keys_at_a_time() {
    let (owner, slug) = owned_org();
    let ids: Vec<Value> = (0..3)
        .map(|_| create_key(&owner, &slug, &[])["id"].clone())
        .collect();
    let first = get(&format!("/v1/orgs/{slug}/api-keys?limit=2"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(first["data"][0]["id"], ids[0]);
    assert_eq!(first["data"][1]["id"], ids[1]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(&format!("/v1/orgs/{slug}/api-keys?limit=2&cursor={cursor}"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["data"][0]["id"], ids[2]);
    assert_eq!(second["next_cursor"], Value::Null);
}

// ---- Every endpoint ----------------------------------------------------------------------

#[test]
fn integrations_need_credentials_and_stay_hidden_from_strangers() {
    let (owner, slug) = owned_org();
    let key_id = create_key(&owner, &slug, &[])["id"].clone();
    let hook_id = create_hook(
        &owner,
        &slug,
        "https://hooks.example.com/h",
        &["member.added"],
    )["id"]
        .clone();
    let stranger = User::new("stranger");
    let base = format!("/v1/orgs/{slug}");
    let key_body = json!({"name": "K", "scopes": []});
    let hook_body = json!({"url": "https://hooks.example.com/s", "events": ["member.added"]});
    let requests = || {
        vec![
            get(&format!("{base}/api-keys")),
            post(&format!("{base}/api-keys")).json(&key_body),
            delete(&format!("{base}/api-keys/{}", key_id.as_str().unwrap())),
            get(&format!("{base}/webhooks")),
            post(&format!("{base}/webhooks")).json(&hook_body),
            delete(&format!("{base}/webhooks/{}", hook_id.as_str().unwrap())),
            get(&format!("{base}/audit-log")),
        ]
    };
    for request in requests() {
        request.send().expect(401, "unauthenticated");
    }
    for request in requests() {
        request.auth(&stranger).send().expect(404, "not_found");
    }
    assert_eq!(list(&owner, &format!("{base}/api-keys")).len(), 1);
    assert_eq!(list(&owner, &format!("{base}/webhooks")).len(), 1);

    let reply = Request::new("PUT", &format!("{base}/api-keys"))
        .send()
        .expect(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, POST"));
    let reply = patch(&format!("{base}/webhooks/{}", hook_id.as_str().unwrap()))
        .send()
        .expect(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("DELETE"));
    post(&format!("{base}/audit-log"))
        .send()
        .expect(405, "method_not_allowed");
    for query in ["limit=0", "limit=101", "cursor=nope"] {
        for path in ["api-keys", "webhooks", "audit-log"] {
            get(&format!("{base}/{path}?{query}"))
                .auth(&owner)
                .send()
                .expect(400, "invalid_request");
        }
    }
}

/// A write checks again, in its own batch, that the caller still stands where the request
/// found them: a write that read before the organization was deleted and writes after it
/// leaves nothing behind, and is decided again on a fresh read, which finds no organization
/// (404, after more than the one round trip a request arriving late costs). Where the
/// deletion lands among the writes is up to timing, so rounds shift it until one write has
/// lost that race.
#[test]
fn writes_racing_the_deletion_of_their_organization_leave_nothing() {
    let mut lost = 0;
    let mut round = 0;
    while lost == 0 {
        assert!(round < 40, "no write ever lost the race");
        let (owner, slug) = owned_org();
        let delay = Duration::from_millis(5 * (round % 10));
        let replies = in_parallel(8, |i| {
            if i == 0 {
                std::thread::sleep(delay);
                delete(&format!("/v1/orgs/{slug}")).auth(&owner).send()
            } else if i % 2 == 0 {
                post(&format!("/v1/orgs/{slug}/webhooks"))
                    .auth(&owner)
                    .json(
                        &json!({"url": "https://hooks.example.com/r", "events": ["member.added"]}),
                    )
                    .send()
            } else {
                post(&format!("/v1/orgs/{slug}/api-keys"))
                    .auth(&owner)
                    .json(&json!({"name": "Racer", "scopes": []}))
                    .send()
            }
        });
        assert_eq!(replies[0].status, 204);
        for reply in &replies[1..] {
            match reply.status {
                201 => {
                    // A key issued before the deletion was revoked with the organization.
                    if let Some(key) = reply.json["secret"]
                        .as_str()
                        .filter(|s| s.starts_with("rk_"))
                    {
                        get(&format!("/v1/orgs/{slug}"))
                            .bearer(key)
                            .send()
                            .expect(401, "unauthenticated");
                    }
                }
                _ => {
                    let reply = reply.clone().expect(404, "not_found");
                    if reply.round_trips() > 1 {
                        lost += 1;
                    }
                }
            }
        }
        round += 1;
    }
}

// ---- Webhooks ----------------------------------------------------------------------------

#[test]
fn webhook_urls_that_could_reach_private_networks_are_refused() {
    let (owner, slug) = owned_org();
    // The test server runs with ALLOW_HTTP_WEBHOOKS=true: http and loopback are allowed,
    // private, link-local and unspecified addresses are not.
    let cases = [
        ("https://hooks.example.com/roster", true),
        ("http://127.0.0.1:9/hook", true),
        ("https://localhost/hook", true),
        ("https://[::1]/hook", true),
        ("https://[::ffff:127.0.0.1]/hook", true),
        ("https://2130706433/hook", true),
        ("https://0x7f.0.0.1/hook", true),
        ("https://user:pw@hooks.example.com/", false),
        ("ftp://hooks.example.com/", false),
        ("hooks.example.com/roster", false),
        ("https://10.0.0.1/", false),
        ("https://172.16.0.1/", false),
        ("https://192.168.1.1/", false),
        ("https://100.64.0.1/", false),
        ("https://[fd00::1]/", false),
        ("https://[::ffff:10.0.0.1]/", false),
        ("https://169.254.169.254/latest/meta-data/", false),
        ("http://169.254.169.254/", false),
        ("https://2852039166/", false),
        ("https://0xa9.0xfe.0xa9.0xfe/", false),
        ("https://[::ffff:169.254.169.254]/", false),
        ("https://[fe80::1]/", false),
        ("https://0.0.0.0/", false),
        ("http://0.0.0.0:8080/", false),
        ("https://[::]/", false),
        ("https://224.0.0.1/", false),
    ];
    let mut created = 0;
    for (url, allowed) in cases {
        let reply = post(&format!("/v1/orgs/{slug}/webhooks"))
            .auth(&owner)
            .json(&json!({"url": url, "events": ["member.added"]}))
            .send();
        if allowed {
            assert_eq!(reply.status, 201, "{url}: {}", reply.text);
            created += 1;
        } else {
            let reply = reply.expect(400, "invalid_request");
            assert_eq!(reply.error_fields(), ["url"], "{url}");
        }
    }
    let listed = list(&owner, &format!("/v1/orgs/{slug}/webhooks"));
    assert_eq!(listed.len(), created);
    // Stored as normalised: the loopback spellings all became 127.0.0.1 or [::1].
    assert!(listed.iter().any(|h| h["url"] == "https://127.0.0.1/hook"));
}

#[test]
fn webhook_requests_are_validated() {
    let (owner, slug) = owned_org();
    let hooks_path = format!("/v1/orgs/{slug}/webhooks");
    let fields = |body: Value| {
        post(&hooks_path)
            .auth(&owner)
            .json(&body)
            .send()
            .expect(400, "invalid_request")
            .error_fields()
    };
    let url = "https://hooks.example.com/v";
    assert_eq!(fields(json!({"url": url, "events": []})), ["events"]);
    assert_eq!(
        fields(json!({"url": url, "events": ["member.joined"]})),
        ["events"]
    );
    // Audit-only actions are not webhook events.
    assert_eq!(
        fields(json!({"url": url, "events": ["organization.created"]})),
        ["events"]
    );
    assert_eq!(
        fields(json!({"url": url, "events": "member.added"})),
        ["events"]
    );
    assert_eq!(fields(json!({"url": 42, "events": [1]})), ["url", "events"]);
    assert_eq!(
        fields(json!({"secret": "mine"})),
        ["url", "events", "secret"]
    );
    post(&hooks_path)
        .auth(&owner)
        .raw("text/plain", b"url=x".to_vec())
        .send()
        .expect(415, "unsupported_media_type");
    post(&hooks_path)
        .auth(&owner)
        .json(
            &json!({"url": format!("{url}/{}", "x".repeat(70 * 1024)), "events": ["member.added"]}),
        )
        .send()
        .expect(413, "payload_too_large");
    // Every event, one of them twice: it is kept once.
    let mut all = WEBHOOK_EVENTS.to_vec();
    all.push("seats.changed");
    let hook = create_hook(&owner, &slug, url, &all);
    assert_eq!(hook["events"], json!(WEBHOOK_EVENTS));
    assert_eq!(list(&owner, &hooks_path).len(), 1);
}

#[test]
fn webhooks_are_created_listed_and_deleted() {
    let (owner, slug) = owned_org();
    let hooks_path = format!("/v1/orgs/{slug}/webhooks");
    let hook = create_hook(
        &owner,
        &slug,
        "HTTPS://Hooks.Example.COM/roster?team=1",
        &["member.added", "organization.updated"],
    );
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 49,
        "{secret}"
    );
    assert_eq!(hook["url"], "https://hooks.example.com/roster?team=1");
    assert_eq!(
        hook["events"],
        json!(["member.added", "organization.updated"])
    );
    assert!(hook["created_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(hook["failure_count"], 0);
    assert_eq!(hook["disabled_at"], Value::Null);
    let id = hook["id"].as_str().unwrap();

    let listed = list(&owner, &hooks_path);
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].get("secret").is_none(),
        "lists never show secrets"
    );
    assert!(!get(&hooks_path).auth(&owner).send().text.contains(&secret));
    assert_eq!(listed[0]["disabled_reason"], Value::Null);

    delete(&format!("{hooks_path}/{id}"))
        .auth(&owner)
        .send()
        .ok(204);
    assert!(list(&owner, &hooks_path).is_empty());
    for id in [id, "nope"] {
        delete(&format!("{hooks_path}/{id}"))
            .auth(&owner)
            .send()
            .expect(404, "not_found");
    }
}

#[test]
fn organization_updates_are_delivered_signed() {
    let (owner, slug) = owned_org();
    let url = hooks().url("signed");
    let hook = create_hook(&owner, &slug, &url, &["organization.updated"]);
    let secret = hook["secret"].as_str().unwrap();
    let org = get(&format!("/v1/orgs/{slug}")).auth(&owner).send().ok(200);
    let new_slug = unique("moved");
    patch(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .json(&json!({"name": "Signed & Sealed", "slug": new_slug}))
        .send()
        .ok(200);

    let hit = hooks().wait_for(&url, 1).remove(0);
    assert_eq!(hit.content_type.as_deref(), Some("application/json"));
    assert!(hit.signed_with(secret), "signature: {:?}", hit.signature);
    assert!(!hit.signed_with("whsec_someone-else"));
    let body = &hit.json;
    assert_eq!(hit.event_id.as_deref(), body["id"].as_str());
    assert_eq!(body["type"], "organization.updated");
    assert_eq!(
        body["organization"],
        json!({"id": org["id"], "slug": new_slug})
    );
    assert_eq!(
        body["data"],
        json!({"name": "Signed & Sealed", "slug": new_slug})
    );
    assert!(body["created_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let keys: HashSet<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["id", "type", "created_at", "organization", "data"]
            .map(String::from)
            .into()
    );
    // The event is the audit entry.
    let log = list(&owner, &format!("/v1/orgs/{new_slug}/audit-log"));
    assert_eq!(log[0]["action"], "organization.updated");
    assert_eq!(log[0]["id"], body["id"]);
    // Delivered once, and the endpoint's record is clean.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hooks().hits(&url).len(), 1);
    let listed = list(&owner, &format!("/v1/orgs/{new_slug}/webhooks"));
    assert_eq!(listed[0]["failure_count"], 0);
}

#[test]
fn endpoints_get_only_the_events_of_their_subscription_and_organization() {
    let _turn = job_turn();
    let (owner, slug) = owned_org();
    let subscribed = hooks().url("subscribed");
    let other_event = hooks().url("other-event");
    let deleted = hooks().url("deleted");
    let other_org = hooks().url("other-org");
    create_hook(&owner, &slug, &subscribed, &["organization.updated"]);
    create_hook(
        &owner,
        &slug,
        &other_event,
        &["member.added", "seats.changed"],
    );
    let gone = create_hook(&owner, &slug, &deleted, &["organization.updated"]);
    delete(&format!(
        "/v1/orgs/{slug}/webhooks/{}",
        gone["id"].as_str().unwrap()
    ))
    .auth(&owner)
    .send()
    .ok(204);
    let (neighbour, neighbour_slug) = owned_org();
    create_hook(
        &neighbour,
        &neighbour_slug,
        &other_org,
        &["organization.updated"],
    );

    rename_org(&owner, &slug, "Only for the subscriber");
    let hits = hooks().wait_for(&subscribed, 1);
    assert_eq!(hits[0].json["type"], "organization.updated");
    server().run_cron();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(hooks().hits(&subscribed).len(), 1);
    for url in [&other_event, &deleted, &other_org] {
        assert!(hooks().hits(url).is_empty(), "{url} got a delivery");
    }
}

#[test]
fn failed_deliveries_are_retried_by_the_job_once_per_event() {
    let _turn = job_turn();
    let (owner, slug) = owned_org();
    let url = hooks().url("flaky");
    let hook = create_hook(&owner, &slug, &url, &["organization.updated"]);
    let secret = hook["secret"].as_str().unwrap();
    let hooks_path = format!("/v1/orgs/{slug}/webhooks");
    hooks().fail(&url);
    rename_org(&owner, &slug, "First");
    rename_org(&owner, &slug, "Second");
    let refused = hooks().wait_for_hits(&url, 2);
    assert!(refused.iter().all(|h| h.status == 500));
    eventually("the failures to be recorded", || {
        list(&owner, &hooks_path)[0]["failure_count"] == 2
    });

    // The first retry is due at once: the job's next run sends both events.
    hooks().recover(&url);
    server().run_cron();
    let delivered = hooks().delivered(&url);
    let mut sent = event_ids(&delivered);
    let mut queued = event_ids(&refused);
    sent.sort();
    queued.sort();
    assert_eq!(sent, queued, "each refused event is delivered once");
    assert!(delivered.iter().all(|h| h.signed_with(secret)));
    let names: HashSet<_> = delivered
        .iter()
        .map(|h| h.json["data"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("First"), json!("Second")].into());
    assert_eq!(list(&owner, &hooks_path)[0]["failure_count"], 0);

    // Done is done: later runs send nothing again.
    server().run_cron();
    server().run_cron();
    assert_eq!(hooks().hits(&url).len(), 4);
}

#[test]
fn the_job_and_the_request_never_send_one_event_twice() {
    let _turn = job_turn();
    let (owner, slug) = owned_org();
    let url = hooks().url("contended");
    create_hook(&owner, &slug, &url, &["organization.updated"]);
    hooks().slow(&url, Duration::from_millis(700));
    for round in 0..3 {
        in_parallel(4, |i| {
            if i == 0 {
                rename_org(&owner, &slug, &format!("Round {round}"));
            } else {
                std::thread::sleep(Duration::from_millis(30 * i as u64));
                server().run_cron();
            }
        });
    }
    hooks().wait_for(&url, 3);
    server().run_cron();
    std::thread::sleep(Duration::from_secs(2));
    let ids = event_ids(&hooks().hits(&url));
    let distinct: HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (3, 3), "{ids:?}");
}

#[test]
fn an_endpoint_that_keeps_failing_is_disabled_and_says_why() {
    let (owner, slug) = owned_org();
    let url = hooks().url("dead");
    let hook = create_hook(&owner, &slug, &url, &["organization.updated"]);
    let id = hook["id"].as_str().unwrap();
    let hooks_path = format!("/v1/orgs/{slug}/webhooks");
    hooks().fail(&url);
    for n in 0..20 {
        rename_org(&owner, &slug, &format!("Attempt {n}"));
    }
    let mut listed = Value::Null;
    eventually("the endpoint to be disabled", || {
        listed = list(&owner, &hooks_path).remove(0);
        !listed["disabled_at"].is_null()
    });
    assert!(listed["failure_count"].as_i64().unwrap() >= 20);
    let reason = listed["disabled_reason"].as_str().unwrap();
    assert!(
        reason.contains("20 consecutive deliveries failed"),
        "{reason}"
    );
    assert!(reason.contains("HTTP 500"), "{reason}");

    let log = list(&owner, &format!("/v1/orgs/{slug}/audit-log?limit=100"));
    let disabled: Vec<_> = log
        .iter()
        .filter(|e| e["action"] == "webhook.disabled")
        .collect();
    assert_eq!(disabled.len(), 1, "disabled once");
    assert_eq!(disabled[0]["actor"], json!({"type": "system", "id": null}));
    assert_eq!(disabled[0]["target"], json!({"type": "webhook", "id": id}));
    assert_eq!(disabled[0]["data"]["reason"], reason);

    // A disabled endpoint gets nothing more, even once it answers again. Sends that were
    // under way when it was disabled may still land: let them, then count.
    std::thread::sleep(Duration::from_secs(1));
    hooks().recover(&url);
    let before = hooks().hits(&url).len();
    rename_org(&owner, &slug, "After");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(hooks().hits(&url).len(), before);
}

/// Endpoints that cannot be reached — a host that does not resolve, a port where nothing
/// listens — fail their deliveries like endpoints that answer 500: each attempt is recorded
/// (and retried), and nothing escapes as an uncaught error that would take the requests
/// running beside the deliveries down with it.
#[test]
fn unreachable_endpoints_fail_deliveries_without_disturbing_other_requests() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let resource_id = &create_resource(&owner, &slug, "Shared");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let unreachable = [
        "http://does-not-exist.invalid/hook".to_string(),
        format!("http://127.0.0.1:{closed_port}/hook"),
    ];
    for url in &unreachable {
        create_hook(&owner, &slug, url, &WEBHOOK_EVENTS);
    }
    let log_before = server().log().len();

    const WRITES: usize = 40;
    let answers = in_parallel(WRITES, |i| {
        let (expected, reply) = match i % 4 {
            0 => (
                200,
                patch(&format!("/v1/orgs/{slug}"))
                    .auth(&owner)
                    .json(&json!({"name": format!("Name {i}")})),
            ),
            1 => (
                201,
                post(&format!("/v1/orgs/{slug}/resources"))
                    .auth(&owner)
                    .json(&json!({"name": format!("Resource {i}")})),
            ),
            2 => (
                200,
                put(&format!(
                    "/v1/orgs/{slug}/resources/{resource_id}/grants/{}",
                    member.id
                ))
                .auth(&owner)
                .json(&json!({"level": if i % 8 == 2 { "read" } else { "write" }})),
            ),
            _ => (
                200,
                put(&format!("/v1/orgs/{slug}/billing/plan"))
                    .auth(&owner)
                    .json(&json!({"plan": "business"})),
            ),
        };
        (i, expected, reply.send())
    });
    for (i, expected, reply) in &answers {
        assert_eq!(reply.status, *expected, "write {i}: {}", reply.text);
    }

    // Every rename was an event for both endpoints, and each delivery a failed attempt (the
    // scheduled job, which other tests run, may have retried some already).
    let renames = (WRITES / 4) as i64;
    let hooks_path = format!("/v1/orgs/{slug}/webhooks");
    eventually("every failed attempt to be recorded", || {
        list(&owner, &hooks_path)
            .iter()
            .all(|h| h["failure_count"].as_i64() >= Some(renames))
    });
    let log = server().log();
    let during = log.get(log_before..).unwrap_or_default();
    let escaped: Vec<_> = during
        .lines()
        .filter(|l| l.contains("panicked") || l.contains("RuntimeError") || l.contains("Uncaught"))
        .filter(|l| !is_workerd_body_pump_report(l))
        .collect();
    assert!(escaped.is_empty(), "{escaped:#?}\n{during}");
}

/// Whether `line` is workerd's own report that the request body of a fetch could not be
/// sent. workerd sends a body in a task of its own and reports that task's failure (a DNS
/// lookup that failed, say) as uncaught, whatever the Worker does with the failed fetch: a
/// JavaScript Worker that catches it gets the same line. Under load the lookup's own log
/// entry can come anywhere, so the line is recognised by its fixed form alone (wrangler
/// colours it, hence no anchor).
fn is_workerd_body_pump_report(line: &str) -> bool {
    line.contains("Uncaught Error: internal error; reference = ")
}

// ---- Audit log ---------------------------------------------------------------------------

#[test]
fn the_audit_log_lists_every_change_newest_first() {
    let (owner, slug) = owned_org();
    let base = format!("/v1/orgs/{slug}");
    let org = get(&base).auth(&owner).send().ok(200);
    rename_org(&owner, &slug, "Audited");
    let key = create_key(&owner, &slug, &["members:read"]);
    let key_id = key["id"].as_str().unwrap();
    delete(&format!("{base}/api-keys/{key_id}"))
        .auth(&owner)
        .send()
        .ok(204);
    let hook = create_hook(
        &owner,
        &slug,
        "https://hooks.example.com/a",
        &["member.added"],
    );
    let hook_id = hook["id"].as_str().unwrap();
    delete(&format!("{base}/webhooks/{hook_id}"))
        .auth(&owner)
        .send()
        .ok(204);

    let log = list(&owner, &format!("{base}/audit-log"));
    let actions: Vec<_> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "webhook.deleted",
            "webhook.created",
            "api_key.revoked",
            "api_key.created",
            "organization.updated",
            "organization.created",
        ]
    );
    for entry in &log {
        assert_eq!(entry["actor"], json!({"type": "user", "id": owner.id}));
        assert!(entry["at"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert!(entry["id"].as_str().is_some_and(|id| id.len() == 36));
    }
    let target = |i: usize| log[i]["target"].clone();
    assert_eq!(target(0), json!({"type": "webhook", "id": hook_id}));
    assert_eq!(target(1), json!({"type": "webhook", "id": hook_id}));
    assert_eq!(target(2), json!({"type": "api_key", "id": key_id}));
    assert_eq!(target(3), json!({"type": "api_key", "id": key_id}));
    assert_eq!(target(4), json!({"type": "organization", "id": org["id"]}));
    assert_eq!(target(5), json!({"type": "organization", "id": org["id"]}));
    assert_eq!(
        log[0]["data"],
        json!({"url": "https://hooks.example.com/a"})
    );
    assert_eq!(
        log[1]["data"],
        json!({"url": "https://hooks.example.com/a", "events": ["member.added"]})
    );
    assert_eq!(
        log[2]["data"],
        json!({"name": "Backend", "prefix": key["prefix"]})
    );
    assert_eq!(
        log[3]["data"],
        json!({"name": "Backend", "scopes": ["members:read"], "prefix": key["prefix"]})
    );
    assert_eq!(log[4]["data"], json!({"name": "Audited"}));
    assert_eq!(log[5]["data"]["plan"], "free");
    let all = get(&format!("{base}/audit-log")).auth(&owner).send().text;
    assert!(!all.contains(key["secret"].as_str().unwrap()));
    assert!(!all.contains(hook["secret"].as_str().unwrap()));

    // Page by page, newest first, ending with a null cursor.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{base}/audit-log?limit=4&cursor={c}"),
            None => format!("{base}/audit-log?limit=4"),
        };
        let page = get(&path).auth(&owner).send().ok(200);
        paged.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, log);

    // Another organization's log is its own.
    let (neighbour, neighbour_slug) = owned_org();
    let theirs = list(&neighbour, &format!("/v1/orgs/{neighbour_slug}/audit-log"));
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["action"], "organization.created");
}
