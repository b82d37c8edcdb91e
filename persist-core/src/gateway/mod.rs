//! Raw gateway dispatches to mutations, leniently and without serenity.
//!
//! [`to_mutations`] reads one dispatch (its event name and its `d` object)
//! as Discord sends it, old shapes included, and returns the mutations that
//! bring the cache in step with it. Models take what they know and keep the
//! rest in `extra`, so a payload that a strict parser refuses (a field gone
//! since 2017, a type Discord added yesterday) is still applied. The files
//! are grouped by resource; each event has one function.

mod channel;
mod guild;
mod member;
mod message;
mod misc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Mutation, UserId};

/// What a session knows that its events do not repeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Session {
    /// The bot's own user id (from READY), to tell its own reactions apart.
    pub current_user: Option<UserId>,
}

/// A dispatch that could not be turned into mutations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event}: {reason}")]
pub struct GatewayError {
    /// The event name.
    pub event: String,
    /// Why.
    pub reason: String,
}

/// What [`to_mutations`] made of a dispatch.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// A cache-relevant event and its mutations (possibly none, e.g. RESUMED).
    Mutations(Vec<Mutation>),
    /// An event that carries nothing a cache keeps (TYPING_START, INTERACTION_CREATE, ...).
    NotCached,
}

/// Turns one dispatch into mutations.
///
/// ```
/// use persist_core::gateway::{to_mutations, Applied, Session};
/// let d = serde_json::json!({"guild_id": "1", "role_id": "2"});
/// let Applied::Mutations(m) = to_mutations("GUILD_ROLE_DELETE", &d, &Session::default()).unwrap() else { panic!() };
/// assert_eq!(m.len(), 1);
/// ```
pub fn to_mutations(event: &str, data: &Value, session: &Session) -> Result<Applied, GatewayError> {
    let handler: Handler = match event {
        "READY" => misc::ready,
        "RESUMED" => return Ok(Applied::Mutations(Vec::new())),
        "USER_UPDATE" => misc::user_update,
        "GUILD_CREATE" => guild::guild_create,
        "GUILD_UPDATE" => guild::guild_update,
        "GUILD_DELETE" => guild::guild_delete,
        "GUILD_ROLE_CREATE" | "GUILD_ROLE_UPDATE" => guild::role_upsert,
        "GUILD_ROLE_DELETE" => guild::role_delete,
        "GUILD_EMOJIS_UPDATE" => guild::emojis_update,
        "GUILD_STICKERS_UPDATE" => guild::stickers_update,
        "GUILD_MEMBER_ADD" => member::member_add,
        "GUILD_MEMBER_UPDATE" => member::member_update,
        "GUILD_MEMBER_REMOVE" => member::member_remove,
        "GUILD_MEMBERS_CHUNK" => member::members_chunk,
        "PRESENCE_UPDATE" => member::presence_update,
        "VOICE_STATE_UPDATE" => member::voice_state_update,
        "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "THREAD_CREATE" => channel::channel_upsert,
        "THREAD_UPDATE" => channel::thread_update,
        "CHANNEL_DELETE" | "THREAD_DELETE" => channel::channel_delete,
        "CHANNEL_PINS_UPDATE" => channel::pins_update,
        "THREAD_LIST_SYNC" => channel::thread_list_sync,
        "THREAD_MEMBER_UPDATE" => channel::thread_member_update,
        "THREAD_MEMBERS_UPDATE" => channel::thread_members_update,
        "MESSAGE_CREATE" => message::message_create,
        "MESSAGE_UPDATE" => message::message_update,
        "MESSAGE_DELETE" => message::message_delete,
        "MESSAGE_DELETE_BULK" => message::message_delete_bulk,
        "MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE" => message::reaction,
        "MESSAGE_REACTION_REMOVE_ALL" => message::reaction_remove_all,
        "MESSAGE_REACTION_REMOVE_EMOJI" => message::reaction_remove_emoji,
        "STAGE_INSTANCE_CREATE" | "STAGE_INSTANCE_UPDATE" => misc::stage_instance_upsert,
        "STAGE_INSTANCE_DELETE" => misc::stage_instance_delete,
        "GUILD_SCHEDULED_EVENT_CREATE" | "GUILD_SCHEDULED_EVENT_UPDATE" => {
            misc::scheduled_event_upsert
        }
        "GUILD_SCHEDULED_EVENT_DELETE" => misc::scheduled_event_delete,
        "GUILD_SCHEDULED_EVENT_USER_ADD" | "GUILD_SCHEDULED_EVENT_USER_REMOVE" => {
            misc::scheduled_event_user
        }
        _ => return Ok(Applied::NotCached),
    };
    let ctx = Ctx { event, session };
    ctx.object(data)?;
    let mutations = handler(&ctx, data)?;
    check_ids(event, &mutations)?;
    Ok(Applied::Mutations(mutations))
}

