//! Members: the list, role changes, removal and leaving, ownership transfer — each seen
//! on the very next request.

mod support;

use serde_json::{json, Value};
use support::*;

fn member_path(slug: &str, user: &User) -> String {
    format!("/v1/orgs/{slug}/members/{}", user.id)
}

fn set_role(by: &User, slug: &str, user: &User, role: &str) -> support::Reply {
    patch(&member_path(slug, user))
        .auth(by)
        .json(&json!({"role": role}))
        .send()
}

#[test]
fn the_list_shows_roles_activity_and_grants() {
    let owner = User::new("Owner Name");
    let slug = create_org(&owner, "business");
    let viewer = add_member(&owner, &slug, "viewer");
    let list = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&viewer)
        .send()
        .ok(200);
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["user_id"], owner.id);
    assert_eq!(data[0]["role"], "owner");
    assert_eq!(data[0]["name"], "Owner Name");
    assert_eq!(data[0]["email"], owner.email);
    assert_eq!(data[1]["user_id"], viewer.id);
    assert_eq!(data[1]["role"], "viewer");
    for member in data {
        for field in ["joined_at", "last_active_at"] {
            assert!(
                member[field].as_str().is_some_and(|t| t.ends_with('Z')),
                "{field}"
            );
        }
        assert_eq!(member["grants"], json!([]));
    }
    assert_eq!(list["next_cursor"], Value::Null);
    let page = get(&format!("/v1/orgs/{slug}/members?limit=1"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let next = page["next_cursor"].as_str().unwrap();
    let page = get(&format!("/v1/orgs/{slug}/members?limit=1&cursor={next}"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(page["data"][0]["user_id"], viewer.id);
    get(&format!("/v1/orgs/{slug}/members"))
        .auth(&User::new("stranger"))
        .send()
        .expect(404, "not_found");
}

#[test]
fn role_changes_follow_the_policy() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    let other_admin = add_member(&owner, &slug, "admin");

    // Admins manage members and viewers…
    let changed = set_role(&admin, &slug, &member, "viewer").ok(200);
    assert_eq!(changed["role"], "viewer");
    assert_eq!(changed["user_id"], member.id);
    set_role(&admin, &slug, &member, "member").ok(200);
    // …but only the owner grants or takes away admin.
    set_role(&admin, &slug, &member, "admin").expect(403, "forbidden");
    set_role(&admin, &slug, &other_admin, "member").expect(403, "forbidden");
    set_role(&owner, &slug, &member, "admin").ok(200);
    set_role(&owner, &slug, &member, "member").ok(200);
    // Nobody changes the owner's role; nobody is made owner here.
    set_role(&owner, &slug, &owner, "admin").expect(409, "owner_protected");
    set_role(&admin, &slug, &owner, "member").expect(409, "owner_protected");
    let reply = set_role(&owner, &slug, &member, "owner").expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["role"]);
    set_role(&owner, &slug, &member, "chief").expect(400, "invalid_request");
    // Members manage nobody; unknown users are 404.
    set_role(&member, &slug, &other_admin, "viewer").expect(403, "forbidden");
    set_role(&owner, &slug, &User::new("ghost"), "viewer").expect(404, "not_found");
    // Setting the same role is a no-op that still answers the member.
    assert_eq!(
        set_role(&owner, &slug, &member, "member").ok(200)["role"],
        "member"
    );
}

#[test]
fn roles_the_plan_lacks_cannot_be_given() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let member = add_member(&owner, &slug, "member");
    set_role(&owner, &slug, &member, "viewer").expect(409, "role_not_available");
    set_role(&owner, &slug, &member, "admin").expect(409, "role_not_available");
}

#[test]
fn a_demotion_takes_effect_on_the_next_request() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    invite(&admin, &slug, &User::new("x").email, "member");
    set_role(&owner, &slug, &admin, "member").ok(200);
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&admin)
        .json(&json!({"email": User::new("y").email, "role": "member"}))
        .send()
        .expect(403, "forbidden");
    assert_eq!(
        get(&format!("/v1/orgs/{slug}")).auth(&admin).send().ok(200)["role"],
        "member"
    );
}

#[test]
fn removal_ends_access_at_once_and_frees_the_seat() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let members: Vec<User> = (0..4)
        .map(|_| add_member(&owner, &slug, "member"))
        .collect();
    // Five of five seats: no more invitations.
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .json(&json!({"email": "late@example.com", "role": "member"}))
        .send()
        .expect(409, "seat_limit_reached");
    let gone = &members[0];
    assert_eq!(
        get(&format!("/v1/orgs/{slug}")).auth(gone).send().ok(200)["role"],
        "member"
    );
    delete(&member_path(&slug, gone))
        .auth(&owner)
        .send()
        .ok(204);
    get(&format!("/v1/orgs/{slug}"))
        .auth(gone)
        .send()
        .expect(404, "not_found");
    delete(&member_path(&slug, gone))
        .auth(&owner)
        .send()
        .expect(404, "not_found");
    assert!(!member_ids(&owner, &slug).contains(&gone.id));
    // The seat is free again, and the removed person can be invited back.
    let (_, token) = invite(&owner, &slug, &gone.email, "member");
    post(&format!("/v1/invitations/{token}/accept"))
        .auth(gone)
        .send()
        .ok(200);
    assert!(member_ids(&owner, &slug).contains(&gone.id));
}

