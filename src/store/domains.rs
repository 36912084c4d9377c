//! Verified domains and join requests as stored: domains added, verified, changed and
//! removed by an organization; people joining or asking to join through one; requests
//! approved and denied; the scheduled job's re-checks.
//!
//! A domain is verified by one organization at most (the `domains_one_verified` index);
//! every write restates that as a `domain_taken` guard, so two organizations verifying the
//! same name at once get one `verified` and one 409, never a 500.

use super::audit::{self, By, Change};
use super::invitations::{SeatCheck, TeamRef};
use super::members::{self, guard_role_defined, Joiner, MemberRow};
use super::principal::{self, Caller};
use super::roles::{role_def_columns, StoredDef};
use super::{Batch, Db, Rows};
use crate::api::events::{
    DomainAddedData, DomainFailedData, DomainRemovedData, DomainUpdatedData, DomainVerifiedData,
    JoinRequestApprovedData, JoinRequestCreatedData, JoinRequestDeniedData, MemberAddedData,
};
use crate::domain::domains::{DomainStatus, JoinRequestStatus, VERIFIED_RECHECK_SECONDS};
use crate::domain::joining::Enrollment;
use crate::domain::policy::RoleDef;
use crate::domain::values::RoleKey;
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;

/// The statement reading domains with their teams' slugs.
macro_rules! domain_select {
    ($where:literal) => {
        concat!(
            "SELECT d.seq, d.id, d.org_id, d.domain, d.status, d.challenge, d.enrollment,
                    d.role, d.teams, d.verified_at, d.last_checked_at, d.missing_since,
                    d.created_at,
                    (SELECT json_group_array(t.slug) FROM teams t
                      WHERE t.org_id = d.org_id
                        AND t.id IN (SELECT value FROM json_each(d.teams))) AS team_slugs
               FROM domains d
              WHERE ",
            $where
        )
    };
}

#[derive(Debug, Clone, Deserialize)]
pub struct DomainRow {
    pub seq: i64,
    pub id: String,
    pub org_id: String,
    pub domain: String,
    pub status: String,
    pub challenge: String,
    pub enrollment: String,
    pub role: String,
    /// Ids of the teams joined, a JSON array.
    pub teams: String,
    pub verified_at: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub missing_since: Option<i64>,
    pub created_at: i64,
    /// Slugs of those teams that exist, a JSON array.
    pub team_slugs: String,
}

impl DomainRow {
    pub fn status(&self) -> Result<DomainStatus, Problem> {
        DomainStatus::parse(&self.status).ok_or_else(Problem::internal)
    }

    pub fn enrollment(&self) -> Result<Enrollment, Problem> {
        Enrollment::parse(&self.enrollment).ok_or_else(Problem::internal)
    }

    pub fn role(&self) -> Result<RoleKey, Problem> {
        RoleKey::parse(&self.role).map_err(|_| Problem::internal())
    }

    /// The slugs of its teams, ordered.
    pub fn team_slugs(&self) -> Vec<String> {
        super::sorted_strings(&self.team_slugs)
    }
}

/// Adds a page of organization `slug`'s domains, in the order they were added.
pub fn list(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<DomainRow> {
    batch.query(sql!(
        domain_select!(
            "d.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
             AND d.seq > ?2 ORDER BY d.seq LIMIT ?3"
        ),
        slug,
        after_seq,
        limit
    ))
}

/// Adds the read of domain `id` of organization `slug`.
pub fn one(batch: &mut Batch, slug: &str, id: &str) -> Rows<DomainRow> {
    batch.query(sql!(
        domain_select!(
            "d.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
             AND d.id = ?2"
        ),
        slug,
        id
    ))
}

/// Adds the read of domain `domain` in organization `slug` (by name).
pub fn named(batch: &mut Batch, slug: &str, domain: &str) -> Rows<DomainRow> {
    batch.query(sql!(
        domain_select!(
            "d.org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
             AND d.domain = ?2"
        ),
        slug,
        domain
    ))
}

#[derive(Deserialize)]
pub struct Flag {
    pub yes: i64,
}

/// Adds whether another organization than `slug` (a live one: the caller's) has `domain`
/// verified.
pub fn taken_elsewhere(batch: &mut Batch, slug: &str, domain: &str) -> Rows<Flag> {
    batch.query(sql!(
        "SELECT EXISTS (SELECT 1 FROM domains
                         WHERE domain = ?2 AND status = 'verified'
                           AND org_id IS NOT (SELECT id FROM orgs
                                               WHERE slug = ?1 AND deleted_at IS NULL)) AS yes",
        slug,
        domain
    ))
}

