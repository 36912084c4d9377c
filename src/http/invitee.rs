//! Invitations on the invitee's side: the link's preview and landing page (no sign-in),
//! accept and decline by token, and the signed-in user's own pending invitations.

use super::member_view::member_of;
use super::{auth, json, no_content, Answer, Ctx};
use crate::api::events::MemberAddedData;
use crate::api::invitations::{InvitationPreview, Inviter, InviterName, MyInvitation, OrgSummary};
use crate::domain::invitation::{accept_link, check_invitee, Status};
use crate::domain::joining::JoinedVia;
use crate::domain::jwt::Identity;
use crate::domain::locale::Locale;
use crate::domain::plan::{Plan, Seats};
use crate::domain::policy::Actor;
use crate::domain::secret::InviteToken;
use crate::domain::values::{is_id, RoleKey};
use crate::domain::{Code, Problem, Timestamp};
use crate::pages::{self, PendingInvite, Unusable};
use crate::store::invitations::SeatCheck;
use crate::store::invitee::{self as store, InviteeView};
use crate::store::kv::{Preview, PreviewOrg};
use crate::store::Batch;
use worker::Response;

fn unknown() -> Problem {
    Problem::not_found("invitation")
}

/// The token of the path, or 404 for anything Roster could not have issued.
fn token(ctx: &Ctx) -> Result<InviteToken, Problem> {
    InviteToken::parse(ctx.param("token")).ok_or_else(unknown)
}

/// The answer for the link of a deleted organization's invitation: canceled with it, and
/// nothing more said of the organization, which answers everyone as if it did not exist.
fn canceled_with_its_organization() -> Problem {
    Problem::new(
        Code::InvitationCanceled,
        "This invitation has been canceled.",
    )
}

/// The preview of the invitation behind a token: from KV when it has it, else from D1
/// (and then cached again while pending). `None` for an unknown token; 410
/// `invitation_canceled` when its organization is deleted.
async fn preview(ctx: &Ctx, token: &InviteToken) -> Result<Option<Preview>, Problem> {
    let digest = token.digest();
    if let Some(cached) = ctx.kv.recall_invitation(&digest).await {
        return Ok(Some(cached));
    }
    let mut batch = Batch::new();
    let view = store::view_by_token(&mut batch, &digest, "");
    let Some(view) = batch.run(&ctx.db).await?.first(view)? else {
        return Ok(None);
    };
    if view.org_deleted != 0 {
        return Err(canceled_with_its_organization());
    }
    let preview = Preview::new(&view.invitation, PreviewOrg::from(&view), ctx.now);
    if preview.status_at(ctx.now) == Some(Status::Pending) {
        ctx.kv.remember_invitation(&digest, &preview, ctx.now).await;
    }
    Ok(Some(preview))
}

/// `GET /v1/invitations/{token}` — what the invitation is, for the product's accept page.
/// Answered 200 in every state (with its `status`); 404 for an unknown token, 410 when its
/// organization is deleted.
pub async fn show(ctx: &Ctx) -> Answer {
    let token = token(ctx)?;
    let preview = preview(ctx, &token).await?.ok_or_else(unknown)?;
    let status = preview.status_at(ctx.now).ok_or_else(Problem::internal)?;
    let expires_at = preview.expires_at();
    let org = preview.organization;
    json(
        200,
        &InvitationPreview {
            status,
            role: RoleKey::parse(&preview.role).map_err(|_| Problem::internal())?,
            expires_at,
            organization: OrgSummary {
                slug: org.slug,
                name: org.name,
                logo_url: org.logo_url,
            },
            invited_by: InviterName {
                name: preview.invited_by.name,
            },
            email_hint: preview.email_hint,
        },
    )
}

