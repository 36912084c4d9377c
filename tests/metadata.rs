//! Metadata on organizations and memberships: merged by JSON Merge Patch, held to its
//! limits, `private_metadata` shown and written only by those who manage (and keys with the
//! metadata scopes), carried from an invitation into the membership, and delivered to
//! webhooks as the keys that changed.

mod support;

use serde_json::{json, Value};
use support::hooks::hooks;
use support::*;

fn org_path(slug: &str) -> String {
    format!("/v1/orgs/{slug}")
}

fn member_path(slug: &str, user: &User) -> String {
    format!("/v1/orgs/{slug}/members/{}", user.id)
}

fn patch_org(by: &User, slug: &str, body: Value) -> Reply {
    patch(&org_path(slug)).auth(by).json(&body).send()
}

fn create_key(owner: &User, slug: &str, scopes: &[&str]) -> String {
    let key = post(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(owner)
        .json(&json!({"name": "Backend", "scopes": scopes}))
        .send()
        .ok(201);
    key["secret"].as_str().expect("secret").to_owned()
}

/// The member `user` as `by` sees them in the list.
fn member_as_seen(by: &User, slug: &str, user: &User) -> Value {
    let page = get(&format!("/v1/orgs/{slug}/members?limit=100"))
        .auth(by)
        .send()
        .ok(200);
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user.id.as_str())
        .cloned()
        .expect("listed")
}

#[test]
fn organization_metadata_merges_and_null_deletes() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "free");
    let org = get(&org_path(&slug)).auth(&owner).send().ok(200);
    assert_eq!(org["metadata"], json!({}));
    assert_eq!(org["private_metadata"], json!({}));

    let body = json!({
        "metadata": {"tier": "gold", "limits": {"seats": 5, "projects": 2}, "old": true},
        "private_metadata": {"crm_id": "c-1"},
    });
    let org = patch_org(&owner, &slug, body).ok(200);
    assert_eq!(
        org["metadata"],
        json!({"tier": "gold", "limits": {"seats": 5, "projects": 2}, "old": true})
    );
    assert_eq!(org["private_metadata"], json!({"crm_id": "c-1"}));

    let body = json!({"metadata": {"old": null, "limits": {"projects": null, "seats": 9}}});
    let org = patch_org(&owner, &slug, body).ok(200);
    assert_eq!(
        org["metadata"],
        json!({"tier": "gold", "limits": {"seats": 9}})
    );
    assert_eq!(org["private_metadata"], json!({"crm_id": "c-1"}));
    // Read back as stored; the settings are untouched.
    let org = get(&org_path(&slug)).auth(&owner).send().ok(200);
    assert_eq!(
        org["metadata"],
        json!({"tier": "gold", "limits": {"seats": 9}})
    );
    assert_eq!(org["name"], format!("Org {slug}"));
}

#[test]
fn limits_hold_for_the_result() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    // {"a":"…"} is 8 bytes around the string: 8 KiB exactly fits, one byte more does not.
    let exact = json!({"a": "x".repeat(8192 - 8)});
    patch_org(&owner, &slug, json!({"metadata": exact})).ok(200);
    let reply = patch_org(
        &owner,
        &slug,
        json!({"metadata": {"a": "x".repeat(8192 - 7)}}),
    )
    .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["metadata"]);
    // Adding a key to a full object goes over too.
    patch_org(&owner, &slug, json!({"metadata": {"b": 1}})).expect(400, "invalid_request");

    let mut keys = serde_json::Map::new();
    for i in 0..50 {
        keys.insert(format!("k{i}"), json!(i));
    }
    patch_org(&owner, &slug, json!({"private_metadata": keys})).ok(200);
    let reply = patch_org(&owner, &slug, json!({"private_metadata": {"k50": 50}}))
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["private_metadata"]);
    patch_org(&owner, &slug, json!({"metadata": [1]})).expect(400, "invalid_request");
    // Removing a key and adding another in one patch stays within 50.
    let org = patch_org(
        &owner,
        &slug,
        json!({"private_metadata": {"k0": null, "k50": 50}}),
    )
    .ok(200);
    assert_eq!(org["private_metadata"].as_object().unwrap().len(), 50);
    let member = add_member(&owner, &slug, "member");
    patch(&member_path(&slug, &member))
        .auth(&member)
        .json(&json!({"metadata": {"a": "x".repeat(8192)}}))
        .send()
        .expect(400, "invalid_request");
}

