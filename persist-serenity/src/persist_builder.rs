//! [`PersistBuilder`]: every way to open a cache, in one place.

use std::path::PathBuf;
use std::sync::Arc;

use persist_core::{
    Cache, CacheConfig, ConfigError, MemoryStore, Migrations, Result, Ruleset, Store,
};

use crate::Persist;

/// Which store a [`PersistBuilder`] opens, with the store's own settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum StoreChoice {
    /// In memory: gone when the process exits (tests, throwaway bots).
    Memory,
    /// One SQLite file (feature `sqlite`, the default).
    #[cfg(feature = "sqlite")]
    Sqlite(persist_sqlite::SqliteConfig),
    /// One redb file (feature `redb`), with its page cache in bytes.
    #[cfg(feature = "redb")]
    Redb {
        /// The file; created when missing.
        path: PathBuf,
        /// The page cache, in bytes.
        cache_bytes: usize,
    },
    /// One sled directory (feature `sled`), with its page cache in bytes.
    #[cfg(feature = "sled")]
    Sled {
        /// The directory; created when missing.
        path: PathBuf,
        /// The page cache, in bytes.
        cache_bytes: usize,
    },
    /// A PostgreSQL database shared by shard processes (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(persist_postgres::PostgresConfig),
    /// A MySQL / MariaDB database shared by shard processes (feature `mysql`).
    #[cfg(feature = "mysql")]
    MySql(persist_mysql::MySqlConfig),
}

/// Opens a [`Persist`]: the store and its settings, the [`Ruleset`] (what is
/// cached), the [`CacheConfig`] (batching, memory) and the application's
/// migration hooks. Start with [`Persist::builder`]; every setting can also
/// come from a configuration file or the environment
/// ([`PersistConfig`](crate::PersistConfig)).
///
/// Everything is checked before the store is touched: a rejected value is
/// an [`Error::Config`](crate::Error::Config) naming the setting, the value
/// and what is allowed, and no file is created.
///
/// ```
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use persist_serenity::prelude::*;
/// let dir = tempfile::tempdir()?;
/// let persist = Persist::builder()
///     .sqlite(dir.path().join("bot-cache.db"))
///     .ruleset(
///         Ruleset::builder()
///             .resources(ResourceKind::default() | ResourceKind::PRESENCES)
///             .message_cap(200)
///             .message_max_age(Duration::from_secs(30 * 86_400))
///             .build()?,
///     )
///     .cache_config(CacheConfig {
///         batch_delay: Duration::from_millis(20),
///         ..Default::default()
///     })
///     .open()
///     .await?;
/// assert_eq!(persist.cache().rules().message_cap(), 200);
/// persist.shutdown().await?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until opened"]
pub struct PersistBuilder {
    store: Option<StoreChoice>,
    rules: Ruleset,
    cache: CacheConfig,
    migrations: Migrations,
}

