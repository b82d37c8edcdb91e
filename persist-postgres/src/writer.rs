//! The writer connection: one batch at a time, each one transaction that
//! checks the shard leases, plans the batch with the cache's semantics over
//! the committed rows, and writes the net changes.
//!
//! The semantics read synchronously ([`persist_core::write::Engine`]), so
//! the connection lives on a small runtime of its own, driven from a thread
//! that may block ([`persist_sql::off_runtime`]).

use std::sync::Arc;
use std::time::Duration;

use persist_core::{AppliedHook, Error, Mutation, Result};
use persist_sql::lease::{LeaseRow, Leases};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection, Row};
use tokio::runtime::Runtime;

use crate::committed::Committed;
use crate::statements::LEASE_ROWS;
use crate::store::{backend_error, connect};

/// The one connection that writes.
pub(crate) struct Writer {
    // Some until dropped (shut down in the background: a runtime may not
    // be dropped where an async caller would block).
    runtime: Option<Runtime>,
    conn: Option<PgConnection>,
    options: PgConnectOptions,
    connect_timeout: Duration,
    leases: Arc<Leases>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Connects the writer (on its own runtime; call off the caller's runtime).
    pub(crate) fn open(
        options: PgConnectOptions,
        connect_timeout: Duration,
        leases: Arc<Leases>,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("persist-postgres-writer")
            .build()
            .map_err(|e| Error::backend("postgres", "starting the writer's runtime", e))?;
        let conn = runtime.block_on(connect(&options, connect_timeout))?;
        Ok(Self {
            runtime: Some(runtime),
            conn: Some(conn),
            options,
            connect_timeout,
            leases,
        })
    }

    /// The runtime and a live connection (reconnecting after a failure).
    fn parts(&mut self) -> Result<(&Runtime, &mut PgConnection)> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| Error::backend("postgres", "writing", "the writer was closed"))?;
        if self.conn.is_none() {
            let conn = runtime.block_on(connect(&self.options, self.connect_timeout))?;
            tracing::info!("the PostgreSQL writer reconnected");
            self.conn = Some(conn);
        }
        match self.conn.as_mut() {
            Some(conn) => Ok((runtime, conn)),
            None => Err(Error::backend("postgres", "writing", "no connection")),
        }
    }

    /// Applies a batch in one transaction; runs to its end once started.
    pub(crate) fn apply(&mut self, batch: &[Mutation]) -> Result<()> {
        let seen_at = persist_sql::now_micros();
        let leases = Arc::clone(&self.leases);
        let (runtime, conn) = self.parts()?;
        let outcome = (|| {
            runtime
                .block_on(sqlx::raw_sql("BEGIN").execute(&mut *conn))
                .map_err(backend_error("starting a batch"))?;
            let rows = runtime
                .block_on(lease_rows(conn, &leases))
                .map_err(backend_error("reading the shard leases"))?;
            leases.check(&rows)?;
            let changes = persist_core::write::plan(&mut Committed { runtime, conn }, batch)?;
            runtime.block_on(crate::write::write_changes(conn, &changes, seen_at))?;
            runtime
                .block_on(sqlx::raw_sql("COMMIT").execute(&mut *conn))
                .map_err(backend_error("committing a batch"))?;
            Ok(())
        })();
        if outcome.is_err() {
            self.roll_back();
        }
        outcome
    }

    /// Records an application migration hook as run.
    pub(crate) fn record_hook(&mut self, hook: &AppliedHook) -> Result<()> {
        let (runtime, conn) = self.parts()?;
        let insert = sqlx::query(
            "INSERT INTO persist_hooks (version, name, applied_at) VALUES ($1, $2, $3) \
             ON CONFLICT (version) DO UPDATE SET name = excluded.name, applied_at = excluded.applied_at",
        )
        .bind(i32::try_from(hook.version).unwrap_or(i32::MAX))
        .bind(&hook.name)
        .bind(hook.applied_at.unix_micros());
        runtime
            .block_on(insert.execute(&mut *conn))
            .map_err(backend_error("recording a migration hook"))?;
        Ok(())
    }

    /// Ends a failed batch; a connection that cannot roll back is dropped
    /// and reconnected before the next batch (the server rolls it back).
    fn roll_back(&mut self) {
        let (Some(runtime), Some(conn)) = (self.runtime.as_ref(), self.conn.as_mut()) else {
            return;
        };
        if let Err(error) = runtime.block_on(sqlx::raw_sql("ROLLBACK").execute(&mut *conn)) {
            tracing::warn!(%error, "rolling back a failed batch failed; reconnecting before the next batch");
            self.conn = None;
        }
    }

    /// Closes the connection.
    pub(crate) fn close(&mut self) {
        if let (Some(runtime), Some(conn)) = (self.runtime.as_ref(), self.conn.take()) {
            let _ = runtime.block_on(conn.close());
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.conn = None;
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The lease rows of this process's shards, locked until the batch ends.
async fn lease_rows(conn: &mut PgConnection, leases: &Leases) -> sqlx::Result<Vec<LeaseRow>> {
    let shards: Vec<i32> = leases
        .shard_ids()
        .iter()
        .map(|s| i32::try_from(*s).unwrap_or(i32::MAX))
        .collect();
    let rows = sqlx::query(LEASE_ROWS)
        .bind(shards)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(LeaseRow {
                shard_id: u32::try_from(row.try_get::<i32, _>(0)?).unwrap_or(u32::MAX),
                owner: row.try_get(1)?,
                token: row.try_get(2)?,
            })
        })
        .collect()
}
