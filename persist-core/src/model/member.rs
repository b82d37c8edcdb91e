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
    pub nick: Option<String>,
    /// Guild avatar hash.
    pub avatar: Option<String>,
    /// Guild banner hash.
    pub banner: Option<String>,
    /// Roles held.
    pub roles: Vec<RoleId>,
    /// When they joined (absent for some partial payloads).
    pub joined_at: Option<Timestamp>,
    /// When they started boosting.
    pub premium_since: Option<Timestamp>,
    /// Server-deafened.
    pub deaf: bool,
    /// Server-muted.
    pub mute: bool,
    /// Member flags.
    pub flags: u64,
    /// Not yet passed membership screening.
    pub pending: bool,
    /// Computed permissions (interactions only).
    pub permissions: Option<Permissions>,
    /// When a timeout ends.
    pub communication_disabled_until: Option<Timestamp>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
