//! The SCIM 2.0 service (`/scim/v2`, RFC 7644) an organization's identity provider calls
//! with its SCIM token: Users are the organization's members, Groups its teams.
//!
//! Every request is authenticated by the token in the batch that reads what it needs (the
//! reads find the organization through the token's digest), so reads cost one round trip
//! and writes two, as in `/v1`. Answers are `application/scim+json`; errors carry SCIM's
//! error schema (`problem_response` in `router`).

use super::{Answer, Ctx};
use crate::api::scim as discovery;
use crate::domain::plan::Seats;
use crate::domain::policy::RoleDef;
use crate::domain::scim::{
    invalid_value, patch_ops, Filter, GroupAttributes, GroupChange, Projection, Query, Resource,
    ScimType, UserAttributes, ERROR_SCHEMA, GROUP_SCHEMA, LIST_SCHEMA, USER_SCHEMA,
};
use crate::domain::secret::ScimSecret;
use crate::domain::values::{Role, RoleKey, Slug};
use crate::domain::{Code, Problem, Timestamp};
use crate::routes::SCIM_BASE;
use crate::store::invitations::SeatCheck;
use crate::store::scim::{self as store, GroupRow, GroupUpdate, Known, ScimCaller, UserRow};
use crate::store::{Batch, Results, Rows};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::Response;

/// The media type of SCIM bodies.
const SCIM_JSON: &str = "application/scim+json";

/// `{PUBLIC_URL}/scim/v2`.
fn base(ctx: &Ctx) -> String {
    format!("{}{SCIM_BASE}", ctx.cfg.public_url.trim_end_matches('/'))
}

fn scim_json(status: u16, value: &Value, location: Option<&str>) -> Answer {
    let body = serde_json::to_vec(value).map_err(|_| Problem::internal())?;
    let response = Response::from_bytes(body)
        .map_err(|_| Problem::internal())?
        .with_status(status);
    let headers = response.headers();
    let set = |name: &str, value: &str| headers.set(name, value).map_err(|_| Problem::internal());
    set("content-type", SCIM_JSON)?;
    if let Some(location) = location {
        set("location", location)?;
    }
    Ok(response)
}

/// A problem in SCIM's error format (RFC 7644 §3.12): `status` as a string, and `scimType`
/// for the 400s and 409s that have one.
pub fn error_response(problem: &Problem) -> worker::Result<Response> {
    let mut body = json!({
        "schemas": [ERROR_SCHEMA],
        "status": problem.status().to_string(),
        "detail": problem.detail,
    });
    if let Some(scim_type) = ScimType::of(problem) {
        body["scimType"] = json!(scim_type.as_str());
    }
    let response = Response::from_bytes(serde_json::to_vec(&body)?)?.with_status(problem.status());
    let headers = response.headers();
    headers.set("content-type", SCIM_JSON)?;
    if problem.status() == 401 {
        headers.set("www-authenticate", "Bearer realm=\"roster-scim\"")?;
    }
    if !problem.allow.is_empty() {
        headers.set("allow", &problem.allow.join(", "))?;
    }
    Ok(response)
}

/// The digest of the request's SCIM token; 401 without one.
fn token(ctx: &Ctx) -> Result<String, Problem> {
    let unauthenticated = || {
        Problem::unauthenticated("Send `Authorization: Bearer <SCIM token>` with a `scim_` token.")
    };
    let header = ctx.header("authorization").ok_or_else(unauthenticated)?;
    header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|(_, token)| ScimSecret::parse(token.trim()))
        .map(|secret| secret.digest())
        .ok_or_else(unauthenticated)
}

/// A request's batch, opened with the token's authentication.
struct Begun {
    batch: Batch,
    digest: String,
    caller: Rows<ScimCaller>,
}

fn begin(ctx: &Ctx) -> Result<Begun, Problem> {
    let digest = token(ctx)?;
    let mut batch = Batch::new();
    let caller = store::authenticate(&mut batch, &digest, ctx.now);
    Ok(Begun {
        batch,
        digest,
        caller,
    })
}

