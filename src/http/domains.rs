//! Verified domains (added, verified over DNS, their enrollment set, removed — with
//! `org.update`), joining an organization through one (at once or by request), the
//! requests members managers approve or deny, and the organizations suggested to someone
//! by their verified email's domain.

use super::body::{one_of, string, strings, Fields};
use super::member_view::member_of;
use super::{auth, json, no_content, Answer, Ctx};
use crate::api::domains::{
    Domain, JoinRequest, JoinRequestRef, SuggestedOrganization, Verification, VerificationType,
};
use crate::api::events::MemberAddedData;
use crate::api::invitations::OrgSummary;
use crate::api::List;
use crate::domain::domains::{
    email_domain, new_challenge, parse_enrollment_role, record_name, require_plan, DomainName,
    DomainStatus, Found, JoinRequestStatus,
};
use crate::domain::joining::{Enrollment, JoinedVia};
use crate::domain::jwt::Identity;
use crate::domain::plan::{seat_limit_reached, Plan, Seats};
use crate::domain::policy::{authorize, Action, Actor, RoleDef};
use crate::domain::values::{is_id, new_id, RoleKey, Slug};
use crate::domain::{Code, Problem, Timestamp};
use crate::store::domains::{self as store, DomainRow, EnrollmentChange, JoinRequestRow, JoinView};
use crate::store::invitations::SeatCheck;
use crate::store::principal::{upsert_user, Caller};
use crate::store::roles::{catalogue, custom};
use crate::store::{members, Batch};

/// Most teams a domain's joiners are put in.
const TEAMS_LIMIT: usize = 20;

fn domain_of(row: &DomainRow) -> Result<Domain, Problem> {
    Ok(Domain {
        id: row.id.clone(),
        domain: row.domain.clone(),
        status: row.status()?,
        verification: Verification {
            kind: VerificationType::DnsTxt,
            name: record_name(&row.domain),
            value: row.challenge.clone(),
        },
        enrollment: row.enrollment()?,
        role: row.role()?,
        teams: row.team_slugs(),
        verified_at: row.verified_at.map(Timestamp),
        last_checked_at: row.last_checked_at.map(Timestamp),
        created_at: Timestamp(row.created_at),
    })
}

fn join_request_of(row: &JoinRequestRow) -> Result<JoinRequest, Problem> {
    Ok(JoinRequest {
        id: row.id.clone(),
        user_id: row.user_id.clone(),
        email: row.email.clone(),
        name: row.name.clone(),
        status: row.status()?,
        created_at: Timestamp(row.created_at),
    })
}

fn no_such_domain() -> Problem {
    Problem::not_found("domain")
}

fn domain_taken(domain: &str) -> Problem {
    Problem::new(
        Code::DomainTaken,
        format!("`{domain}` is verified by another organization."),
    )
}

/// The caller allowed to manage domains, on a plan that has them.
pub fn require_domains(caller: &Caller) -> Result<(), Problem> {
    authorize(&caller.actor, Action::UpdateOrg)?;
    require_plan(caller.org.plan()?)
}

/// `POST /v1/orgs/{slug}/domains` `{domain}` — 201 with the record to publish; a domain the
/// organization has already is answered 200 as it is.
pub async fn add(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let domain = body.required("domain", string(|s| Ok(s.to_owned())));
            let (domain,) = body.finish((domain,))?;
            DomainName::parse(&domain).map_err(|refused| refused.problem("domain"))
        });
    let domain = auth::valid(ctx, body).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let slug = ctx.param("slug");
    let existing = store::named(&mut batch, slug, domain.as_str());
    let taken = store::taken_elsewhere(&mut batch, slug, domain.as_str());
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    require_domains(&caller)?;
    if let Some(row) = results.first(existing)? {
        return json(200, &domain_of(&row)?);
    }
    if results.first(taken)?.is_some_and(|t| t.yes != 0) {
        return Err(domain_taken(domain.as_str()));
    }
    let challenge = new_challenge().map_err(|_| Problem::internal())?;
    let row = store::add(
        &ctx.db,
        &caller,
        &new_id(),
        domain.as_str(),
        &challenge,
        ctx.now,
    )
    .await
    .map_err(|p| match p.code {
        Code::DomainTaken => domain_taken(domain.as_str()),
        _ => p,
    })?;
    json(201, &domain_of(&row)?)
}

