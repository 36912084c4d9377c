//! What a change records: the data of each audit action, which is also what a webhook
//! delivery of that event carries, and the delivery's envelope.
//!
//! [`EventData`] has one variant per action, so a change cannot be recorded under one
//! action with the data of another, and the document describes each webhook event's
//! `data` from the very type that is sent.

use super::WebhookEvent;
use crate::domain::event::EventType;
use crate::domain::joining::{Enrollment, JoinedVia};
use crate::domain::plan::Plan;
use crate::domain::policy::{Permission, Scope, TeamRole};
use crate::domain::values::{Level, RoleKey};
use crate::domain::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An event, as POSTed to every endpoint subscribed to its type.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery<'a> {
    /// The event id, also sent as `Roster-Event-Id` and the audit entry's id.
    pub id: &'a str,
    #[serde(rename = "type")]
    pub event: WebhookEvent,
    pub created_at: Timestamp,
    pub organization: EventOrganization<'a>,
    /// What changed, by event type; the same as the audit entry's `data`.
    #[schema(value_type = Object)]
    pub data: &'a EventData,
}

/// The organization an event happened in.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOrganization<'a> {
    pub id: &'a str,
    pub slug: &'a str,
}

macro_rules! event_data {
    ($($variant:ident => $data:ident,)*) => {
        /// The data of a change, by its action.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum EventData {
            $($variant($data),)*
        }

        impl EventData {
            /// The action this data belongs to.
            pub fn event(&self) -> EventType {
                match self {
                    $(EventData::$variant(_) => EventType::$variant,)*
                }
            }
        }

        /// The name of the schema of `event`'s data, which is added to `schemas` with
        /// those it refers to.
        #[cfg(not(target_arch = "wasm32"))]
        pub fn data_schema(
            event: EventType,
            schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
        ) -> String {
            use utoipa::PartialSchema;
            match event {
                $(EventType::$variant => {
                    schemas.push(($data::name().into_owned(), $data::schema()));
                    <$data as ToSchema>::schemas(schemas);
                    $data::name().into_owned()
                })*
            }
        }

        $(impl From<$data> for EventData {
            fn from(data: $data) -> EventData {
                EventData::$variant(data)
            }
        })*
    };
}

event_data! {
    OrganizationCreated => OrganizationCreatedData,
    OrganizationUpdated => OrganizationUpdatedData,
    OrganizationDeleted => OrganizationDeletedData,
    OrganizationRestored => OrganizationRestoredData,
    OrganizationPurged => OrganizationPurgedData,
    OwnershipTransferred => OwnershipTransferredData,
    MemberAdded => MemberAddedData,
    MemberRemoved => MemberRemovedData,
    MemberRoleChanged => MemberRoleChangedData,
    MemberUpdated => MemberUpdatedData,
    InvitationCreated => InvitationCreatedData,
    InvitationResent => InvitationResentData,
    InvitationAccepted => InvitationAcceptedData,
    InvitationDeclined => InvitationDeclinedData,
    InvitationExpired => InvitationExpiredData,
    InvitationCanceled => InvitationCanceledData,
    SeatsChanged => SeatsChangedData,
    PlanChanged => PlanChangedData,
    UsageRecorded => UsageRecordedData,
    ResourceCreated => ResourceCreatedData,
    ResourceUpdated => ResourceUpdatedData,
    ResourceDeleted => ResourceDeletedData,
    GrantSet => GrantSetData,
    GrantRemoved => GrantRemovedData,
    ApiKeyCreated => ApiKeyCreatedData,
    ApiKeyRevoked => ApiKeyRevokedData,
    WebhookCreated => WebhookCreatedData,
    WebhookDeleted => WebhookDeletedData,
    WebhookDisabled => WebhookDisabledData,
    RoleCreated => RoleCreatedData,
    RoleUpdated => RoleUpdatedData,
    RoleDeleted => RoleDeletedData,
    TeamCreated => TeamCreatedData,
    TeamUpdated => TeamUpdatedData,
    TeamDeleted => TeamDeletedData,
    TeamMemberAdded => TeamMemberAddedData,
    TeamMemberRemoved => TeamMemberRemovedData,
    TeamGrantSet => TeamGrantSetData,
    TeamGrantRemoved => TeamGrantRemovedData,
    DomainAdded => DomainAddedData,
    DomainUpdated => DomainUpdatedData,
    DomainRemoved => DomainRemovedData,
    DomainVerified => DomainVerifiedData,
    DomainFailed => DomainFailedData,
    JoinRequestCreated => JoinRequestCreatedData,
    JoinRequestApproved => JoinRequestApprovedData,
    JoinRequestDenied => JoinRequestDeniedData,
    InviteLinkCreated => InviteLinkCreatedData,
    InviteLinkRevoked => InviteLinkRevokedData,
    MemberSuspended => MemberSuspendedData,
    MemberReactivated => MemberReactivatedData,
    ScimTokenCreated => ScimTokenCreatedData,
    ScimTokenRevoked => ScimTokenRevokedData,
}