/// The organization the token names: 401 for a token unknown or revoked, 403 when the
/// organization's plan has no SCIM provisioning (it was downgraded).
fn resolve(results: &Results, caller: Rows<ScimCaller>) -> Result<ScimCaller, Problem> {
    let caller = results.first(caller)?.ok_or_else(|| {
        Problem::unauthenticated("The SCIM token is unknown or has been revoked.")
    })?;
    if !caller.org.plan()?.spec().scim {
        return Err(Problem::forbidden(format!(
            "The {} plan has no SCIM provisioning; the organization must be on business.",
            caller.org.plan
        )));
    }
    Ok(caller)
}

/// `input` once known valid; invalid input is refused after the token is checked, so that
/// a caller without a valid token learns nothing else.
async fn valid<T>(ctx: &Ctx, input: Result<T, Problem>) -> Result<T, Problem> {
    if input.is_err() {
        let begun = begin(ctx)?;
        let results = begun.batch.run(&ctx.db).await?;
        resolve(&results, begun.caller)?;
    }
    input
}

/// The request body: JSON, sent as `application/scim+json` or `application/json`.
fn body(ctx: &Ctx) -> Result<Value, Problem> {
    let media_type = ctx
        .header("content-type")
        .and_then(|c| c.split(';').next().map(|c| c.trim().to_ascii_lowercase()));
    if !matches!(
        media_type.as_deref(),
        Some("application/scim+json" | "application/json")
    ) {
        return Err(Problem::new(
            Code::UnsupportedMediaType,
            "Send the body as JSON with `Content-Type: application/scim+json`.",
        ));
    }
    serde_json::from_slice(&ctx.body).map_err(|_| {
        Problem::scim(
            Code::InvalidRequest,
            ScimType::InvalidSyntax,
            "The body is not valid JSON.",
        )
    })
}

fn projection(ctx: &Ctx, resource: Resource) -> Projection {
    Projection::parse(
        ctx.query("attributes"),
        ctx.query("excludedAttributes"),
        resource,
    )
}

fn timestamp(at: i64) -> Value {
    json!(Timestamp(at))
}

/// A member as a User.
fn user_of(base: &str, row: &UserRow) -> Value {
    let email = row.email.clone().unwrap_or_default();
    let mut user = json!({
        "schemas": [USER_SCHEMA],
        "id": row.id,
        "userName": email,
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": row.suspended_at.is_none(),
        "roles": [{"value": row.role}],
        "groups": serde_json::from_str::<Value>(&row.groups).unwrap_or_else(|_| json!([])),
        "meta": {
            "resourceType": "User",
            "created": timestamp(row.joined_at),
            "lastModified": timestamp(row.suspended_at.unwrap_or(row.joined_at).max(row.joined_at)),
            "location": format!("{base}/Users/{}", row.id),
        }
    });
    if let Some(external_id) = &row.external_id {
        user["externalId"] = json!(external_id);
    }
    if let Some(display_name) = &row.display_name {
        user["displayName"] = json!(display_name);
    }
    if row.given_name.is_some() || row.family_name.is_some() {
        let mut name = json!({});
        if let Some(given) = &row.given_name {
            name["givenName"] = json!(given);
        }
        if let Some(family) = &row.family_name {
            name["familyName"] = json!(family);
        }
        user["name"] = name;
    }
    user
}

/// A member's attributes as SCIM changes them.
fn attributes_of(row: &UserRow) -> UserAttributes {
    UserAttributes {
        user_name: row.email.clone().unwrap_or_default(),
        external_id: row.external_id.clone(),
        given_name: row.given_name.clone(),
        family_name: row.family_name.clone(),
        display_name: row.display_name.clone(),
        active: row.suspended_at.is_none(),
        role: row.role.clone(),
    }
}

/// A team as a Group.
fn group_of(base: &str, row: &GroupRow) -> Value {
    let members: Vec<Value> = members_of(row)
        .into_iter()
        .map(|m| {
            json!({
                "value": m.value,
                "$ref": format!("{base}/Users/{}", m.value),
            })
        })
        .collect();
    let mut group = json!({
        "schemas": [GROUP_SCHEMA],
        "id": row.id,
        "displayName": row.name,
        "members": members,
        "meta": {
            "resourceType": "Group",
            "created": timestamp(row.created_at),
            "lastModified": timestamp(row.updated_at),
            "location": format!("{base}/Groups/{}", row.id),
        }
    });
    if let Some(external_id) = &row.external_id {
        group["externalId"] = json!(external_id);
    }
    group
}

