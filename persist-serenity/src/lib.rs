//! serenity-persist for serenity 0.12 bots: a cache that survives restarts,
//! plugged into a `ClientBuilder` with one line.
//!
//! ```no_run
//! use persist_serenity::{ClientBuilderExt, Migrations, Persist, ReadApi};
//! use serenity::async_trait;
//! use serenity::model::channel::Message;
//! use serenity::prelude::*;
//!
//! struct Handler {
//!     persist: Persist,
//! }
//!
//! #[async_trait]
//! impl EventHandler for Handler {
//!     async fn message(&self, _ctx: Context, msg: Message) {
//!         // The message is already in the cache, with everything before it.
//!         use persist_serenity::convert::IntoCore;
//!         let stored = self.persist.message(msg.id.into_core()).await;
//!         assert!(matches!(stored, Ok(Some(_))));
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let persist = Persist::open_sqlite("bot-cache.db", &Migrations::new()).await?;
//! let intents = GatewayIntents::non_privileged() | GatewayIntents::MESSAGE_CONTENT;
//! let mut client = Client::builder(std::env::var("DISCORD_TOKEN")?, intents)
//!     .event_handler(Handler { persist: persist.clone() })
//!     .persist(&persist)
//!     .await?;
//! client.start().await?;
//! persist.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! - **Backends** by Cargo feature: `sqlite` (default; [`sqlite`],
//!   [`Persist::open_sqlite`]), `redb` (`Persist::open_redb`) and `sled`
//!   (`Persist::open_sled`); the in-memory [`MemoryStore`] is always
//!   there. Opening a store runs its migrations and the application's hooks.
//! - **Order**: events are applied in the order the shard received them,
//!   before serenity spawns the handlers (see the `hand_over` module's docs
//!   for how the first READY of each session is caught).
//! - **The shard never waits**: the events a shard sees most are converted
//!   from serenity's models straight to mutations and queued through a lane
//!   of the shard's own (no lock shared with other shards, no wait for the
//!   disk or for room). When the store falls behind, the queue grows up to
//!   [`CacheConfig::queue_memory_budget`] and then sheds in the order that
//!   field documents, counting it in [`Persist::stats`]; once the store has
//!   caught up, the guilds whose members were shed are asked for every
//!   member again.
//! - **Nothing lost silently**: events serenity cannot parse
//!   (`Event::Unknown`) are re-read from their raw JSON and applied; what
//!   cannot be applied is logged and counted by event name in
//!   [`Persist::stats`].
//! - **Unknown fields**: every model keeps the fields it does not name in
//!   `extra`, but serenity drops the fields it does not model while parsing
//!   (a channel's `guild_hashes`, a role's `colors.secondary_color`, an
//!   activity's `id`, permission bits it does not know, ...). So `extra`
//!   holds every field of events serenity could not parse, and for the
//!   others every field serenity models.
//! - **Restarts**: READY removes this shard's guilds the bot left while
//!   offline; GUILD_CREATE removes channels, roles and emojis that are gone;
//!   members are pruned only from complete lists
//!   ([`Persist::request_all_members`]).

#![warn(missing_docs)]

mod builder;
pub mod convert;
mod events;
mod hand_over;
mod persist;
mod resync;
mod tap;

/// Locks a mutex, recovering it if poisoned: nothing in this crate panics
/// while holding one, so its data is still whole.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

pub use builder::{ClientBuilderExt, PersistKey, PersistedClientBuilder};
pub use persist::{Persist, PersistStats};
pub use tap::GatewayStats;

pub use persist_core::{
    self, Cache, CacheConfig, CacheStats, ChannelId, ContentMode, Error, GuildId, MemoryStore,
    MessageId, MessagePage, Migrations, Query, ReadApi, ResourceKind, Result, RoleId, Ruleset,
    Store, UserId, model,
};

/// The SQLite backend (feature `sqlite`, on by default).
#[cfg(feature = "sqlite")]
pub use persist_sqlite as sqlite;

/// The redb backend (feature `redb`).
#[cfg(feature = "redb")]
pub use persist_redb as redb;

/// The sled backend (feature `sled`).
#[cfg(feature = "sled")]
pub use persist_sled as sled;

/// The PostgreSQL backend (feature `postgres`).
#[cfg(feature = "postgres")]
pub use persist_postgres as postgres;

/// The MySQL / MariaDB backend (feature `mysql`).
#[cfg(feature = "mysql")]
pub use persist_mysql as mysql;

/// Which shards a process writes to a shared database (features
/// `postgres`, `mysql`).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub use persist_sql::lease::LeaseConfig;

/// serenity itself, as this crate was built against (0.12.5).
pub use serenity;
