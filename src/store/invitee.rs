//! Invitations on the invitee's side: the read behind the link's preview, accepting and
//! declining, and the signed-in person's own pending invitations.
//!
//! Accepting is one batch whose guards restate every condition the request checked (still
//! pending, same token, not yet a member, a seat free on an unchanged plan), so concurrent
//! accepts can neither exceed the seats nor turn one token into two members.

use super::audit::{self, By, Change};
use super::invitations::{
    guard_still_pending, guard_token, invitation_columns, InvitationRow, SeatCheck,
};
use super::members::{self, Joiner, MemberRow};
use super::outbox::drop_queued_emails;
use super::roles::{role_def_columns, StoredDef};
use super::{Batch, Rows};
use crate::api::events::{InvitationAcceptedData, InvitationDeclinedData, MemberAddedData};
use crate::domain::policy::RoleDef;
use crate::domain::values::RoleKey;
use crate::domain::{Code, Problem, Timestamp};
use crate::sql;
use serde::Deserialize;

/// An invitation with what its invitee sees of the organization, and the invitee's
/// standing there (for accept).
#[derive(Debug, Clone, Deserialize)]
pub struct InviteeView {
    #[serde(flatten)]
    pub invitation: InvitationRow,
    pub org_slug: String,
    pub org_name: String,
    pub org_logo_url: Option<String>,
    pub org_plan: String,
    pub org_extra_seats: i64,
    pub seats_used: i64,
    pub is_member: i64,
    /// 1 when the organization is deleted (its invitations were canceled with it).
    pub org_deleted: i64,
    /// The definition of the invitation's role, when it is a custom role.
    #[serde(flatten)]
    pub def: StoredDef,
}

impl InviteeView {
    /// The invitation's role: its key and definition.
    pub fn role(&self) -> Result<(RoleKey, RoleDef), Problem> {
        self.def.resolve(&self.invitation.role)
    }
}

/// The statement reading an [`InviteeView`], found by `?1` through `$key`, for user `?2`.
macro_rules! invitee_view {
    ($key:literal) => {
        concat!(
            "SELECT ",
            invitation_columns!(),
            ", o.slug AS org_slug, o.name AS org_name, o.logo_url AS org_logo_url,
               o.plan AS org_plan, o.extra_seats AS org_extra_seats,
               o.members_count AS seats_used,
               EXISTS (SELECT 1 FROM memberships m
                        WHERE m.org_id = i.org_id AND m.user_id = ?2) AS is_member,
               o.deleted_at IS NOT NULL AS org_deleted, ",
            role_def_columns!(),
            "
             FROM invitations i JOIN orgs o ON o.id = i.org_id
             LEFT JOIN roles ro ON ro.org_id = i.org_id AND ro.key = i.role
            WHERE ",
            $key,
            " = ?1"
        )
    };
}

/// Adds the read of the invitation whose token has digest `digest`, for `user_id` (pass
/// "" when nobody is signed in).
pub fn view_by_token(batch: &mut Batch, digest: &str, user_id: &str) -> Rows<InviteeView> {
    batch.query(sql!(invitee_view!("i.token_hash"), digest, user_id))
}

/// Adds the read of invitation `id`, for `user_id`.
pub fn view_by_id(batch: &mut Batch, id: &str, user_id: &str) -> Rows<InviteeView> {
    batch.query(sql!(invitee_view!("i.id"), id, user_id))
}

