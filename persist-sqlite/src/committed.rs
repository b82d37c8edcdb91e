//! The committed state as the cache's write semantics read it
//! ([`persist_core::write::Engine`]), inside the writer's transaction: one
//! statement per table for a batch's point reads, one per scope listing.

use persist_core::{EntityKey, Error, Record, Result};
use persist_sql::{Bind, CommittedRows, Dialect, Table, place_row};
use rusqlite::Connection;

use crate::table::{sql_id, statements};

/// Maps a rusqlite error to the store's, with what it was doing (turned
/// into a String only on failure).
pub(crate) fn engine_error(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> Error {
    move |e| Error::backend("sqlite", context, e)
}

/// The writer connection's view of what is committed.
pub(crate) struct Committed<'c>(pub &'c Connection);

/// A stored id back as a snowflake (ids are stored as they came, below 2^63).
fn id(v: i64) -> u64 {
    v as u64
}

impl CommittedRows for Committed<'_> {
    const DIALECT: Dialect = Dialect::Sqlite;

    /// Reads the keys of one table with one statement: the keys as a JSON
    /// array drive the loop, each one index seek.
    fn get_table(
        &mut self,
        table: Table,
        keys: &[(usize, EntityKey)],
        out: &mut [Option<Record>],
    ) -> Result<()> {
        use std::fmt::Write as _;
        let mut json = String::with_capacity(keys.len() * 24 + 2);
        json.push('[');
        for (i, (_, key)) in keys.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            // Writing to a String cannot fail.
            let _ = match Table::key_values(key) {
                (a, Some(b)) => write!(json, "[{},{}]", sql_id(a), sql_id(b)),
                (a, None) => write!(json, "{}", sql_id(a)),
            };
        }
        json.push(']');
        // The context is formatted only on failure (this runs per row).
        let failed = |e| Error::backend("sqlite", format!("reading {}", table.name()), e);
        let mut statement = self
            .0
            .prepare_cached(statements(table).get_many)
            .map_err(failed)?;
        let mut rows = statement.query([&json]).map_err(failed)?;
        while let Some(row) = rows.next().map_err(failed)? {
            // `json_each` numbers the keys from 0.
            let at: i64 = row.get(0).map_err(failed)?;
            let data = row
                .get_ref(1)
                .and_then(|v| v.as_str().map_err(rusqlite::Error::from));
            place_row(table, keys, at + 1, data, out)?;
        }
        Ok(())
    }

    /// The rows of a key listing: one or two integer columns.
    fn list(&mut self, sql: &'static str, binds: &[Bind]) -> Result<Vec<(u64, u64)>> {
        let binds: Vec<i64> = binds
            .iter()
            .map(|b| match *b {
                Bind::Id(v) => sql_id(v),
                Bind::Int(v) => v,
            })
            .collect();
        let mut statement = self
            .0
            .prepare_cached(sql)
            .map_err(engine_error("listing keys"))?;
        let two = statement.column_count() > 1;
        let rows = statement
            .query_map(rusqlite::params_from_iter(&binds), |row| {
                Ok((row.get(0)?, if two { row.get(1)? } else { 0 }))
            })
            .map_err(engine_error("listing keys"))?;
        rows.map(|row| {
            row.map(|(a, b): (i64, i64)| (id(a), id(b)))
                .map_err(engine_error("listing keys"))
        })
        .collect()
    }
}
