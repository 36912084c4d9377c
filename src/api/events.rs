//! What a webhook endpoint receives.

use super::WebhookEvent;
use crate::domain::Timestamp;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// An event, as POSTed to every endpoint subscribed to its type.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery<'a> {
    /// The event id, also sent as `Roster-Event-Id` and the audit entry's id.
    pub id: &'a str,
    #[serde(rename = "type")]
    pub event: WebhookEvent,
    pub created_at: Timestamp,
    pub organization: EventOrganization<'a>,
    /// What changed, by event type; the same as the audit entry's `data`.
    #[schema(value_type = Object)]
    pub data: &'a Value,
}

/// The organization an event happened in.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOrganization<'a> {
    pub id: &'a str,
    pub slug: &'a str,
}
