//! A real serenity 0.12.5 `Client` against a fake Discord on loopback,
//! with the cache plugged in by `ClientBuilderExt::persist`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fake_discord::FakeDiscord;
use fake_discord::payload::{self as p, GuildSpec};
use persist_serenity::model::{ReactionEmoji, Role};
use persist_serenity::persist_core::{ChannelId, GuildId, MessageId, MessagePage, RoleId, UserId};
use persist_serenity::serenity::all::{
    Context, EventHandler, GuildChannel as SGuildChannel, Member as SMember, Message as SMessage,
};
use persist_serenity::serenity::async_trait;
use persist_serenity::{Migrations, Persist, ReadApi};
use serde_json::{Value, json};

mod common;

use common::*;

/// (1) Bursts of create / update / delete of the same objects, sent back to
/// back, end in the arrival-order state on every repetition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_end_in_arrival_order_state_every_time() {
    let discord = FakeDiscord::start().await.unwrap();
    let spec = guild_spec(1, 1, 2);
    discord.set_ready_guilds([spec.id]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    let persist = memory_persist().await;
    let running = connect(&discord, &persist, NoHandler).await;
    seen(&persist, 2).await;
    let (g, c, author) = (spec.id, spec.channels[0], spec.members[0]);
    let mut sent = 2;
    for rep in 0..60u64 {
        // A message created, edited twice and deleted; another created and
        // edited; a role created, renamed, deleted; another created and renamed.
        let (gone, kept) = (id(10_000 + rep * 2), id(10_001 + rep * 2));
        let (role_gone, role_kept) = (id(20_000 + rep * 2), id(20_001 + rep * 2));
        let role = |rid: u64, name: &str| json!({"guild_id": g.to_string(), "role": p::role(rid, name, 1)});
        let burst = vec![
            (
                "MESSAGE_CREATE",
                p::message_create(gone, c, g, author, "first"),
            ),
            (
                "MESSAGE_CREATE",
                p::message_create(kept, c, g, author, "first"),
            ),
            (
                "MESSAGE_UPDATE",
                p::message_update(gone, c, g, author, "second", NOW_MS + 1),
            ),
            ("GUILD_ROLE_CREATE", role(role_gone, "a")),
            (
                "MESSAGE_UPDATE",
                p::message_update(kept, c, g, author, "second", NOW_MS + 1),
            ),
            ("GUILD_ROLE_CREATE", role(role_kept, "a")),
            (
                "MESSAGE_UPDATE",
                p::message_update(gone, c, g, author, "third", NOW_MS + 2),
            ),
            ("GUILD_ROLE_UPDATE", role(role_gone, "b")),
            ("MESSAGE_DELETE", p::message_delete(gone, c, g)),
            ("GUILD_ROLE_UPDATE", role(role_kept, "b")),
            (
                "MESSAGE_UPDATE",
                p::message_update(kept, c, g, author, "last", NOW_MS + 3),
            ),
            ("GUILD_ROLE_DELETE", p::role_delete(g, role_gone)),
            (
                "MESSAGE_REACTION_ADD",
                p::reaction(author, c, kept, g, "👍"),
            ),
            (
                "MESSAGE_REACTION_REMOVE",
                p::reaction(author, c, kept, g, "👍"),
            ),
            (
                "MESSAGE_REACTION_ADD",
                p::reaction(author, c, kept, g, "🎉"),
            ),
        ];
        sent += burst.len() as u64;
        for (event, d) in burst {
            discord.dispatch(event, d).expect("a session");
        }
        seen(&persist, sent).await;
        assert!(
            persist
                .cache()
                .message(MessageId::new(gone))
                .await
                .unwrap()
                .is_none(),
            "rep {rep}"
        );
        let message = persist
            .cache()
            .message(MessageId::new(kept))
            .await
            .unwrap()
            .expect("kept message");
        assert_eq!(message.content, "last", "rep {rep}");
        let reactions: Vec<_> = message
            .reactions
            .iter()
            .map(|r| (r.emoji.clone(), r.count))
            .collect();
        assert_eq!(
            reactions,
            vec![(ReactionEmoji::unicode("🎉"), 1)],
            "rep {rep}"
        );
        assert!(
            persist
                .cache()
                .role(RoleId::new(role_gone))
                .await
                .unwrap()
                .is_none(),
            "rep {rep}"
        );
        let kept_role: Role = persist
            .cache()
            .role(RoleId::new(role_kept))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("kept role: {:?}", persist.stats().gateway));
        assert_eq!(kept_role.name, "b", "rep {rep}");
    }
    persist.flush().await.unwrap();
    // Committed, the store says the same.
    let store = persist.cache().store();
    let messages = store
        .channel_messages(ChannelId::new(c), MessagePage::Latest, 1_000)
        .await
        .unwrap();
    assert_eq!(messages.len(), 60);
    assert!(messages.iter().all(|m| m.content == "last"));
    assert_eq!(persist.stats().gateway.failed_total(), 0);
    running.stop().await;
}

