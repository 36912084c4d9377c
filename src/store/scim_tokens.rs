//! SCIM tokens: issued with their secret shown once (only its SHA-256 is kept), listed
//! without it, revoked at once. A token names its organization; authenticating by one is in
//! `scim`.

use super::audit;
use super::principal::{self, Caller};
use super::{Batch, Db, Rows};
use crate::api::events::{ScimTokenCreatedData, ScimTokenRevokedData};
use crate::domain::secret::ScimSecret;
use crate::domain::values::{new_id, Name};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// A live SCIM token, without anything secret.
#[derive(Debug, Deserialize)]
pub struct TokenRow {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The statement reading the live (not revoked) tokens of organization `?1` as
/// [`TokenRow`]s, narrowed by `$rest`.
macro_rules! live_tokens {
    ($rest:literal) => {
        concat!(
            "SELECT t.seq, t.id, t.name, t.created_at, t.last_used_at
               FROM scim_tokens t JOIN orgs o ON o.id = t.org_id
              WHERE o.slug = ?1 AND o.deleted_at IS NULL AND t.revoked_at IS NULL AND ",
            $rest
        )
    };
}

/// Adds a page of the live tokens of the organization `slug`, in creation order.
pub fn list(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<TokenRow> {
    batch.query(sql!(
        live_tokens!("t.seq > ?2 ORDER BY t.seq LIMIT ?3"),
        slug,
        after_seq,
        limit,
    ))
}

/// Adds a read of the live token `id` of the organization `slug`.
pub fn find(batch: &mut Batch, slug: &str, id: &str) -> Rows<TokenRow> {
    batch.query(sql!(live_tokens!("t.id = ?2"), slug, id))
}

/// Issues a token named `name`, whose secret is `secret`. Guards that the plan is still the
/// one read (`conflict`), since the plan decided that the organization may have one.
pub async fn create(
    db: &Db,
    caller: &Caller,
    name: &Name,
    secret: &ScimSecret,
    now: Timestamp,
) -> Result<TokenRow, Problem> {
    let id = new_id();
    let mut batch = principal::write_batch(caller);
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs WHERE id = ?2 AND plan = ?3)",
        &caller.org.id,
        &caller.org.plan,
    );
    batch.push(sql!(
        "INSERT INTO scim_tokens (id, org_id, name, secret_hash, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &id,
        &caller.org.id,
        name.as_str(),
        secret.digest(),
        caller.actor.user_id(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("scim_token", &id),
        ScimTokenCreatedData {
            name: name.as_str().to_owned(),
        },
        now,
    );
    let token = batch.query(sql!(
        "SELECT seq, id, name, created_at, last_used_at FROM scim_tokens WHERE id = ?1",
        &id,
    ));
    batch
        .run(db)
        .await?
        .first(token)?
        .ok_or_else(Problem::internal)
}

/// Revokes `token`: from this batch on, SCIM requests made with it get 401. `not_found`
/// when it was revoked meanwhile.
pub async fn revoke(
    db: &Db,
    caller: &Caller,
    token: &TokenRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM scim_tokens
                      WHERE id = ?2 AND org_id = ?3 AND revoked_at IS NULL)",
        &token.id,
        &caller.org.id,
    );
    batch.push(sql!(
        "UPDATE scim_tokens SET revoked_at = ?2 WHERE id = ?1",
        &token.id,
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("scim_token", &token.id),
        ScimTokenRevokedData {
            name: token.name.clone(),
        },
        now,
    );
    batch.run(db).await.map_err(|p| match p.code {
        Code::NotFound => Problem::not_found("SCIM token"),
        _ => p,
    })?;
    Ok(())
}
