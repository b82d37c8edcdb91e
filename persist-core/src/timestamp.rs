//! A point in time as Discord sends it (ISO 8601 / RFC 3339).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant with microsecond precision, as Discord's timestamps carry.
///
/// Serialized as an RFC 3339 string in human-readable formats and as
/// microseconds since the Unix epoch in binary ones.
///
/// ```
/// use persist_core::Timestamp;
/// let t: Timestamp = "2024-02-27T19:50:51.701000+00:00".parse().unwrap();
/// assert_eq!(t.unix_millis(), 1709063451701);
/// assert_eq!(t.to_string(), "2024-02-27T19:50:51.701Z");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// The text could not be read as an RFC 3339 timestamp.
#[derive(Debug, thiserror::Error)]
#[error("invalid timestamp {text:?}: {reason}")]
pub struct InvalidTimestamp {
    text: String,
    reason: String,
}

impl Timestamp {
    /// From microseconds since the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// From milliseconds since the Unix epoch.
    pub const fn from_unix_millis(millis: i64) -> Self {
        Self(millis.saturating_mul(1000))
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// Milliseconds since the Unix epoch (rounded down).
    pub const fn unix_millis(self) -> i64 {
        self.0.div_euclid(1000)
    }

    fn to_offset_date_time(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1000).ok()
    }
}

impl std::str::FromStr for Timestamp {
    type Err = InvalidTimestamp;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| InvalidTimestamp {
            text: s.to_owned(),
            reason: e.to_string(),
        })?;
        let micros = parsed.unix_timestamp_nanos().div_euclid(1000);
        i64::try_from(micros)
            .map(Self)
            .map_err(|_| InvalidTimestamp {
                text: s.to_owned(),
                reason: "out of range".to_owned(),
            })
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self
            .to_offset_date_time()
            .and_then(|t| t.format(&Rfc3339).ok())
        {
            Some(text) => f.write_str(&text),
            None => write!(f, "@{}us", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            serializer.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            #[derive(Deserialize)]
            #[serde(untagged)]
            enum Repr {
                Text(String),
                Millis(i64),
            }
            match Repr::deserialize(deserializer)? {
                Repr::Text(text) => text.parse().map_err(serde::de::Error::custom),
                Repr::Millis(ms) => Ok(Self::from_unix_millis(ms)),
            }
        } else {
            i64::deserialize(deserializer).map(Self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_discord_formats() {
        let a: Timestamp = "2017-01-27T18:39:30.213000+00:00".parse().unwrap();
        let b: Timestamp = "2017-01-27T18:39:30.213Z".parse().unwrap();
        assert_eq!(a, b);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), a);
        assert!("yesterday".parse::<Timestamp>().is_err());
    }
}
