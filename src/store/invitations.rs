//! Invitations on the organization's side: creation, listing, resend and cancel; new
//! tokens for retried emails and expiry by the scheduled job. The invitee's side (preview,
//! accept, decline) is in `invitee`, their emails' outbox rows in `outbox`.
//!
//! D1 keeps each invitation with the SHA-256 of its token; the token itself exists only in
//! the email. Every write restates the conditions the request checked as guards (still
//! pending with the same token, not yet a member, a seat free on an unchanged plan).

use super::audit::{self, By, Change};
use super::grants;
use super::members::guard_role_defined;
use super::outbox::{drop_queued_emails, FirstSend};
use super::principal::{self, Caller};
use super::roles::{self, RoleRow};
use super::{Batch, Db, Rows};
use crate::api::events::{
    InvitationCanceledData, InvitationCreatedData, InvitationExpiredData, InvitationResentData,
};
use crate::domain::invitation::Status;
use crate::domain::locale::Locale;
use crate::domain::metadata::{self, Object};
use crate::domain::policy::RoleDef;
use crate::domain::values::{Email, Level, RoleKey};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;
use serde_json::Value;

/// Columns of [`InvitationRow`] (statement text must be static, hence a macro).
macro_rules! invitation_columns {
    () => {
        "i.seq, i.id, i.org_id, i.email, i.role, i.grants, i.status, i.token_hash,
         i.inviter_user_id, i.inviter_key_id, i.inviter_name, i.inviter_email,
         i.email_delivery, i.created_at, i.expires_at, i.resent_at, i.accepted_at,
         i.expires_in, i.redirect_url, i.locale, i.send_email, i.teams,
         (SELECT json_group_array(t.slug) FROM teams t
           WHERE t.id IN (SELECT value FROM json_each(i.teams))) AS team_slugs"
    };
}
pub(super) use invitation_columns;

/// An invitation as stored.
#[derive(Debug, Clone, Deserialize)]
pub struct InvitationRow {
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub role: String,
    /// `[{"resource_id", "level"}]`, levels as numbers.
    pub grants: String,
    pub status: String,
    pub token_hash: String,
    pub inviter_user_id: Option<String>,
    pub inviter_key_id: Option<String>,
    pub inviter_name: Option<String>,
    pub inviter_email: Option<String>,
    pub email_delivery: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub resent_at: Option<i64>,
    pub accepted_at: Option<i64>,
    /// Seconds it lasts, as asked when created (NULL: the default of its time).
    pub expires_in: Option<i64>,
    /// Where the landing page's button leads instead of the app's accept page.
    pub redirect_url: Option<String>,
    pub locale: String,
    /// 0 when the product delivers the link itself.
    pub send_email: i64,
    /// The ids of the teams joined on acceptance, a JSON array.
    pub teams: String,
    /// The slugs of those teams that still exist, a JSON array.
    pub team_slugs: String,
}

impl InvitationRow {
    pub fn status_at(&self, now: Timestamp) -> Result<Status, Problem> {
        Status::parse(&self.status)
            .map(|s| s.at(Timestamp(self.expires_at), now))
            .ok_or_else(Problem::internal)
    }

    pub fn role(&self) -> Result<RoleKey, Problem> {
        RoleKey::parse(&self.role).map_err(|_| Problem::internal())
    }

    /// The slugs of the teams joined on acceptance, sorted.
    pub fn team_slugs(&self) -> Vec<String> {
        super::sorted_strings(&self.team_slugs)
    }

    /// The language of its email and page.
    pub fn locale(&self) -> Locale {
        Locale::parse(&self.locale).unwrap_or_default()
    }

    /// Whether Roster emails its link (else the product delivers it).
    pub fn sends_email(&self) -> bool {
        self.send_email != 0
    }

    /// The grants the invitation carries.
    pub fn grants(&self) -> Vec<(String, Level)> {
        grants::decode(&self.grants)
    }
}

