//! Invitations, from the email to the seat: create (one and bulk), list, resend, cancel,
//! the link's preview and page, accept and decline, and the races around them.

mod support;

use serde_json::{json, Value};
use support::*;

fn invitations(slug: &str) -> String {
    format!("/v1/orgs/{slug}/invitations")
}

#[test]
fn a_new_invitation_is_pending_names_its_inviter_and_lasts_seven_days() {
    let Invited {
        owner,
        invitee,
        invitation,
        ..
    } = invited();
    assert_eq!(invitation["email"], invitee.email);
    assert_eq!(invitation["role"], "member");
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["email_delivery"], "sent");
    assert_eq!(invitation["invited_by"]["user_id"], owner.id);
    assert_eq!(invitation["invited_by"]["email"], owner.email);
    assert_eq!(invitation["invited_by"]["name"], "Olivia Owner");
    assert_eq!(invitation["accepted_at"], Value::Null);
    let created =
        roster::domain::Timestamp::parse_rfc3339(invitation["created_at"].as_str().unwrap())
            .unwrap();
    let expires =
        roster::domain::Timestamp::parse_rfc3339(invitation["expires_at"].as_str().unwrap())
            .unwrap();
    assert_eq!(expires.0 - created.0, 604_800, "seven days by default");
}

#[test]
fn the_email_reaches_the_provider_in_its_format_with_the_link_on_its_own_line() {
    let Invited {
        slug,
        invitee,
        token,
        ..
    } = invited();
    let emails = server().mail.wait_for(&invitee.email, 1);
    assert_eq!(emails.len(), 1);
    let email = &emails[0];
    assert_eq!(email.to, std::slice::from_ref(&invitee.email));
    assert_eq!(email.from, "Roster Tests <invites@test.roster>");
    assert_eq!(email.authorization.as_deref(), Some("Bearer re_test_key"));
    assert!(email
        .idempotency_key
        .as_deref()
        .is_some_and(|k| !k.is_empty()));
    assert!(
        email.subject.contains("Olivia Owner") && email.subject.contains(&format!("Org {slug}"))
    );
    assert_eq!(email.link(), format!("{}/invite/{token}", server().base));
    assert!(email.html.contains(&token));
}

#[test]
fn the_token_is_in_no_answer_of_the_api() {
    let Invited {
        owner,
        slug,
        invitation,
        token,
        ..
    } = invited();
    assert!(!invitation.to_string().contains(&token));
    let listed = get(&invitations(&slug)).auth(&owner).send();
    assert!(!listed.text.contains(&token));
}

#[test]
fn the_preview_shows_the_invitation_but_neither_full_address() {
    let Invited {
        owner,
        slug,
        invitee,
        invitation,
        token,
    } = invited();
    let preview = get(&format!("/v1/invitations/{token}")).send().ok(200);
    assert_eq!(preview["organization"]["slug"], slug);
    assert_eq!(preview["organization"]["name"], format!("Org {slug}"));
    assert_eq!(preview["role"], "member");
    assert_eq!(preview["invited_by"], json!({"name": "Olivia Owner"}));
    assert_eq!(preview["status"], "pending");
    assert_eq!(preview["expires_at"], invitation["expires_at"]);
    let hint = preview["email_hint"].as_str().unwrap();
    assert!(hint.starts_with(&invitee.email[..1]) && hint.contains("***@example.com"));
    assert!(!preview.to_string().contains(&invitee.email));
    assert!(!preview.to_string().contains(&owner.email));
}

#[test]
fn the_landing_page_shows_the_invitation_uncached_and_locked_down() {
    let Invited { slug, token, .. } = invited();
    let page = get(&format!("/invite/{token}")).send();
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("x-robots-tag"), Some("noindex"));
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .starts_with("default-src 'none'"));
    assert!(page.text.contains(&format!("Org {slug}")));
    assert!(page.text.contains("Olivia Owner"));
    assert!(page.text.contains("as a member"));
    assert!(page.text.contains(&format!(
        "https://app.test.roster/accept-invite?token={token}"
    )));
}