fn guard_not_taken(batch: &mut Batch, org_id: &str, domain: &str) {
    guard!(
        batch,
        Code::DomainTaken,
        "EXISTS (SELECT 1 FROM domains WHERE domain = ?2 AND status = 'verified' AND org_id <> ?3)",
        domain,
        org_id,
    );
}

/// Adds `domain` to the caller's organization, pending, with `challenge` to publish.
pub async fn add(
    db: &Db,
    caller: &Caller,
    id: &str,
    domain: &str,
    challenge: &str,
    now: Timestamp,
) -> Result<DomainRow, Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard_not_taken(&mut batch, org, domain);
    // Added meanwhile by another request: decided again, it answers with that one.
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM domains WHERE org_id = ?2 AND domain = ?3)",
        org,
        domain,
    );
    batch.push(sql!(
        "INSERT INTO domains (id, org_id, domain, status, challenge, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?5)",
        id,
        org,
        domain,
        challenge,
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("domain", id),
        DomainAddedData {
            domain: domain.to_owned(),
        },
        now,
    );
    read_back(db, batch, &caller.org.slug, id).await
}

async fn read_back(db: &Db, mut batch: Batch, slug: &str, id: &str) -> Result<DomainRow, Problem> {
    let row = one(&mut batch, slug, id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Guards that `row` is still in the state it was read in (`conflict` otherwise).
fn guard_as_read(batch: &mut Batch, row: &DomainRow) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM domains
                      WHERE id = ?2 AND status = ?3 AND enrollment = ?4 AND role = ?5
                        AND teams = ?6 AND last_checked_at IS ?7)",
        &row.id,
        &row.status,
        &row.enrollment,
        &row.role,
        &row.teams,
        row.last_checked_at,
    );
}

/// Marks `row` verified, its record found now; `by` the caller or the scheduled job.
fn set_verified(batch: &mut Batch, row: &DomainRow, org_slug: &str, by: By<'_>, now: Timestamp) {
    guard_not_taken(batch, &row.org_id, &row.domain);
    guard_as_read(batch, row);
    batch.push(sql!(
        "UPDATE domains SET status = 'verified', verified_at = ?2, last_checked_at = ?2,
                missing_since = NULL, updated_at = ?2
          WHERE id = ?1",
        &row.id,
        now.0,
    ));
    audit::record(
        batch,
        Change {
            org_id: &row.org_id,
            org_slug,
            by,
            target: ("domain", &row.id),
            data: DomainVerifiedData {
                domain: row.domain.clone(),
            }
            .into(),
        },
        now,
    );
}

/// Marks a domain verified on the caller's request, its record just found.
pub async fn verify(
    db: &Db,
    caller: &Caller,
    row: &DomainRow,
    now: Timestamp,
) -> Result<DomainRow, Problem> {
    let mut batch = principal::write_batch(caller);
    set_verified(
        &mut batch,
        row,
        &caller.org.slug,
        By::Actor(&caller.actor),
        now,
    );
    read_back(db, batch, &caller.org.slug, &row.id).await
}

/// A domain's enrollment as it is to become.
pub struct EnrollmentChange<'a> {
    pub enrollment: Enrollment,
    pub role: (&'a RoleKey, RoleDef),
    /// Team ids as a JSON array, and their slugs.
    pub teams: (&'a str, &'a [String]),
}

