//! The hot tier: eviction loses nothing, pins hold under pressure, a smaller
//! budget evicts at once, and hot reads never wait for a commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use persist_core::testkit::fixtures as fx;
use persist_core::{
    Answer, AppliedHook, Cache, CacheConfig, ChannelId, GuildId, MemoryStore, MessageId,
    MessagePage, Mutation, Pin, Query, ReactionChange, ReactionEmoji, ReadApi, ResourceKind,
    Result, Ruleset, Store, UserId,
};

const GUILD: u64 = 1;
const MEMBERS: u64 = 2_000;

fn bytes_of(cache: &Cache, kind: ResourceKind) -> u64 {
    cache
        .stats()
        .hot
        .kinds
        .iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, s)| s.bytes)
        .sum()
}

fn evictions(cache: &Cache) -> u64 {
    cache
        .stats()
        .hot
        .kinds
        .iter()
        .map(|(_, s)| s.evictions)
        .sum()
}

/// A cache over a memory store holding `MEMBERS` members of one guild, each
/// with a nickname that says who they are.
async fn cache_with_members(config: CacheConfig) -> Cache {
    let cache = Cache::new(MemoryStore::new(), Ruleset::default(), config).unwrap();
    cache
        .enqueue_now([Mutation::upsert(fx::guild(GUILD))])
        .unwrap();
    for u in 1..=MEMBERS {
        let mut member = fx::member(GUILD, u, &[]);
        member.nick = Some(format!("member {u}"));
        cache
            .enqueue_now([Mutation::upsert(member), Mutation::upsert(fx::user(u))])
            .unwrap();
    }
    cache.flush().await.unwrap();
    cache
}

