use serde::{Deserialize, Serialize};

use super::Extra;
use crate::UserId;

/// A Discord user.
///
/// ```
/// let user: persist_core::model::User = serde_json::from_str(
///     r#"{"id":"1","username":"ferris","discriminator":"0","clan":null}"#,
/// ).unwrap();
/// assert_eq!(user.username, "ferris");
/// assert!(user.extra.contains_key("clan")); // unknown fields are kept
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The unique username.
    #[serde(skip_serializing_if = "super::is_default")]
    pub username: String,
    /// The display name, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
    /// The legacy discriminator ("0" for migrated users).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discriminator: Option<String>,
    /// Avatar hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Whether the user is a bot.
    #[serde(skip_serializing_if = "super::is_default")]
    pub bot: bool,
    /// Whether the user is an official Discord system user.
    #[serde(skip_serializing_if = "super::is_default")]
    pub system: bool,
    /// Banner hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    /// Banner colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<u32>,
    /// Public flags on the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_flags: Option<u64>,
    /// Everything else Discord sent (avatar decorations, clan, collectibles, ...).
    #[serde(flatten)]
    pub extra: Extra,
}
