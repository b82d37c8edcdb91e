//! Builders of gateway payloads in Discord's v10 shapes (following the real
//! payloads in the repository's `tests/fixtures/gateway/`), which serenity
//! 0.12.5 parses. Ids are snowflakes, so their timestamps are meaningful.

use serde_json::{Value, json};

/// The fake bot's user id (and application id).
pub const BOT_ID: u64 = 1_000_000_000_000_000_001;

/// Milliseconds from the Unix epoch to Discord's.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A snowflake made at `unix_ms` (milliseconds since 1970), `n` telling
/// apart ids made in the same millisecond.
pub fn snowflake(unix_ms: u64, n: u64) -> u64 {
    (unix_ms.saturating_sub(DISCORD_EPOCH_MS) << 22) | (n & 0x3F_FFFF)
}

/// The ISO 8601 time a snowflake was made.
pub fn snowflake_time(id: u64) -> String {
    let ms = (id >> 22) + DISCORD_EPOCH_MS;
    iso8601(ms)
}

/// Milliseconds since 1970 as `YYYY-MM-DDTHH:MM:SS.mmm000+00:00`, as
/// Discord writes timestamps.
pub fn iso8601(unix_ms: u64) -> String {
    const DISCORD: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00"
    );
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    // Formatting a whole UTC date-time with this description cannot fail.
    at.format(DISCORD).unwrap_or_else(|_| at.to_string())
}

/// The fake bot's user (`GET /users/@me`, READY's `user`).
pub fn bot_user() -> Value {
    json!({
        "id": BOT_ID.to_string(), "username": "persist-demo", "discriminator": "0",
        "global_name": null, "avatar": null, "bot": true, "verified": true,
        "mfa_enabled": false, "flags": 0
    })
}

/// READY for a session, listing `guilds` as unavailable (as Discord does).
pub fn ready(session_id: &str, gateway_url: &str, guilds: &[u64]) -> Value {
    let guilds: Vec<Value> = guilds
        .iter()
        .map(|id| json!({"id": id.to_string(), "unavailable": true}))
        .collect();
    json!({
        "v": 10, "user": bot_user(), "guilds": guilds, "session_id": session_id,
        "resume_gateway_url": gateway_url, "shard": [0, 1], "session_type": "normal",
        "private_channels": [], "presences": [], "relationships": [], "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["us-east"], "user_settings": {},
        "application": {"id": BOT_ID.to_string(), "flags": 0}
    })
}

/// A user object.
pub fn user(id: u64) -> Value {
    json!({
        "id": id.to_string(), "username": format!("user{id}"), "discriminator": "0",
        "global_name": format!("User {id}"), "avatar": null, "public_flags": 0
    })
}

/// A guild member object (with its user).
pub fn member(user_id: u64, roles: &[u64], joined_ms: u64) -> Value {
    let roles: Vec<String> = roles.iter().map(u64::to_string).collect();
    json!({
        "user": user(user_id), "roles": roles, "joined_at": iso8601(joined_ms),
        "nick": null, "avatar": null, "deaf": false, "mute": false, "flags": 0,
        "pending": false, "premium_since": null, "communication_disabled_until": null
    })
}

/// A text channel (`kind` 0) or category (4) or voice channel (2) of a guild.
pub fn channel(id: u64, guild_id: u64, name: &str, kind: u8, position: u32) -> Value {
    let mut channel = json!({
        "id": id.to_string(), "guild_id": guild_id.to_string(), "type": kind,
        "name": name, "position": position, "permission_overwrites": [], "flags": 0,
        "nsfw": false, "parent_id": null
    });
    if kind == 0 {
        channel["topic"] = Value::Null;
        channel["rate_limit_per_user"] = json!(0);
        channel["last_message_id"] = Value::Null;
    }
    if kind == 2 {
        channel["bitrate"] = json!(64_000);
        channel["user_limit"] = json!(0);
    }
    channel
}

/// A role; the role whose id is the guild's is @everyone.
pub fn role(id: u64, name: &str, position: u32) -> Value {
    json!({
        "id": id.to_string(), "name": name, "color": 0, "hoist": false, "icon": null,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "unicode_emoji": null, "position": position, "permissions": "2248473465835073",
        "managed": false, "mentionable": false, "flags": 0
    })
}

