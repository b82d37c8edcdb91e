//! SQLite storage backend for serenity-persist: the embedded default.
//!
//! [`SqliteStore`] keeps the cache in one SQLite file through sqlx (bundled
//! SQLite): WAL journal, one writer connection and a pool of readers so reads
//! never wait behind a batch commit, one transaction per batch. The schema is
//! migrated with refinery (`migrations/V{n}__*.sql`, embedded) and is meant
//! to be read with `sqlite3`: one table per kind, typed key columns, and the
//! whole object as JSON in `data`.
//!
//! ```sh
//! sqlite3 cache.db "SELECT user_id, nick FROM members WHERE guild_id = 81384788765712384 LIMIT 10"
//! sqlite3 cache.db "SELECT id, data ->> '$.content' FROM messages WHERE channel_id = 381880193700069377 ORDER BY id DESC LIMIT 20"
//! sqlite3 cache.db "SELECT r.name FROM members m, json_each(m.data, '$.roles') j JOIN roles r ON r.id = j.value WHERE m.guild_id = 1 AND m.user_id = 2"
//! ```
#![warn(missing_docs)]

mod config;
mod migrate;
mod read;
mod store;
mod table;
mod write;

pub use config::{Durability, SqliteConfig};
pub use migrate::code_schema_version;
pub use store::{SqliteStore, CACHE_SIZE_PRAGMA};