/// `organization.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationCreatedData {
    pub name: String,
    pub slug: String,
    pub plan: Plan,
}

/// `organization.updated`: the fields that changed, with their new values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationUpdatedData {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub slug: Option<String>,
    /// `null` when the logo was removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub logo_url: Option<Option<String>>,
    /// The top-level keys of `metadata` that changed, with their new values (`null` for a
    /// key that went).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object, nullable = false)]
    pub metadata: Option<Map<String, Value>>,
    /// Likewise for `private_metadata`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object, nullable = false)]
    pub private_metadata: Option<Map<String, Value>>,
    /// The email domains now admitted (empty: any).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub allowed_email_domains: Option<Vec<String>>,
}

/// `organization.deleted`: until when the owner can restore it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationDeletedData {
    pub purge_at: Timestamp,
}

/// `organization.restored`: everything is back as it was at its deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationRestoredData {}

/// `organization.purged`: every row of the tenant is gone; the entry keeps its id only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrganizationPurgedData {}

/// `organization.ownership_transferred`: the previous owner and the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OwnershipTransferredData {
    pub from: String,
    pub to: String,
}

/// `member.added`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberAddedData {
    pub user_id: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub name: Option<String>,
    pub role: RoleKey,
    pub joined_at: Timestamp,
    pub joined_via: JoinedVia,
}

impl MemberAddedData {
    /// The news of user `user_id` becoming a member as `role` through `via`, at `at`.
    pub fn joining(
        user_id: &str,
        (email, name): (Option<String>, Option<String>),
        role: &RoleKey,
        via: JoinedVia,
        at: Timestamp,
    ) -> MemberAddedData {
        MemberAddedData {
            user_id: user_id.to_owned(),
            email,
            name,
            role: role.clone(),
            joined_at: at,
            joined_via: via,
        }
    }
}

/// `member.removed`: removed by an admin, or left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberRemovedData {
    pub user_id: String,
    #[schema(required = true)]
    pub email: Option<String>,
    pub role: RoleKey,
    /// How the membership came about.
    pub joined_via: JoinedVia,
}

/// `member.suspended`: the identity provider set `active: false`; the member keeps their
/// seat, role and grants but has no access until reactivated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberSuspendedData {
    pub user_id: String,
    #[schema(required = true)]
    pub email: Option<String>,
}

/// `member.reactivated`: `active: true` again; access is back as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberReactivatedData {
    pub user_id: String,
    #[schema(required = true)]
    pub email: Option<String>,
}

/// `member.role_changed`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberRoleChangedData {
    pub user_id: String,
    pub from: RoleKey,
    pub to: RoleKey,
}

/// `member.updated`: the member's metadata changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberUpdatedData {
    pub user_id: String,
    /// The top-level keys of `metadata` that changed, with their new values (`null` for a
    /// key that went).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object, nullable = false)]
    pub metadata: Option<Map<String, Value>>,
    /// Likewise for `private_metadata`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object, nullable = false)]
    pub private_metadata: Option<Map<String, Value>>,
}

/// `invitation.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvitationCreatedData {
    pub email: String,
    pub role: RoleKey,
    pub expires_at: Timestamp,
}

/// `invitation.resent`: a new link, and a new expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvitationResentData {
    pub email: String,
    pub expires_at: Timestamp,
}

/// `invitation.accepted`: `user_id` is the new member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvitationAcceptedData {
    pub id: String,
    pub email: String,
    pub role: RoleKey,
    pub user_id: String,
}

/// `invitation.declined`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvitationDeclinedData {
    pub id: String,
    pub email: String,
    pub role: RoleKey,
}

/// `invitation.expired`: recorded by the scheduled job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvitationExpiredData {
    pub id: String,
}

/// `invitation.canceled`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InvitationCanceledData {
    pub email: String,
    pub role: RoleKey,
}

/// `seats.changed`: the seats after the change, those before, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SeatsChangedData {
    pub reason: SeatsChangeReason,
    pub plan: Plan,
    pub included: i64,
    pub extra: i64,
    /// The extra seats the next period starts with when a decrease is scheduled.
    #[schema(required = true)]
    pub extra_next_period: Option<i64>,
    pub total: i64,
    pub previous: SeatsBefore,
    /// Charged now, when the owner changed the extra seats (0 unless seats were added).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub charge_cents: Option<i64>,
}

/// The seats before a `seats.changed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SeatsBefore {
    pub plan: Plan,
    pub extra: i64,
    #[schema(required = true)]
    pub extra_next_period: Option<i64>,
    pub total: i64,
}

