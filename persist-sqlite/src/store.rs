//! The SQLite store.

use std::time::Duration;

use async_trait::async_trait;
use persist_core::write::run_blocking;
use persist_core::{
    Answer, AppliedHook, ConfigError, Error, Migrations, Mutation, Query, Result, Store, Timestamp,
};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, Row};
use tokio::sync::Mutex;

use crate::config::SqliteConfig;
use crate::migrate;
use crate::writer::Writer;

/// The page cache per connection: 64 MiB (a negative size is in KiB).
pub const CACHE_SIZE_PRAGMA: &str = "-65536";

pub(crate) fn backend_error(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let context = context.into();
    move |e| Error::backend("sqlite", context, e)
}

/// A [`Store`] in one SQLite file: WAL journal, one writer connection, a
/// small pool of read connections.
///
/// Every batch is one `BEGIN IMMEDIATE ... COMMIT` transaction; once `apply`
/// returns, the batch survives a process crash (and a power loss with
/// [`Durability::PowerLoss`]). A crash mid-batch leaves none of it.
///
/// ```no_run
/// # async fn demo() -> Result<(), persist_core::Error> {
/// use persist_core::{Migrations, ReadApi};
/// let store = persist_sqlite::SqliteStore::open(
///     persist_sqlite::SqliteConfig::new("cache.db"),
///     &Migrations::new(),
/// ).await?;
/// let guilds = store.guild_ids().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    /// In-thread, behind an async lock: one batch at a time.
    writer: Mutex<Writer>,
    readers: SqlitePool,
    path: String,
}

impl SqliteStore {
    /// Opens (creating if missing) the database, brings its schema up to
    /// date, then runs the application's hooks. A database written by newer
    /// code is refused with [`Error::SchemaTooNew`] and left untouched.
    pub async fn open(config: SqliteConfig, migrations: &Migrations) -> Result<Self> {
        Self::open_at(config, migrations, None).await
    }

    /// Like [`SqliteStore::open`], stopping the schema at `version` (to build
    /// old databases in tests).
    #[doc(hidden)]
    pub async fn open_at(
        config: SqliteConfig,
        migrations: &Migrations,
        version: Option<u32>,
    ) -> Result<Self> {
        if config.readers == 0 {
            return Err(ConfigError::OutOfRange {
                setting: "readers",
                min: 1,
                max: 64,
                value: 0,
            }
            .into());
        }
        // SQLite takes the timeout in milliseconds as a C int.
        let busy_ms = u64::try_from(config.busy_timeout.as_millis()).unwrap_or(u64::MAX);
        if busy_ms > i32::MAX as u64 {
            return Err(ConfigError::OutOfRange {
                setting: "busy_timeout (milliseconds)",
                min: 0,
                max: i32::MAX as u64,
                value: busy_ms,
            }
            .into());
        }
        let path = config.path.display().to_string();
        if let Some(parent) = config.path.parent().filter(|p| !p.as_os_str().is_empty())
            && !parent.is_dir()
        {
            return Err(Error::backend(
                "sqlite",
                format!("opening {path}"),
                format!("the directory {} does not exist", parent.display()),
            ));
        }
        let options = config.pragmas().into_iter().fold(
            SqliteConnectOptions::new()
                .filename(&config.path)
                .busy_timeout(config.busy_timeout)
                .statement_cache_capacity(256)
                .log_statements(tracing::log::LevelFilter::Trace),
            |options, (name, value)| options.pragma(name, value),
        );
        // The writer first: it refuses a file that is not a database or
        // that this process cannot write, before migrations touch it.
        let writer = run_blocking(|| Writer::open(&config, &path))?;
        let mut migrator = options
            .clone()
            .connect()
            .await
            .map_err(backend_error(format!("opening {path}")))?;
        let migrated = migrate::migrate(&mut migrator, version).await;
        let closed = migrator.close().await.map_err(backend_error(format!(
            "closing the migration connection to {path}"
        )));
        migrated.and(closed)?;
        let readers = SqlitePoolOptions::new()
            .max_connections(config.readers)
            .min_connections(0)
            .idle_timeout(Duration::from_secs(300))
            .connect_with(options.read_only(true))
            .await
            .map_err(backend_error(format!("opening read connections to {path}")))?;
        let store = Self {
            writer: Mutex::new(writer),
            readers,
            path,
        };
        migrations.run(&store).await?;
        Ok(store)
    }

    /// The database file's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs SQLite's `PRAGMA integrity_check`; `Ok(())` when it says "ok".
    pub async fn integrity_check(&self) -> Result<()> {
        let mut writer = self.writer.lock().await;
        let report = run_blocking(|| writer.integrity_check())?;
        if report == ["ok"] {
            Ok(())
        } else {
            Err(Error::Corrupt {
                key: self.path.clone(),
                reason: report.join("; "),
            })
        }
    }

    /// Closes the connections, checkpointing the WAL into the main file.
    pub async fn close(self) -> Result<()> {
        self.readers.close().await;
        let writer = self.writer.into_inner();
        run_blocking(|| writer.close())
    }

    pub(crate) fn readers(&self) -> &SqlitePool {
        &self.readers
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        let mut writer = self.writer.lock().await;
        run_blocking(|| writer.apply(batch))
    }

    async fn read(&self, query: &Query) -> Result<Answer> {
        persist_sql::read::answer(self, query).await
    }

    async fn schema_version(&self) -> Result<u32> {
        let mut reader = self
            .readers
            .acquire()
            .await
            .map_err(backend_error("reading the schema version"))?;
        migrate::stored_schema_version(&mut reader).await
    }

    async fn applied_hooks(&self) -> Result<Vec<AppliedHook>> {
        let rows =
            sqlx::query("SELECT version, name, applied_at FROM persist_hooks ORDER BY version")
                .fetch_all(&self.readers)
                .await
                .map_err(backend_error("reading applied hooks"))?;
        rows.iter()
            .map(|row| {
                Ok(AppliedHook {
                    version: u32::try_from(
                        row.try_get::<i64, _>(0)
                            .map_err(backend_error("reading applied hooks"))?,
                    )
                    .unwrap_or(0),
                    name: row
                        .try_get(1)
                        .map_err(backend_error("reading applied hooks"))?,
                    applied_at: Timestamp::from_unix_micros(
                        row.try_get(2)
                            .map_err(backend_error("reading applied hooks"))?,
                    ),
                })
            })
            .collect()
    }

    async fn record_hook(&self, hook: &AppliedHook) -> Result<()> {
        let mut writer = self.writer.lock().await;
        run_blocking(|| writer.record_hook(hook))
    }
}
