//! Verified domains: what can be claimed, verification against a TXT record asked of the
//! DNS-over-HTTPS stand-in (found, missing, wrong, slow, garbage), one organization per
//! verified domain, enrollment, joining at once or by request, suggestions, the scheduled
//! re-checks, and the audit entries and webhooks they record.

mod support;

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use support::dns::{dns, Answer};
use support::hooks::hooks;
use support::*;

const DAY: i64 = 86_400;

fn domains(slug: &str) -> String {
    format!("/v1/orgs/{slug}/domains")
}

fn fresh_domain() -> String {
    format!("{}.example", unique("acme"))
}

fn add(by: &User, slug: &str, domain: &str) -> Reply {
    post(&domains(slug))
        .auth(by)
        .json(&json!({"domain": domain}))
        .send()
}

fn verify(by: &User, slug: &str, id: &str) -> Reply {
    post(&format!("{}/{id}/verify", domains(slug)))
        .auth(by)
        .send()
}

fn enroll(by: &User, slug: &str, id: &str, body: Value) -> Reply {
    patch(&format!("{}/{id}", domains(slug)))
        .auth(by)
        .json(&body)
        .send()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Adds a domain to `slug`, publishes its record and verifies it: `(domain, id)`.
fn verified(owner: &User, slug: &str) -> (String, String) {
    let domain = fresh_domain();
    let added = add(owner, slug, &domain).ok(201);
    dns().publish(
        added["verification"]["name"].as_str().unwrap(),
        added["verification"]["value"].as_str().unwrap(),
    );
    let id = id_of(&added);
    assert_eq!(verify(owner, slug, &id).ok(200)["status"], "verified");
    (domain, id)
}

/// Someone whose (verified) email is on `domain`.
fn person_on(domain: &str) -> User {
    let user = User::new("person");
    let email = format!("{}@{domain}", user.id);
    user.with_email(&email)
}

fn join(user: &User, slug: &str) -> Reply {
    post(&format!("/v1/orgs/{slug}/join")).auth(user).send()
}

fn suggestions(user: &User) -> Vec<Value> {
    get("/v1/me/suggested-organizations")
        .auth(user)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .clone()
}

fn audit_actions(by: &User, slug: &str) -> Vec<String> {
    get(&format!("/v1/orgs/{slug}/audit-log?limit=100"))
        .auth(by)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

fn domain_row(owner: &User, slug: &str, id: &str) -> Value {
    get(&format!("{}?limit=100", domains(slug)))
        .auth(owner)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .cloned()
        .expect("the domain is listed")
}

/// Runs `sql` on the server's local D1.
fn d1(sql: &str) -> Vec<Value> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(root.join("node_modules/.bin/wrangler"))
        .current_dir(&root)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "1")
        .args(["d1", "execute", "DB", "--local", "--json", "--persist-to"])
        .arg(server().state_dir())
        .args(["--command", sql])
        .output()
        .expect("wrangler d1 execute runs");
    assert!(
        output.status.success(),
        "d1 execute: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).expect("d1 answers JSON");
    answer[0]["results"].as_array().cloned().unwrap_or_default()
}

#[test]
fn what_cannot_be_claimed() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    for domain in [
        "gmail.com",
        "GMail.com.",
        "outlook.com",
        "10.0.0.1",
        "[::1]",
        "localhost",
    ] {
        add(&owner, &slug, domain).expect(400, "domain_not_allowed");
    }
    for domain in ["exa mple.com", "", "-acme.example"] {
        let reply = add(&owner, &slug, domain).expect(400, "invalid_request");
        assert_eq!(reply.error_fields(), ["domain"]);
    }
    let free = create_org(&owner, "free");
    add(&owner, &free, &fresh_domain()).expect(409, "limit_reached");
    let member = add_member(&owner, &slug, "member");
    add(&member, &slug, &fresh_domain()).expect(403, "forbidden");
    add(&User::new("stranger"), &slug, &fresh_domain()).expect(404, "not_found");
}

