//! Organizations: creation with their owner, the caller's list, settings, deletion that can
//! be undone, restoring, and the purge of those whose grace has run out.

use super::audit::{self, By, Change};
use super::principal::{self, org_columns, Caller, OrgRow};
use super::roles::{role_def_columns, StoredDef};
use super::{Arg, Batch, Db, Rows, Stmt};
use crate::api::events::{
    OrganizationCreatedData, OrganizationDeletedData, OrganizationPurgedData,
    OrganizationRestoredData, OrganizationUpdatedData,
};
use crate::domain::metadata;
use crate::domain::plan::{period_at, Plan};
use crate::domain::values::{new_id, LogoUrl, Name, Slug};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql, statement};
use serde::Deserialize;

/// An organization in a caller's list, with their role there.
#[derive(Debug, Deserialize)]
pub struct OrgWithRole {
    #[serde(flatten)]
    pub org: OrgRow,
    pub role: String,
    #[serde(flatten)]
    pub def: StoredDef,
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
        "EXISTS (SELECT 1 FROM orgs
                  WHERE slug = ?2 AND (deleted_at IS NULL OR purge_at IS NOT NULL))",
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
        "INSERT INTO memberships (org_id, user_id, role, joined_at, joined_via)
         VALUES (?1, ?2, 'owner', ?3, 'created')",
        &id,
        owner_id,
        now.0,
    ));
    let actor = crate::domain::policy::Actor::member(owner_id, crate::domain::values::Role::Owner);
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
        concat!("SELECT ", org_columns!(), " FROM orgs o WHERE o.id = ?1"),
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
        concat!(
            "SELECT ",
            org_columns!(),
            ", m.role, m.seq, ",
            role_def_columns!(),
            "
               FROM memberships m JOIN orgs o ON o.id = m.org_id
               LEFT JOIN roles ro ON ro.org_id = m.org_id AND ro.key = m.role
              WHERE m.user_id = ?1 AND o.deleted_at IS NULL AND m.suspended_at IS NULL
                AND m.seq > ?2
              ORDER BY m.seq LIMIT ?3"
        ),
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
    /// The email domains invitations and invite links admit (empty: any), normalised.
    pub allowed_email_domains: Option<Vec<String>>,
}

impl SettingsChange {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.slug.is_none()
            && self.logo_url.is_none()
            && self.metadata.is_none()
            && self.private_metadata.is_none()
            && self.allowed_email_domains.is_none()
    }
}

