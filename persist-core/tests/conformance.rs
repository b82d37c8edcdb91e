//! The memory store passes the conformance kit every backend runs.

use persist_core::testkit::{MemoryFactory, run_conformance};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_conformance_kit() {
    run_conformance(&MemoryFactory::default()).await;
}
