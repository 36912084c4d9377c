//! Shared credits in D1: usage events under their idempotency keys, the one conditional
//! write that records a consumption without ever taking the balance below zero, and the
//! period's usage per member.
//!
//! A key is unique per organization (a UNIQUE index backs the guard that checks it), so
//! parallel requests under one key record one event: the others find it and replay it.

use super::audit;
use super::billing::{run_rolled, Current};
use super::principal::{self, Caller};
use super::{Batch, Db, Rows};
use crate::api::events::UsageRecordedData;
use crate::domain::usage::Consumption;
use crate::domain::values::new_id;
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// A recorded usage event: the answer given for it, and the hash of the request.
#[derive(Debug, Clone, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub amount: i64,
    /// Credits left in the period right after it.
    pub remaining: i64,
    pub request_hash: String,
}

/// Adds the read of the event recorded under `key` in organization `slug`.
pub fn by_key(batch: &mut Batch, slug: &str, key: &str) -> Rows<EventRow> {
    batch.query(sql!(
        "SELECT id, amount, remaining, request_hash FROM usage_events
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND idempotency_key = ?2",
        slug,
        key,
    ))
}

/// The event recorded under `key` in organization `org_id`, read on its own.
pub async fn find(db: &Db, org_id: &str, key: &str) -> Result<Option<EventRow>, Problem> {
    let rows = db
        .all(sql!(
            "SELECT id, amount, remaining, request_hash FROM usage_events
              WHERE org_id = ?1 AND idempotency_key = ?2",
            org_id,
            key,
        ))
        .await?;
    Ok(rows.into_iter().next())
}

/// Records `consumption` under `key`: one batch that rolls the period if due, then guards
/// that the key is unused (`idempotency_key_reused`; the caller replays what it finds),
/// that plan and period are those decided on, that the member may still consume, and that
/// the credits suffice (`insufficient_credits`) — and only then adds the credits used and
/// the event. Returns the event.
pub async fn record(
    db: &Db,
    caller: &Caller,
    current: &Current,
    consumption: &Consumption,
    key: &str,
    now: Timestamp,
) -> Result<EventRow, Problem> {
    let org = &caller.org.id;
    let billing = &current.billing;
    let included = billing.credits().included;
    let hash = consumption.request_hash();
    let (results, event) = run_rolled(db, current.roll.as_ref(), now, |batch| {
        principal::guard_actor(batch, caller);
        guard!(
            batch,
            Code::IdempotencyKeyReused,
            "EXISTS (SELECT 1 FROM usage_events WHERE org_id = ?2 AND idempotency_key = ?3)",
            org,
            key,
        );
        guard!(
            batch,
            Code::Conflict,
            "NOT EXISTS (SELECT 1 FROM orgs
                          WHERE id = ?2 AND plan = ?3 AND period_start = ?4 AND deleted_at IS NULL)",
            org,
            billing.plan.as_str(),
            billing.period.start.0,
        );
        guard!(
            batch,
            Code::NotFound,
            "NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND user_id = ?3)",
            org,
            &consumption.user_id,
        );
        guard!(
            batch,
            Code::Forbidden,
            "EXISTS (SELECT 1 FROM memberships
                      WHERE org_id = ?2 AND user_id = ?3 AND role = 'viewer')",
            org,
            &consumption.user_id,
        );
        guard!(
            batch,
            Code::InsufficientCredits,
            "(SELECT credits_used FROM orgs WHERE id = ?2) + ?3 > ?4",
            org,
            consumption.amount,
            included,
        );
        batch.push(sql!(
            "UPDATE orgs SET credits_used = credits_used + ?2 WHERE id = ?1",
            org,
            consumption.amount,
        ));
        let id = new_id();
        let event = batch.query(sql!(
            "INSERT INTO usage_events (id, org_id, user_id, amount, feature, idempotency_key,
                                       request_hash, remaining, period_start, created_at)
             SELECT ?1, o.id, ?2, ?3, ?4, ?5, ?6, ?7 - o.credits_used, o.period_start, ?8
               FROM orgs o WHERE o.id = ?9
             RETURNING id, amount, remaining, request_hash",
            &id,
            &consumption.user_id,
            consumption.amount,
            &consumption.feature,
            key,
            &hash,
            included,
            now.0,
            org,
        ));
        audit::by_caller(
            batch,
            caller,
            ("usage", &id),
            UsageRecordedData {
                amount: consumption.amount,
                feature: consumption.feature.clone(),
                user_id: consumption.user_id.clone(),
            },
            now,
        );
        event
    })
    .await?;
    results.first(event)?.ok_or_else(Problem::internal)
}

/// Credits one member used in the organization's stored period.
#[derive(Debug, Deserialize)]
pub struct MemberUsed {
    pub user_id: String,
    pub email: Option<String>,
    pub used: i64,
    pub period_start: i64,
}

/// Adds a page of organization `slug`'s members by credits used in its stored period, most
/// first (ties by user id): `offset` rows skipped, at most `limit`.
pub fn ranked(batch: &mut Batch, slug: &str, offset: i64, limit: i64) -> Rows<MemberUsed> {
    batch.query(sql!(
        "SELECT u.user_id, usr.email, u.used, u.period_start
           FROM orgs o
           JOIN usage_by_member u ON u.org_id = o.id AND u.period_start = o.period_start
           LEFT JOIN users usr ON usr.id = u.user_id
          WHERE o.slug = ?1 AND o.deleted_at IS NULL
          ORDER BY u.used DESC, u.user_id LIMIT ?2 OFFSET ?3",
        slug,
        limit,
        offset,
    ))
}

/// Adds the read of the credits `user_id` used in organization `slug`'s stored period.
pub fn of_member(batch: &mut Batch, slug: &str, user_id: &str) -> Rows<MemberUsed> {
    batch.query(sql!(
        "SELECT u.user_id, usr.email, u.used, u.period_start
           FROM orgs o
           JOIN usage_by_member u ON u.org_id = o.id AND u.period_start = o.period_start
                                 AND u.user_id = ?2
           LEFT JOIN users usr ON usr.id = u.user_id
          WHERE o.slug = ?1 AND o.deleted_at IS NULL",
        slug,
        user_id,
    ))
}
