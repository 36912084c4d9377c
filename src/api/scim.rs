//! The SCIM 2.0 service's own description of itself (RFC 7643 §5–7): what it supports
//! (`ServiceProviderConfig`), its resource types and their schemas. These documents, not
//! the OpenAPI document, are the contract of `/scim/v2`; identity providers and test
//! suites read them, so they say exactly what Roster keeps and answers.

use crate::domain::scim::{GROUP_SCHEMA, MAX_COUNT, USER_SCHEMA};
use serde_json::{json, Value};

const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// `GET /scim/v2/ServiceProviderConfig`: PATCH and filters (with at most [`MAX_COUNT`]
/// results a page); no bulk, sorting, ETags or password changes.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token of the organization (`scim_…`), issued with POST /v1/orgs/{slug}/scim-tokens.",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig")
        }
    })
}

/// The two resource types: Users (members) and Groups (teams).
pub fn resource_types(base: &str) -> Vec<Value> {
    [
        (
            "User",
            "/Users",
            USER_SCHEMA,
            "A member of the organization",
        ),
        (
            "Group",
            "/Groups",
            GROUP_SCHEMA,
            "A team of the organization",
        ),
    ]
    .into_iter()
    .map(|(name, endpoint, schema, description)| {
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": name,
            "name": name,
            "endpoint": endpoint,
            "description": description,
            "schema": schema,
            "schemaExtensions": [],
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base}/ResourceTypes/{name}")
            }
        })
    })
    .collect()
}

/// One attribute of a schema, with the characteristics RFC 7643 §7 lists.
fn attribute(name: &str, kind: &str, multi: bool, required: bool, mutability: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": multi,
        "description": "",
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": "none"
    })
}

fn with(mut attribute: Value, extra: Value) -> Value {
    if let (Value::Object(a), Value::Object(e)) = (&mut attribute, extra) {
        a.extend(e);
    }
    attribute
}

fn sub_attributes(attribute: Value, subs: Vec<Value>) -> Value {
    with(attribute, json!({ "subAttributes": subs }))
}

fn user_schema() -> Value {
    let string =
        |name, required, mutability| attribute(name, "string", false, required, mutability);
    json!({
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A member of the organization. `userName` is their email address.",
        "attributes": [
            with(string("userName", true, "readWrite"), json!({
                "uniqueness": "server",
                "description": "The member's email address, unique in the organization."
            })),
            with(string("externalId", false, "readWrite"), json!({"caseExact": true})),
            sub_attributes(attribute("name", "complex", false, false, "readWrite"), vec![
                string("givenName", false, "readWrite"),
                string("familyName", false, "readWrite"),
            ]),
            string("displayName", false, "readWrite"),
            with(attribute("active", "boolean", false, true, "readWrite"), json!({
                "description": "false suspends the member (no access; seat, role and grants kept). Always set: true when a request leaves it out."
            })),
            with(
                sub_attributes(attribute("emails", "complex", true, false, "readOnly"), vec![
                    string("value", false, "readOnly"),
                    string("type", false, "readOnly"),
                    attribute("primary", "boolean", false, false, "readOnly"),
                ]),
                json!({"description": "The address of `userName`, the one Roster keeps."}),
            ),
            with(
                sub_attributes(attribute("roles", "complex", true, true, "readWrite"), vec![
                    with(string("value", false, "readWrite"), json!({"caseExact": true})),
                ]),
                json!({"description": "The member's one role, by key: a built-in role but `owner`, or one of the organization's custom roles. Always set: `member` when a request names none; of several, the one marked `primary` (else the first)."}),
            ),
            sub_attributes(attribute("groups", "complex", true, false, "readOnly"), vec![
                string("value", false, "readOnly"),
                string("display", false, "readOnly"),
            ]),
        ],
    })
}

fn group_schema() -> Value {
    let string =
        |name, required, mutability| attribute(name, "string", false, required, mutability);
    json!({
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A team of the organization.",
        "attributes": [
            with(string("displayName", true, "readWrite"), json!({
                "uniqueness": "server",
                "description": "The team's name; its slug is derived from it."
            })),
            with(string("externalId", false, "readWrite"), json!({"caseExact": true})),
            sub_attributes(attribute("members", "complex", true, false, "readWrite"), vec![
                with(string("value", false, "immutable"), json!({"caseExact": true})),
                with(attribute("$ref", "reference", false, false, "immutable"), json!({
                    "referenceTypes": ["User"],
                    "description": "The member's User; `value` is its id."
                })),
            ]),
        ],
    })
}

/// The schemas of the two resource types.
pub fn schemas(base: &str) -> Vec<Value> {
    [user_schema(), group_schema()]
        .into_iter()
        .map(|schema| {
            let id = schema["id"].as_str().unwrap_or_default().to_owned();
            with(
                schema,
                json!({
                    "schemas": [SCHEMA_SCHEMA],
                    "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")}
                }),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_says_what_roster_supports() {
        let config = service_provider_config("https://r.example/scim/v2");
        assert_eq!(config["patch"]["supported"], true);
        assert_eq!(
            config["filter"],
            json!({"supported": true, "maxResults": 100})
        );
        for unsupported in ["bulk", "changePassword", "sort", "etag"] {
            assert_eq!(config[unsupported]["supported"], false, "{unsupported}");
        }
        let types = resource_types("b");
        assert_eq!(types[0]["schema"], USER_SCHEMA);
        assert_eq!(types[1]["endpoint"], "/Groups");
        let schemas = schemas("b");
        let user = &schemas[0];
        assert_eq!(user["meta"]["location"], format!("b/Schemas/{USER_SCHEMA}"));
        let names: Vec<&str> = user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "userName",
                "externalId",
                "name",
                "displayName",
                "active",
                "emails",
                "roles",
                "groups"
            ]
        );
        assert_eq!(user["attributes"][0]["required"], true);
        assert_eq!(schemas[1]["attributes"][0]["name"], "displayName");
    }
}
