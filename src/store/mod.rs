//! Every SQL statement and KV key lives under `store`.
//!
//! A request builds one [`Batch`]: the statements it needs, in order, sent to D1 in a single
//! round trip and run as one transaction. Writes carry their own conditions as *guards*:
//! `INSERT INTO guard (code) SELECT '<code>' WHERE <violation>`. The `guard` table's CHECK
//! constraints refuse every such row, so a violated condition aborts the whole batch — no
//! statement of it takes effect — and the constraint's name is the contract error code.
//! Because D1 runs each batch alone, a condition checked by a guard still holds when the
//! statements after it run: races and retries cannot slip between them.
//!
//! A guard names the state it finds, most specific first: a fact the client can act on
//! (`invitation_canceled`, `seat_limit_reached`, `not_found` for what is gone) is answered as
//! it is, while `conflict` says only that what the request read has moved since (a role, a
//! token, the plan, a field already written by someone else). [`Db`] notes a `conflict`
//! refusal, and the router then decides the request again on a fresh read, so the loser of
//! a race is answered as if it had arrived after the winner.

pub mod api_keys;
pub mod audit;
pub mod billing;
pub mod domains;
pub mod grants;
pub mod invitations;
pub mod invite_links;
pub mod invitee;
pub mod kv;
pub mod members;
pub mod orgs;
pub mod outbox;
pub mod principal;
pub mod resources;
pub mod retention;
pub mod roles;
pub mod teams;
pub mod usage;
pub mod webhooks;

use crate::domain::values::is_bookmark;
use crate::domain::{Code, Problem};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1Result, D1SessionConstraint};

/// The header that carries a session's bookmark, in responses and back in requests.
pub const BOOKMARK_HEADER: &str = "roster-bookmark";

/// A JSON array of strings as a column holds it (`json_group_array`), sorted; anything else
/// reads as none.
pub fn sorted_strings(json: &str) -> Vec<String> {
    let mut strings: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    strings.sort();
    strings
}

/// A value bound to a `?` of a statement.
#[derive(Debug, Clone)]
pub enum Arg {
    Int(i64),
    Text(String),
    Null,
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Int(v as i64)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}

impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Self {
        v.map_or(Arg::Null, Into::into)
    }
}

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

/// Builds a statement with its arguments: `sql!("… ?1 … ?2", a, b)`.
#[macro_export]
macro_rules! sql {
    ($text:expr $(, $arg:expr)* $(,)?) => {
        $crate::store::Stmt::new($text, vec![$($crate::store::Arg::from($arg)),*])
    };
}

/// A statement not yet bound to a database.
#[derive(Debug, Clone)]
pub struct Stmt {
    sql: &'static str,
    args: Vec<Arg>,
}

impl Stmt {
    pub fn new(sql: &'static str, args: Vec<Arg>) -> Stmt {
        Stmt { sql, args }
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

/// The contract code a guard's CHECK constraint failure names, if the error is one.
fn guard_code(message: &str) -> Option<Code> {
    const MARKER: &str = "CHECK constraint failed: ";
    let start = message.find(MARKER)? + MARKER.len();
    let name: String = message[start..]
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
        .collect();
    Code::parse(&name)
}

/// A handle on the rows one statement of a batch returns.
pub struct Rows<T> {
    index: usize,
    _type: PhantomData<T>,
}

/// Statements to run together, in order, as one transaction and one round trip.
#[derive(Default)]
pub struct Batch {
    stmts: Vec<Stmt>,
    /// Which statements queue webhook deliveries (see [`Batch::queue_deliveries`]).
    deliveries: Vec<usize>,
}

impl Batch {
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Adds a statement whose rows are not needed.
    pub fn push(&mut self, stmt: Stmt) {
        self.stmts.push(stmt);
    }

    /// Adds a statement and returns a handle on its rows.
    pub fn query<T: DeserializeOwned>(&mut self, stmt: Stmt) -> Rows<T> {
        self.stmts.push(stmt);
        Rows {
            index: self.stmts.len() - 1,
            _type: PhantomData,
        }
    }

    /// Adds a statement that queues webhook deliveries and returns the `event_id` of each
    /// row it queued; once the batch commits, the request sends them (`Db` keeps the ids).
    pub fn queue_deliveries(&mut self, stmt: Stmt) {
        self.deliveries.push(self.stmts.len());
        self.stmts.push(stmt);
    }

    /// Aborts the batch with `code` when `violation` (a `WHERE` condition over `args`) holds.
    pub fn guard(&mut self, code: Code, violation: &'static str, args: Vec<Arg>) {
        // The statement text must be static for D1's statement cache; the code is a
        // bound parameter and the condition is spliced at build time by `guard!`.
        let mut all = vec![Arg::from(code.as_str())];
        all.extend(args);
        self.stmts.push(Stmt::new(violation, all));
    }

    pub fn is_empty(&self) -> bool {
        self.stmts.is_empty()
    }

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

/// Adds a guard: `guard!(batch, Code::X, "<condition with ?2, ?3…>", args…)`. The code is
/// bound as `?1`, so conditions number their own parameters from `?2`.
#[macro_export]
macro_rules! guard {
    ($batch:expr, $code:expr, $violation:literal $(, $arg:expr)* $(,)?) => {
        $batch.guard(
            $code,
            concat!("INSERT INTO guard (code) SELECT ?1 WHERE ", $violation),
            vec![$($crate::store::Arg::from($arg)),*],
        )
    };
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
