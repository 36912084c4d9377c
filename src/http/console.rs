//! The console over HTTP: the API operation that hands out a one-time link, and the pages
//! under `/console/`: entering with the link, the session cookie, the CSRF check, and each
//! page and form.
//!
//! A session names a person, not a role: every request resolves their standing anew
//! through `auth::principal` and the caller query, as an API request with their JWT would.
//! Pages read through the API handlers' own loaders, and every form is carried out by the
//! API route it stands for (`router::decide`), so the same policy, guards, audit entries
//! and webhooks apply, and a refusal is the API's problem, shown on the page.

use super::body::{string, Fields};
use super::paging::Page;
use super::router::decide;
use super::{auth, billing, integrations, invitations, json, members, teams, usage, Answer, Ctx};
use crate::api::console::ConsoleLink;
use crate::console::{
    self as pages, split_addresses, BillingView, BulkOutcome, Delivery, DomainsView, Frame,
    InvitationsView, MemberView, Notice, RolesView, SeatAdvice, Section, TeamView,
};
use crate::domain::console::{
    cleared_cookie, parse_return_url, session_cookie, session_from_cookies, ConsoleSecret,
    CSRF_FIELD, LINK_SECONDS,
};
use crate::domain::jwt::Identity;
use crate::domain::plan::MAX_EXTRA_SEATS;
use crate::domain::policy::{authorize, Action, Catalogue, RoleDef, TeamRole};
use crate::domain::secret::sha256_hex;
use crate::domain::values::{Role, RoleKey};
use crate::domain::{Code, Problem};
use crate::routes::{resolve, Resolved};
use crate::store::console::{self as store, SessionRow};
use crate::store::principal::{write_batch, Caller, Principal};
use crate::store::{roles, Batch};
use serde_json::{json, Value};
use worker::{Headers, Response};

/// Whether `path` is one of the console's.
pub fn is_console_path(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// `POST /v1/orgs/{slug}/console-links` `{return_url?}` — a one-time link into the console
/// for the member who asks, with their own JWT.
pub async fn create_link(ctx: &Ctx) -> Answer {
    let body = Fields::parse_or_empty(ctx.header("content-type").as_deref(), &ctx.body).and_then(
        |mut body| {
            let return_url = body.optional(
                "return_url",
                string(|s| parse_return_url(&ctx.cfg.app_url, s)),
            );
            body.finish((return_url,))
        },
    );
    let (return_url,) = auth::valid(ctx, body).await?;
    let caller = auth::caller(ctx).await?;
    let Principal::User(identity) = auth::principal(ctx)? else {
        return Err(Problem::forbidden(
            "A console link opens a session as a person; ask for it with the person's own \
             token, not an API key.",
        ));
    };
    let code = ConsoleSecret::generate().map_err(|_| Problem::internal())?;
    let expires_at = ctx.now.plus(LINK_SECONDS);
    let mut batch = write_batch(&caller);
    store::create_code(
        &mut batch,
        &caller,
        &identity,
        &code.digest(),
        return_url.as_deref(),
        expires_at,
    );
    batch.run(&ctx.db).await?;
    json(
        201,
        &ConsoleLink {
            url: code.link(&ctx.cfg.public_url),
            expires_at,
        },
    )
}

/// Answers a request under `/console/`.
pub async fn handle(ctx: &mut Ctx, method: &str, path: &str) -> Answer {
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    let get = matches!(method, "GET" | "HEAD");
    match segments.as_slice() {
        ["style.css"] if get => stylesheet(),
        ["enter", code] if get => enter(ctx, code).await,
        ["logout"] if method == "POST" => logout(ctx).await,
        ["dev", "accept-invite"] if ctx.cfg.dev_sign_in && get => dev_form(ctx),
        ["dev", "accept-invite"] if ctx.cfg.dev_sign_in && method == "POST" => {
            dev_accept(ctx).await
        }
        [slug, section, rest @ ..] if get || method == "POST" => match Section::parse(section) {
            Some(section) => in_session(ctx, method, slug, section, rest).await,
            None => not_found(ctx),
        },
        _ => not_found(ctx),
    }
}

/// The headers of every console answer: never cached or indexed, no referrer (the link's
/// code is in a URL), and the console's policy.
fn dress(ctx: &Ctx, response: Response) -> Answer {
    let headers = response.headers();
    for (name, value) in [
        ("cache-control", "no-store"),
        ("referrer-policy", "no-referrer"),
        ("x-robots-tag", "noindex"),
        (
            "content-security-policy",
            &pages::content_security_policy(&ctx.cfg.console_frame_ancestors),
        ),
    ] {
        headers.set(name, value).map_err(|_| Problem::internal())?;
    }
    Ok(response)
}

fn html(ctx: &Ctx, status: u16, body: String) -> Answer {
    let response = Response::from_html(body)
        .map_err(|_| Problem::internal())?
        .with_status(status);
    dress(ctx, response)
}

/// 303 to `location`, with `cookie` set when given.
fn see_other(ctx: &Ctx, location: &str, cookie: Option<&str>) -> Answer {
    let response = Response::empty()
        .map_err(|_| Problem::internal())?
        .with_status(303);
    let headers = response.headers();
    headers
        .set("location", location)
        .map_err(|_| Problem::internal())?;
    if let Some(cookie) = cookie {
        headers
            .set("set-cookie", cookie)
            .map_err(|_| Problem::internal())?;
    }
    dress(ctx, response)
}

fn message(ctx: &Ctx, status: u16, title: &str, text: &str) -> Answer {
    html(ctx, status, pages::message(title, text))
}

fn not_found(ctx: &Ctx) -> Answer {
    message(
        ctx,
        404,
        "Page not found",
        "There is no such page in the console.",
    )
}

fn session_ended(ctx: &Ctx) -> Answer {
    message(
        ctx,
        401,
        "Your session has ended",
        "Console sessions end after an idle hour, or 8 hours after they began. Open the \
         console again from the app.",
    )
}

/// `/console/style.css`
fn stylesheet() -> Answer {
    let response = Response::ok(pages::STYLE).map_err(|_| Problem::internal())?;
    let headers = response.headers();
    for (name, value) in [
        ("content-type", "text/css; charset=utf-8"),
        ("cache-control", "public, max-age=300"),
    ] {
        headers.set(name, value).map_err(|_| Problem::internal())?;
    }
    Ok(response)
}

/// `GET /console/enter/{code}` — spends the code and opens a session.
async fn enter(ctx: &Ctx, code: &str) -> Answer {
    let gone = || {
        message(
            ctx,
            410,
            "This console link cannot be used",
            "Console links work once, within 5 minutes. Open the console again from the app \
             for a new one.",
        )
    };
    let Some(code) = ConsoleSecret::parse(code) else {
        return gone();
    };
    let token = ConsoleSecret::generate().map_err(|_| Problem::internal())?;
    let mut batch = Batch::new();
    let entered = store::enter(&mut batch, &code.digest(), &token.digest(), ctx.now);
    let results = batch.run(&ctx.db).await?;
    let Some(entered) = results.first(entered)? else {
        return gone();
    };
    see_other(
        ctx,
        &format!("/console/{}/members", pages::encode_segment(&entered.slug)),
        Some(&session_cookie(&token, &ctx.cfg.public_url)),
    )
}

/// The form fields of a POST.
fn form(ctx: &Ctx) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&ctx.body)
        .into_owned()
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn csrf_refused(ctx: &Ctx) -> Answer {
    message(
        ctx,
        403,
        "This form was not accepted",
        "The form did not come from this console session, so nothing was changed. Go back, \
         reload the page and try again.",
    )
}

