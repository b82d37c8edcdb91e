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
    pub join_timestamp: Option<Timestamp>,
    /// Notification flags.
    pub flags: u64,
    /// Everything else Discord sent (a guild member object, a presence, ...).
    #[serde(flatten)]
    pub extra: Extra,
}
