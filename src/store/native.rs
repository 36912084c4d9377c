//! The store without a database, as it compiles natively: its statements are built and
//! planned against the schema (`plans`), never run. [`Db`] and [`Results`] have no values,
//! so nothing outside the Worker can send a batch or read one's rows.

use super::{Batch, FromColumns, Rows, Stmt};
use crate::domain::Problem;
use serde::de::DeserializeOwned;

/// No database: a type without values.
pub enum Db {}

/// No results: a type without values.
pub enum Results {}

impl Db {
    pub async fn all<T: DeserializeOwned>(&self, _stmt: Stmt) -> Result<Vec<T>, Problem> {
        match *self {}
    }
}

impl Batch {
    pub async fn run(self, db: &Db) -> Result<Results, Problem> {
        match *db {}
    }
}

impl Results {
    pub fn all<T: DeserializeOwned>(&self, _rows: Rows<T>) -> Result<Vec<T>, Problem> {
        match *self {}
    }

    pub fn first<T: DeserializeOwned>(&self, _rows: Rows<T>) -> Result<Option<T>, Problem> {
        match *self {}
    }

    pub fn verbatim<T: FromColumns>(&self, _rows: Rows<T>) -> Result<Option<T>, Problem> {
        match *self {}
    }
}
