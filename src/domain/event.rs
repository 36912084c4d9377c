//! What happened: the actions the audit log records, and which of them webhooks deliver.

use std::fmt;

/// Every change Roster records. The webhook event names of the contract are used where one
/// fits; the rest are audit-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    OrganizationCreated,
    OrganizationUpdated,
    OrganizationDeleted,
    OrganizationRestored,
    OrganizationPurged,
    OwnershipTransferred,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
    MemberUpdated,
    InvitationCreated,
    InvitationResent,
    InvitationAccepted,
    InvitationDeclined,
    InvitationExpired,
    InvitationCanceled,
    SeatsChanged,
    PlanChanged,
    UsageRecorded,
    ResourceCreated,
    ResourceUpdated,
    ResourceDeleted,
    GrantSet,
    GrantRemoved,
    ApiKeyCreated,
    ApiKeyRevoked,
    WebhookCreated,
    WebhookDeleted,
    WebhookDisabled,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    TeamCreated,
    TeamUpdated,
    TeamDeleted,
    TeamMemberAdded,
    TeamMemberRemoved,
    TeamGrantSet,
    TeamGrantRemoved,
    DomainAdded,
    DomainUpdated,
    DomainRemoved,
    DomainVerified,
    DomainFailed,
    JoinRequestCreated,
    JoinRequestApproved,
    JoinRequestDenied,
    InviteLinkCreated,
    InviteLinkRevoked,
    MemberSuspended,
    MemberReactivated,
    ScimTokenCreated,
    ScimTokenRevoked,
}

