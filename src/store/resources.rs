//! Resources (whatever the product calls them: workspaces, properties, projects) and the
//! per-member grants on them.

use super::audit;
use super::members::{guard_role_unchanged, MemberRow};
use super::principal::{self, Caller};
use super::{Batch, Db, Rows};
use crate::api::events::{
    GrantRemovedData, GrantSetData, ResourceCreatedData, ResourceDeletedData, ResourceUpdatedData,
};
use crate::domain::policy::{roles_seeing_every_resource, Actor};
use crate::domain::values::{new_id, Level, Name};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;
use serde_json::Value;

/// The highest grant user `$user` (a parameter) holds on resource `r`: their own or one of
/// their teams'.
macro_rules! highest_grant {
    ($user:literal) => {
        concat!(
            "(SELECT max(level) FROM (
                SELECT g.level FROM grants g WHERE g.resource_id = r.id AND g.user_id = ",
            $user,
            " UNION ALL
                SELECT tg.level FROM team_grants tg
                  JOIN team_members tm ON tm.team_id = tg.team_id AND tm.user_id = ",
            $user,
            " WHERE tg.resource_id = r.id))"
        )
    };
}

/// A resource, with the highest grant its reader holds on it (own or a team's), if any.
#[derive(Debug, Clone, Deserialize)]
pub struct ResourceRow {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub kind: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub grant_level: Option<i64>,
}

impl ResourceRow {
    pub fn grant(&self) -> Option<Level> {
        self.grant_level.and_then(Level::from_rank)
    }
}

/// The roles that see every resource, as a JSON array for SQL (the policy decides which).
fn seeing_roles() -> String {
    Value::from(
        roles_seeing_every_resource()
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>(),
    )
    .to_string()
}

/// Adds a page of the resources `user_id` can read in organization `slug`: all of them for
/// the roles that see everything, those they hold a grant on otherwise. An API key
/// (`user_id` empty) gets every resource; the handler keeps them only if its scopes allow.
pub fn list(
    batch: &mut Batch,
    slug: &str,
    user_id: &str,
    after_seq: i64,
    limit: i64,
) -> Rows<ResourceRow> {
    batch.query(sql!(
        concat!(
            "SELECT * FROM (SELECT r.seq, r.id, r.name, r.kind, r.created_by, r.created_at, ",
            highest_grant!("?2"),
            " AS grant_level, r.org_id
                 FROM resources r
                WHERE r.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
                  AND r.seq > ?4) r
              WHERE ?2 = ''
                 OR r.grant_level IS NOT NULL
                 OR EXISTS (SELECT 1 FROM memberships m
                              LEFT JOIN roles ro ON ro.org_id = m.org_id AND ro.key = m.role
                             WHERE m.org_id = r.org_id AND m.user_id = ?2
                               AND (m.role IN (SELECT value FROM json_each(?3))
                                    OR ro.resource_floor IS NOT NULL))
              ORDER BY r.seq LIMIT ?5"
        ),
        slug,
        user_id,
        seeing_roles(),
        after_seq,
        limit,
    ))
}

/// Adds the read of resource `id` of organization `slug`, with `user_id`'s grant on it.
pub fn one(batch: &mut Batch, slug: &str, id: &str, user_id: &str) -> Rows<ResourceRow> {
    batch.query(sql!(
        concat!(
            "SELECT r.seq, r.id, r.name, r.kind, r.created_by, r.created_at, ",
            highest_grant!("?3"),
            " AS grant_level
               FROM resources r
              WHERE r.id = ?2
                AND r.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)"
        ),
        slug,
        id,
        user_id,
    ))
}

/// Whether a resource exists in organization `slug`, and `user_id`'s highest grant on it
/// (own or a team's).
#[derive(Debug, Deserialize)]
pub struct Standing {
    pub present: i64,
    /// The highest grant, own or a team's.
    pub level: Option<i64>,
}

pub fn standing(batch: &mut Batch, slug: &str, id: &str, user_id: &str) -> Rows<Standing> {
    batch.query(sql!(
        concat!(
            "SELECT r.id IS NOT NULL AS present, ",
            highest_grant!("?3"),
            " AS level
               FROM (SELECT 1) LEFT JOIN resources r
                 ON r.id = ?2
                AND r.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)"
        ),
        slug,
        id,
        user_id,
    ))
}

fn read_back(batch: &mut Batch, id: &str, user_id: &str) -> Rows<ResourceRow> {
    batch.query(sql!(
        concat!(
            "SELECT r.seq, r.id, r.name, r.kind, r.created_by, r.created_at, ",
            highest_grant!("?2"),
            " AS grant_level FROM resources r WHERE r.id = ?1"
        ),
        id,
        user_id,
    ))
}

