//! Organization API keys: issued with their secret shown once (only its SHA-256 is kept),
//! listed without it, revoked at once. Authentication by key is in `principal`.

use super::audit;
use super::principal::{self, Caller};
use super::{Batch, Db, Rows};
use crate::api::events::{ApiKeyCreatedData, ApiKeyRevokedData};
use crate::domain::policy::Scope;
use crate::domain::secret::ApiKeySecret;
use crate::domain::values::{new_id, Name};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;
use serde_json::json;

/// A live API key, without anything secret.
#[derive(Debug, Deserialize)]
pub struct KeyRow {
    pub seq: i64,
    pub id: String,
    pub name: String,
    /// A JSON array of scope names.
    pub scopes: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The statement reading the live (not revoked) keys of organization `?1` as [`KeyRow`]s,
/// narrowed by `$rest`.
macro_rules! live_keys {
    ($rest:literal) => {
        concat!(
            "SELECT k.seq, k.id, k.name, k.scopes, k.prefix, k.created_at, k.last_used_at
               FROM api_keys k JOIN orgs o ON o.id = k.org_id
              WHERE o.slug = ?1 AND o.deleted_at IS NULL AND k.revoked_at IS NULL AND ",
            $rest
        )
    };
}

/// Adds a page of the live keys of the organization `slug`, in creation order.
pub fn list(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<KeyRow> {
    batch.query(sql!(
        live_keys!("k.seq > ?2 ORDER BY k.seq LIMIT ?3"),
        slug,
        after_seq,
        limit,
    ))
}

/// Adds a read of the live key `id` of the organization `slug`.
pub fn find(batch: &mut Batch, slug: &str, id: &str) -> Rows<KeyRow> {
    batch.query(sql!(live_keys!("k.id = ?2"), slug, id,))
}

/// Issues a key named `name` with `scopes`, whose secret is `secret`.
pub async fn create(
    db: &Db,
    caller: &Caller,
    name: &Name,
    scopes: &[Scope],
    secret: &ApiKeySecret,
    now: Timestamp,
) -> Result<KeyRow, Problem> {
    let id = new_id();
    let scope_names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    let prefix = secret.display_prefix();
    let mut batch = principal::write_batch(caller);
    batch.push(sql!(
        "INSERT INTO api_keys (id, org_id, name, scopes, prefix, secret_hash, created_by,
                               created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &id,
        &caller.org.id,
        name.as_str(),
        json!(scope_names).to_string(),
        &prefix,
        secret.digest(),
        caller.actor.user_id(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("api_key", &id),
        ApiKeyCreatedData {
            name: name.as_str().to_owned(),
            scopes: scopes.to_vec(),
            prefix: prefix.clone(),
        },
        now,
    );
    let key = batch.query(sql!(
        "SELECT seq, id, name, scopes, prefix, created_at, last_used_at
           FROM api_keys WHERE id = ?1",
        &id,
    ));
    let results = batch.run(db).await?;
    results.first(key)?.ok_or_else(Problem::internal)
}

/// Revokes `key`: from this batch on, requests made with it get 401. `not_found` when it
/// was revoked meanwhile.
pub async fn revoke(db: &Db, caller: &Caller, key: &KeyRow, now: Timestamp) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM api_keys
                      WHERE id = ?2 AND org_id = ?3 AND revoked_at IS NULL)",
        &key.id,
        &caller.org.id,
    );
    batch.push(sql!(
        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1",
        &key.id,
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("api_key", &key.id),
        ApiKeyRevokedData {
            name: key.name.clone(),
            prefix: key.prefix.clone(),
        },
        now,
    );
    batch.run(db).await.map_err(|p| match p.code {
        Code::NotFound => Problem::not_found("API key"),
        _ => p,
    })?;
    Ok(())
}