#[test]
fn domains_are_normalised_and_carry_their_challenge() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let added = add(&owner, &slug, "  Bücher.Example. ").ok(201);
    assert_eq!(added["domain"], "xn--bcher-kva.example");
    assert_eq!(added["status"], "pending");
    assert_eq!(added["enrollment"], "off");
    assert_eq!(added["role"], "member");
    assert_eq!(added["teams"], json!([]));
    assert_eq!(added["verified_at"], Value::Null);
    assert_eq!(added["verification"]["type"], "dns_txt");
    assert_eq!(
        added["verification"]["name"],
        "_roster-challenge.xn--bcher-kva.example"
    );
    let value = added["verification"]["value"].as_str().unwrap();
    assert!(value.starts_with("roster-verification=") && value.len() > 40);
    // The same domain again, in either spelling, is the one the organization has.
    let again = add(&owner, &slug, "xn--bcher-kva.example").ok(200);
    assert_eq!(again["id"], added["id"]);
    let listed = get(&domains(&slug)).auth(&owner).send().ok(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(listed["next_cursor"], Value::Null);

    let id = id_of(&added);
    delete(&format!("{}/{id}", domains(&slug)))
        .auth(&owner)
        .send()
        .ok(204);
    verify(&owner, &slug, &id).expect(404, "not_found");
    let actions = audit_actions(&owner, &slug);
    assert!(actions.contains(&"domain.added".to_string()), "{actions:?}");
    assert!(
        actions.contains(&"domain.removed".to_string()),
        "{actions:?}"
    );
}

#[test]
fn verifying_finds_the_record_and_is_delivered() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let url = hooks().url("domains");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["domain.verified", "domain.failed"]}))
        .send()
        .ok(201);
    let domain = fresh_domain();
    let added = add(&owner, &slug, &domain).ok(201);
    let name = added["verification"]["name"].as_str().unwrap();
    let value = added["verification"]["value"].as_str().unwrap();
    // Other records at the name do not matter; the challenge is split over quoted strings.
    dns().set(
        name,
        Answer::Txt(vec!["v=spf1 -all".into(), value.to_string()]),
    );
    let done = verify(&owner, &slug, &id_of(&added)).ok(200);
    assert_eq!(done["status"], "verified");
    assert!(done["verified_at"].is_string() && done["last_checked_at"].is_string());
    assert_eq!(dns().asked(name), 1);
    // A verified domain is answered as it is, without asking again.
    verify(&owner, &slug, &id_of(&added)).ok(200);
    assert_eq!(dns().asked(name), 1);

    let hits = hooks().wait_for(&url, 1);
    assert_eq!(hits[0].json["type"], "domain.verified");
    assert_eq!(hits[0].json["data"]["domain"], domain.as_str());
    let actions = audit_actions(&owner, &slug);
    assert!(
        actions.contains(&"domain.verified".to_string()),
        "{actions:?}"
    );
}

#[test]
fn failed_verifications_say_what_they_found_and_change_nothing() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let added = add(&owner, &slug, &fresh_domain()).ok(201);
    let id = id_of(&added);
    let name = added["verification"]["name"].as_str().unwrap().to_string();

    let nothing = verify(&owner, &slug, &id).expect(409, "domain_verification_failed");
    assert!(nothing.json["detail"]
        .as_str()
        .unwrap()
        .contains("No TXT record"));
    dns().set(&name, Answer::Txt(vec!["roster-verification=wrong".into()]));
    let wrong = verify(&owner, &slug, &id).expect(409, "domain_verification_failed");
    assert!(wrong.json["detail"]
        .as_str()
        .unwrap()
        .contains("roster-verification=wrong"));

    for answer in [
        Answer::Slow(
            Duration::from_secs(8),
            vec![added["verification"]["value"].as_str().unwrap().into()],
        ),
        Answer::Garbage,
        Answer::Failure,
    ] {
        dns().set(&name, answer);
        verify(&owner, &slug, &id).expect(503, "dns_unavailable");
    }
    let row = domain_row(&owner, &slug, &id);
    assert_eq!(row["status"], "pending");
    assert_eq!(row["last_checked_at"], Value::Null);
    // Enrollment waits for verification.
    enroll(&owner, &slug, &id, json!({"enrollment": "auto_join"}))
        .expect(409, "domain_not_verified");
}

