//! The hot tier: what is hot, held in memory as the store and the queue have
//! it together, so reads of it never touch the store.
//!
//! Every queued mutation is applied to it when it is queued, through the
//! shared semantics ([`crate::write::plan`]) over its own objects; an object
//! it does not hold stays out (a patch of it cannot be applied without the
//! store). A read it cannot answer goes to the store with the queue on top,
//! and what it read is admitted ([`HotTier::admit`]), unless a mutation that
//! could change it arrived meanwhile in a way the read could not replay.
//!
//! A list read or an absent object is answered only from a set held whole
//! ([`Whole`]) or a channel's window of newest messages ([`Window`]).

mod forget;
mod load;
mod lru;
mod tally;
mod whole;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::entity::{EntityKey, Record};
use crate::memory_store::{Committed, Data};
use crate::model::Message;
use crate::write;
use crate::{
    Answer, ChannelId, GuildId, MessageId, MessagePage, Mutation, Query, ResourceKind, UserId,
};

use super::relevance::{point_key, relevant_part};
use forget::Reach;
use load::Load;
pub(in crate::cache) use load::LoadTicket;
use lru::{Lru, Victim};
use tally::Tally;
pub use tally::{HotKindStats, HotStats};
pub(super) use whole::Whole;
use whole::Window;

/// Something the application keeps in memory whatever the budget, next to
/// the kinds pinned by [`CacheConfig::pinned_kinds`](crate::CacheConfig).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pin {
    /// A channel's newest messages (its window, see
    /// [`CacheConfig::hot_messages_per_channel`](crate::CacheConfig)).
    ChannelMessages(ChannelId),
    /// A member of a guild.
    Member(GuildId, UserId),
    /// A user.
    User(UserId),
}

/// A held object: its estimated bytes and where it is in the eviction order.
#[derive(Clone, Copy, Debug)]
struct Held {
    bytes: usize,
    /// The tick of its last use; 0: not evicted on its own (pinned, or a
    /// message, which goes with its window).
    tick: u64,
    kind: ResourceKind,
    guild: Option<GuildId>,
}

/// A channel's window and its place in the eviction order (0: pinned).
#[derive(Clone, Copy, Debug)]
struct HeldWindow {
    window: Window,
    tick: u64,
}

pub(super) struct HotTier {
    objects: Data,
    // Invariant: held has exactly the keys of the objects in `objects`.
    held: HashMap<EntityKey, Held>,
    wholes: HashSet<Whole>,
    // Invariant: a message is held only inside its channel's window.
    windows: HashMap<ChannelId, HeldWindow>,
    lru: Lru,
    pins: HashSet<Pin>,
    pinned_kinds: ResourceKind,
    /// Messages a window holds at most (0: no windows).
    window_size: usize,
    /// The bot's own user, pinned with its member in every guild.
    bot_user: Option<UserId>,
    tally: Tally,
    loads: Vec<Load>,
    next_load: u64,
}

impl HotTier {
    pub(super) fn new(pinned_kinds: ResourceKind, window_size: usize) -> Self {
        Self {
            objects: Data::default(),
            held: HashMap::new(),
            wholes: HashSet::new(),
            windows: HashMap::new(),
            lru: Lru::default(),
            pins: HashSet::new(),
            pinned_kinds,
            window_size,
            bot_user: None,
            tally: Tally::default(),
            loads: Vec::new(),
            next_load: 0,
        }
    }