/// Why the seats changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeatsChangeReason {
    /// The owner changed the plan.
    PlanChanged,
    /// The owner bought extra seats, usable at once.
    ExtraSeatsAdded,
    /// The owner lowered the extra seats from the next period on.
    DecreaseScheduled,
    /// The owner canceled a scheduled decrease.
    DecreaseCanceled,
    /// A new period started (and a scheduled decrease took effect).
    PeriodStarted,
}

/// `billing.plan_changed`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlanChangedData {
    pub from: Plan,
    pub to: Plan,
}

/// `usage.recorded`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UsageRecordedData {
    pub amount: i64,
    pub feature: String,
    pub user_id: String,
}

/// `resource.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResourceCreatedData {
    pub name: String,
    #[schema(required = true)]
    pub kind: Option<String>,
}

/// `resource.updated`: the fields that changed, with their new values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResourceUpdatedData {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
    /// `null` when the kind was cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub kind: Option<Option<String>>,
}

/// `resource.deleted`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResourceDeletedData {}

/// `grant.set`: the member's level on the resource (the target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GrantSetData {
    pub user_id: String,
    pub level: Level,
}

/// `grant.removed`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GrantRemovedData {
    pub user_id: String,
}

/// `api_key.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiKeyCreatedData {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub prefix: String,
}

/// `api_key.revoked`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiKeyRevokedData {
    pub name: String,
    pub prefix: String,
}

/// `scim_token.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScimTokenCreatedData {
    pub name: String,
}

/// `scim_token.revoked`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScimTokenRevokedData {
    pub name: String,
}

/// `webhook.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WebhookCreatedData {
    pub url: String,
    pub events: Vec<WebhookEvent>,
}

/// `webhook.deleted`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WebhookDeletedData {
    pub url: String,
}

/// `webhook.disabled`: too many deliveries failed in a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WebhookDisabledData {
    pub url: String,
    pub reason: String,
    pub failure_count: i64,
}

/// `role.created`: the custom role as defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleCreatedData {
    pub key: RoleKey,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub resource_floor: Option<Level>,
    pub resource_cap: Level,
}

/// `role.updated`: the custom role as it now is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleUpdatedData {
    pub key: RoleKey,
    pub name: String,
    pub permissions: Vec<Permission>,
    pub resource_floor: Option<Level>,
    pub resource_cap: Level,
}

/// `role.deleted`: and the role its members and pending invitations were given instead,
/// if they were reassigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoleDeletedData {
    pub key: RoleKey,
    pub reassigned_to: Option<RoleKey>,
}

/// `team.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamCreatedData {
    pub slug: String,
    pub name: String,
}

/// `team.updated`: the fields that changed, with their new values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamUpdatedData {
    /// The team's slug before the change.
    pub team: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub slug: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub name: Option<String>,
}

/// `team.deleted`: its memberships and resource grants went with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamDeletedData {
    pub slug: String,
}

/// `team.member_added`; also recorded when an existing team member's `team_role` changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamMemberAddedData {
    /// The team's slug.
    pub team: String,
    pub user_id: String,
    pub team_role: TeamRole,
}

/// `team.member_removed`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamMemberRemovedData {
    /// The team's slug.
    pub team: String,
    pub user_id: String,
}

/// `team_grant.set`: a team's grant on the resource (the entry's target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamGrantSetData {
    /// The team's slug.
    pub team: String,
    pub level: Level,
}

/// `team_grant.removed`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamGrantRemovedData {
    /// The team's slug.
    pub team: String,
}

/// `domain.added`: a domain to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DomainAddedData {
    pub domain: String,
}

/// `domain.updated`: its enrollment as it now is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DomainUpdatedData {
    pub domain: String,
    pub enrollment: Enrollment,
    pub role: RoleKey,
    /// The slugs of the teams joined through it.
    pub teams: Vec<String>,
}

/// `domain.removed`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DomainRemovedData {
    pub domain: String,
}

/// `domain.verified`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DomainVerifiedData {
    pub domain: String,
}

/// `domain.failed`: never verified within 7 days, or its record missing for 7 days (its
/// enrollment is then `off`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DomainFailedData {
    pub domain: String,
}

/// `join_request.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JoinRequestCreatedData {
    pub id: String,
    pub user_id: String,
    pub email: String,
}

/// `join_request.approved`: the requester is a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JoinRequestApprovedData {
    pub id: String,
    pub user_id: String,
}

/// `join_request.denied`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JoinRequestDeniedData {
    pub id: String,
    pub user_id: String,
}

/// `invite_link.created`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InviteLinkCreatedData {
    pub id: String,
    pub role: RoleKey,
    pub max_uses: Option<i64>,
    pub expires_at: Timestamp,
}

/// `invite_link.revoked`: it works no more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InviteLinkRevokedData {
    pub id: String,
}
