//! Invite links: created, listed and revoked by member managers; previewed, landed on and
//! joined through by whoever has the link.

use super::body::{integer, string, strings, Fields};
use super::invitee::html;
use super::member_view::member_of;
use super::{auth, json, no_content, Answer, Ctx};
use crate::api::events::MemberAddedData;
use crate::api::invitations::OrgSummary;
use crate::api::invite_links::{InviteLink, InviteLinkPreview, LinkCreator};
use crate::api::List;
use crate::domain::invitation::{accept_link, parse_invitation_role};
use crate::domain::invite_link::{
    check_joiner, join_url, parse_domains, LinkStatus, DEFAULT_EXPIRES_IN, EXPIRES_IN, MAX_USES,
};
use crate::domain::joining::JoinedVia;
use crate::domain::plan::{seat_limit_reached, Plan, Seats};
use crate::domain::policy::{authorize, Action, Actor};
use crate::domain::secret::InviteToken;
use crate::domain::values::{is_id, RoleKey};
use crate::domain::{Code, Problem, Timestamp};
use crate::pages::{self, ActiveLink, UnusableLink};
use crate::store::invitations::SeatCheck;
use crate::store::invite_links::{self as store, LinkPreview, LinkRow, NewLink};
use crate::store::principal::Caller;
use crate::store::roles::catalogue;
use crate::store::Batch;
use serde_json::Value;

/// Most teams one link may name.
const TEAMS_LIMIT: usize = 20;

/// Reads an allow-list of email domains (`allowed_email_domains`, `allowed_domains`):
/// normalised, duplicates dropped.
pub fn email_domains(value: &Value) -> Result<Vec<String>, String> {
    let items = strings(usize::MAX)(value)?;
    parse_domains(&items).map_err(|(index, message)| match index {
        Some(i) => format!("item {i} {message}"),
        None => message,
    })
}

/// A link as its organization sees it; `url` only when it was just created.
fn link_of(row: &LinkRow, url: Option<String>, now: Timestamp) -> Result<InviteLink, Problem> {
    Ok(InviteLink {
        id: row.id.clone(),
        role: row.role()?,
        teams: row.team_slugs(),
        max_uses: row.max_uses,
        uses: row.uses,
        expires_at: Timestamp(row.expires_at),
        allowed_domains: row.allowed_domains(),
        created_by: LinkCreator {
            user_id: row.created_by_user_id.clone(),
            name: row.created_by_name.clone(),
        },
        created_at: Timestamp(row.created_at),
        revoked_at: row.revoked_at.map(Timestamp),
        status: row.status_at(now),
        url,
    })
}

/// A link asked for, as read from a body.
struct Asked {
    role: RoleKey,
    teams: Vec<String>,
    max_uses: Option<i64>,
    expires_in: i64,
    allowed_domains: Vec<String>,
}

fn read_link(ctx: &Ctx) -> Result<Asked, Problem> {
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let role = body.required("role", string(parse_invitation_role));
    let teams = body.optional("teams", strings(TEAMS_LIMIT));
    let max_uses = body.optional("max_uses", integer(MAX_USES));
    let expires_in = body.optional("expires_in", integer(EXPIRES_IN));
    let domains = body.optional("allowed_domains", email_domains);
    let (role, teams, max_uses, expires_in, domains) =
        body.finish((role, teams, max_uses, expires_in, domains))?;
    Ok(Asked {
        role,
        teams: teams.unwrap_or_default(),
        max_uses,
        expires_in: expires_in.unwrap_or(DEFAULT_EXPIRES_IN),
        allowed_domains: domains.unwrap_or_default(),
    })
}

