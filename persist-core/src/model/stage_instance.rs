use serde::{Deserialize, Serialize};

use super::Extra;
use crate::{ChannelId, GuildId, ScheduledEventId, StageInstanceId};

/// A live stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StageInstance {
    /// The instance's id.
    pub id: StageInstanceId,
    /// The guild.
    pub guild_id: GuildId,
    /// The stage channel.
    pub channel_id: ChannelId,
    /// Topic.
    #[serde(skip_serializing_if = "super::is_default")]
    pub topic: String,
    /// Privacy level.
    #[serde(skip_serializing_if = "super::is_default")]
    pub privacy_level: u8,
    /// Discovery disabled (deprecated).
    #[serde(skip_serializing_if = "super::is_default")]
    pub discoverable_disabled: bool,
    /// The scheduled event it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guild_scheduled_event_id: Option<ScheduledEventId>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
