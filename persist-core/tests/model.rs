//! The memory store agrees with the reference model of the mutation
//! semantics on random sequences of batches.

use persist_core::testkit::{MemoryFactory, run_model_check};

#[test]
fn memory_store_agrees_with_the_reference_model() {
    run_model_check(
        &MemoryFactory::default(),
        256,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions.txt"),
    );
}
