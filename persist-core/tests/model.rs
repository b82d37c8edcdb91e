//! The memory store agrees with the reference model of the mutation
//! semantics on random sequences of batches.

use persist_core::testkit::{MemoryFactory, run_hot_tier_model_checks, run_model_check};

#[test]
fn memory_store_agrees_with_the_reference_model() {
    run_model_check(
        &MemoryFactory::default(),
        256,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions.txt"),
    );
}

/// Reads through the cache agree with the model, queued and committed,
/// with a hot tier that evicts everything it may and one that holds
/// everything it reads.
#[test]
fn the_cache_agrees_with_the_reference_model_whatever_its_hot_tier_holds() {
    run_hot_tier_model_checks(
        &MemoryFactory::default(),
        256,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions-cache"),
    );
}
