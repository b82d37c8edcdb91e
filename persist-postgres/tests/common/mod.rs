//! Stores of the tests: each in a schema of its own in the test database
//! (`PERSIST_POSTGRES_URL`, by default PostgreSQL on 127.0.0.1:5432, trust
//! authentication, database `test`, which `.ci/run` starts).
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use persist_core::testkit::StoreFactory;
use persist_core::{Error, Migrations, Result, Store};
use persist_postgres::{LeaseConfig, PostgresConfig, PostgresStore};
use sqlx::{Connection as _, PgConnection};

pub fn url() -> String {
    std::env::var("PERSIST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub async fn admin() -> PgConnection {
    PgConnection::connect(&url()).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {} must answer (.ci/run starts it): {e}",
            url()
        )
    })
}

/// Drops every schema whose name starts with `prefix`.
pub async fn drop_schemas(prefix: &str) {
    let mut conn = admin().await;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(prefix)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for name in names {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// A writer of shard 0 of 1 in `schema`, owned by a name stable across
/// reopenings (a reopened store takes its lease back at once).
pub fn writer_config(schema: &str) -> PostgresConfig {
    let mut leases = LeaseConfig::new([0], 1);
    leases.owner = format!("test-{schema}");
    PostgresConfig::new(url(), leases).schema(schema)
}

/// A [`StoreFactory`] whose stores are schemas named `prefix_<n>`.
pub struct PgFactory {
    prefix: String,
    names: Mutex<HashMap<String, usize>>,
}

impl PgFactory {
    pub async fn new(prefix: &str) -> Self {
        drop_schemas(prefix).await;
        Self {
            prefix: prefix.into(),
            names: Mutex::new(HashMap::new()),
        }
    }

    pub fn schema(&self, name: &str) -> String {
        let mut names = self.names.lock().unwrap();
        let next = names.len();
        let n = *names.entry(name.to_owned()).or_insert(next);
        format!("{}_{n}", self.prefix)
    }

    pub async fn clean_up(&self) {
        drop_schemas(&self.prefix).await;
    }
}

#[async_trait]
impl StoreFactory for PgFactory {
    async fn open(&self, name: &str, migrations: &Migrations) -> Result<Arc<dyn Store>> {
        let config = writer_config(&self.schema(name));
        Ok(Arc::new(PostgresStore::open(config, migrations).await?))
    }

    async fn make_schema_newer(&self, name: &str) -> Result<()> {
        let mut conn = admin().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {}.refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (999, 'from_the_future', '2030-01-01T00:00:00Z', '1')",
            self.schema(name)
        )))
        .execute(&mut conn)
        .await
        .map_err(|e| Error::backend("postgres", "test", e))?;
        Ok(())
    }
}