async fn read_every_member(cache: &Cache) {
    for u in 1..=MEMBERS {
        let member = cache
            .member(GuildId::new(GUILD), UserId::new(u))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("member {u} lost"));
        assert_eq!(member.nick.as_deref(), Some(format!("member {u}").as_str()));
        assert!(
            cache.user(UserId::new(u)).await.unwrap().is_some(),
            "user {u} lost"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eviction_loses_nothing() {
    let budget = 256 << 10;
    let cache = cache_with_members(CacheConfig {
        memory_budget: budget,
        ..Default::default()
    })
    .await;
    read_every_member(&cache).await;
    assert!(evictions(&cache) > 0, "{:?}", cache.stats().hot);
    let evictable = bytes_of(&cache, ResourceKind::MEMBERS) + bytes_of(&cache, ResourceKind::USERS);
    assert!(evictable <= budget as u64, "{:?}", cache.stats().hot);
    // Everything evicted is read back from the store, and again after more
    // writes while evicting.
    read_every_member(&cache).await;
    let mut member = fx::member(GUILD, 7, &[]);
    member.nick = Some("member 7".into());
    cache.enqueue_now([Mutation::upsert(member)]).unwrap();
    read_every_member(&cache).await;
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_hold_under_pressure() {
    let cache = cache_with_members(CacheConfig {
        memory_budget: 64 << 10,
        ..Default::default()
    })
    .await;
    let channel = ChannelId::new(10);
    cache
        .enqueue_now([
            Mutation::upsert(fx::channel(10, GUILD)),
            Mutation::upsert(fx::message(MessageId::new(1 << 30), 10, GUILD)),
        ])
        .unwrap();
    cache.pin(Pin::Member(GuildId::new(GUILD), UserId::new(5)));
    cache.pin(Pin::ChannelMessages(channel));
    let latest = Query::ChannelMessages {
        channel_id: channel,
        page: MessagePage::Latest,
        limit: 1,
    };
    let pinned_member = Query::Member(GuildId::new(GUILD), UserId::new(5));
    cache.read(&latest).await.unwrap();
    cache.read(&pinned_member).await.unwrap();
    // Far more than the budget holds.
    read_every_member(&cache).await;
    assert!(evictions(&cache) > 0);
    assert!(
        matches!(
            cache.try_read(&pinned_member),
            Some(Answer::Member(Some(_)))
        ),
        "the pinned member was evicted"
    );
    assert!(
        matches!(cache.try_read(&latest), Some(Answer::Messages(m)) if m.len() == 1),
        "the pinned channel was evicted"
    );
    // Unpinned, it goes like the rest.
    cache.unpin(Pin::Member(GuildId::new(GUILD), UserId::new(5)));
    cache.set_memory_budget(0);
    assert!(cache.try_read(&pinned_member).is_none());
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_smaller_budget_evicts_at_once() {
    let cache = cache_with_members(CacheConfig {
        memory_budget: 256 << 20,
        ..Default::default()
    })
    .await;
    read_every_member(&cache).await;
    let before = bytes_of(&cache, ResourceKind::MEMBERS) + bytes_of(&cache, ResourceKind::USERS);
    assert!(before > 64 << 10, "{:?}", cache.stats().hot);
    assert_eq!(evictions(&cache), 0);
    cache.set_memory_budget(64 << 10);
    let after = bytes_of(&cache, ResourceKind::MEMBERS) + bytes_of(&cache, ResourceKind::USERS);
    assert!(
        after <= 64 << 10,
        "{after} bytes left: {:?}",
        cache.stats().hot
    );
    assert!(evictions(&cache) > 0);
    // Pinned kinds stay.
    assert!(cache.try_read(&Query::Guild(GuildId::new(GUILD))).is_some());
    read_every_member(&cache).await;
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_read_answers_from_memory_or_says_it_does_not_know() {
    let cache = cache_with_members(CacheConfig::default()).await;
    let query = Query::Member(GuildId::new(GUILD), UserId::new(3));
    assert_eq!(
        cache.try_read(&query),
        None,
        "members are loaded by reading them"
    );
    assert_eq!(
        cache.hot().member(GuildId::new(GUILD), UserId::new(3)),
        None
    );
    let read = cache.read(&query).await.unwrap();
    assert_eq!(cache.try_read(&query), Some(read));
    // The typed view answers as the async getter does.
    let member = cache
        .member(GuildId::new(GUILD), UserId::new(3))
        .await
        .unwrap();
    assert!(member.is_some());
    assert_eq!(
        cache.hot().member(GuildId::new(GUILD), UserId::new(3)),
        Some(member)
    );
    assert_eq!(
        cache
            .hot()
            .guild(GuildId::new(GUILD))
            .flatten()
            .map(|g| g.id.get()),
        Some(GUILD),
        "guilds are pinned"
    );
    assert_eq!(cache.try_read(&Query::Counts), None);
    // Every set the hot tier holds whole has its typed getter: once listed,
    // a guild's presences and scheduled events answer from memory.
    let guild = GuildId::new(GUILD);
    assert_eq!(cache.hot().guild_presences(guild), None);
    let presences = cache.guild_presences(guild).await.unwrap();
    assert_eq!(cache.hot().guild_presences(guild), Some(presences));
    let events = cache.guild_scheduled_events(guild).await.unwrap();
    assert_eq!(cache.hot().guild_scheduled_events(guild), Some(events));
    let stats = cache.stats().hot;
    assert!(stats.hits >= 1 && stats.misses >= 2, "{stats:?}");
    assert_eq!(
        stats.largest_guilds.first().map(|(g, _)| g.get()),
        Some(GUILD)
    );
    cache.shutdown().await.unwrap();
}

/// A memory store whose commits hang while `stalled` is set.
#[derive(Clone, Default)]
struct StallingStore {
    inner: MemoryStore,
    stalled: Arc<AtomicBool>,
}

#[async_trait]
impl Store for StallingStore {
    fn backend(&self) -> &'static str {
        "stalling"
    }
    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        while self.stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        self.inner.apply(batch).await
    }
    async fn read(&self, query: &Query) -> Result<Answer> {
        self.inner.read(query).await
    }
    async fn schema_version(&self) -> Result<u32> {
        self.inner.schema_version().await
    }
    async fn applied_hooks(&self) -> Result<Vec<AppliedHook>> {
        self.inner.applied_hooks().await
    }
    async fn record_hook(&self, hook: &AppliedHook) -> Result<()> {
        self.inner.record_hook(hook).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reads_never_wait_for_a_commit() {
    let store = StallingStore::default();
    let config = CacheConfig {
        batch_delay: Duration::from_millis(1),
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    let id = MessageId::new(1 << 30);
    cache
        .enqueue_now([
            Mutation::upsert(fx::channel(10, GUILD)),
            Mutation::upsert(fx::message(id, 10, GUILD)),
        ])
        .unwrap();
    cache.flush().await.unwrap();
    cache.read(&Query::Message(id)).await.unwrap();
    // The writer now holds a batch it cannot commit (and the commit gate).
    store.stalled.store(true, Ordering::SeqCst);
    let reaction = ReactionChange {
        channel_id: ChannelId::new(10),
        message_id: id,
        guild_id: Some(GuildId::new(GUILD)),
        user_id: UserId::new(3),
        emoji: ReactionEmoji {
            name: Some("👍".into()),
            ..Default::default()
        },
        burst: false,
        by_current_user: false,
    };
    cache
        .enqueue_now([Mutation::AddReaction(reaction)])
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let read = tokio::time::timeout(Duration::from_secs(10), cache.message(id))
        .await
        .expect("a hot read waited for the stalled commit")
        .unwrap()
        .unwrap();
    assert_eq!(read.reactions.len(), 1, "the queued reaction is seen");
    store.stalled.store(false, Ordering::SeqCst);
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_to_a_held_channel_are_held() {
    let cache = Cache::new(
        MemoryStore::new(),
        Ruleset::default(),
        CacheConfig::default(),
    )
    .unwrap();
    cache
        .enqueue_now([Mutation::upsert(fx::channel(10, GUILD))])
        .unwrap();
    let latest = Query::ChannelMessages {
        channel_id: ChannelId::new(10),
        page: MessagePage::Latest,
        limit: 50,
    };
    cache.read(&latest).await.unwrap();
    for n in 1..=60u64 {
        let id = MessageId::new((1 << 30) + n);
        cache
            .enqueue_now([Mutation::upsert(fx::message(id, 10, GUILD))])
            .unwrap();
        assert!(
            matches!(
                cache.try_read(&Query::Message(id)),
                Some(Answer::Message(Some(_)))
            ),
            "message {n} not held"
        );
    }
    // The window keeps the newest 50: the oldest went, and pages answer.
    assert_eq!(
        cache.try_read(&Query::Message(MessageId::new((1 << 30) + 1))),
        None
    );
    let Some(Answer::Messages(page)) = cache.try_read(&latest) else {
        panic!("the window does not answer its page");
    };
    assert_eq!(page.len(), 50);
    cache.shutdown().await.unwrap();
}
