//! Invitations on the organization's side: invite (one or many), list, read, resend,
//! cancel. The token travels only in the email; the answers never carry it.

use super::auth;
use super::body::{array, one_of, string, Fields};
use super::{json, no_content, Answer, Ctx};
use crate::domain::invitation::{check_grants, parse_invitation_role, resend_wait, Status};
use crate::domain::plan::{Plan, Seats};
use crate::domain::policy::{authorize, Action};
use crate::domain::secret::InviteToken;
use crate::domain::values::{is_id, Email, Level, Role};
use crate::domain::{Code, FieldError, Problem, Timestamp};
use crate::email::{self, Delivery};
use crate::store::invitations::{
    self as store, FirstDelivery, InvitationRow, Inviter, NewInvitation, SeatCheck,
};
use crate::store::kv::{Preview, PreviewOrg};
use crate::store::principal::Caller;
use crate::store::Batch;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// Most invitations one bulk request may carry.
pub const BULK_LIMIT: usize = 100;

/// The Invitation object.
pub fn invitation_json(row: &InvitationRow, now: Timestamp) -> Value {
    let status = row
        .status_at(now)
        .map_or(row.status.clone(), |s| s.as_str().to_owned());
    json!({
        "id": row.id,
        "email": row.email,
        "role": row.role,
        "status": status,
        "invited_by": {
            "user_id": row.inviter_user_id,
            "email": row.inviter_email,
            "name": row.inviter_name,
            "api_key_id": row.inviter_key_id,
        },
        "grants": grants_json(&row.grants()),
        "created_at": Timestamp(row.created_at),
        "expires_at": Timestamp(row.expires_at),
        "accepted_at": row.accepted_at.map(Timestamp),
        "email_delivery": row.email_delivery,
    })
}

pub fn grants_json(grants: &[(String, Level)]) -> Value {
    grants
        .iter()
        .map(|(id, level)| json!({"resource_id": id, "level": level}))
        .collect()
}

/// One invitation asked for, as read from a body.
struct Item {
    email: Email,
    role: Role,
    grants: Vec<(String, Level)>,
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
        let level = fields.required("level", one_of(Level::parse, &["read", "write", "admin"]));
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

fn read_item(body: &mut Fields) -> (Option<Email>, Option<Role>, Option<Vec<Value>>) {
    let email = body.required("email", string(Email::parse));
    let role = body.required("role", string(parse_invitation_role));
    let grants = body
        .optional("grants", array(100))
        .map(Option::unwrap_or_default);
    (email, role, grants)
}

/// What the state read says about the addresses being invited.
struct Judge<'a> {
    caller: &'a Caller,
    plan: Plan,
    seats: Seats,
    members: HashSet<String>,
    pending: HashMap<String, store::PendingRow>,
    resources: HashSet<String>,
    expires_at: Timestamp,
    now: Timestamp,
    /// Addresses already admitted by this request (a bulk list may repeat one).
    admitted: HashSet<String>,
}

impl Judge<'_> {
    /// Decides one invitation: the token is minted only for those that pass.
    fn judge(&mut self, item: Item) -> Result<(NewInvitation, InviteToken), Problem> {
        authorize(&self.caller.actor, Action::Invite(item.role))?;
        self.plan.require_role(item.role)?;
        check_grants(
            item.role,
            &item.grants.iter().map(|g| g.1).collect::<Vec<_>>(),
        )?;
        if let Some((i, _)) = item
            .grants
            .iter()
            .enumerate()
            .find(|(_, (id, _))| !self.resources.contains(id))
        {
            return Err(Problem::invalid_field(
                &format!("grants[{i}].resource_id"),
                "is not a resource of this organization",
            ));
        }
        let email = item.email.as_str();
        if self.members.contains(email) {
            return Err(Problem::new(
                Code::AlreadyMember,
                format!("{email} is already a member of this organization."),
            ));
        }
        let stale = match self.pending.get(email) {
            Some(p) if Timestamp(p.expires_at) > self.now => {
                return Err(pending_problem(email));
            }
            Some(p) => Some(p.id.clone()),
            None => None,
        };
        if !self.admitted.insert(email.to_owned()) {
            return Err(pending_problem(email));
        }
        self.seats.require_free_seat()?;
        let token = InviteToken::generate().map_err(|_| Problem::internal())?;
        Ok((
            NewInvitation {
                id: crate::domain::values::new_id(),
                email: item.email,
                role: item.role,
                grants: item.grants,
                token_digest: token.digest(),
                expires_at: self.expires_at,
                replaces_expired: stale,
            },
            token,
        ))
    }
}

fn pending_problem(email: &str) -> Problem {
    Problem::new(
        Code::InvitationPending,
        format!("{email} already has a pending invitation; resend it instead."),
    )
}

