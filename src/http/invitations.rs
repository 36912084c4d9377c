//! Invitations on the organization's side: invite (one or many), list, read, resend,
//! cancel. The token travels only in the email; the answers never carry it, except as the
//! link (`url`) of an invitation the product delivers itself.

use super::auth;
use super::body::{array, boolean, integer, one_of, string, strings, Fields, Slot};
use super::member_view::grants;
use super::{json, no_content, Answer, Ctx};
use crate::api::invitations::{
    BulkInvitationResult, BulkInvitationResults, EmailDelivery, Invitation, InvitedBy,
};
use crate::api::List;
use crate::domain::invitation::{
    already_member, invitation_pending, parse_invitation_role, parse_redirect_url, resend_wait,
    Admissions, InviteFacts, PendingInvitation, Status, EXPIRES_IN,
};
use crate::domain::locale::Locale;
use crate::domain::metadata::{self, Object};
use crate::domain::plan::Seats;
use crate::domain::policy::{authorize, Action};
use crate::domain::secret::InviteToken;
use crate::domain::values::{is_id, Email, Level, RoleKey};
use crate::domain::{Code, FieldError, Problem, Timestamp};
use crate::invite_mail::{self, InvitationMail};
use crate::store::invitations::{self as store, InvitationRow, Inviter, NewInvitation, SeatCheck};
use crate::store::kv::PreviewOrg;
use crate::store::outbox::FirstSend;
use crate::store::principal::Caller;
use crate::store::roles::catalogue;
use crate::store::Batch;
use serde_json::Value;
use std::collections::HashMap;

/// Most invitations one bulk request may carry.
pub const BULK_LIMIT: usize = 100;

/// The invitation as of `now` (past its expiry it is `expired`, whatever the job did yet).
pub fn invitation_of(row: &InvitationRow, now: Timestamp) -> Result<Invitation, Problem> {
    Ok(Invitation {
        id: row.id.clone(),
        email: row.email.clone(),
        role: row.role()?,
        status: row.status_at(now)?,
        invited_by: InvitedBy {
            user_id: row.inviter_user_id.clone(),
            email: row.inviter_email.clone(),
            name: row.inviter_name.clone(),
            api_key_id: row.inviter_key_id.clone(),
        },
        grants: grants(row.grants()),
        teams: row.team_slugs(),
        created_at: Timestamp(row.created_at),
        expires_at: Timestamp(row.expires_at),
        accepted_at: row.accepted_at.map(Timestamp),
        email_delivery: if row.sends_email() {
            EmailDelivery::parse(&row.email_delivery).ok_or_else(Problem::internal)?
        } else {
            EmailDelivery::None
        },
        locale: row.locale(),
        redirect_url: row.redirect_url.clone(),
        url: None,
    })
}

/// The answer to the request that created or resent an invitation: with its link when
/// the product delivers it, since nothing else will ever show it.
fn issued(ctx: &Ctx, row: &InvitationRow, token: &InviteToken) -> Result<Invitation, Problem> {
    let mut invitation = invitation_of(row, ctx.now)?;
    if !row.sends_email() {
        invitation.url = Some(token.link(&ctx.cfg.public_url));
    }
    Ok(invitation)
}

/// Most teams one invitation may name.
const TEAMS_LIMIT: usize = 20;

/// One invitation asked for, as read from a body.
struct Item {
    email: Email,
    role: RoleKey,
    grants: Vec<(String, Level)>,
    /// Slugs of teams joined on acceptance.
    teams: Vec<String>,
    metadata: Object,
    options: Options,
}

/// How an invitation is delivered and shown, as asked (defaults filled in).
struct Options {
    /// `None`: `INVITE_TTL_SECONDS`.
    expires_in: Option<i64>,
    redirect_url: Option<String>,
    locale: Locale,
    send_email: bool,
}

/// Reads `expires_in`, `redirect_url`, `locale` and `send_email`.
fn read_options(body: &mut Fields, app_url: &str) -> Slot<Options> {
    let expires_in = body.optional("expires_in", integer(EXPIRES_IN));
    let redirect_url = body.optional("redirect_url", string(|s| parse_redirect_url(app_url, s)));
    let locale = body.optional("locale", one_of(Locale::parse, Locale::NAMES));
    let send_email = body.optional("send_email", boolean);
    Some(Options {
        expires_in: expires_in?,
        redirect_url: redirect_url?,
        locale: locale?.unwrap_or_default(),
        send_email: send_email?.unwrap_or(true),
    })
}