    /// Applies a queued mutation to what is held, and notes it for the
    /// loads in progress that it could change.
    pub(super) fn apply(&mut self, mutation: &Mutation) {
        for load in &mut self.loads {
            for (query, log) in load.queries.iter().zip(&mut load.logs) {
                log.extend(relevant_part(mutation, query));
            }
        }
        // A list (a GUILD_CREATE, a member chunk) keeps only what is held
        // or belongs here: the rest would be planned only to be dropped.
        let admitted;
        let mutation = match mutation {
            Mutation::UpsertMany(records) if !records.iter().all(|r| self.admits(r)) => {
                let kept: Vec<Record> =
                    records.iter().filter(|r| self.admits(r)).cloned().collect();
                if kept.is_empty() {
                    return;
                }
                admitted = Mutation::UpsertMany(kept);
                &admitted
            }
            other => other,
        };
        if let Mutation::Upsert(record) = mutation {
            if !self.admits(record) {
                return;
            }
        } else if let Some(key) = write::read_before_write(mutation)
            && !self.knows(&key, mutation.channel_id())
        {
            // A patch or a count of an object not held: left to the store.
            return;
        }
        if let Mutation::Delete(EntityKey::Role(role)) = *mutation
            && !self.held.contains_key(&EntityKey::Role(role))
        {
            // Stripped only in the role's own guild, which is not known here.
            self.forget_members_with_role(role);
            return;
        }
        let reach = self.cascade_reach(mutation);
        match write::plan(
            &mut Committed(&self.objects),
            std::slice::from_ref(mutation),
        ) {
            Ok(changes) => {
                for key in changes.deletes {
                    self.remove(&key);
                }
                for record in changes.puts {
                    let record = record.into_owned();
                    if self.admits(&record) {
                        self.put(record);
                    }
                }
                for (channel, keep) in changes.trims {
                    self.trim_window(channel, keep as usize);
                }
                match reach {
                    Reach::Exact => {}
                    Reach::Guilds(guilds) => guilds.into_iter().for_each(|g| self.forget_guild(g)),
                    Reach::Unknown => self.clear(),
                }
            }
            Err(error) => {
                tracing::warn!(%error, "the hot tier could not apply a mutation; it forgets what it touched");
                self.forget(mutation);
            }
        }
    }

    /// Whether the hot tier holds the object or knows it is absent (a
    /// message: in `channel`, when the mutation names it).
    fn knows(&self, key: &EntityKey, channel: Option<ChannelId>) -> bool {
        if self.held.contains_key(key) {
            return true;
        }
        match (key, channel) {
            (EntityKey::Message(id), Some(channel)) => self
                .windows
                .get(&channel)
                .is_some_and(|w| w.window.covers(*id)),
            _ => Whole::of_key(key).is_some_and(|w| self.wholes.contains(&w)),
        }
    }

    /// Whether a written object belongs in the hot tier.
    fn admits(&self, record: &Record) -> bool {
        let key = record.key();
        if self.held.contains_key(&key) {
            return true;
        }
        match record {
            Record::Message(m) => self
                .windows
                .get(&m.channel_id)
                .is_some_and(|w| w.window.covers(m.id)),
            _ => {
                self.is_pinned(&key)
                    || Whole::of_record(record).is_some_and(|w| self.wholes.contains(&w))
            }
        }
    }

    fn is_pinned(&self, key: &EntityKey) -> bool {
        if self.pinned_kinds.intersects(key.kind()) {
            return true;
        }
        match *key {
            EntityKey::Member(g, u) => {
                self.bot_user == Some(u) || self.pins.contains(&Pin::Member(g, u))
            }
            EntityKey::User(u) => self.bot_user == Some(u) || self.pins.contains(&Pin::User(u)),
            _ => false,
        }
    }

    /// Holds `record`, replacing what is held under its key.
    fn put(&mut self, record: Record) {
        let key = record.key();
        let last = self.held.get(&key).map(|h| {
            self.tally.remove(h.kind, h.guild, h.bytes);
            h.tick
        });
        let message_channel = match &record {
            Record::Message(m) => Some(m.channel_id),
            Record::CurrentUser(u) => {
                self.bot_user = Some(u.id);
                None
            }
            _ => None,
        };
        let tick = match (message_channel, last) {
            (Some(_), _) => 0,
            _ if self.is_pinned(&key) => {
                self.lru.forget(last.unwrap_or(0));
                0
            }
            (None, last) => self.lru.touch(Victim::Object(key), last.unwrap_or(0)),
        };
        let held = Held {
            bytes: tally::held_bytes(&record, tick != 0),
            tick,
            kind: record.kind(),
            guild: record.guild_id(),
        };
        self.objects.upsert(record);
        self.tally.add(held.kind, held.guild, held.bytes);
        self.held.insert(key, held);
        if let Some(channel) = message_channel {
            self.trim_window(channel, self.window_size);
        }
    }

