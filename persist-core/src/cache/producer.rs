//! [`Producer`]: a queue lane of one's own, for a source of events that
//! runs often (a gateway shard).

use std::sync::Arc;

use super::Cache;
use super::queue::Lane;
use crate::{Mutation, Result};

/// Queues mutations into the cache through a lane of its own: producers
/// share no lock with each other, and a push never waits (see
/// [`Cache::enqueue_now`] for what happens when the store falls behind).
/// Mutations from all producers are applied in the order they were pushed.
///
/// ```
/// use persist_core::{Cache, MemoryStore, Migrations, Mutation, model::Guild, GuildId, ReadApi};
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let cache = Cache::new(MemoryStore::open(&Migrations::new()).await?, Default::default(), Default::default())?;
/// let shard_0 = cache.producer();
/// let guild = Guild { id: GuildId::new(1), name: "ferris club".into(), ..Default::default() };
/// shard_0.enqueue_now([Mutation::upsert(guild)])?;
/// assert!(cache.guild(GuildId::new(1)).await?.is_some());
/// # cache.shutdown().await?;
/// # Ok::<(), persist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Producer {
    cache: Cache,
    lane: Arc<Lane>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer").finish_non_exhaustive()
    }
}

impl Producer {
    pub(super) fn new(cache: Cache, lane: Arc<Lane>) -> Self {
        Self { cache, lane }
    }

    /// Queues one event's mutations, in order, after the ruleset; never waits.
    pub fn enqueue_now(&self, mutations: impl IntoIterator<Item = Mutation>) -> Result<()> {
        self.cache
            .inner
            .push(&self.lane, mutations, super::Origin::Gateway)
    }

    /// Queues the answer to a resync the application asked for (the chunks
    /// answering its member request), after the ruleset; never waits.
    /// Unlike [`enqueue_now`](Producer::enqueue_now), the members, users
    /// and presences such an answer lists are never shed past the queue's
    /// budget: an answer shed in part leaves its guild stale, and asked for
    /// again it could be shed again. The caller bounds how much it asks for
    /// at once (serenity-persist's resync asks for a few guilds at a time).
    pub fn enqueue_requested_now(
        &self,
        mutations: impl IntoIterator<Item = Mutation>,
    ) -> Result<()> {
        self.cache
            .inner
            .push(&self.lane, mutations, super::Origin::RequestedResync)
    }

    /// The cache this producer feeds.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }
}
