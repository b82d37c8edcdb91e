//! What the pipeline reports about itself.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::entity::Record;
use crate::{GuildId, Mutation, ResourceKind};

use super::hot::HotStats;
use super::queue::lock;

/// A snapshot of the pipeline's counters (see `Cache::stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// The backend's name.
    pub backend: &'static str,
    /// Mutations accepted by `enqueue` after the ruleset.
    pub enqueued: u64,
    /// Mutations the ruleset dropped before queueing.
    pub filtered: u64,
    /// Mutations folded into a queued write of the same object.
    pub coalesced: u64,
    /// Mutations waiting for a batch now.
    pub queued: usize,
    /// Estimated bytes the waiting and in-flight mutations hold.
    pub queue_bytes: usize,
    /// The most mutations that ever waited at once.
    pub queue_high_water: usize,
    /// Mutations the shard's path queued past the soft bound
    /// (`queue_capacity`) instead of waiting; nothing was dropped.
    pub over_capacity: u64,
    /// Mutations shed because the queue was over its memory budget, by
    /// kind (`"presences"`, `"messages"`, `"members"`, `"users"`, ...).
    /// Their guilds are listed by [`Cache::stale_guilds`](crate::Cache::stale_guilds)
    /// until re-synced.
    pub shed: BTreeMap<String, u64>,
    /// Whether the queue is over its memory budget now.
    pub shedding: bool,
    /// Mutations in the batch being committed now.
    pub in_flight: usize,
    /// Batches committed.
    pub batches_committed: u64,
    /// Mutations committed.
    pub mutations_committed: u64,
    /// Failed attempts to commit a batch (each one logged).
    pub commit_failures: u64,
    /// Mutations that could not be stored after retries.
    pub rejected: u64,
    /// Mutations refused because this process lost a shard lease to
    /// another process ([`Error::Fenced`](crate::Error::Fenced)); not
    /// retried: the shards' new owner re-syncs them from Discord.
    pub fenced_mutations: u64,
    /// Rejected mutations currently kept in the dead-letter list.
    pub dead_letters: usize,
    /// Rejected mutations dropped because the dead-letter list was full.
    pub dead_letters_dropped: u64,
    /// Whether the last commit attempt succeeded.
    pub healthy: bool,
    /// The last commit error, if any.
    pub last_error: Option<String>,
    /// The memory budget in force (hot tier and write queue together).
    pub memory_budget: usize,
    /// What the hot tier holds, its hits and misses.
    pub hot: super::HotStats,
}

/// A mutation that could not be stored, with why.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The mutation.
    pub mutation: Mutation,
    /// The store's error.
    pub error: String,
}

/// What a shed mutation was, for the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ShedKind {
    Presences,
    Messages,
    Members,
    Users,
    VoiceStates,
    ThreadMembers,
}

impl ShedKind {
    pub const ALL: [ShedKind; 6] = [
        Self::Presences,
        Self::Messages,
        Self::Members,
        Self::Users,
        Self::VoiceStates,
        Self::ThreadMembers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Presences => "presences",
            Self::Messages => "messages",
            Self::Members => "members",
            Self::Users => "users",
            Self::VoiceStates => "voice_states",
            Self::ThreadMembers => "thread_members",
        }
    }

    /// The resource a resync must bring back.
    pub fn resource(self) -> ResourceKind {
        match self {
            Self::Presences => ResourceKind::PRESENCES,
            Self::Messages => ResourceKind::MESSAGES,
            Self::Members | Self::Users => ResourceKind::MEMBERS,
            Self::VoiceStates => ResourceKind::VOICE_STATES,
            Self::ThreadMembers => ResourceKind::THREAD_MEMBERS,
        }
    }

    /// The order in which kinds are shed (lower first).
    pub fn rank(self) -> u8 {
        match self {
            Self::Presences => 0,
            Self::Messages => 1,
            Self::Members | Self::Users | Self::VoiceStates | Self::ThreadMembers => 2,
        }
    }

    /// What may be shed of a mutation, and the guild it touches; `None`
    /// for what is never shed.
    pub fn of(mutation: &Mutation) -> Option<(ShedKind, Option<GuildId>)> {
        match mutation {
            Mutation::Upsert(record) => Self::of_record(record),
            Mutation::Patch(patch) => {
                let kind = match patch.key() {
                    crate::EntityKey::Message(_) => Self::Messages,
                    crate::EntityKey::Member(..) => Self::Members,
                    crate::EntityKey::User(_) => Self::Users,
                    crate::EntityKey::Presence(..) => Self::Presences,
                    crate::EntityKey::VoiceState(..) => Self::VoiceStates,
                    _ => return None,
                };
                Some((kind, patch.guild_id()))
            }
            Mutation::AddReaction(r) | Mutation::RemoveReaction(r) => {
                Some((Self::Messages, r.guild_id))
            }
            // A list (GUILD_CREATE, a member chunk) is shed record by record
            // (`Inner::shed_from_list`); the rest is what re-syncs a guild.
            _ => None,
        }
    }

    pub fn of_record(record: &Record) -> Option<(ShedKind, Option<GuildId>)> {
        let kind = match record {
            Record::Message(_) => Self::Messages,
            Record::Member(_) => Self::Members,
            Record::User(_) => Self::Users,
            Record::Presence(_) => Self::Presences,
            Record::VoiceState(_) => Self::VoiceStates,
            Record::ThreadMember(_) => Self::ThreadMembers,
            _ => return None,
        };
        Some((kind, record.guild_id()))
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub shed: [AtomicU64; ShedKind::ALL.len()],
    pub enqueued: AtomicU64,
    pub filtered: AtomicU64,
    pub coalesced: AtomicU64,
    pub queue_high_water: AtomicUsize,
    pub over_capacity: AtomicU64,
    pub batches_committed: AtomicU64,
    pub mutations_committed: AtomicU64,
    pub commit_failures: AtomicU64,
    pub rejected: AtomicU64,
    pub fenced_mutations: AtomicU64,
    pub dead_letters_dropped: AtomicU64,
    pub hot_hits: AtomicU64,
    pub hot_misses: AtomicU64,
}

impl Counters {
    pub fn add_shed(&self, kind: ShedKind, n: u64) {
        let at = ShedKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.shed[at].fetch_add(n, Ordering::Relaxed);
    }

    pub fn shed(&self) -> BTreeMap<String, u64> {
        ShedKind::ALL
            .iter()
            .zip(&self.shed)
            .map(|(k, n)| (k.name().to_owned(), n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

impl super::Cache {
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
            fenced_mutations: Counters::get(&c.fenced_mutations),
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
}