/// `POST /v1/orgs/{slug}/invitations` `{email, role, grants?}`
pub async fn create(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let (email, role, grants) = read_item(&mut body);
            let mut errors = Vec::new();
            let grants = grants.map(|g| parse_grants(g, &mut errors));
            for e in errors {
                body.error(e.field, e.message);
            }
            body.finish((email, role, grants))
        });
    let (email, role, grants) = auth::valid(ctx, body).await?;
    let (batch, query) = auth::begin(ctx)?;
    let mut outcomes = invite(
        ctx,
        batch,
        query,
        vec![Ok(Item {
            email,
            role,
            grants,
        })],
    )
    .await?;
    match outcomes.pop() {
        Some(Ok(invitation)) => json(201, &invitation),
        Some(Err(problem)) => Err(problem),
        None => Err(Problem::internal()),
    }
}

/// `POST /v1/orgs/{slug}/invitations/bulk` `{invitations: [{email, role}]}` (at most 100),
/// each judged on its own.
pub async fn bulk(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let list = body.required("invitations", array(BULK_LIMIT));
            let (list,) = body.finish((list,))?;
            if list.is_empty() {
                return Err(Problem::invalid_field("invitations", "must not be empty"));
            }
            Ok(list)
        });
    let list = auth::valid(ctx, body).await?;
    let (batch, query) = auth::begin(ctx)?;
    let mut raw_emails = Vec::with_capacity(list.len());
    let items: Vec<Result<Item, Problem>> = list
        .into_iter()
        .map(|value| {
            raw_emails.push(
                value
                    .get("email")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            );
            let Value::Object(map) = value else {
                return Err(Problem::new(
                    Code::InvalidRequest,
                    "Each invitation must be an object.",
                ));
            };
            let mut fields = Fields::from_map(map);
            let (email, role, grants) = read_item(&mut fields);
            let mut errors = Vec::new();
            let grants = grants.map(|g| parse_grants(g, &mut errors));
            for e in errors {
                fields.error(e.field, e.message);
            }
            let (email, role, grants) = fields.finish((email, role, grants))?;
            Ok(Item {
                email,
                role,
                grants,
            })
        })
        .collect();
    let outcomes = invite(ctx, batch, query, items).await?;
    let results: Vec<Value> = outcomes
        .into_iter()
        .zip(raw_emails)
        .map(|(outcome, raw)| match outcome {
            Ok(invitation) => json!({"email": invitation["email"], "invitation": invitation}),
            Err(problem) => json!({"email": raw, "error": problem.body()}),
        })
        .collect();
    json(200, &json!({"results": results}))
}

