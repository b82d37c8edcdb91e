//! The object as a SQL backend stores it in `data`: JSON with Discord's
//! field names (ids as strings, fields at their default left out).

use persist_core::Record;

use crate::Table;

/// The object itself, as stored in `data`.
pub fn write_object(record: &Record, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let out = &mut *out;
    match record {
        Record::CurrentUser(v) => serde_json::to_writer(out, v),
        Record::Guild(v) => serde_json::to_writer(out, v),
        Record::Channel(v) => serde_json::to_writer(out, v),
        Record::Message(v) => serde_json::to_writer(out, v),
        Record::User(v) => serde_json::to_writer(out, v),
        Record::Member(v) => serde_json::to_writer(out, v),
        Record::Role(v) => serde_json::to_writer(out, v),
        Record::Emoji(v) => serde_json::to_writer(out, v),
        Record::Sticker(v) => serde_json::to_writer(out, v),
        Record::VoiceState(v) => serde_json::to_writer(out, v),
        Record::Presence(v) => serde_json::to_writer(out, v),
        Record::StageInstance(v) => serde_json::to_writer(out, v),
        Record::ScheduledEvent(v) => serde_json::to_writer(out, v),
        Record::ThreadMember(v) => serde_json::to_writer(out, v),
    }
}

/// Reads the `data` column of a row of `table` (stored under `key`) back
/// into its object; what cannot be read is [`persist_core::Error::Corrupt`] naming it.
pub fn decode_data(
    table: Table,
    key: &dyn std::fmt::Display,
    data: Result<&str, impl std::fmt::Display>,
) -> persist_core::Result<Record> {
    let corrupt = |reason: String| persist_core::Error::Corrupt {
        key: format!("{} {key}", table.name()),
        reason,
    };
    read_object(table, data.map_err(|e| corrupt(e.to_string()))?)
        .map_err(|e| corrupt(e.to_string()))
}

/// Reads a stored object of this table back.
pub fn read_object(table: Table, data: &str) -> serde_json::Result<Record> {
    Ok(match table {
        Table::CurrentUser => Record::CurrentUser(serde_json::from_str(data)?),
        Table::Guilds => Record::Guild(serde_json::from_str(data)?),
        Table::Channels => Record::Channel(serde_json::from_str(data)?),
        Table::Messages => Record::Message(serde_json::from_str(data)?),
        Table::Users => Record::User(serde_json::from_str(data)?),
        Table::Members => Record::Member(serde_json::from_str(data)?),
        Table::Roles => Record::Role(serde_json::from_str(data)?),
        Table::Emojis => Record::Emoji(serde_json::from_str(data)?),
        Table::Stickers => Record::Sticker(serde_json::from_str(data)?),
        Table::VoiceStates => Record::VoiceState(serde_json::from_str(data)?),
        Table::Presences => Record::Presence(serde_json::from_str(data)?),
        Table::StageInstances => Record::StageInstance(serde_json::from_str(data)?),
        Table::ScheduledEvents => Record::ScheduledEvent(serde_json::from_str(data)?),
        Table::ThreadMembers => Record::ThreadMember(serde_json::from_str(data)?),
    })
}
