//! The console's links and sessions (migration 0014), each known by its digest.

use super::principal::Caller;
use super::{Batch, Rows};
use crate::domain::console::{IDLE_SECONDS, SESSION_SECONDS};
use crate::domain::jwt::Identity;
use crate::domain::Timestamp;
use crate::sql;
use serde::Deserialize;

/// Adds a link's code for `identity`, the caller, into the caller's organization.
pub fn create_code(
    batch: &mut Batch,
    caller: &Caller,
    identity: &Identity,
    digest: &str,
    return_url: Option<&str>,
    expires_at: Timestamp,
) {
    batch.push(sql!(
        "INSERT INTO console_codes
           (code_hash, org_id, user_id, email, email_verified, name, return_url, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        digest,
        &caller.org.id,
        &identity.user_id,
        identity.email.as_deref(),
        identity.email_verified,
        identity.name.as_deref(),
        return_url,
        expires_at.0,
    ));
}

/// The organization a session was opened for.
#[derive(Deserialize)]
pub struct Entered {
    pub slug: String,
}

/// Spends the code `code_digest` if it is unused and unexpired, opening the session
/// `token_digest` in the same transaction: the session is copied from the code, then the
/// code is deleted, so of requests racing with one code exactly one opens a session.
/// Answers the slug of the session's organization; nothing when the code was not usable.
pub fn enter(
    batch: &mut Batch,
    code_digest: &str,
    token_digest: &str,
    now: Timestamp,
) -> Rows<Entered> {
    batch.push(sql!(
        "INSERT INTO console_sessions
           (token_hash, org_id, user_id, email, email_verified, name, return_url,
            created_at, last_seen_at)
         SELECT ?1, org_id, user_id, email, email_verified, name, return_url, ?3, ?3
           FROM console_codes WHERE code_hash = ?2 AND expires_at > ?3",
        token_digest,
        code_digest,
        now.0,
    ));
    batch.push(sql!(
        "DELETE FROM console_codes WHERE code_hash = ?1",
        code_digest,
    ));
    batch.query(sql!(
        "SELECT o.slug FROM console_sessions s JOIN orgs o ON o.id = s.org_id
          WHERE s.token_hash = ?1",
        token_digest,
    ))
}

/// An open session, as stored.
#[derive(Deserialize)]
pub struct SessionRow {
    pub user_id: String,
    pub email: Option<String>,
    pub email_verified: i64,
    pub name: Option<String>,
    pub return_url: Option<String>,
}

impl SessionRow {
    /// The person the session acts for, as their token named them.
    pub fn identity(&self) -> Identity {
        Identity {
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            email_verified: self.email_verified != 0,
            name: self.name.clone(),
        }
    }
}

/// Marks session `digest` as seen now and reads it, only while it is open: neither older
/// than its absolute lifetime nor idle past its limit (`domain::console::session_open`).
pub fn touch(batch: &mut Batch, digest: &str, now: Timestamp) -> Rows<SessionRow> {
    batch.query(sql!(
        "UPDATE console_sessions SET last_seen_at = ?2
          WHERE token_hash = ?1 AND created_at > ?2 - ?3 AND last_seen_at > ?2 - ?4
         RETURNING user_id, email, email_verified, name, return_url",
        digest,
        now.0,
        SESSION_SECONDS,
        IDLE_SECONDS,
    ))
}

/// Ends session `digest`.
pub fn end(batch: &mut Batch, digest: &str) {
    batch.push(sql!(
        "DELETE FROM console_sessions WHERE token_hash = ?1",
        digest,
    ));
}

/// The slug of the organization of session `digest`, once [`touch`] has seen it now in
/// the same batch (a session that has ended was not seen, and has none).
pub fn org_of(batch: &mut Batch, digest: &str, now: Timestamp) -> Rows<Entered> {
    batch.query(sql!(
        "SELECT o.slug FROM console_sessions s JOIN orgs o ON o.id = s.org_id
          WHERE s.token_hash = ?1 AND s.last_seen_at = ?2 AND o.deleted_at IS NULL",
        digest,
        now.0,
    ))
}
