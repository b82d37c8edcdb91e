use serde::{Deserialize, Serialize};

use super::Extra;
use crate::{ChannelId, GuildId, Timestamp, UserId};

/// A user's voice connection state in a guild.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VoiceState {
    /// The guild.
    pub guild_id: GuildId,
    /// The user.
    pub user_id: UserId,
    /// The connected channel (`None` once they leave).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    /// Voice session id.
    #[serde(skip_serializing_if = "super::is_default")]
    pub session_id: String,
    /// Server-deafened.
    #[serde(skip_serializing_if = "super::is_default")]
    pub deaf: bool,
    /// Server-muted.
    #[serde(skip_serializing_if = "super::is_default")]
    pub mute: bool,
    /// Self-deafened.
    #[serde(skip_serializing_if = "super::is_default")]
    pub self_deaf: bool,
    /// Self-muted.
    #[serde(skip_serializing_if = "super::is_default")]
    pub self_mute: bool,
    /// Streaming ("Go Live").
    #[serde(skip_serializing_if = "super::is_default")]
    pub self_stream: bool,
    /// Camera on.
    #[serde(skip_serializing_if = "super::is_default")]
    pub self_video: bool,
    /// Suppressed (cannot speak).
    #[serde(skip_serializing_if = "super::is_default")]
    pub suppress: bool,
    /// When they asked to speak in a stage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_to_speak_timestamp: Option<Timestamp>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
