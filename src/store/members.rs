//! Members: the list with their grants, role changes, removal and ownership transfer.
//!
//! Every change guards that the member still holds the role the request read, so two
//! admins acting at once cannot, say, demote someone another just removed.

use super::audit::{self, By, Change};
use super::grants;
use super::invitations::{guard_seat, SeatCheck};
use super::principal::{self, Caller};
use super::roles::{self, role_def_fields, StoredDef};
use super::{Batch, Columns, Db, FromColumns, Rows};
use crate::api::events::{
    EventData, MemberAddedData, MemberRemovedData, MemberRoleChangedData, MemberUpdatedData,
    OwnershipTransferredData, TeamMemberAddedData,
};
use crate::domain::joining::JoinedVia;
use crate::domain::metadata::{self, Object};
use crate::domain::policy::{RoleDef, TeamRole};
use crate::domain::values::{Level, Role, RoleKey};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// The statement reading the memberships `$where` picks (of `memberships m`), with their
/// users, roles, grants and teams, packed (`Batch::query_packed`): a page of fifty members
/// is one value to carry out of the database instead of some eight hundred.
macro_rules! member_select {
    ($where:literal) => {
        concat!(
            "SELECT json_group_array(json_object(
                      'seq', picked.seq, 'user_id', picked.user_id,
                      'email', u.email, 'name', u.name, 'role', picked.role,
                      'joined_at', picked.joined_at, 'joined_via', picked.joined_via,
                      'last_active_at', u.last_active_at, 'suspended_at', picked.suspended_at,
                      'metadata', picked.metadata,
                      'private_metadata', picked.private_metadata, ",
            role_def_fields!(),
            ",
                      'grants', json((SELECT json_group_array(
                                               json_object('resource_id', g.resource_id,
                                                           'level', g.level))
                                        FROM grants g
                                       WHERE g.org_id = picked.org_id
                                         AND g.user_id = picked.user_id)),
                      'teams', json((SELECT json_group_array(
                                              json_object('slug', t.slug,
                                                          'team_role', tm.team_role))
                                       FROM team_members tm JOIN teams t ON t.id = tm.team_id
                                      WHERE tm.org_id = picked.org_id
                                        AND tm.user_id = picked.user_id)))
                    ORDER BY picked.seq) AS rows
               FROM (SELECT * FROM memberships m WHERE ",
            $where,
            ") picked JOIN users u ON u.id = picked.user_id
               LEFT JOIN roles ro ON ro.org_id = picked.org_id AND ro.key = picked.role"
        )
    };
}

/// A team of a member, as read with them.
#[derive(Debug, Clone, Deserialize)]
pub struct TeamOf {
    slug: String,
    team_role: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MemberRow {
    pub seq: i64,
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: String,
    pub joined_at: i64,
    pub joined_via: String,
    pub last_active_at: i64,
    /// Since when the identity provider has suspended the member (SCIM `active: false`).
    pub suspended_at: Option<i64>,
    pub grants: Vec<grants::Stored>,
    pub teams: Vec<TeamOf>,
    #[serde(flatten)]
    pub def: StoredDef,
    /// JSON objects, as stored.
    pub metadata: String,
    pub private_metadata: String,
}

impl MemberRow {
    /// The member's role: its key and definition.
    pub fn role(&self) -> Result<(RoleKey, RoleDef), Problem> {
        self.def.resolve(&self.role)
    }

    /// How the membership came about (the schema admits only known ways).
    pub fn joined_via(&self) -> Result<JoinedVia, Problem> {
        JoinedVia::parse(&self.joined_via).ok_or_else(Problem::internal)
    }

    /// The member's teams as `(slug, team_role)`, ordered by slug.
    pub fn teams(&self) -> Vec<(String, String)> {
        let mut teams: Vec<(String, String)> = self
            .teams
            .iter()
            .map(|t| (t.slug.clone(), t.team_role.clone()))
            .collect();
        teams.sort();
        teams
    }

