use serde::{Deserialize, Serialize};

use super::{Extra, User};
use crate::{EmojiId, GuildId, RoleId};

/// A custom guild emoji.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Emoji {
    /// The emoji's id.
    pub id: EmojiId,
    /// Its guild (filled from the event).
    pub guild_id: GuildId,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Roles allowed to use it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleId>,
    /// Who uploaded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Must be wrapped in colons.
    #[serde(skip_serializing_if = "super::is_default")]
    pub require_colons: bool,
    /// Managed by an integration.
    #[serde(skip_serializing_if = "super::is_default")]
    pub managed: bool,
    /// Animated.
    #[serde(skip_serializing_if = "super::is_default")]
    pub animated: bool,
    /// Usable (false when boosts lapse).
    #[serde(skip_serializing_if = "super::is_default")]
    pub available: bool,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