/// Reads `grants: [{resource_id, level}]`, naming each bad element's field.
fn parse_grants(items: Vec<Value>, errors: &mut Vec<FieldError>) -> Vec<(String, Level)> {
    let mut grants = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(map) = item else {
            errors.push(FieldError::new(format!("grants[{i}]"), "must be an object"));
            continue;
        };
        let mut fields = Fields::from_map(map);
        let resource = fields.required("resource_id", string(|s| Ok(s.to_owned())));
        let level = fields.required("level", one_of(Level::parse, Level::NAMES));
        for e in fields.into_errors() {
            errors.push(FieldError::new(
                format!("grants[{i}].{}", e.field),
                e.message,
            ));
        }
        if let (Some(resource), Some(level)) = (resource, level) {
            grants.push((resource, level));
        }
    }
    grants
}

/// The membership's metadata an invitation carries: an object within the limits.
fn invitation_metadata(value: &Value) -> Result<Object, String> {
    metadata::apply(&Object::new(), &metadata::patch(value)?)
}

/// Reads one invitation, from a request's body or a bulk item, naming every bad field.
fn read_item(mut body: Fields, app_url: &str) -> Result<Item, Problem> {
    let email = body.required("email", string(Email::parse));
    let role = body.required("role", string(parse_invitation_role));
    let grants = body
        .optional("grants", array(100))
        .map(Option::unwrap_or_default);
    let teams = body
        .optional("teams", strings(TEAMS_LIMIT))
        .map(Option::unwrap_or_default);
    let metadata = body
        .optional("metadata", invitation_metadata)
        .map(Option::unwrap_or_default);
    let options = read_options(&mut body, app_url);
    let mut errors = Vec::new();
    let grants = grants.map(|g| parse_grants(g, &mut errors));
    for e in errors {
        body.error(e.field, e.message);
    }
    let (email, role, grants, metadata, (options, teams)) =
        body.finish((email, role, grants, metadata, options.zip(teams)))?;
    Ok(Item {
        email,
        role,
        grants,
        teams,
        metadata,
        options,
    })
}

/// `POST /v1/orgs/{slug}/invitations`
/// `{email, role, grants?, metadata?, expires_in?, redirect_url?, locale?, send_email?}`
pub async fn create(ctx: &Ctx) -> Answer {
    let item = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)
        .and_then(|body| read_item(body, &ctx.cfg.app_url));
    let item = auth::valid(ctx, item).await?;
    let (batch, query) = auth::begin(ctx)?;
    let mut outcomes = invite(ctx, batch, query, vec![Ok(item)]).await?;
    match outcomes.pop() {
        Some(Ok(invitation)) => json(201, &invitation),
        Some(Err(problem)) => Err(problem),
        None => Err(Problem::internal()),
    }
}

/// `POST /v1/orgs/{slug}/invitations/bulk` `{invitations: [{email, role, …}]}` (at most
/// 100, each with the options of a single invitation), each judged on its own.
pub async fn bulk(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let list = body.required("invitations", array(BULK_LIMIT));
            let (list,) = body.finish((list,))?;
            if list.is_empty() {
                return Err(Problem::invalid_field("invitations", "must not be empty"));
            }
            // What is in an item is judged item by item; an item that is no object at all
            // makes the request malformed.
            let mut items = Vec::with_capacity(list.len());
            let mut malformed = Vec::new();
            for (i, item) in list.into_iter().enumerate() {
                match item {
                    Value::Object(map) => items.push(map),
                    _ => malformed.push(FieldError::new(
                        format!("invitations[{i}]"),
                        "must be an object",
                    )),
                }
            }
            if malformed.is_empty() {
                Ok(items)
            } else {
                Err(Problem::invalid(malformed))
            }
        });
    let list = auth::valid(ctx, body).await?;
    let (batch, query) = auth::begin(ctx)?;
    let mut raw_emails = Vec::with_capacity(list.len());
    let items: Vec<Result<Item, Problem>> = list
        .into_iter()
        .map(|map| {
            raw_emails.push(map.get("email").and_then(Value::as_str).map(str::to_owned));
            read_item(Fields::from_map(map), &ctx.cfg.app_url)
        })
        .collect();
    let outcomes = invite(ctx, batch, query, items).await?;
    let results = outcomes
        .into_iter()
        .zip(raw_emails)
        .map(|(outcome, raw)| match outcome {
            Ok(invitation) => BulkInvitationResult {
                email: Some(invitation.email.clone()),
                invitation: Some(invitation),
                error: None,
            },
            Err(problem) => BulkInvitationResult {
                email: raw,
                invitation: None,
                error: Some(problem.body()),
            },
        })
        .collect();
    json(200, &BulkInvitationResults { results })
}

