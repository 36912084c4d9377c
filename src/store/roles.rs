//! Roles as stored: a membership's or invitation's `role` is a key, and a custom role's
//! definition is a row of `roles` (permissions as a JSON array of names, levels as
//! numbers). Built-in roles have no row; the policy compiles them in.

use super::{Batch, Rows};
use crate::domain::policy::{Catalogue, Permission, Permissions, RoleDef};
use crate::domain::values::{Level, RoleKey};
use crate::domain::Problem;
use crate::sql;
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