impl EventType {
    pub const ALL: [EventType; 53] = [
        EventType::OrganizationCreated,
        EventType::OrganizationUpdated,
        EventType::OrganizationDeleted,
        EventType::OrganizationRestored,
        EventType::OrganizationPurged,
        EventType::OwnershipTransferred,
        EventType::MemberAdded,
        EventType::MemberRemoved,
        EventType::MemberRoleChanged,
        EventType::MemberUpdated,
        EventType::InvitationCreated,
        EventType::InvitationResent,
        EventType::InvitationAccepted,
        EventType::InvitationDeclined,
        EventType::InvitationExpired,
        EventType::InvitationCanceled,
        EventType::SeatsChanged,
        EventType::PlanChanged,
        EventType::UsageRecorded,
        EventType::ResourceCreated,
        EventType::ResourceUpdated,
        EventType::ResourceDeleted,
        EventType::GrantSet,
        EventType::GrantRemoved,
        EventType::ApiKeyCreated,
        EventType::ApiKeyRevoked,
        EventType::WebhookCreated,
        EventType::WebhookDeleted,
        EventType::WebhookDisabled,
        EventType::RoleCreated,
        EventType::RoleUpdated,
        EventType::RoleDeleted,
        EventType::TeamCreated,
        EventType::TeamUpdated,
        EventType::TeamDeleted,
        EventType::TeamMemberAdded,
        EventType::TeamMemberRemoved,
        EventType::TeamGrantSet,
        EventType::TeamGrantRemoved,
        EventType::DomainAdded,
        EventType::DomainUpdated,
        EventType::DomainRemoved,
        EventType::DomainVerified,
        EventType::DomainFailed,
        EventType::JoinRequestCreated,
        EventType::JoinRequestApproved,
        EventType::JoinRequestDenied,
        EventType::InviteLinkCreated,
        EventType::InviteLinkRevoked,
        EventType::MemberSuspended,
        EventType::MemberReactivated,
        EventType::ScimTokenCreated,
        EventType::ScimTokenRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrganizationCreated => "organization.created",
            EventType::OrganizationUpdated => "organization.updated",
            EventType::OrganizationDeleted => "organization.deleted",
            EventType::OrganizationRestored => "organization.restored",
            EventType::OrganizationPurged => "organization.purged",
            EventType::OwnershipTransferred => "organization.ownership_transferred",
            EventType::MemberAdded => "member.added",
            EventType::MemberRemoved => "member.removed",
            EventType::MemberRoleChanged => "member.role_changed",
            EventType::MemberUpdated => "member.updated",
            EventType::InvitationCreated => "invitation.created",
            EventType::InvitationResent => "invitation.resent",
            EventType::InvitationAccepted => "invitation.accepted",
            EventType::InvitationDeclined => "invitation.declined",
            EventType::InvitationExpired => "invitation.expired",
            EventType::InvitationCanceled => "invitation.canceled",
            EventType::SeatsChanged => "seats.changed",
            EventType::PlanChanged => "billing.plan_changed",
            EventType::UsageRecorded => "usage.recorded",
            EventType::ResourceCreated => "resource.created",
            EventType::ResourceUpdated => "resource.updated",
            EventType::ResourceDeleted => "resource.deleted",
            EventType::GrantSet => "grant.set",
            EventType::GrantRemoved => "grant.removed",
            EventType::ApiKeyCreated => "api_key.created",
            EventType::ApiKeyRevoked => "api_key.revoked",
            EventType::WebhookCreated => "webhook.created",
            EventType::WebhookDeleted => "webhook.deleted",
            EventType::WebhookDisabled => "webhook.disabled",
            EventType::RoleCreated => "role.created",
            EventType::RoleUpdated => "role.updated",
            EventType::RoleDeleted => "role.deleted",
            EventType::TeamCreated => "team.created",
            EventType::TeamUpdated => "team.updated",
            EventType::TeamDeleted => "team.deleted",
            EventType::TeamMemberAdded => "team.member_added",
            EventType::TeamMemberRemoved => "team.member_removed",
            EventType::TeamGrantSet => "team_grant.set",
            EventType::TeamGrantRemoved => "team_grant.removed",
            EventType::DomainAdded => "domain.added",
            EventType::DomainUpdated => "domain.updated",
            EventType::DomainRemoved => "domain.removed",
            EventType::DomainVerified => "domain.verified",
            EventType::DomainFailed => "domain.failed",
            EventType::JoinRequestCreated => "join_request.created",
            EventType::JoinRequestApproved => "join_request.approved",
            EventType::JoinRequestDenied => "join_request.denied",
            EventType::InviteLinkCreated => "invite_link.created",
            EventType::InviteLinkRevoked => "invite_link.revoked",
            EventType::MemberSuspended => "member.suspended",
            EventType::MemberReactivated => "member.reactivated",
            EventType::ScimTokenCreated => "scim_token.created",
            EventType::ScimTokenRevoked => "scim_token.revoked",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether webhooks deliver this action (the contract's event list).
    pub fn is_webhook_event(self) -> bool {
        WEBHOOK_EVENTS.contains(&self)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The events a webhook endpoint can subscribe to. `organization.purged` is not among them:
/// an organization's endpoints are purged with it, so nobody would receive it.
pub const WEBHOOK_EVENTS: [EventType; 30] = [
    EventType::MemberAdded,
    EventType::MemberRemoved,
    EventType::MemberRoleChanged,
    EventType::InvitationCreated,
    EventType::InvitationAccepted,
    EventType::InvitationDeclined,
    EventType::InvitationExpired,
    EventType::InvitationCanceled,
    EventType::SeatsChanged,
    EventType::OrganizationUpdated,
    EventType::MemberUpdated,
    EventType::OrganizationDeleted,
    EventType::OrganizationRestored,
    EventType::RoleCreated,
    EventType::RoleUpdated,
    EventType::RoleDeleted,
    EventType::TeamCreated,
    EventType::TeamUpdated,
    EventType::TeamDeleted,
    EventType::TeamMemberAdded,
    EventType::TeamMemberRemoved,
    EventType::DomainVerified,
    EventType::DomainFailed,
    EventType::JoinRequestCreated,
    EventType::JoinRequestApproved,
    EventType::JoinRequestDenied,
    EventType::InviteLinkCreated,
    EventType::InviteLinkRevoked,
    EventType::MemberSuspended,
    EventType::MemberReactivated,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_webhook_events_match_the_contract() {
        for a in EventType::ALL {
            assert_eq!(EventType::parse(a.as_str()), Some(a));
        }
        let names: Vec<_> = WEBHOOK_EVENTS.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "member.added",
                "member.removed",
                "member.role_changed",
                "invitation.created",
                "invitation.accepted",
                "invitation.declined",
                "invitation.expired",
                "invitation.canceled",
                "seats.changed",
                "organization.updated",
                "member.updated",
                "organization.deleted",
                "organization.restored",
                "role.created",
                "role.updated",
                "role.deleted",
                "team.created",
                "team.updated",
                "team.deleted",
                "team.member_added",
                "team.member_removed",
                "domain.verified",
                "domain.failed",
                "join_request.created",
                "join_request.approved",
                "join_request.denied",
                "invite_link.created",
                "invite_link.revoked",
                "member.suspended",
                "member.reactivated",
            ]
        );
    }
}
