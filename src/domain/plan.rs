//! Plans, seats, billing periods and proration: all the arithmetic of what an organization
//! pays for, in one place.

use super::policy::RoleDef;
use super::problem::{Code, Problem};
use super::time::Timestamp;
use super::values::Role;
use chrono::{DateTime, Datelike, Months, Utc};
use std::fmt;

/// A subscription plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plan {
    Free,
    Pro,
    Business,
}

/// What a plan includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanSpec {
    pub included_seats: i64,
    pub roles: &'static [Role],
    /// Whether extra seats can be bought on top of the included ones.
    pub extra_seats: bool,
    /// Credits shared by the organization in each billing period.
    pub credits: i64,
    /// How many custom roles an organization may define.
    pub custom_roles: i64,
    /// How many teams an organization may have; `None`: no limit.
    pub teams: Option<i64>,
    /// Whether its identity provider may provision members through SCIM.
    pub scim: bool,
}

/// The price of one extra seat for one whole billing period.
pub const SEAT_PRICE_CENTS: i64 = 500;

/// The most extra seats an organization may hold (a bound on what one request can buy).
pub const MAX_EXTRA_SEATS: i64 = 10_000;

const FREE: PlanSpec = PlanSpec {
    included_seats: 1,
    roles: &[Role::Owner, Role::Member],
    extra_seats: false,
    credits: 100,
    custom_roles: 0,
    teams: Some(0),
    scim: false,
};
const PRO: PlanSpec = PlanSpec {
    included_seats: 5,
    roles: &[Role::Owner, Role::Member],
    extra_seats: true,
    credits: 2_000,
    custom_roles: 0,
    teams: Some(5),
    scim: false,
};
const BUSINESS: PlanSpec = PlanSpec {
    included_seats: 20,
    roles: &[Role::Owner, Role::Admin, Role::Member, Role::Viewer],
    extra_seats: true,
    credits: 10_000,
    custom_roles: 25,
    teams: None,
    scim: true,
};

impl Plan {
    pub const ALL: [Plan; 3] = [Plan::Free, Plan::Pro, Plan::Business];
    /// The plans' names, as requests spell them, in the order of [`ALL`](Self::ALL).
    pub const NAMES: &'static [&'static str] = &{
        let mut names = [""; Plan::ALL.len()];
        let mut i = 0;
        while i < names.len() {
            names[i] = Plan::ALL[i].as_str();
            i += 1;
        }
        names
    };

    pub fn spec(self) -> &'static PlanSpec {
        match self {
            Plan::Free => &FREE,
            Plan::Pro => &PRO,
            Plan::Business => &BUSINESS,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Business => "business",
        }
    }

    pub fn parse(s: &str) -> Option<Plan> {
        Plan::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn has_role(self, role: Role) -> bool {
        self.spec().roles.contains(&role)
    }

    /// Refuses a role this plan does not offer.
    pub fn require_role(self, role: Role) -> Result<(), Problem> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(Problem::new(
                Code::RoleNotAvailable,
                format!(
                    "The {} plan has no `{role}` role; it offers {}.",
                    self.as_str(),
                    role_list(self.spec().roles)
                ),
            ))
        }
    }

    /// Refuses a role this plan does not offer: a built-in role the plan lacks, or a custom
    /// role on a plan without them.
    pub fn require_role_def(self, role: RoleDef) -> Result<(), Problem> {
        match role.builtin {
            Some(builtin) => self.require_role(builtin),
            None if self.spec().custom_roles > 0 => Ok(()),
            None => Err(Problem::new(
                Code::RoleNotAvailable,
                format!("The {self} plan has no custom roles."),
            )),
        }
    }

    /// Refuses one more custom role (there are `defined`) or team (there are `existing`)
    /// beyond what the plan allows.
    pub fn require_room(self, kind: Countable, existing: i64) -> Result<(), Problem> {
        let limit = match kind {
            Countable::CustomRoles => Some(self.spec().custom_roles),
            Countable::Teams => self.spec().teams,
        };
        match limit {
            Some(limit) if existing >= limit => Err(Problem::new(
                Code::LimitReached,
                match (kind, limit) {
                    (_, 0) => format!("The {self} plan has no {kind}; upgrade the plan first."),
                    _ => format!("The {self} plan allows at most {limit} {kind}."),
                },
            )),
            _ => Ok(()),
        }
    }

    /// Refuses SCIM provisioning on a plan without it: issuing a token is `limit_reached`,
    /// as for custom roles and teams.
    pub fn require_scim(self) -> Result<(), Problem> {
        if self.spec().scim {
            Ok(())
        } else {
            Err(Problem::new(
                Code::LimitReached,
                format!("The {self} plan has no SCIM provisioning; upgrade to business first."),
            ))
        }
    }

    /// The role a former owner takes when ownership moves: admin where the plan has it.
    pub fn demoted_owner_role(self) -> Role {
        if self.has_role(Role::Admin) {
            Role::Admin
        } else {
            Role::Member
        }
    }
}