/// `POST /console/logout` — ends the session.
async fn logout(ctx: &Ctx) -> Answer {
    let Some(token) = ctx.header("cookie").and_then(|c| session_from_cookies(&c)) else {
        return session_ended(ctx);
    };
    if !field(&form(ctx), CSRF_FIELD).is_some_and(|sent| token.csrf_matches(sent)) {
        return csrf_refused(ctx);
    }
    let mut batch = Batch::new();
    store::end(&mut batch, &token.digest());
    batch.run(&ctx.db).await?;
    let response = Response::from_html(pages::message(
        "Signed out",
        "You have left the console. Open it again from the app.",
    ))
    .map_err(|_| Problem::internal())?;
    response
        .headers()
        .set("set-cookie", &cleared_cookie(&ctx.cfg.public_url))
        .map_err(|_| Problem::internal())?;
    dress(ctx, response)
}

/// The session a request belongs to, seen now; `None` when it has ended or never was.
async fn session(ctx: &Ctx) -> Result<Option<(ConsoleSecret, SessionRow, String)>, Problem> {
    let Some(token) = ctx.header("cookie").and_then(|c| session_from_cookies(&c)) else {
        return Ok(None);
    };
    let mut batch = Batch::new();
    let row = store::touch(&mut batch, &token.digest(), ctx.now);
    let slug = store::org_of(&mut batch, &token.digest(), ctx.now);
    let results = batch.run(&ctx.db).await?;
    match (results.first(row)?, results.first(slug)?) {
        (Some(row), Some(org)) => Ok(Some((token, row, org.slug))),
        _ => Ok(None),
    }
}

/// What a page needs of its session, and the team its path names, if any.
struct Session {
    token: ConsoleSecret,
    row: SessionRow,
    slug: String,
    /// The `{team}` of `/console/{slug}/teams/{team}…`, as the path has it.
    team: Option<String>,
}

