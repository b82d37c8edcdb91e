//! Guilds, roles, emojis, stickers and voice states.

use std::collections::HashMap;

use persist_core::Result;
use persist_core::model as core;
use serde_json::json;
use serenity::model as s;

use super::{ToSerenity, failed, from_extra, id, image_hash, leaf, narrow, timestamps};

impl ToSerenity for core::Role {
    type Serenity = s::guild::Role;

    fn to_serenity(&self) -> Result<s::guild::Role> {
        type S = s::guild::Role;
        let mut r = S::default();
        r.id = id::<S, _>(self.id.get())?;
        r.guild_id = id::<S, _>(self.guild_id.get())?;
        r.colour = s::Colour::new(self.color);
        // Stored as Discord sent it; without it the plain colour is the primary.
        r.colours = match from_extra::<S, _>(&self.extra, "colors")? {
            Some(colours) => colours,
            None => leaf::<S, _>(&json!({ "primary_color": self.color }))?,
        };
        r.hoist = self.hoist;
        r.managed = self.managed;
        r.mentionable = self.mentionable;
        r.name.clone_from(&self.name);
        r.permissions = s::Permissions::from_bits_retain(self.permissions.bits());
        r.position = narrow::<S, u16, _>("position", self.position)?;
        if let Some(tags) = &self.tags {
            r.tags = leaf::<S, _>(tags)?;
        }
        r.icon = image_hash::<S>(self.icon.as_ref())?;
        r.unicode_emoji.clone_from(&self.unicode_emoji);
        Ok(r)
    }
}

impl ToSerenity for core::Emoji {
    type Serenity = s::guild::Emoji;

    /// serenity's `Emoji` has no constructor: read from its fields.
    fn to_serenity(&self) -> Result<s::guild::Emoji> {
        leaf::<s::guild::Emoji, _>(&json!({
            "id": self.id,
            "name": self.name.as_deref().unwrap_or_default(),
            "roles": self.roles,
            "user": self.user,
            "require_colons": self.require_colons,
            "managed": self.managed,
            "animated": self.animated,
            "available": self.available,
        }))
    }
}

impl ToSerenity for core::Sticker {
    type Serenity = s::sticker::Sticker;

    /// serenity's `Sticker` has no constructor: read from its fields.
    fn to_serenity(&self) -> Result<s::sticker::Sticker> {
        leaf::<s::sticker::Sticker, _>(&json!({
            "id": self.id,
            "pack_id": self.pack_id,
            "guild_id": self.guild_id,
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "type": self.kind,
            "format_type": self.format_type,
            "available": self.available,
            "user": self.user,
            "sort_value": self.sort_value,
        }))
    }
}

impl ToSerenity for core::VoiceState {
    type Serenity = s::voice::VoiceState;

    /// serenity's `VoiceState` has no constructor: read from its fields.
    fn to_serenity(&self) -> Result<s::voice::VoiceState> {
        leaf::<s::voice::VoiceState, _>(&json!({
            "guild_id": self.guild_id,
            "user_id": self.user_id,
            "channel_id": self.channel_id,
            "session_id": self.session_id,
            "deaf": self.deaf,
            "mute": self.mute,
            "self_deaf": self.self_deaf,
            "self_mute": self.self_mute,
            "self_stream": self.self_stream,
            "self_video": self.self_video,
            "suppress": self.suppress,
            "request_to_speak_timestamp": self.request_to_speak_timestamp,
        }))
    }
}

