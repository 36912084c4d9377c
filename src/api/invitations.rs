//! Invitations, as the organization sees them and as the invitee does.

use super::orgs::Grant;
use crate::domain::invitation::Status;
use crate::domain::locale::Locale;
use crate::domain::values::RoleKey;
use crate::domain::{ProblemDetails, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

/// An invitation, as the organization sees it. The token is never in it: it travels only
/// in the email.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    pub id: String,
    /// Trimmed and lower-cased.
    pub email: String,
    pub role: RoleKey,
    pub status: Status,
    pub invited_by: InvitedBy,
    /// Applied when the invitation is accepted.
    pub grants: Vec<Grant>,
    /// The slugs of the teams joined when the invitation is accepted.
    pub teams: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    #[schema(required = true)]
    pub accepted_at: Option<Timestamp>,
    pub email_delivery: EmailDelivery,
    /// The language of its email and landing page.
    pub locale: Locale,
    /// Where the landing page's button leads (with `token` added to its query); null: the
    /// app's `/accept-invite`.
    #[schema(required = true)]
    pub redirect_url: Option<String>,
    /// The invitation link, `{PUBLIC_URL}/invite/{token}`, for the product to deliver
    /// itself: only in the answer that created or resent an invitation asked with
    /// `send_email: false`, and never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub url: Option<String>,
}

/// Who invited: a member (`user_id`, `email`, `name`) or an API key (`api_key_id`).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitedBy {
    #[schema(required = true)]
    pub user_id: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub api_key_id: Option<String>,
}

/// How the invitation's email went: `sent` when the provider accepted it during the
/// request, `queued` while the scheduled job retries it, `failed` after the last attempt,
/// `logged` when no provider is configured (the email went to the Worker's log), `none`
/// when it was asked with `send_email: false` (the product delivers the link itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EmailDelivery {
    Sent,
    Queued,
    Failed,
    Logged,
    None,
}

impl EmailDelivery {
    pub fn parse(s: &str) -> Option<EmailDelivery> {
        match s {
            "sent" => Some(EmailDelivery::Sent),
            "queued" => Some(EmailDelivery::Queued),
            "failed" => Some(EmailDelivery::Failed),
            "logged" => Some(EmailDelivery::Logged),
            "none" => Some(EmailDelivery::None),
            _ => None,
        }
    }
}

/// `POST /v1/orgs/{slug}/invitations/bulk`: one result per item, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkInvitationResults {
    pub results: Vec<BulkInvitationResult>,
}

/// The invitation an item created, or the problem that kept it from being created.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkInvitationResult {
    /// The address as sent (or as normalised when it was valid).
    #[schema(required = true)]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Invitation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProblemDetails>,
}

/// What an organization looks like to someone outside it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgSummary {
    pub slug: String,
    pub name: String,
    #[schema(required = true)]
    pub logo_url: Option<String>,
}

/// `GET /v1/invitations/{token}`: what the link is for, before anyone signs in.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPreview {
    pub organization: OrgSummary,
    pub role: RoleKey,
    pub invited_by: InviterName,
    /// The invitee's address, masked: `a***@example.com`.
    pub email_hint: String,
    pub status: Status,
    pub expires_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InviterName {
    #[schema(required = true)]
    pub name: Option<String>,
}

/// A pending invitation addressed to the signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyInvitation {
    pub id: String,
    pub organization: OrgSummary,
    pub role: RoleKey,
    pub invited_by: Inviter,
    pub expires_at: Timestamp,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inviter {
    #[schema(required = true)]
    pub name: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
}