/// A page or form of organization `slug`, for the person of the request's session.
async fn in_session(
    ctx: &mut Ctx,
    method: &str,
    slug: &str,
    section: Section,
    rest: &[&str],
) -> Answer {
    let Some((token, row, session_slug)) = session(ctx).await? else {
        return session_ended(ctx);
    };
    // A session is for the organization its link was for.
    if session_slug != slug {
        return not_found(ctx);
    }
    ctx.person = Some(row.identity());
    let team = match (section, rest) {
        (Section::Teams, [team, ..]) => Some((*team).to_owned()),
        _ => None,
    };
    let session = Session {
        token,
        row,
        slug: session_slug,
        team,
    };
    if method == "POST" {
        let form = form(ctx);
        if !field(&form, CSRF_FIELD).is_some_and(|sent| session.token.csrf_matches(sent)) {
            return csrf_refused(ctx);
        }
        return act(ctx, &session, section, rest, &form).await;
    }
    let is_team_page = session.team.is_some() && rest.len() == 1;
    if !rest.is_empty() && !is_team_page {
        return not_found(ctx);
    }
    let done = ctx.query("done").and_then(done_message);
    show(ctx, &session, section, done.map(Shown::Done), 200).await
}

/// What a form did, by the key its redirect carries.
fn done_message(key: &str) -> Option<&'static str> {
    Some(match key {
        "role" => "The role was changed.",
        "removed" => "The member was removed.",
        "invited" => "The invitation was sent.",
        "resent" => "The invitation was sent again.",
        "canceled" => "The invitation was canceled.",
        "seats" => "The extra seats were set.",
        "revoked" => "The API key was revoked.",
        "deleted" => "The endpoint was deleted.",
        "team-created" => "The team was created.",
        "team-deleted" => "The team was deleted.",
        "team-renamed" => "The team was renamed.",
        "team-member" => "The team's members were changed.",
        "role-created" => "The role was created.",
        "link-revoked" => "The invite link was revoked.",
        "domain-added" => "The domain was added.",
        "domain-checked" => "The domain's record was checked.",
        "domain-saved" => "Joining by the domain was changed.",
        "domain-removed" => "The domain was removed.",
        "approved" => "The join request was approved.",
        "denied" => "The join request was denied.",
        "role-deleted" => "The role was deleted.",
        "role-saved" => "The role was changed.",
        _ => return None,
    })
}

/// Runs the API operation `method path` with `body` as the session's person: the same
/// route, handler, policy and store as a request of the API.
async fn call(ctx: &mut Ctx, method: &str, path: &str, body: Option<Value>) -> Answer {
    let Resolved::Found(route, params) = resolve(method, path) else {
        return Err(Problem::not_found("page"));
    };
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(|_| Problem::internal())?;
    ctx.headers = headers;
    ctx.params = params;
    ctx.body = match body {
        Some(body) => serde_json::to_vec(&body).map_err(|_| Problem::internal())?,
        None => Vec::new(),
    };
    decide(ctx, route).await
}

/// Sets the path parameters of the API's read of `section`, for the loaders.
fn read_as(ctx: &mut Ctx, session: &Session, section: Section) {
    let org = pages::encode_segment(&session.slug);
    let path = match (section, &session.team) {
        (Section::Teams, Some(team)) => format!("/v1/orgs/{org}/teams/{team}/members"),
        _ => format!("/v1/orgs/{org}/{}", section.path()),
    };
    if let Resolved::Found(_, params) = resolve("GET", &path) {
        ctx.params = params;
    }
}

