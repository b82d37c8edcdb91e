//! Re-syncing what the cache shed while the store was behind, once it has
//! caught up: members are requested again from the shard that owns the
//! guild; the other kinds come back with the guild's next GUILD_CREATE (or
//! an explicit [`Persist::request_all_members`](crate::Persist::request_all_members)).

use std::collections::HashMap;
use std::sync::Weak;
use std::time::{Duration, Instant};

use persist_core::{GuildId, ReadApi, ResourceKind, shard_of};
use serenity::gateway::ShardManager;
use serenity::model::id::ShardId;

use crate::tap::Tap;

/// How often the task looks for stale guilds (it holds nothing meanwhile,
/// so a cache that is shut down and dropped is not kept open).
const POLL: Duration = Duration::from_secs(1);
/// How long to wait before asking again for a guild still stale (a member
/// request whose chunks never came, or lost some to shedding).
const RETRY: Duration = Duration::from_secs(60);
/// The most member requests left unanswered at once. Answers are never
/// shed (see `Producer::enqueue_requested_now`), so these bound what they
/// hold in the queue past its budget.
const MAX_OPEN_REQUESTS: usize = 4;
/// A guild with more members than this is asked for alone.
const LARGE_GUILD: u64 = 10_000;

/// Runs until the cache shuts down.
pub(crate) async fn run(tap: Weak<Tap>, manager: Weak<ShardManager>) {
    let mut asked: HashMap<GuildId, Instant> = HashMap::new();
    loop {
        tokio::time::sleep(POLL).await;
        let Some(tap) = tap.upgrade() else {
            return;
        };
        let cache = tap.cache();
        if cache.is_closed() {
            return;
        }
        let stale = cache.stale_guilds();
        asked.retain(|guild, at| at.elapsed() < RETRY && stale.iter().any(|(g, _)| g == guild));
        let mut requested = 0usize;
        for (guild_id, kinds) in &stale {
            if !kinds.contains(ResourceKind::MEMBERS) || asked.contains_key(guild_id) {
                continue;
            }
            let open = tap.open_member_requests(RETRY);
            if !cache.ready_for_resync() || open >= MAX_OPEN_REQUESTS {
                break;
            }
            // The guild's size matters only when other requests are open.
            if open > 0 {
                let large = cache.guild(*guild_id).await.is_ok_and(|guild| {
                    guild
                        .and_then(|g| g.member_count)
                        .is_some_and(|n| n > LARGE_GUILD)
                });
                if large {
                    break;
                }
            }
            let shard = shard_of(*guild_id, tap.shard_count());
            let messenger = match manager.upgrade() {
                Some(manager) => manager
                    .runners
                    .lock()
                    .await
                    .get(&ShardId(shard))
                    .map(|runner| runner.runner_tx.clone()),
                None => None,
            };
            asked.insert(*guild_id, Instant::now());
            match messenger {
                Some(messenger) => {
                    tap.request_all_members(&messenger, *guild_id);
                    requested += 1;
                }
                None => tracing::warn!(
                    guild_id = guild_id.get(),
                    shard,
                    "cannot re-sync the guild's members: its shard is not running"
                ),
            }
        }
        if requested > 0 {
            tracing::info!(
                stale_guilds = stale.len(),
                member_requests = requested,
                "re-syncing what the cache shed: members are requested again, the rest comes \
                 back with each guild's next GUILD_CREATE"
            );
        }
    }
}
