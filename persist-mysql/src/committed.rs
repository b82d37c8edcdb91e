//! The committed state as the cache's write semantics read it
//! ([`persist_core::write::Engine`]), inside the writer's transaction: a
//! few statements per table for a batch's point reads, one per scope
//! listing.

use persist_core::{EntityKey, Error, Record, Result};
use persist_sql::{Bind, CommittedRows, Dialect, Table, place_row};
use sqlx::mysql::MySqlArguments;
use sqlx::{Arguments as _, MySql, MySqlConnection, Row};
use tokio::runtime::Runtime;

use crate::statements::statements;
use crate::store::backend_error;

/// The writer connection's view of what is committed; each read runs on
/// the writer's own runtime.
pub(crate) struct Committed<'w> {
    pub runtime: &'w Runtime,
    pub conn: &'w mut MySqlConnection,
}

type Query = sqlx::query::Query<'static, MySql, MySqlArguments>;

/// A statement's persist-sql parameters.
pub(crate) fn arguments(binds: &[Bind]) -> Result<MySqlArguments> {
    let mut arguments = MySqlArguments::default();
    for bind in binds {
        match *bind {
            Bind::Id(v) => arguments.add(v),
            Bind::Int(v) => arguments.add(v),
        }
        .map_err(|e| Error::backend("mysql", "binding parameters", e))?;
    }
    Ok(arguments)
}

/// Binds a key's columns.
pub(crate) fn bind_key(query: Query, key: &EntityKey) -> Query {
    match Table::key_values(key) {
        (a, Some(b)) => query.bind(a).bind(b),
        (a, None) => query.bind(a),
    }
}

impl CommittedRows for Committed<'_> {
    const DIALECT: Dialect = Dialect::MySql;

    fn get_table(
        &mut self,
        table: Table,
        keys: &[(usize, EntityKey)],
        out: &mut [Option<Record>],
    ) -> Result<()> {
        let ids: Vec<serde_json::Value> = keys
            .iter()
            .map(|(_, key)| match Table::key_values(key) {
                (a, Some(b)) => serde_json::json!([a.to_string(), b.to_string()]),
                (a, None) => serde_json::json!(a.to_string()),
            })
            .collect();
        let failed = || backend_error(format!("reading {}", table.name()));
        let query =
            sqlx::query(statements(table).get_many).bind(serde_json::Value::Array(ids).to_string());
        let rows = self
            .runtime
            .block_on(query.fetch_all(&mut *self.conn))
            .map_err(failed())?;
        for row in rows {
            let ordinality: i32 = row.try_get(0).map_err(failed())?;
            let data = row.try_get::<&str, _>(1);
            place_row(table, keys, i64::from(ordinality), data, out)?;
        }
        Ok(())
    }

    fn list(&mut self, sql: &'static str, binds: &[Bind]) -> Result<Vec<(u64, u64)>> {
        let query = sqlx::query_with(sql, arguments(binds)?);
        let rows = self
            .runtime
            .block_on(query.fetch_all(&mut *self.conn))
            .map_err(backend_error("listing keys"))?;
        rows.iter()
            .map(|row| {
                let first: u64 = row.try_get(0).map_err(backend_error("listing keys"))?;
                let second: u64 = match row.len() {
                    2 => row.try_get(1).map_err(backend_error("listing keys"))?,
                    _ => 0,
                };
                Ok((first, second))
            })
            .collect()
    }
}
