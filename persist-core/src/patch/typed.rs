//! Typed partial updates of the kinds updated on the hot path (members,
//! messages, users): a struct of optional fields per kind, valid by
//! construction, applied by assignment (no JSON round trip).

use serde_json::{Map, Value};

use crate::entity::{Entity, EntityKey, Record};
use crate::model::{
    Attachment, Embed, Extra, Member, Message, MessageReference, Permissions, Reaction,
    StickerItem, User,
};
use crate::{ApplicationId, ChannelId, GuildId, MessageId, RoleId, Timestamp, UserId, WebhookId};

/// Generates a patch struct: one `Option` per model field (`None`: not sent;
/// `Some(v)`: set to `v`, so a nullable field is cleared by `Some(None)`),
/// plus the fields the model does not name.
macro_rules! typed_patch {
    (
        $(#[$doc:meta])*
        $name:ident for $model:ident {
            $($(#[$fdoc:meta])* $field:ident: $ty:ty => $json:literal,)*
        }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: Option<$ty>,)*
            /// Fields the model does not name, as Discord sent them (kept in
            /// the model's `extra`).
            pub extra: Extra,
        }

        impl $name {
            /// Sets every field sent on `target`.
            pub fn apply(self, target: &mut $model) {
                $(if let Some(v) = self.$field {
                    target.$field = v;
                })*
                for (name, value) in self.extra {
                    // Null sets a field to its empty value: gone, for these.
                    if value.is_null() {
                        target.extra.remove(&name);
                    } else {
                        target.extra.insert(name, value);
                    }
                }
            }

            /// Reads fields by Discord's names, as a JSON patch carries them
            /// (`null`: the field's empty value); names the model does not
            /// have go to `extra`, except the object's own `ids`, which the
            /// key gives.
            pub(crate) fn from_fields(fields: Map<String, Value>, ids: &[&str]) -> Result<Self, String> {
                let mut patch = Self::default();
                for (name, value) in fields {
                    match name.as_str() {
                        $($json => {
                            patch.$field = Some(if value.is_null() {
                                Default::default()
                            } else {
                                serde_json::from_value(value).map_err(|e| format!("{}: {e}", $json))?
                            });
                        })*
                        id if ids.contains(&id) => {}
                        _ => {
                            patch.extra.insert(name, value);
                        }
                    }
                }
                Ok(patch)
            }

            /// Folds a later patch of the same object into this one (later fields win).
            pub fn merge(&mut self, later: Self) {
                $(if later.$field.is_some() {
                    self.$field = later.$field;
                })*
                self.extra.extend(later.extra);
            }

            /// Leaves a field out, by Discord's name (content-off rulesets).
            pub(crate) fn remove(&mut self, name: &str) {
                match name {
                    $($json => self.$field = None,)*
                    _ => {}
                }
                self.extra.remove(name);
            }

            /// Whether every field nests within the stores' limit (see
            /// `nesting`), probed field by field: no map is built.
            pub(crate) fn within_nesting_limit(&self) -> bool {
                use crate::nesting::within_limit;
                $(self.$field.as_ref().is_none_or(within_limit) &&)* within_limit(&self.extra)
            }

            /// Estimated heap bytes (see `heap_size`).
            pub(crate) fn heap_bytes(&self) -> usize {
                use crate::heap_size::HeapSize;
                std::mem::size_of::<Self>() $(+ self.$field.heap_bytes())* + self.extra.heap_bytes()
            }

            /// The fields sent, by Discord's names, as JSON.
            pub(crate) fn to_fields(&self) -> Map<String, Value> {
                let mut fields = Map::new();
                $(if let Some(v) = &self.$field {
                    fields.insert($json.to_owned(), serde_json::to_value(v).unwrap_or(Value::Null));
                })*
                for (k, v) in &self.extra {
                    fields.insert(k.clone(), v.clone());
                }
                fields
            }
        }
    };
}

typed_patch! {
    /// A partial update of a guild member (GUILD_MEMBER_UPDATE, the member a
    /// message carries).
    ///
    /// ```
    /// use persist_core::{GuildId, Patch, UserId, model::Member, MemberPatch};
    /// let update = MemberPatch { nick: Some(Some("new nick".into())), ..Default::default() };
    /// let patch = Patch::from_member(GuildId::new(1), UserId::new(2), update);
    /// let before = Member { guild_id: GuildId::new(1), user_id: UserId::new(2), deaf: true, ..Default::default() };
    /// let after: Member = patch.apply_to(Some(&before)).unwrap();
    /// assert_eq!(after.nick.as_deref(), Some("new nick"));
    /// assert!(after.deaf); // not sent, so kept
    /// ```
    MemberPatch for Member {
        /// Guild nickname.
        nick: Option<String> => "nick",
        /// Guild avatar hash.
        avatar: Option<String> => "avatar",
        /// Guild banner hash.
        banner: Option<String> => "banner",
        /// Roles held.
        roles: Vec<RoleId> => "roles",
        /// When they joined.
        joined_at: Option<Timestamp> => "joined_at",
        /// When they started boosting.
        premium_since: Option<Timestamp> => "premium_since",
        /// Server-deafened.
        deaf: bool => "deaf",
        /// Server-muted.
        mute: bool => "mute",
        /// Member flags.
        flags: u64 => "flags",
        /// Not yet passed membership screening.
        pending: bool => "pending",
        /// Computed permissions.
        permissions: Option<Permissions> => "permissions",
        /// When a timeout ends.
        communication_disabled_until: Option<Timestamp> => "communication_disabled_until",
    }
}

typed_patch! {
    /// A partial update of a user (the partial user of PRESENCE_UPDATE).
    UserPatch for User {
        /// The unique username.
        username: String => "username",
        /// The display name.
        global_name: Option<String> => "global_name",
        /// The legacy discriminator.
        discriminator: Option<String> => "discriminator",
        /// Avatar hash.
        avatar: Option<String> => "avatar",
        /// A bot.
        bot: bool => "bot",
        /// A system user.
        system: bool => "system",
        /// Banner hash.
        banner: Option<String> => "banner",
        /// Banner colour.
        accent_color: Option<u32> => "accent_color",
        /// Public flags.
        public_flags: Option<u64> => "public_flags",
    }
}

typed_patch! {
    /// A partial update of a message (MESSAGE_UPDATE).
    MessagePatch for Message {
        /// Its channel.
        channel_id: ChannelId => "channel_id",
        /// Its guild.
        guild_id: Option<GuildId> => "guild_id",
        /// The author.
        author: User => "author",
        /// Text content.
        content: String => "content",
        /// When it was sent.
        timestamp: Option<Timestamp> => "timestamp",
        /// When it was last edited.
        edited_timestamp: Option<Timestamp> => "edited_timestamp",
        /// Text-to-speech.
        tts: bool => "tts",
        /// Mentions @everyone.
        mention_everyone: bool => "mention_everyone",
        /// Mentioned users.
        mentions: Vec<User> => "mentions",
        /// Mentioned roles.
        mention_roles: Vec<RoleId> => "mention_roles",
        /// Attached files.
        attachments: Vec<Attachment> => "attachments",
        /// Embeds.
        embeds: Vec<Embed> => "embeds",
        /// Reactions.
        reactions: Vec<Reaction> => "reactions",
        /// Pinned.
        pinned: bool => "pinned",
        /// Sent by a webhook.
        webhook_id: Option<WebhookId> => "webhook_id",
        /// Message type.
        kind: u8 => "type",
        /// Application.
        application_id: Option<ApplicationId> => "application_id",
        /// What it points at.
        message_reference: Option<MessageReference> => "message_reference",
        /// The message replied to.
        referenced_message: Option<Box<Message>> => "referenced_message",
        /// Flags.
        flags: u64 => "flags",
        /// Stickers.
        sticker_items: Vec<StickerItem> => "sticker_items",
        /// Components, kept as sent.
        components: Vec<Value> => "components",
    }
}

/// A typed patch of any of the kinds above.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Typed {
    Member(GuildId, UserId, Box<MemberPatch>),
    User(UserId, Box<UserPatch>),
    Message(MessageId, Box<MessagePatch>),
}

