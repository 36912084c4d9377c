//! The scheduled job (cron, every 15 minutes): expire invitations, retry invitation emails,
//! roll billing periods, purge deleted organizations whose grace has run out, delete what is
//! older than its retention, check domains again, deliver due webhooks.
//! Every step is idempotent — guarded or claimed in SQL — so running it twice, or two runs
//! overlapping, changes nothing more than one run. With the `OUTBOX` Queue bound, retries
//! normally go through it (`queue`); the job then sends only what a lost message left.

use crate::config::Config;
use crate::domain::domains::{recheck, record_name, Checked, Found, Recheck};
use crate::domain::invitation::Status;
use crate::domain::retry::email_retry_delay;
use crate::domain::secret::InviteToken;
use crate::domain::{Code, Problem, Timestamp};
use crate::email::EmailOutcome;
use crate::invite_mail::{self, InvitationMail};
use crate::queue::{self, Delivery, Retry};
use crate::store::domains::{self, DueDomain};
use crate::store::kv::{Kv, PreviewOrg};
use crate::store::orgs::{self, PurgeStep};
use crate::store::outbox::{self, ClaimedEmail};
use crate::store::{billing, invitations, invitee, retention, Batch, Db, Start};
use crate::webhooks;
use worker::{Date, Env};

/// Most invitations expired, emails retried and periods rolled in one run; the rest wait
/// for the next.
const BATCH_LIMIT: i64 = 200;

/// Domains looked up in one run: each lookup may take the resolver's whole timeout.
const DOMAIN_CHECKS: i64 = 25;

/// Rows one purge statement deletes at most: each is its own short transaction.
const PURGE_ROWS: i64 = 500;
/// Purge steps (of at most `PURGE_ROWS` rows each) in one run, so that a run holds D1 for a
/// few seconds at most; a large organization is purged over several runs.
const PURGE_STEPS: usize = 40;
/// Rows past their retention deleted by one statement, and statements per table in one run:
/// a run deletes at most 4 × 10 × 500 rows, and the next goes on.
const SWEEP_ROWS: i64 = 500;
const SWEEP_STEPS: u32 = 10;
/// Organizations looked at for their purge in one run.
const PURGE_ORGS: i64 = 20;

pub async fn run(env: &Env) {
    let now = Timestamp::from_millis(Date::now().as_millis());
    let cfg = Config::get(env);
    let db = match env.d1("DB").map(|d1| Db::new(&d1, Start::Primary)) {
        Ok(Ok(db)) => db,
        Ok(Err(_)) => return,
        Err(e) => {
            worker::console_error!("scheduled job: no D1 binding: {e}");
            return;
        }
    };
    let kv = Kv::new(env);
    if let Err(e) = expire_invitations(&kv, &db, now).await {
        worker::console_error!("scheduled job: expiring invitations failed: {e}");
    }
    if let Err(e) = retry_emails(&kv, &cfg, &db, now).await {
        worker::console_error!("scheduled job: retrying emails failed: {e}");
    }
    if let Err(e) = roll_periods(&db, now).await {
        worker::console_error!("scheduled job: rolling billing periods failed: {e}");
    }
    if let Err(e) = purge_organizations(&kv, &db, now).await {
        worker::console_error!("scheduled job: purging organizations failed: {e}");
    }
    if let Err(e) = retention::sweep(&db, cfg.retention, SWEEP_ROWS, SWEEP_STEPS, now).await {
        worker::console_error!("scheduled job: deleting expired history failed: {e}");
    }
    if let Err(e) = check_domains(&cfg, &db, now).await {
        worker::console_error!("scheduled job: checking domains failed: {e}");
    }
    // Last, so that the events the steps before it record go out in the same run.
    webhooks::deliver_due(env, &cfg).await;
}

/// Starts the next billing period of organizations whose period has ended: credits back to
/// zero, scheduled seat decreases applied. Requests see the new period before this runs
/// (and roll it themselves when they write), so this keeps the store in step.
async fn roll_periods(db: &Db, now: Timestamp) -> Result<(), Problem> {
    for due in billing::due_for_roll(db, now, BATCH_LIMIT).await? {
        billing::roll_due(db, &due, now).await?;
    }
    Ok(())
}

/// Purges deleted organizations whose grace has run out, `PURGE_ROWS` rows at a time and at
/// most `PURGE_STEPS` steps per run; the next run goes on where this one stopped. The KV
/// entries of their invitations go with them.
async fn purge_organizations(kv: &Kv, db: &Db, now: Timestamp) -> Result<(), Problem> {
    let mut steps = 0;
    for org_id in orgs::due_for_purge(db, now, PURGE_ORGS).await? {
        while steps < PURGE_STEPS {
            steps += 1;
            match orgs::purge_step(db, &org_id, PURGE_ROWS, now).await {
                Ok(PurgeStep::Deleted(digests)) => kv.forget_invitations(&digests).await,
                Ok(PurgeStep::Done) => break,
                // Restored meanwhile: nothing of it is purged.
                Err(p) if p.code == Code::Conflict => break,
                Err(p) => return Err(p),
            }
        }
    }
    Ok(())
}

/// Looks up the records of pending domains and of verified ones not checked for a day:
/// pending ones found become verified, and those pending for 7 days, or verified with their
/// record missing for 7 days, fail. A resolver that does not answer leaves a domain as it
/// is, to be checked on the next run.
async fn check_domains(cfg: &Config, db: &Db, now: Timestamp) -> Result<(), Problem> {
    for due in domains::due(db, now, DOMAIN_CHECKS).await? {
        if let Err(e) = check_domain(cfg, db, &due, now).await {
            worker::console_error!("scheduled job: domain {} failed: {e}", due.row.id);
        }
    }
    Ok(())
}

