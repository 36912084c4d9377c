//! Operations: `/health` and `/openapi.json`.

use super::{json, Answer, Ctx};
use crate::api::{Health, HealthState};
use crate::store;
use worker::Response;

/// The OpenAPI 3.1 document: `openapi.json`, rendered natively by `crate::openapi` (whose
/// tests keep it current and check it against the route table), compacted by `build.rs`.
const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// `GET /health` — 200 when D1 and KV both answer, 503 otherwise.
pub async fn health(ctx: &Ctx) -> Answer {
    let d1 = store::ping(&ctx.db).await;
    let kv = ctx.kv.ping().await;
    json(
        if d1 && kv { 200 } else { 503 },
        &Health {
            status: HealthState::of(d1 && kv),
            d1: HealthState::of(d1),
            kv: HealthState::of(kv),
        },
    )
}

/// `GET /openapi.json`
pub fn openapi() -> Answer {
    let response = Response::ok(OPENAPI).map_err(|_| crate::domain::Problem::internal())?;
    response
        .headers()
        .set("content-type", "application/json; charset=utf-8")
        .map_err(|_| crate::domain::Problem::internal())?;
    Ok(response)
}
