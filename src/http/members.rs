//! Members: the list (roles, activity, grants), role changes, removal and leaving, and
//! transferring ownership. Changes take effect on the very next request.

use super::body::{string, Fields};
use super::member_view::{member_of, page_body};
use super::orgs::metadata_changes;
use super::{auth, json, json_text, no_content, Answer, Ctx};
use crate::api::orgs::{Member, OwnershipTransferred};
use crate::api::List;
use crate::domain::metadata;
use crate::domain::policy::{authorize, Action, Catalogue, MetadataOf};
use crate::domain::values::{Role, RoleKey};
use crate::domain::Problem;
use crate::store::members::{self as store, MemberChange, MemberRow};
use crate::store::principal::Caller;
use crate::store::roles;

fn no_such_member() -> Problem {
    Problem::not_found("member")
}

/// `GET /v1/orgs/{slug}/members`: the page as SQLite renders it, passed on.
pub async fn list(ctx: &Ctx) -> Answer {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let rows = store::rendered_page(&mut batch, ctx.param("slug"), page.after, page.limit);
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewMembers)?;
    let rendered = results.verbatim(rows)?.ok_or_else(Problem::internal)?;
    json_text(200, page_body(rendered, &caller.actor)?)
}

/// The page of members the request asks for, with the caller who reads it, as values
/// (for the console).
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
