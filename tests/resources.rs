//! Resources, per-resource grants and `authorize`: one policy, asked at the edge.

mod support;

use serde_json::{json, Value};
use support::*;

fn resources(slug: &str) -> String {
    format!("/v1/orgs/{slug}/resources")
}

fn grant(by: &User, slug: &str, resource: &str, user: &User, level: &str) -> Reply {
    put(&format!(
        "{}/{resource}/grants/{}",
        resources(slug),
        user.id
    ))
    .auth(by)
    .json(&json!({"level": level}))
    .send()
}

fn ask(by: &User, slug: &str, question: Value) -> Value {
    post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(by)
        .json(&question)
        .send()
        .ok(200)
}

fn listed(by: &User, slug: &str) -> Vec<String> {
    get(&resources(slug)).auth(by).send().ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn owners_and_admins_create_and_see_every_resource() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    let created = post(&resources(&slug))
        .auth(&admin)
        .json(&json!({"name": "  Main Website ", "kind": "property"}))
        .send()
        .ok(201);
    assert_eq!(created["name"], "Main Website");
    assert_eq!(created["kind"], "property");
    assert_eq!(created["created_by"], admin.id);
    assert_eq!(created["level"], "admin");
    assert!(created["created_at"].is_string());
    let id = created["id"].as_str().unwrap();
    let other = create_resource(&owner, &slug, "Blog");
    assert_eq!(listed(&owner, &slug), [id.to_string(), other.clone()]);
    assert_eq!(listed(&admin, &slug), [id.to_string(), other]);
    // Members see nothing until granted, and may not create.
    assert!(listed(&member, &slug).is_empty());
    post(&resources(&slug))
        .auth(&member)
        .json(&json!({"name": "Mine"}))
        .send()
        .expect(403, "forbidden");
    get(&format!("{}/{id}", resources(&slug)))
        .auth(&member)
        .send()
        .expect(404, "not_found");
    let reply = post(&resources(&slug))
        .auth(&owner)
        .json(&json!({"name": "", "kind": "x".repeat(51), "colour": 1}))
        .send()
        .expect(400, "invalid_request");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["colour", "kind", "name"]);
}

#[test]
fn grants_open_single_resources_to_members_and_viewers() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let viewer = add_member(&owner, &slug, "viewer");
    let site = create_resource(&owner, &slug, "Site");
    let blog = create_resource(&owner, &slug, "Blog");

    assert_eq!(
        grant(&owner, &slug, &site, &member, "write").ok(200),
        json!({"resource_id": site, "user_id": member.id, "level": "write"})
    );
    grant(&owner, &slug, &blog, &viewer, "read").ok(200);
    grant(&owner, &slug, &site, &viewer, "write").expect(409, "grant_exceeds_role");
    grant(&owner, &slug, &site, &viewer, "admin").expect(409, "grant_exceeds_role");
    grant(&owner, &slug, &site, &member, "superuser").expect(400, "invalid_request");
    grant(&owner, &slug, &site, &User::new("stranger"), "read").expect(404, "not_found");

    assert_eq!(listed(&member, &slug), std::slice::from_ref(&site));
    assert_eq!(listed(&viewer, &slug), std::slice::from_ref(&blog));
    let seen = get(&format!("{}/{site}", resources(&slug)))
        .auth(&member)
        .send()
        .ok(200);
    assert_eq!(seen["level"], "write");
    get(&format!("{}/{blog}", resources(&slug)))
        .auth(&member)
        .send()
        .expect(404, "not_found");

    // Write is not admin: no renaming, no deleting, no granting.
    let path = format!("{}/{site}", resources(&slug));
    patch(&path)
        .auth(&member)
        .json(&json!({"name": "Mine"}))
        .send()
        .expect(403, "forbidden");
    delete(&path).auth(&member).send().expect(403, "forbidden");
    grant(&member, &slug, &site, &viewer, "read").expect(403, "forbidden");
    // Admin on a resource is enough to manage it.
    grant(&owner, &slug, &site, &member, "admin").ok(200);
    let renamed = patch(&path)
        .auth(&member)
        .json(&json!({"name": "Renamed", "kind": null}))
        .send()
        .ok(200);
    assert_eq!(renamed["name"], "Renamed");
    assert_eq!(renamed["kind"], Value::Null);
    grant(&member, &slug, &site, &viewer, "read").ok(200);

    // The members list shows the grants.
    let members = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200);
    let of = |user: &User| {
        members["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user_id"] == user.id.as_str())
            .unwrap()["grants"]
            .clone()
    };
    assert_eq!(
        of(&member),
        json!([{"resource_id": site, "level": "admin"}])
    );
    let mut viewer_grants: Vec<Value> = of(&viewer).as_array().unwrap().clone();
    viewer_grants.sort_by_key(|g| g["resource_id"].as_str().unwrap().to_string());
    let mut expected = vec![
        json!({"resource_id": blog, "level": "read"}),
        json!({"resource_id": site, "level": "read"}),
    ];
    expected.sort_by_key(|g| g["resource_id"].as_str().unwrap().to_string());
    assert_eq!(viewer_grants, expected);

    // Taking a grant away.
    let viewer_grant = format!("{}/{blog}/grants/{}", resources(&slug), viewer.id);
    delete(&viewer_grant).auth(&owner).send().ok(204);
    delete(&viewer_grant)
        .auth(&owner)
        .send()
        .expect(404, "not_found");
    assert_eq!(listed(&viewer, &slug), std::slice::from_ref(&site));

    // Deleting a resource takes its grants along.
    delete(&path).auth(&member).send().ok(204);
    get(&path).auth(&owner).send().expect(404, "not_found");
    assert!(listed(&member, &slug).is_empty());
    let members = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200);
    for m in members["data"].as_array().unwrap() {
        assert_eq!(m["grants"], json!([]), "{}", m["user_id"]);
    }
}

