//! The tables of the schema: their key and typed columns, and how a record
//! fills them. Every SQL backend has these tables, each with the whole
//! object in a `data` column besides.

use persist_core::{EntityKey, Record};

/// One table of the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // the variants are the tables' names
pub enum Table {
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
    /// Every table, in declaration order.
    pub const ALL: [Table; 14] = [
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

    /// The table's name in SQL.
    pub fn name(self) -> &'static str {
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
    pub fn key(self) -> &'static [&'static str] {
        match self {
            Table::Members | Table::VoiceStates | Table::Presences => &["guild_id", "user_id"],
            Table::ThreadMembers => &["thread_id", "user_id"],
            _ => &["id"],
        }
    }

    /// Every typed column, key first, in the order [`Table::write_row`] fills them.
    pub fn columns(self) -> &'static [&'static str] {
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
    pub fn of(key: &EntityKey) -> Table {
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
    pub fn key_values(key: &EntityKey) -> (u64, Option<u64>) {
        match *key {
            EntityKey::CurrentUser => (0, None),
            EntityKey::Guild(id) => (id.get(), None),
            EntityKey::Channel(id) => (id.get(), None),
            EntityKey::Message(id) => (id.get(), None),
            EntityKey::User(id) => (id.get(), None),
            EntityKey::Role(id) => (id.get(), None),
            EntityKey::Emoji(id) => (id.get(), None),
            EntityKey::Sticker(id) => (id.get(), None),
            EntityKey::StageInstance(id) => (id.get(), None),
            EntityKey::ScheduledEvent(id) => (id.get(), None),
            EntityKey::Member(g, u) | EntityKey::VoiceState(g, u) | EntityKey::Presence(g, u) => {
                (g.get(), Some(u.get()))
            }
            EntityKey::ThreadMember(t, u) => (t.get(), Some(u.get())),
        }
    }

    /// The typed column values of a record, in [`Table::columns`] order
    /// (the `data` column is bound after them).
    pub fn column_values(record: &Record) -> Vec<Column<'_>> {
        use Column::{Id, Int, Text};
        let id = Id;
        let opt = |v: Option<u64>| v.map_or(Column::Null, id);
        fn text(v: Option<&str>) -> Column<'_> {
            v.map_or(Column::Null, Column::Text)
        }
        match record {
            Record::CurrentUser(v) => vec![Id(0), id(v.id.get())],
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
    pub fn row_width(self) -> usize {
        self.columns().len() + 1
    }
}

/// One typed column's value, borrowed from the record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Column<'a> {
    /// A snowflake (or the current user's fixed key, 0).
    Id(u64),
    /// A small integer (a channel's kind, a flag).
    Int(i64),
    /// Text.
    Text(&'a str),
    /// No value.
    Null,
}

/// What a typed column holds (the `data` column is JSON besides).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// A snowflake.
    Id,
    /// A small integer.
    Int,
    /// Text.
    Text,
}

impl Table {
    /// The table's name in a statement of `dialect`: `current_user` is a
    /// reserved word in PostgreSQL and MySQL, so it is quoted there.
    pub fn sql_name(self, dialect: crate::Dialect) -> &'static str {
        match (self, dialect) {
            (Table::CurrentUser, crate::Dialect::Postgres) => "\"current_user\"",
            (Table::CurrentUser, crate::Dialect::MySql) => "`current_user`",
            _ => self.name(),
        }
    }

    /// The type of each of [`Table::columns`], in order.
    pub fn column_types(self) -> &'static [ColumnType] {
        use ColumnType::{Id, Int, Text};
        match self {
            Table::CurrentUser => &[Id, Id],
            Table::Guilds | Table::Users => &[Id, Text],
            Table::Channels => &[Id, Id, Id, Int, Int, Text],
            Table::Messages => &[Id, Id, Id, Id],
            Table::Members => &[Id, Id, Text],
            Table::Roles | Table::Emojis | Table::Stickers | Table::ScheduledEvents => {
                &[Id, Id, Text]
            }
            Table::VoiceStates | Table::StageInstances => &[Id, Id, Id],
            Table::Presences => &[Id, Id, Text],
            Table::ThreadMembers => &[Id, Id],
        }
    }
}

/// Rows (or keys) per multi-row statement: a batch's rows of one table go
/// in chunks of these sizes, largest first, so each table has a few
/// prepared shapes and a batch of 1,000 rows is a handful of statements.
pub const CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

#[cfg(test)]
mod tests {
    use super::*;
    use persist_core::model::Channel;
    use persist_core::{ChannelId, GuildId};

    #[test]
    fn every_table_types_each_of_its_columns() {
        for table in Table::ALL {
            assert_eq!(
                table.columns().len(),
                table.column_types().len(),
                "{table:?}"
            );
            assert!(table.columns().starts_with(table.key()), "{table:?}");
        }
    }

    #[test]
    fn a_record_fills_its_tables_columns_in_order() {
        let channel = Channel {
            id: ChannelId::new(u64::MAX),
            guild_id: Some(GuildId::new(2)),
            ..Default::default()
        };
        let record = Record::Channel(channel);
        let values = Table::column_values(&record);
        assert_eq!(values.len(), Table::Channels.columns().len());
        // No snowflake is clamped on its way to a column.
        assert_eq!(values[0], Column::Id(u64::MAX));
        assert_eq!(values[1], Column::Id(2));
    }
}
