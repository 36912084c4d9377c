//! Every statement the store can send, planned by SQLite against the migrations: none may
//! read the whole of a table, since every table but `guard` grows with the tenants and a
//! scan that is instant in a test takes D1's time (and its rows-read bill) in production.
//!
//! The statements are not copied here: `statement!` (which `sql!` and `guard!` go through,
//! as do the purge's and the retention sweep's lists) places each text, in the crate's
//! tests, in [`STATEMENTS`] where it is written. SQLite is the bundled one of `rusqlite`,
//! close to D1's; parameters left unbound are NULL, which plans like any value.
//!
//! Tests elsewhere run statements here too ([`migrated`], [`rows`]) where what a statement
//! answers is itself a rule, such as a page SQLite renders for the API.

use super::{Arg, Batch, Columns, Rows};
use linkme::distributed_slice;
use rusqlite::types::{Value as Sql, ValueRef};
use rusqlite::Connection;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::Path;

/// Every statement text of the store, one entry per place it is written.
#[distributed_slice]
pub static STATEMENTS: [&'static str];

/// The only table that may be scanned: every row put into it is refused by its CHECK
/// constraints (guards), so it is always empty.
const NEVER_HOLDS_ROWS: &[&str] = &["guard"];

/// A fresh in-memory database with every migration applied in order, foreign keys on as
/// in D1.
pub(crate) fn migrated() -> Connection {
    let db = Connection::open_in_memory().expect("in-memory SQLite opens");
    db.pragma_update(None, "foreign_keys", true)
        .expect("foreign keys turn on");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations/ is readable")
        .map(|entry| entry.expect("migrations/ lists").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no migrations in {}", dir.display());
    for file in files {
        let sql = std::fs::read_to_string(&file).expect("a migration reads");
        db.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{} does not apply: {e}", file.display()));
    }
    db
}

/// Runs the statement of `batch` that `rows` is the handle of, and returns the rows it
/// answers as JSON objects, a field per column.
pub(crate) fn rows<T>(db: &Connection, batch: &Batch, rows: &Rows<T>) -> Vec<Map<String, Value>> {
    let stmt = &batch.stmts[rows.index];
    let args = stmt.args.iter().map(|arg| match arg {
        Arg::Int(i) => Sql::Integer(*i),
        Arg::Text(s) => Sql::Text(s.clone()),
        Arg::Null => Sql::Null,
    });
    let mut prepared = db.prepare(stmt.sql).expect("the statement prepares");
    let names: Vec<String> = prepared
        .column_names()
        .into_iter()
        .map(String::from)
        .collect();
    let mut answered = prepared
        .query(rusqlite::params_from_iter(args))
        .expect("the statement runs");
    let mut all = Vec::new();
    while let Some(row) = answered.next().expect("a row reads") {
        let mut object = Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i).expect("a column reads") {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(x) => Value::from(x),
                ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(_) => panic!("column {name} is a blob"),
            };
            object.insert(name.clone(), value);
        }
        all.push(object);
    }
    all
}

/// A row as [`rows`] answers it, read the way D1's rows are read in the Worker.
impl Columns for Map<String, Value> {
    fn text(&self, name: &str) -> Option<String> {
        self.get(name)?.as_str().map(String::from)
    }

    fn int(&self, name: &str) -> Option<i64> {
        self.get(name)?.as_i64()
    }
}

/// The tables that grow with the tenants: all of them but those that never hold a row.
fn growing_tables(db: &Connection) -> BTreeSet<String> {
    let mut stmt = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("the schema reads");
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))
        .expect("the schema reads");
    names
        .map(|name| name.expect("a table name"))
        .filter(|name| !NEVER_HOLDS_ROWS.contains(&name.as_str()))
        .collect()
}

/// The rows of `EXPLAIN QUERY PLAN` for `text`, each indented by its depth in the plan.
fn plan(db: &Connection, text: &str) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt = db.prepare(&format!("EXPLAIN QUERY PLAN {text}"))?;
    let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
    let rows = stmt.query_map(rusqlite::params_from_iter(nulls), |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, String>(3)?,
        ))
    })?;
    let mut depth_of: Vec<(i64, usize)> = Vec::new();
    let mut lines = Vec::new();
    for row in rows {
        let (id, parent, detail) = row?;
        let depth = depth_of
            .iter()
            .find(|(i, _)| *i == parent)
            .map_or(0, |(_, d)| d + 1);
        depth_of.push((id, depth));
        lines.push(format!("{}{detail}", "  ".repeat(depth)));
    }
    Ok(lines)
}

