//! The writer connection of a server backend: one batch at a time, each one
//! transaction that checks the process's shard leases, plans the batch with
//! the cache's semantics over the committed rows, and writes the net
//! changes.
//!
//! The semantics read synchronously ([`persist_core::write::Engine`]), so
//! the connection lives on a small runtime of its own, driven from a thread
//! that may block ([`crate::off_runtime`]). A backend provides its
//! connection's primitives ([`Connector`]).

use std::future::Future;
use std::sync::Arc;

use persist_core::{AppliedHook, Error, Mutation, Result};
use tokio::runtime::Runtime;

use crate::lease::{LeaseRow, Leases};

/// What a server backend's writer connection does.
pub trait Connector: Send + 'static {
    /// The connection.
    type Conn: Send;

    /// The backend's name, for errors and logs.
    const BACKEND: &'static str;

    /// Connects (within the backend's connect timeout).
    fn connect(&self) -> impl Future<Output = Result<Self::Conn>> + Send;

    /// Runs a statement without results (`BEGIN`, `COMMIT`, `ROLLBACK`).
    fn execute(conn: &mut Self::Conn, sql: &'static str) -> impl Future<Output = Result<()>>;

    /// The lease rows of these shards, locked until the transaction ends.
    fn lease_rows(
        conn: &mut Self::Conn,
        shards: &[u32],
    ) -> impl Future<Output = Result<Vec<LeaseRow>>>;

    /// Plans the batch over the committed rows (reads run on `runtime`)
    /// and writes its net changes, inside the open transaction; `seen_at`
    /// versions the rows every process writes.
    fn write_batch(
        runtime: &Runtime,
        conn: &mut Self::Conn,
        batch: &[Mutation],
        seen_at: i64,
    ) -> Result<()>;

    /// Records an application migration hook as run.
    fn record_hook(conn: &mut Self::Conn, hook: &AppliedHook) -> impl Future<Output = Result<()>>;

    /// Closes the connection.
    fn close(conn: Self::Conn) -> impl Future<Output = ()>;
}

/// The one connection of a process that writes.
pub struct Writer<C: Connector> {
    // Some until dropped (shut down in the background: a runtime may not
    // be dropped where an async caller would block).
    runtime: Option<Runtime>,
    conn: Option<C::Conn>,
    connector: C,
    leases: Arc<Leases>,
}

impl<C: Connector> std::fmt::Debug for Writer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("backend", &C::BACKEND)
            .finish_non_exhaustive()
    }
}

impl<C: Connector> Writer<C> {
    /// Connects the writer on its own runtime (call through
    /// [`crate::off_runtime`]).
    pub fn open(connector: C, leases: Arc<Leases>) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name(format!("persist-{}-writer", C::BACKEND))
            .build()
            .map_err(|e| Error::backend(C::BACKEND, "starting the writer's runtime", e))?;
        let conn = runtime.block_on(connector.connect())?;
        Ok(Self {
            runtime: Some(runtime),
            conn: Some(conn),
            connector,
            leases,
        })
    }

    /// The runtime and a live connection (reconnecting after a failure).
    fn parts(&mut self) -> Result<(&Runtime, &mut C::Conn)> {
        let closed = || Error::backend(C::BACKEND, "writing", "the writer was closed");
        let runtime = self.runtime.as_ref().ok_or_else(closed)?;
        if self.conn.is_none() {
            let conn = runtime.block_on(self.connector.connect())?;
            tracing::info!(backend = C::BACKEND, "the writer reconnected");
            self.conn = Some(conn);
        }
        Ok((runtime, self.conn.as_mut().ok_or_else(closed)?))
    }

    /// Applies a batch in one transaction; runs to its end once started.
    pub fn apply(&mut self, batch: &[Mutation]) -> Result<()> {
        let seen_at = crate::now_micros();
        let leases = Arc::clone(&self.leases);
        let (runtime, conn) = self.parts()?;
        let outcome = (|| {
            runtime.block_on(C::execute(conn, "BEGIN"))?;
            let rows = runtime.block_on(C::lease_rows(conn, leases.shard_ids()))?;
            leases.check(&rows)?;
            C::write_batch(runtime, conn, batch, seen_at)?;
            runtime.block_on(C::execute(conn, "COMMIT"))
        })();
        if outcome.is_err() {
            self.roll_back();
        }
        outcome
    }

    /// Records an application migration hook as run.
    pub fn record_hook(&mut self, hook: &AppliedHook) -> Result<()> {
        let (runtime, conn) = self.parts()?;
        runtime.block_on(C::record_hook(conn, hook))
    }

    /// Ends a failed batch; a connection that cannot roll back is dropped
    /// and reconnected before the next batch (the server rolls it back).
    fn roll_back(&mut self) {
        let (Some(runtime), Some(conn)) = (self.runtime.as_ref(), self.conn.as_mut()) else {
            return;
        };
        if let Err(error) = runtime.block_on(C::execute(conn, "ROLLBACK")) {
            tracing::warn!(backend = C::BACKEND, %error, "rolling back a failed batch failed; reconnecting before the next batch");
            self.conn = None;
        }
    }

    /// Closes the connection.
    pub fn close(&mut self) {
        if let (Some(runtime), Some(conn)) = (self.runtime.as_ref(), self.conn.take()) {
            runtime.block_on(C::close(conn));
        }
    }
}

impl<C: Connector> Drop for Writer<C> {
    fn drop(&mut self) {
        self.conn = None;
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
