//! Conversions between persist-core's ids and models and serenity's.
//!
//! Ids convert losslessly both ways ([`IntoCore`], [`IntoSerenity`]).
//! Stored models become serenity's through [`ToSerenity`], field by field.
//! serenity marks its models `#[non_exhaustive]`; the top-level ones
//! (`User`, `Member`, `Role`, `GuildChannel`, `Message`, `Guild`) implement
//! `Default`, so they are built here in typed code. Some nested ones
//! (`Attachment`, `Embed`, `MessageReaction`, `Emoji`, `Sticker`, ...) have
//! no constructor outside serenity at all: those, and the fields serenity
//! models that the core model keeps in `extra` (a message's `poll`, a role's
//! `colors`, ...), are read with serde from the value stored, which is
//! Discord's shape, as serenity's are.
//!
//! ```
//! use persist_serenity::convert::{IntoCore, IntoSerenity, ToSerenity};
//! use persist_serenity::persist_core::{model, UserId};
//! let user = model::User {
//!     id: UserId::new(80351110224678912),
//!     username: "nelly".into(),
//!     global_name: Some("Nelly".into()),
//!     ..Default::default()
//! };
//! let serenity_user = user.to_serenity()?;
//! assert_eq!(serenity_user.display_name(), "Nelly");
//! assert_eq!(serenity_user.id.into_core(), user.id);
//! assert_eq!(user.id.into_serenity()?, serenity_user.id);
//! # Ok::<(), persist_serenity::Error>(())
//! ```

mod channel;
mod guild;
mod message;
mod user;

pub use guild::{GuildParts, guild_to_serenity};
pub use user::member_to_serenity;

use persist_core::model::Extra;
use persist_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serenity::model as s;

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
    /// Converts (losslessly); [`Error::Conversion`] for 0, which serenity's
    /// ids cannot hold (a payload may carry it, Discord never does).
    fn into_serenity(self) -> Result<Self::Serenity>;
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
            fn into_serenity(self) -> Result<Self::Serenity> {
                id::<s::id::$name, _>(self.get())
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

/// A stored model as serenity's.
pub trait ToSerenity {
    /// serenity's model.
    type Serenity;
    /// Converts; [`Error::Conversion`] when a value does not fit
    /// serenity's type.
    fn to_serenity(&self) -> Result<Self::Serenity>;
}

/// The error of a conversion to `T`.
fn failed<T>(reason: impl std::fmt::Display) -> Error {
    Error::Conversion {
        to: short_name::<T>(),
        reason: reason.to_string(),
    }
}

/// `Message` rather than `serenity::model::channel::message::Message`.
fn short_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

/// A serenity id of `T`'s; serenity's ids are never 0.
fn id<T, I: From<std::num::NonZeroU64>>(raw: u64) -> Result<I> {
    std::num::NonZeroU64::new(raw)
        .map(I::from)
        .ok_or_else(|| failed::<T>(format!("id 0 in a {}", short_name::<I>())))
}

/// A number into a narrower type of `T`'s field `field`.
fn narrow<T, N: TryFrom<W>, W: Copy + std::fmt::Display>(field: &str, value: W) -> Result<N> {
    N::try_from(value).map_err(|_| failed::<T>(format!("{field} {value} is out of range")))
}

fn timestamp<T>(t: persist_core::Timestamp) -> Result<s::Timestamp> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.unix_micros()) * 1000)
        .map(s::Timestamp::from)
        .map_err(|e| failed::<T>(format!("timestamp {t}: {e}")))
}

fn timestamps<T>(t: Option<persist_core::Timestamp>) -> Result<Option<s::Timestamp>> {
    t.map(timestamp::<T>).transpose()
}

fn image_hash<T>(hash: Option<&String>) -> Result<Option<s::misc::ImageHash>> {
    hash.map(|h| {
        h.parse()
            .map_err(|e| failed::<T>(format!("image hash {h:?}: {e}")))
    })
    .transpose()
}

/// A nested value as serenity's type `L`, which serenity gives no
/// constructor for (see the module docs), read from the stored shape.
fn leaf<T, L: DeserializeOwned>(value: &impl Serialize) -> Result<L> {
    filled::<T, L>(value, &[])
}

fn leaves<T, L: DeserializeOwned>(values: &[impl Serialize]) -> Result<Vec<L>> {
    values.iter().map(leaf::<T, L>).collect()
}

/// Like [`leaf`], putting back the fields serenity requires that the core
/// model leaves out at their default (a `false`, a zero, an empty text).
fn filled<T, L: DeserializeOwned>(
    value: &impl Serialize,
    defaults: &[(&str, serde_json::Value)],
) -> Result<L> {
    let mut value = serde_json::to_value(value)
        .map_err(|e| failed::<T>(format!("{}: {e}", short_name::<L>())))?;
    if let Some(fields) = value.as_object_mut() {
        for (name, default) in defaults {
            fields.entry(*name).or_insert_with(|| default.clone());
        }
    }
    L::deserialize(value).map_err(|e| failed::<T>(format!("{}: {e}", short_name::<L>())))
}

/// A field serenity models that the core model keeps in `extra`.
fn from_extra<T, F: DeserializeOwned>(extra: &Extra, name: &str) -> Result<Option<F>> {
    match extra.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => F::deserialize(value)
            .map(Some)
            .map_err(|e| failed::<T>(format!("{name}: {e}"))),
    }
}

#[cfg(test)]
mod tests;
