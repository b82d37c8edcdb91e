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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    /// Who created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_id: Option<UserId>,
    /// Name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_start_time: Option<Timestamp>,
    /// End.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_end_time: Option<Timestamp>,
    /// Privacy level.
    #[serde(skip_serializing_if = "super::is_default")]
    pub privacy_level: u8,
    /// 1 scheduled, 2 active, 3 completed, 4 canceled.
    #[serde(skip_serializing_if = "super::is_default")]
    pub status: u8,
    /// 1 stage, 2 voice, 3 external.
    #[serde(skip_serializing_if = "super::is_default")]
    pub entity_type: u8,
    /// Location and other entity metadata, kept as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_metadata: Option<serde_json::Value>,
    /// The creator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<User>,
    /// Subscribed users, when Discord sends the count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_count: Option<u64>,
    /// Cover image hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ScheduledEvent {
    /// Counts a subscriber added or removed (never below zero).
    ///
    /// ```
    /// use persist_core::model::ScheduledEvent;
    /// let mut event = ScheduledEvent::default();
    /// event.count_user(true);
    /// event.count_user(true);
    /// event.count_user(false);
    /// assert_eq!(event.user_count, Some(1));
    /// ```
    pub fn count_user(&mut self, added: bool) {
        let count = self.user_count.unwrap_or(0);
        self.user_count = Some(if added {
            count.saturating_add(1)
        } else {
            count.saturating_sub(1)
        });
    }
}
