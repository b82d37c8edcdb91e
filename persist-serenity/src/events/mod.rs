//! serenity's parsed events straight to mutations, for the events a shard
//! sees most (messages, reactions, members, presences, voice states, the
//! bot's own user): typed conversions with no JSON document in between.
//!
//! GUILD_MEMBERS_CHUNK is typed too: a chunk of 1,000 members read raw cost
//! the shard more than all the messages around it (measured by the replay).
//! Every other event (and every `Event::Unknown`) goes through the lenient
//! raw-JSON reader of `persist_core::gateway`; these conversions apply each
//! event as that reader applies its raw payload (tested in
//! `tests/typed_and_raw_agree.rs`). Sub-objects we keep as sent (embeds,
//! attachments, components, activities, ...) are converted through JSON,
//! and only when present.

pub(crate) mod channel;
pub(crate) mod guild;
pub(crate) mod member;
pub(crate) mod message;
pub(crate) mod user;

use persist_core::gateway::{Applied, Session};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serenity::model::event::Event;

use persist_core::{Ruleset, Timestamp};

/// Why a typed conversion failed (the event is then read raw, as a
/// fallback, and counted if that fails too).
pub(crate) type ConvertFailure = String;

/// Converts a parsed event if it is one of the typed ones, with its name;
/// `None` for the others. (serenity's `Event::name` re-serializes the whole
/// event to find it, so the names are spelled out here.)
pub(crate) fn typed(
    event: &Event,
    session: &Session,
    rules: &Ruleset,
) -> Option<(&'static str, Result<Applied, ConvertFailure>)> {
    use Applied::Mutations;
    let (name, mutations) = match event {
        Event::ChannelCreate(e) => (
            "CHANNEL_CREATE",
            channel::channel_upsert(&e.channel, session),
        ),
        Event::ChannelUpdate(e) => (
            "CHANNEL_UPDATE",
            channel::channel_upsert(&e.channel, session),
        ),
        Event::ThreadCreate(e) => ("THREAD_CREATE", channel::channel_upsert(&e.thread, session)),
        Event::GuildRoleCreate(e) => ("GUILD_ROLE_CREATE", guild::role_upsert(&e.role)),
        Event::GuildRoleUpdate(e) => ("GUILD_ROLE_UPDATE", guild::role_upsert(&e.role)),
        Event::MessageCreate(e) => ("MESSAGE_CREATE", message::create(&e.message)),
        Event::MessageUpdate(e) => ("MESSAGE_UPDATE", message::update(e)),
        Event::MessageDelete(e) => ("MESSAGE_DELETE", Ok(message::delete(e))),
        Event::MessageDeleteBulk(e) => ("MESSAGE_DELETE_BULK", Ok(message::delete_bulk(e))),
        Event::ReactionAdd(e) => (
            "MESSAGE_REACTION_ADD",
            message::reaction(&e.reaction, true, session),
        ),
        Event::ReactionRemove(e) => (
            "MESSAGE_REACTION_REMOVE",
            message::reaction(&e.reaction, false, session),
        ),
        Event::ReactionRemoveAll(e) => (
            "MESSAGE_REACTION_REMOVE_ALL",
            Ok(message::reaction_remove_all(e)),
        ),
        Event::ReactionRemoveEmoji(e) => (
            "MESSAGE_REACTION_REMOVE_EMOJI",
            Ok(message::reaction_remove_emoji(&e.reaction)),
        ),
        Event::GuildMemberAdd(e) => ("GUILD_MEMBER_ADD", member::add(&e.member)),
        Event::GuildMemberUpdate(e) => ("GUILD_MEMBER_UPDATE", member::update(e)),
        Event::GuildMemberRemove(e) => ("GUILD_MEMBER_REMOVE", Ok(member::remove(e))),
        Event::PresenceUpdate(e) => ("PRESENCE_UPDATE", member::presence(&e.presence, rules)),
        Event::GuildMembersChunk(e) => ("GUILD_MEMBERS_CHUNK", member::members_chunk(e, rules)),
        Event::VoiceStateUpdate(e) => ("VOICE_STATE_UPDATE", member::voice_state(&e.voice_state)),
        Event::UserUpdate(e) => ("USER_UPDATE", user::current_user_update(&e.current_user)),
        // Nothing a cache keeps: cost nothing.
        Event::TypingStart(_)
        | Event::InteractionCreate(_)
        | Event::VoiceServerUpdate(_)
        | Event::InviteCreate(_)
        | Event::InviteDelete(_)
        | Event::WebhookUpdate(_)
        | Event::IntegrationCreate(_)
        | Event::IntegrationUpdate(_)
        | Event::IntegrationDelete(_)
        | Event::GuildBanAdd(_)
        | Event::GuildBanRemove(_)
        | Event::GuildIntegrationsUpdate(_)
        | Event::GuildAuditLogEntryCreate(_)
        | Event::AutoModRuleCreate(_)
        | Event::AutoModRuleUpdate(_)
        | Event::AutoModRuleDelete(_)
        | Event::AutoModActionExecution(_)
        | Event::CommandPermissionsUpdate(_)
        | Event::EntitlementCreate(_)
        | Event::EntitlementUpdate(_)
        | Event::EntitlementDelete(_)
        | Event::MessagePollVoteAdd(_)
        | Event::MessagePollVoteRemove(_) => return Some(("", Ok(Applied::NotCached))),
        _ => return None,
    };
    Some((name, mutations.map(Mutations)))
}

/// A serenity timestamp as ours (to the microsecond, as Discord sends it).
pub(crate) fn timestamp(t: &serenity::model::Timestamp) -> Timestamp {
    Timestamp::from_unix_micros((t.unix_timestamp_nanos() / 1_000) as i64)
}

/// A sub-object we keep as Discord sent it, through JSON (serenity writes
/// Discord's shape; the nulls it writes for fields it did not get are left
/// out, as absent and null mean the same inside these objects).
pub(crate) fn json(value: &impl Serialize) -> Result<Value, ConvertFailure> {
    let mut value = serde_json::to_value(value).map_err(|e| format!("cannot re-serialize: {e}"))?;
    strip_nulls(&mut value, false);
    Ok(value)
}

/// A sub-object read into one of our models through JSON.
pub(crate) fn via_json<T: DeserializeOwned>(value: &impl Serialize) -> Result<T, ConvertFailure> {
    T::deserialize(json(value)?).map_err(|e| format!("cannot read back: {e}"))
}

/// Each of a list of sub-objects read into our models through JSON.
pub(crate) fn each_via_json<T: DeserializeOwned, S: Serialize>(
    values: &[S],
) -> Result<Vec<T>, ConvertFailure> {
    values.iter().map(via_json).collect()
}

/// Removes null fields from objects, nested ones included (all but the top
/// level when `keep_this_level`).
pub(crate) fn strip_nulls(value: &mut Value, keep_this_level: bool) {
    match value {
        Value::Object(fields) => {
            if !keep_this_level {
                fields.retain(|_, v| !v.is_null());
            }
            for v in fields.values_mut() {
                strip_nulls(v, false);
            }
        }
        Value::Array(items) => {
            for v in items {
                strip_nulls(v, false);
            }
        }
        _ => {}
    }
}

/// Puts a field serenity models and we do not into `extra`, when set.
pub(crate) fn keep<T: Serialize>(
    extra: &mut persist_core::model::Extra,
    name: &str,
    value: Option<&T>,
) -> Result<(), ConvertFailure> {
    if let Some(value) = value {
        extra.insert(name.to_owned(), json(value)?);
    }
    Ok(())
}
