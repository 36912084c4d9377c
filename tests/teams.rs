//! Teams: groups of members that plans limit, that maintainers run, and whose grants on
//! resources reach every member of the team for as long as they are in it.

mod support;

use serde_json::{json, Value};
use support::hooks::hooks;
use support::*;

fn teams(slug: &str) -> String {
    format!("/v1/orgs/{slug}/teams")
}

fn create_team(by: &User, slug: &str, body: Value) -> Reply {
    post(&teams(slug)).auth(by).json(&body).send()
}

fn team_member(by: &User, slug: &str, team: &str, user: &User, team_role: &str) -> Reply {
    put(&format!("{}/{team}/members/{}", teams(slug), user.id))
        .auth(by)
        .json(&json!({"team_role": team_role}))
        .send()
}

fn slugs(by: &User, slug: &str) -> Vec<String> {
    get(&format!("{}?limit=100", teams(slug)))
        .auth(by)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_string())
        .collect()
}

fn team_grant(by: &User, slug: &str, resource: &str, team: &str, level: &str) -> Reply {
    put(&format!(
        "/v1/orgs/{slug}/resources/{resource}/team-grants/{team}"
    ))
    .auth(by)
    .json(&json!({"level": level}))
    .send()
}

/// `user`'s effective level on `resource`, as `authorize` answers them.
fn level(user: &User, slug: &str, resource: &str) -> Value {
    post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(user)
        .json(&json!({"resource_id": resource}))
        .send()
        .ok(200)["level"]
        .clone()
}

