//! SCIM 2.0 as stored: the token that names the organization, its members as Users and its
//! teams as Groups.
//!
//! A User's `id` is the user id a member joined under: for a member the identity provider
//! provisioned, the provisioned user's (`scim_id`), kept when the membership moves to the
//! person's own user on their first sign-in; for everyone else, their user id. Every change
//! guards what it decided on — the token still live, the member or team as read — and a
//! member is created through `members::join`, the one place a membership is made.

use super::audit::{self, By, Change};
use super::invitations::SeatCheck;
use super::members::{self, Joiner};
use super::principal::{org_columns, OrgRow};
use super::roles::{self, role_def_columns, StoredDef};
use super::{Batch, Db, Rows};
use crate::api::events::{
    EventData, MemberAddedData, MemberReactivatedData, MemberRemovedData, MemberRoleChangedData,
    MemberSuspendedData, TeamCreatedData, TeamDeletedData, TeamMemberAddedData,
    TeamMemberRemovedData, TeamUpdatedData,
};
use crate::domain::joining::JoinedVia;
use crate::domain::policy::{RoleDef, TeamRole};
use crate::domain::scim::{Filter, UserAttributes};
use crate::domain::values::{new_id, RoleKey, Slug};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// The organization a SCIM token names, and the token.
#[derive(Debug, Clone, Deserialize)]
pub struct ScimCaller {
    #[serde(flatten)]
    pub org: OrgRow,
    pub token_id: String,
}

impl ScimCaller {
    fn by(&self) -> By<'_> {
        By::ScimToken(&self.token_id)
    }

    fn record(&self, batch: &mut Batch, target: (&str, &str), data: EventData, now: Timestamp) {
        audit::record(
            batch,
            Change {
                org_id: &self.org.id,
                org_slug: &self.org.slug,
                by: self.by(),
                target,
                data,
            },
            now,
        );
    }
}

/// Adds the statements that authenticate a SCIM token by its digest: its use recorded (at
/// most once a minute), and the organization it names, unless it was revoked or the
/// organization deleted.
pub fn authenticate(batch: &mut Batch, digest: &str, now: Timestamp) -> Rows<ScimCaller> {
    batch.push(sql!(
        "UPDATE scim_tokens SET last_used_at = ?2
          WHERE secret_hash = ?1 AND revoked_at IS NULL
            AND (last_used_at IS NULL OR last_used_at <= ?2 - 60)
            AND EXISTS (SELECT 1 FROM orgs o
                         WHERE o.id = scim_tokens.org_id AND o.deleted_at IS NULL)",
        digest,
        now.0,
    ));
    batch.query(sql!(
        concat!(
            "SELECT ",
            org_columns!(),
            ", t.id AS token_id
               FROM scim_tokens t JOIN orgs o ON o.id = t.org_id
              WHERE t.secret_hash = ?1 AND t.revoked_at IS NULL AND o.deleted_at IS NULL"
        ),
        digest,
    ))
}

/// A write's first guard: the token is still live and its organization not deleted
/// (`conflict` otherwise: the request is decided again, and then answered 401).
fn write_batch(caller: &ScimCaller) -> Batch {
    let mut batch = Batch::new();
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM scim_tokens t JOIN orgs o ON o.id = t.org_id
                      WHERE t.id = ?2 AND t.revoked_at IS NULL AND o.deleted_at IS NULL)",
        &caller.token_id,
    );
    batch
}

/// The organization of the live token whose digest is `?1`: reads of a request find their
/// rows with it, so that they run in the batch that authenticates the token.
macro_rules! token_org {
    () => {
        "(SELECT t.org_id FROM scim_tokens t JOIN orgs o ON o.id = t.org_id
           WHERE t.secret_hash = ?1 AND t.revoked_at IS NULL AND o.deleted_at IS NULL)"
    };
}