    /// Drops a held object (a delete, or a step of an eviction).
    fn remove(&mut self, key: &EntityKey) {
        if let Some(held) = self.held.remove(key) {
            self.objects.remove(key);
            self.lru.forget(held.tick);
            self.tally.remove(held.kind, held.guild, held.bytes);
        }
    }

    /// Cuts a channel's window to its newest `keep` messages, as the store
    /// does when it trims (a cap), or as the window's size requires.
    fn trim_window(&mut self, channel: ChannelId, keep: usize) {
        let Some(ids) = self.objects.channel_messages(channel) else {
            return;
        };
        if ids.len() <= keep {
            return;
        }
        let excess: Vec<MessageId> = ids.keys().take(ids.len() - keep).copied().collect();
        for id in excess {
            self.remove(&EntityKey::Message(id));
        }
        let bottom = self
            .objects
            .channel_messages(channel)
            .and_then(|ids| ids.keys().next().copied());
        if let Some(held) = self.windows.get_mut(&channel) {
            // Nothing left: the store kept nothing either (a cap of 0).
            held.window.bottom = bottom;
        }
    }

    /// Removes a victim of eviction and what no longer holds without it.
    fn evict(&mut self, victim: Victim) {
        match victim {
            Victim::Window(channel) => self.drop_window(channel),
            Victim::Object(key) => {
                if let Some(record) = self.objects.get(&key) {
                    self.unwhole(&record);
                }
                if let Some(held) = self.held.get(&key) {
                    self.tally.evicted(held.kind);
                }
                self.remove(&key);
            }
        }
    }

    /// The set a record belongs to is no longer held whole (the record or
    /// its latest version is no longer held).
    fn unwhole(&mut self, record: &Record) {
        if let Record::Message(m) = record {
            self.drop_window(m.channel_id);
        } else if let Some(whole) = Whole::of_record(record) {
            self.wholes.remove(&whole);
        }
    }

    fn drop_window(&mut self, channel: ChannelId) {
        let Some(held) = self.windows.remove(&channel) else {
            return;
        };
        self.lru.forget(held.tick);
        let ids: Vec<MessageId> = self
            .objects
            .channel_messages(channel)
            .map(|ids| ids.keys().copied().collect())
            .unwrap_or_default();
        if !ids.is_empty() {
            self.tally.evicted(ResourceKind::MESSAGES);
        }
        for id in ids {
            self.remove(&EntityKey::Message(id));
        }
    }

    /// Evicts, least recently used first, until at most `limit` bytes are
    /// held or only pinned objects are left.
    pub(super) fn shrink_to(&mut self, limit: usize) {
        while self.tally.bytes() > limit {
            let Some(victim) = self.lru.pop_oldest() else {
                return;
            };
            // Popped: its tick no longer names it.
            match victim {
                Victim::Object(key) => {
                    if let Some(held) = self.held.get_mut(&key) {
                        held.tick = 0;
                    }
                }
                Victim::Window(channel) => {
                    if let Some(held) = self.windows.get_mut(&channel) {
                        held.tick = 0;
                    }
                }
            }
            self.evict(victim);
        }
    }

    pub(super) fn bytes(&self) -> usize {
        self.tally.bytes()
    }

    /// Answers a read from memory, or `None` if it needs the store.
    pub(super) fn answer(&mut self, query: &Query) -> Option<Answer> {
        self.holds(query).then(|| self.objects.read(query))
    }

    /// A message from memory, shared rather than copied: `None` if it
    /// needs the store, `Some(None)` if it is known not to exist.
    pub(super) fn message(&mut self, id: MessageId) -> Option<Option<Arc<Message>>> {
        self.holds(&Query::Message(id))
            .then(|| self.objects.shared_message(id))
    }