#[test]
fn accepting_makes_the_invitee_a_member_with_the_invited_role() {
    let Invited {
        owner,
        slug,
        invitee,
        token,
        ..
    } = invited();
    let member = post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .ok(200);
    assert_eq!(member["user_id"], invitee.id);
    assert_eq!(member["email"], invitee.email);
    assert_eq!(member["role"], "member");
    assert_eq!(member["grants"], json!([]));
    assert_eq!(
        member_ids(&owner, &slug),
        [owner.id.clone(), invitee.id.clone()]
    );
    let org = get(&format!("/v1/orgs/{slug}"))
        .auth(&invitee)
        .send()
        .ok(200);
    assert_eq!(org["role"], "member");
}

#[test]
fn an_accepted_invitation_is_used_up_everywhere() {
    let Invited {
        owner,
        slug,
        invitee,
        invitation,
        token,
    } = invited();
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .ok(200);
    let accepted = get(&format!("{}?status=accepted", invitations(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(accepted["data"][0]["id"], invitation["id"]);
    assert_eq!(accepted["data"][0]["status"], "accepted");
    assert!(accepted["data"][0]["accepted_at"].is_string());
    let preview = get(&format!("/v1/invitations/{token}")).send().ok(200);
    assert_eq!(preview["status"], "accepted");
    let page = get(&format!("/invite/{token}")).send();
    assert_eq!(page.status, 410);
    assert!(page.text.contains("already accepted"));
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .expect(410, "invitation_already_used");
    assert_eq!(
        server().mail.to(&invitee.email).len(),
        1,
        "exactly one email"
    );
}

#[test]
fn what_the_link_and_accepting_cost() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("costly");
    let (_, token) = invite(&owner, &slug, &invitee.email, "member");
    // The preview is cached in KV when the invitation is created: one read, no D1.
    let preview = get(&format!("/v1/invitations/{token}")).send();
    assert_eq!(preview.status, 200);
    assert_eq!((preview.kv_reads(), preview.round_trips()), (1, 0));
    // Accepting asks D1 only: a read, then the guarded write.
    let accepted = post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send();
    assert_eq!(accepted.status, 200);
    assert_eq!((accepted.kv_reads(), accepted.round_trips()), (0, 2));
}

#[test]
fn creating_invitations_checks_the_address_the_role_and_the_seats() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let path = invitations(&slug);
    for bad in [
        "not-an-email",
        "a@b",
        "x@example.com\r\nBcc: eve@example.com",
        "alıce@example.com",
        " @example.com",
    ] {
        let reply = post(&path)
            .auth(&owner)
            .json(&json!({"email": bad, "role": "member"}))
            .send()
            .expect(400, "invalid_request");
        assert_eq!(reply.error_fields(), ["email"], "{bad:?}");
    }
    for role in ["owner", "boss"] {
        let reply = post(&path)
            .auth(&owner)
            .json(&json!({"email": "someone@example.com", "role": role}))
            .send()
            .expect(400, "invalid_request");
        assert_eq!(reply.error_fields(), ["role"], "{role}");
    }
    let reply = post(&path)
        .auth(&owner)
        .json(&json!({"email": "someone@example.com", "role": "member", "team": "x"}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["team"]);
    // The pro plan has no admins or viewers.
    post(&path)
        .auth(&owner)
        .json(&json!({"email": "someone@example.com", "role": "admin"}))
        .send()
        .expect(409, "role_not_available");
    // Already pending; already a member.
    let invitee = User::new("invitee");
    invite(&owner, &slug, &invitee.email, "member");
    post(&path)
        .auth(&owner)
        .json(&json!({"email": invitee.email.to_uppercase(), "role": "member"}))
        .send()
        .expect(409, "invitation_pending");
    let member = add_member(&owner, &slug, "member");
    post(&path)
        .auth(&owner)
        .json(&json!({"email": member.email, "role": "member"}))
        .send()
        .expect(409, "already_member");
    // Members may not invite.
    post(&path)
        .auth(&member)
        .json(&json!({"email": "x@example.com", "role": "member"}))
        .send()
        .expect(403, "forbidden");
    // Strangers learn nothing.
    post(&path)
        .auth(&User::new("stranger"))
        .json(&json!({"email": "x@example.com", "role": "member"}))
        .send()
        .expect(404, "not_found");
}

#[test]
fn a_full_organization_cannot_invite_but_pending_invitations_take_no_seat() {
    let owner = User::new("owner");
    let free = create_org(&owner, "free");
    let reply = post(&invitations(&free))
        .auth(&owner)
        .json(&json!({"email": "someone@example.com", "role": "member"}))
        .send()
        .expect(409, "seat_limit_reached");
    assert!(reply.json["detail"].as_str().unwrap().contains("seats"));
    // On pro (5 seats), ten pending invitations are fine while one seat is free.
    let pro = create_org(&owner, "pro");
    for i in 0..10 {
        invite(
            &owner,
            &pro,
            &format!("{}-{i}@example.com", unique("p")),
            "member",
        );
    }
}

#[test]
fn admins_invite_members_and_viewers_but_only_the_owner_invites_admins() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    invite(&admin, &slug, &User::new("m").email, "member");
    invite(&admin, &slug, &User::new("v").email, "viewer");
    post(&invitations(&slug))
        .auth(&admin)
        .json(&json!({"email": User::new("a").email, "role": "admin"}))
        .send()
        .expect(403, "forbidden");
    invite(&owner, &slug, &User::new("a").email, "admin");
}

#[test]
fn grants_in_an_invitation_are_checked() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let reply = post(&invitations(&slug))
        .auth(&owner)
        .json(&json!({"email": "g@example.com", "role": "member",
                      "grants": [{"resource_id": "2b8e7c2e-4f57-4bb0-9a4c-2a4f1f7f0a11", "level": "write"}]}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["grants[0].resource_id"]);
    let reply = post(&invitations(&slug))
        .auth(&owner)
        .json(&json!({"email": "g@example.com", "role": "member",
                      "grants": [{"resource_id": "r", "level": "superpower"}, {"nope": 1}]}))
        .send()
        .expect(400, "invalid_request");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "grants[0].level",
            "grants[1].level",
            "grants[1].nope",
            "grants[1].resource_id"
        ]
    );
    post(&invitations(&slug))
        .auth(&owner)
        .json(&json!({"email": "g@example.com", "role": "viewer",
                      "grants": [{"resource_id": "r", "level": "write"}]}))
        .send()
        .expect(409, "grant_exceeds_role");
}

