//! Roles as stored: a membership's or invitation's `role` is a key, and a custom role's
//! definition is a row of `roles` (permissions as a JSON array of names, levels as
//! numbers). Built-in roles have no row; the policy compiles them in. Custom roles are
//! created, changed and deleted (reassigning their holders) here.

use super::principal::{self, Caller};
use super::{audit, billing, members};
use super::{Batch, Db, Rows};
use crate::api::events::{
    MemberRoleChangedData, RoleCreatedData, RoleDeletedData, RoleUpdatedData,
};
use crate::domain::policy::{Catalogue, Permission, Permissions, RoleDef};
use crate::domain::values::{Level, Name, RoleKey};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// Columns of the definition of the role of `m` (a membership), from `roles ro` joined on
/// it: `LEFT JOIN roles ro ON ro.org_id = m.org_id AND ro.key = m.role`.
macro_rules! role_def_columns {
    () => {
        "ro.permissions AS role_permissions, ro.resource_floor AS role_floor,
         ro.resource_cap AS role_cap"
    };
}
pub(super) use role_def_columns;

/// The same, as the fields of a `json_object` (see `Batch::query_packed`).
macro_rules! role_def_fields {
    () => {
        "'role_permissions', ro.permissions, 'role_floor', ro.resource_floor,
         'role_cap', ro.resource_cap"
    };
}
pub(super) use role_def_fields;

/// A custom role's definition as read next to its key; all `None` for a built-in role.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StoredDef {
    pub role_permissions: Option<String>,
    pub role_floor: Option<i64>,
    pub role_cap: Option<i64>,
}

impl StoredDef {
    /// The role `key` names, as the policy sees it.
    pub fn resolve(&self, key: &str) -> Result<(RoleKey, RoleDef), Problem> {
        let key = RoleKey::parse(key).map_err(|_| Problem::internal())?;
        if let Some(role) = key.builtin() {
            return Ok((key, RoleDef::builtin(role)));
        }
        let def = decode(
            self.role_permissions.as_deref(),
            self.role_floor,
            self.role_cap,
        )
        .ok_or_else(Problem::internal)?;
        Ok((key, def))
    }
}

/// A custom role's definition from its stored columns.
pub fn decode(permissions: Option<&str>, floor: Option<i64>, cap: Option<i64>) -> Option<RoleDef> {
    let names: Vec<String> = serde_json::from_str(permissions?).ok()?;
    let permissions: Vec<Permission> = names.iter().filter_map(|n| Permission::parse(n)).collect();
    let floor = match floor {
        Some(rank) => Some(Level::from_rank(rank)?),
        None => None,
    };
    RoleDef::custom(
        Permissions::of(&permissions),
        floor,
        Level::from_rank(cap?)?,
    )
    .ok()
}

/// A custom role's definition as stored: `(permissions, resource_floor, resource_cap)`;
/// the same definition always gives the same values, so a guard can compare them.
pub fn encode(def: RoleDef) -> (String, Option<i64>, i64) {
    let names: Vec<&str> = def.permissions.iter().map(Permission::as_str).collect();
    (
        serde_json::Value::from(names).to_string(),
        def.floor.map(Level::rank),
        def.cap.rank(),
    )
}

/// What a guard compares for a role: its stored definition, NULLs for a built-in role.
pub fn guard_values(def: RoleDef) -> (Option<String>, Option<i64>, Option<i64>) {
    match def.builtin {
        Some(_) => (None, None, None),
        None => {
            let (permissions, floor, cap) = encode(def);
            (Some(permissions), floor, Some(cap))
        }
    }
}

/// A custom role as listed.
#[derive(Debug, Clone, Deserialize)]
pub struct RoleRow {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub permissions: String,
    pub resource_floor: Option<i64>,
    pub resource_cap: i64,
    pub created_at: i64,
}

impl RoleRow {
    pub fn def(&self) -> Result<(RoleKey, RoleDef), Problem> {
        let key = RoleKey::parse(&self.key).map_err(|_| Problem::internal())?;
        let def = decode(
            Some(&self.permissions),
            self.resource_floor,
            Some(self.resource_cap),
        )
        .ok_or_else(Problem::internal)?;
        Ok((key, def))
    }
}

/// The catalogue of an organization whose custom roles are `rows`.
pub fn catalogue(rows: &[RoleRow]) -> Result<Catalogue, Problem> {
    Ok(Catalogue::new(
        rows.iter().map(RoleRow::def).collect::<Result<_, _>>()?,
    ))
}

/// Adds the read of organization `slug`'s custom roles, in creation order.
pub fn custom(batch: &mut Batch, slug: &str) -> Rows<RoleRow> {
    batch.query(sql!(
        "SELECT key, name, description, permissions, resource_floor, resource_cap, created_at
           FROM roles
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
          ORDER BY seq",
        slug,
    ))
}

/// How many members hold each role in an organization.
#[derive(Debug, Deserialize)]
pub struct RoleCount {
    pub role: String,
    pub n: i64,
}

