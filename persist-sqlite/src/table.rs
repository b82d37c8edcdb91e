//! The tables of the schema: their key and typed columns, how a record fills
//! them, and the statements built from them.

use std::io::Write as _;
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

    /// Appends `[typed columns..., object]` as JSON for the batch upsert.
    pub(crate) fn write_row(record: &Record, out: &mut Vec<u8>) -> serde_json::Result<()> {
        fn id(out: &mut Vec<u8>, v: u64) {
            let _ = write!(out, "{},", sql_id(v));
        }
        fn opt(out: &mut Vec<u8>, v: Option<u64>) {
            match v {
                Some(v) => id(out, v),
                None => out.extend_from_slice(b"null,"),
            }
        }
        fn text(out: &mut Vec<u8>, v: Option<&str>) -> serde_json::Result<()> {
            serde_json::to_writer(&mut *out, &v)?;
            out.push(b',');
            Ok(())
        }
        out.push(b'[');
        match record {
            Record::CurrentUser(v) => {
                id(out, 0);
                id(out, v.id.get());
            }
            Record::Guild(v) => {
                id(out, v.id.get());
                text(out, Some(&v.name))?;
            }
            Record::Channel(v) => {
                id(out, v.id.get());
                opt(out, v.guild_id.map(|g| g.get()));
                opt(out, v.parent_id.map(|p| p.get()));
                id(out, u64::from(v.kind.number()));
                id(out, u64::from(v.is_thread()));
                text(out, v.name.as_deref())?;
            }
            Record::Message(v) => {
                id(out, v.id.get());
                id(out, v.channel_id.get());
                opt(out, v.guild_id.map(|g| g.get()));
                id(out, v.author.id.get());
            }
            Record::User(v) => {
                id(out, v.id.get());
                text(out, Some(&v.username))?;
            }
            Record::Member(v) => {
                id(out, v.guild_id.get());
                id(out, v.user_id.get());
                text(out, v.nick.as_deref())?;
            }
            Record::Role(v) => {
                id(out, v.id.get());
                id(out, v.guild_id.get());
                text(out, Some(&v.name))?;
            }
            Record::Emoji(v) => {
                id(out, v.id.get());
                id(out, v.guild_id.get());
                text(out, v.name.as_deref())?;
            }
            Record::Sticker(v) => {
                id(out, v.id.get());
                opt(out, v.guild_id.map(|g| g.get()));
                text(out, Some(&v.name))?;
            }
            Record::VoiceState(v) => {
                id(out, v.guild_id.get());
                id(out, v.user_id.get());
                opt(out, v.channel_id.map(|c| c.get()));
            }
            Record::Presence(v) => {
                id(out, v.guild_id.get());
                id(out, v.user_id.get());
                text(out, Some(&v.status))?;
            }
            Record::StageInstance(v) => {
                id(out, v.id.get());
                id(out, v.guild_id.get());
                id(out, v.channel_id.get());
            }
            Record::ScheduledEvent(v) => {
                id(out, v.id.get());
                id(out, v.guild_id.get());
                text(out, Some(&v.name))?;
            }
            Record::ThreadMember(v) => {
                id(out, v.thread_id.get());
                id(out, v.user_id.get());
            }
        }
        // The object goes in as a JSON string: SQLite unescapes it (`->>`)
        // faster than it re-serializes an embedded object (`->`).
        let mut object = Vec::with_capacity(256);
        write_object(record, &mut object)?;
        // serde_json writes UTF-8 only, so this borrows and never replaces.
        serde_json::to_writer(&mut *out, &String::from_utf8_lossy(&object))?;
        out.push(b']');
        Ok(())
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

/// The statements of one table, built once.
pub(crate) struct Statements {
    /// Upserts every row of a JSON array `[[typed..., object], ...]` bound as ?1.
    pub upsert: &'static str,
    /// Deletes every key in a JSON array bound as ?1 (`[k]` or `[k1, k2]` each).
    pub delete: &'static str,
    /// Selects `data` by key (?1, ?2).
    pub get: &'static str,
    /// Selects `(position, data)` of every stored key of a JSON array bound
    /// as ?1 (`k` or `[k1, k2]` each); the array drives the loop, each key
    /// one index seek.
    pub get_many: &'static str,
}

fn build(table: Table) -> Statements {
    let name = table.name();
    let columns = table.columns();
    let key = table.key();
    let picks: Vec<String> = (0..columns.len())
        .map(|i| format!("value ->> {i}"))
        .collect();
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c))
        .chain(std::iter::once(&"data"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let upsert = format!(
        "INSERT INTO {name} ({cols}, data) SELECT {picks}, value ->> {data} FROM json_each(?1) WHERE true \
         ON CONFLICT ({key}) DO UPDATE SET {updates}",
        cols = columns.join(", "),
        picks = picks.join(", "),
        data = columns.len(),
        key = key.join(", "),
        updates = updates.join(", "),
    );
    let key_picks: Vec<String> = (0..key.len()).map(|i| format!("value ->> {i}")).collect();
    let delete = if key.len() == 1 {
        format!(
            "DELETE FROM {name} WHERE {k} IN (SELECT value ->> 0 FROM json_each(?1))",
            k = key[0]
        )
    } else {
        format!(
            "DELETE FROM {name} WHERE ({k}) IN (SELECT {p} FROM json_each(?1))",
            k = key.join(", "),
            p = key_picks.join(", ")
        )
    };
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
        upsert: Box::leak(upsert.into_boxed_str()),
        get_many: Box::leak(get_many.into_boxed_str()),
        delete: Box::leak(delete.into_boxed_str()),
        get: Box::leak(get.into_boxed_str()),
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
