//! The objects of an in-memory store with their indexes: index-keeping put
//! and remove, point reads, scope listings and the queries. The memory
//! store and the cache's hot tier both keep their objects in one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::messages::{ChannelMessages, Messages};
use crate::entity::{EntityKey, Record};
use crate::model::{
    Channel, CurrentUser, Emoji, Guild, Member, Message, Presence, Role, ScheduledEvent,
    StageInstance, Sticker, ThreadMember, User, VoiceState,
};
use crate::store::AppliedHook;
use crate::write::{Changes, Engine, Scope};
use crate::{
    Answer, ChannelId, Counts, EmojiId, GuildId, MessageId, MessagePage, Query, Result, RoleId,
    ScheduledEventId, StageInstanceId, StickerId, UserId,
};

/// Objects indexed by id and grouped by a scope (a guild or a channel).
#[derive(Clone, Debug)]
struct Scoped<S, K, V> {
    items: BTreeMap<K, (S, V)>,
    // Invariant: index[s] holds exactly the keys whose item has scope s; no empty sets.
    index: BTreeMap<S, BTreeSet<K>>,
}

impl<S, K, V> Default for Scoped<S, K, V> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            index: BTreeMap::new(),
        }
    }
}

impl<S: Ord + Copy, K: Ord + Copy, V> Scoped<S, K, V> {
    fn insert(&mut self, scope: S, key: K, value: V) {
        if let Some((old_scope, _)) = self.items.insert(key, (scope, value))
            && old_scope != scope
        {
            self.unindex(old_scope, key);
        }
        self.index.entry(scope).or_default().insert(key);
    }

    fn unindex(&mut self, scope: S, key: K) {
        if let Some(keys) = self.index.get_mut(&scope) {
            keys.remove(&key);
            if keys.is_empty() {
                self.index.remove(&scope);
            }
        }
    }

    fn get(&self, key: &K) -> Option<&V> {
        self.items.get(key).map(|(_, v)| v)
    }

    fn remove(&mut self, key: &K) -> Option<V> {
        let (scope, value) = self.items.remove(key)?;
        self.unindex(scope, *key);
        Some(value)
    }

    /// The keys of a scope as entity keys, ascending.
    fn entity_keys(&self, scope: &S, key: fn(K) -> EntityKey) -> Vec<EntityKey> {
        self.index
            .get(scope)
            .map(|keys| keys.iter().map(|k| key(*k)).collect())
            .unwrap_or_default()
    }

    fn values_in(&self, scope: &S) -> Vec<&V> {
        self.index
            .get(scope)
            .map(|keys| keys.iter().filter_map(|k| self.get(k)).collect())
            .unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}

/// Objects keyed by (scope, user): members, voice states, presences, thread members.
type PerUser<S, V> = BTreeMap<S, BTreeMap<UserId, V>>;

fn per_user_insert<S: Ord, V>(map: &mut PerUser<S, V>, scope: S, user: UserId, value: V) {
    map.entry(scope).or_default().insert(user, value);
}

fn per_user_remove<S: Ord, V>(map: &mut PerUser<S, V>, scope: &S, user: &UserId) -> Option<V> {
    let inner = map.get_mut(scope)?;
    let removed = inner.remove(user);
    if inner.is_empty() {
        map.remove(scope);
    }
    removed
}

fn per_user_get<'a, S: Ord, V>(map: &'a PerUser<S, V>, scope: &S, user: &UserId) -> Option<&'a V> {
    map.get(scope)?.get(user)
}

fn per_user_all<S: Ord, V: Clone>(map: &PerUser<S, V>, scope: &S) -> Vec<V> {
    map.get(scope)
        .map(|inner| inner.values().cloned().collect())
        .unwrap_or_default()
}

fn per_user_len<S, V>(map: &PerUser<S, V>) -> u64 {
    map.values().map(|inner| inner.len() as u64).sum()
}

