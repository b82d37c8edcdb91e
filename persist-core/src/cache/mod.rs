//! The cache: the front a bot talks to. Mutations go through the ruleset into
//! a bounded queue, coalesce, and are committed in batches by a background
//! task; reads see every queued mutation.

mod coalesce;
pub(crate) mod config;
mod hot;
mod hot_view;
mod memory;
mod overlay;
mod producer;
mod push;
mod queue;
mod read;
mod relevance;
mod resync;
mod shed;
mod stats;
mod writer;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::SystemTime;

use tokio::sync::{Notify, RwLock, watch};
use tokio::task::JoinHandle;

pub use config::{CacheConfig, DEFAULT_PINNED_KINDS, MAX_BATCH_DELAY};
pub use hot::{HotKindStats, HotStats, Pin};
pub use hot_view::HotView;
pub use producer::Producer;
pub use stats::{CacheStats, DeadLetter};

use crate::{
    Answer, Error, GuildId, Mutation, Query, ReadApi, ResourceKind, Result, Ruleset, Store,
};
use hot::HotTier;
use queue::{Lane, Queue, lock};
use stats::Counters;

pub(crate) struct Inner {
    store: Arc<dyn Store>,
    rules: Ruleset,
    config: CacheConfig,
    queue: Queue,
    /// What is hot, as the store and the queue have it together. Locked
    /// around applying a mutation and queueing it, so a load that snapshots
    /// the queue under it sees each mutation in one place or the other.
    hot: Mutex<HotTier>,
    /// Bytes the hot tier and the queue may hold together (settable).
    memory_budget: AtomicUsize,
    /// The lane of callers that are not producers of their own.
    default_lane: Arc<Lane>,
    /// Wakes the writer.
    wake: Notify,
    /// A `flush()` is waiting: commit now rather than after the delay.
    flush_requested: AtomicBool,
    /// Wakes async enqueuers waiting for room under the soft bound.
    room: Notify,
    /// The sequence number below which everything is settled.
    durable: watch::Sender<u64>,
    /// Held for writing while a batch commits; reads that must not see a
    /// batch both in the store and in the queue hold it for reading.
    gate: RwLock<()>,
    /// Odd while a commit holds the gate; bumped on entering and leaving.
    commit_epoch: AtomicU64,
    counters: Counters,
    healthy: AtomicBool,
    /// Over the memory budget now (a burst of shedding).
    shedding: AtomicBool,
    /// Wakes the compaction task.
    shed_wake: Arc<Notify>,
    /// Guilds whose shed mutations a resync must bring back: each kind
    /// with the shed mark of its last shed mutation.
    stale: Mutex<HashMap<GuildId, Vec<(ResourceKind, u64)>>>,
    /// Counts the times something was shed (see `Cache::shed_mark`).
    shed_marks: AtomicU64,
    /// Wakes `wait_for_resync` when shedding ends or the store recovers.
    resync_ready: Notify,
    last_error: Mutex<Option<String>>,
    dead_letters: Mutex<VecDeque<DeadLetter>>,
    /// The writer first, then the other tasks.
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Set by the first shutdown, held while it runs (later calls wait for
    /// it, then return).
    shut_down: tokio::sync::Mutex<bool>,
}

/// Where queued mutations come from, for shedding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// The gateway's traffic.
    Gateway,
    /// The answer to a resync the application asked for.
    RequestedResync,
}

impl Inner {
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
        let queue = Queue::default();
        let default_lane = queue.lane();
        let hot = HotTier::new(config.pinned_kinds, config.hot_window(&rules));
        let memory_budget = config.memory_budget;
        let inner = Arc::new(Inner {
            store,
            rules,
            config,
            queue,
            hot: Mutex::new(hot),
            memory_budget: AtomicUsize::new(memory_budget),
            default_lane,
            wake: Notify::new(),
            flush_requested: AtomicBool::new(false),
            room: Notify::new(),
            durable: watch::Sender::new(0),
            gate: RwLock::new(()),
            commit_epoch: AtomicU64::new(0),
            counters: Counters::default(),
            healthy: AtomicBool::new(true),
            shedding: AtomicBool::new(false),
            shed_wake: Arc::new(Notify::new()),
            stale: Mutex::new(HashMap::new()),
            shed_marks: AtomicU64::new(0),
            resync_ready: Notify::new(),
            last_error: Mutex::new(None),
            dead_letters: Mutex::new(VecDeque::new()),
            tasks: Mutex::new(Vec::new()),
            shut_down: tokio::sync::Mutex::new(false),
        });
        let mut tasks = vec![
            runtime.spawn(writer::run(Arc::clone(&inner))),
            runtime.spawn(shed::run(Arc::downgrade(&inner))),
        ];
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