/// Changes a verified domain's enrollment, role and teams.
pub async fn update(
    db: &Db,
    caller: &Caller,
    row: &DomainRow,
    change: &EnrollmentChange<'_>,
    now: Timestamp,
) -> Result<DomainRow, Problem> {
    let org = &caller.org.id;
    let mut batch = principal::write_batch(caller);
    guard!(
        batch,
        Code::DomainNotVerified,
        "NOT EXISTS (SELECT 1 FROM domains WHERE id = ?2 AND status = 'verified')",
        &row.id,
    );
    guard_as_read(&mut batch, row);
    let (role, def) = change.role;
    if def.builtin.is_none() {
        guard_role_defined(&mut batch, org, role, def);
    }
    let (team_ids, slugs) = change.teams;
    guard!(
        batch,
        Code::Conflict,
        "(SELECT count(*) FROM teams
           WHERE org_id = ?2 AND id IN (SELECT value FROM json_each(?3))) <> ?4",
        org,
        team_ids,
        slugs.len() as i64,
    );
    batch.push(sql!(
        "UPDATE domains SET enrollment = ?2, role = ?3, teams = ?4, updated_at = ?5
          WHERE id = ?1",
        &row.id,
        change.enrollment.as_str(),
        role.as_str(),
        team_ids,
        now.0,
    ));
    audit::by_caller(
        &mut batch,
        caller,
        ("domain", &row.id),
        DomainUpdatedData {
            domain: row.domain.clone(),
            enrollment: change.enrollment,
            role: role.clone(),
            teams: slugs.to_vec(),
        },
        now,
    );
    read_back(db, batch, &caller.org.slug, &row.id).await
}

/// Removes a domain: nobody joins through it any more.
pub async fn remove(
    db: &Db,
    caller: &Caller,
    row: &DomainRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM domains WHERE id = ?2)",
        &row.id,
    );
    batch.push(sql!("DELETE FROM domains WHERE id = ?1", &row.id));
    audit::by_caller(
        &mut batch,
        caller,
        ("domain", &row.id),
        DomainRemovedData {
            domain: row.domain.clone(),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

#[derive(Debug, Clone, Deserialize)]
pub struct JoinRequestRow {
    pub seq: i64,
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    pub created_at: i64,
}

impl JoinRequestRow {
    pub fn status(&self) -> Result<JoinRequestStatus, Problem> {
        JoinRequestStatus::parse(&self.status).ok_or_else(Problem::internal)
    }
}

/// What someone asking to join organization `slug` through their email's domain needs
/// decided: the organization, the seats, whether they are in it, and the verified domain
/// that lets them in (with its role's definition).
#[derive(Debug, Clone, Deserialize)]
pub struct JoinView {
    pub org_id: String,
    pub org_slug: String,
    pub org_plan: String,
    pub org_extra_seats: i64,
    pub seats_used: i64,
    pub is_member: i64,
    /// The organization's verified domain for the email, with enrollment not `off`.
    #[serde(flatten)]
    pub domain: Option<EnrollingDomain>,
}

/// A verified domain people join through, with its role's definition.
#[derive(Debug, Clone, Deserialize)]
pub struct EnrollingDomain {
    pub domain_id: String,
    pub enrollment: String,
    pub role: String,
    pub teams: String,
    pub team_slugs: String,
    #[serde(flatten)]
    pub def: StoredDef,
}

impl EnrollingDomain {
    pub fn enrollment(&self) -> Result<Enrollment, Problem> {
        Enrollment::parse(&self.enrollment).ok_or_else(Problem::internal)
    }

    pub fn role(&self) -> Result<(RoleKey, RoleDef), Problem> {
        self.def.resolve(&self.role)
    }

    pub fn team_slugs(&self) -> Vec<String> {
        super::sorted_strings(&self.team_slugs)
    }
}

/// Adds the read deciding whether `user_id` (verified email on `domain`) may join
/// organization `slug`; `domain` may be `None` (no verified email), and then no domain is
/// found. `enrolling` narrows it to domains whose enrollment is not `off`.
pub fn join_view(
    batch: &mut Batch,
    slug: &str,
    user_id: &str,
    domain: Option<&str>,
    enrolling: bool,
) -> Rows<JoinView> {
    batch.query(sql!(
        concat!(
            "SELECT o.id AS org_id, o.slug AS org_slug, o.plan AS org_plan,
                    o.extra_seats AS org_extra_seats,
                    o.members_count AS seats_used,
                    EXISTS (SELECT 1 FROM memberships m
                             WHERE m.org_id = o.id AND m.user_id = ?2) AS is_member,
                    d.id AS domain_id, d.enrollment, d.role, d.teams,
                    (SELECT json_group_array(t.slug) FROM teams t
                      WHERE t.org_id = d.org_id
                        AND t.id IN (SELECT value FROM json_each(d.teams))) AS team_slugs, ",
            role_def_columns!(),
            "
               FROM orgs o
               LEFT JOIN domains d ON d.org_id = o.id AND d.domain = ?3
                                  AND d.status = 'verified' AND (NOT ?4 OR d.enrollment <> 'off')
               LEFT JOIN roles ro ON ro.org_id = o.id AND ro.key = d.role
              WHERE o.slug = ?1 AND o.deleted_at IS NULL"
        ),
        slug,
        user_id,
        domain,
        enrolling,
    ))
}

/// Guards that `domain` still lets people in as it did when read (`conflict`).
fn guard_domain_unchanged(batch: &mut Batch, domain: &EnrollingDomain) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM domains
                      WHERE id = ?2 AND status = 'verified' AND enrollment = ?3 AND role = ?4
                        AND teams = ?5)",
        &domain.domain_id,
        &domain.enrollment,
        &domain.role,
        &domain.teams,
    );
}