/// Every object of a store, indexed for its reads and the semantics' scopes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Data {
    pub(crate) schema_version: u32,
    pub(crate) hooks: Vec<AppliedHook>,
    current_user: Option<CurrentUser>,
    guilds: BTreeMap<GuildId, Guild>,
    channels: Scoped<Option<GuildId>, ChannelId, Channel>,
    // Invariant: (parent, thread) for every stored thread with a parent.
    threads_by_parent: BTreeSet<(ChannelId, ChannelId)>,
    messages: Messages,
    users: BTreeMap<UserId, User>,
    members: PerUser<GuildId, Member>,
    // Invariant: (user, guild) for every stored member.
    user_guilds: BTreeSet<(UserId, GuildId)>,
    roles: Scoped<GuildId, RoleId, Role>,
    emojis: Scoped<GuildId, EmojiId, Emoji>,
    stickers: Scoped<Option<GuildId>, StickerId, Sticker>,
    voice_states: PerUser<GuildId, VoiceState>,
    presences: PerUser<GuildId, Presence>,
    stage_instances: Scoped<GuildId, StageInstanceId, StageInstance>,
    scheduled_events: Scoped<GuildId, ScheduledEventId, ScheduledEvent>,
    thread_members: PerUser<ChannelId, ThreadMember>,
}

impl Data {
    /// No objects, at a schema version.
    pub(crate) fn at_version(schema_version: u32) -> Self {
        Self {
            schema_version,
            ..Self::default()
        }
    }

    pub(crate) fn get(&self, key: &EntityKey) -> Option<Record> {
        Some(match key {
            EntityKey::CurrentUser => Record::CurrentUser(self.current_user.clone()?),
            EntityKey::Guild(id) => Record::Guild(self.guilds.get(id)?.clone()),
            EntityKey::Channel(id) => Record::Channel(self.channels.get(id)?.clone()),
            EntityKey::Message(id) => Record::Message(Message::clone(self.messages.get(id)?)),
            EntityKey::User(id) => Record::User(self.users.get(id)?.clone()),
            EntityKey::Member(g, u) => Record::Member(per_user_get(&self.members, g, u)?.clone()),
            EntityKey::Role(id) => Record::Role(self.roles.get(id)?.clone()),
            EntityKey::Emoji(id) => Record::Emoji(self.emojis.get(id)?.clone()),
            EntityKey::Sticker(id) => Record::Sticker(self.stickers.get(id)?.clone()),
            EntityKey::VoiceState(g, u) => {
                Record::VoiceState(per_user_get(&self.voice_states, g, u)?.clone())
            }
            EntityKey::Presence(g, u) => {
                Record::Presence(per_user_get(&self.presences, g, u)?.clone())
            }
            EntityKey::StageInstance(id) => {
                Record::StageInstance(self.stage_instances.get(id)?.clone())
            }
            EntityKey::ScheduledEvent(id) => {
                Record::ScheduledEvent(self.scheduled_events.get(id)?.clone())
            }
            EntityKey::ThreadMember(t, u) => {
                Record::ThreadMember(per_user_get(&self.thread_members, t, u)?.clone())
            }
        })
    }

    pub(crate) fn upsert(&mut self, record: Record) {
        match record {
            Record::CurrentUser(v) => self.current_user = Some(v),
            Record::Guild(v) => {
                self.guilds.insert(v.id, v);
            }
            Record::Channel(v) => {
                if let Some(old) = self.channels.get(&v.id)
                    && let Some(parent) = old.parent_id
                {
                    self.threads_by_parent.remove(&(parent, old.id));
                }
                if v.is_thread()
                    && let Some(parent) = v.parent_id
                {
                    self.threads_by_parent.insert((parent, v.id));
                }
                self.channels.insert(v.guild_id, v.id, v);
            }
            Record::Message(v) => self.messages.insert(v),
            Record::User(v) => {
                self.users.insert(v.id, v);
            }
            Record::Member(v) => {
                self.user_guilds.insert((v.user_id, v.guild_id));
                per_user_insert(&mut self.members, v.guild_id, v.user_id, v);
            }
            Record::Role(v) => self.roles.insert(v.guild_id, v.id, v),
            Record::Emoji(v) => self.emojis.insert(v.guild_id, v.id, v),
            Record::Sticker(v) => self.stickers.insert(v.guild_id, v.id, v),
            Record::VoiceState(v) => {
                per_user_insert(&mut self.voice_states, v.guild_id, v.user_id, v)
            }
            Record::Presence(v) => per_user_insert(&mut self.presences, v.guild_id, v.user_id, v),
            Record::StageInstance(v) => self.stage_instances.insert(v.guild_id, v.id, v),
            Record::ScheduledEvent(v) => self.scheduled_events.insert(v.guild_id, v.id, v),
            Record::ThreadMember(v) => {
                per_user_insert(&mut self.thread_members, v.thread_id, v.user_id, v)
            }
        }
    }

