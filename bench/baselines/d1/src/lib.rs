//! Baseline for the benchmark: `GET /items/{id}` runs one D1 `SELECT` by primary key and
//! answers the row as JSON — the least an authenticated read of Roster could cost.

use serde_json::Value;
use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let Some(id) = path.strip_prefix("/items/") else {
        return Response::error("Not Found", 404);
    };
    let row: Option<Value> = env
        .d1("DB")?
        .prepare("SELECT id, name, created_at FROM items WHERE id = ?1")
        .bind(&[id.into()])?
        .first(None)
        .await?;
    match row {
        Some(row) => Response::from_json(&row),
        None => Response::error("Not Found", 404),
    }
}
