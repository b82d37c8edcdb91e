//! The write statements of each table in MySQL: multi-row statements in
//! chunks of [`CHUNKS`] rows, typed values bound directly.

use std::sync::LazyLock;

use persist_sql::{CHUNKS, Dialect, Table};

/// The statements of one table, built once from fixed names (no data is
/// ever formatted into SQL).
pub(crate) struct Statements {
    /// Upserts `CHUNKS[i]` rows: typed columns, `data`, then `seen_at`
    /// when [`versioned`].
    pub upsert: [&'static str; CHUNKS.len()],
    /// Deletes `CHUNKS[i]` keys.
    pub delete: [&'static str; CHUNKS.len()],
    /// Selects `(position, data)` of the stored keys of a JSON array bound
    /// as the one parameter (`"k"` or `["k1", "k2"]` each, ids as strings so
    /// none loses a digit); the array drives the join, each key one index
    /// seek.
    pub get_many: &'static str,
}

/// Whether the table's rows are written by every process, so an upsert
/// replaces a row only with a copy seen no earlier (`seen_at`).
pub(crate) fn versioned(table: Table) -> bool {
    table == Table::Users
}

/// `(?, ?), (?, ?), ...`: `rows` groups of `width` placeholders.
fn placeholders(rows: usize, width: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    vec![row; rows].join(", ")
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// `key IN (?, ...)`, or `(k1 = ? AND k2 = ?) OR ...` for two-column keys
/// (MariaDB reads a row-constructor `IN` list by scanning the table; each
/// `OR`ed pair is an index seek), for `rows` keys.
fn key_in(key: &[&str], rows: usize) -> String {
    if key.len() == 1 {
        format!("{} IN ({})", key[0], vec!["?"; rows].join(", "))
    } else {
        let pair = format!("({} = ? AND {} = ?)", key[0], key[1]);
        format!("({})", vec![pair; rows].join(" OR "))
    }
}

fn build(table: Table) -> Statements {
    let name = table.sql_name(Dialect::MySql);
    let key = table.key();
    let mut columns: Vec<&str> = table.columns().to_vec();
    columns.push("data");
    if versioned(table) {
        columns.push("seen_at");
    }
    // MySQL assigns left to right, each seeing the ones before: `seen_at`
    // is compared before it is raised, last.
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| match (versioned(table), *c) {
            (false, c) => format!("{c} = VALUES({c})"),
            (true, "seen_at") => "seen_at = GREATEST(seen_at, VALUES(seen_at))".into(),
            (true, c) => format!("{c} = IF(seen_at <= VALUES(seen_at), VALUES({c}), {c})"),
        })
        .collect();
    Statements {
        upsert: CHUNKS.map(|rows| {
            leak(format!(
                "INSERT INTO {name} ({cols}) VALUES {values} ON DUPLICATE KEY UPDATE {updates}",
                cols = columns.join(", "),
                values = placeholders(rows, columns.len()),
                updates = updates.join(", "),
            ))
        }),
        delete: CHUNKS.map(|rows| leak(format!("DELETE FROM {name} WHERE {}", key_in(key, rows)))),
        get_many: leak(if key.len() == 1 {
            format!(
                "SELECT k.n, t.data FROM JSON_TABLE(?, '$[*]' COLUMNS (\
                   n FOR ORDINALITY, a BIGINT UNSIGNED PATH '$')) AS k \
                 JOIN {name} AS t ON t.{} = k.a",
                key[0]
            )
        } else {
            format!(
                "SELECT k.n, t.data FROM JSON_TABLE(?, '$[*]' COLUMNS (\
                   n FOR ORDINALITY, a BIGINT UNSIGNED PATH '$[0]', b BIGINT UNSIGNED PATH '$[1]')) AS k \
                 JOIN {name} AS t ON t.{} = k.a AND t.{} = k.b",
                key[0], key[1]
            )
        }),
    }
}

static STATEMENTS: LazyLock<Vec<Statements>> =
    LazyLock::new(|| Table::ALL.iter().map(|t| build(*t)).collect());

/// A table's statements.
pub(crate) fn statements(table: Table) -> &'static Statements {
    &STATEMENTS[table as usize]
}

/// Runs `work(chunk, statement)` over `items` in chunks of `CHUNKS[i]`,
/// largest first.
pub(crate) fn chunks<'a, T>(
    statements: &[&'static str; CHUNKS.len()],
    items: &'a [T],
) -> impl Iterator<Item = (&'a [T], &'static str)> {
    let mut rest = items;
    CHUNKS.iter().zip(statements).flat_map(move |(size, sql)| {
        let mut out = Vec::new();
        while rest.len() >= *size {
            let (chunk, tail) = rest.split_at(*size);
            rest = tail;
            out.push((chunk, *sql));
        }
        out
    })
}

/// Keeps the newest `?` (first) messages of each channel of a JSON array
/// of ids (second, as strings): the oldest id kept is found by an
/// index-only seek per channel (`OFFSET keep - 1`: as far as the cap, never
/// the whole channel), and only older rows are visited.
pub(crate) const TRIM: &str = "DELETE m FROM messages AS m JOIN ( \
       SELECT c.id AS channel_id, (SELECT id FROM messages WHERE channel_id = c.id \
                                   ORDER BY id DESC LIMIT 1 OFFSET ?) AS oldest_kept \
       FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS c) AS cut \
     ON m.channel_id = cut.channel_id WHERE m.id < cut.oldest_kept";

/// Removes every message of the channels of a JSON array of ids.
pub(crate) const CLEAR: &str = "DELETE m FROM messages AS m \
     JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$')) AS c \
     ON m.channel_id = c.id";

/// The lease rows of `shards` shard ids, locked until the batch ends.
pub(crate) fn lease_rows(shards: usize) -> String {
    format!(
        "SELECT shard_id, owner, token FROM persist_leases WHERE shard_id IN ({}) LOCK IN SHARE MODE",
        vec!["?"; shards].join(", ")
    )
}