#[test]
fn members_see_metadata_but_not_private_metadata() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let admin = add_member(&owner, &slug, "admin");
    patch_org(
        &owner,
        &slug,
        json!({"metadata": {"public": 1}, "private_metadata": {"secret": 2}}),
    )
    .ok(200);
    patch(&member_path(&slug, &member))
        .auth(&admin)
        .json(&json!({"metadata": {"team": "a"}, "private_metadata": {"salary": 3}}))
        .send()
        .ok(200);

    let org = get(&org_path(&slug)).auth(&member).send().ok(200);
    assert_eq!(org["metadata"], json!({"public": 1}));
    assert!(org.get("private_metadata").is_none(), "{org}");
    let orgs = get("/v1/orgs").auth(&member).send().ok(200);
    assert!(orgs["data"][0].get("private_metadata").is_none());
    let seen = member_as_seen(&member, &slug, &member);
    assert_eq!(seen["metadata"], json!({"team": "a"}));
    assert!(seen.get("private_metadata").is_none(), "{seen}");

    let seen = member_as_seen(&admin, &slug, &member);
    assert_eq!(seen["private_metadata"], json!({"salary": 3}));
    let org = get(&org_path(&slug)).auth(&admin).send().ok(200);
    assert_eq!(org["private_metadata"], json!({"secret": 2}));
}

#[test]
fn members_set_their_own_metadata_only() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let other = add_member(&owner, &slug, "viewer");
    let me = patch(&member_path(&slug, &member))
        .auth(&member)
        .json(&json!({"metadata": {"theme": "dark", "lang": "de"}}))
        .send()
        .ok(200);
    assert_eq!(me["metadata"], json!({"theme": "dark", "lang": "de"}));
    assert!(me.get("private_metadata").is_none());
    let me = patch(&member_path(&slug, &member))
        .auth(&member)
        .json(&json!({"metadata": {"lang": null}}))
        .send()
        .ok(200);
    assert_eq!(me["metadata"], json!({"theme": "dark"}));
    patch(&member_path(&slug, &member))
        .auth(&member)
        .json(&json!({"private_metadata": {"vip": true}}))
        .send()
        .expect(403, "forbidden");
    patch(&member_path(&slug, &other))
        .auth(&member)
        .json(&json!({"metadata": {"theme": "light"}}))
        .send()
        .expect(403, "forbidden");
    patch(&member_path(&slug, &member))
        .auth(&member)
        .json(&json!({"role": "viewer", "metadata": {"x": 1}}))
        .send()
        .expect(403, "forbidden");
    patch_org(&member, &slug, json!({"metadata": {"x": 1}})).expect(403, "forbidden");
    // Nothing of the refused requests was written.
    let seen = member_as_seen(&owner, &slug, &member);
    assert_eq!(seen["metadata"], json!({"theme": "dark"}));
    assert_eq!(seen["private_metadata"], json!({}));
    assert_eq!(seen["role"], "member");
    patch(&member_path(&slug, &member))
        .auth(&owner)
        .json(&json!({}))
        .send()
        .expect(400, "invalid_request");
}

#[test]
fn api_keys_need_the_metadata_scopes() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    patch_org(&owner, &slug, json!({"private_metadata": {"crm": "c-9"}})).ok(200);
    let plain = create_key(&owner, &slug, &["members:read"]);
    let reader = create_key(&owner, &slug, &["members:read", "metadata:read"]);
    let writer = create_key(
        &owner,
        &slug,
        &["members:read", "metadata:read", "metadata:write"],
    );

    let org = get(&org_path(&slug)).bearer(&plain).send().ok(200);
    assert!(org.get("private_metadata").is_none());
    let org = get(&org_path(&slug)).bearer(&reader).send().ok(200);
    assert_eq!(org["private_metadata"], json!({"crm": "c-9"}));

    for key in [&plain, &reader] {
        patch(&org_path(&slug))
            .bearer(key)
            .json(&json!({"metadata": {"k": 1}}))
            .send()
            .expect(403, "forbidden");
        patch(&member_path(&slug, &member))
            .bearer(key)
            .json(&json!({"private_metadata": {"k": 1}}))
            .send()
            .expect(403, "forbidden");
    }
    let org = patch(&org_path(&slug))
        .bearer(&writer)
        .json(&json!({"metadata": {"k": 1}, "private_metadata": {"crm": null}}))
        .send()
        .ok(200);
    assert_eq!(org["metadata"], json!({"k": 1}));
    assert_eq!(org["private_metadata"], json!({}));
    // Metadata does not open the settings to keys.
    patch(&org_path(&slug))
        .bearer(&writer)
        .json(&json!({"name": "Renamed"}))
        .send()
        .expect(403, "forbidden");
    let seen = patch(&member_path(&slug, &member))
        .bearer(&writer)
        .json(&json!({"metadata": {"m": 1}, "private_metadata": {"p": 2}}))
        .send()
        .ok(200);
    assert_eq!(seen["metadata"], json!({"m": 1}));
    assert_eq!(seen["private_metadata"], json!({"p": 2}));
    let seen = get(&format!("/v1/orgs/{slug}/members?limit=100"))
        .bearer(&plain)
        .send()
        .ok(200);
    let listed = seen["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == member.id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(listed["metadata"], json!({"m": 1}));
    assert!(listed.get("private_metadata").is_none());
}

