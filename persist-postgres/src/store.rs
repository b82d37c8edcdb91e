//! The PostgreSQL store.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use persist_core::{
    Answer, AppliedHook, ConfigError, Error, Migrations, Mutation, Query, Result, Store,
};
use persist_sql::SharedWriter;
use persist_sql::lease::Leases;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, PgConnection};

use crate::config::PostgresConfig;
use crate::lease::PgLeases;
use crate::migrate;
use crate::writer::PgConnector;

pub(crate) fn backend_error(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
    let context = context.into();
    move |e| Error::backend("postgres", context, e)
}

/// Connects within `timeout`, saying where to (never the password).
pub(crate) async fn connect(options: &PgConnectOptions, timeout: Duration) -> Result<PgConnection> {
    let place = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    );
    persist_sql::server::connect_within("postgres", options, place, timeout).await
}

/// Parses the URL and schema into connection options; neither error
/// repeats the URL (it may hold a password).
fn options(config: &PostgresConfig) -> Result<PgConnectOptions> {
    let options: PgConnectOptions =
        config
            .url
            .parse()
            .map_err(|e: sqlx::Error| ConfigError::Invalid {
                setting: "PostgreSQL URL",
                reason: format!("{e} (expected postgres://user:password@host:port/database)"),
            })?;
    let options = options
        .statement_cache_capacity(256)
        .log_statements(tracing::log::LevelFilter::Trace);
    Ok(match &config.schema {
        Some(schema) => {
            persist_sql::server::check_plain_name("PostgreSQL schema", schema, 63)?;
            options.options([("search_path", schema.as_str())])
        }
        None => options,
    })
}

/// A [`Store`] in a PostgreSQL database, shared by several processes: each
/// writing process owns its shards through leases, and every batch commits
/// only while its leases are current (see the crate docs).
///
/// ```no_run
/// # async fn demo() -> Result<(), persist_core::Error> {
/// use persist_core::{Migrations, ReadApi};
/// use persist_postgres::{PostgresConfig, PostgresStore};
/// use persist_sql::lease::LeaseConfig;
///
/// let config = PostgresConfig::new("postgres://localhost/bot", LeaseConfig::new([0, 1], 4));
/// let store = PostgresStore::open(config, &Migrations::new()).await?;
/// let guilds = store.guild_ids().await?;
/// store.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PostgresStore {
    writer: SharedWriter<PgConnector>,
    readers: PgPool,
}

impl PostgresStore {
    /// Connects, brings the schema up to date (a writing process; a
    /// read-only one refuses a schema that is not this code's), takes the
    /// leases of its shards (waiting up to `acquire_timeout` for shards
    /// another live process holds), then runs the application's hooks. A
    /// database written by newer code is refused with
    /// [`Error::SchemaTooNew`] and left untouched.
    pub async fn open(config: PostgresConfig, migrations: &Migrations) -> Result<Self> {
        Self::open_at(config, migrations, None).await
    }

    /// Like [`PostgresStore::open`], stopping the schema at `version` (to
    /// build old databases in tests).
    #[doc(hidden)]
    pub async fn open_at(
        config: PostgresConfig,
        migrations: &Migrations,
        version: Option<u32>,
    ) -> Result<Self> {
        persist_sql::server::check_readers(config.readers)?;
        if let Some(leases) = &config.leases {
            leases.validate()?;
        }
        let options = options(&config)?;
        let mut setup = connect(&options, config.connect_timeout).await?;
        let prepared = prepare(&mut setup, &config, version).await;
        let _ = setup.close().await;
        prepared?;
        let readers = PgPoolOptions::new()
            .max_connections(config.readers)
            .min_connections(0)
            .acquire_timeout(config.connect_timeout)
            .idle_timeout(Duration::from_secs(300))
            .connect_with(match config.leases {
                Some(_) => options.clone(),
                None => options
                    .clone()
                    .options([("default_transaction_read_only", "on")]),
            })
            .await
            .map_err(backend_error("opening read connections"))?;
        let writer = match config.leases {
            None => SharedWriter::read_only(),
            Some(leases) => {
                let connector = PgConnector {
                    options,
                    timeout: config.connect_timeout,
                };
                let table = Arc::new(PgLeases(readers.clone()));
                SharedWriter::start(connector, table, leases).await?
            }
        };
        let store = Self { writer, readers };
        if store.is_read_only() {
            return Ok(store);
        }
        migrations.run(&store).await?;
        Ok(store)
    }

    /// Whether the store was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.writer.is_read_only()
    }

    /// This process's leases (`None` when read-only): the shards it holds,
    /// whether it was fenced, how many batches the fence refused.
    pub fn leases(&self) -> Option<&Leases> {
        self.writer.leases()
    }

    /// Ends the leases (another process may take the shards at once) and
    /// closes the connections: nothing more can be written or read.
    pub async fn close(&self) -> Result<()> {
        let closed = self.writer.close().await;
        self.readers.close().await;
        closed
    }

    pub(crate) fn readers(&self) -> &PgPool {
        &self.readers
    }
}

/// Creates the schema and migrates it (a writer), or checks that it is
/// this code's (read-only).
async fn prepare(
    conn: &mut PgConnection,
    config: &PostgresConfig,
    version: Option<u32>,
) -> Result<()> {
    if config.leases.is_none() {
        let found = migrate::stored_schema_version(conn).await?;
        return persist_sql::server::check_read_only_schema(
            "postgres",
            found,
            migrate::code_schema_version(),
        );
    }
    migrate::migrate(conn, config.schema.as_deref(), version).await
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        self.writer.apply(batch).await
    }

    async fn read(&self, query: &Query) -> Result<Answer> {
        persist_sql::read::answer(self, query).await
    }

    async fn schema_version(&self) -> Result<u32> {
        let mut conn = self
            .readers
            .acquire()
            .await
            .map_err(backend_error("reading the schema version"))?;
        migrate::stored_schema_version(&mut conn).await
    }

    async fn applied_hooks(&self) -> Result<Vec<AppliedHook>> {
        let rows: Vec<(i32, String, i64)> = sqlx::query_as(persist_sql::server::APPLIED_HOOKS)
            .fetch_all(&self.readers)
            .await
            .map_err(backend_error("reading applied hooks"))?;
        Ok(rows
            .into_iter()
            .map(|(version, name, at)| persist_sql::server::applied_hook(version, name, at))
            .collect())
    }

    async fn record_hook(&self, hook: &AppliedHook) -> Result<()> {
        self.writer.record_hook(hook).await
    }

    async fn close(&self) -> Result<()> {
        PostgresStore::close(self).await
    }
}
