//! The committed state as the cache's write semantics read it
//! ([`persist_core::write::Engine`]), inside the writer's transaction: a
//! few statements per table for a batch's point reads, one per scope
//! listing.

use persist_core::write::{Engine, Scope};
use persist_core::{EntityKey, Record, Result};
use persist_sql::{Bind, Dialect, Table, decode_data};
use rustc_hash::FxHashMap;
use sqlx::mysql::MySqlArguments;
use sqlx::{MySql, MySqlConnection, Row};
use tokio::runtime::Runtime;

use crate::statements::{chunks, statements};
use crate::store::backend_error;

/// The writer connection's view of what is committed; each read runs on
/// the writer's own runtime.
pub(crate) struct Committed<'w> {
    pub runtime: &'w Runtime,
    pub conn: &'w mut MySqlConnection,
}

type Query = sqlx::query::Query<'static, MySql, MySqlArguments>;

/// Binds a persist-sql parameter.
pub(crate) fn bind(query: Query, bind: &Bind) -> Query {
    match *bind {
        Bind::Id(v) => query.bind(v),
        Bind::Int(v) => query.bind(v),
    }
}

/// Binds a key's columns.
pub(crate) fn bind_key(query: Query, key: &EntityKey) -> Query {
    match Table::key_values(key) {
        (a, Some(b)) => query.bind(a).bind(b),
        (a, None) => query.bind(a),
    }
}

impl Committed<'_> {
    fn get_table(
        &mut self,
        table: Table,
        keys: &[(usize, EntityKey)],
        out: &mut [Option<Record>],
    ) -> Result<()> {
        let mut positions: FxHashMap<(u64, Option<u64>), Vec<usize>> = FxHashMap::default();
        for (position, key) in keys {
            positions
                .entry(Table::key_values(key))
                .or_default()
                .push(*position);
        }
        let two = table.key().len() == 2;
        let failed = || backend_error(format!("reading {}", table.name()));
        for (chunk, sql) in chunks(&statements(table).get_many, keys) {
            let query = chunk
                .iter()
                .fold(sqlx::query(sql), |q, (_, key)| bind_key(q, key));
            let rows = self
                .runtime
                .block_on(query.fetch_all(&mut *self.conn))
                .map_err(failed())?;
            for row in rows {
                let a: u64 = row.try_get(0).map_err(failed())?;
                let b: Option<u64> = if two {
                    Some(row.try_get(1).map_err(failed())?)
                } else {
                    None
                };
                let Some(at) = positions.get(&(a, b)) else {
                    continue;
                };
                let key = keys
                    .iter()
                    .find(|(p, _)| *p == at[0])
                    .map(|(_, k)| *k)
                    .unwrap_or(EntityKey::CurrentUser);
                let record = decode_data(table, &key, row.try_get::<&str, _>(table.key().len()))?;
                for position in at {
                    out[*position] = Some(record.clone());
                }
            }
        }
        Ok(())
    }
}

impl Engine for Committed<'_> {
    fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>> {
        let mut out = vec![None; keys.len()];
        let mut by_table: Vec<Vec<(usize, EntityKey)>> = vec![Vec::new(); Table::ALL.len()];
        for (position, key) in keys.iter().enumerate() {
            by_table[Table::of(key) as usize].push((position, *key));
        }
        for (table, keys) in Table::ALL.into_iter().zip(&by_table) {
            if !keys.is_empty() {
                self.get_table(table, keys, &mut out)?;
            }
        }
        Ok(out)
    }

    fn scope_keys(&mut self, scope: Scope) -> Result<Vec<EntityKey>> {
        let (sql, binds) = persist_sql::scope::listing(scope, Dialect::MySql);
        let query = binds.iter().fold(sqlx::query(sql), bind);
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
                Ok(persist_sql::scope::key_of(scope, first, second))
            })
            .collect()
    }
}
