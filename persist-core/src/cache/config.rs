//! Settings of the write pipeline and the hot tier.

use std::time::Duration;

use crate::{ConfigError, ResourceKind, Ruleset};

/// How the write pipeline batches, bounds and retries, and what the hot
/// tier keeps in memory.
///
/// The defaults commit a batch every 1,000 mutations or every 50 ms, whichever
/// comes first, so a crash normally loses the last 50 ms of writes; while the
/// store is behind (a stalled disk), a crash loses everything still queued.
///
/// ```
/// use std::time::Duration;
/// let config = persist_core::CacheConfig {
///     batch_delay: Duration::from_millis(10),
///     ..Default::default()
/// };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// A batch commits once it holds this many mutations.
    pub batch_size: usize,
    /// ...or once its first mutation has waited this long (the flush window).
    pub batch_delay: Duration,
    /// The most rows one transaction writes (an object written whole is a
    /// row; a member list is a row per member; one mutation is never cut).
    /// A larger batch commits in several transactions, in order, so what a
    /// commit holds in memory (its changes, the engine's dirty pages) stays
    /// bounded when a backlog or a startup burst (every guild's member list
    /// at once) is committed. A crash between them loses only what was not
    /// yet committed, as always.
    pub max_commit_rows: usize,
    /// The queue's soft bound, in mutations: the async `enqueue` waits for
    /// room beyond it (backpressure). The shard's path (`enqueue_now`,
    /// [`Producer`](crate::Producer)) never waits: it queues past this bound,
    /// up to `queue_memory_budget`.
    pub queue_capacity: usize,
    /// The most memory, in estimated bytes (see [`HeapSize`](crate::HeapSize)),
    /// that mutations waiting to be committed may hold. Past it the cache
    /// sheds, in this order: queued and incoming presences; then the queued
    /// message writes (creates, edits, reactions) of the busiest channels,
    /// oldest first; then queued member and user writes, oldest first,
    /// until the queue is back under three quarters of the budget. Incoming
    /// mutations of those kinds are shed while the queue is over 1.25 times
    /// the budget, and so are the members, users, presences and voice
    /// states a GUILD_CREATE or a member chunk lists (the rest of the list
    /// is kept; a chunk answering the application's own member request,
    /// queued by `Producer::enqueue_requested_now`, is kept whole). Guilds,
    /// channels, roles, emojis, stickers, the bot's own user, deletes and
    /// reconciliation are never shed. Every shed mutation is counted by kind
    /// ([`CacheStats::shed`](crate::CacheStats)) and its guild marked for a
    /// resync.
    ///
    /// Worst case: 1.25 times the budget plus one event's mutations, plus
    /// the never-shed kinds queued meanwhile (a guild's structure, a few KiB
    /// per guild), plus one copy of the batch being committed.
    pub queue_memory_budget: usize,
    /// First pause before retrying a failed batch; doubles each time.
    pub retry_initial: Duration,
    /// Longest pause between retries.
    pub retry_max: Duration,
    /// Attempts of a whole batch before it is split to find the mutations
    /// that cannot be stored.
    pub retry_attempts: u32,
    /// How many rejected mutations `Cache::dead_letters` keeps.
    pub dead_letter_capacity: usize,
    /// How often messages past the ruleset's age limit are pruned.
    pub prune_interval: Duration,
    /// The longest `Cache::flush` waits for the
    /// queue to commit, and `Cache::shutdown` for the queue to drain, before
    /// giving up with an error that says how many mutations are not
    /// committed: a store that refuses every write (a full disk, a file
    /// made read-only) must not hang the bot's exit. After `flush` gives up
    /// the writer keeps retrying; after `shutdown` gives up the mutations
    /// are moved to the dead-letter list (`Cache::take_dead_letters`).
    pub flush_timeout: Duration,
    /// The memory, in estimated bytes, that the hot tier and the write
    /// queue hold together. The hot tier evicts, least recently used first,
    /// down to this budget minus what the queue holds, whenever either
    /// grows; what is pinned is never evicted (so pinned objects can take
    /// the hot tier past it: see `Cache::stats().hot`). The queue is bounded
    /// by `queue_memory_budget` on its own: a burst of writes takes memory
    /// from the hot tier, never the other way round. Evicted objects stay in
    /// the store: eviction loses nothing. `Cache::set_memory_budget`
    /// changes it at run time.
    pub memory_budget: usize,
    /// Kinds held in memory whatever the budget (once loaded, or written):
    /// by default a guild's structure (the guild, channels, threads, roles,
    /// emojis, stickers, voice states, stage instances) and the bot's own
    /// user; the bot's own member in every guild is pinned too. Other
    /// kinds are held by recency of use, within the budget.
    pub pinned_kinds: ResourceKind,
    /// The newest messages of a channel held in memory once the channel is
    /// read (at most the ruleset's message cap; 0: page reads always go to
    /// the store).
    pub hot_messages_per_channel: usize,
}

