//! The cache: the front a bot talks to. Mutations go through the ruleset into
//! a bounded queue, coalesce, and are committed in batches by a background
//! task; reads see every queued mutation.

mod config;
mod overlay;
mod pending;
mod stats;
mod writer;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Instant, SystemTime};

use tokio::sync::{Notify, RwLock, Semaphore, watch};
use tokio::task::JoinHandle;

pub use config::CacheConfig;
pub use stats::{CacheStats, DeadLetter};

use crate::{Answer, Error, Mutation, Query, ReadApi, Result, Ruleset, Store};
use pending::Pending;
use stats::Counters;

pub(crate) struct Inner {
    store: Arc<dyn Store>,
    rules: Ruleset,
    config: CacheConfig,
    pending: Mutex<Pending>,
    /// One permit per free slot in the queue (the bound).
    permits: Semaphore,
    /// Slots taken past the bound by [`Cache::enqueue_now`] where it could
    /// not wait; repaid before freed slots become permits again.
    overdraft: AtomicUsize,
    /// Wakes the writer.
    wake: Notify,
    /// The `enqueued` sequence number up to which everything is settled.
    durable: watch::Sender<u64>,
    /// Held for writing while a batch commits; reads that must not see a
    /// batch both in the store and in the queue hold it for reading.
    gate: RwLock<()>,
    counters: Counters,
    healthy: AtomicBool,
    last_error: Mutex<Option<String>>,
    dead_letters: Mutex<VecDeque<DeadLetter>>,
    /// The writer first, then the pruner if any.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

// Nothing panics while these locks are held, so a poisoned lock still holds
// consistent data; recover it rather than fail.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Inner {
    /// Frees queue slots, paying back any overdraft first.
    fn release_slots(&self, slots: usize) {
        let mut owed = self.overdraft.load(Ordering::Acquire);
        loop {
            let paid = owed.min(slots);
            if paid == 0 {
                break;
            }
            match self.overdraft.compare_exchange(
                owed,
                owed - paid,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.permits.add_permits(slots - paid);
                    return;
                }
                Err(now) => owed = now,
            }
        }
        self.permits.add_permits(slots);
    }

    fn lock_pending(&self) -> MutexGuard<'_, Pending> {
        lock(&self.pending)
    }

    fn lock_last_error(&self) -> MutexGuard<'_, Option<String>> {
        lock(&self.last_error)
    }

    fn lock_dead_letters(&self) -> MutexGuard<'_, VecDeque<DeadLetter>> {
        lock(&self.dead_letters)
    }
}

