//! The one policy that decides every check: who may do what in an organization, and what
//! level anyone has on a resource.
//!
//! Handlers describe what they are about to do as an [`Action`] and ask [`authorize`];
//! nothing else in the code compares roles. Users act through their role (the contract's
//! table, [`role_has`]); API keys act through their scopes ([`Action::scope`]) and can never
//! do what only an owner may, nor manage admins or integrations.

use super::problem::{Code, Problem};
use super::values::{Level, Role};
use std::fmt;

/// The contract's permission names, as `authorize` accepts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    OrgRead,
    OrgUpdate,
    OrgDelete,
    MembersManage,
    AdminsManage,
    BillingRead,
    BillingManage,
    UsageConsume,
    UsageReadAll,
    ResourcesCreate,
    IntegrationsManage,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Permission::OrgRead,
        Permission::OrgUpdate,
        Permission::OrgDelete,
        Permission::MembersManage,
        Permission::AdminsManage,
        Permission::BillingRead,
        Permission::BillingManage,
        Permission::UsageConsume,
        Permission::UsageReadAll,
        Permission::ResourcesCreate,
        Permission::IntegrationsManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::OrgRead => "org.read",
            Permission::OrgUpdate => "org.update",
            Permission::OrgDelete => "org.delete",
            Permission::MembersManage => "members.manage",
            Permission::AdminsManage => "admins.manage",
            Permission::BillingRead => "billing.read",
            Permission::BillingManage => "billing.manage",
            Permission::UsageConsume => "usage.consume",
            Permission::UsageReadAll => "usage.read_all",
            Permission::ResourcesCreate => "resources.create",
            Permission::IntegrationsManage => "integrations.manage",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role table of the contract: whether `role` holds `permission`.
pub fn role_has(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match permission {
        OrgRead => true,
        UsageConsume => role != Role::Viewer,
        OrgUpdate | MembersManage | BillingRead | UsageReadAll | ResourcesCreate
        | IntegrationsManage => matches!(role, Role::Owner | Role::Admin),
        AdminsManage | OrgDelete | BillingManage => role == Role::Owner,
    }
}

/// What an organization API key may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    MembersRead,
    MembersWrite,
    InvitationsWrite,
    ResourcesRead,
    ResourcesWrite,
    UsageRead,
    UsageWrite,
    BillingRead,
    MetadataRead,
    MetadataWrite,
}

impl Scope {
    pub const ALL: [Scope; 10] = [
        Scope::MembersRead,
        Scope::MembersWrite,
        Scope::InvitationsWrite,
        Scope::ResourcesRead,
        Scope::ResourcesWrite,
        Scope::UsageRead,
        Scope::UsageWrite,
        Scope::BillingRead,
        Scope::MetadataRead,
        Scope::MetadataWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::MembersRead => "members:read",
            Scope::MembersWrite => "members:write",
            Scope::InvitationsWrite => "invitations:write",
            Scope::ResourcesRead => "resources:read",
            Scope::ResourcesWrite => "resources:write",
            Scope::UsageRead => "usage:read",
            Scope::UsageWrite => "usage:write",
            Scope::BillingRead => "billing:read",
            Scope::MetadataRead => "metadata:read",
            Scope::MetadataWrite => "metadata:write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is acting inside an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User { id: String, role: Role },
    ApiKey { id: String, scopes: Vec<Scope> },
}

impl Actor {
    /// The role of a user; API keys have none.
    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::User { role, .. } => Some(*role),
            Actor::ApiKey { .. } => None,
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } => Some(id),
            Actor::ApiKey { .. } => None,
        }
    }

    /// `("user" | "api_key", id)`, as audit entries record the actor.
    pub fn kind_and_id(&self) -> (&'static str, &str) {
        match self {
            Actor::User { id, .. } => ("user", id),
            Actor::ApiKey { id, .. } => ("api_key", id),
        }
    }
}

