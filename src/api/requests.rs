//! The request bodies, as the document states them.
//!
//! Handlers read bodies field by field (`http::body::Fields`) so that a 400 names every
//! invalid field at once; these types give the same fields their schemas, built from the
//! domain's own enums and limits. The black-box tests and schemathesis (valid and invalid
//! bodies generated from these schemas) hold the two together.

use super::orgs::Grant;
use super::{AssignableRole, EmailDomain, WebhookEvent};
use crate::domain::locale::Locale;
use crate::domain::plan::Plan;
use crate::domain::policy::{Permission, Scope, TeamRole};
use crate::domain::values::{Email, Level, LogoUrl, Name, Slug};
use utoipa::ToSchema;

/// `POST /v1/orgs`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    pub name: Name,
    /// Derived from `name` when omitted: ASCII letters and digits, other runs of
    /// characters become `-`.
    #[schema(nullable = false)]
    pub slug: Option<Slug>,
    /// `free` when omitted.
    #[schema(nullable = false)]
    pub plan: Option<Plan>,
}

/// `PATCH /v1/orgs/{slug}`: the fields to change.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    #[schema(nullable = false)]
    pub name: Option<Name>,
    #[schema(nullable = false)]
    pub slug: Option<Slug>,
    /// `null` removes the logo.
    #[schema(nullable)]
    pub logo_url: Option<LogoUrl>,
    /// A JSON Merge Patch of `metadata` (`null` deletes a key, objects merge); the result
    /// must stay within 8 KiB serialised and 50 top-level keys. Needs `org.update` (or an
    /// API key's `metadata:write`).
    #[schema(value_type = Object, required = false)]
    pub metadata: Option<serde_json::Value>,
    /// Likewise for `private_metadata`.
    #[schema(value_type = Object, required = false)]
    pub private_metadata: Option<serde_json::Value>,
    /// The email domains invitations and invite links admit, lower-cased and
    /// IDNA-normalised; `[]` admits any. Needs `org.update`.
    #[schema(nullable = false, max_items = 50)]
    pub allowed_email_domains: Option<Vec<EmailDomain>>,
}

/// `POST /v1/orgs/{slug}/transfer-ownership`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferOwnership {
    /// The member who becomes the owner.
    pub user_id: String,
}

/// `PATCH /v1/orgs/{slug}/members/{user_id}`: at least one of the fields.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    #[schema(nullable = false)]
    pub role: Option<AssignableRole>,
    /// A JSON Merge Patch of `metadata` (`null` deletes a key, objects merge); the result
    /// must stay within 8 KiB serialised and 50 top-level keys. Members may set their own.
    #[schema(value_type = Object, required = false)]
    pub metadata: Option<serde_json::Value>,
    /// Likewise for `private_metadata`; needs `members.manage` (or an API key's
    /// `metadata:write`), even for one's own membership.
    #[schema(value_type = Object, required = false)]
    pub private_metadata: Option<serde_json::Value>,
}

/// `POST /v1/orgs/{slug}/roles`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    /// 3–32 characters of a-z, 0-9 and -; never a built-in role's name.
    #[schema(pattern = "^[a-z0-9-]{3,32}$")]
    pub key: String,
    pub name: Name,
    #[schema(nullable = false, max_length = 500)]
    pub description: Option<String>,
    /// `org.read` is always included; `org.delete`, `billing.manage` and `admins.manage`
    /// can never be.
    pub permissions: Vec<Permission>,
    /// Default: none.
    pub resource_floor: Option<Level>,
    /// Default: `admin`. Never below the floor.
    #[schema(nullable = false)]
    pub resource_cap: Option<Level>,
}

/// `PATCH /v1/orgs/{slug}/roles/{key}`: at least one of the fields.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    #[schema(nullable = false)]
    pub name: Option<Name>,
    /// `null` removes it.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    #[schema(nullable = false)]
    pub permissions: Option<Vec<Permission>>,
    pub resource_floor: Option<Level>,
    #[schema(nullable = false)]
    pub resource_cap: Option<Level>,
}