/// The state an organization must still be in for a new member to take a seat: the plan
/// and extra seats the request read, and fewer members than `total`.
pub struct SeatCheck<'a> {
    pub org_id: &'a str,
    pub plan: &'a str,
    pub extra_seats: i64,
    pub total: i64,
}

pub(super) fn guard_seat(batch: &mut Batch, seats: &SeatCheck<'_>) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs
                      WHERE id = ?2 AND plan = ?3 AND extra_seats = ?4 AND deleted_at IS NULL)",
        seats.org_id,
        seats.plan,
        seats.extra_seats,
    );
    guard!(
        batch,
        Code::SeatLimitReached,
        "(SELECT members_count FROM orgs WHERE id = ?2) >= ?3",
        seats.org_id,
        seats.total,
    );
}

/// Guards that invitation `id` is still pending: not accepted, declined or canceled
/// meanwhile, and not expired. Each state it may have reached instead is its own answer.
pub(super) fn guard_still_pending(batch: &mut Batch, id: &str, now: Timestamp) {
    guard!(
        batch,
        Code::InvitationAlreadyUsed,
        "EXISTS (SELECT 1 FROM invitations WHERE id = ?2 AND status IN ('accepted', 'declined'))",
        id,
    );
    guard!(
        batch,
        Code::InvitationCanceled,
        "EXISTS (SELECT 1 FROM invitations WHERE id = ?2 AND status = 'canceled')",
        id,
    );
    guard!(
        batch,
        Code::InvitationExpired,
        "EXISTS (SELECT 1 FROM invitations
                  WHERE id = ?2 AND (status = 'expired' OR expires_at <= ?3))",
        id,
        now.0,
    );
}

/// Guards that invitation `id` still carries the token whose digest is `digest`. A resend
/// or a retried email replaces it; `code` is what that means to the request: `not_found` to
/// one that came with the old link (which names nothing any more), `conflict` to one that
/// read the invitation before (it is decided again).
pub(super) fn guard_token(batch: &mut Batch, id: &str, digest: &str, code: Code) {
    guard!(
        batch,
        code,
        "NOT EXISTS (SELECT 1 FROM invitations WHERE id = ?2 AND token_hash = ?3)",
        id,
        digest,
    );
}

/// Who sent an invitation.
pub struct Inviter<'a> {
    pub user_id: Option<&'a str>,
    pub key_id: Option<&'a str>,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
}