/// `GET /invite/{token}` — the page the email link opens.
pub async fn page(ctx: &Ctx) -> Answer {
    let preview = match InviteToken::parse(ctx.param("token")) {
        Some(token) => match preview(ctx, &token).await {
            Err(p) if p.code == Code::InvitationCanceled => {
                // The organization is gone, and with it what language the invitation spoke.
                return html(410, &pages::unusable(Unusable::Canceled, None, Locale::En));
            }
            found => found?.map(|p| (token, p)),
        },
        None => None,
    };
    let Some((token, preview)) = preview else {
        return html(404, &pages::unusable(Unusable::Unknown, None, Locale::En));
    };
    let org = Some(preview.organization.name.as_str());
    let locale = preview.locale();
    let unusable = |why| html(410, &pages::unusable(why, org, locale));
    match preview.status_at(ctx.now) {
        Some(Status::Pending) => {
            let default = format!("{}/accept-invite", ctx.cfg.app_url);
            let base = preview.redirect_url.as_deref().unwrap_or(&default);
            let accept_url = accept_link(base, token.expose());
            html(
                200,
                &pages::pending(&PendingInvite {
                    org_name: &preview.organization.name,
                    org_logo_url: preview.organization.logo_url.as_deref(),
                    inviter_name: preview.invited_by.name.as_deref(),
                    role: RoleKey::parse(&preview.role).map_err(|_| Problem::internal())?,
                    expires_at: preview.expires_at(),
                    accept_url: &accept_url,
                    locale,
                }),
            )
        }
        Some(Status::Expired) => unusable(Unusable::Expired),
        Some(Status::Canceled) => unusable(Unusable::Canceled),
        Some(Status::Accepted) => unusable(Unusable::Accepted),
        Some(Status::Declined) => unusable(Unusable::Declined),
        None => Err(Problem::internal()),
    }
}

/// An HTML page that is never cached, indexed or leaked by referrer.
pub(super) fn html(status: u16, body: &str) -> Answer {
    let response = Response::from_html(body)
        .map_err(|_| Problem::internal())?
        .with_status(status);
    let headers = response.headers();
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-robots-tag", "noindex"),
        ("x-frame-options", "DENY"),
        ("content-security-policy", &pages::content_security_policy()),
    ] {
        headers.set(name, value).map_err(|_| Problem::internal())?;
    }
    Ok(response)
}

/// How the invitation is looked up: by the link's token, or by id from the signed-in
/// user's own list.
enum Lookup {
    Token(InviteToken),
    Id(String),
}

/// Reads the invitation (with the user upserted first), or 404.
async fn load(ctx: &Ctx, identity: &Identity, by: &Lookup) -> Result<InviteeView, Problem> {
    let mut batch = Batch::new();
    crate::store::principal::upsert_user(&mut batch, identity, ctx.now);
    let view = match by {
        Lookup::Token(token) => {
            store::view_by_token(&mut batch, &token.digest(), &identity.user_id)
        }
        Lookup::Id(id) => store::view_by_id(&mut batch, id, &identity.user_id),
    };
    let view = batch.run(&ctx.db).await?.first(view)?.ok_or_else(unknown)?;
    // By id, an invitation addressed to someone else does not exist for this caller.
    if matches!(by, Lookup::Id(_))
        && identity.email.as_deref() != Some(view.invitation.email.as_str())
    {
        return Err(unknown());
    }
    Ok(view)
}

fn by_token(ctx: &Ctx) -> Result<Lookup, Problem> {
    token(ctx).map(Lookup::Token)
}

fn by_id(ctx: &Ctx) -> Result<Lookup, Problem> {
    let id = ctx.param("id");
    is_id(id)
        .then(|| Lookup::Id(id.to_owned()))
        .ok_or_else(unknown)
}

/// An invitation the signed-in person may answer: read (with the user upserted), still
/// pending, addressed to their verified email. `digest` is the token's when reached by link.
struct Answerable {
    identity: Identity,
    view: InviteeView,
    digest: Option<String>,
}

async fn answerable(ctx: &Ctx, by: Result<Lookup, Problem>) -> Result<Answerable, Problem> {
    let identity = auth::user(ctx).await?;
    let by = by?;
    let view = load(ctx, &identity, &by).await?;
    view.invitation.status_at(ctx.now)?.require_pending()?;
    check_invitee(
        &view.invitation.email,
        identity.email.as_deref(),
        identity.email_verified,
    )?;
    let digest = match &by {
        Lookup::Token(token) => Some(token.digest()),
        Lookup::Id(_) => None,
    };
    Ok(Answerable {
        identity,
        view,
        digest,
    })
}

fn already_member() -> Problem {
    Problem::new(
        Code::AlreadyMember,
        "You are already a member of this organization.",
    )
}