/// `GET /v1/orgs/{slug}/domains`
pub async fn list(ctx: &Ctx) -> Answer {
    json(200, &listing(ctx).await?)
}

/// The page of domains the request asks for.
pub async fn listing(ctx: &Ctx) -> Result<List<Domain>, Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let rows = store::list(&mut batch, ctx.param("slug"), page.after, page.fetch());
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    require_domains(&caller)?;
    let rows = results.all(rows)?;
    page.envelope(rows, |r| r.seq, domain_of)
}

/// The caller and the domain `{id}` of the path, with what else `more` adds to the batch.
async fn caller_and_domain<T>(
    ctx: &Ctx,
    more: impl FnOnce(&mut Batch) -> T,
) -> Result<(Caller, DomainRow, T, crate::store::Results), Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let id = ctx.param("id");
    let row = is_id(id).then(|| store::one(&mut batch, ctx.param("slug"), id));
    let extra = more(&mut batch);
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    require_domains(&caller)?;
    let row = match row {
        Some(row) => results.first(row)?,
        None => None,
    };
    Ok((caller, row.ok_or_else(no_such_domain)?, extra, results))
}

/// `POST /v1/orgs/{slug}/domains/{id}/verify` — asks DNS for the TXT record now.
pub async fn verify(ctx: &Ctx) -> Answer {
    let (caller, row, (), _) = caller_and_domain(ctx, |_| ()).await?;
    if row.status()? == DomainStatus::Verified {
        return json(200, &domain_of(&row)?);
    }
    let record = record_name(&row.domain);
    let values = crate::dns::txt(&ctx.cfg.dns_resolver_url, &record)
        .await
        .map_err(|_| {
            Problem::new(
                Code::DnsUnavailable,
                "The DNS resolver did not answer usably; nothing was changed. Try again shortly.",
            )
        })?;
    match Found::of(values, &row.challenge) {
        Found::Match => {}
        found => return Err(found.failure(&record, &row.challenge)),
    }
    let row = store::verify(&ctx.db, &caller, &row, ctx.now)
        .await
        .map_err(|p| match p.code {
            Code::DomainTaken => domain_taken(&row.domain),
            _ => p,
        })?;
    json(200, &domain_of(&row)?)
}

/// A domain's enrollment as a request changes it.
struct Patch {
    enrollment: Option<Enrollment>,
    role: Option<RoleKey>,
    teams: Option<Vec<String>>,
}

fn parse_patch(ctx: &Ctx) -> Result<Patch, Problem> {
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let enrollment = body.optional("enrollment", one_of(Enrollment::parse, Enrollment::NAMES));
    let role = body.optional("role", string(parse_enrollment_role));
    let teams = body.optional("teams", strings(TEAMS_LIMIT));
    let (enrollment, role, teams) = body.finish((enrollment, role, teams))?;
    if enrollment.is_none() && role.is_none() && teams.is_none() {
        return Err(Problem::invalid_field(
            "enrollment",
            "is required unless role or teams is given",
        ));
    }
    if let Some(teams) = &teams {
        for (i, slug) in teams.iter().enumerate() {
            Slug::parse(slug).map_err(|e| Problem::invalid_field(&format!("teams[{i}]"), e))?;
        }
    }
    Ok(Patch {
        enrollment,
        role,
        teams,
    })
}

