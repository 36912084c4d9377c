//! The request pipeline: resolve the route, read the body, run the handler, and dress every
//! answer the same way (`x-request-id`, `Server-Timing`, CORS, caching and problem bodies).

use super::{
    billing, console, domains, integrations, invitations, invite_links, invitee, me, members, ops,
    orgs, problem_response, resources, roles, scim, teams, usage, Answer, Ctx, MAX_BODY_BYTES,
};
use crate::config::Config;
use crate::domain::values::new_id;
use crate::domain::{Code, Problem, Timestamp};
use crate::routes::{is_scim_path, resolve, Params, Resolved, RouteId};
use crate::store::kv::Kv;
use crate::store::{Db, Start, BOOKMARK_HEADER};
use worker::{Date, Env, Method, Request, Response};

/// The request's method as the client sent it. `Request::method` is lossy: it takes any
/// method it does not know (`QUERY`, `FOO`) for `GET`.
fn raw_method(req: &Request) -> String {
    req.inner().method()
}

/// How many times a request may be decided. A handler reads, decides and writes; when its
/// write is refused with `conflict` because what it read has moved (another request won a
/// race), it is run again from the read, so that the answer is the one the state it lost to
/// calls for: a pending invitation just resent answers 429 with the time left, a member
/// just removed 404, a plan already changed to the one asked for 200. Each decision costs
/// its round trips; after the last, `conflict` is the answer.
const DECISIONS: u32 = 4;

