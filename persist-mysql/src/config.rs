//! How a MySQL store is opened.

use std::time::Duration;

use persist_sql::lease::LeaseConfig;

/// Settings of a [`MySqlStore`](crate::MySqlStore).
///
/// ```
/// use persist_mysql::{LeaseConfig, MySqlConfig};
///
/// // A gateway process running shards 2 and 3 of 4.
/// let writer = MySqlConfig::new("mysql://bot@localhost/bot", LeaseConfig::new([2, 3], 4));
/// // A dashboard: reads only.
/// let reader = MySqlConfig::read_only("mysql://bot@localhost/bot");
/// assert!(reader.leases.is_none() && writer.leases.is_some());
/// ```
#[derive(Clone, Debug)]
pub struct MySqlConfig {
    /// `mysql://user:password@host:port/database` (sqlx's URL syntax).
    pub url: String,
    /// The database the tables live in (created when missing), instead of
    /// the URL's. Letters, digits and `_` only.
    pub database: Option<String>,
    /// The shards this process writes, and its leases on them; `None`
    /// opens the store read-only (a dashboard or a worker).
    pub leases: Option<LeaseConfig>,
    /// Read connections.
    pub readers: u32,
    /// How long connecting may take before it fails (and a read waits for
    /// a free connection).
    pub connect_timeout: Duration,
}

impl MySqlConfig {
    /// A writing process that runs the shards of `leases`.
    pub fn new(url: impl Into<String>, leases: LeaseConfig) -> Self {
        Self {
            url: url.into(),
            database: None,
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

    /// The same, in this database.
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }
}
