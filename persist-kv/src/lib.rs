//! The key layout, value encoding and store logic shared by serenity-persist's
//! key-value backends (`persist-redb`, `persist-sled`).
//!
//! An engine provides two things ([`KvEngine`]): a consistent read view and
//! an atomic, durable commit of a write set. Everything else is here:
//!
//! - **Layout** ([`Space`]): objects under big-endian ids, and index spaces
//!   of big-endian (scope, id) keys, so every read of the read API is a
//!   point get or one range scan: a guild's members page by `after`/`limit`
//!   over `members` (guild, user); a channel's messages page by
//!   `before`/`after`/`around` over `channel_messages` (channel, message);
//!   the guilds a user shares with the bot are `user_guilds` (user, guild).
//!   Indexes are written in the same transaction as the objects they index.
//! - **Encoding** ([`codec`]): a format byte, then MessagePack by field name.
//! - **Batches**: the cache's semantics ([`persist_core::write::plan`]) read
//!   the committed view through point gets and scope listings (index range
//!   scans) and give the batch's net changes; [`Txn`] stages them with their
//!   index entries, per-channel message counts and the number of threads
//!   (in `meta`), and commits one write set. Counting a kind is the
//!   engine's count of a space's keys: O(1) in redb (kept in each table's
//!   header) and in sled (kept in `meta` by its commit).
//! - **Layouts and hooks** ([`KvStore`]): the layout version lives in the
//!   `meta` space; opening upgrades older layouts step by step, refuses newer
//!   ones untouched, then runs the application's migration hooks.
#![warn(missing_docs)]

pub mod codec;
mod committed;
mod engine;
pub mod key;
mod read;
mod space;
mod store;
mod txn;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use engine::{KvEngine, KvRead, LOCK_WAIT, Pair, WriteSet, open_waiting_for_lock};
pub use read::{answer, decode_record};
pub use space::Space;
pub use store::{CURRENT_LAYOUT, KvStore, batch_writes, stored_layout};
pub use txn::{LAYOUT_THREAD_COUNT, LAYOUT_USER_GUILDS, Txn, meta_count};

use persist_core::EntityKey;

/// Where an object lives: its space and key.
pub fn location(entity: &EntityKey) -> (Space, Vec<u8>) {
    match *entity {
        EntityKey::CurrentUser => (Space::CurrentUser, key::one(0).to_vec()),
        EntityKey::Guild(id) => (Space::Guilds, key::one(id.get()).to_vec()),
        EntityKey::Channel(id) => (Space::Channels, key::one(id.get()).to_vec()),
        EntityKey::Message(id) => (Space::Messages, key::one(id.get()).to_vec()),
        EntityKey::User(id) => (Space::Users, key::one(id.get()).to_vec()),
        EntityKey::Role(id) => (Space::Roles, key::one(id.get()).to_vec()),
        EntityKey::Emoji(id) => (Space::Emojis, key::one(id.get()).to_vec()),
        EntityKey::Sticker(id) => (Space::Stickers, key::one(id.get()).to_vec()),
        EntityKey::StageInstance(id) => (Space::StageInstances, key::one(id.get()).to_vec()),
        EntityKey::ScheduledEvent(id) => (Space::ScheduledEvents, key::one(id.get()).to_vec()),
        EntityKey::Member(g, u) => (Space::Members, key::two(g.get(), u.get()).to_vec()),
        EntityKey::VoiceState(g, u) => (Space::VoiceStates, key::two(g.get(), u.get()).to_vec()),
        EntityKey::Presence(g, u) => (Space::Presences, key::two(g.get(), u.get()).to_vec()),
        EntityKey::ThreadMember(t, u) => {
            (Space::ThreadMembers, key::two(t.get(), u.get()).to_vec())
        }
    }
}

/// Implements [`persist_core::Store`] for a newtype over a [`KvStore`] by
/// forwarding every call to it (each engine crate names its store this way).
#[macro_export]
macro_rules! forward_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl ::persist_core::Store for $store {
            fn backend(&self) -> &'static str {
                self.0.backend()
            }

            async fn apply(
                &self,
                batch: &[::persist_core::Mutation],
            ) -> ::persist_core::Result<()> {
                self.0.apply(batch).await
            }

            async fn read(
                &self,
                query: &::persist_core::Query,
            ) -> ::persist_core::Result<::persist_core::Answer> {
                self.0.read(query).await
            }

            async fn schema_version(&self) -> ::persist_core::Result<u32> {
                self.0.schema_version().await
            }

            async fn applied_hooks(
                &self,
            ) -> ::persist_core::Result<Vec<::persist_core::AppliedHook>> {
                self.0.applied_hooks().await
            }

            async fn record_hook(
                &self,
                hook: &::persist_core::AppliedHook,
            ) -> ::persist_core::Result<()> {
                self.0.record_hook(hook).await
            }
        }
    };
}