/// Accepts: one read, then one guarded batch that takes the seat.
async fn accept(ctx: &Ctx, by: Result<Lookup, Problem>) -> Answer {
    let Answerable {
        identity,
        view,
        digest,
    } = answerable(ctx, by).await?;
    let inv = &view.invitation;
    if view.is_member != 0 {
        return Err(already_member());
    }
    let plan = Plan::parse(&view.org_plan).ok_or_else(Problem::internal)?;
    let (role, def) = view.role()?;
    plan.require_role_def(def)?;
    let seats = Seats::new(plan, view.org_extra_seats, view.seats_used, 0);
    seats.require_free_seat()?;
    let member_added = MemberAddedData::joining(
        &identity.user_id,
        (identity.email.clone(), identity.name.clone()),
        &role,
        JoinedVia::Invitation,
        ctx.now,
    );
    let mut batch = Batch::new();
    let member = store::accept(
        &mut batch,
        &view,
        &identity,
        digest.as_deref(),
        &SeatCheck {
            org_id: &inv.org_id,
            plan: &view.org_plan,
            extra_seats: view.org_extra_seats,
            total: seats.total,
        },
        member_added,
        ctx.now,
    )?;
    let results = batch.run(&ctx.db).await.map_err(|p| match p.code {
        Code::SeatLimitReached => crate::domain::plan::seat_limit_reached(seats.total),
        Code::AlreadyMember => already_member(),
        _ => p,
    })?;
    let row = results.first(member)?.ok_or_else(Problem::internal)?;
    ctx.kv
        .forget_invitations(std::slice::from_ref(&inv.token_hash))
        .await;
    let actor = Actor::User {
        id: identity.user_id.clone(),
        role,
        def,
    };
    json(200, &member_of(&row, &actor)?)
}

async fn decline(ctx: &Ctx, by: Result<Lookup, Problem>) -> Answer {
    let Answerable {
        identity,
        view,
        digest,
    } = answerable(ctx, by).await?;
    let mut batch = Batch::new();
    store::decline(
        &mut batch,
        &view,
        &identity.user_id,
        digest.as_deref(),
        ctx.now,
    )?;
    batch.run(&ctx.db).await?;
    ctx.kv
        .forget_invitations(std::slice::from_ref(&view.invitation.token_hash))
        .await;
    no_content()
}

/// `POST /v1/invitations/{token}/accept`
pub async fn accept_by_token(ctx: &Ctx) -> Answer {
    accept(ctx, by_token(ctx)).await
}

/// `POST /v1/invitations/{token}/decline`
pub async fn decline_by_token(ctx: &Ctx) -> Answer {
    decline(ctx, by_token(ctx)).await
}

/// `POST /v1/me/invitations/{id}/accept`
pub async fn accept_mine(ctx: &Ctx) -> Answer {
    accept(ctx, by_id(ctx)).await
}

/// `POST /v1/me/invitations/{id}/decline`
pub async fn decline_mine(ctx: &Ctx) -> Answer {
    decline(ctx, by_id(ctx)).await
}

/// `GET /v1/me/invitations` — pending invitations addressed to the caller's verified email
/// (none while it is unverified): the "pending invitations" step of onboarding.
pub async fn mine(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let page = ctx.page()?;
    let mut batch = Batch::new();
    crate::store::principal::upsert_user(&mut batch, &identity, ctx.now);
    let email = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified);
    let rows = email
        .map(|email| store::addressed_to(&mut batch, email, ctx.now, page.after, page.fetch()));
    let results = batch.run(&ctx.db).await?;
    let rows = match rows {
        Some(rows) => results.all(rows)?,
        None => Vec::new(),
    };
    json(
        200,
        &page.envelope(
            rows,
            |r| r.seq,
            |r| {
                Ok(MyInvitation {
                    id: r.id.clone(),
                    organization: OrgSummary {
                        slug: r.org_slug.clone(),
                        name: r.org_name.clone(),
                        logo_url: r.org_logo_url.clone(),
                    },
                    role: RoleKey::parse(&r.role).map_err(|_| Problem::internal())?,
                    invited_by: Inviter {
                        name: r.inviter_name.clone(),
                        email: r.inviter_email.clone(),
                    },
                    expires_at: Timestamp(r.expires_at),
                })
            },
        )?,
    )
}
