//! Mutations: the unit of change a store applies.

use serde::{Deserialize, Serialize};

use crate::entity::{EntityKey, Record};
use crate::model::{Emoji, ReactionEmoji, Sticker};
use crate::{ChannelId, GuildId, MessageId, Patch, ResourceKind, RoleId, ScheduledEventId, UserId};

/// One change to the cache. A store applies a batch of them atomically, in order.
///
/// Deletes cascade the way a cache needs:
/// - `Delete(Guild)` removes everything of that guild (channels, threads,
///   their messages and thread members, members, roles, emojis, stickers,
///   voice states, presences, stage instances, scheduled events). Users stay:
///   they are global.
/// - `Delete(Channel)` removes its messages, its threads (with their messages
///   and members) and its thread members; overwrites live inside the channel.
/// - `Delete(Role)` also removes the role from every member of its guild.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Mutation {
    /// Insert or replace a whole object (boxed: records are large, most mutations are not).
    Upsert(Box<Record>),
    /// Insert or replace many objects (GUILD_CREATE, member chunks).
    UpsertMany(Vec<Record>),
    /// Merge the sent fields into an object (see [`Patch`]).
    Patch(Patch),
    /// Remove an object, with the cascades above.
    Delete(EntityKey),
    /// Replace a guild's whole emoji set (GUILD_EMOJIS_UPDATE).
    ReplaceGuildEmojis {
        /// The guild.
        guild_id: GuildId,
        /// The complete new set.
        emojis: Vec<Emoji>,
    },
    /// Replace a guild's whole sticker set (GUILD_STICKERS_UPDATE).
    ReplaceGuildStickers {
        /// The guild.
        guild_id: GuildId,
        /// The complete new set.
        stickers: Vec<Sticker>,
    },
    /// Remove many messages of one channel (MESSAGE_DELETE_BULK).
    BulkDeleteMessages {
        /// The channel.
        channel_id: ChannelId,
        /// The messages.
        message_ids: Vec<MessageId>,
    },
    /// A user reacted (MESSAGE_REACTION_ADD).
    AddReaction(ReactionChange),
    /// A user took a reaction back (MESSAGE_REACTION_REMOVE).
    RemoveReaction(ReactionChange),
    /// A user subscribed to or left a scheduled event
    /// (GUILD_SCHEDULED_EVENT_USER_ADD / _REMOVE): its `user_count` moves by one.
    CountScheduledEventUser {
        /// The guild.
        guild_id: GuildId,
        /// The event.
        event_id: ScheduledEventId,
        /// Whether the user was added (else removed).
        added: bool,
    },
    /// Every reaction was removed from a message (MESSAGE_REACTION_REMOVE_ALL).
    RemoveAllReactions {
        /// The channel.
        channel_id: ChannelId,
        /// The message.
        message_id: MessageId,
    },
    /// Every reaction with one emoji was removed (MESSAGE_REACTION_REMOVE_EMOJI).
    RemoveEmojiReactions {
        /// The channel.
        channel_id: ChannelId,
        /// The message.
        message_id: MessageId,
        /// The emoji.
        emoji: ReactionEmoji,
    },
    /// Keep only the newest `keep` messages of a channel (the per-channel cap).
    TrimChannelMessages {
        /// The channel.
        channel_id: ChannelId,
        /// How many of the newest to keep.
        keep: u32,
    },
    /// Remove every message older than `before` (the age limit).
    PruneMessages {
        /// Messages with a smaller id are removed.
        before: MessageId,
    },
    /// Remove the guild's channels (threads aside: archived ones are never
    /// listed) that are not in `keep`, with their cascades (GUILD_CREATE
    /// after a restart: channels deleted while the bot was away).
    RetainGuildChannels {
        /// The guild.
        guild_id: GuildId,
        /// Every channel the guild still has.
        keep: Vec<ChannelId>,
    },
    /// Remove the guild's roles that are not in `keep`, and strip them from members.
    RetainGuildRoles {
        /// The guild.
        guild_id: GuildId,
        /// Every role the guild still has.
        keep: Vec<RoleId>,
    },
    /// Remove the guild's members that are not in `keep`. Only for a complete
    /// member list: a partial one would remove members who are still there.
    RetainGuildMembers {
        /// The guild.
        guild_id: GuildId,
        /// Every member of the guild.
        keep: Vec<UserId>,
    },
    /// Remove, with everything of them, the guilds of one shard that are not
    /// in `keep` (READY after a restart: guilds the bot left while away).
    /// Guilds of other shards are never touched.
    RetainShardGuilds {
        /// This shard's id.
        shard_id: u32,
        /// How many shards the bot runs (1 when unsharded).
        shard_count: u32,
        /// Every guild this shard has.
        keep: Vec<GuildId>,
    },
}

/// The shard a guild belongs to (Discord's formula).
pub fn shard_of(guild_id: GuildId, shard_count: u32) -> u32 {
    ((guild_id.get() >> 22) % u64::from(shard_count.max(1))) as u32
}

/// One reaction added or removed by one user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReactionChange {
    /// The channel.
    pub channel_id: ChannelId,
    /// The message.
    pub message_id: MessageId,
    /// The guild, if any.
    pub guild_id: Option<GuildId>,
    /// Who reacted.
    pub user_id: UserId,
    /// The emoji.
    pub emoji: ReactionEmoji,
    /// A super reaction.
    pub burst: bool,
    /// Whether the reacting user is the bot itself (sets `me`).
    pub by_current_user: bool,
}

