//! Plans, seats, credits, the ledger and usage.

use crate::domain::plan::{Credits, Plan, Seats};
use crate::domain::usage::MemberUsage;
use crate::domain::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// An organization's plan, seats and credits in the period that contains now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Billing {
    pub plan: Plan,
    pub period_start: Timestamp,
    /// Periods are calendar months from the organization's creation; a day a month lacks
    /// falls on its last day.
    pub period_end: Timestamp,
    pub seats: Seats,
    pub credits: Credits,
}

/// `PUT /v1/orgs/{slug}/billing/seats`: the seats, and what the change cost now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtraSeatsChanged {
    pub seats: Seats,
    /// Charged now for the seats added (0 when lowering or unchanged).
    #[schema(minimum = 0)]
    pub charge_cents: i64,
}

/// A charge.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub id: String,
    pub at: Timestamp,
    pub kind: LedgerKind,
    /// Seats added.
    pub quantity: i64,
    pub amount_cents: i64,
    pub description: String,
}

/// What a charge was for: `extra_seats`, seats bought mid-period, pro rata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    ExtraSeats,
}

impl LedgerKind {
    pub fn parse(s: &str) -> Option<LedgerKind> {
        (s == "extra_seats").then_some(LedgerKind::ExtraSeats)
    }
}

/// `POST /v1/orgs/{slug}/usage`: the event recorded (or replayed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UsageRecorded {
    pub id: String,
    pub amount: i64,
    /// Credits left in the period right after this event.
    pub remaining: i64,
}

/// `GET /v1/orgs/{slug}/usage`: the period's credits, and who used them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    pub period_start: Timestamp,
    pub period_end: Timestamp,
    pub included: i64,
    pub used: i64,
    #[schema(minimum = 0)]
    pub remaining: i64,
    /// The members who used credits this period (those who left since included), most
    /// first, one page at a time; a member who is not an owner or admin sees only their
    /// own row, if they used any.
    pub by_member: Vec<MemberUsage>,
    /// Pass as `cursor` for the next page of `by_member`; null on the last.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}