    pub fn metadata(&self) -> Result<Object, Problem> {
        metadata::decode(&self.metadata).ok_or_else(Problem::internal)
    }

    pub fn private_metadata(&self) -> Result<Object, Problem> {
        metadata::decode(&self.private_metadata).ok_or_else(Problem::internal)
    }

    /// The member's grants, ordered by resource id.
    pub fn grants(&self) -> Vec<(String, Level)> {
        let mut grants = grants::levels(self.grants.clone());
        grants.sort();
        grants
    }
}

/// Adds the read of one member of organization `org_id`.
pub fn one(batch: &mut Batch, org_id: &str, user_id: &str) -> Rows<MemberRow> {
    batch.query_packed(sql!(
        member_select!("m.org_id = ?1 AND m.user_id = ?2"),
        org_id,
        user_id
    ))
}

/// Adds the read of one member of organization `slug`.
pub fn in_org(batch: &mut Batch, slug: &str, user_id: &str) -> Rows<MemberRow> {
    batch.query_packed(sql!(
        member_select!(
            "m.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
             AND m.user_id = ?2"
        ),
        slug,
        user_id
    ))
}

/// Adds a page of organization `slug`'s members, in the order they joined.
pub fn list(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<MemberRow> {
    batch.query_packed(sql!(
        member_select!(
            "m.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
             AND m.seq > ?2 ORDER BY m.seq LIMIT ?3"
        ),
        slug,
        after_seq,
        limit
    ))
}

/// A page of an organization's members as the API answers it, rendered by SQLite
/// ([`rendered_page`]): the Worker passes the text on without parsing it. The tests of
/// `http::member_view` hold the rendering to `member_of`'s, member by member.
#[derive(Debug)]
pub struct RenderedPage {
    /// A JSON array of the page's members, each without `private_metadata`.
    pub data: String,
    /// A JSON array of their `private_metadata`, in the same order.
    pub private: String,
    /// The `seq` of the page's last member when more follow.
    pub next_after: Option<i64>,
}

impl FromColumns for RenderedPage {
    fn from_columns(row: &dyn Columns) -> Option<Self> {
        Some(RenderedPage {
            data: row.text("data")?,
            private: row.text("private")?,
            next_after: row.int("next_after"),
        })
    }
}

/// Adds the page of at most `limit` members of organization `slug` after `after_seq`, in
/// the order they joined, rendered as `Member` objects are (timestamps in RFC 3339, levels
/// by name, grants by resource and teams by slug).
pub fn rendered_page(
    batch: &mut Batch,
    slug: &str,
    after_seq: i64,
    limit: i64,
) -> Rows<RenderedPage> {
    batch.query_verbatim(sql!(
        "WITH page AS (
           SELECT m.* FROM memberships m
            WHERE m.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
              AND m.seq > ?2 ORDER BY m.seq LIMIT ?3)
         SELECT data, private,
                CASE WHEN EXISTS (SELECT 1 FROM memberships m
                                   WHERE m.org_id = rendered.org_id AND m.seq > rendered.last)
                     THEN rendered.last END AS next_after
           FROM (SELECT json_group_array(json_object(
                     'user_id', p.user_id, 'email', u.email, 'name', u.name, 'role', p.role,
                     'joined_at', strftime('%Y-%m-%dT%H:%M:%SZ', p.joined_at, 'unixepoch'),
                     'joined_via', p.joined_via,
                     'last_active_at',
                       strftime('%Y-%m-%dT%H:%M:%SZ', u.last_active_at, 'unixepoch'),
                     'suspended_at', strftime('%Y-%m-%dT%H:%M:%SZ', p.suspended_at, 'unixepoch'),
                     'grants', json((SELECT json_group_array(json_object(
                                              'resource_id', g.resource_id,
                                              'level', CASE g.level WHEN 1 THEN 'read'
                                                                    WHEN 2 THEN 'write'
                                                                    WHEN 3 THEN 'admin' END)
                                              ORDER BY g.resource_id)
                                       FROM grants g
                                      WHERE g.org_id = p.org_id AND g.user_id = p.user_id)),
                     'teams', json((SELECT json_group_array(json_object(
                                             'slug', t.slug, 'team_role', tm.team_role)
                                             ORDER BY t.slug)
                                      FROM team_members tm JOIN teams t ON t.id = tm.team_id
                                     WHERE tm.org_id = p.org_id AND tm.user_id = p.user_id)),
                     'metadata', json(p.metadata))
                   ORDER BY p.seq) AS data,
                   json_group_array(json(p.private_metadata) ORDER BY p.seq) AS private,
                   max(p.seq) AS last, max(p.org_id) AS org_id
              FROM page p JOIN users u ON u.id = p.user_id) AS rendered",
        slug,
        after_seq,
        limit
    ))
}

/// Guards that `member` still holds the role the request read, defined as it was read.
pub fn guard_role_unchanged(batch: &mut Batch, org_id: &str, member: &MemberRow) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM memberships m
                       LEFT JOIN roles ro ON ro.org_id = m.org_id AND ro.key = m.role
                      WHERE m.org_id = ?2 AND m.user_id = ?3 AND m.role = ?4
                        AND ro.permissions IS ?5 AND ro.resource_floor IS ?6
                        AND ro.resource_cap IS ?7)",
        org_id,
        &member.user_id,
        &member.role,
        member.def.role_permissions.as_deref(),
        member.def.role_floor,
        member.def.role_cap,
    );
}

