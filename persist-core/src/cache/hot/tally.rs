//! The hot tier's accounting: objects and estimated bytes per kind and per
//! guild, and evictions.

use std::collections::HashMap;
use std::mem::size_of;

use crate::entity::Record;
use crate::heap_size::HeapSize;
use crate::model::{
    Channel, CurrentUser, Emoji, Guild, Member, Message, Presence, Role, ScheduledEvent,
    StageInstance, Sticker, ThreadMember, User, VoiceState,
};
use crate::{GuildId, ResourceKind};

/// What holding one object costs besides the object and its heap bytes:
/// its B-tree slot's share of the node, its index entries and its entry in
/// the held map. Fitted against a counting allocator on objects loaded by
/// reads (`tests/tests/hot_heap_estimate.rs` checks the total within ±20 %).
const HELD_OVERHEAD: usize = 330;
/// The same for a message, which is held in an `Arc` of its own (its
/// counts, 16 bytes) that two B-trees point at (by id, by channel): the
/// B-tree slots are pointers, not the message. Fitted the same way.
const MESSAGE_HELD_OVERHEAD: usize = 96;
/// What an object in the eviction order costs on top (its LRU entry).
const LRU_OVERHEAD: usize = 60;

/// Estimated heap bytes of holding `record` in the hot tier (`evictable`:
/// it is in the eviction order): the object's own size as stored, its heap
/// bytes by the [`HeapSize`] rule, and the fixed costs above.
pub(super) fn held_bytes(record: &Record, evictable: bool) -> usize {
    let inline = match record {
        Record::CurrentUser(_) => size_of::<CurrentUser>(),
        Record::Guild(_) => size_of::<Guild>(),
        Record::Channel(_) => size_of::<Channel>(),
        Record::Message(_) => size_of::<Message>(),
        Record::User(_) => size_of::<User>(),
        Record::Member(_) => size_of::<Member>(),
        Record::Role(_) => size_of::<Role>(),
        Record::Emoji(_) => size_of::<Emoji>(),
        Record::Sticker(_) => size_of::<Sticker>(),
        Record::VoiceState(_) => size_of::<VoiceState>(),
        Record::Presence(_) => size_of::<Presence>(),
        Record::StageInstance(_) => size_of::<StageInstance>(),
        Record::ScheduledEvent(_) => size_of::<ScheduledEvent>(),
        Record::ThreadMember(_) => size_of::<ThreadMember>(),
    };
    let overhead = match record {
        Record::Message(_) => MESSAGE_HELD_OVERHEAD,
        _ => HELD_OVERHEAD,
    };
    inline + record.heap_bytes() + overhead + if evictable { LRU_OVERHEAD } else { 0 }
}

/// One kind's figures in the hot tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HotKindStats {
    /// Objects held.
    pub objects: u64,
    /// Their estimated bytes.
    pub bytes: u64,
    /// Objects (for messages: channel windows) evicted since the start.
    pub evictions: u64,
}

/// What the hot tier holds, by kind and by guild.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HotStats {
    /// Estimated bytes held, all kinds.
    pub bytes: u64,
    /// Each kind with anything held or evicted.
    pub kinds: Vec<(ResourceKind, HotKindStats)>,
    /// The guilds holding the most bytes, largest first (at most ten).
    pub largest_guilds: Vec<(GuildId, u64)>,
    /// Channels whose newest messages are held.
    pub channel_windows: u64,
    /// Reads answered from memory.
    pub hits: u64,
    /// Reads that went to the store.
    pub misses: u64,
}

/// Running totals, kept in step with every put and remove.
#[derive(Debug, Default)]
pub(super) struct Tally {
    bytes: usize,
    // Indexed by the kind's bit.
    kinds: [HotKindStats; 16],
    by_guild: HashMap<GuildId, usize>,
}

fn slot(kind: ResourceKind) -> usize {
    (kind.bits().trailing_zeros() as usize).min(15)
}

impl Tally {
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn add(&mut self, kind: ResourceKind, guild: Option<GuildId>, bytes: usize) {
        self.bytes += bytes;
        let k = &mut self.kinds[slot(kind)];
        k.objects += 1;
        k.bytes += bytes as u64;
        if let Some(g) = guild {
            *self.by_guild.entry(g).or_default() += bytes;
        }
    }

    pub(super) fn remove(&mut self, kind: ResourceKind, guild: Option<GuildId>, bytes: usize) {
        self.bytes = self.bytes.saturating_sub(bytes);
        let k = &mut self.kinds[slot(kind)];
        k.objects = k.objects.saturating_sub(1);
        k.bytes = k.bytes.saturating_sub(bytes as u64);
        if let Some(g) = guild
            && let Some(held) = self.by_guild.get_mut(&g)
        {
            *held = held.saturating_sub(bytes);
            if *held == 0 {
                self.by_guild.remove(&g);
            }
        }
    }

    /// The guilds anything is held of.
    pub(super) fn guilds(&self) -> impl Iterator<Item = GuildId> + '_ {
        self.by_guild.keys().copied()
    }

    pub(super) fn evicted(&mut self, kind: ResourceKind) {
        self.kinds[slot(kind)].evictions += 1;
    }

    /// Nothing held, the eviction counts kept.
    pub(super) fn emptied(&self) -> Self {
        let mut kinds = self.kinds;
        for k in &mut kinds {
            k.objects = 0;
            k.bytes = 0;
        }
        Self {
            kinds,
            ..Self::default()
        }
    }

    pub(super) fn stats(&self, channel_windows: usize) -> HotStats {
        let kinds = self
            .kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| **k != HotKindStats::default())
            .map(|(bit, k)| (ResourceKind::from_bits_truncate(1 << bit), *k))
            .collect();
        let mut largest: Vec<(GuildId, u64)> =
            self.by_guild.iter().map(|(g, b)| (*g, *b as u64)).collect();
        largest.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        largest.truncate(10);
        HotStats {
            bytes: self.bytes as u64,
            kinds,
            largest_guilds: largest,
            channel_windows: channel_windows as u64,
            hits: 0,
            misses: 0,
        }
    }
}
