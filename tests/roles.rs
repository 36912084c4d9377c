//! Custom roles: the list with the built-in roles as their row of the policy, creating,
//! changing and deleting roles within the caller's own, limits and plans, and custom roles
//! wherever a role is given (invitations, role changes, reassignment) — never escalating.

mod support;

use serde_json::{json, Value};
use support::hooks::hooks;
use support::*;

fn roles_path(slug: &str) -> String {
    format!("/v1/orgs/{slug}/roles")
}

fn create_role(by: &User, slug: &str, body: Value) -> Reply {
    post(&roles_path(slug)).auth(by).json(&body).send()
}

fn role(key: &str, permissions: &[&str]) -> Value {
    json!({"key": key, "name": format!("Role {key}"), "permissions": permissions})
}

fn permissions_of(by: &User, slug: &str) -> Vec<String> {
    get(&format!("/v1/orgs/{slug}")).auth(by).send().ok(200)["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

fn set_role(by: &User, slug: &str, user: &User, role: &str) -> Reply {
    patch(&format!("/v1/orgs/{slug}/members/{}", user.id))
        .auth(by)
        .json(&json!({"role": role}))
        .send()
}

fn invite_as(by: &User, slug: &str, role: &str) -> Reply {
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(by)
        .json(&json!({"email": User::new("invitee").email, "role": role}))
        .send()
}

#[test]
fn the_list_shows_the_built_in_roles_as_the_policy_then_the_custom_ones() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let viewer = add_member(&owner, &slug, "viewer");
    create_role(&owner, &slug, role("support", &["usage.read_all"])).ok(201);
    let list = get(&roles_path(&slug)).auth(&viewer).send().ok(200);
    let data = list["data"].as_array().unwrap();
    let keys: Vec<&str> = data.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["owner", "admin", "member", "viewer", "support"]);
    assert_eq!(list["next_cursor"], Value::Null);
    let by_key = |k: &str| data.iter().find(|r| r["key"] == k).unwrap().clone();
    let owner_role = by_key("owner");
    assert_eq!(owner_role["builtin"], true);
    assert_eq!(owner_role["permissions"].as_array().unwrap().len(), 13);
    assert_eq!(
        (&owner_role["resource_floor"], &owner_role["resource_cap"]),
        (&json!("admin"), &json!("admin"))
    );
    assert_eq!(owner_role["members_count"], 1);
    let admin = by_key("admin");
    let admin_permissions = admin["permissions"].as_array().unwrap();
    for owner_only in ["org.delete", "billing.manage", "admins.manage"] {
        assert!(
            !admin_permissions.contains(&json!(owner_only)),
            "{owner_only}"
        );
    }
    assert!(admin_permissions.contains(&json!("roles.manage")));
    assert!(admin_permissions.contains(&json!("teams.manage")));
    assert_eq!(
        by_key("member")["permissions"],
        json!(["org.read", "usage.consume"])
    );
    assert_eq!(
        (
            &by_key("member")["resource_floor"],
            &by_key("member")["resource_cap"]
        ),
        (&Value::Null, &json!("admin"))
    );
    let viewer_role = by_key("viewer");
    assert_eq!(viewer_role["permissions"], json!(["org.read"]));
    assert_eq!(viewer_role["resource_cap"], "read");
    assert_eq!(viewer_role["members_count"], 1);
    let support = by_key("support");
    assert_eq!(support["builtin"], false);
    assert_eq!(support["name"], "Role support");
    // Every member sees the organization: `org.read` is always part of a role.
    assert_eq!(
        support["permissions"],
        json!(["org.read", "usage.read_all"])
    );
    assert_eq!(
        (&support["resource_floor"], &support["resource_cap"]),
        (&Value::Null, &json!("admin"))
    );
    get(&roles_path(&slug))
        .auth(&User::new("stranger"))
        .send()
        .expect(404, "not_found");
}

