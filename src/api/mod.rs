//! The objects of the API as the wire carries them: one `Serialize` type per shape of the
//! contract, used by the handlers, the webhook deliveries and the audit log alike.
//!
//! The same types are the source of the OpenAPI document's schemas (`ToSchema`, read by
//! `openapi.rs`), so an answer and its documentation cannot disagree. Enumerations come
//! from the domain's own enums (`Plan::ALL`, `Permission::ALL`, `Code::ALL`, …). These are pure
//! types: handlers build them from store rows; nothing here parses requests.

pub mod billing;
pub mod console;
pub mod domains;
pub mod events;
pub mod integrations;
pub mod invitations;
pub mod invite_links;
pub mod orgs;
pub mod requests;
pub mod resources;
pub mod roles;
pub mod scim;
pub mod teams;

use crate::domain::domains::{DomainStatus, JoinRequestStatus};
use crate::domain::event::{EventType, WEBHOOK_EVENTS};
use crate::domain::invitation::Status;
use crate::domain::invite_link::LinkStatus;
use crate::domain::joining::{Enrollment, JoinedVia};
use crate::domain::locale::Locale;
use crate::domain::plan::Plan;
use crate::domain::policy::{Permission, Scope, TeamRole};
use crate::domain::values::{Email, Level, LogoUrl, Name, RoleKey, Slug};
use crate::domain::{Code, Timestamp};
use serde::Serialize;
use std::borrow::Cow;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// A string schema listing `values`, the wire names of one of the domain's enums.
fn names_schema<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .enum_values(Some(values))
            .build(),
    )
}

/// Puts a domain enum that has `ALL` and `as_str` on the wire by its `as_str` name, and
/// documents it as a named string schema of all those names, so a variant added to the
/// enum is added to the document.
macro_rules! names_schema {
    ($ty:ty, $name:literal, $description:literal, $values:expr) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                RefOr::T(names_schema($description, $values))
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

names_schema!(
    Locale,
    "Locale",
    "The language of an invitation's email and landing page.",
    Locale::ALL.map(Locale::as_str)
);
names_schema!(
    Level,
    "Level",
    "An access level on one resource: read < write < admin.",
    Level::ALL.map(Level::as_str)
);
names_schema!(
    Plan,
    "Plan",
    "A plan: free (1 seat), pro (5 seats), business (20 seats, every role).",
    Plan::ALL.map(Plan::as_str)
);
names_schema!(
    Scope,
    "Scope",
    "What an API key may do.",
    Scope::ALL.map(Scope::as_str)
);
names_schema!(
    Permission,
    "Permission",
    "A permission of the policy.",
    Permission::ALL.map(Permission::as_str)
);
names_schema!(
    JoinedVia,
    "JoinedVia",
    "How a membership came about: its creator, an invitation, an invite link, a verified \
     domain (auto-join), an approved join request, or SCIM provisioning.",
    JoinedVia::ALL.map(JoinedVia::as_str)
);
names_schema!(
    Enrollment,
    "Enrollment",
    "What people with a verified email on the domain may do: nothing, ask to join, or join \
     at once.",
    Enrollment::ALL.map(Enrollment::as_str)
);
names_schema!(
    DomainStatus,
    "DomainStatus",
    "A domain's state: waiting for its TXT record, verified, or failed (never verified \
     within 7 days, or its record missing for 7 days).",
    DomainStatus::ALL.map(DomainStatus::as_str)
);
names_schema!(
    JoinRequestStatus,
    "JoinRequestStatus",
    "A join request's state.",
    JoinRequestStatus::ALL.map(JoinRequestStatus::as_str)
);
names_schema!(
    TeamRole,
    "TeamRole",
    "A member's standing in a team: maintainers manage the team's members.",
    TeamRole::ALL.map(TeamRole::as_str)
);
names_schema!(
    Status,
    "InvitationStatus",
    "An invitation past its expiry is `expired` at once.",
    Status::ALL.map(Status::as_str)
);
names_schema!(
    LinkStatus,
    "InviteLinkStatus",
    "An invite link past its expiry is `expired` at once; one used `max_uses` times is \
     `exhausted`.",
    LinkStatus::ALL.map(LinkStatus::as_str)
);
names_schema!(
    Code,
    "ProblemCode",
    "A stable, machine-readable error code.",
    Code::distinct().map(Code::as_str)
);
names_schema!(
    EventType,
    "AuditAction",
    "What a change was. Webhook events use the same names.",
    EventType::ALL.map(EventType::as_str)
);

/// One of the events a webhook endpoint can subscribe to: the audit actions that are
/// delivered (`WEBHOOK_EVENTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookEvent(pub EventType);

impl WebhookEvent {
    pub fn as_str(self) -> &'static str {
        self.0.as_str()
    }
}

names_schema!(
    WebhookEvent,
    "WebhookEvent",
    "An event webhook endpoints can subscribe to.",
    WEBHOOK_EVENTS.map(EventType::as_str)
);

impl Serialize for RoleKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The pattern of a role key, built-in or custom.
const ROLE_KEY_PATTERN: &str = "^[a-z0-9-]{3,32}$";

/// A role that can be given by an invitation or a role change, as a request names it
/// (schema only): any role key but `owner`, which moves only by transferring ownership.
pub struct AssignableRole;