/// Carries out a form of `section`.
async fn act(
    ctx: &mut Ctx,
    session: &Session,
    section: Section,
    rest: &[&str],
    form: &[(String, String)],
) -> Answer {
    let org = format!("/v1/orgs/{}", pages::encode_segment(&session.slug));
    let value = |name: &str| Value::from(field(form, name).unwrap_or_default());
    let (answer, done) = match (section, rest) {
        (Section::Members, [user, "role"]) => (
            call(
                ctx,
                "PATCH",
                &format!("{org}/members/{user}"),
                Some(json!({"role": value("role")})),
            )
            .await,
            "role",
        ),
        (Section::Members, [user, "remove"]) => (
            call(ctx, "DELETE", &format!("{org}/members/{user}"), None).await,
            "removed",
        ),
        (Section::Invitations, []) => (
            call(
                ctx,
                "POST",
                &format!("{org}/invitations"),
                Some(json!({"email": value("email"), "role": value("role")})),
            )
            .await,
            "invited",
        ),
        (Section::Invitations, ["bulk"]) => {
            return invite_list(ctx, session, &org, form).await;
        }
        (Section::Invitations, [id, "resend"]) => (
            call(ctx, "POST", &format!("{org}/invitations/{id}/resend"), None).await,
            "resent",
        ),
        (Section::Invitations, [id, "cancel"]) => (
            call(ctx, "DELETE", &format!("{org}/invitations/{id}"), None).await,
            "canceled",
        ),
        (Section::Billing, ["seats"]) => {
            // A number goes as a number; anything else as typed, for the API to refuse.
            let extra = field(form, "extra").unwrap_or_default().trim();
            let extra = extra
                .parse::<i64>()
                .map_or_else(|_| Value::from(extra), Value::from);
            (
                call(
                    ctx,
                    "PUT",
                    &format!("{org}/billing/seats"),
                    Some(json!({"extra": extra})),
                )
                .await,
                "seats",
            )
        }
        (Section::ApiKeys, []) => {
            let scopes: Vec<&str> = values(form, "scope");
            let body = json!({"name": value("name"), "scopes": scopes});
            return issue(
                ctx,
                session,
                section,
                &format!("{org}/api-keys"),
                body,
                "API key",
                "secret",
            )
            .await;
        }
        (Section::ApiKeys, [id, "revoke"]) => (
            call(ctx, "DELETE", &format!("{org}/api-keys/{id}"), None).await,
            "revoked",
        ),
        (Section::Webhooks, []) => {
            let events: Vec<&str> = values(form, "event");
            let body = json!({"url": value("url"), "events": events});
            return issue(
                ctx,
                session,
                section,
                &format!("{org}/webhooks"),
                body,
                "Endpoint",
                "secret",
            )
            .await;
        }
        (Section::Webhooks, [id, "delete"]) => (
            call(ctx, "DELETE", &format!("{org}/webhooks/{id}"), None).await,
            "deleted",
        ),
        (Section::Teams, []) => (
            call(
                ctx,
                "POST",
                &format!("{org}/teams"),
                Some(json!({"name": value("name")})),
            )
            .await,
            "team-created",
        ),
        (Section::Teams, [team, "rename"]) => {
            let body = json!({"name": value("name"), "slug": value("slug")});
            let mut response =
                match call(ctx, "PATCH", &format!("{org}/teams/{team}"), Some(body)).await {
                    Ok(response) => response,
                    Err(problem) => return refused(ctx, session, section, problem).await,
                };
            // The team's page is at its new slug.
            let renamed = body_of(&mut response).await?;
            let slug = renamed["slug"].as_str().ok_or_else(Problem::internal)?;
            return see_other(
                ctx,
                &format!(
                    "/console/{}/teams/{}?done=team-renamed",
                    pages::encode_segment(&session.slug),
                    pages::encode_segment(slug),
                ),
                None,
            );
        }
        (Section::Teams, [team, "delete"]) => (
            call(ctx, "DELETE", &format!("{org}/teams/{team}"), None).await,
            "team-deleted",
        ),
        (Section::Teams, [team, "members"]) => {
            let user = pages::encode_segment(field(form, "user_id").unwrap_or_default());
            (
                call(
                    ctx,
                    "PUT",
                    &format!("{org}/teams/{team}/members/{user}"),
                    Some(json!({"team_role": value("team_role")})),
                )
                .await,
                "team-member",
            )
        }
        (Section::Teams, [team, "members", user, "remove"]) => (
            call(
                ctx,
                "DELETE",
                &format!("{org}/teams/{team}/members/{user}"),
                None,
            )
            .await,
            "team-member",
        ),
        (Section::InviteLinks, []) => {
            // Numbers go as numbers; anything else as typed, for the API to refuse.
            let number = |name: &str| {
                let raw = field(form, name).unwrap_or_default().trim();
                raw.parse::<i64>()
                    .map_or_else(|_| Value::from(raw), Value::from)
            };
            let mut body = json!({"role": value("role"), "expires_in": number("expires_in")});
            if field(form, "max_uses").is_some_and(|v| !v.trim().is_empty()) {
                body["max_uses"] = number("max_uses");
            }
            let path = format!("{org}/invite-links");
            return issue(ctx, session, section, &path, body, "Invite link", "url").await;
        }
        (Section::InviteLinks, [id, "revoke"]) => (
            call(ctx, "DELETE", &format!("{org}/invite-links/{id}"), None).await,
            "link-revoked",
        ),
        (Section::Domains, []) => (
            call(
                ctx,
                "POST",
                &format!("{org}/domains"),
                Some(json!({"domain": value("domain")})),
            )
            .await,
            "domain-added",
        ),
        (Section::Domains, [id, "verify"]) => (
            call(ctx, "POST", &format!("{org}/domains/{id}/verify"), None).await,
            "domain-checked",
        ),
        (Section::Domains, [id, "enrollment"]) => {
            let mut body =
                json!({"enrollment": value("enrollment"), "teams": values(form, "team")});
            if field(form, "role").is_some() {
                body["role"] = value("role");
            }
            (
                call(ctx, "PATCH", &format!("{org}/domains/{id}"), Some(body)).await,
                "domain-saved",
            )
        }
        (Section::Domains, [id, "remove"]) => (
            call(ctx, "DELETE", &format!("{org}/domains/{id}"), None).await,
            "domain-removed",
        ),
        (Section::Domains, ["requests", id, decision @ ("approve" | "deny")]) => (
            call(
                ctx,
                "POST",
                &format!("{org}/join-requests/{id}/{decision}"),
                None,
            )
            .await,
            if *decision == "approve" {
                "approved"
            } else {
                "denied"
            },
        ),
        (Section::Roles, []) => {
            let permissions: Vec<&str> = values(form, "permission");
            let body =
                json!({"key": value("key"), "name": value("name"), "permissions": permissions});
            (
                call(ctx, "POST", &format!("{org}/roles"), Some(body)).await,
                "role-created",
            )
        }
        (Section::Roles, [key, "edit"]) => {
            let permissions: Vec<&str> = values(form, "permission");
            let body = json!({"name": value("name"), "permissions": permissions});
            (
                call(ctx, "PATCH", &format!("{org}/roles/{key}"), Some(body)).await,
                "role-saved",
            )
        }
        (Section::Roles, [key, "delete"]) => {
            // The holders' new role travels in the query, as the API takes it.
            ctx.query = field(form, "reassign_to")
                .map(|to| vec![("reassign_to".to_owned(), to.to_owned())])
                .unwrap_or_default();
            (
                call(ctx, "DELETE", &format!("{org}/roles/{key}"), None).await,
                "role-deleted",
            )
        }
        _ => return not_found(ctx),
    };
    // Back to the team's page after a change of its members; else to the section's.
    let back = match (&session.team, done) {
        (Some(team), "team-member") => format!("{}/{team}", section.path()),
        _ => section.path().to_owned(),
    };
    match answer {
        Ok(_) => see_other(
            ctx,
            &format!(
                "/console/{}/{back}?done={done}",
                pages::encode_segment(&session.slug),
            ),
            None,
        ),
        Err(problem) => refused(ctx, session, section, problem).await,
    }
}

