//! Entity models: what a gateway session carries that a bot reads back.
//!
//! Every model keeps the fields Discord sends that it does not name in
//! [`Extra`], so a field Discord adds tomorrow survives a restart. Every field
//! but the ids has a default, so a partial payload still makes a model.

mod channel;
mod current_user;
mod emoji;
mod guild;
mod member;
mod message;
mod permissions;
mod presence;
mod role;
mod scheduled_event;
mod stage_instance;
mod sticker;
mod thread_member;
mod user;
mod voice_state;

pub use channel::{Channel, ChannelKind, ForumTag, PermissionOverwrite, ThreadMetadata};
pub use current_user::CurrentUser;
pub use emoji::Emoji;
pub use guild::Guild;
pub use member::Member;
pub use message::{
    Attachment, Embed, EmbedField, Message, MessageReference, Reaction, ReactionCountDetails,
    ReactionEmoji, StickerItem,
};
pub use permissions::Permissions;
pub use presence::{Activity, Presence};
pub use role::Role;
pub use scheduled_event::ScheduledEvent;
pub use stage_instance::StageInstance;
pub use sticker::Sticker;
pub use thread_member::ThreadMember;
pub use user::User;
pub use voice_state::VoiceState;

/// Fields of an object that its model does not name, kept as Discord sent them.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// Whether a field holds its default value; such fields are not written
/// (every model reads a missing field as its default, so this loses nothing
/// and keeps stored objects small).
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