/// What a plan limits by number, besides seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Countable {
    CustomRoles,
    Teams,
}

impl fmt::Display for Countable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Countable::CustomRoles => "custom roles",
            Countable::Teams => "teams",
        })
    }
}

/// What an organization holds that a plan must make room for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub members: i64,
    /// The built-in roles its members hold.
    pub roles: Vec<Role>,
    pub custom_roles: i64,
    pub teams: i64,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Seat usage of an organization, as `GET billing` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Seats {
    /// Seats the plan includes.
    pub included: i64,
    /// Extra seats this period.
    pub extra: i64,
    /// `included + extra`.
    pub total: i64,
    /// Members, the owner included.
    pub used: i64,
    pub available: i64,
    /// Pending invitations take no seat until accepted.
    pub pending_invitations: i64,
    /// The extra seats the next period starts with when a decrease is scheduled; null
    /// otherwise.
    #[schema(required = true)]
    pub extra_next_period: Option<i64>,
}

impl Seats {
    pub fn new(plan: Plan, extra: i64, used: i64, pending_invitations: i64) -> Seats {
        let included = plan.spec().included_seats;
        let total = included + extra;
        Seats {
            included,
            extra,
            total,
            used,
            available: (total - used).max(0),
            pending_invitations,
            extra_next_period: None,
        }
    }

    /// Refuses a new invitation or an acceptance when no seat is free.
    pub fn require_free_seat(&self) -> Result<(), Problem> {
        if self.used < self.total {
            Ok(())
        } else {
            Err(seat_limit_reached(self.total))
        }
    }
}

pub fn seat_limit_reached(total: i64) -> Problem {
    Problem::new(
        Code::SeatLimitReached,
        format!(
            "{} taken. Remove a member, buy extra seats or upgrade the plan.",
            if total == 1 {
                "The only seat is".to_string()
            } else {
                format!("All {total} seats are")
            }
        ),
    )
}

/// Whether an organization may move to `to`: refused while its members exceed the new
/// plan's seats or hold a role the new plan lacks, while it defines custom roles the new
/// plan has no room for, or has more teams than the new plan allows.
pub fn check_plan_change(to: Plan, extra_seats: i64, held: &Holdings) -> Result<(), Problem> {
    let (members, roles_held) = (held.members, held.roles.as_slice());
    let spec = to.spec();
    let seats = spec.included_seats + if spec.extra_seats { extra_seats } else { 0 };
    if members > seats {
        return Err(Problem::new(
            Code::PlanDowngradeBlocked,
            format!(
                "The {to} plan has {seats} seats but the organization has {members} members; \
                 remove members first."
            ),
        ));
    }
    if let Some(role) = roles_held.iter().find(|r| !to.has_role(**r)) {
        return Err(Problem::new(
            Code::PlanDowngradeBlocked,
            format!("The {to} plan has no `{role}` role; change those members' roles first."),
        ));
    }
    if held.custom_roles > spec.custom_roles {
        return Err(Problem::new(
            Code::PlanDowngradeBlocked,
            format!(
                "The {to} plan allows {} custom roles and the organization has {}; delete \
                 them first.",
                spec.custom_roles, held.custom_roles
            ),
        ));
    }
    if let Some(limit) = spec.teams.filter(|limit| held.teams > *limit) {
        return Err(Problem::new(
            Code::PlanDowngradeBlocked,
            format!(
                "The {to} plan allows {limit} teams and the organization has {}; delete teams \
                 first.",
                held.teams
            ),
        ));
    }
    Ok(())
}