/// Documents a value type of the domain as a string schema with the limits its `parse`
/// enforces.
macro_rules! string_schema {
    ($ty:ty, $name:literal, $builder:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                let builder: ObjectBuilder = $builder;
                RefOr::T(Schema::Object(builder.schema_type(Type::String).build()))
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

/// What `char::is_control` refuses, as a JSON Schema pattern: no C0 or C1 control characters.
pub const NO_CONTROL_CHARACTERS: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";

string_schema!(
    RoleKey,
    "RoleKey",
    ObjectBuilder::new()
        .pattern(Some(ROLE_KEY_PATTERN))
        .description(Some(
            "A role: one of the built-in roles (owner, admin, member, viewer) or the key of one \
             of the organization's custom roles."
        ))
);
string_schema!(
    AssignableRole,
    "AssignableRole",
    ObjectBuilder::new()
        .pattern(Some(ROLE_KEY_PATTERN))
        .description(Some(
            "A role that can be given: admin, member, viewer or the key of one of the \
             organization's custom roles. `owner` moves only by transferring ownership."
        ))
);
string_schema!(
    Name,
    "Name",
    ObjectBuilder::new()
        .min_length(Some(1))
        .max_length(Some(Name::MAX_CHARS))
        .pattern(Some(NO_CONTROL_CHARACTERS))
        .description(Some("Trimmed; not blank; no control characters."))
);
string_schema!(
    Slug,
    "Slug",
    ObjectBuilder::new()
        .pattern(Some("^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$"))
        .description(Some(
            "3–48 characters of a-z, 0-9 and -, not starting or ending with -; some words \
             (admin, api, settings, …) are reserved."
        ))
);
string_schema!(
    Email,
    "Email",
    ObjectBuilder::new()
        .max_length(Some(Email::MAX_LEN))
        .description(Some("An email address; trimmed and lower-cased."))
);
string_schema!(
    LogoUrl,
    "LogoUrl",
    ObjectBuilder::new()
        .max_length(Some(LogoUrl::MAX_LEN))
        .description(Some("An https URL without credentials."))
);

/// An email domain of an allow-list, as requests name it (the type only documents it:
/// handlers read it with `domain::invite_link::parse_email_domain`).
pub struct EmailDomain;

string_schema!(
    EmailDomain,
    "EmailDomain",
    ObjectBuilder::new()
        .min_length(Some(3))
        .max_length(Some(253))
        .pattern(Some("^[^@/: ]+\\.[^@/: ]+$"))
        .description(Some(
            "A domain name such as `example.com`: lower-cased and IDNA-normalised; not an IP \
             address."
        ))
);

/// A metadata object: free-form, within the limits of `domain::metadata`.
fn metadata_object(description: String) -> Schema {
    use crate::domain::metadata::{MAX_BYTES, MAX_KEYS};
    use utoipa::openapi::schema::AdditionalProperties;
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .max_properties(Some(MAX_KEYS))
            .description(Some(format!(
                "{description} A JSON object of at most {MAX_BYTES} bytes serialised and \
                 {MAX_KEYS} top-level keys, changed by JSON Merge Patch (RFC 7396)."
            )))
            .build(),
    )
}

/// `metadata` of an organization or a membership.
pub fn metadata_schema() -> Schema {
    metadata_object("The product's own data, readable by every member.".into())
}

/// `private_metadata` of an organization or a membership.
pub fn private_metadata_schema() -> Schema {
    metadata_object(
        "The product's own data, present only for those who manage the organization \
         (`org.update`) or its members (`members.manage`), and API keys with `metadata:read`."
            .into(),
    )
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some("RFC 3339, UTC, whole seconds."))
                .examples(["2026-11-23T10:00:00Z"])
                .build(),
        ))
    }
}

impl ToSchema for Timestamp {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Timestamp")
    }
}

/// A page of a list: `{"data": [...], "next_cursor": "…" | null}`.
#[derive(Debug, Serialize)]
pub struct List<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// `GET /health`
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: HealthState,
    pub d1: HealthState,
    pub kv: HealthState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    Ok,
    Error,
}

impl HealthState {
    pub fn of(ok: bool) -> HealthState {
        if ok {
            HealthState::Ok
        } else {
            HealthState::Error
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NO_CONTROL_CHARACTERS;

    proptest::proptest! {
        /// The documented pattern refuses exactly the characters the parsers refuse.
        #[test]
        fn the_control_character_pattern_is_char_is_control(c in proptest::char::any()) {
            let pattern = regex::Regex::new(NO_CONTROL_CHARACTERS).unwrap();
            proptest::prop_assert_eq!(pattern.is_match(&c.to_string()), !c.is_control());
        }
    }

    /// Every pattern in the document that is about control characters.
    fn control_patterns(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match value.as_str() {
                        Some(p) if key == "pattern" && p.contains("u0000") => out.push(p.into()),
                        _ => control_patterns(value, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| control_patterns(v, out)),
            _ => {}
        }
    }

    /// `#[schema(pattern)]` takes only literals: they must all say what the const says.
    #[test]
    fn every_documented_control_character_pattern_is_the_one_checked() {
        let mut found = Vec::new();
        control_patterns(&crate::openapi::document(), &mut found);
        assert!(
            found.len() >= 4,
            "Name, kind (twice) and feature: {found:?}"
        );
        assert!(
            found.iter().all(|p| p == NO_CONTROL_CHARACTERS),
            "{found:?}"
        );
    }
}
