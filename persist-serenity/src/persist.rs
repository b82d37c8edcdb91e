//! [`Persist`]: the cache as a serenity bot holds it.

use std::sync::Arc;

use persist_core::{Cache, CacheStats, Result};
use serde_json::Value;
use serenity::gateway::ShardMessenger;
use serenity::model::event::Event;

use crate::PersistBuilder;
use crate::convert::IntoCore;
use crate::tap::{GatewayStats, Tap};

/// A persistent cache plugged into serenity: the [`Cache`] (store, ruleset,
/// write pipeline) plus what the gateway side keeps (session, member
/// requests, counters). Cloning is cheap; clones share everything.
///
/// Open one with [`Persist::builder`] (or the `open_*` shorthands), plug it
/// into a client with [`ClientBuilderExt::persist`](crate::ClientBuilderExt::persist)
/// and read it with serenity's ids and models ([`Persist::guild`],
/// [`Persist::member`], [`Persist::message`], ...): reads see every event
/// already received, committed or not. The same reads in persist-core's
/// types are [`Persist::cache`]'s ([`ReadApi`](crate::ReadApi)).
///
/// ```
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// use persist_serenity::prelude::*;
/// use serenity::all::GuildId;
/// let persist = Persist::builder().memory().open().await?;
/// persist.apply_dispatch("GUILD_CREATE", &serde_json::json!({"id": "1", "name": "ferris club"}));
/// assert_eq!(persist.guild(GuildId::new(1)).await?.unwrap().name, "ferris club");
/// assert_eq!(persist.stats().gateway.applied, 1);
/// persist.shutdown().await?;
/// # Ok::<(), PersistError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Persist {
    tap: Arc<Tap>,
}

impl std::fmt::Debug for Persist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persist")
            .field("cache", self.tap.cache())
            .finish_non_exhaustive()
    }
}

/// Everything the cache counts.
#[derive(Debug, Clone)]
pub struct PersistStats {
    /// The write pipeline's counters.
    pub cache: CacheStats,
    /// The gateway side's counters (events seen, applied, recovered, failed).
    pub gateway: GatewayStats,
}

impl Persist {
    /// Wraps a started cache.
    pub fn new(cache: Cache) -> Self {
        Self {
            tap: Arc::new(Tap::new(cache)),
        }
    }

    /// Starts a [`PersistBuilder`]: the store, the ruleset, the pipeline
    /// settings and the migration hooks, then [`PersistBuilder::open`].
    pub fn builder() -> PersistBuilder {
        PersistBuilder::default()
    }

