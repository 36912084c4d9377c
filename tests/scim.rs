//! SCIM 2.0 provisioning: tokens, discovery, the requests Okta and Entra ID send, every
//! error in SCIM's format, isolation between organizations, suspension, the link of a
//! provisioned member to the person who signs in, and seats under parallel provisioning.

mod support;

use serde_json::{json, Value};
use support::scim::*;
use support::*;

fn tokens(slug: &str) -> String {
    format!("/v1/orgs/{slug}/scim-tokens")
}

/// A business organization with a SCIM token: its owner, slug and token.
fn scene() -> (User, String, String) {
    let owner = User::new("owner");
    let slug = create_org(&owner, "business");
    let token = scim_token(&owner, &slug);
    (owner, slug, token)
}

fn email(name: &str) -> String {
    format!("{}@example.com", unique(name))
}

/// Asserts a SCIM error: status (as a string too), `scimType`, and the media type.
#[track_caller]
fn scim_error(reply: Reply, status: u16, scim_type: Option<&str>) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/scim+json"));
    assert_eq!(reply.json["schemas"], json!([ERROR]));
    assert_eq!(reply.json["status"], status.to_string());
    assert_eq!(reply.json["scimType"].as_str(), scim_type, "{}", reply.text);
    reply.json
}

/// The members' user ids, as the organization's owner sees them.
fn member(owner: &User, slug: &str, user_id: &str) -> Option<Value> {
    get(&format!("/v1/orgs/{slug}/members?limit=100"))
        .auth(owner)
        .send()
        .ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user_id)
        .cloned()
}

fn list_users(token: &str, query: &str) -> Value {
    scim("GET", &format!("/Users{query}"), token).send().ok(200)
}

#[test]
fn tokens_are_shown_once_listed_without_secret_and_revoked_at_once() {
    let (owner, slug, _) = scene();
    let created = post(&tokens(&slug))
        .auth(&owner)
        .json(&json!({"name": "Okta"}))
        .send()
        .ok(201);
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(
        secret.starts_with("scim_") && secret.len() == 48,
        "{secret}"
    );
    assert_eq!(created["last_used_at"], Value::Null);
    scim("GET", "/Users", &secret).send().ok(200);
    let listed = get(&tokens(&slug)).auth(&owner).send().ok(200)["data"].clone();
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == created["id"])
        .unwrap()
        .clone();
    assert_eq!(mine.get("secret"), None);
    assert!(mine["last_used_at"].is_string(), "use is recorded: {mine}");

    let id = created["id"].as_str().unwrap();
    delete(&format!("{}/{id}", tokens(&slug)))
        .auth(&owner)
        .send()
        .ok(204);
    let refused = scim("GET", "/Users", &secret).send();
    assert!(refused.header("www-authenticate").is_some());
    scim_error(refused, 401, None);
    delete(&format!("{}/{id}", tokens(&slug)))
        .auth(&owner)
        .send()
        .expect(404, "not_found");
    let actions = audit_actions(&owner, &slug);
    assert!(actions.contains(&"scim_token.created".to_string()));
    assert!(actions.contains(&"scim_token.revoked".to_string()));
}

#[test]
fn tokens_need_integrations_manage_and_the_business_plan() {
    let (owner, slug, _) = scene();
    let member = add_member(&owner, &slug, "member");
    post(&tokens(&slug))
        .auth(&member)
        .json(&json!({"name": "Okta"}))
        .send()
        .expect(403, "forbidden");
    get(&tokens(&slug))
        .auth(&member)
        .send()
        .expect(403, "forbidden");
    for plan in ["free", "pro"] {
        let owner = User::new("owner");
        let slug = create_org(&owner, plan);
        post(&tokens(&slug))
            .auth(&owner)
            .json(&json!({"name": "Okta"}))
            .send()
            .expect(409, "limit_reached");
    }
    post(&tokens(&slug))
        .auth(&owner)
        .json(&json!({"name": ""}))
        .send()
        .expect(400, "invalid_request");
}

#[test]
fn a_downgraded_organization_answers_scim_with_403() {
    let (owner, slug, token) = scene();
    put(&format!("/v1/orgs/{slug}/billing/plan"))
        .auth(&owner)
        .json(&json!({"plan": "pro"}))
        .send()
        .ok(200);
    scim_error(scim("GET", "/Users", &token).send(), 403, None);
}

