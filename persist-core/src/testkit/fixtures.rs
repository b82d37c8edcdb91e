//! Small, realistic objects for tests: ids are real snowflakes and every
//! object carries a field no model knows, to prove it survives.

use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::model::{
    Channel, ChannelKind, CurrentUser, Emoji, Guild, Member, Message, PermissionOverwrite,
    Presence, Role, ScheduledEvent, StageInstance, Sticker, ThreadMember, ThreadMetadata, User,
    VoiceState,
};
use crate::{
    ChannelId, EmojiId, GuildId, MessageId, Permissions, RoleId, ScheduledEventId, StageInstanceId,
    StickerId, TargetId, UserId,
};

fn unknown(tag: &str) -> crate::model::Extra {
    let mut extra = crate::model::Extra::new();
    extra.insert(
        "field_from_the_future".into(),
        json!({"tag": tag, "n": [1, 2, 3]}),
    );
    extra
}

/// A message id created `age` ago (plus `n`, to tell messages apart).
pub fn message_id_aged(age: Duration, n: u64) -> MessageId {
    let at = SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    MessageId::new(MessageId::first_at(at).get() + n)
}

/// A guild.
pub fn guild(id: u64) -> Guild {
    Guild {
        id: GuildId::new(id),
        name: format!("guild {id}"),
        owner_id: UserId::new(id + 1),
        features: vec!["COMMUNITY".into()],
        member_count: Some(3),
        extra: unknown("guild"),
        ..Default::default()
    }
}

/// A text channel of a guild, with a permission overwrite.
pub fn channel(id: u64, guild_id: u64) -> Channel {
    Channel {
        id: ChannelId::new(id),
        kind: ChannelKind::Text,
        guild_id: Some(GuildId::new(guild_id)),
        name: Some(format!("channel-{id}")),
        position: Some(1),
        permission_overwrites: vec![PermissionOverwrite {
            id: TargetId::new(guild_id),
            kind: 0,
            allow: Permissions::new(1024),
            deny: Permissions::new(2048),
            extra: Default::default(),
        }],
        extra: unknown("channel"),
        ..Default::default()
    }
}

/// A public thread under `parent_id`.
pub fn thread(id: u64, guild_id: u64, parent_id: u64) -> Channel {
    Channel {
        kind: ChannelKind::PublicThread,
        parent_id: Some(ChannelId::new(parent_id)),
        thread_metadata: Some(ThreadMetadata {
            auto_archive_duration: 1440,
            ..Default::default()
        }),
        permission_overwrites: Vec::new(),
        ..channel(id, guild_id)
    }
}

/// A user.
pub fn user(id: u64) -> User {
    User {
        id: UserId::new(id),
        username: format!("user{id}"),
        global_name: Some(format!("User {id}")),
        extra: unknown("user"),
        ..Default::default()
    }
}

/// A message in a channel of a guild (`guild_id` 0 for a DM).
pub fn message(id: MessageId, channel_id: u64, guild_id: u64) -> Message {
    Message {
        id,
        channel_id: ChannelId::new(channel_id),
        guild_id: (guild_id != 0).then_some(GuildId::new(guild_id)),
        author: user(7),
        content: format!("message {id}"),
        timestamp: Some(id.created_at()),
        extra: unknown("message"),
        ..Default::default()
    }
}

/// A member holding `roles`.
pub fn member(guild_id: u64, user_id: u64, roles: &[u64]) -> Member {
    Member {
        guild_id: GuildId::new(guild_id),
        user_id: UserId::new(user_id),
        nick: Some(format!("nick {user_id}")),
        roles: roles.iter().copied().map(RoleId::new).collect(),
        deaf: true,
        extra: unknown("member"),
        ..Default::default()
    }
}

/// A role.
pub fn role(id: u64, guild_id: u64) -> Role {
    Role {
        id: RoleId::new(id),
        guild_id: GuildId::new(guild_id),
        name: format!("role {id}"),
        color: 0xff00ff,
        position: -1,
        permissions: Permissions::new(8),
        extra: unknown("role"),
        ..Default::default()
    }
}

/// A custom emoji.
pub fn emoji(id: u64, guild_id: u64) -> Emoji {
    Emoji {
        id: EmojiId::new(id),
        guild_id: GuildId::new(guild_id),
        name: Some(format!("emoji{id}")),
        available: true,
        extra: unknown("emoji"),
        ..Default::default()
    }
}

/// A guild sticker.
pub fn sticker(id: u64, guild_id: u64) -> Sticker {
    Sticker {
        id: StickerId::new(id),
        guild_id: Some(GuildId::new(guild_id)),
        name: format!("sticker{id}"),
        kind: 2,
        format_type: 1,
        extra: unknown("sticker"),
        ..Default::default()
    }
}

/// A voice state.
pub fn voice_state(guild_id: u64, user_id: u64, channel_id: u64) -> VoiceState {
    VoiceState {
        guild_id: GuildId::new(guild_id),
        user_id: UserId::new(user_id),
        channel_id: Some(ChannelId::new(channel_id)),
        session_id: format!("session{user_id}"),
        self_mute: true,
        extra: unknown("voice"),
        ..Default::default()
    }
}

/// A presence.
pub fn presence(guild_id: u64, user_id: u64) -> Presence {
    Presence {
        guild_id: GuildId::new(guild_id),
        user_id: UserId::new(user_id),
        status: "online".into(),
        extra: unknown("presence"),
        ..Default::default()
    }
}

/// A stage instance.
pub fn stage_instance(id: u64, guild_id: u64, channel_id: u64) -> StageInstance {
    StageInstance {
        id: StageInstanceId::new(id),
        guild_id: GuildId::new(guild_id),
        channel_id: ChannelId::new(channel_id),
        topic: "town hall".into(),
        extra: unknown("stage"),
        ..Default::default()
    }
}

/// A scheduled event.
pub fn scheduled_event(id: u64, guild_id: u64) -> ScheduledEvent {
    ScheduledEvent {
        id: ScheduledEventId::new(id),
        guild_id: GuildId::new(guild_id),
        name: "game night".into(),
        status: 1,
        entity_type: 2,
        user_count: Some(4),
        extra: unknown("event"),
        ..Default::default()
    }
}

/// A thread member.
pub fn thread_member(thread_id: u64, user_id: u64) -> ThreadMember {
    ThreadMember {
        thread_id: ChannelId::new(thread_id),
        user_id: UserId::new(user_id),
        flags: 1,
        extra: unknown("thread member"),
        ..Default::default()
    }
}

/// The bot's own user.
pub fn current_user(id: u64) -> CurrentUser {
    CurrentUser {
        id: UserId::new(id),
        username: "persist-bot".into(),
        bot: true,
        extra: unknown("me"),
        ..Default::default()
    }
}
