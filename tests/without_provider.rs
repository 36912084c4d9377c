//! A server without an email provider, and with invitations that live three seconds:
//! emails go to the log (`logged`), and invitations expire — at once for every reader, and
//! for good when the scheduled job runs.

mod support;

use serde_json::json;
use std::time::Duration;
use support::*;

fn local_server() -> &'static Server {
    server_with(Options {
        log_emails: true,
        invite_ttl_seconds: Some(3),
        ..Options::default()
    })
}

/// The token of the last invitation link the Worker printed for `email`, waiting for one
/// other than `previous` (the log is written asynchronously).
fn token_from_log(server: &Server, email: &str, previous: Option<&str>) -> String {
    for _ in 0..100 {
        let log = server.log();
        let token = log
            .split("email (no EMAIL_API_URL")
            .filter(|block| block.contains(&format!("to: {email}")))
            .last()
            .and_then(|block| {
                block
                    .lines()
                    .find_map(|l| l.trim().split("/invite/").nth(1))
            })
            .map(|t| t.trim().to_string());
        if let Some(token) = token.filter(|t| Some(t.as_str()) != previous) {
            return token;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no new invitation for {email} in the log");
}

#[test]
fn emails_are_printed_to_the_log() {
    let server = local_server();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("logged");
    let created = create_invitation(&owner, &slug, &invitee.email, "member");
    assert_eq!(created["email_delivery"], "logged");
    let token = token_from_log(server, &invitee.email, None);
    assert_eq!(
        get(&format!("/v1/invitations/{token}")).send().ok(200)["status"],
        "pending"
    );
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .ok(200);
}

#[test]
fn invitations_expire_on_time_and_the_job_makes_it_final() {
    let server = local_server();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("late");
    let created = create_invitation(&owner, &slug, &invitee.email, "member");
    let id = created["id"].as_str().unwrap();
    let token = token_from_log(server, &invitee.email, None);
    // Cached in KV while pending (KV keeps it for at least a minute).
    assert_eq!(
        get(&format!("/v1/invitations/{token}")).send().ok(200)["status"],
        "pending"
    );
    std::thread::sleep(Duration::from_secs(4));

    // Expired for everyone at once, before the job runs.
    assert_eq!(
        get(&format!("/v1/invitations/{token}")).send().ok(200)["status"],
        "expired"
    );
    let page = get(&format!("/invite/{token}")).send();
    assert_eq!(page.status, 410);
    assert!(page.text.contains("expired"));
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .expect(410, "invitation_expired");
    post(&format!("/v1/orgs/{slug}/invitations/{id}/resend"))
        .auth(&owner)
        .send()
        .expect(410, "invitation_expired");
    let listed = get(&format!("/v1/orgs/{slug}/invitations?status=expired"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(listed["data"][0]["id"], id);
    assert_eq!(listed["data"][0]["status"], "expired");
    assert_eq!(
        get(&format!("/v1/orgs/{slug}/invitations"))
            .auth(&owner)
            .send()
            .ok(200)["data"],
        json!([])
    );

    server.run_cron();
    server.run_cron();
    let one = get(&format!("/v1/orgs/{slug}/invitations/{id}"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(one["status"], "expired");
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .expect(410, "invitation_expired");
    // The address can be invited again, with a fresh link.
    create_invitation(&owner, &slug, &invitee.email, "member");
}

#[test]
fn a_stale_pending_invitation_is_replaced_when_the_address_is_invited_again() {
    let server = local_server();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("again");
    let first = create_invitation(&owner, &slug, &invitee.email, "member");
    let old_token = token_from_log(server, &invitee.email, None);
    std::thread::sleep(Duration::from_secs(4));
    // Not yet marked by the job, but past its time: no `invitation_pending`.
    let second = create_invitation(&owner, &slug, &invitee.email, "member");
    assert_ne!(first["id"], second["id"]);
    let all = get(&format!("/v1/orgs/{slug}/invitations?status=all"))
        .auth(&owner)
        .send()
        .ok(200);
    let statuses: Vec<_> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("expired"), json!("pending")]);
    let new_token = token_from_log(server, &invitee.email, Some(&old_token));
    assert_ne!(new_token, old_token);
    post(&format!("/v1/invitations/{new_token}/accept"))
        .auth(&invitee)
        .send()
        .ok(200);
}

#[test]
fn expiry_is_announced_once_however_often_the_job_runs() {
    local_server();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let url = support::hooks::hooks().url("expired");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["invitation.expired"]}))
        .send()
        .ok(201);
    let invitation = create_invitation(&owner, &slug, &User::new("lapsed").email, "member");
    std::thread::sleep(Duration::from_secs(4));
    let server = local_server();
    server.run_cron();
    server.run_cron();
    let hits = support::hooks::hooks().wait_for(&url, 1);
    assert_eq!(hits[0].json["data"]["id"], invitation["id"]);
    std::thread::sleep(Duration::from_millis(500));
    server.run_cron();
    assert_eq!(
        support::hooks::hooks().hits(&url).len(),
        1,
        "announced once"
    );
    let log = get(&format!("/v1/orgs/{slug}/audit-log"))
        .auth(&owner)
        .send()
        .ok(200);
    let expired: Vec<_> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "invitation.expired")
        .collect();
    assert_eq!(expired.len(), 1, "recorded once");
    assert_eq!(expired[0]["actor"], json!({"type": "system", "id": null}));
    assert_eq!(
        expired[0]["target"],
        json!({"type": "invitation", "id": invitation["id"]})
    );
}
