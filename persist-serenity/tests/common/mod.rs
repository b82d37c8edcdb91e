//! What the tests that drive a real serenity client share.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use fake_discord::FakeDiscord;
use fake_discord::payload::{self as p, GuildSpec};
use persist_serenity::serenity::all::{Client, EventHandler, GatewayIntents, ShardManager};
use persist_serenity::{ClientBuilderExt, Persist, ResourceKind, Ruleset};
use serde_json::Value;

pub const WAIT: Duration = Duration::from_secs(30);
/// Snowflakes of a recent moment, so every id reads as made then.
pub const NOW_MS: u64 = 1_760_000_000_000;

pub fn id(n: u64) -> u64 {
    p::snowflake(NOW_MS, n)
}

pub fn rules() -> Ruleset {
    Ruleset::builder()
        .resources(ResourceKind::all())
        .message_cap(100_000)
        .build()
        .unwrap()
}

pub async fn memory_persist() -> Persist {
    Persist::builder()
        .memory()
        .ruleset(rules())
        .open()
        .await
        .unwrap()
}

pub struct Running {
    pub manager: Arc<ShardManager>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn stop(self) {
        self.manager.shutdown_all().await;
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }
}

/// Builds a real client against the fake, with the cache plugged in.
pub async fn connect<H: EventHandler + 'static>(
    discord: &FakeDiscord,
    persist: &Persist,
    handler: H,
) -> Running {
    connect_shards(discord, persist, handler, 1).await
}

/// Like `connect`, running `shards` shards in this process.
pub async fn connect_shards<H: EventHandler + 'static>(
    discord: &FakeDiscord,
    persist: &Persist,
    handler: H,
    shards: u32,
) -> Running {
    let client = discord
        .client_builder(GatewayIntents::all())
        .event_handler(handler)
        .persist(persist)
        .await
        .expect("client");
    run(client, shards)
}

/// Starts a built client with `shards` shards in a task of its own.
pub fn run(mut client: Client, shards: u32) -> Running {
    let manager = Arc::clone(&client.shard_manager);
    let task = tokio::spawn(async move {
        let _ = client.start_shards(shards).await;
    });
    Running { manager, task }
}

/// Starts a built client running shards `range` of `total` in a task of its own.
pub fn run_range(mut client: Client, range: std::ops::Range<u32>, total: u32) -> Running {
    let manager = Arc::clone(&client.shard_manager);
    let task = tokio::spawn(async move {
        // serenity's range includes its end: `4..7` runs shards 4 to 7.
        let _ = client
            .start_shard_range(range.start..range.end - 1, total)
            .await;
    });
    Running { manager, task }
}

pub struct NoHandler;
impl EventHandler for NoHandler {}

/// Waits until the cache has seen `events` dispatches in all.
pub async fn seen(persist: &Persist, events: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while persist.stats().gateway.events < events {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {events} events arrived",
            persist.stats().gateway.events
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

pub fn guild_spec(n: u64, channels: usize, members: u64) -> GuildSpec {
    let gid = id(n * 1_000);
    GuildSpec {
        id: gid,
        name: format!("guild {n}"),
        owner_id: id(900_000 + n),
        channels: (1..=channels as u64).map(|c| id(n * 1_000 + c)).collect(),
        roles: vec![id(n * 1_000 + 100), id(n * 1_000 + 101)],
        emojis: vec![id(n * 1_000 + 200)],
        members: (0..members).map(|m| id(500_000 + m)).collect(),
        member_count: members,
    }
}

pub fn guild_create(spec: &GuildSpec) -> (String, Value) {
    ("GUILD_CREATE".into(), p::guild_create(spec))
}
