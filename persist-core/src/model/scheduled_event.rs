use serde::{Deserialize, Serialize};

use super::{Extra, User};
use crate::{ChannelId, GuildId, ScheduledEventId, Timestamp, UserId};

/// A guild scheduled event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduledEvent {
    /// The event's id.
    pub id: ScheduledEventId,
    /// The guild.
    pub guild_id: GuildId,
    /// Where it happens (stage or voice).
    pub channel_id: Option<ChannelId>,
    /// Who created it.
    pub creator_id: Option<UserId>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Start.
    pub scheduled_start_time: Option<Timestamp>,
    /// End.
    pub scheduled_end_time: Option<Timestamp>,
    /// Privacy level.
    pub privacy_level: u8,
    /// 1 scheduled, 2 active, 3 completed, 4 canceled.
    pub status: u8,
    /// 1 stage, 2 voice, 3 external.
    pub entity_type: u8,
    /// Location and other entity metadata, kept as sent.
    pub entity_metadata: Option<serde_json::Value>,
    /// The creator.
    pub creator: Option<User>,
    /// Subscribed users, when Discord sends the count.
    pub user_count: Option<u64>,
    /// Cover image hash.
    pub image: Option<String>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
