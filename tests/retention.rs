//! What grows without bound has a bound: the scheduled job deletes audit entries and usage
//! older than `RETENTION_DAYS`, and settled deliveries and ended invitations older than 30
//! days, and keeps everything younger. Rows are aged in local D1 itself.

mod support;

use serde_json::{json, Value};
use support::hooks::hooks;
use support::*;

const DAY: i64 = 86_400;

fn count(sql: &str) -> i64 {
    server().sql(sql)[0]["n"].as_i64().expect("a count")
}

#[test]
fn the_job_deletes_what_is_older_than_its_retention_and_keeps_the_rest() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let org = get(&format!("/v1/orgs/{slug}")).auth(&owner).send().ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = hooks().url("retention");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["invitation.created", "invitation.canceled"]}))
        .send()
        .ok(201);
    // Two invitations, both canceled: ended, their deliveries settled.
    for _ in 0..2 {
        let invitation = create_invitation(&owner, &slug, &User::new("guest").email, "member");
        delete(&format!(
            "/v1/orgs/{slug}/invitations/{}",
            invitation["id"].as_str().unwrap()
        ))
        .auth(&owner)
        .send()
        .ok(204);
    }
    hooks().wait_for(&url, 4);
    for key in ["a", "b"] {
        post(&format!("/v1/orgs/{slug}/usage"))
            .auth(&owner)
            .header("idempotency-key", key)
            .json(&json!({"amount": 1, "feature": "export"}))
            .send()
            .ok(201);
    }
    let of_org = format!("org_id = '{org}'");
    let before = |table: &str, extra: &str| {
        count(&format!(
            "SELECT count(*) AS n FROM {table} WHERE {of_org} {extra}"
        ))
    };
    let audit = before("audit_log", "");
    assert!(audit >= 7, "{audit}");
    assert_eq!(before("invitations", ""), 2);
    assert_eq!(before("usage_events", ""), 2);
    let settled = before("outbox", "AND status <> 'pending'");
    assert!(settled >= 4, "{settled}");

    // Age one of each past its retention, and the other just short of it.
    let seq = |table: &str| {
        server().sql(&format!(
            "SELECT seq FROM {table} WHERE {of_org} ORDER BY seq LIMIT 1"
        ))[0]["seq"]
            .as_i64()
            .unwrap()
    };
    let age = |table: &str, column: &str, days: i64, which: &str| {
        server().sql(&format!(
            "UPDATE {table} SET {column} = {column} - {} WHERE {of_org} AND {which}",
            days * DAY
        ));
    };
    let (first_invitation, first_usage) = (seq("invitations"), seq("usage_events"));
    age(
        "invitations",
        "ended_at",
        31,
        &format!("seq = {first_invitation}"),
    );
    age(
        "invitations",
        "ended_at",
        29,
        &format!("seq <> {first_invitation}"),
    );
    age(
        "usage_events",
        "created_at",
        401,
        &format!("seq = {first_usage}"),
    );
    age(
        "usage_events",
        "created_at",
        399,
        &format!("seq <> {first_usage}"),
    );
    age("audit_log", "at", 401, "action = 'invitation.canceled'");
    age(
        "outbox",
        "done_at",
        31,
        "kind = 'webhook' AND status <> 'pending'",
    );
    server().run_cron();

    assert_eq!(before("invitations", ""), 1);
    assert_eq!(before("usage_events", ""), 1);
    assert_eq!(before("audit_log", "AND action = 'invitation.canceled'"), 0);
    assert_eq!(before("audit_log", ""), audit - 2);
    assert_eq!(
        before("outbox", "AND kind = 'webhook' AND status <> 'pending'"),
        0
    );
    // What is left is what the API shows.
    let log: Vec<Value> = audit_log(&owner, &slug);
    assert!(log.iter().all(|e| e["action"] != "invitation.canceled"));
    let invitations = get(&format!("/v1/orgs/{slug}/invitations?status=all"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(invitations["data"].as_array().unwrap().len(), 1);
}