    /// The pipeline's settings.
    pub fn config(&self) -> &CacheConfig {
        &self.inner.config
    }

    /// The store underneath (reads on it do not see queued writes).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// Queues a mutation after applying the ruleset. Never waits for the
    /// disk; waits for room while the queue is past its soft bound
    /// (`queue_capacity`), which is how callers that can wait are slowed down
    /// when the store falls behind.
    ///
    /// A mutation nested deeper than [`MAX_NESTING`](crate::MAX_NESTING)
    /// levels (no store could read it back) is not queued: it goes to the
    /// dead-letter list, counted in `stats().rejected`.
    pub async fn enqueue(&self, mutation: Mutation) -> Result<()> {
        self.enqueue_all(std::iter::once(mutation)).await
    }

    /// Queues several mutations (one event's worth) in order.
    pub async fn enqueue_all(&self, mutations: impl IntoIterator<Item = Mutation>) -> Result<()> {
        let now = SystemTime::now();
        // Collected first: the caller's iterator is not held across waits.
        let mutations: Vec<Mutation> = mutations.into_iter().collect();
        for mutation in mutations {
            let Some(mutation) = self.inner.admit(mutation, now) else {
                continue;
            };
            self.reserve_room().await?;
            self.inner
                .push_one(&self.inner.default_lane, mutation, true)?;
        }
        Ok(())
    }

    /// Waits until a slot under the soft bound is free and takes it.
    async fn reserve_room(&self) -> Result<()> {
        loop {
            let room = self.inner.room.notified();
            if self.inner.queue.closed.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            if self.inner.queue.reserve(self.inner.config.queue_capacity) {
                return Ok(());
            }
            room.await;
        }
    }

    /// Queues a mutation if the queue is under its soft bound; never waits.
    pub fn try_enqueue(&self, mutation: Mutation) -> Result<()> {
        let Some(mutation) = self.inner.admit(mutation, SystemTime::now()) else {
            return Ok(());
        };
        if !self.inner.queue.reserve(self.inner.config.queue_capacity) {
            return Err(Error::QueueFull {
                capacity: self.inner.config.queue_capacity,
            });
        }
        self.inner
            .push_one(&self.inner.default_lane, mutation, true)
    }