#[derive(Deserialize)]
struct GroupMember {
    value: String,
    user_id: String,
}

fn members_of(row: &GroupRow) -> Vec<GroupMember> {
    serde_json::from_str(&row.members).unwrap_or_default()
}

fn list(resources: Vec<Value>, total: i64, start: i64) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

fn not_found(what: &str) -> Problem {
    Problem::not_found(what)
}

/// `GET /scim/v2/ServiceProviderConfig`
pub async fn service_provider_config(ctx: &Ctx) -> Answer {
    let begun = begin(ctx)?;
    resolve(&begun.batch.run(&ctx.db).await?, begun.caller)?;
    scim_json(200, &discovery::service_provider_config(&base(ctx)), None)
}

/// `GET /scim/v2/ResourceTypes` and `/Schemas`: every one, as a list.
async fn all(ctx: &Ctx, documents: fn(&str) -> Vec<Value>) -> Answer {
    let begun = begin(ctx)?;
    resolve(&begun.batch.run(&ctx.db).await?, begun.caller)?;
    let documents = documents(&base(ctx));
    let total = documents.len() as i64;
    scim_json(200, &list(documents, total, 1), None)
}

/// `GET /scim/v2/ResourceTypes/{id}` and `/Schemas/{id}`.
async fn one(ctx: &Ctx, documents: fn(&str) -> Vec<Value>, what: &str) -> Answer {
    let begun = begin(ctx)?;
    resolve(&begun.batch.run(&ctx.db).await?, begun.caller)?;
    let id = ctx.param("id");
    documents(&base(ctx))
        .into_iter()
        .find(|d| d["id"].as_str() == Some(id))
        .ok_or_else(|| not_found(what))
        .and_then(|d| scim_json(200, &d, None))
}

pub async fn resource_types(ctx: &Ctx) -> Answer {
    all(ctx, discovery::resource_types).await
}

pub async fn resource_type(ctx: &Ctx) -> Answer {
    one(ctx, discovery::resource_types, "resource type").await
}

pub async fn schemas(ctx: &Ctx) -> Answer {
    all(ctx, discovery::schemas).await
}

pub async fn schema(ctx: &Ctx) -> Answer {
    one(ctx, discovery::schemas, "schema").await
}

/// The query of a `GET` list.
fn query(ctx: &Ctx, resource: Resource) -> Result<Query, Problem> {
    Query::from_params(|name| ctx.query(name).map(str::to_owned), resource)
}

/// The body of a `POST …/.search`.
fn search(ctx: &Ctx, resource: Resource) -> Result<Query, Problem> {
    body(ctx).and_then(|b| Query::from_search(&b, resource))
}

/// `GET /scim/v2/Users` — members matching `filter`, in the order they joined.
pub async fn list_users(ctx: &Ctx) -> Answer {
    let query = valid(ctx, query(ctx, Resource::User)).await?;
    listing(ctx, query, store::users, user_of).await
}

/// `POST /scim/v2/Users/.search` — the same, asked in the body.
pub async fn search_users(ctx: &Ctx) -> Answer {
    let query = valid(ctx, search(ctx, Resource::User)).await?;
    listing(ctx, query, store::users, user_of).await
}

/// A list response: the page of resources `read` finds for `query`, each rendered by
/// `render` and projected to the attributes asked for, with how many match in all.
async fn listing<R: DeserializeOwned>(
    ctx: &Ctx,
    query: Query,
    read: fn(&mut Batch, &str, &Filter, i64, i64) -> store::Page<R>,
    render: fn(&str, &R) -> Value,
) -> Answer {
    let mut begun = begin(ctx)?;
    let (page, total) = read(
        &mut begun.batch,
        &begun.digest,
        &query.filter,
        query.start,
        query.count,
    );
    let results = begun.batch.run(&ctx.db).await?;
    resolve(&results, begun.caller)?;
    let base = base(ctx);
    let resources = results
        .all(page)?
        .iter()
        .map(|row| query.projection.apply(render(&base, row)))
        .collect();
    let total = results.first(total)?.map_or(0, |c| c.n);
    scim_json(200, &list(resources, total, query.start), None)
}

