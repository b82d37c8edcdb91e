use serde::{Deserialize, Serialize};

use super::Extra;
use crate::{ApplicationId, GuildId, UserId};

/// An activity in a presence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Activity {
    /// Name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub name: String,
    /// 0 playing, 1 streaming, 2 listening, 3 watching, 4 custom, 5 competing.
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "super::is_default")]
    pub kind: u8,
    /// Stream URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Unix ms when it was added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<u64>,
    /// Application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    /// What the user is doing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Party status or custom status text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Everything else Discord sent (timestamps, emoji, party, assets, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A user's presence in a guild.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Presence {
    /// The guild.
    pub guild_id: GuildId,
    /// The user.
    pub user_id: UserId,
    /// "online", "idle", "dnd" or "offline".
    #[serde(skip_serializing_if = "super::is_default")]
    pub status: String,
    /// Current activities.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub activities: Vec<Activity>,
    /// Status per platform (desktop, mobile, web), kept as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_status: Option<serde_json::Value>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
