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

macro_rules! plain_pairs {
    ($($serenity:ty => $core:ty, $scoped:expr;)*) => {$(
        impl Convert for $serenity {
            type Core = $core;
            const GUILD_SCOPED: bool = $scoped;
        }
    )*};
}

plain_pairs!(
    s::user::User => core::User, false;
    s::channel::Message => core::Message, false;
    s::channel::GuildChannel => core::Channel, false;
    s::guild::Role => core::Role, true;
    s::guild::Emoji => core::Emoji, true;
    s::sticker::Sticker => core::Sticker, false;
    s::channel::StageInstance => core::StageInstance, false;
    s::guild::ScheduledEvent => core::ScheduledEvent, false;
);

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
    json.remove("user_id");
    json.insert("user".into(), Value::Object(object::<s::user::User>(user)?));
    serde_json::from_value(Value::Object(json)).map_err(error::<s::guild::Member>)
}
