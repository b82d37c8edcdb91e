//! The SQLite store passes the conformance kit every backend runs.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use persist_core::testkit::{StoreFactory, run_conformance};
use persist_core::{Migrations, Result, Store};
use persist_sqlite::{SqliteConfig, SqliteStore};
use sqlx::{ConnectOptions as _, Connection as _};

struct SqliteFactory {
    dir: tempfile::TempDir,
}

impl SqliteFactory {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.db"))
    }
}

#[async_trait]
impl StoreFactory for SqliteFactory {
    async fn open(&self, name: &str, migrations: &Migrations) -> Result<Arc<dyn Store>> {
        Ok(Arc::new(
            SqliteStore::open(SqliteConfig::new(self.path(name)), migrations).await?,
        ))
    }

    async fn make_schema_newer(&self, name: &str) -> Result<()> {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(self.path(name))
            .connect()
            .await
            .map_err(|e| persist_core::Error::backend("sqlite", "test", e))?;
        sqlx::query(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (999, 'from_the_future', '2030-01-01T00:00:00Z', '1')",
        )
        .execute(&mut conn)
        .await
        .map_err(|e| persist_core::Error::backend("sqlite", "test", e))?;
        conn.close()
            .await
            .map_err(|e| persist_core::Error::backend("sqlite", "test", e))?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_conformance_kit() {
    let factory = SqliteFactory {
        dir: tempfile::tempdir().unwrap(),
    };
    run_conformance(&factory).await;
}

#[test]
fn sqlite_store_agrees_with_the_reference_model() {
    let factory = SqliteFactory {
        dir: tempfile::tempdir().unwrap(),
    };
    persist_core::testkit::run_model_check(
        &factory,
        128,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions.txt"),
    );
}

#[test]
fn sqlite_store_agrees_with_the_reference_model_behind_the_hot_tier() {
    let factory = SqliteFactory {
        dir: tempfile::tempdir().unwrap(),
    };
    persist_core::testkit::run_hot_tier_model_checks(
        &factory,
        32,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions-cache"),
    );
}
