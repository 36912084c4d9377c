//! Shared credits: recording a consumption (safe to retry under its `Idempotency-Key`) and
//! the period's usage, per member for those who may see everyone's.

use super::body::{integer, string, text, Fields};
use super::{auth, json, Answer, Ctx};
use crate::api::billing::{Usage, UsageRecorded};
use crate::domain::policy::{authorize, Action};
use crate::domain::usage::{
    consumer, idempotency_key, require_consumer_role, usage_view, Consumption, MemberUsage,
    UsageView, IDEMPOTENCY_HEADER,
};
use crate::domain::{Code, Problem};
use crate::store::billing::{self, Current};
use crate::store::members;
use crate::store::principal::Caller;
use crate::store::usage::{self as store, EventRow, MemberUsed};

/// The most credits one event may consume.
const MAX_AMOUNT: i64 = 1_000_000;
/// The longest feature name.
const MAX_FEATURE_CHARS: usize = 100;

/// The answer to a recorded consumption; a replay answers the very same.
fn recorded(event: &EventRow) -> Answer {
    json(
        201,
        &UsageRecorded {
            id: event.id.clone(),
            amount: event.amount,
            remaining: event.remaining,
        },
    )
}

/// `POST /v1/orgs/{slug}/usage` `{amount, feature, user_id?}` with `Idempotency-Key`.
pub async fn record(ctx: &Ctx) -> Answer {
    let body =
        Fields::parse(ctx.header("content-type").as_deref(), &ctx.body).and_then(|mut body| {
            let amount = body.required("amount", integer(1..=MAX_AMOUNT));
            let feature = body.required("feature", text(MAX_FEATURE_CHARS));
            let user_id = body.optional("user_id", string(|s| Ok(s.to_owned())));
            let key = match idempotency_key(ctx.header(IDEMPOTENCY_HEADER).as_deref()) {
                Ok(key) => Some(key),
                Err(problem) => {
                    for e in problem.errors {
                        body.error(e.field, e.message);
                    }
                    None
                }
            };
            body.finish((amount, feature, user_id, key))
        });
    let (amount, feature, named, key) = auth::valid(ctx, body).await?;
    let (mut batch, query) = auth::begin(ctx)?;

    let slug = ctx.param("slug");
    let earlier = store::by_key(&mut batch, slug, &key);
    let seats = billing::seat_state(&mut batch, slug, ctx.now);
    let member = named
        .as_deref()
        .map(|id| members::in_org(&mut batch, slug, id));
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    authorize(&caller.actor, Action::ConsumeUsage)?;
    let user_id = consumer(&caller.actor, named.as_deref())?;
    if let Some(member) = member {
        let member = results
            .first(member)?
            .ok_or_else(|| Problem::not_found("member"))?;
        let (key, def) = member.role()?;
        require_consumer_role(&key, def)?;
    }
    let consumption = Consumption {
        amount,
        feature,
        user_id,
    };
    if let Some(event) = results.first(earlier)? {
        consumption.check_replay(&event.request_hash)?;
        return recorded(&event);
    }
    let seats = results.first(seats)?.ok_or_else(Problem::internal)?;
    let current = Current::at(&caller.org, seats, ctx.now)?;
    current.billing.credits().require(amount)?;
    match store::record(&ctx.db, &caller, &current, &consumption, &key, ctx.now).await {
        Ok(event) => recorded(&event),
        Err(p) if p.code == Code::IdempotencyKeyReused => {
            replay(ctx, &caller, &consumption, &key).await
        }
        Err(p) if p.code == Code::InsufficientCredits => Err(Problem::new(
            Code::InsufficientCredits,
            "Not enough credits are left in this billing period; nothing was recorded.",
        )),
        Err(p) => Err(p),
    }
}

/// A parallel request under the same key recorded first: answer what it recorded, if it
/// asked for the same.
async fn replay(ctx: &Ctx, caller: &Caller, consumption: &Consumption, key: &str) -> Answer {
    let event = store::find(&ctx.db, &caller.org.id, key)
        .await?
        .ok_or_else(Problem::internal)?;
    consumption.check_replay(&event.request_hash)?;
    recorded(&event)
}

/// `GET /v1/orgs/{slug}/usage?limit=&cursor=` — the period's credits, with who used them,
/// most first, a page at a time for owners, admins and keys with `usage:read`, and their
/// own row for other members.
pub async fn get(ctx: &Ctx) -> Answer {
    json(200, &overview(ctx).await?.1)
}

/// The period's usage as the caller may see it, with the caller.
pub async fn overview(ctx: &Ctx) -> Result<(Caller, Usage), Problem> {
    let page = auth::valid(ctx, ctx.page()).await?;
    let (mut batch, query) = auth::begin(ctx)?;
    let slug = ctx.param("slug");
    let own = query
        .user_id()
        .map(|user_id| store::of_member(&mut batch, slug, user_id));
    let ranked = store::ranked(&mut batch, slug, page.after, page.fetch());
    let results = batch.run(&ctx.db).await?;
    let caller = query.resolve(&results)?;
    let view = usage_view(&caller.actor)?;
    let now = billing::stored(&caller.org)?.at(ctx.now, caller.org.members_count);
    let rows = match (view, own) {
        (UsageView::All, _) => results.all(ranked)?,
        (UsageView::Own(_), Some(own)) => results.all(own)?,
        (UsageView::Own(_), None) => Vec::new(),
    };
    // Rows of a period that has ended but not yet rolled in the store are not this one's.
    let rows: Vec<(i64, MemberUsed)> = rows
        .into_iter()
        .filter(|r| r.period_start == now.period.start.0)
        .enumerate()
        .map(|(i, r)| (page.after + i as i64 + 1, r))
        .collect();
    let by_member = page.envelope(
        rows,
        |(position, _)| *position,
        |(_, r)| {
            Ok(MemberUsage {
                user_id: r.user_id.clone(),
                email: r.email.clone(),
                used: r.used,
            })
        },
    )?;
    let credits = now.credits();
    let usage = Usage {
        period_start: now.period.start,
        period_end: now.period.end,
        included: credits.included,
        used: credits.used,
        remaining: credits.remaining,
        by_member: by_member.data,
        next_cursor: by_member.next_cursor,
    };
    Ok((caller, usage))
}