/// `GET /scim/v2/Users/{id}`
pub async fn get_user(ctx: &Ctx) -> Answer {
    let mut begun = begin(ctx)?;
    let row = store::user(&mut begun.batch, &begun.digest, ctx.param("id"));
    let results = begun.batch.run(&ctx.db).await?;
    resolve(&results, begun.caller)?;
    let row = results.first(row)?.ok_or_else(|| not_found("User"))?;
    let user = projection(ctx, Resource::User).apply(user_of(&base(ctx), &row));
    scim_json(200, &user, None)
}

/// The role `user` names, as the organization defines it: a built-in role but `owner`,
/// or one of its custom roles (read as `custom`); `invalidValue` otherwise.
fn role_named(
    caller: &ScimCaller,
    key: &str,
    custom: Option<store::RoleDefRow>,
) -> Result<(RoleKey, RoleDef), Problem> {
    let unknown = || {
        invalid_value(format!(
            "`roles` names `{key}`, which is not a role of the organization (built-in roles but owner, or its custom roles)."
        ))
    };
    let role = RoleKey::parse(key).map_err(|_| unknown())?;
    match role.builtin() {
        Some(Role::Owner) => Err(invalid_value(
            "`owner` is not given through SCIM; ownership is transferred in the organization.",
        )),
        Some(builtin) => {
            caller.org.plan()?.require_role(builtin)?;
            Ok((role, RoleDef::builtin(builtin)))
        }
        None => {
            let def = store::custom_role_def(custom, &role).ok_or_else(unknown)?;
            Ok((role, def))
        }
    }
}

fn uniqueness(detail: &str) -> Problem {
    Problem::scim(Code::AlreadyMember, ScimType::Uniqueness, detail.to_owned())
}

fn email_taken(email: &str) -> Problem {
    uniqueness(&format!(
        "A member of the organization has the userName `{email}`."
    ))
}

fn external_id_taken() -> Problem {
    uniqueness("A member of the organization has this externalId.")
}

/// The answer for a refused write, in the words of what it collided with.
fn user_write_problem(problem: Problem, user: &UserAttributes, seats: i64) -> Problem {
    match problem.code {
        Code::AlreadyMember => uniqueness(&format!(
            "A member of the organization has the userName `{}` or this externalId.",
            user.user_name
        )),
        Code::SeatLimitReached => Problem::scim(
            Code::SeatLimitReached,
            ScimType::TooMany,
            format!(
                "seat_limit_reached: all {seats} seats of the organization are taken; add seats or remove a member first."
            ),
        ),
        _ => problem,
    }
}

/// `POST /scim/v2/Users` — provisions a member: 201 with the User.
pub async fn create_user(ctx: &Ctx) -> Answer {
    let user = valid(
        ctx,
        body(ctx).and_then(|b| UserAttributes::from_body(&b, None)),
    )
    .await?;
    let mut begun = begin(ctx)?;
    let collisions = store::collisions(
        &mut begun.batch,
        &begun.digest,
        &user.user_name,
        user.external_id.as_deref(),
    );
    let custom = store::custom_role(&mut begun.batch, &begun.digest, &user.role);
    let results = begun.batch.run(&ctx.db).await?;
    let caller = resolve(&results, begun.caller)?;
    let collisions = results.first(collisions)?.ok_or_else(Problem::internal)?;
    if collisions.email_taken.is_some() {
        return Err(email_taken(&user.user_name));
    }
    if collisions.external_id_taken.is_some() {
        return Err(external_id_taken());
    }
    let role = role_named(&caller, &user.role, results.first(custom)?)?;
    let plan = caller.org.plan()?;
    let seats = Seats::new(plan, caller.org.extra_seats, caller.org.members_count, 0);
    seats
        .require_free_seat()
        .map_err(|p| user_write_problem(p, &user, seats.total))?;
    let check = SeatCheck {
        org_id: &caller.org.id,
        plan: &caller.org.plan,
        extra_seats: caller.org.extra_seats,
        total: seats.total,
    };
    let row = store::create_user(
        &ctx.db,
        &caller,
        &user,
        (&role.0, role.1),
        collisions.provisioned_user.as_deref(),
        &check,
        ctx.now,
    )
    .await
    .map_err(|p| user_write_problem(p, &user, seats.total))?;
    let base = base(ctx);
    let location = format!("{base}/Users/{}", row.id);
    scim_json(201, &user_of(&base, &row), Some(&location))
}

