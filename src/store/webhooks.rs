//! Webhook endpoints and the outbox rows that deliver to them.
//!
//! `audit::record` queues one `kind = 'webhook'` outbox row per subscribed endpoint in the
//! change's own batch; here those rows are claimed, and their outcome recorded. A claim is
//! one `UPDATE … RETURNING` that locks rows for a while, so a request finishing its own
//! deliveries, the scheduled job and the `OUTBOX` Queue's consumer retrying old ones never
//! send the same row at once.
//! Rows of other kinds (email) are never touched here.

use super::audit::{self, By, Change};
use super::principal::{self, Caller};
use super::{Batch, Db, Rows};
use crate::api::events::{WebhookCreatedData, WebhookDeletedData, WebhookDisabledData};
use crate::api::WebhookEvent;
use crate::domain::event::EventType;
use crate::domain::secret::WebhookSecret;
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

/// The statement reading the endpoints (not deleted) of organization `?1` as
/// [`WebhookRow`]s, narrowed by `$rest`.
macro_rules! live_webhooks {
    ($rest:literal) => {
        concat!(
            "SELECT w.seq, w.id, w.url, w.events, w.created_at, w.failure_count, w.disabled_at,
                    w.disabled_reason
               FROM webhooks w JOIN orgs o ON o.id = w.org_id
              WHERE o.slug = ?1 AND o.deleted_at IS NULL AND w.deleted_at IS NULL AND ",
            $rest
        )
    };
}

