//! The background task that turns the queue into committed batches.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Inner;
use super::coalesce::Coalescer;
use super::stats::{Counters, DeadLetter};
use crate::{Error, Mutation};

/// Runs until the cache is shut down and its queue is empty.
pub(crate) async fn run(inner: Arc<Inner>) {
    loop {
        let Some(target) = wait_until_due(&inner).await else {
            return;
        };
        let (batch, taken, bytes) = inner.queue.take_batch(|taken| build_batch(&inner, taken));
        if !batch.is_empty() {
            let slots = batch
                .iter()
                .filter(|m| !matches!(m, Mutation::TrimChannelMessages { .. }))
                .count();
            commit(&inner, &batch, slots).await;
        }
        // Settled: room frees, and everything numbered below `target` is durable.
        inner.queue.len.fetch_sub(taken, Ordering::AcqRel);
        inner.queue.bytes.fetch_sub(bytes, Ordering::AcqRel);
        inner.room.notify_waiters();
        inner.end_shedding_if_recovered();
        inner.durable.send_modify(|d| *d = (*d).max(target));
    }
}

/// Waits until a batch is due; returns the sequence number below which
/// everything will be in it, or `None` once closed and drained.
async fn wait_until_due(inner: &Inner) -> Option<u64> {
    let mut since: Option<Instant> = None;
    loop {
        let notified = inner.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // Read before the length: if nothing is queued now, everything
        // numbered below it is settled.
        let target = inner.queue.next_seq.load(Ordering::Acquire);
        let len = inner.queue.len.load(Ordering::Acquire);
        let closed = inner.queue.closed.load(Ordering::Acquire);
        let flush = inner.flush_requested.swap(false, Ordering::AcqRel);
        if len == 0 {
            inner.durable.send_modify(|d| *d = (*d).max(target));
            if closed {
                return None;
            }
            since = None;
            notified.await;
            continue;
        }
        let since = *since.get_or_insert_with(Instant::now);
        if len >= inner.config.batch_size
            || flush
            || closed
            || since.elapsed() >= inner.config.batch_delay
        {
            return Some(target);
        }
        let wait = (since + inner.config.batch_delay).saturating_duration_since(Instant::now());
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// The taken mutations (in arrival order), coalesced, with the channel caps.
fn build_batch(inner: &Inner, taken: Vec<Mutation>) -> Vec<Mutation> {
    let mut coalescer = Coalescer::default();
    for mutation in taken {
        coalescer.push(mutation);
    }
    Counters::add(&inner.counters.coalesced, coalescer.coalesced);
    let cap = inner
        .rules
        .caches_messages()
        .then(|| inner.rules.message_cap());
    coalescer.finish(cap)
}

/// Commits a batch: retries with backoff, then isolates what cannot be
/// stored. `slots` is how many enqueued mutations the batch holds.
///
/// The gate is held while the store may be applying any part of the batch
/// and until the batch is settled, so a read holding it never finds the batch
/// both in the store and in the queue. It is released while waiting to retry:
/// a failed attempt applied nothing.
async fn commit(inner: &Inner, batch: &[Mutation], slots: usize) {
    let mut backoff = inner.config.retry_initial;
    let mut attempts = 0;
    loop {
        let gate = inner.gate.write().await;
        let error = match inner.store.apply(batch).await {
            Ok(()) => {
                settle(inner, slots, Vec::new());
                return;
            }
            Err(error) => error,
        };
        attempts += 1;
        note_failure(inner, &error, batch.len(), attempts);
        if attempts < inner.config.retry_attempts {
            drop(gate);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(inner.config.retry_max);
            continue;
        }
        // Persistent failure: find the mutations the store refuses.
        let rejected = isolate(inner, batch).await;
        if rejected.len() < batch.len() {
            settle(inner, slots.saturating_sub(rejected.len()), rejected);
            return;
        }
        // Nothing at all can be stored: an outage, not bad data. Keep
        // everything and keep trying; the queue's memory budget bounds the rest.
        drop(gate);
        tracing::error!(
            backend = inner.store.backend(),
            mutations = batch.len(),
            "store refuses every write; retrying the batch until it recovers"
        );
        attempts = 0;
        backoff = inner.config.retry_initial;
        tokio::time::sleep(inner.config.retry_max).await;
    }
}

fn note_failure(inner: &Inner, error: &Error, size: usize, attempt: u32) {
    Counters::add(&inner.counters.commit_failures, 1);
    inner.healthy.store(false, Ordering::Relaxed);
    *inner.lock_last_error() = Some(error.to_string());
    tracing::warn!(
        backend = inner.store.backend(),
        %error,
        mutations = size,
        attempt,
        "batch commit failed"
    );
}

/// Applies the batch in halves, down to single mutations, in order. Returns
/// the mutations that failed on their own.
async fn isolate(inner: &Inner, batch: &[Mutation]) -> Vec<DeadLetter> {
    let mut rejected = Vec::new();
    let mut stack = vec![batch];
    // Depth-first, left half first, so mutations are applied in order.
    while let Some(part) = stack.pop() {
        match inner.store.apply(part).await {
            Ok(()) => {}
            Err(error) if part.len() == 1 => rejected.push(DeadLetter {
                mutation: part[0].clone(),
                error: error.to_string(),
            }),
            Err(_) => {
                let (left, right) = part.split_at(part.len() / 2);
                stack.push(right);
                stack.push(left);
            }
        }
    }
    rejected
}

/// Marks the in-flight batch done (still under the gate): counted,
/// rejected ones kept.
fn settle(inner: &Inner, stored: usize, rejected: Vec<DeadLetter>) {
    *super::queue::lock(&inner.queue.in_flight) = None;
    Counters::add(&inner.counters.batches_committed, 1);
    Counters::add(&inner.counters.mutations_committed, stored as u64);
    if rejected.is_empty() {
        if !inner.healthy.swap(true, Ordering::AcqRel) {
            inner.resync_ready.notify_waiters();
        }
    } else {
        for letter in rejected {
            inner.reject(letter.mutation, letter.error);
        }
    }
}