/// Accepts an invitation for `user`: one batch that guards every condition, creates the
/// membership with the invitation's grants (capped by the role) in the invitation's teams
/// (those that still exist), closes the invitation and records `member.added`,
/// `invitation.accepted` and `team.member_added`. Returns the new member's row.
pub fn accept(
    batch: &mut Batch,
    view: &InviteeView,
    user: &crate::domain::jwt::Identity,
    digest: Option<&str>,
    seats: &SeatCheck<'_>,
    member_added: MemberAddedData,
    now: Timestamp,
) -> Result<Rows<MemberRow>, Problem> {
    let inv = &view.invitation;
    let (role, def) = view.role()?;
    guard_still_pending(batch, &inv.id, now);
    if let Some(digest) = digest {
        // The link was replaced by a resend or a retried email: it names nothing now.
        guard_token(batch, &inv.id, digest, Code::NotFound);
    }
    let teams = inv.team_slugs();
    members::join(
        batch,
        &Joiner {
            org_id: &inv.org_id,
            org_slug: &view.org_slug,
            user_id: &user.user_id,
            by: By::User(&user.user_id),
            role: (&role, def),
            invitation_id: Some(&inv.id),
            teams: (&inv.teams, &teams),
            seats,
            member_added,
        },
        now,
    );
    batch.push(sql!(
        "UPDATE invitations SET status = 'accepted', accepted_at = ?2, ended_at = ?2,
                responded_by = ?3
          WHERE id = ?1",
        &inv.id,
        now.0,
        &user.user_id,
    ));
    // Grants on resources deleted since the invitation was sent are skipped.
    batch.push(sql!(
        "INSERT OR IGNORE INTO grants (org_id, resource_id, user_id, level, created_at)
         SELECT ?1, r.id, ?2, min(CAST(json_extract(g.value, '$.level') AS INTEGER), ?3), ?4
           FROM json_each(?5) g
           JOIN resources r ON r.id = json_extract(g.value, '$.resource_id') AND r.org_id = ?1",
        &inv.org_id,
        &user.user_id,
        def.cap.rank(),
        now.0,
        &inv.grants,
    ));
    drop_queued_emails(batch, &inv.id, now);
    let accepted = InvitationAcceptedData {
        id: inv.id.clone(),
        email: inv.email.clone(),
        role,
        user_id: user.user_id.clone(),
    };
    audit::record(
        batch,
        Change {
            org_id: &inv.org_id,
            org_slug: &view.org_slug,
            by: By::User(&user.user_id),
            target: ("invitation", &inv.id),
            data: accepted.into(),
        },
        now,
    );
    Ok(members::one(batch, &inv.org_id, &user.user_id))
}

/// Declines an invitation for `user_id`.
pub fn decline(
    batch: &mut Batch,
    view: &InviteeView,
    user_id: &str,
    digest: Option<&str>,
    now: Timestamp,
) -> Result<(), Problem> {
    let inv = &view.invitation;
    guard_still_pending(batch, &inv.id, now);
    if let Some(digest) = digest {
        // The link was replaced by a resend or a retried email: it names nothing now.
        guard_token(batch, &inv.id, digest, Code::NotFound);
    }
    batch.push(sql!(
        "UPDATE invitations SET status = 'declined', ended_at = ?2, responded_by = ?3
          WHERE id = ?1",
        &inv.id,
        now.0,
        user_id,
    ));
    drop_queued_emails(batch, &inv.id, now);
    audit::record(
        batch,
        Change {
            org_id: &inv.org_id,
            org_slug: &view.org_slug,
            by: By::User(user_id),
            target: ("invitation", &inv.id),
            data: InvitationDeclinedData {
                id: inv.id.clone(),
                email: inv.email.clone(),
                role: inv.role()?,
            }
            .into(),
        },
        now,
    );
    Ok(())
}

/// A pending invitation in the signed-in invitee's own list.
#[derive(Debug, Deserialize)]
pub struct MyInvitationRow {
    pub seq: i64,
    pub id: String,
    pub role: String,
    pub inviter_name: Option<String>,
    pub inviter_email: Option<String>,
    pub expires_at: i64,
    pub org_slug: String,
    pub org_name: String,
    pub org_logo_url: Option<String>,
}

/// Adds a page of the pending invitations addressed to `email`.
pub fn addressed_to(
    batch: &mut Batch,
    email: &str,
    now: Timestamp,
    after_seq: i64,
    limit: i64,
) -> Rows<MyInvitationRow> {
    batch.query(sql!(
        "SELECT i.seq, i.id, i.role, i.inviter_name, i.inviter_email, i.expires_at,
                o.slug AS org_slug, o.name AS org_name, o.logo_url AS org_logo_url
           FROM invitations i JOIN orgs o ON o.id = i.org_id
          WHERE i.email = ?1 AND i.status = 'pending' AND i.expires_at > ?2
            AND o.deleted_at IS NULL AND i.seq > ?3
          ORDER BY i.seq LIMIT ?4",
        email,
        now.0,
        after_seq,
        limit,
    ))
}