/// Everything a caller can ask to do inside an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ViewOrg,
    ViewMembers,
    ViewInvitations,
    UpdateOrg,
    DeleteOrg,
    TransferOwnership,
    /// Invite someone as `role`.
    Invite(Role),
    /// Resend or cancel a pending invitation.
    ManageInvitation,
    ChangeRole {
        from: Role,
        to: Role,
    },
    /// Remove a member holding `role`; `is_self` when a member leaves.
    RemoveMember {
        role: Role,
        is_self: bool,
    },
    ViewBilling,
    ManageBilling,
    ConsumeUsage,
    ViewAllUsage,
    CreateResource,
    ManageIntegrations,
    /// Ask the policy about another member.
    AuthorizeOthers,
    /// Change the metadata of the organization or of a membership; `private` for
    /// `private_metadata`.
    WriteMetadata {
        of: MetadataOf,
        private: bool,
    },
}

/// Whose metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataOf {
    Org,
    /// A membership; `is_self` when it is the caller's own.
    Member {
        is_self: bool,
    },
}

impl MetadataOf {
    /// The permission that reads and writes this `private_metadata` (and writes this
    /// `metadata`, except a member's own).
    fn permission(self) -> Permission {
        match self {
            MetadataOf::Org => Permission::OrgUpdate,
            MetadataOf::Member { .. } => Permission::MembersManage,
        }
    }
}

/// Whether `actor` sees `private_metadata` of this kind: users holding the permission that
/// manages it, API keys holding `metadata:read`. Everyone in the organization sees
/// `metadata`.
pub fn sees_private_metadata(actor: &Actor, of: MetadataOf) -> bool {
    match actor {
        Actor::User { role, .. } => role_has(*role, of.permission()),
        Actor::ApiKey { scopes, .. } => scopes.contains(&Scope::MetadataRead),
    }
}

impl Action {
    /// The permission a user's role must hold.
    pub fn permission(self) -> Permission {
        use Action::*;
        match self {
            ViewOrg | ViewMembers | ViewInvitations => Permission::OrgRead,
            UpdateOrg => Permission::OrgUpdate,
            DeleteOrg | TransferOwnership => Permission::OrgDelete,
            Invite(Role::Admin) => Permission::AdminsManage,
            ChangeRole { from, to } if from == Role::Admin || to == Role::Admin => {
                Permission::AdminsManage
            }
            RemoveMember {
                role: Role::Admin, ..
            } => Permission::AdminsManage,
            Invite(_) | ManageInvitation | ChangeRole { .. } | RemoveMember { .. } => {
                Permission::MembersManage
            }
            AuthorizeOthers => Permission::MembersManage,
            WriteMetadata {
                of: MetadataOf::Member { is_self: true },
                private: false,
            } => Permission::OrgRead,
            WriteMetadata { of, .. } => of.permission(),
            ViewBilling => Permission::BillingRead,
            ManageBilling => Permission::BillingManage,
            ConsumeUsage => Permission::UsageConsume,
            ViewAllUsage => Permission::UsageReadAll,
            CreateResource => Permission::ResourcesCreate,
            ManageIntegrations => Permission::IntegrationsManage,
        }
    }

    /// What an API key needs for this action.
    pub fn key_rule(self) -> KeyRule {
        use Action::*;
        if self.permission() == Permission::AdminsManage {
            return KeyRule::Never;
        }
        match self {
            ViewOrg => KeyRule::Any,
            ViewMembers | ViewInvitations | AuthorizeOthers => KeyRule::Scope(Scope::MembersRead),
            Invite(_) | ManageInvitation => KeyRule::Scope(Scope::InvitationsWrite),
            ChangeRole { .. } | RemoveMember { .. } => KeyRule::Scope(Scope::MembersWrite),
            ViewBilling => KeyRule::Scope(Scope::BillingRead),
            ConsumeUsage => KeyRule::Scope(Scope::UsageWrite),
            ViewAllUsage => KeyRule::Scope(Scope::UsageRead),
            CreateResource => KeyRule::Scope(Scope::ResourcesWrite),
            WriteMetadata { .. } => KeyRule::Scope(Scope::MetadataWrite),
            UpdateOrg | DeleteOrg | TransferOwnership | ManageBilling | ManageIntegrations => {
                KeyRule::Never
            }
        }
    }
}

