//! Invite links as stored: created, listed and revoked on the organization's side; read by
//! token and joined through on the joiner's side.
//!
//! D1 keeps each link with the SHA-256 of its token; the token itself is only in the answer
//! that created it. Joining is one batch that guards the link's state (not revoked, not
//! expired, not used up), the organization's allowed domains as read, and everything
//! `members::join` guards, then counts the use: parallel joins can pass neither `max_uses`
//! nor the seats.

use super::audit::{self, By};
use super::invitations::SeatCheck;
use super::kv::PreviewOrg;
use super::members::{self, guard_role_defined, Joiner, MemberRow};
use super::principal::{self, Caller};
use super::roles::{role_def_columns, StoredDef};
use super::{Batch, Db, Rows};
use crate::api::events::{InviteLinkCreatedData, InviteLinkRevokedData, MemberAddedData};
use crate::domain::invite_link::LinkStatus;
use crate::domain::policy::RoleDef;
use crate::domain::values::RoleKey;
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Columns of [`LinkRow`] from `invite_links l`.
macro_rules! link_columns {
    () => {
        "l.seq, l.id, l.org_id, l.token_hash, l.role, l.teams, l.max_uses, l.uses,
         l.expires_at, l.allowed_domains, l.created_by_user_id, l.created_by_name,
         l.created_at, l.revoked_at,
         (SELECT json_group_array(t.slug) FROM teams t
           WHERE t.id IN (SELECT value FROM json_each(l.teams))) AS team_slugs"
    };
}

/// An invite link as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct LinkRow {
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    pub token_hash: String,
    pub role: String,
    /// The ids of the teams joined, a JSON array.
    pub teams: String,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub expires_at: i64,
    /// A JSON array of domains; `[]`: any.
    pub allowed_domains: String,
    pub created_by_user_id: Option<String>,
    pub created_by_name: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The slugs of those teams that still exist, a JSON array.
    pub team_slugs: String,
}

impl LinkRow {
    pub fn status_at(&self, now: Timestamp) -> LinkStatus {
        LinkStatus::of(
            self.revoked_at,
            Timestamp(self.expires_at),
            self.uses,
            self.max_uses,
            now,
        )
    }

    pub fn role(&self) -> Result<RoleKey, Problem> {
        RoleKey::parse(&self.role).map_err(|_| Problem::internal())
    }

    /// The slugs of the teams joined, sorted.
    pub fn team_slugs(&self) -> Vec<String> {
        super::sorted_strings(&self.team_slugs)
    }

    pub fn allowed_domains(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_domains).unwrap_or_default()
    }
}

/// A link about to be created, judged against the state read.
pub struct NewLink {
    pub token_digest: String,
    pub role: RoleKey,
    pub def: RoleDef,
    pub team_ids: Vec<String>,
    pub max_uses: Option<i64>,
    pub expires_at: Timestamp,
    pub allowed_domains: Vec<String>,
}