impl Typed {
    /// The typed patch of `key` from fields by Discord's names, for the
    /// kinds that have one; `Ok(Err(fields))` gives the fields back otherwise.
    pub(crate) fn from_fields(
        key: EntityKey,
        fields: Map<String, Value>,
    ) -> Result<Result<Self, Map<String, Value>>, String> {
        Ok(Ok(match key {
            EntityKey::Member(guild_id, user_id) => Self::Member(
                guild_id,
                user_id,
                Box::new(MemberPatch::from_fields(fields, &["guild_id", "user_id"])?),
            ),
            EntityKey::User(id) => {
                Self::User(id, Box::new(UserPatch::from_fields(fields, &["id"])?))
            }
            EntityKey::Message(id) => {
                Self::Message(id, Box::new(MessagePatch::from_fields(fields, &["id"])?))
            }
            _ => return Ok(Err(fields)),
        }))
    }

    pub(crate) fn to_fields(&self) -> Map<String, Value> {
        match self {
            Self::Member(.., p) => p.to_fields(),
            Self::User(_, p) => p.to_fields(),
            Self::Message(_, p) => p.to_fields(),
        }
    }

    pub(crate) fn within_nesting_limit(&self) -> bool {
        match self {
            Self::Member(.., p) => p.within_nesting_limit(),
            Self::User(_, p) => p.within_nesting_limit(),
            Self::Message(_, p) => p.within_nesting_limit(),
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Self::Member(.., p) => p.heap_bytes(),
            Self::User(_, p) => p.heap_bytes(),
            Self::Message(_, p) => p.heap_bytes(),
        }
    }

    pub(crate) fn remove(&mut self, name: &str) {
        match self {
            Self::Member(.., p) => p.remove(name),
            Self::User(_, p) => p.remove(name),
            Self::Message(_, p) => p.remove(name),
        }
    }

    /// Merges a later typed patch of the same kind; gives it back otherwise.
    pub(crate) fn merge(&mut self, later: Typed) -> Result<(), Typed> {
        match (self, later) {
            (Self::Member(.., a), Self::Member(.., b)) => a.merge(*b),
            (Self::User(_, a), Self::User(_, b)) => a.merge(*b),
            (Self::Message(_, a), Self::Message(_, b)) => a.merge(*b),
            (_, later) => return Err(later),
        }
        Ok(())
    }

    /// Applies the patch over the current object, or over a default one;
    /// the ids are always the patch's own.
    pub(crate) fn apply(self, current: Option<Record>) -> Record {
        match self {
            Self::Member(guild_id, user_id, p) => {
                let mut member = current.and_then(Member::from_record).unwrap_or_default();
                p.apply(&mut member);
                member.guild_id = guild_id;
                member.user_id = user_id;
                Record::Member(member)
            }
            Self::User(id, p) => {
                let mut user = current.and_then(User::from_record).unwrap_or_default();
                p.apply(&mut user);
                user.id = id;
                Record::User(user)
            }
            Self::Message(id, p) => {
                let mut message = current.and_then(Message::from_record).unwrap_or_default();
                p.apply(&mut message);
                message.id = id;
                Record::Message(message)
            }
        }
    }
}
