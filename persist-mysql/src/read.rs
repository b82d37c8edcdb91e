//! Reads through the pool: the read API's statements are persist-sql's.

use async_trait::async_trait;
use persist_core::Result;
use persist_sql::read::SqlReads;
use persist_sql::{Bind, Dialect};

use crate::committed::arguments;
use crate::store::{MySqlStore, backend_error};

#[async_trait]
impl SqlReads for MySqlStore {
    fn backend(&self) -> &'static str {
        "mysql"
    }

    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    async fn texts(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<String>> {
        sqlx::query_scalar_with(sql, arguments(binds)?)
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("reading"))
    }

    async fn ids(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<u64>> {
        sqlx::query_scalar_with(sql, arguments(binds)?)
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("reading ids"))
    }

    async fn counts(&self) -> Result<Vec<(String, i64)>> {
        sqlx::query_as("SELECT kind, CAST(SUM(n) AS SIGNED) FROM persist_counts GROUP BY kind")
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("counting"))
    }
}
