//! How a mutation is queued: the ruleset, the dead-letter list for what no
//! store could take, shedding over budget, then the hot tier and the queue
//! together under the hot tier's lock.

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use crate::heap_size::queued_bytes;
use crate::{Error, Mutation, Result};

use super::queue::{Lane, PushError, lock};
use super::stats::{Counters, DeadLetter};
use super::{Inner, Origin};

impl Inner {
    /// The mutation as the ruleset keeps it, or `None` (counted) when
    /// nothing of it is cached.
    ///
    /// A mutation no store could read back (nested deeper than
    /// [`MAX_NESTING`](crate::MAX_NESTING)) goes to the dead-letter list.
    pub(super) fn admit(&self, mutation: Mutation, now: SystemTime) -> Option<Mutation> {
        let kept = self.rules.filter(mutation, now);
        match kept {
            None => Counters::add(&self.counters.filtered, 1),
            Some(mutation) if !crate::nesting::mutation_within_limit(&mutation) => {
                self.reject(mutation, crate::nesting::TooDeep.to_string());
                return None;
            }
            Some(_) => {}
        }
        kept
    }

    /// Keeps a mutation the store cannot take in the dead-letter list,
    /// counted and logged.
    pub(super) fn reject(&self, mutation: Mutation, error: String) {
        Counters::add(&self.counters.rejected, 1);
        lock(&self.hot).forget(&mutation);
        tracing::error!(
            backend = self.store.backend(),
            %error,
            mutation = ?mutation,
            "mutation could not be stored; kept in the dead-letter list"
        );
        let mut dead = self.lock_dead_letters();
        if dead.len() >= self.config.dead_letter_capacity {
            dead.pop_front();
            Counters::add(&self.counters.dead_letters_dropped, 1);
            tracing::error!("dead-letter list full; the oldest entry was dropped");
        }
        dead.push_back(DeadLetter { mutation, error });
    }

    /// Filters, sheds if over budget (a requested answer's lists are kept
    /// whole), and queues; never waits.
    pub(super) fn push(
        &self,
        lane: &Lane,
        mutations: impl IntoIterator<Item = Mutation>,
        origin: Origin,
    ) -> Result<()> {
        let now = SystemTime::now();
        for mutation in mutations {
            match self.admit(mutation, now) {
                Some(list @ Mutation::UpsertMany(_)) if origin == Origin::RequestedResync => {
                    self.queue_one(lane, list, false)?
                }
                Some(mutation) => self.push_one(lane, mutation, false)?,
                None => {}
            }
        }
        Ok(())
    }

    /// Queues one filtered mutation, or sheds it; `reserved`: its slot is
    /// already counted.
    pub(super) fn push_one(&self, lane: &Lane, mutation: Mutation, reserved: bool) -> Result<()> {
        let Some(mutation) = self.shed_incoming(mutation) else {
            if reserved {
                self.queue.unreserve();
            }
            return Ok(());
        };
        self.queue_one(lane, mutation, reserved)
    }

    /// Queues one mutation as it is (nothing shed).
    pub(super) fn queue_one(&self, lane: &Lane, mutation: Mutation, reserved: bool) -> Result<()> {
        let bytes = queued_bytes(&mutation);
        let len = {
            let mut hot = lock(&self.hot);
            if self.queue.closed.load(Ordering::Acquire) {
                // A reservation kept would leave the queue's length above
                // what the writer can ever take.
                if reserved {
                    self.queue.unreserve();
                }
                return Err(Error::Closed);
            }
            hot.apply(&mutation);
            let len = self
                .queue
                .push(lane, mutation, bytes, reserved)
                .map_err(|e| match e {
                    PushError::Closed => Error::Closed,
                })?;
            self.fit_hot(&mut hot);
            len
        };
        Counters::add(&self.counters.enqueued, 1);
        if len > self.config.queue_capacity {
            Counters::add(&self.counters.over_capacity, 1);
        }
        self.counters
            .queue_high_water
            .fetch_max(len, Ordering::Relaxed);
        if len == 1 || len == self.config.batch_size {
            self.wake.notify_one();
        }
        Ok(())
    }
}
