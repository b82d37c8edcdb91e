//! serenity-persist for serenity 0.12 bots: a cache that survives restarts,
//! plugged into a `ClientBuilder` with one line, read with serenity's own
//! ids and models.
//!
//! ```no_run
//! use persist_serenity::prelude::*;
//! use serenity::all::*;
//!
//! struct Handler {
//!     persist: Persist,
//! }
//!
//! #[async_trait]
//! impl EventHandler for Handler {
//!     async fn message(&self, _ctx: Context, msg: Message) {
//!         // The message is already in the cache, with everything before it.
//!         let stored = self.persist.message(msg.channel_id, msg.id).await;
//!         assert!(matches!(stored, Ok(Some(_))));
//!         if let Some(guild_id) = msg.guild_id {
//!             if let Ok(Some(member)) = self.persist.member(guild_id, msg.author.id).await {
//!                 println!("{} wrote {}", member.display_name(), msg.content);
//!             }
//!         }
//!     }
//! }
//!
//! # async fn run() -> std::result::Result<(), Box<dyn std::error::Error>> {
//! let persist = Persist::builder().sqlite("bot-cache.db").open().await?;
//! let intents = GatewayIntents::non_privileged() | GatewayIntents::MESSAGE_CONTENT;
//! let mut client = Client::builder(std::env::var("DISCORD_TOKEN")?, intents)
//!     .event_handler(Handler { persist: persist.clone() })
//!     .persist(&persist)
//!     .await?;
//! let ended = client.start().await;
//! persist.shutdown().await?; // whether the client ended well or not
//! ended?;
//! # Ok(()) }
//! ```
//!
//! - **Opening**: [`Persist::builder`] takes the store (`.sqlite(path)`,
//!   `.redb(..)`, `.sled(..)`, `.postgres(..)`, `.mysql(..)`, `.memory()`),
//!   the [`Ruleset`] (what is cached), the [`CacheConfig`] (batching,
//!   memory) and the application's [`Migrations`]; [`PersistConfig`] reads
//!   the same from a `[persist]` table of the bot's TOML file or from
//!   `PERSIST_*` variables.
//! - **Reading**: `persist.guild(guild_id)`, `member(guild_id, user_id)`,
//!   `message(channel_id, message_id)`, `channel_messages(channel_id,
//!   target, limit)`, ... take serenity's ids and give serenity's models
//!   (converted field by field: [`convert`]). The same reads in
//!   persist-core's types are `persist.cache()`'s ([`ReadApi`]).
//! - **Which store**: see "Which store to pick" below.
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
//! - **Shutdown**: [`Persist::shutdown`] commits what is queued, checkpoints
//!   and closes the store (a SQLite file is left without `-wal`/`-shm`), and
//!   is safe to call twice; [`Persist::shutdown_on_drop`] runs it when
//!   `main` returns early.
//! - **Logs** (`tracing`, target `persist_*`): INFO once per thing an
//!   operator wants to know (store opened, migrations, a shard's collector
//!   installed, reconciliation with counts, shed or failed events,
//!   shutdown with what was committed), DEBUG per batch, TRACE per event,
//!   inside spans carrying the shard id and guild id.
//!
//! # Which store to pick
//!
#![doc = include_str!("../STORES.md")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client_builder;
mod config;
pub mod convert;
mod events;
mod hand_over;
mod persist;
mod persist_builder;
mod reads;
mod resync;
mod shutdown_guard;
mod tap;

/// Locks a mutex, recovering it if poisoned: nothing in this crate panics
/// while holding one, so its data is still whole.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

pub use client_builder::{ClientBuilderExt, PersistKey, PersistedClientBuilder};
pub use config::{PersistConfig, RulesSettings, SqliteSettings};
pub use persist::{Persist, PersistStats};
pub use persist_builder::{PersistBuilder, StoreChoice};
pub use reads::MAX_MEMBERS_PAGE;
pub use shutdown_guard::ShutdownGuard;
pub use tap::GatewayStats;

// persist-core's ids and `Cache` are not re-exported here: they would clash
// with serenity's under `use serenity::all::*`. They are `persist_core::*`.
pub use persist_core::{
    self, CacheConfig, CacheStats, ContentMode, Error, Migrations, ReadApi, ResourceKind, Result,
    Ruleset, Store, model,
};

/// What a bot needs, importable next to `use serenity::all::*` without a
/// clash (the error and result types are renamed).
///
/// ```
/// use persist_serenity::prelude::*;
/// use serenity::all::*;
/// // serenity's names stay serenity's:
/// let _: Option<Message> = None;
/// let _: GuildId = GuildId::new(1);
/// // (and serenity's `Cache`, with its `cache` feature, as the prelude has none)
/// let _: std::result::Result<(), Error> = Ok(());
/// let _: Result<()> = Ok(());
/// // and ours are ours:
/// let _: std::result::Result<(), PersistError> = Ok(());
/// let _: PersistResult<()> = Ok(());
/// let _ = Persist::builder();
/// ```
pub mod prelude {
    pub use crate::{
        CacheConfig, ClientBuilderExt, ContentMode, Migrations, Persist, PersistBuilder,
        PersistConfig, ResourceKind, Ruleset, ShutdownGuard,
    };
    pub use crate::{Error as PersistError, Result as PersistResult};
}

/// The SQLite backend (feature `sqlite`, on by default).
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use persist_sqlite as sqlite;

/// The redb backend (feature `redb`).
#[cfg(feature = "redb")]
#[cfg_attr(docsrs, doc(cfg(feature = "redb")))]
pub use persist_redb as redb;

/// The sled backend (feature `sled`).
#[cfg(feature = "sled")]
#[cfg_attr(docsrs, doc(cfg(feature = "sled")))]
pub use persist_sled as sled;

/// The PostgreSQL backend (feature `postgres`).
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use persist_postgres as postgres;

/// The MySQL / MariaDB backend (feature `mysql`).
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use persist_mysql as mysql;

/// Which shards a process writes to a shared database (features
/// `postgres`, `mysql`).
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "postgres", feature = "mysql"))))]
pub use persist_sql::lease::LeaseConfig;

/// serenity itself, as this crate was built against (0.12.5).
pub use serenity;