/// How a User is changed: replaced whole (PUT) or by operations (PATCH).
enum UserWrite {
    Replace(Value),
    Patch(Vec<crate::domain::scim::PatchOp>),
}

/// `PUT /scim/v2/Users/{id}`
pub async fn replace_user(ctx: &Ctx) -> Answer {
    let write = valid(ctx, body(ctx).map(UserWrite::Replace)).await?;
    change_user(ctx, write).await
}

/// `PATCH /scim/v2/Users/{id}` — `add`, `remove` and `replace`, with a path or without.
pub async fn patch_user(ctx: &Ctx) -> Answer {
    let write = valid(
        ctx,
        body(ctx)
            .and_then(|b| patch_ops(&b, Resource::User))
            .map(UserWrite::Patch),
    )
    .await?;
    change_user(ctx, write).await
}

/// Reads the User, then writes the difference (nothing when there is none). The address
/// and external id are guarded unique by the write itself.
async fn change_user(ctx: &Ctx, write: UserWrite) -> Answer {
    let mut begun = begin(ctx)?;
    let row = store::user(&mut begun.batch, &begun.digest, ctx.param("id"));
    let results = begun.batch.run(&ctx.db).await?;
    let caller = resolve(&results, begun.caller)?;
    let row = results.first(row)?.ok_or_else(|| not_found("User"))?;
    let current = attributes_of(&row);
    let user = match &write {
        UserWrite::Replace(body) => UserAttributes::from_body(body, Some(&current))?,
        UserWrite::Patch(ops) => current.patched(ops)?,
    };
    let base = base(ctx);
    if user == current {
        return scim_json(200, &user_of(&base, &row), None);
    }
    let owner = row.role == Role::Owner.as_str();
    if owner && (!user.active || user.role != row.role) {
        return Err(Problem::scim(
            Code::InvalidRequest,
            ScimType::Mutability,
            "The organization's owner cannot be suspended or given another role through SCIM; transfer ownership first.",
        ));
    }
    if user.user_name != current.user_name && row.provisioned == 0 {
        return Err(Problem::scim(
            Code::InvalidRequest,
            ScimType::Mutability,
            "This member has signed in: their userName is the verified email of their sign-in and changes with it.",
        ));
    }
    // Uniqueness is guarded by the write; only a custom role to give needs reading.
    let role = match user.role != row.role {
        false => None,
        true => {
            let custom = match RoleKey::parse(&user.role).map(|k| k.builtin()) {
                Ok(None) => {
                    let mut begun = begin(ctx)?;
                    let custom = store::custom_role(&mut begun.batch, &begun.digest, &user.role);
                    let results = begun.batch.run(&ctx.db).await?;
                    resolve(&results, begun.caller)?;
                    results.first(custom)?
                }
                _ => None,
            };
            Some(role_named(&caller, &user.role, custom)?)
        }
    };
    let updated = store::update_user(
        &ctx.db,
        &caller,
        &row,
        &user,
        role.as_ref().map(|(key, def)| (key, *def)),
        ctx.now,
    )
    .await
    .map_err(|p| match p.code {
        Code::AlreadyMember => uniqueness(&format!(
            "A member of the organization has the userName `{}` or this externalId.",
            user.user_name
        )),
        _ => p,
    })?;
    scim_json(200, &user_of(&base, &updated), None)
}

/// `DELETE /scim/v2/Users/{id}` — removes the member; 204.
pub async fn delete_user(ctx: &Ctx) -> Answer {
    let mut begun = begin(ctx)?;
    let row = store::user(&mut begun.batch, &begun.digest, ctx.param("id"));
    let results = begun.batch.run(&ctx.db).await?;
    let caller = resolve(&results, begun.caller)?;
    let row = results.first(row)?.ok_or_else(|| not_found("User"))?;
    if row.role == Role::Owner.as_str() {
        return Err(Problem::forbidden(
            "The organization's owner cannot be removed through SCIM; transfer ownership first.",
        ));
    }
    store::delete_user(&ctx.db, &caller, &row, ctx.now)
        .await
        .map_err(|p| match p.code {
            Code::NotFound => not_found("User"),
            _ => p,
        })?;
    super::no_content()
}

