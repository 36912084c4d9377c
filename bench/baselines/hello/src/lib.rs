//! Baseline for the benchmark: answers every request with a fixed text and touches no
//! storage, so its cost is the platform's own per request.

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    Response::ok("Hello, world!")
}
