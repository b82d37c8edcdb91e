//! Many shards in one process, a store that stalls, and the voice manager
//! the hand-over forwards to: a real serenity 0.12.5 client against the
//! fake Discord, which shards as Discord does.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use fake_discord::FakeDiscord;
use fake_discord::payload::{self as p, GuildSpec};
use persist_serenity::persist_core::{Answer, AppliedHook, Mutation, Query};
use persist_serenity::persist_core::{Cache, ChannelId, GuildId, MemoryStore, MessageId};
use persist_serenity::serenity::all::{
    Context, EventHandler, GatewayIntents, Message as SMessage, ShardRunnerMessage,
    VoiceGatewayManager, VoiceState,
};
use persist_serenity::serenity::futures::channel::mpsc::UnboundedSender;
use persist_serenity::serenity::model::id::{GuildId as SGuildId, UserId as SUserId};
use persist_serenity::{CacheConfig, ClientBuilderExt, Migrations, Persist, ReadApi, Store};
use serde_json::json;

/// A guild on a shard of its own choosing: its id's timestamp picks the shard.
fn sharded_guild(k: u64) -> GuildSpec {
    let gid = p::snowflake(NOW_MS + k, 0);
    GuildSpec {
        id: gid,
        name: format!("guild {k}"),
        owner_id: id(900_000 + k),
        channels: vec![p::snowflake(NOW_MS + k, 1), p::snowflake(NOW_MS + k, 2)],
        roles: vec![p::snowflake(NOW_MS + k, 3)],
        emojis: vec![],
        members: vec![id(500_000)],
        member_count: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_shards_in_one_process_apply_in_order_and_reconcile_each_its_own() {
    let discord = FakeDiscord::start().await.unwrap();
    let guilds: Vec<GuildSpec> = (0..8).map(sharded_guild).collect();
    let shard = |g: &GuildSpec| fake_discord::shard_of(g.id, 4);
    let on_shards: std::collections::BTreeSet<u32> = guilds.iter().map(shard).collect();
    assert_eq!(
        on_shards.len(),
        4,
        "the test's guilds must cover every shard"
    );
    discord.set_ready_guilds(guilds.iter().map(|g| g.id));
    discord.set_after_ready(guilds.iter().map(guild_create).collect());
    let store = MemoryStore::open(&Migrations::new()).await.unwrap();
    let persist = Persist::new(Cache::new(store.clone(), rules(), Default::default()).unwrap());
    let running = connect_shards(&discord, &persist, NoHandler, 4).await;
    // Four READYs and eight GUILD_CREATEs, each on its own shard.
    seen(&persist, 12).await;
    assert_eq!(discord.shards(), [0, 1, 2, 3]);
    // Bursts on every guild, interleaved across shards.
    let mut sent = 12;
    for rep in 0..20u64 {
        for (k, g) in (0u64..).zip(&guilds) {
            let (c, author) = (g.channels[0], g.members[0]);
            let (gone, kept) = (
                p::snowflake(NOW_MS + 100 + rep, 10 + k),
                p::snowflake(NOW_MS + 200 + rep, 10 + k),
            );
            for (event, d) in [
                (
                    "MESSAGE_CREATE",
                    p::message_create(gone, c, g.id, author, "a"),
                ),
                (
                    "MESSAGE_CREATE",
                    p::message_create(kept, c, g.id, author, "a"),
                ),
                (
                    "MESSAGE_UPDATE",
                    p::message_update(kept, c, g.id, author, "b", NOW_MS + 1),
                ),
                ("MESSAGE_DELETE", p::message_delete(gone, c, g.id)),
                (
                    "MESSAGE_UPDATE",
                    p::message_update(kept, c, g.id, author, "last", NOW_MS + 2),
                ),
            ] {
                discord
                    .dispatch(event, d)
                    .expect("a session on every shard");
                sent += 1;
            }
        }
    }
    seen(&persist, sent).await;
    for (k, g) in (0u64..).zip(&guilds) {
        for rep in 0..20u64 {
            let gone = p::snowflake(NOW_MS + 100 + rep, 10 + k);
            let kept = p::snowflake(NOW_MS + 200 + rep, 10 + k);
            assert!(
                persist
                    .cache()
                    .message(MessageId::new(gone))
                    .await
                    .unwrap()
                    .is_none()
            );
            let message = persist
                .cache()
                .message(MessageId::new(kept))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(message.content, "last", "guild on shard {}", shard(g));
        }
    }
    running.stop().await;
    persist.shutdown().await.unwrap();

    // While the bot was away it left one guild on shard `a` and one on `b`.
    let a = shard(&guilds[0]);
    let left: Vec<u64> = [guilds[0].id]
        .into_iter()
        .chain(guilds.iter().find(|g| shard(g) != a).map(|g| g.id))
        .collect();
    let staying: Vec<&GuildSpec> = guilds.iter().filter(|g| !left.contains(&g.id)).collect();
    discord.invalidate_session();
    discord.set_ready_guilds(staying.iter().map(|g| g.id));
    discord.set_after_ready(staying.iter().map(|g| guild_create(g)).collect());
    let persist = Persist::new(Cache::new(store.clone(), rules(), Default::default()).unwrap());
    let running = connect_shards(&discord, &persist, NoHandler, 4).await;
    seen(&persist, 4 + staying.len() as u64).await;
    persist.flush().await.unwrap();
    for g in &guilds {
        let stored = persist.cache().guild(GuildId::new(g.id)).await.unwrap();
        let messages = persist
            .cache()
            .channel_messages(
                ChannelId::new(g.channels[0]),
                persist_serenity::persist_core::MessagePage::Latest,
                100,
            )
            .await
            .unwrap();
        if left.contains(&g.id) {
            assert!(
                stored.is_none(),
                "guild left on shard {} is still there",
                shard(g)
            );
            assert!(messages.is_empty());
        } else {
            assert!(
                stored.is_some(),
                "shard {}'s guild was removed by another shard",
                shard(g)
            );
            assert_eq!(messages.len(), 20, "shard {}", shard(g));
        }
    }
    running.stop().await;
    persist.shutdown().await.unwrap();
}

/// A memory store whose commits wait while `stalled` is set.
#[derive(Clone, Default)]
struct StallingStore {
    inner: MemoryStore,
    stalled: Arc<AtomicBool>,
    commits: Arc<AtomicU64>,
}

#[async_trait]
impl Store for StallingStore {
    fn backend(&self) -> &'static str {
        "stalling"
    }

    async fn apply(&self, batch: &[Mutation]) -> persist_serenity::Result<()> {
        while self.stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.inner.apply(batch).await?;
        self.commits.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn read(&self, query: &Query) -> persist_serenity::Result<Answer> {
        self.inner.read(query).await
    }

    async fn schema_version(&self) -> persist_serenity::Result<u32> {
        self.inner.schema_version().await
    }

    async fn applied_hooks(&self) -> persist_serenity::Result<Vec<AppliedHook>> {
        self.inner.applied_hooks().await
    }

    async fn record_hook(&self, hook: &AppliedHook) -> persist_serenity::Result<()> {
        self.inner.record_hook(hook).await
    }
}

/// Counts the messages the bot's handler receives.
struct Counting(Arc<AtomicU64>);

#[async_trait]
impl EventHandler for Counting {
    async fn message(&self, _ctx: Context, _msg: SMessage) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits, up to `WAIT`, until `done()`; fails with `what` otherwise.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    until_or(what, &mut done, String::new).await;
}

/// Like `until`, with what to report when it times out.
async fn until_or(what: &str, mut done: impl FnMut() -> bool, report: impl Fn() -> String) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out: {what} {}",
            report()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_never_stops_the_shard_and_nothing_is_lost() {
    let discord = FakeDiscord::start().await.unwrap();
    discord.set_heartbeat_interval(Duration::from_millis(250));
    let spec = guild_spec(7, 10, 3);
    discord.set_ready_guilds([spec.id]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    let store = StallingStore::default();
    let cache = Cache::new(store.clone(), rules(), CacheConfig::default()).unwrap();
    let persist = Persist::new(cache);
    let received = Arc::new(AtomicU64::new(0));
    let running = connect(&discord, &persist, Counting(Arc::clone(&received))).await;
    seen(&persist, 2).await;
    persist.flush().await.unwrap();

    // The disk stalls; 20,000 events arrive.
    store.stalled.store(true, Ordering::SeqCst);
    let commits_before = store.commits.load(Ordering::SeqCst);
    let heartbeats_before = discord.heartbeats();
    let (g, author) = (spec.id, spec.members[0]);
    let mut messages = 0u64;
    for i in 0..20_000u64 {
        let c = spec.channels[(i % 10) as usize];
        let m = id(1_000_000 + i);
        let (event, d) = match i % 10 {
            0..=6 => {
                messages += 1;
                (
                    "MESSAGE_CREATE",
                    p::message_create(m, c, g, author, &format!("#{i}")),
                )
            }
            7 | 8 => {
                let earlier = id(1_000_000 + i - 7);
                let earlier_c = spec.channels[((i - 7) % 10) as usize];
                (
                    "MESSAGE_REACTION_ADD",
                    p::reaction(author, earlier_c, earlier, g, "👍"),
                )
            }
            _ => {
                let earlier = id(1_000_000 + i - 9);
                let earlier_c = spec.channels[((i - 9) % 10) as usize];
                (
                    "MESSAGE_UPDATE",
                    p::message_update(earlier, earlier_c, g, author, "edited", NOW_MS + i),
                )
            }
        };
        discord.dispatch(event, d).unwrap();
        // Paced as live traffic is (Discord does not send a backlog of
        // 20,000 at once): at most 100 events ahead of the shard.
        if i % 100 == 99 {
            seen(&persist, i + 3).await;
        }
    }
    // Every event is applied by the shard and reaches the bot's handler
    // while nothing can be committed.
    until_or(
        "every event reaches the cache",
        || persist.stats().gateway.events >= 20_002,
        || {
            format!(
                "(events {}, connections {:?}, heartbeats {}, stats {:?})",
                persist.stats().gateway.events,
                discord.connections(),
                discord.heartbeats(),
                persist.stats().cache
            )
        },
    )
    .await;
    until("the handler receives every message", || {
        received.load(Ordering::SeqCst) == messages
    })
    .await;
    // ...and the shard keeps heartbeating: the fake answers each one, and
    // serenity never had to reconnect.
    until("three more heartbeats while the store is stalled", || {
        discord.heartbeats() >= heartbeats_before + 3
    })
    .await;
    assert_eq!(
        store.commits.load(Ordering::SeqCst),
        commits_before,
        "the store was not stalled"
    );
    assert_eq!(discord.connections(), (1, 0), "the shard reconnected");
    let stats = persist.stats();
    assert!(stats.cache.shed.is_empty(), "{:?}", stats.cache.shed);
    assert_eq!(stats.gateway.failed_total(), 0, "{:?}", stats.gateway);

    // The disk comes back: everything lands, in arrival order.
    store.stalled.store(false, Ordering::SeqCst);
    tokio::time::timeout(WAIT, persist.flush())
        .await
        .expect("the queue never drained after the store recovered")
        .unwrap();
    let counts = store.inner.counts().await.unwrap();
    assert_eq!(counts.messages, messages);
    for i in (0..20_000u64).filter(|i| i % 10 <= 6).step_by(97) {
        let stored = store
            .inner
            .message(MessageId::new(id(1_000_000 + i)))
            .await
            .unwrap()
            .unwrap();
        // Event i + 7 reacts to messages 0 and 1 of each ten; event i + 9
        // edits message 0.
        let edited = i % 10 == 0 && i + 9 < 20_000;
        let reactions = usize::from(i % 10 <= 1 && i + 7 < 20_000);
        if edited {
            assert_eq!(stored.content, "edited", "message {i}");
        } else {
            assert_eq!(stored.content, format!("#{i}"), "message {i}");
        }
        let count = stored.reactions.first().map_or(0, |r| r.count);
        assert_eq!(count as usize, reactions, "reactions of message {i}");
    }
    running.stop().await;
    persist.shutdown().await.unwrap();
}

/// A voice manager that records every call (songbird's place).
#[derive(Default)]
struct RecordingVoice(Mutex<Vec<String>>);

impl RecordingVoice {
    fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

#[async_trait]
impl VoiceGatewayManager for RecordingVoice {
    async fn initialise(&self, shard_count: u32, user_id: SUserId) {
        self.0
            .lock()
            .unwrap()
            .push(format!("initialise {shard_count} {user_id}"));
    }

    async fn register_shard(&self, shard_id: u32, _sender: UnboundedSender<ShardRunnerMessage>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("register_shard {shard_id}"));
    }

    async fn deregister_shard(&self, shard_id: u32) {
        self.0
            .lock()
            .unwrap()
            .push(format!("deregister_shard {shard_id}"));
    }

    async fn server_update(&self, guild_id: SGuildId, endpoint: &Option<String>, token: &str) {
        self.0.lock().unwrap().push(format!(
            "server_update {guild_id} {} {token}",
            endpoint.as_deref().unwrap_or("-")
        ));
    }

    async fn state_update(&self, guild_id: SGuildId, voice_state: &VoiceState) {
        self.0
            .lock()
            .unwrap()
            .push(format!("state_update {guild_id} {}", voice_state.user_id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_manager_set_before_the_cache_still_receives_every_call() {
    let discord = FakeDiscord::start().await.unwrap();
    let spec = guild_spec(8, 2, 1);
    discord.set_ready_guilds([spec.id]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    let persist = memory_persist().await;
    let voice = Arc::new(RecordingVoice::default());
    let client = discord
        .client_builder(GatewayIntents::all())
        .event_handler(NoHandler)
        .voice_manager_arc(Arc::clone(&voice) as Arc<dyn VoiceGatewayManager>)
        .persist(&persist)
        .await
        .unwrap();
    let running = run(client, 1);
    seen(&persist, 2).await;
    let g = spec.id.to_string();
    discord
        .dispatch(
            "VOICE_SERVER_UPDATE",
            json!({"token": "secret", "guild_id": g, "endpoint": "voice.example"}),
        )
        .unwrap();
    discord
        .dispatch(
            "VOICE_STATE_UPDATE",
            json!({"guild_id": g, "channel_id": spec.channels[1].to_string(),
                "user_id": p::BOT_ID.to_string(), "session_id": "s", "deaf": false,
                "mute": false, "self_deaf": false, "self_mute": false, "self_video": false,
                "suppress": false, "request_to_speak_timestamp": null}),
        )
        .unwrap();
    seen(&persist, 4).await;
    until("the voice updates reach the voice manager", || {
        voice.calls().iter().any(|c| c.starts_with("state_update"))
    })
    .await;
    // A session Discord forgot: the resume is refused, serenity restarts the
    // shard (deregistering it) and identifies again (registering it again).
    discord.invalidate_session();
    until("the shard deregisters and registers again", || {
        let calls = voice.calls();
        calls.iter().any(|c| c.starts_with("deregister_shard"))
            && calls
                .iter()
                .filter(|c| c.starts_with("register_shard"))
                .count()
                == 2
    })
    .await;
    running.stop().await;
    let calls = voice.calls();
    let bot = p::BOT_ID;
    for expected in [
        format!("initialise 1 {bot}"),
        "register_shard 0".to_owned(),
        format!("server_update {g} voice.example secret"),
        format!("state_update {g} {bot}"),
        "deregister_shard 0".to_owned(),
    ] {
        assert!(calls.contains(&expected), "no `{expected}` in {calls:?}");
    }
    // The cache saw the voice state too.
    let state = persist
        .cache()
        .voice_state(
            GuildId::new(spec.id),
            persist_serenity::persist_core::UserId::new(bot),
        )
        .await
        .unwrap();
    assert!(state.is_some());
    persist.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_stalled_store_sheds_is_counted_and_members_are_resynced_when_it_recovers() {
    let discord = FakeDiscord::start().await.unwrap();
    let spec = guild_spec(9, 4, 5);
    let g = spec.id;
    let joining: Vec<u64> = (0..4_000u64).map(|n| id(700_000 + n)).collect();
    discord.set_ready_guilds([g]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    discord.set_guild_members(g, spec.members.iter().chain(&joining).copied().collect());
    let store = StallingStore::default();
    // Smaller than one chunk of the resync's answer (1,000 members): what
    // the cache asked for is never shed, so the resync still completes.
    let config = CacheConfig {
        queue_memory_budget: 1 << 20,
        ..Default::default()
    };
    let persist = Persist::new(Cache::new(store.clone(), rules(), config).unwrap());
    let running = connect(&discord, &persist, NoHandler).await;
    seen(&persist, 2).await;
    persist.flush().await.unwrap();

    store.stalled.store(true, Ordering::SeqCst);
    let mut sent = 2;
    let mut messages = 0u64;
    for (i, user) in (0u64..).zip(&joining) {
        let mut member = p::member(*user, &[], NOW_MS);
        member["guild_id"] = json!(g.to_string());
        discord.dispatch("GUILD_MEMBER_ADD", member).unwrap();
        let c = spec.channels[(i % 4) as usize];
        let text = "x".repeat(300);
        discord
            .dispatch(
                "MESSAGE_CREATE",
                p::message_create(id(2_000_000 + i), c, g, *user, &text),
            )
            .unwrap();
        messages += 1;
        sent += 2;
        if i % 50 == 49 {
            seen(&persist, sent).await;
        }
    }
    seen(&persist, sent).await;
    let stats = persist.stats();
    let shed = |k: &str| stats.cache.shed.get(k).copied().unwrap_or(0);
    assert!(shed("messages") > 0, "nothing shed: {:?}", stats.cache);
    assert!(
        shed("members") + shed("users") > 0,
        "no member shed: {:?}",
        stats.cache
    );
    let stale = persist.cache().stale_guilds();
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(stale[0].1.contains(persist_serenity::ResourceKind::MEMBERS));
    assert_eq!(discord.connections(), (1, 0), "the shard reconnected");

    // The store recovers: the cache asks the shard for every member again.
    store.stalled.store(false, Ordering::SeqCst);
    until_or(
        "the guild's members are re-synced",
        || {
            persist
                .cache()
                .stale_guilds()
                .iter()
                .all(|(_, kinds)| !kinds.contains(persist_serenity::ResourceKind::MEMBERS))
        },
        || format!("{:?} {:?}", persist.cache().stale_guilds(), persist.stats()),
    )
    .await;
    persist.flush().await.unwrap();
    let counts = store.inner.counts().await.unwrap();
    assert_eq!(counts.members, 5 + 4_000, "every member is back");
    let stats = persist.stats();
    let shed_messages = stats.cache.shed.get("messages").copied().unwrap_or(0);
    assert_eq!(
        counts.messages + shed_messages,
        messages,
        "{:?}",
        stats.cache
    );
    // Messages cannot come back from the gateway: the guild stays marked.
    assert!(
        persist
            .cache()
            .stale_guilds()
            .iter()
            .any(|(guild, kinds)| guild.get() == g
                && kinds.contains(persist_serenity::ResourceKind::MESSAGES))
    );
    running.stop().await;
    persist.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_stale_guilds_than_the_resync_asks_at_once_are_all_resynced() {
    // Six guilds; the resync asks for at most four at a time, so the last
    // two are asked only once earlier answers are in (not after the
    // one-minute retry, which is past this test's wait).
    let discord = FakeDiscord::start().await.unwrap();
    let specs: Vec<_> = (1..=6).map(|n| guild_spec(20 + n, 2, 3)).collect();
    let joining = |k: usize| -> Vec<u64> {
        (0..300u64)
            .map(|n| id(800_000 + k as u64 * 10_000 + n))
            .collect()
    };
    discord.set_ready_guilds(specs.iter().map(|s| s.id));
    discord.set_after_ready(specs.iter().map(guild_create).collect());
    for (k, spec) in specs.iter().enumerate() {
        discord.set_guild_members(
            spec.id,
            spec.members.iter().copied().chain(joining(k)).collect(),
        );
    }
    let store = StallingStore::default();
    let config = CacheConfig {
        queue_memory_budget: 256 << 10,
        ..Default::default()
    };
    let persist = Persist::new(Cache::new(store.clone(), rules(), config).unwrap());
    let running = connect(&discord, &persist, NoHandler).await;
    seen(&persist, 1 + specs.len() as u64).await;
    persist.flush().await.unwrap();

    store.stalled.store(true, Ordering::SeqCst);
    let mut sent = 1 + specs.len() as u64;
    let text = "x".repeat(300);
    for n in 0..300usize {
        for (k, spec) in specs.iter().enumerate() {
            let user = joining(k)[n];
            let mut member = p::member(user, &[], NOW_MS);
            member["guild_id"] = json!(spec.id.to_string());
            discord.dispatch("GUILD_MEMBER_ADD", member).unwrap();
            let message = id(3_000_000 + (n * specs.len() + k) as u64);
            discord
                .dispatch(
                    "MESSAGE_CREATE",
                    p::message_create(message, spec.channels[0], spec.id, user, &text),
                )
                .unwrap();
            sent += 2;
        }
        if n % 20 == 19 {
            seen(&persist, sent).await;
        }
    }
    seen(&persist, sent).await;
    let members_stale = |persist: &Persist| {
        persist
            .cache()
            .stale_guilds()
            .iter()
            .filter(|(_, kinds)| kinds.contains(persist_serenity::ResourceKind::MEMBERS))
            .count()
    };
    assert_eq!(
        members_stale(&persist),
        specs.len(),
        "{:?} {:?}",
        persist.cache().stale_guilds(),
        persist.stats().cache
    );

    store.stalled.store(false, Ordering::SeqCst);
    until_or(
        "every guild's members are re-synced",
        || members_stale(&persist) == 0,
        || format!("{:?} {:?}", persist.cache().stale_guilds(), persist.stats()),
    )
    .await;
    persist.flush().await.unwrap();
    let counts = store.inner.counts().await.unwrap();
    let every_member: usize = specs.iter().map(|s| s.members.len() + 300).sum();
    assert_eq!(counts.members, every_member as u64, "every member is back");
    running.stop().await;
    persist.shutdown().await.unwrap();
}
