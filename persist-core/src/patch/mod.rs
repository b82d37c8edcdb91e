//! Partial updates: the fields an update event sent, merged over what is stored.

mod typed;

use std::borrow::Cow;

use serde_json::{Map, Value};

use typed::Typed;
pub use typed::{MemberPatch, MessagePatch, UserPatch};

use crate::entity::{Entity, EntityKey, Record};
use crate::model::{
    Channel, CurrentUser, Emoji, Guild, Member, Message, Presence, Role, ScheduledEvent,
    StageInstance, Sticker, ThreadMember, User, VoiceState,
};
use crate::{ChannelId, Error, GuildId, MessageId, Result};
use serde::Deserialize;

/// A partial update of one object.
///
/// Fields that were not sent are never wiped; a field sent as `null` is set to
/// its empty value (`None`, 0, `false`, empty), whatever its type. Applied to an object the store does not have, the patch
/// stores what it carries (with defaults for the rest).
///
/// ```
/// use persist_core::{Patch, GuildId, UserId, model::Member};
/// let patch = Patch::member(
///     GuildId::new(1),
///     UserId::new(2),
///     serde_json::json!({ "nick": "new nick" }),
/// ).unwrap();
/// let before = Member { guild_id: GuildId::new(1), user_id: UserId::new(2), deaf: true, ..Default::default() };
/// let after: Member = patch.apply_to(Some(&before)).unwrap();
/// assert_eq!(after.nick.as_deref(), Some("new nick"));
/// assert!(after.deaf); // not sent, so kept
/// ```
///
/// The kinds updated on the hot path also take typed patches
/// ([`MemberPatch`], [`MessagePatch`], [`UserPatch`]), which are valid by
/// construction and apply without a JSON round trip.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    key: EntityKey,
    change: Change,
}

/// What a patch changes: fields by Discord's names, or a typed patch.
#[derive(Clone, Debug, PartialEq)]
enum Change {
    // Invariant: holds the key's id fields and makes a valid object alone;
    // never a member, user or message (those are always `Typed`).
    Fields(Map<String, Value>),
    Typed(Typed),
}

impl serde::Serialize for Patch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Patch", 2)?;
        s.serialize_field("key", &self.key)?;
        s.serialize_field("fields", &*self.fields())?;
        s.end()
    }
}

impl<'de> serde::Deserialize<'de> for Patch {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Raw {
            key: EntityKey,
            fields: Map<String, Value>,
        }
        // Deserialized patches are validated like built ones.
        let raw = Raw::deserialize(deserializer)?;
        Self::from_map(raw.key, raw.fields).map_err(serde::de::Error::custom)
    }
}

impl Patch {
    /// A patch of the object `key` with the JSON object `fields` (Discord's
    /// field names). The fields are checked now: a value of the wrong type is
    /// an [`Error::InvalidData`], so applying the patch later cannot fail.
    pub fn new(key: EntityKey, fields: Value) -> crate::Result<Self> {
        let fields = match fields {
            Value::Object(map) => map,
            other => {
                return Err(Error::InvalidData {
                    kind: key.kind(),
                    reason: format!("a patch must be a JSON object, got {other}"),
                });
            }
        };
        Self::from_map(key, fields)
    }

    /// Like [`Patch::new`] with the fields already as a map.
    pub fn from_map(key: EntityKey, fields: Map<String, Value>) -> Result<Self> {
        // The hot kinds are read into their typed patch now: applying it
        // later assigns fields instead of round-tripping the object through JSON.
        let mut fields = match Typed::from_fields(key, fields) {
            Ok(Ok(typed)) => {
                return Ok(Self {
                    key,
                    change: Change::Typed(typed),
                });
            }
            Ok(Err(fields)) => fields,
            Err(reason) => {
                return Err(Error::InvalidData {
                    kind: key.kind(),
                    reason: format!("patch of {key}: {reason}"),
                });
            }
        };
        for (name, value) in key.id_fields() {
            fields.insert(name.to_owned(), value);
        }
        let patch = Self {
            key,
            change: Change::Fields(fields),
        };
        // Validate: the fields alone must make an object of this kind.
        patch.apply_record(None)?;
        Ok(patch)
    }

    /// A patch of a guild.
    pub fn guild(id: GuildId, fields: Value) -> Result<Self> {
        Self::new(EntityKey::Guild(id), fields)
    }

    /// A patch of a channel or thread.
    pub fn channel(id: ChannelId, fields: Value) -> Result<Self> {
        Self::new(EntityKey::Channel(id), fields)
    }

    /// A patch of a message (MESSAGE_UPDATE). The channel is recorded so that
    /// a patch of a message the store does not have still lands in its channel.
    pub fn message(channel_id: ChannelId, id: MessageId, fields: Value) -> Result<Self> {
        let mut patch = Self::new(EntityKey::Message(id), fields)?;
        if let Change::Typed(Typed::Message(_, typed)) = &mut patch.change {
            typed.channel_id = Some(channel_id);
        }
        Ok(patch)
    }