#[test]
fn an_invitations_metadata_becomes_the_memberships() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let user = User::new("invitee");
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .json(&json!({"email": user.email, "role": "member", "metadata": {"source": "sales", "drop": null}}))
        .send()
        .ok(201);
    let token = server().mail.wait_for(&user.email, 1)[0].token();
    let member = post(&format!("/v1/invitations/{token}/accept"))
        .auth(&user)
        .send()
        .ok(200);
    assert_eq!(member["metadata"], json!({"source": "sales"}));
    assert!(member.get("private_metadata").is_none());

    let bulk_user = User::new("bulk");
    let reply = post(&format!("/v1/orgs/{slug}/invitations/bulk"))
        .auth(&owner)
        .json(&json!({"invitations": [
            {"email": bulk_user.email, "role": "viewer", "metadata": {"batch": 7}},
            {"email": User::new("bad").email, "role": "viewer", "metadata": "no"},
        ]}))
        .send()
        .ok(200);
    assert!(reply["results"][0]["invitation"].is_object());
    assert_eq!(reply["results"][1]["error"]["code"], "invalid_request");
    let token = server().mail.wait_for(&bulk_user.email, 1)[0].token();
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(&bulk_user)
        .send()
        .ok(200);
    let seen = member_as_seen(&owner, &slug, &bulk_user);
    assert_eq!(seen["metadata"], json!({"batch": 7}));
    assert_eq!(seen["private_metadata"], json!({}));

    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .json(&json!({"email": User::new("big").email, "role": "member", "metadata": {"a": "x".repeat(8192)}}))
        .send()
        .expect(400, "invalid_request");
}

#[test]
fn webhooks_carry_the_keys_that_changed() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let url = hooks().url("metadata");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["organization.updated", "member.updated"]}))
        .send()
        .ok(201);
    patch_org(&owner, &slug, json!({"metadata": {"a": 1, "b": {"c": 1}}})).ok(200);
    patch_org(
        &owner,
        &slug,
        json!({"metadata": {"a": 1, "b": {"d": 2}}, "private_metadata": {"p": null, "q": 1}}),
    )
    .ok(200);
    // What is already there is no change: nothing is recorded.
    patch_org(&owner, &slug, json!({"metadata": {"a": 1}})).ok(200);
    patch(&member_path(&slug, &member))
        .auth(&member)
        .json(&json!({"metadata": {"team": "a"}}))
        .send()
        .ok(200);

    let hits = hooks().wait_for(&url, 3);
    let mut bodies: Vec<_> = hits.iter().map(|h| h.json.clone()).collect();
    bodies.sort_by_key(|b| b["created_at"].as_str().unwrap_or_default().to_owned());
    let of = |kind: &str| -> Vec<Value> {
        bodies
            .iter()
            .filter(|b| b["type"] == kind)
            .map(|b| b["data"].clone())
            .collect()
    };
    let org_updates = of("organization.updated");
    assert_eq!(org_updates.len(), 2, "{org_updates:?}");
    assert!(org_updates.contains(&json!({"metadata": {"a": 1, "b": {"c": 1}}})));
    assert!(org_updates.contains(&json!({
        "metadata": {"b": {"c": 1, "d": 2}},
        "private_metadata": {"q": 1},
    })));
    assert_eq!(
        of("member.updated"),
        [json!({"user_id": member.id, "metadata": {"team": "a"}})]
    );
    let log = get(&format!("/v1/orgs/{slug}/audit-log?limit=100"))
        .auth(&owner)
        .send()
        .ok(200);
    let actions: Vec<_> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "member.updated" || e["action"] == "organization.updated")
        .collect();
    assert_eq!(actions.len(), 3);
}