/// (2) The bot's own handler sees each event's effect when it reads the store.
struct Reader {
    persist: Persist,
    checked: Arc<AtomicU64>,
    missing: Arc<AtomicU64>,
}

#[async_trait]
impl EventHandler for Reader {
    async fn message(&self, _ctx: Context, msg: SMessage) {
        let stored = self
            .persist
            .cache()
            .message(MessageId::new(msg.id.get()))
            .await
            .unwrap();
        self.count(stored.is_some_and(|m| m.content == msg.content));
    }

    async fn guild_member_addition(&self, _ctx: Context, member: SMember) {
        let stored = self
            .persist
            .cache()
            .member(
                GuildId::new(member.guild_id.get()),
                UserId::new(member.user.id.get()),
            )
            .await
            .unwrap();
        self.count(stored.is_some());
    }

    async fn channel_delete(
        &self,
        _ctx: Context,
        channel: SGuildChannel,
        _: Option<Vec<SMessage>>,
    ) {
        let stored = self
            .persist
            .cache()
            .channel(ChannelId::new(channel.id.get()))
            .await
            .unwrap();
        self.count(stored.is_none());
    }
}

impl Reader {
    fn count(&self, ok: bool) {
        self.checked.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.missing.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_see_each_events_effect_in_the_store() {
    let discord = FakeDiscord::start().await.unwrap();
    let spec = guild_spec(2, 40, 1);
    discord.set_ready_guilds([spec.id]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    let persist = memory_persist().await;
    let (checked, missing) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let reader = Reader {
        persist: persist.clone(),
        checked: Arc::clone(&checked),
        missing: Arc::clone(&missing),
    };
    let running = connect(&discord, &persist, reader).await;
    seen(&persist, 2).await;
    let g = spec.id;
    let mut expected = 0;
    for i in 0..400u64 {
        let c = spec.channels[(i % 30) as usize];
        let content = format!("m{i}");
        let message = p::message_create(id(30_000 + i), c, g, spec.members[0], &content);
        discord.dispatch("MESSAGE_CREATE", message);
        expected += 1;
        if i % 4 == 0 {
            let mut add = p::member(id(600_000 + i), &[], NOW_MS);
            add["guild_id"] = json!(g.to_string());
            discord.dispatch("GUILD_MEMBER_ADD", add);
            expected += 1;
        }
        if i % 40 == 39 {
            let channel = spec.channels[30 + (i / 40) as usize];
            discord.dispatch("CHANNEL_DELETE", p::channel_delete(channel, g));
            expected += 1;
        }
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while checked.load(Ordering::Relaxed) < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "handlers ran {} of {expected}",
            checked.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        missing.load(Ordering::Relaxed),
        0,
        "a handler read the store before its event was applied"
    );
    running.stop().await;
}

/// (3) READY and GUILD_CREATEs sent back to back with no delay are each
/// applied exactly once, on every fresh connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_and_guild_creates_back_to_back_are_applied_exactly_once() {
    for round in 0..8u64 {
        let discord = FakeDiscord::start().await.unwrap();
        let specs: Vec<GuildSpec> = (0..60).map(|n| guild_spec(100 + n, 3, 5)).collect();
        discord.set_ready_guilds(specs.iter().map(|s| s.id));
        let mut burst: Vec<(String, Value)> = specs.iter().map(guild_create).collect();
        // A reaction counts +1 each time it is applied: applied twice, it shows.
        let (g, c, u) = (specs[0].id, specs[0].channels[0], specs[0].members[0]);
        let m = id(40_000);
        burst.insert(
            1,
            (
                "MESSAGE_CREATE".into(),
                p::message_create(m, c, g, u, "early"),
            ),
        );
        burst.insert(
            2,
            ("MESSAGE_REACTION_ADD".into(), p::reaction(u, c, m, g, "👍")),
        );
        discord.set_after_ready(burst);
        let persist = memory_persist().await;
        let running = connect(&discord, &persist, NoHandler).await;
        seen(&persist, 63).await;
        persist.flush().await.unwrap();
        let stats = persist.stats().gateway;
        assert_eq!(
            (stats.events, stats.applied),
            (63, 63),
            "round {round}: {stats:?}"
        );
        let counts = persist.cache().counts().await.unwrap();
        assert_eq!(counts.guilds, 60, "round {round}");
        assert_eq!(counts.channels, 180, "round {round}");
        assert_eq!(counts.members, 5 * 60, "round {round}");
        let message = persist
            .cache()
            .message(MessageId::new(m))
            .await
            .unwrap()
            .expect("early message");
        assert_eq!(message.reactions.len(), 1);
        assert_eq!(
            message.reactions[0].count, 1,
            "round {round}: a reaction applied twice"
        );
        let me = persist
            .cache()
            .current_user()
            .await
            .unwrap()
            .map(|u| u.id.get());
        assert_eq!(me, Some(p::BOT_ID));
        running.stop().await;
    }
}

/// (4) A second session against the same store reconciles what was deleted
/// while the bot was offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_session_reconciles_deletions_made_offline() {
    reconciles_on(Backend::Sqlite).await;
}

#[cfg(feature = "redb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_session_reconciles_deletions_made_offline_on_redb() {
    reconciles_on(Backend::Redb).await;
}