/// Makes the caller a member through the domain (`auto_join`): guards that the domain is
/// as read, then [`members::join`] guards the rest (seats, already a member).
pub fn auto_join(
    batch: &mut Batch,
    view: &JoinView,
    domain: &EnrollingDomain,
    user_id: &str,
    seats: &SeatCheck<'_>,
    member_added: MemberAddedData,
    now: Timestamp,
) -> Result<Rows<MemberRow>, Problem> {
    guard_domain_unchanged(batch, domain);
    let (role, def) = domain.role()?;
    let slugs = domain.team_slugs();
    members::join(
        batch,
        &Joiner {
            org_id: &view.org_id,
            org_slug: &view.org_slug,
            user_id,
            by: By::User(user_id),
            role: (&role, def),
            invitation_id: None,
            teams: (&domain.teams, &slugs),
            seats,
            member_added,
        },
        now,
    );
    Ok(members::one(batch, &view.org_id, user_id))
}

/// Someone asking to join.
pub struct Requester<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub name: Option<&'a str>,
}

/// Records a pending join request, guarded: the domain still takes requests, the requester
/// is not a member, and has no pending request (`conflict`: decided again, the request
/// read then is the answer).
pub async fn request(
    db: &Db,
    view: &JoinView,
    domain: &EnrollingDomain,
    requester: &Requester<'_>,
    id: &str,
    now: Timestamp,
) -> Result<JoinRequestRow, Problem> {
    let mut batch = Batch::new();
    guard_domain_unchanged(&mut batch, domain);
    guard!(
        batch,
        Code::AlreadyMember,
        "EXISTS (SELECT 1 FROM memberships WHERE org_id = ?2 AND user_id = ?3)",
        &view.org_id,
        requester.user_id,
    );
    guard!(
        batch,
        Code::Conflict,
        "EXISTS (SELECT 1 FROM join_requests
                  WHERE org_id = ?2 AND user_id = ?3 AND status = 'pending')",
        &view.org_id,
        requester.user_id,
    );
    batch.push(sql!(
        "INSERT INTO join_requests (id, org_id, user_id, email, name, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
        id,
        &view.org_id,
        requester.user_id,
        requester.email,
        requester.name,
        now.0,
    ));
    audit::record(
        &mut batch,
        Change {
            org_id: &view.org_id,
            org_slug: &view.org_slug,
            by: By::User(requester.user_id),
            target: ("join_request", id),
            data: JoinRequestCreatedData {
                id: id.to_owned(),
                user_id: requester.user_id.to_owned(),
                email: requester.email.to_owned(),
            }
            .into(),
        },
        now,
    );
    let row = request_by_id(&mut batch, id);
    batch
        .run(db)
        .await?
        .first(row)?
        .ok_or_else(Problem::internal)
}

/// Adds the read of join request `id`.
pub fn request_by_id(batch: &mut Batch, id: &str) -> Rows<JoinRequestRow> {
    batch.query(sql!(
        "SELECT seq, id, user_id, email, name, status, created_at
           FROM join_requests WHERE id = ?1",
        id
    ))
}

/// Adds the read of join request `id` of organization `slug`.
pub fn request_in_org(batch: &mut Batch, slug: &str, id: &str) -> Rows<JoinRequestRow> {
    batch.query(sql!(
        "SELECT seq, id, user_id, email, name, status, created_at
           FROM join_requests
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND id = ?2",
        slug,
        id
    ))
}

/// Adds a page of organization `slug`'s join requests in `status` (`None`: all), oldest
/// first.
pub fn requests(
    batch: &mut Batch,
    slug: &str,
    status: Option<JoinRequestStatus>,
    after_seq: i64,
    limit: i64,
) -> Rows<JoinRequestRow> {
    batch.query(sql!(
        "SELECT seq, id, user_id, email, name, status, created_at
           FROM join_requests
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND (?2 IS NULL OR status = ?2) AND seq > ?3
          ORDER BY seq LIMIT ?4",
        slug,
        status.map(JoinRequestStatus::as_str),
        after_seq,
        limit
    ))
}