/// Runs the handler of `route`.
async fn dispatch(ctx: &Ctx, route: RouteId) -> Answer {
    use RouteId::*;
    match route {
        Health => ops::health(ctx).await,
        OpenApi => ops::openapi(),
        InvitePage => invitee::page(ctx).await,
        InviteLinkPage => invite_links::page(ctx).await,
        Me => me::get(ctx).await,
        MyInvitations => invitee::mine(ctx).await,
        AcceptMyInvitation => invitee::accept_mine(ctx).await,
        DeclineMyInvitation => invitee::decline_mine(ctx).await,
        ListOrgs => orgs::list(ctx).await,
        CreateOrg => orgs::create(ctx).await,
        GetOrg => orgs::get(ctx).await,
        UpdateOrg => orgs::update(ctx).await,
        DeleteOrg => orgs::delete(ctx).await,
        RestoreOrg => orgs::restore(ctx).await,
        DeletedOrgs => orgs::deleted(ctx).await,
        TransferOwnership => members::transfer_ownership(ctx).await,
        ListRoles => roles::list(ctx).await,
        CreateRole => roles::create(ctx).await,
        UpdateRole => roles::update(ctx).await,
        DeleteRole => roles::delete(ctx).await,
        ListMembers => members::list(ctx).await,
        UpdateMember => members::update(ctx).await,
        RemoveMember => members::remove(ctx).await,
        ListInvitations => invitations::list(ctx).await,
        CreateInvitation => invitations::create(ctx).await,
        BulkInvitations => invitations::bulk(ctx).await,
        GetInvitation => invitations::get(ctx).await,
        CancelInvitation => invitations::cancel(ctx).await,
        ResendInvitation => invitations::resend(ctx).await,
        ListResources => resources::list(ctx).await,
        CreateResource => resources::create(ctx).await,
        GetResource => resources::get(ctx).await,
        UpdateResource => resources::update(ctx).await,
        DeleteResource => resources::delete(ctx).await,
        PutGrant => resources::put_grant(ctx).await,
        DeleteGrant => resources::delete_grant(ctx).await,
        Authorize => resources::authorize(ctx).await,
        ListTeams => teams::list(ctx).await,
        CreateTeam => teams::create(ctx).await,
        GetTeam => teams::get(ctx).await,
        UpdateTeam => teams::update(ctx).await,
        DeleteTeam => teams::delete(ctx).await,
        ListTeamMembers => teams::members(ctx).await,
        PutTeamMember => teams::put_member(ctx).await,
        RemoveTeamMember => teams::remove_member(ctx).await,
        PutTeamGrant => teams::put_grant(ctx).await,
        DeleteTeamGrant => teams::delete_grant(ctx).await,
        ListDomains => domains::list(ctx).await,
        AddDomain => domains::add(ctx).await,
        UpdateDomain => domains::update(ctx).await,
        RemoveDomain => domains::remove(ctx).await,
        VerifyDomain => domains::verify(ctx).await,
        JoinOrg => domains::join(ctx).await,
        ListJoinRequests => domains::list_requests(ctx).await,
        ApproveJoinRequest => domains::approve(ctx).await,
        DenyJoinRequest => domains::deny(ctx).await,
        SuggestedOrgs => domains::suggested(ctx).await,
        GetBilling => billing::get(ctx).await,
        ChangePlan => billing::change_plan(ctx).await,
        SetExtraSeats => billing::set_extra_seats(ctx).await,
        ListLedger => billing::ledger(ctx).await,
        RecordUsage => usage::record(ctx).await,
        GetUsage => usage::get(ctx).await,
        PreviewInvitation => invitee::show(ctx).await,
        AcceptInvitation => invitee::accept_by_token(ctx).await,
        DeclineInvitation => invitee::decline_by_token(ctx).await,
        ListInviteLinks => invite_links::list(ctx).await,
        CreateInviteLink => invite_links::create(ctx).await,
        RevokeInviteLink => invite_links::revoke(ctx).await,
        PreviewInviteLink => invite_links::show(ctx).await,
        JoinByInviteLink => invite_links::join(ctx).await,
        ListApiKeys => integrations::list_keys(ctx).await,
        CreateApiKey => integrations::create_key(ctx).await,
        RevokeApiKey => integrations::revoke_key(ctx).await,
        ListScimTokens => integrations::list_scim_tokens(ctx).await,
        CreateScimToken => integrations::create_scim_token(ctx).await,
        RevokeScimToken => integrations::revoke_scim_token(ctx).await,
        ListWebhooks => integrations::list_webhooks(ctx).await,
        CreateWebhook => integrations::create_webhook(ctx).await,
        DeleteWebhook => integrations::delete_webhook(ctx).await,
        AuditLog => integrations::audit_log(ctx).await,
        CreateConsoleLink => console::create_link(ctx).await,
        ScimServiceProviderConfig => scim::service_provider_config(ctx).await,
        ScimResourceTypes => scim::resource_types(ctx).await,
        ScimResourceType => scim::resource_type(ctx).await,
        ScimSchemas => scim::schemas(ctx).await,
        ScimSchema => scim::schema(ctx).await,
        ScimSearch => scim::search_all(ctx).await,
        ScimListUsers => scim::list_users(ctx).await,
        ScimSearchUsers => scim::search_users(ctx).await,
        ScimCreateUser => scim::create_user(ctx).await,
        ScimGetUser => scim::get_user(ctx).await,
        ScimReplaceUser => scim::replace_user(ctx).await,
        ScimPatchUser => scim::patch_user(ctx).await,
        ScimDeleteUser => scim::delete_user(ctx).await,
        ScimListGroups => scim::list_groups(ctx).await,
        ScimSearchGroups => scim::search_groups(ctx).await,
        ScimCreateGroup => scim::create_group(ctx).await,
        ScimGetGroup => scim::get_group(ctx).await,
        ScimReplaceGroup => scim::replace_group(ctx).await,
        ScimPatchGroup => scim::patch_group(ctx).await,
        ScimDeleteGroup => scim::delete_group(ctx).await,
    }
}

/// Headers a browser app may send, and those it may read, under CORS.
const CORS_ALLOW_HEADERS: &str =
    "authorization, content-type, idempotency-key, x-request-id, roster-bookmark";
const CORS_EXPOSE_HEADERS: &str =
    "x-request-id, retry-after, server-timing, www-authenticate, roster-bookmark";