#[test]
fn creating_a_role_is_checked_field_by_field_and_within_the_callers_own() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");

    // Owner-only permissions never enter a custom role, whoever asks.
    for owner_only in ["billing.manage", "org.delete", "admins.manage"] {
        for by in [&admin, &owner] {
            let refused = create_role(by, &slug, role("treasurer", &[owner_only]))
                .expect(400, "invalid_request");
            assert_eq!(refused.error_fields(), ["permissions"], "{owner_only}");
        }
    }
    let refused =
        create_role(&admin, &slug, role("odd", &["org.destroy"])).expect(400, "invalid_request");
    assert_eq!(refused.error_fields(), ["permissions"]);
    let refused = create_role(
        &admin,
        &slug,
        json!({"key": "Bad Key", "name": "", "permissions": "all"}),
    )
    .expect(400, "invalid_request");
    assert_eq!(refused.error_fields(), ["key", "name", "permissions"]);
    let floor_above_cap = json!({"key": "lopsided", "name": "Lopsided", "permissions": [],
                                 "resource_floor": "write", "resource_cap": "read"});
    let refused = create_role(&admin, &slug, floor_above_cap).expect(400, "invalid_request");
    assert_eq!(refused.error_fields(), ["resource_floor"]);

    // Built-in names and keys already taken.
    create_role(&admin, &slug, role("viewer", &[])).expect(409, "role_key_taken");
    let created = create_role(&admin, &slug, role("billing-viewer", &["billing.read"])).ok(201);
    assert_eq!(created["key"], "billing-viewer");
    assert_eq!(created["members_count"], 0);
    create_role(&owner, &slug, role("billing-viewer", &[])).expect(409, "role_key_taken");

    // Only who manages roles, and no API key.
    create_role(&member, &slug, role("helpers", &[])).expect(403, "forbidden");
    let key = post(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(&owner)
        .json(&json!({"name": "Backend", "scopes": ["members:read", "members:write"]}))
        .send()
        .ok(201);
    let secret = key["secret"].as_str().unwrap();
    post(&roles_path(&slug))
        .bearer(secret)
        .json(&role("from-key", &[]))
        .send()
        .expect(403, "forbidden");
    // Keys with `members:read` see the roles.
    get(&roles_path(&slug)).bearer(secret).send().ok(200);
}

#[test]
fn a_custom_role_holder_can_give_nothing_beyond_their_own_role() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    // Manages members and roles, reads usage, and reaches `write` at most.
    create_role(
        &owner,
        &slug,
        json!({"key": "lead", "name": "Lead", "permissions": ["members.manage", "roles.manage"],
               "resource_cap": "write"}),
    )
    .ok(201);
    let lead = add_member(&owner, &slug, "lead");
    let viewer = add_member(&owner, &slug, "viewer");

    // A role with a permission the lead lacks, or a higher cap, is refused…
    create_role(&lead, &slug, role("payer", &["billing.read"])).expect(403, "forbidden");
    create_role(
        &lead,
        &slug,
        json!({"key": "editor", "name": "Editor", "permissions": [], "resource_cap": "admin"}),
    )
    .expect(403, "forbidden");
    // …one within it is not.
    create_role(
        &lead,
        &slug,
        json!({"key": "reader", "name": "Reader", "permissions": [], "resource_cap": "read"}),
    )
    .ok(201);

    // Assigning: viewers and `reader` are within the lead's role; `member` consumes credits,
    // which the lead cannot, and reaches `admin`; `admin` is the owner's to give.
    invite_as(&lead, &slug, "viewer").ok(201);
    invite_as(&lead, &slug, "reader").ok(201);
    invite_as(&lead, &slug, "member").expect(403, "forbidden");
    invite_as(&lead, &slug, "admin").expect(403, "forbidden");
    set_role(&lead, &slug, &viewer, "member").expect(403, "forbidden");
    set_role(&lead, &slug, &viewer, "reader").ok(200);
    // Bulk invitations judge each item the same way.
    let bulk = post(&format!("/v1/orgs/{slug}/invitations/bulk"))
        .auth(&lead)
        .json(&json!({"invitations": [
            {"email": User::new("a").email, "role": "reader"},
            {"email": User::new("b").email, "role": "member"},
            {"email": User::new("c").email, "role": "nobody"},
        ]}))
        .send()
        .ok(200);
    let results = bulk["results"].as_array().unwrap();
    assert!(results[0]["invitation"].is_object());
    assert_eq!(results[1]["error"]["code"], "forbidden");
    assert_eq!(results[2]["error"]["code"], "invalid_request");
    // Nor may the lead make its own role more than it is.
    patch(&format!("{}/lead", roles_path(&slug)))
        .auth(&lead)
        .json(&json!({"permissions": ["members.manage", "roles.manage", "billing.read"]}))
        .send()
        .expect(403, "forbidden");
    // A member whose role the lead does not hold entirely is beyond it too.
    let member = add_member(&owner, &slug, "member");
    set_role(&lead, &slug, &member, "viewer").expect(403, "forbidden");
    delete(&format!("/v1/orgs/{slug}/members/{}", member.id))
        .auth(&lead)
        .send()
        .expect(403, "forbidden");
}