/// Creates a link: guards that its custom role and teams are still as read, records
/// `invite_link.created`, and returns the row.
pub async fn create(
    db: &Db,
    caller: &Caller,
    link: &NewLink,
    now: Timestamp,
) -> Result<LinkRow, Problem> {
    let org = &caller.org.id;
    let id = crate::domain::values::new_id();
    let mut batch = principal::write_batch(caller);
    super::billing::guard_plan(&mut batch, &caller.org);
    if link.def.builtin.is_none() {
        guard_role_defined(&mut batch, org, &link.role, link.def);
    }
    let teams = Value::from(link.team_ids.clone()).to_string();
    if !link.team_ids.is_empty() {
        guard!(
            batch,
            Code::Conflict,
            "(SELECT count(*) FROM teams
               WHERE org_id = ?2 AND id IN (SELECT value FROM json_each(?3))) <> ?4",
            org,
            &teams,
            link.team_ids.len() as i64,
        );
    }
    let creator = match &caller.actor {
        crate::domain::policy::Actor::User { id, .. } => Some(id.as_str()),
        crate::domain::policy::Actor::ApiKey { .. } => None,
    };
    batch.push(sql!(
        "INSERT INTO invite_links (id, org_id, token_hash, role, teams, max_uses, expires_at,
                                   allowed_domains, created_by_user_id, created_by_name,
                                   created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        &id,
        org,
        &link.token_digest,
        link.role.as_str(),
        &teams,
        link.max_uses,
        link.expires_at.0,
        Value::from(link.allowed_domains.clone()).to_string(),
        creator,
        caller.name.as_deref(),
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("invite_link", &id),
        InviteLinkCreatedData {
            id: id.clone(),
            role: link.role.clone(),
            max_uses: link.max_uses,
            expires_at: link.expires_at,
        },
        now,
    );
    let row = by_id(&mut batch, org, &id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// A team named by a link being created.
#[derive(Debug, Clone, Deserialize)]
pub struct TeamRef {
    pub id: String,
    pub slug: String,
}

/// Adds the read of organization `slug`'s teams among `slugs`.
pub fn teams_by_slugs(batch: &mut Batch, slug: &str, slugs: &[String]) -> Rows<TeamRef> {
    batch.query(sql!(
        "SELECT id, slug FROM teams
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND slug IN (SELECT value FROM json_each(?2))",
        slug,
        Value::from(slugs.to_vec()).to_string(),
    ))
}

fn by_id(batch: &mut Batch, org_id: &str, id: &str) -> Rows<LinkRow> {
    batch.query(sql!(
        concat!(
            "SELECT ",
            link_columns!(),
            " FROM invite_links l WHERE l.org_id = ?1 AND l.id = ?2"
        ),
        org_id,
        id,
    ))
}

/// Adds the read of link `id` of organization `slug`.
pub fn find(batch: &mut Batch, slug: &str, id: &str) -> Rows<LinkRow> {
    batch.query(sql!(
        concat!(
            "SELECT ",
            link_columns!(),
            " FROM invite_links l
             WHERE l.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
               AND l.id = ?2"
        ),
        slug,
        id,
    ))
}

/// Adds a page of organization `slug`'s links, revoked ones included, in creation order.
pub fn list(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<LinkRow> {
    batch.query(sql!(
        concat!(
            "SELECT ",
            link_columns!(),
            " FROM invite_links l
             WHERE l.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
               AND l.seq > ?2 ORDER BY l.seq LIMIT ?3"
        ),
        slug,
        after_seq,
        limit,
    ))
}

/// Revokes `link` at once and records `invite_link.revoked`. Guards that it was not revoked
/// meanwhile (`conflict`: decided again, it finds the link revoked and records nothing).
pub async fn revoke(
    db: &Db,
    caller: &Caller,
    link: &LinkRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM invite_links WHERE id = ?2 AND revoked_at IS NOT NULL)",
        &link.id,
    );
    batch.push(sql!(
        "UPDATE invite_links SET revoked_at = ?2 WHERE id = ?1",
        &link.id,
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("invite_link", &link.id),
        InviteLinkRevokedData {
            id: link.id.clone(),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

#[derive(Debug, Deserialize)]
pub struct Digest {
    pub token_hash: String,
}

/// Adds the read of the token digests of organization `org_id`'s links that may have a
/// cached preview: neither revoked (dropped then) nor expired (gone from KV with it).
pub fn live_digests(batch: &mut Batch, org_id: &str, now: Timestamp) -> Rows<Digest> {
    batch.query(sql!(
        "SELECT token_hash FROM invite_links
          WHERE org_id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        org_id,
        now.0,
    ))
}

/// A link with what its joiners see of the organization, and the joiner's standing there.
#[derive(Debug, Clone, Deserialize)]
pub struct LinkView {
    #[serde(flatten)]
    pub link: LinkRow,
    pub org_slug: String,
    pub org_name: String,
    pub org_logo_url: Option<String>,
    pub org_plan: String,
    pub org_extra_seats: i64,
    /// The organization's allowed email domains, a JSON array, as stored.
    pub org_allowed_email_domains: String,
    pub seats_used: i64,
    pub is_member: i64,
    /// 1 when the organization is deleted: its links lead nowhere.
    pub org_deleted: i64,
    /// The definition of the link's role, when it is a custom role.
    #[serde(flatten)]
    pub def: StoredDef,
}

impl LinkView {
    /// The link's role: its key and definition (`None` for a custom role deleted since).
    pub fn role(&self) -> Option<(RoleKey, RoleDef)> {
        self.def.resolve(&self.link.role).ok()
    }

    pub fn org_allowed_email_domains(&self) -> Vec<String> {
        serde_json::from_str(&self.org_allowed_email_domains).unwrap_or_default()
    }
}

/// Adds the read of the link whose token has digest `digest`, for `user_id` (pass "" when
/// nobody is signed in).
pub fn view_by_token(batch: &mut Batch, digest: &str, user_id: &str) -> Rows<LinkView> {
    batch.query(sql!(
        concat!(
            "SELECT ",
            link_columns!(),
            ", o.slug AS org_slug, o.name AS org_name, o.logo_url AS org_logo_url,
               o.plan AS org_plan, o.extra_seats AS org_extra_seats,
               o.allowed_email_domains AS org_allowed_email_domains,
               o.members_count AS seats_used,
               EXISTS (SELECT 1 FROM memberships m
                        WHERE m.org_id = l.org_id AND m.user_id = ?2) AS is_member,
               o.deleted_at IS NOT NULL AS org_deleted, ",
            role_def_columns!(),
            "
             FROM invite_links l JOIN orgs o ON o.id = l.org_id
             LEFT JOIN roles ro ON ro.org_id = l.org_id AND ro.key = l.role
            WHERE l.token_hash = ?1"
        ),
        digest,
        user_id,
    ))
}

/// Adds the statements making `user_id` a member through `view`'s link: guards that the
/// link is still usable (each way it may have stopped is its own answer) and that the
/// organization admits the same email domains as read, then `members::join`, then the use
/// counted. Returns the read of the new member.
pub fn join(
    batch: &mut Batch,
    view: &LinkView,
    (role, def): (&RoleKey, RoleDef),
    seats: &SeatCheck<'_>,
    member_added: MemberAddedData,
    now: Timestamp,
) -> Rows<MemberRow> {
    let link = &view.link;
    guard!(
        batch,
        Code::InviteLinkRevoked,
        "EXISTS (SELECT 1 FROM invite_links WHERE id = ?2 AND revoked_at IS NOT NULL)",
        &link.id,
    );
    guard!(
        batch,
        Code::InviteLinkExpired,
        "EXISTS (SELECT 1 FROM invite_links WHERE id = ?2 AND expires_at <= ?3)",
        &link.id,
        now.0,
    );
    guard!(
        batch,
        Code::InviteLinkExhausted,
        "EXISTS (SELECT 1 FROM invite_links WHERE id = ?2 AND uses >= max_uses)",
        &link.id,
    );
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs WHERE id = ?2 AND allowed_email_domains = ?3)",
        &link.org_id,
        &view.org_allowed_email_domains,
    );
    let user_id = member_added.user_id.clone();
    let teams = link.team_slugs();
    members::join(
        batch,
        &Joiner {
            org_id: &link.org_id,
            org_slug: &view.org_slug,
            user_id: &user_id,
            by: By::User(&user_id),
            role: (role, def),
            invitation_id: None,
            teams: (&link.teams, &teams),
            seats,
            member_added,
        },
        now,
    );
    batch.push(sql!(
        "UPDATE invite_links SET uses = uses + 1 WHERE id = ?1",
        &link.id,
    ));
    members::one(batch, &link.org_id, &user_id)
}

/// What a link shows before anyone signs in, cached in KV under its token's digest. It
/// keeps the facts its status follows from, so a cached link still expires on time; joins
/// and revoking drop the entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkPreview {
    pub organization: PreviewOrg,
    pub role: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub uses: i64,
    pub max_uses: Option<i64>,
}

impl LinkPreview {
    pub fn new(view: &LinkView) -> LinkPreview {
        let link = &view.link;
        LinkPreview {
            organization: PreviewOrg {
                slug: view.org_slug.clone(),
                name: view.org_name.clone(),
                logo_url: view.org_logo_url.clone(),
            },
            role: link.role.clone(),
            expires_at: link.expires_at,
            revoked_at: link.revoked_at,
            uses: link.uses,
            max_uses: link.max_uses,
        }
    }

    pub fn status_at(&self, now: Timestamp) -> LinkStatus {
        LinkStatus::of(
            self.revoked_at,
            Timestamp(self.expires_at),
            self.uses,
            self.max_uses,
            now,
        )
    }
}