/// `PATCH /v1/orgs/{slug}/domains/{id}` `{enrollment?, role?, teams?}` — verified domains
/// only; values already set change and record nothing.
pub async fn update(ctx: &Ctx) -> Answer {
    let patch = auth::valid(ctx, parse_patch(ctx)).await?;
    let slug = ctx.param("slug");
    let asked_teams = patch.teams.clone().unwrap_or_default();
    let (caller, row, (roles, teams), results) = caller_and_domain(ctx, |batch| {
        (
            custom(batch, slug),
            store::teams_named(batch, slug, &asked_teams),
        )
    })
    .await?;
    if row.status()? != DomainStatus::Verified {
        return Err(Problem::new(
            Code::DomainNotVerified,
            "Only a verified domain lets people join; verify it first.",
        ));
    }
    let role = match patch.role {
        Some(role) => role,
        None => row.role()?,
    };
    let def = catalogue(&results.all(roles)?)?.resolve("role", &role)?;
    caller.org.plan()?.require_role_def(def)?;
    authorize(&caller.actor, Action::Invite(def))?;
    let (team_ids, slugs) = match patch.teams {
        Some(asked) => {
            let found = results.all(teams)?;
            let mut ids = Vec::with_capacity(asked.len());
            let mut slugs = Vec::with_capacity(asked.len());
            for (i, slug) in asked.iter().enumerate() {
                let team = found.iter().find(|t| &t.slug == slug).ok_or_else(|| {
                    Problem::invalid_field(
                        &format!("teams[{i}]"),
                        "is not a team of this organization",
                    )
                })?;
                if !ids.contains(&team.id) {
                    ids.push(team.id.clone());
                    slugs.push(team.slug.clone());
                }
            }
            slugs.sort();
            (serde_json::Value::from(ids).to_string(), slugs)
        }
        None => (row.teams.clone(), row.team_slugs()),
    };
    let enrollment = patch.enrollment.unwrap_or(row.enrollment()?);
    if enrollment == row.enrollment()? && role == row.role()? && slugs == row.team_slugs() {
        return json(200, &domain_of(&row)?);
    }
    let change = EnrollmentChange {
        enrollment,
        role: (&role, def),
        teams: (&team_ids, &slugs),
    };
    let row = store::update(&ctx.db, &caller, &row, &change, ctx.now).await?;
    json(200, &domain_of(&row)?)
}

/// `DELETE /v1/orgs/{slug}/domains/{id}` — nobody joins through it any more; join requests
/// already made stay to be decided.
pub async fn remove(ctx: &Ctx) -> Answer {
    let (caller, row, (), _) = caller_and_domain(ctx, |_| ()).await?;
    store::remove(&ctx.db, &caller, &row, ctx.now).await?;
    no_content()
}

/// The domain of the signed-in user's email, while it is verified.
fn verified_domain(identity: &Identity) -> Option<String> {
    identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified)
        .and_then(email_domain)
}

