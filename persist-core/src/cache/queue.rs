//! The write queue: one lane per producer, sealed segments, the batch in flight.
//!
//! A producer (a shard, or any caller of `Cache::enqueue`) appends to its own
//! lane under a lock that only it and a seal take, each for a push or a
//! swap: no lock is shared by every producer. Every queued mutation gets a
//! sequence number from one atomic counter, so lanes merge back into one
//! arrival order. Readers and the writer seal the lanes (each lane's buffer
//! is swapped out, in O(1), into the shared list of sealed segments) and then
//! read immutable segments without holding any lock.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::Mutation;

/// One queued mutation: its arrival number and estimated bytes.
#[derive(Debug)]
pub(crate) struct Queued {
    pub seq: u64,
    pub bytes: usize,
    pub mutation: Mutation,
}

/// Mutations swapped out of a lane (or produced by coalescing), in `seq` order.
pub(crate) type Segment = Arc<Vec<Queued>>;

/// A producer's buffer.
#[derive(Debug, Default)]
pub(crate) struct Lane {
    open: Mutex<Vec<Queued>>,
}

// Nothing panics while these locks are held, so a poisoned lock still holds
// consistent data; recover it rather than fail.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the writer took and is committing, visible to readers until settled.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    // Invariant: segments in the order the writer applies them.
    pub segments: VecDeque<Segment>,
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    lanes: Mutex<Vec<Arc<Lane>>>,
    // Lock order: `sealed` before any lane.
    sealed: Mutex<Vec<Segment>>,
    pub in_flight: Mutex<InFlight>,
    /// The next sequence number: how many mutations were ever accepted.
    pub next_seq: AtomicU64,
    /// Mutations accepted and not yet settled (queued, sealed or in flight).
    pub len: AtomicUsize,
    /// Their estimated bytes.
    pub bytes: AtomicUsize,
    pub closed: AtomicBool,
}

/// Why a push was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PushError {
    Closed,
}

impl Queue {
    /// A new lane for one producer.
    pub fn lane(&self) -> Arc<Lane> {
        let lane = Arc::new(Lane::default());
        lock(&self.lanes).push(Arc::clone(&lane));
        lane
    }

    /// Appends to a lane; returns the queue's length and bytes after it.
    /// `reserved`: the caller already counted it in `len` (see `reserve`).
    pub fn push(
        &self,
        lane: &Lane,
        mutation: Mutation,
        bytes: usize,
        reserved: bool,
    ) -> Result<(usize, usize), PushError> {
        let mut open = lock(&lane.open);
        // Checked under the lane lock: the final drain seals every lane
        // after setting `closed`, so nothing pushed here can be missed.
        if self.closed.load(Ordering::Acquire) {
            if reserved {
                self.len.fetch_sub(1, Ordering::AcqRel);
            }
            return Err(PushError::Closed);
        }
        // The number is taken under the lane lock, so a seal that starts
        // after it sees the mutation (see `seal`).
        let seq = self.next_seq.fetch_add(1, Ordering::AcqRel);
        open.push(Queued {
            seq,
            bytes,
            mutation,
        });
        drop(open);
        let len = if reserved {
            self.len.load(Ordering::Acquire)
        } else {
            self.len.fetch_add(1, Ordering::AcqRel) + 1
        };
        let total = self.bytes.fetch_add(bytes, Ordering::AcqRel) + bytes;
        Ok((len, total))
    }

    /// Counts one more mutation in `len` if it stays under `bound`.
    pub fn reserve(&self, bound: usize) -> bool {
        self.len
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < bound).then_some(n + 1)
            })
            .is_ok()
    }

    /// Gives back a reservation that was not used.
    pub fn unreserve(&self) {
        self.len.fetch_sub(1, Ordering::AcqRel);
    }

    /// Moves every lane's buffer into the sealed list. Every mutation whose
    /// number was taken before the call is sealed (or was taken earlier).
    fn seal_locked(&self, sealed: &mut Vec<Segment>) {
        let mut lanes = lock(&self.lanes);
        lanes.retain(|lane| {
            let items = std::mem::take(&mut *lock(&lane.open));
            if !items.is_empty() {
                sealed.push(Arc::new(items));
            }
            // A lane whose producer is gone and that is empty is dropped.
            Arc::strong_count(lane) > 1
        });
    }

    /// Seals the lanes and returns, consistently, the segments in flight
    /// and those waiting (each list in apply order once merged by `seq`).
    pub fn snapshot(&self) -> (Vec<Segment>, Vec<Segment>) {
        let mut sealed = lock(&self.sealed);
        self.seal_locked(&mut sealed);
        let in_flight = lock(&self.in_flight).segments.iter().cloned().collect();
        (in_flight, sealed.clone())
    }

    /// Seals the lanes and returns the segments not yet taken by the writer.
    pub fn sealed_snapshot(&self) -> Vec<Segment> {
        self.snapshot().1
    }

    /// Seals the lanes and takes every sealed segment (for the writer),
    /// publishing them as in flight before the lock is released, so a
    /// reader always finds them in one place or the other.
    pub fn take_all(&self) -> Vec<Segment> {
        let mut sealed = lock(&self.sealed);
        self.seal_locked(&mut sealed);
        let taken = std::mem::take(&mut *sealed);
        let mut in_flight = lock(&self.in_flight);
        in_flight.segments.extend(taken.iter().cloned());
        taken
    }

    /// Replaces sealed segments by their compacted versions (`None`: the
    /// segment lost everything), skipping any the writer took meanwhile.
    /// Returns the segments that were replaced.
    pub fn replace_sealed(&self, replacements: Vec<(Segment, Option<Segment>)>) -> Vec<Segment> {
        let mut sealed = lock(&self.sealed);
        let mut replaced = Vec::new();
        for (old, new) in replacements {
            if let Some(at) = sealed.iter().position(|s| Arc::ptr_eq(s, &old)) {
                match new {
                    Some(new) => sealed[at] = new,
                    None => {
                        sealed.remove(at);
                    }
                }
                replaced.push(old);
            }
        }
        replaced
    }
}

/// Mutations of several segments merged into arrival order.
pub(crate) fn merge(segments: &[Segment]) -> Vec<&Queued> {
    let mut all: Vec<&Queued> = segments.iter().flat_map(|s| s.iter()).collect();
    // Each segment is sorted already: the sort merges runs.
    all.sort_by_key(|q| q.seq);
    all
}
