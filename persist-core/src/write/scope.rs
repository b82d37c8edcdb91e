//! A set of stored objects the semantics read as one (a guild's members, a
//! channel's messages, ...): what cascades, retains, caps and prunes touch.

use crate::entity::Record;
use crate::{ChannelId, GuildId, MessageId};

/// A set of stored objects an engine lists by key in one read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A guild's channels and threads.
    GuildChannels(GuildId),
    /// The threads whose parent is this channel.
    ChannelThreads(ChannelId),
    /// A channel's messages.
    ChannelMessages(ChannelId),
    /// The messages that name this guild (their channel may not be stored).
    GuildMessages(GuildId),
    /// Every message older than this id, in every channel.
    MessagesBefore(MessageId),
    /// A guild's members.
    GuildMembers(GuildId),
    /// Every member of every guild (a role delete whose guild is unknown).
    AllMembers,
    /// A guild's roles.
    GuildRoles(GuildId),
    /// A guild's emojis.
    GuildEmojis(GuildId),
    /// A guild's stickers.
    GuildStickers(GuildId),
    /// A guild's voice states.
    GuildVoiceStates(GuildId),
    /// A guild's presences.
    GuildPresences(GuildId),
    /// A guild's stage instances.
    GuildStageInstances(GuildId),
    /// A guild's scheduled events.
    GuildScheduledEvents(GuildId),
    /// A thread's members.
    ThreadMembers(ChannelId),
    /// The guilds one shard of `shard_count` serves (`shard_of`).
    ShardGuilds {
        /// The shard.
        shard_id: u32,
        /// How many shards the bot runs.
        shard_count: u32,
    },
}

impl Scope {
    /// The scopes named after a parent of the record (its guild, channel or
    /// thread) that hold it; the others (`MessagesBefore`, `AllMembers`,
    /// `ShardGuilds`) are ranges or predicates, see [`Scope::contains`].
    pub fn of(record: &Record) -> impl Iterator<Item = Scope> {
        let (first, second) = match record {
            Record::Channel(c) => (
                c.guild_id.map(Self::GuildChannels),
                c.parent_id
                    .filter(|_| c.is_thread())
                    .map(Self::ChannelThreads),
            ),
            Record::Message(m) => (
                Some(Self::ChannelMessages(m.channel_id)),
                m.guild_id.map(Self::GuildMessages),
            ),
            Record::Member(m) => (Some(Self::GuildMembers(m.guild_id)), None),
            Record::Role(r) => (Some(Self::GuildRoles(r.guild_id)), None),
            Record::Emoji(e) => (Some(Self::GuildEmojis(e.guild_id)), None),
            Record::Sticker(s) => (s.guild_id.map(Self::GuildStickers), None),
            Record::VoiceState(v) => (Some(Self::GuildVoiceStates(v.guild_id)), None),
            Record::Presence(p) => (Some(Self::GuildPresences(p.guild_id)), None),
            Record::StageInstance(s) => (Some(Self::GuildStageInstances(s.guild_id)), None),
            Record::ScheduledEvent(s) => (Some(Self::GuildScheduledEvents(s.guild_id)), None),
            Record::ThreadMember(m) => (Some(Self::ThreadMembers(m.thread_id)), None),
            Record::CurrentUser(_) | Record::Guild(_) | Record::User(_) => (None, None),
        };
        first.into_iter().chain(second)
    }

    /// Whether the scope is a range or a predicate over one kind rather
    /// than the children of one parent ([`Scope::of`] never yields it).
    pub fn is_predicate(&self) -> bool {
        matches!(
            self,
            Self::MessagesBefore(_) | Self::AllMembers | Self::ShardGuilds { .. }
        )
    }

    /// Whether `record` belongs to the scope (what an engine's listing of
    /// the scope returns, written once so a batch's own writes can be
    /// merged into it).
    pub fn contains(&self, record: &Record) -> bool {
        match (*self, record) {
            (Self::MessagesBefore(before), Record::Message(m)) => m.id < before,
            (Self::AllMembers, Record::Member(_)) => true,
            (
                Self::ShardGuilds {
                    shard_id,
                    shard_count,
                },
                Record::Guild(g),
            ) => crate::shard_of(g.id, shard_count) == shard_id,
            (scope, record) => Self::of(record).any(|s| s == scope),
        }
    }
}
