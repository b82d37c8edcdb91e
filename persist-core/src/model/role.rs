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
    pub name: String,
    /// Integer colour (0 = none).
    pub color: u32,
    /// Shown separately in the member list.
    pub hoist: bool,
    /// Icon hash.
    pub icon: Option<String>,
    /// Unicode emoji.
    pub unicode_emoji: Option<String>,
    /// Position (older payloads may send -1).
    pub position: i64,
    /// Permission bits.
    pub permissions: Permissions,
    /// Managed by an integration.
    pub managed: bool,
    /// Mentionable by everyone.
    pub mentionable: bool,
    /// Role tags (bot, integration, premium subscriber, ...), kept as sent.
    pub tags: Option<serde_json::Value>,
    /// Role flags.
    pub flags: u64,
    /// Everything else Discord sent (`colors`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}
