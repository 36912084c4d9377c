//! Resources, grants and the policy's answers.

use crate::domain::values::{Level, RoleKey};
use crate::domain::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A workspace, property, project — whatever the product calls it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Resource {
    pub id: String,
    pub name: String,
    /// Free-form.
    #[schema(required = true)]
    pub kind: Option<String>,
    /// The user or API key that created it.
    #[schema(required = true)]
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    /// The caller's level on it.
    #[schema(required = true)]
    pub level: Option<Level>,
}

/// A member's level on a resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantOfMember {
    pub resource_id: String,
    pub user_id: String,
    pub level: Level,
}

/// The policy's answer to `POST /v1/orgs/{slug}/authorize`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeAnswer {
    pub allowed: bool,
    /// The subject's role; null when they are not a member (or for an API key).
    #[schema(required = true)]
    pub role: Option<RoleKey>,
    /// The subject's effective level on the resource; null without one.
    #[schema(required = true)]
    pub level: Option<Level>,
}
