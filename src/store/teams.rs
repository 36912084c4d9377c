//! Teams: groups of an organization's members, their members (each a `maintainer` or a
//! `member` of the team), and the grants teams hold on resources.
//!
//! Every write guards what its request read: the team still exists, the person added is
//! still a member of the organization, a maintainer acting on their team still maintains
//! it, and the plan's limit on teams still has room — so parallel requests never create
//! more teams than the plan allows, nor add someone who has just left.

use super::audit;
use super::principal::{self, Caller};
use super::resources::{guard_caller_level, guard_exists as guard_resource_exists};
use super::{Batch, Db, Rows};
use crate::api::events::{
    TeamCreatedData, TeamDeletedData, TeamGrantRemovedData, TeamGrantSetData, TeamMemberAddedData,
    TeamMemberRemovedData, TeamUpdatedData,
};
use crate::domain::policy::TeamRole;
use crate::domain::values::{new_id, Level, Name, Slug};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// The statement reading teams with their member counts (a counter kept by triggers).
macro_rules! team_select {
    ($where:literal) => {
        concat!(
            "SELECT t.seq, t.id, t.slug, t.name, t.created_at, t.members_count
               FROM teams t
              WHERE t.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
                AND ",
            $where
        )
    };
}

/// The statement reading a team's members, the team named by organization slug `?1` and
/// team slug `?2`.
macro_rules! team_member_select {
    ($where:literal) => {
        concat!(
            "SELECT tm.seq, tm.user_id, u.email, u.name, tm.team_role, tm.added_at
               FROM team_members tm JOIN users u ON u.id = tm.user_id
              WHERE tm.team_id = (SELECT t.id FROM teams t JOIN orgs o ON o.id = t.org_id
                                   WHERE o.slug = ?1 AND o.deleted_at IS NULL AND t.slug = ?2)
                AND ",
            $where
        )
    };
}

#[derive(Debug, Clone, Deserialize)]
pub struct TeamRow {
    pub seq: i64,
    pub id: String,
    pub slug: String,
    pub name: String,
    pub members_count: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TeamMemberRow {
    pub seq: i64,
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub team_role: String,
    pub added_at: i64,
}

impl TeamMemberRow {
    /// The member's standing in the team (the schema admits only known ones).
    pub fn team_role(&self) -> Result<TeamRole, Problem> {
        TeamRole::parse(&self.team_role).ok_or_else(Problem::internal)
    }
}

/// A team, with its grant on one resource, if any.
#[derive(Debug, Clone, Deserialize)]
pub struct TeamOnResource {
    pub id: String,
    pub slug: String,
    pub level: Option<i64>,
}

impl TeamOnResource {
    pub fn grant(&self) -> Option<Level> {
        self.level.and_then(Level::from_rank)
    }
}

#[derive(Debug, Deserialize)]
pub struct Count {
    pub teams: i64,
}

/// Adds a page of organization `slug`'s teams, in the order they were created.
pub fn list(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<TeamRow> {
    batch.query(sql!(
        team_select!("t.seq > ?2 ORDER BY t.seq LIMIT ?3"),
        slug,
        after_seq,
        limit,
    ))
}

/// Adds the read of team `team` (its slug) of organization `slug`.
pub fn one(batch: &mut Batch, slug: &str, team: &str) -> Rows<TeamRow> {
    batch.query(sql!(team_select!("t.slug = ?2"), slug, team))
}

/// Adds the count of organization `slug`'s teams, which the plan limits.
pub fn count(batch: &mut Batch, slug: &str) -> Rows<Count> {
    batch.query(sql!(
        "SELECT count(*) AS teams FROM teams
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)",
        slug,
    ))
}

/// Adds a page of the members of team `team` of organization `slug`, in the order they
/// were added.
pub fn members(
    batch: &mut Batch,
    slug: &str,
    team: &str,
    after_seq: i64,
    limit: i64,
) -> Rows<TeamMemberRow> {
    batch.query(sql!(
        team_member_select!("tm.seq > ?3 ORDER BY tm.seq LIMIT ?4"),
        slug,
        team,
        after_seq,
        limit,
    ))
}

/// Adds the read of `user_id`'s membership of team `team` of organization `slug`.
pub fn member(batch: &mut Batch, slug: &str, team: &str, user_id: &str) -> Rows<TeamMemberRow> {
    batch.query(sql!(
        team_member_select!("tm.user_id = ?3"),
        slug,
        team,
        user_id,
    ))
}

/// Adds the read of team `team` of organization `slug` with its grant on resource
/// `resource_id`.
pub fn on_resource(
    batch: &mut Batch,
    slug: &str,
    team: &str,
    resource_id: &str,
) -> Rows<TeamOnResource> {
    batch.query(sql!(
        "SELECT t.id, t.slug,
                (SELECT level FROM team_grants WHERE resource_id = ?3 AND team_id = t.id) AS level
           FROM teams t
          WHERE t.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND t.slug = ?2",
        slug,
        team,
        resource_id,
    ))
}

fn read_back(batch: &mut Batch, id: &str) -> Rows<TeamRow> {
    batch.query(sql!(
        "SELECT t.seq, t.id, t.slug, t.name, t.created_at, t.members_count
           FROM teams t WHERE t.id = ?1",
        id,
    ))
}

fn read_back_member(batch: &mut Batch, team_id: &str, user_id: &str) -> Rows<TeamMemberRow> {
    batch.query(sql!(
        "SELECT tm.seq, tm.user_id, u.email, u.name, tm.team_role, tm.added_at
           FROM team_members tm JOIN users u ON u.id = tm.user_id
          WHERE tm.team_id = ?1 AND tm.user_id = ?2",
        team_id,
        user_id,
    ))
}

/// Guards that the team read still exists (`not_found`: it was deleted meanwhile).
fn guard_team_exists(batch: &mut Batch, org_id: &str, team_id: &str) {
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM teams WHERE id = ?2 AND org_id = ?3)",
        team_id,
        org_id,
    );
}