#[test]
fn a_changed_role_takes_effect_on_the_holders_next_request() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    create_role(&owner, &slug, role("recruiter", &["members.manage"])).ok(201);
    let recruiter = add_member(&owner, &slug, "recruiter");
    assert_eq!(
        permissions_of(&recruiter, &slug),
        ["org.read", "members.manage"]
    );
    invite_as(&recruiter, &slug, "viewer").ok(201);
    let changed = patch(&format!("{}/recruiter", roles_path(&slug)))
        .auth(&owner)
        .json(&json!({"permissions": [], "name": "Former recruiter", "description": "Reads."}))
        .send()
        .ok(200);
    assert_eq!(changed["permissions"], json!(["org.read"]));
    assert_eq!(changed["description"], "Reads.");
    assert_eq!(changed["members_count"], 1);
    invite_as(&recruiter, &slug, "viewer").expect(403, "forbidden");
    assert_eq!(permissions_of(&recruiter, &slug), ["org.read"]);
    // Asking for what is already there changes nothing and records nothing.
    let before = audit_actions(&owner, &slug).len();
    patch(&format!("{}/recruiter", roles_path(&slug)))
        .auth(&owner)
        .json(&json!({"permissions": ["org.read"]}))
        .send()
        .ok(200);
    assert_eq!(audit_actions(&owner, &slug).len(), before);
    // Built-in roles are the policy's, not the organization's.
    for key in ["owner", "admin", "member", "viewer"] {
        patch(&format!("{}/{key}", roles_path(&slug)))
            .auth(&owner)
            .json(&json!({"name": "Renamed"}))
            .send()
            .expect(409, "role_builtin");
        delete(&format!("{}/{key}", roles_path(&slug)))
            .auth(&owner)
            .send()
            .expect(409, "role_builtin");
    }
    patch(&format!("{}/nobody", roles_path(&slug)))
        .auth(&owner)
        .json(&json!({"name": "Renamed"}))
        .send()
        .expect(404, "not_found");
    patch(&format!("{}/recruiter", roles_path(&slug)))
        .auth(&owner)
        .json(&json!({"resource_floor": "admin", "resource_cap": "write"}))
        .send()
        .expect(400, "invalid_request");
}