/// `GET /scim/v2/Groups` — teams matching `filter`, in creation order.
pub async fn list_groups(ctx: &Ctx) -> Answer {
    let query = valid(ctx, query(ctx, Resource::Group)).await?;
    listing(ctx, query, store::groups, group_of).await
}

/// `POST /scim/v2/Groups/.search` — the same, asked in the body.
pub async fn search_groups(ctx: &Ctx) -> Answer {
    let query = valid(ctx, search(ctx, Resource::Group)).await?;
    listing(ctx, query, store::groups, group_of).await
}

/// `POST /scim/v2/.search` — a search across resource types, which Roster does not offer:
/// 501, as RFC 7644 §3.12 answers an operation the service does not support (search each
/// type at `/Users/.search` and `/Groups/.search`).
pub async fn search_all(ctx: &Ctx) -> Answer {
    let begun = begin(ctx)?;
    resolve(&begun.batch.run(&ctx.db).await?, begun.caller)?;
    scim_json(
        501,
        &json!({
            "schemas": [ERROR_SCHEMA],
            "status": "501",
            "detail": "Searching several resource types at once is not supported; search /Users/.search or /Groups/.search.",
        }),
        None,
    )
}

/// `GET /scim/v2/Groups/{id}`
pub async fn get_group(ctx: &Ctx) -> Answer {
    let mut begun = begin(ctx)?;
    let row = store::group(&mut begun.batch, &begun.digest, ctx.param("id"));
    let results = begun.batch.run(&ctx.db).await?;
    resolve(&results, begun.caller)?;
    let row = results.first(row)?.ok_or_else(|| not_found("Group"))?;
    let group = projection(ctx, Resource::Group).apply(group_of(&base(ctx), &row));
    scim_json(200, &group, None)
}

/// The slug of a team named `name`; `invalidValue` when none can be derived.
fn slug_of(name: &str) -> Result<Slug, Problem> {
    Slug::derive(name).ok_or_else(|| {
        invalid_value(
            "`displayName` must contain letters or digits: the team's slug is derived from it.",
        )
    })
}

fn group_taken(problem: Problem) -> Problem {
    match problem.code {
        Code::SlugTaken => Problem::scim(
            Code::SlugTaken,
            ScimType::Uniqueness,
            "A team of the organization has this displayName (or its slug) or this externalId.",
        ),
        _ => problem,
    }
}

/// The user ids of the members named by User id, those that are members of the
/// organization; others are left out.
fn user_ids(known: &[Known], ids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if let Some(k) = known.iter().find(|k| &k.id == id) {
            if !out.contains(&k.user_id) {
                out.push(k.user_id.clone());
            }
        }
    }
    out
}

/// `POST /scim/v2/Groups` — creates a team; members named by User id (ids that are no
/// member of the organization are left out).
pub async fn create_group(ctx: &Ctx) -> Answer {
    let (group, slug) = valid(
        ctx,
        body(ctx)
            .and_then(|b| GroupAttributes::from_body(&b))
            .and_then(|g| slug_of(&g.display_name).map(|slug| (g, slug))),
    )
    .await?;
    let mut begun = begin(ctx)?;
    let named = serde_json::to_string(&group.members).map_err(|_| Problem::internal())?;
    let known = store::known_users(&mut begun.batch, &begun.digest, &named);
    let results = begun.batch.run(&ctx.db).await?;
    let caller = resolve(&results, begun.caller)?;
    let members = user_ids(&results.all(known)?, &group.members);
    let row = store::create_group(
        &ctx.db,
        &caller,
        &group.display_name,
        &slug,
        group.external_id.as_deref(),
        &members,
        ctx.now,
    )
    .await
    .map_err(group_taken)?;
    let base = base(ctx);
    let location = format!("{base}/Groups/{}", row.id);
    scim_json(201, &group_of(&base, &row), Some(&location))
}

