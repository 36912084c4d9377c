//! Teams: created, renamed and deleted with `teams.manage`, seen by every member; their
//! members, managed with `teams.manage` or by the team's own maintainers; and the levels
//! teams hold on resources, given like a member's grant by `admin` on the resource.

use super::body::{one_of, string, Fields};
use super::paging::Page;
use super::resources::{reach, require_admin, Reach};
use super::{auth, json, no_content, Answer, Ctx};
use crate::api::teams::{Team, TeamGrant, TeamMember};
use crate::api::List;
use crate::domain::plan::Countable;
use crate::domain::policy::{authorize, Action, TeamRole};
use crate::domain::values::{Level, Name, Slug};
use crate::domain::{Code, Problem, Timestamp};
use crate::store::members::{self, MemberRow};
use crate::store::principal::Caller;
use crate::store::teams::{self as store, TeamMemberRow, TeamRow};

fn team_of(row: &TeamRow) -> Team {
    Team {
        id: row.id.clone(),
        slug: row.slug.clone(),
        name: row.name.clone(),
        members_count: row.members_count,
        created_at: Timestamp(row.created_at),
    }
}

fn team_member_of(row: &TeamMemberRow) -> Result<TeamMember, Problem> {
    Ok(TeamMember {
        user_id: row.user_id.clone(),
        email: row.email.clone(),
        name: row.name.clone(),
        team_role: row.team_role()?,
        added_at: Timestamp(row.added_at),
    })
}

fn no_such_team() -> Problem {
    Problem::not_found("team")
}

fn slug_taken(slug: &Slug) -> Problem {
    Problem::new(
        Code::SlugTaken,
        format!("Another team of the organization has the slug `{slug}`; choose another."),
    )
}

/// The `{team}` of the path, when it can be a slug at all (else no team has it).
fn team_param(ctx: &Ctx) -> Option<&str> {
    let team = ctx.param("team");
    Slug::parse(team).is_ok().then_some(team)
}

/// `POST /v1/orgs/{slug}/teams` `{name, slug?}` — the slug derived from the name when
/// omitted; the plan limits how many teams there are.
pub async fn create(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let name = body.required("name", string(Name::parse));
            let slug = body.optional("slug", string(Slug::parse));
            let (name, slug) = body.finish((name, slug))?;
            let slug = match slug {
                Some(slug) => slug,
                None => Slug::derive(name.as_str()).ok_or_else(|| {
                    Problem::invalid_field(
                        "slug",
                        "cannot be derived from this name; choose one (3–48 characters of a-z, 0-9 and -)",
                    )
                })?,
            };
            Ok((name, slug))
        });
    let (mut batch, query) = auth::begin(ctx)?;
    let count = store::count(&mut batch, ctx.param("slug"));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let (name, slug) = body?;
    authorize(&caller.actor, Action::ManageTeams)?;
    let plan = caller.org.plan()?;
    let existing = results.first(count)?.map_or(0, |c| c.teams);
    plan.require_room(Countable::Teams, existing)?;
    let row = store::create(&ctx.db, &caller, &name, &slug, plan.spec().teams, ctx.now)
        .await
        .map_err(|p| match p.code {
            Code::SlugTaken => slug_taken(&slug),
            _ => p,
        })?;
    json(201, &team_of(&row))
}

/// `GET /v1/orgs/{slug}/teams`
pub async fn list(ctx: &Ctx) -> Answer {
    json(200, &listing(ctx).await?.1)
}

/// The page of teams the request asks for, with the caller who reads it.
pub async fn listing(ctx: &Ctx) -> Result<(Caller, List<Team>), Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    listing_page(ctx, page).await
}

/// The page `page` of teams, with the caller who reads it.
pub async fn listing_page(ctx: &Ctx, page: Page) -> Result<(Caller, List<Team>), Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let rows = store::list(&mut batch, ctx.param("slug"), page.after, page.fetch());
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewTeams)?;
    let rows = results.all(rows)?;
    let list = page.envelope(rows, |r| r.seq, |r| Ok(team_of(r)))?;
    Ok((caller, list))
}