    /// A typed patch of a member.
    pub fn from_member(guild_id: GuildId, user_id: crate::UserId, patch: MemberPatch) -> Self {
        Self {
            key: EntityKey::Member(guild_id, user_id),
            change: Change::Typed(Typed::Member(guild_id, user_id, Box::new(patch))),
        }
    }

    /// A typed patch of a user.
    pub fn from_user(id: crate::UserId, patch: UserPatch) -> Self {
        Self {
            key: EntityKey::User(id),
            change: Change::Typed(Typed::User(id, Box::new(patch))),
        }
    }

    /// A typed patch of a message in `channel_id`.
    pub fn from_message(channel_id: ChannelId, id: MessageId, mut patch: MessagePatch) -> Self {
        patch.channel_id = Some(channel_id);
        Self {
            key: EntityKey::Message(id),
            change: Change::Typed(Typed::Message(id, Box::new(patch))),
        }
    }

    /// A patch of a member (GUILD_MEMBER_UPDATE).
    pub fn member(guild_id: GuildId, user_id: crate::UserId, fields: Value) -> Result<Self> {
        Self::new(EntityKey::Member(guild_id, user_id), fields)
    }

    /// A patch of a user.
    pub fn user(id: crate::UserId, fields: Value) -> Result<Self> {
        Self::new(EntityKey::User(id), fields)
    }

    /// A patch of a presence (PRESENCE_UPDATE).
    pub fn presence(guild_id: GuildId, user_id: crate::UserId, fields: Value) -> Result<Self> {
        Self::new(EntityKey::Presence(guild_id, user_id), fields)
    }

    /// A patch of the bot's own user (USER_UPDATE).
    pub fn current_user(fields: Value) -> Result<Self> {
        Self::new(EntityKey::CurrentUser, fields)
    }

    /// The object patched.
    pub fn key(&self) -> EntityKey {
        self.key
    }

    /// Whether the patch nests within the stores' limit (see `nesting`),
    /// without building the field map of a typed patch.
    pub(crate) fn within_nesting_limit(&self) -> bool {
        match &self.change {
            Change::Fields(fields) => crate::nesting::within_limit(fields),
            Change::Typed(typed) => typed.within_nesting_limit(),
        }
    }