/// What an API key needs for an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRule {
    /// Any key of the organization may.
    Any,
    /// Keys holding this scope may.
    Scope(Scope),
    /// No key ever may: owner-only work, admins, organization settings, integrations.
    Never,
}

/// Decides whether `actor` may perform `action`.
///
/// The owner is protected before any permission is looked at: nobody, not even the owner,
/// changes the owner's role or removes the owner (ownership moves only by transfer).
pub fn authorize(actor: &Actor, action: Action) -> Result<(), Problem> {
    match action {
        Action::ChangeRole {
            from: Role::Owner, ..
        }
        | Action::RemoveMember {
            role: Role::Owner, ..
        } => {
            return Err(Problem::new(
                Code::OwnerProtected,
                "The owner's role cannot be changed and the owner cannot be removed; \
                 transfer ownership first.",
            ))
        }
        Action::ChangeRole {
            to: Role::Owner, ..
        }
        | Action::Invite(Role::Owner) => {
            return Err(Problem::forbidden(
                "Nobody can be made owner this way; use transfer-ownership.",
            ))
        }
        Action::RemoveMember { is_self: true, .. } if actor.role().is_some() => return Ok(()),
        _ => {}
    }
    match actor {
        Actor::User { role, .. } => {
            let permission = action.permission();
            if role_has(*role, permission) {
                Ok(())
            } else {
                Err(Problem::forbidden(format!(
                    "Your role ({role}) does not have the {permission} permission."
                )))
            }
        }
        Actor::ApiKey { scopes, .. } => match action.key_rule() {
            KeyRule::Any => Ok(()),
            KeyRule::Scope(scope) if scopes.contains(&scope) => Ok(()),
            KeyRule::Scope(scope) => Err(Problem::forbidden(format!(
                "This API key lacks the {scope} scope."
            ))),
            KeyRule::Never => Err(Problem::forbidden(
                "API keys cannot do this; a signed-in owner or admin must.",
            )),
        },
    }
}

/// The highest grant a member with `role` may hold on a resource: viewers read only.
pub fn grant_cap(role: Role) -> Level {
    match role {
        Role::Viewer => Level::Read,
        Role::Owner | Role::Admin | Role::Member => Level::Admin,
    }
}

/// Refuses a grant above what the member's role allows.
pub fn check_grant(role: Role, level: Level) -> Result<(), Problem> {
    let cap = grant_cap(role);
    if level <= cap {
        Ok(())
    } else {
        Err(Problem::new(
            Code::GrantExceedsRole,
            format!("A {role} can hold at most `{cap}` on a resource."),
        ))
    }
}

/// The level `actor` has on a resource on which they hold `grant` (if any).
///
/// Owners and admins hold `admin` on every resource. Members and viewers hold what they are
/// granted, capped by their role. API keys hold `admin` with `resources:write`, `read` with
/// `resources:read`, nothing otherwise.
pub fn resource_level(actor: &Actor, grant: Option<Level>) -> Option<Level> {
    match actor {
        Actor::User { role, .. } => match role {
            Role::Owner | Role::Admin => Some(Level::Admin),
            Role::Member | Role::Viewer => grant.map(|g| g.min(grant_cap(*role))),
        },
        Actor::ApiKey { scopes, .. } => {
            if scopes.contains(&Scope::ResourcesWrite) {
                Some(Level::Admin)
            } else if scopes.contains(&Scope::ResourcesRead) {
                Some(Level::Read)
            } else {
                None
            }
        }
    }
}

/// Roles that hold a level on every resource without a grant (owner and admin), for
/// queries that must list what a role can see.
pub fn roles_seeing_every_resource() -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| {
            resource_level(
                &Actor::User {
                    id: String::new(),
                    role: *role,
                },
                None,
            )
            .is_some()
        })
        .collect()
}