impl<'a> Inviter<'a> {
    pub fn of(caller: &'a Caller) -> Inviter<'a> {
        use crate::domain::policy::Actor;
        let (user_id, key_id) = match &caller.actor {
            Actor::User { id, .. } => (Some(id.as_str()), None),
            Actor::ApiKey { id, .. } => (None, Some(id.as_str())),
        };
        Inviter {
            user_id,
            key_id,
            name: caller.name.as_deref(),
            email: caller.email.as_deref(),
        }
    }
}

/// What the organization side needs to know before inviting a list of addresses.
pub struct InviteState {
    pub seats_used: Rows<Count>,
    pub members: Rows<EmailRow>,
    pub pending: Rows<PendingRow>,
    pub resources: Rows<IdRow>,
    pub roles: Rows<RoleRow>,
    pub teams: Rows<TeamRef>,
}

/// A team named by slug.
#[derive(Deserialize)]
pub struct TeamRef {
    pub id: String,
    pub slug: String,
}

#[derive(Deserialize)]
pub struct Count {
    pub n: i64,
}

#[derive(Deserialize)]
pub struct EmailRow {
    pub email: String,
}

#[derive(Deserialize)]
pub struct IdRow {
    pub id: String,
}

/// A pending invitation of one of the addresses being invited.
#[derive(Deserialize)]
pub struct PendingRow {
    pub id: String,
    pub email: String,
    pub expires_at: i64,
    pub token_hash: String,
}

/// Adds the reads that decide invitations to `emails` in organization `slug`: seats used,
/// which addresses are members or invited already, which `resource_ids` and `team_slugs`
/// exist there, and its custom roles.
pub fn invite_state(
    batch: &mut Batch,
    slug: &str,
    emails: &[&str],
    resource_ids: &[&str],
    team_slugs: &[&str],
) -> InviteState {
    let emails = Value::from(emails.to_vec()).to_string();
    let resources = Value::from(resource_ids.to_vec()).to_string();
    let teams = Value::from(team_slugs.to_vec()).to_string();
    InviteState {
        roles: roles::custom(batch, slug),
        teams: batch.query(sql!(
            "SELECT id, slug FROM teams
              WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
                AND slug IN (SELECT value FROM json_each(?2))",
            slug,
            &teams,
        )),
        seats_used: batch.query(sql!(
            "SELECT members_count AS n FROM orgs WHERE slug = ?1 AND deleted_at IS NULL",
            slug,
        )),
        members: batch.query(sql!(
            "SELECT u.email FROM users u
              WHERE u.email IN (SELECT value FROM json_each(?2))
                AND EXISTS (SELECT 1 FROM memberships m
                             WHERE m.org_id = (SELECT id FROM orgs
                                                WHERE slug = ?1 AND deleted_at IS NULL)
                               AND m.user_id = u.id)",
            slug,
            &emails,
        )),
        // Address by address along `invitations_one_pending`: not through every pending
        // invitation of the organization.
        pending: batch.query(sql!(
            "SELECT i.id, i.email, i.expires_at, i.token_hash
               FROM json_each(?2) e CROSS JOIN invitations i
              WHERE i.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
                AND i.email = e.value AND i.status = 'pending'",
            slug,
            &emails,
        )),
        resources: batch.query(sql!(
            "SELECT id FROM resources
              WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
                AND id IN (SELECT value FROM json_each(?2))",
            slug,
            &resources,
        )),
    }
}

/// One invitation to create.
pub struct NewInvitation {
    pub id: String,
    pub email: Email,
    pub role: RoleKey,
    /// How `role` was defined when the invitation was judged.
    pub def: RoleDef,
    pub grants: Vec<(String, Level)>,
    /// The ids of the teams joined on acceptance.
    pub team_ids: Vec<String>,
    /// Becomes the membership's metadata on acceptance.
    pub metadata: Object,
    pub token_digest: String,
    pub expires_at: Timestamp,
    /// As asked; `None` when the default was used.
    pub expires_in: Option<i64>,
    pub redirect_url: Option<String>,
    pub locale: Locale,
    pub send_email: bool,
    /// An earlier pending invitation to the same address whose time ran out; it is marked
    /// expired in the same batch.
    pub replaces_expired: Option<String>,
}

/// Adds the statements creating `invitations` (already judged against the state read) to
/// `batch`, restating their conditions as guards.
pub fn create(
    batch: &mut Batch,
    caller: &Caller,
    seats: &SeatCheck<'_>,
    inviter: &Inviter<'_>,
    invitations: &[&NewInvitation],
    delivery: FirstSend,
    now: Timestamp,
) {
    guard_seat(batch, seats);
    super::orgs::guard_allowed_domains(batch, &caller.org);
    for inv in invitations {
        let delivery = if inv.send_email {
            delivery
        } else {
            FirstSend::None
        };
        if let Some(stale) = &inv.replaces_expired {
            expire(batch, &caller.org.id, &caller.org.slug, stale, now);
        }
        guard!(
            batch,
            Code::AlreadyMember,
            "EXISTS (SELECT 1 FROM users u
                      WHERE u.email = ?3
                        AND EXISTS (SELECT 1 FROM memberships m
                                     WHERE m.org_id = ?2 AND m.user_id = u.id))",
            &caller.org.id,
            inv.email.as_str(),
        );
        guard!(
            batch,
            Code::InvitationPending,
            "EXISTS (SELECT 1 FROM invitations
                      WHERE org_id = ?2 AND email = ?3 AND status = 'pending')",
            &caller.org.id,
            inv.email.as_str(),
        );
        if inv.def.builtin.is_none() {
            guard_role_defined(batch, &caller.org.id, &inv.role, inv.def);
        }
        let teams = Value::from(inv.team_ids.clone()).to_string();
        if !inv.team_ids.is_empty() {
            guard!(
                batch,
                Code::Conflict,
                "(SELECT count(*) FROM teams
                   WHERE org_id = ?2 AND id IN (SELECT value FROM json_each(?3))) <> ?4",
                &caller.org.id,
                &teams,
                inv.team_ids.len() as i64,
            );
        }
        batch.push(sql!(
            "INSERT INTO invitations (id, org_id, email, role, grants, status, token_hash,
                 inviter_user_id, inviter_key_id, inviter_name, inviter_email, email_delivery,
                 created_at, expires_at, metadata, expires_in, redirect_url, locale, send_email,
                 teams)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                     ?15, ?16, ?17, ?18, ?19)",
            &inv.id,
            &caller.org.id,
            inv.email.as_str(),
            inv.role.as_str(),
            grants::encode(&inv.grants),
            &inv.token_digest,
            inviter.user_id,
            inviter.key_id,
            inviter.name,
            inviter.email,
            delivery.initial_state(),
            now.0,
            inv.expires_at.0,
            metadata::serialise(&inv.metadata),
            inv.expires_in,
            inv.redirect_url.as_deref(),
            inv.locale.as_str(),
            i64::from(inv.send_email),
            teams,
        ));
        delivery.queue(batch, &caller.org.id, &inv.id, now);
        audit::by_caller(
            batch,
            caller,
            ("invitation", &inv.id),
            InvitationCreatedData {
                email: inv.email.as_str().to_owned(),
                role: inv.role.clone(),
                expires_at: inv.expires_at,
            },
            now,
        );
    }
}

