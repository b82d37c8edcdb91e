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
    pub name: Option<String>,
    /// Roles allowed to use it.
    pub roles: Vec<RoleId>,
    /// Who uploaded it.
    pub user: Option<User>,
    /// Must be wrapped in colons.
    pub require_colons: bool,
    /// Managed by an integration.
    pub managed: bool,
    /// Animated.
    pub animated: bool,
    /// Usable (false when boosts lapse).
    pub available: bool,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
