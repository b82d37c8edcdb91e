//! The errors of serenity-persist.

use crate::{EntityKey, ResourceKind};

/// Anything that can go wrong opening, writing or reading a cache.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A ruleset or pipeline setting is invalid; found when the cache is built.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),

    /// The store was written by newer code; it was left untouched.
    #[error(
        "the store's schema is version {found} but this build supports at most {supported}; \
         the store was left untouched (upgrade serenity-persist to open it)"
    )]
    SchemaTooNew {
        /// Schema version found in the store.
        found: u32,
        /// Newest schema version this code knows.
        supported: u32,
    },

    /// The store records an application migration hook this application does not register.
    #[error(
        "the store records application migration {found}, newer than the newest registered \
         hook ({registered}); the store was left untouched"
    )]
    HookTooNew {
        /// Newest hook version recorded in the store.
        found: u32,
        /// Newest hook version the application registered (0 if none).
        registered: u32,
    },

    /// An application migration hook failed; it is not recorded and runs again next open.
    #[error("migration hook {version} ({name}) failed: {source}")]
    Hook {
        /// The hook's version.
        version: u32,
        /// The hook's name.
        name: String,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },

    /// The storage engine failed (I/O, locking, a driver error, ...).
    #[error("{backend} store: {context}: {source}")]
    Backend {
        /// Which backend ("memory", "sqlite", ...).
        backend: &'static str,
        /// What the store was doing.
        context: String,
        /// The engine's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The store exists but this process cannot write it (a read-only file
    /// or directory, a read-only mount); found when the store is opened.
    #[error("{backend} store {path} cannot be written: {reason}")]
    Unwritable {
        /// Which backend.
        backend: &'static str,
        /// The store's path.
        path: String,
        /// What refused the write.
        reason: String,
    },

    /// A batch was refused because this process no longer owns all its
    /// shards: another process took one over after this one's lease ran
    /// out (it was paused or cut off). The batch is not retried: the new
    /// owner re-syncs those shards from Discord. Counted in
    /// `CacheStats::fenced_mutations`.
    #[error(
        "this process ({owner}) lost a shard lease to another process; its writes are refused \
         so they cannot overwrite the new owner's (restart it to take shards again)"
    )]
    Fenced {
        /// This process's owner name.
        owner: String,
    },

    /// Opening waited for a shard's lease and another live process still
    /// holds it (two processes configured with the same shard?).
    #[error(
        "shard {shard_id} is leased by {owner}, which kept it for {waited:?}; is another process running it?"
    )]
    LeaseHeld {
        /// The shard.
        shard_id: u32,
        /// Who holds it.
        owner: String,
        /// How long opening waited.
        waited: std::time::Duration,
    },

    /// The store was opened read-only (a process that runs no shard): it
    /// answers reads and refuses writes.
    #[error("the {backend} store was opened read-only; it cannot apply writes")]
    ReadOnly {
        /// Which backend.
        backend: &'static str,
    },

    /// A stored object could not be given in the bot library's types (a
    /// value its type cannot hold, such as a role position past 65,535).
    #[error("cannot convert to {to}: {reason}")]
    Conversion {
        /// The type converted to (serenity's `Message`, ...).
        to: &'static str,
        /// Why.
        reason: String,
    },

    /// A stored record could not be decoded; the store keeps working.
    #[error("stored record {key} could not be decoded: {reason}")]
    Corrupt {
        /// Which record.
        key: String,
        /// Why.
        reason: String,
    },

    /// A payload or patch does not describe a valid object of its kind.
    #[error("invalid {kind:?} data: {reason}")]
    InvalidData {
        /// The kind of object.
        kind: ResourceKind,
        /// Why it was refused.
        reason: String,
    },

    /// `Cache::new` was called outside a tokio runtime.
    #[error("the cache must be started within a tokio runtime (it runs a writer task)")]
    NoRuntime,

    /// The cache was shut down; nothing more can be enqueued.
    #[error("the cache has been shut down")]
    Closed,

    /// The write queue is full (only from `try_enqueue`; `enqueue` waits instead).
    #[error("the write queue is full ({capacity} mutations)")]
    QueueFull {
        /// The queue's bound.
        capacity: usize,
    },

    /// Some mutations could not be stored even after retries; they are kept in
    /// the dead-letter list (see `Cache::dead_letters`).
    #[error("{count} mutation(s) could not be stored; see Cache::dead_letters()")]
    Rejected {
        /// How many were rejected while the call waited.
        count: u64,
    },

    /// `flush` waited `CacheConfig::flush_timeout` and
    /// the queue was still not committed: the store is failing (see
    /// `CacheStats::last_error`) or slower than the backlog needs. Nothing
    /// is lost: the writer keeps committing.
    #[error(
        "{pending} mutation(s) were still not committed after {waited:?}; the store is failing \
         (see stats().last_error) or too slow for the backlog, and the writer keeps committing"
    )]
    FlushTimedOut {
        /// Mutations queued or in flight when the wait gave up.
        pending: usize,
        /// How long it waited.
        waited: std::time::Duration,
    },

    /// `shutdown` could not commit everything within
    /// `CacheConfig::flush_timeout`; what was not committed is in the
    /// dead-letter list (`Cache::take_dead_letters`), in arrival order.
    #[error(
        "shutdown: {count} mutation(s) could not be committed in time; they were moved to \
         the dead-letter list (Cache::take_dead_letters)"
    )]
    NotCommitted {
        /// How many mutations were not committed.
        count: usize,
    },

    /// A store answered a read with the wrong kind of answer (a backend bug).
    #[error("the store answered a {query} query with {answer}")]
    UnexpectedAnswer {
        /// The query's name.
        query: &'static str,
        /// The answer's name.
        answer: &'static str,
    },

    /// A mutation names an object the operation cannot apply to.
    #[error("mutation on {key} cannot be applied: {reason}")]
    InvalidMutation {
        /// The object.
        key: EntityKey,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// Wraps an engine error with the backend's name and what it was doing.
    pub fn backend(
        backend: &'static str,
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Backend {
            backend,
            context: context.into(),
            source: source.into(),
        }
    }
}