/// Adds a page of the endpoints of the organization `slug`, disabled ones included, in
/// creation order.
pub fn list(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<WebhookRow> {
    batch.query(sql!(
        live_webhooks!("w.seq > ?2 ORDER BY w.seq LIMIT ?3"),
        slug,
        after_seq,
        limit,
    ))
}

/// Adds a read of the endpoint `id` of the organization `slug`.
pub fn find(batch: &mut Batch, slug: &str, id: &str) -> Rows<WebhookRow> {
    batch.query(sql!(live_webhooks!("w.id = ?2"), slug, id,))
}

/// Adds an endpoint for `events` at `url`, whose deliveries are signed with `secret`.
pub async fn create(
    db: &Db,
    caller: &Caller,
    url: &WebhookUrl,
    events: &[EventType],
    secret: &WebhookSecret,
    now: Timestamp,
) -> Result<WebhookRow, Problem> {
    let id = new_id();
    let event_names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    let mut batch = principal::write_batch(caller);
    batch.push(sql!(
        "INSERT INTO webhooks (id, org_id, url, events, secret, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &id,
        &caller.org.id,
        url.as_str(),
        json!(event_names).to_string(),
        secret.expose(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("webhook", &id),
        WebhookCreatedData {
            url: url.as_str().to_owned(),
            events: events.iter().copied().map(WebhookEvent).collect(),
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
    let mut batch = principal::write_batch(caller);
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
    audit::by_caller(
        &mut batch,
        caller,
        ("webhook", &hook.id),
        WebhookDeletedData {
            url: hook.url.clone(),
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

/// A claimed delivery: the event to send and where to send it.
#[derive(Deserialize)]
pub struct WebhookAttempt {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    /// The body to send, exactly as stored (the signature covers these bytes).
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// `None` when the endpoint was deleted or disabled since the row was queued.
    pub url: Option<String>,
    pub secret: Option<WebhookSecret>,
}

/// Which deliveries to claim.
pub enum DueWebhooks<'a> {
    /// Those of these events (a request's own changes).
    Events(&'a [String]),
    /// Every one whose time has come (the scheduled job).
    All,
    /// The one of this outbox row (a message of the `OUTBOX` Queue).
    Row(&'a str),
}

/// Claims up to `limit` due deliveries for `lock_seconds`: nobody else claims them until
/// they are settled or the lock runs out (then they are due again: at least once). A deleted
/// organization's events wait (its deletion dropped those pending then), except the news of
/// its deletion itself.
pub async fn claim(
    db: &Db,
    due: DueWebhooks<'_>,
    now: Timestamp,
    lock_seconds: i64,
    limit: i64,
) -> Result<Vec<WebhookAttempt>, Problem> {
    // One statement, which SQLite runs alone: the rows the subquery picks are the rows it
    // locks, and a concurrent claim finds them locked.
    let stmt = match due {
        DueWebhooks::Events(event_ids) => sql!(
            "UPDATE outbox SET locked_until = ?1 + ?2
              WHERE id IN (SELECT id FROM outbox
                            WHERE kind = 'webhook' AND status = 'pending'
                              AND next_attempt_at <= ?1
                              AND (locked_until IS NULL OR locked_until < ?1)
                              AND event_id IN (SELECT value FROM json_each(?3))
                              AND (EXISTS (SELECT 1 FROM orgs o
                                            WHERE o.id = outbox.org_id AND o.deleted_at IS NULL)
                                   OR json_extract(payload, '$.type') = 'organization.deleted')
                            ORDER BY seq LIMIT ?4)
             RETURNING id, subject_id AS webhook_id, event_id, payload, attempts,
               (SELECT url FROM webhooks w WHERE w.id = outbox.subject_id
                   AND w.deleted_at IS NULL AND w.disabled_at IS NULL) AS url,
               (SELECT secret FROM webhooks w WHERE w.id = outbox.subject_id
                   AND w.deleted_at IS NULL AND w.disabled_at IS NULL) AS secret",
            now.0,
            lock_seconds,
            json!(event_ids).to_string(),
            limit,
        ),
        DueWebhooks::All => sql!(
            "UPDATE outbox SET locked_until = ?1 + ?2
              WHERE id IN (SELECT id FROM outbox
                            WHERE kind = 'webhook' AND status = 'pending'
                              AND next_attempt_at <= ?1
                              AND (locked_until IS NULL OR locked_until < ?1)
                              AND (EXISTS (SELECT 1 FROM orgs o
                                            WHERE o.id = outbox.org_id AND o.deleted_at IS NULL)
                                   OR json_extract(payload, '$.type') = 'organization.deleted')
                            ORDER BY next_attempt_at, seq LIMIT ?3)
             RETURNING id, subject_id AS webhook_id, event_id, payload, attempts,
               (SELECT url FROM webhooks w WHERE w.id = outbox.subject_id
                   AND w.deleted_at IS NULL AND w.disabled_at IS NULL) AS url,
               (SELECT secret FROM webhooks w WHERE w.id = outbox.subject_id
                   AND w.deleted_at IS NULL AND w.disabled_at IS NULL) AS secret",
            now.0,
            lock_seconds,
            limit,
        ),
        DueWebhooks::Row(id) => sql!(
            "UPDATE outbox SET locked_until = ?1 + ?2
              WHERE id = ?3 AND kind = 'webhook' AND status = 'pending'
                AND next_attempt_at <= ?1
                AND (locked_until IS NULL OR locked_until < ?1)
                AND (EXISTS (SELECT 1 FROM orgs o
                              WHERE o.id = outbox.org_id AND o.deleted_at IS NULL)
                     OR json_extract(payload, '$.type') = 'organization.deleted')
             RETURNING id, subject_id AS webhook_id, event_id, payload, attempts,
               (SELECT url FROM webhooks w WHERE w.id = outbox.subject_id
                   AND w.deleted_at IS NULL AND w.disabled_at IS NULL) AS url,
               (SELECT secret FROM webhooks w WHERE w.id = outbox.subject_id
                   AND w.deleted_at IS NULL AND w.disabled_at IS NULL) AS secret",
            now.0,
            lock_seconds,
            id,
        ),
    };
    db.all(stmt).await
}

/// Records a delivery the endpoint accepted: done, and the endpoint's run of failures ends.
pub async fn delivered(db: &Db, delivery: &WebhookAttempt, now: Timestamp) -> Result<(), Problem> {
    let mut batch = Batch::new();
    batch.push(sql!(
        "UPDATE outbox SET status = 'done', attempts = attempts + 1, done_at = ?2,
                locked_until = NULL, last_error = NULL
          WHERE id = ?1",
        &delivery.id,
        now.0,
    ));
    batch.push(sql!(
        "UPDATE webhooks SET failure_count = 0 WHERE id = ?1 AND failure_count <> 0",
        &delivery.webhook_id,
    ));
    batch.run(db).await?;
    Ok(())
}

/// Records a delivery whose endpoint is gone (deleted or disabled): nothing more to do.
pub async fn dropped(db: &Db, delivery: &WebhookAttempt, now: Timestamp) -> Result<(), Problem> {
    let mut batch = Batch::new();
    batch.push(sql!(
        "UPDATE outbox SET status = 'dropped', done_at = ?2, locked_until = NULL
          WHERE id = ?1 AND status = 'pending'",
        &delivery.id,
        now.0,
    ));
    batch.run(db).await?;
    Ok(())
}

/// What to do after a failed attempt, as the domain decided it.
pub struct Failure<'a> {
    /// What went wrong, for `last_error` (never a secret).
    pub error: &'a str,
    /// When to try again; `None` gives the delivery up (`failed`).
    pub retry_at: Option<Timestamp>,
    /// Consecutive failures at which the endpoint is disabled, and the reason it shows.
    pub disable_after: i64,
    pub disabled_reason: &'a str,
}

/// Records a failed attempt: the delivery is retried later or given up, the endpoint's run
/// of failures grows, and an endpoint whose run reaches `disable_after` is disabled (its
/// queued deliveries dropped, a `webhook.disabled` entry written by the system).
pub async fn failed(
    db: &Db,
    delivery: &WebhookAttempt,
    failure: &Failure<'_>,
    now: Timestamp,
) -> Result<(), Problem> {
    #[derive(Deserialize)]
    struct Disabled {
        id: String,
        org_id: String,
        org_slug: String,
        url: String,
        failure_count: i64,
    }
    let hook = &delivery.webhook_id;
    let mut batch = Batch::new();
    batch.push(sql!(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, locked_until = NULL,
                status = CASE WHEN ?3 IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = coalesce(?3, next_attempt_at),
                done_at = CASE WHEN ?3 IS NULL THEN ?4 END
          WHERE id = ?1 AND status = 'pending'",
        &delivery.id,
        failure.error,
        failure.retry_at.map(|t| t.0),
        now.0,
    ));
    batch.push(sql!(
        "UPDATE webhooks SET failure_count = failure_count + 1
          WHERE id = ?1 AND deleted_at IS NULL AND disabled_at IS NULL",
        hook,
    ));
    // Only the batch that crosses the threshold disables the endpoint and gets its row.
    let disabled: Rows<Disabled> = batch.query(sql!(
        "UPDATE webhooks SET disabled_at = ?2, disabled_reason = ?3
          WHERE id = ?1 AND deleted_at IS NULL AND disabled_at IS NULL AND failure_count >= ?4
         RETURNING id, org_id, url, failure_count,
           (SELECT slug FROM orgs WHERE orgs.id = webhooks.org_id) AS org_slug",
        hook,
        now.0,
        failure.disabled_reason,
        failure.disable_after,
    ));
    batch.push(sql!(
        "UPDATE outbox SET status = 'dropped', done_at = ?2, locked_until = NULL
          WHERE kind = 'webhook' AND subject_id = ?1 AND status = 'pending'
            AND EXISTS (SELECT 1 FROM webhooks WHERE id = ?1 AND disabled_at IS NOT NULL)",
        hook,
        now.0,
    ));
    let results = batch.run(db).await?;
    let Some(hook) = results.first(disabled)? else {
        return Ok(());
    };
    let mut batch = Batch::new();
    audit::record(
        &mut batch,
        Change {
            org_id: &hook.org_id,
            org_slug: &hook.org_slug,
            by: By::System,
            target: ("webhook", &hook.id),
            data: WebhookDisabledData {
                url: hook.url.clone(),
                reason: failure.disabled_reason.to_string(),
                failure_count: hook.failure_count,
            }
            .into(),
        },
        now,
    );
    batch.run(db).await?;
    Ok(())
}

/// One delivery to an endpoint, as its page shows it.
#[derive(Debug, Deserialize)]
pub struct DeliveryRow {
    /// The event delivered (its audit action); none once the log entry is past retention.
    pub action: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

/// The latest `limit` deliveries to endpoint `webhook_id` of organization `org_id`,
/// newest first.
pub fn latest_deliveries(
    batch: &mut Batch,
    org_id: &str,
    webhook_id: &str,
    limit: i64,
) -> Rows<DeliveryRow> {
    batch.query(sql!(
        "SELECT a.action, o.status, o.attempts, o.last_error, o.created_at
           FROM outbox o LEFT JOIN audit_log a ON a.id = o.event_id
          WHERE o.subject_id = ?1 AND o.org_id = ?2 AND o.kind = 'webhook'
          ORDER BY o.seq DESC LIMIT ?3",
        webhook_id,
        org_id,
        limit,
    ))
}
