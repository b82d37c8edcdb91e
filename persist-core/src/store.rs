//! The `Store` trait every storage engine implements.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Answer, Mutation, Query, Result, Timestamp};

/// A boxed, sendable future (what migration hooks return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An application migration hook that has run, as the store records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedHook {
    /// The hook's version (unique, from 1).
    pub version: u32,
    /// The hook's name.
    pub name: String,
    /// When it finished.
    pub applied_at: Timestamp,
}

/// A storage engine behind a cache.
///
/// Object-safe: the pipeline holds an `Arc<dyn Store>`. Implementations:
/// - apply each batch atomically and durably before `apply` returns (a crash
///   afterwards never loses it, a crash during it leaves none of it);
/// - run their own schema migrations when opened, refusing a schema newer
///   than the code with [`Error::SchemaTooNew`](crate::Error::SchemaTooNew)
///   before writing anything, then call [`Migrations::run`](crate::Migrations::run);
/// - pass `testkit::run_conformance` (feature `testkit`).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The backend's name, for logs and errors ("memory", "sqlite", ...).
    fn backend(&self) -> &'static str;

    /// Applies a batch of mutations atomically and in order.
    async fn apply(&self, batch: &[Mutation]) -> Result<()>;

    /// Answers one read.
    async fn read(&self, query: &Query) -> Result<Answer>;

    /// The version of the store's own schema as found in the store.
    async fn schema_version(&self) -> Result<u32>;

    /// The application migration hooks recorded as run.
    async fn applied_hooks(&self) -> Result<Vec<AppliedHook>>;

    /// Records that an application migration hook has run.
    async fn record_hook(&self, hook: &AppliedHook) -> Result<()>;

    /// Releases the store once the last batch is committed: checkpoints
    /// and closes files (an embedded store leaves no journal behind),
    /// ends leases other processes wait for, and lets the same process
    /// open the store again. [`Cache::shutdown`](crate::Cache::shutdown)
    /// calls it once. Afterwards writes fail; a second call does nothing.
    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl<S: Store + ?Sized> Store for Arc<S> {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }

    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        (**self).apply(batch).await
    }

    async fn read(&self, query: &Query) -> Result<Answer> {
        (**self).read(query).await
    }

    async fn schema_version(&self) -> Result<u32> {
        (**self).schema_version().await
    }

    async fn applied_hooks(&self) -> Result<Vec<AppliedHook>> {
        (**self).applied_hooks().await
    }

    async fn record_hook(&self, hook: &AppliedHook) -> Result<()> {
        (**self).record_hook(hook).await
    }

    async fn close(&self) -> Result<()> {
        (**self).close().await
    }
}
