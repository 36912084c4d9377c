//! A request as handlers see it, and the responses they build.

use super::paging::Page;
use crate::config::Config;
use crate::domain::jwt::Identity;
use crate::domain::{Problem, Timestamp};
use crate::routes::Params;
use crate::store::kv::Kv;
use crate::store::Db;
use serde::Serialize;
use std::rc::Rc;
use worker::{Env, Headers, Response};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything a handler may look at: the parsed request and the platform around it.
pub struct Ctx {
    pub env: Env,
    pub cfg: Rc<Config>,
    pub now: Timestamp,
    pub db: Db,
    /// The `INVITES` namespace.
    pub kv: Kv,
    pub params: Params,
    pub headers: Headers,
    pub query: Vec<(String, String)>,
    /// The request body (at most [`MAX_BODY_BYTES`]); empty for methods without one.
    pub body: Vec<u8>,
    /// Work to finish after the response is sent (`ctx.wait_until`).
    pub background: worker::Context,
    /// The person a console session acts for; `None` for the API, whose callers say who
    /// they are in `Authorization`. Either way `auth::principal` names the caller, and
    /// everything after it is the same.
    pub person: Option<Identity>,
}

/// What a handler answers: a response, or a problem.
pub type Answer = Result<Response, Problem>;

impl Ctx {
    /// The value of path parameter `{name}`.
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `limit` and `cursor` of a list request.
    pub fn page(&self) -> Result<Page, Problem> {
        Page::parse(self.query("limit"), self.query("cursor"))
    }
}

/// A JSON response.
pub fn json(status: u16, value: &impl Serialize) -> Answer {
    let body = serde_json::to_vec(value).map_err(|_| Problem::internal())?;
    json_bytes(status, body)
}

/// A JSON answer already rendered as text.
pub fn json_text(status: u16, body: String) -> Answer {
    json_bytes(status, body.into_bytes())
}

fn json_bytes(status: u16, body: Vec<u8>) -> Answer {
    let response = Response::from_bytes(body)
        .map_err(|_| Problem::internal())?
        .with_status(status);
    response
        .headers()
        .set("content-type", "application/json; charset=utf-8")
        .map_err(|_| Problem::internal())?;
    Ok(response)
}

/// 204 No Content.
pub fn no_content() -> Answer {
    Response::empty()
        .map(|r| r.with_status(204))
        .map_err(|_| Problem::internal())
}

/// The `application/problem+json` response for `problem`, with the headers its code needs.
pub fn problem_response(problem: &Problem) -> worker::Result<Response> {
    let body =
        serde_json::to_vec(&problem.body()).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let response = Response::from_bytes(body)?.with_status(problem.status());
    let headers = response.headers();
    headers.set("content-type", "application/problem+json")?;
    if problem.status() == 401 {
        headers.set("www-authenticate", "Bearer realm=\"roster\"")?;
    }
    if !problem.allow.is_empty() {
        headers.set("allow", &problem.allow.join(", "))?;
    }
    if let Some(seconds) = problem.retry_after {
        headers.set("retry-after", &seconds.to_string())?;
    }
    Ok(response)
}