/// The statement reading members as Users, narrowed by `$where` (over `m`, `u`).
macro_rules! user_select {
    ($where:literal) => {
        concat!(
            "SELECT coalesce(m.scim_id, m.user_id) AS id, m.user_id, u.email,
                    u.provisioned, m.role, m.joined_at, m.joined_via, m.external_id,
                    m.given_name, m.family_name, m.display_name, m.suspended_at, ",
            role_def_columns!(),
            ",
                    (SELECT json_group_array(json_object('value', t.id, 'display', t.name))
                       FROM team_members tm JOIN teams t ON t.id = tm.team_id
                      WHERE tm.org_id = m.org_id AND tm.user_id = m.user_id) AS groups
               FROM memberships m JOIN users u ON u.id = m.user_id
               LEFT JOIN roles ro ON ro.org_id = m.org_id AND ro.key = m.role
              WHERE ",
            $where
        )
    };
}

/// A member as a User.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    /// The User's `id`.
    pub id: String,
    pub user_id: String,
    pub email: Option<String>,
    /// Whether no one has signed in as this user yet.
    pub provisioned: i64,
    pub role: String,
    pub joined_at: i64,
    pub joined_via: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub suspended_at: Option<i64>,
    #[serde(flatten)]
    pub def: StoredDef,
    /// `[{"value": team id, "display": team name}]`.
    pub groups: String,
}

impl UserRow {
    pub fn role(&self) -> Result<(RoleKey, RoleDef), Problem> {
        self.def.resolve(&self.role)
    }

    pub fn joined_via(&self) -> Result<JoinedVia, Problem> {
        JoinedVia::parse(&self.joined_via).ok_or_else(Problem::internal)
    }
}

#[derive(Debug, Deserialize)]
pub struct Count {
    pub n: i64,
}

/// A page of a SCIM list, and how many resources match in all.
pub type Page<R> = (Rows<R>, Rows<Count>);

/// The conditions of a Users filter, over `m` and `u`: `?2` matches nothing, `?3` the
/// `userName`, `?4` the `externalId`, `?5` the `displayName` (each NULL: any). The page and
/// its total both narrow by them.
macro_rules! users_matching {
    () => {
        " AND NOT ?2 AND (?3 IS NULL OR u.email = ?3)
          AND (?4 IS NULL OR m.external_id = ?4) AND (?5 IS NULL OR m.display_name = ?5)"
    };
}

/// Adds a page of the organization's members matching `filter`, in the order they joined,
/// from the `start`th (1-based), and how many match in all.
pub fn users(
    batch: &mut Batch,
    digest: &str,
    filter: &Filter,
    start: i64,
    count: i64,
) -> Page<UserRow> {
    let page = batch.query(sql!(
        concat!(
            user_select!("m.org_id = "),
            token_org!(),
            users_matching!(),
            " ORDER BY m.seq LIMIT ?6 OFFSET ?7"
        ),
        digest,
        filter.matches_nothing,
        filter.user_name.as_deref(),
        filter.external_id.as_deref(),
        filter.display_name.as_deref(),
        count,
        start - 1,
    ));
    let total = batch.query(sql!(
        concat!(
            "SELECT count(*) AS n FROM memberships m JOIN users u ON u.id = m.user_id
              WHERE m.org_id = ",
            token_org!(),
            users_matching!()
        ),
        digest,
        filter.matches_nothing,
        filter.user_name.as_deref(),
        filter.external_id.as_deref(),
        filter.display_name.as_deref(),
    ));
    (page, total)
}

/// Adds the read of the User `id`.
pub fn user(batch: &mut Batch, digest: &str, id: &str) -> Rows<UserRow> {
    batch.query(sql!(
        concat!(
            user_select!("m.org_id = "),
            token_org!(),
            " AND coalesce(m.scim_id, m.user_id) = ?2"
        ),
        digest,
        id,
    ))
}

/// What a new or changed User would collide with: another member with the address, or
/// with the external id; and a provisioned user with the address, to be reused.
#[derive(Debug, Deserialize)]
pub struct Collisions {
    /// The User id of another member with the address.
    pub email_taken: Option<String>,
    /// The User id of another member with the external id.
    pub external_id_taken: Option<String>,
    /// A provisioned user with the address, member of other organizations.
    pub provisioned_user: Option<String>,
}