#[test]
fn bulk_invitations_are_judged_one_by_one() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let member = add_member(&owner, &slug, "member");
    let fresh: Vec<String> = (0..3)
        .map(|i| format!("{}-{i}@example.com", unique("bulk")))
        .collect();
    let reply = post(&format!("{}/bulk", invitations(&slug)))
        .auth(&owner)
        .json(&json!({"invitations": [
            {"email": fresh[0], "role": "member"},
            {"email": "broken", "role": "member"},
            {"email": member.email, "role": "member"},
            {"email": fresh[1].to_uppercase(), "role": "member"},
            {"email": fresh[1], "role": "member"},
            {"email": fresh[2], "role": "admin"},
        ]}))
        .send()
        .ok(200);
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(results[0]["invitation"]["email"], fresh[0]);
    assert_eq!(results[0]["email"], fresh[0]);
    assert_eq!(results[1]["error"]["code"], "invalid_request");
    assert_eq!(results[1]["email"], "broken");
    assert_eq!(results[2]["error"]["code"], "already_member");
    assert_eq!(results[3]["invitation"]["email"], fresh[1]);
    assert_eq!(results[4]["error"]["code"], "invitation_pending");
    assert_eq!(results[5]["error"]["code"], "role_not_available");
    for (i, result) in results.iter().enumerate() {
        assert!(
            result.get("invitation").is_some() != result.get("error").is_some(),
            "{i}"
        );
    }
    server().mail.wait_for(&fresh[0], 1);
    server().mail.wait_for(&fresh[1], 1);
    assert!(server().mail.to(&fresh[2]).is_empty());

    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"email": format!("x{i}@example.com"), "role": "member"}))
        .collect();
    let reply = post(&format!("{}/bulk", invitations(&slug)))
        .auth(&owner)
        .json(&json!({"invitations": too_many}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["invitations"]);
    post(&format!("{}/bulk", invitations(&slug)))
        .auth(&owner)
        .json(&json!({"invitations": []}))
        .send()
        .expect(400, "invalid_request");
    let not_objects = json!([{"email": "y@example.com", "role": "member"}, [null], "z"]);
    let reply = post(&format!("{}/bulk", invitations(&slug)))
        .auth(&owner)
        .json(&json!({ "invitations": not_objects }))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(
        reply.error_fields(),
        ["invitations[1]", "invitations[2]"],
        "an item that is no object makes the whole request malformed"
    );
    assert!(server().mail.to("y@example.com").is_empty());
    post(&format!("{}/bulk", invitations(&slug)))
        .auth(&member)
        .json(&json!({"invitations": [{"email": "x@example.com", "role": "member"}]}))
        .send()
        .expect(403, "forbidden");
}