impl Mutation {
    /// The single object this mutation changes, if it changes exactly one and
    /// nothing else; the pipeline coalesces repeated writes by this key.
    pub fn object_key(&self) -> Option<EntityKey> {
        match self {
            Self::Upsert(record) => Some(record.key()),
            Self::Patch(patch) => Some(patch.key()),
            Self::Delete(
                key @ (EntityKey::Message(_)
                | EntityKey::Member(..)
                | EntityKey::User(_)
                | EntityKey::Emoji(_)
                | EntityKey::Sticker(_)
                | EntityKey::VoiceState(..)
                | EntityKey::Presence(..)
                | EntityKey::StageInstance(_)
                | EntityKey::ScheduledEvent(_)
                | EntityKey::ThreadMember(..)
                | EntityKey::CurrentUser),
            ) => Some(*key),
            Self::AddReaction(r) | Self::RemoveReaction(r) => {
                Some(EntityKey::Message(r.message_id))
            }
            Self::CountScheduledEventUser { event_id, .. } => {
                Some(EntityKey::ScheduledEvent(*event_id))
            }
            Self::RemoveAllReactions { message_id, .. }
            | Self::RemoveEmojiReactions { message_id, .. } => {
                Some(EntityKey::Message(*message_id))
            }
            _ => None,
        }
    }

    /// The guild this mutation is about, when it is about one (for logs).
    pub fn guild_id(&self) -> Option<GuildId> {
        match self {
            Self::Upsert(record) => record.guild_id(),
            Self::UpsertMany(records) => records.iter().find_map(Record::guild_id),
            Self::Patch(patch) => patch.guild_id(),
            Self::Delete(key) => key.guild_id(),
            Self::ReplaceGuildEmojis { guild_id, .. }
            | Self::ReplaceGuildStickers { guild_id, .. }
            | Self::RetainGuildChannels { guild_id, .. }
            | Self::RetainGuildRoles { guild_id, .. }
            | Self::RetainGuildMembers { guild_id, .. } => Some(*guild_id),
            _ => None,
        }
    }

    /// Whether applying this mutation twice gives the same state as once.
    /// Counts are the exception: each reaction or event subscriber added or
    /// removed is counted.
    pub fn is_idempotent(&self) -> bool {
        !matches!(
            self,
            Self::AddReaction(_) | Self::RemoveReaction(_) | Self::CountScheduledEventUser { .. }
        )
    }

    /// The resource kinds this mutation can change (cascades included).
    pub fn kinds(&self) -> ResourceKind {
        match self {
            Self::Upsert(record) => record.kind(),
            Self::UpsertMany(records) => records
                .iter()
                .fold(ResourceKind::empty(), |k, r| k | r.kind()),
            Self::Patch(patch) => patch.key().kind(),
            Self::Delete(EntityKey::Guild(_)) => ResourceKind::all(),
            Self::Delete(EntityKey::Channel(_)) => {
                ResourceKind::CHANNELS
                    | ResourceKind::THREADS
                    | ResourceKind::MESSAGES
                    | ResourceKind::THREAD_MEMBERS
            }
            Self::Delete(EntityKey::Role(_)) => ResourceKind::ROLES | ResourceKind::MEMBERS,
            Self::Delete(key) => key.kind(),
            Self::ReplaceGuildEmojis { .. } => ResourceKind::EMOJIS,
            Self::ReplaceGuildStickers { .. } => ResourceKind::STICKERS,
            Self::BulkDeleteMessages { .. }
            | Self::TrimChannelMessages { .. }
            | Self::PruneMessages { .. } => ResourceKind::MESSAGES,
            Self::AddReaction(_)
            | Self::RemoveReaction(_)
            | Self::RemoveAllReactions { .. }
            | Self::RemoveEmojiReactions { .. } => ResourceKind::MESSAGES,
            Self::RetainGuildChannels { .. } => {
                ResourceKind::CHANNELS
                    | ResourceKind::THREADS
                    | ResourceKind::MESSAGES
                    | ResourceKind::THREAD_MEMBERS
            }
            Self::RetainGuildRoles { .. } => ResourceKind::ROLES | ResourceKind::MEMBERS,
            Self::RetainGuildMembers { .. } => ResourceKind::MEMBERS,
            Self::RetainShardGuilds { .. } => ResourceKind::all(),
            Self::CountScheduledEventUser { .. } => ResourceKind::SCHEDULED_EVENTS,
        }
    }

    /// The channel this mutation is confined to, if it is confined to one.
    pub fn channel_id(&self) -> Option<ChannelId> {
        match self {
            Self::Upsert(record) => match &**record {
                Record::Message(m) => Some(m.channel_id),
                _ => None,
            },
            Self::Patch(p) => p.message_channel(),
            Self::BulkDeleteMessages { channel_id, .. }
            | Self::TrimChannelMessages { channel_id, .. }
            | Self::RemoveAllReactions { channel_id, .. }
            | Self::RemoveEmojiReactions { channel_id, .. } => Some(*channel_id),
            Self::AddReaction(r) | Self::RemoveReaction(r) => Some(r.channel_id),
            _ => None,
        }
    }
}

impl Mutation {
    /// Insert or replace a whole object.
    ///
    /// ```
    /// use persist_core::{Mutation, model::User, UserId};
    /// let m = Mutation::upsert(User { id: UserId::new(1), ..Default::default() });
    /// assert!(matches!(m, Mutation::Upsert(_)));
    /// ```
    pub fn upsert(record: impl Into<Record>) -> Self {
        Self::Upsert(Box::new(record.into()))
    }
}

impl From<Record> for Mutation {
    fn from(record: Record) -> Self {
        Self::Upsert(Box::new(record))
    }
}

impl From<Patch> for Mutation {
    fn from(patch: Patch) -> Self {
        Self::Patch(patch)
    }
}
