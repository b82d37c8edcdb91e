//! What the hot tier keeps whatever the budget, and the budget itself.

use std::sync::atomic::Ordering;

use super::queue::lock;
use super::{Cache, Pin};

impl Cache {
    /// Keeps something in memory whatever the budget (a channel a ticket
    /// system watches, a member a moderation tool reads on every message).
    /// It is loaded on its first read and never evicted until
    /// [`unpin`](Cache::unpin)ned.
    ///
    /// ```
    /// use persist_core::{Cache, ChannelId, MemoryStore, Migrations, Pin};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
    /// cache.pin(Pin::ChannelMessages(ChannelId::new(10)));
    /// # cache.shutdown().await?;
    /// # Ok::<(), persist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn pin(&self, pin: Pin) {
        lock(&self.inner.hot).pin(pin);
    }

    /// Lets a pinned object be evicted again.
    pub fn unpin(&self, pin: Pin) {
        lock(&self.inner.hot).unpin(pin);
    }

    /// Changes the memory budget (see [`CacheConfig::memory_budget`](crate::CacheConfig::memory_budget));
    /// a smaller one evicts at once. Nothing evicted is lost: it is in the
    /// store, or queued for it.
    ///
    /// ```
    /// use persist_core::{Cache, MemoryStore, Migrations};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
    /// cache.set_memory_budget(64 << 20);
    /// assert_eq!(cache.stats().memory_budget, 64 << 20);
    /// # cache.shutdown().await?;
    /// # Ok::<(), persist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_memory_budget(&self, bytes: usize) {
        self.inner.memory_budget.store(bytes, Ordering::Release);
        let mut hot = lock(&self.inner.hot);
        self.inner.fit_hot(&mut hot);
    }
}