/// Every value of form field `name` (checkboxes).
fn values<'a>(form: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Creates what answers a secret once (an API key, a webhook endpoint, an invite link's
/// URL, in the answer's field `secret_field`) and shows the page with it: the secret never
/// goes into a URL, so this answer is the page, not a redirect.
async fn issue(
    ctx: &mut Ctx,
    session: &Session,
    section: Section,
    path: &str,
    body: Value,
    what: &'static str,
    secret_field: &str,
) -> Answer {
    let mut response = match call(ctx, "POST", path, Some(body)).await {
        Ok(response) => response,
        Err(problem) => return refused(ctx, session, section, problem).await,
    };
    let secret = body_of(&mut response).await?[secret_field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(Problem::internal)?;
    show(
        ctx,
        session,
        section,
        Some(Shown::Secret(what, secret)),
        201,
    )
    .await
}

/// The page of a refused form, with the problem, answered with its status.
async fn refused(ctx: &mut Ctx, session: &Session, section: Section, problem: Problem) -> Answer {
    let status = problem.status();
    show(ctx, session, section, Some(Shown::Problem(problem)), status).await
}

/// The invitation list pasted into the page: one bulk request, each address judged on
/// its own, and the page showing what became of each.
async fn invite_list(
    ctx: &mut Ctx,
    session: &Session,
    org: &str,
    form: &[(String, String)],
) -> Answer {
    let role = field(form, "role").unwrap_or_default();
    let items: Vec<Value> = split_addresses(field(form, "emails").unwrap_or_default())
        .into_iter()
        .map(|email| json!({"email": email, "role": role}))
        .collect();
    let answer = call(
        ctx,
        "POST",
        &format!("{org}/invitations/bulk"),
        Some(json!({ "invitations": items })),
    )
    .await;
    let mut response = match answer {
        Ok(response) => response,
        Err(problem) => return refused(ctx, session, Section::Invitations, problem).await,
    };
    let body = body_of(&mut response).await?;
    let outcomes: Vec<BulkOutcome> = body["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|r| BulkOutcome {
                    email: r["email"].as_str().unwrap_or_default().to_owned(),
                    refused: r["error"]["detail"].as_str().map(str::to_owned),
                })
                .collect()
        })
        .unwrap_or_default();
    let invited = outcomes.iter().filter(|o| o.refused.is_none()).count();
    read_as(ctx, session, Section::Invitations);
    let notice = format!("{invited} of {} invitations sent.", outcomes.len());
    show(
        ctx,
        session,
        Section::Invitations,
        Some(Shown::Bulk(notice, outcomes)),
        200,
    )
    .await
}

