//! The key listings the cache's write semantics ask of an engine
//! ([`Scope`]), as one statement each for every SQL backend.

use persist_core::write::Scope;
use persist_core::{
    ChannelId, EmojiId, EntityKey, GuildId, MessageId, RoleId, ScheduledEventId, StageInstanceId,
    StickerId, UserId,
};

use crate::{Bind, Dialect, sql};

/// The statement listing a scope's keys, ascending, and its binds. Each row
/// holds one id column, two for [`Scope::AllMembers`]; [`key_of`] makes
/// the row a key.
pub fn listing(scope: Scope, d: Dialect) -> (&'static str, Vec<Bind>) {
    let id = |v: u64| vec![Bind::Id(v)];
    match scope {
        Scope::GuildChannels(g) => (
            sql!(
                d,
                "SELECT #id FROM channels WHERE guild_id = ?id ORDER BY id"
            ),
            id(g.get()),
        ),
        Scope::ChannelThreads(p) => (
            sql!(
                d,
                "SELECT #id FROM channels WHERE parent_id = ?id AND is_thread = 1 ORDER BY id"
            ),
            id(p.get()),
        ),
        Scope::ChannelMessages(c) => (
            sql!(
                d,
                "SELECT #id FROM messages WHERE channel_id = ?id ORDER BY id"
            ),
            id(c.get()),
        ),
        Scope::GuildMessages(g) => (
            sql!(
                d,
                "SELECT #id FROM messages WHERE guild_id = ?id ORDER BY id"
            ),
            id(g.get()),
        ),
        Scope::MessagesBefore(before) => (
            sql!(d, "SELECT #id FROM messages WHERE id < ?id ORDER BY id"),
            id(before.get()),
        ),
        Scope::GuildMembers(g) => (
            sql!(
                d,
                "SELECT #user_id FROM members WHERE guild_id = ?id ORDER BY user_id"
            ),
            id(g.get()),
        ),
        Scope::AllMembers => (
            sql!(
                d,
                "SELECT #guild_id, #user_id FROM members ORDER BY guild_id, user_id"
            ),
            Vec::new(),
        ),
        Scope::GuildRoles(g) => (
            sql!(d, "SELECT #id FROM roles WHERE guild_id = ?id ORDER BY id"),
            id(g.get()),
        ),
        Scope::GuildEmojis(g) => (
            sql!(d, "SELECT #id FROM emojis WHERE guild_id = ?id ORDER BY id"),
            id(g.get()),
        ),
        Scope::GuildStickers(g) => (
            sql!(
                d,
                "SELECT #id FROM stickers WHERE guild_id = ?id ORDER BY id"
            ),
            id(g.get()),
        ),
        Scope::GuildVoiceStates(g) => (
            sql!(
                d,
                "SELECT #user_id FROM voice_states WHERE guild_id = ?id ORDER BY user_id"
            ),
            id(g.get()),
        ),
        Scope::GuildPresences(g) => (
            sql!(
                d,
                "SELECT #user_id FROM presences WHERE guild_id = ?id ORDER BY user_id"
            ),
            id(g.get()),
        ),
        Scope::GuildStageInstances(g) => (
            sql!(
                d,
                "SELECT #id FROM stage_instances WHERE guild_id = ?id ORDER BY id"
            ),
            id(g.get()),
        ),
        Scope::GuildScheduledEvents(g) => (
            sql!(
                d,
                "SELECT #id FROM scheduled_events WHERE guild_id = ?id ORDER BY id"
            ),
            id(g.get()),
        ),
        Scope::ThreadMembers(t) => (
            sql!(
                d,
                "SELECT #user_id FROM thread_members WHERE thread_id = ?id ORDER BY user_id"
            ),
            id(t.get()),
        ),
        // The shard filter runs in SQL (`shard_of`: (id >> 22) % count).
        Scope::ShardGuilds {
            shard_id,
            shard_count,
        } => (
            sql!(d, "SELECT #id FROM guilds WHERE %id % ?n = ?n ORDER BY id"),
            vec![
                Bind::Int(i64::from(shard_count.max(1))),
                Bind::Int(i64::from(shard_id)),
            ],
        ),
    }
}

/// The key a row of the scope's [`listing`] names (`second` is read only
/// for [`Scope::AllMembers`]).
pub fn key_of(scope: Scope, first: u64, second: u64) -> EntityKey {
    match scope {
        Scope::GuildChannels(_) | Scope::ChannelThreads(_) => {
            EntityKey::Channel(ChannelId::new(first))
        }
        Scope::ChannelMessages(_) | Scope::GuildMessages(_) | Scope::MessagesBefore(_) => {
            EntityKey::Message(MessageId::new(first))
        }
        Scope::GuildMembers(g) => EntityKey::Member(g, UserId::new(first)),
        Scope::AllMembers => EntityKey::Member(GuildId::new(first), UserId::new(second)),
        Scope::GuildRoles(_) => EntityKey::Role(RoleId::new(first)),
        Scope::GuildEmojis(_) => EntityKey::Emoji(EmojiId::new(first)),
        Scope::GuildStickers(_) => EntityKey::Sticker(StickerId::new(first)),
        Scope::GuildVoiceStates(g) => EntityKey::VoiceState(g, UserId::new(first)),
        Scope::GuildPresences(g) => EntityKey::Presence(g, UserId::new(first)),
        Scope::GuildStageInstances(_) => EntityKey::StageInstance(StageInstanceId::new(first)),
        Scope::GuildScheduledEvents(_) => EntityKey::ScheduledEvent(ScheduledEventId::new(first)),
        Scope::ThreadMembers(t) => EntityKey::ThreadMember(t, UserId::new(first)),
        Scope::ShardGuilds { .. } => EntityKey::Guild(GuildId::new(first)),
    }
}
