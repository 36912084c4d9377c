//! Retries through the `OUTBOX` Queue (bound in wrangler.toml; `wrangler dev` runs it
//! locally): a failed email or webhook is retried by the Queue's consumer without the
//! scheduled job, once; a message whose row is already settled does nothing; a row that
//! failed again waits its delay, for the Queue and the job alike.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::hooks::hooks;
use support::*;

/// Longer than a message's way through the local Queue: its delay after the first failure
/// (the schedule's 0 s, plus 1 s) and the batch timeout (5 s), with room to spare.
const QUEUE_ROUND: Duration = Duration::from_secs(9);

/// The outbox rows of `kind` whose subject (invitation or endpoint) is `subject`.
fn outbox(kind: &str, subject: &str) -> Vec<Value> {
    server().sql(&format!(
        "SELECT status, attempts, next_attempt_at FROM outbox
          WHERE kind = '{kind}' AND subject_id = '{subject}'"
    ))
}

fn create_hook(owner: &User, slug: &str, url: &str) -> Value {
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(owner)
        .json(&json!({"url": url, "events": ["organization.updated"]}))
        .send()
        .ok(201)
}

#[test]
fn an_email_whose_first_send_failed_is_retried_through_the_queue_once() {
    let _turn = take_turn();
    let server = server();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("flaky");
    server.mail.fail_next(&invitee.email, 1);
    let created = create_invitation(&owner, &slug, &invitee.email, "member");
    assert_eq!(created["email_delivery"], "queued");
    let id = created["id"].as_str().unwrap();

    // No job run: the Queue's consumer sends it.
    let emails = server.mail.wait_for(&invitee.email, 1);
    eventually("the email to be recorded as sent", || {
        invitation_of(&owner, &slug, id)["email_delivery"] == "sent"
    });
    std::thread::sleep(QUEUE_ROUND);
    assert_eq!(server.mail.to(&invitee.email).len(), 1, "sent once");
    let rows = outbox("email", id);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (&rows[0]["status"], &rows[0]["attempts"]),
        (&json!("done"), &json!(2))
    );
    // The retry's link is the one that works.
    post(&format!("/v1/invitations/{}/accept", emails[0].token()))
        .auth(&invitee)
        .send()
        .ok(200);
}

#[test]
fn a_webhook_that_failed_once_is_delivered_by_the_queue_after_its_delay() {
    let _turn = take_turn();
    let owner = User::new("owner");
    let slug = create_org(&owner, "free");
    let url = hooks().url("queued");
    let hook = create_hook(&owner, &slug, &url);
    let hook_id = hook["id"].as_str().unwrap();
    let secret = hook["secret"].as_str().unwrap();
    hooks().fail(&url);
    rename_org(&owner, &slug, "Refused first");
    let refused = hooks().wait_for_hits(&url, 1);
    let failed_at = Instant::now();
    hooks().recover(&url);

    // No job run: the Queue's consumer sends it, not before the schedule's delay (none
    // after a first failure) and the message's second.
    let delivered = hooks().wait_for(&url, 1);
    assert!(failed_at.elapsed() >= Duration::from_millis(500));
    assert_eq!(delivered[0].event_id, refused[0].event_id);
    assert!(delivered[0].signed_with(secret));
    std::thread::sleep(QUEUE_ROUND);
    assert_eq!(hooks().hits(&url).len(), 2, "one refused, one delivered");
    let rows = outbox("webhook", hook_id);
    assert_eq!(
        (&rows[0]["status"], &rows[0]["attempts"]),
        (&json!("done"), &json!(2))
    );
    let listed = get(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(listed["data"][0]["failure_count"], 0);
}

#[test]
fn a_message_for_a_row_already_settled_does_nothing() {
    let _turn = take_turn();
    let server = server();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("raced");
    let url = hooks().url("raced");
    let hook = create_hook(&owner, &slug, &url);
    let hook_id = hook["id"].as_str().unwrap();
    server.mail.fail_next(&invitee.email, 1);
    create_invitation(&owner, &slug, &invitee.email, "member");
    hooks().fail(&url);
    rename_org(&owner, &slug, "Refused first");
    eventually("the failure to be recorded", || {
        outbox("webhook", hook_id)[0]["attempts"] == 1
    });
    hooks().recover(&url);

    // The job gets to both rows before their messages do; the messages then find them
    // settled.
    server.run_cron();
    server.mail.wait_for(&invitee.email, 1);
    hooks().wait_for(&url, 1);
    std::thread::sleep(QUEUE_ROUND);
    assert!(
        server.log().contains("QUEUE roster-outbox"),
        "the messages came"
    );
    assert_eq!(server.mail.to(&invitee.email).len(), 1, "one email");
    assert_eq!(hooks().hits(&url).len(), 2, "one refused, one delivered");
}

#[test]
fn a_row_that_failed_again_waits_its_delay_in_the_queue_and_the_job() {
    let _turn = take_turn();
    let server = server();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("twice");
    server.mail.fail_next(&invitee.email, 2);
    let started = now();
    let created = create_invitation(&owner, &slug, &invitee.email, "member");
    let id = created["id"].as_str().unwrap();
    let refused = server.mail.refused();

    // The Queue's consumer makes the second attempt, which fails too: the next is due
    // 5 minutes later, and neither the Queue nor the job makes it sooner.
    eventually("the second attempt to be recorded", || {
        let row = outbox("email", id).remove(0);
        row["attempts"] == 2 && row["next_attempt_at"].as_i64() >= Some(started + 290)
    });
    assert_eq!(outbox("email", id)[0]["status"], "pending");
    server.run_cron();
    std::thread::sleep(QUEUE_ROUND);
    assert_eq!(server.mail.refused(), refused + 1, "one attempt more");
    assert!(server.mail.to(&invitee.email).is_empty());
    assert_eq!(invitation_of(&owner, &slug, id)["email_delivery"], "queued");
}
