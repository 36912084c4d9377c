//! Billing in D1: the seats a decision needs, rolling periods (by the scheduled job, or by
//! the first write after a period ended when the job has not run yet), plan and extra seat
//! changes with their guards, and the ledger.
//!
//! Every write restates the billing state it was decided on as a guard, so a concurrent
//! change of plan, seats or period turns it into `conflict` instead of a wrong charge.

use super::audit::{self, By, Change};
use super::principal::{self, org_columns, Caller, OrgRow};
use super::{Batch, Db, Results, Rows};
use crate::api::events::{
    EventData, PlanChangedData, SeatsBefore, SeatsChangeReason, SeatsChangedData,
};
use crate::domain::plan::{Billing, Holdings, Period, SeatChange};
use crate::domain::values::{new_id, Role};
use crate::domain::{Code, Problem, Timestamp};
use crate::{guard, sql};
use serde::Deserialize;
use serde_json::Value;

/// An organization's stored billing, for the domain to decide on.
pub fn stored(org: &OrgRow) -> Result<Billing, Problem> {
    Ok(Billing {
        plan: org.plan()?,
        extra_seats: org.extra_seats,
        extra_seats_next: org.extra_seats_next,
        anchor: Timestamp(org.period_anchor),
        period: Period {
            start: Timestamp(org.period_start),
            end: Timestamp(org.period_end),
        },
        credits_used: org.credits_used,
    })
}

/// Who holds the seats of an organization.
#[derive(Debug, Clone, Deserialize)]
pub struct SeatState {
    /// Seats used: one per member, the owner included.
    pub members: i64,
    /// Pending invitations that have not expired (they take no seat).
    pub pending: i64,
    /// The distinct roles members hold, as a JSON array.
    roles: String,
    pub custom_roles: i64,
    pub teams: i64,
}

impl SeatState {
    /// What the organization holds that a plan must make room for. Holders of custom roles
    /// count through `custom_roles`.
    pub fn holdings(&self) -> Result<Holdings, Problem> {
        let roles = serde_json::from_str::<Vec<String>>(&self.roles)
            .map_err(|_| Problem::internal())?
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect();
        Ok(Holdings {
            members: self.members,
            roles,
            custom_roles: self.custom_roles,
            teams: self.teams,
        })
    }
}

/// The statement reading an organization's seats. Members and pending invitations are
/// counters (less the invitations past their expiry that the scheduled job has not marked
/// yet), and which built-in roles are held (`?3`, the policy's names) is asked role by role
/// along `memberships_by_role`, so it costs the same in an organization of any size.
macro_rules! seat_state {
    ($org:literal) => {
        concat!(
            "SELECT o.members_count AS members,
                    o.pending_invitations_count
                    - (SELECT count(*) FROM invitations
                        WHERE org_id = o.id AND status = 'pending' AND expires_at <= ?2)
                    AS pending,
                    (SELECT json_group_array(r.value) FROM json_each(?3) r
                      WHERE EXISTS (SELECT 1 FROM memberships m
                                     WHERE m.org_id = o.id AND m.role = r.value)) AS roles,
                    (SELECT count(*) FROM roles WHERE org_id = o.id) AS custom_roles,
                    (SELECT count(*) FROM teams WHERE org_id = o.id) AS teams
               FROM orgs o WHERE ",
            $org
        )
    };
}

/// The built-in roles' names, as a JSON array for SQL.
fn builtin_roles() -> String {
    Value::from(Role::ALL.map(Role::as_str).to_vec()).to_string()
}

/// Adds the read of organization `slug`'s seats.
pub fn seat_state(batch: &mut Batch, slug: &str, now: Timestamp) -> Rows<SeatState> {
    batch.query(sql!(
        seat_state!("o.slug = ?1 AND o.deleted_at IS NULL"),
        slug,
        now.0,
        builtin_roles(),
    ))
}

/// Adds the read of an organization's seats by id (at the end of a write, whatever its
/// slug has become meanwhile).
fn seat_state_by_id(batch: &mut Batch, org_id: &str, now: Timestamp) -> Rows<SeatState> {
    batch.query(sql!(
        seat_state!("o.id = ?1"),
        org_id,
        now.0,
        builtin_roles()
    ))
}