#[test]
fn a_hundred_invitations_in_one_request() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let prefix = unique("hundred");
    let list: Vec<Value> = (0..100)
        .map(|i| json!({"email": format!("{prefix}-{i}@example.com"), "role": "member"}))
        .collect();
    let reply = post(&format!("{}/bulk", invitations(&slug)))
        .auth(&owner)
        .json(&json!({"invitations": list}))
        .send()
        .ok(200);
    let results = reply["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);
    assert!(results
        .iter()
        .all(|r| r["invitation"]["status"] == "pending"));
    let pending = get(&format!("{}?limit=100", invitations(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(pending["data"].as_array().unwrap().len(), 100);
    server()
        .mail
        .wait_for(&format!("{prefix}-99@example.com"), 1);
}

#[test]
fn invitations_are_listed_by_status() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let (accepted, token) = invite(&owner, &slug, &User::new("a").email, "member");
    let a_user = User {
        email: accepted["email"].as_str().unwrap().to_string(),
        ..User::new("a")
    };
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&a_user)
        .send()
        .ok(200);
    let (canceled, _) = invite(&owner, &slug, &User::new("c").email, "member");
    delete(&format!(
        "{}/{}",
        invitations(&slug),
        canceled["id"].as_str().unwrap()
    ))
    .auth(&owner)
    .send()
    .ok(204);
    let (declined, token) = invite(&owner, &slug, &User::new("d").email, "member");
    let d_user = User {
        email: declined["email"].as_str().unwrap().to_string(),
        ..User::new("d")
    };
    post(&format!("/v1/invitations/{token}/decline"))
        .auth(&d_user)
        .send()
        .ok(204);
    let (pending, _) = invite(&owner, &slug, &User::new("p").email, "member");

    let ids = |status: &str| -> Vec<Value> {
        let path = if status.is_empty() {
            invitations(&slug)
        } else {
            format!("{}?status={status}", invitations(&slug))
        };
        get(&path).auth(&owner).send().ok(200)["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].clone())
            .collect()
    };
    assert_eq!(ids(""), [pending["id"].clone()]);
    assert_eq!(ids("pending"), [pending["id"].clone()]);
    assert_eq!(ids("accepted"), [accepted["id"].clone()]);
    assert_eq!(ids("canceled"), [canceled["id"].clone()]);
    assert_eq!(ids("declined"), [declined["id"].clone()]);
    assert!(ids("expired").is_empty());
    assert_eq!(ids("all").len(), 4);
    let reply = get(&format!("{}?status=lost", invitations(&slug)))
        .auth(&owner)
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["status"]);
    // Pages.
    let first = get(&format!("{}?status=all&limit=3", invitations(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(first["data"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(&format!(
        "{}?status=all&limit=3&cursor={cursor}",
        invitations(&slug)
    ))
    .auth(&owner)
    .send()
    .ok(200);
    assert_eq!(second["data"][0]["id"], pending["id"]);
    assert_eq!(second["next_cursor"], Value::Null);
    // One invitation by id.
    let one = get(&format!(
        "{}/{}",
        invitations(&slug),
        declined["id"].as_str().unwrap()
    ))
    .auth(&owner)
    .send()
    .ok(200);
    assert_eq!(one["status"], "declined");
}

#[test]
fn resending_replaces_the_token_and_is_limited_to_once_a_minute() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("resend");
    let (invitation, old_token) = invite(&owner, &slug, &invitee.email, "member");
    let id = invitation["id"].as_str().unwrap();
    let resend = format!("{}/{id}/resend", invitations(&slug));

    let resent = post(&resend).auth(&owner).send().ok(200);
    assert_eq!(resent["id"], invitation["id"]);
    assert_eq!(resent["status"], "pending");
    assert_eq!(resent["email_delivery"], "sent");
    assert!(resent["expires_at"].as_str() >= invitation["expires_at"].as_str());
    let emails = server().mail.wait_for(&invitee.email, 2);
    let new_token = emails[1].token();
    assert_ne!(new_token, old_token);

    // The old link is dead everywhere; the new one works.
    get(&format!("/v1/invitations/{old_token}"))
        .send()
        .expect(404, "not_found");
    assert_eq!(get(&format!("/invite/{old_token}")).send().status, 404);
    post(&format!("/v1/invitations/{old_token}/accept"))
        .auth(&invitee)
        .send()
        .expect(404, "not_found");
    assert_eq!(
        get(&format!("/v1/invitations/{new_token}")).send().ok(200)["status"],
        "pending"
    );

    // A second resend within a minute of the first is refused, with when to retry.
    let reply = post(&resend)
        .auth(&owner)
        .send()
        .expect(429, "rate_limited");
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(server().mail.to(&invitee.email).len(), 2);

    post(&format!("/v1/invitations/{new_token}/accept"))
        .auth(&invitee)
        .send()
        .ok(200);
    post(&resend)
        .auth(&owner)
        .send()
        .expect(410, "invitation_already_used");
}

#[test]
fn canceling_kills_the_link_at_once() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("cancel");
    let (invitation, token) = invite(&owner, &slug, &invitee.email, "member");
    let path = format!(
        "{}/{}",
        invitations(&slug),
        invitation["id"].as_str().unwrap()
    );
    // Warm the KV cache first: cancelling must not leave the link working from it.
    assert_eq!(
        get(&format!("/v1/invitations/{token}")).send().ok(200)["status"],
        "pending"
    );
    delete(&path).auth(&owner).send().ok(204);
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .expect(410, "invitation_canceled");
    let page = get(&format!("/invite/{token}")).send();
    assert_eq!(page.status, 410);
    assert!(page.text.contains("canceled"));
    assert_eq!(get(&path).auth(&owner).send().ok(200)["status"], "canceled");
    delete(&path)
        .auth(&owner)
        .send()
        .expect(410, "invitation_canceled");
    post(&format!("{path}/resend"))
        .auth(&owner)
        .send()
        .expect(410, "invitation_canceled");
    // The address can be invited again.
    invite(&owner, &slug, &invitee.email, "member");
}

#[test]
fn only_the_invited_verified_address_can_use_the_link() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let alice = User::new("alice");
    let (_, token) = invite(&owner, &slug, &alice.email, "member");
    let accept = format!("/v1/invitations/{token}/accept");
    let decline = format!("/v1/invitations/{token}/decline");

    post(&accept).send().expect(401, "unauthenticated");
    post(&accept)
        .auth(&User::new("bob"))
        .send()
        .expect(403, "email_mismatch");
    post(&decline)
        .auth(&User::new("bob"))
        .send()
        .expect(403, "email_mismatch");
    let unverified = alice.clone().unverified();
    post(&accept)
        .auth(&unverified)
        .send()
        .expect(403, "email_not_verified");
    post(&decline)
        .auth(&unverified)
        .send()
        .expect(403, "email_not_verified");
    // Lookalikes never match.
    for lookalike in ["alıce", "ａlice"] {
        let local = alice.email.replacen("alice", lookalike, 1);
        let impostor = alice.clone().with_email(&local);
        post(&accept)
            .auth(&impostor)
            .send()
            .expect(403, "email_mismatch");
    }
    // Unknown and malformed tokens.
    let unknown = "A".repeat(43);
    post(&format!("/v1/invitations/{unknown}/accept"))
        .auth(&alice)
        .send()
        .expect(404, "not_found");
    get(&format!("/v1/invitations/{unknown}"))
        .send()
        .expect(404, "not_found");
    get("/v1/invitations/short").send().expect(404, "not_found");
    let page = get(&format!("/invite/{unknown}")).send();
    assert_eq!(page.status, 404);
    assert!(page.text.contains("not valid"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    // Nothing was used up by the failures.
    post(&accept).auth(&alice).send().ok(200);
}

#[test]
fn the_address_is_matched_without_regard_to_case() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let local = unique("Alice");
    let invitation = post(&invitations(&slug))
        .auth(&owner)
        .json(&json!({"email": format!("  {local}@Example.COM "), "role": "member"}))
        .send()
        .ok(201);
    let lower = format!("{}@example.com", local.to_lowercase());
    assert_eq!(invitation["email"], lower);
    let token = server().mail.last(&lower).token();
    let alice = User::new("alice").with_email(&lower);
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&alice)
        .send()
        .ok(200);
    // A token whose address differs only in case matches too.
    let bob_email = format!("{}@example.com", unique("bob"));
    let (_, token) = invite(&owner, &slug, &bob_email, "member");
    let bob = User::new("bob").with_email(&bob_email.to_uppercase());
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&bob)
        .send()
        .ok(200);
}

#[test]
fn declining_closes_the_invitation() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("decliner");
    let (_, token) = invite(&owner, &slug, &invitee.email, "member");
    post(&format!("/v1/invitations/{token}/decline"))
        .auth(&invitee)
        .send()
        .ok(204);
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .expect(410, "invitation_already_used");
    post(&format!("/v1/invitations/{token}/decline"))
        .auth(&invitee)
        .send()
        .expect(410, "invitation_already_used");
    assert_eq!(
        get(&format!("/v1/invitations/{token}")).send().ok(200)["status"],
        "declined"
    );
    assert_eq!(get(&format!("/invite/{token}")).send().status, 410);
    assert_eq!(member_ids(&owner, &slug), std::slice::from_ref(&owner.id));
}

#[test]
fn twenty_parallel_accepts_of_one_token_make_one_member() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("racer");
    let (_, token) = invite(&owner, &slug, &invitee.email, "member");
    let statuses = in_parallel(20, |_| {
        let reply = post(&format!("/v1/invitations/{token}/accept"))
            .auth(&invitee)
            .send();
        (reply.status, reply.code().to_string())
    });
    let ok = statuses.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "{statuses:?}");
    for (status, code) in statuses.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*status, code.as_str()), (410, "invitation_already_used"));
    }
    assert_eq!(
        member_ids(&owner, &slug),
        [owner.id.clone(), invitee.id.clone()]
    );
}

