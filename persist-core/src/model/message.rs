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
    pub filename: String,
    /// Title.
    pub title: Option<String>,
    /// Alt text.
    pub description: Option<String>,
    /// MIME type.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Source URL.
    pub url: String,
    /// Proxied URL.
    pub proxy_url: String,
    /// Image height.
    pub height: Option<u32>,
    /// Image width.
    pub width: Option<u32>,
    /// Ephemeral.
    pub ephemeral: bool,
    /// Voice message length.
    pub duration_secs: Option<f64>,
    /// Voice message waveform.
    pub waveform: Option<String>,
    /// Attachment flags.
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
    pub name: String,
    /// Value.
    pub value: String,
    /// Shown inline.
    pub inline: bool,
}

/// Rich content of a message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Embed {
    /// Title.
    pub title: Option<String>,
    /// "rich", "image", "video", "link", ...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Title link.
    pub url: Option<String>,
    /// Timestamp shown in the footer.
    pub timestamp: Option<Timestamp>,
    /// Side colour.
    pub color: Option<u32>,
    /// Fields.
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
    pub id: Option<EmojiId>,
    /// Name (the character itself for unicode emoji).
    pub name: Option<String>,
    /// Animated.
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
    pub burst: u64,
    /// Normal reactions.
    pub normal: u64,
}

/// A reaction on a message, with its count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reaction {
    /// Total count.
    pub count: u64,
    /// Counts by kind.
    pub count_details: ReactionCountDetails,
    /// Whether the bot reacted.
    pub me: bool,
    /// Whether the bot super-reacted.
    pub me_burst: bool,
    /// The emoji.
    pub emoji: ReactionEmoji,
    /// Super-reaction colours.
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
    pub kind: Option<u8>,
    /// The message.
    pub message_id: Option<MessageId>,
    /// Its channel.
    pub channel_id: Option<ChannelId>,
    /// Its guild.
    pub guild_id: Option<GuildId>,
    /// Whether a missing target is an error.
    pub fail_if_not_exists: Option<bool>,
}

/// A sticker as a message carries it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StickerItem {
    /// The sticker.
    pub id: StickerId,
    /// Name.
    pub name: String,
    /// Format.
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
    pub guild_id: Option<GuildId>,
    /// The author.
    pub author: User,
    /// Text content (empty in content-off mode, or without the content intent).
    pub content: String,
    /// When it was sent.
    pub timestamp: Option<Timestamp>,
    /// When it was last edited.
    pub edited_timestamp: Option<Timestamp>,
    /// Text-to-speech.
    pub tts: bool,
    /// Mentions @everyone.
    pub mention_everyone: bool,
    /// Mentioned users.
    pub mentions: Vec<User>,
    /// Mentioned roles.
    pub mention_roles: Vec<RoleId>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Embeds.
    pub embeds: Vec<Embed>,
    /// Reactions with counts.
    pub reactions: Vec<Reaction>,
    /// Pinned.
    pub pinned: bool,
    /// Sent by a webhook.
    pub webhook_id: Option<WebhookId>,
    /// Message type.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Application of an interaction or rich presence message.
    pub application_id: Option<ApplicationId>,
    /// What a reply, crosspost or forward points at.
    pub message_reference: Option<MessageReference>,
    /// The message replied to, as Discord sent it.
    pub referenced_message: Option<Box<Message>>,
    /// Message flags.
    pub flags: u64,
    /// Stickers sent.
    pub sticker_items: Vec<StickerItem>,
    /// Buttons, menus and other components, kept as sent.
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
