//! Bringing back what was shed: the guilds whose writes were shed and not
//! re-synced since, and the marks that say a resync's answer is complete.

use std::sync::atomic::Ordering;

use crate::{Error, GuildId, ResourceKind, Result};

use super::Cache;
use super::queue::lock;

impl Cache {
    /// Guilds whose writes were shed (the queue was over its memory budget)
    /// and not re-synced since, with what must be brought back.
    pub fn stale_guilds(&self) -> Vec<(GuildId, ResourceKind)> {
        let mut stale: Vec<_> = lock(&self.inner.stale)
            .iter()
            .map(|(g, kinds)| (*g, kinds.iter().map(|(k, _)| *k).collect()))
            .collect();
        stale.sort_unstable_by_key(|(g, _)| *g);
        stale
    }

    /// Records that `kinds` of a guild were re-synced, by an answer that
    /// was complete when it was queued (a GUILD_CREATE).
    pub fn mark_resynced(&self, guild_id: GuildId, kinds: ResourceKind) {
        self.mark_resynced_since(guild_id, kinds, u64::MAX);
    }

    /// The mark to take when asking for a resync whose answer arrives over
    /// time (a member request's chunks), for
    /// [`mark_resynced_since`](Cache::mark_resynced_since).
    pub fn shed_mark(&self) -> u64 {
        self.inner.shed_marks.load(Ordering::Acquire)
    }

    /// Records that `kinds` of a guild were re-synced by an answer asked
    /// for at `mark` (from [`shed_mark`](Cache::shed_mark)): a kind of the
    /// guild shed after the mark (part of the answer, or a change after it)
    /// stays stale, to be asked for again.
    ///
    /// ```
    /// use persist_core::{Cache, GuildId, MemoryStore, Migrations, ResourceKind};
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
    /// let mark = cache.shed_mark();
    /// // ... every chunk of the guild's member list arrived and was queued ...
    /// cache.mark_resynced_since(GuildId::new(1), ResourceKind::MEMBERS, mark);
    /// assert!(cache.stale_guilds().is_empty());
    /// # cache.shutdown().await?;
    /// # Ok::<(), persist_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn mark_resynced_since(&self, guild_id: GuildId, kinds: ResourceKind, mark: u64) {
        let mut stale = lock(&self.inner.stale);
        if let Some(left) = stale.get_mut(&guild_id) {
            left.retain(|(kind, shed_at)| !(kinds.contains(*kind) && *shed_at <= mark));
            if left.is_empty() {
                stale.remove(&guild_id);
            }
        }
    }

    /// Whether the cache can take a resync now: the queue is back under its
    /// memory budget and the last commit succeeded.
    pub fn ready_for_resync(&self) -> bool {
        !self.inner.shedding.load(Ordering::Acquire) && self.inner.healthy.load(Ordering::Acquire)
    }

    /// Waits until guilds are stale and the cache can take a resync (the
    /// queue is back under its budget and the last commit succeeded), then
    /// returns them; `Err(Closed)` after shutdown. (It holds the cache while
    /// it waits.)
    pub async fn wait_for_resync(&self) -> Result<Vec<(GuildId, ResourceKind)>> {
        loop {
            let ready = self.inner.resync_ready.notified();
            if self.inner.queue.closed.load(Ordering::Acquire) {
                return Err(Error::Closed);
            }
            let stale = self.stale_guilds();
            if !stale.is_empty() && self.ready_for_resync() {
                return Ok(stale);
            }
            ready.await;
        }
    }
}