    /// A page of a channel's messages from memory, shared rather than
    /// copied, or `None` if it needs the store.
    pub(super) fn channel_messages(
        &mut self,
        channel_id: ChannelId,
        page: MessagePage,
        limit: usize,
    ) -> Option<Vec<Arc<Message>>> {
        let query = Query::ChannelMessages {
            channel_id,
            page,
            limit,
        };
        self.holds(&query).then(|| {
            self.objects
                .shared_channel_messages(channel_id, page, limit)
        })
    }

    /// Whether memory holds the answer to a read; marks what it uses as
    /// recently used.
    fn holds(&mut self, query: &Query) -> bool {
        match *query {
            Query::Counts | Query::GuildIds | Query::UserGuilds(_) => false,
            Query::ChannelMessages {
                channel_id,
                page,
                limit,
            } => {
                let Some(held) = self.windows.get(&channel_id) else {
                    return false;
                };
                let empty = Default::default();
                let ids = self.objects.channel_messages(channel_id).unwrap_or(&empty);
                if !held.window.answers(ids, page, limit) {
                    return false;
                }
                self.touch_window(channel_id);
                true
            }
            _ => {
                if let Some(whole) = Whole::read_by(query) {
                    return self.wholes.contains(&whole);
                }
                let Some(key) = point_key(query) else {
                    return false;
                };
                if let Some(held) = self.held.get(&key).copied() {
                    self.touch(key, held);
                    true
                } else {
                    Whole::of_key(&key).is_some_and(|w| self.wholes.contains(&w))
                }
            }
        }
    }

    fn touch(&mut self, key: EntityKey, held: Held) {
        if held.tick != 0 {
            let tick = self.lru.touch(Victim::Object(key), held.tick);
            if let Some(h) = self.held.get_mut(&key) {
                h.tick = tick;
            }
        } else if let EntityKey::Message(id) = key
            && let Some(m) = self.objects.shared_message(id)
        {
            self.touch_window(m.channel_id);
        }
    }

    fn touch_window(&mut self, channel: ChannelId) {
        if let Some(held) = self.windows.get_mut(&channel)
            && held.tick != 0
        {
            held.tick = self.lru.touch(Victim::Window(channel), held.tick);
        }
    }

    /// Whether the channel's newest messages are held (or cannot be: no windows).
    pub(super) fn has_window(&self, channel: ChannelId) -> bool {
        self.window_size == 0 || self.windows.contains_key(&channel)
    }

    /// The read that loads a channel's window.
    pub(super) fn window_load(&self, channel_id: ChannelId) -> Query {
        Query::ChannelMessages {
            channel_id,
            page: MessagePage::Latest,
            limit: self.window_size,
        }
    }

    pub(super) fn pin(&mut self, pin: Pin) {
        self.pins.insert(pin);
        match pin {
            Pin::ChannelMessages(channel) => {
                if let Some(held) = self.windows.get_mut(&channel) {
                    self.lru.forget(held.tick);
                    held.tick = 0;
                }
            }
            Pin::Member(g, u) => self.pin_object(EntityKey::Member(g, u)),
            Pin::User(u) => self.pin_object(EntityKey::User(u)),
        }
    }

    fn pin_object(&mut self, key: EntityKey) {
        if let Some(held) = self.held.get_mut(&key) {
            self.lru.forget(held.tick);
            held.tick = 0;
        }
    }

    pub(super) fn unpin(&mut self, pin: Pin) {
        if !self.pins.remove(&pin) {
            return;
        }
        let key = match pin {
            Pin::ChannelMessages(channel) => {
                if let Some(held) = self.windows.get_mut(&channel) {
                    held.tick = self.lru.touch(Victim::Window(channel), 0);
                }
                return;
            }
            Pin::Member(g, u) => EntityKey::Member(g, u),
            Pin::User(u) => EntityKey::User(u),
        };
        if !self.is_pinned(&key)
            && let Some(held) = self.held.get_mut(&key)
        {
            held.tick = self.lru.touch(Victim::Object(key), 0);
        }
    }

    pub(super) fn stats(&self) -> HotStats {
        self.tally.stats(self.windows.len())
    }
}