#[cfg(feature = "sled")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_session_reconciles_deletions_made_offline_on_sled() {
    reconciles_on(Backend::Sled).await;
}

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    #[cfg(feature = "redb")]
    Redb,
    #[cfg(feature = "sled")]
    Sled,
}

async fn open(backend: Backend, path: &std::path::Path) -> Persist {
    let migrations = Migrations::new();
    match backend {
        Backend::Sqlite => Persist::open_sqlite(path, &migrations).await,
        #[cfg(feature = "redb")]
        Backend::Redb => Persist::open_redb(path, &migrations).await,
        #[cfg(feature = "sled")]
        Backend::Sled => Persist::open_sled(path, &migrations).await,
    }
    .unwrap()
}

async fn reconciles_on(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache");
    let mut kept = guild_spec(3, 3, 6);
    let left = guild_spec(4, 2, 2);
    let partial = GuildSpec {
        member_count: 1_000,
        ..guild_spec(5, 1, 4)
    };
    {
        let discord = FakeDiscord::start().await.unwrap();
        discord.set_ready_guilds([kept.id, left.id, partial.id]);
        discord.set_after_ready(vec![
            guild_create(&kept),
            guild_create(&left),
            guild_create(&partial),
        ]);
        let persist = open(backend, &path).await;
        let running = connect(&discord, &persist, NoHandler).await;
        seen(&persist, 4).await;
        running.stop().await;
        persist.shutdown().await.unwrap();
    }
    let before = {
        let persist = open(backend, &path).await;
        let counts = persist.cache().counts().await.unwrap();
        persist.shutdown().await.unwrap();
        counts
    };
    assert_eq!((before.guilds, before.members), (3, 12));
    // Offline: the bot left one guild; in another a channel, a role, the
    // emoji and a member went. The third guild's member list is partial.
    let gone_channel = kept.channels.pop().unwrap();
    let gone_role = kept.roles.pop().unwrap();
    kept.emojis.clear();
    let gone_member = kept.members.pop().unwrap();
    kept.member_count -= 1;
    let partial_now = GuildSpec {
        members: partial.members[..1].to_vec(),
        ..partial.clone()
    };
    let discord = FakeDiscord::start().await.unwrap();
    discord.set_ready_guilds([kept.id, partial.id]);
    discord.set_after_ready(vec![guild_create(&kept), guild_create(&partial_now)]);
    let persist = open(backend, &path).await;
    let running = connect(&discord, &persist, NoHandler).await;
    seen(&persist, 3).await;
    persist.flush().await.unwrap();
    let store = persist.cache().store();
    assert!(store.guild(GuildId::new(left.id)).await.unwrap().is_none());
    for c in &left.channels {
        assert!(store.channel(ChannelId::new(*c)).await.unwrap().is_none());
    }
    assert!(
        store
            .channel(ChannelId::new(gone_channel))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.role(RoleId::new(gone_role)).await.unwrap().is_none());
    let kept_g = GuildId::new(kept.id);
    assert!(store.guild_emojis(kept_g).await.unwrap().is_empty());
    assert!(
        store
            .member(kept_g, UserId::new(gone_member))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.guild_members(kept_g, None, 100).await.unwrap().len(),
        5
    );
    // A partial list prunes nothing.
    let partial_members = store
        .guild_members(GuildId::new(partial.id), None, 100)
        .await
        .unwrap();
    assert_eq!(partial_members.len(), 4);
    assert_eq!(store.guild_channels(kept_g).await.unwrap().len(), 2);
    running.stop().await;
    persist.shutdown().await.unwrap();
}