impl Permission {
    /// What an API key needs to hold this permission (as `authorize` reports it).
    pub fn key_rule(self) -> KeyRule {
        match self {
            Permission::OrgRead => KeyRule::Any,
            Permission::MembersManage => KeyRule::Scope(Scope::MembersWrite),
            Permission::BillingRead => KeyRule::Scope(Scope::BillingRead),
            Permission::UsageConsume => KeyRule::Scope(Scope::UsageWrite),
            Permission::UsageReadAll => KeyRule::Scope(Scope::UsageRead),
            Permission::ResourcesCreate => KeyRule::Scope(Scope::ResourcesWrite),
            Permission::OrgUpdate
            | Permission::OrgDelete
            | Permission::AdminsManage
            | Permission::BillingManage
            | Permission::IntegrationsManage => KeyRule::Never,
        }
    }
}

/// A question put to the policy by the product: may this subject hold `permission`, and
/// reach `level` on a resource?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    pub permission: Option<Permission>,
    /// Whether a resource was named, and whether it exists in the organization.
    pub resource: Option<bool>,
    /// The level asked for on the resource; `read` when a resource is named without one.
    pub level: Option<Level>,
}

/// The policy's answer: whether it is allowed, and the subject's effective level on the
/// resource (if one was named).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub level: Option<Level>,
}

