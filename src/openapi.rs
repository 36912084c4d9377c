//! The OpenAPI 3.1 document of Roster's API, served at `/openapi.json`.
//!
//! The schemas are derived from the types the handlers answer with and the request bodies
//! they read (`crate::api`, through `utoipa::ToSchema`), so enumerations and fields cannot
//! drift from the code. What is Roster's own is declared here: the operations of the route
//! table (tests check both lists are the same), and the problems each can answer, rendered
//! from the contract's code table.
//!
//! The document is rendered natively, never in the Worker: `openapi.json` at the project's
//! root is the rendering, embedded in the Worker as a static string, and the test
//! `the_served_document_is_the_derived_one` fails when it is stale. After changing an API
//! type, rewrite it with `UPDATE_OPENAPI=1 cargo test --lib openapi`.

use crate::api::billing::{Billing, ExtraSeatsChanged, LedgerEntry, Usage, UsageRecorded};
use crate::api::console::ConsoleLink;
use crate::api::domains::{Domain, JoinRequest, SuggestedOrganization};
use crate::api::events::{data_schema, WebhookDelivery};
use crate::api::integrations::{
    ApiKey, AuditEntry, NewApiKey, NewScimToken, NewWebhook, ScimToken, Webhook,
};
use crate::api::invitations::{BulkInvitationResults, Invitation, InvitationPreview, MyInvitation};
use crate::api::invite_links::{InviteLink, InviteLinkPreview};
use crate::api::orgs::{DeletedOrganization, Me, Member, Org, OwnershipTransferred};
use crate::api::requests::{AddDomain, UpdateDomain};
use crate::api::requests::{
    AuthorizeQuestion, BulkInvitations, ChangePlan, CreateApiKey, CreateConsoleLink,
    CreateInvitation, CreateOrg, CreateResource, CreateRole, CreateScimToken, CreateWebhook,
    PutGrant, RecordUsage, SetExtraSeats, TransferOwnership, UpdateMember, UpdateOrg,
    UpdateResource, UpdateRole,
};
use crate::api::requests::{CreateInviteLink, CreateTeam, PutTeamGrant, PutTeamMember, UpdateTeam};
use crate::api::resources::{AuthorizeAnswer, GrantOfMember, Resource};
use crate::api::roles::Role as RoleObject;
use crate::api::teams::{Team, TeamGrant, TeamMember};
use crate::api::Health;
use crate::domain::domains::JoinRequestStatus;
use crate::domain::event::WEBHOOK_EVENTS;
use crate::domain::invitation::Status;
use crate::domain::problem::ProblemDetails;
use crate::domain::{Code, Problem};
use crate::http::paging::CURSOR_PATTERN;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// Named schemas, as `ToSchema` collects them.
type Schemas = Vec<(String, RefOr<Schema>)>;

/// Adds the schema of `T`, and those it refers to, to `out`.
fn register<T: ToSchema>(out: &mut Schemas) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

/// `{"$ref": "#/components/schemas/<T's name>"}`
fn reference<T: ToSchema>() -> Value {
    json!({"$ref": format!("#/components/schemas/{}", T::name())})
}

/// A list envelope of `T`s.
fn list_of<T: ToSchema>() -> Value {
    json!({
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": reference::<T>()},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last."}
        }
    })
}

/// A response body: JSON of a schema, or a page of HTML.
enum Body {
    Json(Value),
    Html,
}

/// One operation being described.
pub struct Op {
    id: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    public: bool,
    body: Option<Value>,
    body_required: bool,
    responses: Vec<(u16, &'static str, Option<Body>)>,
    errors: Vec<Code>,
    query: Vec<Value>,
    headers: Vec<Value>,
    list: bool,
    /// The schemas the operation refers to.
    schemas: Vec<fn(&mut Schemas)>,
}

impl Op {
    pub fn new(id: &'static str, summary: &'static str) -> Op {
        Op {
            id,
            summary,
            description: None,
            public: false,
            body: None,
            body_required: true,
            responses: Vec::new(),
            errors: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            list: false,
            schemas: Vec::new(),
        }
    }

    pub fn describe(mut self, text: &'static str) -> Op {
        self.description = Some(text);
        self
    }

    /// No authentication.
    pub fn public(mut self) -> Op {
        self.public = true;
        self
    }

    /// A JSON request body of type `T`.
    pub fn body<T: ToSchema>(mut self) -> Op {
        self.body = Some(reference::<T>());
        self.schemas.push(register::<T>);
        self
    }

    /// A JSON request body of type `T` that may be left out.
    pub fn optional_body<T: ToSchema>(mut self) -> Op {
        self.body_required = false;
        self.body::<T>()
    }

    /// A success response with a JSON body of type `T`.
    pub fn ok<T: ToSchema>(mut self, status: u16, description: &'static str) -> Op {
        self.responses
            .push((status, description, Some(Body::Json(reference::<T>()))));
        self.schemas.push(register::<T>);
        self
    }

    /// A success response whose JSON body is either an `A` or a `B`.
    pub fn ok_either<A: ToSchema, B: ToSchema>(
        mut self,
        status: u16,
        description: &'static str,
    ) -> Op {
        let schema = json!({"oneOf": [reference::<A>(), reference::<B>()]});
        self.responses
            .push((status, description, Some(Body::Json(schema))));
        self.schemas.push(register::<A>);
        self.schemas.push(register::<B>);
        self
    }

    /// A success response with any JSON object.
    pub fn any_json(mut self, status: u16, description: &'static str) -> Op {
        let body = Body::Json(json!({"type": "object"}));
        self.responses.push((status, description, Some(body)));
        self
    }

    /// A response that is a page of HTML.
    pub fn html(mut self, status: u16, description: &'static str) -> Op {
        self.responses.push((status, description, Some(Body::Html)));
        self
    }

    /// A response without a body.
    pub fn empty(mut self, status: u16, description: &'static str) -> Op {
        self.responses.push((status, description, None));
        self
    }

    /// Problems this operation can answer with, besides the ones the builder adds.
    pub fn errors(mut self, codes: &[Code]) -> Op {
        self.errors.extend_from_slice(codes);
        self
    }

    /// A cursor-paginated list of `T`s.
    pub fn list<T: ToSchema>(mut self, description: &'static str) -> Op {
        self.list = true;
        self.responses
            .push((200, description, Some(Body::Json(list_of::<T>()))));
        self.schemas.push(register::<T>);
        self
    }

    /// Takes `limit` and `cursor` for a list inside the answer (which names its own
    /// `next_cursor`).
    pub fn paged(mut self) -> Op {
        self.list = true;
        self
    }

    /// A whole list of `T`s in the list envelope, never paged (`next_cursor` is null).
    pub fn all<T: ToSchema>(mut self, description: &'static str) -> Op {
        self.responses
            .push((200, description, Some(Body::Json(list_of::<T>()))));
        self.schemas.push(register::<T>);
        self
    }

