//! The core of serenity-persist: a persistent cache for Discord bots.
//!
//! - [`model`]: what is cached (guilds, channels and threads, messages,
//!   members, users, roles, emojis, stickers, voice states, presences, stage
//!   instances, scheduled events, the bot's own user), each keeping unknown
//!   fields in `extra`.
//! - [`Mutation`]: the unit of change (upserts, partial [`Patch`]es, deletes
//!   with their cascades, reactions, bulk deletes, caps and prunes).
//! - [`Ruleset`]: what is cached, for which guilds, how long, how many
//!   messages per channel, which fields.
//! - [`Store`]: the trait every storage engine implements, with
//!   [`Migrations`] hooks; [`MemoryStore`] implements it in memory.
//! - [`Cache`]: the front a bot talks to: bounded, coalescing, batched writes
//!   with read-your-writes reads.
//! - [`ReadApi`]: typed getters shaped like serenity's, on a cache or a store.
//! - `testkit` (feature `testkit`): the conformance suite every store passes.
//!
//! An event comes in, becomes mutations, is batched, lands in a store, and is
//! read back through one query API:
//!
//! ```
//! use persist_core::{Cache, MemoryStore, Migrations, Mutation, Patch, ReadApi, model::Message};
//! use persist_core::{ChannelId, MessageId, MessagePage};
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let store = MemoryStore::open(&Migrations::new()).await?;
//! let cache = Cache::new(store, Default::default(), Default::default())?;
//! let channel = ChannelId::new(10);
//! for id in 1..=3 {
//!     let message = Message { id: MessageId::new(id), channel_id: channel, content: format!("#{id}"), ..Default::default() };
//!     cache.enqueue(Mutation::upsert(message)).await?;
//! }
//! cache.enqueue(Patch::message(channel, MessageId::new(2), serde_json::json!({"content": "edited"}))?.into()).await?;
//! let page = cache.channel_messages(channel, MessagePage::Latest, 2).await?;
//! assert_eq!(page.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(), ["#3", "edited"]);
//! cache.shutdown().await?;
//! # Ok::<(), persist_core::Error>(())
//! # }).unwrap();
//! ```
#![warn(missing_docs)]

mod cache;
mod entity;
mod error;
pub mod gateway;
mod heap_size;
mod id;
mod memory_store;
mod migration;
pub mod model;
mod mutation;
mod nesting;
mod patch;
mod query;
mod read_api;
mod resource;
mod ruleset;
mod store;
mod timestamp;
pub mod write;

#[cfg(feature = "testkit")]
pub mod testkit;

/// Compiles the README's examples with the doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

pub use cache::{
    Cache, CacheConfig, CacheStats, DEFAULT_PINNED_KINDS, DeadLetter, HotKindStats, HotStats,
    HotView, MAX_BATCH_DELAY, Pin, Producer,
};
pub use entity::{Entity, EntityKey, Record};
pub use error::{ConfigError, Error, Result};
pub use heap_size::HeapSize;
pub use id::{
    ApplicationId, AttachmentId, ChannelId, DISCORD_EPOCH_MS, EmojiId, ForumTagId, GuildId,
    MessageId, RoleId, ScheduledEventId, SkuId, StageInstanceId, StickerId, StickerPackId,
    TargetId, UserId, WebhookId,
};
pub use memory_store::{MEMORY_SCHEMA_VERSION, MemoryStore};
pub use migration::{MigrationHook, Migrations};
pub use model::{Permissions, ReactionEmoji};
pub use mutation::{Mutation, ReactionChange, shard_of};
pub use nesting::MAX_NESTING;
pub use patch::{MemberPatch, MessagePatch, Patch, UserPatch};
pub use query::{Answer, Counts, MessagePage, Query, listed};
pub use read_api::ReadApi;
pub use resource::ResourceKind;
pub use ruleset::{ContentMode, DEFAULT_MESSAGE_CAP, MAX_MESSAGE_AGE, Ruleset, RulesetBuilder};
pub use store::{AppliedHook, BoxFuture, Store};
pub use timestamp::{InvalidTimestamp, Timestamp};

macro_rules! record_from {
    ($($ty:ident),*) => {
        $(
            impl From<model::$ty> for Record {
                fn from(value: model::$ty) -> Self {
                    Record::$ty(value)
                }
            }
        )*
    };
}

record_from!(
    CurrentUser,
    Guild,
    Channel,
    Message,
    User,
    Member,
    Role,
    Emoji,
    Sticker,
    VoiceState,
    Presence,
    StageInstance,
    ScheduledEvent,
    ThreadMember
);
