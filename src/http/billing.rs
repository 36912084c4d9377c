//! Billing: an organization's plan, seats and credits; plan changes; extra seats (raised at
//! once and charged pro rata, lowered from the next period); and the ledger of charges.

use super::body::{integer, one_of, Fields};
use super::{auth, json, Answer, Ctx};
use crate::api::billing::{self as api, ExtraSeatsChanged, LedgerEntry, LedgerKind};
use crate::api::List;
use crate::domain::plan::{Billing, Plan, MAX_EXTRA_SEATS};
use crate::domain::policy::{authorize, Action};
use crate::domain::{Code, Problem, Timestamp};
use crate::store::billing::{self as store, Current, LedgerRow, SeatState};
use crate::store::principal::Caller;

fn billing_of(billing: &Billing, seats: &SeatState) -> api::Billing {
    api::Billing {
        plan: billing.plan,
        period_start: billing.period.start,
        period_end: billing.period.end,
        seats: billing.seats(seats.members, seats.pending),
        credits: billing.credits(),
    }
}

fn ledger_entry_of(row: &LedgerRow) -> Result<LedgerEntry, Problem> {
    Ok(LedgerEntry {
        id: row.id.clone(),
        at: Timestamp(row.at),
        kind: LedgerKind::parse(&row.kind).ok_or_else(Problem::internal)?,
        quantity: row.quantity,
        amount_cents: row.amount_cents,
        description: row.description.clone(),
    })
}

/// Reads the caller and what billing decisions are made on, in one round trip.
async fn current(ctx: &Ctx) -> Result<(Caller, Current), Problem> {
    let (mut batch, query) = auth::begin(ctx)?;
    let seats = store::seat_state(&mut batch, ctx.param("slug"), ctx.now);
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let seats = results.first(seats)?.ok_or_else(Problem::internal)?;
    let current = Current::at(&caller.org, seats, ctx.now)?;
    Ok((caller, current))
}

/// `GET /v1/orgs/{slug}/billing` — as of now, even when the period ended and the scheduled
/// job has not rolled it yet.
pub async fn get(ctx: &Ctx) -> Answer {
    json(200, &overview(ctx).await?.1)
}

/// The organization's billing as of now, with the caller who reads it.
pub async fn overview(ctx: &Ctx) -> Result<(Caller, api::Billing), Problem> {
    let (caller, current) = current(ctx).await?;
    authorize(&caller.actor, Action::ViewBilling)?;
    let billing = billing_of(&current.billing, &current.seats);
    Ok((caller, billing))
}

/// `PUT /v1/orgs/{slug}/billing/plan` `{plan}` — owner only. Upgrades always; downgrades
/// while the members fit the new plan's seats and roles.
pub async fn change_plan(ctx: &Ctx) -> Answer {
    let (caller, current) = current(ctx).await?;
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let plan = body.required("plan", one_of(Plan::parse, Plan::NAMES));
    let (plan,) = body.finish((plan,))?;
    authorize(&caller.actor, Action::ManageBilling)?;
    let to = current
        .billing
        .change_plan(plan, &current.seats.holdings()?)?;
    if to == current.billing {
        return json(200, &billing_of(&to, &current.seats));
    }
    let seats = store::change_plan(&ctx.db, &caller, &current, &to, ctx.now)
        .await
        .map_err(|p| match p.code {
            Code::PlanDowngradeBlocked => Problem::new(
                Code::PlanDowngradeBlocked,
                format!(
                    "Members joined or roles changed meanwhile; they no longer fit the {plan} plan."
                ),
            ),
            _ => p,
        })?;
    json(200, &billing_of(&to, &seats))
}

/// `PUT /v1/orgs/{slug}/billing/seats` `{extra}` — owner only. Answers the seats and what
/// the change cost now.
pub async fn set_extra_seats(ctx: &Ctx) -> Answer {
    let (caller, current) = current(ctx).await?;
    let mut body = Fields::parse(ctx.header("content-type").as_deref(), &ctx.body)?;
    let extra = body.required("extra", integer(0..=MAX_EXTRA_SEATS));
    let (extra,) = body.finish((extra,))?;
    authorize(&caller.actor, Action::ManageBilling)?;
    let change = current
        .billing
        .set_extra_seats(extra, current.seats.members, ctx.now)?;
    let seats = if change.billing == current.billing {
        current.seats
    } else {
        store::set_extra_seats(&ctx.db, &caller, &current, &change, ctx.now)
            .await
            .map_err(|p| match (p.code, change.billing.extra_seats_next) {
                (Code::SeatsInUse, Some(next)) => Problem::new(
                    Code::SeatsInUse,
                    format!(
                        "Members joined meanwhile; {} seats would no longer hold them. Remove \
                         members first.",
                        change.billing.plan.spec().included_seats + next
                    ),
                ),
                _ => p,
            })?
    };
    json(
        200,
        &ExtraSeatsChanged {
            seats: change.billing.seats(seats.members, seats.pending),
            charge_cents: change.charge_cents,
        },
    )
}

/// `GET /v1/orgs/{slug}/billing/ledger` — what was charged, oldest first.
pub async fn ledger(ctx: &Ctx) -> Answer {
    json(200, &entries(ctx).await?)
}

/// The page of the ledger the request asks for.
pub async fn entries(ctx: &Ctx) -> Result<List<LedgerEntry>, Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let rows = store::ledger(&mut batch, ctx.param("slug"), page.after, page.fetch());
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ViewBilling)?;
    let rows = results.all(rows)?;
    page.envelope(rows, |r| r.seq, ledger_entry_of)
}
