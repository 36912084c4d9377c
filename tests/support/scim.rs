//! The SCIM service as an identity provider calls it: a token of an organization, and
//! requests under `/scim/v2` with `application/scim+json` bodies.

use super::client::{post, Request};
use super::fixtures::User;
use serde_json::{json, Value};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM token of organization `slug`, issued by its owner: the secret.
pub fn scim_token(owner: &User, slug: &str) -> String {
    post(&format!("/v1/orgs/{slug}/scim-tokens"))
        .auth(owner)
        .json(&json!({"name": "Identity provider"}))
        .send()
        .ok(201)["secret"]
        .as_str()
        .expect("a secret")
        .to_string()
}

/// A request to `/scim/v2{path}` with `token`.
pub fn scim(method: &str, path: &str, token: &str) -> Request {
    Request::new(method, &format!("/scim/v2{path}")).bearer(token)
}

/// The same with a SCIM body.
pub fn scim_with(method: &str, path: &str, token: &str, body: &Value) -> Request {
    scim(method, path, token).raw("application/scim+json", body.to_string().into_bytes())
}

/// A PATCH body of `operations`.
pub fn patch_op(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// Provisions `email` as a User with `token`, as Okta does: the User.
pub fn provision(token: &str, email: &str) -> Value {
    scim_with("POST", "/Users", token, &okta_user(email))
        .send()
        .ok(201)
}

/// The body Okta sends to create a User.
pub fn okta_user(email: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": email,
        "name": {"givenName": "Ana", "familyName": "Lima"},
        "emails": [{"primary": true, "value": email, "type": "work"}],
        "displayName": "Ana Lima",
        "locale": "en-US",
        "externalId": format!("00u-{email}"),
        "groups": [],
        "password": "never-stored-1!",
        "active": true
    })
}
