//! The memory store agrees with the reference model of the mutation
//! semantics on random sequences of batches.

use persist_core::testkit::{MemoryFactory, run_cache_model_check, run_model_check};
use persist_core::{CacheConfig, ResourceKind};

#[test]
fn memory_store_agrees_with_the_reference_model() {
    run_model_check(
        &MemoryFactory::default(),
        256,
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions.txt"),
    );
}

/// Reads through the cache agree with the model, queued and committed,
/// with a hot tier that evicts everything it may (nothing pinned, no
/// budget, windows of two messages)...
#[test]
fn a_cache_that_evicts_everything_agrees_with_the_reference_model() {
    let tiny = CacheConfig {
        memory_budget: 0,
        pinned_kinds: ResourceKind::empty(),
        hot_messages_per_channel: 2,
        ..Default::default()
    };
    run_cache_model_check(
        &MemoryFactory::default(),
        256,
        tiny,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/model-regressions-tiny.txt"
        ),
    );
}

/// ... and with one that holds everything it reads.
#[test]
fn a_cache_that_holds_everything_agrees_with_the_reference_model() {
    let huge = CacheConfig {
        memory_budget: usize::MAX,
        hot_messages_per_channel: 3,
        ..Default::default()
    };
    run_cache_model_check(
        &MemoryFactory::default(),
        256,
        huge,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/model-regressions-huge.txt"
        ),
    );
}