/// A custom emoji.
pub fn emoji(id: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(), "name": name, "roles": [], "require_colons": true,
        "managed": false, "animated": false, "available": true
    })
}

/// What a GUILD_CREATE says about a guild.
#[derive(Debug, Clone, Default)]
pub struct GuildSpec {
    /// The guild's id (also its @everyone role's).
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its owner.
    pub owner_id: u64,
    /// Text channel ids.
    pub channels: Vec<u64>,
    /// Role ids besides @everyone.
    pub roles: Vec<u64>,
    /// Custom emoji ids.
    pub emojis: Vec<u64>,
    /// Members sent with the GUILD_CREATE.
    pub members: Vec<u64>,
    /// The guild's full member count (may exceed `members`).
    pub member_count: u64,
}

/// A GUILD_CREATE payload.
pub fn guild_create(spec: &GuildSpec) -> Value {
    let joined_ms = (spec.id >> 22) + DISCORD_EPOCH_MS;
    let mut roles = vec![role(spec.id, "@everyone", 0)];
    roles.extend(
        spec.roles
            .iter()
            .enumerate()
            .map(|(i, id)| role(*id, &format!("role-{i}"), i as u32 + 1)),
    );
    let channels: Vec<Value> = spec
        .channels
        .iter()
        .enumerate()
        .map(|(i, id)| channel(*id, spec.id, &format!("channel-{i}"), 0, i as u32))
        .collect();
    let emojis: Vec<Value> = spec
        .emojis
        .iter()
        .enumerate()
        .map(|(i, id)| emoji(*id, &format!("emoji_{i}")))
        .collect();
    let members: Vec<Value> = spec
        .members
        .iter()
        .map(|u| member(*u, &[], joined_ms))
        .collect();
    json!({
        "id": spec.id.to_string(), "name": spec.name, "icon": null, "splash": null,
        "discovery_splash": null, "banner": null, "description": null,
        "owner_id": spec.owner_id.to_string(), "afk_channel_id": null, "afk_timeout": 300,
        "verification_level": 0, "default_message_notifications": 0,
        "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
        "premium_subscription_count": 0, "premium_progress_bar_enabled": false,
        "preferred_locale": "en-US", "system_channel_id": null, "system_channel_flags": 0,
        "rules_channel_id": null, "public_updates_channel_id": null,
        "safety_alerts_channel_id": null, "vanity_url_code": null, "application_id": null,
        "features": ["COMMUNITY"], "max_members": 500_000, "max_video_channel_users": 25,
        "joined_at": iso8601(joined_ms), "large": spec.member_count > 250,
        "unavailable": false, "lazy": true, "member_count": spec.member_count,
        "roles": roles, "emojis": emojis, "stickers": [], "channels": channels,
        "threads": [], "members": members, "presences": [], "voice_states": [],
        "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": []
    })
}

/// A MESSAGE_CREATE payload in a guild channel.
pub fn message_create(
    id: u64,
    channel_id: u64,
    guild_id: u64,
    author: u64,
    content: &str,
) -> Value {
    json!({
        "id": id.to_string(), "channel_id": channel_id.to_string(),
        "guild_id": guild_id.to_string(), "author": user(author),
        "member": {"roles": [], "joined_at": snowflake_time(guild_id), "deaf": false,
            "mute": false, "flags": 0, "pending": false, "premium_since": null,
            "nick": null, "avatar": null, "communication_disabled_until": null},
        "content": content, "timestamp": snowflake_time(id), "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
        "attachments": [], "embeds": [], "components": [], "pinned": false, "type": 0,
        "flags": 0, "nonce": id.to_string()
    })
}

/// A MESSAGE_UPDATE payload (an edit of the content), as Discord sends it.
pub fn message_update(
    id: u64,
    channel_id: u64,
    guild_id: u64,
    author: u64,
    content: &str,
    edited_ms: u64,
) -> Value {
    let mut message = message_create(id, channel_id, guild_id, author, content);
    message["edited_timestamp"] = json!(iso8601(edited_ms));
    if let Some(fields) = message.as_object_mut() {
        fields.remove("nonce");
    }
    message
}

/// A MESSAGE_DELETE payload.
pub fn message_delete(id: u64, channel_id: u64, guild_id: u64) -> Value {
    json!({"id": id.to_string(), "channel_id": channel_id.to_string(), "guild_id": guild_id.to_string()})
}