/// A persistent cache over a [`Store`].
///
/// Cloning is cheap and clones share everything. Call
/// [`shutdown`](Cache::shutdown) before the process exits: it commits what is
/// queued. Dropping the last clone without it still commits within the
/// flush window, as long as the tokio runtime keeps running.
///
/// ```
/// use persist_core::{Cache, MemoryStore, Migrations, Mutation, model::Guild, GuildId};
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryStore::open(&Migrations::new()).await?;
/// let cache = Cache::new(store, Default::default(), Default::default())?;
/// let guild = Guild { id: GuildId::new(1), name: "ferris club".into(), ..Default::default() };
/// cache.enqueue(Mutation::upsert(guild)).await?;
/// // Visible at once, before the batch commits:
/// use persist_core::ReadApi;
/// assert_eq!(cache.guild(GuildId::new(1)).await?.unwrap().name, "ferris club");
/// cache.shutdown().await?;
/// # Ok::<(), persist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.inner.store.backend())
            .field("rules", &self.inner.rules)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// Starts a cache over an opened store (its migrations have run). Must be
    /// called within a tokio runtime, where it spawns the writer task;
    /// elsewhere it fails with [`Error::NoRuntime`].
    pub fn new(store: impl Store, rules: Ruleset, config: CacheConfig) -> Result<Self> {
        Self::from_arc(Arc::new(store), rules, config)
    }

    /// Like [`Cache::new`] with a shared store.
    pub fn from_arc(store: Arc<dyn Store>, rules: Ruleset, config: CacheConfig) -> Result<Self> {
        config.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let inner = Arc::new(Inner {
            store,
            permits: Semaphore::new(config.queue_capacity),
            overdraft: AtomicUsize::new(0),
            rules,
            config,
            pending: Mutex::new(Pending::default()),
            wake: Notify::new(),
            durable: watch::Sender::new(0),
            gate: RwLock::new(()),
            counters: Counters::default(),
            healthy: AtomicBool::new(true),
            last_error: Mutex::new(None),
            dead_letters: Mutex::new(VecDeque::new()),
            tasks: Mutex::new(Vec::new()),
        });
        let mut tasks = vec![runtime.spawn(writer::run(Arc::clone(&inner)))];
        if inner.rules.message_max_age().is_some() {
            tasks.push(runtime.spawn(prune_old_messages(Arc::downgrade(&inner))));
        }
        *lock(&inner.tasks) = tasks;
        Ok(Self { inner })
    }

    /// The ruleset in force.
    pub fn rules(&self) -> &Ruleset {
        &self.inner.rules
    }

    /// The store underneath (reads on it do not see queued writes).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Queues a mutation after applying the ruleset. Never waits for the disk
    /// unless the queue is full, in which case it waits for room.
    pub async fn enqueue(&self, mutation: Mutation) -> Result<()> {
        self.enqueue_all(std::iter::once(mutation)).await
    }

    /// Queues several mutations (one event's worth) in order.
    pub async fn enqueue_all(&self, mutations: impl IntoIterator<Item = Mutation>) -> Result<()> {
        for mutation in self.filter(mutations) {
            let permit = self
                .inner
                .permits
                .acquire()
                .await
                .map_err(|_| Error::Closed)?;
            permit.forget();
            self.push(mutation)?;
        }
        Ok(())
    }

    /// Queues a mutation if there is room now; never waits.
    pub fn try_enqueue(&self, mutation: Mutation) -> Result<()> {
        for mutation in self.filter([mutation]) {
            match self.inner.permits.try_acquire() {
                Ok(permit) => permit.forget(),
                Err(tokio::sync::TryAcquireError::Closed) => return Err(Error::Closed),
                Err(tokio::sync::TryAcquireError::NoPermits) => {
                    return Err(Error::QueueFull {
                        capacity: self.inner.config.queue_capacity,
                    });
                }
            }
            self.push(mutation)?;
        }
        Ok(())
    }

    /// Queues several mutations (one event's worth) in order, from code that
    /// cannot await, such as a serenity collector running in the shard.
    ///
    /// Nothing is dropped: when the queue is full it blocks the thread until
    /// there is room on a multi-thread runtime (backpressure on the caller),
    /// and elsewhere queues past the bound, counted in
    /// [`CacheStats::over_capacity`], which later commits pay back.
    ///
    /// ```
    /// use persist_core::{Cache, MemoryStore, Migrations, Mutation, model::Guild, GuildId, ReadApi};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
    /// let guild = Guild { id: GuildId::new(1), name: "ferris club".into(), ..Default::default() };
    /// cache.enqueue_now([Mutation::upsert(guild)])?;
    /// assert!(cache.guild(GuildId::new(1)).await?.is_some());
    /// # cache.shutdown().await?;
    /// # Ok::<(), persist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn enqueue_now(&self, mutations: impl IntoIterator<Item = Mutation>) -> Result<()> {
        for mutation in self.filter(mutations) {
            match self.inner.permits.try_acquire() {
                Ok(permit) => permit.forget(),
                Err(tokio::sync::TryAcquireError::Closed) => return Err(Error::Closed),
                Err(tokio::sync::TryAcquireError::NoPermits) => self.wait_for_room()?,
            }
            self.push(mutation)?;
        }
        Ok(())
    }

    /// Takes a queue slot when none is free, without awaiting.
    fn wait_for_room(&self) -> Result<()> {
        let runtime = tokio::runtime::Handle::try_current();
        let can_block = runtime
            .as_ref()
            .is_ok_and(|r| r.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if let (true, Ok(runtime)) = (can_block, runtime) {
            let permit =
                tokio::task::block_in_place(|| runtime.block_on(self.inner.permits.acquire()))
                    .map_err(|_| Error::Closed)?;
            permit.forget();
        } else {
            self.inner.overdraft.fetch_add(1, Ordering::AcqRel);
            Counters::add(&self.inner.counters.over_capacity, 1);
        }
        Ok(())
    }

    fn filter(&self, mutations: impl IntoIterator<Item = Mutation>) -> Vec<Mutation> {
        let now = SystemTime::now();
        let mut kept = Vec::new();
        for mutation in mutations {
            match self.inner.rules.filter(mutation, now) {
                Some(m) => kept.push(m),
                None => Counters::add(&self.inner.counters.filtered, 1),
            }
        }
        kept
    }

    /// Puts a mutation whose queue slot is already reserved into the queue.
    fn push(&self, mutation: Mutation) -> Result<()> {
        let (coalesced, queued, wake) = {
            let mut pending = self.inner.lock_pending();
            if pending.closed {
                drop(pending);
                self.inner.release_slots(1);
                return Err(Error::Closed);
            }
            let coalesced = pending.push(mutation, Instant::now());
            let len = pending.open.len();
            (
                coalesced,
                len,
                len == 1 || len >= self.inner.config.batch_size,
            )
        };
        Counters::add(&self.inner.counters.enqueued, 1);
        if coalesced {
            // Folded into a queued slot: the reserved slot is not used.
            self.inner.release_slots(1);
            Counters::add(&self.inner.counters.coalesced, 1);
        }
        self.inner
            .counters
            .queue_high_water
            .fetch_max(queued, Ordering::Relaxed);
        if wake {
            self.inner.wake.notify_one();
        }
        Ok(())
    }

    /// Returns once everything enqueued before the call is durable. Fails
    /// with [`Error::Rejected`] if mutations were rejected meanwhile.
    pub async fn flush(&self) -> Result<()> {
        let rejected_before = Counters::get(&self.inner.counters.rejected);
        self.settle_queued().await?;
        let rejected = Counters::get(&self.inner.counters.rejected) - rejected_before;
        if rejected > 0 {
            return Err(Error::Rejected { count: rejected });
        }
        Ok(())
    }

    /// Waits until everything enqueued before the call is committed or rejected.
    async fn settle_queued(&self) -> Result<()> {
        let target = {
            let mut pending = self.inner.lock_pending();
            pending.flush_requested = true;
            pending.enqueued
        };
        self.inner.wake.notify_one();
        let mut durable = self.inner.durable.subscribe();
        durable
            .wait_for(|d| *d >= target)
            .await
            .map_err(|_| Error::Closed)?;
        Ok(())
    }

    /// Stops accepting mutations, commits everything queued and stops the
    /// background tasks. Later calls return at once.
    pub async fn shutdown(&self) -> Result<()> {
        let result = self.flush().await;
        {
            let mut pending = self.inner.lock_pending();
            pending.closed = true;
        }
        self.inner.permits.close();
        self.inner.wake.notify_one();
        let tasks = std::mem::take(&mut *lock(&self.inner.tasks));
        let mut tasks = tasks.into_iter();
        // The writer drains the queue and then returns; the pruner just stops.
        if let Some(writer) = tasks.next()
            && let Err(error) = writer.await
        {
            tracing::error!(%error, "the cache writer task failed");
        }
        for task in tasks {
            task.abort();
        }
        result
    }

    /// The pipeline's counters and health.
    pub fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        let (queued, in_flight) = {
            let pending = self.inner.lock_pending();
            (
                pending.open.len(),
                pending.in_flight.as_ref().map_or(0, |b| b.len()),
            )
        };
        CacheStats {
            backend: self.inner.store.backend(),
            enqueued: Counters::get(&c.enqueued),
            filtered: Counters::get(&c.filtered),
            coalesced: Counters::get(&c.coalesced),
            queued,
            queue_high_water: c.queue_high_water.load(Ordering::Relaxed),
            over_capacity: Counters::get(&c.over_capacity),
            in_flight,
            batches_committed: Counters::get(&c.batches_committed),
            mutations_committed: Counters::get(&c.mutations_committed),
            commit_failures: Counters::get(&c.commit_failures),
            rejected: Counters::get(&c.rejected),
            dead_letters: self.inner.lock_dead_letters().len(),
            dead_letters_dropped: Counters::get(&c.dead_letters_dropped),
            healthy: self.inner.healthy.load(Ordering::Relaxed),
            last_error: self.inner.lock_last_error().clone(),
        }
    }

    /// Mutations that could not be stored after retries, oldest first. They
    /// can be inspected, fixed and enqueued again.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.inner.lock_dead_letters().iter().cloned().collect()
    }

    /// Takes the dead-letter list, leaving it empty.
    pub fn take_dead_letters(&self) -> Vec<DeadLetter> {
        self.inner.lock_dead_letters().drain(..).collect()
    }

    /// Answers any query, seeing queued writes. `Counts` first waits for
    /// queued writes to commit (counting them exactly would need a read per
    /// queued object).
    pub async fn read(&self, query: &Query) -> Result<Answer> {
        if matches!(query, Query::Counts) {
            self.settle_queued().await?;
            return self.inner.store.read(query).await;
        }
        let (relevant, idempotent) = self.relevant(query);
        let answer = if idempotent {
            overlay::resolve(&*self.inner.store, query, &relevant).await?
        } else {
            let _no_commit = self.inner.gate.read().await;
            let (relevant, _) = self.relevant(query);
            overlay::resolve(&*self.inner.store, query, &relevant).await?
        };
        Ok(self.drop_expired(answer))
    }

    /// The in-flight and queued mutations that can change `query`'s answer,
    /// oldest first, and whether they are all idempotent.
    fn relevant(&self, query: &Query) -> (Vec<Mutation>, bool) {
        let pending = self.inner.lock_pending();
        let in_flight = pending.in_flight.iter().flat_map(|b| b.iter());
        let relevant: Vec<Mutation> = in_flight
            .chain(pending.open.iter())
            .filter_map(|m| overlay::relevant_part(m, query))
            .collect();
        let idempotent = relevant.iter().all(Mutation::is_idempotent);
        (relevant, idempotent)
    }

    /// Hides messages past the age limit that the next prune will remove.
    fn drop_expired(&self, answer: Answer) -> Answer {
        let Some(oldest) = self.inner.rules.oldest_kept_message(SystemTime::now()) else {
            return answer;
        };
        match answer {
            Answer::Message(Some(m)) if m.id < oldest => Answer::Message(None),
            Answer::Messages(mut page) => {
                page.retain(|m| m.id >= oldest);
                Answer::Messages(page)
            }
            other => other,
        }
    }
}

/// Enqueues an age prune now and every `prune_interval`, until shutdown.
async fn prune_old_messages(inner: Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let interval = strong.config.prune_interval;
        let cache = Cache { inner: strong };
        if let Some(before) = cache.rules().oldest_kept_message(SystemTime::now()) {
            match cache.enqueue(Mutation::PruneMessages { before }).await {
                Ok(()) => {}
                Err(Error::Closed) => return,
                Err(error) => tracing::warn!(%error, "could not queue the message age prune"),
            }
        }
        drop(cache);
        tokio::time::sleep(interval).await;
    }
}

#[async_trait::async_trait]
impl ReadApi for Cache {
    async fn query(&self, query: &Query) -> Result<Answer> {
        self.read(query).await
    }
}
