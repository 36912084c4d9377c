//! The outbox of invitation emails: rows claimed by one worker at a time, retried with
//! backoff until delivered, dropped or given up.

use super::{Batch, Db};
use crate::domain::{Problem, Timestamp};
use crate::sql;
use serde::Deserialize;

/// How long a claimed row stays with the run that claimed it.
const CLAIM_SECONDS: i64 = 120;

/// An email the scheduled job is to try again.
#[derive(Debug, Deserialize)]
pub struct ClaimedEmail {
    pub id: String,
    /// The invitation.
    pub subject_id: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Claims up to `limit` due emails in one statement, so that overlapping runs (or a
/// request still sending) never get the same row.
pub async fn claim_emails(
    db: &Db,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<ClaimedEmail>, Problem> {
    db.all(sql!(
        "UPDATE outbox SET locked_until = ?1 + ?2, attempts = attempts + 1
          WHERE id IN (SELECT id FROM outbox
                        WHERE kind = 'email' AND status = 'pending' AND next_attempt_at <= ?1
                          AND (locked_until IS NULL OR locked_until <= ?1)
                        ORDER BY next_attempt_at LIMIT ?3)
          RETURNING id, subject_id, attempts",
        now.0,
        CLAIM_SECONDS,
        limit,
    ))
    .await
}

/// The email went out (`sent`) or to the log (`logged`).
pub async fn email_delivered(
    db: &Db,
    claimed: &ClaimedEmail,
    delivery: &str,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = Batch::new();
    batch.push(sql!(
        "UPDATE outbox SET status = 'done', done_at = ?2, locked_until = NULL WHERE id = ?1",
        &claimed.id,
        now.0,
    ));
    batch.push(sql!(
        "UPDATE invitations SET email_delivery = ?2 WHERE id = ?1",
        &claimed.subject_id,
        delivery,
    ));
    batch.run(db).await.map(|_| ())
}

/// The attempt failed: try again at `retry_at`, or give up (`None`).
pub async fn email_failed(
    db: &Db,
    claimed: &ClaimedEmail,
    reason: &str,
    retry_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = Batch::new();
    match retry_at {
        Some(at) => batch.push(sql!(
            "UPDATE outbox SET next_attempt_at = ?2, locked_until = NULL, last_error = ?3
              WHERE id = ?1",
            &claimed.id,
            at.0,
            reason,
        )),
        None => {
            batch.push(sql!(
                "UPDATE outbox SET status = 'failed', done_at = ?2, locked_until = NULL,
                        last_error = ?3
                  WHERE id = ?1",
                &claimed.id,
                now.0,
                reason,
            ));
            batch.push(sql!(
                "UPDATE invitations SET email_delivery = 'failed' WHERE id = ?1",
                &claimed.subject_id,
            ));
        }
    }
    batch.run(db).await.map(|_| ())
}

/// The invitation is no longer pending: its email is not sent.
pub async fn drop_email(db: &Db, claimed: &ClaimedEmail, now: Timestamp) -> Result<(), Problem> {
    db.all::<serde::de::IgnoredAny>(sql!(
        "UPDATE outbox SET status = 'dropped', done_at = ?2, locked_until = NULL WHERE id = ?1",
        &claimed.id,
        now.0,
    ))
    .await
    .map(|_| ())
}
