//! Partial updates: the fields an update event sent, merged over what is stored.

use serde_json::{Map, Value};

use crate::entity::{Entity, EntityKey, Record};
use crate::model::{
    Channel, CurrentUser, Emoji, Guild, Member, Message, Presence, Role, ScheduledEvent,
    StageInstance, Sticker, ThreadMember, User, VoiceState,
};
use crate::{ChannelId, Error, GuildId, MessageId, Result};

/// A partial update of one object.
///
/// Fields that were not sent are never wiped; a field sent as `null` is set to
/// its empty value. Applied to an object the store does not have, the patch
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
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Patch {
    key: EntityKey,
    fields: Map<String, Value>,
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
    pub fn from_map(key: EntityKey, mut fields: Map<String, Value>) -> Result<Self> {
        for (name, value) in key.id_fields() {
            fields.insert(name.to_owned(), value);
        }
        let patch = Self { key, fields };
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
        patch
            .fields
            .insert("channel_id".into(), Value::String(channel_id.to_string()));
        Ok(patch)
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

    /// The fields sent, with the object's ids.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The guild named by the key or by a `guild_id` field.
    pub fn guild_id(&self) -> Option<GuildId> {
        self.key.guild_id().or_else(|| {
            self.fields
                .get("guild_id")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
        })
    }

    /// Removes fields (used by content-off rulesets).
    pub(crate) fn remove_fields(&mut self, names: &[&str]) {
        for name in names {
            self.fields.remove(*name);
        }
    }

    /// Folds a later patch of the same object into this one (later fields win).
    pub fn merge(&mut self, later: Patch) {
        debug_assert_eq!(self.key, later.key);
        self.fields.extend(later.fields);
    }

    /// Applies the patch to a typed object, or makes one from the fields alone.
    pub fn apply_to<T: Entity>(&self, current: Option<&T>) -> Result<T> {
        let mut object = match current {
            Some(current) => match serde_json::to_value(current) {
                Ok(Value::Object(map)) => map,
                Ok(_) | Err(_) => Map::new(),
            },
            None => Map::new(),
        };
        for (name, value) in &self.fields {
            object.insert(name.clone(), value.clone());
        }
        serde_json::from_value(Value::Object(object)).map_err(|e| Error::InvalidData {
            kind: self.key.kind(),
            reason: format!("patch of {}: {e}", self.key),
        })
    }

    /// Applies the patch to a stored record of the key's kind (or to nothing).
    pub fn apply_record(&self, current: Option<Record>) -> Result<Record> {
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
