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

mod lru;
mod tally;
mod whole;

use std::collections::{HashMap, HashSet};

use crate::entity::{EntityKey, Record};
use crate::memory_store::{Committed, Data};
use crate::write;
use crate::{
    Answer, ChannelId, GuildId, MessageId, MessagePage, Mutation, Query, ResourceKind, RoleId,
    UserId,
};

use super::overlay::{point_key, relevant_part};
use lru::{Lru, Victim};
use tally::Tally;
pub use tally::{HotKindStats, HotStats};
pub(super) use whole::Whole;
use whole::{MEMBERS_LOADED_WHOLE, Window};

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

/// Which held objects a cascade may remove that the hot tier cannot list.
#[derive(Debug)]
enum Reach {
    /// None: it lists everything the cascade reaches.
    Exact,
    /// Anything of these guilds.
    Guilds(Vec<GuildId>),
    /// Anything.
    Unknown,
}

/// A read of the store in progress, and the mutations queued meanwhile that
/// could change each of its queries' answers.
#[derive(Debug)]
struct Load {
    id: u64,
    queries: Vec<Query>,
    logs: Vec<Vec<Mutation>>,
    /// Something it may have read was forgotten meanwhile (shed, rejected,
    /// or cleared): what it read must not be admitted.
    spoiled: bool,
}

/// A load's handle.
#[derive(Clone, Copy, Debug)]
pub(super) struct LoadTicket {
    id: u64,
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

    /// How far a cascade reaches past what the hot tier can list exactly:
    /// a cascade from a parent it does not hold whole (a guild's channels,
    /// roles, or guilds themselves) can remove held objects it cannot find.
    fn cascade_reach(&self, mutation: &Mutation) -> Reach {
        let whole_or_guild = |whole: Whole, guild: GuildId| {
            if self.wholes.contains(&whole) {
                Reach::Exact
            } else {
                Reach::Guilds(vec![guild])
            }
        };
        match *mutation {
            Mutation::Delete(EntityKey::Guild(g))
            | Mutation::RetainGuildChannels { guild_id: g, .. } => {
                whole_or_guild(Whole::Channels(g), g)
            }
            Mutation::RetainGuildRoles { guild_id: g, .. } => whole_or_guild(Whole::Roles(g), g),
            Mutation::Delete(EntityKey::Channel(c)) => {
                match self.objects.get(&EntityKey::Channel(c)) {
                    Some(Record::Channel(channel)) => match channel.guild_id {
                        Some(g) => whole_or_guild(Whole::Channels(g), g),
                        None => Reach::Exact,
                    },
                    _ => Reach::Unknown,
                }
            }
            Mutation::RetainShardGuilds {
                shard_id,
                shard_count,
                ref keep,
            } => Reach::Guilds(
                self.tally
                    .guilds()
                    .filter(|g| crate::shard_of(*g, shard_count) == shard_id && !keep.contains(g))
                    .collect(),
            ),
            _ => Reach::Exact,
        }
    }

    /// Forgets the held members that have a role.
    fn forget_members_with_role(&mut self, role: RoleId) {
        let keys: Vec<EntityKey> = self
            .held
            .keys()
            .filter(|key| {
                matches!(key, EntityKey::Member(..))
                    && matches!(self.objects.get(key), Some(Record::Member(m)) if m.roles.contains(&role))
            })
            .copied()
            .collect();
        if keys.is_empty() {
            return;
        }
        self.spoil_loads();
        for key in keys {
            if let Some(whole) = Whole::of_key(&key) {
                self.wholes.remove(&whole);
            }
            self.remove(&key);
        }
    }

