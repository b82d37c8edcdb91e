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
///
/// It reads from configuration files with serde: durations are written as
/// humans write them (`"50ms"`, `"5s"`), memory in bytes, and fields left
/// out keep their defaults.
///
/// ```
/// let config: persist_core::CacheConfig = toml::from_str(r#"
///     batch_delay = "20ms"
///     memory_budget = 1_073_741_824
///     pinned_kinds = "GUILDS | CHANNELS | ROLES"
/// "#).unwrap();
/// assert_eq!(config.batch_delay, std::time::Duration::from_millis(20));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// A batch commits once it holds this many mutations.
    pub batch_size: usize,
    /// ...or once its first mutation has waited this long (the flush window).
    #[serde(with = "humantime_serde")]
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
    #[serde(with = "humantime_serde")]
    pub retry_initial: Duration,
    /// Longest pause between retries.
    #[serde(with = "humantime_serde")]
    pub retry_max: Duration,
    /// Attempts of a whole batch before it is split to find the mutations
    /// that cannot be stored.
    pub retry_attempts: u32,
    /// How many rejected mutations `Cache::dead_letters` keeps.
    pub dead_letter_capacity: usize,
    /// How often messages past the ruleset's age limit are pruned.
    #[serde(with = "humantime_serde")]
    pub prune_interval: Duration,
    /// The longest `Cache::flush` waits for the
    /// queue to commit, and `Cache::shutdown` for the queue to drain, before
    /// giving up with an error that says how many mutations are not
    /// committed: a store that refuses every write (a full disk, a file
    /// made read-only) must not hang the bot's exit. After `flush` gives up
    /// the writer keeps retrying; after `shutdown` gives up the mutations
    /// are moved to the dead-letter list (`Cache::take_dead_letters`).
    #[serde(with = "humantime_serde")]
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

pub(crate) fn duration_in_range(
    setting: &'static str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::DurationOutOfRange {
            setting,
            min,
            max,
            value,
        })
    }
}

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// The longest [`CacheConfig::batch_delay`]: a crash loses up to one flush
/// window, so a longer one would void that promise.
pub const MAX_BATCH_DELAY: Duration = Duration::from_secs(10);

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
        in_range(
            "dead_letter_capacity",
            self.dead_letter_capacity as u64,
            1,
            100_000_000,
        )?;
        duration_in_range("batch_delay", self.batch_delay, MS, MAX_BATCH_DELAY)?;
        duration_in_range("retry_initial", self.retry_initial, MS, HOUR)?;
        duration_in_range("retry_max", self.retry_max, self.retry_initial, DAY)?;
        duration_in_range(
            "prune_interval",
            self.prune_interval,
            Duration::from_secs(1),
            30 * DAY,
        )?;
        duration_in_range("flush_timeout", self.flush_timeout, MS, DAY)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A change to the defaults.
    type Change = fn(&mut CacheConfig);

    /// The message of the error `change` makes, which must name the field,
    /// the value and the range.
    fn rejected(change: Change) -> String {
        let mut config = CacheConfig::default();
        change(&mut config);
        match config.validate() {
            Err(e) => e.to_string(),
            Ok(()) => panic!("accepted {config:?}"),
        }
    }

    #[test]
    fn every_rejected_value_names_the_field_the_value_and_the_range() {
        let cases: Vec<(Change, &str)> = vec![
            (
                |c| c.batch_delay = DAY,
                "batch_delay must be between 1ms and 10s, got 1day",
            ),
            (
                |c| c.batch_delay = Duration::ZERO,
                "batch_delay must be between 1ms and 10s, got 0s",
            ),
            (
                |c| c.dead_letter_capacity = 0,
                "dead_letter_capacity must be between 1 and 100000000, got 0",
            ),
            (
                |c| c.batch_size = 0,
                "batch_size must be between 1 and 1000000, got 0",
            ),
            (
                |c| c.retry_max = Duration::from_millis(10),
                "retry_max must be between 50ms and 1day, got 10ms",
            ),
            (
                |c| c.flush_timeout = Duration::MAX,
                "flush_timeout must be between 1ms and 1day, got",
            ),
            (
                |c| c.prune_interval = Duration::from_millis(1),
                "prune_interval must be between 1s and 30days, got 1ms",
            ),
            (
                |c| c.queue_capacity = 10,
                "queue_capacity must be between 1000 and 100000000, got 10",
            ),
            (
                |c| c.hot_messages_per_channel = 1 << 20,
                "hot_messages_per_channel must be between 0 and 100000, got 1048576",
            ),
        ];
        for (change, expected) in cases {
            let message = rejected(change);
            assert!(message.starts_with(expected), "{message:?} != {expected:?}");
        }
    }

    #[test]
    fn the_defaults_and_the_bounds_are_accepted() {
        assert_eq!(CacheConfig::default().validate(), Ok(()));
        let config = CacheConfig {
            batch_delay: MAX_BATCH_DELAY,
            dead_letter_capacity: 1,
            ..Default::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn reads_from_toml_with_human_durations_and_refuses_unknown_fields() {
        let config: CacheConfig = toml::from_str(
            r#"
            batch_delay = "20ms"
            flush_timeout = "1m 30s"
            dead_letter_capacity = 5
            pinned_kinds = "GUILDS | CHANNELS"
            "#,
        )
        .unwrap();
        assert_eq!(config.batch_delay, Duration::from_millis(20));
        assert_eq!(config.flush_timeout, Duration::from_secs(90));
        assert_eq!(config.dead_letter_capacity, 5);
        assert_eq!(
            config.pinned_kinds,
            ResourceKind::GUILDS | ResourceKind::CHANNELS
        );
        assert_eq!(config.batch_size, CacheConfig::default().batch_size);
        let err = toml::from_str::<CacheConfig>("batch_dealy = \"20ms\"").unwrap_err();
        assert!(err.to_string().contains("batch_dealy"), "{err}");
        let err = toml::from_str::<CacheConfig>("batch_delay = \"soon\"").unwrap_err();
        assert!(err.to_string().contains("batch_delay"), "{err}");
    }
}
