//! Verified domains, the join requests they lead to, and the organizations suggested to
//! someone by their email's domain.

use super::invitations::OrgSummary;
use crate::domain::domains::{DomainStatus, JoinRequestStatus};
use crate::domain::joining::Enrollment;
use crate::domain::values::RoleKey;
use crate::domain::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A domain an organization claims, verified by a TXT record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Domain {
    pub id: String,
    /// Lower-case, IDNA labels in their `xn--` form.
    pub domain: String,
    pub status: DomainStatus,
    pub verification: Verification,
    pub enrollment: Enrollment,
    /// The role people joining through the domain get.
    pub role: RoleKey,
    /// The slugs of the teams they join.
    pub teams: Vec<String>,
    #[schema(required = true)]
    pub verified_at: Option<Timestamp>,
    #[schema(required = true)]
    pub last_checked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// The record to publish: a TXT record named `name` whose value is `value`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    #[serde(rename = "type")]
    pub kind: VerificationType,
    /// `_roster-challenge.<domain>`
    pub name: String,
    /// `roster-verification=<random>`
    pub value: String,
}

/// How a domain is verified.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationType {
    DnsTxt,
}

/// Someone with a verified email on a verified domain asking to join.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequest {
    pub id: String,
    pub user_id: String,
    pub email: String,
    #[schema(required = true)]
    pub name: Option<String>,
    pub status: JoinRequestStatus,
    pub created_at: Timestamp,
}

/// An organization the caller could join by their email's domain.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestedOrganization {
    pub organization: OrgSummary,
    pub enrollment: Enrollment,
    /// The caller's latest request to join it, if any.
    #[schema(required = true)]
    pub join_request: Option<JoinRequestRef>,
}

/// A join request as its requester sees it in a suggestion.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestRef {
    pub id: String,
    pub status: JoinRequestStatus,
}
