//! The OpenAPI 3.1 document of Roster's API, built at compile time by `build.rs` and served
//! at `/openapi.json`. Tests check that it lists exactly the routes of `routes.rs`.
//!
//! Operations are declared compactly; the builder adds what every operation of a kind
//! shares (path parameters, security, the problems of authentication, bodies and lists),
//! and renders every error response from the contract's code table.

use super::domain::event::WEBHOOK_EVENTS;
use super::domain::problem::Code;
use serde_json::{json, Map, Value};

/// One operation being described.
pub struct Op {
    id: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    public: bool,
    body: Option<Value>,
    body_required: bool,
    responses: Vec<(u16, &'static str, Option<Value>)>,
    errors: Vec<Code>,
    query: Vec<Value>,
    headers: Vec<Value>,
    list: bool,
}

/// The contract's permission names (the tests check them against the policy's).
const PERMISSIONS: [&str; 11] = [
    "org.read",
    "org.update",
    "org.delete",
    "members.manage",
    "admins.manage",
    "billing.read",
    "billing.manage",
    "usage.consume",
    "usage.read_all",
    "resources.create",
    "integrations.manage",
];

/// `{"$ref": "#/components/schemas/<name>"}`
pub fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A list envelope of `item` schemas.
pub fn list_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": {"type": "array", "items": schema(item)},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last."}
        }
    })
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

    /// A JSON request body of schema `name`.
    pub fn body(mut self, name: &str) -> Op {
        self.body = Some(schema(name));
        self
    }

    /// A JSON request body of schema `name` that may be left out.
    pub fn optional_body(mut self, name: &str) -> Op {
        self.body_required = false;
        self.body(name)
    }

    /// A success response (`schema` = `None` for an empty body).
    pub fn ok(mut self, status: u16, description: &'static str, schema: Option<Value>) -> Op {
        self.responses.push((status, description, schema));
        self
    }

    /// Problems this operation can answer with, besides the ones the builder adds.
    pub fn errors(mut self, codes: &[Code]) -> Op {
        self.errors.extend_from_slice(codes);
        self
    }

    /// A cursor-paginated list of `item`.
    pub fn list(mut self, item: &str, description: &'static str) -> Op {
        self.list = true;
        self.responses.push((200, description, Some(list_of(item))));
        self
    }

    pub fn query(mut self, name: &str, description: &str, schema: Value) -> Op {
        self.query.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema}));
        self
    }

    pub fn header(mut self, name: &str, required: bool, description: &str) -> Op {
        self.headers.push(json!({"name": name, "in": "header", "required": required, "description": description, "schema": {"type": "string"}}));
        self
    }
}

/// The API key scopes (`domain::policy::Scope`; a test keeps the two lists equal).
const SCOPES: [&str; 8] = [
    "members:read",
    "members:write",
    "invitations:write",
    "resources:read",
    "resources:write",
    "usage:read",
    "usage:write",
    "billing:read",
];