/// `POST /v1/orgs/{slug}/invite-links` `{role, teams?, max_uses?, expires_in?,
/// allowed_domains?}` — the link's `url` is in this answer only.
pub async fn create(ctx: &Ctx) -> Answer {
    let asked = auth::valid(ctx, read_link(ctx)).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let roles = crate::store::roles::custom(&mut batch, ctx.param("slug"));
    let teams = store::teams_by_slugs(&mut batch, ctx.param("slug"), &asked.teams);
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ManageInvitation)?;
    let def = catalogue(&results.all(roles)?)?.resolve("role", &asked.role)?;
    authorize(&caller.actor, Action::Invite(def))?;
    caller.org.plan()?.require_role_def(def)?;
    let found = results.all(teams)?;
    let mut team_ids: Vec<String> = Vec::with_capacity(asked.teams.len());
    for (i, slug) in asked.teams.iter().enumerate() {
        let team = found.iter().find(|t| &t.slug == slug).ok_or_else(|| {
            Problem::invalid_field(&format!("teams[{i}]"), "is not a team of this organization")
        })?;
        if !team_ids.contains(&team.id) {
            team_ids.push(team.id.clone());
        }
    }
    let token = InviteToken::generate().map_err(|_| Problem::internal())?;
    let link = NewLink {
        token_digest: token.digest(),
        role: asked.role,
        def,
        team_ids,
        max_uses: asked.max_uses,
        expires_at: ctx.now.plus(asked.expires_in),
        allowed_domains: asked.allowed_domains,
    };
    let row = store::create(&ctx.db, &caller, &link, ctx.now).await?;
    let url = join_url(&ctx.cfg.public_url, token.expose());
    json(201, &link_of(&row, Some(url), ctx.now)?)
}

/// `GET /v1/orgs/{slug}/invite-links` — every link, revoked ones too, in creation order.
pub async fn list(ctx: &Ctx) -> Answer {
    json(200, &listing(ctx).await?.1)
}

/// The page of links the request asks for, with the caller who reads it.
pub async fn listing(ctx: &Ctx) -> Result<(Caller, List<InviteLink>), Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let rows = store::list(&mut batch, ctx.param("slug"), page.after, page.fetch());
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ManageInvitation)?;
    let list = page.envelope(results.all(rows)?, |r| r.seq, |r| link_of(r, None, ctx.now))?;
    Ok((caller, list))
}

/// `DELETE /v1/orgs/{slug}/invite-links/{id}` — the link stops working at once. A link
/// already revoked answers the same, recording nothing again.
pub async fn revoke(ctx: &Ctx) -> Answer {
    let id = ctx.param("id");
    let (mut batch, query) = auth::begin(ctx)?;
    let row = is_id(id).then(|| store::find(&mut batch, ctx.param("slug"), id));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ManageInvitation)?;
    let row = match row {
        Some(row) => results.first(row)?,
        None => None,
    };
    let link = row.ok_or_else(|| Problem::not_found("invite link"))?;
    if link.revoked_at.is_none() {
        store::revoke(&ctx.db, &caller, &link, ctx.now).await?;
    }
    ctx.kv.forget_link(&link.token_hash).await;
    no_content()
}

/// Drops the cached previews of organization `org_id`'s links, once it is deleted: they
/// would show its links as usable, while D1 answers for them as for no link at all. The
/// deletion is done by then, so a failure here is only logged (by the store).
pub async fn forget_previews(ctx: &Ctx, org_id: &str) {
    let mut batch = Batch::new();
    let digests = store::live_digests(&mut batch, org_id, ctx.now);
    let Ok(digests) = batch.run(&ctx.db).await.and_then(|r| r.all(digests)) else {
        return;
    };
    for digest in digests {
        ctx.kv.forget_link(&digest.token_hash).await;
    }
}

fn unknown() -> Problem {
    Problem::not_found("invite link")
}

/// The preview of the link behind a token: from KV when it has it, else from D1 (and then
/// cached until the link expires). `None` for an unknown token, or one of a deleted
/// organization.
async fn preview(ctx: &Ctx, token: &InviteToken) -> Result<Option<LinkPreview>, Problem> {
    let digest = token.digest();
    if let Some(cached) = ctx.kv.recall_link::<LinkPreview>(&digest).await {
        return Ok(Some(cached));
    }
    let mut batch = Batch::new();
    let view = store::view_by_token(&mut batch, &digest, "");
    let Some(view) = batch.run(&ctx.db).await?.first(view)? else {
        return Ok(None);
    };
    if view.org_deleted != 0 {
        return Ok(None);
    }
    let preview = LinkPreview::new(&view);
    ctx.kv
        .remember_link(&digest, &preview, Timestamp(preview.expires_at), ctx.now)
        .await;
    Ok(Some(preview))
}

