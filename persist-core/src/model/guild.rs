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
    pub name: String,
    /// Icon hash.
    pub icon: Option<String>,
    /// Splash hash.
    pub splash: Option<String>,
    /// Discovery splash hash.
    pub discovery_splash: Option<String>,
    /// The owner.
    pub owner_id: UserId,
    /// The AFK voice channel.
    pub afk_channel_id: Option<ChannelId>,
    /// AFK timeout in seconds.
    pub afk_timeout: u32,
    /// Verification level.
    pub verification_level: u8,
    /// Default notification level.
    pub default_message_notifications: u8,
    /// Explicit content filter level.
    pub explicit_content_filter: u8,
    /// Enabled guild features.
    pub features: Vec<String>,
    /// Required MFA level.
    pub mfa_level: u8,
    /// Application id of a bot-created guild.
    pub application_id: Option<ApplicationId>,
    /// Where system messages go.
    pub system_channel_id: Option<ChannelId>,
    /// System channel flags.
    pub system_channel_flags: u64,
    /// The rules channel of a community guild.
    pub rules_channel_id: Option<ChannelId>,
    /// Where moderators get community updates.
    pub public_updates_channel_id: Option<ChannelId>,
    /// Where safety alerts go.
    pub safety_alerts_channel_id: Option<ChannelId>,
    /// Maximum presences.
    pub max_presences: Option<u64>,
    /// Maximum members.
    pub max_members: Option<u64>,
    /// Vanity invite code.
    pub vanity_url_code: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Banner hash.
    pub banner: Option<String>,
    /// Boost tier.
    pub premium_tier: u8,
    /// Number of boosts.
    pub premium_subscription_count: Option<u64>,
    /// Preferred locale.
    pub preferred_locale: Option<String>,
    /// NSFW level.
    pub nsfw_level: u8,
    /// Whether the boost progress bar shows.
    pub premium_progress_bar_enabled: bool,
    /// When the bot joined (GUILD_CREATE only).
    pub joined_at: Option<Timestamp>,
    /// Whether the guild is large (member list sent lazily).
    pub large: bool,
    /// Whether the guild is currently unavailable (an outage).
    pub unavailable: bool,
    /// Total member count (GUILD_CREATE only).
    pub member_count: Option<u64>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