/// Answers one request. Never fails for the client's sake: every problem becomes a
/// problem response.
pub async fn handle(
    req: Request,
    env: Env,
    background: worker::Context,
) -> worker::Result<Response> {
    let request_id = req
        .headers()
        .get("x-request-id")?
        .filter(|id| valid_request_id(id))
        .unwrap_or_else(new_id);
    let origin = req.headers().get("origin")?;
    let scim_path = is_scim_path(&req.path());
    let cfg = Config::get(&env);
    let allowed_origin = origin.filter(|o| cfg.app_origin.as_deref() == Some(o.as_str()));

    let method = raw_method(&req);
    let path = req.path();
    let (answer, cost, bookmark) = if method == "OPTIONS" {
        (
            preflight(&req, allowed_origin.is_some()),
            Cost::default(),
            None,
        )
    } else {
        answer(req, env, background, cfg).await
    };
    let mut response = match answer {
        Ok(response) => response,
        Err(problem) if scim_path => scim::error_response(&problem)?,
        Err(problem) => problem_response(&problem)?,
    };
    if method == "HEAD" {
        response = without_body(response)?;
    }
    let headers = response.headers_mut();
    headers.set("x-request-id", &request_id)?;
    headers.set("server-timing", &cost.server_timing())?;
    if let Some(bookmark) = bookmark {
        headers.set(BOOKMARK_HEADER, &bookmark)?;
    }
    headers.set("x-content-type-options", "nosniff")?;
    if !headers.has("cache-control")? {
        headers.set("cache-control", "no-store")?;
    }
    if let Some(origin) = allowed_origin.filter(|_| !console::is_console_path(&path)) {
        headers.set("access-control-allow-origin", &origin)?;
        headers.set("access-control-expose-headers", CORS_EXPOSE_HEADERS)?;
        headers.append("vary", "origin")?;
    }
    Ok(response)
}

async fn answer(
    mut req: Request,
    env: Env,
    background: worker::Context,
    cfg: std::rc::Rc<Config>,
) -> (Answer, Cost, Option<String>) {
    let path = req.path();
    let method = raw_method(&req);
    // The console's pages are not API operations: they have their own small table.
    let console = console::is_console_path(&path);
    let (route, params) = if console {
        (None, Params::default())
    } else {
        match resolve(&method, &path) {
            Resolved::Found(route, params) => (Some(route), params),
            Resolved::MethodNotAllowed(allow) => {
                return (
                    Err(Problem::method_not_allowed(allow)),
                    Cost::default(),
                    None,
                )
            }
            Resolved::NotFound => {
                return (
                    Err(Problem::new(
                        Code::NotFound,
                        "No such path; see /openapi.json for the API.",
                    )),
                    Cost::default(),
                    None,
                )
            }
        }
    };
    if route.is_some_and(RouteId::takes_public_token) {
        if let Err(problem) = within_token_limit(&env, &req).await {
            return (Err(problem), Cost::default(), None);
        }
    }
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(problem) => return (Err(problem), Cost::default(), None),
    };
    // Reads may be served by a nearby replica, at least as fresh as the client's bookmark;
    // writes decide on the primary's state. Every console request writes (its session is
    // seen), so it starts at the primary too.
    let bookmark = req.headers().get(BOOKMARK_HEADER).ok().flatten();
    let start = match (route_reads_only(&method) && !console, bookmark.as_deref()) {
        (false, _) => Start::Primary,
        (true, Some(bookmark)) => Start::AtLeast(bookmark),
        (true, None) => Start::Nearest,
    };
    let db = match env.d1("DB") {
        Ok(d1) => match Db::new(&d1, start) {
            Ok(db) => db,
            Err(problem) => return (Err(problem), Cost::default(), None),
        },
        Err(e) => {
            worker::console_error!("d1 binding: {e}");
            return (Err(Problem::internal()), Cost::default(), None);
        }
    };
    let query = req
        .url()
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default();
    let mut ctx = Ctx {
        now: Timestamp::from_millis(Date::now().as_millis()),
        kv: Kv::new(&env),
        headers: req.headers().clone(),
        env,
        cfg,
        db,
        params,
        query,
        body,
        background,
        person: None,
    };
    let answer = match route {
        Some(route) => decide(&mut ctx, route).await,
        None => console::handle(&mut ctx, &method, &path).await,
    };
    crate::webhooks::deliver_queued(
        &ctx.background,
        &ctx.env,
        &ctx.cfg,
        ctx.db.take_queued_deliveries(),
    );
    if let Err(problem) = &answer {
        if problem.code == Code::Internal {
            worker::console_error!("{method} {path}: answered 500");
        }
    }
    let cost = Cost {
        d1_round_trips: ctx.db.round_trips(),
        kv_reads: ctx.kv.reads(),
    };
    (answer, cost, ctx.db.bookmark())
}

