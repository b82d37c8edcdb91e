use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Extra, Permissions, ThreadMember, User};
use crate::{
    ApplicationId, ChannelId, EmojiId, ForumTagId, GuildId, MessageId, TargetId, Timestamp, UserId,
};

/// The kind of a channel (Discord's `type`), with unknown kinds kept by number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// A guild text channel.
    #[default]
    Text,
    /// A direct message.
    Dm,
    /// A guild voice channel.
    Voice,
    /// A group DM.
    GroupDm,
    /// A category.
    Category,
    /// An announcement (news) channel.
    Announcement,
    /// A thread in an announcement channel.
    AnnouncementThread,
    /// A public thread.
    PublicThread,
    /// A private thread.
    PrivateThread,
    /// A stage channel.
    Stage,
    /// A hub directory.
    Directory,
    /// A forum.
    Forum,
    /// A media channel.
    Media,
    /// A kind this version does not know.
    Unknown(u8),
}

impl ChannelKind {
    /// Discord's number for this kind.
    pub fn number(self) -> u8 {
        match self {
            Self::Text => 0,
            Self::Dm => 1,
            Self::Voice => 2,
            Self::GroupDm => 3,
            Self::Category => 4,
            Self::Announcement => 5,
            Self::AnnouncementThread => 10,
            Self::PublicThread => 11,
            Self::PrivateThread => 12,
            Self::Stage => 13,
            Self::Directory => 14,
            Self::Forum => 15,
            Self::Media => 16,
            Self::Unknown(n) => n,
        }
    }

    /// The kind Discord's number names.
    pub fn from_number(n: u8) -> Self {
        match n {
            0 => Self::Text,
            1 => Self::Dm,
            2 => Self::Voice,
            3 => Self::GroupDm,
            4 => Self::Category,
            5 => Self::Announcement,
            10 => Self::AnnouncementThread,
            11 => Self::PublicThread,
            12 => Self::PrivateThread,
            13 => Self::Stage,
            14 => Self::Directory,
            15 => Self::Forum,
            16 => Self::Media,
            other => Self::Unknown(other),
        }
    }

    /// Whether channels of this kind are threads.
    pub fn is_thread(self) -> bool {
        matches!(
            self,
            Self::AnnouncementThread | Self::PublicThread | Self::PrivateThread
        )
    }
}

impl Serialize for ChannelKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for ChannelKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        u8::deserialize(deserializer).map(Self::from_number)
    }
}

/// A permission overwrite on a channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PermissionOverwrite {
    /// The role or user it applies to.
    pub id: TargetId,
    /// 0 for a role, 1 for a member (older payloads send "role"/"member", kept as-is in `extra` when not a number).
    #[serde(rename = "type", deserialize_with = "overwrite_kind")]
    #[serde(skip_serializing_if = "super::is_default")]
    pub kind: u8,
    /// Allowed bits.
    #[serde(skip_serializing_if = "super::is_default")]
    pub allow: Permissions,
    /// Denied bits.
    #[serde(skip_serializing_if = "super::is_default")]
    pub deny: Permissions,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Accepts both the numeric overwrite type and the 2017-era "role"/"member" strings.
fn overwrite_kind<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(u8),
        Text(String),
    }
    match Repr::deserialize(deserializer)? {
        Repr::Number(n) => Ok(n),
        Repr::Text(t) if t == "role" => Ok(0),
        Repr::Text(t) if t == "member" => Ok(1),
        Repr::Text(t) => Err(serde::de::Error::custom(format!(
            "unknown overwrite type {t:?}"
        ))),
    }
}

/// The thread-specific part of a thread channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThreadMetadata {
    /// Whether the thread is archived.
    #[serde(skip_serializing_if = "super::is_default")]
    pub archived: bool,
    /// Minutes of inactivity before auto-archive.
    #[serde(skip_serializing_if = "super::is_default")]
    pub auto_archive_duration: u32,
    /// When the archive state last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_timestamp: Option<Timestamp>,
    /// Whether the thread is locked.
    #[serde(skip_serializing_if = "super::is_default")]
    pub locked: bool,
    /// Whether non-moderators can add others (private threads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitable: Option<bool>,
    /// When the thread was created (threads after 2022-01-09).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_timestamp: Option<Timestamp>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tag that can be applied to threads of a forum or media channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ForumTag {
    /// The tag's id.
    pub id: ForumTagId,
    /// Its name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub name: String,
    /// Whether only moderators can apply it.
    #[serde(skip_serializing_if = "super::is_default")]
    pub moderated: bool,
    /// A custom emoji.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji_id: Option<EmojiId>,
    /// A unicode emoji.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji_name: Option<String>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A channel of any kind, threads included.
///
/// ```
/// use persist_core::model::{Channel, ChannelKind};
/// let c: Channel = serde_json::from_str(r#"{"id":"5","type":11,"parent_id":"4"}"#).unwrap();
/// assert_eq!(c.kind, ChannelKind::PublicThread);
/// assert!(c.is_thread());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Channel {
    /// The channel's id.
    pub id: ChannelId,
    /// Its kind.
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "super::is_default")]
    pub kind: ChannelKind,
    /// The guild, for guild channels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// Sorting position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// Explicit permission overwrites.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub permission_overwrites: Vec<PermissionOverwrite>,
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Whether the channel is NSFW.
    #[serde(skip_serializing_if = "super::is_default")]
    pub nsfw: bool,
    /// The last message sent (may no longer exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message_id: Option<MessageId>,
    /// Voice bitrate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u32>,
    /// Voice user limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_limit: Option<u32>,
    /// Slow-mode seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_user: Option<u32>,
    /// Recipients of a DM.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<User>,
    /// Group DM icon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Creator of a thread or group DM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<UserId>,
    /// Application that created a group DM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    /// Category of a channel, or the parent of a thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<ChannelId>,
    /// When the last message was pinned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_pin_timestamp: Option<Timestamp>,
    /// Voice region override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtc_region: Option<String>,
    /// Camera video quality mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_quality_mode: Option<u8>,
    /// Approximate message count of a thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_count: Option<u32>,
    /// Approximate member count of a thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u32>,
    /// Thread-specific fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_metadata: Option<ThreadMetadata>,
    /// The bot's membership of this thread, when it has joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<ThreadMember>,
    /// Default auto-archive duration for new threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_auto_archive_duration: Option<u32>,
    /// The bot's computed permissions (interactions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// Channel flags.
    #[serde(skip_serializing_if = "super::is_default")]
    pub flags: u64,
    /// Messages ever sent in a thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_message_sent: Option<u32>,
    /// Tags available in a forum or media channel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub available_tags: Vec<ForumTag>,
    /// Tags applied to a forum thread.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applied_tags: Vec<ForumTagId>,
    /// Default reaction emoji of a forum (an object, kept as sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_reaction_emoji: Option<serde_json::Value>,
    /// Default slow mode for new threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_thread_rate_limit_per_user: Option<u32>,
    /// Default sort order of a forum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_sort_order: Option<u8>,
    /// Default layout of a forum.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_forum_layout: Option<u8>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Channel {
    /// Whether this channel is a thread.
    pub fn is_thread(&self) -> bool {
        self.kind.is_thread()
    }
}
