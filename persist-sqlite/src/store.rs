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
use crate::open_files::OpenFile;
use crate::writer::Writer;

/// The most read connections a store opens.
pub const MAX_READERS: u32 = 64;

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
/// [`Durability::PowerLoss`](crate::Durability::PowerLoss)). A crash mid-batch leaves none of it.
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
    /// In-thread, behind an async lock: one batch at a time. `None` once
    /// closed.
    writer: Mutex<Option<Writer>>,
    readers: SqlitePool,
    path: String,
    /// Held until closed, so this process opens the file once at a time.
    open_file: std::sync::Mutex<Option<OpenFile>>,
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
        if !(1..=MAX_READERS).contains(&config.readers) {
            return Err(ConfigError::OutOfRange {
                setting: "readers",
                min: 1,
                max: u64::from(MAX_READERS),
                value: u64::from(config.readers),
            }
            .into());
        }
        if config.path.as_os_str().is_empty() {
            return Err(ConfigError::Invalid {
                setting: "path",
                reason: "the database path is empty: name a file, such as \"bot-cache.db\"".into(),
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
        let open_file = match OpenFile::claim(&config.path) {
            Ok(claimed) => claimed,
            Err(refused) => {
                // Closing our own connection leaves the other store's file as it was.
                let _ = run_blocking(|| writer.close());
                return Err(refused);
            }
        };
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
            writer: Mutex::new(Some(writer)),
            readers,
            path,
            open_file: std::sync::Mutex::new(Some(open_file)),
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
        let writer = self.open_writer(&mut writer)?;
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

    /// Closes the connections, checkpointing the WAL into the main file
    /// (the `-wal` and `-shm` files are removed), and lets this process open
    /// the file again. Writes fail afterwards; a second call does nothing.
    /// [`Cache::shutdown`](persist_core::Cache::shutdown) calls it.
    pub async fn close(&self) -> Result<()> {
        let mut writer = self.writer.lock().await;
        self.readers.close().await;
        let closed = match writer.take() {
            Some(open) => run_blocking(|| open.close()),
            None => Ok(()),
        };
        // Released even if closing failed: the connection is gone either way.
        drop(
            self.open_file
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        if closed.is_ok() {
            tracing::info!(path = %self.path, "SQLite store closed");
        }
        closed
    }

    /// The writer, or an error once the store is closed.
    fn open_writer<'w>(&self, writer: &'w mut Option<Writer>) -> Result<&'w mut Writer> {
        writer.as_mut().ok_or_else(|| {
            Error::backend(
                "sqlite",
                format!("writing {}", self.path),
                "the store is closed (the cache was shut down)",
            )
        })
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
        let writer = self.open_writer(&mut writer)?;
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
        let writer = self.open_writer(&mut writer)?;
        run_blocking(|| writer.record_hook(hook))
    }

    async fn close(&self) -> Result<()> {
        SqliteStore::close(self).await
    }
}
