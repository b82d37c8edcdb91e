//! Answering queries from the read connections: the read API's statements
//! are persist-sql's, run here.

use async_trait::async_trait;
use persist_core::Result;
use persist_sql::read::SqlReads;
use persist_sql::{Bind, Dialect};
use sqlx::Row;
use sqlx::sqlite::SqliteArguments;

use crate::store::{SqliteStore, backend_error};
use crate::table::sql_id;

fn query(
    sql: &'static str,
    binds: &[Bind],
) -> sqlx::query::Query<'static, sqlx::Sqlite, SqliteArguments> {
    let mut query = sqlx::query(sql);
    for bind in binds {
        query = query.bind(match *bind {
            Bind::Id(v) => sql_id(v),
            Bind::Int(v) => v,
        });
    }
    query
}

#[async_trait]
impl SqlReads for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn texts(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<String>> {
        let rows = query(sql, binds)
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("reading"))?;
        rows.iter()
            .map(|row| {
                row.try_get::<String, _>(0)
                    .map_err(backend_error("reading"))
            })
            .collect()
    }

    async fn ids(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<u64>> {
        let rows = query(sql, binds)
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("reading ids"))?;
        rows.iter()
            .map(|row| {
                row.try_get::<i64, _>(0)
                    .map(|v| v as u64)
                    .map_err(backend_error("reading ids"))
            })
            .collect()
    }

    async fn counts(&self) -> Result<Vec<(String, i64)>> {
        // Kept by triggers in the rows' own transactions (schema version 3).
        let rows = sqlx::query("SELECT kind, n FROM persist_counts")
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("counting"))?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get(0).map_err(backend_error("counting"))?,
                    row.try_get(1).map_err(backend_error("counting"))?,
                ))
            })
            .collect()
    }
}
