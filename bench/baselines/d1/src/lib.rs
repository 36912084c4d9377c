//! Baseline for the benchmark: `GET /items/{id}` runs one D1 `SELECT` by primary key and
//! answers the row as JSON — the least an authenticated read of Roster could cost.
//! `GET /session/items/{id}` does the same in a D1 session starting at the nearest copy,
//! as Roster's reads do, and answers the session's bookmark too: what read replication
//! costs on its own. `GET /session/texts/{id}` reads a stored text in such a session and
//! answers it as it is: the floor for an answer of that size (the driver stores Roster's
//! members page there with `PUT /session/texts/{id}`).

use serde_json::Value;
use worker::{event, Context, Env, Request, Response, Result};

const SELECT: &str = "SELECT id, name, created_at FROM items WHERE id = ?1";
const SELECT_TEXT: &str = "SELECT body FROM texts WHERE id = ?1";
const STORE_TEXT: &str = "INSERT INTO texts (id, body) VALUES (?1, ?2)
                          ON CONFLICT (id) DO UPDATE SET body = excluded.body";

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let d1 = env.d1("DB")?;
    if let Some(id) = path.strip_prefix("/session/texts/") {
        if req.method() == worker::Method::Put {
            let body = req.text().await?;
            d1.prepare(STORE_TEXT)
                .bind(&[id.into(), body.into()])?
                .run()
                .await?;
            return Ok(Response::empty()?.with_status(204));
        }
        let session = d1.with_session(Some("first-unconstrained"))?;
        let text: Option<String> = session
            .prepare(SELECT_TEXT)
            .bind(&[id.into()])?
            .first(Some("body"))
            .await?;
        let bookmark = session.get_bookmark()?.unwrap_or_default();
        return match text {
            Some(text) => {
                let mut response = Response::ok(text)?;
                response
                    .headers_mut()
                    .set("content-type", "application/json")?;
                response.headers_mut().set("roster-bookmark", &bookmark)?;
                Ok(response)
            }
            None => Response::error("Not Found", 404),
        };
    }
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