/// (5) A dropped connection and RESUME lose nothing and apply nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_and_loses_nothing() {
    let discord = FakeDiscord::start().await.unwrap();
    let spec = guild_spec(6, 1, 2);
    discord.set_ready_guilds([spec.id]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    let persist = memory_persist().await;
    let running = connect(&discord, &persist, NoHandler).await;
    seen(&persist, 2).await;
    let (g, c, u) = (spec.id, spec.channels[0], spec.members[0]);
    let target = id(50_000);
    discord.dispatch(
        "MESSAGE_CREATE",
        p::message_create(target, c, g, u, "target"),
    );
    let mut sent = 3;
    for i in 0..300u64 {
        if i == 100 {
            discord.drop_connections();
        }
        if i == 200 {
            // The second drop hits the resumed connection.
            assert!(discord.wait_for_connections(1, 1, WAIT).await);
            discord.drop_connections();
        }
        let message = p::message_create(id(50_001 + i), c, g, u, "m");
        discord.dispatch("MESSAGE_CREATE", message);
        let reaction = p::reaction(id(700_000 + i), c, target, g, "👍");
        discord.dispatch("MESSAGE_REACTION_ADD", reaction);
        sent += 2;
    }
    // RESUMED is a dispatch too, one per resume.
    assert!(
        discord.wait_for_connections(1, 2, WAIT).await,
        "no resume: {:?}",
        discord.connections()
    );
    seen(&persist, sent + 2).await;
    assert_eq!(discord.connections().0, 1, "the client identified again");
    persist.flush().await.unwrap();
    let counts = persist.cache().counts().await.unwrap();
    assert_eq!(counts.messages, 301);
    let message = persist
        .cache()
        .message(MessageId::new(target))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        message.reactions[0].count, 300,
        "reactions lost or applied twice across the resume"
    );
    assert_eq!(persist.stats().gateway.events, sent + 2);
    running.stop().await;
}

/// Members are pruned after every chunk of a full member request, and only then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_member_list_prunes_members_that_left() {
    let discord = FakeDiscord::start().await.unwrap();
    let everyone: Vec<u64> = (0..2_500).map(|m| id(800_000 + m)).collect();
    let spec = GuildSpec {
        members: everyone[..50].to_vec(),
        member_count: 2_500,
        ..guild_spec(7, 1, 0)
    };
    discord.set_ready_guilds([spec.id]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    discord.set_guild_members(spec.id, everyone.clone());
    let persist = memory_persist().await;
    // Left over from an earlier session: two members who left meanwhile.
    for stale in [id(990_001), id(990_002)] {
        let mut add = p::member(stale, &[], NOW_MS);
        add["guild_id"] = json!(spec.id.to_string());
        persist.apply_dispatch("GUILD_MEMBER_ADD", &add);
    }
    let running = connect(&discord, &persist, NoHandler).await;
    seen(&persist, 4).await;
    let g = GuildId::new(spec.id);
    // The GUILD_CREATE's list is partial: nothing pruned.
    assert_eq!(
        persist
            .cache()
            .guild_members(g, None, 10_000)
            .await
            .unwrap()
            .len(),
        52
    );
    let shard = {
        let runners = running.manager.runners.lock().await;
        runners.values().next().unwrap().runner_tx.clone()
    };
    persist.request_all_members(&shard, spec.id);
    // 3 chunks of up to 1,000.
    seen(&persist, 7).await;
    persist.flush().await.unwrap();
    let members = persist
        .cache()
        .guild_members(g, None, 10_000)
        .await
        .unwrap();
    assert_eq!(members.len(), 2_500);
    assert!(
        persist
            .cache()
            .member(g, UserId::new(id(990_001)))
            .await
            .unwrap()
            .is_none()
    );
    running.stop().await;
}