#[test]
fn a_domain_is_verified_by_one_organization() {
    let (a, b) = (User::new("a"), User::new("b"));
    let (slug_a, slug_b) = (create_org(&a, "pro"), create_org(&b, "pro"));
    let domain = fresh_domain();
    let added_a = add(&a, &slug_a, &domain).ok(201);
    let added_b = add(&b, &slug_b, &domain).ok(201);
    let name = added_a["verification"]["name"].as_str().unwrap();
    let values =
        [&added_a, &added_b].map(|d| d["verification"]["value"].as_str().unwrap().to_string());
    dns().set(name, Answer::Txt(values.to_vec()));
    verify(&a, &slug_a, &id_of(&added_a)).ok(200);
    verify(&b, &slug_b, &id_of(&added_b)).expect(409, "domain_taken");
    let c = User::new("c");
    let slug_c = create_org(&c, "business");
    add(&c, &slug_c, &domain).expect(409, "domain_taken");
}

#[test]
fn enrollment_rules() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let (_, id) = verified(&owner, &slug);
    for role in ["owner", "admin"] {
        let reply =
            enroll(&owner, &slug, &id, json!({"role": role})).expect(400, "invalid_request");
        assert_eq!(reply.error_fields(), ["role"]);
    }
    enroll(&owner, &slug, &id, json!({"role": "nosuchrole"})).expect(400, "invalid_request");
    let reply =
        enroll(&owner, &slug, &id, json!({"teams": ["nope"]})).expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["teams[0]"]);
    enroll(&owner, &slug, &id, json!({})).expect(400, "invalid_request");
    let set = enroll(
        &owner,
        &slug,
        &id,
        json!({"enrollment": "request", "role": "viewer"}),
    )
    .ok(200);
    assert_eq!(
        (set["enrollment"].as_str(), set["role"].as_str()),
        (Some("request"), Some("viewer"))
    );
    let before = audit_actions(&owner, &slug).len();
    // The same again changes and records nothing.
    enroll(&owner, &slug, &id, json!({"enrollment": "request"})).ok(200);
    assert_eq!(audit_actions(&owner, &slug).len(), before);
}

#[test]
fn auto_join_makes_a_member_with_the_domains_role_and_teams() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    post(&format!("/v1/orgs/{slug}/roles"))
        .auth(&owner)
        .json(&json!({"key": "support", "name": "Support", "permissions": ["org.read", "usage.consume"]}))
        .send()
        .ok(201);
    post(&format!("/v1/orgs/{slug}/teams"))
        .auth(&owner)
        .json(&json!({"name": "Eng"}))
        .send()
        .ok(201);
    let (domain, id) = verified(&owner, &slug);
    let set = enroll(
        &owner,
        &slug,
        &id,
        json!({"enrollment": "auto_join", "role": "support", "teams": ["eng"]}),
    )
    .ok(200);
    assert_eq!(set["teams"], json!(["eng"]));

    let ana = person_on(&domain);
    let listed = suggestions(&ana);
    let mine: Vec<_> = listed
        .iter()
        .filter(|s| s["organization"]["slug"] == slug.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{listed:?}");
    assert_eq!(mine[0]["enrollment"], "auto_join");
    assert_eq!(mine[0]["join_request"], Value::Null);

    let member = join(&ana, &slug).ok(200);
    assert_eq!(member["user_id"], ana.id.as_str());
    assert_eq!(member["joined_via"], "domain");
    assert_eq!(member["role"], "support");
    assert_eq!(
        member["teams"],
        json!([{"slug": "eng", "team_role": "member"}])
    );
    join(&ana, &slug).expect(409, "already_member");
    assert!(suggestions(&ana)
        .iter()
        .all(|s| s["organization"]["slug"] != slug.as_str()));

    // Someone else's domain, or an unverified email, finds no way in.
    join(&person_on(&fresh_domain()), &slug).expect(404, "not_found");
    let unverified = person_on(&domain).unverified();
    join(&unverified, &slug).expect(404, "not_found");
    assert!(suggestions(&unverified).is_empty());

    // Enrollment off closes the door.
    enroll(&owner, &slug, &id, json!({"enrollment": "off"})).ok(200);
    join(&person_on(&domain), &slug).expect(404, "not_found");
    let actions = audit_actions(&owner, &slug);
    assert!(actions.contains(&"member.added".to_string()));
    assert!(actions.contains(&"domain.updated".to_string()));
}