    /// Removes one object (no cascade: the semantics list what goes).
    pub(crate) fn remove(&mut self, key: &EntityKey) {
        match key {
            EntityKey::CurrentUser => self.current_user = None,
            EntityKey::Guild(id) => {
                self.guilds.remove(id);
            }
            EntityKey::Channel(id) => {
                if let Some(channel) = self.channels.remove(id)
                    && let Some(parent) = channel.parent_id
                {
                    self.threads_by_parent.remove(&(parent, *id));
                }
            }
            EntityKey::Message(id) => {
                self.messages.remove(id);
            }
            EntityKey::User(id) => {
                self.users.remove(id);
            }
            EntityKey::Member(g, u) => {
                per_user_remove(&mut self.members, g, u);
                self.user_guilds.remove(&(*u, *g));
            }
            EntityKey::Role(id) => {
                self.roles.remove(id);
            }
            EntityKey::Emoji(id) => {
                self.emojis.remove(id);
            }
            EntityKey::Sticker(id) => {
                self.stickers.remove(id);
            }
            EntityKey::VoiceState(g, u) => {
                per_user_remove(&mut self.voice_states, g, u);
            }
            EntityKey::Presence(g, u) => {
                per_user_remove(&mut self.presences, g, u);
            }
            EntityKey::StageInstance(id) => {
                self.stage_instances.remove(id);
            }
            EntityKey::ScheduledEvent(id) => {
                self.scheduled_events.remove(id);
            }
            EntityKey::ThreadMember(t, u) => {
                per_user_remove(&mut self.thread_members, t, u);
            }
        }
    }

    /// Writes a batch's net changes.
    pub(crate) fn commit(&mut self, changes: Changes<'_>) {
        for key in &changes.deletes {
            self.remove(key);
        }
        for record in changes.puts {
            self.upsert(record.into_owned());
        }
        for (channel, keep) in changes.trims {
            let ids = self.messages.ids_in(&channel);
            let excess = ids.len().saturating_sub(keep as usize);
            for id in &ids[..excess] {
                self.messages.remove(id);
            }
        }
    }

