use serde::{Deserialize, Serialize};

use super::{Extra, Permissions};
use crate::{GuildId, RoleId, Timestamp, UserId};

/// A guild member. The user itself is stored once as a [`User`](super::User)
/// and read with `Cache::user`; a member names it by `user_id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Member {
    /// The guild.
    pub guild_id: GuildId,
    /// The user.
    pub user_id: UserId,
    /// Guild nickname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nick: Option<String>,
    /// Guild avatar hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Guild banner hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    /// Roles held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleId>,
    /// When they joined (absent for some partial payloads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<Timestamp>,
    /// When they started boosting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub premium_since: Option<Timestamp>,
    /// Server-deafened.
    #[serde(skip_serializing_if = "super::is_default")]
    pub deaf: bool,
    /// Server-muted.
    #[serde(skip_serializing_if = "super::is_default")]
    pub mute: bool,
    /// Member flags.
    #[serde(skip_serializing_if = "super::is_default")]
    pub flags: u64,
    /// Not yet passed membership screening.
    #[serde(skip_serializing_if = "super::is_default")]
    pub pending: bool,
    /// Computed permissions (interactions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// When a timeout ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communication_disabled_until: Option<Timestamp>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
