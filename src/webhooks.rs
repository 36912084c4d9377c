//! Webhook delivery: sends the outbox's webhook rows to their endpoints, signed, within a
//! time limit, and records each outcome. A request sends the deliveries its own changes
//! queued once its response is out (`ctx.wait_until`); the ones that failed are retried on
//! the schedule of `domain::webhook` by the `OUTBOX` Queue's consumer when it is bound, and
//! by the scheduled job otherwise (and whenever a message was lost).
//!
//! Delivery is at least once: a row is claimed before it is sent, so two senders never
//! send it at the same time, but an accepted delivery whose outcome is not recorded (the
//! Worker stopped, D1 failed) is sent again when its claim runs out. Receivers deduplicate
//! by `Roster-Event-Id`, the id of the audit entry the event comes from.

use crate::config::Config;
use crate::domain::secret::WebhookSecret;
use crate::domain::webhook::{self, WebhookUrl};
use crate::domain::{Problem, Timestamp};
use crate::outbound::post_json;
use crate::queue::{self, Delivery, Retry};
use crate::store::webhooks::{self as outbox, DueWebhooks, Failure, WebhookAttempt};
use crate::store::{Db, Start};
use std::rc::Rc;
use std::time::Duration;
use worker::{Date, Env};

/// How long an endpoint has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How long a claim lasts: longer than a send with its timeout and the writes after it, so
/// that only a sender that stopped midway loses its claim.
const CLAIM_SECONDS: i64 = 60;

/// Deliveries sent per claim. Sends are sequential, so the job's run stays well within the
/// platform's limits even if every endpoint times out.
const CLAIM_LIMIT: i64 = 50;

fn clock() -> Timestamp {
    Timestamp::from_millis(Date::now().as_millis())
}

/// Sends, once the response is out (`background`), the deliveries of `event_ids`: the
/// events a request's committed changes queued.
pub fn deliver_queued(
    background: &worker::Context,
    env: &Env,
    cfg: &Rc<Config>,
    event_ids: Vec<String>,
) {
    if event_ids.is_empty() {
        return;
    }
    let env = env.clone();
    let cfg = Rc::clone(cfg);
    background.wait_until(async move {
        if let Some(db) = database(&env) {
            let retries = deliver(&db, &cfg, DueWebhooks::Events(&event_ids)).await;
            queue::send(&cfg, retries).await;
        }
    });
}

/// Sends every delivery whose time has come (the scheduled job).
pub async fn deliver_due(env: &Env, cfg: &Config) {
    if let Some(db) = database(env) {
        let retries = deliver(&db, cfg, DueWebhooks::All).await;
        queue::send(cfg, retries).await;
    }
}

/// Sends the delivery of outbox row `id`, if it is due and nobody else has it (the
/// `OUTBOX` Queue's consumer). Returns the seconds until its next retry, if it failed and
/// will be retried.
pub async fn deliver_row(db: &Db, cfg: &Config, id: &str) -> Option<i64> {
    let retries = deliver(db, cfg, DueWebhooks::Row(id)).await;
    retries.into_iter().next().map(|retry| retry.delay)
}

/// The database, at the primary, for work outside a request.
pub fn database(env: &Env) -> Option<Db> {
    env.d1("DB")
        .map_err(|e| worker::console_error!("d1 binding: {e}"))
        .ok()
        .and_then(|d1| Db::new(&d1, Start::Primary).ok())
}

/// Claims and sends `due`, and records each outcome. Returns the deliveries that failed
/// and are to be retried, with their delays.
async fn deliver(db: &Db, cfg: &Config, due: DueWebhooks<'_>) -> Vec<Retry> {
    let claimed = match outbox::claim(db, due, clock(), CLAIM_SECONDS, CLAIM_LIMIT).await {
        Ok(claimed) => claimed,
        Err(_) => return Vec::new(),
    };
    let mut retries = Vec::new();
    for delivery in claimed {
        let recorded = match (&delivery.url, &delivery.secret) {
            (Some(url), Some(secret)) => match send(cfg, url, secret, &delivery).await {
                Ok(()) => outbox::delivered(db, &delivery, clock())
                    .await
                    .map(|()| None),
                Err(error) => failed(db, &delivery, &error).await,
            },
            _ => outbox::dropped(db, &delivery, clock()).await.map(|()| None),
        };
        match recorded {
            Ok(Some(delay)) => retries.push(Retry {
                delivery: Delivery::Webhook { id: delivery.id },
                delay,
            }),
            Ok(None) => {}
            Err(_) => worker::console_error!(
                "webhook delivery {}: the outcome was not recorded; it will be sent again",
                delivery.id
            ),
        }
    }
    retries
}

/// Records a failed attempt, with what the domain decides follows from it. Returns the
/// delay before the next attempt, if there is one.
async fn failed(db: &Db, delivery: &WebhookAttempt, error: &str) -> Result<Option<i64>, Problem> {
    let now = clock();
    let attempts = delivery.attempts + 1;
    let reason = webhook::disabled_reason(error);
    let delay = webhook::retry_delay(attempts);
    let failure = Failure {
        error,
        retry_at: delay.map(|delay| now.plus(delay)),
        disable_after: webhook::DISABLE_AFTER_FAILURES,
        disabled_reason: &reason,
    };
    outbox::failed(db, delivery, &failure, now)
        .await
        .map(|()| delay)
}

/// POSTs the delivery, signed; `Err` says why it did not succeed.
async fn send(
    cfg: &Config,
    url: &str,
    secret: &WebhookSecret,
    delivery: &WebhookAttempt,
) -> Result<(), String> {
    // The rules may have tightened since the endpoint was created (ALLOW_HTTP_WEBHOOKS
    // turned off): they are applied again to every send.
    WebhookUrl::parse(url, cfg.allow_http_webhooks)
        .map_err(|why| format!("the URL is no longer allowed: it {why}"))?;
    let signature = secret.sign(clock().0, &delivery.payload);
    let headers = [
        ("user-agent", "Roster-Webhooks/1"),
        ("roster-event-id", delivery.event_id.as_str()),
        ("roster-signature", signature.as_str()),
    ];
    let status = post_json(url, &headers, &delivery.payload, TIMEOUT)
        .await
        .map_err(|why| format!("the endpoint {why}"))?;
    match status {
        200..=299 => Ok(()),
        300..=399 => Err(format!("HTTP {status} (redirects are not followed)")),
        _ => Err(format!("HTTP {status}")),
    }
}
