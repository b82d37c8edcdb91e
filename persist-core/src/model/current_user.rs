use serde::{Deserialize, Serialize};

use super::Extra;
use crate::UserId;

/// The bot's own user, as READY and USER_UPDATE describe it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CurrentUser {
    /// The bot's user id.
    pub id: UserId,
    /// The username.
    pub username: String,
    /// The display name, if set.
    pub global_name: Option<String>,
    /// The legacy discriminator.
    pub discriminator: Option<String>,
    /// Avatar hash.
    pub avatar: Option<String>,
    /// Whether this is a bot account.
    pub bot: bool,
    /// Whether the e-mail is verified.
    pub verified: Option<bool>,
    /// The account's e-mail, if the scope allows.
    pub email: Option<String>,
    /// Whether two-factor authentication is on.
    pub mfa_enabled: bool,
    /// The chosen locale.
    pub locale: Option<String>,
    /// Account flags.
    pub flags: Option<u64>,
    /// Public account flags.
    pub public_flags: Option<u64>,
    /// Nitro type.
    pub premium_type: Option<u8>,
    /// Banner hash.
    pub banner: Option<String>,
    /// Banner colour.
    pub accent_color: Option<u32>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
