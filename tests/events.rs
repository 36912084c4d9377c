//! What membership and invitations tell the outside world: every change recorded in the
//! audit log with who made it, and each webhook event delivered, signed, to the endpoints
//! subscribed to it.

mod support;

use serde_json::{json, Value};
use std::collections::HashSet;
use support::hooks::hooks;
use support::*;

fn subscribe(owner: &User, slug: &str, events: &[&str]) -> (String, String) {
    let url = hooks().url("events");
    let hook = post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(owner)
        .json(&json!({"url": url, "events": events}))
        .send()
        .ok(201);
    (url, hook["secret"].as_str().unwrap().to_string())
}

#[test]
fn membership_changes_are_delivered_as_signed_events() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let (url, secret) = subscribe(&owner, &slug, &WEBHOOK_EVENTS);

    let alice = add_member(&owner, &slug, "member");
    patch(&format!("/v1/orgs/{slug}/members/{}", alice.id))
        .auth(&owner)
        .json(&json!({"role": "viewer"}))
        .send()
        .ok(200);
    let (canceled, _) = invite(&owner, &slug, &User::new("bob").email, "member");
    delete(&format!(
        "/v1/orgs/{slug}/invitations/{}",
        canceled["id"].as_str().unwrap()
    ))
    .auth(&owner)
    .send()
    .ok(204);
    let carol = User::new("carol");
    let (_, token) = invite(&owner, &slug, &carol.email, "member");
    post(&format!("/v1/invitations/{token}/decline"))
        .auth(&carol)
        .send()
        .ok(204);
    delete(&format!("/v1/orgs/{slug}/members/{}", alice.id))
        .auth(&owner)
        .send()
        .ok(204);

    let expected = [
        "invitation.created",
        "member.added",
        "invitation.accepted",
        "member.role_changed",
        "invitation.created",
        "invitation.canceled",
        "invitation.created",
        "invitation.declined",
        "member.removed",
    ];
    let hits = hooks().wait_for(&url, expected.len());
    let mut types: Vec<&str> = hits
        .iter()
        .map(|h| h.json["type"].as_str().unwrap())
        .collect();
    let mut sorted = expected.to_vec();
    types.sort();
    sorted.sort();
    assert_eq!(types, sorted);
    let ids: HashSet<_> = hits.iter().map(|h| h.event_id.clone().unwrap()).collect();
    assert_eq!(ids.len(), hits.len(), "one delivery per event");
    for hit in &hits {
        assert!(hit.signed_with(&secret), "{}", hit.body);
        assert_eq!(hit.json["organization"]["slug"], slug);
    }
    let of_type = |t: &str| hits.iter().find(|h| h.json["type"] == t).unwrap().json["data"].clone();
    assert_eq!(of_type("member.added")["user_id"], alice.id);
    assert_eq!(of_type("member.added")["role"], "member");
    assert_eq!(
        of_type("member.role_changed"),
        json!({"user_id": alice.id, "from": "member", "to": "viewer"})
    );
    assert_eq!(of_type("member.removed")["user_id"], alice.id);
    assert_eq!(of_type("invitation.accepted")["user_id"], alice.id);

    // The same changes, in the audit log, newest first, each by whoever made it.
    let log = audit_log(&owner, &slug);
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    let mut newest_first: Vec<&str> = expected.to_vec();
    newest_first.reverse();
    assert_eq!(&actions[..expected.len()], newest_first.as_slice());
    let by = |action: &str| log.iter().find(|e| e["action"] == action).unwrap()["actor"].clone();
    assert_eq!(by("member.added"), json!({"type": "user", "id": alice.id}));
    assert_eq!(
        by("invitation.declined"),
        json!({"type": "user", "id": carol.id})
    );
    assert_eq!(
        by("member.removed"),
        json!({"type": "user", "id": owner.id})
    );
    // Only the endpoint's own events reach it.
    let other = create_org(&User::new("elsewhere"), "business");
    assert!(hits
        .iter()
        .all(|h| h.json["organization"]["slug"] != other.as_str()));
}