/// What buying `n` extra seats costs for the rest of the current period:
/// `ceil(500 * n * (period_end - now) / (period_end - period_start))` cents.
pub fn proration_cents(
    n: i64,
    now: Timestamp,
    period_start: Timestamp,
    period_end: Timestamp,
) -> i64 {
    let length = (period_end.0 - period_start.0) as i128;
    if n <= 0 || length <= 0 {
        return 0;
    }
    let left = (period_end.0 - now.0).clamp(0, period_end.0 - period_start.0) as i128;
    let numerator = SEAT_PRICE_CENTS as i128 * n as i128 * left;
    ((numerator + length - 1) / length) as i64
}

/// A billing period: `[start, end)`, one calendar month long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The billing period that contains `now`, for periods of one calendar month counted from
/// `anchor`. A day that a month lacks (the 31st, February 29th) falls on its last day; each
/// boundary is counted from the anchor itself, so a short month never shifts later ones.
pub fn period_at(anchor: Timestamp, now: Timestamp) -> Period {
    let anchor_dt = anchor.to_datetime();
    let now_dt = now.to_datetime();
    let mut k =
        (now_dt.year() - anchor_dt.year()) * 12 + now_dt.month() as i32 - anchor_dt.month() as i32;
    k = k.max(0);
    while k > 0 && add_months(anchor_dt, k) > now_dt {
        k -= 1;
    }
    while add_months(anchor_dt, k + 1) <= now_dt {
        k += 1;
    }
    Period {
        start: Timestamp::from_datetime(add_months(anchor_dt, k)),
        end: Timestamp::from_datetime(add_months(anchor_dt, k + 1)),
    }
}

fn add_months(dt: DateTime<Utc>, k: i32) -> DateTime<Utc> {
    dt.checked_add_months(Months::new(k.max(0) as u32))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The credits of the current period, as `GET billing` and `GET usage` show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Credits {
    /// Credits the plan includes per period.
    pub included: i64,
    pub used: i64,
    /// Never below zero, even when a downgrade left `used` above the new allowance.
    #[schema(minimum = 0)]
    pub remaining: i64,
}

impl Credits {
    pub fn new(plan: Plan, used: i64) -> Credits {
        let included = plan.spec().credits;
        Credits {
            included,
            used,
            remaining: (included - used).max(0),
        }
    }

    /// Refuses a consumption the balance cannot cover: the balance never goes below zero.
    pub fn require(&self, amount: i64) -> Result<(), Problem> {
        if amount <= self.remaining {
            Ok(())
        } else {
            Err(Problem::new(
                Code::InsufficientCredits,
                format!(
                    "{amount} credits asked for, {} left in this billing period; nothing was \
                     recorded.",
                    self.remaining
                ),
            ))
        }
    }
}

/// An organization's billing as stored: its plan, extra seats (with a decrease scheduled
/// for the next period, if any), the current period and the credits used in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Billing {
    pub plan: Plan,
    pub extra_seats: i64,
    pub extra_seats_next: Option<i64>,
    pub anchor: Timestamp,
    pub period: Period,
    pub credits_used: i64,
}

/// What `PUT billing/seats` does: the new state, and the seats added at once with their
/// pro-rata charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatChange {
    pub billing: Billing,
    pub added: i64,
    pub charge_cents: i64,
}

impl Billing {
    /// Whether the period has ended by `now`: the state must roll before anything is decided
    /// on it.
    pub fn roll_due(&self, now: Timestamp) -> bool {
        now >= self.period.end
    }

    /// The state at `now`. While the period lasts, the state as stored. Once it has ended,
    /// the state rolling leaves: the period that contains `now`, no credits used, and a
    /// scheduled decrease of extra seats applied — but never below the seats `members`
    /// occupy, since members who joined on seats paid for the ending period keep them.
    /// Rolling what has rolled changes nothing, so the job and requests may both do it.
    pub fn at(&self, now: Timestamp, members: i64) -> Billing {
        if !self.roll_due(now) {
            return *self;
        }
        let spec = self.plan.spec();
        let extra_seats = match self.extra_seats_next {
            _ if !spec.extra_seats => 0,
            None => self.extra_seats,
            Some(next) => next.max((members - spec.included_seats).min(self.extra_seats)),
        };
        Billing {
            extra_seats,
            extra_seats_next: None,
            period: period_at(self.anchor, now),
            credits_used: 0,
            ..*self
        }
    }