/// The caller and the team `{team}` of the path, if there is one, from one round trip.
async fn caller_and_team(ctx: &Ctx) -> Result<(Caller, Option<TeamRow>), Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let team = team_param(ctx).map(|t| store::one(&mut batch, ctx.param("slug"), t));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let team = match team {
        Some(rows) => results.first(rows)?,
        None => None,
    };
    Ok((caller, team))
}

/// `GET /v1/orgs/{slug}/teams/{team}`
pub async fn get(ctx: &Ctx) -> Answer {
    let (caller, team) = caller_and_team(ctx).await?;
    authorize(&caller.actor, Action::ViewTeams)?;
    let team = team.ok_or_else(no_such_team)?;
    json(200, &team_of(&team))
}

/// `PATCH /v1/orgs/{slug}/teams/{team}` `{name?, slug?}` — at least one.
pub async fn update(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let name = body.optional("name", string(Name::parse));
            let slug = body.optional("slug", string(Slug::parse));
            let (name, slug) = body.finish((name, slug))?;
            if name.is_none() && slug.is_none() {
                return Err(Problem::invalid_field(
                    "name",
                    "is required unless slug is given",
                ));
            }
            Ok((name, slug))
        });
    let (caller, team) = caller_and_team(ctx).await?;
    let (name, slug) = body?;
    authorize(&caller.actor, Action::ManageTeams)?;
    let team = team.ok_or_else(no_such_team)?;
    // Only what differs is a change; asking for what is already there records nothing.
    let name = name.filter(|n| n.as_str() != team.name);
    let slug = slug.filter(|s| s.as_str() != team.slug);
    if name.is_none() && slug.is_none() {
        return json(200, &team_of(&team));
    }
    let row = store::update(
        &ctx.db,
        &caller,
        &team,
        name.as_ref(),
        slug.as_ref(),
        ctx.now,
    )
    .await
    .map_err(|p| match (&p.code, &slug) {
        (Code::SlugTaken, Some(slug)) => slug_taken(slug),
        _ => p,
    })?;
    json(200, &team_of(&row))
}

/// `DELETE /v1/orgs/{slug}/teams/{team}` — its memberships and grants go with it.
pub async fn delete(ctx: &Ctx) -> Answer {
    let (caller, team) = caller_and_team(ctx).await?;
    authorize(&caller.actor, Action::ManageTeams)?;
    let team = team.ok_or_else(no_such_team)?;
    store::delete(&ctx.db, &caller, &team, ctx.now).await?;
    no_content()
}

/// `GET /v1/orgs/{slug}/teams/{team}/members`
pub async fn members(ctx: &Ctx) -> Answer {
    json(200, &member_listing(ctx).await?.2)
}

/// Team `{team}` and the page of its members the request asks for, with the caller.
pub async fn member_listing(ctx: &Ctx) -> Result<(Caller, Team, List<TeamMember>), Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let slug = ctx.param("slug");
    let team = team_param(ctx).map(|t| {
        let team = store::one(&mut batch, slug, t);
        (
            team,
            store::members(&mut batch, slug, t, page.after, page.fetch()),
        )
    });
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewTeams)?;
    let (team, rows) = team.ok_or_else(no_such_team)?;
    let team = results.first(team)?.ok_or_else(no_such_team)?;
    let rows = results.all(rows)?;
    let list = page.envelope(rows, |r| r.seq, team_member_of)?;
    Ok((caller, team_of(&team), list))
}

/// What a change of a team's member decides on: the caller, the team, whether the caller
/// maintains it, the person as a member of the organization and as a member of the team.
struct Membership {
    caller: Caller,
    team: TeamRow,
    as_maintainer: bool,
    member: Option<MemberRow>,
    in_team: Option<TeamMemberRow>,
}

