//! The tables of the schema: their key and typed columns, how a record fills
//! them, and the statements built from them.

use std::sync::LazyLock;

use persist_core::{EntityKey, Record};

/// A snowflake as SQLite stores it. Discord ids stay below 2^63; a larger
/// value (only ever a query bound, like "before u64::MAX") is clamped.
pub(crate) fn sql_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// One table of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Table {
    CurrentUser,
    Guilds,
    Channels,
    Messages,
    Users,
    Members,
    Roles,
    Emojis,
    Stickers,
    VoiceStates,
    Presences,
    StageInstances,
    ScheduledEvents,
    ThreadMembers,
}

impl Table {
    pub(crate) const ALL: [Table; 14] = [
        Table::CurrentUser,
        Table::Guilds,
        Table::Channels,
        Table::Messages,
        Table::Users,
        Table::Members,
        Table::Roles,
        Table::Emojis,
        Table::Stickers,
        Table::VoiceStates,
        Table::Presences,
        Table::StageInstances,
        Table::ScheduledEvents,
        Table::ThreadMembers,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::CurrentUser => "current_user",
            Table::Guilds => "guilds",
            Table::Channels => "channels",
            Table::Messages => "messages",
            Table::Users => "users",
            Table::Members => "members",
            Table::Roles => "roles",
            Table::Emojis => "emojis",
            Table::Stickers => "stickers",
            Table::VoiceStates => "voice_states",
            Table::Presences => "presences",
            Table::StageInstances => "stage_instances",
            Table::ScheduledEvents => "scheduled_events",
            Table::ThreadMembers => "thread_members",
        }
    }

    /// The primary key columns.
    fn key(self) -> &'static [&'static str] {
        match self {
            Table::Members | Table::VoiceStates | Table::Presences => &["guild_id", "user_id"],
            Table::ThreadMembers => &["thread_id", "user_id"],
            _ => &["id"],
        }
    }

    /// Every typed column, key first, in the order [`Table::write_row`] fills them.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Table::CurrentUser => &["id", "user_id"],
            Table::Guilds => &["id", "name"],
            Table::Channels => &["id", "guild_id", "parent_id", "kind", "is_thread", "name"],
            Table::Messages => &["id", "channel_id", "guild_id", "author_id"],
            Table::Users => &["id", "username"],
            Table::Members => &["guild_id", "user_id", "nick"],
            Table::Roles | Table::Emojis | Table::Stickers | Table::ScheduledEvents => {
                &["id", "guild_id", "name"]
            }
            Table::VoiceStates => &["guild_id", "user_id", "channel_id"],
            Table::Presences => &["guild_id", "user_id", "status"],
            Table::StageInstances => &["id", "guild_id", "channel_id"],
            Table::ThreadMembers => &["thread_id", "user_id"],
        }
    }

    /// The table an object of this key lives in.
    pub(crate) fn of(key: &EntityKey) -> Table {
        match key {
            EntityKey::CurrentUser => Table::CurrentUser,
            EntityKey::Guild(_) => Table::Guilds,
            EntityKey::Channel(_) => Table::Channels,
            EntityKey::Message(_) => Table::Messages,
            EntityKey::User(_) => Table::Users,
            EntityKey::Member(..) => Table::Members,
            EntityKey::Role(_) => Table::Roles,
            EntityKey::Emoji(_) => Table::Emojis,
            EntityKey::Sticker(_) => Table::Stickers,
            EntityKey::VoiceState(..) => Table::VoiceStates,
            EntityKey::Presence(..) => Table::Presences,
            EntityKey::StageInstance(_) => Table::StageInstances,
            EntityKey::ScheduledEvent(_) => Table::ScheduledEvents,
            EntityKey::ThreadMember(..) => Table::ThreadMembers,
        }
    }

    /// The key's column values, in key order.
    pub(crate) fn key_values(key: &EntityKey) -> (i64, Option<i64>) {
        match *key {
            EntityKey::CurrentUser => (0, None),
            EntityKey::Guild(id) => (sql_id(id.get()), None),
            EntityKey::Channel(id) => (sql_id(id.get()), None),
            EntityKey::Message(id) => (sql_id(id.get()), None),
            EntityKey::User(id) => (sql_id(id.get()), None),
            EntityKey::Role(id) => (sql_id(id.get()), None),
            EntityKey::Emoji(id) => (sql_id(id.get()), None),
            EntityKey::Sticker(id) => (sql_id(id.get()), None),
            EntityKey::StageInstance(id) => (sql_id(id.get()), None),
            EntityKey::ScheduledEvent(id) => (sql_id(id.get()), None),
            EntityKey::Member(g, u) | EntityKey::VoiceState(g, u) | EntityKey::Presence(g, u) => {
                (sql_id(g.get()), Some(sql_id(u.get())))
            }
            EntityKey::ThreadMember(t, u) => (sql_id(t.get()), Some(sql_id(u.get()))),
        }
    }

    /// The typed column values of a record, in [`Table::columns`] order
    /// (the `data` column is bound after them).
    pub(crate) fn column_values(record: &Record) -> Vec<Column<'_>> {
        use Column::{Int, Text};
        let id = |v: u64| Int(sql_id(v));
        let opt = |v: Option<u64>| v.map_or(Column::Null, id);
        fn text(v: Option<&str>) -> Column<'_> {
            v.map_or(Column::Null, Column::Text)
        }
        match record {
            Record::CurrentUser(v) => vec![Int(0), id(v.id.get())],
            Record::Guild(v) => vec![id(v.id.get()), Text(&v.name)],
            Record::Channel(v) => vec![
                id(v.id.get()),
                opt(v.guild_id.map(|g| g.get())),
                opt(v.parent_id.map(|p| p.get())),
                Int(i64::from(v.kind.number())),
                Int(i64::from(v.is_thread())),
                text(v.name.as_deref()),
            ],
            Record::Message(v) => vec![
                id(v.id.get()),
                id(v.channel_id.get()),
                opt(v.guild_id.map(|g| g.get())),
                id(v.author.id.get()),
            ],
            Record::User(v) => vec![id(v.id.get()), Text(&v.username)],
            Record::Member(v) => vec![
                id(v.guild_id.get()),
                id(v.user_id.get()),
                text(v.nick.as_deref()),
            ],
            Record::Role(v) => vec![id(v.id.get()), id(v.guild_id.get()), Text(&v.name)],
            Record::Emoji(v) => vec![
                id(v.id.get()),
                id(v.guild_id.get()),
                text(v.name.as_deref()),
            ],
            Record::Sticker(v) => vec![
                id(v.id.get()),
                opt(v.guild_id.map(|g| g.get())),
                Text(&v.name),
            ],
            Record::VoiceState(v) => vec![
                id(v.guild_id.get()),
                id(v.user_id.get()),
                opt(v.channel_id.map(|c| c.get())),
            ],
            Record::Presence(v) => vec![id(v.guild_id.get()), id(v.user_id.get()), Text(&v.status)],
            Record::StageInstance(v) => {
                vec![id(v.id.get()), id(v.guild_id.get()), id(v.channel_id.get())]
            }
            Record::ScheduledEvent(v) => {
                vec![id(v.id.get()), id(v.guild_id.get()), Text(&v.name)]
            }
            Record::ThreadMember(v) => vec![id(v.thread_id.get()), id(v.user_id.get())],
        }
    }

    /// How many values one row binds: the typed columns and `data`.
    pub(crate) fn row_width(self) -> usize {
        self.columns().len() + 1
    }
}