#[test]
fn who_may_remove_whom() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let other_admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    let viewer = add_member(&owner, &slug, "viewer");

    delete(&member_path(&slug, &owner))
        .auth(&owner)
        .send()
        .expect(409, "owner_protected");
    delete(&member_path(&slug, &owner))
        .auth(&admin)
        .send()
        .expect(409, "owner_protected");
    delete(&member_path(&slug, &member))
        .auth(&viewer)
        .send()
        .expect(403, "forbidden");
    delete(&member_path(&slug, &other_admin))
        .auth(&admin)
        .send()
        .expect(403, "forbidden");
    delete(&member_path(&slug, &viewer))
        .auth(&admin)
        .send()
        .ok(204);
    delete(&member_path(&slug, &other_admin))
        .auth(&owner)
        .send()
        .ok(204);
    // Anyone but the owner may leave.
    delete(&member_path(&slug, &member))
        .auth(&member)
        .send()
        .ok(204);
    delete(&member_path(&slug, &admin))
        .auth(&admin)
        .send()
        .ok(204);
    assert_eq!(member_ids(&owner, &slug), std::slice::from_ref(&owner.id));
    delete(&member_path(&slug, &owner))
        .auth(&User::new("stranger"))
        .send()
        .expect(404, "not_found");
}

#[test]
fn ownership_moves_by_transfer_only() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");
    let transfer = format!("/v1/orgs/{slug}/transfer-ownership");

    post(&transfer)
        .auth(&admin)
        .json(&json!({"user_id": member.id}))
        .send()
        .expect(403, "forbidden");
    post(&transfer)
        .auth(&owner)
        .json(&json!({"user_id": "nobody"}))
        .send()
        .expect(404, "not_found");
    post(&transfer)
        .auth(&owner)
        .json(&json!({"user_id": owner.id}))
        .send()
        .expect(400, "invalid_request");
    post(&transfer)
        .auth(&owner)
        .json(&json!({}))
        .send()
        .expect(400, "invalid_request");

    let moved = post(&transfer)
        .auth(&owner)
        .json(&json!({"user_id": member.id}))
        .send()
        .ok(200);
    assert_eq!(moved["owner"]["user_id"], member.id);
    assert_eq!(moved["owner"]["role"], "owner");
    assert_eq!(moved["previous_owner"]["user_id"], owner.id);
    assert_eq!(moved["previous_owner"]["role"], "admin");
    // The new owner is in charge; the previous one is an admin now.
    delete(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .send()
        .expect(403, "forbidden");
    delete(&member_path(&slug, &member))
        .auth(&member)
        .send()
        .expect(409, "owner_protected");
    assert_eq!(
        get(&format!("/v1/orgs/{slug}"))
            .auth(&member)
            .send()
            .ok(200)["role"],
        "owner"
    );
    delete(&format!("/v1/orgs/{slug}"))
        .auth(&member)
        .send()
        .ok(204);
}

#[test]
fn on_plans_without_admins_the_previous_owner_becomes_a_member() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    let member = add_member(&owner, &slug, "member");
    let moved = post(&format!("/v1/orgs/{slug}/transfer-ownership"))
        .auth(&owner)
        .json(&json!({"user_id": member.id}))
        .send()
        .ok(200);
    assert_eq!(moved["previous_owner"]["role"], "member");
}

#[test]
fn another_organizations_members_are_out_of_reach() {
    let owner_a = User::new("a");
    let owner_b = User::new("b");
    let a = create_org(&owner_a, "business");
    let b = create_org(&owner_b, "business");
    let in_b = add_member(&owner_b, &b, "member");
    set_role(&owner_a, &a, &in_b, "viewer").expect(404, "not_found");
    delete(&member_path(&a, &in_b))
        .auth(&owner_a)
        .send()
        .expect(404, "not_found");
    post(&format!("/v1/orgs/{a}/transfer-ownership"))
        .auth(&owner_a)
        .json(&json!({"user_id": in_b.id}))
        .send()
        .expect(404, "not_found");
    set_role(&owner_a, &b, &in_b, "viewer").expect(404, "not_found");
    let unchanged = get(&format!("/v1/orgs/{b}/members"))
        .auth(&owner_b)
        .send()
        .ok(200);
    assert_eq!(unchanged["data"][1]["role"], "member");
}

#[test]
fn concurrent_role_changes_of_one_member_leave_one_winner() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let roles = ["viewer", "admin", "viewer", "admin", "viewer", "admin"];
    let replies = in_parallel(roles.len(), |i| {
        set_role(&owner, &slug, &member, roles[i]).status
    });
    assert!(
        replies.iter().all(|s| *s == 200 || *s == 409),
        "{replies:?}"
    );
    assert!(replies.contains(&200));
    let list = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200);
    let role = list["data"][1]["role"].as_str().unwrap();
    assert!(role == "viewer" || role == "admin");
}