/// The `teams` of `user`'s Member object.
fn member_teams(by: &User, slug: &str, user: &User) -> Value {
    get(&format!("/v1/orgs/{slug}/members?limit=100"))
        .auth(by)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user.id.as_str())
        .map(|m| m["teams"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn teams_are_created_listed_renamed_and_deleted() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let admin = add_member(&owner, &slug, "admin");
    let member = add_member(&owner, &slug, "member");

    let platform = create_team(&owner, &slug, json!({"name": "  Platform Team! "})).ok(201);
    assert_eq!(platform["slug"], "platform-team");
    assert_eq!(platform["name"], "Platform Team!");
    assert_eq!(platform["members_count"], 0);
    assert!(platform["id"].is_string() && platform["created_at"].is_string());
    let design = create_team(&admin, &slug, json!({"name": "Design", "slug": "design"})).ok(201);
    assert_eq!(design["slug"], "design");

    // Slugs: the organization's rules, unique per organization.
    create_team(&owner, &slug, json!({"name": "Other", "slug": "design"}))
        .expect(409, "slug_taken");
    create_team(&owner, &slug, json!({"name": "Design"})).expect(409, "slug_taken");
    for bad in ["Design", "a", "-x-", "admin", "with space"] {
        let reply = create_team(&owner, &slug, json!({"name": "X", "slug": bad}))
            .expect(400, "invalid_request");
        assert_eq!(reply.error_fields(), ["slug"], "{bad}");
    }
    let reply = create_team(&owner, &slug, json!({"name": "!!"})).expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["slug"]);
    let reply = create_team(&owner, &slug, json!({"slug": "ok-slug", "colour": 1}))
        .expect(400, "invalid_request");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["colour", "name"]);
    // Another organization may use the same slug.
    let other_owner = User::new("other");
    let other = create_org(&other_owner, "business");
    create_team(&other_owner, &other, json!({"name": "Design"})).ok(201);

    // Every member sees them; only `teams.manage` changes them.
    assert_eq!(slugs(&member, &slug), ["platform-team", "design"]);
    let one = get(&format!("{}/design", teams(&slug)))
        .auth(&member)
        .send()
        .ok(200);
    assert_eq!(one, design);
    create_team(&member, &slug, json!({"name": "Mine"})).expect(403, "forbidden");
    patch(&format!("{}/design", teams(&slug)))
        .auth(&member)
        .json(&json!({"name": "Mine"}))
        .send()
        .expect(403, "forbidden");
    delete(&format!("{}/design", teams(&slug)))
        .auth(&member)
        .send()
        .expect(403, "forbidden");
    get(&format!("{}/nope", teams(&slug)))
        .auth(&member)
        .send()
        .expect(404, "not_found");
    get(&format!("{}/design", teams(&slug)))
        .auth(&User::new("stranger"))
        .send()
        .expect(404, "not_found");

    // Renaming; what is already there records nothing.
    let path = format!("{}/design", teams(&slug));
    let renamed = patch(&path)
        .auth(&owner)
        .json(&json!({"name": "Product Design"}))
        .send()
        .ok(200);
    assert_eq!(renamed["name"], "Product Design");
    assert_eq!(renamed["slug"], "design");
    patch(&path)
        .auth(&owner)
        .json(&json!({"name": "Product Design", "slug": "design"}))
        .send()
        .ok(200);
    patch(&path)
        .auth(&owner)
        .json(&json!({}))
        .send()
        .expect(400, "invalid_request");
    patch(&path)
        .auth(&owner)
        .json(&json!({"slug": "platform-team"}))
        .send()
        .expect(409, "slug_taken");
    let moved = patch(&path)
        .auth(&owner)
        .json(&json!({"slug": "research"}))
        .send()
        .ok(200);
    assert_eq!(moved["slug"], "research");
    get(&path).auth(&owner).send().expect(404, "not_found");
    assert_eq!(slugs(&owner, &slug), ["platform-team", "research"]);
    let actions = audit_actions(&owner, &slug);
    assert_eq!(
        actions.iter().filter(|a| *a == "team.updated").count(),
        2,
        "{actions:?}"
    );

    // Deleting.
    delete(&format!("{}/research", teams(&slug)))
        .auth(&owner)
        .send()
        .ok(204);
    delete(&format!("{}/research", teams(&slug)))
        .auth(&owner)
        .send()
        .expect(404, "not_found");
    assert_eq!(slugs(&owner, &slug), ["platform-team"]);
    // Its slug is free again.
    create_team(
        &owner,
        &slug,
        json!({"name": "Research", "slug": "research"}),
    )
    .ok(201);

    // Pages.
    let first = get(&format!("{}?limit=1", teams(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(first["data"][0]["slug"], "platform-team");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get(&format!("{}?limit=1&cursor={cursor}", teams(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(second["data"][0]["slug"], "research");
    assert_eq!(second["next_cursor"], Value::Null);
}

#[test]
fn plans_limit_how_many_teams_there_are() {
    let owner = User::new("owner");
    let free = create_org(&owner, "free");
    create_team(&owner, &free, json!({"name": "One"})).expect(409, "limit_reached");

    let pro = create_org(&owner, "pro");
    for i in 0..5 {
        create_team(&owner, &pro, json!({"name": format!("Team {i}")})).ok(201);
    }
    create_team(&owner, &pro, json!({"name": "Team 5"})).expect(409, "limit_reached");
    // Deleting one makes room for one.
    delete(&format!("{}/team-0", teams(&pro)))
        .auth(&owner)
        .send()
        .ok(204);
    create_team(&owner, &pro, json!({"name": "Team 5"})).ok(201);
    create_team(&owner, &pro, json!({"name": "Team 6"})).expect(409, "limit_reached");

    let business = create_org(&owner, "business");
    for i in 0..7 {
        create_team(&owner, &business, json!({"name": format!("Team {i}")})).ok(201);
    }
    assert_eq!(slugs(&owner, &business).len(), 7);
}

#[test]
fn teams_created_at_once_never_pass_the_plan_limit() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "pro");
    for i in 0..4 {
        create_team(&owner, &slug, json!({"name": format!("Team {i}")})).ok(201);
    }
    let replies = in_parallel(4, |i| {
        create_team(&owner, &slug, json!({"name": format!("Late {i}")}))
    });
    let mut answers: Vec<(u16, String)> = replies
        .iter()
        .map(|r| (r.status, r.code().to_string()))
        .collect();
    answers.sort();
    assert_eq!(
        answers,
        [
            (201, String::new()),
            (409, "limit_reached".into()),
            (409, "limit_reached".into()),
            (409, "limit_reached".into()),
        ]
    );
    assert_eq!(slugs(&owner, &slug).len(), 5);
}

#[test]
fn maintainers_manage_their_own_teams_members() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let alice = add_member(&owner, &slug, "member");
    let bob = add_member(&owner, &slug, "member");
    let carol = add_member(&owner, &slug, "member");
    create_team(&owner, &slug, json!({"name": "Eng"})).ok(201);
    create_team(&owner, &slug, json!({"name": "Ops"})).ok(201);

    // Without `teams.manage` and without maintaining the team: 403.
    team_member(&bob, &slug, "eng", &carol, "member").expect(403, "forbidden");
    let added = team_member(&owner, &slug, "eng", &alice, "maintainer").ok(200);
    assert_eq!(added["user_id"], alice.id);
    assert_eq!(added["email"], alice.email);
    assert_eq!(added["name"], alice.name);
    assert_eq!(added["team_role"], "maintainer");
    assert!(added["added_at"].is_string());

    // A plain member who maintains the team adds and changes its members.
    let bob_added = team_member(&alice, &slug, "eng", &bob, "member").ok(200);
    assert_eq!(bob_added["team_role"], "member");
    assert_eq!(
        team_member(&alice, &slug, "eng", &bob, "member").ok(200),
        bob_added,
        "the same again changes nothing"
    );
    team_member(&bob, &slug, "eng", &carol, "member").expect(403, "forbidden");
    // ... but no other team, and no team itself.
    team_member(&alice, &slug, "ops", &carol, "member").expect(403, "forbidden");
    create_team(&alice, &slug, json!({"name": "Mine"})).expect(403, "forbidden");
    // Someone who is not a member of the organization cannot be added.
    team_member(&alice, &slug, "eng", &User::new("stranger"), "member").expect(404, "not_found");
    team_member(&owner, &slug, "nope", &carol, "member").expect(404, "not_found");
    let reply = team_member(&alice, &slug, "eng", &carol, "owner").expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["team_role"]);

    // Promoted, bob maintains it too.
    let promoted = team_member(&alice, &slug, "eng", &bob, "maintainer").ok(200);
    assert_eq!(promoted["team_role"], "maintainer");
    assert_eq!(promoted["added_at"], bob_added["added_at"]);
    team_member(&bob, &slug, "eng", &carol, "member").ok(200);

    let listed = get(&format!("{}/eng/members", teams(&slug)))
        .auth(&carol)
        .send()
        .ok(200);
    let roles: Vec<(&str, &str)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["user_id"].as_str().unwrap(),
                m["team_role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            (alice.id.as_str(), "maintainer"),
            (bob.id.as_str(), "maintainer"),
            (carol.id.as_str(), "member"),
        ]
    );
    let eng = get(&format!("{}/eng", teams(&slug)))
        .auth(&carol)
        .send()
        .ok(200);
    assert_eq!(eng["members_count"], 3);
    assert_eq!(
        member_teams(&owner, &slug, &alice),
        json!([{"slug": "eng", "team_role": "maintainer"}])
    );
    team_member(&owner, &slug, "ops", &alice, "member").ok(200);
    assert_eq!(
        member_teams(&owner, &slug, &alice),
        json!([{"slug": "eng", "team_role": "maintainer"}, {"slug": "ops", "team_role": "member"}])
    );

    // Taking members out.
    let carol_in_eng = format!("{}/eng/members/{}", teams(&slug), carol.id);
    delete(&carol_in_eng)
        .auth(&carol)
        .send()
        .expect(403, "forbidden");
    delete(&carol_in_eng).auth(&alice).send().ok(204);
    delete(&carol_in_eng)
        .auth(&alice)
        .send()
        .expect(404, "not_found");
    assert_eq!(member_teams(&owner, &slug, &carol), json!([]));
    // A maintainer who steps down manages the team no more.
    team_member(&bob, &slug, "eng", &bob, "member").ok(200);
    team_member(&bob, &slug, "eng", &carol, "member").expect(403, "forbidden");
}