#[test]
fn invitations_carry_grants_applied_on_accept() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let site = create_resource(&owner, &slug, "Site");
    let blog = create_resource(&owner, &slug, "Blog");
    let analyst = User::new("analyst");
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .json(&json!({"email": analyst.email, "role": "member",
                      "grants": [{"resource_id": site, "level": "write"}, {"resource_id": blog, "level": "read"}]}))
        .send()
        .ok(201);
    let token = server().mail.last(&analyst.email).token();
    let member = post(&format!("/v1/invitations/{token}/accept"))
        .auth(&analyst)
        .send()
        .ok(200);
    let mut grants = member["grants"].as_array().unwrap().clone();
    grants.sort_by_key(|g| g["resource_id"].as_str().unwrap().to_string());
    let mut expected = vec![
        json!({"resource_id": site, "level": "write"}),
        json!({"resource_id": blog, "level": "read"}),
    ];
    expected.sort_by_key(|g| g["resource_id"].as_str().unwrap().to_string());
    assert_eq!(grants, expected);
    assert_eq!(
        ask(
            &analyst,
            &slug,
            json!({"resource_id": site, "level": "write"})
        )["allowed"],
        true
    );

    // A viewer invited with a read grant gets it; a resource deleted meanwhile is skipped.
    let stakeholder = User::new("stakeholder");
    let gone = create_resource(&owner, &slug, "Gone");
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .json(&json!({"email": stakeholder.email, "role": "viewer",
                      "grants": [{"resource_id": site, "level": "read"}, {"resource_id": gone, "level": "read"}]}))
        .send()
        .ok(201);
    delete(&format!("{}/{gone}", resources(&slug)))
        .auth(&owner)
        .send()
        .ok(204);
    let token = server().mail.last(&stakeholder.email).token();
    let member = post(&format!("/v1/invitations/{token}/accept"))
        .auth(&stakeholder)
        .send()
        .ok(200);
    assert_eq!(
        member["grants"],
        json!([{"resource_id": site, "level": "read"}])
    );
}

#[test]
fn authorize_answers_for_the_caller_and_for_others() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    let viewer = add_member(&owner, &slug, "viewer");
    let site = create_resource(&owner, &slug, "Site");
    grant(&owner, &slug, &site, &member, "write").ok(200);

    // Membership, permissions, levels.
    assert_eq!(
        ask(&member, &slug, json!({})),
        json!({"allowed": true, "role": "member", "level": null})
    );
    assert_eq!(
        ask(&member, &slug, json!({"permission": "usage.consume"}))["allowed"],
        true
    );
    assert_eq!(
        ask(&viewer, &slug, json!({"permission": "usage.consume"}))["allowed"],
        false
    );
    assert_eq!(
        ask(&admin, &slug, json!({"permission": "members.manage"}))["allowed"],
        true
    );
    assert_eq!(
        ask(&admin, &slug, json!({"permission": "billing.manage"}))["allowed"],
        false
    );
    assert_eq!(
        ask(&member, &slug, json!({"resource_id": site})),
        json!({"allowed": true, "role": "member", "level": "write"})
    );
    assert_eq!(
        ask(
            &member,
            &slug,
            json!({"resource_id": site, "level": "admin"})
        )["allowed"],
        false
    );
    assert_eq!(
        ask(&viewer, &slug, json!({"resource_id": site})),
        json!({"allowed": false, "role": "viewer", "level": null})
    );
    assert_eq!(
        ask(
            &owner,
            &slug,
            json!({"resource_id": site, "level": "admin"})
        )["level"],
        "admin"
    );
    // A resource that does not exist gives nobody a level.
    let missing = ask(
        &owner,
        &slug,
        json!({"resource_id": "2b8e7c2e-4f57-4bb0-9a4c-2a4f1f7f0a11"}),
    );
    assert_eq!(
        missing,
        json!({"allowed": false, "role": "owner", "level": null})
    );

    // About someone else: admins may ask, members may not.
    assert_eq!(
        ask(
            &admin,
            &slug,
            json!({"user_id": member.id, "resource_id": site, "level": "write"})
        ),
        json!({"allowed": true, "role": "member", "level": "write"})
    );
    post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&member)
        .json(&json!({"user_id": admin.id}))
        .send()
        .expect(403, "forbidden");
    assert_eq!(
        ask(
            &admin,
            &slug,
            json!({"user_id": "nobody", "permission": "org.read"})
        ),
        json!({"allowed": false, "role": null, "level": null})
    );
    // Without a body: is the caller a member?
    let bare = post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&viewer)
        .send()
        .ok(200);
    assert_eq!(
        bare,
        json!({"allowed": true, "role": "viewer", "level": null})
    );
    // Asking about oneself by id is asking for oneself.
    assert_eq!(
        ask(&member, &slug, json!({"user_id": member.id}))["allowed"],
        true
    );

    let reply = post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&owner)
        .json(&json!({"permission": "org.destroy", "level": "god"}))
        .send()
        .expect(400, "invalid_request");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["level", "permission"]);
    post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&User::new("stranger"))
        .json(&json!({}))
        .send()
        .expect(404, "not_found");

    // One D1 round trip, even about someone else and a resource.
    let reply = post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&admin)
        .json(&json!({"user_id": member.id, "resource_id": site, "permission": "org.read"}))
        .send();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.round_trips(), 1);
}