/// Judges and creates invitations; one outcome per item, in order.
async fn invite(
    ctx: &Ctx,
    mut batch: Batch,
    query: crate::store::principal::CallerQuery,
    items: Vec<Result<Item, Problem>>,
) -> Result<Vec<Result<Invitation, Problem>>, Problem> {
    let emails: Vec<&str> = items
        .iter()
        .filter_map(|i| i.as_ref().ok().map(|i| i.email.as_str()))
        .collect();
    let resource_ids: Vec<&str> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .flat_map(|i| i.grants.iter().map(|g| g.0.as_str()))
        .collect();
    let team_slugs: Vec<&str> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .flat_map(|i| i.teams.iter().map(String::as_str))
        .collect();
    let state = store::invite_state(
        &mut batch,
        ctx.param("slug"),
        &emails,
        &resource_ids,
        &team_slugs,
    );
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    // Whoever may not invite anyone learns it once, not once per address.
    authorize(&caller.actor, Action::ManageInvitation)?;
    let roles = catalogue(&results.all(state.roles)?)?;
    let plan = caller.org.plan()?;
    let seats_used = results.first(state.seats_used)?.map_or(0, |c| c.n);
    let seats = Seats::new(plan, caller.org.extra_seats, seats_used, 0);
    let pending = results.all(state.pending)?;
    let stale_digests: Vec<String> = pending.iter().map(|p| p.token_hash.clone()).collect();
    let mut admissions = Admissions::new(InviteFacts {
        plan,
        seats,
        members: results
            .all(state.members)?
            .into_iter()
            .map(|r| r.email)
            .collect(),
        pending: pending
            .into_iter()
            .map(|p| {
                let invitation = PendingInvitation {
                    id: p.id,
                    expires_at: Timestamp(p.expires_at),
                };
                (p.email, invitation)
            })
            .collect(),
        resources: results
            .all(state.resources)?
            .into_iter()
            .map(|r| r.id)
            .collect(),
        roles,
        teams: results
            .all(state.teams)?
            .into_iter()
            .map(|t| (t.slug, t.id))
            .collect(),
        allowed_domains: caller.org.allowed_email_domains(),
        now: ctx.now,
    });
    let judged: Vec<Result<(NewInvitation, InviteToken), Problem>> = items
        .into_iter()
        .map(|item| {
            let item = item?;
            let admission = admissions.admit(
                &caller.actor,
                item.email.as_str(),
                &item.role,
                &item.grants,
                &item.teams,
            )?;
            let def = admissions.role(&item.role)?;
            // The token is minted only for those admitted.
            let token = InviteToken::generate().map_err(|_| Problem::internal())?;
            let options = item.options;
            let lasts = options.expires_in.unwrap_or(ctx.cfg.invite_ttl_seconds);
            Ok((
                NewInvitation {
                    id: crate::domain::values::new_id(),
                    email: item.email,
                    role: item.role,
                    def,
                    grants: item.grants,
                    team_ids: admission.team_ids,
                    metadata: item.metadata,
                    token_digest: token.digest(),
                    expires_at: ctx.now.plus(lasts),
                    expires_in: options.expires_in,
                    redirect_url: options.redirect_url,
                    locale: options.locale,
                    send_email: options.send_email,
                    replaces_expired: admission.replaces_expired,
                },
                token,
            ))
        })
        .collect();
    let seats = SeatCheck {
        org_id: &caller.org.id,
        plan: &caller.org.plan,
        extra_seats: caller.org.extra_seats,
        total: seats.total,
    };
    let delivery = first_send(ctx);
    let inviter = Inviter::of(&caller);
    let admitted: Vec<&NewInvitation> = judged
        .iter()
        .filter_map(|j| j.as_ref().ok().map(|j| &j.0))
        .collect();
    let mut created: HashMap<String, Result<InvitationRow, Problem>> = HashMap::new();
    if !admitted.is_empty() {
        // All together when nothing changed since the read; one by one if a guard objects,
        // so that one address's conflict does not sink the others.
        let together = write(ctx, &caller, &seats, &inviter, &admitted, delivery).await;
        match together {
            Ok(rows) => created.extend(rows.into_iter().map(|r| (r.id.clone(), Ok(r)))),
            Err(problem) if problem.code == Code::Internal => return Err(problem),
            Err(_) => {
                for one in &admitted {
                    let outcome = write(ctx, &caller, &seats, &inviter, &[*one], delivery)
                        .await
                        .and_then(|mut rows| rows.pop().ok_or_else(Problem::internal));
                    created.insert(one.id.clone(), outcome);
                }
            }
        }
    }
    ctx.kv.forget_invitations(&stale_digests).await;

    let org = PreviewOrg::from(&caller.org);
    let mut outcomes = Vec::with_capacity(judged.len());
    let mut to_send = Vec::new();
    for judged in judged {
        outcomes.push(match judged {
            Err(problem) => Err(problem),
            Ok((new, token)) => match created.remove(&new.id) {
                Some(Ok(row)) => {
                    to_send.push((row.clone(), token));
                    Ok(row)
                }
                Some(Err(problem)) => Err(explain_guard(problem, new.email.as_str())),
                None => Err(Problem::internal()),
            },
        });
    }
    let mails: Vec<InvitationMail> = to_send
        .iter()
        .map(|(row, token)| InvitationMail {
            invitation: row,
            org: &org,
            token,
            replaces: None,
        })
        .collect();
    let deliveries = invite_mail::send_first(&ctx.kv, &ctx.cfg, &ctx.db, &mails, ctx.now).await;
    let tokens: HashMap<&str, &InviteToken> = to_send
        .iter()
        .map(|(row, token)| (row.id.as_str(), token))
        .collect();
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            outcome.and_then(|mut row| {
                if let Some(delivery) = deliveries.get(&row.id) {
                    row.email_delivery = (*delivery).to_owned();
                }
                let token = tokens.get(row.id.as_str()).ok_or_else(Problem::internal)?;
                issued(ctx, &row, token)
            })
        })
        .collect())
}

