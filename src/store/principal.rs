//! Who is calling, as the store sees it: the user row kept fresh from the JWT, the API key
//! looked up by digest, and the caller's standing in the organization a path names.
//!
//! These statements open every authenticated batch, so that authentication, the caller's
//! role and the request's own reads cost one round trip together.

use super::roles::{self, role_def_columns, StoredDef};
use super::{Batch, Rows};
use crate::domain::jwt::Identity;
use crate::domain::metadata::{self, Object};
use crate::domain::plan::Plan;
use crate::domain::policy::{Actor, Scope};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// An authenticated caller, before the store has been asked about them.
pub enum Principal {
    User(Identity),
    /// An organization API key, known by the SHA-256 of its secret.
    ApiKey {
        digest: String,
    },
}

/// Refreshes the user row from the token, writing only when something changed, the last
/// activity is a minute old, or a member the identity provider provisioned (SCIM) waits
/// for this user: `last_active_at` costs at most one write per user per minute. That last
/// write links them: when a provisioned user has the token's email, verified, the triggers
/// of `migrations/0017_link_in_upsert.sql` move its memberships, teams and grants to this
/// user in the request's transaction (`migrations/0016_provisioned_links.sql`). The lookup
/// runs along the partial index on provisioned users and finds nothing almost always.
pub fn upsert_user(batch: &mut Batch, identity: &Identity, now: Timestamp) {
    batch.push(sql!(
        "INSERT INTO users (id, email, email_verified, name, created_at, last_active_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (id) DO UPDATE SET
           email = excluded.email, email_verified = excluded.email_verified,
           name = excluded.name, last_active_at = excluded.last_active_at
         WHERE users.last_active_at <= excluded.last_active_at - 60
            OR users.email IS NOT excluded.email
            OR users.email_verified IS NOT excluded.email_verified
            OR users.name IS NOT excluded.name
            OR (excluded.email_verified = 1
                AND EXISTS (SELECT 1 FROM users p
                             WHERE p.provisioned = 1 AND p.email = excluded.email))",
        &identity.user_id,
        identity.email.as_deref(),
        identity.email_verified,
        identity.name.as_deref(),
        now.0,
    ));
}

/// Columns of [`OrgRow`] from `orgs o` (statement text must be static, hence a macro).
macro_rules! org_columns {
    () => {
        "o.id, o.slug, o.name, o.logo_url, o.plan, o.extra_seats, o.extra_seats_next,
         o.period_anchor, o.period_start, o.period_end, o.credits_used, o.created_at,
         o.metadata, o.private_metadata, o.allowed_email_domains, o.members_count"
    };
}
pub(super) use org_columns;

/// The organization a request acts in, with the caller's standing there.
#[derive(Debug, Clone, Deserialize)]
pub struct OrgRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub logo_url: Option<String>,
    pub plan: String,
    pub extra_seats: i64,
    pub extra_seats_next: Option<i64>,
    pub period_anchor: i64,
    pub period_start: i64,
    pub period_end: i64,
    pub credits_used: i64,
    pub created_at: i64,
    /// JSON objects, as stored.
    pub metadata: String,
    pub private_metadata: String,
    /// The email domains invitations and invite links admit, a JSON array (`[]`: any).
    pub allowed_email_domains: String,
    /// Seats used: its members, counted as they join and leave.
    pub members_count: i64,
}

impl OrgRow {
    /// The email domains invitations and invite links admit (empty: any).
    pub fn allowed_email_domains(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_email_domains).unwrap_or_default()
    }

    /// The organization's plan (the schema admits only known plans).
    pub fn plan(&self) -> Result<Plan, Problem> {
        Plan::parse(&self.plan).ok_or_else(Problem::internal)
    }

    pub fn metadata(&self) -> Result<Object, Problem> {
        metadata::decode(&self.metadata).ok_or_else(Problem::internal)
    }

    pub fn private_metadata(&self) -> Result<Object, Problem> {
        metadata::decode(&self.private_metadata).ok_or_else(Problem::internal)
    }
}

#[derive(Deserialize)]
pub struct CallerRow {
    #[serde(flatten)]
    pub org: OrgRow,
    pub role: Option<String>,
    #[serde(flatten)]
    pub def: StoredDef,
    pub key_id: Option<String>,
    pub key_name: Option<String>,
    pub key_scopes: Option<String>,
}

/// A caller inside one organization: the organization, who they are there, and how to
/// name them to others (`invited_by`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub org: OrgRow,
    pub actor: Actor,
    /// The user's name from their token, or the API key's name.
    pub name: Option<String>,
    /// The user's email from their token; `None` for an API key.
    pub email: Option<String>,
}

/// The pending answer to "who is this caller in organization `slug`?".
pub struct CallerQuery {
    rows: Rows<CallerRow>,
    slug: String,
    /// The calling user; `None` for an API key.
    user: Option<Identity>,
}

