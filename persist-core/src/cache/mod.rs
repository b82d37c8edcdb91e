//! The cache: the front a bot talks to. Mutations go through the ruleset into
//! a bounded queue, coalesce, and are committed in batches by a background
//! task; reads see every queued mutation.

mod coalesce;
mod config;
mod hot;
mod hot_view;
mod overlay;
mod producer;
mod queue;
mod read;
mod shed;
mod stats;
mod writer;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::SystemTime;

use tokio::sync::{Notify, RwLock, watch};
use tokio::task::JoinHandle;

pub use config::{CacheConfig, DEFAULT_PINNED_KINDS};
pub use hot::{HotKindStats, HotStats, Pin};
pub use hot_view::HotView;
pub use producer::Producer;
pub use stats::{CacheStats, DeadLetter};

use crate::heap_size::queued_bytes;
use crate::{
    Answer, Error, GuildId, Mutation, Query, ReadApi, ResourceKind, Result, Ruleset, Store,
};
use hot::HotTier;
use queue::{Lane, PushError, Queue, lock};
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

    /// The mutation as the ruleset keeps it, or `None` (counted) when
    /// nothing of it is cached.
    ///
    /// A mutation no store could read back (nested deeper than
    /// [`MAX_NESTING`](crate::MAX_NESTING)) goes to the dead-letter list.
    fn admit(&self, mutation: Mutation, now: SystemTime) -> Option<Mutation> {
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
    fn reject(&self, mutation: Mutation, error: String) {
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
    fn push(
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
    fn push_one(&self, lane: &Lane, mutation: Mutation, reserved: bool) -> Result<()> {
        let Some(mutation) = self.shed_incoming(mutation) else {
            if reserved {
                self.queue.unreserve();
            }
            return Ok(());
        };
        self.queue_one(lane, mutation, reserved)
    }

    /// Queues one mutation as it is (nothing shed).
    fn queue_one(&self, lane: &Lane, mutation: Mutation, reserved: bool) -> Result<()> {
        let bytes = queued_bytes(&mutation);
        let len = {
            let mut hot = lock(&self.hot);
            if self.queue.closed.load(Ordering::Acquire) {
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

    /// Guilds whose writes were shed (the queue was over its memory budget)
    /// and not re-synced since, with what must be brought back.
    pub fn stale_guilds(&self) -> Vec<(GuildId, ResourceKind)> {
        let mut stale: Vec<_> = lock(&self.inner.stale)
            .iter()
            .map(|(g, kinds)| (*g, kinds.iter().map(|(k, _)| *k).collect()))
            .collect();
        stale.sort_unstable_by_key(|(g, _)| *g);
        stale
    }

    /// Records that `kinds` of a guild were re-synced, by an answer that
    /// was complete when it was queued (a GUILD_CREATE).
    pub fn mark_resynced(&self, guild_id: GuildId, kinds: ResourceKind) {
        self.mark_resynced_since(guild_id, kinds, u64::MAX);
    }

    /// The mark to take when asking for a resync whose answer arrives over
    /// time (a member request's chunks), for
    /// [`mark_resynced_since`](Cache::mark_resynced_since).
    pub fn shed_mark(&self) -> u64 {
        self.inner.shed_marks.load(Ordering::Acquire)
    }

    /// Records that `kinds` of a guild were re-synced by an answer asked
    /// for at `mark` (from [`shed_mark`](Cache::shed_mark)): a kind of the
    /// guild shed after the mark (part of the answer, or a change after it)
    /// stays stale, to be asked for again.
    ///
    /// ```
    /// use persist_core::{Cache, GuildId, MemoryStore, Migrations, ResourceKind};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
    /// let mark = cache.shed_mark();
    /// // ... every chunk of the guild's member list arrived and was queued ...
    /// cache.mark_resynced_since(GuildId::new(1), ResourceKind::MEMBERS, mark);
    /// assert!(cache.stale_guilds().is_empty());
    /// # cache.shutdown().await?;
    /// # Ok::<(), persist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn mark_resynced_since(&self, guild_id: GuildId, kinds: ResourceKind, mark: u64) {
        let mut stale = lock(&self.inner.stale);
        if let Some(left) = stale.get_mut(&guild_id) {
            left.retain(|(kind, shed_at)| !(kinds.contains(*kind) && *shed_at <= mark));
            if left.is_empty() {
                stale.remove(&guild_id);
            }
        }
    }

    /// Whether the cache can take a resync now: the queue is back under its
    /// memory budget and the last commit succeeded.
    pub fn ready_for_resync(&self) -> bool {
        !self.inner.shedding.load(Ordering::Acquire) && self.inner.healthy.load(Ordering::Acquire)
    }

    /// Whether [`shutdown`](Cache::shutdown) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.queue.closed.load(Ordering::Acquire)
    }

    /// Waits until guilds are stale and the cache can take a resync (the
    /// queue is back under its budget and the last commit succeeded), then
    /// returns them; `Err(Closed)` after shutdown. (It holds the cache while
    /// it waits.)
    pub async fn wait_for_resync(&self) -> Result<Vec<(GuildId, ResourceKind)>> {
        loop {
            let ready = self.inner.resync_ready.notified();
            if self.inner.queue.closed.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            let stale = self.stale_guilds();
            if !stale.is_empty() && self.ready_for_resync() {
                return Ok(stale);
            }
            ready.await;
        }
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

    /// Stops accepting mutations, commits everything queued and stops the
    /// background tasks. Later calls return at once.
    ///
    /// It waits at most [`CacheConfig::flush_timeout`]: if the store still
    /// refuses the queue then, the writer is stopped, what was not committed
    /// moves to the dead-letter list (in arrival order, past its capacity:
    /// nothing is dropped) and the call fails with [`Error::NotCommitted`].
    pub async fn shutdown(&self) -> Result<()> {
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

    /// The pipeline's counters and health.
    pub fn stats(&self) -> CacheStats {
        let c = &self.inner.counters;
        let in_flight = lock(&self.inner.queue.in_flight)
            .as_ref()
            .map_or(0, |c| c.pending().len());
        let queued = self
            .inner
            .queue
            .len
            .load(Ordering::Acquire)
            .saturating_sub(in_flight);
        CacheStats {
            backend: self.inner.store.backend(),
            enqueued: Counters::get(&c.enqueued),
            filtered: Counters::get(&c.filtered),
            coalesced: Counters::get(&c.coalesced),
            queued,
            queue_bytes: self.inner.queue.bytes.load(Ordering::Acquire),
            shed: c.shed(),
            shedding: self.inner.shedding.load(Ordering::Acquire),
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
            memory_budget: self.inner.memory_budget.load(Ordering::Acquire),
            hot: HotStats {
                hits: Counters::get(&c.hot_hits),
                misses: Counters::get(&c.hot_misses),
                ..lock(&self.inner.hot).stats()
            },
        }
    }

    /// Keeps something in memory whatever the budget (a channel a ticket
    /// system watches, a member a moderation tool reads on every message).
    /// It is loaded on its first read and never evicted until
    /// [`unpin`](Cache::unpin)ned.
    ///
    /// ```
    /// use persist_core::{Cache, ChannelId, MemoryStore, Migrations, Pin};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
    /// cache.pin(Pin::ChannelMessages(ChannelId::new(10)));
    /// # cache.shutdown().await?;
    /// # Ok::<(), persist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn pin(&self, pin: Pin) {
        lock(&self.inner.hot).pin(pin);
    }

    /// Lets a pinned object be evicted again.
    pub fn unpin(&self, pin: Pin) {
        lock(&self.inner.hot).unpin(pin);
    }

    /// Changes the memory budget (see [`CacheConfig::memory_budget`]);
    /// a smaller one evicts at once. Nothing evicted is lost: it is in the
    /// store, or queued for it.
    ///
    /// ```
    /// use persist_core::{Cache, MemoryStore, Migrations};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
    /// cache.set_memory_budget(64 << 20);
    /// assert_eq!(cache.stats().memory_budget, 64 << 20);
    /// # cache.shutdown().await?;
    /// # Ok::<(), persist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_memory_budget(&self, bytes: usize) {
        self.inner.memory_budget.store(bytes, Ordering::Release);
        let mut hot = lock(&self.inner.hot);
        self.inner.fit_hot(&mut hot);
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