    /// Opens (or creates) a SQLite cache at `path` with the default
    /// ruleset and pipeline settings; its migrations and `migrations` (the
    /// application's hooks) run first. Must be called within a tokio runtime.
    /// Shorthand for `Persist::builder().sqlite(path).migrations(..).open()`.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub async fn open_sqlite(
        path: impl AsRef<std::path::Path>,
        migrations: &persist_core::Migrations,
    ) -> Result<Self> {
        Self::builder()
            .sqlite(path.as_ref())
            .migrations(migrations.clone())
            .open()
            .await
    }

    /// Opens (or creates) a redb cache file at `path` with the default
    /// ruleset, pipeline settings and page cache, after its layout upgrades
    /// and `migrations` (the application's hooks). Must be called within a
    /// tokio runtime.
    #[cfg(feature = "redb")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redb")))]
    pub async fn open_redb(
        path: impl AsRef<std::path::Path>,
        migrations: &persist_core::Migrations,
    ) -> Result<Self> {
        Self::builder()
            .redb(path.as_ref(), persist_redb::DEFAULT_CACHE_BYTES)
            .migrations(migrations.clone())
            .open()
            .await
    }

    /// Opens (or creates) a sled cache directory at `path` with the default
    /// ruleset, pipeline settings and page cache, after its layout upgrades
    /// and `migrations` (the application's hooks). Must be called within a
    /// tokio runtime.
    #[cfg(feature = "sled")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sled")))]
    pub async fn open_sled(
        path: impl AsRef<std::path::Path>,
        migrations: &persist_core::Migrations,
    ) -> Result<Self> {
        Self::builder()
            .sled(path.as_ref(), persist_sled::DEFAULT_CACHE_BYTES)
            .migrations(migrations.clone())
            .open()
            .await
    }

    /// Opens a cache in a PostgreSQL database shared with other processes,
    /// with the default ruleset and pipeline settings: this process writes
    /// the shards of `shards` (leased, see `persist_postgres`), or only
    /// reads when `shards` is `None` (a dashboard, a worker). The schema's
    /// migrations and `migrations` (the application's hooks) run first.
    ///
    /// `shards` must name exactly the shards the client runs. serenity's
    /// `Client::start_shard_range` includes the range's end:
    /// `start_shard_range(0..1, 4)` runs shards 0 and 1, so
    /// `LeaseConfig::new([0, 1], 4)`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// use persist_serenity::{LeaseConfig, Migrations, Persist};
    /// // This process runs shards 0 and 1 of 4.
    /// let persist = Persist::open_postgres(
    ///     "postgres://bot@localhost/bot",
    ///     Some(LeaseConfig::new([0, 1], 4)),
    ///     &Migrations::new(),
    /// ).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub async fn open_postgres(
        url: &str,
        shards: Option<persist_sql::lease::LeaseConfig>,
        migrations: &persist_core::Migrations,
    ) -> Result<Self> {
        Self::builder()
            .postgres(url, shards)
            .migrations(migrations.clone())
            .open()
            .await
    }

    /// Opens a cache in a MySQL or MariaDB database shared with other
    /// processes, like [`Persist::open_postgres`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// use persist_serenity::{Migrations, Persist};
    /// let dashboard = Persist::open_mysql("mysql://bot@localhost/bot", None, &Migrations::new()).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub async fn open_mysql(
        url: &str,
        shards: Option<persist_sql::lease::LeaseConfig>,
        migrations: &persist_core::Migrations,
    ) -> Result<Self> {
        Self::builder()
            .mysql(url, shards)
            .migrations(migrations.clone())
            .open()
            .await
    }

    /// The cache underneath.
    pub fn cache(&self) -> &Cache {
        self.tap.cache()
    }

    pub(crate) fn tap(&self) -> Arc<Tap> {
        Arc::clone(&self.tap)
    }

    /// The pipeline's and the gateway side's counters.
    pub fn stats(&self) -> PersistStats {
        PersistStats {
            cache: self.cache().stats(),
            gateway: self.tap.stats(),
        }
    }

    /// Applies one gateway event as the shard would (for replays and for
    /// bots that feed events themselves).
    pub fn apply_event(&self, event: &Event) {
        self.tap.apply_event(event);
    }

    /// Applies one raw dispatch: its event name and its `d` object.
    pub fn apply_dispatch(&self, event: &str, data: &Value) {
        self.tap.apply(event, data, false);
    }

    /// Asks the shard for every member of a guild. When every chunk of the
    /// answer has arrived, members the store has but the answer did not list
    /// are removed: a complete list is the only one members are pruned from.
    /// Needs the `GUILD_MEMBERS` intent.
    pub fn request_all_members(
        &self,
        shard: &ShardMessenger,
        guild_id: impl Into<serenity::model::id::GuildId>,
    ) {
        self.tap
            .request_all_members(shard, guild_id.into().into_core());
    }

    /// Returns once everything received so far is durable.
    pub async fn flush(&self) -> Result<()> {
        self.cache().flush().await
    }

    /// Commits what is queued and stops the writer, then closes a server
    /// store (ending its shard leases, so another process may take the
    /// shards at once). Call before exiting.
    pub async fn shutdown(&self) -> Result<()> {
        self.cache().shutdown().await
    }
}