/// Adds the read of what `email` and `external_id` would collide with.
pub fn collisions(
    batch: &mut Batch,
    digest: &str,
    email: &str,
    external_id: Option<&str>,
) -> Rows<Collisions> {
    batch.query(sql!(
        concat!(
            "SELECT (SELECT coalesce(m.scim_id, m.user_id)
                       FROM users u JOIN memberships m ON m.user_id = u.id
                      WHERE m.org_id = ",
            token_org!(),
            " AND u.email = ?2 LIMIT 1) AS email_taken,
                    (SELECT coalesce(m.scim_id, m.user_id) FROM memberships m
                      WHERE m.org_id = ",
            token_org!(),
            " AND m.external_id = ?3) AS external_id_taken,
                    (SELECT id FROM users WHERE provisioned = 1 AND email = ?2 LIMIT 1)
                      AS provisioned_user"
        ),
        digest,
        email,
        external_id,
    ))
}

/// A custom role's definition, to give it.
#[derive(Debug, Deserialize)]
pub struct RoleDefRow {
    #[serde(flatten)]
    pub def: StoredDef,
}

/// Adds the read of the custom role `key` (no row: there is none).
pub fn custom_role(batch: &mut Batch, digest: &str, key: &str) -> Rows<RoleDefRow> {
    batch.query(sql!(
        concat!(
            "SELECT permissions AS role_permissions, resource_floor AS role_floor,
                    resource_cap AS role_cap
               FROM roles WHERE org_id = ",
            token_org!(),
            " AND key = ?2"
        ),
        digest,
        key,
    ))
}

/// Guards that no other member has `email` or `external_id` (`already_member`: SCIM's
/// `uniqueness`). `user_id` is the member being changed, if any.
fn guard_unique(
    batch: &mut Batch,
    org_id: &str,
    user_id: Option<&str>,
    email: &str,
    external_id: Option<&str>,
) {
    guard!(
        batch,
        Code::AlreadyMember,
        "EXISTS (SELECT 1 FROM users u JOIN memberships m ON m.user_id = u.id AND m.org_id = ?2
                  WHERE u.email = ?3 AND m.user_id IS NOT ?4)",
        org_id,
        email,
        user_id,
    );
    if let Some(external_id) = external_id {
        guard!(
            batch,
            Code::AlreadyMember,
            "EXISTS (SELECT 1 FROM memberships
                      WHERE org_id = ?2 AND external_id = ?3 AND user_id IS NOT ?4)",
            org_id,
            external_id,
            user_id,
        );
    }
}

/// Sets the SCIM attributes of `user_id`'s membership.
fn set_attributes(
    batch: &mut Batch,
    org_id: &str,
    user_id: &str,
    user: &UserAttributes,
    now: Timestamp,
) {
    batch.push(sql!(
        "UPDATE memberships
            SET external_id = ?3, given_name = ?4, family_name = ?5, display_name = ?6,
                suspended_at = CASE WHEN ?7 THEN NULL ELSE coalesce(suspended_at, ?8) END
          WHERE org_id = ?1 AND user_id = ?2",
        org_id,
        user_id,
        user.external_id.as_deref(),
        user.given_name.as_deref(),
        user.family_name.as_deref(),
        user.display_name.as_deref(),
        user.active,
        now.0,
    ));
}