    /// Queues several mutations (one event's worth) in order, from code that
    /// cannot wait, such as a serenity collector running in the shard.
    ///
    /// Never blocks: past the soft bound the queue grows, up to its memory
    /// budget, past which the cache sheds in the documented order (see
    /// [`CacheConfig::queue_memory_budget`]), counting what it sheds. A
    /// producer that runs often (a shard) should use its own
    /// [`Producer`], which shares no lock with other producers.
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
        self.inner
            .push(&self.inner.default_lane, mutations, Origin::Gateway)
    }

    /// A producer with a queue lane of its own (one per shard).
    pub fn producer(&self) -> Producer {
        Producer::new(self.clone(), self.inner.queue.lane())
    }

    /// Whether [`shutdown`](Cache::shutdown) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.queue.closed.load(Ordering::Acquire)
    }

    /// Returns once everything enqueued before the call is durable. Fails
    /// with [`Error::Rejected`] if mutations were rejected meanwhile, and
    /// with [`Error::FlushTimedOut`] if the store has not committed them
    /// within [`CacheConfig::flush_timeout`] (they stay queued).
    pub async fn flush(&self) -> Result<()> {
        let rejected_before = Counters::get(&self.inner.counters.rejected);
        self.settle_queued().await?;
        let rejected = Counters::get(&self.inner.counters.rejected) - rejected_before;
        if rejected > 0 {
            return Err(Error::Rejected { count: rejected });
        }
        Ok(())
    }

    /// Waits until everything enqueued before the call is committed or
    /// rejected, for at most the flush timeout.
    async fn settle_queued(&self) -> Result<()> {
        let target = self.inner.queue.next_seq.load(Ordering::Acquire);
        let mut durable = self.inner.durable.subscribe();
        if *durable.borrow() >= target {
            return Ok(());
        }
        self.inner.flush_requested.store(true, Ordering::Release);
        self.inner.wake.notify_one();
        let waited = self.inner.config.flush_timeout;
        match tokio::time::timeout(waited, durable.wait_for(|d| *d >= target)).await {
            Ok(settled) => settled.map(drop).map_err(|_| Error::Closed),
            Err(_) => {
                let pending = self.inner.queue.len.load(Ordering::Acquire);
                tracing::error!(
                    backend = self.inner.store.backend(),
                    pending,
                    ?waited,
                    last_error = ?self.inner.lock_last_error().as_deref(),
                    "the queue did not commit in time; the writer keeps retrying"
                );
                Err(Error::FlushTimedOut { pending, waited })
            }
        }
    }

    /// Stops accepting mutations, commits everything queued, stops the
    /// background tasks and closes the store ([`Store::close`]: an embedded
    /// store checkpoints its journal into its file; a shared one ends its
    /// leases). Safe to call more than once: later calls wait for the first
    /// to finish, then return `Ok(())`.
    ///
    /// It waits at most [`CacheConfig::flush_timeout`]: if the store still
    /// refuses the queue then, the writer is stopped, what was not committed
    /// moves to the dead-letter list (in arrival order, past its capacity:
    /// nothing is dropped) and the call fails with [`Error::NotCommitted`].
    pub async fn shutdown(&self) -> Result<()> {
        let mut shut_down = self.inner.shut_down.lock().await;
        if *shut_down {
            return Ok(());
        }
        *shut_down = true;
        let drained = self.drain_and_stop().await;
        let closed = self.inner.store.close().await;
        let stats = self.stats();
        match (&drained, &closed) {
            (Ok(()), Ok(())) => tracing::info!(
                backend = self.inner.store.backend(),
                mutations_committed = stats.mutations_committed,
                batches_committed = stats.batches_committed,
                rejected = stats.rejected,
                "cache shut down: everything received is committed and the store is closed"
            ),
            (_, Err(error)) => tracing::error!(
                backend = self.inner.store.backend(),
                %error,
                "closing the store at shutdown failed"
            ),
            (Err(_), Ok(())) => {}
        }
        drained.and(closed)
    }

    /// Commits what is queued (within the flush timeout) and stops the
    /// background tasks.
    async fn drain_and_stop(&self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.inner.config.flush_timeout;
        let result = self.flush().await;
        self.inner.queue.closed.store(true, Ordering::Release);
        self.inner.wake.notify_one();
        self.inner.room.notify_waiters();
        self.inner.resync_ready.notify_waiters();
        self.inner.shed_wake.notify_one();
        let tasks = std::mem::take(&mut *lock(&self.inner.tasks));
        let mut tasks = tasks.into_iter();
        // The writer drains the queue and then returns; the others just stop.
        if let Some(mut writer) = tasks.next() {
            match tokio::time::timeout_at(deadline, &mut writer).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "the cache writer task failed"),
                Err(_) => {
                    // Stopped between commits: a store applies a batch
                    // whole or not at all, and an unsettled batch is
                    // still in the queue.
                    writer.abort();
                    let _ = writer.await;
                }
            }
        }
        // Awaited, so their hold on the store is gone when this returns.
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
        let unsettled = self.inner.queue.drain_unsettled();
        if unsettled.is_empty() {
            return result;
        }
        let count = unsettled.len();
        let reason = format!(
            "not committed before shutdown: {}",
            self.inner
                .lock_last_error()
                .as_deref()
                .unwrap_or("the store did not answer in time")
        );
        tracing::error!(
            backend = self.inner.store.backend(),
            count,
            %reason,
            "shutdown gave up on the store; the mutations are in the dead-letter list"
        );
        Counters::add(&self.inner.counters.rejected, count as u64);
        {
            let mut hot = lock(&self.inner.hot);
            for mutation in &unsettled {
                hot.forget(mutation);
            }
        }
        self.inner
            .lock_dead_letters()
            .extend(unsettled.into_iter().map(|mutation| DeadLetter {
                mutation,
                error: reason.clone(),
            }));
        Err(Error::NotCommitted { count })
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
