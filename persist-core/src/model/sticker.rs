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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack_id: Option<StickerPackId>,
    /// Its guild, for guild stickers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// Name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Autocomplete tags.
    #[serde(skip_serializing_if = "super::is_default")]
    pub tags: String,
    /// 1 standard, 2 guild.
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "super::is_default")]
    pub kind: u8,
    /// 1 PNG, 2 APNG, 3 Lottie, 4 GIF.
    #[serde(skip_serializing_if = "super::is_default")]
    pub format_type: u8,
    /// Usable.
    #[serde(skip_serializing_if = "super::is_default")]
    pub available: bool,
    /// Who uploaded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Sort order within a pack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_value: Option<u32>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