/// The move of an organization's billing into the period that contains `now`.
#[derive(Debug, Clone)]
pub struct Roll {
    pub org_id: String,
    pub org_slug: String,
    pub from: Billing,
    pub to: Billing,
    /// Seats used when the roll was decided (a scheduled decrease stops at them).
    pub members: i64,
}

/// What a billing decision is made on: the organization's billing at `now`, the roll that
/// gets the store there when its period has ended, and its seats.
pub struct Current {
    pub billing: Billing,
    pub roll: Option<Roll>,
    pub seats: SeatState,
}

impl Current {
    pub fn at(org: &OrgRow, seats: SeatState, now: Timestamp) -> Result<Current, Problem> {
        let (billing, roll) = Roll::at(org, seats.members, now)?;
        Ok(Current {
            billing,
            roll,
            seats,
        })
    }
}

impl Roll {
    /// An organization's billing at `now`, and the roll that gets the store there if its
    /// period has ended.
    fn at(org: &OrgRow, members: i64, now: Timestamp) -> Result<(Billing, Option<Roll>), Problem> {
        let from = stored(org)?;
        let to = from.at(now, members);
        let roll = from.roll_due(now).then(|| Roll {
            org_id: org.id.clone(),
            org_slug: org.slug.clone(),
            from,
            to,
            members,
        });
        Ok((to, roll))
    }
}

/// Adds a roll: guarded that the organization is still as read (else `conflict`: the job
/// or another request rolled it first, or its seats moved), then the new period with no
/// credits used, and `seats.changed` when a scheduled decrease took effect.
pub fn roll(batch: &mut Batch, roll: &Roll, now: Timestamp) {
    let (from, to) = (&roll.from, &roll.to);
    guard_billing(batch, &roll.org_id, from);
    if from.extra_seats_next.is_some() {
        guard!(
            batch,
            Code::Conflict,
            "(SELECT members_count FROM orgs WHERE id = ?2) <> ?3",
            &roll.org_id,
            roll.members,
        );
    }
    batch.push(sql!(
        "UPDATE orgs SET period_start = ?2, period_end = ?3, credits_used = 0,
                extra_seats = ?4, extra_seats_next = NULL, updated_at = ?5
          WHERE id = ?1",
        &roll.org_id,
        to.period.start.0,
        to.period.end.0,
        to.extra_seats,
        now.0,
    ));
    if to.extra_seats != from.extra_seats {
        audit::record(
            batch,
            Change {
                org_id: &roll.org_id,
                org_slug: &roll.org_slug,
                by: By::System,
                target: ("organization", &roll.org_id),
                data: seats_changed(from, to, SeatsChangeReason::PeriodStarted).into(),
            },
            now,
        );
    }
}

/// What `seats.changed` says: the seats before and after, and why they changed.
fn seats_changed(from: &Billing, to: &Billing, reason: SeatsChangeReason) -> SeatsChangedData {
    SeatsChangedData {
        reason,
        plan: to.plan,
        included: to.plan.spec().included_seats,
        extra: to.extra_seats,
        extra_next_period: to.extra_seats_next,
        total: to.total_seats(),
        previous: SeatsBefore {
            plan: from.plan,
            extra: from.extra_seats,
            extra_next_period: from.extra_seats_next,
            total: from.total_seats(),
        },
        charge_cents: None,
    }
}

/// Guards that an organization's plan, seats and period are still `expected`: a write
/// decided on them must not land on others.
fn guard_billing(batch: &mut Batch, org_id: &str, expected: &Billing) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs
                      WHERE id = ?2 AND plan = ?3 AND extra_seats = ?4
                        AND extra_seats_next IS ?5 AND period_start = ?6 AND deleted_at IS NULL)",
        org_id,
        expected.plan.as_str(),
        expected.extra_seats,
        expected.extra_seats_next,
        expected.period.start.0,
    );
}

/// Guards that an organization is still on the plan the request read: a role decided on
/// that plan must not land after a downgrade that took the role away.
pub fn guard_plan(batch: &mut Batch, org: &OrgRow) {
    guard!(
        batch,
        Code::Conflict,
        "NOT EXISTS (SELECT 1 FROM orgs WHERE id = ?2 AND plan = ?3)",
        &org.id,
        &org.plan,
    );
}

