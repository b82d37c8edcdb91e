//! The MySQL store passes the conformance kit every backend runs.

mod common;

use common::MySqlFactory;
use persist_core::testkit::run_conformance;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_store_passes_the_conformance_kit() {
    let factory = MySqlFactory::new("persist_t_conformance").await;
    run_conformance(&factory).await;
    factory.clean_up().await;
}

#[test]
fn mysql_store_agrees_with_the_reference_model() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let factory = runtime.block_on(MySqlFactory::new("persist_t_model"));
    persist_core::testkit::run_model_check(
        &factory,
        48,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions.txt"),
    );
    runtime.block_on(factory.clean_up());
}
