//! Teams: groups of an organization's members that hold resource grants together.

use crate::domain::policy::TeamRole;
use crate::domain::values::Level;
use crate::domain::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A group of members inside an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct Team {
    pub id: String,
    /// Unique within the organization; teams are addressed by it.
    pub slug: String,
    pub name: String,
    pub members_count: i64,
    pub created_at: Timestamp,
}

/// A member of a team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMember {
    pub user_id: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
    pub team_role: TeamRole,
    pub added_at: Timestamp,
}

/// A team's level on a resource: every member of the team reaches it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamGrant {
    pub resource_id: String,
    /// The team's slug.
    pub team: String,
    pub level: Level,
}