#[test]
fn lowering_a_roles_cap_lowers_its_holders_grants() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    create_role(&owner, &slug, role("editor", &["usage.consume"])).ok(201);
    let editor = add_member(&owner, &slug, "editor");
    let id = &create_resource(&owner, &slug, "Docs");
    put(&format!(
        "/v1/orgs/{slug}/resources/{id}/grants/{}",
        editor.id
    ))
    .auth(&owner)
    .json(&json!({"level": "admin"}))
    .send()
    .ok(200);
    patch(&format!("{}/editor", roles_path(&slug)))
        .auth(&owner)
        .json(&json!({"resource_cap": "read"}))
        .send()
        .ok(200);
    let member = get(&format!("/v1/orgs/{slug}/members"))
        .auth(&owner)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == editor.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        member["grants"],
        json!([{"resource_id": id, "level": "read"}])
    );
    put(&format!(
        "/v1/orgs/{slug}/resources/{id}/grants/{}",
        editor.id
    ))
    .auth(&owner)
    .json(&json!({"level": "write"}))
    .send()
    .expect(409, "grant_exceeds_role");
}

#[test]
fn a_floor_gives_a_level_on_every_resource() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    create_role(
        &owner,
        &slug,
        json!({"key": "auditor", "name": "Auditor", "permissions": [], "resource_floor": "read",
               "resource_cap": "read"}),
    )
    .ok(201);
    let auditor = add_member(&owner, &slug, "auditor");
    let id = &create_resource(&owner, &slug, "Ledger");
    let listed = get(&format!("/v1/orgs/{slug}/resources"))
        .auth(&auditor)
        .send()
        .ok(200);
    assert_eq!(listed["data"][0]["level"], "read");
    let answer = post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&auditor)
        .json(&json!({"resource_id": id, "level": "write"}))
        .send()
        .ok(200);
    assert_eq!(
        answer,
        json!({"allowed": false, "role": "auditor", "level": "read"})
    );
    patch(&format!("/v1/orgs/{slug}/resources/{id}"))
        .auth(&auditor)
        .json(&json!({"name": "Renamed"}))
        .send()
        .expect(403, "forbidden");
}

