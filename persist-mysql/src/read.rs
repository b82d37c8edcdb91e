//! Reads through the pool: the read API's statements are persist-sql's.

use async_trait::async_trait;
use persist_core::Result;
use persist_sql::read::SqlReads;
use persist_sql::{Bind, Dialect};

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
        binds
            .iter()
            .fold(sqlx::query_scalar(sql), |q, b| match *b {
                Bind::Id(v) => q.bind(v),
                Bind::Int(v) => q.bind(v),
            })
            .fetch_all(self.readers())
            .await
            .map_err(backend_error("reading"))
    }

    async fn ids(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<u64>> {
        binds
            .iter()
            .fold(sqlx::query_scalar(sql), |q, b| match *b {
                Bind::Id(v) => q.bind(v),
                Bind::Int(v) => q.bind(v),
            })
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
