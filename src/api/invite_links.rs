//! Invite links on the wire: the link as its organization sees it, and the preview anyone
//! with the link sees before signing in.

use super::invitations::OrgSummary;
use crate::domain::invite_link::LinkStatus;
use crate::domain::values::RoleKey;
use crate::domain::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// One link, many joiners: whoever opens it and signs in with a verified email within its
/// domains joins as `role`, in `teams`, until it expires, is revoked or is used up.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteLink {
    pub id: String,
    pub role: RoleKey,
    /// Slugs of the teams joined (those that still exist).
    pub teams: Vec<String>,
    /// Null: unlimited.
    #[schema(required = true)]
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub expires_at: Timestamp,
    /// The email domains it admits, on top of the organization's; empty: any.
    pub allowed_domains: Vec<String>,
    pub created_by: LinkCreator,
    pub created_at: Timestamp,
    #[schema(required = true)]
    pub revoked_at: Option<Timestamp>,
    pub status: LinkStatus,
    /// `{PUBLIC_URL}/join/{token}`: only in the answer that creates it. Roster keeps the
    /// token's SHA-256.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub url: Option<String>,
}

/// Who created a link (`user_id` null for an API key).
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkCreator {
    #[schema(required = true)]
    pub user_id: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
}

/// `GET /v1/invite-links/{token}`: what the link is for, before anyone signs in.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteLinkPreview {
    pub organization: OrgSummary,
    pub role: RoleKey,
    pub expires_at: Timestamp,
    pub status: LinkStatus,
}