#[test]
fn api_keys_read_and_write_teams_by_scope() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let member = add_member(&owner, &slug, "member");
    let key = |scopes: Value| {
        post(&format!("/v1/orgs/{slug}/api-keys"))
            .auth(&owner)
            .json(&json!({"name": "Backend", "scopes": scopes}))
            .send()
            .ok(201)["secret"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (reader, writer, none) = (
        key(json!(["teams:read"])),
        key(json!(["teams:write"])),
        key(json!([])),
    );

    let created = post(&teams(&slug))
        .bearer(&writer)
        .json(&json!({"name": "Backend"}))
        .send()
        .ok(201);
    assert_eq!(created["slug"], "backend");
    post(&teams(&slug))
        .bearer(&reader)
        .json(&json!({"name": "Other"}))
        .send()
        .expect(403, "forbidden");
    let member_path = format!("{}/backend/members/{}", teams(&slug), member.id);
    put(&member_path)
        .bearer(&reader)
        .json(&json!({"team_role": "member"}))
        .send()
        .expect(403, "forbidden");
    put(&member_path)
        .bearer(&writer)
        .json(&json!({"team_role": "member"}))
        .send()
        .ok(200);
    let listed = get(&teams(&slug)).bearer(&reader).send().ok(200);
    assert_eq!(listed["data"][0]["members_count"], 1);
    get(&format!("{}/backend/members", teams(&slug)))
        .bearer(&reader)
        .send()
        .ok(200);
    get(&teams(&slug))
        .bearer(&none)
        .send()
        .expect(403, "forbidden");
    delete(&member_path).bearer(&writer).send().ok(204);
    delete(&format!("{}/backend", teams(&slug)))
        .bearer(&writer)
        .send()
        .ok(204);
}

#[test]
fn a_teams_grant_reaches_its_members_while_they_are_in_it() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let alice = add_member(&owner, &slug, "member");
    let viewer = add_member(&owner, &slug, "viewer");
    let site = create_resource(&owner, &slug, "Site");
    create_team(&owner, &slug, json!({"name": "Eng"})).ok(201);
    team_member(&owner, &slug, "eng", &alice, "member").ok(200);
    team_member(&owner, &slug, "eng", &viewer, "member").ok(200);
    assert_eq!(level(&alice, &slug, &site), Value::Null);

    assert_eq!(
        team_grant(&owner, &slug, &site, "eng", "write").ok(200),
        json!({"resource_id": site, "team": "eng", "level": "write"})
    );
    assert_eq!(level(&alice, &slug, &site), "write");
    // Capped by the role.
    assert_eq!(level(&viewer, &slug, &site), "read");
    let seen = get(&format!("/v1/orgs/{slug}/resources/{site}"))
        .auth(&alice)
        .send()
        .ok(200);
    assert_eq!(seen["level"], "write");
    // Write is not admin: she may not grant, on her own or to a team.
    team_grant(&alice, &slug, &site, "eng", "admin").expect(403, "forbidden");
    team_grant(&owner, &slug, &site, "nope", "read").expect(404, "not_found");
    team_grant(&owner, &slug, &site, "eng", "root").expect(400, "invalid_request");
    team_grant(
        &owner,
        &slug,
        "2b8e7c2e-4f57-4bb0-9a4c-2a4f1f7f0a11",
        "eng",
        "read",
    )
    .expect(404, "not_found");

    // Out of the team, out of its grant — at once.
    delete(&format!("{}/eng/members/{}", teams(&slug), alice.id))
        .auth(&owner)
        .send()
        .ok(204);
    assert_eq!(level(&alice, &slug, &site), Value::Null);
    team_member(&owner, &slug, "eng", &alice, "member").ok(200);
    assert_eq!(level(&alice, &slug, &site), "write");
    // Her own grant and her team's: the higher counts.
    put(&format!(
        "/v1/orgs/{slug}/resources/{site}/grants/{}",
        alice.id
    ))
    .auth(&owner)
    .json(&json!({"level": "read"}))
    .send()
    .ok(200);
    assert_eq!(level(&alice, &slug, &site), "write");

    // The grant taken away.
    let grant_path = format!("/v1/orgs/{slug}/resources/{site}/team-grants/eng");
    delete(&grant_path).auth(&owner).send().ok(204);
    delete(&grant_path)
        .auth(&owner)
        .send()
        .expect(404, "not_found");
    assert_eq!(level(&alice, &slug, &site), "read");

    // A deleted team's grants go with it.
    team_grant(&owner, &slug, &site, "eng", "admin").ok(200);
    assert_eq!(level(&alice, &slug, &site), "admin");
    delete(&format!("{}/eng", teams(&slug)))
        .auth(&owner)
        .send()
        .ok(204);
    assert_eq!(level(&alice, &slug, &site), "read");
    assert_eq!(member_teams(&owner, &slug, &alice), json!([]));
    // A team of the same name later starts with nothing.
    create_team(&owner, &slug, json!({"name": "Eng"})).ok(201);
    team_member(&owner, &slug, "eng", &alice, "member").ok(200);
    assert_eq!(level(&alice, &slug, &site), "read");
}

