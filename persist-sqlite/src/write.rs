//! Writing a batch's net changes: one statement per table for the removals,
//! one per table for the upserts (multi-row, over `json_each`), then one per
//! distinct cap for the channels trimmed to their newest messages.

use std::collections::BTreeMap;

use persist_core::write::Changes;
use persist_core::{EntityKey, Error, Result};
use rusqlite::Connection;

use crate::committed::engine_error;
use crate::table::{Table, sql_id};

/// Appends `item` to the JSON array being built in `array`.
fn push_item(array: &mut Vec<u8>, item: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
    array.push(if array.is_empty() { b'[' } else { b',' });
    item(array)
}

fn into_text(mut json: Vec<u8>) -> String {
    json.push(b']');
    // serde_json and the id formatting here only ever write UTF-8.
    String::from_utf8(json).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn encode_error(key: &EntityKey, e: serde_json::Error) -> Error {
    Error::InvalidData {
        kind: key.kind(),
        reason: format!("{key} could not be encoded: {e}"),
    }
}

/// Writes the changes inside the open transaction.
pub(crate) fn write_changes(conn: &Connection, changes: &Changes<'_>) -> Result<()> {
    let mut deletes: BTreeMap<Table, Vec<u8>> = BTreeMap::new();
    for key in &changes.deletes {
        let keys = deletes.entry(Table::of(key)).or_default();
        push_item(keys, |out| {
            let text = match Table::key_values(key) {
                (a, Some(b)) => format!("[{a},{b}]"),
                (a, None) => format!("[{a}]"),
            };
            out.extend_from_slice(text.as_bytes());
            Ok(())
        })?;
    }
    for (table, keys) in deletes {
        conn.prepare_cached(table.statements().delete)
            .and_then(|mut s| s.execute([into_text(keys)]))
            .map_err(engine_error(format!("deleting from {}", table.name())))?;
    }
    let mut upserts: BTreeMap<Table, Vec<u8>> = BTreeMap::new();
    for record in &changes.puts {
        let key = record.key();
        let rows = upserts.entry(Table::of(&key)).or_default();
        push_item(rows, |out| {
            Table::write_row(record, out).map_err(|e| encode_error(&key, e))
        })?;
    }
    for (table, rows) in upserts {
        conn.prepare_cached(table.statements().upsert)
            .and_then(|mut s| s.execute([into_text(rows)]))
            .map_err(engine_error(format!("writing {}", table.name())))?;
    }
    trim(conn, &changes.trims)
}

/// Keeps the newest `keep` messages of each channel: one statement per
/// distinct `keep` (the ruleset gives every channel the same cap).
fn trim(conn: &Connection, caps: &[(persist_core::ChannelId, u32)]) -> Result<()> {
    let mut by_keep: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for (channel, keep) in caps {
        by_keep
            .entry(*keep)
            .or_default()
            .push(sql_id(channel.get()));
    }
    // The newest-but-`keep` id is found by an index seek per channel; only
    // the rows past it are visited.
    const TRIM: &str = "DELETE FROM messages WHERE id IN ( \
        SELECT m.id FROM json_each(?1) AS cap \
        JOIN messages AS m ON m.channel_id = cap.value \
        WHERE m.id < (SELECT id FROM messages WHERE channel_id = cap.value \
                      ORDER BY id DESC LIMIT 1 OFFSET ?2))";
    const CLEAR: &str =
        "DELETE FROM messages WHERE channel_id IN (SELECT value FROM json_each(?1))";
    for (keep, channels) in by_keep {
        let json = serde_json::to_string(&channels)
            .map_err(|e| Error::backend("sqlite", "trimming channels", e))?;
        let done = if keep == 0 {
            conn.prepare_cached(CLEAR)
                .and_then(|mut s| s.execute([json]))
        } else {
            conn.prepare_cached(TRIM)
                .and_then(|mut s| s.execute(rusqlite::params![json, i64::from(keep) - 1]))
        };
        done.map_err(engine_error("trimming channels to their message cap"))?;
    }
    Ok(())
}
