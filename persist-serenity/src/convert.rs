//! Conversions between serenity's ids and models and persist-core's.
//!
//! Ids convert losslessly both ways ([`IntoCore`], [`IntoSerenity`]). Models
//! convert through the JSON shape both follow (Discord's), so a field one
//! side knows and the other does not survives in the core model's `extra`.
//! A few core models are split where serenity nests (a core member names its
//! user by id), and [`Convert`] says how each pair reshapes.

use persist_core::GuildId;
use persist_core::model as core;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serenity::model as s;

/// A model that could not be converted (its fields did not fit the other side).
#[derive(Debug, thiserror::Error)]
#[error("cannot convert {what}: {source}")]
pub struct ConvertError {
    /// The type being converted to.
    pub what: &'static str,
    /// Why.
    #[source]
    pub source: serde_json::Error,
}

/// A persist-core id from a serenity id.
pub trait IntoCore {
    /// persist-core's id type.
    type Core;
    /// Converts (losslessly).
    fn into_core(self) -> Self::Core;
}

/// A serenity id from a persist-core id.
pub trait IntoSerenity {
    /// serenity's id type.
    type Serenity;
    /// Converts (losslessly).
    fn into_serenity(self) -> Self::Serenity;
}

macro_rules! id_pairs {
    ($($name:ident),* $(,)?) => {$(
        impl IntoCore for s::id::$name {
            type Core = persist_core::$name;
            fn into_core(self) -> Self::Core {
                persist_core::$name::new(self.get())
            }
        }
        impl IntoSerenity for persist_core::$name {
            type Serenity = s::id::$name;
            fn into_serenity(self) -> Self::Serenity {
                s::id::$name::new(self.get())
            }
        }
    )*};
}

id_pairs!(
    GuildId,
    ChannelId,
    MessageId,
    UserId,
    RoleId,
    EmojiId,
    StickerId,
    StickerPackId,
    ApplicationId,
    WebhookId,
    AttachmentId,
    StageInstanceId,
    ScheduledEventId,
    ForumTagId,
    TargetId,
    SkuId,
);

/// A serenity model with a persist-core counterpart.
///
/// ```
/// use persist_serenity::convert::{to_core, to_serenity};
/// let user: serenity::model::user::User = serde_json::from_value(serde_json::json!({
///     "id": "80351110224678912", "username": "Nelly", "discriminator": "1337", "avatar": null
/// })).unwrap();
/// let core: persist_serenity::model::User = to_core(&user, None).unwrap();
/// assert_eq!(core.username, "Nelly");
/// let back: serenity::model::user::User = to_serenity(&core).unwrap();
/// assert_eq!(back.id, user.id);
/// ```
pub trait Convert: Serialize + DeserializeOwned {
    /// The persist-core model.
    type Core: Serialize + DeserializeOwned;
    /// Whether the core model carries the guild id serenity may leave out.
    const GUILD_SCOPED: bool = false;
    /// Reshapes serenity's JSON into the core model's.
    fn core_shape(_json: &mut Map<String, Value>) {}
    /// Reshapes the core model's JSON into serenity's.
    fn serenity_shape(_json: &mut Map<String, Value>) {}
}

/// Pairs that differ only in fields core leaves out at their default:
/// `false` ones, empty lists, zeros.
macro_rules! plain_pairs {
    ($($serenity:ty => $core:ty, $scoped:expr, [$($f:literal),*], [$($e:literal),*], [$($z:literal),*];)*) => {$(
        impl Convert for $serenity {
            type Core = $core;
            const GUILD_SCOPED: bool = $scoped;
            fn serenity_shape(json: &mut Map<String, Value>) {
                defaults(json, &[$($f),*], &[$($e),*], &[$($z),*]);
            }
        }
    )*};
}

plain_pairs!(
    s::user::User => core::User, false, [], [], [];
    s::guild::Emoji => core::Emoji, true, ["animated", "managed", "require_colons", "available"], ["roles"], [];
    s::sticker::Sticker => core::Sticker, false, ["available"], [], ["type", "format_type"];
    s::channel::StageInstance => core::StageInstance, false, ["discoverable_disabled"], [], ["privacy_level"];
    s::guild::ScheduledEvent => core::ScheduledEvent, false, [], [], ["privacy_level", "status", "entity_type"];
);

/// Puts back fields the core model leaves out at their default (it reads
/// them back as the default) but serenity requires.
fn defaults(json: &mut Map<String, Value>, falses: &[&str], empties: &[&str], zeros: &[&str]) {
    for (fields, value) in [
        (falses, Value::Bool(false)),
        (empties, Value::Array(Vec::new())),
        (zeros, Value::from(0)),
    ] {
        for field in fields {
            json.entry(*field).or_insert_with(|| value.clone());
        }
    }
}

impl Convert for s::channel::Message {
    type Core = core::Message;
    fn serenity_shape(json: &mut Map<String, Value>) {
        defaults(
            json,
            &["tts", "mention_everyone", "pinned"],
            &["mentions", "mention_roles", "attachments", "embeds"],
            // Discord always sends `flags`; 0 is the default core leaves out.
            &["type", "flags"],
        );
    }
}