/// Runs a billing write, rolling the period first when `roll` is due. When the roll's guard
/// finds that the job or another request rolled first, the write runs once more alone: its
/// own guards still hold it to the rolled state it was decided on.
pub async fn run_rolled<R>(
    db: &Db,
    roll: Option<&Roll>,
    now: Timestamp,
    build: impl Fn(&mut Batch) -> R,
) -> Result<(Results, R), Problem> {
    let mut batch = Batch::new();
    if let Some(r) = roll {
        self::roll(&mut batch, r, now);
    }
    let rows = build(&mut batch);
    match batch.run(db).await {
        Ok(results) => Ok((results, rows)),
        Err(p) if p.code == Code::Conflict && roll.is_some() => {
            let mut batch = Batch::new();
            let rows = build(&mut batch);
            Ok((batch.run(db).await?, rows))
        }
        Err(p) => Err(p),
    }
}

/// Sets the extra seats as `change` says: seats added are usable at once and their charge
/// goes to the ledger in the same batch; a decrease is stored for the next period, guarded
/// against members who joined meanwhile. Returns the seats afterwards.
pub async fn set_extra_seats(
    db: &Db,
    caller: &Caller,
    current: &Current,
    change: &SeatChange,
    now: Timestamp,
) -> Result<SeatState, Problem> {
    let org = &caller.org.id;
    let to = &change.billing;
    let (results, seats) = run_rolled(db, current.roll.as_ref(), now, |batch| {
        principal::guard_actor(batch, caller);
        guard_billing(batch, org, &current.billing);
        if let Some(next) = to.extra_seats_next {
            guard!(
                batch,
                Code::SeatsInUse,
                "(SELECT members_count FROM orgs WHERE id = ?2) > ?3",
                org,
                to.plan.spec().included_seats + next,
            );
        }
        batch.push(sql!(
            "UPDATE orgs SET extra_seats = ?2, extra_seats_next = ?3, updated_at = ?4
              WHERE id = ?1",
            org,
            to.extra_seats,
            to.extra_seats_next,
            now.0,
        ));
        if change.added > 0 {
            batch.push(sql!(
                "INSERT INTO ledger (id, org_id, at, kind, quantity, amount_cents, description)
                 VALUES (?1, ?2, ?3, 'extra_seats', ?4, ?5, ?6)",
                new_id(),
                org,
                now.0,
                change.added,
                change.charge_cents,
                format!(
                    "{} extra seat{} from {now} to {}, pro rata",
                    change.added,
                    if change.added == 1 { "" } else { "s" },
                    to.period.end,
                ),
            ));
        }
        let reason = match (change.added, to.extra_seats_next) {
            (0, Some(_)) => SeatsChangeReason::DecreaseScheduled,
            (0, None) => SeatsChangeReason::DecreaseCanceled,
            _ => SeatsChangeReason::ExtraSeatsAdded,
        };
        let data = SeatsChangedData {
            charge_cents: Some(change.charge_cents),
            ..seats_changed(&current.billing, to, reason)
        };
        audit::by_caller(batch, caller, ("organization", org), data, now);
        seat_state_by_id(batch, org, now)
    })
    .await?;
    results.first(seats)?.ok_or_else(Problem::internal)
}