/// Adds the statements that authenticate `principal` and find its standing in `slug`.
pub fn caller(batch: &mut Batch, principal: &Principal, slug: &str, now: Timestamp) -> CallerQuery {
    let rows = match principal {
        Principal::User(identity) => {
            upsert_user(batch, identity, now);
            batch.query(sql!(
                concat!(
                    "SELECT ",
                    org_columns!(),
                    ", m.role AS role, ",
                    role_def_columns!(),
                    ", NULL AS key_id, NULL AS key_name, NULL AS key_scopes
                       FROM orgs o JOIN memberships m ON m.org_id = o.id AND m.user_id = ?1
                       LEFT JOIN roles ro ON ro.org_id = m.org_id AND ro.key = m.role
                      WHERE o.slug = ?2 AND o.deleted_at IS NULL AND m.suspended_at IS NULL"
                ),
                &identity.user_id,
                slug,
            ))
        }
        Principal::ApiKey { digest } => {
            touch_key(batch, digest, now);
            key_query(batch, digest)
        }
    };
    CallerQuery {
        rows,
        slug: slug.to_owned(),
        user: match principal {
            Principal::User(identity) => Some(identity.clone()),
            Principal::ApiKey { .. } => None,
        },
    }
}

/// Records that a key was used, at most once a minute. A deleted organization's key is
/// refused and left as it was, to be restored with it.
fn touch_key(batch: &mut Batch, digest: &str, now: Timestamp) {
    batch.push(sql!(
        "UPDATE api_keys SET last_used_at = ?2
          WHERE secret_hash = ?1 AND revoked_at IS NULL
            AND (last_used_at IS NULL OR last_used_at <= ?2 - 60)
            AND EXISTS (SELECT 1 FROM orgs o WHERE o.id = api_keys.org_id AND o.deleted_at IS NULL)",
        digest,
        now.0,
    ));
}

fn key_query(batch: &mut Batch, digest: &str) -> Rows<CallerRow> {
    batch.query(sql!(
        concat!(
            "SELECT ",
            org_columns!(),
            ", NULL AS role, NULL AS role_permissions, NULL AS role_floor, NULL AS role_cap,
               k.id AS key_id, k.name AS key_name, k.scopes AS key_scopes
               FROM api_keys k JOIN orgs o ON o.id = k.org_id
              WHERE k.secret_hash = ?1 AND k.revoked_at IS NULL AND o.deleted_at IS NULL"
        ),
        digest,
    ))
}

impl CallerQuery {
    /// The calling user, before the store has answered; `None` for an API key.
    pub fn user_id(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.user_id.as_str())
    }

    /// The caller's standing, or the answer for a caller who has none: 401 for a key that is
    /// unknown or revoked, 404 for an organization the caller does not belong to (whether
    /// or not it exists) or where their membership is suspended (SCIM `active: false`).
    pub fn resolve(self, results: &super::Results) -> Result<Caller, Problem> {
        let row = results.first(self.rows)?;
        let not_found = || Problem::not_found("organization");
        let Some(row) = row else {
            return Err(if self.user.is_none() {
                Problem::unauthenticated("The API key is unknown or has been revoked.")
            } else {
                not_found()
            });
        };
        if row.org.slug != self.slug {
            return Err(not_found());
        }
        let (actor, name, email) = match (self.user, row.role, row.key_id) {
            (Some(user), Some(role), _) => (
                {
                    let (role, def) = row.def.resolve(&role)?;
                    Actor::User {
                        id: user.user_id,
                        role,
                        def,
                    }
                },
                user.name,
                user.email,
            ),
            (None, _, Some(key_id)) => (
                Actor::ApiKey {
                    id: key_id,
                    scopes: parse_scopes(row.key_scopes.as_deref().unwrap_or("[]")),
                },
                row.key_name,
                None,
            ),
            _ => return Err(Problem::internal()),
        };
        Ok(Caller {
            org: row.org,
            actor,
            name,
            email,
        })
    }
}

/// Checks an API key outside any organization path: a valid key gets 404 there (keys act
/// only under their own organization), an invalid one 401.
pub fn key_outside_org(batch: &mut Batch, digest: &str) -> Rows<CallerRow> {
    key_query(batch, digest)
}

/// Scopes as stored: a JSON array of scope names. Unknown names are ignored.
pub fn parse_scopes(json: &str) -> Vec<Scope> {
    serde_json::from_str::<Vec<String>>(json)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| Scope::parse(s))
        .collect()
}

/// A batch for a write by `caller`, opened with [`guard_actor`].
pub fn write_batch(caller: &Caller) -> Batch {
    let mut batch = Batch::new();
    guard_actor(&mut batch, caller);
    batch
}

/// Guards a write against the caller having lost their standing since the request read it
/// (a role changed or was redefined, a member left, a key was revoked, the organization was
/// deleted): the write then fails with `conflict` and changes nothing.
pub fn guard_actor(batch: &mut Batch, caller: &Caller) {
    match &caller.actor {
        Actor::User { id, role, def } => {
            let (permissions, floor, cap) = roles::guard_values(*def);
            guard!(
                batch,
                Code::Conflict,
                "NOT EXISTS (SELECT 1 FROM memberships m JOIN orgs o ON o.id = m.org_id
                               LEFT JOIN roles ro ON ro.org_id = m.org_id AND ro.key = m.role
                              WHERE m.org_id = ?2 AND m.user_id = ?3 AND m.role = ?4
                                AND o.deleted_at IS NULL AND m.suspended_at IS NULL
                                AND ro.permissions IS ?5
                                AND ro.resource_floor IS ?6 AND ro.resource_cap IS ?7)",
                &caller.org.id,
                id,
                role.as_str(),
                permissions,
                floor,
                cap,
            )
        }
        Actor::ApiKey { id, .. } => guard!(
            batch,
            Code::Conflict,
            "NOT EXISTS (SELECT 1 FROM api_keys k JOIN orgs o ON o.id = k.org_id
                          WHERE k.id = ?2 AND k.revoked_at IS NULL AND o.deleted_at IS NULL)",
            id,
        ),
    }
}