#[test]
fn ownership_transfer_announces_both_role_changes() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let heir = add_member(&owner, &slug, "member");
    let (url, _) = subscribe(&owner, &slug, &["member.role_changed"]);
    post(&format!("/v1/orgs/{slug}/transfer-ownership"))
        .auth(&owner)
        .json(&json!({"user_id": heir.id}))
        .send()
        .ok(200);
    let hits = hooks().wait_for(&url, 2);
    let mut changes: Vec<Value> = hits.iter().map(|h| h.json["data"].clone()).collect();
    changes.sort_by_key(|c| c["to"].as_str().unwrap().to_string());
    assert_eq!(
        changes,
        [
            json!({"user_id": owner.id, "from": "owner", "to": "admin"}),
            json!({"user_id": heir.id, "from": "member", "to": "owner"}),
        ]
    );
    assert_eq!(
        audit_log(&heir, &slug)[0]["action"],
        "organization.ownership_transferred"
    );
}

#[test]
fn an_api_key_is_named_where_it_acted() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let key = post(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(&owner)
        .json(&json!({"name": "Provisioning", "scopes": ["invitations:write", "members:write", "members:read"]}))
        .send()
        .ok(201);
    let secret = key["secret"].as_str().unwrap();
    let key_id = key["id"].as_str().unwrap();

    let invitee = User::new("provisioned");
    let invitation = post(&format!("/v1/orgs/{slug}/invitations"))
        .bearer(secret)
        .json(&json!({"email": invitee.email, "role": "member"}))
        .send()
        .ok(201);
    assert_eq!(
        invitation["invited_by"],
        json!({"user_id": null, "email": null, "name": "Provisioning", "api_key_id": key_id})
    );
    let email = server().mail.last(&invitee.email);
    assert!(email.subject.starts_with("Provisioning invited you"));
    post(&format!("/v1/invitations/{}/accept", email.token()))
        .auth(&invitee)
        .send()
        .ok(200);
    patch(&format!("/v1/orgs/{slug}/members/{}", invitee.id))
        .bearer(secret)
        .json(&json!({"role": "viewer"}))
        .send()
        .ok(200);
    // Keys never touch admins, and never invite them.
    post(&format!("/v1/orgs/{slug}/invitations"))
        .bearer(secret)
        .json(&json!({"email": User::new("a").email, "role": "admin"}))
        .send()
        .expect(403, "forbidden");
    // The members list is readable with members:read.
    assert_eq!(member_ids(&owner, &slug).len(), 2);
    let listed = get(&format!("/v1/orgs/{slug}/members"))
        .bearer(secret)
        .send()
        .ok(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);

    let log = audit_log(&owner, &slug);
    let by_key = json!({"type": "api_key", "id": key_id});
    let actor = |action: &str| log.iter().find(|e| e["action"] == action).unwrap()["actor"].clone();
    assert_eq!(actor("invitation.created"), by_key);
    assert_eq!(actor("member.role_changed"), by_key);
    assert_eq!(
        actor("member.added"),
        json!({"type": "user", "id": invitee.id})
    );
}

#[test]
fn a_key_without_the_scope_is_refused_and_one_of_another_organization_sees_nothing() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let reader = post(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(&owner)
        .json(&json!({"name": "Reader", "scopes": ["members:read"]}))
        .send()
        .ok(201)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    post(&format!("/v1/orgs/{slug}/invitations"))
        .bearer(&reader)
        .json(&json!({"email": "x@example.com", "role": "member"}))
        .send()
        .expect(403, "forbidden");
    post(&format!("/v1/orgs/{slug}/resources"))
        .bearer(&reader)
        .json(&json!({"name": "R"}))
        .send()
        .expect(403, "forbidden");
    // A resource-less key reads the organization but no resources.
    create_resource(&owner, &slug, "Hidden");
    assert_eq!(
        get(&format!("/v1/orgs/{slug}/resources"))
            .bearer(&reader)
            .send()
            .ok(200)["data"],
        json!([])
    );
    let elsewhere = create_org(&User::new("other"), "business");
    get(&format!("/v1/orgs/{elsewhere}/members"))
        .bearer(&reader)
        .send()
        .expect(404, "not_found");
    post(&format!("/v1/orgs/{elsewhere}/authorize"))
        .bearer(&reader)
        .json(&json!({}))
        .send()
        .expect(404, "not_found");
    // members:read lets a key ask the policy about anyone.
    let answer = post(&format!("/v1/orgs/{slug}/authorize"))
        .bearer(&reader)
        .json(&json!({"user_id": owner.id, "permission": "org.delete"}))
        .send()
        .ok(200);
    assert_eq!(
        answer,
        json!({"allowed": true, "role": "owner", "level": null})
    );
}

