//! API keys, webhook endpoints and the audit log.

use super::WebhookEvent;
use crate::domain::event::EventType;
use crate::domain::policy::Scope;
use crate::domain::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An organization API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The secret's first characters, to tell keys apart.
    #[schema(examples("rk_3fZq9T"))]
    pub prefix: String,
    pub created_at: Timestamp,
    /// Kept to the minute.
    #[schema(required = true)]
    pub last_used_at: Option<Timestamp>,
}

/// A key just issued, with its secret: shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Send it as `Authorization: Bearer <secret>`; Roster keeps only its SHA-256.
    #[schema(pattern = "^rk_[A-Za-z0-9_-]{43}$")]
    pub secret: String,
}

/// An organization's SCIM token, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimToken {
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    /// Kept to the minute.
    #[schema(required = true)]
    pub last_used_at: Option<Timestamp>,
}

/// A SCIM token just issued, with its secret: shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewScimToken {
    #[serde(flatten)]
    pub token: ScimToken,
    /// The identity provider sends it as `Authorization: Bearer <secret>` to
    /// `{PUBLIC_URL}/scim/v2`; Roster keeps only its SHA-256.
    #[schema(pattern = "^scim_[A-Za-z0-9_-]{43}$")]
    pub secret: String,
}

/// A webhook endpoint, without its secret. A disabled endpoint says when and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub created_at: Timestamp,
    /// Deliveries failed in a row; 0 after a success.
    pub failure_count: i64,
    #[schema(required = true)]
    pub disabled_at: Option<Timestamp>,
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
}

/// An endpoint just created, with its signing secret: shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The key of every delivery's `Roster-Signature`.
    #[schema(pattern = "^whsec_[A-Za-z0-9_-]{43}$")]
    pub secret: String,
}

/// One change, as the audit log shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    /// For webhook events, also the event id.
    pub id: String,
    pub at: Timestamp,
    pub actor: AuditActor,
    pub action: EventType,
    pub target: AuditTarget,
    /// What changed, by action; the same as a webhook delivery's `data`.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

/// Who made a change: a user, an API key, a SCIM token, or the scheduled job (`system`, no
/// id).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    #[schema(required = true)]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiKey,
    ScimToken,
    System,
}

impl ActorKind {
    pub fn parse(s: &str) -> Option<ActorKind> {
        match s {
            "user" => Some(ActorKind::User),
            "api_key" => Some(ActorKind::ApiKey),
            "scim_token" => Some(ActorKind::ScimToken),
            "system" => Some(ActorKind::System),
            _ => None,
        }
    }
}

/// What a change was made to: `("member", user_id)`, `("invitation", id)`, …
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTarget {
    #[serde(rename = "type")]
    #[schema(required = true, examples("organization", "member", "invitation"))]
    pub kind: Option<String>,
    #[schema(required = true)]
    pub id: Option<String>,
}
