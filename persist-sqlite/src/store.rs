//! The SQLite store.

use std::time::Duration;

use async_trait::async_trait;
use persist_core::{
    Answer, AppliedHook, ConfigError, Error, Migrations, Mutation, Query, Result, Store, Timestamp,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions as _, Connection as _, Row, SqliteConnection};
use tokio::sync::Mutex;

use crate::config::{Durability, SqliteConfig};
use crate::migrate;

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
    writer: Mutex<SqliteConnection>,
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
        let synchronous = match config.durability {
            Durability::ProcessCrash => SqliteSynchronous::Normal,
            Durability::PowerLoss => SqliteSynchronous::Full,
        };
        let options = SqliteConnectOptions::new()
            .filename(&config.path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(config.busy_timeout)
            .foreign_keys(false)
            .statement_cache_capacity(256)
            .pragma("temp_store", "memory")
            // A cache's tables and indexes grow large; SQLite's default page
            // cache (2 MiB) turns index inserts into page faults.
            .pragma("cache_size", CACHE_SIZE_PRAGMA)
            .log_statements(tracing::log::LevelFilter::Trace);
        let mut writer = options
            .clone()
            .create_if_missing(true)
            .connect()
            .await
            .map_err(backend_error(format!("opening {path}")))?;
        // A file that is not a database fails here, before anything is written.
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .fetch_one(&mut writer)
            .await
            .map_err(backend_error(format!(
                "reading {path} (is it a SQLite database?)"
            )))?;
        migrate::migrate(&mut writer, version).await?;
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
        let rows = sqlx::query("PRAGMA integrity_check")
            .fetch_all(&mut *writer)
            .await
            .map_err(backend_error("running integrity_check"))?;
        let report: Vec<String> = rows
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .collect();
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
        self.writer
            .into_inner()
            .close()
            .await
            .map_err(backend_error("closing"))
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
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *writer)
            .await
            .map_err(backend_error(
                "starting a batch (is the database locked by another process?)",
            ))?;
        match crate::write::apply(&mut writer, batch).await {
            Ok(()) => match sqlx::query("COMMIT").execute(&mut *writer).await {
                Ok(_) => Ok(()),
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *writer).await;
                    Err(backend_error("committing a batch")(e))
                }
            },
            Err(e) => {
                if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *writer).await {
                    tracing::error!(error = %rollback, "rolling back a failed batch failed");
                }
                Err(e)
            }
        }
    }

    async fn read(&self, query: &Query) -> Result<Answer> {
        crate::read::answer(self, query).await
    }

    async fn schema_version(&self) -> Result<u32> {
        let mut writer = self.writer.lock().await;
        migrate::stored_schema_version(&mut writer).await
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
        sqlx::query(
            "INSERT OR REPLACE INTO persist_hooks (version, name, applied_at) VALUES (?1, ?2, ?3)",
        )
        .bind(i64::from(hook.version))
        .bind(&hook.name)
        .bind(hook.applied_at.unix_micros())
        .execute(&mut *writer)
        .await
        .map_err(backend_error("recording a migration hook"))?;
        Ok(())
    }
}
