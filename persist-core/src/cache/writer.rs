//! The background task that turns the queue into committed batches.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Inner;
use super::stats::{Counters, DeadLetter};
use crate::{Error, Mutation};

/// Runs until the cache is shut down and its queue is empty.
pub(crate) async fn run(inner: Arc<Inner>) {
    loop {
        let Some((batch, slots)) = next_batch(&inner).await else {
            return;
        };
        // Room frees as soon as the batch leaves the queue.
        inner.release_slots(slots);
        commit(&inner, &batch, slots).await;
    }
}

/// Waits until a batch is due and takes it; `None` once closed and drained.
async fn next_batch(inner: &Inner) -> Option<(Arc<Vec<Mutation>>, usize)> {
    loop {
        let deadline = {
            let mut pending = inner.lock_pending();
            let due = !pending.open.is_empty()
                && (pending.open.len() >= inner.config.batch_size
                    || pending.flush_requested
                    || pending.closed
                    || pending
                        .open_since
                        .is_some_and(|since| since.elapsed() >= inner.config.batch_delay));
            if due {
                pending.flush_requested = false;
                let cap = inner
                    .rules
                    .caches_messages()
                    .then(|| inner.rules.message_cap());
                return Some(pending.take(cap));
            }
            if pending.open.is_empty() {
                pending.flush_requested = false;
                if pending.closed {
                    return None;
                }
                None
            } else {
                pending
                    .open_since
                    .map(|since| since + inner.config.batch_delay)
            }
        };
        match deadline {
            Some(at) => {
                let wait = at.saturating_duration_since(Instant::now());
                tokio::select! {
                    () = inner.wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
            None => inner.wake.notified().await,
        }
    }
}

/// Commits a batch: retries with backoff, then isolates what cannot be
/// stored. `slots` is how many of the batch's mutations were enqueued (the
/// rest are the cap trims the pipeline appended).
///
/// The gate is held while the store may be applying any part of the batch
/// and until the batch is settled, so a read holding it never finds the batch
/// both in the store and in the queue. It is released while waiting to retry:
/// a failed attempt applied nothing.
async fn commit(inner: &Inner, batch: &Arc<Vec<Mutation>>, slots: usize) {
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
        // everything and keep trying; the bounded queue pushes back.
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

/// Marks the in-flight batch done: durable, counted, rejected ones kept.
fn settle(inner: &Inner, stored: usize, rejected: Vec<DeadLetter>) {
    let taken = {
        let mut pending = inner.lock_pending();
        pending.in_flight = None;
        pending.taken
    };
    Counters::add(&inner.counters.batches_committed, 1);
    Counters::add(&inner.counters.mutations_committed, stored as u64);
    if rejected.is_empty() {
        inner.healthy.store(true, Ordering::Relaxed);
    } else {
        Counters::add(&inner.counters.rejected, rejected.len() as u64);
        let mut dead = inner.lock_dead_letters();
        for letter in rejected {
            tracing::error!(
                backend = inner.store.backend(),
                error = %letter.error,
                mutation = ?letter.mutation,
                "mutation could not be stored; kept in the dead-letter list"
            );
            if dead.len() >= inner.config.dead_letter_capacity {
                dead.pop_front();
                Counters::add(&inner.counters.dead_letters_dropped, 1);
                tracing::error!("dead-letter list full; the oldest entry was dropped");
            }
            dead.push_back(letter);
        }
    }
    inner.durable.send_modify(|d| *d = (*d).max(taken));
}