/// Adds the read of the organization's invitation `id`, judged by the caller's standing
/// there (another organization's invitation reads as nothing).
pub fn by_id(batch: &mut Batch, slug: &str, id: &str) -> Rows<InvitationRow> {
    batch.query(sql!(
        concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations i
              WHERE i.id = ?2
                AND i.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)"
        ),
        slug,
        id,
    ))
}

/// Adds the read of the invitations just created (for the answer).
pub fn by_ids(batch: &mut Batch, ids: &[&str]) -> Rows<InvitationRow> {
    batch.query(sql!(
        concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations i WHERE i.id IN (SELECT value FROM json_each(?1)) ORDER BY i.seq"
        ),
        Value::from(ids.to_vec()).to_string(),
    ))
}

/// Which invitations a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Status(Status),
    All,
}

/// Adds a page of the organization's invitations. `pending` and `expired` go by the
/// invitation's time as well as its stored status, so the list is right between job runs.
///
/// A single status is read along `invitations_by_org` (org, status, seq), so a page costs
/// its rows however many invitations the organization has; `expired` (two stored statuses)
/// and `all` walk `invitations_by_org_seq` in order.
pub fn list(
    batch: &mut Batch,
    slug: &str,
    filter: Filter,
    now: Timestamp,
    after_seq: i64,
    limit: i64,
) -> Rows<InvitationRow> {
    match filter {
        Filter::Status(status) if status != Status::Expired => batch.query(sql!(
            concat!(
                "SELECT ",
                invitation_columns!(),
                " FROM invitations i
                  WHERE i.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
                    AND i.status = ?2 AND (?2 <> 'pending' OR i.expires_at > ?3)
                    AND i.seq > ?4
                  ORDER BY i.seq LIMIT ?5"
            ),
            slug,
            status.as_str(),
            now.0,
            after_seq,
            limit,
        )),
        _ => batch.query(sql!(
            concat!(
                "SELECT ",
                invitation_columns!(),
                " FROM invitations i
                  WHERE i.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
                    AND (?2 OR i.status = 'expired'
                         OR (i.status = 'pending' AND i.expires_at <= ?3))
                    AND i.seq > ?4
                  ORDER BY i.seq LIMIT ?5"
            ),
            slug,
            filter == Filter::All,
            now.0,
            after_seq,
            limit,
        )),
    }
}

