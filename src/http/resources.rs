//! Resources, grants, and `authorize`: the policy the product's backend can ask at the
//! edge. A resource the caller cannot read does not exist for them (404).

use super::body::{one_of, string, text, Fields};
use super::{auth, json, no_content, Answer, Ctx};
use crate::api::resources::{AuthorizeAnswer, GrantOfMember, Resource};
use crate::domain::policy::{
    authorize as allow, check_grant, decide, resource_level, Action, Actor, Permission, Question,
};
use crate::domain::values::{is_id, Level, Name};
use crate::domain::Problem;
use crate::domain::Timestamp;
use crate::store::members::{self, MemberRow};
use crate::store::principal::Caller;
use crate::store::resources::{self as store, ResourceRow};
use crate::store::teams::{self, TeamOnResource};

const KIND_MAX_CHARS: usize = 50;

/// The resource, with the caller's level on it.
fn resource_of(row: &ResourceRow, level: Option<Level>) -> Resource {
    Resource {
        id: row.id.clone(),
        name: row.name.clone(),
        kind: row.kind.clone(),
        created_by: row.created_by.clone(),
        created_at: Timestamp(row.created_at),
        level,
    }
}

fn no_such_resource() -> Problem {
    Problem::not_found("resource")
}

/// `POST /v1/orgs/{slug}/resources` `{name, kind?}`
pub async fn create(ctx: &Ctx) -> Answer {
    let caller = auth::caller(ctx).await?;
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let name = body.required("name", string(Name::parse));
    let kind = body.optional("kind", text(KIND_MAX_CHARS));
    let (name, kind) = body.finish((name, kind))?;
    allow(&caller.actor, Action::CreateResource)?;
    let row = store::create(&ctx.db, &caller, &name, kind.as_deref(), ctx.now).await?;
    json(
        201,
        &resource_of(&row, resource_level(&caller.actor, row.grant())),
    )
}

/// `GET /v1/orgs/{slug}/resources` — those the caller can read.
pub async fn list(ctx: &Ctx) -> Answer {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let user_id = query.user_id().unwrap_or("").to_owned();
    let rows = store::list(
        &mut batch,
        ctx.param("slug"),
        &user_id,
        page.after,
        page.fetch(),
    );
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    allow(&caller.actor, Action::ViewOrg)?;
    let mut rows = results.all(rows)?;
    // The store lists every resource for a key; its scopes decide whether it reads any.
    rows.retain(|r| resource_level(&caller.actor, r.grant()).is_some());
    json(
        200,
        &page.envelope(
            rows,
            |r| r.seq,
            |r| Ok(resource_of(r, resource_level(&caller.actor, r.grant()))),
        )?,
    )
}

/// The caller, the resource `{id}` they can read and their level on it — 404 when they
/// cannot read it (or it does not exist) — and, when asked for, the member `member_id` and
/// the team `team` (by slug) with its grant on the resource, all from one round trip.
pub(super) struct Reach {
    pub caller: Caller,
    pub row: ResourceRow,
    pub level: Level,
    pub member: Option<MemberRow>,
    pub team: Option<TeamOnResource>,
}

pub(super) async fn reach(
    ctx: &Ctx,
    member_id: Option<&str>,
    team: Option<&str>,
) -> Result<Reach, Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let id = ctx.param("id");
    let user_id = query.user_id().unwrap_or("").to_owned();
    let row = is_id(id).then(|| store::one(&mut batch, ctx.param("slug"), id, &user_id));
    let member = member_id.map(|m| members::in_org(&mut batch, ctx.param("slug"), m));
    let team = team.map(|t| teams::on_resource(&mut batch, ctx.param("slug"), t, id));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let row = match row {
        Some(row) => results.first(row)?,
        None => None,
    };
    let row = row.ok_or_else(no_such_resource)?;
    let level = resource_level(&caller.actor, row.grant()).ok_or_else(no_such_resource)?;
    let member = match member {
        Some(member) => results.first(member)?,
        None => None,
    };
    let team = match team {
        Some(team) => results.first(team)?,
        None => None,
    };
    Ok(Reach {
        caller,
        row,
        level,
        member,
        team,
    })
}

pub(super) fn require_admin(level: Level) -> Result<(), Problem> {
    if level == Level::Admin {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "This needs `admin` on the resource; you have `{level}`."
        )))
    }
}

/// `GET /v1/orgs/{slug}/resources/{id}` — needs `read`.
pub async fn get(ctx: &Ctx) -> Answer {
    let Reach { row, level, .. } = reach(ctx, None, None).await?;
    json(200, &resource_of(&row, Some(level)))
}

/// `PATCH /v1/orgs/{slug}/resources/{id}` `{name?, kind?}` — needs `admin` on it.
pub async fn update(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let name = body.optional("name", string(Name::parse));
            let kind = body.patch("kind", text(KIND_MAX_CHARS));
            body.finish((name, kind))
        });
    let Reach {
        caller, row, level, ..
    } = reach(ctx, None, None).await?;
    let (name, kind) = body?;
    require_admin(level)?;
    // Only what differs is a change; asking for what is already there records nothing.
    let name = name.filter(|n| n.as_str() != row.name);
    let kind = kind
        .as_ref()
        .map(|k| k.as_deref())
        .filter(|k| *k != row.kind.as_deref());
    if name.is_none() && kind.is_none() {
        return json(200, &resource_of(&row, Some(level)));
    }
    let row = store::update(&ctx.db, &caller, &row.id, name.as_ref(), kind, ctx.now).await?;
    json(200, &resource_of(&row, Some(level)))
}

