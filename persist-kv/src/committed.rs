//! The committed view as the cache's write semantics read it
//! ([`persist_core::write::Engine`]): point gets and scope listings over the
//! layout's object and index spaces.

use persist_core::model::Message;
use persist_core::write::{Engine, Scope};
use persist_core::{
    ChannelId, EmojiId, EntityKey, GuildId, MessageId, Record, Result, RoleId, ScheduledEventId,
    StageInstanceId, StickerId, UserId,
};

use crate::engine::KvRead;
use crate::read::decode_record;
use crate::{Space, key, location};

/// A batch's reads of the committed data.
pub struct Committed<'a>(pub &'a dyn KvRead);

impl Committed<'_> {
    fn record(&self, entity: &EntityKey) -> Result<Option<Record>> {
        let (space, bytes) = location(entity);
        self.0
            .get(space, &bytes)?
            .map(|value| decode_record(space, &value, entity))
            .transpose()
    }

    /// The second ids of every key of a two-id space under `scope`.
    fn seconds(&self, space: Space, scope: u64) -> Result<Vec<u64>> {
        let (from, to) = key::scope(scope, 0, None);
        Ok(self
            .0
            .range(space, &from, &to, false, usize::MAX)?
            .iter()
            .filter_map(|(k, _)| key::second(k))
            .collect())
    }

    /// The first ids of every key of a space (keys only matter).
    fn firsts(&self, space: Space, to: &[u8]) -> Result<Vec<u64>> {
        Ok(self
            .0
            .range(space, &[], to, false, usize::MAX)?
            .iter()
            .filter_map(|(k, _)| key::first(k))
            .collect())
    }
}

/// The count `channel_counts` keeps of a channel's messages.
pub(crate) fn channel_message_count(view: &dyn KvRead, channel: u64) -> Result<u64> {
    match view.get(Space::ChannelCounts, &key::one(channel))? {
        Some(v) => Ok(u64::from_be_bytes(v.as_slice().try_into().map_err(
            |_| persist_core::Error::Corrupt {
                key: format!("channel_counts/{channel}"),
                reason: "not an 8-byte count".into(),
            },
        )?)),
        None => Ok(0),
    }
}

const END_ONE: [u8; 9] = [0xff; 9];
const END_TWO: [u8; 17] = [0xff; 17];

impl Engine for Committed<'_> {
    fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>> {
        keys.iter().map(|k| self.record(k)).collect()
    }

    fn scope_keys(&mut self, scope: Scope) -> Result<Vec<EntityKey>> {
        let ids = |v: Vec<u64>, key: fn(u64) -> EntityKey| v.into_iter().map(key).collect();
        Ok(match scope {
            Scope::GuildChannels(g) => ids(self.seconds(Space::GuildChannels, g.get())?, |c| {
                EntityKey::Channel(ChannelId::new(c))
            }),
            Scope::ChannelThreads(p) => ids(self.seconds(Space::ThreadParents, p.get())?, |c| {
                EntityKey::Channel(ChannelId::new(c))
            }),
            Scope::ChannelMessages(c) => ids(self.seconds(Space::ChannelMessages, c.get())?, |m| {
                EntityKey::Message(MessageId::new(m))
            }),
            Scope::GuildMessages(g) => {
                // The channels that hold messages of the guild, then the
                // messages there that name it.
                let mut keys = Vec::new();
                for channel in self.seconds(Space::GuildMessageChannels, g.get())? {
                    for id in self.seconds(Space::ChannelMessages, channel)? {
                        let key = EntityKey::Message(MessageId::new(id));
                        if let Some(Record::Message(Message { guild_id, .. })) =
                            self.record(&key)?
                            && guild_id == Some(g)
                        {
                            keys.push(key);
                        }
                    }
                }
                keys.sort_unstable();
                keys
            }
            Scope::MessagesBefore(before) => ids(
                self.firsts(Space::Messages, &key::one(before.get()))?,
                |m| EntityKey::Message(MessageId::new(m)),
            ),
            Scope::GuildMembers(g) => self
                .seconds(Space::Members, g.get())?
                .into_iter()
                .map(|u| EntityKey::Member(g, UserId::new(u)))
                .collect(),
            Scope::AllMembers => self
                .0
                .range(Space::Members, &[], &END_TWO, false, usize::MAX)?
                .iter()
                .filter_map(|(k, _)| {
                    Some(EntityKey::Member(
                        GuildId::new(key::first(k)?),
                        UserId::new(key::second(k)?),
                    ))
                })
                .collect(),
            Scope::GuildRoles(g) => ids(self.seconds(Space::GuildRoles, g.get())?, |r| {
                EntityKey::Role(RoleId::new(r))
            }),
            Scope::GuildEmojis(g) => ids(self.seconds(Space::GuildEmojis, g.get())?, |e| {
                EntityKey::Emoji(EmojiId::new(e))
            }),
            Scope::GuildStickers(g) => ids(self.seconds(Space::GuildStickers, g.get())?, |s| {
                EntityKey::Sticker(StickerId::new(s))
            }),
            Scope::GuildVoiceStates(g) => self
                .seconds(Space::VoiceStates, g.get())?
                .into_iter()
                .map(|u| EntityKey::VoiceState(g, UserId::new(u)))
                .collect(),
            Scope::GuildPresences(g) => self
                .seconds(Space::Presences, g.get())?
                .into_iter()
                .map(|u| EntityKey::Presence(g, UserId::new(u)))
                .collect(),
            Scope::GuildStageInstances(g) => {
                ids(self.seconds(Space::GuildStageInstances, g.get())?, |s| {
                    EntityKey::StageInstance(StageInstanceId::new(s))
                })
            }
            Scope::GuildScheduledEvents(g) => {
                ids(self.seconds(Space::GuildScheduledEvents, g.get())?, |s| {
                    EntityKey::ScheduledEvent(ScheduledEventId::new(s))
                })
            }
            Scope::ThreadMembers(t) => self
                .seconds(Space::ThreadMembers, t.get())?
                .into_iter()
                .map(|u| EntityKey::ThreadMember(t, UserId::new(u)))
                .collect(),
            Scope::ShardGuilds {
                shard_id,
                shard_count,
            } => self
                .firsts(Space::Guilds, &END_ONE)?
                .into_iter()
                .map(GuildId::new)
                .filter(|g| persist_core::shard_of(*g, shard_count) == shard_id)
                .map(EntityKey::Guild)
                .collect(),
        })
    }
}