/// Gives a pending invitation a new token and expiry (the old link stops working) and
/// queues its email again. Guards that it is still pending, and still as read: when another
/// resend or a retried email replaced its token meanwhile, `conflict`, and the request is
/// decided again (a resend just made is then rate limited).
pub fn resend(
    batch: &mut Batch,
    caller: &Caller,
    inv: &InvitationRow,
    new_digest: &str,
    expires_at: Timestamp,
    delivery: FirstSend,
    now: Timestamp,
) {
    guard_still_pending(batch, &inv.id, now);
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM invitations
                      WHERE id = ?2 AND token_hash = ?3 AND resent_at IS ?4)",
        &inv.id,
        &inv.token_hash,
        inv.resent_at,
    );
    batch.push(sql!(
        "UPDATE invitations SET token_hash = ?2, expires_at = ?3, resent_at = ?4,
                email_delivery = ?5
          WHERE id = ?1",
        &inv.id,
        new_digest,
        expires_at.0,
        now.0,
        delivery.initial_state(),
    ));
    drop_queued_emails(batch, &inv.id, now);
    delivery.queue(batch, &caller.org.id, &inv.id, now);
    audit::by_caller(
        batch,
        caller,
        ("invitation", &inv.id),
        InvitationResentData {
            email: inv.email.clone(),
            expires_at,
        },
        now,
    );
}

/// Cancels a pending invitation: its link dies at once.
pub async fn cancel(
    db: &Db,
    caller: &Caller,
    inv: &InvitationRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard_still_pending(&mut batch, &inv.id, now);
    batch.push(sql!(
        "UPDATE invitations SET status = 'canceled', ended_at = ?2 WHERE id = ?1",
        &inv.id,
        now.0,
    ));
    drop_queued_emails(&mut batch, &inv.id, now);
    audit::by_caller(
        &mut batch,
        caller,
        ("invitation", &inv.id),
        InvitationCanceledData {
            email: inv.email.clone(),
            role: inv.role()?,
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// Marks a pending invitation whose time ran out as expired, with its audit entry and
/// webhook. Guards that it is still pending and due, so that two runs cannot expire (and
/// announce) it twice.
pub fn expire(batch: &mut Batch, org_id: &str, org_slug: &str, id: &str, now: Timestamp) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM invitations
                      WHERE id = ?2 AND status = 'pending' AND expires_at <= ?3)",
        id,
        now.0,
    );
    batch.push(sql!(
        "UPDATE invitations SET status = 'expired', ended_at = ?2 WHERE id = ?1",
        id,
        now.0,
    ));
    drop_queued_emails(batch, id, now);
    audit::record(
        batch,
        Change {
            org_id,
            org_slug,
            by: By::System,
            target: ("invitation", id),
            data: InvitationExpiredData { id: id.to_owned() }.into(),
        },
        now,
    );
}

/// Replaces the token of a pending invitation (its retried email carries the new link).
/// Guards that it is still pending with the token read (`conflict` when a resend replaced
/// it first).
pub async fn rotate_token(
    db: &Db,
    id: &str,
    old_digest: &str,
    new_digest: &str,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = Batch::new();
    guard_still_pending(&mut batch, id, now);
    guard_token(&mut batch, id, old_digest, Code::Conflict);
    batch.push(sql!(
        "UPDATE invitations SET token_hash = ?2 WHERE id = ?1",
        id,
        new_digest,
    ));
    batch.run(db).await.map(|_| ())
}

/// A pending invitation whose time ran out.
#[derive(Debug, Deserialize)]
pub struct LapsedInvitation {
    pub id: String,
    pub org_id: String,
    pub org_slug: String,
    pub token_hash: String,
}

/// Up to `limit` pending invitations past their expiry.
pub async fn due_for_expiry(
    db: &Db,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<LapsedInvitation>, Problem> {
    db.all(sql!(
        "SELECT i.id, i.org_id, o.slug AS org_slug, i.token_hash
           FROM invitations i JOIN orgs o ON o.id = i.org_id
          WHERE i.status = 'pending' AND i.expires_at <= ?1 AND o.deleted_at IS NULL
          ORDER BY i.expires_at LIMIT ?2",
        now.0,
        limit,
    ))
    .await
}