/// `DELETE /v1/orgs/{slug}/resources/{id}` — needs `admin` on it; its grants go with it.
pub async fn delete(ctx: &Ctx) -> Answer {
    let Reach {
        caller, row, level, ..
    } = reach(ctx, None, None).await?;
    require_admin(level)?;
    store::delete(&ctx.db, &caller, &row.id, ctx.now).await?;
    no_content()
}

/// The caller, the resource (with `admin` on it required) and the member `{user_id}`
/// (404 when not a member).
async fn grant_target(ctx: &Ctx) -> Result<(Caller, ResourceRow, MemberRow), Problem> {
    let reach = reach(ctx, Some(ctx.param("user_id")), None).await?;
    require_admin(reach.level)?;
    let member = reach.member.ok_or_else(|| Problem::not_found("member"))?;
    Ok((reach.caller, reach.row, member))
}

/// `PUT /v1/orgs/{slug}/resources/{id}/grants/{user_id}` `{level}`
pub async fn put_grant(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let level = body.required("level", one_of(Level::parse, Level::NAMES));
            body.finish((level,))
        });
    let (caller, row, member) = grant_target(ctx).await?;
    let (level,) = body?;
    check_grant(member.role()?.1, level)?;
    let held = member.grants().into_iter().find(|(id, _)| *id == row.id);
    if held.map(|(_, l)| l) != Some(level) {
        store::set_grant(&ctx.db, &caller, &row.id, &member, level, ctx.now).await?;
    }
    json(
        200,
        &GrantOfMember {
            resource_id: row.id,
            user_id: member.user_id,
            level,
        },
    )
}

/// `DELETE /v1/orgs/{slug}/resources/{id}/grants/{user_id}`
pub async fn delete_grant(ctx: &Ctx) -> Answer {
    let (caller, row, member) = grant_target(ctx).await?;
    store::remove_grant(&ctx.db, &caller, &row.id, &member.user_id, ctx.now)
        .await
        .map_err(|p| match p.code {
            crate::domain::Code::NotFound => Problem::not_found("grant"),
            _ => p,
        })?;
    no_content()
}

/// `POST /v1/orgs/{slug}/authorize` `{user_id?, permission?, resource_id?, level?}` →
/// `{allowed, role, level}`, in one round trip. Without `user_id` it answers for the
/// caller; about someone else it needs `members.manage` (or a key with `members:read`).
/// Someone who is not a member is allowed nothing. Without a body it asks whether the
/// caller is a member at all.
pub async fn authorize(ctx: &Ctx) -> Answer {
    let body = Fields::parse_or_empty(ctx.header("content-type").as_deref(), &ctx.body).and_then(
        |mut body| {
            let user_id = body.optional("user_id", string(|s| Ok(s.to_owned())));
            let permission = body.optional(
                "permission",
                string(|s| {
                    Permission::parse(s).ok_or_else(|| {
                        let names: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
                        format!("must be one of {}", names.join(", "))
                    })
                }),
            );
            let resource_id = body.optional("resource_id", string(|s| Ok(s.to_owned())));
            let level = body.optional("level", one_of(Level::parse, Level::NAMES));
            body.finish((user_id, permission, resource_id, level))
        },
    );
    let (user_id, permission, resource_id, level) = auth::valid(ctx, body).await?;

    let (mut batch, query) = auth::begin(ctx)?;
    let slug = ctx.param("slug");
    let caller_user = query.user_id().map(str::to_owned);
    let about_other = user_id
        .as_ref()
        .filter(|u| Some(*u) != caller_user.as_ref());
    let subject_member = about_other.map(|u| members::in_org(&mut batch, slug, u));
    let subject_id = about_other
        .or(caller_user.as_ref())
        .cloned()
        .unwrap_or_default();
    let standing = resource_id
        .as_ref()
        .map(|r| store::standing(&mut batch, slug, r, &subject_id));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;

    let subject = match subject_member {
        Some(rows) => {
            allow(&caller.actor, Action::AuthorizeOthers)?;
            // A suspended member has no access: answered as someone who is not a member.
            results
                .first(rows)?
                .filter(|m| m.suspended_at.is_none())
                .map(|m| {
                    m.role().map(|(role, def)| Actor::User {
                        id: m.user_id,
                        role,
                        def,
                    })
                })
                .transpose()?
        }
        None => Some(caller.actor.clone()),
    };
    let (present, grant) = match standing {
        Some(rows) => {
            let s = results.first(rows)?.ok_or_else(Problem::internal)?;
            (Some(s.present != 0), s.level.and_then(Level::from_rank))
        }
        None => (None, None),
    };
    let verdict = decide(
        subject.as_ref(),
        grant,
        Question {
            permission,
            resource: present,
            level,
        },
    );
    json(
        200,
        &AuthorizeAnswer {
            allowed: verdict.allowed,
            role: subject.as_ref().and_then(|s| s.role().cloned()),
            level: verdict.level,
        },
    )
}