    /// The keys of a scope, ascending.
    pub(crate) fn scope_keys(&self, scope: Scope) -> Vec<EntityKey> {
        fn users<S: Ord, V>(
            map: &PerUser<S, V>,
            scope: &S,
            key: impl Fn(UserId) -> EntityKey,
        ) -> Vec<EntityKey> {
            map.get(scope)
                .map(|inner| inner.keys().map(|u| key(*u)).collect())
                .unwrap_or_default()
        }
        match scope {
            Scope::GuildChannels(g) => self.channels.entity_keys(&Some(g), EntityKey::Channel),
            Scope::ChannelThreads(parent) => self
                .threads_by_parent
                .range((parent, ChannelId::new(0))..=(parent, ChannelId::new(u64::MAX)))
                .map(|(_, thread)| EntityKey::Channel(*thread))
                .collect(),
            Scope::ChannelMessages(c) => self
                .messages
                .ids_in(&c)
                .into_iter()
                .map(EntityKey::Message)
                .collect(),
            // Messages whose channel is not cached still name their guild.
            Scope::GuildMessages(g) => self
                .messages
                .all()
                .filter(|(_, m)| m.guild_id == Some(g))
                .map(|(id, _)| EntityKey::Message(*id))
                .collect(),
            Scope::MessagesBefore(before) => self
                .messages
                .older_than(before)
                .map(|id| EntityKey::Message(*id))
                .collect(),
            Scope::GuildMembers(g) => users(&self.members, &g, |u| EntityKey::Member(g, u)),
            Scope::AllMembers => self
                .members
                .iter()
                .flat_map(|(g, inner)| inner.keys().map(|u| EntityKey::Member(*g, *u)))
                .collect(),
            Scope::GuildRoles(g) => self.roles.entity_keys(&g, EntityKey::Role),
            Scope::GuildEmojis(g) => self.emojis.entity_keys(&g, EntityKey::Emoji),
            Scope::GuildStickers(g) => self.stickers.entity_keys(&Some(g), EntityKey::Sticker),
            Scope::GuildVoiceStates(g) => {
                users(&self.voice_states, &g, |u| EntityKey::VoiceState(g, u))
            }
            Scope::GuildPresences(g) => users(&self.presences, &g, |u| EntityKey::Presence(g, u)),
            Scope::GuildStageInstances(g) => self
                .stage_instances
                .entity_keys(&g, EntityKey::StageInstance),
            Scope::GuildScheduledEvents(g) => self
                .scheduled_events
                .entity_keys(&g, EntityKey::ScheduledEvent),
            Scope::ThreadMembers(t) => {
                users(&self.thread_members, &t, |u| EntityKey::ThreadMember(t, u))
            }
            Scope::ShardGuilds {
                shard_id,
                shard_count,
            } => self
                .guilds
                .keys()
                .filter(|g| crate::shard_of(**g, shard_count) == shard_id)
                .map(|g| EntityKey::Guild(*g))
                .collect(),
        }
    }

    /// A page of a channel's messages, newest first, as held.
    pub(crate) fn shared_channel_messages(
        &self,
        channel: ChannelId,
        page: MessagePage,
        limit: usize,
    ) -> Vec<Arc<Message>> {
        self.messages.page(channel, page, limit)
    }

    /// A message as held.
    pub(crate) fn shared_message(&self, id: MessageId) -> Option<Arc<Message>> {
        self.messages.get(&id).cloned()
    }

    /// A channel's stored messages, ascending by id.
    pub(crate) fn channel_messages(&self, channel: ChannelId) -> Option<&ChannelMessages> {
        self.messages.in_channel(&channel)
    }