/// Guards that the organization's allowed email domains are still those the request read
/// (`conflict`: they changed meanwhile, and the request is decided again under them).
pub fn guard_allowed_domains(batch: &mut Batch, org: &OrgRow) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs WHERE id = ?2 AND allowed_email_domains = ?3)",
        &org.id,
        &org.allowed_email_domains,
    );
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
            "EXISTS (SELECT 1 FROM orgs WHERE slug = ?2 AND id <> ?3
                        AND (deleted_at IS NULL OR purge_at IS NOT NULL))",
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
    let domains = change
        .allowed_email_domains
        .as_ref()
        .map(|d| serde_json::Value::from(d.clone()).to_string());
    if domains.is_some() {
        guard!(
            batch,
            Code::Conflict,
            "EXISTS (SELECT 1 FROM orgs WHERE id = ?2 AND allowed_email_domains = ?3)",
            &caller.org.id,
            domains.as_deref(),
        );
    }
    batch.push(sql!(
        "UPDATE orgs SET name = coalesce(?2, name), slug = coalesce(?3, slug),
                logo_url = CASE WHEN ?4 THEN ?5 ELSE logo_url END, updated_at = ?6,
                metadata = coalesce(?7, metadata),
                private_metadata = coalesce(?8, private_metadata),
                allowed_email_domains = coalesce(?9, allowed_email_domains)
          WHERE id = ?1",
        &caller.org.id,
        change.name.as_ref().map(Name::as_str),
        change.slug.as_ref().map(Slug::as_str),
        logo.is_some(),
        logo.flatten(),
        now.0,
        public,
        private,
        domains.as_deref(),
    ));
    let data = OrganizationUpdatedData {
        name: change.name.as_ref().map(|n| n.as_str().to_owned()),
        slug: change.slug.as_ref().map(|s| s.as_str().to_owned()),
        logo_url: logo.map(|l| l.map(str::to_owned)),
        metadata: change.metadata.as_ref().map(|m| m.changed.clone()),
        private_metadata: change.private_metadata.as_ref().map(|m| m.changed.clone()),
        allowed_email_domains: change.allowed_email_domains.clone(),
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

/// Deletes an organization until `purge_at`: access ends at once (every read of the store
/// passes over deleted organizations), its pending invitations are canceled and queued
/// deliveries dropped; memberships, grants, billing, keys and webhooks stay, to be restored.
/// Returns the token digests of the canceled invitations, whose KV entries must go too.
pub async fn delete(
    db: &Db,
    caller: &Caller,
    purge_at: Timestamp,
    now: Timestamp,
) -> Result<Vec<String>, Problem> {
    #[derive(Deserialize)]
    struct Canceled {
        token_hash: String,
    }
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    batch.push(sql!(
        "UPDATE orgs SET deleted_at = ?2, purge_at = ?3, updated_at = ?2 WHERE id = ?1",
        org,
        now.0,
        purge_at.0,
    ));
    let canceled: Rows<Canceled> = batch.query(sql!(
        "UPDATE invitations SET status = 'canceled', ended_at = ?2
          WHERE org_id = ?1 AND status = 'pending' RETURNING token_hash",
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
        OrganizationDeletedData { purge_at },
        now,
    );
    let results = batch.run(db).await?;
    Ok(results
        .all(canceled)?
        .into_iter()
        .map(|c| c.token_hash)
        .collect())
}

/// An organization a user owns by its slug, live or deleted and not yet due for its purge.
#[derive(Debug, Deserialize)]
pub struct Owned {
    #[serde(flatten)]
    pub org: OrgRow,
    pub deleted_at: Option<i64>,
}

/// Reads the organization `slug` if `user_id` owns it (or owned it when it was deleted) and
/// it can still be restored; live ones too, so that restoring twice finds it restored.
pub fn owned(batch: &mut Batch, user_id: &str, slug: &str, now: Timestamp) -> Rows<Owned> {
    batch.query(sql!(
        concat!(
            "SELECT ",
            org_columns!(),
            ", o.deleted_at
               FROM orgs o JOIN memberships m ON m.org_id = o.id
              WHERE o.slug = ?1 AND m.user_id = ?2 AND m.role = 'owner'
                AND (o.deleted_at IS NULL OR o.purge_at > ?3)"
        ),
        slug,
        user_id,
        now.0,
    ))
}

/// Restores a deleted organization as it was. Guards that it is still deleted, not yet due
/// for its purge and owned by `owner_id` (`conflict`: another request restored it first, and
/// the request is decided again).
pub async fn restore(
    db: &Db,
    mut batch: Batch,
    owner_id: &str,
    org: &OrgRow,
    now: Timestamp,
) -> Result<OrgRow, Problem> {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs o JOIN memberships m ON m.org_id = o.id
                      WHERE o.id = ?2 AND o.deleted_at IS NOT NULL AND o.purge_at > ?3
                        AND m.user_id = ?4 AND m.role = 'owner')",
        &org.id,
        now.0,
        owner_id,
    );
    batch.push(sql!(
        "UPDATE orgs SET deleted_at = NULL, purge_at = NULL, updated_at = ?2 WHERE id = ?1",
        &org.id,
        now.0,
    ));
    audit::record(
        &mut batch,
        Change {
            org_id: &org.id,
            org_slug: &org.slug,
            by: By::User(owner_id),
            target: ("organization", &org.id),
            data: OrganizationRestoredData {}.into(),
        },
        now,
    );
    let row = fetch(&mut batch, &org.id);
    let results = batch.run(db).await?;
    results.first(row)?.ok_or_else(Problem::internal)
}

/// A deleted organization its owner can still restore.
#[derive(Debug, Deserialize)]
pub struct Deleted {
    pub seq: i64,
    pub id: String,
    pub slug: String,
    pub name: String,
    pub deleted_at: i64,
    pub purge_at: i64,
}

/// Adds a page of the deleted organizations `user_id` owned, not yet due for their purge,
/// in creation order.
pub fn deleted_for_owner(
    batch: &mut Batch,
    user_id: &str,
    now: Timestamp,
    after_seq: i64,
    limit: i64,
) -> Rows<Deleted> {
    batch.query(sql!(
        "SELECT o.seq, o.id, o.slug, o.name, o.deleted_at, o.purge_at
           FROM memberships m JOIN orgs o ON o.id = m.org_id
          WHERE m.user_id = ?1 AND m.role = 'owner' AND o.deleted_at IS NOT NULL
            AND o.purge_at > ?2 AND o.seq > ?3
          ORDER BY o.seq LIMIT ?4",
        user_id,
        now.0,
        after_seq,
        limit,
    ))
}

