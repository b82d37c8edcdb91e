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
        if taken == 0 {
            // Nothing was due after all: let the runtime run (and a
            // shutdown's deadline abort this task) before looking again.
            tokio::task::yield_now().await;
        }
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

/// Commits a batch in transactions of at most `max_commit_rows` rows, in
/// order: retries with backoff, then isolates what cannot be stored.
/// `slots` is how many enqueued mutations the batch holds.
///
/// The gate is held while the store may be applying any part of a chunk
/// and until the chunk is accounted for (the batch in flight then starts
/// after it; after the last chunk the batch is settled), so a read holding
/// it never finds a mutation both in the store and in the queue. It is
/// released between chunks and while waiting to retry: a failed attempt
/// applied nothing.
async fn commit(inner: &Inner, batch: &[Mutation], slots: usize) {
    let chunks = commit_chunks(batch, inner.config.max_commit_rows);
    let mut rejected = Vec::new();
    let mut fenced = 0;
    for (n, chunk) in chunks.iter().enumerate() {
        let (gate, outcome) = commit_chunk(inner, &batch[chunk.clone()]).await;
        match outcome {
            Outcome::Stored { mut refused } => rejected.append(&mut refused),
            Outcome::Fenced => fenced += chunk.len(),
        }
        if n + 1 == chunks.len() {
            let stored = slots.saturating_sub(rejected.len() + fenced);
            settle(inner, stored, rejected);
            return;
        }
        if let Some(in_flight) = super::queue::lock(&inner.queue.in_flight).as_mut() {
            in_flight.committed = chunk.end;
        }
        drop(gate);
    }
}

/// The batch cut into runs of at most `max_rows` rows (a member list
/// counts each member; one mutation is never cut), in order; the channel
/// caps that end a batch stay with its last run.
fn commit_chunks(batch: &[Mutation], max_rows: usize) -> Vec<std::ops::Range<usize>> {
    let mut chunks = Vec::new();
    let (mut start, mut rows) = (0, 0);
    for (at, mutation) in batch.iter().enumerate() {
        let cap = matches!(mutation, Mutation::TrimChannelMessages { .. });
        if rows >= max_rows && !cap {
            chunks.push(start..at);
            (start, rows) = (at, 0);
        }
        rows += match mutation {
            Mutation::UpsertMany(records) => records.len().max(1),
            _ => usize::from(!cap),
        };
    }
    chunks.push(start..batch.len());
    chunks
}

/// The commit gate held for writing; the commit epoch is odd while it is
/// held, so a read can tell that no commit overlapped it without taking
/// the gate (see `Cache::load`).
pub(super) struct CommitGate<'a> {
    _gate: tokio::sync::RwLockWriteGuard<'a, ()>,
    epoch: &'a std::sync::atomic::AtomicU64,
}

impl<'a> CommitGate<'a> {
    async fn enter(inner: &'a Inner) -> Self {
        let gate = inner.gate.write().await;
        inner
            .commit_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self {
            _gate: gate,
            epoch: &inner.commit_epoch,
        }
    }
}

impl Drop for CommitGate<'_> {
    fn drop(&mut self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// How a run of a batch ended.
enum Outcome {
    /// Committed, but for the mutations the store refused on their own.
    Stored { refused: Vec<DeadLetter> },
    /// Refused whole: this process lost a shard lease (not retried).
    Fenced,
}

/// Commits one run of a batch; returns holding the gate.
async fn commit_chunk<'a>(inner: &'a Inner, chunk: &[Mutation]) -> (CommitGate<'a>, Outcome) {
    let mut backoff = inner.config.retry_initial;
    let mut attempts = 0;
    loop {
        let gate = CommitGate::enter(inner).await;
        let started = std::time::Instant::now();
        let error = match inner.store.apply(chunk).await {
            Ok(()) => {
                tracing::debug!(
                    backend = inner.store.backend(),
                    mutations = chunk.len(),
                    kinds = ?chunk.iter().fold(crate::ResourceKind::empty(), |k, m| k | m.kinds()),
                    commit_ms = started.elapsed().as_secs_f64() * 1e3,
                    "batch committed"
                );
                return (
                    gate,
                    Outcome::Stored {
                        refused: Vec::new(),
                    },
                );
            }
            Err(error @ Error::Fenced { .. }) => {
                // Retrying cannot help, and the shards' new owner re-syncs
                // them: counted and logged, not kept.
                Counters::add(&inner.counters.fenced_mutations, chunk.len() as u64);
                *inner.lock_last_error() = Some(error.to_string());
                tracing::error!(
                    backend = inner.store.backend(),
                    %error,
                    mutations = chunk.len(),
                    "batch refused by the shard lease fence"
                );
                return (gate, Outcome::Fenced);
            }
            Err(error) => error,
        };
        attempts += 1;
        note_failure(inner, &error, chunk.len(), attempts);
        if attempts < inner.config.retry_attempts {
            drop(gate);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(inner.config.retry_max);
            continue;
        }
        // Persistent failure: find the mutations the store refuses.
        let rejected = isolate(inner, chunk).await;
        if rejected.len() < chunk.len() {
            return (gate, Outcome::Stored { refused: rejected });
        }
        // Nothing at all can be stored: an outage, not bad data. Keep
        // everything and keep trying; the queue's memory budget bounds the rest.
        drop(gate);
        tracing::error!(
            backend = inner.store.backend(),
            mutations = chunk.len(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Member, User};
    use crate::{ChannelId, GuildId, Record, UserId};

    fn user(id: u64) -> Mutation {
        Mutation::upsert(User {
            id: UserId::new(id),
            ..Default::default()
        })
    }

    fn members(n: u64) -> Mutation {
        Mutation::UpsertMany(
            (1..=n)
                .map(|u| {
                    Record::Member(Member {
                        guild_id: GuildId::new(1),
                        user_id: UserId::new(u),
                        ..Default::default()
                    })
                })
                .collect(),
        )
    }

    fn cap() -> Mutation {
        Mutation::TrimChannelMessages {
            channel_id: ChannelId::new(1),
            keep: 10,
        }
    }

    #[test]
    fn a_batch_is_cut_by_rows_keeping_member_lists_and_caps_whole() {
        let batch = [
            user(1),
            user(2),
            user(3),
            members(5),
            user(4),
            user(5),
            cap(),
            cap(),
        ];
        assert_eq!(commit_chunks(&batch, 2), [0..2, 2..4, 4..8]);
        assert_eq!(
            commit_chunks(&batch, 100),
            vec![std::ops::Range { start: 0, end: 8 }]
        );
        assert_eq!(
            commit_chunks(&batch, 1),
            [0..1, 1..2, 2..3, 3..4, 4..5, 5..8]
        );
        assert_eq!(
            commit_chunks(&[], 10),
            vec![std::ops::Range { start: 0, end: 0 }]
        );
    }
}
