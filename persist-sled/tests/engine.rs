//! The sled store: layout upgrades, clear errors for bad input, and crash safety.

use persist_core::{Error, Migrations};
use persist_kv::testkit;
use persist_sled::{SledEngine, SledStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layout_1_store_is_upgraded_with_its_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    testkit::check_layout_upgrade(&dir.path().join("old.sled"), |path, layout| async move {
        SledStore::open_layout(path, &Migrations::new(), layout).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_value_is_reported_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    testkit::check_undecodable_value_is_reported(
        &dir.path().join("bad.sled"),
        |p: &std::path::Path| SledEngine::open(p),
        |path| async move { SledStore::open(path, &Migrations::new()).await },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_open_elsewhere_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.sled");
    let _first = SledStore::open(&path, &Migrations::new()).await.unwrap();
    let err = SledStore::open(&path, &Migrations::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "sled",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_cannot_be_written_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let err = SledStore::open(file.join("cache.sled"), &Migrations::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "sled",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("cache.sled"),
        "the error names the path: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foreign.sled");
    let text = b"these are my notes, not a database\n".repeat(300);
    std::fs::write(&path, &text).unwrap();
    let err = SledStore::open(&path, &Migrations::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "sled",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), text);
}

const CHILD_ENV: &str = "PERSIST_SLED_CRASH_CHILD";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper process of sigkill_mid_stream_loses_nothing_reported_durable"]
async fn crash_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    testkit::run_crash_child(SledStore::open(path, &Migrations::new()).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_nothing_reported_durable() {
    let dir = tempfile::tempdir().unwrap();
    testkit::run_crash_parent(
        "crash_child_writer",
        CHILD_ENV,
        &dir.path().join("crash.sled"),
        25,
        |path| async move { SledStore::open(path, &Migrations::new()).await },
    )
    .await;
}