#[test]
fn bad_tokens_are_401_in_scims_format() {
    for header in [
        None,
        Some("Bearer scim_short"),
        Some("Basic c2NpbTpzY2lt"),
        Some("Bearer scim_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let mut request = Request::new("GET", "/scim/v2/Users");
        if let Some(header) = header {
            request = request.header("authorization", header);
        }
        scim_error(request.send(), 401, None);
    }
    let (owner, _, _) = scene();
    scim_error(scim("GET", "/Users", &owner.token()).send(), 401, None);
}

#[test]
fn discovery_says_what_is_supported() {
    let (_, _, token) = scene();
    let config = scim("GET", "/ServiceProviderConfig", &token).send();
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    let config = config.json;
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 100);
    for unsupported in ["bulk", "sort", "etag", "changePassword"] {
        assert_eq!(config[unsupported]["supported"], false);
    }
    let types = scim("GET", "/ResourceTypes", &token).send().ok(200);
    assert_eq!(types["totalResults"], 2);
    let user_type = scim("GET", "/ResourceTypes/User", &token).send().ok(200);
    assert_eq!(user_type["endpoint"], "/Users");
    let schemas = scim("GET", "/Schemas", &token).send().ok(200);
    assert_eq!(schemas["Resources"][0]["id"], USER);
    scim("GET", &format!("/Schemas/{GROUP}"), &token)
        .send()
        .ok(200);
    scim_error(scim("GET", "/Schemas/urn:nope", &token).send(), 404, None);
}

#[test]
fn okta_provisions_finds_deactivates_reactivates_and_deprovisions() {
    let (owner, slug, token) = scene();
    let address = email("ana");
    let created = scim_with("POST", "/Users", &token, &okta_user(&address)).send();
    assert_eq!(created.status, 201, "{}", created.text);
    let location = created.header("location").unwrap().to_string();
    let user = created.json;
    let id = user["id"].as_str().unwrap().to_string();
    assert!(location.ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(user["userName"], address);
    assert_eq!(user["active"], true);
    assert_eq!(user["roles"], json!([{"value": "member"}]));
    assert_eq!(
        user["name"],
        json!({"givenName": "Ana", "familyName": "Lima"})
    );
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(user.get("password"), None);

    // Okta looks a user up by userName before creating it.
    let found = list_users(&token, &format!("?filter=userName%20eq%20%22{address}%22"));
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], id);
    let absent = list_users(&token, "?filter=userName%20eq%20%22nobody%40example.com%22");
    assert_eq!(
        (absent["totalResults"].clone(), absent["Resources"].clone()),
        (json!(0), json!([]))
    );

    let member_row = member(&owner, &slug, &id).expect("a member before signing in");
    assert_eq!(member_row["joined_via"], "scim");
    assert_eq!(member_row["role"], "member");

    let deactivate = patch_op(json!([{"op": "replace", "value": {"active": false}}]));
    let patched = scim_with("PATCH", &format!("/Users/{id}"), &token, &deactivate)
        .send()
        .ok(200);
    assert_eq!(patched["active"], false);
    assert!(member(&owner, &slug, &id).is_some(), "the seat is kept");

    let reactivate = patch_op(json!([{"op": "replace", "value": {"active": true}}]));
    let patched = scim_with("PATCH", &format!("/Users/{id}"), &token, &reactivate)
        .send()
        .ok(200);
    assert_eq!(patched["active"], true);

    scim("DELETE", &format!("/Users/{id}"), &token)
        .send()
        .ok(204);
    scim_error(
        scim("GET", &format!("/Users/{id}"), &token).send(),
        404,
        None,
    );
    assert!(member(&owner, &slug, &id).is_none());

    let entries = audit_log(&owner, &slug);
    let by_token: Vec<&str> = entries
        .iter()
        .filter(|e| e["actor"]["type"] == "scim_token")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "member.added",
        "member.suspended",
        "member.reactivated",
        "member.removed",
    ] {
        assert!(by_token.contains(&action), "{action} in {by_token:?}");
    }
    let added = entries
        .iter()
        .find(|e| e["action"] == "member.added" && e["actor"]["type"] == "scim_token")
        .unwrap();
    assert_eq!(added["data"]["joined_via"], "scim");
    let removed = entries
        .iter()
        .find(|e| e["action"] == "member.removed")
        .unwrap();
    assert_eq!(removed["data"]["joined_via"], "scim");
}