    /// The fields sent by Discord's names, with the object's ids.
    pub fn fields(&self) -> Cow<'_, Map<String, Value>> {
        match &self.change {
            Change::Fields(fields) => Cow::Borrowed(fields),
            Change::Typed(typed) => {
                let mut fields = typed.to_fields();
                for (name, value) in self.key.id_fields() {
                    fields.insert(name.to_owned(), value);
                }
                Cow::Owned(fields)
            }
        }
    }

    /// The guild named by the key or by a `guild_id` field.
    pub fn guild_id(&self) -> Option<GuildId> {
        self.key.guild_id().or_else(|| match &self.change {
            Change::Fields(fields) => fields
                .get("guild_id")
                .and_then(|v| GuildId::deserialize(v).ok()),
            Change::Typed(Typed::Message(_, m)) => m.guild_id.flatten(),
            Change::Typed(_) => None,
        })
    }

    /// The channel of a message patch.
    pub fn message_channel(&self) -> Option<ChannelId> {
        match &self.change {
            Change::Typed(Typed::Message(_, m)) => m.channel_id,
            _ => None,
        }
    }

    /// Removes fields (used by content-off rulesets).
    pub(crate) fn remove_fields(&mut self, names: &[&str]) {
        for name in names {
            match &mut self.change {
                Change::Fields(fields) => {
                    fields.remove(*name);
                }
                Change::Typed(typed) => typed.remove(name),
            }
        }
    }

    /// Folds a later patch of the same object into this one (later fields win).
    pub fn merge(&mut self, later: Patch) {
        debug_assert_eq!(self.key, later.key);
        let later = match (&mut self.change, later.change) {
            (Change::Typed(a), Change::Typed(b)) => match a.merge(b) {
                Ok(()) => return,
                Err(b) => Change::Typed(b),
            },
            (_, later) => later,
        };
        let later_fields = Patch {
            key: self.key,
            change: later,
        }
        .fields()
        .into_owned();
        let mut fields = self.fields().into_owned();
        fields.extend(later_fields);
        self.change = Change::Fields(fields);
    }

    /// Applies the patch to a typed object, or makes one from the fields alone.
    pub fn apply_to<T: Entity>(&self, current: Option<&T>) -> Result<T> {
        if let Change::Typed(_) = &self.change {
            let record = self.apply_record(current.cloned().map(Entity::into_record))?;
            return T::from_record(record).ok_or_else(|| Error::InvalidData {
                kind: self.key.kind(),
                reason: format!("patch of {} applied to another kind", self.key),
            });
        }
        let fields = self.fields();
        let mut object = match current {
            Some(current) => match serde_json::to_value(current) {
                Ok(Value::Object(map)) => map,
                Ok(_) | Err(_) => Map::new(),
            },
            None => Map::new(),
        };
        for (name, value) in fields.iter() {
            if value.is_null() {
                // Null sets the field to its empty value: every model reads
                // a missing field as its default (`None`, 0, false, empty),
                // which a null cannot be for the non-optional ones.
                object.remove(name);
            } else {
                object.insert(name.clone(), value.clone());
            }
        }
        serde_json::from_value(Value::Object(object)).map_err(|e| Error::InvalidData {
            kind: self.key.kind(),
            reason: format!("patch of {}: {e}", self.key),
        })
    }

    /// Applies the patch to a stored record of the key's kind (or to nothing).
    pub fn apply_record(&self, current: Option<Record>) -> Result<Record> {
        if let Change::Typed(typed) = &self.change {
            return Ok(typed.clone().apply(current));
        }
        macro_rules! typed {
            ($ty:ident) => {{
                let current = current.and_then($ty::from_record);
                self.apply_to::<$ty>(current.as_ref()).map(Record::$ty)
            }};
        }
        match self.key {
            EntityKey::CurrentUser => typed!(CurrentUser),
            EntityKey::Guild(_) => typed!(Guild),
            EntityKey::Channel(_) => typed!(Channel),
            EntityKey::Message(_) => typed!(Message),
            EntityKey::User(_) => typed!(User),
            EntityKey::Member(..) => typed!(Member),
            EntityKey::Role(_) => typed!(Role),
            EntityKey::Emoji(_) => typed!(Emoji),
            EntityKey::Sticker(_) => typed!(Sticker),
            EntityKey::VoiceState(..) => typed!(VoiceState),
            EntityKey::Presence(..) => typed!(Presence),
            EntityKey::StageInstance(_) => typed!(StageInstance),
            EntityKey::ScheduledEvent(_) => typed!(ScheduledEvent),
            EntityKey::ThreadMember(..) => typed!(ThreadMember),
        }
    }

    /// Applies the patch, consuming it (no copy of what it carries).
    pub fn into_record(self, current: Option<Record>) -> Result<Record> {
        match self.change {
            Change::Typed(typed) => Ok(typed.apply(current)),
            Change::Fields(_) => self.apply_record(current),
        }
    }

    /// Estimated heap bytes of what the patch carries.
    pub(crate) fn change_heap_bytes(&self) -> usize {
        match &self.change {
            Change::Fields(fields) => crate::heap_size::HeapSize::heap_bytes(fields),
            Change::Typed(typed) => typed.heap_bytes(),
        }
    }

    /// Applies the patch to a record in place; gives the patch back if it
    /// does not apply (an untyped patch whose fields do not fit the object).
    pub(crate) fn apply_in_place(self, record: &mut Record) -> std::result::Result<(), Patch> {
        match self.change {
            Change::Typed(typed) => {
                let current =
                    std::mem::replace(record, Record::CurrentUser(CurrentUser::default()));
                *record = typed.apply(Some(current));
                Ok(())
            }
            Change::Fields(_) => match self.apply_record(Some(record.clone())) {
                Ok(merged) => {
                    *record = merged;
                    Ok(())
                }
                Err(_) => Err(self),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;
    use serde_json::json;

    #[test]
    fn patch_keeps_unsent_fields_and_stores_what_it_carries() {
        let patch = Patch::message(
            ChannelId::new(7),
            MessageId::new(9),
            json!({"content": "edited", "brand_new_field": 5}),
        )
        .unwrap();
        let made: Message = patch.apply_to(None).unwrap();
        assert_eq!(made.id, MessageId::new(9));
        assert_eq!(made.channel_id, ChannelId::new(7));
        assert_eq!(made.content, "edited");
        assert_eq!(made.extra["brand_new_field"], json!(5));

        let stored = Message {
            id: MessageId::new(9),
            channel_id: ChannelId::new(7),
            content: "old".into(),
            pinned: true,
            ..Default::default()
        };
        let merged: Message = patch.apply_to(Some(&stored)).unwrap();
        assert!(merged.pinned);
        assert_eq!(merged.content, "edited");
    }

    #[test]
    fn patch_with_wrong_types_is_refused_up_front() {
        let err =
            Patch::member(GuildId::new(1), UserId::new(2), json!({"roles": "nope"})).unwrap_err();
        assert!(matches!(err, Error::InvalidData { .. }), "{err}");
        assert!(Patch::user(UserId::new(1), json!([1, 2])).is_err());
    }

    #[test]
    fn ids_in_the_fields_cannot_move_the_object() {
        let patch = Patch::user(UserId::new(1), json!({"id": "2", "username": "x"})).unwrap();
        let user: User = patch.apply_to(None).unwrap();
        assert_eq!(user.id, UserId::new(1));
    }
}
