//! Roles as the API shows them: the built-in ones as their row of the policy, and an
//! organization's custom roles.

use crate::domain::policy::Permission;
use crate::domain::values::{Level, RoleKey};
use crate::domain::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A role: a set of permissions, the level its holders have on every resource (the
/// floor) and the most any grant gives them (the cap).
#[derive(Debug, Serialize, ToSchema)]
pub struct Role {
    pub key: RoleKey,
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    /// Whether it is one of the four roles every organization has (which cannot be
    /// changed or deleted).
    pub builtin: bool,
    pub permissions: Vec<Permission>,
    /// The level on every resource without a grant; null: only what grants give.
    #[schema(required = true)]
    pub resource_floor: Option<Level>,
    /// The most any grant, the member's own or a team's, gives on a resource.
    pub resource_cap: Level,
    /// Members holding it.
    pub members_count: i64,
    /// For a built-in role, when the organization was created.
    pub created_at: Timestamp,
}