/// Answers `question` for `subject` (`None`: not a member, who may do nothing) holding
/// `grant` on the named resource.
pub fn decide(subject: Option<&Actor>, grant: Option<Level>, question: Question) -> Verdict {
    let Some(subject) = subject else {
        return Verdict {
            allowed: false,
            level: None,
        };
    };
    let level = match question.resource {
        Some(true) => resource_level(subject, grant),
        Some(false) | None => None,
    };
    let permitted = question.permission.is_none_or(|p| match subject {
        Actor::User { role, .. } => role_has(*role, p),
        Actor::ApiKey { scopes, .. } => match p.key_rule() {
            KeyRule::Any => true,
            KeyRule::Scope(scope) => scopes.contains(&scope),
            KeyRule::Never => false,
        },
    });
    let reaches = match question.resource {
        None => question.level.is_none(),
        Some(_) => level >= Some(question.level.unwrap_or(Level::Read)),
    };
    Verdict {
        allowed: permitted && reaches,
        level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Permission::*;

    fn user(role: Role) -> Actor {
        Actor::User {
            id: "u".into(),
            role,
        }
    }

    fn key(scopes: &[Scope]) -> Actor {
        Actor::ApiKey {
            id: "k".into(),
            scopes: scopes.to_vec(),
        }
    }

    /// The contract's table, row by row: (permission, owner, admin, member, viewer).
    const TABLE: [(Permission, bool, bool, bool, bool); 11] = [
        (OrgRead, true, true, true, true),
        (OrgUpdate, true, true, false, false),
        (MembersManage, true, true, false, false),
        (AdminsManage, true, false, false, false),
        (OrgDelete, true, false, false, false),
        (BillingManage, true, false, false, false),
        (BillingRead, true, true, false, false),
        (UsageReadAll, true, true, false, false),
        (UsageConsume, true, true, true, false),
        (ResourcesCreate, true, true, false, false),
        (IntegrationsManage, true, true, false, false),
    ];

    #[test]
    fn every_role_and_permission_matches_the_contract() {
        for (permission, owner, admin, member, viewer) in TABLE {
            for (role, expected) in [
                (Role::Owner, owner),
                (Role::Admin, admin),
                (Role::Member, member),
                (Role::Viewer, viewer),
            ] {
                assert_eq!(role_has(role, permission), expected, "{role} {permission}");
            }
        }
        assert_eq!(TABLE.len(), Permission::ALL.len());
    }

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Permission::parse("org.destroy"), None);
    }

    #[test]
    fn inviting_and_role_changes() {
        assert!(authorize(&user(Role::Admin), Action::Invite(Role::Member)).is_ok());
        assert_eq!(
            authorize(&user(Role::Admin), Action::Invite(Role::Admin))
                .unwrap_err()
                .code,
            Code::Forbidden
        );
        assert!(authorize(&user(Role::Owner), Action::Invite(Role::Admin)).is_ok());
        assert_eq!(
            authorize(&user(Role::Owner), Action::Invite(Role::Owner))
                .unwrap_err()
                .code,
            Code::Forbidden
        );
        assert_eq!(
            authorize(&user(Role::Member), Action::Invite(Role::Viewer))
                .unwrap_err()
                .code,
            Code::Forbidden
        );
        let promote = Action::ChangeRole {
            from: Role::Member,
            to: Role::Admin,
        };
        assert!(authorize(&user(Role::Admin), promote).is_err());
        assert!(authorize(&user(Role::Owner), promote).is_ok());
        let demote_viewer = Action::ChangeRole {
            from: Role::Member,
            to: Role::Viewer,
        };
        assert!(authorize(&user(Role::Admin), demote_viewer).is_ok());
    }

    #[test]
    fn the_owner_is_protected_even_from_the_owner() {
        for actor in [user(Role::Owner), user(Role::Admin), key(&Scope::ALL)] {
            let change = Action::ChangeRole {
                from: Role::Owner,
                to: Role::Admin,
            };
            assert_eq!(
                authorize(&actor, change).unwrap_err().code,
                Code::OwnerProtected
            );
            for is_self in [true, false] {
                let remove = Action::RemoveMember {
                    role: Role::Owner,
                    is_self,
                };
                assert_eq!(
                    authorize(&actor, remove).unwrap_err().code,
                    Code::OwnerProtected
                );
            }
        }
    }

    #[test]
    fn anyone_but_the_owner_may_leave() {
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            let leave = Action::RemoveMember {
                role,
                is_self: true,
            };
            assert!(authorize(&user(role), leave).is_ok());
        }
        let remove_admin = Action::RemoveMember {
            role: Role::Admin,
            is_self: false,
        };
        assert!(authorize(&user(Role::Admin), remove_admin).is_err());
        assert!(authorize(&user(Role::Owner), remove_admin).is_ok());
    }

    #[test]
    fn api_keys_act_within_their_scopes_only() {
        let k = key(&[Scope::InvitationsWrite]);
        assert!(authorize(&k, Action::Invite(Role::Member)).is_ok());
        assert!(authorize(&k, Action::ViewOrg).is_ok());
        assert_eq!(
            authorize(&k, Action::ViewMembers).unwrap_err().code,
            Code::Forbidden
        );
        let all = key(&Scope::ALL);
        for never in [
            Action::Invite(Role::Admin),
            Action::DeleteOrg,
            Action::TransferOwnership,
            Action::ManageBilling,
            Action::ManageIntegrations,
            Action::UpdateOrg,
            Action::RemoveMember {
                role: Role::Admin,
                is_self: false,
            },
        ] {
            assert!(authorize(&all, never).is_err(), "{never:?}");
        }
        assert!(authorize(&all, Action::ConsumeUsage).is_ok());
        assert!(authorize(&all, Action::AuthorizeOthers).is_ok());
    }

    #[test]
    fn resource_levels() {
        assert_eq!(resource_level(&user(Role::Owner), None), Some(Level::Admin));
        assert_eq!(
            resource_level(&user(Role::Admin), Some(Level::Read)),
            Some(Level::Admin)
        );
        assert_eq!(resource_level(&user(Role::Member), None), None);
        assert_eq!(
            resource_level(&user(Role::Member), Some(Level::Write)),
            Some(Level::Write)
        );
        assert_eq!(
            resource_level(&user(Role::Viewer), Some(Level::Admin)),
            Some(Level::Read)
        );
        assert_eq!(
            resource_level(&key(&[Scope::ResourcesRead]), None),
            Some(Level::Read)
        );
        assert_eq!(resource_level(&key(&[Scope::UsageRead]), None), None);
        assert_eq!(
            check_grant(Role::Viewer, Level::Write).unwrap_err().code,
            Code::GrantExceedsRole
        );
        assert!(check_grant(Role::Viewer, Level::Read).is_ok());
        assert!(check_grant(Role::Member, Level::Admin).is_ok());
    }

    #[test]
    fn only_owners_and_admins_see_every_resource() {
        assert_eq!(roles_seeing_every_resource(), [Role::Owner, Role::Admin]);
    }

    #[test]
    fn the_authorize_question() {
        let member = user(Role::Member);
        let ask = |permission, resource, level| Question {
            permission,
            resource,
            level,
        };
        // Membership alone.
        assert!(decide(Some(&member), None, ask(None, None, None)).allowed);
        assert!(!decide(None, None, ask(None, None, None)).allowed);
        // Permissions.
        assert!(
            decide(
                Some(&member),
                None,
                ask(Some(Permission::UsageConsume), None, None)
            )
            .allowed
        );
        assert!(
            !decide(
                Some(&member),
                None,
                ask(Some(Permission::MembersManage), None, None)
            )
            .allowed
        );
        // Levels on a resource.
        let write = decide(
            Some(&member),
            Some(Level::Write),
            ask(None, Some(true), None),
        );
        assert_eq!(
            write,
            Verdict {
                allowed: true,
                level: Some(Level::Write)
            }
        );
        let admin = decide(
            Some(&member),
            Some(Level::Write),
            ask(None, Some(true), Some(Level::Admin)),
        );
        assert_eq!(
            admin,
            Verdict {
                allowed: false,
                level: Some(Level::Write)
            }
        );
        let none = decide(Some(&member), None, ask(None, Some(true), None));
        assert_eq!(
            none,
            Verdict {
                allowed: false,
                level: None
            }
        );
        // A resource that does not exist gives nobody a level, not even the owner.
        let missing = decide(Some(&user(Role::Owner)), None, ask(None, Some(false), None));
        assert_eq!(
            missing,
            Verdict {
                allowed: false,
                level: None
            }
        );
        // A level without a resource cannot be reached.
        assert!(!decide(Some(&member), None, ask(None, None, Some(Level::Read))).allowed);
        // Keys through their scopes.
        let k = key(&[Scope::UsageWrite, Scope::ResourcesRead]);
        assert!(
            decide(
                Some(&k),
                None,
                ask(Some(Permission::UsageConsume), None, None)
            )
            .allowed
        );
        assert!(
            !decide(
                Some(&k),
                None,
                ask(Some(Permission::BillingRead), None, None)
            )
            .allowed
        );
        assert_eq!(
            decide(Some(&k), None, ask(None, Some(true), None)).level,
            Some(Level::Read)
        );
    }

    #[test]
    fn private_metadata_is_seen_by_managers_and_keys_with_metadata_read() {
        let member = MetadataOf::Member { is_self: false };
        for role in Role::ALL {
            let manages = matches!(role, Role::Owner | Role::Admin);
            assert_eq!(sees_private_metadata(&user(role), MetadataOf::Org), manages);
            assert_eq!(sees_private_metadata(&user(role), member), manages);
        }
        for of in [MetadataOf::Org, member] {
            assert!(sees_private_metadata(&key(&[Scope::MetadataRead]), of));
            assert!(!sees_private_metadata(&key(&[Scope::MetadataWrite]), of));
            assert!(!sees_private_metadata(&key(&[Scope::MembersRead]), of));
        }
    }

    #[test]
    fn metadata_writes() {
        let write = |of, private| Action::WriteMetadata { of, private };
        let own = MetadataOf::Member { is_self: true };
        let other = MetadataOf::Member { is_self: false };
        for role in Role::ALL {
            let manages = matches!(role, Role::Owner | Role::Admin);
            // Everyone sets their own membership's metadata; nothing else without managing.
            assert!(authorize(&user(role), write(own, false)).is_ok());
            for action in [
                write(own, true),
                write(other, false),
                write(other, true),
                write(MetadataOf::Org, false),
                write(MetadataOf::Org, true),
            ] {
                let answer = authorize(&user(role), action);
                assert_eq!(answer.is_ok(), manages, "{role} {action:?}");
                if !manages {
                    assert_eq!(answer.unwrap_err().code, Code::Forbidden);
                }
            }
        }
        for of in [MetadataOf::Org, other] {
            for private in [false, true] {
                assert!(authorize(&key(&[Scope::MetadataWrite]), write(of, private)).is_ok());
                assert!(authorize(&key(&[Scope::MetadataRead]), write(of, private)).is_err());
            }
        }
    }

    #[test]
    fn key_rules_of_permissions_never_exceed_an_admin() {
        for p in Permission::ALL {
            if p.key_rule() != KeyRule::Never {
                assert!(role_has(Role::Admin, p), "{p}");
            }
        }
    }

    fn any_role() -> impl Strategy<Value = Role> {
        prop::sample::select(Role::ALL.to_vec())
    }

    fn any_level() -> impl Strategy<Value = Option<Level>> {
        prop::option::of(prop::sample::select(Level::ALL.to_vec()))
    }

    proptest! {
        #[test]
        fn effective_level_is_the_role_floor_or_the_capped_grant(role in any_role(), grant in any_level()) {
            let level = resource_level(&user(role), grant);
            let floor = matches!(role, Role::Owner | Role::Admin).then_some(Level::Admin);
            let capped = grant.map(|g| g.min(grant_cap(role)));
            prop_assert_eq!(level, floor.max(capped));
            if role == Role::Viewer {
                prop_assert!(level <= Some(Level::Read));
            }
        }

        #[test]
        fn nobody_outside_the_organization_is_allowed_anything(
            grant in any_level(),
            level in any_level(),
            i in 0usize..11,
            resource in prop::option::of(any::<bool>()),
        ) {
            let q = Question { permission: Some(Permission::ALL[i]), resource, level };
            prop_assert_eq!(decide(None, grant, q), Verdict { allowed: false, level: None });
            let q = Question { permission: None, resource, level };
            prop_assert_eq!(decide(None, grant, q), Verdict { allowed: false, level: None });
        }

        #[test]
        fn a_viewer_never_reaches_past_read(grant in any_level(), level in any_level()) {
            let q = Question { permission: None, resource: Some(true), level };
            let v = decide(Some(&user(Role::Viewer)), grant, q);
            prop_assert!(v.level <= Some(Level::Read));
            if level > Some(Level::Read) {
                prop_assert!(!v.allowed);
            }
        }

        #[test]
        fn authorize_agrees_with_the_role_table(role in any_role(), i in 0usize..11) {
            let p = Permission::ALL[i];
            let q = Question { permission: Some(p), resource: None, level: None };
            prop_assert_eq!(decide(Some(&user(role)), None, q).allowed, role_has(role, p));
        }

        #[test]
        fn no_role_gets_more_than_the_owner(role in any_role(), i in 0usize..11) {
            let permission = Permission::ALL[i];
            if role_has(role, permission) {
                prop_assert!(role_has(Role::Owner, permission));
            }
        }

        #[test]
        fn keys_never_exceed_an_admin(scopes in prop::sample::subsequence(Scope::ALL.to_vec(), 0..=10), i in 0usize..9) {
            let actions = [
                Action::ViewMembers, Action::Invite(Role::Member), Action::ViewBilling,
                Action::ConsumeUsage, Action::ViewAllUsage, Action::CreateResource, Action::DeleteOrg,
                Action::WriteMetadata { of: MetadataOf::Org, private: true },
                Action::WriteMetadata { of: MetadataOf::Member { is_self: false }, private: true },
            ];
            let action = actions[i];
            if authorize(&key(&scopes), action).is_ok() {
                prop_assert!(authorize(&user(Role::Admin), action).is_ok());
            }
        }
    }
}
