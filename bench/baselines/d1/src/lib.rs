//! Baseline for the benchmark: `GET /items/{id}` runs one D1 `SELECT` by primary key and
//! answers the row as JSON — the least an authenticated read of Roster could cost.
//! `GET /session/items/{id}` does the same in a D1 session starting at the nearest copy,
//! as Roster's reads do, and answers the session's bookmark too: what read replication
//! costs on its own.

use serde_json::Value;
use worker::{event, Context, Env, Request, Response, Result};

const SELECT: &str = "SELECT id, name, created_at FROM items WHERE id = ?1";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let d1 = env.d1("DB")?;
    if let Some(id) = path.strip_prefix("/session/items/") {
        let session = d1.with_session(Some("first-unconstrained"))?;
        let row: Option<Value> = session
            .prepare(SELECT)
            .bind(&[id.into()])?
            .first(None)
            .await?;
        let bookmark = session.get_bookmark()?.unwrap_or_default();
        return match row {
            Some(row) => {
                let mut response = Response::from_json(&row)?;
                response.headers_mut().set("roster-bookmark", &bookmark)?;
                Ok(response)
            }
            None => Response::error("Not Found", 404),
        };
    }
    let Some(id) = path.strip_prefix("/items/") else {
        return Response::error("Not Found", 404);
    };
    let row: Option<Value> = d1.prepare(SELECT).bind(&[id.into()])?.first(None).await?;
    match row {
        Some(row) => Response::from_json(&row),
        None => Response::error("Not Found", 404),
    }
}
