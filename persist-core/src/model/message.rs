use serde::{Deserialize, Serialize};

use super::{Extra, User};
use crate::{
    ApplicationId, AttachmentId, ChannelId, EmojiId, GuildId, MessageId, RoleId, StickerId,
    Timestamp, WebhookId,
};

/// A file attached to a message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    /// The attachment's id.
    pub id: AttachmentId,
    /// File name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub filename: String,
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Alt text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// MIME type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size in bytes.
    #[serde(skip_serializing_if = "super::is_default")]
    pub size: u64,
    /// Source URL.
    #[serde(skip_serializing_if = "super::is_default")]
    pub url: String,
    /// Proxied URL.
    #[serde(skip_serializing_if = "super::is_default")]
    pub proxy_url: String,
    /// Image height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Image width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Ephemeral.
    #[serde(skip_serializing_if = "super::is_default")]
    pub ephemeral: bool,
    /// Voice message length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    /// Voice message waveform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waveform: Option<String>,
    /// Attachment flags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<u64>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A field of an embed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbedField {
    /// Name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub name: String,
    /// Value.
    #[serde(skip_serializing_if = "super::is_default")]
    pub value: String,
    /// Shown inline.
    #[serde(skip_serializing_if = "super::is_default")]
    pub inline: bool,
}

/// Rich content of a message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Embed {
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// "rich", "image", "video", "link", ...
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Title link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Timestamp shown in the footer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Side colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    /// Fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
    /// Everything else Discord sent (footer, image, thumbnail, video, provider, author).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The emoji of a reaction: a custom emoji (with id) or a unicode one (name only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReactionEmoji {
    /// Custom emoji id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<EmojiId>,
    /// Name (the character itself for unicode emoji).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Animated.
    #[serde(skip_serializing_if = "super::is_default")]
    pub animated: bool,
}

impl ReactionEmoji {
    /// A unicode emoji.
    pub fn unicode(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: Some(name.into()),
            animated: false,
        }
    }

    /// A custom emoji.
    pub fn custom(id: EmojiId, name: Option<String>) -> Self {
        Self {
            id: Some(id),
            name,
            animated: false,
        }
    }

    /// Whether two emoji are the same reaction: custom ones by id, unicode ones by name.
    pub fn same_as(&self, other: &Self) -> bool {
        match (self.id, other.id) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.name == other.name,
            _ => false,
        }
    }
}

/// Normal and super-reaction counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReactionCountDetails {
    /// Super reactions.
    #[serde(skip_serializing_if = "super::is_default")]
    pub burst: u64,
    /// Normal reactions.
    #[serde(skip_serializing_if = "super::is_default")]
    pub normal: u64,
}

/// A reaction on a message, with its count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reaction {
    /// Total count.
    #[serde(skip_serializing_if = "super::is_default")]
    pub count: u64,
    /// Counts by kind.
    #[serde(skip_serializing_if = "super::is_default")]
    pub count_details: ReactionCountDetails,
    /// Whether the bot reacted.
    #[serde(skip_serializing_if = "super::is_default")]
    pub me: bool,
    /// Whether the bot super-reacted.
    #[serde(skip_serializing_if = "super::is_default")]
    pub me_burst: bool,
    /// The emoji.
    #[serde(skip_serializing_if = "super::is_default")]
    pub emoji: ReactionEmoji,
    /// Super-reaction colours.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub burst_colors: Vec<String>,
    /// Everything else Discord sent.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What a reply, crosspost, pin or forward points at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageReference {
    /// 0 default (reply), 1 forward.
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    /// The message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// Its channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
    /// Its guild.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// Whether a missing target is an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_if_not_exists: Option<bool>,
}

/// A sticker as a message carries it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StickerItem {
    /// The sticker.
    pub id: StickerId,
    /// Name.
    #[serde(skip_serializing_if = "super::is_default")]
    pub name: String,
    /// Format.
    #[serde(skip_serializing_if = "super::is_default")]
    pub format_type: u8,
}