    pub(crate) fn read(&self, query: &Query) -> Answer {
        match query {
            Query::CurrentUser => Answer::CurrentUser(self.current_user.clone()),
            Query::Guild(id) => Answer::Guild(self.guilds.get(id).cloned()),
            Query::GuildIds => Answer::GuildIds(self.guilds.keys().copied().collect()),
            Query::Channel(id) => Answer::Channel(self.channels.get(id).cloned()),
            Query::GuildChannels(g) => Answer::Channels(
                self.channels
                    .values_in(&Some(*g))
                    .into_iter()
                    .filter(|c| !c.is_thread())
                    .cloned()
                    .collect(),
            ),
            Query::GuildThreads(g) => Answer::Channels(
                self.channels
                    .values_in(&Some(*g))
                    .into_iter()
                    .filter(|c| c.is_thread())
                    .cloned()
                    .collect(),
            ),
            Query::Message(id) => Answer::Message(self.messages.get(id).map(|m| Message::clone(m))),
            Query::ChannelMessages {
                channel_id,
                page,
                limit,
            } => Answer::Messages(
                self.shared_channel_messages(*channel_id, *page, *limit)
                    .into_iter()
                    .map(Arc::unwrap_or_clone)
                    .collect(),
            ),
            Query::User(id) => Answer::User(self.users.get(id).cloned()),
            Query::Member(g, u) => Answer::Member(per_user_get(&self.members, g, u).cloned()),
            Query::GuildMembers {
                guild_id,
                after,
                limit,
            } => Answer::Members(
                self.members
                    .get(guild_id)
                    .map(|inner| {
                        let start =
                            after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
                        inner
                            .range((start, std::ops::Bound::Unbounded))
                            .take(*limit)
                            .map(|(_, m)| m.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            Query::UserGuilds(u) => Answer::GuildIds(
                self.user_guilds
                    .range((*u, GuildId::new(0))..=(*u, GuildId::new(u64::MAX)))
                    .map(|(_, g)| *g)
                    .collect(),
            ),
            Query::Role(id) => Answer::Role(self.roles.get(id).cloned()),
            Query::GuildRoles(g) => {
                Answer::Roles(self.roles.values_in(g).into_iter().cloned().collect())
            }
            Query::Emoji(id) => Answer::Emoji(self.emojis.get(id).cloned()),
            Query::GuildEmojis(g) => {
                Answer::Emojis(self.emojis.values_in(g).into_iter().cloned().collect())
            }
            Query::Sticker(id) => Answer::Sticker(self.stickers.get(id).cloned()),
            Query::GuildStickers(g) => Answer::Stickers(
                self.stickers
                    .values_in(&Some(*g))
                    .into_iter()
                    .cloned()
                    .collect(),
            ),
            Query::VoiceState(g, u) => {
                Answer::VoiceState(per_user_get(&self.voice_states, g, u).cloned())
            }
            Query::GuildVoiceStates(g) => Answer::VoiceStates(per_user_all(&self.voice_states, g)),
            Query::Presence(g, u) => Answer::Presence(per_user_get(&self.presences, g, u).cloned()),
            Query::GuildPresences(g) => Answer::Presences(per_user_all(&self.presences, g)),
            Query::StageInstance(id) => {
                Answer::StageInstance(self.stage_instances.get(id).cloned())
            }
            Query::GuildStageInstances(g) => Answer::StageInstances(
                self.stage_instances
                    .values_in(g)
                    .into_iter()
                    .cloned()
                    .collect(),
            ),
            Query::ScheduledEvent(id) => {
                Answer::ScheduledEvent(self.scheduled_events.get(id).cloned())
            }
            Query::GuildScheduledEvents(g) => Answer::ScheduledEvents(
                self.scheduled_events
                    .values_in(g)
                    .into_iter()
                    .cloned()
                    .collect(),
            ),
            Query::ThreadMember(t, u) => {
                Answer::ThreadMember(per_user_get(&self.thread_members, t, u).cloned())
            }
            Query::ThreadMembers(t) => Answer::ThreadMembers(per_user_all(&self.thread_members, t)),
            Query::Counts => {
                let threads = self
                    .channels
                    .items
                    .values()
                    .filter(|(_, c)| c.is_thread())
                    .count() as u64;
                Answer::Counts(Counts {
                    guilds: self.guilds.len() as u64,
                    channels: self.channels.len() as u64 - threads,
                    threads,
                    messages: self.messages.len() as u64,
                    users: self.users.len() as u64,
                    members: per_user_len(&self.members),
                    roles: self.roles.len() as u64,
                    emojis: self.emojis.len() as u64,
                    stickers: self.stickers.len() as u64,
                    voice_states: per_user_len(&self.voice_states),
                    presences: per_user_len(&self.presences),
                    stage_instances: self.stage_instances.len() as u64,
                    scheduled_events: self.scheduled_events.len() as u64,
                    thread_members: per_user_len(&self.thread_members),
                })
            }
        }
    }
}

/// The committed data as the write semantics read it.
pub(crate) struct Committed<'a>(pub(crate) &'a Data);

impl Engine for Committed<'_> {
    fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>> {
        Ok(keys.iter().map(|k| self.0.get(k)).collect())
    }

    fn scope_keys(&mut self, scope: Scope) -> Result<Vec<EntityKey>> {
        Ok(self.0.scope_keys(scope))
    }
}
