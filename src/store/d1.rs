//! The D1 half of the store: a request's session, sending a [`Batch`] as one round trip,
//! and reading its [`Results`]. Only the Worker has a database; natively the store's
//! statements are compiled and planned (see `plans`), never run.

use super::{guard_code, Arg, Batch, Rows, Stmt};
use crate::domain::values::is_bookmark;
use crate::domain::{Code, Problem};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result, D1SessionConstraint};

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
    fn note_deliveries(&self, results: &[D1Result], indexes: &[usize]) {
        #[derive(Deserialize)]
        struct Queued {
            event_id: String,
        }
        let mut queued = self.queued_deliveries.borrow_mut();
        for rows in indexes
            .iter()
            .filter_map(|&i| results.get(i)?.results::<Queued>().ok())
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
    async fn send(&self, stmts: &[Stmt]) -> Result<Vec<D1Result>, Problem> {
        let prepared = stmts
            .iter()
            .map(|s| self.prepare(s))
            .collect::<Result<Vec<_>, _>>()?;
        self.round_trips.set(self.round_trips.get() + 1);
        self.d1.batch(prepared).await.map_err(|e| {
            let message = e.to_string();
            match guard_code(&message) {
                Some(code) => {
                    if code == Code::Conflict {
                        self.moved.set(true);
                    }
                    Problem::from(code)
                }
                None => {
                    worker::console_error!("d1 batch failed: {message}");
                    Problem::internal()
                }
            }
        })
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
        Ok(Results(results))
    }
}

/// The results of a batch, read through the handles its statements returned.
pub struct Results(Vec<D1Result>);

impl Results {
    pub fn all<T: DeserializeOwned>(&self, rows: Rows<T>) -> Result<Vec<T>, Problem> {
        let result = self.0.get(rows.index).ok_or_else(Problem::internal)?;
        result.results::<T>().map_err(|e| {
            worker::console_error!("d1 row does not deserialize: {e}");
            Problem::internal()
        })
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
