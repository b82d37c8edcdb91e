use serde::{Deserialize, Serialize};

use super::{Extra, User};
use crate::{GuildId, StickerId, StickerPackId};

/// A sticker.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sticker {
    /// The sticker's id.
    pub id: StickerId,
    /// Pack of a standard sticker.
    pub pack_id: Option<StickerPackId>,
    /// Its guild, for guild stickers.
    pub guild_id: Option<GuildId>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Autocomplete tags.
    pub tags: String,
    /// 1 standard, 2 guild.
    #[serde(rename = "type")]
    pub kind: u8,
    /// 1 PNG, 2 APNG, 3 Lottie, 4 GIF.
    pub format_type: u8,
    /// Usable.
    pub available: bool,
    /// Who uploaded it.
    pub user: Option<User>,
    /// Sort order within a pack.
    pub sort_value: Option<u32>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