/// A message.
///
/// The author is stored as it was when the message was sent (webhook authors
/// are not real users). A message's reply target is kept in
/// `referenced_message` as Discord sent it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Message {
    /// The message's id.
    pub id: MessageId,
    /// Its channel (or thread).
    pub channel_id: ChannelId,
    /// Its guild; `None` in DMs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<GuildId>,
    /// The author.
    pub author: User,
    /// Text content (empty in content-off mode, or without the content intent).
    #[serde(skip_serializing_if = "super::is_default")]
    pub content: String,
    /// When it was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// When it was last edited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_timestamp: Option<Timestamp>,
    /// Text-to-speech.
    #[serde(skip_serializing_if = "super::is_default")]
    pub tts: bool,
    /// Mentions @everyone.
    #[serde(skip_serializing_if = "super::is_default")]
    pub mention_everyone: bool,
    /// Mentioned users.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<User>,
    /// Mentioned roles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mention_roles: Vec<RoleId>,
    /// Attached files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Embeds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<Embed>,
    /// Reactions with counts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// Pinned.
    #[serde(skip_serializing_if = "super::is_default")]
    pub pinned: bool,
    /// Sent by a webhook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<WebhookId>,
    /// Message type.
    #[serde(rename = "type")]
    #[serde(skip_serializing_if = "super::is_default")]
    pub kind: u8,
    /// Application of an interaction or rich presence message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<ApplicationId>,
    /// What a reply, crosspost or forward points at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_reference: Option<MessageReference>,
    /// The message replied to, as Discord sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referenced_message: Option<Box<Message>>,
    /// Message flags.
    #[serde(skip_serializing_if = "super::is_default")]
    pub flags: u64,
    /// Stickers sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sticker_items: Vec<StickerItem>,
    /// Buttons, menus and other components, kept as sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<serde_json::Value>,
    /// Everything else Discord sent (member, nonce, interaction metadata, polls, snapshots, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Message {
    /// The reaction with this emoji, if any.
    pub fn reaction(&self, emoji: &ReactionEmoji) -> Option<&Reaction> {
        self.reactions.iter().find(|r| r.emoji.same_as(emoji))
    }
}

impl Message {
    /// Counts one user's reaction (MESSAGE_REACTION_ADD).
    pub fn add_reaction(&mut self, emoji: &ReactionEmoji, burst: bool, by_current_user: bool) {
        let index = match self.reactions.iter().position(|r| r.emoji.same_as(emoji)) {
            Some(i) => i,
            None => {
                self.reactions.push(Reaction {
                    emoji: emoji.clone(),
                    ..Default::default()
                });
                self.reactions.len() - 1
            }
        };
        let reaction = &mut self.reactions[index];
        reaction.count += 1;
        if burst {
            reaction.count_details.burst += 1;
            reaction.me_burst |= by_current_user;
        } else {
            reaction.count_details.normal += 1;
            reaction.me |= by_current_user;
        }
    }

    /// Uncounts one user's reaction (MESSAGE_REACTION_REMOVE); a reaction
    /// whose count reaches zero is removed.
    pub fn remove_reaction(&mut self, emoji: &ReactionEmoji, burst: bool, by_current_user: bool) {
        let Some(index) = self.reactions.iter().position(|r| r.emoji.same_as(emoji)) else {
            return;
        };
        let reaction = &mut self.reactions[index];
        reaction.count = reaction.count.saturating_sub(1);
        if burst {
            reaction.count_details.burst = reaction.count_details.burst.saturating_sub(1);
            if by_current_user {
                reaction.me_burst = false;
            }
        } else {
            reaction.count_details.normal = reaction.count_details.normal.saturating_sub(1);
            if by_current_user {
                reaction.me = false;
            }
        }
        if reaction.count == 0 {
            self.reactions.remove(index);
        }
    }

    /// Removes every reaction with this emoji (MESSAGE_REACTION_REMOVE_EMOJI).
    pub fn remove_emoji_reactions(&mut self, emoji: &ReactionEmoji) {
        self.reactions.retain(|r| !r.emoji.same_as(emoji));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reactions_count_up_and_down() {
        let mut m = Message::default();
        let thumbs = ReactionEmoji::unicode("👍");
        let custom = ReactionEmoji::custom(EmojiId::new(5), Some("blob".into()));
        m.add_reaction(&thumbs, false, false);
        m.add_reaction(&thumbs, false, true);
        m.add_reaction(&thumbs, true, false);
        m.add_reaction(&custom, false, false);
        let r = m.reaction(&thumbs).unwrap();
        assert_eq!(
            (r.count, r.count_details.normal, r.count_details.burst, r.me),
            (3, 2, 1, true)
        );
        m.remove_reaction(&thumbs, false, true);
        let r = m.reaction(&thumbs).unwrap();
        assert_eq!((r.count, r.me), (2, false));
        m.remove_emoji_reactions(&thumbs);
        assert!(m.reaction(&thumbs).is_none());
        m.remove_reaction(&custom, false, false);
        assert!(m.reactions.is_empty());
        // Removing what is not there is a no-op, not an underflow.
        m.remove_reaction(&custom, false, false);
        assert!(m.reactions.is_empty());
    }
}