/// Provisions `user` as a member with `role`: a provisioned user for the address (the one
/// other organizations provisioned, if any), made a member through `members::join` with
/// `joined_via: scim`. Guards the address and external id unique in the organization
/// (`already_member`), the seats (`seat_limit_reached`), the role as read, and the
/// provisioned user as read (`conflict`).
pub async fn create_user(
    db: &Db,
    caller: &ScimCaller,
    user: &UserAttributes,
    role: (&RoleKey, RoleDef),
    provisioned_user: Option<&str>,
    seats: &SeatCheck<'_>,
    now: Timestamp,
) -> Result<UserRow, Problem> {
    let org = &caller.org.id;
    let email = user.user_name.as_str();
    let mut batch = write_batch(caller);
    guard_unique(&mut batch, org, None, email, user.external_id.as_deref());
    let user_id = match provisioned_user {
        Some(id) => {
            guard!(
                batch,
                Code::Conflict,
                "NOT EXISTS (SELECT 1 FROM users WHERE id = ?2 AND provisioned = 1 AND email = ?3)",
                id,
                email,
            );
            id.to_owned()
        }
        None => {
            let id = new_id();
            guard!(
                batch,
                Code::Conflict,
                "EXISTS (SELECT 1 FROM users WHERE provisioned = 1 AND email = ?2)",
                email,
            );
            batch.push(sql!(
                "INSERT INTO users (id, email, email_verified, name, created_at, last_active_at,
                                    provisioned)
                 VALUES (?1, ?2, 0, ?3, ?4, ?4, 1)",
                &id,
                email,
                user.display_name.clone().or_else(|| user.formatted_name()),
                now.0,
            ));
            id
        }
    };
    members::join(
        &mut batch,
        &Joiner {
            org_id: org,
            org_slug: &caller.org.slug,
            user_id: &user_id,
            by: caller.by(),
            role,
            invitation_id: None,
            teams: ("[]", &[]),
            seats,
            member_added: MemberAddedData::joining(
                &user_id,
                (
                    Some(email.to_owned()),
                    user.display_name.clone().or_else(|| user.formatted_name()),
                ),
                role.0,
                JoinedVia::Scim,
                now,
            ),
        },
        now,
    );
    batch.push(sql!(
        "UPDATE memberships SET scim_id = ?2 WHERE org_id = ?1 AND user_id = ?2",
        org,
        &user_id,
    ));
    set_attributes(&mut batch, org, &user_id, user, now);
    if !user.active {
        caller.record(
            &mut batch,
            ("member", &user_id),
            MemberSuspendedData {
                user_id: user_id.clone(),
                email: Some(email.to_owned()),
            }
            .into(),
            now,
        );
    }
    let row = user_by_user_id(&mut batch, org, &user_id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

fn user_by_user_id(batch: &mut Batch, org_id: &str, user_id: &str) -> Rows<UserRow> {
    batch.query(sql!(
        user_select!("m.org_id = ?1 AND m.user_id = ?2"),
        org_id,
        user_id,
    ))
}

/// Guards that the member is still as `row` read them (`conflict` otherwise).
fn guard_user_unchanged(batch: &mut Batch, org_id: &str, row: &UserRow) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM memberships m
                       LEFT JOIN roles ro ON ro.org_id = m.org_id AND ro.key = m.role
                      WHERE m.org_id = ?2 AND m.user_id = ?3 AND m.role = ?4
                        AND m.external_id IS ?5 AND m.given_name IS ?6 AND m.family_name IS ?7
                        AND m.display_name IS ?8 AND m.suspended_at IS ?9
                        AND ro.permissions IS ?10 AND ro.resource_floor IS ?11
                        AND ro.resource_cap IS ?12)",
        org_id,
        &row.user_id,
        &row.role,
        row.external_id.as_deref(),
        row.given_name.as_deref(),
        row.family_name.as_deref(),
        row.display_name.as_deref(),
        row.suspended_at,
        row.def.role_permissions.as_deref(),
        row.def.role_floor,
        row.def.role_cap,
    );
}

/// Changes the member `row` to `user`, with `role` when it differs from theirs. The address
/// changes only for a provisioned user (the handler refuses it otherwise). Records
/// `member.role_changed`, and `member.suspended` or `member.reactivated` when `active`
/// changes.
pub async fn update_user(
    db: &Db,
    caller: &ScimCaller,
    row: &UserRow,
    user: &UserAttributes,
    role: Option<(&RoleKey, RoleDef)>,
    now: Timestamp,
) -> Result<UserRow, Problem> {
    let org = &caller.org.id;
    let email = user.user_name.as_str();
    let mut batch = write_batch(caller);
    guard_user_unchanged(&mut batch, org, row);
    guard_unique(
        &mut batch,
        org,
        Some(&row.user_id),
        email,
        user.external_id.as_deref(),
    );
    if row.email.as_deref() != Some(email) {
        guard!(
            batch,
            Code::Conflict,
            "NOT EXISTS (SELECT 1 FROM users WHERE id = ?2 AND provisioned = 1)",
            &row.user_id,
        );
        batch.push(sql!(
            "UPDATE users SET email = ?2 WHERE id = ?1 AND provisioned = 1",
            &row.user_id,
            email,
        ));
    }
    if let Some((to, def)) = role {
        super::billing::guard_plan(&mut batch, &caller.org);
        if def.builtin.is_none() {
            members::guard_role_defined(&mut batch, org, to, def);
        }
        members::set_role(&mut batch, org, &row.user_id, to, def);
        caller.record(
            &mut batch,
            ("member", &row.user_id),
            MemberRoleChangedData {
                user_id: row.user_id.clone(),
                from: row.role()?.0,
                to: to.clone(),
            }
            .into(),
            now,
        );
    }
    set_attributes(&mut batch, org, &row.user_id, user, now);
    let was_active = row.suspended_at.is_none();
    if was_active != user.active {
        let (user_id, email) = (row.user_id.clone(), row.email.clone());
        let data: EventData = if user.active {
            MemberReactivatedData { user_id, email }.into()
        } else {
            MemberSuspendedData { user_id, email }.into()
        };
        caller.record(&mut batch, ("member", &row.user_id), data, now);
    }
    let read = user_by_user_id(&mut batch, org, &row.user_id);
    batch
        .run(db)
        .await?
        .first(read)?
        .ok_or_else(Problem::internal)
}