#[test]
fn parallel_accepts_never_exceed_the_seats() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    for _ in 0..3 {
        add_member(&owner, &slug, "member");
    }
    // Four of five seats are taken: one is free, and five people try to take it at once.
    let invitees: Vec<User> = (0..5).map(|i| User::new(&format!("seat{i}"))).collect();
    let tokens: Vec<String> = invitees
        .iter()
        .map(|u| invite(&owner, &slug, &u.email, "member").1)
        .collect();
    let replies = in_parallel(5, |i| {
        let reply = post(&format!("/v1/invitations/{}/accept", tokens[i]))
            .auth(&invitees[i])
            .send();
        (reply.status, reply.code().to_string())
    });
    assert_eq!(
        replies.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "{replies:?}"
    );
    for (status, code) in replies.iter().filter(|(s, _)| *s != 200) {
        assert_eq!((*status, code.as_str()), (409, "seat_limit_reached"));
    }
    assert_eq!(member_ids(&owner, &slug).len(), 5);
}

#[test]
fn my_pending_invitations_and_answering_them_by_id() {
    let owner = User::new("Inviting Owner");
    let slug = create_org(&owner, "pro");
    let other = create_org(&owner, "pro");
    let me = User::new("me");
    let (first, _) = invite(&owner, &slug, &me.email, "member");
    let (second, _) = invite(&owner, &other, &me.email, "member");
    let mine = get("/v1/me/invitations").auth(&me).send().ok(200);
    let data = mine["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], first["id"]);
    assert_eq!(data[0]["organization"]["slug"], slug);
    assert_eq!(data[0]["role"], "member");
    assert_eq!(
        data[0]["invited_by"],
        json!({"name": "Inviting Owner", "email": owner.email})
    );
    assert_eq!(data[0]["expires_at"], first["expires_at"]);
    // Not while the address is unverified; never someone else's.
    let empty = get("/v1/me/invitations")
        .auth(&me.clone().unverified())
        .send()
        .ok(200);
    assert_eq!(empty["data"], json!([]));
    let first_id = first["id"].as_str().unwrap();
    post(&format!("/v1/me/invitations/{first_id}/accept"))
        .auth(&User::new("other"))
        .send()
        .expect(404, "not_found");
    post(&format!("/v1/me/invitations/{first_id}/accept"))
        .auth(&me.clone().unverified())
        .send()
        .expect(403, "email_not_verified");
    post("/v1/me/invitations/not-an-id/accept")
        .auth(&me)
        .send()
        .expect(404, "not_found");

    let member = post(&format!("/v1/me/invitations/{first_id}/accept"))
        .auth(&me)
        .send()
        .ok(200);
    assert_eq!(member["role"], "member");
    let second_id = second["id"].as_str().unwrap();
    post(&format!("/v1/me/invitations/{second_id}/decline"))
        .auth(&me)
        .send()
        .ok(204);
    post(&format!("/v1/me/invitations/{second_id}/accept"))
        .auth(&me)
        .send()
        .expect(410, "invitation_already_used");
    assert_eq!(
        get("/v1/me/invitations").auth(&me).send().ok(200)["data"],
        json!([])
    );
    let orgs = get("/v1/me").auth(&me).send().ok(200)["organizations"].clone();
    assert_eq!(
        orgs,
        json!([{"slug": slug, "name": format!("Org {slug}"), "role": "member"}])
    );
}

#[test]
fn another_organizations_invitations_are_out_of_reach() {
    let owner_a = User::new("a");
    let owner_b = User::new("b");
    let a = create_org(&owner_a, "pro");
    let b = create_org(&owner_b, "pro");
    let (invitation, token) = invite(&owner_b, &b, &User::new("x").email, "member");
    let id = invitation["id"].as_str().unwrap();
    get(&format!("{}/{id}", invitations(&a)))
        .auth(&owner_a)
        .send()
        .expect(404, "not_found");
    post(&format!("{}/{id}/resend", invitations(&a)))
        .auth(&owner_a)
        .send()
        .expect(404, "not_found");
    delete(&format!("{}/{id}", invitations(&a)))
        .auth(&owner_a)
        .send()
        .expect(404, "not_found");
    get(&format!("{}/{id}", invitations(&b)))
        .auth(&owner_a)
        .send()
        .expect(404, "not_found");
    assert_eq!(
        get(&format!("/v1/invitations/{token}")).send().ok(200)["status"],
        "pending"
    );
    assert_eq!(
        server()
            .mail
            .to(invitation["email"].as_str().unwrap())
            .len(),
        1
    );
}

#[test]
fn deleting_the_organization_cancels_its_invitations() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("orphan");
    let (_, token) = invite(&owner, &slug, &invitee.email, "member");
    assert_eq!(
        get(&format!("/v1/invitations/{token}")).send().ok(200)["status"],
        "pending"
    );
    delete(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .send()
        .ok(204);
    // Nothing is said of the deleted organization any more.
    get(&format!("/v1/invitations/{token}"))
        .send()
        .expect(410, "invitation_canceled");
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&invitee)
        .send()
        .expect(410, "invitation_canceled");
    assert_eq!(
        get("/v1/me/invitations").auth(&invitee).send().ok(200)["data"],
        json!([])
    );
}

#[test]
fn everything_shown_on_the_page_is_escaped() {
    let owner = User::new("<script>alert('owner')</script>");
    let slug = unique("escape");
    post("/v1/orgs")
        .auth(&owner)
        .json(&json!({"name": "<img src=x onerror=alert(1)>", "slug": slug, "plan": "pro"}))
        .send()
        .ok(201);
    let (_, token) = invite(&owner, &slug, &User::new("e").email, "member");
    let page = get(&format!("/invite/{token}")).send();
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("<script>alert"));
    assert!(!page.text.contains("<img src=x"));
    assert!(page.text.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

/// Olivia Owner's new pro organization with one invitation, to a new person as a member,
/// and the token of the email it sent.
struct Invited {
    owner: User,
    slug: String,
    invitee: User,
    invitation: Value,
    token: String,
}

fn invited() -> Invited {
    let owner = User::new("Olivia Owner");
    let slug = create_org(&owner, "pro");
    let invitee = User::new("alice");
    let (invitation, token) = invite(&owner, &slug, &invitee.email, "member");
    Invited {
        owner,
        slug,
        invitee,
        invitation,
        token,
    }
}