    pub fn query(mut self, name: &str, description: &str, schema: Value) -> Op {
        self.query.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema}));
        self
    }

    pub fn header(mut self, name: &str, required: bool, description: &str, schema: Value) -> Op {
        self.headers.push(json!({"name": name, "in": "header", "required": required, "description": description, "schema": schema}));
        self
    }
}

/// The values of `GET …/invitations?status=`: every status, or `all`.
fn status_filter() -> Value {
    let mut names: Vec<&str> = Status::ALL.map(Status::as_str).to_vec();
    names.push("all");
    json!({"type": "string", "enum": names, "default": "pending"})
}

/// The values of `GET …/join-requests?status=`: every state, or `all`.
fn join_request_filter() -> Value {
    let mut names: Vec<&str> = JoinRequestStatus::ALL
        .map(JoinRequestStatus::as_str)
        .to_vec();
    names.push("all");
    json!({"type": "string", "enum": names, "default": "pending"})
}

/// Descriptions of the path parameters used across the API.
fn path_parameter(name: &str) -> Value {
    let description = match name {
        "slug" => "The organization's slug.",
        "user_id" => "A user's id (the `sub` of their JWT).",
        "token" => "The token from the invitation email's link or the shared invite link.",
        "key" => "A custom role's key.",
        "team" => "A team's slug.",
        _ => "An id Roster returned.",
    };
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

/// The request header that asks a read to be at least as fresh as an earlier response.
fn bookmark_parameter() -> Value {
    json!({
        "name": "Roster-Bookmark",
        "in": "header",
        "required": false,
        "description": "The `Roster-Bookmark` of an earlier response: the read is served at least as fresh as that response (read-your-writes). Without it, a read may come from a nearby replica a little behind the primary. Anything but a bookmark is 400.",
        "schema": {"type": "string", "maxLength": 128, "pattern": "^[0-9a-f]+(-[0-9a-f]+)*$"}
    })
}

fn render(method: &str, path: &str, op: &Op) -> Value {
    let reads = method == "get";
    let mut errors = op.errors.clone();
    if reads {
        errors.push(Code::InvalidRequest);
    }
    if !op.public {
        errors.push(Code::Unauthenticated);
    }
    if path.contains("{slug}") {
        errors.push(Code::NotFound);
    }
    if op.body.is_some() {
        errors.extend([
            Code::InvalidRequest,
            Code::PayloadTooLarge,
            Code::UnsupportedMediaType,
        ]);
    }
    if op.list || !op.query.is_empty() {
        errors.push(Code::InvalidRequest);
    }
    errors.push(Code::Internal);

    let mut responses = Map::new();
    for (status, description, body) in &op.responses {
        let mut response = json!({"description": description});
        match body {
            Some(Body::Json(schema)) => {
                response["content"] = json!({"application/json": {"schema": schema}});
            }
            Some(Body::Html) => {
                response["content"] = json!({"text/html": {"schema": {"type": "string"}}});
            }
            None => {}
        }
        responses.insert(status.to_string(), response);
    }
    let mut by_status: Vec<(u16, Vec<Code>)> = Vec::new();
    for code in errors {
        match by_status.iter_mut().find(|(s, _)| *s == code.status()) {
            Some((_, codes)) if !codes.contains(&code) => codes.push(code),
            Some(_) => {}
            None => by_status.push((code.status(), vec![code])),
        }
    }
    by_status.sort_by_key(|(s, _)| *s);
    for (status, codes) in by_status {
        if responses.contains_key(&status.to_string()) {
            continue;
        }
        let names: Vec<_> = codes.iter().map(|c| format!("`{}`", c.as_str())).collect();
        let examples: Map<String, Value> = codes
            .iter()
            .map(|c| {
                let reference = format!("#/components/examples/{}", c.example_name());
                (c.example_name(), json!({"$ref": reference}))
            })
            .collect();
        let mut response = json!({
            "description": format!("Problem: {}.", names.join(", ")),
            "content": {"application/problem+json": {"schema": reference::<ProblemDetails>(), "examples": examples}}
        });
        let mut headers = Map::new();
        if status == 401 {
            headers.insert(
                "WWW-Authenticate".into(),
                json!({"schema": {"type": "string"}}),
            );
        }
        if codes.contains(&Code::RateLimited) {
            headers.insert(
                "Retry-After".into(),
                json!({"description": "Seconds to wait.", "schema": {"type": "integer"}}),
            );
        }
        if !headers.is_empty() {
            response["headers"] = headers.into();
        }
        responses.insert(status.to_string(), response);
    }

    let mut parameters: Vec<Value> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(path_parameter)
        .collect();
    if op.list {
        parameters.push(json!({"name": "limit", "in": "query", "required": false, "description": "Page size.", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}}));
        parameters.push(json!({"name": "cursor", "in": "query", "required": false, "description": "`next_cursor` of the previous page; empty for the first page.", "schema": {"type": "string", "pattern": format!("^$|{CURSOR_PATTERN}")}}));
    }
    parameters.extend(op.query.iter().cloned());
    parameters.extend(op.headers.iter().cloned());
    if reads {
        parameters.push(bookmark_parameter());
    }

    let mut out = json!({
        "operationId": op.id,
        "summary": op.summary,
        "responses": responses,
    });
    if let Some(d) = op.description {
        out["description"] = json!(d);
    }
    if !parameters.is_empty() {
        out["parameters"] = parameters.into();
    }
    if let Some(body) = &op.body {
        out["requestBody"] = json!({"required": op.body_required, "content": {"application/json": {"schema": body}}});
    }
    if op.public {
        out["security"] = json!([]);
    }
    out
}