/// Moves the organization to `to.plan`, guarded so that no member who joined, and no role
/// given, since the request read leaves it over the new plan's seats or with a role the
/// plan lacks. Records `billing.plan_changed` and `seats.changed`. Plan changes do not
/// touch the ledger: a plan's price belongs to the product's payment flow. Returns the
/// seats afterwards.
pub async fn change_plan(
    db: &Db,
    caller: &Caller,
    current: &Current,
    to: &Billing,
    now: Timestamp,
) -> Result<SeatState, Problem> {
    let org = &caller.org.id;
    let from = &current.billing;
    let roles: Vec<&str> = to.plan.spec().roles.iter().map(|r| r.as_str()).collect();
    let roles = Value::from(roles).to_string();
    let (results, seats) = run_rolled(db, current.roll.as_ref(), now, |batch| {
        principal::guard_actor(batch, caller);
        guard_billing(batch, org, from);
        guard!(
            batch,
            Code::PlanDowngradeBlocked,
            "(SELECT members_count FROM orgs WHERE id = ?2) > ?3",
            org,
            to.total_seats(),
        );
        // Holders of custom roles are judged by the count of custom roles below.
        guard!(
            batch,
            Code::PlanDowngradeBlocked,
            "EXISTS (SELECT 1 FROM memberships
                      WHERE org_id = ?2 AND role NOT IN (SELECT value FROM json_each(?3))
                        AND role NOT IN (SELECT key FROM roles WHERE org_id = ?2))",
            org,
            &roles,
        );
        guard!(
            batch,
            Code::PlanDowngradeBlocked,
            "(SELECT count(*) FROM roles WHERE org_id = ?2) > ?3",
            org,
            to.plan.spec().custom_roles,
        );
        if let Some(teams) = to.plan.spec().teams {
            guard!(
                batch,
                Code::PlanDowngradeBlocked,
                "(SELECT count(*) FROM teams WHERE org_id = ?2) > ?3",
                org,
                teams,
            );
        }
        batch.push(sql!(
            "UPDATE orgs SET plan = ?2, extra_seats = ?3, extra_seats_next = ?4, updated_at = ?5
              WHERE id = ?1",
            org,
            to.plan.as_str(),
            to.extra_seats,
            to.extra_seats_next,
            now.0,
        ));
        let plan_changed = PlanChangedData {
            from: from.plan,
            to: to.plan,
        };
        let seats = seats_changed(from, to, SeatsChangeReason::PlanChanged);
        for data in [EventData::from(plan_changed), seats.into()] {
            audit::by_caller(batch, caller, ("organization", org), data, now);
        }
        seat_state_by_id(batch, org, now)
    })
    .await?;
    results.first(seats)?.ok_or_else(Problem::internal)
}

/// One ledger entry.
#[derive(Debug, Deserialize)]
pub struct LedgerRow {
    pub seq: i64,
    pub id: String,
    pub at: i64,
    pub kind: String,
    pub quantity: i64,
    pub amount_cents: i64,
    pub description: String,
}

/// Adds a page of organization `slug`'s ledger, oldest first.
pub fn ledger(batch: &mut Batch, slug: &str, after_seq: i64, limit: i64) -> Rows<LedgerRow> {
    batch.query(sql!(
        "SELECT seq, id, at, kind, quantity, amount_cents, description FROM ledger
          WHERE org_id = (SELECT id FROM orgs WHERE slug = ?1 AND deleted_at IS NULL)
            AND seq > ?2
          ORDER BY seq LIMIT ?3",
        slug,
        after_seq,
        limit,
    ))
}

/// An organization whose period has ended, with its seats used.
#[derive(Debug, Deserialize)]
pub struct EndedPeriod {
    #[serde(flatten)]
    pub org: OrgRow,
    pub members: i64,
}

/// Up to `limit` organizations whose period ended by `now`, longest overdue first.
pub async fn due_for_roll(
    db: &Db,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<EndedPeriod>, Problem> {
    db.all(sql!(
        concat!(
            "SELECT ",
            org_columns!(),
            ", o.members_count AS members
               FROM orgs o
              WHERE o.period_end <= ?1 AND o.deleted_at IS NULL
              ORDER BY o.period_end LIMIT ?2"
        ),
        now.0,
        limit,
    ))
    .await
}

/// Rolls one organization's period. `Ok(false)` when a request or another run rolled it
/// (or its seats moved) first; the next run looks again.
pub async fn roll_due(db: &Db, due: &EndedPeriod, now: Timestamp) -> Result<bool, Problem> {
    let Some(r) = Roll::at(&due.org, due.members, now)?.1 else {
        return Ok(false);
    };
    let mut batch = Batch::new();
    roll(&mut batch, &r, now);
    match batch.run(db).await {
        Ok(_) => Ok(true),
        Err(p) if p.code == Code::Conflict => Ok(false),
        Err(p) => Err(p),
    }
}