/// Descriptions of the path parameters used across the API.
fn path_parameter(name: &str) -> Value {
    let description = match name {
        "slug" => "The organization's slug.",
        "user_id" => "A user's id (the `sub` of their JWT).",
        "token" => "The invitation token from the email link.",
        _ => "An id Roster returned.",
    };
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn render(path: &str, op: Op) -> Value {
    let mut errors = op.errors.clone();
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
        if let Some(body) = body {
            response["content"] = json!({"application/json": {"schema": body}});
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
        let names: Vec<_> = codes.iter().map(|c| format!("`{}`", c.as_str())).collect();
        let examples: Map<String, Value> = codes
            .iter()
            .map(|c| {
                (
                    c.as_str().to_string(),
                    json!({"summary": c.title(), "value": {
                        "type": format!("https://roster.dev/problems/{}", c.as_str()),
                        "title": c.title(), "status": status, "detail": c.title(), "code": c.as_str()
                    }}),
                )
            })
            .collect();
        let mut response = json!({
            "description": format!("Problem: {}.", names.join(", ")),
            "content": {"application/problem+json": {"schema": schema("Problem"), "examples": examples}}
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
        parameters.push(json!({"name": "cursor", "in": "query", "required": false, "description": "`next_cursor` of the previous page.", "schema": {"type": "string"}}));
    }
    parameters.extend(op.query);
    parameters.extend(op.headers);

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
    if let Some(body) = op.body {
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
            .ok(200, "D1 and KV answer.", Some(schema("Health")))
            .ok(503, "A store does not answer.", Some(schema("Health")))),
        ("get", "/openapi.json", Op::new("openapi", "This document").public()
            .ok(200, "The OpenAPI 3.1 document.", Some(json!({"type": "object"})))),
        ("get", "/v1/me", Op::new("getMe", "The signed-in user and their organizations")
            .describe("Lists the first 100 organizations; `GET /v1/orgs` pages through all. API keys get 404 here.")
            .ok(200, "The user.", Some(schema("Me")))
            .errors(&[NotFound])),
        ("get", "/v1/orgs", Op::new("listOrgs", "The caller's organizations, with their role (the organization switcher)")
            .list("Org", "The organizations, in the order the caller joined them.")
            .errors(&[NotFound])),
        ("post", "/v1/orgs", Op::new("createOrg", "Create an organization; the caller becomes its owner")
            .describe("`slug` is derived from `name` when omitted (ASCII letters and digits, other runs of characters become `-`). `plan` defaults to `free`.")
            .body("CreateOrg")
            .ok(201, "The organization.", Some(schema("Org")))
            .errors(&[SlugTaken, NotFound])),
        ("post", "/v1/orgs/{slug}/transfer-ownership", Op::new("transferOwnership", "Make another member the owner")
            .describe("Owner only. The new owner must be a member; the previous owner becomes admin (member on plans without admin).")
            .body("TransferOwnership")
            .ok(200, "Both members, after the transfer.", Some(schema("OwnershipTransferred")))
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/members", Op::new("listMembers", "The organization's members")
            .list("Member", "Members in the order they joined, with their grants.")
            .errors(&[Forbidden])),
        ("patch", "/v1/orgs/{slug}/members/{user_id}", Op::new("updateMember", "Change a member's role")
            .describe("Owner and admin change members and viewers; only the owner grants or takes away `admin`. Takes effect on the member's next request. A member turned viewer keeps `read` at most on their resources.")
            .body("UpdateMember")
            .ok(200, "The member.", Some(schema("Member")))
            .errors(&[Forbidden, OwnerProtected, RoleNotAvailable, Conflict])),
        ("delete", "/v1/orgs/{slug}/members/{user_id}", Op::new("removeMember", "Remove a member, or leave")
            .describe("Frees the seat at once (no refund); the member's grants go, what they created stays; they can be invited again. Any non-owner may remove themselves.")
            .ok(204, "Removed.", None)
            .errors(&[Forbidden, OwnerProtected, Conflict])),
        ("get", "/v1/orgs/{slug}/invitations", Op::new("listInvitations", "The organization's invitations")
            .list("Invitation", "Invitations in the order they were created.")
            .query("status", "Which invitations: an invitation past its expiry counts as `expired` at once.", json!({"type": "string", "enum": ["pending", "accepted", "expired", "canceled", "declined", "all"], "default": "pending"}))
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/invitations", Op::new("createInvitation", "Invite someone by email")
            .describe("Sends one email with the link `{PUBLIC_URL}/invite/{token}`; the token is never returned by the API. The address is trimmed and lower-cased. Pending invitations take no seat, but inviting needs a free seat now. `email_delivery` is `sent` when the provider accepted the email during the request, `queued` when it will be retried, `logged` without a provider.")
            .body("CreateInvitation")
            .ok(201, "The invitation.", Some(schema("Invitation")))
            .errors(&[Forbidden, AlreadyMember, InvitationPending, RoleNotAvailable, GrantExceedsRole, SeatLimitReached, Conflict])),
        ("post", "/v1/orgs/{slug}/invitations/bulk", Op::new("bulkInvitations", "Invite up to 100 addresses")
            .describe("Each item is judged as a single invitation would be; the answer lists, in order, the invitation or the problem of each.")
            .body("BulkInvitations")
            .ok(200, "One result per item.", Some(schema("BulkInvitationResults")))
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/invitations/{id}", Op::new("getInvitation", "One invitation")
            .ok(200, "The invitation.", Some(schema("Invitation")))
            .errors(&[Forbidden])),
        ("delete", "/v1/orgs/{slug}/invitations/{id}", Op::new("cancelInvitation", "Cancel a pending invitation")
            .describe("Its link stops working at once.")
            .ok(204, "Canceled.", None)
            .errors(&[Forbidden, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, Conflict])),
        ("post", "/v1/orgs/{slug}/invitations/{id}/resend", Op::new("resendInvitation", "Send a pending invitation again")
            .describe("A new token (the old link stops working), the expiry reset, the email again. At most one resend per invitation per 60 seconds, counted from the previous resend; the first is always allowed.")
            .ok(200, "The invitation.", Some(schema("Invitation")))
            .errors(&[Forbidden, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, RateLimited, Conflict])),
        ("get", "/v1/orgs/{slug}/resources", Op::new("listResources", "The resources the caller can read")
            .describe("Owners and admins read every resource; members and viewers those they hold a grant on; API keys all of them with `resources:read` or `resources:write`, none otherwise. `level` is the caller's.")
            .list("Resource", "Resources in the order they were created.")),
        ("post", "/v1/orgs/{slug}/resources", Op::new("createResource", "Create a resource")
            .describe("A workspace, property, project — whatever the product calls it; `kind` is free-form. Needs `resources.create` (owner, admin; API keys with `resources:write`).")
            .body("CreateResource")
            .ok(201, "The resource.", Some(schema("Resource")))
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/resources/{id}", Op::new("getResource", "A resource")
            .describe("Needs `read` on it; a resource the caller cannot read answers 404.")
            .ok(200, "The resource.", Some(schema("Resource")))),
        ("patch", "/v1/orgs/{slug}/resources/{id}", Op::new("updateResource", "Rename a resource or change its kind")
            .describe("Needs `admin` on it. `kind: null` clears the kind.")
            .body("UpdateResource")
            .ok(200, "The resource.", Some(schema("Resource")))
            .errors(&[Forbidden, Conflict])),
        ("delete", "/v1/orgs/{slug}/resources/{id}", Op::new("deleteResource", "Delete a resource and its grants")
            .describe("Needs `admin` on it.")
            .ok(204, "Deleted.", None)
            .errors(&[Forbidden, Conflict])),
        ("put", "/v1/orgs/{slug}/resources/{id}/grants/{user_id}", Op::new("putGrant", "Give a member a level on a resource")
            .describe("Needs `admin` on the resource; the user must be a member (else 404). A viewer can hold `read` at most. Replaces any earlier grant of that member.")
            .body("PutGrant")
            .ok(200, "The grant.", Some(schema("GrantOfMember")))
            .errors(&[Forbidden, GrantExceedsRole, Conflict])),
        ("delete", "/v1/orgs/{slug}/resources/{id}/grants/{user_id}", Op::new("deleteGrant", "Take a member's grant away")
            .describe("Needs `admin` on the resource; 404 when the member holds no grant on it.")
            .ok(204, "Removed.", None)
            .errors(&[Forbidden, Conflict])),
        ("post", "/v1/orgs/{slug}/authorize", Op::new("authorize", "Ask the policy")
            .describe("May user `user_id` (the caller when omitted) hold `permission`, and reach `level` (`read` when omitted) on `resource_id`? `level` in the answer is the user's effective level on the resource (null without one). Someone who is not a member is allowed nothing. Asking about someone else needs `members.manage`, or an API key with `members:read`. The body may be omitted (is the caller a member?). One D1 round trip.")
            .optional_body("AuthorizeQuestion")
            .ok(200, "The policy's answer.", Some(schema("AuthorizeAnswer")))
            .errors(&[Forbidden])),
        ("get", "/v1/invitations/{token}", Op::new("previewInvitation", "What an invitation link is for")
            .public()
            .describe("No sign-in needed. Answered 200 in every state, with `status`; an invitation past its expiry is `expired`. The invitee's address is shown only as a hint.")
            .ok(200, "The invitation's preview.", Some(schema("InvitationPreview")))
            .errors(&[NotFound])),
        ("post", "/v1/invitations/{token}/accept", Op::new("acceptInvitation", "Accept an invitation")
            .describe("The token's email must equal the invitation's (case-insensitive, exact otherwise) and be verified. Takes a seat atomically: concurrent accepts never exceed the seats, and a token works once. Grants in the invitation are applied.")
            .ok(200, "The new member.", Some(schema("Member")))
            .errors(&[NotFound, EmailMismatch, EmailNotVerified, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, AlreadyMember, RoleNotAvailable, SeatLimitReached, Conflict])),
        ("post", "/v1/invitations/{token}/decline", Op::new("declineInvitation", "Decline an invitation")
            .describe("Same email rules as accepting.")
            .ok(204, "Declined.", None)
            .errors(&[NotFound, EmailMismatch, EmailNotVerified, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed])),
        ("get", "/invite/{token}", Op::new("invitationPage", "The page the email link opens")
            .public()
            .describe("HTML for the person who clicked the link: who invited them to what, as which role, until when, and a button to `{APP_URL}/accept-invite?token=…`. 200 when pending; 404 (unknown) or 410 (expired, canceled, used) with a page saying so. Never cached or indexed; strict CSP.")
            .ok(200, "The invitation page.", Some(json!({"type": "string", "contentMediaType": "text/html"})))
            .ok(404, "The link is not valid.", Some(json!({"type": "string", "contentMediaType": "text/html"})))
            .ok(410, "The invitation can no longer be used.", Some(json!({"type": "string", "contentMediaType": "text/html"})))),
        ("get", "/v1/me/invitations", Op::new("myInvitations", "Pending invitations addressed to me")
            .describe("Invitations to the caller's email, only while it is verified (otherwise the list is empty): the pending-invitations step of onboarding.")
            .list("MyInvitation", "Pending invitations, oldest first.")
            .errors(&[NotFound])),
        ("post", "/v1/me/invitations/{id}/accept", Op::new("acceptMyInvitation", "Accept one of my invitations")
            .describe("As accepting by token; an invitation addressed to someone else answers 404.")
            .ok(200, "The new member.", Some(schema("Member")))
            .errors(&[NotFound, EmailNotVerified, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed, AlreadyMember, RoleNotAvailable, SeatLimitReached, Conflict])),
        ("post", "/v1/me/invitations/{id}/decline", Op::new("declineMyInvitation", "Decline one of my invitations")
            .ok(204, "Declined.", None)
            .errors(&[NotFound, EmailNotVerified, InvitationExpired, InvitationCanceled, InvitationAlreadyUsed])),
        ("get", "/v1/orgs/{slug}", Op::new("getOrg", "An organization")
            .ok(200, "The organization.", Some(schema("Org")))),
        ("patch", "/v1/orgs/{slug}", Op::new("updateOrg", "Change an organization's name, slug or logo")
            .describe("Owner and admin. `logo_url: null` removes the logo.")
            .body("UpdateOrg")
            .ok(200, "The organization.", Some(schema("Org")))
            .errors(&[Forbidden, SlugTaken, Conflict])),
        ("delete", "/v1/orgs/{slug}", Op::new("deleteOrg", "Delete an organization")
            .describe("Owner only. Access ends at once for every member and API key; pending invitations are canceled and their links stop working; the slug becomes free.")
            .ok(204, "Deleted.", None)
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/api-keys", Op::new("listApiKeys", "The organization's API keys")
            .describe("Owner and admin. Keys that have not been revoked, in creation order, without their secrets.")
            .list("ApiKey", "The keys.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/api-keys", Op::new("createApiKey", "Issue an API key")
            .describe("Owner and admin; no API key can manage keys. `secret` (`rk_` and 43 base64url characters) is in this answer only: Roster keeps its SHA-256. The key acts only under this organization's paths (elsewhere 404) and only within its `scopes` (else 403 `forbidden`); requests made with it are recorded in the audit log with the actor `{type: \"api_key\", id}`. A scope named twice counts once.")
            .body("CreateApiKey")
            .ok(201, "The key, with its secret.", Some(schema("NewApiKey")))
            .errors(&[Forbidden, Conflict])),
        ("delete", "/v1/orgs/{slug}/api-keys/{id}", Op::new("revokeApiKey", "Revoke an API key")
            .describe("Owner and admin. The key stops working at once: requests made with it get 401.")
            .ok(204, "Revoked.", None)
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/webhooks", Op::new("listWebhooks", "The organization's webhook endpoints")
            .describe("Owner and admin. Endpoints in creation order, without their secrets. An endpoint whose deliveries failed 20 times in a row is disabled: `disabled_at` and `disabled_reason` say when and why; it receives nothing more until it is deleted and created again.")
            .list("Webhook", "The endpoints.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/webhooks", Op::new("createWebhook", "Add a webhook endpoint")
            .describe("Owner and admin. `url` must be https, without credentials, and not an IP literal of a loopback, private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), link-local (169.254/16, fe80::/10), unspecified or reserved address, however written (`https://2130706433` is 127.0.0.1); `localhost` counts as loopback. A deployment with `ALLOW_HTTP_WEBHOOKS=true` (local tests) also accepts http and loopback, never link-local or unspecified addresses. `secret` (`whsec_…`) is in this answer only; see the `event` webhook for how deliveries are signed and retried.")
            .body("CreateWebhook")
            .ok(201, "The endpoint, with its signing secret.", Some(schema("NewWebhook")))
            .errors(&[Forbidden, Conflict])),
        ("delete", "/v1/orgs/{slug}/webhooks/{id}", Op::new("deleteWebhook", "Delete a webhook endpoint")
            .describe("Owner and admin. Deliveries still queued for it are dropped.")
            .ok(204, "Deleted.", None)
            .errors(&[Forbidden, Conflict])),
        ("get", "/v1/orgs/{slug}/audit-log", Op::new("getAuditLog", "The organization's audit log")
            .describe("Owner and admin. Every change, newest first (pages continue to older entries). `action` uses the webhook event names where one fits (`organization.updated`, `member.added`, …); the others are `organization.created`, `organization.deleted`, `organization.ownership_transferred`, `invitation.resent`, `billing.plan_changed`, `usage.recorded`, `resource.created|updated|deleted`, `grant.set|removed`, `api_key.created|revoked` and `webhook.created|deleted|disabled`.")
            .list("AuditEntry", "The entries, newest first.")
            .errors(&[Forbidden])),
        ("get", "/v1/orgs/{slug}/billing", Op::new("getBilling", "Plan, seats and credits")
            .describe("Owner and admin, or an API key with `billing:read`. Shows the period that contains now, even before the scheduled job has rolled an ended one. `seats.extra_next_period` is the extra seat count the next period starts with when a decrease is scheduled, null otherwise.")
            .ok(200, "The organization's billing.", Some(schema("Billing")))
            .errors(&[Forbidden])),
        ("put", "/v1/orgs/{slug}/billing/plan", Op::new("changePlan", "Change the plan")
            .describe("Owner only. Upgrades take effect at once. A downgrade is refused with `plan_downgrade_blocked` while the members exceed the new plan's seats (included plus extra) or hold a role it lacks; the check is atomic with accepting invitations and changing roles. Extra seats stay on `pro` and `business`; moving to `free`, which has none, drops them at once without a refund. Credits included follow the new plan at once; what was used this period still counts. Plan changes are not written to the ledger (a plan's price belongs to the product's payment flow); they are recorded in the audit log and announced as `seats.changed`.")
            .body("ChangePlan")
            .ok(200, "The billing after the change (unchanged when the plan is the same).", Some(schema("Billing")))
            .errors(&[Forbidden, PlanDowngradeBlocked, Conflict])),
        ("put", "/v1/orgs/{slug}/billing/seats", Op::new("setExtraSeats", "Set the number of extra seats")
            .describe("Owner only; `pro` and `business` (`free` answers `extra_seats_not_available` for anything above 0). Raising adds the seats at once and charges them pro rata, `ceil(500 * added * (period_end - now) / (period_end - period_start))` cents, written to the ledger; it also cancels a scheduled decrease. Lowering takes effect when the next period starts (`seats.extra_next_period`) and costs nothing; it is refused with `seats_in_use` when the members would not fit, and a decrease never leaves members without a seat when it takes effect. Setting the current number again cancels a scheduled decrease. Concurrent changes answer `conflict` rather than charging twice.")
            .body("SetExtraSeats")
            .ok(200, "The seats and what the change cost now.", Some(schema("ExtraSeatsChanged")))
            .errors(&[Forbidden, ExtraSeatsNotAvailable, SeatsInUse, Conflict])),
        ("get", "/v1/orgs/{slug}/billing/ledger", Op::new("listLedger", "Charges")
            .describe("Owner and admin, or an API key with `billing:read`. Kinds: `extra_seats` (seats bought mid-period, pro rata).")
            .list("LedgerEntry", "Entries, oldest first.")
            .errors(&[Forbidden])),
        ("post", "/v1/orgs/{slug}/usage", Op::new("recordUsage", "Consume shared credits")
            .describe("Owner, admin and member (not viewer), or an API key with `usage:write`. Users consume as themselves (`user_id`, if sent, must be their own, else 403); an API key must name the member in `user_id` (400 without it, 404 for someone who is not a member, 403 for a viewer). The balance never goes below zero: when the credits left do not cover `amount`, 402 `insufficient_credits` and nothing is recorded. The same `Idempotency-Key` again answers the first answer (201, same body) and charges nothing, also when the retries arrive in parallel; the same key with another amount, feature or member answers 409 `idempotency_key_reused`. Keys are kept per organization for good.")
            .header("Idempotency-Key", true, "Required: 1–255 visible ASCII characters, unique per usage event and repeated on its retries.")
            .body("RecordUsage")
            .ok(201, "Recorded (or replayed).", Some(schema("UsageRecorded")))
            .errors(&[Forbidden, InsufficientCredits, IdempotencyKeyReused, Conflict])),
        ("get", "/v1/orgs/{slug}/usage", Op::new("getUsage", "Credits used this period")
            .describe("Every member sees the totals. Owners and admins (and API keys with `usage:read`) see a row per member — every current member, then anyone who used credits this period and has left since; other members see only their own row. An API key without `usage:read` gets 403.")
            .ok(200, "The period's usage.", Some(schema("Usage")))
            .errors(&[Forbidden])),
    ]
}

/// The deliveries Roster makes to webhook endpoints (OpenAPI 3.1 `webhooks`).
fn webhooks() -> Value {
    json!({
        "event": {
            "post": {
                "operationId": "webhookEvent",
                "summary": "An event, POSTed to every endpoint subscribed to its type",
                "description": "Sent right after the change commits. Verify `Roster-Signature` before trusting the body: compute HMAC-SHA256 with the endpoint's secret over `<t>.<body>` (the raw body bytes), compare its hex with `v1` in constant time, and refuse a `t` more than 5 minutes from your clock. Delivery is at least once: deduplicate by `Roster-Event-Id` (the same as the body's `id` and the audit entry's). Any answer other than 2xx within 10 seconds is a failure; redirects are not followed. A failed delivery is retried by the scheduled job (every 15 minutes) no sooner than 0 s, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h and 16 h after each failure, then given up after 9 attempts; each attempt is signed anew. After 20 failed deliveries in a row the endpoint is disabled.",
                "security": [],
                "parameters": [
                    {"name": "Roster-Signature", "in": "header", "required": true, "description": "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>`", "schema": {"type": "string", "pattern": "^t=[0-9]+,v1=[0-9a-f]{64}$"}},
                    {"name": "Roster-Event-Id", "in": "header", "required": true, "description": "The event's id, stable across retries.", "schema": {"type": "string"}}
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": schema("WebhookDelivery")}}},
                "responses": {
                    "2XX": {"description": "Received. Anything else, or no answer within 10 seconds, is retried."}
                }
            }
        }
    })
}

fn components() -> Value {
    let role = json!({"type": "string", "enum": ["owner", "admin", "member", "viewer"]});
    let scope = json!({"type": "string", "enum": SCOPES});
    let events: Vec<&str> = WEBHOOK_EVENTS.iter().map(|e| e.as_str()).collect();
    let event = json!({"type": "string", "enum": events});
    let time =
        json!({"type": "string", "format": "date-time", "examples": ["2026-11-23T10:00:00Z"]});
    let mut schemas = Map::new();
    let part = json!({
        "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details.",
                "required": ["type", "title", "status", "detail", "code"],
                "properties": {
                    "type": {"type": "string", "format": "uri"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "code": {"type": "string", "enum": Code::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>()},
                    "errors": {
                        "type": "array",
                        "description": "The invalid fields (`invalid_request` only).",
                        "items": {"type": "object", "required": ["field", "message"], "properties": {
                            "field": {"type": "string"}, "message": {"type": "string"}
                        }}
                    }
                }
            },
        "Health": {
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["ok", "error"]},
                    "d1": {"type": "string", "enum": ["ok", "error"]},
                    "kv": {"type": "string", "enum": ["ok", "error"]}
                }
            },
        "Role": role,
        "Org": {
                "type": "object",
                "required": ["id", "slug", "name", "logo_url", "plan", "created_at", "role"],
                "properties": {
                    "id": {"type": "string"},
                    "slug": {"type": "string"},
                    "name": {"type": "string"},
                    "logo_url": {"type": ["string", "null"], "format": "uri"},
                    "plan": {"type": "string", "enum": ["free", "pro", "business"]},
                    "created_at": time,
                    "role": {"description": "The caller's role; null for an API key.", "oneOf": [schema("Role"), {"type": "null"}]}
                }
            },
        "CreateOrg": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "slug": {"$ref": "#/components/schemas/Slug"},
                    "plan": {"type": "string", "enum": ["free", "pro", "business"], "default": "free"}
                }
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    let part = json!({
        "UpdateOrg": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "slug": {"$ref": "#/components/schemas/Slug"},
                    "logo_url": {"type": ["string", "null"], "format": "uri", "description": "An https URL of at most 2,048 characters."}
                }
            },
        "Slug": {
                "type": "string",
                "pattern": "^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$",
                "description": "3–48 characters of a-z, 0-9 and -, not starting or ending with -; some words (admin, api, settings, …) are reserved."
            },
        "Level": {"type": "string", "enum": ["read", "write", "admin"]},
        "Grant": {
                "type": "object",
                "required": ["resource_id", "level"],
                "properties": {"resource_id": {"type": "string"}, "level": schema("Level")}
            },
        "Resource": {
                "type": "object",
                "required": ["id", "name", "kind", "created_by", "created_at", "level"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "kind": {"type": ["string", "null"]},
                    "created_by": {"type": ["string", "null"], "description": "The user or API key that created it."},
                    "created_at": time,
                    "level": {"description": "The caller's level on it.", "oneOf": [schema("Level"), {"type": "null"}]}
                }
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    let part = json!({
        "CreateResource": {
                "type": "object", "additionalProperties": false, "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "kind": {"type": "string", "maxLength": 50}
                }
            },
        "UpdateResource": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "kind": {"type": ["string", "null"], "maxLength": 50}
                }
            },
        "PutGrant": {
                "type": "object", "additionalProperties": false, "required": ["level"],
                "properties": {"level": schema("Level")}
            },
        "GrantOfMember": {
                "type": "object", "required": ["resource_id", "user_id", "level"],
                "properties": {"resource_id": {"type": "string"}, "user_id": {"type": "string"}, "level": schema("Level")}
            },
        "AuthorizeQuestion": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "user_id": {"type": "string"},
                    "permission": {"type": "string", "enum": PERMISSIONS},
                    "resource_id": {"type": "string"},
                    "level": schema("Level")
                }
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    let part = json!({
        "AuthorizeAnswer": {
                "type": "object", "required": ["allowed", "role", "level"],
                "properties": {
                    "allowed": {"type": "boolean"},
                    "role": {"oneOf": [schema("Role"), {"type": "null"}]},
                    "level": {"oneOf": [schema("Level"), {"type": "null"}]}
                }
            },
        "Member": {
                "type": "object",
                "required": ["user_id", "email", "name", "role", "joined_at", "last_active_at", "grants"],
                "properties": {
                    "user_id": {"type": "string"},
                    "email": {"type": ["string", "null"]},
                    "name": {"type": ["string", "null"]},
                    "role": schema("Role"),
                    "joined_at": time,
                    "last_active_at": time,
                    "grants": {"type": "array", "items": schema("Grant")}
                }
            },
        "UpdateMember": {
                "type": "object", "additionalProperties": false, "required": ["role"],
                "properties": {"role": {"type": "string", "enum": ["admin", "member", "viewer"]}}
            },
        "TransferOwnership": {
                "type": "object", "additionalProperties": false, "required": ["user_id"],
                "properties": {"user_id": {"type": "string"}}
            },
        "OwnershipTransferred": {
                "type": "object", "required": ["owner", "previous_owner"],
                "properties": {"owner": schema("Member"), "previous_owner": schema("Member")}
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    let part = json!({
        "InvitationStatus": {"type": "string", "enum": ["pending", "accepted", "declined", "expired", "canceled"]},
        "Invitation": {
                "type": "object",
                "required": ["id", "email", "role", "status", "invited_by", "created_at", "expires_at", "accepted_at", "email_delivery"],
                "properties": {
                    "id": {"type": "string"},
                    "email": {"type": "string"},
                    "role": {"type": "string", "enum": ["admin", "member", "viewer"]},
                    "status": schema("InvitationStatus"),
                    "invited_by": {"type": "object", "properties": {
                        "user_id": {"type": ["string", "null"]},
                        "email": {"type": ["string", "null"]},
                        "name": {"type": ["string", "null"]},
                        "api_key_id": {"type": ["string", "null"], "description": "Set when an API key sent the invitation."}
                    }},
                    "grants": {"type": "array", "items": schema("Grant")},
                    "created_at": time,
                    "expires_at": time,
                    "accepted_at": {"oneOf": [time, {"type": "null"}]},
                    "email_delivery": {"type": "string", "enum": ["sent", "queued", "failed", "logged"]}
                }
            },
        "CreateInvitation": {
                "type": "object", "additionalProperties": false, "required": ["email", "role"],
                "properties": {
                    "email": {"type": "string", "format": "email", "description": "ASCII; trimmed and lower-cased."},
                    "role": {"type": "string", "enum": ["admin", "member", "viewer"]},
                    "grants": {"type": "array", "maxItems": 100, "items": schema("Grant"), "description": "Applied on accept; a viewer's are capped at `read`."}
                }
            },
        "BulkInvitations": {
                "type": "object", "additionalProperties": false, "required": ["invitations"],
                "properties": {"invitations": {"type": "array", "minItems": 1, "maxItems": 100, "items": schema("CreateInvitation")}}
            },
        "BulkInvitationResults": {
                "type": "object", "required": ["results"],
                "properties": {"results": {"type": "array", "items": {"type": "object", "properties": {
                    "email": {"type": ["string", "null"]},
                    "invitation": schema("Invitation"),
                    "error": schema("Problem")
                }}}}
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    let part = json!({
        "InvitationPreview": {
                "type": "object",
                "required": ["organization", "role", "invited_by", "email_hint", "status", "expires_at"],
                "properties": {
                    "organization": {"type": "object", "properties": {
                        "slug": {"type": "string"}, "name": {"type": "string"}, "logo_url": {"type": ["string", "null"]}
                    }},
                    "role": {"type": "string"},
                    "invited_by": {"type": "object", "properties": {"name": {"type": ["string", "null"]}}},
                    "email_hint": {"type": "string", "examples": ["a***@example.com"]},
                    "status": schema("InvitationStatus"),
                    "expires_at": time
                }
            },
        "MyInvitation": {
                "type": "object",
                "required": ["id", "organization", "role", "invited_by", "expires_at"],
                "properties": {
                    "id": {"type": "string"},
                    "organization": {"type": "object", "properties": {
                        "slug": {"type": "string"}, "name": {"type": "string"}, "logo_url": {"type": ["string", "null"]}
                    }},
                    "role": {"type": "string"},
                    "invited_by": {"type": "object", "properties": {"name": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]}}},
                    "expires_at": time
                }
            },
        "Me": {
                "type": "object",
                "required": ["user_id", "email", "email_verified", "name", "organizations"],
                "properties": {
                    "user_id": {"type": "string"},
                    "email": {"type": ["string", "null"]},
                    "email_verified": {"type": "boolean"},
                    "name": {"type": ["string", "null"]},
                    "organizations": {"type": "array", "items": {"type": "object", "properties": {
                        "slug": {"type": "string"}, "name": {"type": "string"}, "role": schema("Role")
                    }}}
                }
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    let part = json!({
        "Scope": scope,
        "WebhookEvent": event,
        "ApiKey": {
                "type": "object",
                "required": ["id", "name", "scopes", "prefix", "created_at", "last_used_at"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "scopes": {"type": "array", "items": schema("Scope")},
                    "prefix": {"type": "string", "description": "The secret's first characters, to tell keys apart.", "examples": ["rk_3fZq9T"]},
                    "created_at": time,
                    "last_used_at": {"description": "Kept to the minute.", "oneOf": [time, {"type": "null"}]}
                }
            },
        "NewApiKey": {
                "allOf": [schema("ApiKey"), {
                    "type": "object",
                    "required": ["secret"],
                    "properties": {"secret": {"type": "string", "pattern": "^rk_[A-Za-z0-9_-]{43}$", "description": "Shown this once; send it as `Authorization: Bearer <secret>`."}}
                }]
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    let part = json!({
        "CreateApiKey": {
                "type": "object",
                "additionalProperties": false,
                "required": ["name", "scopes"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 100},
                    "scopes": {"type": "array", "items": schema("Scope"), "description": "May be empty: such a key can read the organization and nothing else."}
                }
            },
        "Webhook": {
                "type": "object",
                "required": ["id", "url", "events", "created_at", "failure_count", "disabled_at", "disabled_reason"],
                "properties": {
                    "id": {"type": "string"},
                    "url": {"type": "string", "format": "uri"},
                    "events": {"type": "array", "items": schema("WebhookEvent")},
                    "created_at": time,
                    "failure_count": {"type": "integer", "description": "Deliveries failed in a row; 0 after a success."},
                    "disabled_at": {"oneOf": [time, {"type": "null"}]},
                    "disabled_reason": {"type": ["string", "null"]}
                }
            },
        "NewWebhook": {
                "allOf": [schema("Webhook"), {
                    "type": "object",
                    "required": ["secret"],
                    "properties": {"secret": {"type": "string", "pattern": "^whsec_[A-Za-z0-9_-]{43}$", "description": "Shown this once: the key of every delivery's signature."}}
                }]
            },
        "CreateWebhook": {
                "type": "object",
                "additionalProperties": false,
                "required": ["url", "events"],
                "properties": {
                    "url": {"type": "string", "format": "uri", "maxLength": 2048},
                    "events": {"type": "array", "minItems": 1, "items": schema("WebhookEvent")}
                }
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    let part = json!({
        "WebhookDelivery": {
                "type": "object",
                "required": ["id", "type", "created_at", "organization", "data"],
                "properties": {
                    "id": {"type": "string", "description": "The event id, also sent as `Roster-Event-Id`."},
                    "type": schema("WebhookEvent"),
                    "created_at": time,
                    "organization": {"type": "object", "required": ["id", "slug"], "properties": {"id": {"type": "string"}, "slug": {"type": "string"}}},
                    "data": {"type": "object", "description": "What changed, by event type."}
                }
            },
        "AuditEntry": {
                "type": "object",
                "required": ["id", "at", "actor", "action", "target", "data"],
                "properties": {
                    "id": {"type": "string", "description": "For webhook events, also the event id."},
                    "at": time,
                    "actor": {"type": "object", "required": ["type", "id"], "properties": {
                        "type": {"type": "string", "enum": ["user", "api_key", "system"]},
                        "id": {"type": ["string", "null"], "description": "The user or key; null for the system (the scheduled job)."}
                    }},
                    "action": {"type": "string", "examples": ["organization.updated"]},
                    "target": {"type": "object", "required": ["type", "id"], "properties": {
                        "type": {"type": ["string", "null"], "examples": ["organization", "api_key", "webhook"]},
                        "id": {"type": ["string", "null"]}
                    }},
                    "data": {"type": "object"}
                }
            }
    });
    if let Value::Object(part) = part {
        schemas.extend(part);
    }
    if let Value::Object(billing) = billing_schemas(&time) {
        schemas.extend(billing);
    }
    json!({
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A JWT from the product's identity provider (HS256, EdDSA, ES256 or RS256; `iss`, `aud` and `exp` checked with 60 s leeway), or an organization API key `rk_…`, which acts only under its own organization's paths and within its scopes."
            }
        },
        "schemas": schemas,
    })
}

/// Schemas of plans, seats, credits and the ledger (their own `json!`, which nests deep).
fn billing_schemas(time: &Value) -> Value {
    json!({
        "Seats": {
            "type": "object",
            "required": ["included", "extra", "total", "used", "available", "pending_invitations", "extra_next_period"],
            "properties": {
                "included": {"type": "integer", "description": "Seats the plan includes."},
                "extra": {"type": "integer", "description": "Extra seats this period."},
                "total": {"type": "integer", "description": "`included + extra`."},
                "used": {"type": "integer", "description": "Members, the owner included."},
                "available": {"type": "integer"},
                "pending_invitations": {"type": "integer", "description": "Pending invitations take no seat until accepted."},
                "extra_next_period": {"type": ["integer", "null"], "description": "The extra seats the next period starts with when a decrease is scheduled; null otherwise."}
            }
        },
        "Credits": {
            "type": "object",
            "required": ["included", "used", "remaining"],
            "properties": {
                "included": {"type": "integer", "description": "Credits the plan includes per period."},
                "used": {"type": "integer"},
                "remaining": {"type": "integer", "minimum": 0}
            }
        },
        "Billing": {
            "type": "object",
            "required": ["plan", "period_start", "period_end", "seats", "credits"],
            "properties": {
                "plan": {"type": "string", "enum": ["free", "pro", "business"]},
                "period_start": time,
                "period_end": {"description": "Periods are calendar months from the organization's creation; a day a month lacks falls on its last day.", "allOf": [time]},
                "seats": schema("Seats"),
                "credits": schema("Credits")
            }
        },
        "ChangePlan": {
            "type": "object", "additionalProperties": false, "required": ["plan"],
            "properties": {"plan": {"type": "string", "enum": ["free", "pro", "business"]}}
        },
        "SetExtraSeats": {
            "type": "object", "additionalProperties": false, "required": ["extra"],
            "properties": {"extra": {"type": "integer", "minimum": 0, "maximum": 10000, "description": "The extra seats wanted."}}
        },
        "ExtraSeatsChanged": {
            "type": "object", "required": ["seats", "charge_cents"],
            "properties": {
                "seats": schema("Seats"),
                "charge_cents": {"type": "integer", "minimum": 0, "description": "Charged now for the seats added (0 when lowering or unchanged)."}
            }
        },
        "LedgerEntry": {
            "type": "object",
            "required": ["id", "at", "kind", "quantity", "amount_cents", "description"],
            "properties": {
                "id": {"type": "string"},
                "at": time,
                "kind": {"type": "string", "enum": ["extra_seats"]},
                "quantity": {"type": "integer", "description": "Seats added."},
                "amount_cents": {"type": "integer"},
                "description": {"type": "string"}
            }
        },
        "RecordUsage": {
            "type": "object", "additionalProperties": false, "required": ["amount", "feature"],
            "properties": {
                "amount": {"type": "integer", "minimum": 1, "maximum": 1000000},
                "feature": {"type": "string", "minLength": 1, "maxLength": 100, "description": "What the credits were spent on; trimmed."},
                "user_id": {"type": "string", "description": "The member the usage is for: required for API keys; users may only name themselves."}
            }
        },
        "UsageRecorded": {
            "type": "object", "required": ["id", "amount", "remaining"],
            "properties": {
                "id": {"type": "string"},
                "amount": {"type": "integer"},
                "remaining": {"type": "integer", "description": "Credits left in the period right after this event."}
            }
        },
        "Usage": {
            "type": "object",
            "required": ["period_start", "period_end", "included", "used", "remaining", "by_member"],
            "properties": {
                "period_start": time,
                "period_end": time,
                "included": {"type": "integer"},
                "used": {"type": "integer"},
                "remaining": {"type": "integer", "minimum": 0},
                "by_member": {"type": "array", "items": {"type": "object", "required": ["user_id", "email", "used"], "properties": {
                    "user_id": {"type": "string"}, "email": {"type": ["string", "null"]}, "used": {"type": "integer"}
                }}}
            }
        }
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, op) in operations() {
        let item = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        item[method] = render(path, op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Roster",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Organizations, members, roles, invitations by email, seats, shared credits and per-resource permissions for multi-tenant SaaS products. Errors are RFC 9457 problem details with a stable `code`. Lists are cursor-paginated (`limit` ≤ 100, `cursor`) and in creation order. Every response carries `x-request-id` and a `Server-Timing` entry naming its D1 round trips.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "webhooks": webhooks(),
        "components": components(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::{Permission, Scope};

    #[test]
    fn enums_are_the_domains() {
        assert_eq!(SCOPES, Scope::ALL.map(Scope::as_str));
        let doc = document();
        assert_eq!(doc["components"]["schemas"]["Scope"]["enum"], json!(SCOPES));
        assert_eq!(
            doc["webhooks"]["event"]["post"]["requestBody"]["content"]["application/json"]
                ["schema"],
            schema("WebhookDelivery")
        );
    }

    #[test]
    fn the_documented_permissions_are_the_policys() {
        let names: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, PERMISSIONS);
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
}