/// How a Group is changed.
enum GroupWrite {
    Replace(GroupAttributes),
    Patch(GroupChange),
}

/// `PUT /scim/v2/Groups/{id}`
pub async fn replace_group(ctx: &Ctx) -> Answer {
    let write = valid(
        ctx,
        body(ctx)
            .and_then(|b| GroupAttributes::from_body(&b))
            .map(GroupWrite::Replace),
    )
    .await?;
    change_group(ctx, write).await
}

/// `PATCH /scim/v2/Groups/{id}` — renames, and adds or removes members (also by
/// `members[value eq "…"]`).
pub async fn patch_group(ctx: &Ctx) -> Answer {
    let write = valid(
        ctx,
        body(ctx)
            .and_then(|b| patch_ops(&b, Resource::Group))
            .and_then(|ops| GroupChange::from_ops(&ops))
            .map(GroupWrite::Patch),
    )
    .await?;
    change_group(ctx, write).await
}

async fn change_group(ctx: &Ctx, write: GroupWrite) -> Answer {
    let named: Vec<String> = match &write {
        GroupWrite::Replace(group) => group.members.clone(),
        GroupWrite::Patch(change) => change
            .add
            .iter()
            .chain(change.replace.iter().flatten())
            .cloned()
            .collect(),
    };
    let mut begun = begin(ctx)?;
    let row = store::group(&mut begun.batch, &begun.digest, ctx.param("id"));
    let named_json = serde_json::to_string(&named).map_err(|_| Problem::internal())?;
    let known = store::known_users(&mut begun.batch, &begun.digest, &named_json);
    let results = begun.batch.run(&ctx.db).await?;
    let caller = resolve(&results, begun.caller)?;
    let row = results.first(row)?.ok_or_else(|| not_found("Group"))?;
    let mut known = results.all(known)?;
    let current = members_of(&row);
    known.extend(current.iter().map(|m| Known {
        id: m.value.clone(),
        user_id: m.user_id.clone(),
    }));
    let before: Vec<String> = current.iter().map(|m| m.user_id.clone()).collect();
    let before_ids: Vec<String> = current.iter().map(|m| m.value.clone()).collect();
    let (name, external_id, after_ids) = match &write {
        GroupWrite::Replace(group) => (
            group.display_name.clone(),
            group.external_id.clone(),
            group.members.clone(),
        ),
        GroupWrite::Patch(change) => (
            change
                .display_name
                .clone()
                .unwrap_or_else(|| row.name.clone()),
            change
                .external_id
                .clone()
                .unwrap_or_else(|| row.external_id.clone()),
            change.members_after(&before_ids),
        ),
    };
    let after = user_ids(&known, &after_ids);
    let slug = match name == row.name {
        true => Slug::parse(&row.slug).map_err(|_| Problem::internal())?,
        false => slug_of(&name)?,
    };
    let base = base(ctx);
    let same_members = before.len() == after.len() && after.iter().all(|u| before.contains(u));
    if name == row.name && external_id == row.external_id && same_members {
        return scim_json(200, &group_of(&base, &row), None);
    }
    let updated = store::update_group(
        &ctx.db,
        &caller,
        &row,
        &GroupUpdate {
            name: &name,
            slug: &slug,
            external_id: external_id.as_deref(),
            before: &before,
            after: &after,
        },
        ctx.now,
    )
    .await
    .map_err(|p| match p.code {
        Code::NotFound => not_found("Group"),
        _ => group_taken(p),
    })?;
    scim_json(200, &group_of(&base, &updated), None)
}

/// `DELETE /scim/v2/Groups/{id}` — deletes the team with its grants; 204.
pub async fn delete_group(ctx: &Ctx) -> Answer {
    let mut begun = begin(ctx)?;
    let row = store::group(&mut begun.batch, &begun.digest, ctx.param("id"));
    let results = begun.batch.run(&ctx.db).await?;
    let caller = resolve(&results, begun.caller)?;
    let row = results.first(row)?.ok_or_else(|| not_found("Group"))?;
    store::delete_group(&ctx.db, &caller, &row, ctx.now)
        .await
        .map_err(|p| match p.code {
            Code::NotFound => not_found("Group"),
            _ => p,
        })?;
    super::no_content()
}
