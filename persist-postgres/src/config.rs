//! How a PostgreSQL store is opened.

use std::time::Duration;

use persist_sql::lease::LeaseConfig;

/// Settings of a [`PostgresStore`](crate::PostgresStore).
///
/// ```
/// use persist_postgres::PostgresConfig;
/// use persist_sql::lease::LeaseConfig;
///
/// // A gateway process running shards 0 and 1 of 4.
/// let writer = PostgresConfig::new("postgres://localhost/bot", LeaseConfig::new([0, 1], 4));
/// // A dashboard: reads only.
/// let reader = PostgresConfig::read_only("postgres://localhost/bot");
/// assert!(reader.leases.is_none() && writer.leases.is_some());
/// ```
#[derive(Clone, Debug)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:port/database?...` (sqlx's URL syntax).
    pub url: String,
    /// The schema the tables live in (created when missing); the server's
    /// `search_path` when `None` (usually `public`). Letters, digits and
    /// `_` only.
    pub schema: Option<String>,
    /// The shards this process writes, and its leases on them; `None`
    /// opens the store read-only (a dashboard or a worker).
    pub leases: Option<LeaseConfig>,
    /// Read connections.
    pub readers: u32,
    /// How long connecting may take before it fails (and a read waits for
    /// a free connection).
    pub connect_timeout: Duration,
}

impl PostgresConfig {
    /// A writing process that runs the shards of `leases`.
    pub fn new(url: impl Into<String>, leases: LeaseConfig) -> Self {
        Self {
            url: url.into(),
            schema: None,
            leases: Some(leases),
            readers: 4,
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// A process that only reads.
    pub fn read_only(url: impl Into<String>) -> Self {
        Self {
            leases: None,
            ..Self::new(url, LeaseConfig::new([0], 1))
        }
    }

    /// The same, in this schema.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
}