fn guard_pending(batch: &mut Batch, id: &str) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM join_requests WHERE id = ?2 AND status = 'pending')",
        id,
    );
}

fn decide(batch: &mut Batch, caller: &Caller, id: &str, status: JoinRequestStatus, now: Timestamp) {
    batch.push(sql!(
        "UPDATE join_requests SET status = ?2, decided_at = ?3, decided_by = ?4 WHERE id = ?1",
        id,
        status.as_str(),
        now.0,
        caller.actor.kind_and_id().1,
    ));
}

/// Approves a pending request: the requester becomes a member with `role` and `teams`
/// (seats and membership guarded by [`members::join`]).
#[allow(clippy::too_many_arguments)]
pub async fn approve(
    db: &Db,
    caller: &Caller,
    request: &JoinRequestRow,
    domain: Option<&EnrollingDomain>,
    role: (&RoleKey, RoleDef),
    seats: &SeatCheck<'_>,
    member_added: MemberAddedData,
    now: Timestamp,
) -> Result<MemberRow, Problem> {
    let mut batch = principal::write_batch(caller);
    guard_pending(&mut batch, &request.id);
    let slugs = domain.map(EnrollingDomain::team_slugs).unwrap_or_default();
    let teams = domain.map_or("[]", |d| d.teams.as_str());
    if let Some(domain) = domain {
        guard!(
            batch,
            Code::Conflict,
            "NOT EXISTS (SELECT 1 FROM domains WHERE id = ?2 AND role = ?3 AND teams = ?4)",
            &domain.domain_id,
            &domain.role,
            &domain.teams,
        );
    }
    members::join(
        &mut batch,
        &Joiner {
            org_id: &caller.org.id,
            org_slug: &caller.org.slug,
            user_id: &request.user_id,
            by: By::User(&request.user_id),
            role,
            invitation_id: None,
            teams: (teams, &slugs),
            seats,
            member_added,
        },
        now,
    );
    decide(
        &mut batch,
        caller,
        &request.id,
        JoinRequestStatus::Approved,
        now,
    );
    audit::by_caller(
        &mut batch,
        caller,
        ("join_request", &request.id),
        JoinRequestApprovedData {
            id: request.id.clone(),
            user_id: request.user_id.clone(),
        },
        now,
    );
    let member = members::one(&mut batch, &caller.org.id, &request.user_id);
    batch
        .run(db)
        .await?
        .first(member)?
        .ok_or_else(Problem::internal)
}

