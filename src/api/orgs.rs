//! Organizations, the signed-in user, and members.

use crate::domain::joining::JoinedVia;
use crate::domain::plan::Plan;
use crate::domain::policy::{Permission, TeamRole};
use crate::domain::values::{Level, RoleKey};
use crate::domain::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An organization, as the caller sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Org {
    pub id: String,
    /// The organization's name in paths: 3–48 characters of a-z, 0-9 and -.
    pub slug: String,
    pub name: String,
    #[schema(required = true)]
    pub logo_url: Option<String>,
    pub plan: Plan,
    pub created_at: Timestamp,
    /// The caller's role; null for an API key.
    #[schema(required = true)]
    pub role: Option<RoleKey>,
    /// What the caller may do here: their role's permissions, or for an API key those its
    /// scopes give. A UI hides what is not listed.
    pub permissions: Vec<Permission>,
    #[schema(schema_with = super::metadata_schema)]
    pub metadata: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::private_metadata_schema)]
    pub private_metadata: Option<Map<String, Value>>,
    /// The email domains invitations and invite links admit; empty: any.
    pub allowed_email_domains: Vec<String>,
}

/// A deleted organization its owner can still restore (`GET /v1/me/deleted-organizations`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedOrganization {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub deleted_at: Timestamp,
    /// When it is purged for good: until then `POST /v1/orgs/{slug}/restore` brings it back.
    pub purge_at: Timestamp,
}

/// `GET /v1/me`: the signed-in user and (the first 100 of) their organizations.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The `sub` of the user's JWT.
    pub user_id: String,
    #[schema(required = true)]
    pub email: Option<String>,
    pub email_verified: bool,
    #[schema(required = true)]
    pub name: Option<String>,
    pub organizations: Vec<MyOrganization>,
}

/// One of the caller's organizations, with their role in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyOrganization {
    pub slug: String,
    pub name: String,
    pub role: RoleKey,
}

/// A member of an organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    pub user_id: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
    pub role: RoleKey,
    pub joined_at: Timestamp,
    pub joined_via: JoinedVia,
    /// Kept to the minute.
    pub last_active_at: Timestamp,
    /// Since when the organization's identity provider has suspended the member (SCIM
    /// `active: false`): they keep their seat, role, teams and grants but have no access.
    #[schema(required = true)]
    pub suspended_at: Option<Timestamp>,
    /// The member's own levels on single resources (their teams' grants are the teams').
    pub grants: Vec<Grant>,
    /// The teams the member belongs to, by slug.
    pub teams: Vec<MemberTeam>,
    /// A member may set their own.
    #[schema(schema_with = super::metadata_schema)]
    pub metadata: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::private_metadata_schema)]
    pub private_metadata: Option<Map<String, Value>>,
}

/// A team a member belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberTeam {
    pub slug: String,
    pub team_role: TeamRole,
}

/// A level on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Grant {
    pub resource_id: String,
    pub level: Level,
}

/// `POST /v1/orgs/{slug}/transfer-ownership`: both members, after the transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnershipTransferred {
    pub owner: Member,
    /// Now admin (member on plans without admin).
    pub previous_owner: Member,
}
