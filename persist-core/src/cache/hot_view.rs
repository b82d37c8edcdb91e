//! Synchronous typed reads of what the hot tier holds: serenity's `Cache`
//! getters are synchronous and bot code relies on that.

use std::sync::Arc;

use crate::model::{
    Channel, CurrentUser, Emoji, Guild, Member, Message, Presence, Role, ScheduledEvent,
    StageInstance, Sticker, ThreadMember, User, VoiceState,
};
use crate::{
    Answer, ChannelId, EmojiId, GuildId, MessageId, MessagePage, Query, RoleId, ScheduledEventId,
    StageInstanceId, StickerId, UserId,
};

use super::Cache;

/// The hot tier's answers, without waiting: each getter returns `None`
/// when the answer is not in memory (the async getter of
/// [`ReadApi`](crate::ReadApi) then reads the store), and `Some(answer)`
/// otherwise, where the answer is what the async getter would return
/// (messages come shared, as `Arc<Message>`, so a page costs no copy).
/// Made by [`Cache::hot`].
///
/// ```
/// use persist_core::{Cache, GuildId, MemoryStore, Migrations, Mutation, model::Guild};
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
/// let guild = Guild { id: GuildId::new(1), name: "ferris club".into(), ..Default::default() };
/// cache.enqueue_now([Mutation::upsert(guild)])?;
/// // Guilds are pinned in memory: known at once, and known to exist.
/// let name = cache.hot().guild(GuildId::new(1)).flatten().map(|g| g.name);
/// assert_eq!(name.as_deref(), Some("ferris club"));
/// // Members are loaded by reading them: not in memory yet.
/// assert!(cache.hot().member(GuildId::new(1), persist_core::UserId::new(2)).is_none());
/// # cache.shutdown().await?;
/// # Ok::<(), persist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HotView<'c> {
    cache: &'c Cache,
}

macro_rules! hot_getter {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty, $query:expr, $variant:ident) => {
        $(#[$doc])*
        pub fn $name(&self, $($arg: $ty),*) -> Option<$out> {
            match self.cache.try_read(&$query)? {
                Answer::$variant(v) => Some(v),
                _ => None,
            }
        }
    };
}

impl HotView<'_> {
    crate::read_api::memory_getters!(hot_getter);

    /// A message by id, shared with memory rather than copied (an `Arc`
    /// derefs to the message; `Arc::unwrap_or_clone` gives one to own).
    pub fn message(&self, id: MessageId) -> Option<Option<Arc<Message>>> {
        let held = self.cache.inner.hot_message(id)?;
        let oldest = self.cache.oldest_kept_message();
        Some(held.filter(|m| oldest.is_none_or(|oldest| m.id >= oldest)))
    }

    /// A page of a channel's messages, newest first, shared with memory
    /// rather than copied.
    pub fn channel_messages(
        &self,
        channel_id: ChannelId,
        page: MessagePage,
        limit: usize,
    ) -> Option<Vec<Arc<Message>>> {
        let mut held = self
            .cache
            .inner
            .hot_channel_messages(channel_id, page, limit)?;
        if let Some(oldest) = self.cache.oldest_kept_message() {
            held.retain(|m| m.id >= oldest);
        }
        Some(held)
    }
}

impl Cache {
    /// Synchronous typed reads of what is in memory (see [`HotView`]).
    pub fn hot(&self) -> HotView<'_> {
        HotView { cache: self }
    }
}
