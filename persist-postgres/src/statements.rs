//! The write statements of each table in PostgreSQL: every row of a batch's
//! table in one statement, its columns bound as arrays and `unnest`ed.

use std::sync::LazyLock;

use persist_sql::{ColumnType, Dialect, Table};

/// The statements of one table, built once from fixed names (no data is
/// ever formatted into SQL).
pub(crate) struct Statements {
    /// Upserts the rows of one `text[]` per column: the typed columns, then
    /// `data`, then `seen_at` when [`versioned`].
    pub upsert: &'static str,
    /// Deletes the keys of one `text[]` per key column.
    pub delete: &'static str,
    /// `(ordinality, data)` of the stored keys of one `text[]` per key column.
    pub get_many: &'static str,
}

/// Whether the table's rows are written by every process, so an upsert
/// replaces a row only with a copy seen no earlier (`seen_at`).
pub(crate) fn versioned(table: Table) -> bool {
    table == Table::Users
}

fn build(table: Table) -> Statements {
    let name = table.sql_name(Dialect::Postgres);
    let key = table.key();
    let mut columns: Vec<&str> = table.columns().to_vec();
    let mut casts: Vec<String> = table
        .columns()
        .iter()
        .zip(table.column_types())
        .map(|(c, t)| match t {
            ColumnType::Id => format!("u.{c}::numeric"),
            ColumnType::Int => format!("u.{c}::integer"),
            ColumnType::Text => format!("u.{c}"),
        })
        .collect();
    columns.push("data");
    casts.push("u.data::json".into());
    if versioned(table) {
        columns.push("seen_at");
        casts.push("u.seen_at::bigint".into());
    }
    let arrays: Vec<String> = (1..=columns.len())
        .map(|i| format!("${i}::text[]"))
        .collect();
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let newer_only = if versioned(table) {
        format!(" WHERE {name}.seen_at <= excluded.seen_at")
    } else {
        String::new()
    };
    let upsert = format!(
        "INSERT INTO {name} ({cols}) SELECT {casts} FROM unnest({arrays}) AS u({cols}) \
         ON CONFLICT ({key}) DO UPDATE SET {updates}{newer_only}",
        cols = columns.join(", "),
        casts = casts.join(", "),
        arrays = arrays.join(", "),
        key = key.join(", "),
        updates = updates.join(", "),
    );
    let (delete, get_many) = if key.len() == 1 {
        (
            format!(
                "DELETE FROM {name} WHERE {k} = ANY($1::text[]::numeric[])",
                k = key[0]
            ),
            format!(
                "SELECT u.ord, t.data::text FROM unnest($1::text[]) WITH ORDINALITY AS u(a, ord) \
                 JOIN {name} AS t ON t.{k} = u.a::numeric",
                k = key[0]
            ),
        )
    } else {
        (
            format!(
                "DELETE FROM {name} AS t USING unnest($1::text[], $2::text[]) AS u(a, b) \
                 WHERE t.{k0} = u.a::numeric AND t.{k1} = u.b::numeric",
                k0 = key[0],
                k1 = key[1]
            ),
            format!(
                "SELECT u.ord, t.data::text FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(a, b, ord) \
                 JOIN {name} AS t ON t.{k0} = u.a::numeric AND t.{k1} = u.b::numeric",
                k0 = key[0],
                k1 = key[1]
            ),
        )
    };
    // Built once per table for the process's life.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    Statements {
        upsert: leak(upsert),
        delete: leak(delete),
        get_many: leak(get_many),
    }
}

static STATEMENTS: LazyLock<Vec<Statements>> =
    LazyLock::new(|| Table::ALL.iter().map(|t| build(*t)).collect());

/// A table's statements.
pub(crate) fn statements(table: Table) -> &'static Statements {
    &STATEMENTS[table as usize]
}

/// Keeps the newest `$2` messages of each channel of `$1` (`$2` = 0 clears
/// them): the `$2`-th newest id is found by an index seek per channel, and
/// only older rows are visited.
pub(crate) const TRIM: &str = "DELETE FROM messages AS m USING ( \
    SELECT c.id, (SELECT id FROM messages WHERE channel_id = c.id \
                  ORDER BY id DESC OFFSET $2 - 1 LIMIT 1) AS oldest_kept \
    FROM unnest($1::text[]::numeric[]) AS c(id)) AS cut \
    WHERE m.channel_id = cut.id AND m.id < cut.oldest_kept";

/// Removes every message of the channels of `$1`.
pub(crate) const CLEAR: &str = "DELETE FROM messages WHERE channel_id = ANY($1::text[]::numeric[])";

/// The lease rows of `$1` (shard ids), locked until the batch ends so no
/// takeover commits meanwhile.
pub(crate) const LEASE_ROWS: &str = "SELECT shard_id, owner, token FROM persist_leases WHERE shard_id = ANY($1::integer[]) FOR SHARE";
