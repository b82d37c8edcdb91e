use serde::{Deserialize, Serialize};

use super::Extra;
use crate::{ChannelId, Timestamp, UserId};

/// A user's membership of a thread.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThreadMember {
    /// The thread (Discord calls it `id`).
    #[serde(rename = "id")]
    pub thread_id: ChannelId,
    /// The member.
    pub user_id: UserId,
    /// When they joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_timestamp: Option<Timestamp>,
    /// Notification flags.
    #[serde(skip_serializing_if = "super::is_default")]
    pub flags: u64,
    /// Everything else Discord sent (a guild member object, a presence, ...).
    #[serde(flatten)]
    pub extra: Extra,
}
