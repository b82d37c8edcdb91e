use serde::{Deserialize, Serialize};

use super::{Extra, Permissions};
use crate::{GuildId, RoleId};

/// A guild role.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Role {
    /// The role's id.
    pub id: RoleId,
    /// Its guild (not in Discord's role object; filled from the event).
    pub guild_id: GuildId,
    /// Name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub name: String,
    /// Integer colour (0 = none).
    #[serde(skip_serializing_if = "super::is_default")]
    pub color: u32,
    /// Shown separately in the member list.
    #[serde(skip_serializing_if = "super::is_default")]
    pub hoist: bool,
    /// Icon hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Unicode emoji.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unicode_emoji: Option<String>,
    /// Position (older payloads may send -1).
    #[serde(skip_serializing_if = "super::is_default")]
    pub position: i64,
    /// Permission bits.
    #[serde(skip_serializing_if = "super::is_default")]
    pub permissions: Permissions,
    /// Managed by an integration.
    #[serde(skip_serializing_if = "super::is_default")]
    pub managed: bool,
    /// Mentionable by everyone.
    #[serde(skip_serializing_if = "super::is_default")]
    pub mentionable: bool,
    /// Role tags (bot, integration, premium subscriber, ...), kept as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<serde_json::Value>,
    /// Role flags.
    #[serde(skip_serializing_if = "super::is_default")]
    pub flags: u64,
    /// Everything else Discord sent (`colors`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}
