//! Organizations: create, list, read, update, delete, and tenants kept apart.

mod support;

use serde_json::json;
use support::*;

#[test]
fn creating_an_organization_makes_the_caller_its_owner() {
    let owner = User::new("owner");
    let slug = unique("acme");
    let org = post("/v1/orgs")
        .auth(&owner)
        .json(&json!({"name": "  Acme Inc  ", "slug": slug}))
        .send()
        .ok(201);
    assert_eq!(org["slug"], slug);
    assert_eq!(org["name"], "Acme Inc");
    assert_eq!(org["plan"], "free");
    assert_eq!(org["role"], "owner");
    assert_eq!(org["logo_url"], serde_json::Value::Null);
    assert!(org["id"].as_str().is_some_and(|id| id.len() == 36));
    assert!(org["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));

    let me = get("/v1/me").auth(&owner).send().ok(200);
    assert_eq!(me["user_id"], owner.id);
    assert_eq!(me["email"], owner.email);
    assert_eq!(me["email_verified"], true);
    assert_eq!(
        me["organizations"],
        json!([{"slug": slug, "name": "Acme Inc", "role": "owner"}])
    );
}

#[test]
fn the_slug_is_derived_from_the_name_when_omitted() {
    let owner = User::new("derive");
    let name = unique("Derived Name");
    let org = post("/v1/orgs")
        .auth(&owner)
        .json(&json!({"name": name, "plan": "business"}))
        .send()
        .ok(201);
    let expected: String = name.to_lowercase().replace(' ', "-");
    assert_eq!(org["slug"], expected);
    assert_eq!(org["plan"], "business");
    // A name that yields no valid slug asks for one.
    let reply = post("/v1/orgs")
        .auth(&owner)
        .json(&json!({"name": "ÄÖ"}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["slug"]);
}

#[test]
fn slugs_are_unique_and_follow_the_rules() {
    let owner = User::new("slugs");
    let other = User::new("slugs2");
    let slug = create_org(&owner, "free");
    let reply = post("/v1/orgs")
        .auth(&other)
        .json(&json!({"name": "Copycat", "slug": slug}))
        .send()
        .expect(409, "slug_taken");
    assert!(reply.json["detail"].as_str().unwrap().contains(&slug));
    for bad in [
        "ab",
        "-abc",
        "abc-",
        "ABC",
        "a_b_c",
        "admin",
        "settings",
        &"a".repeat(49),
    ] {
        let reply = post("/v1/orgs")
            .auth(&owner)
            .json(&json!({"name": "X", "slug": bad}))
            .send()
            .expect(400, "invalid_request");
        assert_eq!(reply.error_fields(), ["slug"], "{bad}");
    }
}

#[test]
fn concurrent_creations_of_one_slug_admit_exactly_one() {
    let slug = unique("race");
    let replies = in_parallel(10, |i| {
        post("/v1/orgs")
            .auth(&User::new(&format!("racer{i}")))
            .json(&json!({"name": "Race", "slug": slug}))
            .send()
            .status
    });
    assert_eq!(
        replies.iter().filter(|s| **s == 201).count(),
        1,
        "{replies:?}"
    );
    assert_eq!(
        replies.iter().filter(|s| **s == 409).count(),
        9,
        "{replies:?}"
    );
}

#[test]
fn the_switcher_lists_the_callers_organizations_page_by_page() {
    let user = User::new("switcher");
    let slugs: Vec<String> = (0..3).map(|_| create_org(&user, "free")).collect();
    let first = get("/v1/orgs?limit=2").auth(&user).send().ok(200);
    let page: Vec<_> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["slug"].clone())
        .collect();
    assert_eq!(page, [json!(slugs[0]), json!(slugs[1])]);
    assert!(first["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["role"] == "owner"));
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = get(&format!("/v1/orgs?limit=2&cursor={cursor}"))
        .auth(&user)
        .send()
        .ok(200);
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["data"][0]["slug"], slugs[2]);
    assert_eq!(second["next_cursor"], serde_json::Value::Null);
    // Someone else's list does not show them.
    let stranger = get("/v1/orgs").auth(&User::new("stranger")).send().ok(200);
    assert_eq!(stranger["data"], json!([]));
}

#[test]
fn owners_update_name_slug_and_logo() {
    let owner = User::new("editor");
    let slug = create_org(&owner, "free");
    let new_slug = unique("renamed");
    let org = patch(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .json(&json!({"name": "Renamed", "slug": new_slug, "logo_url": "https://cdn.example.com/l.png"}))
        .send()
        .ok(200);
    assert_eq!(org["name"], "Renamed");
    assert_eq!(org["slug"], new_slug);
    assert_eq!(org["logo_url"], "https://cdn.example.com/l.png");
    get(&format!("/v1/orgs/{slug}"))
        .auth(&owner)
        .send()
        .expect(404, "not_found");
    let org = get(&format!("/v1/orgs/{new_slug}"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(org["name"], "Renamed");
    // null removes the logo; absent fields stay.
    let org = patch(&format!("/v1/orgs/{new_slug}"))
        .auth(&owner)
        .json(&json!({"logo_url": null}))
        .send()
        .ok(200);
    assert_eq!(org["logo_url"], serde_json::Value::Null);
    assert_eq!(org["name"], "Renamed");
    // Bad values, each named.
    let reply = patch(&format!("/v1/orgs/{new_slug}"))
        .auth(&owner)
        .json(&json!({"logo_url": "http://insecure.example.com/x.png", "name": ""}))
        .send()
        .expect(400, "invalid_request");
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["logo_url", "name"]);
    // Another organization's slug is taken.
    let other = create_org(&owner, "free");
    patch(&format!("/v1/orgs/{new_slug}"))
        .auth(&owner)
        .json(&json!({"slug": other}))
        .send()
        .expect(409, "slug_taken");
}

/// `null` is a value only where the contract types a field as nullable (`logo_url`, a
/// resource's `kind`); elsewhere it is refused, naming the field, instead of being taken
/// for an absent field.
#[test]
fn null_is_refused_where_a_string_is_expected() {
    let owner = User::new("nulls");
    let slug = create_org(&owner, "free");
    for body in [
        json!({"slug": null}),
        json!({"name": null, "logo_url": null}),
    ] {
        let reply = patch(&format!("/v1/orgs/{slug}"))
            .auth(&owner)
            .json(&body)
            .send()
            .expect(400, "invalid_request");
        assert_eq!(reply.error_fields().len(), 1, "{body}");
        assert!(["slug", "name"].contains(&reply.error_fields()[0].as_str()));
    }
    let reply = post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&owner)
        .json(&json!({"user_id": null, "permission": "org.read"}))
        .send()
        .expect(400, "invalid_request");
    assert_eq!(reply.error_fields(), ["user_id"]);
    let org = get(&format!("/v1/orgs/{slug}")).auth(&owner).send().ok(200);
    assert_eq!(org["slug"], slug);
}

#[test]
fn other_tenants_see_nothing() {
    let owner = User::new("tenant");
    let stranger = User::new("outsider");
    let slug = create_org(&owner, "pro");
    let path = format!("/v1/orgs/{slug}");
    let missing = get("/v1/orgs/no-such-org-here")
        .auth(&stranger)
        .send()
        .expect(404, "not_found");
    let hidden = get(&path).auth(&stranger).send().expect(404, "not_found");
    // A stranger cannot tell an existing organization from a missing one.
    assert_eq!(missing.json["detail"], hidden.json["detail"]);
    patch(&path)
        .auth(&stranger)
        .json(&json!({"name": "Pwned"}))
        .send()
        .expect(404, "not_found");
    delete(&path)
        .auth(&stranger)
        .send()
        .expect(404, "not_found");
    let org = get(&path).auth(&owner).send().ok(200);
    assert_eq!(org["name"], format!("Org {slug}"));
}

#[test]
fn deleting_an_organization_ends_access_and_keeps_the_slug() {
    let owner = User::new("deleter");
    let slug = create_org(&owner, "free");
    let path = format!("/v1/orgs/{slug}");
    delete(&path).auth(&owner).send().ok(204);
    get(&path).auth(&owner).send().expect(404, "not_found");
    delete(&path).auth(&owner).send().expect(404, "not_found");
    let listed = get("/v1/orgs").auth(&owner).send().ok(200);
    assert!(listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["slug"] != slug));
    // The slug stays reserved until the purge (tests/deletion.rs follows it there).
    let newcomer = User::new("newcomer");
    post("/v1/orgs")
        .auth(&newcomer)
        .json(&json!({"name": "Reborn", "slug": slug}))
        .send()
        .expect(409, "slug_taken");
}

#[test]
fn the_user_row_follows_the_token() {
    let user = User::new("profile");
    let me = get("/v1/me").auth(&user).send().ok(200);
    assert_eq!(me["name"], "profile");
    let renamed = User {
        name: "Renamed Person".into(),
        ..user.clone()
    };
    let me = get("/v1/me").auth(&renamed).send().ok(200);
    assert_eq!(me["name"], "Renamed Person");
}
