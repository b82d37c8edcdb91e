//! The committed state as the cache's write semantics read it
//! ([`persist_core::write::Engine`]), inside the writer's transaction: one
//! statement per table for a batch's point reads, one per scope listing.

use persist_core::{EntityKey, Error, Record, Result};
use persist_sql::{Bind, CommittedRows, Dialect, Table, place_row};
use sqlx::postgres::PgArguments;
use sqlx::{Arguments as _, PgConnection, Row};
use tokio::runtime::Runtime;

use crate::statements::statements;
use crate::store::backend_error;

/// The writer connection's view of what is committed; each read runs on
/// the writer's own runtime.
pub(crate) struct Committed<'w> {
    pub runtime: &'w Runtime,
    pub conn: &'w mut PgConnection,
}

/// A statement's persist-sql parameters (snowflakes as text, cast in the
/// SQL).
pub(crate) fn arguments(binds: &[Bind]) -> Result<PgArguments> {
    let mut arguments = PgArguments::default();
    for bind in binds {
        match *bind {
            Bind::Id(v) => arguments.add(v.to_string()),
            Bind::Int(v) => arguments.add(v),
        }
        .map_err(|e| Error::backend("postgres", "binding parameters", e))?;
    }
    Ok(arguments)
}

/// A snowflake read back as text.
pub(crate) fn parse_id(text: &str) -> Result<u64> {
    text.parse().map_err(|_| Error::Corrupt {
        key: format!("id {text}"),
        reason: "not a snowflake".into(),
    })
}

impl CommittedRows for Committed<'_> {
    const DIALECT: Dialect = Dialect::Postgres;

    fn get_table(
        &mut self,
        table: Table,
        keys: &[(usize, EntityKey)],
        out: &mut [Option<Record>],
    ) -> Result<()> {
        let (mut first, mut second) = (Vec::with_capacity(keys.len()), Vec::new());
        for (_, key) in keys {
            let (a, b) = Table::key_values(key);
            first.push(a.to_string());
            second.extend(b.map(|b| b.to_string()));
        }
        let mut query = sqlx::query(statements(table).get_many).bind(first);
        if !second.is_empty() {
            query = query.bind(second);
        }
        let failed = || backend_error(format!("reading {}", table.name()));
        let rows = self
            .runtime
            .block_on(query.fetch_all(&mut *self.conn))
            .map_err(failed())?;
        for row in rows {
            let ordinality: i64 = row.try_get(0).map_err(failed())?;
            place_row(table, keys, ordinality, row.try_get::<&str, _>(1), out)?;
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
                let first: &str = row.try_get(0).map_err(backend_error("listing keys"))?;
                let second = match row.len() {
                    2 => parse_id(row.try_get(1).map_err(backend_error("listing keys"))?)?,
                    _ => 0,
                };
                Ok((parse_id(first)?, second))
            })
            .collect()
    }
}
