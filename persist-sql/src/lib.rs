//! What the SQL backends of serenity-persist (SQLite, PostgreSQL, MySQL)
//! share, so each implements only its engine's primitives:
//!
//! - [`Table`]: the schema's tables, their key and typed columns, and how a
//!   record fills them ([`Column`]); [`write_object`] / [`read_object`]: the
//!   object as stored in `data`.
//! - [`Dialect`] and [`sql!`]: one statement text, rendered once per
//!   dialect (placeholders, how ids and `data` are bound and selected).
//! - [`migrate`]: refinery's migrations run through any sqlx connection.
//! - [`read::answer`]: the read API's queries, over a backend's
//!   [`read::SqlReads`].
//! - [`scope::listing`]: the key listings the cache's write semantics ask
//!   of an engine ([`persist_core::write::Scope`]).
//! - [`lease`]: shard leases with fencing tokens, for several processes
//!   writing one database; [`writer::Writer`]: a server backend's writer
//!   connection, whose batches check them.
#![warn(missing_docs)]

mod blocking;
mod codec;
mod dialect;
mod engine;
pub mod lease;
pub mod migrate;
pub mod read;
pub mod scope;
pub mod server;
mod shared;
mod table;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod writer;

pub use blocking::off_runtime;
pub use codec::{decode_data, read_object, write_object};
pub use dialect::{Bind, Dialect};
pub use engine::{CommittedRows, SqlEngine, place_row};
pub use shared::SharedWriter;
pub use table::{CHUNKS, Column, ColumnType, Table};

/// Microseconds since the Unix epoch, now (the `seen_at` of users, lease
/// bookkeeping).
pub fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}
