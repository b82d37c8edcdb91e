//! Typed ids: one newtype per kind of Discord object, over the 64-bit snowflake.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Timestamp;

/// Milliseconds between the Unix epoch and Discord's epoch (2015-01-01T00:00:00Z).
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Milliseconds since the Unix epoch at which a snowflake was created.
fn snowflake_unix_ms(raw: u64) -> u64 {
    (raw >> 22) + DISCORD_EPOCH_MS
}

/// The smallest snowflake created at or after `unix_ms` (used for age cut-offs).
fn snowflake_from_unix_ms(unix_ms: u64) -> u64 {
    unix_ms.saturating_sub(DISCORD_EPOCH_MS) << 22
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Serialized as a decimal string in human-readable formats (as Discord
        /// sends it) and as a plain `u64` in binary ones; a JSON number is also
        /// accepted.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u64);

        impl $name {
            /// Wraps a raw snowflake.
            ///
            /// ```
            #[doc = concat!("let id = persist_core::", stringify!($name), "::new(175928847299117063);")]
            /// assert_eq!(id.get(), 175928847299117063);
            /// ```
            pub const fn new(raw: u64) -> Self {
                Self(raw)
            }

            /// The raw snowflake.
            pub const fn get(self) -> u64 {
                self.0
            }

            /// When Discord created the object this id names (encoded in the snowflake).
            ///
            /// ```
            #[doc = concat!("let id = persist_core::", stringify!($name), "::new(175928847299117063);")]
            /// assert_eq!(id.created_at().to_string(), "2016-04-30T11:18:25.796Z");
            /// ```
            pub fn created_at(self) -> Timestamp {
                Timestamp::from_unix_millis(snowflake_unix_ms(self.0) as i64)
            }

            /// The smallest id Discord could have created at `time`: every object
            /// created earlier has a smaller id.
            pub fn first_at(time: SystemTime) -> Self {
                let ms = time
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_millis();
                Self(snowflake_from_unix_ms(u64::try_from(ms).unwrap_or(u64::MAX)))
            }
        }

        impl From<u64> for $name {
            fn from(raw: u64) -> Self {
                Self(raw)
            }
        }

        impl From<$name> for u64 {
            fn from(id: $name) -> u64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_snowflake(self.0, serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_snowflake(deserializer).map(Self)
            }
        }
    };
}

id_type!(
    /// The id of a guild (a Discord "server").
    GuildId
);
id_type!(
    /// The id of a channel of any kind, threads included.
    ChannelId
);
id_type!(
    /// The id of a message.
    MessageId
);
id_type!(
    /// The id of a user (also the id of a member within a guild).
    UserId
);
id_type!(
    /// The id of a role.
    RoleId
);
id_type!(
    /// The id of a custom emoji.
    EmojiId
);
id_type!(
    /// The id of a sticker.
    StickerId
);
id_type!(
    /// The id of a sticker pack.
    StickerPackId
);
id_type!(
    /// The id of an application (bot).
    ApplicationId
);
id_type!(
    /// The id of a webhook.
    WebhookId
);
id_type!(
    /// The id of an attachment.
    AttachmentId
);
id_type!(
    /// The id of a stage instance.
    StageInstanceId
);
id_type!(
    /// The id of a guild scheduled event.
    ScheduledEventId
);
id_type!(
    /// The id of a forum or media channel tag.
    ForumTagId
);
id_type!(
    /// The id a permission overwrite targets: a role or a user.
    TargetId
);
id_type!(
    /// The id of a SKU (used by avatar decorations and premium features).
    SkuId
);

fn serialize_snowflake<S: Serializer>(raw: u64, serializer: S) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        serializer.collect_str(&raw)
    } else {
        serializer.serialize_u64(raw)
    }
}

fn deserialize_snowflake<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct SnowflakeVisitor;

    impl Visitor<'_> for SnowflakeVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a snowflake as a decimal string or an unsigned integer")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("negative snowflake {v}")))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.parse()
                .map_err(|_| E::custom(format!("invalid snowflake {v:?}")))
        }
    }

    if deserializer.is_human_readable() {
        deserializer.deserialize_any(SnowflakeVisitor)
    } else {
        deserializer.deserialize_u64(SnowflakeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_strings_and_accept_numbers() {
        let id = GuildId::new(81384788765712384);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"81384788765712384\"");
        let back: GuildId = serde_json::from_str("\"81384788765712384\"").unwrap();
        assert_eq!(back, id);
        let number: GuildId = serde_json::from_str("81384788765712384").unwrap();
        assert_eq!(number, id);
        assert!(serde_json::from_str::<GuildId>("\"abc\"").is_err());
        assert!(serde_json::from_str::<GuildId>("-1").is_err());
    }

    #[test]
    fn creation_time_round_trips_through_first_at() {
        let id = MessageId::new(175928847299117063);
        assert_eq!(id.created_at().unix_millis(), 1462015105796);
        let first = MessageId::first_at(UNIX_EPOCH + Duration::from_millis(1462015105796));
        assert!(first <= id);
        assert_eq!(first.created_at(), id.created_at());
        // Before Discord's epoch saturates at zero instead of wrapping.
        assert_eq!(MessageId::first_at(UNIX_EPOCH).get(), 0);
    }
}
