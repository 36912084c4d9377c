//! Members: the list (roles, activity, grants), role changes, removal and leaving, and
//! transferring ownership. Changes take effect on the very next request.

use super::body::{string, Fields};
use super::orgs::metadata_changes;
use super::{auth, json, no_content, Answer, Ctx};
use crate::api::orgs::{Grant, Member, MemberTeam, OwnershipTransferred};
use crate::api::List;
use crate::domain::joining::JoinedVia;
use crate::domain::metadata;
use crate::domain::policy::{
    authorize, sees_private_metadata, Action, Actor, Catalogue, MetadataOf, TeamRole,
};
use crate::domain::values::{Level, Role, RoleKey};
use crate::domain::{Problem, Timestamp};
use crate::store::members::{self as store, MemberChange, MemberRow};
use crate::store::principal::Caller;
use crate::store::roles;

/// The member as `viewer` sees them.
pub fn member_of(row: &MemberRow, viewer: &Actor) -> Result<Member, Problem> {
    let of = MetadataOf::Member {
        is_self: viewer.user_id() == Some(row.user_id.as_str()),
    };
    let private_metadata = if sees_private_metadata(viewer, of) {
        Some(row.private_metadata()?)
    } else {
        None
    };
    Ok(Member {
        user_id: row.user_id.clone(),
        email: row.email.clone(),
        name: row.name.clone(),
        role: row.role()?.0,
        joined_at: Timestamp(row.joined_at),
        joined_via: JoinedVia::parse(&row.joined_via).ok_or_else(Problem::internal)?,
        last_active_at: Timestamp(row.last_active_at),
        suspended_at: row.suspended_at.map(Timestamp),
        grants: grants(row.grants()),
        teams: row
            .teams()
            .into_iter()
            .map(|(slug, team_role)| {
                let team_role = TeamRole::parse(&team_role).ok_or_else(Problem::internal)?;
                Ok(MemberTeam { slug, team_role })
            })
            .collect::<Result<_, Problem>>()?,
        metadata: row.metadata()?,
        private_metadata,
    })
}

pub fn grants(grants: Vec<(String, Level)>) -> Vec<Grant> {
    grants
        .into_iter()
        .map(|(resource_id, level)| Grant { resource_id, level })
        .collect()
}

fn no_such_member() -> Problem {
    Problem::not_found("member")
}

/// `GET /v1/orgs/{slug}/members`
pub async fn list(ctx: &Ctx) -> Answer {
    json(200, &listing(ctx).await?.1)
}

/// The page of members the request asks for, with the caller who reads it.
pub async fn listing(ctx: &Ctx) -> Result<(Caller, List<Member>), Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let rows = store::list(&mut batch, ctx.param("slug"), page.after, page.fetch());
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewMembers)?;
    let rows = results.all(rows)?;
    let list = page.envelope(rows, |r| r.seq, |r| member_of(r, &caller.actor))?;
    Ok((caller, list))
}

/// Reads the caller and the member `user_id` of the path's organization, and when asked
/// for, the organization's roles.
async fn caller_and_member(
    ctx: &Ctx,
    user_id: &str,
    with_roles: bool,
) -> Result<(Caller, Option<MemberRow>, Catalogue), Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let member = store::in_org(&mut batch, ctx.param("slug"), user_id);
    let roles = with_roles.then(|| roles::custom(&mut batch, ctx.param("slug")));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let member = results.first(member)?;
    let roles = match roles {
        Some(rows) => roles::catalogue(&results.all(rows)?)?,
        None => Catalogue::default(),
    };
    Ok((caller, member, roles))
}

/// A role a member can be given here; `owner` only moves by transfer.
fn assignable_role(s: &str) -> Result<RoleKey, String> {
    let key = RoleKey::parse(s)
        .map_err(|_| "must be admin, member, viewer or a custom role's key".to_string())?;
    match key.builtin() {
        Some(Role::Owner) => {
            Err("cannot be set here; use POST /v1/orgs/{slug}/transfer-ownership".into())
        }
        _ => Ok(key),
    }
}