    /// Forgets everything held of a guild (and every thread member, whose
    /// guild is not known), and the sets of it held whole.
    fn forget_guild(&mut self, guild: GuildId) {
        self.spoil_loads();
        let keys: Vec<EntityKey> = self
            .held
            .iter()
            .filter(|(key, held)| {
                held.guild == Some(guild) || matches!(key, EntityKey::ThreadMember(..))
            })
            .map(|(key, _)| *key)
            .collect();
        for key in keys {
            if let EntityKey::Message(id) = key
                && let Some(Record::Message(m)) = self.objects.get(&EntityKey::Message(id))
            {
                self.drop_window(m.channel_id);
            }
            self.remove(&key);
        }
        self.wholes.retain(|whole| match *whole {
            Whole::Channels(g)
            | Whole::Roles(g)
            | Whole::Emojis(g)
            | Whole::Stickers(g)
            | Whole::VoiceStates(g)
            | Whole::Presences(g)
            | Whole::StageInstances(g)
            | Whole::ScheduledEvents(g)
            | Whole::Members(g) => g != guild,
            Whole::ThreadMembers(_) => false,
        });
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
        let Some(ids) = self.objects.channel_message_ids(channel) else {
            return;
        };
        if ids.len() <= keep {
            return;
        }
        let excess: Vec<MessageId> = ids.iter().take(ids.len() - keep).copied().collect();
        for id in excess {
            self.remove(&EntityKey::Message(id));
        }
        let bottom = self
            .objects
            .channel_message_ids(channel)
            .and_then(|ids| ids.first().copied());
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
            .channel_message_ids(channel)
            .map(|ids| ids.iter().copied().collect())
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

    /// Forgets what a mutation that will never reach the store (shed or
    /// rejected) changed here, so the hot tier again agrees with the store.
    pub(super) fn forget(&mut self, mutation: &Mutation) {
        for load in &mut self.loads {
            load.spoiled |= load
                .queries
                .iter()
                .any(|q| relevant_part(mutation, q).is_some());
        }
        let records: Vec<&Record> = match mutation {
            Mutation::Upsert(record) => vec![record],
            Mutation::UpsertMany(records) => records.iter().collect(),
            Mutation::Patch(_)
            | Mutation::AddReaction(_)
            | Mutation::RemoveReaction(_)
            | Mutation::RemoveAllReactions { .. }
            | Mutation::RemoveEmojiReactions { .. }
            | Mutation::CountScheduledEventUser { .. } => {
                if let Some(key) = mutation.object_key()
                    && let Some(record) = self.objects.get(&key)
                {
                    self.forget_record(&record);
                }
                return;
            }
            // Removals and cascades: what they removed is not known here.
            _ => {
                self.clear();
                return;
            }
        };
        for record in records {
            self.forget_record(record);
        }
    }

    fn forget_record(&mut self, record: &Record) {
        self.unwhole(record);
        self.remove(&record.key());
    }

    fn spoil_loads(&mut self) {
        for load in &mut self.loads {
            load.spoiled = true;
        }
    }

    /// Forgets everything but the pins.
    fn clear(&mut self) {
        self.spoil_loads();
        *self = Self {
            pins: std::mem::take(&mut self.pins),
            loads: std::mem::take(&mut self.loads),
            next_load: self.next_load,
            bot_user: self.bot_user,
            tally: self.tally.emptied(),
            ..Self::new(self.pinned_kinds, self.window_size)
        };
    }

    /// Answers a read from memory, or `None` if it needs the store.
    pub(super) fn answer(&mut self, query: &Query) -> Option<Answer> {
        match *query {
            Query::Counts | Query::GuildIds | Query::UserGuilds(_) => return None,
            Query::ChannelMessages {
                channel_id,
                page,
                limit,
            } => {
                let held = self.windows.get(&channel_id)?;
                let empty = Default::default();
                let ids = self
                    .objects
                    .channel_message_ids(channel_id)
                    .unwrap_or(&empty);
                if !held.window.answers(ids, page, limit) {
                    return None;
                }
                self.touch_window(channel_id);
            }
            _ => {
                if let Some(whole) = Whole::read_by(query) {
                    if !self.wholes.contains(&whole) {
                        return None;
                    }
                } else {
                    let key = point_key(query)?;
                    if let Some(held) = self.held.get(&key).copied() {
                        self.touch(key, held);
                    } else if !Whole::of_key(&key).is_some_and(|w| self.wholes.contains(&w)) {
                        return None;
                    }
                }
            }
        }
        Some(self.objects.read(query))
    }

    fn touch(&mut self, key: EntityKey, held: Held) {
        if held.tick != 0 {
            let tick = self.lru.touch(Victim::Object(key), held.tick);
            if let Some(h) = self.held.get_mut(&key) {
                h.tick = tick;
            }
        } else if let EntityKey::Message(id) = key
            && let Some(Record::Message(m)) = self.objects.get(&EntityKey::Message(id))
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

    /// Starts noting, for each query, the mutations queued from now on that
    /// could change its answer. The caller snapshots the queue while it
    /// still holds the hot tier's lock.
    pub(super) fn begin_load(&mut self, queries: &[Query]) -> LoadTicket {
        self.next_load += 1;
        self.loads.push(Load {
            id: self.next_load,
            queries: queries.to_vec(),
            logs: vec![Vec::new(); queries.len()],
            spoiled: false,
        });
        LoadTicket { id: self.next_load }
    }

    /// Ends a load: the mutations noted for each query, or `None` if what it
    /// read must not be admitted (something held was forgotten meanwhile).
    pub(super) fn finish_load(&mut self, ticket: LoadTicket) -> Option<Vec<Vec<Mutation>>> {
        let at = self.loads.iter().position(|l| l.id == ticket.id)?;
        let load = self.loads.swap_remove(at);
        (!load.spoiled).then_some(load.logs)
    }

    /// Admits what one load read, every query or none: the store's answers
    /// with the queued mutations applied.
    pub(super) fn admit_all(&mut self, queries: &[Query], answers: &[Answer]) {
        for (query, answer) in queries.iter().zip(answers) {
            self.admit(query, answer);
        }
    }

    /// Admits what a read returned: objects not held yet, and the set or
    /// window the query read whole.
    fn admit(&mut self, query: &Query, answer: &Answer) {
        match (query, answer) {
            (
                Query::ChannelMessages {
                    channel_id,
                    page: MessagePage::Latest,
                    limit,
                },
                Answer::Messages(messages),
            ) if *limit == self.window_size && self.window_size > 0 => {
                let bottom = (messages.len() >= *limit)
                    .then(|| messages.iter().map(|m| m.id).min())
                    .flatten();
                self.admit_window(*channel_id, bottom, messages.clone());
            }
            (Query::ChannelMessages { .. }, _) => {}
            (
                Query::GuildMembers {
                    after: None, limit, ..
                },
                Answer::Members(members),
            ) if *limit == MEMBERS_LOADED_WHOLE && members.len() < *limit => {
                self.admit_whole(query, answer);
            }
            (Query::GuildMembers { .. }, _) => {}
            _ if Whole::read_by(query).is_some() => self.admit_whole(query, answer),
            _ => {
                if let Some(record) = answer.clone().into_records().into_iter().next() {
                    self.put_new(record);
                }
            }
        }
    }

    /// Holds a channel's window: every message at or above `bottom` (`None`:
    /// every message of the channel), as the store and the queue have them.
    pub(super) fn admit_window(
        &mut self,
        channel_id: ChannelId,
        bottom: Option<MessageId>,
        messages: Vec<crate::model::Message>,
    ) {
        if self.window_size == 0 || self.windows.contains_key(&channel_id) {
            return;
        }
        let tick = if self.pins.contains(&Pin::ChannelMessages(channel_id)) {
            0
        } else {
            self.lru.touch(Victim::Window(channel_id), 0)
        };
        self.windows.insert(
            channel_id,
            HeldWindow {
                window: Window { bottom },
                tick,
            },
        );
        for message in messages {
            self.put_new(Record::Message(message));
        }
    }

    /// Messages a window holds at most.
    pub(super) fn window_size(&self) -> usize {
        self.window_size
    }

    fn admit_whole(&mut self, query: &Query, answer: &Answer) {
        let Some(whole) = Whole::read_by(query) else {
            return;
        };
        for record in answer.clone().into_records() {
            self.put_new(record);
        }
        // Channels and threads are one set read by two queries, admitted
        // together or not at all (see `admit_all`).
        self.wholes.insert(whole);
    }

    /// Holds a record read from the store, unless a newer one is held.
    fn put_new(&mut self, record: Record) {
        let key = record.key();
        if !self.held.contains_key(&key)
            && (self.admits(&record) || !matches!(record, Record::Message(_)))
        {
            self.put(record);
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