#[test]
fn leaving_the_organization_leaves_its_teams() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let alice = add_member(&owner, &slug, "member");
    create_team(&owner, &slug, json!({"name": "Eng"})).ok(201);
    team_member(&owner, &slug, "eng", &alice, "maintainer").ok(200);
    delete(&format!("/v1/orgs/{slug}/members/{}", alice.id))
        .auth(&owner)
        .send()
        .ok(204);
    let members = get(&format!("{}/eng/members", teams(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(members["data"], json!([]));
    let eng = get(&format!("{}/eng", teams(&slug)))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(eng["members_count"], 0);
    // No longer a member: they cannot be put back into a team.
    team_member(&owner, &slug, "eng", &alice, "member").expect(404, "not_found");
}

#[test]
fn team_changes_are_audited_and_delivered() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let alice = add_member(&owner, &slug, "member");
    let url = hooks().url("teams");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["team.member_added"]}))
        .send()
        .ok(201);
    let site = create_resource(&owner, &slug, "Site");

    create_team(&owner, &slug, json!({"name": "Eng"})).ok(201);
    team_member(&owner, &slug, "eng", &alice, "member").ok(200);
    patch(&format!("{}/eng", teams(&slug)))
        .auth(&owner)
        .json(&json!({"name": "Engineering"}))
        .send()
        .ok(200);
    team_grant(&owner, &slug, &site, "eng", "read").ok(200);
    delete(&format!("/v1/orgs/{slug}/resources/{site}/team-grants/eng"))
        .auth(&owner)
        .send()
        .ok(204);
    delete(&format!("{}/eng/members/{}", teams(&slug), alice.id))
        .auth(&owner)
        .send()
        .ok(204);
    delete(&format!("{}/eng", teams(&slug)))
        .auth(&owner)
        .send()
        .ok(204);

    let entries = get(&format!("/v1/orgs/{slug}/audit-log?limit=8"))
        .auth(&owner)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[..7],
        [
            "team.deleted",
            "team.member_removed",
            "team_grant.removed",
            "team_grant.set",
            "team.updated",
            "team.member_added",
            "team.created",
        ]
    );
    assert_eq!(entries[6]["data"], json!({"slug": "eng", "name": "Eng"}));
    assert_eq!(entries[6]["actor"]["id"], owner.id);
    assert_eq!(
        entries[4]["data"],
        json!({"team": "eng", "name": "Engineering"})
    );
    assert_eq!(entries[3]["data"], json!({"team": "eng", "level": "read"}));
    assert_eq!(
        entries[3]["target"],
        json!({"type": "resource", "id": site})
    );

    let hits = hooks().wait_for(&url, 1);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].json["type"], "team.member_added");
    assert_eq!(
        hits[0].json["data"],
        json!({"team": "eng", "user_id": alice.id, "team_role": "member"})
    );
    assert_eq!(
        hits[0].event_id.as_deref(),
        entries[5]["id"].as_str(),
        "the delivery is the audit entry's event"
    );
}