/// Guards that a slug is not another team's in the organization. The UNIQUE index backs
/// it; the guard names the refusal.
fn guard_slug_free(batch: &mut Batch, org_id: &str, slug: &Slug, except: &str) {
    guard!(
        batch,
        Code::SlugTaken,
        "EXISTS (SELECT 1 FROM teams WHERE org_id = ?2 AND slug = ?3 AND id <> ?4)",
        org_id,
        slug.as_str(),
        except,
    );
}

/// Guards, for a caller who acts as the team's maintainer rather than by their role, that
/// they still maintain it (`conflict`: the request is decided again).
fn guard_maintainer(batch: &mut Batch, caller: &Caller, team_id: &str, as_maintainer: bool) {
    if as_maintainer {
        guard!(
            batch,
            Code::Conflict,
            "NOT EXISTS (SELECT 1 FROM team_members
                          WHERE team_id = ?2 AND user_id = ?3 AND team_role = 'maintainer')",
            team_id,
            caller.actor.user_id().unwrap_or(""),
        );
    }
}

/// Creates a team. `limit` is the plan's limit on teams, decided on the plan read: guards
/// that the slug is free, that the organization still has room (`limit_reached`) and that
/// the plan is still the one read (`conflict`).
pub async fn create(
    db: &Db,
    caller: &Caller,
    name: &Name,
    slug: &Slug,
    limit: Option<i64>,
    now: Timestamp,
) -> Result<TeamRow, Problem> {
    let id = new_id();
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_slug_free(&mut batch, org, slug, &id);
    if let Some(limit) = limit {
        guard!(
            batch,
            Code::LimitReached,
            "(SELECT count(*) FROM teams WHERE org_id = ?2) >= ?3",
            org,
            limit,
        );
    }
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs WHERE id = ?2 AND plan = ?3)",
        org,
        &caller.org.plan,
    );
    batch.push(sql!(
        "INSERT INTO teams (id, org_id, slug, name, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        &id,
        org,
        slug.as_str(),
        name.as_str(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("team", &id),
        TeamCreatedData {
            slug: slug.as_str().to_owned(),
            name: name.as_str().to_owned(),
        },
        now,
    );
    let row = read_back(&mut batch, &id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Renames a team or changes its slug, with fields that differed when read. Guards that
/// the team still exists, that the new slug is free, and that neither field has meanwhile
/// been set to the value asked for (`conflict`: the request is decided again).
pub async fn update(
    db: &Db,
    caller: &Caller,
    team: &TeamRow,
    name: Option<&Name>,
    slug: Option<&Slug>,
    now: Timestamp,
) -> Result<TeamRow, Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_team_exists(&mut batch, org, &team.id);
    if let Some(slug) = slug {
        guard_slug_free(&mut batch, org, slug, &team.id);
    }
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM teams WHERE id = ?2 AND (name = ?3 OR slug = ?4))",
        &team.id,
        name.map(Name::as_str),
        slug.map(Slug::as_str),
    );
    batch.push(sql!(
        "UPDATE teams SET name = coalesce(?2, name), slug = coalesce(?3, slug), updated_at = ?4
          WHERE id = ?1",
        &team.id,
        name.map(Name::as_str),
        slug.map(Slug::as_str),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("team", &team.id),
        TeamUpdatedData {
            team: team.slug.clone(),
            slug: slug.map(|s| s.as_str().to_owned()),
            name: name.map(|n| n.as_str().to_owned()),
        },
        now,
    );
    let row = read_back(&mut batch, &team.id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Deletes a team with its memberships and its grants.
pub async fn delete(
    db: &Db,
    caller: &Caller,
    team: &TeamRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard_team_exists(&mut batch, &caller.org.id, &team.id);
    delete_statements(&mut batch, &team.id);
    audit::by_caller(
        &mut batch,
        caller,
        ("team", &team.id),
        TeamDeletedData {
            slug: team.slug.clone(),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// Adds the statements deleting team `team_id` with its grants and members.
pub(super) fn delete_statements(batch: &mut Batch, team_id: &str) {
    batch.push(sql!("DELETE FROM team_grants WHERE team_id = ?1", team_id));
    batch.push(sql!("DELETE FROM team_members WHERE team_id = ?1", team_id));
    batch.push(sql!("DELETE FROM teams WHERE id = ?1", team_id));
}

/// Adds member `user_id` to a team as `team_role`, or changes their `team_role` there.
/// Guards that the team exists, that they are still a member of the organization
/// (`not_found`), that a maintainer acting still maintains the team, and that they do not
/// hold `team_role` there already (`conflict`: another request did it first; this one is
/// decided again and finds nothing to do).
pub async fn put_member(
    db: &Db,
    caller: &Caller,
    team: &TeamRow,
    user_id: &str,
    team_role: TeamRole,
    as_maintainer: bool,
    now: Timestamp,
) -> Result<TeamMemberRow, Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_team_exists(&mut batch, org, &team.id);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND user_id = ?3)",
        org,
        user_id,
    );
    guard_maintainer(&mut batch, caller, &team.id, as_maintainer);
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM team_members WHERE team_id = ?2 AND user_id = ?3 AND team_role = ?4)",
        &team.id,
        user_id,
        team_role.as_str(),
    );
    batch.push(sql!(
        "INSERT INTO team_members (team_id, org_id, user_id, team_role, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (team_id, user_id) DO UPDATE SET team_role = excluded.team_role",
        &team.id,
        org,
        user_id,
        team_role.as_str(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("member", user_id),
        TeamMemberAddedData {
            team: team.slug.clone(),
            user_id: user_id.to_owned(),
            team_role,
        },
        now,
    );
    let row = read_back_member(&mut batch, &team.id, user_id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Takes `user_id` out of a team (`not_found` when they are not in it).
pub async fn remove_member(
    db: &Db,
    caller: &Caller,
    team: &TeamRow,
    user_id: &str,
    as_maintainer: bool,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM team_members WHERE team_id = ?2 AND user_id = ?3)",
        &team.id,
        user_id,
    );
    guard_maintainer(&mut batch, caller, &team.id, as_maintainer);
    batch.push(sql!(
        "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2",
        &team.id,
        user_id,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("member", user_id),
        TeamMemberRemovedData {
            team: team.slug.clone(),
            user_id: user_id.to_owned(),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// Gives `team` `level` on resource `id` (replacing the level it had). Guards that the
/// resource and the team still exist, that the caller still reaches `admin` on the
/// resource, and that the team does not hold `level` there already (`conflict`: another
/// request gave it first; this one is decided again and finds nothing to do).
pub async fn set_grant(
    db: &Db,
    caller: &Caller,
    id: &str,
    team: &TeamOnResource,
    level: Level,
    now: Timestamp,
) -> Result<(), Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_resource_exists(&mut batch, org, id);
    guard_team_exists(&mut batch, org, &team.id);
    guard_caller_level(&mut batch, caller, id, Level::Admin);
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM team_grants WHERE resource_id = ?2 AND team_id = ?3 AND level = ?4)",
        id,
        &team.id,
        level.rank(),
    );
    batch.push(sql!(
        "INSERT INTO team_grants (org_id, resource_id, team_id, level, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (resource_id, team_id) DO UPDATE SET level = excluded.level",
        org,
        id,
        &team.id,
        level.rank(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("resource", id),
        TeamGrantSetData {
            team: team.slug.clone(),
            level,
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// Takes `team`'s grant on resource `id` away (`not_found` when it holds none).
pub async fn remove_grant(
    db: &Db,
    caller: &Caller,
    id: &str,
    team: &TeamOnResource,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard_caller_level(&mut batch, caller, id, Level::Admin);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM team_grants WHERE resource_id = ?2 AND team_id = ?3 AND org_id = ?4)",
        id,
        &team.id,
        &caller.org.id,
    );
    batch.push(sql!(
        "DELETE FROM team_grants WHERE resource_id = ?1 AND team_id = ?2",
        id,
        &team.id,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("resource", id),
        TeamGrantRemovedData {
            team: team.slug.clone(),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}