/// What a page shows above its content.
enum Shown {
    Done(&'static str),
    Problem(Problem),
    Bulk(String, Vec<BulkOutcome>),
    /// What was created, and its secret, shown once.
    Secret(&'static str, String),
}

/// The problem as one line: its detail, and the fields at fault.
fn problem_text(problem: &Problem) -> String {
    let mut text = problem.detail.to_string();
    for e in &problem.errors {
        text.push_str(&format!(" {}: {}.", e.field, e.message));
    }
    text
}

/// The sections `caller` may open.
fn sections(caller: &Caller) -> Vec<Section> {
    let actor = &caller.actor;
    Section::ALL
        .into_iter()
        .filter(|section| match section {
            Section::Members => authorize(actor, Action::ViewMembers).is_ok(),
            Section::Invitations => authorize(actor, Action::ViewInvitations).is_ok(),
            Section::InviteLinks => authorize(actor, Action::ManageInvitation).is_ok(),
            Section::Billing => authorize(actor, Action::ViewBilling).is_ok(),
            Section::Usage => crate::domain::usage::usage_view(actor).is_ok(),
            Section::Teams => authorize(actor, Action::ViewTeams).is_ok(),
            Section::Roles => authorize(actor, Action::ViewRoles).is_ok(),
            // Only on a plan with domains: there is nothing to join by elsewhere.
            Section::Domains => {
                caller
                    .org
                    .plan()
                    .is_ok_and(|plan| crate::domain::domains::require_plan(plan).is_ok())
                    && (super::domains::require_domains(caller).is_ok()
                        || authorize(actor, Action::ViewJoinRequests).is_ok())
            }
            Section::ApiKeys | Section::Webhooks | Section::AuditLog => {
                authorize(actor, Action::ManageIntegrations).is_ok()
            }
        })
        .collect()
}

/// The organization's roles, read after the caller's standing was.
async fn catalogue(ctx: &Ctx, slug: &str) -> Result<Catalogue, Problem> {
    let mut batch = Batch::new();
    let rows = roles::custom(&mut batch, slug);
    let results = batch.run(&ctx.db).await?;
    roles::catalogue(&results.all(rows)?)
}

/// The page of `section`, with `shown` above it, answered with `status`.
async fn show(
    ctx: &mut Ctx,
    session: &Session,
    section: Section,
    shown: Option<Shown>,
    status: u16,
) -> Answer {
    read_as(ctx, session, section);
    let page = render(ctx, session, section, shown).await;
    match page {
        Ok(body) => html(ctx, status, body),
        // The person cannot see this page (any more): say why, as the API would.
        Err(problem) => message(
            ctx,
            problem.status(),
            problem.code.title(),
            &problem_text(&problem),
        ),
    }
}

/// The notice of `shown` for `caller`: a full plan comes with what they can do about it.
fn notice<'a>(
    shown: &'a Option<Shown>,
    detail: &'a Option<String>,
    caller: &Caller,
) -> Option<Notice<'a>> {
    match (shown, detail) {
        (Some(Shown::Done(text)), _) => Some(Notice::Done(text)),
        (Some(Shown::Bulk(text, _)), _) => Some(Notice::Done(text)),
        (Some(Shown::Secret(what, secret)), _) => Some(Notice::Secret { what, secret }),
        (Some(Shown::Problem(problem)), Some(detail)) => {
            let seat_advice = (problem.code == Code::SeatLimitReached).then(|| {
                if authorize(&caller.actor, Action::ManageBilling).is_ok() {
                    SeatAdvice::Billing
                } else {
                    SeatAdvice::AskOwner
                }
            });
            Some(Notice::Problem {
                code: problem.code,
                detail,
                seat_advice,
            })
        }
        _ => None,
    }
}

/// The member as the page shows them: the roles the person may give them (those the plan
/// has, the policy allows from their role, and not the one they hold alone), and whether
/// the person may remove them.
fn member_view<'a>(
    caller: &Caller,
    catalogue: &Catalogue,
    plan: crate::domain::plan::Plan,
    member: &'a crate::api::orgs::Member,
) -> MemberView<'a> {
    let is_self = caller.actor.user_id() == Some(member.user_id.as_str());
    let Some(from) = catalogue.def(&member.role) else {
        return MemberView {
            member,
            roles: Vec::new(),
            removable: false,
            is_self,
        };
    };
    let roles: Vec<RoleKey> = catalogue
        .assignable()
        .into_iter()
        .filter(|(_, to)| {
            plan.require_role_def(*to).is_ok()
                && authorize(&caller.actor, Action::ChangeRole { from, to: *to }).is_ok()
        })
        .map(|(key, _)| key)
        .collect();
    // A choice of only the role held is no choice.
    let roles = if roles.iter().any(|r| *r != member.role) && !is_self {
        roles
    } else {
        Vec::new()
    };
    let removable = member.role.builtin() != Some(Role::Owner)
        && authorize(
            &caller.actor,
            Action::RemoveMember {
                role: from,
                is_self,
            },
        )
        .is_ok();
    MemberView {
        member,
        roles,
        removable,
        is_self,
    }
}

/// The roles `caller` may invite as, on the organization's plan.
fn invitable(caller: &Caller, catalogue: &Catalogue) -> Result<Vec<RoleKey>, Problem> {
    if authorize(&caller.actor, Action::ManageInvitation).is_err() {
        return Ok(Vec::new());
    }
    let plan = caller.org.plan()?;
    Ok(catalogue
        .assignable()
        .into_iter()
        .filter(|(_, def)| {
            plan.require_role_def(*def).is_ok()
                && authorize(&caller.actor, Action::Invite(*def)).is_ok()
        })
        .map(|(key, _)| key)
        .collect())
}

/// Deliveries shown per endpoint.
const DELIVERIES_SHOWN: i64 = 5;