#[test]
fn deleting_a_held_role_needs_somewhere_for_its_holders_to_go() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let url = hooks().url("roles");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(
            &json!({"url": url, "events": ["role.created", "role.deleted", "member.role_changed"]}),
        )
        .send()
        .ok(201);
    create_role(&owner, &slug, role("support", &["usage.read_all"])).ok(201);
    let holder = add_member(&owner, &slug, "support");
    let pending = invite_as(&owner, &slug, "support").ok(201);
    let path = format!("{}/support", roles_path(&slug));
    delete(&path).auth(&owner).send().expect(409, "role_in_use");
    delete(&format!("{path}?reassign_to=owner"))
        .auth(&owner)
        .send()
        .expect(400, "invalid_request");
    delete(&format!("{path}?reassign_to=nobody"))
        .auth(&owner)
        .send()
        .expect(400, "invalid_request");
    delete(&format!("{path}?reassign_to=support"))
        .auth(&owner)
        .send()
        .expect(400, "invalid_request");
    delete(&format!("{path}?reassign_to=viewer"))
        .auth(&owner)
        .send()
        .ok(204);
    let roles = get(&roles_path(&slug)).auth(&owner).send().ok(200);
    assert_eq!(roles["data"].as_array().unwrap().len(), 4);
    assert_eq!(permissions_of(&holder, &slug), ["org.read"]);
    let invitation = get(&format!(
        "/v1/orgs/{slug}/invitations/{}",
        pending["id"].as_str().unwrap()
    ))
    .auth(&owner)
    .send()
    .ok(200);
    assert_eq!(invitation["role"], "viewer");
    delete(&path).auth(&owner).send().expect(404, "not_found");

    // An invite link gives a role too: it moves with the holders.
    create_role(&owner, &slug, role("guest", &[])).ok(201);
    let link = post(&format!("/v1/orgs/{slug}/invite-links"))
        .auth(&owner)
        .json(&json!({"role": "guest"}))
        .send()
        .ok(201);
    let guest = format!("{}/guest", roles_path(&slug));
    delete(&guest)
        .auth(&owner)
        .send()
        .expect(409, "role_in_use");
    delete(&format!("{guest}?reassign_to=viewer"))
        .auth(&owner)
        .send()
        .ok(204);
    let links = get(&format!("/v1/orgs/{slug}/invite-links"))
        .auth(&owner)
        .send()
        .ok(200);
    let moved = links["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == link["id"])
        .unwrap()
        .clone();
    assert_eq!(moved["role"], "viewer");
    let token = link["url"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(
        get(&format!("/v1/invite-links/{token}")).send().ok(200)["role"],
        "viewer"
    );

    // An unheld role goes without reassignment.
    create_role(&owner, &slug, role("spare", &[])).ok(201);
    delete(&format!("{}/spare", roles_path(&slug)))
        .auth(&owner)
        .send()
        .ok(204);

    let hits = hooks().wait_for(&url, 7);
    let mut types: Vec<&str> = hits
        .iter()
        .map(|h| h.json["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "member.role_changed",
            "role.created",
            "role.created",
            "role.created",
            "role.deleted",
            "role.deleted",
            "role.deleted"
        ]
    );
    let deleted = hits
        .iter()
        .find(|h| h.json["type"] == "role.deleted" && h.json["data"]["key"] == "support")
        .unwrap();
    assert_eq!(deleted.json["data"]["reassigned_to"], "viewer");
    let changed = hits
        .iter()
        .find(|h| h.json["type"] == "member.role_changed")
        .unwrap();
    assert_eq!(
        changed.json["data"],
        json!({"user_id": holder.id, "from": "support", "to": "viewer"})
    );
}

#[test]
fn custom_roles_are_a_business_feature_limited_to_25() {
    let owner = User::new("owner");
    let pro = create_org(&owner, "pro");
    create_role(&owner, &pro, role("any", &[])).expect(409, "limit_reached");

    let slug = create_org(&owner, "business");
    for i in 0..24 {
        create_role(&owner, &slug, role(&format!("role-{i}"), &[])).ok(201);
    }
    // The 25th and 26th at once: exactly one fits.
    let replies = in_parallel(2, |i| {
        create_role(&owner, &slug, role(&format!("last-{i}"), &[]))
    });
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let refused = replies.into_iter().find(|r| r.status == 409).unwrap();
    assert_eq!(refused.code(), "limit_reached");
    let roles = get(&roles_path(&slug)).auth(&owner).send().ok(200);
    assert_eq!(roles["data"].as_array().unwrap().len(), 4 + 25);

    // Downgrading is blocked while any custom role exists.
    let small = create_org(&owner, "business");
    create_role(&owner, &small, role("helper", &[])).ok(201);
    let plan = format!("/v1/orgs/{small}/billing/plan");
    put(&plan)
        .auth(&owner)
        .json(&json!({"plan": "pro"}))
        .send()
        .expect(409, "plan_downgrade_blocked");
    delete(&format!("{}/helper", roles_path(&small)))
        .auth(&owner)
        .send()
        .ok(204);
    put(&plan)
        .auth(&owner)
        .json(&json!({"plan": "pro"}))
        .send()
        .ok(200);
}

#[test]
fn the_organization_tells_each_caller_what_they_may_do() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let viewer = add_member(&owner, &slug, "viewer");
    assert_eq!(permissions_of(&owner, &slug).len(), 13);
    assert_eq!(
        permissions_of(&member, &slug),
        ["org.read", "usage.consume"]
    );
    assert_eq!(permissions_of(&viewer, &slug), ["org.read"]);
    let key = post(&format!("/v1/orgs/{slug}/api-keys"))
        .auth(&owner)
        .json(&json!({"name": "Backend", "scopes": ["usage:write", "teams:write"]}))
        .send()
        .ok(201);
    let org = get(&format!("/v1/orgs/{slug}"))
        .bearer(key["secret"].as_str().unwrap())
        .send()
        .ok(200);
    assert_eq!(
        org["permissions"],
        json!(["org.read", "usage.consume", "teams.manage"])
    );
    assert_eq!(org["role"], Value::Null);
    // The organization switcher shows each organization's role, custom ones included.
    create_role(&owner, &slug, role("support", &[])).ok(201);
    set_role(&owner, &slug, &viewer, "support").ok(200);
    let mine = get("/v1/orgs").auth(&viewer).send().ok(200);
    assert_eq!(mine["data"][0]["role"], "support");
    let me = get("/v1/me").auth(&viewer).send().ok(200);
    assert_eq!(me["organizations"][0]["role"], "support");
}

