//! Estimated heap bytes of queued objects, for the write queue's memory
//! budget.
//!
//! The rule: a value's own size (`size_of`) is counted where it is stored
//! (inline in its parent); on top of it, each string counts its capacity,
//! each vector its capacity times the element size plus the elements' heap
//! bytes, each box the boxed value's size plus its heap bytes, and a JSON
//! map one B-tree node (11 entries' room) per 8 entries or part of it, plus
//! its keys and contents. Allocator overhead is not counted. A test checks
//! the rule against a counting allocator (`tests/tests/heap_estimate.rs`).

use std::mem::size_of;

use serde_json::{Map, Value};

use crate::entity::{EntityKey, Record};
use crate::model::{
    Activity, Attachment, Channel, CurrentUser, Embed, EmbedField, Emoji, ForumTag, Guild, Member,
    Message, MessageReference, PermissionOverwrite, Presence, Reaction, ReactionEmoji, Role,
    ScheduledEvent, StageInstance, Sticker, StickerItem, ThreadMember, ThreadMetadata, User,
    VoiceState,
};
use crate::{Mutation, Patch};

/// Heap bytes owned by a value (not counting its own inline size).
pub trait HeapSize {
    /// The estimate, by the rule in the module docs.
    fn heap_bytes(&self) -> usize;
}

impl HeapSize for String {
    fn heap_bytes(&self) -> usize {
        self.capacity()
    }
}

impl<T: HeapSize> HeapSize for Option<T> {
    fn heap_bytes(&self) -> usize {
        self.as_ref().map_or(0, HeapSize::heap_bytes)
    }
}

impl<T: HeapSize> HeapSize for Vec<T> {
    fn heap_bytes(&self) -> usize {
        self.capacity() * size_of::<T>() + self.iter().map(HeapSize::heap_bytes).sum::<usize>()
    }
}

impl<T: HeapSize> HeapSize for Box<T> {
    fn heap_bytes(&self) -> usize {
        size_of::<T>() + (**self).heap_bytes()
    }
}

/// Entries a JSON map's B-tree node has room for (std's `BTreeMap`).
const NODE_CAPACITY: usize = 11;
/// Entries a node holds on average (nodes split when full, leaving them
/// from half to wholly full).
const NODE_FILL: usize = 8;
/// A B-tree leaf: room for its entries, its parent link and lengths.
const NODE: usize = NODE_CAPACITY * (size_of::<String>() + size_of::<Value>()) + 16;

impl HeapSize for Value {
    fn heap_bytes(&self) -> usize {
        match self {
            Value::String(s) => s.capacity(),
            Value::Array(items) => {
                items.capacity() * size_of::<Value>()
                    + items.iter().map(HeapSize::heap_bytes).sum::<usize>()
            }
            Value::Object(map) => map.heap_bytes(),
            _ => 0,
        }
    }
}

impl HeapSize for Map<String, Value> {
    fn heap_bytes(&self) -> usize {
        let nodes = self.len().div_ceil(NODE_FILL);
        nodes * NODE
            + self
                .iter()
                .map(|(k, v)| k.capacity() + v.heap_bytes())
                .sum::<usize>()
    }
}

/// Types that own nothing on the heap.
macro_rules! no_heap {
    ($($ty:ty),*) => {$(
        impl HeapSize for $ty {
            fn heap_bytes(&self) -> usize {
                0
            }
        }
    )*};
}

no_heap!(
    bool,
    u8,
    u32,
    u64,
    crate::Timestamp,
    crate::Permissions,
    crate::WebhookId,
    crate::ApplicationId,
    crate::MessageId,
    crate::UserId,
    crate::EmojiId,
    crate::RoleId,
    crate::GuildId,
    crate::ChannelId,
    crate::ForumTagId,
    MessageReference,
    StickerItem
);

/// Models: the sum of the heap bytes of the fields that own heap memory.
macro_rules! heap_fields {
    ($($ty:ty { $($field:ident),* })*) => {$(
        impl HeapSize for $ty {
            fn heap_bytes(&self) -> usize {
                0 $(+ self.$field.heap_bytes())*
            }
        }
    )*};
}

