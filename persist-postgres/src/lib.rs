//! PostgreSQL storage backend for serenity-persist: one database that
//! several shard processes write and any process reads.
//!
//! [`PostgresStore`] keeps the cache in PostgreSQL (15 or newer) through
//! sqlx. Each batch is one transaction: it checks the process's shard
//! leases, plans the batch with the cache's shared semantics
//! ([`persist_core::write::plan`]) over the committed rows (one statement
//! per table for the objects it patches), then writes each table's removed
//! keys and objects in one statement each (`unnest` of one array per
//! column). The schema is migrated with refinery (`migrations/V{n}__*.sql`,
//! embedded) under an advisory lock.
//!
//! ## Several processes, one database
//!
//! A bot past one machine runs its shards in several processes. Each
//! writing process declares its shards
//! ([`LeaseConfig`](persist_sql::lease::LeaseConfig): `shard_ids`,
//! `shard_count`) and owns each through a row of `persist_leases` (owner,
//! expiry by the server's clock, fencing token). Every batch reads its
//! process's lease rows `FOR SHARE` in its own transaction and commits only
//! if every token is still the one the process took, so a process paused
//! past its lease (GC, SIGSTOP, a network partition) can never overwrite a
//! newer owner's writes: its batch fails with
//! [`Error::Fenced`](persist_core::Error::Fenced), which the cache counts
//! (`CacheStats::fenced_mutations`), logs and does not retry, and the
//! process writes nothing more. Leases renew every third of their TTL; a
//! process that dies loses its shards when its leases expire, and closing a
//! store ends them at once. Reconciliation (`RetainShardGuilds`) names its
//! shard, so it touches only guilds of shards the process runs.
//!
//! Users are seen by every shard, so every process writes them. An upsert
//! of a user replaces the stored row only if its `seen_at` (microseconds by
//! the writing process's clock when it applied the batch) is not older:
//! a process that read a user before another process wrote a newer copy
//! cannot put the older one back. Discord gives no version or timestamp for
//! users, so the clocks of the processes should agree (NTP); a clock that
//! steps back by *d* keeps that process's user updates from landing for *d*.
//!
//! A process that runs no shard opens the database read-only
//! ([`PostgresConfig::read_only`]): a dashboard or a worker, with the same
//! [`ReadApi`](persist_core::ReadApi).
//!
//! ## The schema
//!
//! One table per kind: `guilds`, `channels` (threads too, `is_thread = 1`),
//! `messages`, `users`, `members`, `roles`, `emojis`, `stickers`,
//! `voice_states`, `presences`, `stage_instances`, `scheduled_events`,
//! `thread_members`, `"current_user"` (quoted: `current_user` is a
//! reserved word), plus `persist_counts` (objects of each kind, kept by
//! statement triggers), `persist_leases`, `persist_hooks` and
//! `refinery_schema_history`. Ids are `snowflake`, a domain over
//! `numeric(20)`: every 64-bit snowflake compares and orders right (no
//! clamping at 2^63). `data` holds the object as `json` with Discord's
//! field names (not `jsonb`, which cannot hold U+0000, a character message
//! content may carry; cast to `jsonb` in a query where needed). A `schema` in [`PostgresConfig`] puts the tables there.
//!
//! ```sh
//! # Members of a guild
//! psql -c "SELECT user_id, nick FROM members WHERE guild_id = 1"
//! # The last messages of a channel
//! psql -c "SELECT id, data ->> 'content' FROM messages WHERE channel_id = 10 ORDER BY id DESC LIMIT 5"
//! # How much is cached, by kind
//! psql -c "SELECT kind, sum(n) FROM persist_counts GROUP BY kind ORDER BY kind"
//! # Who writes which shard
//! psql -c "SELECT shard_id, owner, token, expires_at FROM persist_leases ORDER BY shard_id"
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

pub use config::PostgresConfig;
pub use migrate::code_schema_version;
pub use persist_sql::lease::LeaseConfig;
pub use store::PostgresStore;
