//! Operations: `/health` and `/openapi.json`.

use super::{json, Answer, Ctx};
use crate::store;
use serde_json::json;
use worker::Response;

/// The OpenAPI 3.1 document, rendered by `build.rs` and checked against the route table
/// by `routes`' tests.
const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));

/// `GET /health` — 200 when D1 and KV both answer, 503 otherwise.
pub async fn health(ctx: &Ctx) -> Answer {
    let d1 = store::ping(&ctx.db).await;
    let kv = ctx.kv.ping().await;
    let state = |ok: bool| if ok { "ok" } else { "error" };
    json(
        if d1 && kv { 200 } else { 503 },
        &json!({"status": state(d1 && kv), "d1": state(d1), "kv": state(kv)}),
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
