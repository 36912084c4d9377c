//! `/v1/orgs/{slug}/roles`: the organization's roles — the four built-in ones as their row
//! of the policy, then its custom roles — and creating, changing and deleting custom roles.
//! Nobody creates, changes or deletes a role beyond their own (the policy's `ManageRole`).

use super::body::{names, one_of, string, text, Fields};
use super::{auth, json, no_content, Answer, Ctx};
use crate::api::roles::Role as RoleObject;
use crate::api::List;
use crate::domain::plan::Countable;
use crate::domain::policy::{authorize, Action, Permission, Permissions, RoleDef};
use crate::domain::values::{Level, Name, Role, RoleKey};
use crate::domain::{Code, Problem, Timestamp};
use crate::store::principal::Caller;
use crate::store::roles::{self as store, catalogue, NewRole, RoleRow};

const DESCRIPTION_MAX_CHARS: usize = 500;

/// How the built-in roles are named and described.
fn builtin_text(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::Owner => (
            "Owner",
            "Everything, including billing, deleting the organization and transferring \
             ownership. Exactly one member is the owner.",
        ),
        Role::Admin => (
            "Admin",
            "Everything but the owner's own powers: settings, members, roles, teams, \
             billing and usage, integrations, and admin on every resource.",
        ),
        Role::Member => (
            "Member",
            "Uses credits and reaches the resources they or their teams are granted.",
        ),
        Role::Viewer => (
            "Viewer",
            "Sees the organization; reads at most on the resources they are granted.",
        ),
    }
}

fn role_object(
    key: RoleKey,
    (name, description): (String, Option<String>),
    def: RoleDef,
    members_count: i64,
    created_at: Timestamp,
) -> RoleObject {
    RoleObject {
        key,
        name,
        description,
        builtin: def.builtin.is_some(),
        permissions: def.permissions.iter().collect(),
        resource_floor: def.floor,
        resource_cap: def.cap,
        members_count,
        created_at,
    }
}

fn custom_object(row: &RoleRow, members_count: i64) -> Result<RoleObject, Problem> {
    let (key, def) = row.def()?;
    Ok(role_object(
        key,
        (row.name.clone(), row.description.clone()),
        def,
        members_count,
        Timestamp(row.created_at),
    ))
}

fn no_such_role() -> Problem {
    Problem::not_found("role")
}

fn builtin_refused(key: &RoleKey) -> Problem {
    Problem::new(
        Code::RoleBuiltin,
        format!("`{key}` is a built-in role; built-in roles cannot be changed or deleted."),
    )
}

/// `GET /v1/orgs/{slug}/roles` — the built-in roles first, then the custom ones in
/// creation order.
pub async fn list(ctx: &Ctx) -> Answer {
    let (_, data) = listing(ctx).await?;
    json(
        200,
        &List {
            data,
            next_cursor: None,
        },
    )
}

/// Every role of the organization, built-in ones first, with the caller who reads them.
pub async fn listing(ctx: &Ctx) -> Result<(Caller, Vec<RoleObject>), Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let slug = ctx.param("slug");
    let custom = store::custom(&mut batch, slug);
    let counts = store::counts(&mut batch, slug);
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewRoles)?;
    let counts = results.all(counts)?;
    let held = |key: &str| counts.iter().find(|c| c.role == key).map_or(0, |c| c.n);
    let created = Timestamp(caller.org.created_at);
    let mut data: Vec<RoleObject> = Role::ALL
        .into_iter()
        .map(|role| {
            let (name, description) = builtin_text(role);
            role_object(
                role.into(),
                (name.to_owned(), Some(description.to_owned())),
                RoleDef::builtin(role),
                held(role.as_str()),
                created,
            )
        })
        .collect();
    for row in results.all(custom)? {
        data.push(custom_object(&row, held(&row.key))?);
    }
    Ok((caller, data))
}

/// Reads `permissions`: names of the catalogue, each once.
fn permissions(value: &serde_json::Value) -> Result<Permissions, String> {
    names(Permission::parse, Permission::NAMES, 0)(value).map(|ps| Permissions::of(&ps))
}