impl Convert for s::channel::GuildChannel {
    type Core = core::Channel;
    fn serenity_shape(json: &mut Map<String, Value>) {
        defaults(json, &[], &["permission_overwrites"], &["type", "position"]);
    }
}

impl Convert for s::guild::Role {
    type Core = core::Role;
    const GUILD_SCOPED: bool = true;
    fn serenity_shape(json: &mut Map<String, Value>) {
        defaults(
            json,
            &["hoist", "managed", "mentionable"],
            &[],
            &["color", "position"],
        );
        json.entry("permissions")
            .or_insert_with(|| Value::from("0"));
        // serenity 0.12.5 requires `colors`; the plain color is its primary.
        let color = json.get("color").cloned().unwrap_or(Value::from(0));
        json.entry("colors")
            .or_insert_with(|| serde_json::json!({"primary_color": color}));
    }
}

/// Moves `user.id` to `user_id` (core keeps users apart from what names them).
fn user_to_user_id(json: &mut Map<String, Value>) {
    if let Some(user) = json.remove("user") {
        let id = user.get("id").cloned().unwrap_or(Value::Null);
        json.insert("user_id".into(), id);
    }
}

/// Rebuilds a `user` object holding just the id from `user_id`.
fn user_id_to_user(json: &mut Map<String, Value>) {
    if let Some(id) = json.remove("user_id") {
        json.insert("user".into(), serde_json::json!({"id": id}));
    }
}

impl Convert for s::guild::Member {
    type Core = core::Member;
    const GUILD_SCOPED: bool = true;
    fn core_shape(json: &mut Map<String, Value>) {
        user_to_user_id(json);
    }
    fn serenity_shape(json: &mut Map<String, Value>) {
        // serenity wants a whole user; see `member_to_serenity`.
        json.remove("user_id");
        defaults(json, &["deaf", "mute"], &["roles"], &["flags"]);
    }
}

impl Convert for s::gateway::Presence {
    type Core = core::Presence;
    const GUILD_SCOPED: bool = true;
    fn core_shape(json: &mut Map<String, Value>) {
        user_to_user_id(json);
    }
    fn serenity_shape(json: &mut Map<String, Value>) {
        user_id_to_user(json);
    }
}

impl Convert for s::voice::VoiceState {
    type Core = core::VoiceState;
    const GUILD_SCOPED: bool = true;
    fn core_shape(json: &mut Map<String, Value>) {
        // The member is stored on its own; the voice state names the user.
        json.remove("member");
    }
}

impl Convert for s::guild::ThreadMember {
    type Core = core::ThreadMember;
    fn core_shape(json: &mut Map<String, Value>) {
        json.remove("member");
    }
}

fn error<T>(source: serde_json::Error) -> ConvertError {
    ConvertError {
        what: std::any::type_name::<T>(),
        source,
    }
}

fn object<T>(value: &impl Serialize) -> Result<Map<String, Value>, ConvertError> {
    match serde_json::to_value(value).map_err(error::<T>)? {
        Value::Object(map) => Ok(map),
        other => Err(error::<T>(serde::de::Error::custom(format!(
            "expected an object, got {other}"
        )))),
    }
}

/// Converts a serenity model into persist-core's. `guild_id` fills in the
/// guild for models serenity may leave it out of (roles, emojis, members,
/// presences, voice states); it is ignored when the model has its own.
pub fn to_core<S: Convert>(value: &S, guild_id: Option<GuildId>) -> Result<S::Core, ConvertError> {
    let mut json = object::<S::Core>(value)?;
    S::core_shape(&mut json);
    if S::GUILD_SCOPED {
        let missing = json
            .get("guild_id")
            .is_none_or(|g| g.is_null() || g == "0" || g == 0);
        if let (true, Some(guild_id)) = (missing, guild_id) {
            json.insert("guild_id".into(), Value::String(guild_id.get().to_string()));
        }
    }
    // serenity writes absent options as null; core reads null as absent.
    json.retain(|_, v| !v.is_null());
    serde_json::from_value(Value::Object(json)).map_err(error::<S::Core>)
}

/// Converts a persist-core model into serenity's.
pub fn to_serenity<S: Convert>(value: &S::Core) -> Result<S, ConvertError> {
    let mut json = object::<S>(value)?;
    S::serenity_shape(&mut json);
    serde_json::from_value(Value::Object(json)).map_err(error::<S>)
}

