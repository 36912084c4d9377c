//! The D1 half of the store: a request's session, sending a [`Batch`] as one round trip,
//! and reading its [`Results`]. Only the Worker has a database; natively the store's
//! statements are compiled and planned (see `plans`), never run.
//!
//! A statement's rows cross from JavaScript into the Worker as one JSON text (one
//! `JSON.stringify`, one copy, then `serde_json`), not value by value: a page of fifty
//! members is some nine hundred values, and each one read across the boundary on its own
//! cost more than the query. Text that is already JSON — a packed page, or the page SQLite
//! renders for the API — is read as it is, not stringified and parsed again.

use super::{guard_code, Arg, Batch, Columns, FromColumns, Rows, Shape, Stmt};
use crate::domain::values::is_bookmark;
use crate::domain::{Code, Problem};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use worker::js_sys::{Array, Error as JsError, Reflect, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::D1DatabaseSession as SessionSys;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1SessionConstraint};

/// The header that carries a session's bookmark, in responses and back in requests.
pub const BOOKMARK_HEADER: &str = "roster-bookmark";

impl Arg {
    fn to_js(&self) -> JsValue {
        match self {
            // D1 numbers are JS numbers: exact up to 2^53, far beyond any value stored here.
            Arg::Int(i) => JsValue::from_f64(*i as f64),
            Arg::Text(s) => JsValue::from_str(s),
            Arg::Null => JsValue::NULL,
        }
    }
}

/// Where a request's D1 session starts (D1 read replication).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start<'a> {
    /// At the primary: writes, and the work of the scheduled job and of deliveries.
    Primary,
    /// At whichever copy is nearest, possibly a replica a little behind the primary.
    Nearest,
    /// At a copy at least as fresh as this bookmark, from an earlier response.
    AtLeast(&'a str),
}

/// The D1 session of one request, counting its round trips (for `Server-Timing`). Every
/// statement of the request runs in it, so each read sees at least what the one before
/// saw, and its bookmark afterwards lets the client's next request do the same.
pub struct Db {
    d1: D1DatabaseSession,
    round_trips: Cell<u32>,
    /// Event ids of the webhook deliveries that committed batches queued, to be sent once
    /// the response is out.
    queued_deliveries: RefCell<Vec<String>>,
    /// Whether a `conflict` guard refused a batch: the state the request decided on moved.
    moved: Cell<bool>,
}

impl Db {
    /// A session of `d1` starting at `start`. A bookmark D1 does not take is the client's
    /// mistake (400, naming the header).
    pub fn new(d1: &D1Database, start: Start<'_>) -> Result<Db, Problem> {
        let not_a_bookmark = || {
            Problem::invalid_field(
                BOOKMARK_HEADER,
                "is not a bookmark this database gave; send back the last one received",
            )
        };
        let session = match start {
            Start::Primary => d1.with_session_constraint(D1SessionConstraint::FirstPrimary),
            Start::Nearest => d1.with_session_constraint(D1SessionConstraint::FirstUnconstrained),
            Start::AtLeast(bookmark) if is_bookmark(bookmark) => d1.with_session(Some(bookmark)),
            Start::AtLeast(_) => return Err(not_a_bookmark()),
        };
        let session = session.map_err(|e| match start {
            Start::AtLeast(_) => not_a_bookmark(),
            _ => {
                worker::console_error!("d1 session: {e}");
                Problem::internal()
            }
        })?;
        Ok(Db {
            d1: session,
            round_trips: Cell::new(0),
            queued_deliveries: RefCell::new(Vec::new()),
            moved: Cell::new(false),
        })
    }

    /// The latest bookmark of the session: what a client sends back as [`BOOKMARK_HEADER`]
    /// to read at least this fresh.
    pub fn bookmark(&self) -> Option<String> {
        self.d1.get_bookmark().ok().flatten()
    }

    /// Whether a `conflict` guard refused one of this request's batches since the last call
    /// (and forgets it): what the request read had moved before its write ran, so deciding
    /// again on a fresh read gives the answer the current state calls for.
    pub fn take_moved(&self) -> bool {
        self.moved.take()
    }

    pub fn round_trips(&self) -> u32 {
        self.round_trips.get()
    }

    /// The event ids whose webhook deliveries this request queued (and forgets them).
    pub fn take_queued_deliveries(&self) -> Vec<String> {
        self.queued_deliveries.take()
    }

    /// Notes the deliveries queued by the statements at `indexes` of a committed batch.
    fn note_deliveries(&self, results: &Results, indexes: &[usize]) {
        #[derive(Deserialize)]
        struct Queued {
            event_id: String,
        }
        let mut queued = self.queued_deliveries.borrow_mut();
        for rows in indexes
            .iter()
            .filter_map(|&i| results.rows::<Queued>(i).ok())
        {
            for row in rows {
                if !queued.contains(&row.event_id) {
                    queued.push(row.event_id);
                }
            }
        }
    }

    fn prepare(&self, stmt: &Stmt) -> Result<D1PreparedStatement, Problem> {
        let args: Vec<JsValue> = stmt.args.iter().map(Arg::to_js).collect();
        self.d1.prepare(stmt.sql).bind(&args).map_err(|e| {
            worker::console_error!("d1 bind failed: {e}");
            Problem::internal()
        })
    }

