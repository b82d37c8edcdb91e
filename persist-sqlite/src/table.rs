//! The statements of the schema's tables in SQLite, and how typed values
//! are bound.

use std::sync::LazyLock;

use persist_sql::{CHUNKS, Column, Table};

/// A snowflake as SQLite stores it. Discord ids stay below 2^63; a larger
/// value (only ever a query bound, like "before u64::MAX") is clamped.
pub(crate) fn sql_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// A typed column's value bound to a SQLite statement.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bound<'a>(pub Column<'a>);

impl rusqlite::ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Column::Id(v) => ValueRef::Integer(sql_id(v)),
            Column::Int(v) => ValueRef::Integer(v),
            Column::Text(v) => ValueRef::Text(v.as_bytes()),
            Column::Null => ValueRef::Null,
        }))
    }
}

/// The statements of one table, built once.
pub(crate) struct Statements {
    /// Upserts `CHUNKS[i]` rows, each bound as its typed columns then `data`.
    pub upsert: [&'static str; CHUNKS.len()],
    /// Deletes `CHUNKS[i]` keys, each bound as its key columns.
    pub delete: [&'static str; CHUNKS.len()],
    /// Selects `(position, data)` of every stored key of a JSON array bound
    /// as ?1 (`k` or `[k1, k2]` each); the array drives the loop, each key
    /// one index seek.
    pub get_many: &'static str,
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// `(?, ?), (?, ?), ...`: `rows` groups of `width` placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    vec![row; rows].join(", ")
}

fn build(table: Table) -> Statements {
    let name = table.name();
    let columns = table.columns();
    let key = table.key();
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c))
        .chain(std::iter::once(&"data"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let upsert = CHUNKS.map(|rows| {
        leak(format!(
            "INSERT INTO {name} ({cols}, data) VALUES {values} \
             ON CONFLICT ({key}) DO UPDATE SET {updates}",
            cols = columns.join(", "),
            values = placeholders(rows, table.row_width()),
            key = key.join(", "),
            updates = updates.join(", "),
        ))
    });
    let delete = CHUNKS.map(|rows| {
        leak(if key.len() == 1 {
            format!(
                "DELETE FROM {name} WHERE {k} IN ({p})",
                k = key[0],
                p = vec!["?"; rows].join(", ")
            )
        } else {
            format!(
                "DELETE FROM {name} WHERE ({k}) IN (VALUES {p})",
                k = key.join(", "),
                p = placeholders(rows, key.len())
            )
        })
    });
    let get_many = if key.len() == 1 {
        format!(
            "SELECT j.key, t.data FROM json_each(?1) AS j CROSS JOIN {name} AS t WHERE t.{} = j.value",
            key[0]
        )
    } else {
        format!(
            "SELECT j.key, t.data FROM json_each(?1) AS j CROSS JOIN {name} AS t \
             WHERE t.{} = j.value ->> 0 AND t.{} = j.value ->> 1",
            key[0], key[1]
        )
    };
    Statements {
        upsert,
        delete,
        get_many: leak(get_many),
    }
}

static STATEMENTS: LazyLock<Vec<Statements>> =
    LazyLock::new(|| Table::ALL.iter().map(|t| build(*t)).collect());

/// A table's statements (built from fixed names only: no data is ever
/// formatted into SQL).
pub(crate) fn statements(table: Table) -> &'static Statements {
    &STATEMENTS[table as usize]
}
