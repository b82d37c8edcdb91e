//! What the pipeline reports about itself.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::Mutation;

/// A snapshot of the pipeline's counters (see `Cache::stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// The backend's name.
    pub backend: &'static str,
    /// Mutations accepted by `enqueue` after the ruleset.
    pub enqueued: u64,
    /// Mutations the ruleset dropped before queueing.
    pub filtered: u64,
    /// Mutations folded into a queued write of the same object.
    pub coalesced: u64,
    /// Mutations waiting for a batch now.
    pub queued: usize,
    /// The most mutations that ever waited at once (never above the bound).
    pub queue_high_water: usize,
    /// Mutations queued past the bound by `enqueue_now` where it could not
    /// wait (a current-thread runtime); nothing was dropped.
    pub over_capacity: u64,
    /// Mutations in the batch being committed now.
    pub in_flight: usize,
    /// Batches committed.
    pub batches_committed: u64,
    /// Mutations committed.
    pub mutations_committed: u64,
    /// Failed attempts to commit a batch (each one logged).
    pub commit_failures: u64,
    /// Mutations that could not be stored after retries.
    pub rejected: u64,
    /// Rejected mutations currently kept in the dead-letter list.
    pub dead_letters: usize,
    /// Rejected mutations dropped because the dead-letter list was full.
    pub dead_letters_dropped: u64,
    /// Whether the last commit attempt succeeded.
    pub healthy: bool,
    /// The last commit error, if any.
    pub last_error: Option<String>,
}

/// A mutation that could not be stored, with why.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The mutation.
    pub mutation: Mutation,
    /// The store's error.
    pub error: String,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub enqueued: AtomicU64,
    pub filtered: AtomicU64,
    pub coalesced: AtomicU64,
    pub queue_high_water: AtomicUsize,
    pub over_capacity: AtomicU64,
    pub batches_committed: AtomicU64,
    pub mutations_committed: AtomicU64,
    pub commit_failures: AtomicU64,
    pub rejected: AtomicU64,
    pub dead_letters_dropped: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