/// `GET /v1/me/suggested-organizations`
pub async fn suggested(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let mut batch = Batch::new();
    upsert_user(&mut batch, &identity, ctx.now);
    let domain = verified_domain(&identity);
    let rows = domain
        .as_deref()
        .map(|d| store::suggestions(&mut batch, d, &identity.user_id));
    let results = batch.run(&ctx.db).await?;
    let rows = match rows {
        Some(rows) => results.all(rows)?,
        None => Vec::new(),
    };
    let data = rows
        .into_iter()
        .map(|r| {
            let join_request = match (r.request_id, r.request_status.as_deref()) {
                (Some(id), Some(status)) => Some(JoinRequestRef {
                    id,
                    status: JoinRequestStatus::parse(status).ok_or_else(Problem::internal)?,
                }),
                _ => None,
            };
            Ok(SuggestedOrganization {
                organization: OrgSummary {
                    slug: r.slug,
                    name: r.name,
                    logo_url: r.logo_url,
                },
                enrollment: Enrollment::parse(&r.enrollment).ok_or_else(Problem::internal)?,
                join_request,
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    json(
        200,
        &List {
            data,
            next_cursor: None,
        },
    )
}

fn already_member() -> Problem {
    Problem::new(
        Code::AlreadyMember,
        "You are already a member of this organization.",
    )
}

/// The seats a joiner takes one of, checked now and guarded in the write.
fn seats_for(view: &JoinView) -> Result<(Plan, Seats), Problem> {
    let plan = Plan::parse(&view.org_plan).ok_or_else(Problem::internal)?;
    let seats = Seats::new(plan, view.org_extra_seats, view.seats_used, 0);
    Ok((plan, seats))
}

/// `POST /v1/orgs/{slug}/join` — `auto_join`: 200 Member; `request`: 202 JoinRequest (200
/// with the pending one when asked again).
pub async fn join(ctx: &Ctx) -> Answer {
    let identity = auth::user(ctx).await?;
    let no_way_in = || Problem::not_found("organization open to your email's domain");
    let slug = Slug::parse(ctx.param("slug")).map_err(|_| no_way_in())?;
    let domain = verified_domain(&identity);
    let mut batch = Batch::new();
    upsert_user(&mut batch, &identity, ctx.now);
    let view = store::join_view(
        &mut batch,
        slug.as_str(),
        &identity.user_id,
        domain.as_deref(),
        true,
    );
    let pending = store::pending_request(&mut batch, slug.as_str(), &identity.user_id);
    let results = batch.run(&ctx.db).await?;
    let view = results.first(view)?.ok_or_else(no_way_in)?;
    if view.is_member != 0 {
        return Err(already_member());
    }
    let (Some(enrolling), Some(email)) = (view.domain.clone(), identity.email.as_deref()) else {
        return Err(no_way_in());
    };
    match enrolling.enrollment()? {
        Enrollment::Off => Err(no_way_in()),
        Enrollment::Request => {
            if let Some(row) = results.first(pending)? {
                return json(200, &join_request_of(&row)?);
            }
            let requester = store::Requester {
                user_id: &identity.user_id,
                email,
                name: identity.name.as_deref(),
            };
            let row = store::request(&ctx.db, &view, &enrolling, &requester, &new_id(), ctx.now)
                .await
                .map_err(|p| match p.code {
                    Code::AlreadyMember => already_member(),
                    _ => p,
                })?;
            json(202, &join_request_of(&row)?)
        }
        Enrollment::AutoJoin => {
            let (plan, seats) = seats_for(&view)?;
            let (role, def) = enrolling.role()?;
            plan.require_role_def(def)?;
            seats.require_free_seat()?;
            let mut batch = Batch::new();
            let added = MemberAddedData::joining(
                &identity.user_id,
                (identity.email.clone(), identity.name.clone()),
                &role,
                JoinedVia::Domain,
                ctx.now,
            );
            let check = SeatCheck {
                org_id: &view.org_id,
                plan: &view.org_plan,
                extra_seats: view.org_extra_seats,
                total: seats.total,
            };
            let member = store::auto_join(
                &mut batch,
                &view,
                &enrolling,
                &identity.user_id,
                &check,
                added,
                ctx.now,
            )?;
            let results = batch
                .run(&ctx.db)
                .await
                .map_err(|p| joining_refused(p, seats.total))?;
            let row = results.first(member)?.ok_or_else(Problem::internal)?;
            let actor = Actor::User {
                id: identity.user_id.clone(),
                role,
                def,
            };
            json(200, &member_of(&row, &actor)?)
        }
    }
}

/// The answers for a join refused by a guard, with their details.
fn joining_refused(p: Problem, total: i64) -> Problem {
    match p.code {
        Code::SeatLimitReached => seat_limit_reached(total),
        Code::AlreadyMember => already_member(),
        _ => p,
    }
}

/// The `?status=` of the join requests' list: `pending` when absent, `all` for every one.
fn status_filter(ctx: &Ctx) -> Result<Option<JoinRequestStatus>, Problem> {
    match ctx.query("status") {
        None => Ok(Some(JoinRequestStatus::Pending)),
        Some("all") => Ok(None),
        Some(s) => JoinRequestStatus::parse(s).map(Some).ok_or_else(|| {
            let names = JoinRequestStatus::ALL.map(JoinRequestStatus::as_str);
            Problem::invalid_field(
                "status",
                format!("must be one of {}, all", names.join(", ")),
            )
        }),
    }
}

/// `GET /v1/orgs/{slug}/join-requests?status=…`
pub async fn list_requests(ctx: &Ctx) -> Answer {
    json(200, &requests(ctx).await?)
}

/// The page of join requests the request asks for (pending ones unless it says).
pub async fn requests(ctx: &Ctx) -> Result<List<JoinRequest>, Problem> {
    let input = ctx
        .page()
        .and_then(|page| status_filter(ctx).map(|status| (page, status)));
    let (page, status) = auth::valid(ctx, input).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let rows = store::requests(
        &mut batch,
        ctx.param("slug"),
        status,
        page.after,
        page.fetch(),
    );
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewJoinRequests)?;
    let rows = results.all(rows)?;
    page.envelope(rows, |r| r.seq, join_request_of)
}

/// The caller, allowed to decide join requests, and the request `{id}` of the path.
async fn caller_and_request(ctx: &Ctx) -> Result<(Caller, JoinRequestRow), Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let id = ctx.param("id");
    let row = is_id(id).then(|| store::request_in_org(&mut batch, ctx.param("slug"), id));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::DecideJoinRequest)?;
    let row = match row {
        Some(row) => results.first(row)?,
        None => None,
    };
    Ok((
        caller,
        row.ok_or_else(|| Problem::not_found("join request"))?,
    ))
}

fn decided_already(status: JoinRequestStatus) -> Problem {
    Problem::new(
        Code::Conflict,
        format!("This join request was {} already.", status.as_str()),
    )
}

/// `POST /v1/orgs/{slug}/join-requests/{id}/approve` — the requester becomes a member with
/// the role and teams of the organization's verified domain for their email (`member` and
/// no teams when there is none any more).
pub async fn approve(ctx: &Ctx) -> Answer {
    let (caller, request) = caller_and_request(ctx).await?;
    let status = request.status()?;
    if status == JoinRequestStatus::Denied {
        return Err(decided_already(status));
    }
    let mut batch = Batch::new();
    let domain = email_domain(&request.email);
    let view = store::join_view(
        &mut batch,
        &caller.org.slug,
        &request.user_id,
        domain.as_deref(),
        false,
    );
    let member = members::one(&mut batch, &caller.org.id, &request.user_id);
    let results = batch.run(&ctx.db).await?;
    let view = results.first(view)?.ok_or_else(Problem::internal)?;
    if status == JoinRequestStatus::Approved {
        // Approved by a request just before this one: its answer is this one's.
        return match results.first(member)? {
            Some(row) => json(200, &member_of(&row, &caller.actor)?),
            None => Err(decided_already(status)),
        };
    }
    if view.is_member != 0 {
        return Err(already_member_requester());
    }
    let (plan, seats) = seats_for(&view)?;
    let (role, def): (RoleKey, RoleDef) = match &view.domain {
        Some(domain) => domain.role()?,
        None => {
            let member = RoleKey::parse("member").map_err(|_| Problem::internal())?;
            let def = RoleDef::builtin(crate::domain::values::Role::Member);
            (member, def)
        }
    };
    plan.require_role_def(def)?;
    seats.require_free_seat()?;
    let check = SeatCheck {
        org_id: &caller.org.id,
        plan: &view.org_plan,
        extra_seats: view.org_extra_seats,
        total: seats.total,
    };
    let added = MemberAddedData::joining(
        &request.user_id,
        (Some(request.email.clone()), request.name.clone()),
        &role,
        JoinedVia::JoinRequest,
        ctx.now,
    );
    let row = store::approve(
        &ctx.db,
        &caller,
        &request,
        view.domain.as_ref(),
        (&role, def),
        &check,
        added,
        ctx.now,
    )
    .await
    .map_err(|p| match p.code {
        Code::AlreadyMember => already_member_requester(),
        Code::SeatLimitReached => seat_limit_reached(seats.total),
        _ => p,
    })?;
    json(200, &member_of(&row, &caller.actor)?)
}

fn already_member_requester() -> Problem {
    Problem::new(
        Code::AlreadyMember,
        "The requester has become a member meanwhile; deny the request to close it.",
    )
}

/// `POST /v1/orgs/{slug}/join-requests/{id}/deny`
pub async fn deny(ctx: &Ctx) -> Answer {
    let (caller, request) = caller_and_request(ctx).await?;
    match request.status()? {
        JoinRequestStatus::Denied => no_content(),
        JoinRequestStatus::Approved => Err(decided_already(JoinRequestStatus::Approved)),
        JoinRequestStatus::Pending => {
            store::deny(&ctx.db, &caller, &request, ctx.now).await?;
            no_content()
        }
    }
}