/// The definition a body asks for, judged as a custom role (owner-only permissions and a
/// floor above the cap are refused with the field named).
fn custom_def(
    permissions: Permissions,
    floor: Option<Level>,
    cap: Level,
) -> Result<RoleDef, Problem> {
    RoleDef::custom(permissions, floor, cap)
        .map_err(|(field, message)| Problem::invalid_field(field, message))
}

/// `POST /v1/orgs/{slug}/roles` `{key, name, description?, permissions, resource_floor?,
/// resource_cap?}` — business plan, at most 25; never beyond the caller's own role.
pub async fn create(ctx: &Ctx) -> Answer {
    let body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut b| {
        let key = b.required("key", string(RoleKey::parse));
        let name = b.required("name", string(Name::parse));
        let description = b.optional("description", text(DESCRIPTION_MAX_CHARS));
        let permissions = b.required("permissions", permissions);
        let floor = b.patch("resource_floor", one_of(Level::parse, Level::NAMES));
        let cap = b.optional("resource_cap", one_of(Level::parse, Level::NAMES));
        let (key, name, description, permissions, (floor, cap)) =
            b.finish((key, name, description, permissions, floor.zip(cap)))?;
        let def = custom_def(permissions, floor.flatten(), cap.unwrap_or(Level::Admin))?;
        Ok((key, name, description, def))
    });
    let (mut batch, query) = auth::begin(ctx)?;
    let custom = store::custom(&mut batch, ctx.param("slug"));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let (key, name, description, def) = body?;
    authorize(&caller.actor, Action::ManageRole(def))?;
    let rows = results.all(custom)?;
    if key.builtin().is_some() || rows.iter().any(|r| r.key == key.as_str()) {
        return Err(key_taken(&key));
    }
    let plan = caller.org.plan()?;
    plan.require_room(Countable::CustomRoles, rows.len() as i64)?;
    let new = NewRole {
        key: &key,
        name: &name,
        description: description.as_deref(),
        def,
    };
    let row = store::create(&ctx.db, &caller, &new, plan.spec().custom_roles, ctx.now)
        .await
        .map_err(|p| match p.code {
            Code::RoleKeyTaken => key_taken(&key),
            _ => p,
        })?;
    json(201, &custom_object(&row, 0)?)
}

fn key_taken(key: &RoleKey) -> Problem {
    Problem::new(
        Code::RoleKeyTaken,
        format!("The organization already has a role `{key}`; choose another key."),
    )
}

/// Custom role `{key}` as a request that changes it reads it.
struct Target {
    caller: Caller,
    row: RoleRow,
    /// Every custom role of the organization.
    rows: Vec<RoleRow>,
    members_count: i64,
    /// Who holds it, when asked for.
    holders: Option<store::Holders>,
}

/// The caller and custom role `{key}` (404 when the organization has none; 409
/// `role_builtin` for a built-in role).
async fn target(ctx: &Ctx, with_holders: bool) -> Result<Target, Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let slug = ctx.param("slug");
    let custom = store::custom(&mut batch, slug);
    let counts = store::counts(&mut batch, slug);
    let holders = with_holders.then(|| store::holders(&mut batch, slug, ctx.param("key")));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewRoles)?;
    let rows = results.all(custom)?;
    let key = RoleKey::parse(ctx.param("key")).map_err(|_| no_such_role())?;
    if key.builtin().is_some() {
        return Err(builtin_refused(&key));
    }
    let row = rows
        .iter()
        .find(|r| r.key == key.as_str())
        .cloned()
        .ok_or_else(no_such_role)?;
    let holders = match holders {
        Some(h) => results.first(h)?,
        None => None,
    };
    let members_count = results
        .all(counts)?
        .into_iter()
        .find(|c| c.role == row.key)
        .map_or(0, |c| c.n);
    Ok(Target {
        caller,
        row,
        rows,
        members_count,
        holders,
    })
}

