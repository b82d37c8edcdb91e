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
    #[serde(skip_serializing_if = "super::is_default")]
    pub username: String,
    /// The display name, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
    /// The legacy discriminator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discriminator: Option<String>,
    /// Avatar hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Whether this is a bot account.
    #[serde(skip_serializing_if = "super::is_default")]
    pub bot: bool,
    /// Whether the e-mail is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// The account's e-mail, if the scope allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether two-factor authentication is on.
    #[serde(skip_serializing_if = "super::is_default")]
    pub mfa_enabled: bool,
    /// The chosen locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Account flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<u64>,
    /// Public account flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_flags: Option<u64>,
    /// Nitro type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub premium_type: Option<u8>,
    /// Banner hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    /// Banner colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<u32>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}
