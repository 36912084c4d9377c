//! Invitation emails when the provider fails: queued, retried by the scheduled job, sent
//! once; given up after the last attempt. This server allows two attempts per email.

mod support;

use support::*;

fn server_with_two_attempts() -> &'static Server {
    server_with(Options {
        vars: vec![("EMAIL_MAX_ATTEMPTS".into(), "2".into())],
        ..Options::default()
    })
}

#[test]
fn a_failed_send_is_queued_and_delivered_once_by_the_job() {
    let _turn = take_turn();
    let server = server_with_two_attempts();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("flaky");
    server.mail.fail_next(&invitee.email, 1);
    let created = create_invitation(&owner, &slug, &invitee.email, "member");
    assert_eq!(created["email_delivery"], "queued");
    assert!(server.mail.to(&invitee.email).is_empty());
    let id = created["id"].as_str().unwrap();
    assert_eq!(invitation_of(&owner, &slug, id)["email_delivery"], "queued");

    server.run_cron();
    let emails = server.mail.wait_for(&invitee.email, 1);
    assert_eq!(invitation_of(&owner, &slug, id)["email_delivery"], "sent");
    // Running the job again sends nothing more.
    server.run_cron();
    server.run_cron();
    assert_eq!(
        server.mail.to(&invitee.email).len(),
        1,
        "delivered exactly once"
    );
    // The link in the delivered email works.
    let token = emails[0].token();
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .ok(200);
}

#[test]
fn after_the_last_attempt_the_email_is_failed() {
    let _turn = take_turn();
    let server = server_with_two_attempts();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("bounced");
    server.mail.fail_always(&invitee.email);
    let created = create_invitation(&owner, &slug, &invitee.email, "member");
    assert_eq!(created["email_delivery"], "queued");
    let id = created["id"].as_str().unwrap();
    server.run_cron();
    assert_eq!(invitation_of(&owner, &slug, id)["email_delivery"], "failed");
    let refused = server.mail.refused();
    server.run_cron();
    assert_eq!(server.mail.refused(), refused, "no attempt after the last");
    // The invitation itself stands, and resending tries again.
    server.mail.recover(&invitee.email);
    let resent = post(&format!("/v1/orgs/{slug}/invitations/{id}/resend"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(resent["email_delivery"], "sent");
    server.mail.wait_for(&invitee.email, 1);
}

#[test]
fn a_canceled_invitation_is_not_retried() {
    let _turn = take_turn();
    let server = server_with_two_attempts();
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("never");
    server.mail.fail_next(&invitee.email, 1);
    let created = create_invitation(&owner, &slug, &invitee.email, "member");
    let id = created["id"].as_str().unwrap();
    delete(&format!("/v1/orgs/{slug}/invitations/{id}"))
        .auth(&owner)
        .send()
        .ok(204);
    server.run_cron();
    assert!(server.mail.to(&invitee.email).is_empty());
}