/// Up to `limit` deleted organizations due for their purge (those deleted before deletion
/// could be undone have no `purge_at` and are due at once), in the order they fell due.
/// Two searches of `orgs_purge_due`, one per case: as one condition with `OR`, SQLite reads
/// every deleted organization, due or still in its grace.
pub async fn due_for_purge(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<String>, Problem> {
    #[derive(Deserialize)]
    struct Due {
        id: String,
    }
    let due: Vec<Due> = db
        .all(sql!(
            "SELECT id FROM (SELECT id, purge_at FROM orgs
                              WHERE deleted_at IS NOT NULL AND purge_at IS NULL
                             UNION ALL
                             SELECT id, purge_at FROM orgs
                              WHERE deleted_at IS NOT NULL AND purge_at <= ?1)
              ORDER BY purge_at LIMIT ?2",
            now.0,
            limit,
        ))
        .await?;
    Ok(due.into_iter().map(|d| d.id).collect())
}

/// The statement deleting at most `?2` rows of organization `?1` from `$table`, found by
/// `$key` (its rowid or `seq`), and returning `$returning` for each row
/// (`NULL AS token_hash` unless given). Statement texts must be static, hence a macro; each
/// goes through `statement!` to be planned in the tests like every other.
macro_rules! purge {
    ($table:literal, $key:literal) => {
        purge!($table, $key, "NULL AS token_hash")
    };
    ($table:literal, $key:literal, $returning:literal) => {
        statement!(concat!(
            "DELETE FROM ",
            $table,
            " WHERE ",
            $key,
            " IN (SELECT ",
            $key,
            " FROM ",
            $table,
            " WHERE org_id = ?1 LIMIT ?2) RETURNING ",
            $returning
        ))
    };
}

/// One statement per table holding a tenant's rows, children before their parents, each
/// deleting at most `?2` rows of organization `?1` and returning the invitations' token
/// digests (whose KV entries must go too). Sent with `Stmt::new`.
const PURGE_STATEMENTS: [&str; 20] = [
    purge!("grants", "rowid"),
    purge!("join_requests", "seq"),
    purge!("domains", "seq"),
    purge!("team_grants", "rowid"),
    purge!("team_members", "seq"),
    purge!("teams", "seq"),
    purge!("roles", "seq"),
    purge!("memberships", "seq"),
    // A table without rowid or `seq`: its key is the pair.
    statement!(
        "DELETE FROM role_counts
          WHERE org_id = ?1
            AND role IN (SELECT role FROM role_counts WHERE org_id = ?1 LIMIT ?2)
         RETURNING NULL AS token_hash"
    ),
    purge!("invitations", "seq", "token_hash"),
    purge!("invite_links", "seq"),
    purge!("resources", "seq"),
    purge!("usage_events", "seq"),
    purge!("usage_by_member", "rowid"),
    purge!("ledger", "seq"),
    purge!("api_keys", "seq"),
    purge!("scim_tokens", "seq"),
    purge!("webhooks", "seq"),
    purge!("outbox", "seq"),
    purge!("audit_log", "seq"),
];

/// Where a purge stands after one step.
pub enum PurgeStep {
    /// Rows were deleted (with these invitation token digests); more may be left.
    Deleted(Vec<String>),
    /// Nothing was left: the organization's row is gone and `organization.purged` recorded.
    Done,
}

/// One bounded step of purging organization `org_id`: at most `rows` rows of the first
/// table that still holds some of its rows, or, when none does, the organization itself
/// with the audit entry `organization.purged`, which keeps the tenant's id and nothing
/// else. Each step guards that the organization is still deleted and due (`conflict` when it
/// was restored meanwhile), so a restore and a purge never interleave.
pub async fn purge_step(
    db: &Db,
    org_id: &str,
    rows: i64,
    now: Timestamp,
) -> Result<PurgeStep, Problem> {
    #[derive(Deserialize)]
    struct Purged {
        token_hash: Option<String>,
    }
    for statement in PURGE_STATEMENTS {
        let mut batch = Batch::new();
        guard_due(&mut batch, org_id, now);
        let deleted: Rows<Purged> = batch.query(Stmt::new(
            statement,
            vec![Arg::from(org_id), Arg::from(rows)],
        ));
        let deleted = batch.run(db).await?.all(deleted)?;
        if !deleted.is_empty() {
            return Ok(PurgeStep::Deleted(
                deleted.into_iter().filter_map(|p| p.token_hash).collect(),
            ));
        }
    }
    let mut batch = Batch::new();
    guard_due(&mut batch, org_id, now);
    batch.push(sql!("DELETE FROM orgs WHERE id = ?1", org_id));
    audit::record(
        &mut batch,
        Change {
            org_id,
            org_slug: "",
            by: By::System,
            target: ("organization", org_id),
            data: OrganizationPurgedData {}.into(),
        },
        now,
    );
    batch.run(db).await?;
    Ok(PurgeStep::Done)
}

fn guard_due(batch: &mut Batch, org_id: &str, now: Timestamp) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs
                      WHERE id = ?2 AND deleted_at IS NOT NULL
                        AND (purge_at IS NULL OR purge_at <= ?3))",
        org_id,
        now.0,
    );
}