async fn check_domain(
    cfg: &Config,
    db: &Db,
    due: &DueDomain,
    now: Timestamp,
) -> Result<(), Problem> {
    let row = &due.row;
    let record = record_name(&row.domain);
    let Ok(values) = crate::dns::txt(&cfg.dns_resolver_url, &record).await else {
        worker::console_warn!("domain {}: the resolver did not answer; will retry", row.id);
        return Ok(());
    };
    let checked = Checked {
        status: row.status()?,
        created_at: Timestamp(row.created_at),
        missing_since: row.missing_since.map(Timestamp),
    };
    let found = Found::of(values, &row.challenge) == Found::Match;
    let outcome = match recheck(checked, found, now) {
        Recheck::Verify => domains::verified_by_job(db, due, now).await,
        Recheck::Fail => domains::failed_by_job(db, due, now).await,
        Recheck::Keep { missing_since } => {
            domains::checked_by_job(db, due, missing_since, now).await
        }
    };
    match outcome {
        // Another run or a request got to it first; or another organization verified the
        // name meanwhile, and this one stays pending until it fails.
        Err(p) if p.code == Code::Conflict => Ok(()),
        Err(p) if p.code == Code::DomainTaken => domains::checked_by_job(db, due, None, now).await,
        other => other,
    }
}

/// Marks pending invitations past their expiry as expired (audit entry and webhook in the
/// same batch), and drops their KV entries.
async fn expire_invitations(kv: &Kv, db: &Db, now: Timestamp) -> Result<(), Problem> {
    let due = invitations::due_for_expiry(db, now, BATCH_LIMIT).await?;
    let mut expired = Vec::with_capacity(due.len());
    for invitation in due {
        let mut batch = Batch::new();
        invitations::expire(
            &mut batch,
            &invitation.org_id,
            &invitation.org_slug,
            &invitation.id,
            now,
        );
        match batch.run(db).await {
            Ok(_) => expired.push(invitation.token_hash),
            // Another run, or a request, got to it first.
            Err(p) if p.code == Code::Conflict => {}
            Err(p) => return Err(p),
        }
    }
    kv.forget_invitations(&expired).await;
    Ok(())
}

/// Tries due invitation emails again; those that fail again and will be retried go to the
/// `OUTBOX` Queue, when it is bound, to be tried when they are next due.
async fn retry_emails(kv: &Kv, cfg: &Config, db: &Db, now: Timestamp) -> Result<(), Problem> {
    let mut retries = Vec::new();
    for claimed in outbox::claim_emails(db, now, BATCH_LIMIT).await? {
        match retry_email(kv, cfg, db, &claimed, now).await {
            Ok(Some(delay)) => retries.push(Retry {
                delivery: Delivery::Email { id: claimed.id },
                delay,
            }),
            Ok(None) => {}
            Err(e) => worker::console_error!("scheduled job: email {} failed: {e}", claimed.id),
        }
    }
    queue::send(cfg, retries).await;
    Ok(())
}

/// Tries the email of outbox row `id` again, if it is due and nobody else has it (the
/// `OUTBOX` Queue's consumer). Returns the seconds until its next retry, if it failed again
/// and will be retried.
pub async fn retry_email_row(
    kv: &Kv,
    cfg: &Config,
    db: &Db,
    id: &str,
    now: Timestamp,
) -> Result<Option<i64>, Problem> {
    match outbox::claim_email(db, id, now).await? {
        Some(claimed) => retry_email(kv, cfg, db, &claimed, now).await,
        None => Ok(None),
    }
}

/// One retry. The invitation gets a fresh token first: the token of the earlier attempt was
/// never stored, and a link in an email that did not arrive is worth nothing anyway. Returns
/// the seconds until the next retry, when this one failed and another follows.
async fn retry_email(
    kv: &Kv,
    cfg: &Config,
    db: &Db,
    claimed: &ClaimedEmail,
    now: Timestamp,
) -> Result<Option<i64>, Problem> {
    let mut batch = Batch::new();
    let view = invitee::view_by_id(&mut batch, &claimed.subject_id, "");
    let view = batch.run(db).await?.first(view)?;
    let Some(view) = view.filter(|v| v.invitation.status_at(now).ok() == Some(Status::Pending))
    else {
        return outbox::drop_email(db, claimed, now).await.map(|()| None);
    };
    let inv = &view.invitation;
    let token = InviteToken::generate().map_err(|_| Problem::internal())?;
    let digest = token.digest();
    if let Err(p) = invitations::rotate_token(db, &inv.id, &inv.token_hash, &digest, now).await {
        return if p.code == Code::Internal {
            Err(p)
        } else {
            outbox::drop_email(db, claimed, now).await.map(|()| None)
        };
    }
    let mail = InvitationMail {
        invitation: inv,
        org: &PreviewOrg::from(&view),
        token: &token,
        replaces: Some(&inv.token_hash),
    };
    match invite_mail::send(kv, cfg, &mail, now).await {
        EmailOutcome::Sent => outbox::email_delivered(db, claimed, "sent", now)
            .await
            .map(|()| None),
        EmailOutcome::Logged => outbox::email_delivered(db, claimed, "logged", now)
            .await
            .map(|()| None),
        EmailOutcome::Failed(reason) => {
            let delay = email_retry_delay(claimed.attempts, cfg.email_max_attempts);
            let retry_at = delay.map(|d| now.plus(d));
            worker::console_warn!(
                "invitation {}: email attempt {} failed ({reason}){}",
                inv.id,
                claimed.attempts,
                if retry_at.is_some() {
                    "; will retry"
                } else {
                    "; giving up"
                }
            );
            outbox::email_failed(db, claimed, &reason, retry_at, now)
                .await
                .map(|()| delay)
        }
    }
}
