//! The write queue: one lane per producer, sealed segments, the batch in flight.
//!
//! A producer (a shard, or any caller of `Cache::enqueue`) appends to its own
//! lane, under a lock that only it and a seal take, each for a push or a
//! swap of buffers: no lock is shared by every producer, and a push never
//! allocates (the seal hands the lane a spare buffer, allocated and recycled
//! off the producer's thread, whose pages are already in memory). Every
//! queued mutation gets a sequence number from one atomic counter, so lanes
//! merge back into one arrival order. Readers and the writer seal the lanes
//! (each lane's buffer moves into the shared list of sealed segments) and
//! then read immutable segments without holding any lock.

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

/// Spare buffers kept for lanes, and the largest kept (in mutations).
const SPARES: usize = 16;
const SPARE_CAPACITY: usize = 1 << 16;
/// A new lane buffer's capacity.
const LANE_CAPACITY: usize = 1024;

// Nothing panics while these locks are held, so a poisoned lock still holds
// consistent data; recover it rather than fail.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Tries before a reader sleeps on a contended lock (a few microseconds).
const READ_SPINS: u32 = 2_000;

/// Locks for a read: spins while the holder (a push, a few microseconds)
/// finishes rather than sleeping at once, since waking a sleeping thread on
/// a busy machine costs far longer than the wait.
pub(crate) fn lock_for_read<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    for _ in 0..READ_SPINS {
        match mutex.try_lock() {
            Ok(guard) => return guard,
            Err(std::sync::TryLockError::Poisoned(e)) => return e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => std::hint::spin_loop(),
        }
    }
    lock(mutex)
}

/// The batch the writer is committing, in apply order: visible to readers
/// until it settles.
pub(crate) type InFlight = Option<Committing>;

/// A batch being committed in one or more transactions.
#[derive(Clone, Debug)]
pub(crate) struct Committing {
    pub batch: Arc<Vec<Mutation>>,
    /// How many of its first mutations are committed (by earlier transactions).
    pub committed: usize,
}

impl Committing {
    /// The mutations not yet committed, in apply order.
    pub fn pending(&self) -> &[Mutation] {
        &self.batch[self.committed.min(self.batch.len())..]
    }
}

#[derive(Debug, Default)]
pub(crate) struct Queue {
    lanes: Mutex<Vec<Arc<Lane>>>,
    // Lock order: `sealed` before any lane.
    sealed: Mutex<Vec<Segment>>,
    pub in_flight: Mutex<InFlight>,
    /// Emptied buffers, for lanes.
    spare: Mutex<Vec<Vec<Queued>>>,
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

    /// Appends to a lane; returns the queue's length after it.
    /// `reserved`: the caller already counted it in `len` (see `reserve`).
    pub fn push(
        &self,
        lane: &Lane,
        mutation: Mutation,
        bytes: usize,
        reserved: bool,
    ) -> Result<usize, PushError> {
        let mut open = lock(&lane.open);
        // Checked under the lane lock: the final drain seals every lane
        // after setting `closed`, so nothing pushed here can be missed.
        if self.closed.load(Ordering::Acquire) {
            drop(open);
            if reserved {
                self.unreserve();
            }
            return Err(PushError::Closed);
        }
        // Counted before it is numbered: the writer reads the next number,
        // then the length, and takes a length of 0 to mean that everything
        // numbered so far is committed.
        let len = if reserved {
            self.len.load(Ordering::Acquire)
        } else {
            self.len.fetch_add(1, Ordering::AcqRel) + 1
        };
        // The number is taken under the lane lock, so a seal that starts
        // after it sees the mutation.
        let seq = self.next_seq.fetch_add(1, Ordering::AcqRel);
        open.push(Queued {
            seq,
            bytes,
            mutation,
        });
        drop(open);
        self.bytes.fetch_add(bytes, Ordering::AcqRel);
        Ok(len)
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
            // Found before the lane is locked: the producer waits for a swap only.
            let fresh = lock(&self.spare)
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(LANE_CAPACITY));
            let mut open = lock(&lane.open);
            if open.is_empty() {
                drop(open);
                self.recycle(fresh);
            } else {
                let items = std::mem::replace(&mut *open, fresh);
                drop(open);
                sealed.push(Arc::new(items));
            }
            // A lane whose producer is gone and that is empty is dropped.
            Arc::strong_count(lane) > 1 || !lock(&lane.open).is_empty()
        });
    }

    /// Keeps an emptied buffer for a lane, unless there are enough.
    fn recycle(&self, mut buffer: Vec<Queued>) {
        buffer.clear();
        if buffer.capacity() <= SPARE_CAPACITY {
            let mut spare = lock(&self.spare);
            if spare.len() < SPARES {
                spare.push(buffer);
            }
        }
    }

    /// Seals the lanes and returns, consistently, the batch in flight and
    /// the segments waiting (in apply order once merged by `seq`).
    pub fn snapshot(&self) -> (InFlight, Vec<Segment>) {
        let mut sealed = lock(&self.sealed);
        self.seal_locked(&mut sealed);
        let in_flight = lock(&self.in_flight).clone();
        (in_flight, sealed.clone())
    }

    /// Seals the lanes and returns the segments not yet taken by the writer.
    pub fn sealed_snapshot(&self) -> Vec<Segment> {
        self.snapshot().1
    }

    /// Seals the lanes, takes every sealed mutation in arrival order and
    /// makes the batch in flight of them with `build`, all under the sealed
    /// lock, so a reader finds every mutation in one place or the other.
    /// Returns the batch, how many mutations it took and their bytes.
    pub fn take_batch(
        &self,
        build: impl FnOnce(Vec<Mutation>) -> Vec<Mutation>,
    ) -> (Arc<Vec<Mutation>>, usize, usize) {
        let mut sealed = lock(&self.sealed);
        self.seal_locked(&mut sealed);
        let mut items: Vec<Queued> = Vec::new();
        for segment in sealed.drain(..) {
            // Unshared unless a reader is looking at it right now.
            match Arc::try_unwrap(segment) {
                Ok(mut owned) => {
                    items.append(&mut owned);
                    self.recycle(owned);
                }
                Err(shared) => items.extend(shared.iter().map(|q| Queued {
                    seq: q.seq,
                    bytes: q.bytes,
                    mutation: q.mutation.clone(),
                })),
            }
        }
        // Each segment is sorted already: the sort merges runs.
        items.sort_by_key(|q| q.seq);
        let bytes = items.iter().map(|q| q.bytes).sum();
        let taken = items.len();
        let batch = Arc::new(build(items.into_iter().map(|q| q.mutation).collect()));
        *lock(&self.in_flight) = Some(Committing {
            batch: Arc::clone(&batch),
            committed: 0,
        });
        (batch, taken, bytes)
    }

    /// Takes everything not settled, in apply order (the batch in flight,
    /// then the sealed and open mutations by arrival), emptying the queue:
    /// what a shutdown that could not commit hands back.
    pub fn drain_unsettled(&self) -> Vec<Mutation> {
        let mut sealed = lock(&self.sealed);
        self.seal_locked(&mut sealed);
        let mut unsettled: Vec<Mutation> = lock(&self.in_flight)
            .take()
            .map(|c| c.pending().to_vec())
            .unwrap_or_default();
        let segments: Vec<Segment> = sealed.drain(..).collect();
        unsettled.extend(merge(&segments).into_iter().map(|q| q.mutation.clone()));
        self.len.store(0, Ordering::Release);
        self.bytes.store(0, Ordering::Release);
        unsettled
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