#[test]
fn an_invitation_to_a_custom_role_is_accepted_into_it() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    create_role(&owner, &slug, role("support", &["usage.read_all"])).ok(201);
    let guest = User::new("guest");
    let (invitation, token) = invite(&owner, &slug, &guest.email, "support");
    assert_eq!(invitation["role"], "support");
    let email = server().mail.last(&guest.email);
    assert!(email.text.contains("“support”"), "{}", email.text);
    let preview = get(&format!("/v1/invitations/{token}")).send().ok(200);
    assert_eq!(preview["role"], "support");
    let member = post(&format!("/v1/invitations/{token}/accept"))
        .auth(&guest)
        .send()
        .ok(200);
    assert_eq!(member["role"], "support");
    assert_eq!(
        permissions_of(&guest, &slug),
        ["org.read", "usage.read_all"]
    );
    // An unknown role is a bad request, naming the field.
    let refused = invite_as(&owner, &slug, "nobody").expect(400, "invalid_request");
    assert_eq!(refused.error_fields(), ["role"]);
    let refused = set_role(&owner, &slug, &guest, "nobody").expect(400, "invalid_request");
    assert_eq!(refused.error_fields(), ["role"]);
}

#[test]
fn a_capped_role_stays_capped_whatever_its_teams_hold() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    create_role(
        &owner,
        &slug,
        json!({"key": "reader", "name": "Reader", "permissions": [], "resource_cap": "read"}),
    )
    .ok(201);
    let reader = add_member(&owner, &slug, "reader");
    let member = add_member(&owner, &slug, "member");
    let team = post(&format!("/v1/orgs/{slug}/teams"))
        .auth(&owner)
        .json(&json!({"name": "Design"}))
        .send()
        .ok(201);
    let team = team["slug"].as_str().unwrap();
    for user in [&reader, &member] {
        put(&format!("/v1/orgs/{slug}/teams/{team}/members/{}", user.id))
            .auth(&owner)
            .json(&json!({"team_role": "member"}))
            .send()
            .ok(200);
    }
    let id = &create_resource(&owner, &slug, "Mockups");
    put(&format!(
        "/v1/orgs/{slug}/resources/{id}/team-grants/{team}"
    ))
    .auth(&owner)
    .json(&json!({"level": "admin"}))
    .send()
    .ok(200);
    let ask = |user: &User, level: &str| {
        let reply = post(&format!("/v1/orgs/{slug}/authorize"))
            .auth(user)
            .json(&json!({"resource_id": id, "level": level}))
            .send();
        // The role's definition and the team's grant are read with the caller.
        assert_eq!(reply.round_trips(), 1);
        reply.ok(200)
    };
    assert_eq!(
        ask(&reader, "read"),
        json!({"allowed": true, "role": "reader", "level": "read"})
    );
    assert_eq!(
        ask(&reader, "write"),
        json!({"allowed": false, "role": "reader", "level": "read"})
    );
    assert_eq!(
        ask(&member, "admin"),
        json!({"allowed": true, "role": "member", "level": "admin"})
    );
    // Asked by the owner about the reader: the same answer.
    let about = post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&owner)
        .json(&json!({"user_id": reader.id, "resource_id": id, "level": "write"}))
        .send()
        .ok(200);
    assert_eq!(about["level"], "read");
}
