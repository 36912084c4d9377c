//! Retries of outbound deliveries through the `OUTBOX` Queue, when it is bound.
//!
//! The outbox rows and their claims stay the one guarantee; a message only says when to
//! look at a row again. Whoever leaves a row pending for a retry — the request after its
//! first attempt, the consumer, the scheduled job — sends a message naming the row, delayed
//! until the row is due. The consumer claims the row exactly as the job does (a row already
//! settled, not yet due or claimed by someone else is left alone and the message acked),
//! tries it, settles it, and on another failure retries the message with the schedule's
//! next delay. A message that is lost — never sent, dropped after its last retry, a delay
//! beyond what the Queue holds — costs only time: the scheduled job sends its row when the
//! row is due, as it does without the Queue.

use crate::config::Config;
use crate::domain::Timestamp;
use crate::store::kv::Kv;
use crate::{jobs, webhooks};
use serde::{Deserialize, Serialize};
use worker::{Date, Env, MessageBatch, MessageBuilder, MessageExt, QueueRetryOptionsBuilder};

/// An outbox row to try again: the message's body.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Delivery {
    /// An invitation's email.
    Email { id: String },
    /// A webhook delivery.
    Webhook { id: String },
}

/// A delivery left pending, due again in `delay` seconds.
pub struct Retry {
    pub delivery: Delivery,
    pub delay: i64,
}

/// The longest a Queue holds a message back (12 hours). Longer waits are left to the job.
const MAX_DELAY_SECONDS: i64 = 43_200;

/// A message arrives this long after its row is due, so that it never finds the row not
/// due yet when the clock it was delayed by and the Worker's differ by a little.
const SLACK_SECONDS: i64 = 1;

/// The message's delay for a row due in `delay` seconds; `None` when the Queue cannot hold
/// it that long.
fn message_delay(delay: i64) -> Option<u32> {
    let delay = delay.max(0) + SLACK_SECONDS;
    (delay <= MAX_DELAY_SECONDS)
        .then(|| u32::try_from(delay).ok())
        .flatten()
}

/// Sends one message per retry, when the Queue is bound. A send that fails only costs
/// time: the job sends the row when it is due.
pub async fn send(cfg: &Config, retries: Vec<Retry>) {
    let Some(queue) = &cfg.outbox else {
        return;
    };
    for retry in retries {
        let Some(delay) = message_delay(retry.delay) else {
            continue;
        };
        let message = MessageBuilder::new(retry.delivery)
            .delay_seconds(delay)
            .build();
        if let Err(e) = queue.send(message).await {
            worker::console_warn!(
                "outbox queue: a retry was not queued ({e}); the job will send it"
            );
        }
    }
}

/// The consumer: tries each message's row, one after the other (like the job, so that a
/// batch of slow endpoints stays within the platform's limits).
pub async fn consume(batch: MessageBatch<Delivery>, env: &Env) {
    let cfg = Config::get(env);
    let Some(db) = webhooks::database(env) else {
        // Nothing can be claimed: the job sends the rows once D1 answers.
        return;
    };
    let kv = Kv::new(env);
    for message in batch.iter() {
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                // Not a message of ours: retrying it would not make it one.
                worker::console_error!("outbox queue: unreadable message ({e})");
                continue;
            }
        };
        let now = Timestamp::from_millis(Date::now().as_millis());
        let next = match message.body() {
            Delivery::Email { id } => match jobs::retry_email_row(&kv, &cfg, &db, id, now).await {
                Ok(next) => next,
                Err(e) => {
                    // The row stays pending; once any claim on it lapses, the job sends it.
                    worker::console_error!("outbox queue: email {id} failed: {e}");
                    None
                }
            },
            Delivery::Webhook { id } => webhooks::deliver_row(&db, &cfg, id).await,
        };
        match next.and_then(message_delay) {
            Some(delay) => message.retry_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(delay)
                    .build(),
            ),
            None => message.ack(),
        }
    }
}