impl PersistBuilder {
    /// Keeps the cache in memory only (nothing survives a restart).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let persist = persist_serenity::Persist::builder().memory().open().await?;
    /// assert_eq!(persist.cache().store().backend(), "memory");
    /// # Ok::<(), persist_serenity::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn memory(self) -> Self {
        self.store(StoreChoice::Memory)
    }

    /// Stores in the SQLite file at `path` (created when missing) with
    /// the default [`SqliteConfig`](persist_sqlite::SqliteConfig).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// let persist = persist_serenity::Persist::builder().sqlite("bot-cache.db").open().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn sqlite(self, path: impl Into<PathBuf>) -> Self {
        self.sqlite_config(persist_sqlite::SqliteConfig::new(path))
    }

    /// Stores in SQLite with every setting of the store's own: read
    /// connections, lock timeout, durability.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// use persist_serenity::sqlite::{Durability, SqliteConfig};
    /// let persist = persist_serenity::Persist::builder()
    ///     .sqlite_config(SqliteConfig {
    ///         durability: Durability::PowerLoss,
    ///         readers: 8,
    ///         ..SqliteConfig::new("bot-cache.db")
    ///     })
    ///     .open()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn sqlite_config(self, config: persist_sqlite::SqliteConfig) -> Self {
        self.store(StoreChoice::Sqlite(config))
    }

    /// Stores in the redb file at `path` with a page cache of
    /// `cache_bytes` ([`persist_redb::DEFAULT_CACHE_BYTES`] is 64 MiB).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// let persist = persist_serenity::Persist::builder()
    ///     .redb("bot-cache.redb", persist_serenity::redb::DEFAULT_CACHE_BYTES)
    ///     .open()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "redb")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redb")))]
    pub fn redb(self, path: impl Into<PathBuf>, cache_bytes: usize) -> Self {
        self.store(StoreChoice::Redb {
            path: path.into(),
            cache_bytes,
        })
    }

    /// Stores in the sled directory at `path` with a page cache of
    /// `cache_bytes`. sled 0.34 has had no release since 2021: prefer
    /// SQLite or redb for new bots.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// let persist = persist_serenity::Persist::builder()
    ///     .sled("bot-cache.sled", 64 << 20)
    ///     .open()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "sled")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sled")))]
    pub fn sled(self, path: impl Into<PathBuf>, cache_bytes: usize) -> Self {
        self.store(StoreChoice::Sled {
            path: path.into(),
            cache_bytes,
        })
    }

    /// Stores in a PostgreSQL database shared with other shard processes:
    /// this process writes the shards of `shards`, or only reads with
    /// `None` (see [`Persist::open_postgres`]).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// use persist_serenity::LeaseConfig;
    /// let persist = persist_serenity::Persist::builder()
    ///     .postgres("postgres://bot@localhost/bot", Some(LeaseConfig::new([0, 1], 4)))
    ///     .open()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn postgres(self, url: &str, shards: Option<persist_sql::lease::LeaseConfig>) -> Self {
        self.postgres_config(match shards {
            Some(shards) => persist_postgres::PostgresConfig::new(url, shards),
            None => persist_postgres::PostgresConfig::read_only(url),
        })
    }

    /// Stores in PostgreSQL with every setting of the store's own.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// use persist_serenity::{LeaseConfig, postgres::PostgresConfig};
    /// let config = PostgresConfig::new("postgres://bot@localhost/bot", LeaseConfig::new([0], 1));
    /// let persist = persist_serenity::Persist::builder().postgres_config(config).open().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn postgres_config(self, config: persist_postgres::PostgresConfig) -> Self {
        self.store(StoreChoice::Postgres(config))
    }

    /// Stores in a MySQL / MariaDB database shared with other shard
    /// processes, like [`PersistBuilder::postgres`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// let dashboard = persist_serenity::Persist::builder()
    ///     .mysql("mysql://bot@localhost/bot", None)
    ///     .open()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn mysql(self, url: &str, shards: Option<persist_sql::lease::LeaseConfig>) -> Self {
        self.mysql_config(match shards {
            Some(shards) => persist_mysql::MySqlConfig::new(url, shards),
            None => persist_mysql::MySqlConfig::read_only(url),
        })
    }

    /// Stores in MySQL / MariaDB with every setting of the store's own.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), persist_serenity::Error> {
    /// use persist_serenity::{LeaseConfig, mysql::MySqlConfig};
    /// let config = MySqlConfig::new("mysql://bot@localhost/bot", LeaseConfig::new([0], 1));
    /// let persist = persist_serenity::Persist::builder().mysql_config(config).open().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn mysql_config(self, config: persist_mysql::MySqlConfig) -> Self {
        self.store(StoreChoice::MySql(config))
    }

    /// The store to open, as a value (what the `sqlite`, `redb`, ...
    /// methods set).
    pub fn store(mut self, store: StoreChoice) -> Self {
        self.store = Some(store);
        self
    }

    /// What is cached: resource kinds, guild filters, message caps and
    /// ages, content mode ([`Ruleset::default`] caches everything but
    /// presences).
    ///
    /// ```
    /// use persist_serenity::prelude::*;
    /// let builder = Persist::builder()
    ///     .memory()
    ///     .ruleset(Ruleset::builder().message_cap(50).build().unwrap());
    /// ```
    pub fn ruleset(mut self, rules: Ruleset) -> Self {
        self.rules = rules;
        self
    }

    /// How writes are batched and retried and how much memory the cache
    /// holds ([`CacheConfig::default`] commits every 50 ms).
    ///
    /// ```
    /// use persist_serenity::prelude::*;
    /// let builder = Persist::builder().memory().cache_config(CacheConfig {
    ///     memory_budget: 1 << 30,
    ///     ..Default::default()
    /// });
    /// ```
    pub fn cache_config(mut self, config: CacheConfig) -> Self {
        self.cache = config;
        self
    }

    /// The application's migration hooks, run once each when the store
    /// opens (after the store's own migrations).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// use persist_serenity::prelude::*;
    /// let migrations = Migrations::new().hook(1, "greet", |_store| Box::pin(async { Ok(()) }));
    /// let persist = Persist::builder().memory().migrations(migrations).open().await?;
    /// assert_eq!(persist.cache().store().applied_hooks().await?.len(), 1);
    /// # Ok::<(), persist_serenity::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn migrations(mut self, migrations: Migrations) -> Self {
        self.migrations = migrations;
        self
    }

    /// Takes every setting a configuration file or the environment gave
    /// (see [`PersistConfig`](crate::PersistConfig)); settings it leaves out
    /// keep what the builder had.
    pub fn config(self, config: crate::PersistConfig) -> Result<Self> {
        config.apply(self)
    }

    /// Checks every setting, opens the store (running its migrations and
    /// the hooks) and starts the cache. Must be called within a tokio
    /// runtime.
    pub async fn open(self) -> Result<Persist> {
        // Checked here as well as by the cache: before the store makes a file.
        self.cache.validate()?;
        let Some(store) = self.store else {
            return Err(ConfigError::Invalid {
                setting: "store",
                reason: "no store chosen: call .sqlite(path), .redb(path, cache), \
                         .sled(path, cache), .postgres(url, shards), .mysql(url, shards) \
                         or .memory()"
                    .into(),
            }
            .into());
        };
        let migrations = &self.migrations;
        let store: Arc<dyn Store> = match store {
            StoreChoice::Memory => Arc::new(MemoryStore::open(migrations).await?),
            #[cfg(feature = "sqlite")]
            StoreChoice::Sqlite(config) => {
                Arc::new(persist_sqlite::SqliteStore::open(config, migrations).await?)
            }
            #[cfg(feature = "redb")]
            StoreChoice::Redb { path, cache_bytes } => Arc::new(
                persist_redb::RedbStore::open_with_cache(path, cache_bytes, migrations).await?,
            ),
            #[cfg(feature = "sled")]
            StoreChoice::Sled { path, cache_bytes } => Arc::new(
                persist_sled::SledStore::open_with_cache(path, cache_bytes, migrations).await?,
            ),
            #[cfg(feature = "postgres")]
            StoreChoice::Postgres(config) => {
                Arc::new(persist_postgres::PostgresStore::open(config, migrations).await?)
            }
            #[cfg(feature = "mysql")]
            StoreChoice::MySql(config) => {
                Arc::new(persist_mysql::MySqlStore::open(config, migrations).await?)
            }
        };
        let cache = Cache::from_arc(store, self.rules, self.cache)?;
        let backend = cache.store().backend();
        tracing::info!(
            backend,
            message_cap = cache.rules().message_cap(),
            resources = ?cache.rules().resources(),
            "cache opened"
        );
        Ok(Persist::new(cache))
    }
}