/// `POST /v1/orgs/{slug}/invitations`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    pub email: Email,
    pub role: AssignableRole,
    /// Levels on resources, applied when the invitation is accepted.
    #[schema(nullable = false)]
    pub grants: Option<Vec<Grant>>,
    /// Slugs of the organization's teams, joined (as `member`) when the invitation is
    /// accepted; at most 20.
    #[schema(nullable = false, max_items = 20)]
    pub teams: Option<Vec<Slug>>,
    /// The membership's `metadata` when the invitation is accepted: a JSON object of at
    /// most 8 KiB serialised and 50 top-level keys.
    #[schema(value_type = Object, required = false)]
    pub metadata: Option<serde_json::Value>,
    /// Seconds until it expires (default `INVITE_TTL_SECONDS`); a resend lasts as long
    /// again.
    #[schema(nullable = false, minimum = 3600, maximum = 2592000)]
    pub expires_in: Option<i64>,
    /// Where the landing page's button leads instead of the app's `/accept-invite`: a URL
    /// on `APP_URL`'s origin (scheme, host and port), at most 2048 characters. The token is
    /// added to its query as `token`.
    #[schema(nullable = false, max_length = 2048)]
    pub redirect_url: Option<String>,
    /// The language of the email and the landing page (default `en`).
    #[schema(nullable = false)]
    pub locale: Option<Locale>,
    /// `false`: no email is sent; the answer carries the link as `url` for the product to
    /// deliver itself (and so does the answer of each resend). Default `true`.
    #[schema(nullable = false)]
    pub send_email: Option<bool>,
}

/// `POST /v1/orgs/{slug}/invite-links`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteLink {
    pub role: AssignableRole,
    /// Slugs of the organization's teams, joined (as `member`) through the link; at most 20.
    #[schema(nullable = false, max_items = 20)]
    pub teams: Option<Vec<Slug>>,
    /// How many may join through it; absent: unlimited.
    #[schema(nullable = false, minimum = 1, maximum = 10000)]
    pub max_uses: Option<i64>,
    /// Seconds until it expires (default 604800, 7 days).
    #[schema(nullable = false, minimum = 3600, maximum = 7776000)]
    pub expires_in: Option<i64>,
    /// The email domains it admits, on top of the organization's `allowed_email_domains`;
    /// absent or empty: any.
    #[schema(nullable = false, max_items = 50)]
    pub allowed_domains: Option<Vec<EmailDomain>>,
}

/// `POST /v1/orgs/{slug}/invitations/bulk`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkInvitations {
    #[schema(min_items = 1, max_items = 100)]
    pub invitations: Vec<BulkInvitationItem>,
}

/// One invitation of a bulk request, judged on its own as a single invitation would be: an
/// item with a bad address, an unknown role, a value of the wrong type, or a missing or
/// unknown field gets its problem in `results` while the others are created. An item that is
/// not an object makes the whole request a 400.
#[derive(ToSchema)]
pub struct BulkInvitationItem {
    /// The address to invite (a string).
    pub email: Option<serde_json::Value>,
    /// The role to invite as (a string: `admin`, `member` or `viewer`).
    pub role: Option<serde_json::Value>,
    /// Levels on resources (`[{resource_id, level}]`).
    pub grants: Option<serde_json::Value>,
    /// The membership's `metadata` on acceptance (an object within the limits of
    /// `CreateInvitation.metadata`).
    pub metadata: Option<serde_json::Value>,
    /// Seconds until it expires (an integer from 3600 to 2592000).
    pub expires_in: Option<serde_json::Value>,
    /// Where the landing page's button leads (a URL on `APP_URL`'s origin).
    pub redirect_url: Option<serde_json::Value>,
    /// The language of the email and page (`en`, `de`, `fr`, `es`, `pt` or `ja`).
    pub locale: Option<serde_json::Value>,
    /// `false`: no email; the result's invitation carries `url`.
    pub send_email: Option<serde_json::Value>,
}

/// `POST /v1/orgs/{slug}/resources`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateResource {
    pub name: Name,
    /// Free-form: what the product calls it.
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 50,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub kind: Option<String>,
}

