//! Webhook endpoints. `audit::record` queues one `kind = 'webhook'` outbox row per
//! subscribed endpoint in the change's own batch.

use super::audit::{self, By, Change};
use super::principal::{self, Caller};
use super::{Batch, Db, Rows};
use crate::domain::event::EventType;
use crate::domain::values::new_id;
use crate::domain::webhook::WebhookUrl;
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;
use serde_json::json;

/// A webhook endpoint that has not been deleted (its secret is never read back).
#[derive(Debug, Deserialize)]
pub struct WebhookRow {
    pub seq: i64,
    pub id: String,
    pub url: String,
    /// A JSON array of event names.
    pub events: String,
    pub created_at: i64,
    pub failure_count: i64,
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
}

/// Adds a page of the endpoints of the organization `slug`, disabled ones included, in
/// creation order.
pub fn list(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<WebhookRow> {
    batch.query(sql!(
        "SELECT w.seq, w.id, w.url, w.events, w.created_at, w.failure_count, w.disabled_at,
                w.disabled_reason
           FROM webhooks w JOIN orgs o ON o.id = w.org_id
          WHERE o.slug = ?1 AND o.deleted_at IS NULL AND w.deleted_at IS NULL AND w.seq > ?2
          ORDER BY w.seq LIMIT ?3",
        slug,
        after_seq,
        limit,
    ))
}

/// Adds a read of the endpoint `id` of the organization `slug`.
pub fn find(batch: &mut Batch, slug: &str, id: &str) -> Rows<WebhookRow> {
    batch.query(sql!(
        "SELECT w.seq, w.id, w.url, w.events, w.created_at, w.failure_count, w.disabled_at,
                w.disabled_reason
           FROM webhooks w JOIN orgs o ON o.id = w.org_id
          WHERE o.slug = ?1 AND o.deleted_at IS NULL AND w.id = ?2 AND w.deleted_at IS NULL",
        slug,
        id,
    ))
}

/// Adds an endpoint for `events` at `url`, whose deliveries are signed with `secret`.
pub async fn create(
    db: &Db,
    caller: &Caller,
    url: &WebhookUrl,
    events: &[EventType],
    secret: &str,
    now: Timestamp,
) -> Result<WebhookRow, Problem> {
    let id = new_id();
    let event_names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    let mut batch = Batch::new();
    principal::guard_actor(&mut batch, caller);
    batch.push(sql!(
        "INSERT INTO webhooks (id, org_id, url, events, secret, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &id,
        &caller.org.id,
        url.as_str(),
        json!(event_names).to_string(),
        secret,
        now.0,
    ));
    audit::record(
        &mut batch,
        Change {
            org_id: &caller.org.id,
            org_slug: &caller.org.slug,
            by: By::Actor(&caller.actor),
            event: EventType::WebhookCreated,
            target: ("webhook", &id),
            data: json!({"url": url.as_str(), "events": event_names}),
        },
        now,
    );
    let row = batch.query(sql!(
        "SELECT seq, id, url, events, created_at, failure_count, disabled_at, disabled_reason
           FROM webhooks WHERE id = ?1",
        &id,
    ));
    let results = batch.run(db).await?;
    results.first(row)?.ok_or_else(Problem::internal)
}

/// Deletes `hook`; deliveries still queued for it are dropped. `not_found` when it was
/// deleted meanwhile.
pub async fn delete(
    db: &Db,
    caller: &Caller,
    hook: &WebhookRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = Batch::new();
    principal::guard_actor(&mut batch, caller);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM webhooks
                      WHERE id = ?2 AND org_id = ?3 AND deleted_at IS NULL)",
        &hook.id,
        &caller.org.id,
    );
    batch.push(sql!(
        "UPDATE webhooks SET deleted_at = ?2 WHERE id = ?1",
        &hook.id,
        now.0,
    ));
    drop_queued(&mut batch, &hook.id, now);
    audit::record(
        &mut batch,
        Change {
            org_id: &caller.org.id,
            org_slug: &caller.org.slug,
            by: By::Actor(&caller.actor),
            event: EventType::WebhookDeleted,
            target: ("webhook", &hook.id),
            data: json!({"url": hook.url}),
        },
        now,
    );
    batch.run(db).await.map_err(|p| match p.code {
        Code::NotFound => Problem::not_found("webhook"),
        _ => p,
    })?;
    Ok(())
}

/// Drops the deliveries still queued for endpoint `webhook_id`.
fn drop_queued(batch: &mut Batch, webhook_id: &str, now: Timestamp) {
    batch.push(sql!(
        "UPDATE outbox SET status = 'dropped', done_at = ?2, locked_until = NULL
          WHERE kind = 'webhook' AND subject_id = ?1 AND status = 'pending'",
        webhook_id,
        now.0,
    ));
}
