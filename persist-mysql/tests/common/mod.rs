//! Stores of the tests: each in a database of its own on the test server
//! (`PERSIST_MYSQL_URL`, by default MariaDB on 127.0.0.1:3306, root with no
//! password, database `test`, which `.ci/run` starts).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use persist_core::testkit::StoreFactory;
use persist_core::{Error, Migrations, Result, Store};
use persist_mysql::{LeaseConfig, MySqlConfig, MySqlStore};
use sqlx::{Connection as _, MySqlConnection};

pub fn url() -> String {
    std::env::var("PERSIST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

pub async fn admin() -> MySqlConnection {
    MySqlConnection::connect(&url())
        .await
        .unwrap_or_else(|e| panic!("MySQL at {} must answer (.ci/run starts it): {e}", url()))
}

/// Drops every database whose name starts with `prefix`.
pub async fn drop_databases(prefix: &str) {
    let mut conn = admin().await;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE CONCAT(?, '%')",
    )
    .bind(prefix)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for name in names {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// A writer of shard 0 of 1 in `database`, owned by a name stable across
/// reopenings (a reopened store takes its lease back at once).
pub fn writer_config(database: &str) -> MySqlConfig {
    let mut leases = LeaseConfig::new([0], 1);
    leases.owner = format!("test-{database}");
    MySqlConfig::new(url(), leases).database(database)
}

/// A [`StoreFactory`] whose stores are databases named `prefix_<n>`.
pub struct MySqlFactory {
    prefix: String,
    names: Mutex<HashMap<String, usize>>,
}

impl MySqlFactory {
    pub async fn new(prefix: &str) -> Self {
        drop_databases(prefix).await;
        Self {
            prefix: prefix.into(),
            names: Mutex::new(HashMap::new()),
        }
    }

    pub fn database(&self, name: &str) -> String {
        let mut names = self.names.lock().unwrap();
        let next = names.len();
        let n = *names.entry(name.to_owned()).or_insert(next);
        format!("{}_{n}", self.prefix)
    }

    pub async fn clean_up(&self) {
        drop_databases(&self.prefix).await;
    }
}

#[async_trait]
impl StoreFactory for MySqlFactory {
    async fn open(&self, name: &str, migrations: &Migrations) -> Result<Arc<dyn Store>> {
        let config = writer_config(&self.database(name));
        Ok(Arc::new(MySqlStore::open(config, migrations).await?))
    }

    async fn make_schema_newer(&self, name: &str) -> Result<()> {
        let mut conn = admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {}.refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (999, 'from_the_future', '2030-01-01T00:00:00Z', '1')",
            self.database(name)
        )))
        .execute(&mut conn)
        .await
        .map_err(|e| Error::backend("mysql", "test", e))?;
        Ok(())
    }
}