heap_fields! {
    User { username, global_name, discriminator, avatar, banner, extra }
    CurrentUser { username, global_name, discriminator, avatar, email, locale, banner, extra }
    Member { nick, avatar, banner, roles, extra }
    Guild { name, icon, splash, discovery_splash, features, vanity_url_code, description, banner, preferred_locale, extra }
    Channel { permission_overwrites, name, topic, recipients, icon, rtc_region, thread_metadata, member, available_tags, applied_tags, default_reaction_emoji, extra }
    PermissionOverwrite { extra }
    ThreadMetadata { extra }
    ThreadMember { extra }
    ForumTag { name, emoji_name, extra }
    Message { author, content, mentions, mention_roles, attachments, embeds, reactions, referenced_message, sticker_items, components, extra }
    Attachment { filename, title, description, content_type, url, proxy_url, waveform, extra }
    Embed { title, kind, description, url, fields, extra }
    EmbedField { name, value }
    Reaction { emoji, burst_colors, extra }
    ReactionEmoji { name }
    Role { name, icon, unicode_emoji, tags, extra }
    Emoji { name, roles, user, extra }
    Sticker { name, description, tags, user, extra }
    VoiceState { session_id, extra }
    Presence { status, activities, client_status, extra }
    Activity { name, url, details, state, extra }
    StageInstance { topic, extra }
    ScheduledEvent { name, description, entity_metadata, creator, image, extra }
}

impl HeapSize for Record {
    fn heap_bytes(&self) -> usize {
        match self {
            Record::CurrentUser(v) => v.heap_bytes(),
            Record::Guild(v) => v.heap_bytes(),
            Record::Channel(v) => v.heap_bytes(),
            Record::Message(v) => v.heap_bytes(),
            Record::User(v) => v.heap_bytes(),
            Record::Member(v) => v.heap_bytes(),
            Record::Role(v) => v.heap_bytes(),
            Record::Emoji(v) => v.heap_bytes(),
            Record::Sticker(v) => v.heap_bytes(),
            Record::VoiceState(v) => v.heap_bytes(),
            Record::Presence(v) => v.heap_bytes(),
            Record::StageInstance(v) => v.heap_bytes(),
            Record::ScheduledEvent(v) => v.heap_bytes(),
            Record::ThreadMember(v) => v.heap_bytes(),
        }
    }
}

impl HeapSize for Patch {
    fn heap_bytes(&self) -> usize {
        self.change_heap_bytes()
    }
}

impl HeapSize for EntityKey {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl HeapSize for Mutation {
    fn heap_bytes(&self) -> usize {
        match self {
            // The box's heap bytes count the boxed record's own size.
            Mutation::Upsert(record) => record.heap_bytes(),
            Mutation::UpsertMany(records) => records.heap_bytes(),
            Mutation::Patch(patch) => patch.heap_bytes(),
            Mutation::ReplaceGuildEmojis { emojis, .. } => emojis.heap_bytes(),
            Mutation::ReplaceGuildStickers { stickers, .. } => stickers.heap_bytes(),
            Mutation::BulkDeleteMessages { message_ids, .. } => {
                message_ids.capacity() * size_of::<crate::MessageId>()
            }
            Mutation::AddReaction(r) | Mutation::RemoveReaction(r) => r.emoji.heap_bytes(),
            Mutation::RemoveEmojiReactions { emoji, .. } => emoji.heap_bytes(),
            Mutation::RetainGuildChannels { keep, .. } => keep.heap_bytes(),
            Mutation::RetainGuildRoles { keep, .. } => keep.heap_bytes(),
            Mutation::RetainGuildMembers { keep, .. } => {
                keep.capacity() * size_of::<crate::UserId>()
            }
            Mutation::RetainShardGuilds { keep, .. } => keep.heap_bytes(),
            Mutation::Delete(_)
            | Mutation::CountScheduledEventUser { .. }
            | Mutation::RemoveAllReactions { .. }
            | Mutation::TrimChannelMessages { .. }
            | Mutation::PruneMessages { .. } => 0,
        }
    }
}

/// The bytes one queued mutation holds: its own size plus its heap bytes.
pub(crate) fn queued_bytes(mutation: &Mutation) -> usize {
    size_of::<Mutation>() + mutation.heap_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_vectors_and_json_count() {
        let message = Message {
            content: "x".repeat(1000),
            mention_roles: vec![crate::RoleId::new(1); 10],
            ..Default::default()
        };
        let bytes = message.heap_bytes();
        assert!((1080..1200).contains(&bytes), "{bytes}");
        let mut extra = Map::new();
        extra.insert("k".into(), Value::String("v".repeat(100)));
        let user = User {
            extra,
            ..Default::default()
        };
        assert!(user.heap_bytes() >= 100 + NODE);
    }
}