#[test]
fn parallel_auto_joins_take_the_last_seat_once() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let (domain, id) = verified(&owner, &slug);
    enroll(&owner, &slug, &id, json!({"enrollment": "auto_join"})).ok(200);
    // Pro has 5 seats: the owner and three joiners leave one.
    for _ in 0..3 {
        join(&person_on(&domain), &slug).ok(200);
    }
    let people: Vec<User> = (0..6).map(|_| person_on(&domain)).collect();
    let replies = in_parallel(people.len(), |i| join(&people[i], &slug));
    let joined = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        joined,
        1,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for reply in replies.into_iter().filter(|r| r.status != 200) {
        reply.expect(409, "seat_limit_reached");
    }
    assert_eq!(member_ids(&owner, &slug).len(), 5);
}

#[test]
fn join_requests_are_made_once_and_approved_or_denied() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let url = hooks().url("join-requests");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["join_request.created", "join_request.approved", "join_request.denied"]}))
        .send()
        .ok(201);
    let (domain, id) = verified(&owner, &slug);
    enroll(
        &owner,
        &slug,
        &id,
        json!({"enrollment": "request", "role": "viewer"}),
    )
    .ok(200);

    let ana = person_on(&domain);
    let request = join(&ana, &slug).ok(202);
    assert_eq!(request["status"], "pending");
    assert_eq!(request["email"], ana.email.as_str());
    let again = join(&ana, &slug).ok(200);
    assert_eq!(again["id"], request["id"]);
    let mine: Vec<_> = suggestions(&ana)
        .into_iter()
        .filter(|s| s["organization"]["slug"] == slug.as_str())
        .collect();
    assert_eq!(
        mine[0]["join_request"],
        json!({"id": request["id"], "status": "pending"})
    );

    let pending = get(&format!("/v1/orgs/{slug}/join-requests"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    // Members without `members.manage` cannot see or decide them.
    let viewer = add_member(&owner, &slug, "viewer");
    get(&format!("/v1/orgs/{slug}/join-requests"))
        .auth(&viewer)
        .send()
        .expect(403, "forbidden");
    let rid = id_of(&request);
    post(&format!("/v1/orgs/{slug}/join-requests/{rid}/approve"))
        .auth(&viewer)
        .send()
        .expect(403, "forbidden");

    let member = post(&format!("/v1/orgs/{slug}/join-requests/{rid}/approve"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(member["joined_via"], "join_request");
    assert_eq!(member["role"], "viewer");
    assert_eq!(member["user_id"], ana.id.as_str());
    post(&format!("/v1/orgs/{slug}/join-requests/{rid}/deny"))
        .auth(&owner)
        .send()
        .expect(409, "conflict");
    join(&ana, &slug).expect(409, "already_member");

    let bo = person_on(&domain);
    let bo_request = id_of(&join(&bo, &slug).ok(202));
    post(&format!("/v1/orgs/{slug}/join-requests/{bo_request}/deny"))
        .auth(&owner)
        .send()
        .ok(204);
    let denied = get(&format!("/v1/orgs/{slug}/join-requests?status=denied"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(denied["data"][0]["id"], bo_request.as_str());
    let all = get(&format!("/v1/orgs/{slug}/join-requests?status=all"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    get(&format!("/v1/orgs/{slug}/join-requests?status=maybe"))
        .auth(&owner)
        .send()
        .expect(400, "invalid_request");
    // After a denial, a new request may be made.
    join(&bo, &slug).ok(202);

    let events: Vec<String> = hooks()
        .wait_for(&url, 4)
        .iter()
        .map(|h| h.json["type"].as_str().unwrap().to_string())
        .collect();
    for event in [
        "join_request.created",
        "join_request.approved",
        "join_request.denied",
    ] {
        assert!(events.contains(&event.to_string()), "{events:?}");
    }
}

#[test]
fn join_request_approval_checks_the_seats() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let (domain, id) = verified(&owner, &slug);
    enroll(&owner, &slug, &id, json!({"enrollment": "request"})).ok(200);
    let requests: Vec<String> = (0..5)
        .map(|_| id_of(&join(&person_on(&domain), &slug).ok(202)))
        .collect();
    for rid in &requests[..4] {
        post(&format!("/v1/orgs/{slug}/join-requests/{rid}/approve"))
            .auth(&owner)
            .send()
            .ok(200);
    }
    post(&format!(
        "/v1/orgs/{slug}/join-requests/{}/approve",
        requests[4]
    ))
    .auth(&owner)
    .send()
    .expect(409, "seat_limit_reached");
}

#[test]
fn the_scheduled_job_verifies_and_fails_domains() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let url = hooks().url("rechecks");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["domain.verified", "domain.failed"]}))
        .send()
        .ok(201);

    // A pending domain whose record appears is verified by the job.
    let appearing = add(&owner, &slug, &fresh_domain()).ok(201);
    dns().publish(
        appearing["verification"]["name"].as_str().unwrap(),
        appearing["verification"]["value"].as_str().unwrap(),
    );
    // A pending domain older than 7 days fails.
    let stale = add(&owner, &slug, &fresh_domain()).ok(201);
    let eight_days_ago = now() - 8 * DAY;
    d1(&format!(
        "UPDATE domains SET created_at = {eight_days_ago} WHERE id = '{}'",
        id_of(&stale)
    ));
    // A verified domain whose record went missing fails once it has been missing 7 days.
    let (_, vanishing) = verified(&owner, &slug);
    enroll(
        &owner,
        &slug,
        &vanishing,
        json!({"enrollment": "auto_join"}),
    )
    .ok(200);
    let name = domain_row(&owner, &slug, &vanishing)["verification"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    dns().set(&name, Answer::Nothing);
    d1(&format!(
        "UPDATE domains SET last_checked_at = {} WHERE id = '{vanishing}'",
        now() - 2 * DAY
    ));

    server().run_cron();
    assert_eq!(
        domain_row(&owner, &slug, &id_of(&appearing))["status"],
        "verified"
    );
    assert_eq!(
        domain_row(&owner, &slug, &id_of(&stale))["status"],
        "failed"
    );
    let missing = d1(&format!(
        "SELECT missing_since FROM domains WHERE id = '{vanishing}'"
    ));
    assert!(missing[0]["missing_since"].is_i64(), "{missing:?}");
    assert_eq!(domain_row(&owner, &slug, &vanishing)["status"], "verified");

    d1(&format!(
        "UPDATE domains SET missing_since = {eight_days_ago}, last_checked_at = {}
          WHERE id = '{vanishing}'",
        now() - 2 * DAY
    ));
    server().run_cron();
    let gone = domain_row(&owner, &slug, &vanishing);
    assert_eq!(
        (gone["status"].as_str(), gone["enrollment"].as_str()),
        (Some("failed"), Some("off"))
    );
    // Running again changes nothing more.
    server().run_cron();

    let events: Vec<(String, String)> = hooks()
        .wait_for(&url, 4)
        .iter()
        .map(|h| {
            (
                h.json["type"].as_str().unwrap().to_string(),
                h.json["data"]["domain"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        events.iter().filter(|(t, _)| t == "domain.failed").count(),
        2,
        "{events:?}"
    );
    // One verified on request (`vanishing`), one by the job (`appearing`).
    assert_eq!(
        events
            .iter()
            .filter(|(t, _)| t == "domain.verified")
            .count(),
        2,
        "{events:?}"
    );
}