/// What the store holds of a guild, joined into serenity's `Guild`: its
/// roles, channels, threads, emojis, stickers and voice states. Members and
/// presences are left empty: a large guild's would be too many to load for
/// a guild read (page through `Persist::guild_members` instead).
pub fn guild_to_serenity(guild: &core::Guild, parts: &GuildParts) -> Result<s::guild::Guild> {
    type S = s::guild::Guild;
    if let Some(bad) = parts.roles.iter().find(|r| r.guild_id != guild.id) {
        return Err(failed::<S>(format!(
            "role {} belongs to guild {}, not {}",
            bad.id, bad.guild_id, guild.id
        )));
    }
    let mut g = S::default();
    g.id = id::<S, _>(guild.id.get())?;
    g.name.clone_from(&guild.name);
    g.icon = image_hash::<S>(guild.icon.as_ref())?;
    g.icon_hash = from_extra::<S, _>(&guild.extra, "icon_hash")?;
    g.splash = image_hash::<S>(guild.splash.as_ref())?;
    g.discovery_splash = image_hash::<S>(guild.discovery_splash.as_ref())?;
    // An unavailable guild is stored without its owner.
    if guild.owner_id.get() != 0 {
        g.owner_id = id::<S, _>(guild.owner_id.get())?;
    }
    g.afk_metadata = guild
        .afk_channel_id
        .map(|channel| {
            leaf::<S, s::guild::AfkMetadata>(&json!({
                "afk_channel_id": channel,
                "afk_timeout": guild.afk_timeout,
            }))
        })
        .transpose()?;
    g.widget_enabled = from_extra::<S, _>(&guild.extra, "widget_enabled")?;
    g.widget_channel_id = from_extra::<S, _>(&guild.extra, "widget_channel_id")?;
    g.verification_level = s::guild::VerificationLevel::from(guild.verification_level);
    g.default_message_notifications =
        s::guild::DefaultMessageNotificationLevel::from(guild.default_message_notifications);
    g.explicit_content_filter =
        s::guild::ExplicitContentFilter::from(guild.explicit_content_filter);
    g.features.clone_from(&guild.features);
    g.mfa_level = s::guild::MfaLevel::from(guild.mfa_level);
    g.application_id = guild
        .application_id
        .map(|a| id::<S, _>(a.get()))
        .transpose()?;
    g.system_channel_id = guild
        .system_channel_id
        .map(|c| id::<S, _>(c.get()))
        .transpose()?;
    g.system_channel_flags =
        s::guild::SystemChannelFlags::from_bits_retain(guild.system_channel_flags);
    g.rules_channel_id = guild
        .rules_channel_id
        .map(|c| id::<S, _>(c.get()))
        .transpose()?;
    g.max_presences = guild.max_presences;
    g.max_members = guild.max_members;
    g.vanity_url_code.clone_from(&guild.vanity_url_code);
    g.description.clone_from(&guild.description);
    g.banner.clone_from(&guild.banner);
    g.premium_tier = s::guild::PremiumTier::from(guild.premium_tier);
    g.premium_subscription_count = guild.premium_subscription_count;
    g.preferred_locale = guild
        .preferred_locale
        .clone()
        .unwrap_or_else(|| "en-US".to_owned());
    g.public_updates_channel_id = guild
        .public_updates_channel_id
        .map(|c| id::<S, _>(c.get()))
        .transpose()?;
    g.max_video_channel_users = from_extra::<S, _>(&guild.extra, "max_video_channel_users")?;
    g.max_stage_video_channel_users =
        from_extra::<S, _>(&guild.extra, "max_stage_video_channel_users")?;
    g.welcome_screen = from_extra::<S, _>(&guild.extra, "welcome_screen")?;
    g.nsfw_level = s::guild::NsfwLevel::from(guild.nsfw_level);
    g.premium_progress_bar_enabled = guild.premium_progress_bar_enabled;
    // A guild stored before GUILD_CREATE said when the bot joined: its creation.
    g.joined_at = match timestamps::<S>(guild.joined_at)? {
        Some(at) => at,
        None => g.id.created_at(),
    };
    g.large = guild.large;
    g.unavailable = guild.unavailable;
    g.member_count = guild.member_count.unwrap_or_default();
    g.safety_alerts_channel_id = guild
        .safety_alerts_channel_id
        .map(|c| id::<S, _>(c.get()))
        .transpose()?;
    g.incidents_data = from_extra::<S, _>(&guild.extra, "incidents_data")?;
    for role in &parts.roles {
        let role = role.to_serenity()?;
        g.roles.insert(role.id, role);
    }
    for channel in &parts.channels {
        let channel = channel.to_serenity()?;
        g.channels.insert(channel.id, channel);
    }
    g.threads = parts
        .threads
        .iter()
        .map(ToSerenity::to_serenity)
        .collect::<Result<_>>()?;
    for emoji in &parts.emojis {
        let emoji = emoji.to_serenity()?;
        g.emojis.insert(emoji.id, emoji);
    }
    for sticker in &parts.stickers {
        let sticker = sticker.to_serenity()?;
        g.stickers.insert(sticker.id, sticker);
    }
    g.voice_states = parts
        .voice_states
        .iter()
        .map(|v| Ok((id::<S, _>(v.user_id.get())?, v.to_serenity()?)))
        .collect::<Result<HashMap<_, _>>>()?;
    Ok(g)
}

/// A guild's parts as the store holds them, for [`guild_to_serenity`].
#[derive(Clone, Debug, Default)]
pub struct GuildParts {
    /// Its roles.
    pub roles: Vec<core::Role>,
    /// Its channels (threads apart).
    pub channels: Vec<core::Channel>,
    /// Its active threads.
    pub threads: Vec<core::Channel>,
    /// Its custom emojis.
    pub emojis: Vec<core::Emoji>,
    /// Its stickers.
    pub stickers: Vec<core::Sticker>,
    /// Who is in its voice channels.
    pub voice_states: Vec<core::VoiceState>,
}