/// The growing tables a plan line reads in full: `SCAN <table or alias>`, with or without
/// an index (a scan along an index still reads all of it). An alias counts for every table
/// the statement gives that name, so a doubt fails rather than passes.
fn scanned<'t>(line: &str, text: &str, growing: &'t BTreeSet<String>) -> Vec<&'t str> {
    let Some(rest) = line.trim_start().strip_prefix("SCAN ") else {
        return Vec::new();
    };
    let name = rest.split(' ').next().unwrap_or_default();
    if let Some(table) = growing.get(name) {
        return vec![table];
    }
    // A table and its alias are separated by blanks only (`memberships m`, `memberships AS
    // m`), which `m.teams, m.role` is not.
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut tables = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let alias = match words.get(i + 1) {
            Some(next) if next.eq_ignore_ascii_case("as") => words.get(i + 2),
            next => next,
        };
        let alias = alias.map(|a| a.trim_end_matches([',', ')', ';']));
        if alias == Some(name) {
            if let Some(table) = growing.get(word.trim_start_matches('(')) {
                if !tables.contains(&table.as_str()) {
                    tables.push(table.as_str());
                }
            }
        }
    }
    tables
}

#[test]
fn no_statement_scans_a_growing_table() {
    let db = migrated();
    let growing = growing_tables(&db);
    let statements: BTreeSet<&str> = STATEMENTS.iter().copied().collect();
    assert!(!statements.is_empty(), "no statement was collected");

    let mut findings = Vec::new();
    for text in &statements {
        match plan(&db, text) {
            Err(e) => findings.push(format!("does not prepare: {e}\n{text}")),
            Ok(lines) => {
                let scans: BTreeSet<&str> = lines
                    .iter()
                    .flat_map(|line| scanned(line, text, &growing))
                    .collect();
                if !scans.is_empty() {
                    findings.push(format!(
                        "scans {}:\n{text}\nplan:\n{}",
                        scans.into_iter().collect::<Vec<_>>().join(", "),
                        lines.join("\n"),
                    ));
                }
            }
        }
    }
    assert!(
        findings.is_empty(),
        "{} of {} statements read a whole table:\n\n{}",
        findings.len(),
        statements.len(),
        findings.join("\n\n----\n\n"),
    );
}

/// Deleting a parent row (a resource, a team, a purged organization) looks up its children
/// through each foreign key, which `EXPLAIN QUERY PLAN` does not show: without a whole
/// (not partial) index led by the child's column, every such lookup reads the child table.
#[test]
fn every_foreign_key_leads_an_index() {
    let db = migrated();
    let mut stmt = db
        .prepare(
            "SELECT t.name, k.\"from\",
                    EXISTS (SELECT 1 FROM pragma_index_list(t.name) i
                             WHERE i.partial = 0
                               AND (SELECT c.name FROM pragma_index_info(i.name) c
                                     WHERE c.seqno = 0) = k.\"from\")
               FROM sqlite_schema t, pragma_foreign_key_list(t.name) k
              WHERE t.type = 'table'",
        )
        .expect("the foreign keys read");
    let keys: Vec<(String, String, bool)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("the foreign keys read")
        .map(|key| key.expect("a foreign key"))
        .collect();
    assert!(!keys.is_empty(), "no foreign key was found");
    let unindexed: Vec<String> = keys
        .into_iter()
        .filter(|(_, _, indexed)| !indexed)
        .map(|(table, column, _)| format!("{table}.{column}"))
        .collect();
    assert!(
        unindexed.is_empty(),
        "foreign keys that lead no index: {}",
        unindexed.join(", "),
    );
}

#[test]
fn a_scan_is_found_behind_an_alias_and_a_search_is_not() {
    let db = migrated();
    let growing = growing_tables(&db);
    let scans = |text: &str| -> Vec<String> {
        plan(&db, text)
            .expect("plans")
            .iter()
            .flat_map(|line| scanned(line, text, &growing))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        scans("SELECT m.user_id FROM memberships AS m WHERE m.joined_via = ?1"),
        ["memberships"]
    );
    assert_eq!(
        scans("SELECT count(*) FROM audit_log a, json_each(?1) j WHERE a.action = j.value"),
        ["audit_log"]
    );
    assert!(
        scans("SELECT m.role FROM memberships m WHERE m.org_id = ?1 AND m.user_id = ?2").is_empty()
    );
    assert!(
        scans("INSERT INTO guard (code) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM guard)")
            .is_empty()
    );
}
