use serde::{Deserialize, Serialize};

use super::Extra;
use crate::{ApplicationId, ChannelId, GuildId, Timestamp, UserId};

/// A guild, without the collections GUILD_CREATE carries (channels, members,
/// roles, ... are stored as objects of their own kinds).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Guild {
    /// The guild's id.
    pub id: GuildId,
    /// The name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub name: String,
    /// Icon hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Splash hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub splash: Option<String>,
    /// Discovery splash hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery_splash: Option<String>,
    /// The owner.
    pub owner_id: UserId,
    /// The AFK voice channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub afk_channel_id: Option<ChannelId>,
    /// AFK timeout in seconds.
    #[serde(skip_serializing_if = "super::is_default")]
    pub afk_timeout: u32,
    /// Verification level.
    #[serde(skip_serializing_if = "super::is_default")]
    pub verification_level: u8,
    /// Default notification level.
    #[serde(skip_serializing_if = "super::is_default")]
    pub default_message_notifications: u8,
    /// Explicit content filter level.
    #[serde(skip_serializing_if = "super::is_default")]
    pub explicit_content_filter: u8,
    /// Enabled guild features.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
    /// Required MFA level.
    #[serde(skip_serializing_if = "super::is_default")]
    pub mfa_level: u8,
    /// Application id of a bot-created guild.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    /// Where system messages go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_channel_id: Option<ChannelId>,
    /// System channel flags.
    #[serde(skip_serializing_if = "super::is_default")]
    pub system_channel_flags: u64,
    /// The rules channel of a community guild.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules_channel_id: Option<ChannelId>,
    /// Where moderators get community updates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_updates_channel_id: Option<ChannelId>,
    /// Where safety alerts go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety_alerts_channel_id: Option<ChannelId>,
    /// Maximum presences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_presences: Option<u64>,
    /// Maximum members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u64>,
    /// Vanity invite code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vanity_url_code: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Banner hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    /// Boost tier.
    #[serde(skip_serializing_if = "super::is_default")]
    pub premium_tier: u8,
    /// Number of boosts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub premium_subscription_count: Option<u64>,
    /// Preferred locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_locale: Option<String>,
    /// NSFW level.
    #[serde(skip_serializing_if = "super::is_default")]
    pub nsfw_level: u8,
    /// Whether the boost progress bar shows.
    #[serde(skip_serializing_if = "super::is_default")]
    pub premium_progress_bar_enabled: bool,
    /// When the bot joined (GUILD_CREATE only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<Timestamp>,
    /// Whether the guild is large (member list sent lazily).
    #[serde(skip_serializing_if = "super::is_default")]
    pub large: bool,
    /// Whether the guild is currently unavailable (an outage).
    #[serde(skip_serializing_if = "super::is_default")]
    pub unavailable: bool,
    /// Total member count (GUILD_CREATE only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u64>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