/// Judges and creates invitations; one outcome per item, in order.
async fn invite(
    ctx: &Ctx,
    mut batch: Batch,
    query: crate::store::principal::CallerQuery,
    items: Vec<Result<Item, Problem>>,
) -> Result<Vec<Result<Value, Problem>>, Problem> {
    let emails: Vec<&str> = items
        .iter()
        .filter_map(|i| i.as_ref().ok().map(|i| i.email.as_str()))
        .collect();
    let resource_ids: Vec<&str> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .flat_map(|i| i.grants.iter().map(|g| g.0.as_str()))
        .collect();
    let state = store::invite_state(&mut batch, ctx.param("slug"), &emails, &resource_ids);
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    // Whoever may not invite anyone learns it once, not once per address.
    authorize(&caller.actor, Action::Invite(Role::Member))?;
    let plan = caller.org.plan()?;
    let seats_used = results.first(state.seats_used)?.map_or(0, |c| c.n);
    let mut judge = Judge {
        caller: &caller,
        plan,
        seats: Seats::new(plan, caller.org.extra_seats, seats_used, 0),
        members: results
            .all(state.members)?
            .into_iter()
            .map(|r| r.email)
            .collect(),
        pending: results
            .all(state.pending)?
            .into_iter()
            .map(|p| (p.email.clone(), p))
            .collect(),
        resources: results
            .all(state.resources)?
            .into_iter()
            .map(|r| r.id)
            .collect(),
        expires_at: ctx.now.plus(ctx.cfg.invite_ttl_seconds),
        now: ctx.now,
        admitted: HashSet::new(),
    };
    let judged: Vec<Result<(NewInvitation, InviteToken), Problem>> = items
        .into_iter()
        .map(|item| item.and_then(|item| judge.judge(item)))
        .collect();
    let stale_digests: Vec<String> = judge
        .pending
        .values()
        .map(|p| p.token_hash.clone())
        .collect();
    let seats = SeatCheck {
        org_id: &caller.org.id,
        plan: &caller.org.plan,
        extra_seats: caller.org.extra_seats,
        total: judge.seats.total,
    };
    let delivery = first_delivery(ctx);
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
                    let preview = Preview::new(&row, org.clone(), ctx.now);
                    ctx.kv
                        .remember_invitation(&new.token_digest, &preview, ctx.now)
                        .await;
                    to_send.push((row.clone(), token));
                    Ok(row)
                }
                Some(Err(problem)) => Err(explain_guard(problem, new.email.as_str())),
                None => Err(Problem::internal()),
            },
        });
    }
    let deliveries = send_first_emails(ctx, &caller, to_send).await;
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            outcome.map(|mut row| {
                if let Some(delivery) = deliveries.get(&row.id) {
                    row.email_delivery = (*delivery).to_owned();
                }
                invitation_json(&row, ctx.now)
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
    delivery: FirstDelivery,
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
fn first_delivery(ctx: &Ctx) -> FirstDelivery {
    if ctx.cfg.email.api_url.is_some() {
        FirstDelivery::Provider
    } else {
        FirstDelivery::Log
    }
}

/// A guard's refusal, with a detail naming the address.
fn explain_guard(problem: Problem, email: &str) -> Problem {
    match problem.code {
        Code::AlreadyMember => Problem::new(
            Code::AlreadyMember,
            format!("{email} is already a member of this organization."),
        ),
        Code::InvitationPending => pending_problem(email),
        Code::SeatLimitReached => Problem::new(
            Code::SeatLimitReached,
            "All seats are taken. Remove a member, buy extra seats or upgrade the plan.",
        ),
        _ => problem,
    }
}

/// Sends the first email of each new or resent invitation during the request, and records
/// which went out; those that did not stay queued for the scheduled job. Returns each
/// invitation's `email_delivery`.
async fn send_first_emails(
    ctx: &Ctx,
    caller: &Caller,
    invitations: Vec<(InvitationRow, InviteToken)>,
) -> HashMap<String, &'static str> {
    let sends = invitations.iter().map(|(row, token)| async move {
        let (message, key) = email::compose(
            &ctx.cfg.public_url,
            &row.id,
            token,
            &email::Invite {
                org_name: &caller.org.name,
                org_logo_url: caller.org.logo_url.as_deref(),
                inviter_name: row.inviter_name.as_deref(),
                role: &row.role,
                expires_at: Timestamp(row.expires_at),
            },
        );
        (
            row.id.as_str(),
            email::send(&ctx.cfg.email, &row.email, &message, &key).await,
        )
    });
    let results = futures_util::future::join_all(sends).await;
    let mut outcome = HashMap::new();
    let (mut sent, mut failed, mut reason) = (Vec::new(), Vec::new(), String::new());
    for (id, delivery) in &results {
        let state = match delivery {
            Delivery::Sent => {
                sent.push(*id);
                "sent"
            }
            Delivery::Logged => "logged",
            Delivery::Failed(why) => {
                worker::console_warn!("invitation {id}: email not sent ({why}); queued for retry");
                failed.push(*id);
                why.clone_into(&mut reason);
                "queued"
            }
        };
        outcome.insert((*id).to_owned(), state);
    }
    if let Err(e) = store::record_first_delivery(&ctx.db, &sent, &failed, &reason, ctx.now).await {
        worker::console_error!("recording email delivery failed: {e}");
    }
    outcome
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
    let filter = match ctx.query("status") {
        None | Some("pending") => Ok(store::Filter::Status(Status::Pending)),
        Some("all") => Ok(store::Filter::All),
        Some(s) => Status::parse(s).map(store::Filter::Status).ok_or_else(|| {
            Problem::invalid_field(
                "status",
                "must be one of pending, accepted, expired, canceled, declined, all",
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
    json(
        200,
        &page.envelope(rows, |r| r.seq, |r| invitation_json(r, ctx.now)),
    )
}

/// `GET /v1/orgs/{slug}/invitations/{id}`
pub async fn get(ctx: &Ctx) -> Answer {
    let (caller, row) = find(ctx).await?;
    authorize(&caller.actor, Action::ViewInvitations)?;
    let row = row.ok_or_else(not_found)?;
    json(200, &invitation_json(&row, ctx.now))
}

/// `POST /v1/orgs/{slug}/invitations/{id}/resend` — a new token (the old link stops
/// working), a new expiry, the email again. At most once a minute per invitation.
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
    let expires_at = ctx.now.plus(ctx.cfg.invite_ttl_seconds);
    let delivery = first_delivery(ctx);
    let mut batch = Batch::new();
    store::resend(
        &mut batch, &caller, &row, &digest, expires_at, delivery, ctx.now,
    );
    let fresh = store::by_id(&mut batch, &caller.org.slug, &row.id);
    let results = batch.run(&ctx.db).await.map_err(|p| match p.code {
        Code::RateLimited => Problem::rate_limited(60),
        _ => p,
    })?;
    let mut fresh = results.first(fresh)?.ok_or_else(Problem::internal)?;
    ctx.kv
        .forget_invitations(std::slice::from_ref(&row.token_hash))
        .await;
    let org = PreviewOrg::from(&caller.org);
    ctx.kv
        .remember_invitation(&digest, &Preview::new(&fresh, org, ctx.now), ctx.now)
        .await;
    let deliveries = send_first_emails(ctx, &caller, vec![(fresh.clone(), token)]).await;
    if let Some(delivery) = deliveries.get(&fresh.id) {
        fresh.email_delivery = (*delivery).to_owned();
    }
    json(200, &invitation_json(&fresh, ctx.now))
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
