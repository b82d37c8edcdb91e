//! The write pipeline: bounded, coalescing, batched, retrying, and never
//! silently losing a mutation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use persist_core::testkit::fixtures as fx;
use persist_core::{
    Answer, AppliedHook, Cache, CacheConfig, ChannelId, Error, GuildId, MemoryStore, MessageId,
    Migrations, Mutation, Query, ReactionChange, ReactionEmoji, ReadApi, Record, Result, Ruleset,
    Store, UserId,
};

/// Wraps a memory store with a pause per batch and optional failures.
#[derive(Clone, Default)]
struct TestStore {
    inner: MemoryStore,
    pause: Duration,
    /// Fail this many apply calls first.
    fail_first: Arc<AtomicUsize>,
    /// Fail every batch holding a user with this id (a "poison" mutation).
    poison_user: Option<UserId>,
    /// Fail everything while set (an outage).
    down: Arc<AtomicBool>,
    batches: Arc<AtomicU64>,
    largest_batch: Arc<AtomicUsize>,
    /// Hold every apply while set (a stalled disk).
    stalled: Arc<AtomicBool>,
}

fn holds_user(m: &Mutation, user: UserId) -> bool {
    match m {
        Mutation::Upsert(record) => matches!(&**record, Record::User(u) if u.id == user),
        _ => false,
    }
}

#[async_trait]
impl Store for TestStore {
    fn backend(&self) -> &'static str {
        "test"
    }

    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        while self.stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        let refuse = |why: &str| Err(Error::backend("test", "apply", why.to_owned()));
        if self.down.load(Ordering::SeqCst) {
            return refuse("disk unplugged");
        }
        if self
            .fail_first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return refuse("transient failure");
        }
        if let Some(user) = self.poison_user
            && batch.iter().any(|m| holds_user(m, user))
        {
            return refuse("poison");
        }
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.largest_batch.fetch_max(batch.len(), Ordering::SeqCst);
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

