//! The writer connection's primitives in MySQL (the transaction around
//! them is persist-sql's [`Writer`](persist_sql::writer::Writer)).

use std::time::Duration;

use persist_core::{AppliedHook, Mutation, Result};
use persist_sql::SqlEngine;
use persist_sql::lease::LeaseRow;
use persist_sql::writer::Connector;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{AssertSqlSafe, Connection as _, MySqlConnection, Row};
use tokio::runtime::Runtime;

use crate::committed::Committed;
use crate::statements::lease_rows;
use crate::store::{backend_error, connect};

/// How the writer connects.
pub(crate) struct MySqlConnector {
    pub options: MySqlConnectOptions,
    pub timeout: Duration,
}

impl Connector for MySqlConnector {
    type Conn = MySqlConnection;
    const BACKEND: &'static str = "mysql";

    async fn connect(&self) -> Result<MySqlConnection> {
        connect(&self.options, self.timeout).await
    }

    async fn execute(conn: &mut MySqlConnection, sql: &'static str) -> Result<()> {
        sqlx::raw_sql(sql)
            .execute(conn)
            .await
            .map_err(backend_error(format!("running {sql}")))?;
        Ok(())
    }

    async fn lease_rows(conn: &mut MySqlConnection, shards: &[u32]) -> Result<Vec<LeaseRow>> {
        let failed = || backend_error("reading the shard leases");
        let rows = shards
            .iter()
            .fold(
                sqlx::query(AssertSqlSafe(lease_rows(shards.len()))),
                |q, s| q.bind(*s),
            )
            .fetch_all(conn)
            .await
            .map_err(failed())?;
        rows.iter()
            .map(|row| {
                Ok(LeaseRow {
                    shard_id: row.try_get(0).map_err(failed())?,
                    owner: row.try_get(1).map_err(failed())?,
                    token: row.try_get(2).map_err(failed())?,
                })
            })
            .collect()
    }

    fn write_batch(
        runtime: &Runtime,
        conn: &mut MySqlConnection,
        batch: &[Mutation],
        seen_at: i64,
    ) -> Result<()> {
        let changes =
            persist_core::write::plan(&mut SqlEngine(Committed { runtime, conn }), batch)?;
        runtime.block_on(crate::write::write_changes(conn, &changes, seen_at))
    }

    async fn record_hook(conn: &mut MySqlConnection, hook: &AppliedHook) -> Result<()> {
        sqlx::query(
            "INSERT INTO persist_hooks (version, name, applied_at) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE name = VALUES(name), applied_at = VALUES(applied_at)",
        )
        .bind(hook.version)
        .bind(&hook.name)
        .bind(hook.applied_at.unix_micros())
        .execute(conn)
        .await
        .map_err(backend_error("recording a migration hook"))?;
        Ok(())
    }

    async fn close(conn: MySqlConnection) {
        let _ = conn.close().await;
    }
}