/// Removes the member `row`, as removing a member through the API does, recording
/// `member.removed` by the token.
pub async fn delete_user(
    db: &Db,
    caller: &ScimCaller,
    row: &UserRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let org = &caller.org.id;
    let mut batch = write_batch(caller);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND user_id = ?3)",
        org,
        &row.user_id,
    );
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND user_id = ?3 AND role = ?4)",
        org,
        &row.user_id,
        &row.role,
    );
    members::leave(&mut batch, org, &row.user_id);
    caller.record(
        &mut batch,
        ("member", &row.user_id),
        MemberRemovedData {
            user_id: row.user_id.clone(),
            email: row.email.clone(),
            role: row.role()?.0,
            joined_via: row.joined_via()?,
        }
        .into(),
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// A team as a Group, with its members' User ids.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// `[{"value": User id, "user_id": user id}]`.
    pub members: String,
}

/// The statement reading teams as Groups, narrowed by `$where` (over `t`).
macro_rules! group_select {
    ($where:literal) => {
        concat!(
            "SELECT t.id, t.slug, t.name, t.external_id, t.created_at, t.updated_at,
                    (SELECT json_group_array(json_object('value',
                                                         coalesce(m.scim_id, m.user_id),
                                                         'user_id', m.user_id))
                       FROM team_members tm
                       JOIN memberships m ON m.org_id = tm.org_id AND m.user_id = tm.user_id
                      WHERE tm.team_id = t.id) AS members
               FROM teams t
              WHERE ",
            $where
        )
    };
}

/// The conditions of a Groups filter, over `t`: `?2` matches nothing, `?3` the
/// `displayName`, `?4` the `externalId` (each NULL: any). The page and its total both
/// narrow by them.
macro_rules! groups_matching {
    () => {
        " AND NOT ?2 AND (?3 IS NULL OR t.name = ?3) AND (?4 IS NULL OR t.external_id = ?4)"
    };
}

/// Adds a page of the organization's teams matching `filter`, and how many match in all.
pub fn groups(
    batch: &mut Batch,
    digest: &str,
    filter: &Filter,
    start: i64,
    count: i64,
) -> Page<GroupRow> {
    let page = batch.query(sql!(
        concat!(
            group_select!("t.org_id = "),
            token_org!(),
            groups_matching!(),
            " ORDER BY t.seq LIMIT ?5 OFFSET ?6"
        ),
        digest,
        filter.matches_nothing,
        filter.display_name.as_deref(),
        filter.external_id.as_deref(),
        count,
        start - 1,
    ));
    let total = batch.query(sql!(
        concat!(
            "SELECT count(*) AS n FROM teams t WHERE t.org_id = ",
            token_org!(),
            groups_matching!()
        ),
        digest,
        filter.matches_nothing,
        filter.display_name.as_deref(),
        filter.external_id.as_deref(),
    ));
    (page, total)
}

/// Adds the read of the Group `id`.
pub fn group(batch: &mut Batch, digest: &str, id: &str) -> Rows<GroupRow> {
    batch.query(sql!(
        concat!(group_select!("t.org_id = "), token_org!(), " AND t.id = ?2"),
        digest,
        id,
    ))
}