/// `PATCH /v1/orgs/{slug}/members/{user_id}` `{role?, metadata?, private_metadata?}` —
/// metadata as JSON Merge Patch; members may set their own `metadata`.
pub async fn update(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let role = body.optional("role", string(assignable_role));
            let public = body.optional("metadata", metadata::patch);
            let private = body.optional("private_metadata", metadata::patch);
            let (role, public, private) = body.finish((role, public, private))?;
            if role.is_none() && public.is_none() && private.is_none() {
                return Err(Problem::invalid_field(
                    "role",
                    "is required unless metadata or private_metadata is given",
                ));
            }
            Ok((role, public, private))
        });
    let (caller, member, roles) = caller_and_member(ctx, ctx.param("user_id"), true).await?;
    let (to, public, private) = body?;
    let is_self = caller.actor.user_id() == Some(ctx.param("user_id"));
    // Who may not manage anyone learns that before whether the person exists.
    authorize(&caller.actor, Action::ViewMembers)?;
    let row = member.ok_or_else(no_such_member)?;
    let (from_key, from) = row.role()?;
    let to = match to {
        Some(key) => {
            let to = roles.resolve("role", &key)?;
            authorize(&caller.actor, Action::ChangeRole { from, to })?;
            caller.org.plan()?.require_role_def(to)?;
            Some((key, to))
        }
        None => None,
    };
    let (metadata, private_metadata) = metadata_changes(
        &caller.actor,
        MetadataOf::Member { is_self },
        (public, private),
        (row.metadata(), row.private_metadata()),
    )?;
    // Only what differs is a change; asking for what is already there records nothing.
    let change = MemberChange {
        role: to.filter(|(key, _)| *key != from_key),
        metadata,
        private_metadata,
    };
    if change.is_empty() {
        return json(200, &member_of(&row, &caller.actor)?);
    }
    let row = store::update(&ctx.db, &caller, &row, &change, ctx.now).await?;
    json(200, &member_of(&row, &caller.actor)?)
}

/// `DELETE /v1/orgs/{slug}/members/{user_id}` — remove a member, or leave.
pub async fn remove(ctx: &Ctx) -> Answer {
    let (caller, member, _) = caller_and_member(ctx, ctx.param("user_id"), false).await?;
    let member = member.ok_or_else(no_such_member)?;
    let is_self = caller.actor.user_id() == Some(member.user_id.as_str());
    authorize(
        &caller.actor,
        Action::RemoveMember {
            role: member.role()?.1,
            is_self,
        },
    )?;
    store::remove(&ctx.db, &caller, &member, ctx.now).await?;
    no_content()
}

/// `POST /v1/orgs/{slug}/transfer-ownership` `{user_id}` — the new owner must be a member;
/// the previous owner becomes admin (member on plans without admin).
pub async fn transfer_ownership(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let user_id = body.required("user_id", string(|s| Ok(s.to_owned())));
            body.finish((user_id,))
        });
    let (user_id,) = auth::valid(ctx, body).await?;
    let (caller, member, _) = caller_and_member(ctx, &user_id, false).await?;
    authorize(&caller.actor, Action::TransferOwnership)?;
    let owner_id = caller
        .actor
        .user_id()
        .ok_or_else(Problem::internal)?
        .to_owned();
    let row = member.ok_or_else(no_such_member)?;
    if row.user_id == owner_id {
        return Err(Problem::invalid_field("user_id", "is already the owner"));
    }
    let previous_role = caller.org.plan()?.demoted_owner_role();
    let (owner, previous) =
        store::transfer_ownership(&ctx.db, &caller, &owner_id, &row, previous_role, ctx.now)
            .await?;
    json(
        200,
        &OwnershipTransferred {
            owner: member_of(&owner, &caller.actor)?,
            previous_owner: member_of(&previous, &caller.actor)?,
        },
    )
}
