//! Writing a batch's net changes: per table, one `DELETE` of its removed
//! keys and one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE`
//! of its objects, each column bound as one array; then one statement per
//! distinct cap for the channels trimmed to their newest messages.

use std::collections::BTreeMap;

use persist_core::write::Changes;
use persist_core::{ChannelId, Error, Record, Result};
use persist_sql::{Column, Table, write_object};
use sqlx::PgConnection;

use crate::statements::{CLEAR, TRIM, statements, versioned};
use crate::store::backend_error;

/// A column of a table's rows, as the array bound for it.
type Array = Vec<Option<String>>;

fn text(value: Column<'_>) -> Option<String> {
    match value {
        Column::Id(v) => Some(v.to_string()),
        Column::Int(v) => Some(v.to_string()),
        Column::Text(v) => Some(v.to_owned()),
        Column::Null => None,
    }
}

/// The arrays of one table's rows: the typed columns, `data`, `seen_at`.
fn arrays(table: Table, records: &[&Record], seen_at: i64) -> Result<Vec<Array>> {
    let width = table.columns().len();
    let extra = 1 + usize::from(versioned(table));
    let mut arrays = vec![Vec::with_capacity(records.len()); width + extra];
    let mut data = Vec::with_capacity(512);
    for record in records {
        for (array, value) in arrays.iter_mut().zip(Table::column_values(record)) {
            array.push(text(value));
        }
        data.clear();
        write_object(record, &mut data).map_err(|e| Error::InvalidData {
            kind: record.key().kind(),
            reason: format!("{} could not be encoded: {e}", record.key()),
        })?;
        // serde_json writes UTF-8 only.
        arrays[width].push(Some(String::from_utf8_lossy(&data).into_owned()));
        if versioned(table) {
            arrays[width + 1].push(Some(seen_at.to_string()));
        }
    }
    Ok(arrays)
}

/// Writes the changes inside the open transaction.
pub(crate) async fn write_changes(
    conn: &mut PgConnection,
    changes: &Changes<'_>,
    seen_at: i64,
) -> Result<()> {
    let mut deletes: BTreeMap<Table, (Array, Array)> = BTreeMap::new();
    for key in &changes.deletes {
        let (first, second) = deletes.entry(Table::of(key)).or_default();
        let (a, b) = Table::key_values(key);
        first.push(Some(a.to_string()));
        second.extend(b.map(|b| Some(b.to_string())));
    }
    for (table, (first, second)) in deletes {
        let mut query = sqlx::query(statements(table).delete).bind(first);
        if table.key().len() == 2 {
            query = query.bind(second);
        }
        query
            .execute(&mut *conn)
            .await
            .map_err(backend_error(format!("deleting from {}", table.name())))?;
    }
    let mut upserts: BTreeMap<Table, Vec<&Record>> = BTreeMap::new();
    for record in &changes.puts {
        upserts
            .entry(Table::of(&record.key()))
            .or_default()
            .push(record);
    }
    for (table, records) in upserts {
        let query = arrays(table, &records, seen_at)?
            .into_iter()
            .fold(sqlx::query(statements(table).upsert), |q, array| {
                q.bind(array)
            });
        query
            .execute(&mut *conn)
            .await
            .map_err(backend_error(format!("writing {}", table.name())))?;
    }
    trim(conn, &changes.trims).await
}

/// Keeps the newest `keep` messages of each channel: one statement per
/// distinct `keep` (the ruleset gives every channel the same cap).
async fn trim(conn: &mut PgConnection, caps: &[(ChannelId, u32)]) -> Result<()> {
    let mut by_keep: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (channel, keep) in caps {
        by_keep
            .entry(*keep)
            .or_default()
            .push(channel.get().to_string());
    }
    for (keep, channels) in by_keep {
        let query = if keep == 0 {
            sqlx::query(CLEAR).bind(channels)
        } else {
            sqlx::query(TRIM).bind(channels).bind(i64::from(keep))
        };
        query
            .execute(&mut *conn)
            .await
            .map_err(backend_error("trimming channels to their message cap"))?;
    }
    Ok(())
}
