//! Reads through the pool: the read API's statements are persist-sql's.

use async_trait::async_trait;
use persist_core::Result;
use persist_sql::read::SqlReads;
use persist_sql::{Bind, Dialect};
use sqlx::Row;

use crate::committed::{arguments, parse_id};
use crate::store::{PostgresStore, backend_error};

#[async_trait]
impl SqlReads for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn texts(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<String>> {
        sqlx::query_scalar_with(sql, arguments(binds)?)
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("reading"))
    }

    async fn ids(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<u64>> {
        let rows = sqlx::query_with(sql, arguments(binds)?)
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("reading ids"))?;
        rows.iter()
            .map(|row| parse_id(row.try_get(0).map_err(backend_error("reading ids"))?))
            .collect()
    }

    async fn counts(&self) -> Result<Vec<(String, i64)>> {
        sqlx::query_as("SELECT kind, sum(n)::bigint FROM persist_counts GROUP BY kind")
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("counting"))
    }
}