/// Runs the handler of `route` on `ctx`, deciding again (see [`DECISIONS`]) while a write
/// loses a race. The console's actions come through here too, as the API's requests do.
pub async fn decide(ctx: &mut Ctx, route: RouteId) -> Answer {
    let mut answer = dispatch(ctx, route).await;
    for _ in 1..DECISIONS {
        let moved = ctx.db.take_moved();
        if !(moved && matches!(&answer, Err(p) if p.code == Code::Conflict)) {
            break;
        }
        ctx.now = Timestamp::from_millis(Date::now().as_millis());
        answer = dispatch(ctx, route).await;
    }
    answer
}

/// The period of `TOKEN_LIMITER` (wrangler.toml): a client refused waits at most this long.
const TOKEN_LIMIT_PERIOD_SECONDS: u64 = 60;

/// Counts a request to a public token endpoint against the client's address with the
/// `TOKEN_LIMITER` binding: 429 once the address has used up its requests for the period.
/// Without the binding there is no limit; a limiter that fails lets the request through,
/// since refusing every invitee would be worse than an unlimited minute.
async fn within_token_limit(env: &Env, req: &Request) -> Result<(), Problem> {
    let Ok(limiter) = env.rate_limiter("TOKEN_LIMITER") else {
        return Ok(());
    };
    let client = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_default();
    match limiter.limit(format!("token:{client}")).await {
        Ok(outcome) if !outcome.success => Err(Problem::rate_limited(TOKEN_LIMIT_PERIOD_SECONDS)),
        Ok(_) => Ok(()),
        Err(e) => {
            worker::console_error!("rate limiter: {e}");
            Ok(())
        }
    }
}

/// Reads the body of a POST, PUT or PATCH, refusing more than [`MAX_BODY_BYTES`] (first by
/// `Content-Length`, then by what actually arrived).
async fn read_body(req: &mut Request) -> Result<Vec<u8>, Problem> {
    if !matches!(req.method(), Method::Post | Method::Put | Method::Patch) {
        return Ok(Vec::new());
    }
    let too_large = || {
        Problem::new(
            Code::PayloadTooLarge,
            format!(
                "Request bodies are limited to {} KiB.",
                MAX_BODY_BYTES / 1024
            ),
        )
    };
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let body = req
        .bytes()
        .await
        .map_err(|_| Problem::new(Code::InvalidRequest, "The request body could not be read."))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(body)
}

/// The answer to a `HEAD`: the `GET` answer's status and headers, without its body.
fn without_body(response: Response) -> worker::Result<Response> {
    let status = response.status_code();
    let headers = response.headers().clone();
    Ok(Response::empty()?.with_status(status).with_headers(headers))
}

/// `OPTIONS`: a CORS preflight for a known path.
fn preflight(req: &Request, origin_allowed: bool) -> Answer {
    let allow = match resolve("OPTIONS", &req.path()) {
        Resolved::MethodNotAllowed(allow) => allow,
        _ => {
            return Err(Problem::new(
                Code::NotFound,
                "No such path; see /openapi.json for the API.",
            ))
        }
    };
    let response = Response::empty()
        .map_err(|_| Problem::internal())?
        .with_status(204);
    let headers = response.headers();
    let set = |name: &str, value: &str| headers.set(name, value).map_err(|_| Problem::internal());
    set("allow", &allow.join(", "))?;
    if origin_allowed {
        set("access-control-allow-methods", &allow.join(", "))?;
        set("access-control-allow-headers", CORS_ALLOW_HEADERS)?;
        set("access-control-max-age", "600")?;
    }
    Ok(response)
}

/// What a request cost in the stores, reported in `Server-Timing` so that clients and the
/// benchmark can see it: `d1;desc="1 round trip", kv;desc="0 reads"`.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    d1_round_trips: u32,
    kv_reads: u32,
}

impl Cost {
    fn server_timing(self) -> String {
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        format!(
            "d1;desc=\"{} round trip{}\", kv;desc=\"{} read{}\"",
            self.d1_round_trips,
            plural(self.d1_round_trips),
            self.kv_reads,
            plural(self.kv_reads)
        )
    }
}

/// A client's request id is echoed if it is short, visible ASCII.
fn valid_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether a request of `method` only reads (a `GET` or `HEAD`).
fn route_reads_only(method: &str) -> bool {
    matches!(method, "GET" | "HEAD")
}