/// The latest deliveries to each of `hooks`, read in one round trip once the caller was
/// allowed to see the endpoints.
async fn latest_deliveries(
    ctx: &Ctx,
    caller: &Caller,
    hooks: &[crate::api::integrations::Webhook],
) -> Result<Vec<Vec<Delivery>>, Problem> {
    let mut batch = Batch::new();
    let reads: Vec<_> = hooks
        .iter()
        .map(|h| {
            crate::store::webhooks::latest_deliveries(
                &mut batch,
                &caller.org.id,
                &h.id,
                DELIVERIES_SHOWN,
            )
        })
        .collect();
    let results = batch.run(&ctx.db).await?;
    reads
        .into_iter()
        .map(|rows| {
            Ok(results
                .all(rows)?
                .into_iter()
                .map(|d| Delivery {
                    event: d.action,
                    status: d.status,
                    attempts: d.attempts,
                    last_error: d.last_error,
                    at: crate::domain::Timestamp(d.created_at),
                })
                .collect())
        })
        .collect()
}

/// What every page of `session` shows around its content, for `caller`.
fn frame<'a>(caller: &'a Caller, session: &'a Session, csrf: &'a str) -> Frame<'a> {
    Frame {
        org_name: &caller.org.name,
        slug: &session.slug,
        csrf,
        return_url: session.row.return_url.as_deref(),
        sections: sections(caller),
    }
}