/// Adds the read of a team a write has just made or changed.
fn group_by_id(batch: &mut Batch, id: &str) -> Rows<GroupRow> {
    batch.query(sql!(group_select!("t.id = ?1"), id))
}

/// A User id and the user it names in the organization.
#[derive(Debug, Clone, Deserialize)]
pub struct Known {
    pub id: String,
    pub user_id: String,
}

/// Adds the read of the members among the User ids `ids` (a JSON array).
pub fn known_users(batch: &mut Batch, digest: &str, ids: &str) -> Rows<Known> {
    batch.query(sql!(
        concat!(
            "SELECT coalesce(m.scim_id, m.user_id) AS id, m.user_id FROM memberships m
              WHERE m.org_id = ",
            token_org!(),
            " AND coalesce(m.scim_id, m.user_id) IN (SELECT value FROM json_each(?2))"
        ),
        digest,
        ids,
    ))
}

/// Adds the statements putting `user_id` in team `team_id` (slug `team`) as a member, and
/// recording it; guarded that they are still a member of the organization (`conflict`).
fn add_member(
    batch: &mut Batch,
    caller: &ScimCaller,
    team_id: &str,
    team: &str,
    user_id: &str,
    now: Timestamp,
) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND user_id = ?3)",
        &caller.org.id,
        user_id,
    );
    batch.push(sql!(
        "INSERT INTO team_members (team_id, org_id, user_id, team_role, added_at)
         VALUES (?1, ?2, ?3, 'member', ?4)",
        team_id,
        &caller.org.id,
        user_id,
        now.0,
    ));
    caller.record(
        batch,
        ("team", team_id),
        TeamMemberAddedData {
            team: team.to_owned(),
            user_id: user_id.to_owned(),
            team_role: TeamRole::Member,
        }
        .into(),
        now,
    );
}

fn remove_member(
    batch: &mut Batch,
    caller: &ScimCaller,
    team_id: &str,
    team: &str,
    user_id: &str,
    now: Timestamp,
) {
    batch.push(sql!(
        "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2",
        team_id,
        user_id,
    ));
    caller.record(
        batch,
        ("team", team_id),
        TeamMemberRemovedData {
            team: team.to_owned(),
            user_id: user_id.to_owned(),
        }
        .into(),
        now,
    );
}

/// Guards that team `team_id` has exactly the members `user_ids` (as the request read it).
fn guard_members(batch: &mut Batch, team_id: &str, user_ids: &[String]) {
    let ids = serde_json::to_string(user_ids).unwrap_or_default();
    guard!(
        batch,
        Code::Conflict,
        "(SELECT count(*) FROM team_members WHERE team_id = ?2) <> ?3
         OR EXISTS (SELECT 1 FROM team_members WHERE team_id = ?2
                     AND user_id NOT IN (SELECT value FROM json_each(?4)))",
        team_id,
        user_ids.len() as i64,
        ids,
    );
}

