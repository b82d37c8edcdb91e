//! The writer connection's primitives in PostgreSQL (the transaction
//! around them is persist-sql's [`Writer`](persist_sql::writer::Writer)).

use std::time::Duration;

use persist_core::{AppliedHook, Mutation, Result};
use persist_sql::SqlEngine;
use persist_sql::lease::LeaseRow;
use persist_sql::writer::Connector;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection, Row};
use tokio::runtime::Runtime;

use crate::committed::Committed;
use crate::statements::LEASE_ROWS;
use crate::store::{backend_error, connect};

/// How the writer connects.
pub(crate) struct PgConnector {
    pub options: PgConnectOptions,
    pub timeout: Duration,
}

impl Connector for PgConnector {
    type Conn = PgConnection;
    const BACKEND: &'static str = "postgres";

    async fn connect(&self) -> Result<PgConnection> {
        connect(&self.options, self.timeout).await
    }

    async fn execute(conn: &mut PgConnection, sql: &'static str) -> Result<()> {
        sqlx::raw_sql(sql)
            .execute(conn)
            .await
            .map_err(backend_error(format!("running {sql}")))?;
        Ok(())
    }

    async fn lease_rows(conn: &mut PgConnection, shards: &[u32]) -> Result<Vec<LeaseRow>> {
        let failed = || backend_error("reading the shard leases");
        let shards: Vec<i32> = shards
            .iter()
            .map(|s| i32::try_from(*s).unwrap_or(i32::MAX))
            .collect();
        let rows = sqlx::query(LEASE_ROWS)
            .bind(shards)
            .fetch_all(conn)
            .await
            .map_err(failed())?;
        rows.iter()
            .map(|row| {
                Ok(LeaseRow {
                    shard_id: u32::try_from(row.try_get::<i32, _>(0).map_err(failed())?)
                        .unwrap_or(u32::MAX),
                    owner: row.try_get(1).map_err(failed())?,
                    token: row.try_get(2).map_err(failed())?,
                })
            })
            .collect()
    }

    fn write_batch(
        runtime: &Runtime,
        conn: &mut PgConnection,
        batch: &[Mutation],
        seen_at: i64,
    ) -> Result<()> {
        let changes =
            persist_core::write::plan(&mut SqlEngine(Committed { runtime, conn }), batch)?;
        runtime.block_on(crate::write::write_changes(conn, &changes, seen_at))
    }

    async fn record_hook(conn: &mut PgConnection, hook: &AppliedHook) -> Result<()> {
        sqlx::query(
            "INSERT INTO persist_hooks (version, name, applied_at) VALUES ($1, $2, $3) \
             ON CONFLICT (version) DO UPDATE SET name = excluded.name, applied_at = excluded.applied_at",
        )
        .bind(i32::try_from(hook.version).unwrap_or(i32::MAX))
        .bind(&hook.name)
        .bind(hook.applied_at.unix_micros())
        .execute(conn)
        .await
        .map_err(backend_error("recording a migration hook"))?;
        Ok(())
    }

    async fn close(conn: PgConnection) {
        let _ = conn.close().await;
    }
}