#[test]
fn demotion_and_removal_are_seen_on_the_very_next_request() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let site = create_resource(&owner, &slug, "Site");
    grant(&owner, &slug, &site, &member, "admin").ok(200);
    assert_eq!(
        ask(
            &owner,
            &slug,
            json!({"user_id": member.id, "resource_id": site})
        )["level"],
        "admin"
    );

    // A member turned viewer keeps read on what they had.
    patch(&format!("/v1/orgs/{slug}/members/{}", member.id))
        .auth(&owner)
        .json(&json!({"role": "viewer"}))
        .send()
        .ok(200);
    assert_eq!(
        ask(
            &owner,
            &slug,
            json!({"user_id": member.id, "resource_id": site})
        ),
        json!({"allowed": true, "role": "viewer", "level": "read"})
    );
    assert_eq!(
        ask(
            &member,
            &slug,
            json!({"resource_id": site, "level": "write"})
        )["allowed"],
        false
    );
    // Back to member: the grant stays at read (the demotion lowered it for good).
    patch(&format!("/v1/orgs/{slug}/members/{}", member.id))
        .auth(&owner)
        .json(&json!({"role": "member"}))
        .send()
        .ok(200);
    assert_eq!(
        ask(&member, &slug, json!({"resource_id": site}))["level"],
        "read"
    );

    // Removed: no access at all, and no grants left behind.
    delete(&format!("/v1/orgs/{slug}/members/{}", member.id))
        .auth(&owner)
        .send()
        .ok(204);
    assert_eq!(
        ask(
            &owner,
            &slug,
            json!({"user_id": member.id, "resource_id": site})
        ),
        json!({"allowed": false, "role": null, "level": null})
    );
    post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&member)
        .json(&json!({}))
        .send()
        .expect(404, "not_found");
    let again = add_member_as(&owner, &slug, &member, "member");
    assert_eq!(
        ask(&again, &slug, json!({"resource_id": site})),
        json!({"allowed": false, "role": "member", "level": null})
    );
}

/// Invites an existing person again and lets them accept.
fn add_member_as(by: &User, slug: &str, user: &User, role: &str) -> User {
    let (_, token) = invite(by, slug, &user.email, role);
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(user)
        .send()
        .ok(200);
    user.clone()
}

#[test]
fn another_organizations_resources_do_not_exist_here() {
    let owner_a = User::new("a");
    let owner_b = User::new("b");
    let a = create_org(&owner_a, "business");
    let b = create_org(&owner_b, "business");
    let in_b = create_resource(&owner_b, &b, "B's");
    let member_b = add_member(&owner_b, &b, "member");
    get(&format!("{}/{in_b}", resources(&a)))
        .auth(&owner_a)
        .send()
        .expect(404, "not_found");
    patch(&format!("{}/{in_b}", resources(&a)))
        .auth(&owner_a)
        .json(&json!({"name": "x"}))
        .send()
        .expect(404, "not_found");
    delete(&format!("{}/{in_b}", resources(&a)))
        .auth(&owner_a)
        .send()
        .expect(404, "not_found");
    grant(&owner_a, &a, &in_b, &member_b, "read").expect(404, "not_found");
    assert_eq!(
        ask(&owner_a, &a, json!({"resource_id": in_b}))["level"],
        Value::Null
    );
    get(&format!("{}/{in_b}", resources(&b)))
        .auth(&owner_a)
        .send()
        .expect(404, "not_found");
    assert_eq!(
        get(&format!("{}/{in_b}", resources(&b)))
            .auth(&owner_b)
            .send()
            .ok(200)["name"],
        "B's"
    );
}