/// Adds the count of organization `slug`'s members by role (counters kept by triggers).
pub fn counts(batch: &mut Batch, slug: &str) -> Rows<RoleCount> {
    batch.query(sql!(
        "SELECT role, n FROM role_counts
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND n > 0",
        slug,
    ))
}

/// Who holds a role: its members, and what gives it to people yet to join — pending
/// invitations, the enrollment of verified domains, invite links not revoked.
#[derive(Debug, Deserialize)]
pub struct Holders {
    /// The members' user ids, a JSON array.
    pub members: String,
    /// The token digests of the pending invitations, a JSON array (their cached previews
    /// name the role).
    pub invitations: String,
    pub domains: i64,
    /// The token digests of the invite links, a JSON array.
    pub links: String,
}

impl Holders {
    pub fn members(&self) -> Vec<String> {
        serde_json::from_str(&self.members).unwrap_or_default()
    }

    pub fn invitation_digests(&self) -> Vec<String> {
        serde_json::from_str(&self.invitations).unwrap_or_default()
    }

    pub fn link_digests(&self) -> Vec<String> {
        serde_json::from_str(&self.links).unwrap_or_default()
    }
}

/// Adds the read of who holds role `key` in organization `slug`.
pub fn holders(batch: &mut Batch, slug: &str, key: &str) -> Rows<Holders> {
    batch.query(sql!(
        "SELECT (SELECT json_group_array(m.user_id) FROM memberships m
                  WHERE m.org_id = o.id AND m.role = ?2) AS members,
                (SELECT json_group_array(i.token_hash) FROM invitations i
                  WHERE i.org_id = o.id AND i.role = ?2 AND i.status = 'pending')
                AS invitations,
                (SELECT count(*) FROM domains d WHERE d.org_id = o.id AND d.role = ?2)
                AS domains,
                (SELECT json_group_array(l.token_hash) FROM invite_links l
                  WHERE l.org_id = o.id AND l.role = ?2 AND l.revoked_at IS NULL)
                AS links
           FROM orgs o WHERE o.slug = ?1 AND o.deleted_at IS NULL",
        slug,
        key,
    ))
}

fn read_back(batch: &mut Batch, org_id: &str, key: &str) -> Rows<RoleRow> {
    batch.query(sql!(
        "SELECT key, name, description, permissions, resource_floor, resource_cap, created_at
           FROM roles WHERE org_id = ?1 AND key = ?2",
        org_id,
        key,
    ))
}

/// The parts of a custom role that say what it is, for its events.
fn described(key: &RoleKey, name: &str, def: RoleDef) -> (RoleKey, String, Vec<Permission>) {
    (
        key.clone(),
        name.to_owned(),
        def.permissions.iter().collect(),
    )
}

/// Creates custom role `key`. Guards that the plan is still the one read, that the
/// organization still has room for one more (`limit_reached`) and that the key is free
/// (`role_key_taken`), so parallel creations never pass the limit or share a key.
pub async fn create(
    db: &Db,
    caller: &Caller,
    new: &NewRole<'_>,
    limit: i64,
    now: Timestamp,
) -> Result<RoleRow, Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    billing::guard_plan(&mut batch, &caller.org);
    guard!(
        batch,
        Code::LimitReached,
        "(SELECT count(*) FROM roles WHERE org_id = ?2) >= ?3",
        org,
        limit,
    );
    guard!(
        batch,
        Code::RoleKeyTaken,
        "EXISTS (SELECT 1 FROM roles WHERE org_id = ?2 AND key = ?3)",
        org,
        new.key.as_str(),
    );
    let (permissions, floor, cap) = encode(new.def);
    batch.push(sql!(
        "INSERT INTO roles (org_id, key, name, description, permissions, resource_floor,
                            resource_cap, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        org,
        new.key.as_str(),
        new.name.as_str(),
        new.description,
        permissions,
        floor,
        cap,
        now.0,
    ));
    let (key, name, permissions) = described(new.key, new.name.as_str(), new.def);
    audit::by_caller(
        &mut batch,
        caller,
        ("role", new.key.as_str()),
        RoleCreatedData {
            key,
            name,
            permissions,
            resource_floor: new.def.floor,
            resource_cap: new.def.cap,
        },
        now,
    );
    let row = read_back(&mut batch, org, new.key.as_str());
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// A custom role to create.
pub struct NewRole<'a> {
    pub key: &'a RoleKey,
    pub name: &'a Name,
    pub description: Option<&'a str>,
    pub def: RoleDef,
}

/// Guards that custom role `row` is still as the request read it, every column
/// (`conflict`: it was changed or deleted meanwhile, and the request is decided again).
fn guard_as_read(batch: &mut Batch, org_id: &str, row: &RoleRow) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM roles
                      WHERE org_id = ?2 AND key = ?3 AND name = ?4 AND description IS ?5
                        AND permissions = ?6 AND resource_floor IS ?7 AND resource_cap = ?8)",
        org_id,
        &row.key,
        &row.name,
        row.description.as_deref(),
        &row.permissions,
        row.resource_floor,
        row.resource_cap,
    );
}

