//! SQLite storage backend for serenity-persist: the embedded default.
//!
//! [`SqliteStore`] keeps the cache in one SQLite file (bundled SQLite): WAL
//! journal, one writer connection and a pool of readers so reads never
//! wait behind a batch commit, one transaction per batch. The writer runs
//! SQLite in-thread (rusqlite, on tokio's blocking-aware worker) and applies
//! each batch through the cache's shared semantics
//! ([`persist_core::write::plan`]): one read statement per table for the
//! objects the batch patches, then multi-row deletes and upserts per table.
//! Reads, migrations and hooks go through sqlx. The schema is migrated with
//! refinery (`migrations/V{n}__*.sql`, embedded) and is meant to be read
//! with `sqlite3`: one table per kind, typed key columns, and the whole
//! object as JSON in `data`.
//!
//! ## Durability
//!
//! Each batch is one `BEGIN IMMEDIATE ... COMMIT` transaction in WAL mode.
//! With the default [`Durability::ProcessCrash`] (`synchronous = NORMAL`) a
//! batch whose `apply` returned, and so everything a `Cache::flush()`
//! reported durable, survives a process crash; a power loss may roll back
//! the last batches but never corrupts the file. [`Durability::PowerLoss`]
//! (`synchronous = FULL`) also survives a power loss. Other pragmas:
//! `busy_timeout` (default 5 s, then "database is locked"), a 64 MiB page
//! cache per connection, `temp_store = memory`, and a WAL checkpoint every
//! 64 MiB of WAL (the `-wal` file grows to about that between checkpoints).
//!
//! A file this process cannot write (read-only file, directory or mount)
//! is refused at open with [`persist_core::Error::Unwritable`].
//!
//! ## The schema
//!
//! One table per kind: `guilds`, `channels` (threads too, `is_thread = 1`),
//! `messages`, `users`, `members`, `roles`, `emojis`, `stickers`,
//! `voice_states`, `presences`, `stage_instances`, `scheduled_events`,
//! `thread_members`, `current_user`, plus `persist_counts` (the number of
//! objects of each kind, kept by triggers in the rows' own transactions, so
//! counting reads 14 rows at any size), `persist_hooks` (application
//! migration hooks) and `refinery_schema_history` (schema versions). Ids are
//! INTEGER columns; `data` holds the object as JSON with Discord's field
//! names (ids as strings; fields at their default are left out). Every read
//! of the read API is backed by an index.
//!
//! `cargo run -p persist-sqlite --example inspect` writes a small
//! `sqlite-example.db`; then:
//!
//! ```sh
//! # Members of a guild
//! sqlite3 sqlite-example.db "SELECT user_id, nick FROM members WHERE guild_id = 1"
//! # The last messages of a channel
//! sqlite3 sqlite-example.db "SELECT id, data ->> '$.content' FROM messages WHERE channel_id = 10 ORDER BY id DESC LIMIT 5"
//! # How much is cached, by kind
//! sqlite3 sqlite-example.db "SELECT kind, n FROM persist_counts ORDER BY kind"
//! # The roles of a member
//! sqlite3 sqlite-example.db "SELECT r.name FROM members m, json_each(m.data, '$.roles') j JOIN roles r ON r.id = j.value WHERE m.guild_id = 1 AND m.user_id = 20"
//! ```
#![warn(missing_docs)]

mod committed;
mod config;
mod migrate;
mod open_files;
mod read;
mod store;
mod table;
mod write;
mod writer;

pub use config::{Durability, SqliteConfig};
pub use migrate::code_schema_version;
pub use store::{CACHE_SIZE_PRAGMA, MAX_READERS, SqliteStore};