/// A change of a member; `None` leaves a part as it is.
pub struct MemberChange {
    /// The role to give; grants above its cap are lowered to it (a viewer keeps `read` at
    /// most on what they had).
    pub role: Option<(RoleKey, RoleDef)>,
    pub metadata: Option<metadata::Change>,
    pub private_metadata: Option<metadata::Change>,
}

impl MemberChange {
    pub fn is_empty(&self) -> bool {
        self.role.is_none() && self.metadata.is_none() && self.private_metadata.is_none()
    }
}

/// Applies a change made of parts that differed when read. Guards that the member still
/// holds the role read and, for metadata (written whole, merged from what was read), that it
/// is still what was read (`conflict`: the request is decided again).
pub async fn update(
    db: &Db,
    caller: &Caller,
    member: &MemberRow,
    change: &MemberChange,
    now: Timestamp,
) -> Result<MemberRow, Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_role_unchanged(&mut batch, org, member);
    let public = change.metadata.as_ref().map(metadata::Change::stored);
    let private = change
        .private_metadata
        .as_ref()
        .map(metadata::Change::stored);
    if public.is_some() || private.is_some() {
        guard!(
            batch,
            Code::Conflict,
            "NOT EXISTS (SELECT 1 FROM memberships
                          WHERE org_id = ?2 AND user_id = ?3 AND (NOT ?4 OR metadata = ?5)
                            AND (NOT ?6 OR private_metadata = ?7))",
            org,
            &member.user_id,
            public.is_some(),
            &member.metadata,
            private.is_some(),
            &member.private_metadata,
        );
    }
    if let Some((to, def)) = &change.role {
        super::billing::guard_plan(&mut batch, &caller.org);
        if def.builtin.is_none() {
            guard_role_defined(&mut batch, org, to, *def);
        }
        set_role(&mut batch, org, &member.user_id, to, *def);
        audit::by_caller(
            &mut batch,
            caller,
            ("member", &member.user_id),
            MemberRoleChangedData {
                user_id: member.user_id.clone(),
                from: member.role()?.0,
                to: to.clone(),
            },
            now,
        );
    }
    if change.metadata.is_some() || change.private_metadata.is_some() {
        batch.push(sql!(
            "UPDATE memberships SET metadata = coalesce(?3, metadata),
                    private_metadata = coalesce(?4, private_metadata)
              WHERE org_id = ?1 AND user_id = ?2",
            org,
            &member.user_id,
            public,
            private,
        ));
        audit::by_caller(
            &mut batch,
            caller,
            ("member", &member.user_id),
            MemberUpdatedData {
                user_id: member.user_id.clone(),
                metadata: change.metadata.as_ref().map(|m| m.changed.clone()),
                private_metadata: change.private_metadata.as_ref().map(|m| m.changed.clone()),
            },
            now,
        );
    }
    let row = one(&mut batch, org, &member.user_id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Guards that the custom role `key` is still defined as `def` (`conflict`: it was changed or
/// deleted since the request read it).
pub fn guard_role_defined(batch: &mut Batch, org_id: &str, key: &RoleKey, def: RoleDef) {
    let (permissions, floor, cap) = roles::encode(def);
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM roles WHERE org_id = ?2 AND key = ?3 AND permissions = ?4
                        AND resource_floor IS ?5 AND resource_cap = ?6)",
        org_id,
        key.as_str(),
        permissions,
        floor,
        cap,
    );
}