/// The kinds [`CacheConfig::pinned_kinds`] pins by default.
pub const DEFAULT_PINNED_KINDS: ResourceKind = ResourceKind::GUILDS
    .union(ResourceKind::CHANNELS)
    .union(ResourceKind::THREADS)
    .union(ResourceKind::ROLES)
    .union(ResourceKind::EMOJIS)
    .union(ResourceKind::STICKERS)
    .union(ResourceKind::VOICE_STATES)
    .union(ResourceKind::STAGE_INSTANCES)
    .union(ResourceKind::CURRENT_USER);

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            batch_delay: Duration::from_millis(50),
            max_commit_rows: 50_000,
            queue_capacity: 10_000,
            queue_memory_budget: 256 << 20,
            retry_initial: Duration::from_millis(50),
            retry_max: Duration::from_secs(5),
            retry_attempts: 6,
            dead_letter_capacity: 10_000,
            prune_interval: Duration::from_secs(60),
            flush_timeout: Duration::from_secs(30),
            memory_budget: 512 << 20,
            pinned_kinds: DEFAULT_PINNED_KINDS,
            hot_messages_per_channel: 50,
        }
    }
}

fn in_range(setting: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            setting,
            min,
            max,
            value,
        })
    }
}

fn nonzero(setting: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.is_zero() {
        Err(ConfigError::ZeroDuration { setting })
    } else {
        Ok(())
    }
}

impl CacheConfig {
    /// The messages a channel's window holds under a ruleset.
    pub(crate) fn hot_window(&self, rules: &Ruleset) -> usize {
        self.hot_messages_per_channel
            .min(rules.message_cap() as usize)
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        in_range("batch_size", self.batch_size as u64, 1, 1_000_000)?;
        in_range(
            "max_commit_rows",
            self.max_commit_rows as u64,
            1,
            10_000_000,
        )?;
        in_range(
            "queue_capacity",
            self.queue_capacity as u64,
            self.batch_size as u64,
            100_000_000,
        )?;
        in_range(
            "queue_memory_budget",
            self.queue_memory_budget as u64,
            1024,
            u64::MAX,
        )?;
        in_range(
            "hot_messages_per_channel",
            self.hot_messages_per_channel as u64,
            0,
            100_000,
        )?;
        in_range("retry_attempts", u64::from(self.retry_attempts), 1, 1000)?;
        nonzero("batch_delay", self.batch_delay)?;
        nonzero("retry_initial", self.retry_initial)?;
        nonzero("prune_interval", self.prune_interval)?;
        nonzero("flush_timeout", self.flush_timeout)?;
        if self.retry_max < self.retry_initial {
            return Err(ConfigError::OutOfRange {
                setting: "retry_max (ms)",
                min: self.retry_initial.as_millis() as u64,
                max: u64::MAX,
                value: self.retry_max.as_millis() as u64,
            });
        }
        Ok(())
    }
}