    /// Included plus extra seats.
    pub fn total_seats(&self) -> i64 {
        self.plan.spec().included_seats + self.extra_seats
    }

    pub fn seats(&self, used: i64, pending_invitations: i64) -> Seats {
        Seats {
            extra_next_period: self.extra_seats_next,
            ..Seats::new(self.plan, self.extra_seats, used, pending_invitations)
        }
    }

    pub fn credits(&self) -> Credits {
        Credits::new(self.plan, self.credits_used)
    }

    /// Sets the extra seats to `requested`, on a state that is current at `now`. Raising
    /// adds seats at once and charges them pro rata for the rest of the period (and drops
    /// any scheduled decrease); lowering is scheduled for the next period and refused while
    /// `members` would not fit.
    pub fn set_extra_seats(
        &self,
        requested: i64,
        members: i64,
        now: Timestamp,
    ) -> Result<SeatChange, Problem> {
        let spec = self.plan.spec();
        if requested > 0 && !spec.extra_seats {
            return Err(Problem::new(
                Code::ExtraSeatsNotAvailable,
                format!(
                    "The {} plan has no extra seats; upgrade to pro or business first.",
                    self.plan
                ),
            ));
        }
        if requested >= self.extra_seats {
            let added = requested - self.extra_seats;
            return Ok(SeatChange {
                billing: Billing {
                    extra_seats: requested,
                    extra_seats_next: None,
                    ..*self
                },
                added,
                charge_cents: proration_cents(added, now, self.period.start, self.period.end),
            });
        }
        let total = spec.included_seats + requested;
        if members > total {
            return Err(seats_in_use(members, total));
        }
        Ok(SeatChange {
            billing: Billing {
                extra_seats_next: Some(requested),
                ..*self
            },
            added: 0,
            charge_cents: 0,
        })
    }

    /// Moves to plan `to` (see [`check_plan_change`]). Extra seats stay on plans that have
    /// them; a plan without them (`free`) drops them at once, unrefunded, as removing a
    /// member frees a seat without a refund.
    pub fn change_plan(&self, to: Plan, held: &Holdings) -> Result<Billing, Problem> {
        check_plan_change(to, self.extra_seats, held)?;
        let keeps_extra = to.spec().extra_seats;
        Ok(Billing {
            plan: to,
            extra_seats: if keeps_extra { self.extra_seats } else { 0 },
            extra_seats_next: self.extra_seats_next.filter(|_| keeps_extra),
            ..*self
        })
    }
}

