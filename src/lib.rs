//! Roster: organizations, members, roles, invitations by email, seats, shared credits and
//! per-resource permissions, as one Cloudflare Worker.
//!
//! `domain` holds the rules as plain Rust, `routes` the route table and `api` the objects
//! on the wire; these, with the pure parts of `http` and the statements of `store`, compile
//! and are tested natively. Everything that touches the platform (the rest of `http`, the
//! D1 and KV halves of `store`, `jobs`, `queue`, `config`) exists only in the wasm32 build.

pub mod api;
pub mod console;
pub mod domain;
pub mod email;
pub mod http;
pub mod i18n;
/// Rendered natively into `openapi.json`, which the Worker serves as it is.
#[cfg(not(target_arch = "wasm32"))]
pub mod openapi;
pub mod pages;
pub mod render;
pub mod routes;

#[cfg(target_arch = "wasm32")]
mod config;
#[cfg(target_arch = "wasm32")]
mod dns;
#[cfg(target_arch = "wasm32")]
mod invite_mail;
#[cfg(target_arch = "wasm32")]
mod jobs;
#[cfg(target_arch = "wasm32")]
mod outbound;
#[cfg(target_arch = "wasm32")]
mod queue;
// Natively the store compiles without a database, so that its statements can be planned
// against the schema in the tests; nothing there calls it, hence the unused code.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod store;
#[cfg(target_arch = "wasm32")]
mod webhooks;

#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    req: worker::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::Response> {
    http::router::handle(req, env, ctx).await
}

#[cfg(target_arch = "wasm32")]
#[worker::event(scheduled)]
async fn scheduled(
    _event: worker::ScheduledEvent,
    env: worker::Env,
    _ctx: worker::ScheduleContext,
) {
    jobs::run(&env).await;
}

/// The `OUTBOX` Queue's consumer: retries of deliveries. It never fails the batch (a failed
/// batch would be retried whole, and an error here would panic the isolate): what it could
/// not settle stays pending in the outbox for the scheduled job.
#[cfg(target_arch = "wasm32")]
#[worker::event(queue)]
async fn queue(
    batch: worker::MessageBatch<queue::Delivery>,
    env: worker::Env,
    _ctx: worker::Context,
) -> worker::Result<()> {
    queue::consume(batch, &env).await;
    Ok(())
}
