//! The outbox of invitation emails: rows queued with their invitation (and held by the
//! request that tries the provider first), taken off when the invitation is used, claimed
//! by one worker at a time, retried with backoff until delivered, dropped or given up.

use super::{Arg, Batch, Db, Rows};
use crate::domain::values::new_id;
use crate::domain::{Problem, Timestamp};
use crate::sql;
use serde::Deserialize;
use serde_json::Value;

/// Where the first email of a new invitation goes: the provider (tried during the request,
/// with the outbox row held so the job does not race it), the log, or nowhere (the product
/// delivers the link itself).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FirstSend {
    Provider,
    Log,
    None,
}

impl FirstSend {
    /// The invitation's `email_delivery` column until the attempt's outcome is known. The
    /// column's CHECK predates invitations without email, so theirs holds `logged`; their
    /// `send_email = 0` is what answers `none`.
    pub(super) fn initial_state(self) -> &'static str {
        match self {
            FirstSend::Provider => "queued",
            FirstSend::Log | FirstSend::None => "logged",
        }
    }

    /// Queues the invitation's email in the outbox, when there is a provider to retry.
    pub(super) fn queue(
        self,
        batch: &mut Batch,
        org_id: &str,
        invitation_id: &str,
        now: Timestamp,
    ) {
        if self == FirstSend::Provider {
            queue_email(batch, org_id, invitation_id, now);
        }
    }
}

/// How long the request that creates or resends an invitation holds its outbox row while it
/// tries the provider itself.
const REQUEST_HOLDS_EMAIL_SECONDS: i64 = 60;

/// An outbox row for an invitation's email, held by the current request.
fn queue_email(batch: &mut Batch, org_id: &str, invitation_id: &str, now: Timestamp) {
    batch.push(sql!(
        "INSERT INTO outbox (id, kind, org_id, subject_id, status, next_attempt_at,
                             locked_until, created_at)
         VALUES (?1, 'email', ?2, ?3, 'pending', ?4, ?5, ?4)",
        new_id(),
        org_id,
        invitation_id,
        now.0,
        now.0 + REQUEST_HOLDS_EMAIL_SECONDS,
    ));
}

/// Takes invitation emails off the outbox (the invitation was used, canceled or resent).
pub(super) fn drop_queued_emails(batch: &mut Batch, invitation_id: &str, now: Timestamp) {
    batch.push(sql!(
        "UPDATE outbox SET status = 'dropped', done_at = ?2
          WHERE kind = 'email' AND subject_id = ?1 AND status = 'pending'",
        invitation_id,
        now.0,
    ));
}

/// Records the outcome of the first attempt at an invitation's email. Returns the outbox
/// rows of the failed ones, each now due for its first retry.
pub async fn record_first_delivery(
    db: &Db,
    sent: &[&str],
    failed: &[&str],
    reason: &str,
    now: Timestamp,
) -> Result<Vec<String>, Problem> {
    #[derive(Deserialize)]
    struct Pending {
        id: String,
    }
    let mut batch = Batch::new();
    if !sent.is_empty() {
        let ids = Arg::from(Value::from(sent.to_vec()).to_string());
        batch.push(sql!(
            "UPDATE invitations SET email_delivery = 'sent'
              WHERE id IN (SELECT value FROM json_each(?1)) AND email_delivery = 'queued'",
            ids.clone(),
        ));
        batch.push(sql!(
            "UPDATE outbox SET status = 'done', attempts = attempts + 1, done_at = ?2,
                    locked_until = NULL
              WHERE kind = 'email' AND status = 'pending'
                AND subject_id IN (SELECT value FROM json_each(?1))",
            ids,
            now.0,
        ));
    }
    if failed.is_empty() {
        return batch.run(db).await.map(|_| Vec::new());
    }
    // The first retry is due at once: the job's next run, or the Queue's next batch.
    let pending: Rows<Pending> = batch.query(sql!(
        "UPDATE outbox SET attempts = attempts + 1, locked_until = NULL,
                next_attempt_at = ?2, last_error = ?3
          WHERE kind = 'email' AND status = 'pending'
            AND subject_id IN (SELECT value FROM json_each(?1))
         RETURNING id",
        Value::from(failed.to_vec()).to_string(),
        now.0,
        reason,
    ));
    let results = batch.run(db).await?;
    Ok(results.all(pending)?.into_iter().map(|p| p.id).collect())
}

/// How long a claimed row stays with the run that claimed it.
const CLAIM_SECONDS: i64 = 120;

/// An email the scheduled job (or the Queue's consumer) is to try again.
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

/// Claims the email of outbox row `id` for a retry, as [`claim_emails`] would: `None` when
/// it is settled, not due yet, or claimed by someone else.
pub async fn claim_email(
    db: &Db,
    id: &str,
    now: Timestamp,
) -> Result<Option<ClaimedEmail>, Problem> {
    let claimed: Vec<ClaimedEmail> = db
        .all(sql!(
            "UPDATE outbox SET locked_until = ?1 + ?2, attempts = attempts + 1
              WHERE id = ?3 AND kind = 'email' AND status = 'pending' AND next_attempt_at <= ?1
                AND (locked_until IS NULL OR locked_until <= ?1)
              RETURNING id, subject_id, attempts",
            now.0,
            CLAIM_SECONDS,
            id,
        ))
        .await?;
    Ok(claimed.into_iter().next())
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
