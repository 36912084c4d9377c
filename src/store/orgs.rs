//! Organizations: creation with their owner, the caller's list, settings and deletion.

use super::audit::{self, By, Change};
use super::principal::{self, Caller, OrgRow};
use super::{Batch, Db, Rows};
use crate::api::events::{
    OrganizationCreatedData, OrganizationDeletedData, OrganizationUpdatedData,
};
use crate::domain::metadata;
use crate::domain::plan::{period_at, Plan};
use crate::domain::values::{new_id, LogoUrl, Name, Slug};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// An organization in a caller's list, with their role there.
#[derive(Debug, Deserialize)]
pub struct OrgWithRole {
    #[serde(flatten)]
    pub org: OrgRow,
    pub role: String,
    pub seq: i64,
}

/// Creates an organization owned by `owner` (a user already added to `batch`).
/// Fails with `slug_taken` when the slug is in use.
pub async fn create(
    db: &Db,
    mut batch: Batch,
    owner_id: &str,
    name: &Name,
    slug: &Slug,
    plan: Plan,
    now: Timestamp,
) -> Result<OrgRow, Problem> {
    let id = new_id();
    guard!(
        batch,
        Code::SlugTaken,
        "EXISTS (SELECT 1 FROM orgs WHERE slug = ?2 AND deleted_at IS NULL)",
        slug.as_str(),
    );
    let period = period_at(now, now);
    batch.push(sql!(
        "INSERT INTO orgs (id, slug, name, plan, period_anchor, period_start, period_end,
                           created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?5, ?5)",
        &id,
        slug.as_str(),
        name.as_str(),
        plan.as_str(),
        now.0,
        period.end.0,
    ));
    batch.push(sql!(
        "INSERT INTO memberships (org_id, user_id, role, joined_at) VALUES (?1, ?2, 'owner', ?3)",
        &id,
        owner_id,
        now.0,
    ));
    let actor = crate::domain::policy::Actor::User {
        id: owner_id.to_owned(),
        role: crate::domain::values::Role::Owner,
    };
    audit::record(
        &mut batch,
        Change {
            org_id: &id,
            org_slug: slug.as_str(),
            by: By::Actor(&actor),
            target: ("organization", &id),
            data: OrganizationCreatedData {
                name: name.as_str().to_owned(),
                slug: slug.as_str().to_owned(),
                plan,
            }
            .into(),
        },
        now,
    );
    let row = fetch(&mut batch, &id);
    let results = batch.run(db).await?;
    results.first(row)?.ok_or_else(Problem::internal)
}

/// Adds a read of one organization by id.
fn fetch(batch: &mut Batch, org_id: &str) -> Rows<OrgRow> {
    batch.query(sql!(
        "SELECT o.id, o.slug, o.name, o.logo_url, o.plan, o.extra_seats, o.extra_seats_next,
                o.period_anchor, o.period_start, o.period_end, o.credits_used, o.created_at,
                o.metadata, o.private_metadata
           FROM orgs o WHERE o.id = ?1",
        org_id,
    ))
}

/// Adds a page of the organizations `user_id` belongs to, in the order they joined.
pub fn list_for_user(
    batch: &mut Batch,
    user_id: &str,
    after_seq: i64,
    limit: i64,
) -> Rows<OrgWithRole> {
    batch.query(sql!(
        "SELECT o.id, o.slug, o.name, o.logo_url, o.plan, o.extra_seats, o.extra_seats_next,
                o.period_anchor, o.period_start, o.period_end, o.credits_used, o.created_at,
                o.metadata, o.private_metadata,
                m.role, m.seq
           FROM memberships m JOIN orgs o ON o.id = m.org_id
          WHERE m.user_id = ?1 AND o.deleted_at IS NULL AND m.seq > ?2
          ORDER BY m.seq LIMIT ?3",
        user_id,
        after_seq,
        limit,
    ))
}

/// A change of settings; `None` leaves a field as it is.
pub struct SettingsChange {
    pub name: Option<Name>,
    pub slug: Option<Slug>,
    /// `Some(None)` removes the logo.
    pub logo_url: Option<Option<LogoUrl>>,
    pub metadata: Option<metadata::Change>,
    pub private_metadata: Option<metadata::Change>,
}

impl SettingsChange {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.slug.is_none()
            && self.logo_url.is_none()
            && self.metadata.is_none()
            && self.private_metadata.is_none()
    }
}

