//! Installing the cache's collector on every shard runner before its first
//! event, so that no event is missed or applied twice.
//!
//! Collectors run in the shard runner, in arrival order, before serenity
//! spawns the handlers, which is what the cache needs. But a runner is
//! created with none, and the first events of a session (READY and the
//! GUILD_CREATEs right behind it) can be processed before any task outside
//! the runner gets to add one. serenity 0.12.5 awaits one hook inside the
//! runner before READY reaches the collectors: the voice manager's
//! `register_shard`, called from the runner's own loop on every READY. So
//! the cache registers as the voice manager (forwarding every call to the
//! one the bot had, such as songbird) and, inside `register_shard`, while the
//! runner waits, adds its collector to that runner. READY is then the first
//! event the collector sees, and every later event of the session follows
//! in order.
//!
//! - First connect and every re-IDENTIFY: a new runner, a new READY, a new
//!   collector before it.
//! - RESUME: the runner and its collector carry on; replayed events arrive
//!   in order through the same collector.
//! - A second READY in one runner (not something serenity does): the new
//!   collector takes over and the old one removes itself, via a per-shard
//!   generation, so nothing is applied twice.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use serenity::futures::channel::mpsc::UnboundedSender as Sender;
use serenity::gateway::{CollectorCallback, ShardManager, ShardRunnerMessage, VoiceGatewayManager};
use serenity::model::id::{GuildId, ShardId, UserId};
use serenity::model::voice::VoiceState;

use crate::lock;
use crate::tap::Tap;

/// How long `register_shard` waits for the runner to appear in the shard
/// manager (it is inserted right after it starts).
const RUNNER_WAIT: Duration = Duration::from_secs(30);

pub(crate) struct HandOver {
    tap: Arc<Tap>,
    inner: Option<Arc<dyn VoiceGatewayManager>>,
    manager: OnceLock<Weak<ShardManager>>,
    /// The newest collector's generation, per shard.
    generations: Mutex<HashMap<u32, Arc<AtomicU64>>>,
}

impl HandOver {
    pub(crate) fn new(tap: Arc<Tap>, inner: Option<Arc<dyn VoiceGatewayManager>>) -> Self {
        Self {
            tap,
            inner,
            manager: OnceLock::new(),
            generations: Mutex::new(HashMap::new()),
        }
    }

    /// Gives the hand-over the client's shard manager (before it starts).
    pub(crate) fn attach(&self, manager: &Arc<ShardManager>) {
        if self.manager.set(Arc::downgrade(manager)).is_err() {
            tracing::warn!("the cache was attached to a second client; it keeps the first");
        }
    }

    /// Adds the collector to the runner of `shard_id`, which is waiting for
    /// this call before it passes READY on.
    async fn tap_runner(&self, shard_id: u32) {
        let Some(manager) = self.manager.get().and_then(Weak::upgrade) else {
            tracing::error!(
                shard_id,
                "no shard manager attached: events of this shard are not cached"
            );
            return;
        };
        let deadline = tokio::time::Instant::now() + RUNNER_WAIT;
        loop {
            {
                let runners = manager.runners.lock().await;
                if let Some(runner) = runners.get(&ShardId(shard_id)) {
                    runner.runner_tx.add_collector(self.collector(shard_id));
                    self.tap.shard_started(Arc::downgrade(&manager));
                    tracing::info!(
                        shard_id,
                        "cache collector installed on the shard; its events are cached in order from READY on"
                    );
                    return;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::error!(
                    shard_id,
                    "the shard runner never appeared: events of this shard are not cached"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn collector(&self, shard_id: u32) -> CollectorCallback {
        let newest = Arc::clone(lock(&self.generations).entry(shard_id).or_default());
        let generation = newest.fetch_add(1, Ordering::AcqRel) + 1;
        let tap = Arc::clone(&self.tap);
        // The shard's own queue lane: no lock shared with other shards.
        let producer = tap.producer();
        // Runs for every event in the shard: one atomic load, no shared lock,
        // never a wait.
        CollectorCallback(Box::new(move |event| {
            if newest.load(Ordering::Acquire) != generation {
                // A newer collector took over this shard.
                return false;
            }
            // Disabled unless TRACE is on (a load of the callsite's interest).
            let _span =
                tracing::trace_span!("shard", shard_id, guild_id = tracing::field::Empty).entered();
            tap.apply_event_with(event, &producer);
            true
        }))
    }
}

#[async_trait]
impl VoiceGatewayManager for HandOver {
    async fn initialise(&self, shard_count: u32, user_id: UserId) {
        self.tap.set_shard_count(shard_count);
        if let Some(inner) = &self.inner {
            inner.initialise(shard_count, user_id).await;
        }
    }

    async fn register_shard(&self, shard_id: u32, sender: Sender<ShardRunnerMessage>) {
        self.tap_runner(shard_id).await;
        if let Some(inner) = &self.inner {
            inner.register_shard(shard_id, sender).await;
        }
    }

    async fn deregister_shard(&self, shard_id: u32) {
        if let Some(inner) = &self.inner {
            inner.deregister_shard(shard_id).await;
        }
    }

    async fn server_update(&self, guild_id: GuildId, endpoint: &Option<String>, token: &str) {
        if let Some(inner) = &self.inner {
            inner.server_update(guild_id, endpoint, token).await;
        }
    }

    async fn state_update(&self, guild_id: GuildId, voice_state: &VoiceState) {
        if let Some(inner) = &self.inner {
            inner.state_update(guild_id, voice_state).await;
        }
    }
}