/// Guards that the caller still reaches `level` on the resource: when their role's floor
/// does not, that rests on a grant, own or a team's, which may have been lowered or removed
/// since it was read (the role itself is guarded with the caller).
pub(super) fn guard_caller_level(
    batch: &mut Batch,
    caller: &Caller,
    resource_id: &str,
    level: Level,
) {
    if let Actor::User { id, def, .. } = &caller.actor {
        if def.floor < Some(level) {
            guard!(
                batch,
                Code::Conflict,
                "NOT EXISTS (SELECT 1 FROM grants WHERE resource_id = ?2 AND user_id = ?3 AND level >= ?4
                             UNION ALL
                             SELECT 1 FROM team_grants tg
                               JOIN team_members tm ON tm.team_id = tg.team_id AND tm.user_id = ?3
                              WHERE tg.resource_id = ?2 AND tg.level >= ?4)",
                resource_id,
                id,
                level.rank(),
            );
        }
    }
}

pub(super) fn guard_exists(batch: &mut Batch, org_id: &str, id: &str) {
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM resources WHERE id = ?2 AND org_id = ?3)",
        id,
        org_id,
    );
}

/// Creates a resource.
pub async fn create(
    db: &Db,
    caller: &Caller,
    name: &Name,
    kind: Option<&str>,
    now: Timestamp,
) -> Result<ResourceRow, Problem> {
    let id = new_id();
    let mut batch = principal::write_batch(caller);
    batch.push(sql!(
        "INSERT INTO resources (id, org_id, name, kind, created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        &id,
        &caller.org.id,
        name.as_str(),
        kind,
        caller.actor.kind_and_id().1,
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("resource", &id),
        ResourceCreatedData {
            name: name.as_str().to_owned(),
            kind: kind.map(str::to_owned),
        },
        now,
    );
    let row = read_back(&mut batch, &id, caller.actor.user_id().unwrap_or(""));
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Renames a resource or changes its kind (`Some(None)` clears the kind), with fields that
/// differed when read. Guards that none of them has meanwhile been set to the value asked
/// for (`conflict`: another request made this change first; this one is decided again).
pub async fn update(
    db: &Db,
    caller: &Caller,
    id: &str,
    name: Option<&Name>,
    kind: Option<Option<&str>>,
    now: Timestamp,
) -> Result<ResourceRow, Problem> {
    let mut batch = principal::write_batch(caller);
    guard_exists(&mut batch, &caller.org.id, id);
    guard_caller_level(&mut batch, caller, id, Level::Admin);
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM resources
                  WHERE id = ?2 AND (name = ?3 OR (?4 AND kind IS ?5)))",
        id,
        name.map(Name::as_str),
        kind.is_some(),
        kind.flatten(),
    );
    batch.push(sql!(
        "UPDATE resources SET name = coalesce(?2, name),
                kind = CASE WHEN ?3 THEN ?4 ELSE kind END, updated_at = ?5
          WHERE id = ?1",
        id,
        name.map(Name::as_str),
        kind.is_some(),
        kind.flatten(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("resource", id),
        ResourceUpdatedData {
            name: name.map(|n| n.as_str().to_owned()),
            kind: kind.map(|k| k.map(str::to_owned)),
        },
        now,
    );
    let row = read_back(&mut batch, id, caller.actor.user_id().unwrap_or(""));
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Deletes a resource and every grant on it.
pub async fn delete(db: &Db, caller: &Caller, id: &str, now: Timestamp) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard_exists(&mut batch, &caller.org.id, id);
    guard_caller_level(&mut batch, caller, id, Level::Admin);
    batch.push(sql!("DELETE FROM grants WHERE resource_id = ?1", id));
    batch.push(sql!("DELETE FROM team_grants WHERE resource_id = ?1", id));
    batch.push(sql!("DELETE FROM resources WHERE id = ?1", id));
    audit::by_caller(
        &mut batch,
        caller,
        ("resource", id),
        ResourceDeletedData {},
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// Gives `member` `level` on resource `id` (replacing any grant they had at another level).
/// Guards that they do not hold `level` there already (`conflict`: another request gave it
/// first; this one is decided again and finds nothing to do).
pub async fn set_grant(
    db: &Db,
    caller: &Caller,
    id: &str,
    member: &MemberRow,
    level: Level,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard_exists(&mut batch, &caller.org.id, id);
    guard_caller_level(&mut batch, caller, id, Level::Admin);
    // The cap was judged on this role.
    guard_role_unchanged(&mut batch, &caller.org.id, member);
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM grants WHERE resource_id = ?2 AND user_id = ?3 AND level = ?4)",
        id,
        &member.user_id,
        level.rank(),
    );
    batch.push(sql!(
        "INSERT INTO grants (org_id, resource_id, user_id, level, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (resource_id, user_id) DO UPDATE SET level = excluded.level",
        &caller.org.id,
        id,
        &member.user_id,
        level.rank(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("resource", id),
        GrantSetData {
            user_id: member.user_id.clone(),
            level,
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// Takes `user_id`'s grant on resource `id` away.
pub async fn remove_grant(
    db: &Db,
    caller: &Caller,
    id: &str,
    user_id: &str,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard_caller_level(&mut batch, caller, id, Level::Admin);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM grants WHERE resource_id = ?2 AND user_id = ?3 AND org_id = ?4)",
        id,
        user_id,
        &caller.org.id,
    );
    batch.push(sql!(
        "DELETE FROM grants WHERE resource_id = ?1 AND user_id = ?2",
        id,
        user_id
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("resource", id),
        GrantRemovedData {
            user_id: user_id.to_owned(),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}