/// Denies a pending request.
pub async fn deny(
    db: &Db,
    caller: &Caller,
    request: &JoinRequestRow,
    now: Timestamp,
) -> Result<(), Problem> {
    let mut batch = principal::write_batch(caller);
    guard_pending(&mut batch, &request.id);
    decide(
        &mut batch,
        caller,
        &request.id,
        JoinRequestStatus::Denied,
        now,
    );
    audit::by_caller(
        &mut batch,
        caller,
        ("join_request", &request.id),
        JoinRequestDeniedData {
            id: request.id.clone(),
            user_id: request.user_id.clone(),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// An organization suggested to someone by their email's domain.
#[derive(Debug, Deserialize)]
pub struct SuggestionRow {
    pub slug: String,
    pub name: String,
    pub logo_url: Option<String>,
    pub enrollment: String,
    pub request_id: Option<String>,
    pub request_status: Option<String>,
}

/// Adds the organizations whose verified domain is `domain`, enrollment not `off`, that
/// `user_id` is not in, with the user's latest join request there.
pub fn suggestions(batch: &mut Batch, domain: &str, user_id: &str) -> Rows<SuggestionRow> {
    batch.query(sql!(
        "SELECT o.slug, o.name, o.logo_url, d.enrollment,
                (SELECT r.id FROM join_requests r WHERE r.org_id = o.id AND r.user_id = ?2
                  ORDER BY r.seq DESC LIMIT 1) AS request_id,
                (SELECT r.status FROM join_requests r WHERE r.org_id = o.id AND r.user_id = ?2
                  ORDER BY r.seq DESC LIMIT 1) AS request_status
           FROM domains d JOIN orgs o ON o.id = d.org_id
          WHERE d.domain = ?1 AND d.status = 'verified' AND d.enrollment <> 'off'
            AND o.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM memberships m
                             WHERE m.org_id = o.id AND m.user_id = ?2)
          ORDER BY d.seq LIMIT 100",
        domain,
        user_id
    ))
}

/// A domain the scheduled job checks again.
#[derive(Debug, Clone, Deserialize)]
pub struct DueDomain {
    #[serde(flatten)]
    pub row: DomainRow,
    pub org_slug: String,
}

/// Domains due for a re-check: pending ones, and verified ones not checked for a day,
/// least recently checked first. Each of the three cases is its own search of
/// `domains_by_status`, so verified domains checked since the cutoff are not read.
pub async fn due(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<DueDomain>, Problem> {
    db.all(sql!(
        "SELECT d.seq, d.id, d.org_id, d.domain, d.status, d.challenge, d.enrollment, d.role,
                d.teams, d.verified_at, d.last_checked_at, d.missing_since, d.created_at,
                '[]' AS team_slugs, o.slug AS org_slug
           FROM domains d JOIN orgs o ON o.id = d.org_id
          WHERE o.deleted_at IS NULL
            AND (d.status = 'pending'
                 OR (d.status = 'verified' AND d.last_checked_at IS NULL)
                 OR (d.status = 'verified' AND d.last_checked_at <= ?1 - ?2))
          ORDER BY d.last_checked_at IS NOT NULL, d.last_checked_at LIMIT ?3",
        now.0,
        VERIFIED_RECHECK_SECONDS,
        limit
    ))
    .await
}

/// The job found a pending domain's record: verified (`domain.verified`).
pub async fn verified_by_job(db: &Db, due: &DueDomain, now: Timestamp) -> Result<(), Problem> {
    let mut batch = Batch::new();
    set_verified(&mut batch, &due.row, &due.org_slug, By::System, now);
    batch.run(db).await.map(|_| ())
}

/// The job gives up on a domain: failed, enrollment off (`domain.failed`).
pub async fn failed_by_job(db: &Db, due: &DueDomain, now: Timestamp) -> Result<(), Problem> {
    let row = &due.row;
    let mut batch = Batch::new();
    guard_as_read(&mut batch, row);
    batch.push(sql!(
        "UPDATE domains SET status = 'failed', enrollment = 'off', last_checked_at = ?2,
                updated_at = ?2
          WHERE id = ?1",
        &row.id,
        now.0,
    ));
    audit::record(
        &mut batch,
        Change {
            org_id: &row.org_id,
            org_slug: &due.org_slug,
            by: By::System,
            target: ("domain", &row.id),
            data: DomainFailedData {
                domain: row.domain.clone(),
            }
            .into(),
        },
        now,
    );
    batch.run(db).await.map(|_| ())
}

/// The job checked a domain and nothing changes but when, and since when its record is
/// missing. Only if no other run checked it meanwhile.
pub async fn checked_by_job(
    db: &Db,
    due: &DueDomain,
    missing_since: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), Problem> {
    let row = &due.row;
    db.all::<serde::de::IgnoredAny>(sql!(
        "UPDATE domains SET last_checked_at = ?2, missing_since = ?3
          WHERE id = ?1 AND status = ?4 AND last_checked_at IS ?5
         RETURNING id",
        &row.id,
        now.0,
        missing_since.map(|t| t.0),
        &row.status,
        row.last_checked_at,
    ))
    .await
    .map(|_| ())
}

/// Adds the read of organization `slug`'s teams among `slugs`.
pub fn teams_named(batch: &mut Batch, slug: &str, slugs: &[String]) -> Rows<TeamRef> {
    batch.query(sql!(
        "SELECT id, slug FROM teams
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND slug IN (SELECT value FROM json_each(?2))",
        slug,
        serde_json::Value::from(slugs.to_vec()).to_string(),
    ))
}

/// Adds the read of `user_id`'s pending join request in organization `slug`.
pub fn pending_request(batch: &mut Batch, slug: &str, user_id: &str) -> Rows<JoinRequestRow> {
    batch.query(sql!(
        "SELECT seq, id, user_id, email, name, status, created_at
           FROM join_requests
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND user_id = ?2 AND status = 'pending'",
        slug,
        user_id
    ))
}