#[test]
fn an_invitation_names_the_teams_joined_on_acceptance() {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    for name in ["Design", "Sales", "Legal"] {
        create_team(&owner, &slug, json!({"name": name})).ok(201);
    }
    let invite = |email: &str, teams: Value| {
        post(&format!("/v1/orgs/{slug}/invitations"))
            .auth(&owner)
            .json(&json!({"email": email, "role": "member", "teams": teams}))
            .send()
    };
    let refused =
        invite(&User::new("x").email, json!(["design", "nowhere"])).expect(400, "invalid_request");
    assert_eq!(refused.error_fields(), ["teams[1]"]);
    invite(&User::new("x").email, json!("design")).expect(400, "invalid_request");

    let joiner = User::new("joiner");
    let invitation = invite(&joiner.email, json!(["sales", "design", "legal"])).ok(201);
    assert_eq!(invitation["teams"], json!(["design", "legal", "sales"]));
    // A team deleted before acceptance is not joined; the others are.
    delete(&format!("{}/legal", teams(&slug)))
        .auth(&owner)
        .send()
        .ok(204);
    let token = server().mail.last(&joiner.email).token();
    let member = post(&format!("/v1/invitations/{token}/accept"))
        .auth(&joiner)
        .send()
        .ok(200);
    let joined = json!([
        {"slug": "design", "team_role": "member"},
        {"slug": "sales", "team_role": "member"},
    ]);
    assert_eq!(member["teams"], joined);
    assert_eq!(member_teams(&owner, &slug, &joiner), joined);
    let actions = audit_actions(&owner, &slug);
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.as_str() == "team.member_added")
            .count(),
        2
    );

    // Each bulk item names its own teams.
    let bulk = post(&format!("/v1/orgs/{slug}/invitations/bulk"))
        .auth(&owner)
        .json(&json!({"invitations": [
            {"email": User::new("a").email, "role": "member", "teams": ["design"]},
            {"email": User::new("b").email, "role": "member", "teams": ["legal"]},
        ]}))
        .send()
        .ok(200);
    assert_eq!(bulk["results"][0]["invitation"]["teams"], json!(["design"]));
    assert_eq!(bulk["results"][1]["error"]["code"], "invalid_request");
}
