//! Writing a batch's net changes: per table, the removals then the upserts
//! as multi-row statements (`INSERT ... ON DUPLICATE KEY UPDATE`, chunks of
//! `CHUNKS` rows), then the channels trimmed to their newest messages.

use std::collections::BTreeMap;

use persist_core::write::Changes;
use persist_core::{ChannelId, EntityKey, Error, Record, Result};
use persist_sql::{Column, Table, write_object};
use sqlx::MySqlConnection;

use crate::committed::bind_key;
use crate::statements::{CLEAR, TRIM, chunks, statements, versioned};
use crate::store::backend_error;

/// Writes the changes inside the open transaction.
pub(crate) async fn write_changes(
    conn: &mut MySqlConnection,
    changes: &Changes<'_>,
    seen_at: i64,
) -> Result<()> {
    let mut deletes: BTreeMap<Table, Vec<EntityKey>> = BTreeMap::new();
    for key in &changes.deletes {
        deletes.entry(Table::of(key)).or_default().push(*key);
    }
    for (table, keys) in deletes {
        for (chunk, sql) in chunks(&statements(table).delete, &keys) {
            chunk
                .iter()
                .fold(sqlx::query(sql), bind_key)
                .execute(&mut *conn)
                .await
                .map_err(backend_error(format!("deleting from {}", table.name())))?;
        }
    }
    // Each object serialized once, to its own buffer the statement borrows.
    let mut upserts: BTreeMap<Table, Vec<(&Record, String)>> = BTreeMap::new();
    for record in &changes.puts {
        let mut data = Vec::with_capacity(512);
        write_object(record, &mut data).map_err(|e| Error::InvalidData {
            kind: record.key().kind(),
            reason: format!("{} could not be encoded: {e}", record.key()),
        })?;
        let data = String::from_utf8_lossy(&data).into_owned();
        upserts
            .entry(Table::of(&record.key()))
            .or_default()
            .push((record, data));
    }
    for (table, rows) in upserts {
        for (chunk, sql) in chunks(&statements(table).upsert, &rows) {
            let mut query = sqlx::query(sql);
            for (record, data) in chunk {
                for value in Table::column_values(record) {
                    query = match value {
                        Column::Id(v) => query.bind(v),
                        Column::Int(v) => query.bind(v),
                        Column::Text(v) => query.bind(v.to_owned()),
                        Column::Null => query.bind(None::<u64>),
                    };
                }
                query = query.bind(data.clone());
                if versioned(table) {
                    query = query.bind(seen_at);
                }
            }
            query
                .execute(&mut *conn)
                .await
                .map_err(backend_error(format!("writing {}", table.name())))?;
        }
    }
    trim(conn, &changes.trims).await
}

/// Keeps the newest `keep` messages of each channel: one statement per
/// distinct `keep` (the ruleset gives every channel the same cap).
async fn trim(conn: &mut MySqlConnection, caps: &[(ChannelId, u32)]) -> Result<()> {
    let mut by_keep: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (channel, keep) in caps {
        by_keep
            .entry(*keep)
            .or_default()
            .push(channel.get().to_string());
    }
    for (keep, channels) in by_keep {
        let channels = serde_json::to_string(&channels)
            .map_err(|e| Error::backend("mysql", "trimming channels", e))?;
        let query = match keep {
            0 => sqlx::query(CLEAR).bind(channels),
            _ => sqlx::query(TRIM).bind(i64::from(keep) - 1).bind(channels),
        };
        query
            .execute(&mut *conn)
            .await
            .map_err(backend_error("trimming channels to their message cap"))?;
    }
    Ok(())
}