#[test]
fn entra_id_sends_capitalised_ops_and_string_booleans() {
    let (_, _, token) = scene();
    let address = email("ben");
    let body = json!({
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "b8c2f1e0",
        "userName": address,
        "active": true,
        "displayName": "Ben Ito",
        "emails": [{"primary": true, "type": "work", "value": address}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Ben Ito", "familyName": "Ito", "givenName": "Ben"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
    });
    let user = scim_with("POST", "/Users", &token, &body).send().ok(201);
    let id = user["id"].as_str().unwrap().to_string();
    let by_external = list_users(&token, "?filter=externalId%20eq%20%22b8c2f1e0%22");
    assert_eq!(by_external["Resources"][0]["id"], id);

    let ops = patch_op(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Replace", "path": "displayName", "value": "Ben I."},
        {"op": "Add", "path": "name.givenName", "value": "Benjamin"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops"}
    ]));
    let patched = scim_with("PATCH", &format!("/Users/{id}"), &token, &ops)
        .send()
        .ok(200);
    assert_eq!(patched["active"], false);
    assert_eq!(patched["displayName"], "Ben I.");
    assert_eq!(patched["name"]["givenName"], "Benjamin");
    let back = patch_op(json!([{"op": "Replace", "path": "active", "value": "True"}]));
    let patched = scim_with("PATCH", &format!("/Users/{id}"), &token, &back)
        .send()
        .ok(200);
    assert_eq!(patched["active"], true);

    let group = scim_with(
        "POST",
        "/Groups",
        &token,
        &json!({"schemas": [GROUP], "displayName": unique("Sales"), "members": []}),
    )
    .send()
    .ok(201);
    let group_id = group["id"].as_str().unwrap().to_string();
    let add = patch_op(json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]));
    scim_with("PATCH", &format!("/Groups/{group_id}"), &token, &add)
        .send()
        .ok(200);
    let fetched = scim("GET", &format!("/Groups/{group_id}"), &token)
        .send()
        .ok(200);
    assert_eq!(fetched["members"][0]["value"], id);
    let remove = patch_op(json!([{"op": "Remove", "path": "members", "value": [{"value": id}]}]));
    let removed = scim_with("PATCH", &format!("/Groups/{group_id}"), &token, &remove)
        .send()
        .ok(200);
    assert_eq!(removed["members"], json!([]));
}