pub(super) fn set_role(
    batch: &mut Batch,
    org_id: &str,
    user_id: &str,
    role: &RoleKey,
    def: RoleDef,
) {
    batch.push(sql!(
        "UPDATE memberships SET role = ?3 WHERE org_id = ?1 AND user_id = ?2",
        org_id,
        user_id,
        role.as_str(),
    ));
    let cap = def.cap;
    batch.push(sql!(
        "UPDATE grants SET level = ?3 WHERE org_id = ?1 AND user_id = ?2 AND level > ?3",
        org_id,
        user_id,
        cap.rank(),
    ));
}

/// Removes `member` (or lets them leave): access ends with the next request and the seat
/// is free at once. Their grants go; what they created stays.
pub async fn remove(
    db: &Db,
    caller: &Caller,
    member: &MemberRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_role_unchanged(&mut batch, org, member);
    leave(&mut batch, org, &member.user_id);
    audit::by_caller(
        &mut batch,
        caller,
        ("member", &member.user_id),
        MemberRemovedData {
            user_id: member.user_id.clone(),
            email: member.email.clone(),
            role: member.role()?.0,
            joined_via: member.joined_via()?,
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// Adds the statements ending `user_id`'s membership of `org_id`: their grants and teams go
/// with it, and so does a provisioned user no one has signed in as, once they belong
/// nowhere.
pub(super) fn leave(batch: &mut Batch, org_id: &str, user_id: &str) {
    batch.push(sql!(
        "DELETE FROM grants WHERE org_id = ?1 AND user_id = ?2",
        org_id,
        user_id,
    ));
    batch.push(sql!(
        "DELETE FROM team_members WHERE org_id = ?1 AND user_id = ?2",
        org_id,
        user_id,
    ));
    batch.push(sql!(
        "DELETE FROM memberships WHERE org_id = ?1 AND user_id = ?2",
        org_id,
        user_id,
    ));
    batch.push(sql!(
        "DELETE FROM users WHERE id = ?1 AND provisioned = 1
            AND NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = ?1)",
        user_id,
    ));
}

/// Makes `member` the owner; the owner (the caller) takes `previous_role`. Returns the new
/// owner and the previous one.
pub async fn transfer_ownership(
    db: &Db,
    caller: &Caller,
    owner_id: &str,
    member: &MemberRow,
    previous_role: Role,
    now: Timestamp,
) -> Result<(MemberRow, MemberRow), Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_role_unchanged(&mut batch, org, member);
    super::billing::guard_plan(&mut batch, &caller.org);
    // The previous owner steps down first: the schema admits one owner at a time.
    set_role(
        &mut batch,
        org,
        owner_id,
        &previous_role.into(),
        RoleDef::builtin(previous_role),
    );
    set_role(
        &mut batch,
        org,
        &member.user_id,
        &Role::Owner.into(),
        RoleDef::builtin(Role::Owner),
    );
    for (user, from, to) in [
        (owner_id, Role::Owner.into(), previous_role.into()),
        (
            member.user_id.as_str(),
            member.role()?.0,
            Role::Owner.into(),
        ),
    ] {
        audit::by_caller(
            &mut batch,
            caller,
            ("member", user),
            MemberRoleChangedData {
                user_id: user.to_owned(),
                from,
                to,
            },
            now,
        );
    }
    audit::by_caller(
        &mut batch,
        caller,
        ("member", &member.user_id),
        OwnershipTransferredData {
            from: owner_id.to_owned(),
            to: member.user_id.clone(),
        },
        now,
    );
    let new_owner = one(&mut batch, org, &member.user_id);
    let previous = one(&mut batch, org, owner_id);
    let results = batch.run(db).await?;
    Ok((
        results.first(new_owner)?.ok_or_else(Problem::internal)?,
        results.first(previous)?.ok_or_else(Problem::internal)?,
    ))
}

/// Someone becoming a member: by accepting an invitation, through an invite link, a
/// verified domain, an approved join request or the identity provider (SCIM).
pub struct Joiner<'a> {
    pub org_id: &'a str,
    pub org_slug: &'a str,
    pub user_id: &'a str,
    /// Who recorded it: the joiner themselves, or the identity provider's SCIM token.
    pub by: By<'a>,
    /// The role they get, as it was defined when the request read it.
    pub role: (&'a RoleKey, RoleDef),
    /// The invitation they accept, whose `metadata` becomes the membership's.
    pub invitation_id: Option<&'a str>,
    /// The teams they join: their ids as a JSON array, and the slugs of those of them that
    /// existed when the request read them.
    pub teams: (&'a str, &'a [String]),
    pub seats: &'a SeatCheck<'a>,
    pub member_added: MemberAddedData,
}

/// Adds the statements making `joiner` a member, guarded so that races can neither make
/// them a member twice (`already_member`) nor pass the seats (`seat_limit_reached`), nor
/// give them a custom role changed or deleted meanwhile, nor teams other than those read
/// (`conflict`). Records `member.added` and `team.member_added` for each team, by `by`.
/// The caller adds what its way of joining adds, then the read of the new member
/// ([`one`]).
pub fn join(batch: &mut Batch, joiner: &Joiner<'_>, now: Timestamp) {
    let (org, user) = (joiner.org_id, joiner.user_id);
    let (role, def) = joiner.role;
    if def.builtin.is_none() {
        guard_role_defined(batch, org, role, def);
    }
    guard!(
        batch,
        Code::AlreadyMember,
        "EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND user_id = ?3)",
        org,
        user,
    );
    guard_seat(batch, joiner.seats);
    batch.push(sql!(
        "INSERT INTO memberships (org_id, user_id, role, invitation_id, joined_at, joined_via,
                                  metadata)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6,
                 coalesce((SELECT metadata FROM invitations WHERE id = ?4), '{}'))",
        org,
        user,
        role.as_str(),
        joiner.invitation_id,
        now.0,
        joiner.member_added.joined_via.as_str(),
    ));
    let (team_ids, slugs) = joiner.teams;
    if !slugs.is_empty() {
        guard!(
            batch,
            Code::Conflict,
            "(SELECT count(*) FROM teams
               WHERE org_id = ?2 AND id IN (SELECT value FROM json_each(?3))) <> ?4",
            org,
            team_ids,
            slugs.len() as i64,
        );
        batch.push(sql!(
            "INSERT OR IGNORE INTO team_members (team_id, org_id, user_id, team_role, added_at)
             SELECT t.id, ?1, ?2, 'member', ?3 FROM teams t
              WHERE t.org_id = ?1 AND t.id IN (SELECT value FROM json_each(?4))",
            org,
            user,
            now.0,
            team_ids,
        ));
    }
    let joined = slugs.iter().map(|slug| {
        EventData::from(TeamMemberAddedData {
            team: slug.clone(),
            user_id: user.to_owned(),
            team_role: TeamRole::Member,
        })
    });
    for data in std::iter::once(joiner.member_added.clone().into()).chain(joined) {
        audit::record(
            batch,
            Change {
                org_id: org,
                org_slug: joiner.org_slug,
                by: joiner.by,
                target: ("member", user),
                data,
            },
            now,
        );
    }
}