/// A MESSAGE_REACTION_ADD or _REMOVE payload with a unicode emoji.
pub fn reaction(
    user_id: u64,
    channel_id: u64,
    message_id: u64,
    guild_id: u64,
    emoji: &str,
) -> Value {
    json!({
        "user_id": user_id.to_string(), "channel_id": channel_id.to_string(),
        "message_id": message_id.to_string(), "guild_id": guild_id.to_string(),
        "emoji": {"id": null, "name": emoji}, "burst": false, "type": 0
    })
}

/// A GUILD_MEMBERS_CHUNK payload.
pub fn members_chunk(
    guild_id: u64,
    members: &[u64],
    index: u32,
    count: u32,
    nonce: Option<&str>,
) -> Value {
    let joined_ms = (guild_id >> 22) + DISCORD_EPOCH_MS;
    let members: Vec<Value> = members.iter().map(|u| member(*u, &[], joined_ms)).collect();
    let mut chunk = json!({
        "guild_id": guild_id.to_string(), "members": members,
        "chunk_index": index, "chunk_count": count
    });
    if let Some(nonce) = nonce {
        chunk["nonce"] = json!(nonce);
    }
    chunk
}

/// A GUILD_MEMBER_REMOVE payload.
pub fn member_remove(guild_id: u64, user_id: u64) -> Value {
    json!({"guild_id": guild_id.to_string(), "user": user(user_id)})
}

/// A CHANNEL_DELETE payload for a text channel.
pub fn channel_delete(id: u64, guild_id: u64) -> Value {
    channel(id, guild_id, "deleted", 0, 0)
}

/// A GUILD_ROLE_DELETE payload.
pub fn role_delete(guild_id: u64, role_id: u64) -> Value {
    json!({"guild_id": guild_id.to_string(), "role_id": role_id.to_string()})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every builder's output parses in serenity 0.12.5 as its own event
    /// (not as `Event::Unknown`).
    #[test]
    fn serenity_parses_every_payload() {
        let guild = GuildSpec {
            id: snowflake(1_700_000_000_000, 1),
            name: "g".into(),
            owner_id: 5,
            channels: vec![11, 12],
            roles: vec![21],
            emojis: vec![31],
            members: vec![5, 6],
            member_count: 300,
        };
        let m = snowflake(1_700_000_100_000, 7);
        let cases = [
            ("READY", ready("s", "ws://x", &[guild.id])),
            ("GUILD_CREATE", guild_create(&guild)),
            ("MESSAGE_CREATE", message_create(m, 11, guild.id, 5, "hi")),
            (
                "MESSAGE_UPDATE",
                message_update(m, 11, guild.id, 5, "hi!", 1_700_000_200_000),
            ),
            ("MESSAGE_DELETE", message_delete(m, 11, guild.id)),
            ("MESSAGE_REACTION_ADD", reaction(6, 11, m, guild.id, "👍")),
            (
                "MESSAGE_REACTION_REMOVE",
                reaction(6, 11, m, guild.id, "👍"),
            ),
            (
                "GUILD_MEMBERS_CHUNK",
                members_chunk(guild.id, &[5, 6], 0, 1, Some("n")),
            ),
            ("GUILD_MEMBER_REMOVE", member_remove(guild.id, 6)),
            ("CHANNEL_DELETE", channel_delete(12, guild.id)),
            ("GUILD_ROLE_DELETE", role_delete(guild.id, 21)),
        ];
        let direct: Result<serenity::model::event::GuildCreateEvent, _> =
            serde_json::from_value(guild_create(&guild));
        assert!(direct.is_ok(), "GUILD_CREATE: {direct:?}");
        for (event, d) in cases {
            let parsed: serenity::model::event::Event =
                serde_json::from_value(json!({"t": event, "d": d}))
                    .unwrap_or_else(|e| panic!("{event}: {e}"));
            assert!(
                !matches!(parsed, serenity::model::event::Event::Unknown(_)),
                "{event} parsed as unknown"
            );
        }
    }

    #[test]
    fn snowflake_times_are_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(
            iso8601(1_700_000_000_123),
            "2023-11-14T22:13:20.123000+00:00"
        );
        assert_eq!(
            snowflake_time(snowflake(1_700_000_000_123, 5)),
            "2023-11-14T22:13:20.123000+00:00"
        );
    }
}