pub fn seats_in_use(members: i64, total: i64) -> Problem {
    Problem::new(
        Code::SeatsInUse,
        format!("{members} seats are in use; that would leave {total}. Remove members first."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn catalogue_matches_the_contract() {
        let rows = [
            (Plan::Free, 1, vec![Role::Owner, Role::Member], false, 100),
            (Plan::Pro, 5, vec![Role::Owner, Role::Member], true, 2_000),
            (
                Plan::Business,
                20,
                vec![Role::Owner, Role::Admin, Role::Member, Role::Viewer],
                true,
                10_000,
            ),
        ];
        for (plan, seats, roles, extra, credits) in rows {
            let spec = plan.spec();
            assert_eq!(spec.included_seats, seats, "{plan}");
            assert_eq!(spec.roles, roles.as_slice(), "{plan}");
            assert_eq!(spec.extra_seats, extra, "{plan}");
            assert_eq!(spec.credits, credits, "{plan}");
            assert_eq!(Plan::parse(plan.as_str()), Some(plan));
        }
        // Requests spell the plans this way, and errors list them in this order.
        assert_eq!(Plan::NAMES, ["free", "pro", "business"]);
        assert_eq!(SEAT_PRICE_CENTS, 500);
    }

    #[test]
    fn roles_by_plan() {
        assert_eq!(
            Plan::Pro.require_role(Role::Admin).unwrap_err().code,
            Code::RoleNotAvailable
        );
        assert!(Plan::Business.require_role(Role::Viewer).is_ok());
        assert_eq!(Plan::Free.demoted_owner_role(), Role::Member);
        assert_eq!(Plan::Business.demoted_owner_role(), Role::Admin);
    }

    #[test]
    fn seats_arithmetic() {
        let s = Seats::new(Plan::Pro, 2, 7, 3);
        assert_eq!((s.included, s.extra, s.total, s.available), (5, 2, 7, 0));
        assert_eq!(
            s.require_free_seat().unwrap_err().code,
            Code::SeatLimitReached
        );
        assert!(Seats::new(Plan::Pro, 2, 6, 0).require_free_seat().is_ok());
    }

    fn held(members: i64, roles: &[Role]) -> Holdings {
        Holdings {
            members,
            roles: roles.to_vec(),
            ..Holdings::default()
        }
    }

    #[test]
    fn scim_on_business_only() {
        for plan in [Plan::Free, Plan::Pro] {
            assert_eq!(plan.require_scim().unwrap_err().code, Code::LimitReached);
        }
        assert!(Plan::Business.require_scim().is_ok());
    }

    #[test]
    fn custom_roles_and_teams_by_plan() {
        for plan in [Plan::Free, Plan::Pro] {
            let custom = RoleDef {
                builtin: None,
                ..RoleDef::builtin(Role::Member)
            };
            assert_eq!(
                plan.require_role_def(custom).unwrap_err().code,
                Code::RoleNotAvailable
            );
            assert_eq!(
                plan.require_room(Countable::CustomRoles, 0)
                    .unwrap_err()
                    .code,
                Code::LimitReached
            );
        }
        assert!(Plan::Business
            .require_room(Countable::CustomRoles, 24)
            .is_ok());
        assert_eq!(
            Plan::Business
                .require_room(Countable::CustomRoles, 25)
                .unwrap_err()
                .code,
            Code::LimitReached
        );
        assert!(Plan::Free.require_room(Countable::Teams, 0).is_err());
        assert!(Plan::Pro.require_room(Countable::Teams, 4).is_ok());
        assert!(Plan::Pro.require_room(Countable::Teams, 5).is_err());
        assert!(Plan::Business
            .require_room(Countable::Teams, 10_000)
            .is_ok());
        let with_roles = Holdings {
            custom_roles: 1,
            ..held(2, &[Role::Owner])
        };
        assert!(check_plan_change(Plan::Business, 0, &with_roles).is_ok());
        assert_eq!(
            check_plan_change(Plan::Pro, 0, &with_roles)
                .unwrap_err()
                .code,
            Code::PlanDowngradeBlocked
        );
        let with_teams = Holdings {
            teams: 6,
            ..held(2, &[Role::Owner])
        };
        assert_eq!(
            check_plan_change(Plan::Pro, 0, &with_teams)
                .unwrap_err()
                .code,
            Code::PlanDowngradeBlocked
        );
        assert!(check_plan_change(
            Plan::Pro,
            0,
            &Holdings {
                teams: 5,
                ..with_teams
            }
        )
        .is_ok());
    }

    #[test]
    fn plan_changes() {
        assert!(check_plan_change(Plan::Free, 0, &held(1, &[Role::Owner])).is_ok());
        let err =
            check_plan_change(Plan::Free, 0, &held(2, &[Role::Owner, Role::Member])).unwrap_err();
        assert_eq!(err.code, Code::PlanDowngradeBlocked);
        let err =
            check_plan_change(Plan::Pro, 0, &held(3, &[Role::Owner, Role::Admin])).unwrap_err();
        assert_eq!(err.code, Code::PlanDowngradeBlocked);
        assert!(check_plan_change(Plan::Pro, 3, &held(8, &[Role::Owner, Role::Member])).is_ok());
        // Extra seats do not carry over to a plan that has none.
        assert!(check_plan_change(Plan::Free, 5, &held(2, &[Role::Owner, Role::Member])).is_err());
    }

    #[test]
    fn proration_examples_checked_by_hand() {
        let start = ts("2026-11-01T00:00:00Z");
        let end = ts("2026-12-01T00:00:00Z"); // 30 days
                                              // Whole period: full price.
        assert_eq!(proration_cents(1, start, start, end), 500);
        assert_eq!(proration_cents(3, start, start, end), 1_500);
        // Half-way: half price.
        assert_eq!(
            proration_cents(1, ts("2026-11-16T00:00:00Z"), start, end),
            250
        );
        // 10 days left of 30: 500 * 2 * 10 / 30 = 333.33 → 334.
        assert_eq!(
            proration_cents(2, ts("2026-11-21T00:00:00Z"), start, end),
            334
        );
        // One second left: rounds up to one cent.
        assert_eq!(
            proration_cents(1, ts("2026-11-30T23:59:59Z"), start, end),
            1
        );
        // At the end: nothing.
        assert_eq!(proration_cents(4, end, start, end), 0);
        // February 2028 (leap, 29 days), 7 days left: 500 * 1 * 7 / 29 = 120.69 → 121.
        let (fs, fe) = (ts("2028-02-01T00:00:00Z"), ts("2028-03-01T00:00:00Z"));
        assert_eq!(proration_cents(1, ts("2028-02-23T00:00:00Z"), fs, fe), 121);
    }

    #[test]
    fn periods_across_month_ends() {
        let anchor = ts("2026-01-31T09:30:00Z");
        let p = period_at(anchor, ts("2026-02-15T00:00:00Z"));
        assert_eq!(p.start, anchor);
        assert_eq!(p.end, ts("2026-02-28T09:30:00Z"));
        let p = period_at(anchor, ts("2026-03-01T00:00:00Z"));
        assert_eq!(
            (p.start, p.end),
            (ts("2026-02-28T09:30:00Z"), ts("2026-03-31T09:30:00Z"))
        );
        let p = period_at(anchor, ts("2026-04-30T09:30:00Z"));
        assert_eq!(
            (p.start, p.end),
            (ts("2026-04-30T09:30:00Z"), ts("2026-05-31T09:30:00Z"))
        );
        // Leap year: the anchor's 29th exists in 2028 only.
        let leap = ts("2028-01-29T00:00:00Z");
        let p = period_at(leap, ts("2028-02-29T12:00:00Z"));
        assert_eq!(
            (p.start, p.end),
            (ts("2028-02-29T00:00:00Z"), ts("2028-03-29T00:00:00Z"))
        );
        let p = period_at(leap, ts("2029-02-28T12:00:00Z"));
        assert_eq!(
            (p.start, p.end),
            (ts("2029-02-28T00:00:00Z"), ts("2029-03-29T00:00:00Z"))
        );
        // Across a year end, exactly at a boundary.
        let p = period_at(ts("2026-12-15T00:00:00Z"), ts("2027-01-15T00:00:00Z"));
        assert_eq!(
            (p.start, p.end),
            (ts("2027-01-15T00:00:00Z"), ts("2027-02-15T00:00:00Z"))
        );
    }

    /// A pro organization anchored on 2026-01-31, in its March period.
    fn billing(extra: i64, next: Option<i64>, credits_used: i64) -> Billing {
        let anchor = ts("2026-01-31T09:30:00Z");
        Billing {
            plan: Plan::Pro,
            extra_seats: extra,
            extra_seats_next: next,
            anchor,
            period: period_at(anchor, ts("2026-03-15T00:00:00Z")),
            credits_used,
        }
    }

    #[test]
    fn nothing_rolls_while_the_period_lasts() {
        let b = billing(3, Some(1), 700);
        assert_eq!(b.period.end, ts("2026-03-31T09:30:00Z"));
        let last_second = ts("2026-03-31T09:29:59Z");
        assert!(!b.roll_due(last_second));
        assert_eq!(b.at(last_second, 8), b);
    }

    #[test]
    fn rolling_resets_credits_and_applies_the_scheduled_decrease() {
        let b = billing(3, Some(1), 700);
        let end = b.period.end;
        assert!(b.roll_due(end));
        let rolled = b.at(end, 4);
        assert_eq!(
            rolled.period,
            Period {
                start: ts("2026-03-31T09:30:00Z"),
                end: ts("2026-04-30T09:30:00Z")
            }
        );
        assert_eq!(rolled.credits_used, 0);
        assert_eq!((rolled.extra_seats, rolled.extra_seats_next), (1, None));
        assert_eq!((rolled.plan, rolled.anchor), (b.plan, b.anchor));
        // Without a scheduled decrease the extra seats carry over.
        assert_eq!(billing(3, None, 5).at(end, 8).extra_seats, 3);
        // Rolling again at the same or a later instant of the new period changes nothing.
        assert_eq!(rolled.at(end, 4), rolled);
        assert_eq!(rolled.at(ts("2026-04-20T00:00:00Z"), 4), rolled);
    }

    #[test]
    fn a_scheduled_decrease_never_unseats_members() {
        // 5 included + 3 extra, 7 members: lowering to 1 extra would leave 6 seats.
        let end = billing(3, Some(1), 0).period.end;
        assert_eq!(billing(3, Some(1), 0).at(end, 7).extra_seats, 2);
        assert_eq!(billing(3, Some(1), 0).at(end, 8).extra_seats, 3);
        assert_eq!(billing(3, Some(0), 0).at(end, 2).extra_seats, 0);
    }

    #[test]
    fn a_job_that_missed_periods_lands_in_the_current_one() {
        let b = billing(2, Some(0), 1_999);
        let now = ts("2026-07-04T00:00:00Z");
        let rolled = b.at(now, 1);
        assert_eq!(
            (rolled.period.start, rolled.period.end),
            (ts("2026-06-30T09:30:00Z"), ts("2026-07-31T09:30:00Z"))
        );
        assert_eq!((rolled.extra_seats, rolled.credits_used), (0, 0));
    }

    #[test]
    fn raising_extra_seats_charges_pro_rata_at_once() {
        let b = billing(1, Some(0), 0);
        // March period: 2026-02-28T09:30 to 2026-03-31T09:30, 31 days. 10 days left:
        // 500 * 2 * 10 / 31 = 322.58 → 323.
        let now = ts("2026-03-21T09:30:00Z");
        let change = b.set_extra_seats(3, 6, now).unwrap();
        assert_eq!((change.added, change.charge_cents), (2, 323));
        assert_eq!(
            change.charge_cents,
            proration_cents(2, now, b.period.start, b.period.end)
        );
        assert_eq!(
            (change.billing.extra_seats, change.billing.extra_seats_next),
            (3, None)
        );
        // Asking for what there is cancels a scheduled decrease and costs nothing.
        let same = b.set_extra_seats(1, 6, now).unwrap();
        assert_eq!((same.added, same.charge_cents), (0, 0));
        assert_eq!(same.billing.extra_seats_next, None);
    }

    #[test]
    fn lowering_extra_seats_waits_for_the_next_period_and_never_goes_below_used() {
        let b = billing(3, None, 0);
        let now = ts("2026-03-21T00:00:00Z");
        let change = b.set_extra_seats(1, 6, now).unwrap();
        assert_eq!((change.added, change.charge_cents), (0, 0));
        assert_eq!(
            (change.billing.extra_seats, change.billing.extra_seats_next),
            (3, Some(1))
        );
        // 7 members do not fit in 5 + 1.
        let err = b.set_extra_seats(1, 7, now).unwrap_err();
        assert_eq!(err.code, Code::SeatsInUse);
        assert_eq!(err.status(), 409);
        // Exactly full is fine.
        assert!(b.set_extra_seats(0, 5, now).is_ok());
        // And the lowered count is what the next period starts with.
        let next = change.billing.at(b.period.end, 6);
        assert_eq!(next.extra_seats, 1);
    }

    #[test]
    fn plans_without_extra_seats_refuse_them() {
        let free = Billing {
            plan: Plan::Free,
            ..billing(0, None, 0)
        };
        let now = ts("2026-03-21T00:00:00Z");
        assert_eq!(
            free.set_extra_seats(1, 1, now).unwrap_err().code,
            Code::ExtraSeatsNotAvailable
        );
        let none = free.set_extra_seats(0, 1, now).unwrap();
        assert_eq!((none.billing, none.charge_cents), (free, 0));
    }

    #[test]
    fn changing_plans_keeps_or_drops_extra_seats() {
        let b = billing(2, Some(1), 40);
        let business = b
            .change_plan(Plan::Business, &held(7, &[Role::Owner, Role::Member]))
            .unwrap();
        assert_eq!(
            (
                business.plan,
                business.extra_seats,
                business.extra_seats_next
            ),
            (Plan::Business, 2, Some(1))
        );
        assert_eq!(business.credits_used, 40);
        assert_eq!(business.total_seats(), 22);
        let free = b.change_plan(Plan::Free, &held(1, &[Role::Owner])).unwrap();
        assert_eq!((free.extra_seats, free.extra_seats_next), (0, None));
        // 7 members fit pro's 5 + 2 extra, not free's single seat.
        assert_eq!(
            b.change_plan(Plan::Free, &held(7, &[Role::Owner]))
                .unwrap_err()
                .code,
            Code::PlanDowngradeBlocked
        );
        assert_eq!(
            business
                .change_plan(Plan::Pro, &held(2, &[Role::Owner, Role::Viewer]))
                .unwrap_err()
                .code,
            Code::PlanDowngradeBlocked
        );
    }

    #[test]
    fn credits_never_go_below_zero() {
        let c = Credits::new(Plan::Free, 90);
        assert_eq!((c.included, c.remaining), (100, 10));
        assert!(c.require(10).is_ok());
        assert_eq!(c.require(11).unwrap_err().code, Code::InsufficientCredits);
        assert_eq!(c.require(11).unwrap_err().status(), 402);
        // A downgrade mid-period can leave more used than the new plan includes.
        let over = Credits::new(Plan::Free, 1_500);
        assert_eq!(over.remaining, 0);
        assert!(over.require(1).is_err());
    }

    #[test]
    fn seats_show_a_scheduled_decrease() {
        let s = billing(3, Some(1), 0).seats(6, 2);
        assert_eq!((s.total, s.available, s.extra_next_period), (8, 2, Some(1)));
        assert_eq!(billing(3, None, 0).seats(6, 2).extra_next_period, None);
    }

    proptest! {
        #[test]
        fn proration_is_bounded_and_matches_the_formula(
            n in 1i64..1_000,
            length in 1i64..(62 * 86_400),
            offset in 0i64..(62 * 86_400),
        ) {
            let start = Timestamp(1_800_000_000);
            let end = Timestamp(start.0 + length);
            let now = Timestamp(start.0 + offset.min(length));
            let cents = proration_cents(n, now, start, end);
            prop_assert!(cents >= 0);
            prop_assert!(cents <= SEAT_PRICE_CENTS * n);
            let exact = (SEAT_PRICE_CENTS * n) as f64 * (end.0 - now.0) as f64 / length as f64;
            prop_assert!((cents as f64) >= exact - 1e-6 && (cents as f64) < exact + 1.0);
            prop_assert_eq!(proration_cents(n, start, start, end), SEAT_PRICE_CENTS * n);
            prop_assert_eq!(proration_cents(n, end, start, end), 0);
        }

        #[test]
        fn rolling_is_idempotent_and_keeps_every_member_seated(
            later in 0i64..(400 * 86_400),
            extra in 0i64..20,
            next in proptest::option::of(0i64..20),
            members in 1i64..40,
            used in 0i64..2_000,
        ) {
            let b = billing(extra, next.map(|n| n.min(extra)), used);
            let members = members.min(b.total_seats());
            let now = Timestamp(b.period.start.0 + later);
            let rolled = b.at(now, members);
            prop_assert!(rolled.period.start <= now && now < rolled.period.end);
            prop_assert_eq!(rolled.at(now, members), rolled);
            prop_assert!(rolled.total_seats() >= members);
            prop_assert!(rolled.extra_seats <= b.extra_seats);
            if b.roll_due(now) {
                prop_assert_eq!(rolled.credits_used, 0);
                prop_assert_eq!(rolled.extra_seats_next, None);
            } else {
                prop_assert_eq!(rolled, b);
            }
        }

        #[test]
        fn periods_contain_now_and_are_one_month(
            anchor in 1_600_000_000i64..2_000_000_000,
            later in 0i64..(5 * 365 * 86_400),
        ) {
            let anchor = Timestamp(anchor);
            let now = Timestamp(anchor.0 + later);
            let p = period_at(anchor, now);
            prop_assert!(p.start <= now && now < p.end);
            let days = (p.end.0 - p.start.0) / 86_400;
            prop_assert!((28..=31).contains(&days), "{} days", days);
            // The next period starts where this one ends.
            prop_assert_eq!(period_at(anchor, p.end).start, p.end);
        }
    }
}