/// `GET /v1/invite-links/{token}` — what the link is for, for the product's join page.
/// Answered 200 in every state (with its `status`); 404 for an unknown token.
pub async fn show(ctx: &Ctx) -> Answer {
    let token = InviteToken::parse(ctx.param("token")).ok_or_else(unknown)?;
    let preview = preview(ctx, &token).await?.ok_or_else(unknown)?;
    let org = &preview.organization;
    json(
        200,
        &InviteLinkPreview {
            organization: OrgSummary {
                slug: org.slug.clone(),
                name: org.name.clone(),
                logo_url: org.logo_url.clone(),
            },
            role: RoleKey::parse(&preview.role).map_err(|_| Problem::internal())?,
            expires_at: Timestamp(preview.expires_at),
            status: preview.status_at(ctx.now),
        },
    )
}

/// `GET /join/{token}` — the page the shared link opens.
pub async fn page(ctx: &Ctx) -> Answer {
    let found = match InviteToken::parse(ctx.param("token")) {
        Some(token) => preview(ctx, &token).await?.map(|p| (token, p)),
        None => None,
    };
    let Some((token, preview)) = found else {
        return html(404, &pages::unusable_link(UnusableLink::Unknown, None));
    };
    let org = &preview.organization;
    let unusable = |why| html(410, &pages::unusable_link(why, Some(&org.name)));
    match preview.status_at(ctx.now) {
        LinkStatus::Active => {
            let base = format!("{}/join", ctx.cfg.app_url);
            html(
                200,
                &pages::active_link(&ActiveLink {
                    org_name: &org.name,
                    org_logo_url: org.logo_url.as_deref(),
                    role: RoleKey::parse(&preview.role).map_err(|_| Problem::internal())?,
                    expires_at: Timestamp(preview.expires_at),
                    join_url: &accept_link(&base, token.expose()),
                }),
            )
        }
        LinkStatus::Expired => unusable(UnusableLink::Expired),
        LinkStatus::Revoked => unusable(UnusableLink::Revoked),
        LinkStatus::Exhausted => unusable(UnusableLink::Exhausted),
    }
}

fn already_member() -> Problem {
    Problem::new(
        Code::AlreadyMember,
        "You are already a member of this organization.",
    )
}

/// `POST /v1/invite-links/{token}/join` — one read, then one guarded batch that takes a
/// seat and a use of the link.
pub async fn join(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let token = InviteToken::parse(ctx.param("token")).ok_or_else(unknown)?;
    let digest = token.digest();
    let mut batch = Batch::new();
    crate::store::principal::upsert_user(&mut batch, &identity, ctx.now);
    let view = store::view_by_token(&mut batch, &digest, &identity.user_id);
    let view = batch
        .run(&ctx.db)
        .await?
        .first(view)?
        .filter(|v| v.org_deleted == 0)
        .ok_or_else(unknown)?;
    let link = &view.link;
    link.status_at(ctx.now).require_active()?;
    check_joiner(
        identity.email.as_deref(),
        identity.email_verified,
        &link.allowed_domains(),
        &view.org_allowed_email_domains(),
    )?;
    if view.is_member != 0 {
        return Err(already_member());
    }
    // A custom role deleted since the link was made leaves it nothing to give.
    let (role, def) = view.role().ok_or_else(|| {
        Problem::new(
            Code::InviteLinkRevoked,
            "This invite link's role no longer exists; ask for a new link.",
        )
    })?;
    let plan = Plan::parse(&view.org_plan).ok_or_else(Problem::internal)?;
    plan.require_role_def(def)?;
    let seats = Seats::new(plan, view.org_extra_seats, view.seats_used, 0);
    seats.require_free_seat()?;
    let member_added = MemberAddedData::joining(
        &identity.user_id,
        (identity.email.clone(), identity.name.clone()),
        &role,
        JoinedVia::InviteLink,
        ctx.now,
    );
    let mut batch = Batch::new();
    let member = store::join(
        &mut batch,
        &view,
        (&role, def),
        &SeatCheck {
            org_id: &link.org_id,
            plan: &view.org_plan,
            extra_seats: view.org_extra_seats,
            total: seats.total,
        },
        member_added,
        ctx.now,
    );
    let results = batch.run(&ctx.db).await.map_err(|p| match p.code {
        Code::SeatLimitReached => seat_limit_reached(seats.total),
        Code::AlreadyMember => already_member(),
        _ => p,
    })?;
    let row = results.first(member)?.ok_or_else(Problem::internal)?;
    // The cached preview counts uses no more: the next one is read from D1.
    ctx.kv.forget_link(&digest).await;
    let actor = Actor::User {
        id: identity.user_id.clone(),
        role,
        def,
    };
    json(200, &member_of(&row, &actor)?)
}