/// `PATCH /v1/orgs/{slug}/roles/{key}` `{name?, description?, permissions?,
/// resource_floor?, resource_cap?}` — holders have the new definition on their next
/// request. The role as it was and as it becomes must both be within the caller's own.
pub async fn update(ctx: &Ctx) -> Answer {
    let body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut b| {
        let name = b.optional("name", string(Name::parse));
        let description = b.patch("description", text(DESCRIPTION_MAX_CHARS));
        let permissions = b.optional("permissions", permissions);
        let floor = b.patch("resource_floor", one_of(Level::parse, Level::NAMES));
        let cap = b.optional("resource_cap", one_of(Level::parse, Level::NAMES));
        b.finish((name, description, permissions, floor, cap))
    });
    let body = auth::valid(ctx, body).await?;
    let Target {
        caller,
        row,
        members_count,
        ..
    } = target(ctx, false).await?;
    let (name, description, permissions, floor, cap) = body;
    let (key, was) = row.def()?;
    let def = custom_def(
        permissions.unwrap_or(was.permissions),
        floor.unwrap_or(was.floor),
        cap.unwrap_or(was.cap),
    )?;
    authorize(&caller.actor, Action::ManageRole(was))?;
    authorize(&caller.actor, Action::ManageRole(def))?;
    let name = match name {
        Some(name) => name,
        None => Name::parse(&row.name).map_err(|_| Problem::internal())?,
    };
    let description = description.unwrap_or_else(|| row.description.clone());
    if def == was && name.as_str() == row.name && description == row.description {
        return json(200, &custom_object(&row, members_count)?);
    }
    let change = NewRole {
        key: &key,
        name: &name,
        description: description.as_deref(),
        def,
    };
    let row = store::update(&ctx.db, &caller, &row, &change, ctx.now).await?;
    json(200, &custom_object(&row, members_count)?)
}

/// `DELETE /v1/orgs/{slug}/roles/{key}?reassign_to=<role key>` — a role still held by
/// members or pending invitations needs `reassign_to`; they get that role in the same
/// transaction as the deletion.
pub async fn delete(ctx: &Ctx) -> Answer {
    let reassign_to = ctx
        .query("reassign_to")
        .map(|s| {
            RoleKey::parse(s).map_err(|message| Problem::invalid_field("reassign_to", message))
        })
        .transpose();
    let reassign_to = auth::valid(ctx, reassign_to).await?;
    let Target {
        caller,
        row,
        rows,
        holders,
        ..
    } = target(ctx, true).await?;
    let (key, def) = row.def()?;
    authorize(&caller.actor, Action::ManageRole(def))?;
    let holders = holders.ok_or_else(no_such_role)?;
    let members = holders.members();
    let invitations = holders.invitation_digests();
    let links = holders.link_digests();
    let to = match reassign_to {
        None if !members.is_empty()
            || !invitations.is_empty()
            || holders.domains > 0
            || !links.is_empty() =>
        {
            return Err(Problem::new(
                Code::RoleInUse,
                format!(
                    "`{key}` is held by {} members and given by {} pending invitations, {} \
                     domains and {} invite links; pass reassign_to with the role they should \
                     have instead.",
                    members.len(),
                    invitations.len(),
                    holders.domains,
                    links.len()
                ),
            ))
        }
        None => None,
        Some(to) if to == key || to.builtin() == Some(Role::Owner) => {
            return Err(Problem::invalid_field(
                "reassign_to",
                "must be another role, and not owner",
            ))
        }
        Some(to) if holders.domains > 0 && to.builtin() == Some(Role::Admin) => {
            return Err(Problem::invalid_field(
                "reassign_to",
                "cannot be admin while verified domains enroll people with this role",
            ))
        }
        Some(to) => {
            let target = catalogue(&rows)?.resolve("reassign_to", &to)?;
            caller.org.plan()?.require_role_def(target)?;
            if !members.is_empty() {
                let change = Action::ChangeRole {
                    from: def,
                    to: target,
                };
                authorize(&caller.actor, change)?;
            }
            if !invitations.is_empty() || holders.domains > 0 || !links.is_empty() {
                authorize(&caller.actor, Action::Invite(target))?;
            }
            Some((to, target))
        }
    };
    let to = to.as_ref().map(|(k, d)| (k, *d));
    store::delete(&ctx.db, &caller, &row, to, &members, ctx.now).await?;
    // Their cached previews named the role that went.
    ctx.kv.forget_invitations(&invitations).await;
    for digest in &links {
        ctx.kv.forget_link(digest).await;
    }
    no_content()
}
