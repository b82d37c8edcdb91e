//! Values: a format byte, then the object as MessagePack.
//!
//! MessagePack (rmp-serde, fields by name) because it is compact and
//! self-describing: it carries each model's `extra` map (fields Discord adds
//! tomorrow) and reads records written before a field was added or removed.
//! Formats without field names (bincode, postcard) cannot do either.
//! The leading byte names the format, so a later format can be added while
//! records in this one stay readable.

use persist_core::{Error, Record};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The format every record is written in now.
pub const FORMAT_V1: u8 = 1;

/// Encodes a value with the current format byte.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = vec![FORMAT_V1];
    rmp_serde::encode::write_named(&mut out, value).map_err(|e| Error::InvalidData {
        kind: persist_core::ResourceKind::empty(),
        reason: format!("could not encode: {e}"),
    })?;
    Ok(out)
}

/// Decodes a value; `what` names it in the error (its space and key).
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    what: impl FnOnce() -> String,
) -> Result<T, Error> {
    match bytes.split_first() {
        Some((&FORMAT_V1, body)) => rmp_serde::from_slice(body).map_err(|e| Error::Corrupt {
            key: what(),
            reason: e.to_string(),
        }),
        Some((format, _)) => Err(Error::Corrupt {
            key: what(),
            reason: format!("unknown record format {format}"),
        }),
        None => Err(Error::Corrupt {
            key: what(),
            reason: "empty record".into(),
        }),
    }
}

/// Encodes a record's object (without the `Record` wrapper).
pub fn encode_record(record: &Record) -> Result<Vec<u8>, Error> {
    match record {
        Record::CurrentUser(v) => encode(v),
        Record::Guild(v) => encode(v),
        Record::Channel(v) => encode(v),
        Record::Message(v) => encode(v),
        Record::User(v) => encode(v),
        Record::Member(v) => encode(v),
        Record::Role(v) => encode(v),
        Record::Emoji(v) => encode(v),
        Record::Sticker(v) => encode(v),
        Record::VoiceState(v) => encode(v),
        Record::Presence(v) => encode(v),
        Record::StageInstance(v) => encode(v),
        Record::ScheduledEvent(v) => encode(v),
        Record::ThreadMember(v) => encode(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use persist_core::model::Message;

    #[test]
    fn records_round_trip_with_unknown_fields() {
        let mut m = Message {
            content: "hi 👋".into(),
            ..Default::default()
        };
        m.extra.insert(
            "from_the_future".into(),
            serde_json::json!({"a": [1, null, "x"]}),
        );
        let bytes = encode(&m).unwrap();
        assert_eq!(bytes[0], FORMAT_V1);
        let back: Message = decode(&bytes, || "m".into()).unwrap();
        assert_eq!(back, m);
        assert!(matches!(
            decode::<Message>(&[9, 1, 2], || "k".into()),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            decode::<Message>(&[FORMAT_V1, 0xc1], || "k".into()),
            Err(Error::Corrupt { .. })
        ));
    }
}