/// Refuses an event that would store an object with id 0: a payload missing
/// an id reads as 0, and no Discord object has it.
pub fn check_ids(event: &str, mutations: &[Mutation]) -> Result<(), GatewayError> {
    let zero = mutations.iter().find_map(|m| match m {
        Mutation::Upsert(record) => Some(record.key()).filter(crate::EntityKey::has_zero_id),
        Mutation::UpsertMany(records) => records
            .iter()
            .map(|r| r.key())
            .find(crate::EntityKey::has_zero_id),
        Mutation::Patch(patch) => Some(patch.key()).filter(crate::EntityKey::has_zero_id),
        _ => None,
    });
    match zero {
        Some(key) => Err(GatewayError {
            event: event.to_owned(),
            reason: format!("an object without an id ({key}): refused"),
        }),
        None => Ok(()),
    }
}

/// Turns one cache-relevant event's payload into mutations.
type Handler = fn(&Ctx<'_>, &Value) -> Result<Vec<Mutation>, GatewayError>;

/// The event being read, for errors.
pub(crate) struct Ctx<'a> {
    event: &'a str,
    session: &'a Session,
}

impl Ctx<'_> {
    fn error(&self, reason: impl Into<String>) -> GatewayError {
        GatewayError {
            event: self.event.to_owned(),
            reason: reason.into(),
        }
    }

    /// Checks the payload is an object (every cache-relevant payload is).
    fn object(&self, data: &Value) -> Result<(), GatewayError> {
        match data {
            Value::Object(_) => Ok(()),
            other => Err(self.error(format!(
                "the payload is not a JSON object: {}",
                short(other)
            ))),
        }
    }

    /// A required snowflake field.
    fn id<T: DeserializeOwned>(&self, data: &Value, field: &str) -> Result<T, GatewayError> {
        let value = data
            .get(field)
            .filter(|v| !v.is_null())
            .ok_or_else(|| self.error(format!("missing `{field}`")))?;
        T::deserialize(value).map_err(|e| self.error(format!("`{field}`: {e}")))
    }

    /// An optional snowflake field (absent or null is `None`; garbage is an error).
    fn opt_id<T: DeserializeOwned>(
        &self,
        data: &Value,
        field: &str,
    ) -> Result<Option<T>, GatewayError> {
        match data.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|e| self.error(format!("`{field}`: {e}"))),
        }
    }

    /// A model read leniently from a JSON value.
    fn model<T: DeserializeOwned>(&self, value: &Value, what: &str) -> Result<T, GatewayError> {
        T::deserialize(value).map_err(|e| self.error(format!("{what}: {e}")))
    }
}

/// A copy of an object without some of its fields.
pub(crate) fn without(value: &Value, fields: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !fields.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The elements of an array field (absent or null is empty).
pub(crate) fn array<'v>(data: &'v Value, field: &str) -> &'v [Value] {
    data.get(field)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}
