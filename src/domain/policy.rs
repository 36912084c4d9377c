//! The one policy that decides every check: who may do what in an organization, and what
//! level anyone has on a resource.
//!
//! Handlers describe what they are about to do as an [`Action`] and ask [`authorize`];
//! nothing else in the code compares roles. A role is a [`RoleDef`]: a set of permissions,
//! a resource floor (the level held on every resource) and a resource cap (the most any
//! grant gives). The built-in roles are the contract's table compiled in
//! ([`RoleDef::builtin`]); an organization's custom roles are the same thing read from the
//! store, so one `authorize` decides both. Users act through their role; API keys act
//! through their scopes ([`Action::key_rule`]) and can never do what only an owner may, nor
//! manage admins, roles or integrations. Nobody creates, changes, assigns or removes a role
//! beyond their own ([`RoleDef::within`]).

use super::problem::{Code, Problem};
use super::values::{Level, Role, RoleKey};
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
    RolesManage,
    TeamsManage,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
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
        Permission::RolesManage,
        Permission::TeamsManage,
    ];

    /// The permissions only the owner holds, which no custom role may contain.
    pub const OWNER_ONLY: [Permission; 3] = [
        Permission::OrgDelete,
        Permission::BillingManage,
        Permission::AdminsManage,
    ];

    /// The names, as requests spell them, in the order of [`ALL`](Self::ALL).
    pub const NAMES: &'static [&'static str] = &{
        let mut names = [""; Permission::ALL.len()];
        let mut i = 0;
        while i < names.len() {
            names[i] = Permission::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub const fn as_str(self) -> &'static str {
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
            Permission::RolesManage => "roles.manage",
            Permission::TeamsManage => "teams.manage",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Permissions(u16);

impl Permissions {
    pub fn of(permissions: &[Permission]) -> Permissions {
        Permissions(permissions.iter().fold(0, |bits, p| bits | p.bit()))
    }

    pub fn all() -> Permissions {
        Permissions::of(&Permission::ALL)
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn is_subset(self, of: Permissions) -> bool {
        self.0 & !of.0 == 0
    }

    pub fn with(self, permission: Permission) -> Permissions {
        Permissions(self.0 | permission.bit())
    }

    pub fn without(self, others: Permissions) -> Permissions {
        Permissions(self.0 & !others.0)
    }

    /// The permissions in the set, in the catalogue's order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }
}

/// A role as the policy sees it: what its holders may do, and their levels on resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleDef {
    /// The built-in role this is, or `None` for a custom role.
    pub builtin: Option<Role>,
    pub permissions: Permissions,
    /// The level held on every resource without a grant.
    pub floor: Option<Level>,
    /// The most any grant, own or a team's, gives on a resource.
    pub cap: Level,
}

impl RoleDef {
    /// The contract's role table.
    pub fn builtin(role: Role) -> RoleDef {
        use Permission::*;
        let admin = Permissions::all().without(Permissions::of(&Permission::OWNER_ONLY));
        let (permissions, floor, cap) = match role {
            Role::Owner => (Permissions::all(), Some(Level::Admin), Level::Admin),
            Role::Admin => (admin, Some(Level::Admin), Level::Admin),
            Role::Member => (
                Permissions::of(&[OrgRead, UsageConsume]),
                None,
                Level::Admin,
            ),
            Role::Viewer => (Permissions::of(&[OrgRead]), None, Level::Read),
        };
        RoleDef {
            builtin: Some(role),
            permissions,
            floor,
            cap,
        }
    }

    /// A custom role. Every member sees the organization, so `org.read` is always in it.
    /// Owner-only permissions and a floor above the cap are refused (the message fits the
    /// `errors` entry of a 400).
    pub fn custom(
        permissions: Permissions,
        floor: Option<Level>,
        cap: Level,
    ) -> Result<RoleDef, (&'static str, String)> {
        if let Some(p) = permissions
            .iter()
            .find(|p| Permission::OWNER_ONLY.contains(p))
        {
            return Err((
                "permissions",
                format!("{p} is only ever the owner's and cannot be in a custom role"),
            ));
        }
        if floor > Some(cap) {
            return Err((
                "resource_floor",
                format!("must not be above the resource cap ({cap})"),
            ));
        }
        Ok(RoleDef {
            builtin: None,
            permissions: permissions.with(Permission::OrgRead),
            floor,
            cap,
        })
    }

    pub fn has(self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// Whether this role gives nothing `holder` lacks: its permissions are among the
    /// holder's, and its floor and cap are no higher.
    pub fn within(self, holder: RoleDef) -> bool {
        self.permissions.is_subset(holder.permissions)
            && self.floor <= holder.floor
            && self.cap <= holder.cap
    }

    /// The effective level of a holder whose highest grant (own or a team's) is `grant`:
    /// the higher of the floor and the grant, capped.
    pub fn level(self, grant: Option<Level>) -> Option<Level> {
        self.floor.max(grant).map(|l| l.min(self.cap))
    }

    /// Whether holders read every resource without a grant.
    pub fn sees_every_resource(self) -> bool {
        self.floor.is_some()
    }
}

/// The roles of one organization: the built-in ones and its custom roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalogue(Vec<(RoleKey, RoleDef)>);

impl Catalogue {
    pub fn new(custom: Vec<(RoleKey, RoleDef)>) -> Catalogue {
        Catalogue(custom)
    }

    /// The definition of the role `key` names, if the organization has it.
    pub fn def(&self, key: &RoleKey) -> Option<RoleDef> {
        match key.builtin() {
            Some(role) => Some(RoleDef::builtin(role)),
            None => self.0.iter().find(|(k, _)| k == key).map(|(_, d)| *d),
        }
    }

    /// Every role a member can hold but `owner` (which moves only by transfer): the
    /// built-in ones, then the custom roles in creation order.
    pub fn assignable(&self) -> Vec<(RoleKey, RoleDef)> {
        [Role::Admin, Role::Member, Role::Viewer]
            .into_iter()
            .map(|role| (role.into(), RoleDef::builtin(role)))
            .chain(self.0.iter().cloned())
            .collect()
    }

    /// The role asked for in request field `field`: 400 when the organization has no role
    /// of that key.
    pub fn resolve(&self, field: &str, key: &RoleKey) -> Result<RoleDef, Problem> {
        self.def(key)
            .ok_or_else(|| Problem::invalid_field(field, "is not a role of this organization"))
    }
}

/// The role table of the contract: whether `role` holds `permission`.
pub fn role_has(role: Role, permission: Permission) -> bool {
    RoleDef::builtin(role).has(permission)
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
    TeamsRead,
    TeamsWrite,
}

impl Scope {
    pub const ALL: [Scope; 12] = [
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
        Scope::TeamsRead,
        Scope::TeamsWrite,
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
            Scope::TeamsRead => "teams:read",
            Scope::TeamsWrite => "teams:write",
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

/// A member's standing in a team: maintainers manage the team's members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TeamRole {
    Maintainer,
    Member,
}

impl TeamRole {
    pub const ALL: [TeamRole; 2] = [TeamRole::Maintainer, TeamRole::Member];
    /// The names, as requests spell them, in the order of [`ALL`](Self::ALL).
    pub const NAMES: &'static [&'static str] = &["maintainer", "member"];

    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Maintainer => "maintainer",
            TeamRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<TeamRole> {
        TeamRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Who is acting inside an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A member, holding the role `role` (its key) defined as `def`.
    User {
        id: String,
        role: RoleKey,
        def: RoleDef,
    },
    ApiKey {
        id: String,
        scopes: Vec<Scope>,
    },
}

impl Actor {
    /// A member holding a built-in role.
    pub fn member(id: impl Into<String>, role: Role) -> Actor {
        Actor::User {
            id: id.into(),
            role: role.into(),
            def: RoleDef::builtin(role),
        }
    }

    /// The key of a user's role; API keys have none.
    pub fn role(&self) -> Option<&RoleKey> {
        match self {
            Actor::User { role, .. } => Some(role),
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

    /// Whether the actor holds `permission`: a user through their role, a key through its
    /// scopes.
    pub fn holds(&self, permission: Permission) -> bool {
        match self {
            Actor::User { def, .. } => def.has(permission),
            Actor::ApiKey { scopes, .. } => match permission.key_rule() {
                KeyRule::Any => true,
                KeyRule::Scope(scope) => scopes.contains(&scope),
                KeyRule::Never => false,
            },
        }
    }

    /// Every permission the actor holds (what a UI needs to hide what it cannot do).
    pub fn permissions(&self) -> Permissions {
        Permissions::of(
            &Permission::ALL
                .into_iter()
                .filter(|p| self.holds(*p))
                .collect::<Vec<_>>(),
        )
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
    /// Invite someone as this role.
    Invite(RoleDef),
    /// Resend or cancel a pending invitation.
    ManageInvitation,
    ChangeRole {
        from: RoleDef,
        to: RoleDef,
    },
    /// Remove a member holding `role`; `is_self` when a member leaves.
    RemoveMember {
        role: RoleDef,
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
    /// See the organization's roles.
    ViewRoles,
    /// Create, change (once as it was, once as it becomes) or delete a custom role.
    ManageRole(RoleDef),
    ViewTeams,
    /// Create, rename or delete a team.
    ManageTeams,
    /// Add, change or remove a team's members; `maintainer` when the caller maintains that
    /// team.
    ManageTeamMembers {
        maintainer: bool,
    },
    /// See the organization's join requests.
    ViewJoinRequests,
    /// Approve or deny a join request.
    DecideJoinRequest,
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
        Actor::User { def, .. } => def.has(of.permission()),
        Actor::ApiKey { scopes, .. } => scopes.contains(&Scope::MetadataRead),
    }
}

fn is_admin(role: RoleDef) -> bool {
    role.builtin == Some(Role::Admin)
}

impl Action {
    /// The permission a user's role must hold.
    pub fn permission(self) -> Permission {
        use Action::*;
        match self {
            ViewOrg | ViewMembers | ViewInvitations | ViewRoles | ViewTeams => Permission::OrgRead,
            UpdateOrg => Permission::OrgUpdate,
            DeleteOrg | TransferOwnership => Permission::OrgDelete,
            Invite(role) if is_admin(role) => Permission::AdminsManage,
            ChangeRole { from, to } if is_admin(from) || is_admin(to) => Permission::AdminsManage,
            RemoveMember { role, .. } if is_admin(role) => Permission::AdminsManage,
            Invite(_) | ManageInvitation | ChangeRole { .. } | RemoveMember { .. } => {
                Permission::MembersManage
            }
            AuthorizeOthers => Permission::MembersManage,
            ViewJoinRequests | DecideJoinRequest => Permission::MembersManage,
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
            ManageRole(_) => Permission::RolesManage,
            ManageTeams => Permission::TeamsManage,
            ManageTeamMembers { maintainer: true } => Permission::OrgRead,
            ManageTeamMembers { maintainer: false } => Permission::TeamsManage,
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
            ViewMembers | ViewInvitations | AuthorizeOthers | ViewRoles => {
                KeyRule::Scope(Scope::MembersRead)
            }
            Invite(_) | ManageInvitation => KeyRule::Scope(Scope::InvitationsWrite),
            ChangeRole { .. } | RemoveMember { .. } => KeyRule::Scope(Scope::MembersWrite),
            ViewJoinRequests => KeyRule::Scope(Scope::MembersRead),
            DecideJoinRequest => KeyRule::Scope(Scope::MembersWrite),
            ViewBilling => KeyRule::Scope(Scope::BillingRead),
            ConsumeUsage => KeyRule::Scope(Scope::UsageWrite),
            ViewAllUsage => KeyRule::Scope(Scope::UsageRead),
            CreateResource => KeyRule::Scope(Scope::ResourcesWrite),
            WriteMetadata { .. } => KeyRule::Scope(Scope::MetadataWrite),
            ViewTeams => KeyRule::Scope(Scope::TeamsRead),
            ManageTeams | ManageTeamMembers { .. } => KeyRule::Scope(Scope::TeamsWrite),
            UpdateOrg | DeleteOrg | TransferOwnership | ManageBilling | ManageIntegrations
            | ManageRole(_) => KeyRule::Never,
        }
    }

    /// The roles this action creates, changes, assigns or takes away, which must all be
    /// within the actor's own. A member leaving takes nothing from anyone.
    fn roles(self) -> [Option<RoleDef>; 2] {
        match self {
            Action::Invite(role) | Action::ManageRole(role) => [Some(role), None],
            Action::ChangeRole { from, to } => [Some(from), Some(to)],
            Action::RemoveMember {
                role,
                is_self: false,
            } => [Some(role), None],
            _ => [None, None],
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
    /// No key ever may: owner-only work, admins, roles, organization settings,
    /// integrations.
    Never,
}

/// Decides whether `actor` may perform `action`.
///
/// The owner is protected before any permission is looked at: nobody, not even the owner,
/// changes the owner's role or removes the owner (ownership moves only by transfer). Then
/// the permission, then no escalation: a user hands out, changes or takes away only roles
/// within their own; a key only roles whose every permission some key could hold.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), Problem> {
    let owner = Some(Role::Owner);
    match action {
        Action::ChangeRole { from, .. } | Action::RemoveMember { role: from, .. }
            if from.builtin == owner =>
        {
            return Err(Problem::new(
                Code::OwnerProtected,
                "The owner's role cannot be changed and the owner cannot be removed; \
                 transfer ownership first.",
            ))
        }
        Action::ChangeRole { to: role, .. } | Action::Invite(role) if role.builtin == owner => {
            return Err(Problem::forbidden(
                "Nobody can be made owner this way; use transfer-ownership.",
            ))
        }
        Action::RemoveMember { is_self: true, .. } if actor.role().is_some() => return Ok(()),
        _ => {}
    }
    match actor {
        Actor::User { role, def, .. } => {
            let permission = action.permission();
            if !def.has(permission) {
                return Err(Problem::forbidden(format!(
                    "Your role ({role}) does not have the {permission} permission."
                )));
            }
            if action
                .roles()
                .into_iter()
                .flatten()
                .any(|r| !r.within(*def))
            {
                return Err(Problem::forbidden(format!(
                    "That role gives more than your own role ({role}): its permissions and \
                     resource levels must be within yours."
                )));
            }
            Ok(())
        }
        Actor::ApiKey { scopes, .. } => {
            match action.key_rule() {
                KeyRule::Any => {}
                KeyRule::Scope(scope) if scopes.contains(&scope) => {}
                KeyRule::Scope(scope) => {
                    return Err(Problem::forbidden(format!(
                        "This API key lacks the {scope} scope."
                    )))
                }
                KeyRule::Never => {
                    return Err(Problem::forbidden(
                        "API keys cannot do this; a signed-in owner or admin must.",
                    ))
                }
            }
            let beyond_keys =
                |r: RoleDef| r.permissions.iter().any(|p| p.key_rule() == KeyRule::Never);
            if action.roles().into_iter().flatten().any(beyond_keys) {
                return Err(Problem::forbidden(
                    "That role holds permissions no API key may hold; a signed-in owner or \
                     admin must assign it.",
                ));
            }
            Ok(())
        }
    }
}

/// Refuses a grant above what the member's role allows.
pub fn check_grant(role: RoleDef, level: Level) -> Result<(), Problem> {
    if level <= role.cap {
        Ok(())
    } else {
        Err(Problem::new(
            Code::GrantExceedsRole,
            format!(
                "The member's role allows at most `{}` on a resource.",
                role.cap
            ),
        ))
    }
}

/// The level `actor` has on a resource on which the highest grant they hold, their own or
/// one of their teams', is `grant` (if any).
///
/// Users hold their role's floor or that grant, whichever is higher, capped by the role:
/// owners and admins `admin` on every resource, members and viewers what they are granted
/// (viewers `read` at most). API keys hold `admin` with `resources:write`, `read` with
/// `resources:read`, nothing otherwise.
pub fn resource_level(actor: &Actor, grant: Option<Level>) -> Option<Level> {
    match actor {
        Actor::User { def, .. } => def.level(grant),
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

/// The built-in roles that hold a level on every resource without a grant (owner and
/// admin), for queries that must list what a role can see.
pub fn roles_seeing_every_resource() -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| RoleDef::builtin(*role).sees_every_resource())
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
            Permission::TeamsManage => KeyRule::Scope(Scope::TeamsWrite),
            Permission::OrgUpdate
            | Permission::OrgDelete
            | Permission::AdminsManage
            | Permission::BillingManage
            | Permission::IntegrationsManage
            | Permission::RolesManage => KeyRule::Never,
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

/// Answers `question` for `subject` (`None`: not a member, who may do nothing) whose
/// highest grant on the named resource, own or a team's, is `grant`.
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
    let permitted = question.permission.is_none_or(|p| subject.holds(p));
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
        Actor::member("u", role)
    }

    fn def(role: Role) -> RoleDef {
        RoleDef::builtin(role)
    }

    fn key(scopes: &[Scope]) -> Actor {
        Actor::ApiKey {
            id: "k".into(),
            scopes: scopes.to_vec(),
        }
    }

    /// The contract's table, row by row: (permission, owner, admin, member, viewer).
    const TABLE: [(Permission, bool, bool, bool, bool); 13] = [
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
        (RolesManage, true, true, false, false),
        (TeamsManage, true, true, false, false),
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
    fn team_role_names_round_trip() {
        for (role, name) in TeamRole::ALL.into_iter().zip(TeamRole::NAMES) {
            assert_eq!(role.as_str(), *name);
            assert_eq!(TeamRole::parse(name), Some(role));
        }
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
        assert!(authorize(&user(Role::Admin), Action::Invite(def(Role::Member))).is_ok());
        assert_eq!(
            authorize(&user(Role::Admin), Action::Invite(def(Role::Admin)))
                .unwrap_err()
                .code,
            Code::Forbidden
        );
        assert!(authorize(&user(Role::Owner), Action::Invite(def(Role::Admin))).is_ok());
        assert_eq!(
            authorize(&user(Role::Owner), Action::Invite(def(Role::Owner)))
                .unwrap_err()
                .code,
            Code::Forbidden
        );
        assert_eq!(
            authorize(&user(Role::Member), Action::Invite(def(Role::Viewer)))
                .unwrap_err()
                .code,
            Code::Forbidden
        );
        let promote = Action::ChangeRole {
            from: def(Role::Member),
            to: def(Role::Admin),
        };
        assert!(authorize(&user(Role::Admin), promote).is_err());
        assert!(authorize(&user(Role::Owner), promote).is_ok());
        let demote_viewer = Action::ChangeRole {
            from: def(Role::Member),
            to: def(Role::Viewer),
        };
        assert!(authorize(&user(Role::Admin), demote_viewer).is_ok());
    }

    #[test]
    fn the_owner_is_protected_even_from_the_owner() {
        for actor in [user(Role::Owner), user(Role::Admin), key(&Scope::ALL)] {
            let change = Action::ChangeRole {
                from: def(Role::Owner),
                to: def(Role::Admin),
            };
            assert_eq!(
                authorize(&actor, change).unwrap_err().code,
                Code::OwnerProtected
            );
            for is_self in [true, false] {
                let remove = Action::RemoveMember {
                    role: def(Role::Owner),
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
                role: def(role),
                is_self: true,
            };
            assert!(authorize(&user(role), leave).is_ok());
        }
        let remove_admin = Action::RemoveMember {
            role: def(Role::Admin),
            is_self: false,
        };
        assert!(authorize(&user(Role::Admin), remove_admin).is_err());
        assert!(authorize(&user(Role::Owner), remove_admin).is_ok());
    }

    #[test]
    fn api_keys_act_within_their_scopes_only() {
        let k = key(&[Scope::InvitationsWrite]);
        assert!(authorize(&k, Action::Invite(def(Role::Member))).is_ok());
        assert!(authorize(&k, Action::ViewOrg).is_ok());
        assert_eq!(
            authorize(&k, Action::ViewMembers).unwrap_err().code,
            Code::Forbidden
        );
        let all = key(&Scope::ALL);
        for never in [
            Action::Invite(def(Role::Admin)),
            Action::DeleteOrg,
            Action::TransferOwnership,
            Action::ManageBilling,
            Action::ManageIntegrations,
            Action::UpdateOrg,
            Action::RemoveMember {
                role: def(Role::Admin),
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
            check_grant(def(Role::Viewer), Level::Write)
                .unwrap_err()
                .code,
            Code::GrantExceedsRole
        );
        assert!(check_grant(def(Role::Viewer), Level::Read).is_ok());
        assert!(check_grant(def(Role::Member), Level::Admin).is_ok());
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
            let cap = if role == Role::Viewer { Level::Read } else { Level::Admin };
            let capped = grant.map(|g| g.min(cap));
            prop_assert_eq!(level, floor.max(capped));
            if role == Role::Viewer {
                prop_assert!(level <= Some(Level::Read));
            }
        }

        #[test]
        fn nobody_outside_the_organization_is_allowed_anything(
            grant in any_level(),
            level in any_level(),
            i in 0usize..13,
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
        fn authorize_agrees_with_the_role_table(role in any_role(), i in 0usize..13) {
            let p = Permission::ALL[i];
            let q = Question { permission: Some(p), resource: None, level: None };
            prop_assert_eq!(decide(Some(&user(role)), None, q).allowed, role_has(role, p));
        }

        #[test]
        fn no_role_gets_more_than_the_owner(role in any_role(), i in 0usize..13) {
            let permission = Permission::ALL[i];
            if role_has(role, permission) {
                prop_assert!(role_has(Role::Owner, permission));
            }
        }

        #[test]
        fn keys_never_exceed_an_admin(scopes in prop::sample::subsequence(Scope::ALL.to_vec(), 0..=12), i in 0usize..9) {
            let actions = [
                Action::ViewMembers, Action::Invite(def(Role::Member)), Action::ViewBilling,
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

    fn any_permissions() -> impl Strategy<Value = Permissions> {
        prop::sample::subsequence(Permission::ALL.to_vec(), 0..=13)
            .prop_map(|ps| Permissions::of(&ps))
    }

    fn any_custom_role() -> impl Strategy<Value = RoleDef> {
        (
            any_permissions(),
            any_level(),
            prop::sample::select(Level::ALL.to_vec()),
        )
            .prop_filter_map("a valid custom role", |(permissions, floor, cap)| {
                RoleDef::custom(
                    permissions.without(Permissions::of(&Permission::OWNER_ONLY)),
                    floor,
                    cap,
                )
                .ok()
            })
    }

    /// A caller holding a built-in or a custom role.
    fn any_caller_role() -> impl Strategy<Value = RoleDef> {
        prop_oneof![any_role().prop_map(RoleDef::builtin), any_custom_role()]
    }

    fn holder(def: RoleDef) -> Actor {
        Actor::User {
            id: "u".into(),
            role: RoleKey::parse("some-role").unwrap(),
            def,
        }
    }

    proptest! {
        #[test]
        fn nobody_creates_or_assigns_a_role_beyond_their_own(caller in any_caller_role(), role in any_custom_role(), from in any_caller_role()) {
            let actor = holder(caller);
            for action in [
                Action::ManageRole(role),
                Action::Invite(role),
                Action::ChangeRole { from, to: role },
                Action::ChangeRole { from: role, to: from },
                Action::RemoveMember { role, is_self: false },
            ] {
                if authorize(&actor, action).is_ok() {
                    prop_assert!(role.permissions.is_subset(caller.permissions), "{action:?}");
                    prop_assert!(role.floor <= caller.floor && role.cap <= caller.cap, "{action:?}");
                }
            }
        }

        #[test]
        fn a_role_within_the_callers_is_granted_with_the_permission(caller in any_caller_role(), role in any_custom_role()) {
            let allowed = authorize(&holder(caller), Action::ManageRole(role)).is_ok();
            prop_assert_eq!(allowed, caller.has(Permission::RolesManage) && role.within(caller));
        }

        #[test]
        fn custom_roles_never_hold_owner_only_permissions(permissions in any_permissions(), floor in any_level(), cap in prop::sample::select(Level::ALL.to_vec())) {
            match RoleDef::custom(permissions, floor, cap) {
                Ok(role) => {
                    prop_assert!(Permission::OWNER_ONLY.iter().all(|p| !role.has(*p)));
                    prop_assert!(role.has(Permission::OrgRead));
                    prop_assert!(role.within(RoleDef::builtin(Role::Admin)));
                }
                Err(_) => prop_assert!(
                    Permission::OWNER_ONLY.iter().any(|p| permissions.contains(*p)) || floor > Some(cap)
                ),
            }
        }

        #[test]
        fn effective_level_is_the_highest_grant_or_floor_capped(
            role in any_caller_role(),
            own in any_level(),
            teams in prop::collection::vec(prop::sample::select(Level::ALL.to_vec()), 0..4),
        ) {
            let highest = teams.iter().copied().map(Some).fold(own, Option::max);
            let level = resource_level(&holder(role), highest);
            let expected = [role.floor, own].into_iter().chain(teams.iter().copied().map(Some)).max().flatten().map(|l| l.min(role.cap));
            prop_assert_eq!(level, expected);
            prop_assert!(level <= Some(role.cap));
        }

        #[test]
        fn a_permission_taken_from_a_role_is_gone_for_its_holder(role in any_custom_role(), i in 0usize..13) {
            let p = Permission::ALL[i];
            let fewer = RoleDef { permissions: role.permissions.without(Permissions::of(&[p])), ..role };
            let q = Question { permission: Some(p), resource: None, level: None };
            prop_assert!(!decide(Some(&holder(fewer)), None, q).allowed);
            prop_assert_eq!(decide(Some(&holder(role)), None, q).allowed, role.has(p));
        }

        #[test]
        fn keys_assign_only_roles_a_key_could_hold(scopes in prop::sample::subsequence(Scope::ALL.to_vec(), 0..=12), role in any_custom_role()) {
            if authorize(&key(&scopes), Action::Invite(role)).is_ok() {
                prop_assert!(role.permissions.iter().all(|p| p.key_rule() != KeyRule::Never));
                prop_assert!(authorize(&user(Role::Admin), Action::Invite(role)).is_ok());
            }
        }
    }

    #[test]
    fn builtin_roles_as_definitions() {
        let owner = def(Role::Owner);
        let admin = def(Role::Admin);
        assert_eq!((owner.floor, owner.cap), (Some(Level::Admin), Level::Admin));
        assert_eq!((admin.floor, admin.cap), (Some(Level::Admin), Level::Admin));
        assert_eq!(
            (def(Role::Member).floor, def(Role::Member).cap),
            (None, Level::Admin)
        );
        assert_eq!(
            (def(Role::Viewer).floor, def(Role::Viewer).cap),
            (None, Level::Read)
        );
        for role in Role::ALL {
            assert!(def(role).within(owner));
        }
        assert!(!owner.within(admin));
        assert!(def(Role::Member).within(admin) && def(Role::Viewer).within(def(Role::Member)));
    }

    #[test]
    fn a_custom_role_holder_with_members_manage_assigns_only_within_it() {
        use Permission::*;
        let recruiter =
            RoleDef::custom(Permissions::of(&[MembersManage]), None, Level::Write).unwrap();
        let actor = holder(recruiter);
        assert!(authorize(&actor, Action::Invite(def(Role::Viewer))).is_ok());
        // A member consumes credits, which the recruiter cannot, and reaches `admin`.
        assert_eq!(
            authorize(&actor, Action::Invite(def(Role::Member)))
                .unwrap_err()
                .code,
            Code::Forbidden
        );
        assert_eq!(
            authorize(
                &actor,
                Action::ChangeRole {
                    from: def(Role::Viewer),
                    to: def(Role::Member)
                }
            )
            .unwrap_err()
            .code,
            Code::Forbidden
        );
        assert!(authorize(&actor, Action::ManageRole(def(Role::Viewer))).is_err());
        assert_eq!(
            RoleDef::custom(Permissions::of(&[BillingManage]), None, Level::Read)
                .unwrap_err()
                .0,
            "permissions"
        );
        assert_eq!(
            RoleDef::custom(Permissions::default(), Some(Level::Admin), Level::Read)
                .unwrap_err()
                .0,
            "resource_floor"
        );
    }

    #[test]
    fn team_maintainers_manage_their_own_teams_members() {
        let member = user(Role::Member);
        assert!(authorize(&member, Action::ManageTeamMembers { maintainer: true }).is_ok());
        assert!(authorize(&member, Action::ManageTeamMembers { maintainer: false }).is_err());
        assert!(authorize(&member, Action::ManageTeams).is_err());
        assert!(authorize(&user(Role::Admin), Action::ManageTeams).is_ok());
        assert!(authorize(&key(&[Scope::TeamsWrite]), Action::ManageTeams).is_ok());
        assert!(authorize(&key(&[Scope::TeamsRead]), Action::ManageTeams).is_err());
        assert!(authorize(&key(&[Scope::TeamsRead]), Action::ViewTeams).is_ok());
        assert!(authorize(&key(&Scope::ALL), Action::ManageRole(def(Role::Viewer))).is_err());
    }

    #[test]
    fn effective_permissions() {
        assert_eq!(user(Role::Owner).permissions(), Permissions::all());
        assert_eq!(
            user(Role::Viewer).permissions().iter().collect::<Vec<_>>(),
            [Permission::OrgRead]
        );
        let k = key(&[Scope::TeamsWrite, Scope::UsageWrite]);
        assert_eq!(
            k.permissions().iter().collect::<Vec<_>>(),
            [
                Permission::OrgRead,
                Permission::UsageConsume,
                Permission::TeamsManage
            ]
        );
    }

    #[test]
    fn join_requests_are_for_members_managers() {
        for action in [Action::ViewJoinRequests, Action::DecideJoinRequest] {
            assert!(authorize(&user(Role::Owner), action).is_ok());
            assert!(authorize(&user(Role::Admin), action).is_ok());
            assert!(authorize(&user(Role::Member), action).is_err());
            assert!(authorize(&user(Role::Viewer), action).is_err());
        }
        let reader = key(&[Scope::MembersRead]);
        assert!(authorize(&reader, Action::ViewJoinRequests).is_ok());
        assert!(authorize(&reader, Action::DecideJoinRequest).is_err());
        assert!(authorize(&key(&[Scope::MembersWrite]), Action::DecideJoinRequest).is_ok());
    }
}
