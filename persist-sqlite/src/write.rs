//! Writing a batch's net changes: per table, the removals then the upserts
//! as multi-row statements (chunks of [`CHUNKS`] rows, typed values bound
//! directly: no JSON to build or parse), then one statement per distinct
//! cap for the channels trimmed to their newest messages.

use std::collections::BTreeMap;

use persist_core::write::Changes;
use persist_core::{EntityKey, Error, Record, Result};
use rusqlite::Connection;

use crate::committed::engine_error;
use persist_sql::{CHUNKS, Column, Table, write_object};

use crate::table::{Bound, sql_id, statements};

fn encode_error(key: &EntityKey, e: serde_json::Error) -> Error {
    Error::InvalidData {
        kind: key.kind(),
        reason: format!("{key} could not be encoded: {e}"),
    }
}

/// Runs `statements[i]` over `items` in chunks of `CHUNKS[i]`, largest
/// first, binding each item's values with `bind`.
fn chunked<'a, T>(
    conn: &Connection,
    statements: &[&'static str; CHUNKS.len()],
    items: &'a [T],
    bind: impl Fn(&'a T, &mut Vec<Bound<'a>>),
    what: &dyn Fn() -> String,
) -> Result<()> {
    let mut rest = items;
    let mut values = Vec::new();
    for (size, sql) in CHUNKS.iter().zip(statements) {
        while rest.len() >= *size {
            let (chunk, tail) = rest.split_at(*size);
            rest = tail;
            values.clear();
            for item in chunk {
                bind(item, &mut values);
            }
            conn.prepare_cached(sql)
                .and_then(|mut s| s.execute(rusqlite::params_from_iter(values.iter())))
                .map_err(engine_error(what()))?;
        }
    }
    Ok(())
}

/// Writes the changes inside the open transaction.
pub(crate) fn write_changes(conn: &Connection, changes: &Changes<'_>) -> Result<()> {
    let mut deletes: BTreeMap<Table, Vec<EntityKey>> = BTreeMap::new();
    for key in &changes.deletes {
        deletes.entry(Table::of(key)).or_default().push(*key);
    }
    for (table, keys) in deletes {
        chunked(
            conn,
            &statements(table).delete,
            &keys,
            |key, values| match Table::key_values(key) {
                (a, Some(b)) => values.extend([Bound(Column::Id(a)), Bound(Column::Id(b))]),
                (a, None) => values.push(Bound(Column::Id(a))),
            },
            &|| format!("deleting from {}", table.name()),
        )?;
    }
    // Each object serialized once, to its own buffer the statement borrows.
    let mut upserts: BTreeMap<Table, Vec<(&Record, String)>> = BTreeMap::new();
    for record in &changes.puts {
        let mut data = Vec::with_capacity(512);
        write_object(record, &mut data).map_err(|e| encode_error(&record.key(), e))?;
        // serde_json writes UTF-8 only.
        let data = String::from_utf8(data)
            .map_err(|e| Error::backend("sqlite", "encoding an object", e))?;
        upserts
            .entry(Table::of(&record.key()))
            .or_default()
            .push((record, data));
    }
    for (table, rows) in upserts {
        chunked(
            conn,
            &statements(table).upsert,
            &rows,
            |(record, data), values| {
                values.extend(Table::column_values(record).into_iter().map(Bound));
                values.push(Bound(Column::Text(data)));
            },
            &|| format!("writing {}", table.name()),
        )?;
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