#[test]
fn groups_are_teams_with_members_added_and_removed() {
    let (owner, slug, token) = scene();
    let ana = provision(&token, &email("ana"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ben = provision(&token, &email("ben"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let name = unique("Engineering");
    let created = scim_with(
        "POST",
        "/Groups",
        &token,
        &json!({"schemas": [GROUP], "displayName": name, "externalId": "g-1",
                "members": [{"value": ana}, {"value": "not-a-member"}]}),
    )
    .send();
    assert_eq!(created.status, 201, "{}", created.text);
    let group = created.json;
    let id = group["id"].as_str().unwrap().to_string();
    assert_eq!(group["members"].as_array().unwrap().len(), 1);

    let teams = get(&format!("/v1/orgs/{slug}/teams"))
        .auth(&owner)
        .send()
        .ok(200);
    let team = teams["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(
        (team["name"].clone(), team["members_count"].clone()),
        (json!(name), json!(1))
    );

    // Okta: add, then remove by a value filter.
    let add = patch_op(
        json!([{"op": "add", "path": "members", "value": [{"value": ben, "display": "ben"}]}]),
    );
    let after = scim_with("PATCH", &format!("/Groups/{id}"), &token, &add)
        .send()
        .ok(200);
    assert_eq!(after["members"].as_array().unwrap().len(), 2);
    let remove =
        patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{ana}\"]")}]));
    let after = scim_with("PATCH", &format!("/Groups/{id}"), &token, &remove)
        .send()
        .ok(200);
    assert_eq!(after["members"].as_array().unwrap().len(), 1);
    assert_eq!(after["members"][0]["value"], ben);
    assert!(after["members"][0]["$ref"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/Users/{ben}")));

    let filtered = scim(
        "GET",
        &format!("/Groups?filter=displayName%20eq%20%22{name}%22"),
        &token,
    )
    .send()
    .ok(200);
    assert_eq!(filtered["Resources"][0]["id"], id);
    let projected = scim(
        "GET",
        &format!("/Groups/{id}?attributes=displayName"),
        &token,
    )
    .send()
    .ok(200);
    assert_eq!(projected.get("members"), None);
    assert_eq!(projected["displayName"], name);

    let renamed = unique("Platform");
    let replaced = scim_with(
        "PUT",
        &format!("/Groups/{id}"),
        &token,
        &json!({"schemas": [GROUP], "displayName": renamed, "members": [{"value": ana}]}),
    )
    .send()
    .ok(200);
    assert_eq!(replaced["displayName"], renamed);
    assert_eq!(replaced["members"][0]["value"], ana);

    let twin = scim_with(
        "POST",
        "/Groups",
        &token,
        &json!({"schemas": [GROUP], "displayName": renamed}),
    )
    .send();
    scim_error(twin, 409, Some("uniqueness"));

    scim("DELETE", &format!("/Groups/{id}"), &token)
        .send()
        .ok(204);
    scim_error(
        scim("GET", &format!("/Groups/{id}"), &token).send(),
        404,
        None,
    );
    let actions = audit_actions(&owner, &slug);
    for action in [
        "team.created",
        "team.member_added",
        "team.member_removed",
        "team.updated",
        "team.deleted",
    ] {
        assert!(actions.contains(&action.to_string()), "{action}");
    }
}

#[test]
fn errors_name_their_scim_type() {
    let (_, _, token) = scene();
    let not_email = json!({"schemas": [USER], "userName": "ana"});
    scim_error(
        scim_with("POST", "/Users", &token, &not_email).send(),
        400,
        Some("invalidValue"),
    );
    for filter in [
        "title%20eq%20%22x%22",
        "userName%20sw%20%22a%22",
        "userName%20eq%20%22a%22%20or%20userName%20eq%20%22b%22",
    ] {
        let reply = scim("GET", &format!("/Users?filter={filter}"), &token).send();
        scim_error(reply, 400, Some("invalidFilter"));
    }
    let address = email("dup");
    provision(&token, &address);
    let twice = scim_with("POST", "/Users", &token, &okta_user(&address)).send();
    scim_error(twice, 409, Some("uniqueness"));
    let unknown_role =
        json!({"schemas": [USER], "userName": email("r"), "roles": [{"value": "wizard"}]});
    scim_error(
        scim_with("POST", "/Users", &token, &unknown_role).send(),
        400,
        Some("invalidValue"),
    );
    let owner_role =
        json!({"schemas": [USER], "userName": email("r"), "roles": [{"value": "owner"}]});
    scim_error(
        scim_with("POST", "/Users", &token, &owner_role).send(),
        400,
        Some("invalidValue"),
    );
    scim_error(
        scim("GET", "/Users/00000000-0000-0000-0000-000000000000", &token).send(),
        404,
        None,
    );
    let bad_patch = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
    let id = provision(&token, &email("p"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    scim_error(
        scim_with("PATCH", &format!("/Users/{id}"), &token, &bad_patch).send(),
        400,
        Some("invalidSyntax"),
    );
    let no_path = patch_op(json!([{"op": "remove"}]));
    scim_error(
        scim_with("PATCH", &format!("/Users/{id}"), &token, &no_path).send(),
        400,
        Some("noTarget"),
    );
    let not_json = scim("POST", "/Users", &token)
        .raw("application/scim+json", b"{".to_vec())
        .send();
    scim_error(not_json, 400, Some("invalidSyntax"));
}

#[test]
fn roles_name_built_in_and_custom_roles() {
    let (owner, slug, token) = scene();
    post(&format!("/v1/orgs/{slug}/roles"))
        .auth(&owner)
        .json(&json!({"key": "support", "name": "Support", "permissions": ["org.read"]}))
        .send()
        .ok(201);
    let admin = json!({"schemas": [USER], "userName": email("a"), "roles": [{"value": "admin", "primary": true}]});
    let created = scim_with("POST", "/Users", &token, &admin).send().ok(201);
    assert_eq!(created["roles"][0]["value"], "admin");
    let id = created["id"].as_str().unwrap();
    let to_custom =
        patch_op(json!([{"op": "replace", "path": "roles", "value": [{"value": "support"}]}]));
    let changed = scim_with("PATCH", &format!("/Users/{id}"), &token, &to_custom)
        .send()
        .ok(200);
    assert_eq!(changed["roles"][0]["value"], "support");
    assert_eq!(member(&owner, &slug, id).unwrap()["role"], "support");
    assert!(audit_actions(&owner, &slug).contains(&"member.role_changed".to_string()));

    // The owner is neither suspended nor demoted nor removed by the identity provider.
    let suspend = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    scim_error(
        scim_with("PATCH", &format!("/Users/{}", owner.id), &token, &suspend).send(),
        400,
        Some("mutability"),
    );
    scim_error(
        scim("DELETE", &format!("/Users/{}", owner.id), &token).send(),
        403,
        None,
    );
}

#[test]
fn lists_page_and_project() {
    let (owner, _, token) = scene();
    for name in ["a", "b", "c"] {
        provision(&token, &email(name));
    }
    let page = list_users(&token, "?startIndex=2&count=2");
    assert_eq!(page["totalResults"], 4);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    let all = list_users(&token, "?count=1000");
    assert_eq!(
        all["Resources"][0]["id"], owner.id,
        "the owner is a User too"
    );
    let only = list_users(&token, "?attributes=userName&count=1");
    let keys: Vec<&String> = only["Resources"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "schemas", "userName"]);
    let without = list_users(&token, "?excludedAttributes=emails,meta&count=1");
    assert_eq!(without["Resources"][0].get("emails"), None);
    assert!(without["Resources"][0]["userName"].is_string());
}

#[test]
fn one_organizations_token_sees_nothing_of_another() {
    let (_, _, token) = scene();
    let (other_owner, other_slug, other_token) = scene();
    let theirs = provision(&other_token, &email("theirs"));
    let id = theirs["id"].as_str().unwrap();
    scim_error(
        scim("GET", &format!("/Users/{id}"), &token).send(),
        404,
        None,
    );
    scim_error(
        scim("GET", &format!("/Users/{}", other_owner.id), &token).send(),
        404,
        None,
    );
    let patch = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    scim_error(
        scim_with("PATCH", &format!("/Users/{id}"), &token, &patch).send(),
        404,
        None,
    );
    scim_error(
        scim("DELETE", &format!("/Users/{id}"), &token).send(),
        404,
        None,
    );
    let filtered = list_users(
        &token,
        &format!(
            "?filter=userName%20eq%20%22{}%22",
            theirs["userName"].as_str().unwrap()
        ),
    );
    assert_eq!(filtered["totalResults"], 0);
    let group = scim_with(
        "POST",
        "/Groups",
        &other_token,
        &json!({"schemas": [GROUP], "displayName": unique("G")}),
    )
    .send()
    .ok(201);
    scim_error(
        scim(
            "GET",
            &format!("/Groups/{}", group["id"].as_str().unwrap()),
            &token,
        )
        .send(),
        404,
        None,
    );
    assert!(member(&other_owner, &other_slug, id).is_some());
}

#[test]
fn a_suspended_member_has_no_access_until_reactivated() {
    let (owner, slug, token) = scene();
    let ana = User::new("ana");
    create_resource(&owner, &slug, "Site");
    let user = provision(&token, &ana.email);
    let id = user["id"].as_str().unwrap().to_string();
    get(&format!("/v1/orgs/{slug}")).auth(&ana).send().ok(200);

    let suspend = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    scim_with("PATCH", &format!("/Users/{id}"), &token, &suspend)
        .send()
        .ok(200);
    get(&format!("/v1/orgs/{slug}"))
        .auth(&ana)
        .send()
        .expect(404, "not_found");
    get(&format!("/v1/orgs/{slug}/members"))
        .auth(&ana)
        .send()
        .expect(404, "not_found");
    let orgs = get("/v1/orgs").auth(&ana).send().ok(200);
    assert!(orgs["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["slug"] != slug.as_str()));
    // Neither an invitation nor an invite link lets them back in another way.
    post(&format!("/v1/orgs/{slug}/invitations"))
        .auth(&owner)
        .json(&json!({"email": ana.email, "role": "member"}))
        .send()
        .expect(409, "already_member");
    let link = post(&format!("/v1/orgs/{slug}/invite-links"))
        .auth(&owner)
        .json(&json!({"role": "member"}))
        .send()
        .ok(201);
    let link_token = link["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    post(&format!("/v1/invite-links/{link_token}/join"))
        .auth(&ana)
        .send()
        .expect(409, "already_member");
    let verdict = post(&format!("/v1/orgs/{slug}/authorize"))
        .auth(&owner)
        .json(&json!({"user_id": ana.id, "permission": "org.read"}))
        .send()
        .ok(200);
    assert_eq!(verdict["allowed"], false);
    let row = member(&owner, &slug, &ana.id).expect("seat and grants kept");
    assert!(row["suspended_at"].is_string(), "{row}");

    let reactivate = patch_op(json!([{"op": "replace", "path": "active", "value": true}]));
    scim_with("PATCH", &format!("/Users/{id}"), &token, &reactivate)
        .send()
        .ok(200);
    get(&format!("/v1/orgs/{slug}")).auth(&ana).send().ok(200);
    assert_eq!(
        member(&owner, &slug, &ana.id).unwrap()["suspended_at"],
        Value::Null
    );
}

/// The link in both of the upsert's ways: someone whose first request is the verified one
/// (the user row is inserted), and someone who signed in moments before being provisioned
/// (their row is a few seconds old, so only the waiting member makes the upsert write).
#[test]
fn a_provisioned_member_is_linked_whether_their_user_is_new_or_just_seen() {
    let (_owner, slug, token) = scene();
    let new = User::new("carl");
    provision(&token, &new.email);
    let org = get(&format!("/v1/orgs/{slug}")).auth(&new).send().ok(200);
    assert_eq!(org["role"], "member");

    let seen = User::new("dora");
    get(&format!("/v1/orgs/{slug}"))
        .auth(&seen)
        .send()
        .expect(404, "not_found");
    provision(&token, &seen.email);
    let org = get(&format!("/v1/orgs/{slug}")).auth(&seen).send().ok(200);
    assert_eq!(org["role"], "member");
}

#[test]
fn a_provisioned_member_is_linked_on_first_sign_in_with_the_verified_email() {
    let (owner, slug, token) = scene();
    let ana = User::new("ana");
    let user = provision(&token, &ana.email);
    let scim_id = user["id"].as_str().unwrap().to_string();
    assert_ne!(scim_id, ana.id);
    let group = scim_with(
        "POST",
        "/Groups",
        &token,
        &json!({"schemas": [GROUP], "displayName": unique("Ops"), "members": [{"value": scim_id}]}),
    )
    .send()
    .ok(201);
    // A grant given before the first sign-in, to the member the identity provider made.
    let resource = create_resource(&owner, &slug, "Site");
    put(&format!(
        "/v1/orgs/{slug}/resources/{resource}/grants/{scim_id}"
    ))
    .auth(&owner)
    .json(&json!({"level": "write"}))
    .send()
    .ok(200);

    // An unverified token with the same address links nothing.
    let unverified = ana.clone().unverified();
    get(&format!("/v1/orgs/{slug}"))
        .auth(&unverified)
        .send()
        .expect(404, "not_found");

    let org = get(&format!("/v1/orgs/{slug}")).auth(&ana).send().ok(200);
    assert_eq!(org["role"], "member");
    let row = member(&owner, &slug, &ana.id).expect("the membership is the signed-in user's");
    assert_eq!(row["joined_via"], "scim");
    assert_eq!(row["teams"].as_array().unwrap().len(), 1);
    assert_eq!(
        row["grants"],
        json!([{"resource_id": resource, "level": "write"}])
    );
    assert!(member(&owner, &slug, &scim_id).is_none());

    // The identity provider keeps the id it was given.
    let same = scim("GET", &format!("/Users/{scim_id}"), &token)
        .send()
        .ok(200);
    assert_eq!(same["userName"], ana.email);
    let group = scim(
        "GET",
        &format!("/Groups/{}", group["id"].as_str().unwrap()),
        &token,
    )
    .send()
    .ok(200);
    assert_eq!(group["members"][0]["value"], scim_id);
    let suspend = patch_op(json!([{"op": "replace", "path": "active", "value": false}]));
    scim_with("PATCH", &format!("/Users/{scim_id}"), &token, &suspend)
        .send()
        .ok(200);
    get(&format!("/v1/orgs/{slug}"))
        .auth(&ana)
        .send()
        .expect(404, "not_found");
    // Signed in, the address follows the sign-in.
    let rename = patch_op(json!([{"op": "replace", "path": "userName", "value": email("other")}]));
    scim_error(
        scim_with("PATCH", &format!("/Users/{scim_id}"), &token, &rename).send(),
        400,
        Some("mutability"),
    );
}

#[test]
fn provisioning_in_parallel_never_passes_the_seats() {
    let (owner, slug, token) = scene();
    // Business: 20 seats, the owner's among them.
    for i in 0..18 {
        provision(&token, &email(&format!("seat{i}")));
    }
    let addresses: Vec<String> = (0..6).map(|i| email(&format!("race{i}"))).collect();
    let replies = in_parallel(addresses.len(), |i| {
        scim_with("POST", "/Users", &token, &okta_user(&addresses[i])).send()
    });
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for reply in replies.into_iter().filter(|r| r.status != 201) {
        scim_error(reply, 409, Some("tooMany"));
    }
    let billing = get(&format!("/v1/orgs/{slug}/billing"))
        .auth(&owner)
        .send()
        .ok(200);
    assert_eq!(billing["seats"]["used"], 20);
    scim_error(
        scim_with("POST", "/Users", &token, &okta_user(&email("late"))).send(),
        409,
        Some("tooMany"),
    );
}

#[test]
fn put_replaces_a_user() {
    let (_, _, token) = scene();
    let user = provision(&token, &email("ana"));
    let id = user["id"].as_str().unwrap();
    let address = email("renamed");
    let replaced = scim_with(
        "PUT",
        &format!("/Users/{id}"),
        &token,
        &json!({"schemas": [USER], "userName": address, "active": false, "externalId": "x-9"}),
    )
    .send()
    .ok(200);
    assert_eq!(replaced["userName"], address);
    assert_eq!(replaced["active"], false);
    assert_eq!(replaced["externalId"], "x-9");
    assert_eq!(replaced.get("name"), None);
    assert_eq!(replaced["roles"][0]["value"], "member");
    let other = provision(&token, &email("ben"));
    let clash = json!({"schemas": [USER], "userName": other["userName"]});
    scim_error(
        scim_with("PUT", &format!("/Users/{id}"), &token, &clash).send(),
        409,
        Some("uniqueness"),
    );
}

#[test]
fn provisioning_is_delivered_as_webhook_events() {
    let (owner, slug, token) = scene();
    let url = support::hooks::hooks().url("scim");
    post(&format!("/v1/orgs/{slug}/webhooks"))
        .auth(&owner)
        .json(&json!({"url": url, "events": ["member.added", "member.removed", "member.suspended", "member.reactivated"]}))
        .send()
        .ok(201);
    let user = provision(&token, &email("ana"));
    let id = user["id"].as_str().unwrap().to_string();
    for active in [false, true] {
        let ops = patch_op(json!([{"op": "replace", "path": "active", "value": active}]));
        scim_with("PATCH", &format!("/Users/{id}"), &token, &ops)
            .send()
            .ok(200);
    }
    scim("DELETE", &format!("/Users/{id}"), &token)
        .send()
        .ok(204);
    let hits = support::hooks::hooks().wait_for(&url, 4);
    let of_type = |t: &str| {
        hits.iter()
            .find(|h| h.json["type"] == t)
            .unwrap_or_else(|| panic!("{t} delivered"))
            .json["data"]
            .clone()
    };
    assert_eq!(of_type("member.added")["joined_via"], "scim");
    assert_eq!(of_type("member.removed")["joined_via"], "scim");
    assert_eq!(of_type("member.suspended")["user_id"], id);
    assert_eq!(of_type("member.reactivated")["email"], user["userName"]);
}