/// An invalid ruleset or pipeline setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A guild is both allowed and denied.
    #[error("guild {0} is both in the allow list and in the deny list")]
    GuildAllowedAndDenied(crate::GuildId),
    /// The allow list is present but empty, so nothing guild-scoped would be cached.
    #[error("the guild allow list is empty; remove it to allow every guild")]
    EmptyAllowList,
    /// A duration setting is out of its range (zero where that makes no
    /// sense, or so long it voids a promise: a flush window of a day).
    #[error(
        "{setting} must be between {} and {}, got {}",
        humantime::format_duration(*min),
        humantime::format_duration(*max),
        humantime::format_duration(*value)
    )]
    DurationOutOfRange {
        /// The setting's name.
        setting: &'static str,
        /// Shortest allowed value.
        min: std::time::Duration,
        /// Longest allowed value.
        max: std::time::Duration,
        /// The value given.
        value: std::time::Duration,
    },
    /// A count setting is zero or out of range.
    #[error("{setting} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// The setting's name.
        setting: &'static str,
        /// Smallest allowed value.
        min: u64,
        /// Largest allowed value.
        max: u64,
        /// The value given.
        value: u64,
    },
    /// A setting's value is malformed (a database URL that does not
    /// parse, a schema name with characters SQL would need quoted, a lease
    /// configuration that cannot be leased). Never echoes a password.
    #[error("invalid {setting}: {reason}")]
    Invalid {
        /// The setting's name.
        setting: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Two migration hooks share a version.
    #[error("two migration hooks have version {0}")]
    DuplicateHook(u32),
    /// Migration hook versions start at 1.
    #[error("migration hook versions start at 1")]
    HookVersionZero,
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
