//! Re-syncing what the cache shed while the store was behind, once it has
//! caught up: members are requested again from the shard that owns the
//! guild; the other kinds come back with the guild's next GUILD_CREATE (or
//! an explicit [`Persist::request_all_members`](crate::Persist::request_all_members)).

use std::sync::Weak;
use std::time::Duration;

use persist_core::{ResourceKind, shard_of};

use crate::tap::Tap;

/// How long to wait before asking again for what is still stale (a member
/// request whose chunks never came, a guild with no GUILD_CREATE yet).
const RETRY: Duration = Duration::from_secs(60);

/// Runs until the cache shuts down.
pub(crate) async fn run(tap: Weak<Tap>) {
    loop {
        let Some(cache) = tap.upgrade().map(|t| t.cache().clone()) else {
            return;
        };
        let Ok(stale) = cache.wait_for_resync().await else {
            return;
        };
        drop(cache);
        let Some(tap) = tap.upgrade() else {
            return;
        };
        let mut requested = 0usize;
        for (guild_id, kinds) in &stale {
            if !kinds.contains(ResourceKind::MEMBERS) {
                continue;
            }
            let shard = shard_of(*guild_id, tap.shard_count());
            match tap.messenger(shard) {
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
        tracing::info!(
            stale_guilds = stale.len(),
            member_requests = requested,
            "re-syncing what the cache shed: members are requested again, the rest comes back \
             with each guild's next GUILD_CREATE"
        );
        drop(tap);
        tokio::time::sleep(RETRY).await;
    }
}
