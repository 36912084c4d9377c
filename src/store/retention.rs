//! Deleting what is older than its retention: audit entries and usage events, settled
//! outbox rows and invitations that ended, console links and sessions that ended. A
//! bounded number of rows per statement, found along the indexes of migrations 0009 and
//! 0014, so a run never holds D1 for long.

use super::{Arg, Batch, Db, Rows, Stmt};
use crate::domain::retention::Retention;
use crate::domain::{Problem, Timestamp};
use crate::statement;
use serde::de::IgnoredAny;

/// Which cutoff a table's rows are judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// The audit log and usage: `RETENTION_DAYS`.
    History,
    /// Settled deliveries and ended invitations.
    Settled,
    /// Console links past their expiry and sessions idle past their end: an hour ago.
    Console,
}

/// One statement per table, each deleting at most `?2` rows older than `?1`. Sent with
/// `Stmt::new`, so each text goes through `statement!` here to be planned in the tests.
const SWEEPS: [(&str, Kept); 6] = [
    (
        statement!(
            "DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE at < ?1 LIMIT ?2)
             RETURNING 1 AS deleted"
        ),
        Kept::History,
    ),
    (
        statement!(
            "DELETE FROM usage_events
              WHERE seq IN (SELECT seq FROM usage_events WHERE created_at < ?1 LIMIT ?2)
             RETURNING 1 AS deleted"
        ),
        Kept::History,
    ),
    (
        statement!(
            "DELETE FROM outbox
              WHERE seq IN (SELECT seq FROM outbox WHERE status <> 'pending' AND done_at < ?1 LIMIT ?2)
             RETURNING 1 AS deleted"
        ),
        Kept::Settled,
    ),
    (
        statement!(
            "DELETE FROM invitations
              WHERE seq IN (SELECT seq FROM invitations
                             WHERE status <> 'pending' AND ended_at < ?1 LIMIT ?2)
             RETURNING 1 AS deleted"
        ),
        Kept::Settled,
    ),
    (
        statement!(
            "DELETE FROM console_codes
              WHERE rowid IN (SELECT rowid FROM console_codes WHERE expires_at < ?1 LIMIT ?2)
             RETURNING 1 AS deleted"
        ),
        Kept::Console,
    ),
    (
        statement!(
            "DELETE FROM console_sessions
              WHERE rowid IN (SELECT rowid FROM console_sessions WHERE last_seen_at < ?1 LIMIT ?2)
             RETURNING 1 AS deleted"
        ),
        Kept::Console,
    ),
];

/// Deletes, table by table, at most `rows` expired rows a statement and `steps`
/// statements a table; a table is left as soon as a statement finds fewer than `rows`.
/// Returns how many rows went.
pub async fn sweep(
    db: &Db,
    retention: Retention,
    rows: i64,
    steps: u32,
    now: Timestamp,
) -> Result<i64, Problem> {
    let mut total = 0;
    for (statement, kept) in SWEEPS {
        let cutoff = match kept {
            Kept::History => retention.history_cutoff(now),
            Kept::Settled => retention.settled_cutoff(now),
            Kept::Console => now.plus(-crate::domain::console::IDLE_SECONDS),
        };
        for _ in 0..steps {
            let mut batch = Batch::new();
            let deleted: Rows<IgnoredAny> = batch.query(Stmt::new(
                statement,
                vec![Arg::from(cutoff.0), Arg::from(rows)],
            ));
            let deleted = batch.run(db).await?.all(deleted)?.len() as i64;
            total += deleted;
            if deleted < rows {
                break;
            }
        }
    }
    Ok(total)
}
