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
    pub channel_id: Option<ChannelId>,
    /// Voice session id.
    pub session_id: String,
    /// Server-deafened.
    pub deaf: bool,
    /// Server-muted.
    pub mute: bool,
    /// Self-deafened.
    pub self_deaf: bool,
    /// Self-muted.
    pub self_mute: bool,
    /// Streaming ("Go Live").
    pub self_stream: bool,
    /// Camera on.
    pub self_video: bool,
    /// Suppressed (cannot speak).
    pub suppress: bool,
    /// When they asked to speak in a stage.
    pub request_to_speak_timestamp: Option<Timestamp>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
