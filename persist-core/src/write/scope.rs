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
    /// Whether `record` belongs to the scope (what an engine's listing of
    /// the scope returns, written once so a batch's own writes can be
    /// merged into it).
    pub fn contains(&self, record: &Record) -> bool {
        match (*self, record) {
            (Self::GuildChannels(g), Record::Channel(c)) => c.guild_id == Some(g),
            (Self::ChannelThreads(p), Record::Channel(c)) => {
                c.is_thread() && c.parent_id == Some(p)
            }
            (Self::ChannelMessages(ch), Record::Message(m)) => m.channel_id == ch,
            (Self::GuildMessages(g), Record::Message(m)) => m.guild_id == Some(g),
            (Self::MessagesBefore(before), Record::Message(m)) => m.id < before,
            (Self::GuildMembers(g), Record::Member(m)) => m.guild_id == g,
            (Self::AllMembers, Record::Member(_)) => true,
            (Self::GuildRoles(g), Record::Role(r)) => r.guild_id == g,
            (Self::GuildEmojis(g), Record::Emoji(e)) => e.guild_id == g,
            (Self::GuildStickers(g), Record::Sticker(s)) => s.guild_id == Some(g),
            (Self::GuildVoiceStates(g), Record::VoiceState(v)) => v.guild_id == g,
            (Self::GuildPresences(g), Record::Presence(p)) => p.guild_id == g,
            (Self::GuildStageInstances(g), Record::StageInstance(s)) => s.guild_id == g,
            (Self::GuildScheduledEvents(g), Record::ScheduledEvent(s)) => s.guild_id == g,
            (Self::ThreadMembers(t), Record::ThreadMember(m)) => m.thread_id == t,
            (
                Self::ShardGuilds {
                    shard_id,
                    shard_count,
                },
                Record::Guild(g),
            ) => crate::shard_of(g.id, shard_count) == shard_id,
            _ => false,
        }
    }
}