/// Every operation: `(method, path, description)`.
fn operations() -> Vec<(&'static str, &'static str, Op)> {
    use Code::*;
    vec![
        ("get", "/health", Op::new("health", "Health of Roster and its stores")
            .public()
            .ok::<Health>(200, "D1 and KV answer.")
            .ok::<Health>(503, "A store does not answer.")),
        ("get", "/openapi.json", Op::new("openapi", "This document").public()
            .any_json(200, "The OpenAPI 3.1 document.")),
        ("get", "/v1/me", Op::new("getMe", "The signed-in user and their organizations")
            .describe("Lists the first 100 organizations; `GET /v1/orgs` pages through all. API keys get 404 here.")
            .ok::<Me>(200, "The user.")
            .errors(&[NotFound])),
        ("get", "/v1/orgs", Op::new("listOrgs", "The caller's organizations, with their role (the organization switcher)")
            .list::<Org>("The organizations, in the order the caller joined them.")
            .errors(&[NotFound])),
        ("post", "/v1/orgs", Op::new("createOrg", "Create an organization; the caller becomes its owner")
            .describe("`slug` is derived from `name` when omitted (ASCII letters and digits, other runs of characters become `-`). `plan` defaults to `free`.")
            .body::<CreateOrg>()
            .ok::<Org>(201, "The organization.")
            .errors(&[SlugTaken, NotFound])),
        ("post", "/v1/orgs/{slug}/transfer-ownership", Op::new("transferOwnership", "Make another member the owner")
            .describe("Owner only. The new owner must be a member; the previous owner becomes admin (member on plans without admin).")
            .body::<TransferOwnership>()
            .ok::<OwnershipTransferred>(200, "Both members, after the transfer.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/members", Op::new("listMembers", "The organization's members")
            .list::<Member>("Members in the order they joined, with their grants.")
            .errors(&[Forbidden])),
        ("patch", "/v1/orgs/{slug}/members/{user_id}", Op::new("updateMember", "Change a member's role")
            .describe("Owner and admin change members and viewers; only the owner grants or takes away `admin`. Takes effect on the member's next request. A member turned viewer keeps `read` at most on their resources.")
            .body::<UpdateMember>()
            .ok::<Member>(200, "The member.")
            .errors(&[Forbidden, OwnerProtected, RoleNotAvailable, Conflict])),
        ("delete", "/v1/orgs/{slug}/members/{user_id}", Op::new("removeMember", "Remove a member, or leave")
            .describe("Frees the seat at once (no refund); the member's grants go, what they created stays; they can be invited again. Any non-owner may remove themselves.")
            .empty(204, "Removed.")
            .errors(&[Forbidden, OwnerProtected, Conflict])),
        ("get", "/v1/orgs/{slug}/invitations", Op::new("listInvitations", "The organization's invitations")
            .list::<Invitation>("Invitations in the order they were created.")
            .query("status", "Which invitations: an invitation past its expiry counts as `expired` at once.", status_filter())
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/invitations", Op::new("createInvitation", "Invite someone by email")
            .describe("Sends one email with the link `{PUBLIC_URL}/invite/{token}`; the token is never returned by the API. The address is trimmed and lower-cased. Pending invitations take no seat, but inviting needs a free seat now. `email_delivery` is `sent` when the provider accepted the email during the request, `queued` when it will be retried, `logged` without a provider.")
            .body::<CreateInvitation>()
            .ok::<Invitation>(201, "The invitation.")
            .errors(&[Forbidden, AlreadyMember, InvitationPending, RoleNotAvailable, GrantExceedsRole, SeatLimitReached, EmailDomainNotAllowed, Conflict])),
        ("post", "/v1/orgs/{slug}/invitations/bulk", Op::new("bulkInvitations", "Invite up to 100 addresses")
            .describe("Each item is judged as a single invitation would be; the answer lists, in order, the invitation or the problem of each.")
            .body::<BulkInvitations>()
            .ok::<BulkInvitationResults>(200, "One result per item.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/invitations/{id}", Op::new("getInvitation", "One invitation")
            .ok::<Invitation>(200, "The invitation.")
            .errors(&[Forbidden])),
        ("delete", "/v1/orgs/{slug}/invitations/{id}", Op::new("cancelInvitation", "Cancel a pending invitation")
            .describe("Its link stops working at once.")
            .empty(204, "Canceled.")
            .errors(&[Forbidden, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, Conflict])),
        ("post", "/v1/orgs/{slug}/invitations/{id}/resend", Op::new("resendInvitation", "Send a pending invitation again")
            .describe("A new token (the old link stops working), the expiry reset, the email again. At most one resend per invitation per 60 seconds, counted from the previous resend; the first is always allowed.")
            .ok::<Invitation>(200, "The invitation.")
            .errors(&[Forbidden, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, RateLimited, Conflict])),
        ("get", "/v1/orgs/{slug}/resources", Op::new("listResources", "The resources the caller can read")
            .describe("Owners and admins read every resource; members and viewers those they hold a grant on; API keys all of them with `resources:read` or `resources:write`, none otherwise. `level` is the caller's.")
            .list::<Resource>("Resources in the order they were created.")),
        ("post", "/v1/orgs/{slug}/resources", Op::new("createResource", "Create a resource")
            .describe("A workspace, property, project — whatever the product calls it; `kind` is free-form. Needs `resources.create` (owner, admin; API keys with `resources:write`).")
            .body::<CreateResource>()
            .ok::<Resource>(201, "The resource.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/resources/{id}", Op::new("getResource", "A resource")
            .describe("Needs `read` on it; a resource the caller cannot read answers 404.")
            .ok::<Resource>(200, "The resource.")),
        ("patch", "/v1/orgs/{slug}/resources/{id}", Op::new("updateResource", "Rename a resource or change its kind")
            .describe("Needs `admin` on it. `kind: null` clears the kind.")
            .body::<UpdateResource>()
            .ok::<Resource>(200, "The resource.")
            .errors(&[Forbidden, Conflict])),
        ("delete", "/v1/orgs/{slug}/resources/{id}", Op::new("deleteResource", "Delete a resource and its grants")
            .describe("Needs `admin` on it.")
            .empty(204, "Deleted.")
            .errors(&[Forbidden, Conflict])),
        ("put", "/v1/orgs/{slug}/resources/{id}/grants/{user_id}", Op::new("putGrant", "Give a member a level on a resource")
            .describe("Needs `admin` on the resource; the user must be a member (else 404). A viewer can hold `read` at most. Replaces any earlier grant of that member.")
            .body::<PutGrant>()
            .ok::<GrantOfMember>(200, "The grant.")
            .errors(&[Forbidden, GrantExceedsRole, Conflict])),
        ("delete", "/v1/orgs/{slug}/resources/{id}/grants/{user_id}", Op::new("deleteGrant", "Take a member's grant away")
            .describe("Needs `admin` on the resource; 404 when the member holds no grant on it.")
            .empty(204, "Removed.")
            .errors(&[Forbidden, Conflict])),
        ("post", "/v1/orgs/{slug}/authorize", Op::new("authorize", "Ask the policy")
            .describe("May user `user_id` (the caller when omitted) hold `permission`, and reach `level` (`read` when omitted) on `resource_id`? `level` in the answer is the user's effective level on the resource (null without one). Someone who is not a member is allowed nothing. Asking about someone else needs `members.manage`, or an API key with `members:read`. The body may be omitted (is the caller a member?). One D1 round trip.")
            .optional_body::<AuthorizeQuestion>()
            .ok::<AuthorizeAnswer>(200, "The policy's answer.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/teams", Op::new("createTeam", "Create a team")
            .describe("Needs `teams.manage` (owner, admin; API keys with `teams:write`). `slug` is derived from `name` when omitted, with the rules of an organization's slug; it is unique within the organization (`slug_taken`). Plans limit the teams: none on `free`, 5 on `pro`, no limit on `business` (`limit_reached`, also when requests at once would pass the limit together).")
            .body::<CreateTeam>()
            .ok::<Team>(201, "The team.")
            .errors(&[Forbidden, SlugTaken, LimitReached, Conflict])),
        ("get", "/v1/orgs/{slug}/teams", Op::new("listTeams", "The organization's teams")
            .describe("Every member; API keys with `teams:read`.")
            .list::<Team>("Teams in the order they were created.")
            .errors(&[Forbidden])),
        ("get", "/v1/orgs/{slug}/teams/{team}", Op::new("getTeam", "A team")
            .describe("Every member; API keys with `teams:read`.")
            .ok::<Team>(200, "The team.")
            .errors(&[Forbidden])),
        ("patch", "/v1/orgs/{slug}/teams/{team}", Op::new("updateTeam", "Rename a team or change its slug")
            .describe("Needs `teams.manage`. At least one field; values already set change nothing and record nothing.")
            .body::<UpdateTeam>()
            .ok::<Team>(200, "The team.")
            .errors(&[Forbidden, SlugTaken, Conflict])),
        ("delete", "/v1/orgs/{slug}/teams/{team}", Op::new("deleteTeam", "Delete a team")
            .describe("Needs `teams.manage`. Its memberships and its grants on resources go with it, at once.")
            .empty(204, "Deleted.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/teams/{team}/members", Op::new("listTeamMembers", "A team's members")
            .describe("Every member; API keys with `teams:read`.")
            .list::<TeamMember>("The team's members, in the order they were added.")
            .errors(&[Forbidden])),
        ("put", "/v1/orgs/{slug}/teams/{team}/members/{user_id}", Op::new("putTeamMember", "Add a member to a team, or change their team role")
            .describe("Needs `teams.manage`, or being a maintainer of that team. The user must be a member of the organization (else 404). The same `team_role` again changes and records nothing.")
            .body::<PutTeamMember>()
            .ok::<TeamMember>(200, "The team's member.")
            .errors(&[Forbidden, Conflict])),
        ("delete", "/v1/orgs/{slug}/teams/{team}/members/{user_id}", Op::new("removeTeamMember", "Take a member out of a team")
            .describe("Needs `teams.manage`, or being a maintainer of that team; 404 when the user is not in the team. What the team's grants gave them ends at once.")
            .empty(204, "Removed.")
            .errors(&[Forbidden, Conflict])),
        ("put", "/v1/orgs/{slug}/resources/{id}/team-grants/{team}", Op::new("putTeamGrant", "Give a team a level on a resource")
            .describe("Needs `admin` on the resource. Every member of the team reaches the level, capped by their role (a viewer reaches `read` at most). Replaces the team's earlier level there.")
            .body::<PutTeamGrant>()
            .ok::<TeamGrant>(200, "The team's grant.")
            .errors(&[Forbidden, Conflict])),
        ("delete", "/v1/orgs/{slug}/resources/{id}/team-grants/{team}", Op::new("deleteTeamGrant", "Take a team's grant away")
            .describe("Needs `admin` on the resource; 404 when the team holds no grant on it.")
            .empty(204, "Removed.")
            .errors(&[Forbidden, Conflict])),
        ("post", "/v1/orgs/{slug}/domains", Op::new("addDomain", "Claim a domain")
            .describe("Needs `org.update` (owner, admin; no API key). Plans `pro` and `business` only: on `free` the answer is 409 `limit_reached` (the plan allows no verified domains). The domain is trimmed, lower-cased, its trailing dot dropped and IDNA-normalised (`Bücher.example` is `xn--bcher-kva.example`); an IP address, a name without a dot or a public email provider (gmail.com, outlook.com, yahoo.com, icloud.com, proton.me, …) is 400 `domain_not_allowed`. A domain another organization has verified: 409 `domain_taken`. The answer says which TXT record to publish; a domain the organization already has is answered 200 as it is.")
            .body::<AddDomain>()
            .ok::<Domain>(201, "The domain, pending.")
            .ok::<Domain>(200, "The organization had the domain already.")
            .errors(&[Forbidden, DomainNotAllowed, DomainTaken, LimitReached, Conflict])),
        ("get", "/v1/orgs/{slug}/domains", Op::new("listDomains", "The organization's domains")
            .describe("Needs `org.update`; plans `pro` and `business`.")
            .list::<Domain>("Domains in the order they were added.")
            .errors(&[Forbidden, LimitReached])),
        ("post", "/v1/orgs/{slug}/domains/{id}/verify", Op::new("verifyDomain", "Verify a domain now")
            .describe("Asks the DNS-over-HTTPS resolver (`DNS_RESOLVER_URL`, JSON form) for the TXT records at `verification.name`; one equal to `verification.value` verifies the domain (`domain.verified`). Otherwise 409 `domain_verification_failed`, whose detail says what was found, and the domain stays as it was. A resolver that fails, times out (5 s) or answers anything but a DNS JSON answer (or more than 64 KiB): 503 `dns_unavailable`, nothing changed. A verified domain is answered as it is. The scheduled job checks pending domains on every run (`failed` after 7 days) and verified ones daily (`failed`, enrollment `off`, once the record has been missing for 7 days).")
            .ok::<Domain>(200, "The domain, verified.")
            .errors(&[Forbidden, DomainTaken, DomainVerificationFailed, DnsUnavailable, LimitReached, Conflict])),
        ("patch", "/v1/orgs/{slug}/domains/{id}", Op::new("updateDomain", "Let people with an email on the domain join")
            .describe("Needs `org.update` and the right to assign the role (no escalation). Verified domains only (409 `domain_not_verified`). `role` is never `owner` or `admin` (400); custom roles are allowed where the plan has them. `teams` are team slugs. At least one field; values already set change and record nothing.")
            .body::<UpdateDomain>()
            .ok::<Domain>(200, "The domain.")
            .errors(&[Forbidden, DomainNotVerified, RoleNotAvailable, LimitReached, Conflict])),
        ("delete", "/v1/orgs/{slug}/domains/{id}", Op::new("removeDomain", "Remove a domain")
            .describe("Needs `org.update`. Nobody joins through it any more; join requests already made stay to be decided.")
            .empty(204, "Removed.")
            .errors(&[Forbidden, LimitReached, Conflict])),
        ("post", "/v1/orgs/{slug}/join", Op::new("joinOrg", "Join, or ask to join, through a verified domain")
            .describe("For a signed-in user who is not a member, whose verified email is on a verified domain of the organization with enrollment on. `auto_join`: 200, a member at once with the domain's role and teams (`joined_via: domain`), seats checked atomically (`seat_limit_reached`). `request`: 202 with a pending join request (`join_request.created`); asked again, 200 with the same request. No such domain, enrollment `off`, or an unverified email: 404. Already a member: 409 `already_member`. API keys get 404.")
            .ok_either::<Member, JoinRequest>(200, "The new member (`auto_join`), or the pending join request asked for before (`request`).")
            .ok::<JoinRequest>(202, "The join request, pending.")
            .errors(&[AlreadyMember, SeatLimitReached, RoleNotAvailable, Conflict])),
        ("get", "/v1/orgs/{slug}/join-requests", Op::new("listJoinRequests", "Requests to join the organization")
            .describe("Needs `members.manage` (API keys with `members:read`).")
            .list::<JoinRequest>("Join requests, oldest first.")
            .query("status", "Which requests.", join_request_filter())
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/join-requests/{id}/approve", Op::new("approveJoinRequest", "Approve a join request")
            .describe("Needs `members.manage` (API keys with `members:write`). The requester becomes a member (`joined_via: join_request`) with the role and teams of the organization's verified domain for their email (`member`, no teams, when it has none any more); a seat must be free (`seat_limit_reached`, checked atomically). An approved request is answered with the member again; a denied one is 409 `conflict`; a requester who became a member meanwhile 409 `already_member`.")
            .ok::<Member>(200, "The new member.")
            .errors(&[Forbidden, AlreadyMember, SeatLimitReached, RoleNotAvailable, Conflict])),
        ("post", "/v1/orgs/{slug}/join-requests/{id}/deny", Op::new("denyJoinRequest", "Deny a join request")
            .describe("Needs `members.manage` (API keys with `members:write`). Denying a denied request again changes nothing; an approved one is 409 `conflict`.")
            .empty(204, "Denied.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/me/suggested-organizations", Op::new("suggestedOrgs", "Organizations I could join by my email's domain")
            .describe("Organizations with a verified domain equal to the domain of the caller's verified email, enrollment not `off`, that the caller is not in, with the caller's latest join request there. An unverified email gets an empty list. Not paged (`next_cursor` is null). API keys get 404.")
            .all::<SuggestedOrganization>("The organizations.")
            .errors(&[NotFound])),
        ("get", "/v1/invitations/{token}", Op::new("previewInvitation", "What an invitation link is for")
            .public()
            .describe("No sign-in needed. Answered 200 in every state, with `status`; an invitation past its expiry is `expired`. The invitee's address is shown only as a hint. An invitation of a deleted organization answers 410 `invitation_canceled`, saying nothing of the organization.")
            .ok::<InvitationPreview>(200, "The invitation's preview.")
            .errors(&[NotFound, InvitationCanceled, RateLimited])),
        ("post", "/v1/invitations/{token}/accept", Op::new("acceptInvitation", "Accept an invitation")
            .describe("The token's email must equal the invitation's (case-insensitive, exact otherwise) and be verified. Takes a seat atomically: concurrent accepts never exceed the seats, and a token works once. Grants in the invitation are applied.")
            .ok::<Member>(200, "The new member.")
            .errors(&[NotFound, EmailMismatch, EmailNotVerified, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, AlreadyMember, RoleNotAvailable, SeatLimitReached, Conflict, RateLimited])),
        ("post", "/v1/invitations/{token}/decline", Op::new("declineInvitation", "Decline an invitation")
            .describe("Same email rules as accepting.")
            .empty(204, "Declined.")
            .errors(&[NotFound, EmailMismatch, EmailNotVerified, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, RateLimited])),
        ("get", "/invite/{token}", Op::new("invitationPage", "The page the email link opens")
            .public()
            .describe("HTML for the person who clicked the link: who invited them to what, as which role, until when, and a button to `{APP_URL}/accept-invite?token=…`. 200 when pending; 404 (unknown) or 410 (expired, canceled, used) with a page saying so. Never cached or indexed; strict CSP.")
            .html(200, "The invitation page.")
            .html(404, "The link is not valid.")
            .html(410, "The invitation can no longer be used.")
            .errors(&[RateLimited])),
        ("get", "/v1/orgs/{slug}/invite-links", Op::new("listInviteLinks", "The organization's invite links")
            .describe("Needs `members.manage` (API keys: `invitations:write`). Every link, revoked, expired and used-up ones too, in creation order; never their `url`.")
            .list::<InviteLink>("The links.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/invite-links", Op::new("createInviteLink", "Create an invite link")
            .describe("One link, many joiners. Needs `members.manage` and the right to assign `role` (as for inviting). `url`, `{PUBLIC_URL}/join/{token}`, is in this answer only: Roster keeps the token's SHA-256. Whoever opens it and signs in with a verified email within `allowed_domains` and the organization's `allowed_email_domains` joins as `role`, in `teams`, until it expires (`expires_in`, default 7 days), is revoked, or has been used `max_uses` times (absent: unlimited).")
            .body::<CreateInviteLink>()
            .ok::<InviteLink>(201, "The link, with its `url`.")
            .errors(&[Forbidden, RoleNotAvailable, Conflict])),
        ("delete", "/v1/orgs/{slug}/invite-links/{id}", Op::new("revokeInviteLink", "Revoke an invite link")
            .describe("Needs `members.manage`. The link stops working at once (its preview says `revoked`); who joined through it stays. A link already revoked answers the same.")
            .empty(204, "Revoked.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/invite-links/{token}", Op::new("previewInviteLink", "What an invite link is for")
            .public()
            .describe("No sign-in needed. Answered 200 in every state, with `status`. Limited per client address with the other public token endpoints (429 `rate_limited`).")
            .ok::<InviteLinkPreview>(200, "The link's preview.")
            .errors(&[NotFound, RateLimited])),
        ("post", "/v1/invite-links/{token}/join", Op::new("joinByInviteLink", "Join an organization through an invite link")
            .describe("The caller's email must be verified and within the link's `allowed_domains` and the organization's `allowed_email_domains` (403 `email_domain_not_allowed`). Takes a seat and a use of the link atomically: parallel joins never pass `max_uses` or the seats. The member's `joined_via` is `invite_link`.")
            .ok::<Member>(200, "The new member.")
            .errors(&[NotFound, EmailNotVerified, EmailDomainNotAllowedToJoin, AlreadyMember, RoleNotAvailable, SeatLimitReached, InviteLinkExpired, InviteLinkRevoked, InviteLinkExhausted, Conflict, RateLimited])),
        ("get", "/join/{token}", Op::new("inviteLinkPage", "The page an invite link opens")
            .public()
            .describe("HTML for whoever opened a shared invite link: which organization, as which role, until when, and a button to `{APP_URL}/join?token=…`. 200 while the link is active; 404 (unknown) or 410 (expired, revoked, used up) with a page saying so. Never cached or indexed; strict CSP.")
            .html(200, "The invite link's page.")
            .html(404, "The link is not valid.")
            .html(410, "The link can no longer be used.")
            .errors(&[RateLimited])),
        ("get", "/v1/me/deleted-organizations", Op::new("deletedOrgs", "Deleted organizations I can restore")
            .describe("Organizations the caller owned when they were deleted, until their purge (`purge_at`). API keys get 404 here.")
            .list::<DeletedOrganization>("Deleted organizations, in creation order.")
            .errors(&[NotFound])),
        ("get", "/v1/me/invitations", Op::new("myInvitations", "Pending invitations addressed to me")
            .describe("Invitations to the caller's email, only while it is verified (otherwise the list is empty): the pending-invitations step of onboarding.")
            .list::<MyInvitation>("Pending invitations, oldest first.")
            .errors(&[NotFound])),
        ("post", "/v1/me/invitations/{id}/accept", Op::new("acceptMyInvitation", "Accept one of my invitations")
            .describe("As accepting by token; an invitation addressed to someone else answers 404.")
            .ok::<Member>(200, "The new member.")
            .errors(&[NotFound, EmailNotVerified, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, AlreadyMember, RoleNotAvailable, SeatLimitReached, Conflict])),
        ("post", "/v1/me/invitations/{id}/decline", Op::new("declineMyInvitation", "Decline one of my invitations")
            .empty(204, "Declined.")
            .errors(&[NotFound, EmailNotVerified, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed])),
        ("get", "/v1/orgs/{slug}", Op::new("getOrg", "An organization")
            .ok::<Org>(200, "The organization.")),
        ("patch", "/v1/orgs/{slug}", Op::new("updateOrg", "Change an organization's name, slug or logo")
            .describe("Owner and admin. `logo_url: null` removes the logo. `allowed_email_domains` limits invitations (409 `email_domain_not_allowed`) and joins through invite links (403 `email_domain_not_allowed`) to addresses at those domains; `[]` admits any.")
            .body::<UpdateOrg>()
            .ok::<Org>(200, "The organization.")
            .errors(&[Forbidden, SlugTaken, Conflict])),
        ("delete", "/v1/orgs/{slug}", Op::new("deleteOrg", "Delete an organization")
            .describe("Owner only. Access ends at once for every member and API key (the organization answers as if it did not exist); pending invitations are canceled and their links stop working. Everything else — members, grants, billing, API keys, webhooks — is kept until the purge, `ORG_GRACE_SECONDS` later (30 days by default), and until then the slug stays reserved and the owner can restore it (`POST /v1/orgs/{slug}/restore`).")
            .empty(204, "Deleted.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/roles", Op::new("listRoles", "The organization's roles")
            .describe("Every member (API keys with `members:read`). The four built-in roles first (owner, admin, member, viewer), each as its row of the policy, then the custom roles in creation order. Not paged: an organization has at most 25 custom roles.")
            .all::<RoleObject>("The roles.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/roles", Op::new("createRole", "Define a custom role")
            .describe("Needs `roles.manage`; no API key may. Business plan only, at most 25 per organization (else 409 `limit_reached`). The role's permissions, floor and cap must be within the caller's own role (else 403). `org.read` is always included; `org.delete`, `billing.manage` and `admins.manage` never can be (400). A key that is a built-in role's name or already taken: 409 `role_key_taken`.")
            .body::<CreateRole>()
            .ok::<RoleObject>(201, "The role.")
            .errors(&[Forbidden, RoleKeyTaken, LimitReached, Conflict])),
        ("patch", "/v1/orgs/{slug}/roles/{key}", Op::new("updateRole", "Change a custom role")
            .describe("Needs `roles.manage`; the role as it is and as it becomes must both be within the caller's own. Holders have the new definition on their next request; a lower cap lowers their grants to it. Built-in roles: 409 `role_builtin`.")
            .body::<UpdateRole>()
            .ok::<RoleObject>(200, "The role.")
            .errors(&[Forbidden, RoleBuiltin, Conflict])),
        ("delete", "/v1/orgs/{slug}/roles/{key}", Op::new("deleteRole", "Delete a custom role")
            .describe("Needs `roles.manage`. A role held by members, or given by pending invitations, verified domains' enrollment or invite links not revoked, needs `reassign_to`, the role they get instead (the caller must be able to assign it; never `admin` while domains enroll with the role); else 409 `role_in_use`. Reassignment and deletion happen in one transaction, each member's change recorded as `member.role_changed`. Built-in roles: 409 `role_builtin`.")
            .query("reassign_to", "The role that the holders get instead: a built-in role but owner, or another custom role.", json!({"type": "string", "pattern": "^[a-z0-9-]{3,32}$"}))
            .empty(204, "Deleted.")
            .errors(&[Forbidden, RoleBuiltin, RoleInUse, RoleNotAvailable, Conflict])),
        ("post", "/v1/orgs/{slug}/restore", Op::new("restoreOrg", "Undo the deletion of an organization")
            .describe("Only the user who was its owner when it was deleted, until its purge; anyone else gets 404, as for an organization that does not exist. Everything comes back as it was: members, grants, billing, API keys, webhooks (invitations canceled by the deletion stay canceled). An organization already restored answers the same.")
            .ok::<Org>(200, "The organization, restored.")
            .errors(&[NotFound, Conflict])),
        ("get", "/v1/orgs/{slug}/api-keys", Op::new("listApiKeys", "The organization's API keys")
            .describe("Owner and admin. Keys that have not been revoked, in creation order, without their secrets.")
            .list::<ApiKey>("The keys.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/api-keys", Op::new("createApiKey", "Issue an API key")
            .describe("Owner and admin; no API key can manage keys. `secret` (`rk_` and 43 base64url characters) is in this answer only: Roster keeps its SHA-256. The key acts only under this organization's paths (elsewhere 404) and only within its `scopes` (else 403 `forbidden`); requests made with it are recorded in the audit log with the actor `{type: \"api_key\", id}`. A scope named twice counts once.")
            .body::<CreateApiKey>()
            .ok::<NewApiKey>(201, "The key, with its secret.")
            .errors(&[Forbidden, Conflict])),
        ("delete", "/v1/orgs/{slug}/api-keys/{id}", Op::new("revokeApiKey", "Revoke an API key")
            .describe("Owner and admin. The key stops working at once: requests made with it get 401.")
            .empty(204, "Revoked.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/scim-tokens", Op::new("listScimTokens", "The organization's SCIM tokens")
            .describe("Owner and admin. Tokens that have not been revoked, in creation order, without their secrets.")
            .list::<ScimToken>("The tokens.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/scim-tokens", Op::new("createScimToken", "Issue a SCIM token")
            .describe("Owner and admin; no API key can. Business plan only (else 409 `limit_reached`). `secret` (`scim_` and 43 base64url characters) is in this answer only: Roster keeps its SHA-256. The organization's identity provider sends it as `Authorization: Bearer <secret>` to the SCIM 2.0 service at `{PUBLIC_URL}/scim/v2` (RFC 7643/7644; described by its own `ServiceProviderConfig`, `ResourceTypes` and `Schemas`, not by this document), which manages the organization's members as Users and its teams as Groups. Changes made with it are recorded in the audit log with the actor `{type: \"scim_token\", id}`.")
            .body::<CreateScimToken>()
            .ok::<NewScimToken>(201, "The token, with its secret.")
            .errors(&[Forbidden, LimitReached, Conflict])),
        ("delete", "/v1/orgs/{slug}/scim-tokens/{id}", Op::new("revokeScimToken", "Revoke a SCIM token")
            .describe("Owner and admin. The token stops working at once: SCIM requests made with it get 401.")
            .empty(204, "Revoked.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/webhooks", Op::new("listWebhooks", "The organization's webhook endpoints")
            .describe("Owner and admin. Endpoints in creation order, without their secrets. An endpoint whose deliveries failed 20 times in a row is disabled: `disabled_at` and `disabled_reason` say when and why; it receives nothing more until it is deleted and created again.")
            .list::<Webhook>("The endpoints.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/webhooks", Op::new("createWebhook", "Add a webhook endpoint")
            .describe("Owner and admin. `url` must be https, without credentials, and not an IP literal of a loopback, private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), link-local (169.254/16, fe80::/10), unspecified or reserved address, however written (`https://2130706433` is 127.0.0.1); `localhost` counts as loopback. A deployment with `ALLOW_HTTP_WEBHOOKS=true` (local tests) also accepts http and loopback, never link-local or unspecified addresses. `secret` (`whsec_…`) is in this answer only; see the `event` webhook for how deliveries are signed and retried.")
            .body::<CreateWebhook>()
            .ok::<NewWebhook>(201, "The endpoint, with its signing secret.")
            .errors(&[Forbidden, Conflict])),
        ("delete", "/v1/orgs/{slug}/webhooks/{id}", Op::new("deleteWebhook", "Delete a webhook endpoint")
            .describe("Owner and admin. Deliveries still queued for it are dropped.")
            .empty(204, "Deleted.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/audit-log", Op::new("getAuditLog", "The organization's audit log")
            .describe("Owner and admin. Every change, newest first (pages continue to older entries). `action` uses the webhook event names where one fits (`organization.updated`, `member.added`, …); the others are `organization.created`, `organization.deleted`, `organization.ownership_transferred`, `invitation.resent`, `billing.plan_changed`, `usage.recorded`, `resource.created|updated|deleted`, `grant.set|removed`, `team_grant.set|removed`, `api_key.created|revoked`, `scim_token.created|revoked` and `webhook.created|deleted|disabled`. The actor is a user, an API key, a SCIM token (`scim_token`, for changes the identity provider made) or the scheduled job (`system`).")
            .list::<AuditEntry>("The entries, newest first.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/console-links", Op::new("createConsoleLink", "A one-time link into the console, the hosted team pages")
            .describe("Any member, with their own JWT; API keys get 403 (a key never opens a session as a person). `url` (`{PUBLIC_URL}/console/enter/{code}`) works once, within 5 minutes: it sets the session cookie (8 hours at most, ended by an idle hour) and leads to the organization's members page. The pages show and do what the person's role allows, through the same rules as the API. `return_url`, on `APP_URL`'s origin (else 400), is where the console's \"Back to the app\" link leads.")
            .optional_body::<CreateConsoleLink>()
            .ok::<ConsoleLink>(201, "The link.")
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/billing", Op::new("getBilling", "Plan, seats and credits")
            .describe("Owner and admin, or an API key with `billing:read`. Shows the period that contains now, even before the scheduled job has rolled an ended one. `seats.extra_next_period` is the extra seat count the next period starts with when a decrease is scheduled, null otherwise.")
            .ok::<Billing>(200, "The organization's billing.")
            .errors(&[Forbidden])),
        ("put", "/v1/orgs/{slug}/billing/plan", Op::new("changePlan", "Change the plan")
            .describe("Owner only. Upgrades take effect at once. A downgrade is refused with `plan_downgrade_blocked` while the members exceed the new plan's seats (included plus extra) or hold a role it lacks; the check is atomic with accepting invitations and changing roles. Extra seats stay on `pro` and `business`; moving to `free`, which has none, drops them at once without a refund. Credits included follow the new plan at once; what was used this period still counts. Plan changes are not written to the ledger (a plan's price belongs to the product's payment flow); they are recorded in the audit log and announced as `seats.changed`.")
            .body::<ChangePlan>()
            .ok::<Billing>(200, "The billing after the change (unchanged when the plan is the same).")
            .errors(&[Forbidden, PlanDowngradeBlocked, Conflict])),
        ("put", "/v1/orgs/{slug}/billing/seats", Op::new("setExtraSeats", "Set the number of extra seats")
            .describe("Owner only; `pro` and `business` (`free` answers `extra_seats_not_available` for anything above 0). Raising adds the seats at once and charges them pro rata, `ceil(500 * added * (period_end - now) / (period_end - period_start))` cents, written to the ledger; it also cancels a scheduled decrease. Lowering takes effect when the next period starts (`seats.extra_next_period`) and costs nothing; it is refused with `seats_in_use` when the members would not fit, and a decrease never leaves members without a seat when it takes effect. Setting the current number again cancels a scheduled decrease. Identical requests at once charge once: the others find the seats set and answer them with `charge_cents` 0.")
            .body::<SetExtraSeats>()
            .ok::<ExtraSeatsChanged>(200, "The seats and what the change cost now.")
            .errors(&[Forbidden, ExtraSeatsNotAvailable, SeatsInUse, Conflict])),
        ("get", "/v1/orgs/{slug}/billing/ledger", Op::new("listLedger", "Charges")
            .describe("Owner and admin, or an API key with `billing:read`. Kinds: `extra_seats` (seats bought mid-period, pro rata).")
            .list::<LedgerEntry>("Entries, oldest first.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/usage", Op::new("recordUsage", "Consume shared credits")
            .describe("Owner, admin and member (not viewer), or an API key with `usage:write`. Users consume as themselves (`user_id`, if sent, must be their own, else 403); an API key must name the member in `user_id` (400 without it, 404 for someone who is not a member, 403 for a viewer). The balance never goes below zero: when the credits left do not cover `amount`, 402 `insufficient_credits` and nothing is recorded. The same `Idempotency-Key` again answers the first answer (201, same body) and charges nothing, also when the retries arrive in parallel; the same key with another amount, feature or member answers 409 `idempotency_key_reused`. Keys are kept per organization for good.")
            .header("Idempotency-Key", true, "Required: 1–255 visible ASCII characters, unique per usage event and repeated on its retries.",
                json!({"type": "string", "pattern": "^[ \\t]*[\\x21-\\x7E]{1,255}[ \\t]*$"}))
            .body::<RecordUsage>()
            .ok::<UsageRecorded>(201, "Recorded (or replayed).")
            .errors(&[Forbidden, InsufficientCredits, IdempotencyKeyReused, Conflict])),
        ("get", "/v1/orgs/{slug}/usage", Op::new("getUsage", "Credits used this period")
            .describe("Every member sees the totals. Owners and admins (and API keys with `usage:read`) see a row for each member who used credits this period (those who left since included), most first, a page at a time (`limit`, `cursor`; the ranking moves as credits are used, so a page is as of its request); other members see only their own row, if they used any. An API key without `usage:read` gets 403.")
            .paged()
            .ok::<Usage>(200, "The period's usage.")
            .errors(&[Forbidden])),
    ]
}

/// The deliveries Roster makes to webhook endpoints (OpenAPI 3.1 `webhooks`): one per
/// event, its `data` described by the type the store records.
fn webhooks(schemas: &mut Schemas) -> Value {
    let mut hooks = Map::new();
    for event in WEBHOOK_EVENTS {
        let data = data_schema(event, schemas);
        let body = json!({"allOf": [reference::<WebhookDelivery>(), {
            "type": "object",
            "properties": {
                "type": {"const": event.as_str()},
                "data": {"$ref": format!("#/components/schemas/{data}")}
            }
        }]});
        hooks.insert(
            event.as_str().to_string(),
            json!({"post": {
                "operationId": format!("webhook.{}", event.as_str()),
                "summary": format!("`{}`, POSTed to every endpoint subscribed to it", event.as_str()),
                "description": WEBHOOK_DELIVERY,
                "security": [],
                "parameters": [
                    {"name": "Roster-Signature", "in": "header", "required": true, "description": "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>`", "schema": {"type": "string", "pattern": "^t=[0-9]+,v1=[0-9a-f]{64}$"}},
                    {"name": "Roster-Event-Id", "in": "header", "required": true, "description": "The event's id, stable across retries.", "schema": {"type": "string"}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
                "responses": {
                    "2XX": {"description": "Received. Anything else, or no answer within 10 seconds, is retried."}
                }
            }}),
        );
    }
    Value::Object(hooks)
}

/// How every webhook delivery is made, signed and retried.
const WEBHOOK_DELIVERY: &str = "Sent right after the change commits. Verify `Roster-Signature` before trusting the body: compute HMAC-SHA256 with the endpoint's secret over `<t>.<body>` (the raw body bytes), compare its hex with `v1` in constant time, and refuse a `t` more than 5 minutes from your clock. Delivery is at least once: deduplicate by `Roster-Event-Id` (the same as the body's `id` and the audit entry's). Any answer other than 2xx within 10 seconds is a failure; redirects are not followed. A failed delivery is retried by the scheduled job (every 15 minutes) no sooner than 0 s, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h and 16 h after each failure, then given up after 9 attempts; each attempt is signed anew. After 20 failed deliveries in a row the endpoint is disabled.";

/// The schemas every part of the document refers to, by name.
fn components(operations: &[(&str, &str, Op)], mut collected: Schemas) -> Value {
    register::<ProblemDetails>(&mut collected);
    register::<WebhookDelivery>(&mut collected);
    for (_, _, op) in operations {
        for add in &op.schemas {
            add(&mut collected);
        }
    }
    let schemas: BTreeMap<String, RefOr<Schema>> = collected.into_iter().collect();
    let examples: Map<String, Value> = Code::ALL
        .iter()
        .map(|c| {
            let problem = Problem::new(*c, c.title()).body();
            let example = json!({"summary": c.title(), "value": problem});
            (c.example_name(), example)
        })
        .collect();
    json!({
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A JWT from the product's identity provider (HS256, EdDSA, ES256 or RS256; `iss`, `aud` and `exp` checked with 60 s leeway; a token whose header lists `crit` extensions is refused, since Roster understands none), or an organization API key `rk_…`, which acts only under its own organization's paths and within its scopes."
            }
        },
        "schemas": schemas,
        "examples": examples,
    })
}

/// The whole document.
pub fn document() -> Value {
    let operations = operations();
    let mut schemas = Schemas::new();
    let webhooks = webhooks(&mut schemas);
    let mut paths = Map::new();
    for (method, path, op) in &operations {
        let item = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        item[*method] = render(method, path, op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Roster",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Organizations, members, roles, invitations by email, seats, shared credits and per-resource permissions for multi-tenant SaaS products. Errors are RFC 9457 problem details with a stable `code`. Lists are cursor-paginated (`limit` ≤ 100, `cursor`) and in creation order. Every response carries `x-request-id` and a `Server-Timing` entry naming its D1 round trips, and every response that read or wrote the database a `Roster-Bookmark`: sent back on a later read, that read sees at least as much (reads are otherwise served by the nearest replica, which may lag the primary by a moment; writes always go to the primary). `HEAD` is answered wherever `GET` is, with the same status and headers and no body; another method on a known path is 405 with `Allow`. A request is judged in this order: credentials (401), the organization (404 to anyone who is not a member), the body and query (400), then the permission (403). Writes that race are answered as if they had come one after another: a write that finds the state it read has moved is decided again on the state it lost to (an invitation just resent answers 429, a member just removed 404, a change already made 200 without making or recording it again); `conflict` is left for a state that kept moving.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "webhooks": webhooks,
        "components": components(&operations, schemas),
    })
}

/// The document as `openapi.json` holds it: pretty-printed, with a final newline.
pub fn rendered() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::EventType;
    use crate::domain::policy::{Permission, Scope};

    fn names(schema: &Value) -> Vec<&str> {
        schema["enum"]
            .as_array()
            .map(|values| values.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_served_document_is_the_derived_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        let derived = rendered();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &derived).expect("openapi.json is writable");
        }
        let served = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            served == derived,
            "openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --lib openapi`"
        );
    }

    #[test]
    fn enumerations_are_the_domains() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(names(&schemas["Scope"]), Scope::ALL.map(Scope::as_str));
        assert_eq!(
            names(&schemas["Permission"]),
            Permission::ALL.map(Permission::as_str)
        );
        assert_eq!(
            names(&schemas["WebhookEvent"]),
            WEBHOOK_EVENTS.map(EventType::as_str)
        );
        assert_eq!(
            names(&schemas["ProblemCode"]),
            Code::distinct().map(Code::as_str).collect::<Vec<_>>()
        );
        assert_eq!(names(&schemas["Plan"]), ["free", "pro", "business"]);
    }

    #[test]
    fn every_operation_documents_its_problems_and_every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for reference in text.split("#/components/schemas/").skip(1) {
            let name: String = reference
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "dangling reference to {name}");
        }
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("500"), "{method} {path}");
                if op.get("security") != Some(&json!([])) {
                    assert!(
                        responses.contains_key("401"),
                        "{method} {path} is authenticated"
                    );
                }
            }
        }
    }

    #[test]
    fn request_bodies_refuse_unknown_fields() {
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(body) =
                    op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
                else {
                    continue;
                };
                let name = body.rsplit('/').next().unwrap_or_default();
                assert_eq!(
                    doc["components"]["schemas"][name]["additionalProperties"],
                    json!(false),
                    "{method} {path}: {name}"
                );
            }
        }
    }
}