/// Writes invitations in one batch and reads them back.
async fn write(
    ctx: &Ctx,
    caller: &Caller,
    seats: &SeatCheck<'_>,
    inviter: &Inviter<'_>,
    invitations: &[&NewInvitation],
    delivery: FirstSend,
) -> Result<Vec<InvitationRow>, Problem> {
    let mut batch = crate::store::principal::write_batch(caller);
    store::create(
        &mut batch,
        caller,
        seats,
        inviter,
        invitations,
        delivery,
        ctx.now,
    );
    let ids: Vec<&str> = invitations.iter().map(|i| i.id.as_str()).collect();
    let rows = store::by_ids(&mut batch, &ids);
    batch.run(&ctx.db).await?.all(rows)
}

/// Whether a new invitation's email goes to the provider or, without one, to the log.
fn first_send(ctx: &Ctx) -> FirstSend {
    if ctx.cfg.email.api_url.is_some() {
        FirstSend::Provider
    } else {
        FirstSend::Log
    }
}

/// A guard's refusal, with a detail naming the address.
fn explain_guard(problem: Problem, email: &str) -> Problem {
    match problem.code {
        Code::AlreadyMember => already_member(email),
        Code::InvitationPending => invitation_pending(email),
        Code::SeatLimitReached => Problem::new(
            Code::SeatLimitReached,
            "All seats are taken. Remove a member, buy extra seats or upgrade the plan.",
        ),
        _ => problem,
    }
}

/// Reads the organization's invitation `{id}` with the caller's standing.
async fn find(ctx: &Ctx) -> Result<(Caller, Option<InvitationRow>), Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let id = ctx.param("id");
    let row = is_id(id).then(|| store::by_id(&mut batch, ctx.param("slug"), id));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let row = match row {
        Some(row) => results.first(row)?,
        None => None,
    };
    Ok((caller, row))
}