/// Converts a core member and its user into serenity's member (which nests
/// the user).
pub fn member_to_serenity(
    member: &core::Member,
    user: &core::User,
) -> Result<s::guild::Member, ConvertError> {
    let mut json = object::<s::guild::Member>(member)?;
    s::guild::Member::serenity_shape(&mut json);
    json.insert("user".into(), Value::Object(object::<s::user::User>(user)?));
    serde_json::from_value(Value::Object(json)).map_err(error::<s::guild::Member>)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_discord::payload as p;
    use serde_json::json;

    #[test]
    fn ids_convert_both_ways_losslessly() {
        for raw in [1, 80_351_110_224_678_912, u64::MAX >> 1] {
            let serenity_id = s::id::MessageId::new(raw);
            let core: persist_core::MessageId = serenity_id.into_core();
            assert_eq!(core.get(), raw);
            assert_eq!(core.into_serenity(), serenity_id);
            let guild = persist_core::GuildId::new(raw);
            assert_eq!(guild.into_serenity().into_core(), guild);
            let user = s::id::UserId::new(raw);
            assert_eq!(user.into_core().into_serenity(), user);
        }
    }

    /// serenity -> core -> serenity gives back what serenity had, and
    /// core -> serenity -> core gives back the core model.
    fn round_trip<S: Convert + std::fmt::Debug>(discord: Value, guild: Option<GuildId>)
    where
        S::Core: PartialEq + std::fmt::Debug,
    {
        let original: S = serde_json::from_value(discord).expect("serenity parses the payload");
        let core = to_core(&original, guild).expect("to core");
        let back: S = to_serenity(&core).expect("to serenity");
        let json = |v: &S| serde_json::to_value(v).unwrap();
        assert_eq!(
            json(&back),
            json(&original),
            "{}",
            std::any::type_name::<S>()
        );
        let again = to_core(&back, guild).expect("to core again");
        assert_eq!(again, core, "{}", std::any::type_name::<S>());
    }

    #[test]
    fn models_convert_both_ways() {
        let g = GuildId::new(p::snowflake(1_700_000_000_000, 1));
        let (gid, c, m, u) = (g.get(), 11, p::snowflake(1_700_000_100_000, 2), 5);
        round_trip::<s::user::User>(p::user(u), None);
        round_trip::<s::channel::Message>(p::message_create(m, c, gid, u, "hello"), None);
        round_trip::<s::channel::GuildChannel>(p::channel(c, gid, "general", 0, 1), None);
        round_trip::<s::channel::GuildChannel>(p::channel(12, gid, "voice", 2, 2), None);
        round_trip::<s::guild::Role>(p::role(21, "mods", 3), Some(g));
        round_trip::<s::guild::Emoji>(p::emoji(31, "ferris"), Some(g));
        round_trip::<s::sticker::Sticker>(
            json!({"id": "41", "name": "s", "tags": "x", "type": 2, "format_type": 1,
                "description": null, "available": true, "guild_id": gid.to_string()}),
            None,
        );
        round_trip::<s::channel::StageInstance>(
            json!({"id": "51", "guild_id": gid.to_string(), "channel_id": "12", "topic": "t",
                "privacy_level": 2, "discoverable_disabled": false,
                "guild_scheduled_event_id": null}),
            None,
        );
        round_trip::<s::guild::ScheduledEvent>(
            json!({"id": "61", "guild_id": gid.to_string(), "channel_id": null, "creator_id": "5",
                "name": "party", "description": "d", "scheduled_start_time": p::iso8601(1_700_000_000_000),
                "scheduled_end_time": p::iso8601(1_700_003_600_000), "privacy_level": 2,
                "status": 1, "entity_type": 3, "entity_id": null,
                "entity_metadata": {"location": "here"}, "user_count": 3}),
            None,
        );
    }

    #[test]
    fn guild_scoped_models_take_the_guild_they_are_given() {
        let g = GuildId::new(77);
        let emoji: s::guild::Emoji = serde_json::from_value(p::emoji(31, "ferris")).unwrap();
        let core = to_core(&emoji, Some(g)).unwrap();
        assert_eq!(core.guild_id, g);
        assert_eq!(core.name.as_deref(), Some("ferris"));
    }

    #[test]
    fn members_split_and_join_their_user() {
        let mut discord = p::member(5, &[21], 1_700_000_000_000);
        discord["guild_id"] = json!("77");
        let member: s::guild::Member = serde_json::from_value(discord).unwrap();
        let core = to_core(&member, None).unwrap();
        assert_eq!(core.user_id, persist_core::UserId::new(5));
        assert_eq!(core.guild_id, GuildId::new(77));
        assert_eq!(core.roles, vec![persist_core::RoleId::new(21)]);
        let user = to_core(&member.user, None).unwrap();
        let back = member_to_serenity(&core, &user).unwrap();
        assert_eq!(
            serde_json::to_value(&back).unwrap(),
            serde_json::to_value(&member).unwrap()
        );
    }

    #[test]
    fn a_model_that_does_not_fit_is_an_error_not_a_panic() {
        let user = core::User {
            id: persist_core::UserId::new(5),
            ..Default::default()
        };
        // A core message without channel or timestamp is not a serenity message.
        let message = core::Message {
            author: user,
            ..Default::default()
        };
        let result: Result<s::channel::Message, _> = to_serenity(&message);
        if let Err(e) = result {
            assert!(e.to_string().contains("cannot convert"), "{e}");
        }
    }
}
