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
//!
//! Building statements is pure and compiles everywhere; sending them is `d1`'s, in the
//! Worker only. Natively `native` stands in with a `Db` that has no values, so the store
//! compiles and its statements are planned against the schema in the tests (`plans`).

pub mod api_keys;
pub mod audit;
pub mod billing;
pub mod console;
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
pub mod scim;
pub mod scim_tokens;
pub mod teams;
pub mod usage;
pub mod webhooks;

#[cfg(target_arch = "wasm32")]
mod d1;
#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(test)]
pub(crate) mod plans;

#[cfg(target_arch = "wasm32")]
pub use d1::{ping, Db, Results, Start, BOOKMARK_HEADER};
#[cfg(not(target_arch = "wasm32"))]
pub use native::{Db, Results};

use crate::domain::Code;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

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

/// Builds a statement with its arguments: `sql!("… ?1 … ?2", a, b)`.
#[macro_export]
macro_rules! sql {
    ($text:expr $(, $arg:expr)* $(,)?) => {
        $crate::store::Stmt::new(
            $crate::statement!($text),
            vec![$($crate::store::Arg::from($arg)),*],
        )
    };
}

/// A statement's text, as it is: `statement!("…")`. The crate's tests also list it, where it
/// is written, in `plans::STATEMENTS`, so every statement the store can send is planned
/// against the schema. `sql!` and `guard!` pass through here; a text sent any other way
/// must too.
#[macro_export]
macro_rules! statement {
    ($text:expr) => {{
        #[cfg(test)]
        #[linkme::distributed_slice($crate::store::plans::STATEMENTS)]
        static STATEMENT: &str = $text;
        $text
    }};
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
    shape: Shape,
    _type: PhantomData<T>,
}

/// How a statement returns its rows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A row per row, a column per field.
    Columns,
    /// One row whose column `rows` is a JSON array of the rows as objects: a page of many
    /// rows crosses from the database as one value instead of one per field.
    Packed,
    /// One row whose columns are read as they are ([`FromColumns`]), never parsed: for
    /// text SQLite has already rendered as the API answers it.
    Verbatim,
}

/// The columns of one row, read as they are: text as text, integers as integers.
pub trait Columns {
    /// Column `name` as text; `None` when it is NULL or not text.
    fn text(&self, name: &str) -> Option<String>;
    /// Column `name` as an integer; `None` when it is NULL or not a number.
    fn int(&self, name: &str) -> Option<i64>;
}

/// A value read from one row's columns as they are (see [`Batch::query_verbatim`]).
pub trait FromColumns: Sized {
    /// The value, or `None` when a column it needs is missing.
    fn from_columns(row: &dyn Columns) -> Option<Self>;
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
        self.add(stmt, Shape::Columns)
    }

    /// Adds a statement answering one row with a column `rows`, the JSON array of its
    /// rows as objects (`json_group_array(json_object(…))`), and returns a handle on them.
    pub fn query_packed<T: DeserializeOwned>(&mut self, stmt: Stmt) -> Rows<T> {
        self.add(stmt, Shape::Packed)
    }

    /// Adds a statement answering one row whose columns are read as they are, without the
    /// JSON round trip ([`FromColumns`]), and returns a handle on that row.
    pub fn query_verbatim<T: FromColumns>(&mut self, stmt: Stmt) -> Rows<T> {
        self.add(stmt, Shape::Verbatim)
    }

    fn add<T>(&mut self, stmt: Stmt, shape: Shape) -> Rows<T> {
        self.stmts.push(stmt);
        Rows {
            index: self.stmts.len() - 1,
            shape,
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
}

/// Adds a guard: `guard!(batch, Code::X, "<condition with ?2, ?3…>", args…)`. The code is
/// bound as `?1`, so conditions number their own parameters from `?2`.
#[macro_export]
macro_rules! guard {
    ($batch:expr, $code:expr, $violation:literal $(, $arg:expr)* $(,)?) => {
        $batch.guard(
            $code,
            $crate::statement!(concat!("INSERT INTO guard (code) SELECT ?1 WHERE ", $violation)),
            vec![$($crate::store::Arg::from($arg)),*],
        )
    };
}