    /// Sends statements as one batch. A guard's refusal becomes the problem its code names
    /// (handlers may refine the detail); any other database error is logged and becomes a
    /// plain 500.
    async fn send(&self, stmts: &[Stmt]) -> Result<Results, Problem> {
        let prepared = stmts
            .iter()
            .map(|s| Ok(JsValue::from(self.prepare(s)?.inner().clone())))
            .collect::<Result<Array, Problem>>()?;
        self.round_trips.set(self.round_trips.get() + 1);
        let session: &SessionSys = self.d1.as_ref().unchecked_ref();
        let answer = match session.session_batch(prepared) {
            Ok(promise) => JsFuture::from(promise).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(results) => Ok(Results(Array::from(&results).to_vec())),
            Err(e) => {
                let message = error_text(&e);
                match guard_code(&message) {
                    Some(code) => {
                        if code == Code::Conflict {
                            self.moved.set(true);
                        }
                        Err(Problem::from(code))
                    }
                    None => {
                        worker::console_error!("d1 batch failed: {message}");
                        Err(Problem::internal())
                    }
                }
            }
        }
    }

    /// Runs one statement and returns its rows.
    pub async fn all<T: DeserializeOwned>(&self, stmt: Stmt) -> Result<Vec<T>, Problem> {
        let mut batch = Batch::new();
        let rows = batch.query(stmt);
        let results = batch.run(self).await?;
        results.all(rows)
    }
}

impl Batch {
    /// Sends the batch. Empty batches cost nothing.
    pub async fn run(self, db: &Db) -> Result<Results, Problem> {
        if self.stmts.is_empty() {
            return Ok(Results(Vec::new()));
        }
        let results = db.send(&self.stmts).await?;
        db.note_deliveries(&results, &self.deliveries);
        Ok(results)
    }
}

/// Rows from their JSON text: an array of objects, a field per column.
fn parse<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, Problem> {
    serde_json::from_str(text).map_err(|e| {
        worker::console_error!("d1 row does not deserialize: {e}");
        Problem::internal()
    })
}

/// An error D1 threw, as text: its message and its cause's (where SQLite's words are).
fn error_text(e: &JsValue) -> String {
    match e.dyn_ref::<JsError>() {
        Some(error) => {
            let cause = error.cause();
            let cause = cause
                .dyn_ref::<JsError>()
                .map(|c| String::from(c.message()))
                .or_else(|| cause.as_string())
                .unwrap_or_default();
            format!("{}: {cause}", String::from(error.message()))
        }
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

/// The results of a batch (D1's result objects), read through the handles its statements
/// returned.
pub struct Results(Vec<JsValue>);

/// A row as D1 answers it: an object with a property per column.
struct JsRow(JsValue);

impl JsRow {
    fn column(&self, name: &str) -> Option<JsValue> {
        Reflect::get(&self.0, &JsValue::from_str(name)).ok()
    }
}

impl Columns for JsRow {
    fn text(&self, name: &str) -> Option<String> {
        self.column(name)?.as_string()
    }

    fn int(&self, name: &str) -> Option<i64> {
        let number = self.column(name)?.as_f64()?;
        (number.fract() == 0.0 && number.abs() <= 9_007_199_254_740_992.0).then_some(number as i64)
    }
}

impl Results {
    /// D1's array of rows for the statement at `index` (`None`: the statement has none).
    fn js_rows(&self, index: usize) -> Result<Option<JsValue>, Problem> {
        let result = self.0.get(index).ok_or_else(Problem::internal)?;
        Ok(Reflect::get(result, &JsValue::from_str("results"))
            .ok()
            .filter(|rows| !rows.is_undefined() && !rows.is_null()))
    }

    /// The first row of the statement at `index`, as D1 answers it.
    fn js_first(&self, index: usize) -> Result<Option<JsRow>, Problem> {
        Ok(self
            .js_rows(index)?
            .and_then(|rows| rows.dyn_into::<Array>().ok())
            .map(|rows| rows.get(0))
            .filter(|row| row.is_object())
            .map(JsRow))
    }

    /// The rows of the statement at `index`, through their JSON text.
    fn rows<T: DeserializeOwned>(&self, index: usize) -> Result<Vec<T>, Problem> {
        let Some(rows) = self.js_rows(index)? else {
            return Ok(Vec::new());
        };
        let text = JSON::stringify(&rows)
            .ok()
            .and_then(|text| text.as_string())
            .ok_or_else(|| {
                worker::console_error!("d1 rows do not stringify");
                Problem::internal()
            })?;
        parse(&text)
    }

    pub fn all<T: DeserializeOwned>(&self, rows: Rows<T>) -> Result<Vec<T>, Problem> {
        match rows.shape {
            Shape::Columns => self.rows(rows.index),
            // The packed text is read as it is: stringifying the row would escape it, and
            // parsing that would unescape it again, for nothing.
            Shape::Packed => match self.js_first(rows.index)? {
                Some(row) => parse(&row.text("rows").ok_or_else(Problem::internal)?),
                None => Ok(Vec::new()),
            },
            Shape::Verbatim => {
                worker::console_error!("a verbatim row is read with Results::verbatim");
                Err(Problem::internal())
            }
        }
    }

    /// The row of a statement added by [`Batch::query_verbatim`], read as it is.
    pub fn verbatim<T: FromColumns>(&self, rows: Rows<T>) -> Result<Option<T>, Problem> {
        match self.js_first(rows.index)? {
            Some(row) => T::from_columns(&row).map(Some).ok_or_else(|| {
                worker::console_error!("a verbatim row lacks a column it needs");
                Problem::internal()
            }),
            None => Ok(None),
        }
    }

    pub fn first<T: DeserializeOwned>(&self, rows: Rows<T>) -> Result<Option<T>, Problem> {
        Ok(self.all(rows)?.into_iter().next())
    }
}

/// Whether D1 answers a trivial query (for `/health`).
pub async fn ping(db: &Db) -> bool {
    db.all::<serde::de::IgnoredAny>(crate::sql!("SELECT 1 AS ok"))
        .await
        .is_ok()
}
