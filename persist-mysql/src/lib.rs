//! MySQL and MariaDB storage backend for serenity-persist: one database
//! that several shard processes write and any process reads.
//!
//! [`MySqlStore`] keeps the cache in MariaDB 10.6 or newer (InnoDB; tested
//! with 10.11) through sqlx. MySQL 8 is not supported yet: the migrations
//! use MariaDB's `CREATE INDEX IF NOT EXISTS` and `CREATE TRIGGER IF NOT
//! EXISTS`, which make them safe to run again after an interruption. Each batch is one transaction: it checks the process's
//! shard leases, plans the batch with the cache's shared semantics
//! ([`persist_core::write::plan`]) over the committed rows, then writes
//! each table's removed keys and objects as multi-row `DELETE` and
//! `INSERT ... ON DUPLICATE KEY UPDATE` statements (chunks of up to 256
//! rows). The schema is migrated with refinery (`migrations/V{n}__*.sql`,
//! embedded) under a named lock; MySQL commits each DDL statement on its
//! own, so every statement of a migration can be run again.
//!
//! ## Several processes, one database
//!
//! As in `persist-postgres`: each writing process declares its shards
//! ([`LeaseConfig`]), owns each through a row of `persist_leases` (owner,
//! expiry by the server's `UTC_TIMESTAMP(6)`, fencing token), and every
//! batch reads its lease rows `LOCK IN SHARE MODE` and commits only if
//! every token is still the one it took; a process paused past its lease
//! gets [`Error::Fenced`](persist_core::Error::Fenced) and writes nothing
//! more. Users, written by every process, are replaced only by a copy whose
//! `seen_at` (the writing process's clock when it applied the batch) is not
//! older. A process that runs no shard opens read-only
//! ([`MySqlConfig::read_only`]).
//!
//! ## The schema
//!
//! One table per kind, as in the other SQL backends (`` `current_user` ``
//! quoted: it is a reserved word), plus `persist_counts` (objects of each
//! kind, kept by triggers), `persist_leases`, `persist_hooks` and
//! `refinery_schema_history`. Ids are `BIGINT UNSIGNED`: every snowflake
//! compares and orders right. `data` holds the object as `JSON` with
//! Discord's field names.
//!
//! ```sh
//! # Members of a guild
//! mariadb test -e "SELECT user_id, nick FROM members WHERE guild_id = 1"
//! # The last messages of a channel
//! mariadb test -e "SELECT id, JSON_VALUE(data, '$.content') FROM messages WHERE channel_id = 10 ORDER BY id DESC LIMIT 5"
//! # How much is cached, by kind
//! mariadb test -e "SELECT kind, SUM(n) FROM persist_counts GROUP BY kind ORDER BY kind"
//! # Who writes which shard
//! mariadb test -e "SELECT shard_id, owner, token, expires_at FROM persist_leases ORDER BY shard_id"
//! ```
//!
//! The crate's tests run these queries (`tests/server.rs`).
#![warn(missing_docs)]

mod committed;
mod config;
mod lease;
mod migrate;
mod read;
mod statements;
mod store;
mod write;
mod writer;

pub use config::MySqlConfig;
pub use migrate::code_schema_version;
pub use persist_sql::lease::LeaseConfig;
pub use store::MySqlStore;