/// Reads a [`Membership`] for `{user_id}` in one round trip and authorizes the caller to
/// manage the team's members: 404 when the team does not exist, 403 for someone who
/// neither holds `teams.manage` nor maintains the team.
async fn membership(ctx: &Ctx) -> Result<Membership, Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let (slug, user_id) = (ctx.param("slug"), ctx.param("user_id"));
    let caller_id = query.user_id().map(str::to_owned);
    let reads = team_param(ctx).map(|t| {
        let team = store::one(&mut batch, slug, t);
        let mine = caller_id.map(|id| store::member(&mut batch, slug, t, &id));
        let theirs = store::member(&mut batch, slug, t, user_id);
        (team, mine, theirs)
    });
    let member = members::in_org(&mut batch, slug, user_id);
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let (team, mine, theirs) = reads.ok_or_else(no_such_team)?;
    let team = results.first(team)?.ok_or_else(no_such_team)?;
    let mine = match mine {
        Some(rows) => results.first(rows)?,
        None => None,
    };
    let as_maintainer = match mine {
        Some(row) => row.team_role()? == TeamRole::Maintainer,
        None => false,
    };
    authorize(
        &caller.actor,
        Action::ManageTeamMembers {
            maintainer: as_maintainer,
        },
    )?;
    Ok(Membership {
        caller,
        team,
        as_maintainer,
        member: results.first(member)?,
        in_team: results.first(theirs)?,
    })
}

/// `PUT /v1/orgs/{slug}/teams/{team}/members/{user_id}` `{team_role}` — adds a member of
/// the organization to the team, or changes their `team_role` there.
pub async fn put_member(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let role = body.required("team_role", one_of(TeamRole::parse, TeamRole::NAMES));
            body.finish((role,))
        });
    let (team_role,) = auth::valid(ctx, body).await?;
    let m = membership(ctx).await?;
    let member = m.member.ok_or_else(|| Problem::not_found("member"))?;
    if let Some(row) = m.in_team {
        if row.team_role()? == team_role {
            return json(200, &team_member_of(&row)?);
        }
    }
    let row = store::put_member(
        &ctx.db,
        &m.caller,
        &m.team,
        &member.user_id,
        team_role,
        m.as_maintainer,
        ctx.now,
    )
    .await?;
    json(200, &team_member_of(&row)?)
}

/// `DELETE /v1/orgs/{slug}/teams/{team}/members/{user_id}` — 404 when they are not in it.
pub async fn remove_member(ctx: &Ctx) -> Answer {
    let m = membership(ctx).await?;
    let row = m
        .in_team
        .ok_or_else(|| Problem::not_found("member of this team"))?;
    store::remove_member(
        &ctx.db,
        &m.caller,
        &m.team,
        &row.user_id,
        m.as_maintainer,
        ctx.now,
    )
    .await?;
    no_content()
}

/// `PUT /v1/orgs/{slug}/resources/{id}/team-grants/{team}` `{level}` — needs `admin` on the
/// resource; replaces the level the team held there.
pub async fn put_grant(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let level = body.required("level", one_of(Level::parse, Level::NAMES));
            body.finish((level,))
        });
    let Reach {
        caller,
        row,
        level: held,
        team,
        ..
    } = reach(ctx, None, team_param(ctx)).await?;
    let (level,) = body?;
    require_admin(held)?;
    let team = team.ok_or_else(no_such_team)?;
    if team.grant() != Some(level) {
        store::set_grant(&ctx.db, &caller, &row.id, &team, level, ctx.now).await?;
    }
    json(
        200,
        &TeamGrant {
            resource_id: row.id,
            team: team.slug,
            level,
        },
    )
}

/// `DELETE /v1/orgs/{slug}/resources/{id}/team-grants/{team}` — 404 when the team holds no
/// grant on it.
pub async fn delete_grant(ctx: &Ctx) -> Answer {
    let Reach {
        caller,
        row,
        level,
        team,
        ..
    } = reach(ctx, None, team_param(ctx)).await?;
    require_admin(level)?;
    let team = team.ok_or_else(no_such_team)?;
    store::remove_grant(&ctx.db, &caller, &row.id, &team, ctx.now)
        .await
        .map_err(|p| match p.code {
            Code::NotFound => Problem::not_found("grant"),
            _ => p,
        })?;
    no_content()
}