#[test]
fn seat_changes_are_announced_and_recorded() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let (url, secret) = subscribe(&owner, &slug, &["seats.changed"]);
    let bought = put(&format!("/v1/orgs/{slug}/billing/seats"))
        .auth(&owner)
        .json(&json!({"extra": 2}))
        .send()
        .ok(200);
    assert!(bought["charge_cents"].as_i64().unwrap() > 0);
    put(&format!("/v1/orgs/{slug}/billing/plan"))
        .auth(&owner)
        .json(&json!({"plan": "business"}))
        .send()
        .ok(200);
    let hits = hooks().wait_for(&url, 2);
    assert!(hits.iter().all(|h| h.signed_with(&secret)));
    assert!(hits.iter().all(|h| h.json["type"] == "seats.changed"));
    let log = audit_log(&owner, &slug);
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"billing.plan_changed"), "{actions:?}");
    assert!(actions.contains(&"seats.changed"), "{actions:?}");
}

#[test]
fn api_keys_consume_credits_for_a_named_member_and_read_billing_with_their_scope() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let member = add_member(&owner, &slug, "member");
    let key = |scopes: &[&str]| {
        post(&format!("/v1/orgs/{slug}/api-keys"))
            .auth(&owner)
            .json(&json!({"name": "Metering", "scopes": scopes}))
            .send()
            .ok(201)["secret"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let meter = key(&["usage:write", "usage:read", "billing:read"]);
    let usage = format!("/v1/orgs/{slug}/usage");
    let consume = |secret: &str, idempotency: &str, body: Value| {
        post(&usage)
            .bearer(secret)
            .header("idempotency-key", idempotency)
            .json(&body)
            .send()
    };
    // A key must say whose usage it records, and that someone must be a member.
    consume(&meter, "k1", json!({"amount": 5, "feature": "export"})).expect(400, "invalid_request");
    consume(
        &meter,
        "k2",
        json!({"amount": 5, "feature": "export", "user_id": "nobody"}),
    )
    .expect(404, "not_found");
    let recorded = consume(
        &meter,
        "k3",
        json!({"amount": 5, "feature": "export", "user_id": member.id}),
    )
    .ok(201);
    assert_eq!(recorded["amount"], 5);
    let seen = get(&usage).bearer(&meter).send().ok(200);
    assert_eq!(seen["used"], 5);
    let row = seen["by_member"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_id"] == member.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["used"], 5);
    assert_eq!(
        get(&format!("/v1/orgs/{slug}/billing"))
            .bearer(&meter)
            .send()
            .ok(200)["plan"],
        "pro"
    );
    // Without the scopes, refused; and no key changes the plan or the seats.
    let reader = key(&["members:read"]);
    consume(
        &reader,
        "k4",
        json!({"amount": 1, "feature": "x", "user_id": member.id}),
    )
    .expect(403, "forbidden");
    get(&format!("/v1/orgs/{slug}/billing"))
        .bearer(&reader)
        .send()
        .expect(403, "forbidden");
    put(&format!("/v1/orgs/{slug}/billing/plan"))
        .bearer(&meter)
        .json(&json!({"plan": "business"}))
        .send()
        .expect(403, "forbidden");
    put(&format!("/v1/orgs/{slug}/billing/seats"))
        .bearer(&meter)
        .json(&json!({"extra": 1}))
        .send()
        .expect(403, "forbidden");
    let log = audit_log(&owner, &slug);
    let recorded: Vec<_> = log
        .iter()
        .filter(|e| e["action"] == "usage.recorded")
        .collect();
    assert_eq!(recorded.len(), 1, "refused attempts record nothing");
    assert_eq!(recorded[0]["actor"]["type"], "api_key");
    assert_eq!(recorded[0]["data"]["user_id"], member.id);
}