fn fast_retries() -> CacheConfig {
    CacheConfig {
        retry_initial: Duration::from_millis(1),
        retry_max: Duration::from_millis(5),
        retry_attempts: 3,
        batch_delay: Duration::from_millis(5),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_mutations_then_shutdown_lose_nothing() {
    let store = MemoryStore::open(&Migrations::new()).await.unwrap();
    let cache = Cache::new(store.clone(), Ruleset::default(), CacheConfig::default()).unwrap();
    for i in 0..100_000u64 {
        // Distinct objects, so nothing coalesces: every one must land.
        let mutation = match i % 4 {
            0 => Mutation::upsert(fx::user(i)),
            1 => Mutation::upsert(fx::member(1 + i % 7, i, &[])),
            2 => Mutation::upsert(fx::message(MessageId::new((1 << 40) + i), 1 + i % 50, 1)),
            _ => Mutation::upsert(fx::role(i, 1 + i % 7)),
        };
        cache.enqueue(mutation).await.unwrap();
    }
    cache.shutdown().await.unwrap();
    let stats = cache.stats();
    assert_eq!(
        (stats.enqueued, stats.mutations_committed, stats.rejected),
        (100_000, 100_000, 0)
    );
    let counts = store.counts().await.unwrap();
    assert_eq!(counts.users, 25_000);
    assert_eq!(counts.members, 25_000);
    assert_eq!(
        counts.messages, 25_000,
        "50 channels x 500 messages, under the default cap"
    );
    assert_eq!(counts.roles, 25_000);
    for i in (0..100_000u64).step_by(997) {
        let found = match i % 4 {
            0 => store.user(UserId::new(i)).await.unwrap().is_some(),
            1 => store
                .member(GuildId::new(1 + i % 7), UserId::new(i))
                .await
                .unwrap()
                .is_some(),
            2 => store
                .message(MessageId::new((1 << 40) + i))
                .await
                .unwrap()
                .is_some(),
            _ => store
                .role(persist_core::RoleId::new(i))
                .await
                .unwrap()
                .is_some(),
        };
        assert!(found, "mutation {i} was lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_slow_store_the_queue_never_exceeds_its_bound() {
    let store = TestStore {
        pause: Duration::from_millis(20),
        ..Default::default()
    };
    let config = CacheConfig {
        batch_size: 50,
        queue_capacity: 200,
        batch_delay: Duration::from_millis(5),
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    let mut producers = Vec::new();
    for p in 0..4u64 {
        let cache = cache.clone();
        producers.push(tokio::spawn(async move {
            for i in 0..1_000u64 {
                cache
                    .enqueue(Mutation::upsert(fx::user(p * 10_000 + i)))
                    .await
                    .unwrap();
                assert!(cache.stats().queued <= 200);
            }
        }));
    }
    for producer in producers {
        producer.await.unwrap();
    }
    // try_enqueue refuses rather than waits when the queue is full.
    let mut refused = 0;
    for i in 0..1_000u64 {
        match cache.try_enqueue(Mutation::upsert(fx::user(900_000 + i))) {
            Ok(()) => {}
            Err(Error::QueueFull { capacity: 200 }) => refused += 1,
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert!(refused > 0, "a full queue accepted everything");
    cache.shutdown().await.unwrap();
    let stats = cache.stats();
    assert!(
        stats.queue_high_water <= 200,
        "queue reached {}",
        stats.queue_high_water
    );
    assert_eq!(
        stats.queue_high_water, 200,
        "the producers should have filled the queue"
    );
    assert_eq!(
        store.inner.counts().await.unwrap().users,
        4_000 + 1_000 - refused
    );
    assert!(store.largest_batch.load(Ordering::SeqCst) <= 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_commits_in_transactions_of_bounded_rows_in_order() {
    let store = TestStore::default();
    let config = CacheConfig {
        batch_size: 10,
        max_commit_rows: 100,
        queue_capacity: 100_000,
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    // The store stalls while a backlog of 5,000 builds up.
    store.stalled.store(true, Ordering::SeqCst);
    for i in 0..5_000u64 {
        cache.enqueue_now([Mutation::upsert(fx::user(i))]).unwrap();
    }
    // A member list longer than the bound goes whole, in one transaction.
    let list: Vec<Record> = (0..250)
        .map(|u| Record::Member(fx::member(1, u, &[])))
        .collect();
    cache.enqueue_now([Mutation::UpsertMany(list)]).unwrap();
    // A later write of the first user wins over the first one.
    let mut renamed = fx::user(0);
    renamed.username = "renamed".into();
    cache
        .enqueue_now([Mutation::upsert(renamed.clone())])
        .unwrap();
    store.stalled.store(false, Ordering::SeqCst);
    cache.flush().await.unwrap();
    let largest = store.largest_batch.load(Ordering::SeqCst);
    assert!(largest <= 100, "a transaction of {largest} mutations");
    assert!(store.batches.load(Ordering::SeqCst) >= 50);
    let counts = store.inner.counts().await.unwrap();
    assert_eq!((counts.users, counts.members), (5_000, 250));
    assert_eq!(
        store.inner.user(UserId::new(0)).await.unwrap(),
        Some(renamed)
    );
    cache.shutdown().await.unwrap();
    let stats = cache.stats();
    assert_eq!((stats.queued, stats.in_flight, stats.rejected), (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_writes_to_one_object_coalesce() {
    let store = TestStore::default();
    let config = CacheConfig {
        batch_delay: persist_core::MAX_BATCH_DELAY,
        batch_size: 10_000,
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    for i in 0..1_000 {
        let mut user = fx::user(1);
        user.username = format!("name {i}");
        cache.enqueue(Mutation::upsert(user)).await.unwrap();
    }
    assert_eq!(cache.stats().queued, 1_000);
    cache.flush().await.unwrap();
    let stats = cache.stats();
    assert_eq!(
        (stats.enqueued, stats.coalesced, stats.queued),
        (1_000, 999, 0)
    );
    assert_eq!(store.batches.load(Ordering::SeqCst), 1);
    assert_eq!(store.largest_batch.load(Ordering::SeqCst), 1);
    let user = store.inner.user(UserId::new(1)).await.unwrap().unwrap();
    assert_eq!(user.username, "name 999");
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_commits_on_size_or_on_time() {
    let store = TestStore::default();
    let config = CacheConfig {
        batch_size: 10,
        queue_capacity: 100,
        batch_delay: Duration::from_millis(30),
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    for i in 0..10 {
        cache.enqueue(Mutation::upsert(fx::user(i))).await.unwrap();
    }
    // Size: a full batch commits without waiting for the delay or a flush.
    for _ in 0..2500 {
        if store.batches.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(store.batches.load(Ordering::SeqCst), 1);
    // Time: a lone mutation commits once the delay passes, with no flush.
    cache
        .enqueue(Mutation::upsert(fx::user(100)))
        .await
        .unwrap();
    for _ in 0..2500 {
        if store.batches.load(Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(store.batches.load(Ordering::SeqCst), 2);
    assert!(store.inner.user(UserId::new(100)).await.unwrap().is_some());
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_batches_are_retried_and_reported() {
    let store = TestStore {
        fail_first: Arc::new(AtomicUsize::new(2)),
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), fast_retries()).unwrap();
    cache.enqueue(Mutation::upsert(fx::user(1))).await.unwrap();
    cache.flush().await.unwrap();
    let stats = cache.stats();
    assert_eq!((stats.commit_failures, stats.rejected), (2, 0));
    assert!(stats.healthy);
    assert!(stats.last_error.unwrap().contains("transient failure"));
    assert!(store.inner.user(UserId::new(1)).await.unwrap().is_some());
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mutation_the_store_refuses_is_isolated_and_kept() {
    let store = TestStore {
        poison_user: Some(UserId::new(13)),
        ..Default::default()
    };
    let config = CacheConfig {
        batch_delay: persist_core::MAX_BATCH_DELAY,
        ..fast_retries()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    for i in 0..40 {
        cache.enqueue(Mutation::upsert(fx::user(i))).await.unwrap();
    }
    match cache.flush().await {
        Err(Error::Rejected { count: 1 }) => {}
        other => panic!("expected one rejected mutation, got {other:?}"),
    }
    let dead = cache.dead_letters();
    assert_eq!(dead.len(), 1);
    assert!(holds_user(&dead[0].mutation, UserId::new(13)));
    assert!(dead[0].error.contains("poison"));
    assert_eq!(store.inner.counts().await.unwrap().users, 39);
    let stats = cache.stats();
    assert_eq!(
        (
            stats.rejected,
            stats.dead_letters,
            stats.mutations_committed
        ),
        (1, 1, 39)
    );
    // Taken out, it can be fixed and enqueued again.
    assert_eq!(cache.take_dead_letters().len(), 1);
    assert!(cache.dead_letters().is_empty());
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_keeps_everything_until_the_store_recovers() {
    let store = TestStore {
        down: Arc::new(AtomicBool::new(true)),
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), fast_retries()).unwrap();
    for i in 0..20 {
        cache.enqueue(Mutation::upsert(fx::user(i))).await.unwrap();
    }
    let flushing = tokio::spawn({
        let cache = cache.clone();
        async move { cache.flush().await }
    });
    for _ in 0..2500 {
        if cache.stats().commit_failures >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let stats = cache.stats();
    assert!(stats.commit_failures >= 5, "failures are counted");
    assert!(!stats.healthy);
    assert!(
        !flushing.is_finished(),
        "flush returned while nothing was durable"
    );
    // Reads still see the writes the store refuses for now.
    assert!(cache.user(UserId::new(7)).await.unwrap().is_some());
    store.down.store(false, Ordering::SeqCst);
    flushing.await.unwrap().unwrap();
    let stats = cache.stats();
    assert_eq!((stats.rejected, stats.mutations_committed), (0, 20));
    assert!(stats.healthy);
    assert_eq!(store.inner.counts().await.unwrap().users, 20);
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_refuses_every_write_does_not_hang_flush_or_shutdown() {
    let store = TestStore {
        down: Arc::new(AtomicBool::new(true)),
        ..Default::default()
    };
    let config = CacheConfig {
        flush_timeout: Duration::from_millis(300),
        ..fast_retries()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    for i in 0..20 {
        cache.enqueue(Mutation::upsert(fx::user(i))).await.unwrap();
    }
    let bound = Duration::from_secs(20);
    let flushed = tokio::time::timeout(bound, cache.flush())
        .await
        .expect("flush did not give up within its timeout");
    assert!(
        matches!(flushed, Err(Error::FlushTimedOut { pending: 20, .. })),
        "{flushed:?}"
    );
    // The queue is still there: reads see it, the writer keeps trying.
    assert!(cache.user(UserId::new(7)).await.unwrap().is_some());
    let shut = tokio::time::timeout(bound, cache.shutdown())
        .await
        .expect("shutdown did not give up within its timeout");
    assert!(
        matches!(shut, Err(Error::NotCommitted { count: 20 })),
        "{shut:?}"
    );
    assert!(shut.unwrap_err().to_string().contains("take_dead_letters"));
    // Every mutation is handed back, in order, with the store's error.
    let letters = cache.take_dead_letters();
    let users: Vec<u64> = letters
        .iter()
        .filter_map(|l| match &l.mutation {
            Mutation::Upsert(record) => match &**record {
                Record::User(u) => Some(u.id.get()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(users, (0..20).collect::<Vec<_>>());
    assert!(
        letters[0].error.contains("disk unplugged"),
        "{}",
        letters[0].error
    );
    assert_eq!(cache.stats().queued, 0);
    // Recoverable: a healthy store takes them as they are.
    let healthy = MemoryStore::open(&Migrations::new()).await.unwrap();
    let again = Cache::new(healthy.clone(), Ruleset::default(), fast_retries()).unwrap();
    for letter in letters {
        again.enqueue(letter.mutation).await.unwrap();
    }
    again.shutdown().await.unwrap();
    assert_eq!(healthy.counts().await.unwrap().users, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaction_counts_are_never_counted_twice_by_reads() {
    // Commits are slow and frequent, so reads often overlap a batch in flight.
    let store = TestStore {
        pause: Duration::from_millis(2),
        ..Default::default()
    };
    let config = CacheConfig {
        batch_size: 5,
        queue_capacity: 50,
        batch_delay: Duration::from_millis(1),
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    let id = MessageId::new(1 << 41);
    cache
        .enqueue(Mutation::upsert(fx::message(id, 10, 1)))
        .await
        .unwrap();
    cache.flush().await.unwrap();
    // `begun`: reactions whose enqueue has started (a read may see one the
    // moment it is queued, before `enqueue` returns); `added`: returned.
    let (begun, added) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let writer = tokio::spawn({
        let (cache, begun, added) = (cache.clone(), Arc::clone(&begun), Arc::clone(&added));
        async move {
            for user in 0..300 {
                begun.fetch_add(1, Ordering::SeqCst);
                cache
                    .enqueue(Mutation::AddReaction(ReactionChange {
                        channel_id: ChannelId::new(10),
                        message_id: id,
                        guild_id: Some(GuildId::new(1)),
                        user_id: UserId::new(user),
                        emoji: ReactionEmoji::unicode("👍"),
                        burst: false,
                        by_current_user: false,
                    }))
                    .await
                    .unwrap();
                added.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        }
    });
    let thumbs = ReactionEmoji::unicode("👍");
    while !writer.is_finished() {
        let before = added.load(Ordering::SeqCst);
        let seen = cache
            .message(id)
            .await
            .unwrap()
            .and_then(|m| m.reaction(&thumbs).map(|r| r.count))
            .unwrap_or(0);
        let after = begun.load(Ordering::SeqCst);
        assert!(
            seen >= before,
            "a read missed queued reactions: saw {seen}, {before} were queued"
        );
        assert!(
            seen <= after,
            "a read counted reactions twice: saw {seen}, only {after} exist"
        );
    }
    writer.await.unwrap();
    cache.flush().await.unwrap();
    let stored = store.inner.message(id).await.unwrap().unwrap();
    assert_eq!(stored.reaction(&thumbs).map(|r| r.count), Some(300));
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_pipeline_settings_are_typed_errors() {
    let bad = [
        CacheConfig {
            batch_size: 0,
            ..Default::default()
        },
        CacheConfig {
            queue_capacity: 10,
            batch_size: 100,
            ..Default::default()
        },
        CacheConfig {
            batch_delay: Duration::ZERO,
            ..Default::default()
        },
        CacheConfig {
            max_commit_rows: 0,
            ..Default::default()
        },
        CacheConfig {
            retry_attempts: 0,
            ..Default::default()
        },
        CacheConfig {
            retry_max: Duration::from_millis(1),
            retry_initial: Duration::from_secs(1),
            ..Default::default()
        },
    ];
    for config in bad {
        match Cache::new(MemoryStore::new(), Ruleset::default(), config.clone()) {
            Err(Error::Config(_)) => {}
            other => panic!("{config:?} gave {other:?}"),
        }
    }
}

#[test]
fn starting_a_cache_outside_a_runtime_is_an_error_not_a_panic() {
    match Cache::new(
        MemoryStore::new(),
        Ruleset::default(),
        CacheConfig::default(),
    ) {
        Err(Error::NoRuntime) => {}
        other => panic!("expected NoRuntime, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_touching_reactions_do_not_wait_out_an_outage() {
    let store = TestStore {
        down: Arc::new(AtomicBool::new(true)),
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), fast_retries()).unwrap();
    let id = MessageId::new(1 << 41);
    store
        .inner
        .apply(&[Mutation::upsert(fx::message(id, 10, 1))])
        .await
        .unwrap();
    cache
        .enqueue(Mutation::AddReaction(ReactionChange {
            channel_id: ChannelId::new(10),
            message_id: id,
            guild_id: None,
            user_id: UserId::new(1),
            emoji: ReactionEmoji::unicode("x"),
            burst: false,
            by_current_user: false,
        }))
        .await
        .unwrap();
    while cache.stats().commit_failures < 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The store is still down; the read is answered from the queue.
    let read = tokio::time::timeout(Duration::from_secs(30), cache.message(id)).await;
    let message = read
        .expect("the read waited for the store to recover")
        .unwrap()
        .unwrap();
    assert_eq!(message.reactions[0].count, 1);
    store.down.store(false, Ordering::SeqCst);
    cache.shutdown().await.unwrap();
    assert_eq!(
        store.inner.message(id).await.unwrap().unwrap().reactions[0].count,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_answer_what_is_committed_and_do_not_fail_because_a_mutation_was_rejected() {
    let store = TestStore {
        poison_user: Some(UserId::new(13)),
        ..Default::default()
    };
    let cache = Cache::new(store, Ruleset::default(), fast_retries()).unwrap();
    cache.enqueue(Mutation::upsert(fx::user(13))).await.unwrap();
    cache.enqueue(Mutation::upsert(fx::user(14))).await.unwrap();
    let flushed = cache.flush().await;
    assert!(
        matches!(flushed, Err(Error::Rejected { count: 1 })),
        "{flushed:?}"
    );
    assert_eq!(cache.counts().await.unwrap().users, 1);
    assert_eq!(cache.stats().rejected, 1);
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_under_pending_reconciliation_see_it() {
    let store = MemoryStore::new();
    let config = CacheConfig {
        batch_delay: persist_core::MAX_BATCH_DELAY,
        batch_size: 10_000,
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    for u in 1..=5 {
        cache
            .enqueue(Mutation::upsert(fx::member(1, u, &[])))
            .await
            .unwrap();
    }
    cache.flush().await.unwrap();
    // Two pending "read everything" removals must not overflow the read's widening.
    let keep = vec![UserId::new(2), UserId::new(4)];
    for _ in 0..2 {
        cache
            .enqueue(Mutation::RetainGuildMembers {
                guild_id: GuildId::new(1),
                keep: keep.clone(),
            })
            .await
            .unwrap();
    }
    let page = cache.guild_members(GuildId::new(1), None, 2).await.unwrap();
    assert_eq!(page.iter().map(|m| m.user_id).collect::<Vec<_>>(), keep);
    cache.shutdown().await.unwrap();
    assert_eq!(
        store
            .guild_members(GuildId::new(1), None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_now_never_waits_and_queues_past_the_soft_bound() {
    let store = TestStore {
        stalled: Arc::new(AtomicBool::new(true)),
        ..Default::default()
    };
    let config = CacheConfig {
        batch_size: 20,
        queue_capacity: 50,
        batch_delay: Duration::from_millis(2),
        ..Default::default()
    };
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    // The store does not commit at all: every call still returns.
    for i in 0..500u64 {
        cache.enqueue_now([Mutation::upsert(fx::user(i))]).unwrap();
    }
    let stats = cache.stats();
    assert!(stats.over_capacity >= 450, "{stats:?}");
    assert_eq!(stats.queued + stats.in_flight, 500);
    // Reads see everything queued while the store is stalled.
    assert!(cache.user(UserId::new(499)).await.unwrap().is_some());
    store.stalled.store(false, Ordering::SeqCst);
    cache.shutdown().await.unwrap();
    assert_eq!(store.inner.counts().await.unwrap().users, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_memory_budget_the_queue_sheds_in_order_counts_and_marks_guilds() {
    let store = TestStore {
        stalled: Arc::new(AtomicBool::new(true)),
        ..Default::default()
    };
    let config = CacheConfig {
        batch_size: 10,
        queue_capacity: 10,
        batch_delay: Duration::from_millis(1),
        queue_memory_budget: 64 * 1024,
        ..Default::default()
    };
    let rules = Ruleset::builder()
        .resources(persist_core::ResourceKind::all())
        .message_cap(100_000)
        .build()
        .unwrap();
    let cache = Cache::new(store.clone(), rules, config).unwrap();
    let producer = cache.producer();
    // Guilds 1..=3 exist; then traffic far past the budget.
    for g in 1..=3 {
        producer
            .enqueue_now([Mutation::upsert(fx::guild(g))])
            .unwrap();
    }
    for i in 0..3_000u64 {
        let g = 1 + i % 3;
        let presence = persist_core::model::Presence {
            guild_id: GuildId::new(g),
            user_id: UserId::new(i),
            status: "online".into(),
            ..Default::default()
        };
        let mut message = fx::message(MessageId::new((1 << 40) + i), 100 * g, g);
        message.content = "x".repeat(200);
        producer
            .enqueue_now([
                Mutation::upsert(presence),
                Mutation::upsert(message),
                Mutation::upsert(fx::member(g, i, &[])),
                Mutation::upsert(fx::role(10_000 + i, g)),
            ])
            .unwrap();
    }
    let stats = cache.stats();
    assert!(stats.shedding, "{stats:?}");
    assert!(
        stats.shed.get("presences").copied().unwrap_or(0) > 0,
        "{stats:?}"
    );
    assert!(
        stats.shed.get("messages").copied().unwrap_or(0) > 0,
        "{stats:?}"
    );
    // Bounded: never far past 1.25 times the budget plus the roles (never shed).
    let role = Mutation::upsert(fx::role(10_000, 1));
    let never_shed =
        3_003 * (std::mem::size_of::<Mutation>() + persist_core::HeapSize::heap_bytes(&role));
    assert!(
        stats.queue_bytes <= 64 * 1024 * 5 / 4 + never_shed,
        "{} bytes queued ({never_shed} never shed): {stats:?}",
        stats.queue_bytes
    );
    let stale = cache.stale_guilds();
    assert_eq!(stale.len(), 3, "{stale:?}");
    // The store recovers: everything not shed lands.
    store.stalled.store(false, Ordering::SeqCst);
    cache.flush().await.unwrap();
    let resync = tokio::time::timeout(Duration::from_secs(30), cache.wait_for_resync())
        .await
        .expect("the cache never became ready for a resync")
        .unwrap();
    assert_eq!(resync.len(), 3);
    cache.mark_resynced(GuildId::new(1), persist_core::ResourceKind::all());
    assert_eq!(cache.stale_guilds().len(), 2);
    let stats = cache.stats();
    assert!(!stats.shedding);
    let counts = store.inner.counts().await.unwrap();
    // Guilds and roles are never shed.
    assert_eq!((counts.guilds, counts.roles), (3, 3_000));
    let shed = |k: &str| stats.shed.get(k).copied().unwrap_or(0);
    assert_eq!(counts.messages + shed("messages"), 3_000, "{stats:?}");
    assert_eq!(counts.members + shed("members"), 3_000, "{stats:?}");
    assert_eq!(counts.presences + shed("presences"), 3_000, "{stats:?}");
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_member_lists_past_the_budget_sheds_members_and_keeps_each_guild() {
    let store = TestStore {
        stalled: Arc::new(AtomicBool::new(true)),
        ..Default::default()
    };
    let budget = 64 * 1024;
    let config = CacheConfig {
        batch_size: 10,
        queue_capacity: 10,
        batch_delay: Duration::from_millis(1),
        queue_memory_budget: budget,
        ..Default::default()
    };
    let rules = Ruleset::builder()
        .resources(persist_core::ResourceKind::all())
        .build()
        .unwrap();
    let cache = Cache::new(store.clone(), rules, config).unwrap();
    let producer = cache.producer();
    // Startup: 100 GUILD_CREATEs of 100 members each, far past the budget.
    let (guilds, members) = (100u64, 100u64);
    let mut largest_event = 0;
    for g in 1..=guilds {
        let mut records = vec![
            persist_core::Record::Guild(fx::guild(g)),
            persist_core::Record::Channel(fx::channel(100 * g, g)),
            persist_core::Record::Role(fx::role(g, g)),
        ];
        for m in 0..members {
            let user = g * 1_000 + m;
            records.push(persist_core::Record::Member(fx::member(g, user, &[])));
            records.push(persist_core::Record::User(fx::user(user)));
            records.push(persist_core::Record::Presence(
                persist_core::model::Presence {
                    guild_id: GuildId::new(g),
                    user_id: UserId::new(user),
                    status: "online".into(),
                    ..Default::default()
                },
            ));
        }
        let create = Mutation::UpsertMany(records);
        largest_event = largest_event
            .max(std::mem::size_of::<Mutation>() + persist_core::HeapSize::heap_bytes(&create));
        let keep = (0..members).map(|m| UserId::new(g * 1_000 + m)).collect();
        producer
            .enqueue_now([
                create,
                Mutation::RetainGuildMembers {
                    guild_id: GuildId::new(g),
                    keep,
                },
            ])
            .unwrap();
    }
    let stats = cache.stats();
    assert!(stats.shedding, "{stats:?}");
    // Bounded: the structure of each guild and its member ids are kept.
    let kept = [
        Mutation::UpsertMany(vec![
            persist_core::Record::Guild(fx::guild(1)),
            persist_core::Record::Channel(fx::channel(100, 1)),
            persist_core::Record::Role(fx::role(1, 1)),
        ]),
        Mutation::RetainGuildMembers {
            guild_id: GuildId::new(1),
            keep: (0..members).map(UserId::new).collect(),
        },
    ]
    .iter()
    .map(|m| std::mem::size_of::<Mutation>() + persist_core::HeapSize::heap_bytes(m))
    .sum::<usize>();
    let structure = guilds as usize * kept;
    assert!(
        stats.queue_bytes <= budget * 5 / 4 + largest_event + structure,
        "{} bytes queued (one GUILD_CREATE is {largest_event}): {stats:?}",
        stats.queue_bytes
    );
    let shed = |k: &str| stats.shed.get(k).copied().unwrap_or(0);
    assert!(shed("members") > 0 && shed("users") > 0, "{stats:?}");
    // Every guild whose members were shed waits for a resync of them.
    let stale = cache.stale_guilds();
    assert!(
        stale
            .iter()
            .filter(|(_, kinds)| kinds.contains(persist_core::ResourceKind::MEMBERS))
            .count() as u64
            >= shed("members") / members,
        "{stale:?}"
    );
    // A member request answered while members of its guild were shed
    // leaves the guild stale; one answered with nothing shed after it does not.
    let members_stale = |g: u64| {
        cache.stale_guilds().iter().any(|(guild, kinds)| {
            *guild == GuildId::new(g) && kinds.contains(persist_core::ResourceKind::MEMBERS)
        })
    };
    assert!(members_stale(guilds));
    let asked_at = cache.shed_mark();
    producer
        .enqueue_now([Mutation::upsert(fx::member(guilds, 1, &[]))])
        .unwrap();
    cache.mark_resynced_since(
        GuildId::new(guilds),
        persist_core::ResourceKind::MEMBERS,
        asked_at,
    );
    assert!(members_stale(guilds), "a member shed after the request");
    let asked_at = cache.shed_mark();
    cache.mark_resynced_since(
        GuildId::new(guilds),
        persist_core::ResourceKind::MEMBERS,
        asked_at,
    );
    assert!(!members_stale(guilds));
    // The answer to a member request the application made is never shed:
    // shed again, the resync could never complete.
    let shed_before = cache.stats().shed;
    let answer = (0..members)
        .map(|m| persist_core::Record::Member(fx::member(guilds, 500_000 + m, &[])))
        .collect();
    producer
        .enqueue_requested_now([Mutation::UpsertMany(answer)])
        .unwrap();
    assert_eq!(cache.stats().shed, shed_before);
    store.stalled.store(false, Ordering::SeqCst);
    cache.flush().await.unwrap();
    let counts = store.inner.counts().await.unwrap();
    // Every guild, channel and role landed; members, users and presences
    // landed or were counted as shed.
    assert_eq!(
        (counts.guilds, counts.channels, counts.roles),
        (guilds, guilds, guilds)
    );
    let stats = cache.stats();
    let shed = |k: &str| stats.shed.get(k).copied().unwrap_or(0);
    assert_eq!(
        counts.members + shed("members"),
        guilds * members + 1 + members,
        "{stats:?}"
    );
    assert_eq!(counts.users + shed("users"), guilds * members, "{stats:?}");
    assert_eq!(
        counts.presences + shed("presences"),
        guilds * members,
        "{stats:?}"
    );
    cache.shutdown().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn enqueue_now_queues_past_the_bound_where_it_cannot_wait_and_repays_it() {
    let config = CacheConfig {
        batch_size: 10,
        queue_capacity: 10,
        batch_delay: Duration::from_millis(2),
        ..Default::default()
    };
    let store = MemoryStore::new();
    let cache = Cache::new(store.clone(), Ruleset::default(), config).unwrap();
    // The writer cannot run while this task does not yield: 25 go in anyway.
    for i in 0..25u64 {
        cache.enqueue_now([Mutation::upsert(fx::user(i))]).unwrap();
    }
    assert_eq!(cache.stats().over_capacity, 15);
    cache.flush().await.unwrap();
    assert_eq!(store.counts().await.unwrap().users, 25);
    // The overdraft is repaid: exactly the bound is free again, no more.
    let mut accepted = 0;
    for i in 100..200u64 {
        if cache.try_enqueue(Mutation::upsert(fx::user(i))).is_ok() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 10);
    cache.shutdown().await.unwrap();
}

/// An async enqueue that reserves its slot and then finds the cache closed
/// gave the slot back only on one of its two paths: the queue kept a length
/// the writer could never take, and shutdown spun on it for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enqueue_racing_shutdown_leaves_nothing_counted() {
    let config = CacheConfig {
        flush_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    for round in 0..200 {
        let cache = Cache::new(MemoryStore::new(), Ruleset::default(), config.clone()).unwrap();
        let racer = {
            let cache = cache.clone();
            tokio::spawn(async move {
                for u in 1..=50 {
                    if cache.enqueue(Mutation::upsert(fx::user(u))).await.is_err() {
                        return;
                    }
                }
            })
        };
        if round % 2 == 0 {
            tokio::task::yield_now().await;
        }
        tokio::time::timeout(Duration::from_secs(20), cache.shutdown())
            .await
            .unwrap_or_else(|_| panic!("round {round}: shutdown did not return"))
            .unwrap();
        racer.await.unwrap();
        let stats = cache.stats();
        assert_eq!((stats.queued, stats.in_flight), (0, 0), "round {round}");
    }
}