/// `PATCH /v1/orgs/{slug}/resources/{id}`: the fields to change.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateResource {
    #[schema(nullable = false)]
    pub name: Option<Name>,
    /// `null` clears the kind.
    #[schema(
        nullable,
        min_length = 1,
        max_length = 50,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub kind: Option<String>,
}

/// `PUT /v1/orgs/{slug}/resources/{id}/grants/{user_id}`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutGrant {
    pub level: Level,
}

/// `POST /v1/orgs/{slug}/teams`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeam {
    pub name: Name,
    /// Derived from `name` when omitted, as an organization's slug is.
    #[schema(nullable = false)]
    pub slug: Option<Slug>,
}

/// `PATCH /v1/orgs/{slug}/teams/{team}`: at least one of the fields.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    #[schema(nullable = false)]
    pub name: Option<Name>,
    #[schema(nullable = false)]
    pub slug: Option<Slug>,
}

/// `PUT /v1/orgs/{slug}/teams/{team}/members/{user_id}`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTeamMember {
    pub team_role: TeamRole,
}

/// `PUT /v1/orgs/{slug}/resources/{id}/team-grants/{team}`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTeamGrant {
    pub level: Level,
}

/// `POST /v1/orgs/{slug}/authorize`: may `user_id` (the caller when omitted) hold
/// `permission`, and reach `level` (`read` when omitted) on `resource_id`?
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeQuestion {
    #[schema(nullable = false)]
    pub user_id: Option<String>,
    #[schema(nullable = false)]
    pub permission: Option<Permission>,
    #[schema(nullable = false)]
    pub resource_id: Option<String>,
    #[schema(nullable = false)]
    pub level: Option<Level>,
}

/// `PUT /v1/orgs/{slug}/billing/plan`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePlan {
    pub plan: Plan,
}

/// `POST /v1/orgs/{slug}/console-links`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConsoleLink {
    /// Where the console's "Back to the app" link leads; on `APP_URL`'s origin.
    #[schema(max_length = 2048, format = "uri")]
    pub return_url: Option<String>,
}

/// `PUT /v1/orgs/{slug}/billing/seats`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetExtraSeats {
    /// The extra seats wanted.
    #[schema(minimum = 0, maximum = 10000)]
    pub extra: i64,
}

/// `POST /v1/orgs/{slug}/usage`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordUsage {
    #[schema(minimum = 1, maximum = 1000000)]
    pub amount: i64,
    /// What the credits were spent on; trimmed.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub feature: String,
    /// The member the usage is for: required for API keys; users may only name themselves.
    #[schema(nullable = false)]
    pub user_id: Option<String>,
}

/// `POST /v1/orgs/{slug}/api-keys`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub name: Name,
    /// May be empty: such a key can read the organization and nothing else.
    pub scopes: Vec<Scope>,
}

/// `POST /v1/orgs/{slug}/scim-tokens`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateScimToken {
    pub name: Name,
}

/// `POST /v1/orgs/{slug}/webhooks`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    #[schema(max_length = 2048)]
    pub url: String,
    #[schema(min_items = 1)]
    pub events: Vec<WebhookEvent>,
}

/// `POST /v1/orgs/{slug}/domains`
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDomain {
    /// A domain name, any case, Unicode or `xn--`; not an IP address, a name without a dot,
    /// or a public email provider.
    #[schema(min_length = 1, max_length = 253)]
    pub domain: String,
}

/// `PATCH /v1/orgs/{slug}/domains/{id}`: the fields to change.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDomain {
    #[schema(nullable = false)]
    pub enrollment: Option<crate::domain::joining::Enrollment>,
    /// The role people joining through the domain get; never `owner` or `admin`.
    #[schema(nullable = false)]
    pub role: Option<AssignableRole>,
    /// Slugs of the organization's teams they join (as `member`); at most 20.
    #[schema(nullable = false, max_items = 20)]
    pub teams: Option<Vec<Slug>>,
}
