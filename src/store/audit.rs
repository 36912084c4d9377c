//! The audit log and the webhook outbox, written in the same batch as the change they
//! describe: a change and its record commit together or not at all.

use super::principal::Caller;
use super::{Batch, Rows};
use crate::api::events::{EventData, EventOrganization, WebhookDelivery};
use crate::api::WebhookEvent;
use crate::domain::policy::Actor;
use crate::domain::values::new_id;
use crate::domain::Timestamp;
use crate::sql;
use serde::Deserialize;

/// Who made a change.
#[derive(Clone, Copy)]
pub enum By<'a> {
    /// A member or API key acting in the organization.
    Actor(&'a Actor),
    /// A signed-in user acting for themselves (an invitee accepting or declining).
    User(&'a str),
    /// The organization's identity provider, through a SCIM token (its id).
    ScimToken(&'a str),
    /// The scheduled job.
    System,
}

impl By<'_> {
    fn kind_and_id(&self) -> (&'static str, Option<&str>) {
        match self {
            By::Actor(actor) => {
                let (kind, id) = actor.kind_and_id();
                (kind, Some(id))
            }
            By::User(id) => ("user", Some(id)),
            By::ScimToken(id) => ("scim_token", Some(id)),
            By::System => ("system", None),
        }
    }
}

/// One change to record.
pub struct Change<'a> {
    pub org_id: &'a str,
    pub org_slug: &'a str,
    pub by: By<'a>,
    /// `(type, id)` of what changed: `("member", user_id)`, `("invitation", id)`, …
    pub target: (&'a str, &'a str),
    /// What changed; its variant is the action.
    pub data: EventData,
}

/// Adds the audit entry for `change` and, for webhook events, one outbox delivery per
/// endpoint of the organization subscribed to it (sent once the batch commits). Returns the
/// event id.
pub fn record(batch: &mut Batch, change: Change<'_>, now: Timestamp) -> String {
    let id = new_id();
    let (actor_type, actor_id) = change.by.kind_and_id();
    let event = change.data.event();
    let data = serde_json::to_string(&change.data).unwrap_or_default();
    batch.push(sql!(
        "INSERT INTO audit_log (id, org_id, at, actor_type, actor_id, action, target_type,
                                target_id, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &id,
        change.org_id,
        now.0,
        actor_type,
        actor_id,
        event.as_str(),
        change.target.0,
        change.target.1,
        &data,
    ));
    if event.is_webhook_event() {
        let payload = WebhookDelivery {
            id: &id,
            event: WebhookEvent(event),
            created_at: now,
            organization: EventOrganization {
                id: change.org_id,
                slug: change.org_slug,
            },
            data: &change.data,
        };
        batch.queue_deliveries(sql!(
            "INSERT INTO outbox (id, kind, org_id, subject_id, event_id, payload, status,
                                 next_attempt_at, created_at)
             SELECT lower(hex(randomblob(16))), 'webhook', ?1, w.id, ?2, ?3, 'pending', ?4, ?4
               FROM webhooks w
              WHERE w.org_id = ?1 AND w.deleted_at IS NULL AND w.disabled_at IS NULL
                AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = ?5)
             RETURNING event_id",
            change.org_id,
            &id,
            serde_json::to_string(&payload).unwrap_or_default(),
            now.0,
            event.as_str(),
        ));
    }
    id
}

/// Records a change `caller` made in their organization.
pub fn by_caller(
    batch: &mut Batch,
    caller: &Caller,
    target: (&str, &str),
    data: impl Into<EventData>,
    now: Timestamp,
) -> String {
    record(
        batch,
        Change {
            org_id: &caller.org.id,
            org_slug: &caller.org.slug,
            by: By::Actor(&caller.actor),
            target,
            data: data.into(),
        },
        now,
    )
}

/// One entry of the audit log, as stored.
#[derive(Debug, Deserialize)]
pub struct Entry {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// A JSON object.
    pub data: String,
}

/// Adds a page of the audit log of the organization `slug`, newest first: entries below
/// sequence number `before`.
pub fn list(batch: &mut Batch, slug: &str, before: i64, limit: i64) -> Rows<Entry> {
    batch.query(sql!(
        "SELECT a.seq, a.id, a.at, a.actor_type, a.actor_id, a.action, a.target_type,
                a.target_id, a.data
           FROM audit_log a JOIN orgs o ON o.id = a.org_id
          WHERE o.slug = ?1 AND o.deleted_at IS NULL AND a.seq < ?2
          ORDER BY a.seq DESC LIMIT ?3",
        slug,
        before,
        limit,
    ))
}
