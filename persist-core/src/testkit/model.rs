//! A reference model of the cache's mutation semantics: every object in one
//! map, every rule written the plainest way (a scan of everything), so that
//! it is easy to check by reading. Stores are checked against it by
//! [`run_model_check`](super::run_model_check).

use std::collections::BTreeMap;

use crate::entity::{EntityKey, Record};
use crate::model::{Channel, Member, Message};
use crate::{Answer, ChannelId, Counts, GuildId, MessageId, MessagePage, Mutation, Query, RoleId};

/// Every stored object by key.
#[derive(Clone, Debug, Default)]
pub struct Model {
    objects: BTreeMap<EntityKey, Record>,
}

impl Model {
    /// An empty model.
    pub fn new() -> Self {
        Self::default()
    }

    fn records(&self) -> impl Iterator<Item = &Record> {
        self.objects.values()
    }

    fn remove_where(&mut self, gone: impl Fn(&Record) -> bool) {
        self.objects.retain(|_, r| !gone(r));
    }

    fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.records().filter_map(|r| match r {
            Record::Channel(c) => Some(c),
            _ => None,
        })
    }

    fn messages(&self) -> impl Iterator<Item = &Message> {
        self.records().filter_map(|r| match r {
            Record::Message(m) => Some(m),
            _ => None,
        })
    }

    fn members(&self) -> impl Iterator<Item = &Member> {
        self.records().filter_map(|r| match r {
            Record::Member(m) => Some(m),
            _ => None,
        })
    }

    /// A channel, its messages and thread members, and its threads with theirs.
    fn delete_channel(&mut self, id: ChannelId) {
        let threads: Vec<ChannelId> = self
            .channels()
            .filter(|c| c.is_thread() && c.parent_id == Some(id))
            .map(|c| c.id)
            .collect();
        for thread in threads {
            self.delete_channel(thread);
        }
        self.objects.remove(&EntityKey::Channel(id));
        self.remove_where(|r| match r {
            Record::Message(m) => m.channel_id == id,
            Record::ThreadMember(t) => t.thread_id == id,
            _ => false,
        });
    }

    /// A guild and everything of it.
    fn delete_guild(&mut self, id: GuildId) {
        self.objects.remove(&EntityKey::Guild(id));
        let channels: Vec<ChannelId> = self
            .channels()
            .filter(|c| c.guild_id == Some(id))
            .map(|c| c.id)
            .collect();
        for channel in channels {
            self.delete_channel(channel);
        }
        self.remove_where(|r| match r {
            Record::Message(m) => m.guild_id == Some(id),
            Record::Member(_)
            | Record::Role(_)
            | Record::Emoji(_)
            | Record::Sticker(_)
            | Record::VoiceState(_)
            | Record::Presence(_)
            | Record::StageInstance(_)
            | Record::ScheduledEvent(_) => r.guild_id() == Some(id),
            _ => false,
        });
    }

    /// A role, taken from every member of its guild (of every guild when
    /// the role is not stored).
    fn delete_role(&mut self, id: RoleId) {
        let guild = match self.objects.remove(&EntityKey::Role(id)) {
            Some(role) => role.guild_id(),
            None => None,
        };
        for record in self.objects.values_mut() {
            if let Record::Member(m) = record
                && guild.is_none_or(|g| g == m.guild_id)
            {
                m.roles.retain(|r| *r != id);
            }
        }
    }

    fn with_message(&mut self, id: MessageId, change: impl FnOnce(&mut Message)) {
        if let Some(Record::Message(m)) = self.objects.get_mut(&EntityKey::Message(id)) {
            change(m);
        }
    }

    fn upsert(&mut self, record: Record) {
        self.objects.insert(record.key(), record);
    }

    /// Applies one mutation.
    pub fn apply(&mut self, mutation: &Mutation) {
        match mutation {
            Mutation::Upsert(record) => self.upsert((**record).clone()),
            Mutation::UpsertMany(records) => {
                for record in records {
                    self.upsert(record.clone());
                }
            }
            Mutation::Patch(patch) => {
                let current = self.objects.get(&patch.key()).cloned();
                if let Ok(merged) = patch.apply_record(current) {
                    self.upsert(merged);
                }
            }
            Mutation::Delete(key) => match *key {
                EntityKey::Guild(id) => self.delete_guild(id),
                EntityKey::Channel(id) => self.delete_channel(id),
                EntityKey::Role(id) => self.delete_role(id),
                other => {
                    self.objects.remove(&other);
                }
            },
            Mutation::ReplaceGuildEmojis { guild_id, emojis } => {
                self.remove_where(|r| matches!(r, Record::Emoji(e) if e.guild_id == *guild_id));
                for emoji in emojis {
                    let mut emoji = emoji.clone();
                    emoji.guild_id = *guild_id;
                    self.upsert(Record::Emoji(emoji));
                }
            }
            Mutation::ReplaceGuildStickers { guild_id, stickers } => {
                self.remove_where(
                    |r| matches!(r, Record::Sticker(s) if s.guild_id == Some(*guild_id)),
                );
                for sticker in stickers {
                    let mut sticker = sticker.clone();
                    sticker.guild_id = Some(*guild_id);
                    self.upsert(Record::Sticker(sticker));
                }
            }
            Mutation::BulkDeleteMessages { message_ids, .. } => {
                for id in message_ids {
                    self.objects.remove(&EntityKey::Message(*id));
                }
            }
            Mutation::CountScheduledEventUser {
                event_id, added, ..
            } => {
                if let Some(Record::ScheduledEvent(e)) =
                    self.objects.get_mut(&EntityKey::ScheduledEvent(*event_id))
                {
                    e.count_user(*added);
                }
            }
            Mutation::AddReaction(r) => self.with_message(r.message_id, |m| {
                m.add_reaction(&r.emoji, r.burst, r.by_current_user)
            }),
            Mutation::RemoveReaction(r) => self.with_message(r.message_id, |m| {
                m.remove_reaction(&r.emoji, r.burst, r.by_current_user)
            }),
            Mutation::RemoveAllReactions { message_id, .. } => {
                self.with_message(*message_id, |m| m.reactions.clear())
            }
            Mutation::RemoveEmojiReactions {
                message_id, emoji, ..
            } => self.with_message(*message_id, |m| m.remove_emoji_reactions(emoji)),
            Mutation::TrimChannelMessages { channel_id, keep } => {
                let mut ids: Vec<MessageId> = self
                    .messages()
                    .filter(|m| m.channel_id == *channel_id)
                    .map(|m| m.id)
                    .collect();
                ids.sort();
                let excess = ids.len().saturating_sub(*keep as usize);
                for id in &ids[..excess] {
                    self.objects.remove(&EntityKey::Message(*id));
                }
            }
            Mutation::PruneMessages { before } => {
                self.remove_where(|r| matches!(r, Record::Message(m) if m.id < *before));
            }
            Mutation::RetainGuildChannels { guild_id, keep } => {
                let gone: Vec<ChannelId> = self
                    .channels()
                    .filter(|c| c.guild_id == Some(*guild_id))
                    .filter(|c| !c.is_thread() && !keep.contains(&c.id))
                    .map(|c| c.id)
                    .collect();
                for id in gone {
                    self.delete_channel(id);
                }
            }
            Mutation::RetainGuildRoles { guild_id, keep } => {
                let gone: Vec<RoleId> = self
                    .records()
                    .filter_map(|r| match r {
                        Record::Role(role) if role.guild_id == *guild_id => Some(role.id),
                        _ => None,
                    })
                    .filter(|id| !keep.contains(id))
                    .collect();
                for id in gone {
                    self.delete_role(id);
                }
            }
            Mutation::RetainGuildMembers { guild_id, keep } => {
                self.remove_where(|r| {
                    matches!(r, Record::Member(m) if m.guild_id == *guild_id && !keep.contains(&m.user_id))
                });
            }
            Mutation::RetainShardGuilds {
                shard_id,
                shard_count,
                keep,
            } => {
                let gone: Vec<GuildId> = self
                    .records()
                    .filter_map(|r| match r {
                        Record::Guild(g) => Some(g.id),
                        _ => None,
                    })
                    .filter(|g| crate::shard_of(*g, *shard_count) == *shard_id && !keep.contains(g))
                    .collect();
                for guild in gone {
                    self.delete_guild(guild);
                }
            }
        }
    }

    fn get(&self, key: EntityKey) -> Option<Record> {
        self.objects.get(&key).cloned()
    }

    /// Every stored object of one kind for which `keep` holds, by key.
    fn all<T>(&self, pick: impl Fn(&Record) -> Option<T>) -> Vec<T> {
        self.records().filter_map(pick).collect()
    }

    fn page(&self, channel: ChannelId, page: MessagePage, limit: usize) -> Vec<Message> {
        // Oldest first.
        let mut all: Vec<Message> = self
            .messages()
            .filter(|m| m.channel_id == channel)
            .cloned()
            .collect();
        all.sort_by_key(|m| m.id);
        let newest_first = |v: Vec<Message>| -> Vec<Message> { v.into_iter().rev().collect() };
        match page {
            MessagePage::Latest => newest_first(all).into_iter().take(limit).collect(),
            MessagePage::Before(before) => newest_first(all)
                .into_iter()
                .filter(|m| m.id < before)
                .take(limit)
                .collect(),
            MessagePage::After(after) => {
                let oldest: Vec<Message> = all
                    .into_iter()
                    .filter(|m| m.id > after)
                    .take(limit)
                    .collect();
                newest_first(oldest)
            }
            MessagePage::Around(around) => {
                let newer_count = limit / 2;
                let newer: Vec<Message> = all
                    .iter()
                    .filter(|m| m.id > around)
                    .take(newer_count)
                    .cloned()
                    .collect();
                let mut page = newest_first(newer);
                page.extend(
                    newest_first(all)
                        .into_iter()
                        .filter(|m| m.id <= around)
                        .take(limit - newer_count),
                );
                page
            }
        }
    }

    /// Answers one read.
    pub fn read(&self, query: &Query) -> Answer {
        macro_rules! one {
            ($variant:ident, $key:expr) => {
                Answer::$variant(match self.get($key) {
                    Some(Record::$variant(v)) => Some(v),
                    _ => None,
                })
            };
        }
        macro_rules! list {
            ($answer:ident, $kind:ident, |$v:ident| $keep:expr) => {
                Answer::$answer(self.all(|r| match r {
                    Record::$kind($v) if $keep => Some($v.clone()),
                    _ => None,
                }))
            };
        }
        match *query {
            Query::CurrentUser => one!(CurrentUser, EntityKey::CurrentUser),
            Query::Guild(id) => one!(Guild, EntityKey::Guild(id)),
            Query::GuildIds => Answer::GuildIds(self.all(|r| match r {
                Record::Guild(g) => Some(g.id),
                _ => None,
            })),
            Query::Channel(id) => one!(Channel, EntityKey::Channel(id)),
            Query::GuildChannels(g) => {
                list!(Channels, Channel, |c| c.guild_id == Some(g)
                    && !c.is_thread())
            }
            Query::GuildThreads(g) => {
                list!(Channels, Channel, |c| c.guild_id == Some(g)
                    && c.is_thread())
            }
            Query::Message(id) => one!(Message, EntityKey::Message(id)),
            Query::ChannelMessages {
                channel_id,
                page,
                limit,
            } => Answer::Messages(self.page(channel_id, page, limit)),
            Query::User(id) => one!(User, EntityKey::User(id)),
            Query::Member(g, u) => one!(Member, EntityKey::Member(g, u)),
            Query::GuildMembers {
                guild_id,
                after,
                limit,
            } => {
                let mut members: Vec<Member> = self
                    .members()
                    .filter(|m| m.guild_id == guild_id && after.is_none_or(|a| m.user_id > a))
                    .cloned()
                    .collect();
                members.sort_by_key(|m| m.user_id);
                members.truncate(limit);
                Answer::Members(members)
            }
            Query::UserGuilds(u) => {
                let mut guilds: Vec<GuildId> = self
                    .members()
                    .filter(|m| m.user_id == u)
                    .map(|m| m.guild_id)
                    .collect();
                guilds.sort();
                Answer::GuildIds(guilds)
            }
            Query::Role(id) => one!(Role, EntityKey::Role(id)),
            Query::GuildRoles(g) => list!(Roles, Role, |r| r.guild_id == g),
            Query::Emoji(id) => one!(Emoji, EntityKey::Emoji(id)),
            Query::GuildEmojis(g) => list!(Emojis, Emoji, |e| e.guild_id == g),
            Query::Sticker(id) => one!(Sticker, EntityKey::Sticker(id)),
            Query::GuildStickers(g) => list!(Stickers, Sticker, |s| s.guild_id == Some(g)),
            Query::VoiceState(g, u) => one!(VoiceState, EntityKey::VoiceState(g, u)),
            Query::GuildVoiceStates(g) => list!(VoiceStates, VoiceState, |v| v.guild_id == g),
            Query::Presence(g, u) => one!(Presence, EntityKey::Presence(g, u)),
            Query::GuildPresences(g) => list!(Presences, Presence, |p| p.guild_id == g),
            Query::StageInstance(id) => one!(StageInstance, EntityKey::StageInstance(id)),
            Query::GuildStageInstances(g) => {
                list!(StageInstances, StageInstance, |s| s.guild_id == g)
            }
            Query::ScheduledEvent(id) => one!(ScheduledEvent, EntityKey::ScheduledEvent(id)),
            Query::GuildScheduledEvents(g) => {
                list!(ScheduledEvents, ScheduledEvent, |s| s.guild_id == g)
            }
            Query::ThreadMember(t, u) => one!(ThreadMember, EntityKey::ThreadMember(t, u)),
            Query::ThreadMembers(t) => list!(ThreadMembers, ThreadMember, |m| m.thread_id == t),
            Query::Counts => Answer::Counts(self.counts()),
        }
    }

    fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for record in self.records() {
            let n = match record {
                Record::CurrentUser(_) => continue,
                Record::Guild(_) => &mut counts.guilds,
                Record::Channel(c) if c.is_thread() => &mut counts.threads,
                Record::Channel(_) => &mut counts.channels,
                Record::Message(_) => &mut counts.messages,
                Record::User(_) => &mut counts.users,
                Record::Member(_) => &mut counts.members,
                Record::Role(_) => &mut counts.roles,
                Record::Emoji(_) => &mut counts.emojis,
                Record::Sticker(_) => &mut counts.stickers,
                Record::VoiceState(_) => &mut counts.voice_states,
                Record::Presence(_) => &mut counts.presences,
                Record::StageInstance(_) => &mut counts.stage_instances,
                Record::ScheduledEvent(_) => &mut counts.scheduled_events,
                Record::ThreadMember(_) => &mut counts.thread_members,
            };
            *n += 1;
        }
        counts
    }
}