fn not_found() -> Problem {
    Problem::not_found("invitation")
}

/// `GET /v1/orgs/{slug}/invitations?status=…`
pub async fn list(ctx: &Ctx) -> Answer {
    json(200, &listing(ctx).await?.1)
}

/// The page of invitations the request asks for, with the caller who reads it.
pub async fn listing(ctx: &Ctx) -> Result<(Caller, List<Invitation>), Problem> {
    let filter = match ctx.query("status") {
        None | Some("pending") => Ok(store::Filter::Status(Status::Pending)),
        Some("all") => Ok(store::Filter::All),
        Some(s) => Status::parse(s).map(store::Filter::Status).ok_or_else(|| {
            let names = Status::ALL.map(Status::as_str);
            Problem::invalid_field(
                "status",
                format!("must be one of {}, all", names.join(", ")),
            )
        }),
    };
    let input = ctx
        .page()
        .and_then(|page| filter.map(|filter| (page, filter)));
    let (page, filter) = auth::valid(ctx, input).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let rows = store::list(
        &mut batch,
        ctx.param("slug"),
        filter,
        ctx.now,
        page.after,
        page.fetch(),
    );
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewInvitations)?;
    let rows = results.all(rows)?;
    let list = page.envelope(rows, |r| r.seq, |r| invitation_of(r, ctx.now))?;
    Ok((caller, list))
}

/// `GET /v1/orgs/{slug}/invitations/{id}`
pub async fn get(ctx: &Ctx) -> Answer {
    let (caller, row) = find(ctx).await?;
    authorize(&caller.actor, Action::ViewInvitations)?;
    let row = row.ok_or_else(not_found)?;
    json(200, &invitation_of(&row, ctx.now)?)
}

/// `POST /v1/orgs/{slug}/invitations/{id}/resend` — a new token (the old link stops
/// working), a new expiry as long as the first, the email again (or, for an invitation the
/// product delivers, the new link in the answer). At most once a minute per invitation.
pub async fn resend(ctx: &Ctx) -> Answer {
    let (caller, row) = find(ctx).await?;
    authorize(&caller.actor, Action::ManageInvitation)?;
    let row = row.ok_or_else(not_found)?;
    row.status_at(ctx.now)?.require_pending()?;
    if let Some(wait) = resend_wait(row.resent_at.map(Timestamp), ctx.now) {
        return Err(Problem::rate_limited(wait));
    }
    let token = InviteToken::generate().map_err(|_| Problem::internal())?;
    let digest = token.digest();
    // As long again as when it was created.
    let expires_at = ctx
        .now
        .plus(row.expires_in.unwrap_or(ctx.cfg.invite_ttl_seconds));
    let delivery = if row.sends_email() {
        first_send(ctx)
    } else {
        FirstSend::None
    };
    let mut batch = crate::store::principal::write_batch(&caller);
    store::resend(
        &mut batch, &caller, &row, &digest, expires_at, delivery, ctx.now,
    );
    let fresh = store::by_id(&mut batch, &caller.org.slug, &row.id);
    let results = batch.run(&ctx.db).await?;
    let mut fresh = results.first(fresh)?.ok_or_else(Problem::internal)?;
    let mail = InvitationMail {
        invitation: &fresh,
        org: &PreviewOrg::from(&caller.org),
        token: &token,
        replaces: Some(&row.token_hash),
    };
    let deliveries = invite_mail::send_first(&ctx.kv, &ctx.cfg, &ctx.db, &[mail], ctx.now).await;
    if let Some(delivery) = deliveries.get(&fresh.id) {
        fresh.email_delivery = (*delivery).to_owned();
    }
    json(200, &issued(ctx, &fresh, &token)?)
}

/// `DELETE /v1/orgs/{slug}/invitations/{id}` — canceled; the link dies at once.
pub async fn cancel(ctx: &Ctx) -> Answer {
    let (caller, row) = find(ctx).await?;
    authorize(&caller.actor, Action::ManageInvitation)?;
    let row = row.ok_or_else(not_found)?;
    row.status_at(ctx.now)?.require_pending()?;
    store::cancel(&ctx.db, &caller, &row, ctx.now).await?;
    ctx.kv
        .forget_invitations(std::slice::from_ref(&row.token_hash))
        .await;
    no_content()
}