async fn render(
    ctx: &Ctx,
    session: &Session,
    section: Section,
    shown: Option<Shown>,
) -> Result<String, Problem> {
    let csrf = session.token.csrf_token();
    let detail = match &shown {
        Some(Shown::Problem(problem)) => Some(problem_text(problem)),
        _ => None,
    };
    match section {
        Section::Members => {
            let (caller, list) = members::listing(ctx).await?;
            let catalogue = catalogue(ctx, &session.slug).await?;
            let plan = caller.org.plan()?;
            let views: Vec<MemberView<'_>> = list
                .data
                .iter()
                .map(|m| member_view(&caller, &catalogue, plan, m))
                .collect();
            Ok(pages::members(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &views,
                list.next_cursor.as_deref(),
            ))
        }
        Section::Invitations => {
            let (caller, list) = invitations::listing(ctx).await?;
            let catalogue = catalogue(ctx, &session.slug).await?;
            let bulk = match &shown {
                Some(Shown::Bulk(_, outcomes)) => outcomes
                    .iter()
                    .map(|o| BulkOutcome {
                        email: o.email.clone(),
                        refused: o.refused.clone(),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let view = InvitationsView {
                roles: invitable(&caller, &catalogue)?,
                manage: authorize(&caller.actor, Action::ManageInvitation).is_ok(),
                pending: &list.data,
                next_cursor: list.next_cursor.as_deref(),
                bulk,
            };
            Ok(pages::invitations(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &view,
            ))
        }
        Section::Billing => {
            let (caller, billing) = billing::overview(ctx).await?;
            let ledger = billing::entries(ctx).await?;
            let preview = ctx
                .query("extra")
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|v| (0..=MAX_EXTRA_SEATS).contains(v));
            let view = BillingView {
                billing: &billing,
                ledger: &ledger.data,
                manage: authorize(&caller.actor, Action::ManageBilling).is_ok(),
                preview,
                now: ctx.now,
            };
            Ok(pages::billing(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &view,
            ))
        }
        Section::Usage => {
            let (caller, usage) = usage::overview(ctx).await?;
            Ok(pages::usage(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &usage,
            ))
        }
        Section::Teams if session.team.is_some() => {
            let (caller, team, list) = teams::member_listing(ctx).await?;
            let maintainer = list.data.iter().any(|m| {
                Some(m.user_id.as_str()) == caller.actor.user_id()
                    && m.team_role == TeamRole::Maintainer
            });
            let manage = authorize(&caller.actor, Action::ManageTeamMembers { maintainer }).is_ok();
            let addable = if manage {
                let (_, org_members) = members::listing(ctx).await?;
                org_members
                    .data
                    .into_iter()
                    .filter(|m| !list.data.iter().any(|t| t.user_id == m.user_id))
                    .map(|m| {
                        let name = m.name.or(m.email).unwrap_or_else(|| m.user_id.clone());
                        (m.user_id, name)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let view = TeamView {
                team: &team,
                members: &list.data,
                manage,
                rename: authorize(&caller.actor, Action::ManageTeams).is_ok(),
                addable,
            };
            Ok(pages::team(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &view,
            ))
        }
        Section::Teams => {
            let (caller, list) = teams::listing(ctx).await?;
            Ok(pages::teams(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &list.data,
                authorize(&caller.actor, Action::ManageTeams).is_ok(),
                list.next_cursor.as_deref(),
            ))
        }
        Section::Domains => {
            let caller = auth::caller(ctx).await?;
            crate::domain::domains::require_plan(caller.org.plan()?)?;
            let domains = match super::domains::require_domains(&caller) {
                Ok(()) => Some(super::domains::listing(ctx).await?.data),
                Err(_) => None,
            };
            let requests = match authorize(&caller.actor, Action::ViewJoinRequests) {
                Ok(()) => Some(super::domains::requests(ctx).await?.data),
                Err(_) => None,
            };
            if domains.is_none() && requests.is_none() {
                // Neither is theirs: the API's answer to the domains.
                super::domains::require_domains(&caller)?;
            }
            // Who manages domains chooses the role and teams people join with.
            let (roles, teams) = match domains {
                Some(_) => {
                    let roles = invitable(&caller, &catalogue(ctx, &session.slug).await?)?;
                    let all = Page {
                        limit: Page::MAX_LIMIT,
                        after: 0,
                    };
                    let (_, teams) = teams::listing_page(ctx, all).await?;
                    (roles, teams.data.into_iter().map(|t| t.slug).collect())
                }
                None => (Vec::new(), Vec::new()),
            };
            let view = DomainsView {
                domains: domains.as_deref(),
                requests: requests.as_deref(),
                roles,
                teams,
            };
            Ok(pages::domains(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &view,
            ))
        }
        Section::InviteLinks => {
            let (caller, list) = super::invite_links::listing(ctx).await?;
            let catalogue = catalogue(ctx, &session.slug).await?;
            Ok(pages::invite_links(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &list.data,
                &invitable(&caller, &catalogue)?,
                list.next_cursor.as_deref(),
            ))
        }
        Section::Roles => {
            let (caller, list) = super::roles::listing(ctx).await?;
            let has_custom_roles = caller.org.plan()?.spec().custom_roles > 0;
            let minimal = RoleDef::builtin(Role::Viewer);
            let view = RolesView {
                roles: &list,
                manage: has_custom_roles
                    && authorize(&caller.actor, Action::ManageRole(minimal)).is_ok(),
            };
            Ok(pages::roles(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &view,
            ))
        }
        Section::ApiKeys => {
            let (caller, list) = integrations::keys(ctx).await?;
            Ok(pages::api_keys(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &list.data,
                list.next_cursor.as_deref(),
            ))
        }
        Section::Webhooks => {
            let (caller, list) = integrations::webhooks(ctx).await?;
            let deliveries = latest_deliveries(ctx, &caller, &list.data).await?;
            let hooks: Vec<_> = list.data.into_iter().zip(deliveries).collect();
            Ok(pages::webhooks(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &hooks,
                list.next_cursor.as_deref(),
            ))
        }
        Section::AuditLog => {
            let (caller, list) = integrations::audit_entries(ctx).await?;
            Ok(pages::audit_log(
                &frame(&caller, session, &csrf),
                notice(&shown, &detail, &caller).as_ref(),
                &list.data,
                list.next_cursor.as_deref(),
            ))
        }
    }
}

/// `GET /console/dev/accept-invite?token=…` (only with `DEV_SIGN_IN=1`): where the
/// invitation page's button leads in local development, standing in for the product's
/// own sign-in and accept step.
fn dev_form(ctx: &Ctx) -> Answer {
    let token = ctx.query("token").unwrap_or_default();
    html(ctx, 200, pages::dev_sign_in(token))
}

/// `POST /console/dev/accept-invite` (only with `DEV_SIGN_IN=1`): signs in as the address
/// typed, verified, accepts the invitation through the API's route, and enters the
/// console of its organization.
async fn dev_accept(ctx: &mut Ctx) -> Answer {
    let form = form(ctx);
    let token = field(&form, "token").unwrap_or_default().to_owned();
    let email = field(&form, "email")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let name = field(&form, "name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let digest = sha256_hex(email.as_bytes());
    ctx.person = Some(Identity {
        user_id: format!("dev-{}", &digest[..16]),
        email: Some(email),
        email_verified: true,
        name,
    });
    let token = pages::encode_segment(&token);
    let outcome = async {
        let mut preview = call(ctx, "GET", &format!("/v1/invitations/{token}"), None).await?;
        let slug = body_of(&mut preview).await?["organization"]["slug"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(Problem::internal)?;
        call(
            ctx,
            "POST",
            &format!("/v1/invitations/{token}/accept"),
            None,
        )
        .await?;
        let mut link = call(
            ctx,
            "POST",
            &format!("/v1/orgs/{}/console-links", pages::encode_segment(&slug)),
            None,
        )
        .await?;
        body_of(&mut link).await?["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(Problem::internal)
    }
    .await;
    match outcome {
        Ok(url) => see_other(ctx, &url, None),
        Err(problem) => message(
            ctx,
            problem.status(),
            problem.code.title(),
            &problem_text(&problem),
        ),
    }
}

/// The JSON body of an answer of the API.
async fn body_of(response: &mut Response) -> Result<Value, Problem> {
    let bytes = response.bytes().await.map_err(|_| Problem::internal())?;
    serde_json::from_slice(&bytes).map_err(|_| Problem::internal())
}