/// One typed column's value, borrowed from the record.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Column<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

impl rusqlite::ToSql for Column<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Column::Int(v) => ValueRef::Integer(v),
            Column::Text(v) => ValueRef::Text(v.as_bytes()),
            Column::Null => ValueRef::Null,
        }))
    }
}

/// The object itself, as stored in `data`.
pub(crate) fn write_object(record: &Record, out: &mut Vec<u8>) -> serde_json::Result<()> {
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
/// into its object; what cannot be read is [`Error::Corrupt`] naming it.
pub(crate) fn decode_data(
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
pub(crate) fn read_object(table: Table, data: &str) -> serde_json::Result<Record> {
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

/// Rows (or keys) per multi-row statement: a batch's rows of one table go
/// in chunks of these sizes, largest first, so each table has a few
/// prepared shapes and a batch of 1,000 rows is a handful of statements.
pub(crate) const CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

/// The statements of one table, built once.
pub(crate) struct Statements {
    /// Upserts `CHUNKS[i]` rows, each bound as its typed columns then `data`.
    pub upsert: [&'static str; CHUNKS.len()],
    /// Deletes `CHUNKS[i]` keys, each bound as its key columns.
    pub delete: [&'static str; CHUNKS.len()],
    /// Selects `data` by key (?1, ?2).
    pub get: &'static str,
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
    let get = if key.len() == 1 {
        format!("SELECT data FROM {name} WHERE {} = ?1", key[0])
    } else {
        format!(
            "SELECT data FROM {name} WHERE {} = ?1 AND {} = ?2",
            key[0], key[1]
        )
    };
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
        get: leak(get),
        get_many: leak(get_many),
    }
}

static STATEMENTS: LazyLock<Vec<Statements>> =
    LazyLock::new(|| Table::ALL.iter().map(|t| build(*t)).collect());

impl Table {
    /// This table's statements (built from fixed names only: no data is ever
    /// formatted into SQL).
    pub(crate) fn statements(self) -> &'static Statements {
        &STATEMENTS[self as usize]
    }
}