/// Applies a change of settings made of fields that differed when read. Guards that none of
/// them has meanwhile been set to the value asked for (`conflict`: another request made
/// this change first, and the request is decided again, finding less or nothing to do), so
/// a change is recorded once however many requests ask for it at once.
pub async fn update(
    db: &Db,
    caller: &Caller,
    change: &SettingsChange,
    now: Timestamp,
) -> Result<OrgRow, Problem> {
    let mut batch = principal::write_batch(caller);
    if let Some(slug) = &change.slug {
        guard!(
            batch,
            Code::SlugTaken,
            "EXISTS (SELECT 1 FROM orgs WHERE slug = ?2 AND id <> ?3 AND deleted_at IS NULL)",
            slug.as_str(),
            &caller.org.id,
        );
    }
    let logo = change
        .logo_url
        .as_ref()
        .map(|l| l.as_ref().map(LogoUrl::as_str));
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM orgs
                  WHERE id = ?2 AND (name = ?3 OR slug = ?4 OR (?5 AND logo_url IS ?6)))",
        &caller.org.id,
        change.name.as_ref().map(Name::as_str),
        change.slug.as_ref().map(Slug::as_str),
        logo.is_some(),
        logo.flatten(),
    );
    // Metadata is written whole, merged from what was read: it must still be what was read.
    let public = change.metadata.as_ref().map(metadata::Change::stored);
    let private = change
        .private_metadata
        .as_ref()
        .map(metadata::Change::stored);
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs
                      WHERE id = ?2 AND (NOT ?3 OR metadata = ?4)
                        AND (NOT ?5 OR private_metadata = ?6))",
        &caller.org.id,
        public.is_some(),
        &caller.org.metadata,
        private.is_some(),
        &caller.org.private_metadata,
    );
    batch.push(sql!(
        "UPDATE orgs SET name = coalesce(?2, name), slug = coalesce(?3, slug),
                logo_url = CASE WHEN ?4 THEN ?5 ELSE logo_url END, updated_at = ?6,
                metadata = coalesce(?7, metadata),
                private_metadata = coalesce(?8, private_metadata)
          WHERE id = ?1",
        &caller.org.id,
        change.name.as_ref().map(Name::as_str),
        change.slug.as_ref().map(Slug::as_str),
        logo.is_some(),
        logo.flatten(),
        now.0,
        public,
        private,
    ));
    let data = OrganizationUpdatedData {
        name: change.name.as_ref().map(|n| n.as_str().to_owned()),
        slug: change.slug.as_ref().map(|s| s.as_str().to_owned()),
        logo_url: logo.map(|l| l.map(str::to_owned)),
        metadata: change.metadata.as_ref().map(|m| m.changed.clone()),
        private_metadata: change.private_metadata.as_ref().map(|m| m.changed.clone()),
    };
    let slug = change
        .slug
        .as_ref()
        .map_or(caller.org.slug.as_str(), Slug::as_str);
    audit::record(
        &mut batch,
        Change {
            org_id: &caller.org.id,
            org_slug: slug,
            by: By::Actor(&caller.actor),
            target: ("organization", &caller.org.id),
            data: data.into(),
        },
        now,
    );
    let row = fetch(&mut batch, &caller.org.id);
    let results = batch.run(db).await?;
    results.first(row)?.ok_or_else(Problem::internal)
}

/// Deletes an organization: access ends at once (memberships, grants and API keys go),
/// pending invitations are canceled and queued deliveries dropped. Returns the token
/// digests of the canceled invitations, whose KV entries must go too.
pub async fn delete(db: &Db, caller: &Caller, now: Timestamp) -> Result<Vec<String>, Problem> {
    #[derive(Deserialize)]
    struct Canceled {
        token_hash: String,
    }
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    batch.push(sql!(
        "UPDATE orgs SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1",
        org,
        now.0
    ));
    let canceled: Rows<Canceled> = batch.query(sql!(
        "UPDATE invitations SET status = 'canceled', ended_at = ?2
          WHERE org_id = ?1 AND status = 'pending' RETURNING token_hash",
        org,
        now.0,
    ));
    batch.push(sql!("DELETE FROM grants WHERE org_id = ?1", org));
    batch.push(sql!("DELETE FROM memberships WHERE org_id = ?1", org));
    batch.push(sql!(
        "UPDATE api_keys SET revoked_at = ?2 WHERE org_id = ?1 AND revoked_at IS NULL",
        org,
        now.0,
    ));
    batch.push(sql!(
        "UPDATE outbox SET status = 'dropped', done_at = ?2 WHERE org_id = ?1 AND status = 'pending'",
        org,
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("organization", org),
        OrganizationDeletedData {},
        now,
    );
    let results = batch.run(db).await?;
    Ok(results
        .all(canceled)?
        .into_iter()
        .map(|c| c.token_hash)
        .collect())
}