/// Lowers the grants of the holders of role `key` above `cap` to it: what a holder had is
/// kept as far as the role now allows, as when a member's role changes.
fn cap_holders_grants(batch: &mut Batch, org_id: &str, key: &str, cap: Level) {
    batch.push(sql!(
        "UPDATE grants SET level = ?3
          WHERE org_id = ?1 AND level > ?3
            AND user_id IN (SELECT user_id FROM memberships WHERE org_id = ?1 AND role = ?2)",
        org_id,
        key,
        cap.rank(),
    ));
}

/// Changes custom role `row` to `name`, `description` and `def` (the whole role as it
/// becomes). Holders have the new definition from their next request.
pub async fn update(
    db: &Db,
    caller: &Caller,
    row: &RoleRow,
    change: &NewRole<'_>,
    now: Timestamp,
) -> Result<RoleRow, Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_as_read(&mut batch, org, row);
    let (permissions, floor, cap) = encode(change.def);
    batch.push(sql!(
        "UPDATE roles SET name = ?3, description = ?4, permissions = ?5, resource_floor = ?6,
                resource_cap = ?7, updated_at = ?8
          WHERE org_id = ?1 AND key = ?2",
        org,
        &row.key,
        change.name.as_str(),
        change.description,
        permissions,
        floor,
        cap,
        now.0,
    ));
    if Some(change.def.cap.rank()) < Some(row.resource_cap) {
        cap_holders_grants(&mut batch, org, &row.key, change.def.cap);
    }
    let (key, name, permissions) = described(change.key, change.name.as_str(), change.def);
    audit::by_caller(
        &mut batch,
        caller,
        ("role", &row.key),
        RoleUpdatedData {
            key,
            name,
            permissions,
            resource_floor: change.def.floor,
            resource_cap: change.def.cap,
        },
        now,
    );
    let row = read_back(&mut batch, org, &row.key);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Deletes custom role `row`. Without `reassign_to`, guards that nobody holds it and nothing
/// gives it (`role_in_use`); with it, its members (`holders`, as read), pending invitations,
/// domains' enrollment and invite links get that role in the same batch, each member's
/// change recorded as `member.role_changed`.
pub async fn delete(
    db: &Db,
    caller: &Caller,
    row: &RoleRow,
    reassign_to: Option<(&RoleKey, RoleDef)>,
    holders: &[String],
    now: Timestamp,
) -> Result<(), Problem> {
    let org = &caller.org.id;
    let (from, _) = row.def()?;
    let mut batch = principal::write_batch(caller);
    guard_as_read(&mut batch, org, row);
    match reassign_to {
        None => guard!(
            batch,
            Code::RoleInUse,
            "EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND role = ?3)
             OR EXISTS (SELECT 1 FROM invitations
                         WHERE org_id = ?2 AND role = ?3 AND status = 'pending')
             OR EXISTS (SELECT 1 FROM domains WHERE org_id = ?2 AND role = ?3)
             OR EXISTS (SELECT 1 FROM invite_links
                         WHERE org_id = ?2 AND role = ?3 AND revoked_at IS NULL)",
            org,
            &row.key,
        ),
        Some((to, def)) => {
            if def.builtin.is_none() {
                members::guard_role_defined(&mut batch, org, to, def);
            } else {
                billing::guard_plan(&mut batch, &caller.org);
            }
            // The members recorded as changed are those who change.
            guard!(
                batch,
                Code::Conflict,
                "(SELECT count(*) FROM memberships WHERE org_id = ?2 AND role = ?3) <> ?4",
                org,
                &row.key,
                holders.len() as i64,
            );
            cap_holders_grants(&mut batch, org, &row.key, def.cap);
            batch.push(sql!(
                "UPDATE memberships SET role = ?3 WHERE org_id = ?1 AND role = ?2",
                org,
                &row.key,
                to.as_str(),
            ));
            batch.push(sql!(
                "UPDATE invitations SET role = ?3
                  WHERE org_id = ?1 AND role = ?2 AND status = 'pending'",
                org,
                &row.key,
                to.as_str(),
            ));
            batch.push(sql!(
                "UPDATE domains SET role = ?3 WHERE org_id = ?1 AND role = ?2",
                org,
                &row.key,
                to.as_str(),
            ));
            batch.push(sql!(
                "UPDATE invite_links SET role = ?3
                  WHERE org_id = ?1 AND role = ?2 AND revoked_at IS NULL",
                org,
                &row.key,
                to.as_str(),
            ));
            for user_id in holders {
                audit::by_caller(
                    &mut batch,
                    caller,
                    ("member", user_id),
                    MemberRoleChangedData {
                        user_id: user_id.clone(),
                        from: from.clone(),
                        to: to.clone(),
                    },
                    now,
                );
            }
        }
    }
    batch.push(sql!(
        "DELETE FROM roles WHERE org_id = ?1 AND key = ?2",
        org,
        &row.key,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("role", &row.key),
        RoleDeletedData {
            key: from.clone(),
            reassigned_to: reassign_to.map(|(to, _)| to.clone()),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}