/// Creates a team from a Group, with its first members (`user_ids`, members of the
/// organization read by the request). Guards the slug free (`slug_taken`: SCIM's
/// `uniqueness`), the external id unused, and every member still there (`conflict`).
pub async fn create_group(
    db: &Db,
    caller: &ScimCaller,
    name: &str,
    slug: &Slug,
    external_id: Option<&str>,
    user_ids: &[String],
    now: Timestamp,
) -> Result<GroupRow, Problem> {
    let id = new_id();
    let org = &caller.org.id;
    let mut batch = write_batch(caller);
    guard!(
        batch,
        Code::SlugTaken,
        "EXISTS (SELECT 1 FROM teams WHERE org_id = ?2 AND slug = ?3)",
        org,
        slug.as_str(),
    );
    guard_group_external_id(&mut batch, org, &id, external_id);
    batch.push(sql!(
        "INSERT INTO teams (id, org_id, slug, name, external_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        &id,
        org,
        slug.as_str(),
        name,
        external_id,
        now.0,
    ));
    caller.record(
        &mut batch,
        ("team", &id),
        TeamCreatedData {
            slug: slug.as_str().to_owned(),
            name: name.to_owned(),
        }
        .into(),
        now,
    );
    for user_id in user_ids {
        add_member(&mut batch, caller, &id, slug.as_str(), user_id, now);
    }
    let row = group_by_id(&mut batch, &id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

fn guard_group_external_id(batch: &mut Batch, org_id: &str, id: &str, external_id: Option<&str>) {
    if let Some(external_id) = external_id {
        guard!(
            batch,
            Code::SlugTaken,
            "EXISTS (SELECT 1 FROM teams WHERE org_id = ?2 AND external_id = ?3 AND id <> ?4)",
            org_id,
            external_id,
            id,
        );
    }
}

/// A team's change from a Group's PUT or PATCH: its name (and the slug derived from it),
/// external id, and the members (user ids) before and after.
pub struct GroupUpdate<'a> {
    pub name: &'a str,
    pub slug: &'a Slug,
    pub external_id: Option<&'a str>,
    pub before: &'a [String],
    pub after: &'a [String],
}

/// Applies `update` to the team `row`. Guards the team as read (name, external id and
/// members; `conflict`), a new slug free (`slug_taken`), and every added member still a
/// member of the organization.
pub async fn update_group(
    db: &Db,
    caller: &ScimCaller,
    row: &GroupRow,
    update: &GroupUpdate<'_>,
    now: Timestamp,
) -> Result<GroupRow, Problem> {
    let org = &caller.org.id;
    let mut batch = write_batch(caller);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM teams WHERE id = ?2 AND org_id = ?3)",
        &row.id,
        org,
    );
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM teams WHERE id = ?2 AND name = ?3 AND slug = ?4
                        AND external_id IS ?5)",
        &row.id,
        &row.name,
        &row.slug,
        row.external_id.as_deref(),
    );
    guard_members(&mut batch, &row.id, update.before);
    let renamed = update.name != row.name;
    let new_slug = (update.slug.as_str() != row.slug).then_some(update.slug);
    if let Some(slug) = new_slug {
        guard!(
            batch,
            Code::SlugTaken,
            "EXISTS (SELECT 1 FROM teams WHERE org_id = ?2 AND slug = ?3)",
            org,
            slug.as_str(),
        );
    }
    guard_group_external_id(&mut batch, org, &row.id, update.external_id);
    batch.push(sql!(
        "UPDATE teams SET name = ?2, slug = ?3, external_id = ?4, updated_at = ?5 WHERE id = ?1",
        &row.id,
        update.name,
        update.slug.as_str(),
        update.external_id,
        now.0,
    ));
    if renamed || new_slug.is_some() {
        caller.record(
            &mut batch,
            ("team", &row.id),
            TeamUpdatedData {
                team: row.slug.clone(),
                slug: new_slug.map(|s| s.as_str().to_owned()),
                name: renamed.then(|| update.name.to_owned()),
            }
            .into(),
            now,
        );
    }
    let slug = update.slug.as_str();
    for user_id in update.before.iter().filter(|u| !update.after.contains(u)) {
        remove_member(&mut batch, caller, &row.id, slug, user_id, now);
    }
    for user_id in update.after.iter().filter(|u| !update.before.contains(u)) {
        add_member(&mut batch, caller, &row.id, slug, user_id, now);
    }
    let read = group_by_id(&mut batch, &row.id);
    batch
        .run(db)
        .await?
        .first(read)?
        .ok_or_else(Problem::internal)
}

/// Deletes the team `row`, its members and its grants, recording `team.deleted`.
pub async fn delete_group(
    db: &Db,
    caller: &ScimCaller,
    row: &GroupRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = write_batch(caller);
    guard!(
        batch,
        Code::NotFound,
        "NOT EXISTS (SELECT 1 FROM teams WHERE id = ?2 AND org_id = ?3)",
        &row.id,
        &caller.org.id,
    );
    super::teams::delete_statements(&mut batch, &row.id);
    caller.record(
        &mut batch,
        ("team", &row.id),
        TeamDeletedData {
            slug: row.slug.clone(),
        }
        .into(),
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// The custom role `key` as read, or `None` when the organization has no such role.
pub fn custom_role_def(row: Option<RoleDefRow>, key: &RoleKey) -> Option<RoleDef> {
    row.and_then(|r| {
        roles::decode(
            r.def.role_permissions.as_deref(),
            r.def.role_floor,
            r.def.role_cap,
        )
    })
    .filter(|_| key.builtin().is_none())
}
