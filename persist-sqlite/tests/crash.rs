//! Crash safety: a writer killed with SIGKILL mid-stream loses nothing that
//! `flush()` reported durable, and the file passes `integrity_check`.

use persist_core::Migrations;
use persist_core::testkit::crash::{run_crash_child, run_crash_parent};
use persist_sqlite::{SqliteConfig, SqliteStore};

const CHILD_ENV: &str = "PERSIST_SQLITE_CRASH_CHILD_DB";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper process of sigkill_mid_stream_loses_nothing_reported_durable"]
async fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    run_crash_child(
        SqliteStore::open(SqliteConfig::new(path), &Migrations::new())
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_nothing_reported_durable() {
    let dir = tempfile::tempdir().unwrap();
    let store = run_crash_parent(
        "crash_child_writer",
        CHILD_ENV,
        &dir.path().join("crash.db"),
        40,
        |path| async move { SqliteStore::open(SqliteConfig::new(path), &Migrations::new()).await },
    )
    .await;
    store.integrity_check().await.unwrap();
}
