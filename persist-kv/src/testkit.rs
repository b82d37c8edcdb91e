//! Checks every key-value backend runs on top of the conformance kit: layout
//! upgrades, undecodable values, and crash safety. Each takes a function that
//! opens the backend's store at a path.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use persist_core::model::Message;
use persist_core::testkit::fixtures as fx;
use persist_core::{
    Cache, CacheConfig, ChannelId, Error, GuildId, MessageId, Mutation, ReadApi, Result, Ruleset,
    Store, UserId,
};

use crate::{CURRENT_LAYOUT, KvEngine, Space, WriteSet, key};

/// A store written in layout 1 (before the user -> guilds index) is upgraded
/// on open and its data is intact, the new index included.
pub async fn check_layout_upgrade<S, F, Fut>(path: &Path, open: F)
where
    S: Store,
    F: Fn(PathBuf, Option<u32>) -> Fut,
    Fut: Future<Output = Result<S>>,
{
    let members = [
        fx::member(1, 20, &[30]),
        fx::member(2, 20, &[]),
        fx::member(1, 21, &[]),
    ];
    {
        let old = open(path.to_owned(), Some(1))
            .await
            .expect("open at layout 1");
        assert_eq!(old.schema_version().await.unwrap(), 1);
        let mut batch: Vec<Mutation> = members.iter().cloned().map(Mutation::upsert).collect();
        batch.push(Mutation::upsert(fx::guild(1)));
        batch.push(Mutation::upsert(fx::message(
            MessageId::new(1 << 40),
            10,
            1,
        )));
        old.apply(&batch).await.unwrap();
        assert!(
            old.user_guilds(UserId::new(20)).await.unwrap().is_empty(),
            "layout 1 has no user index"
        );
    }
    let store = open(path.to_owned(), None).await.expect("open and upgrade");
    assert_eq!(store.schema_version().await.unwrap(), CURRENT_LAYOUT);
    for member in &members {
        assert_eq!(
            store
                .member(member.guild_id, member.user_id)
                .await
                .unwrap()
                .as_ref(),
            Some(member)
        );
    }
    assert_eq!(
        store.user_guilds(UserId::new(20)).await.unwrap(),
        vec![GuildId::new(1), GuildId::new(2)]
    );
    assert_eq!(
        store.user_guilds(UserId::new(21)).await.unwrap(),
        vec![GuildId::new(1)]
    );
    assert!(store.guild(GuildId::new(1)).await.unwrap().is_some());
    assert!(
        store
            .message(MessageId::new(1 << 40))
            .await
            .unwrap()
            .is_some()
    );
}

/// A value that fails to decode is reported with its key; the store keeps
/// answering everything else and accepts writes.
pub async fn check_undecodable_value_is_reported<E, S, F, Fut>(
    path: &Path,
    engine: impl Fn(&Path) -> Result<E>,
    open: F,
) where
    E: KvEngine,
    S: Store,
    F: Fn(PathBuf) -> Fut,
    Fut: Future<Output = Result<S>>,
{
    {
        let store = open(path.to_owned()).await.unwrap();
        store
            .apply(&[
                Mutation::upsert(fx::member(1, 20, &[])),
                Mutation::upsert(fx::member(1, 21, &[])),
            ])
            .await
            .unwrap();
    }
    {
        let engine = engine(path).unwrap();
        let mut writes = WriteSet::default();
        writes.put(Space::Members, &key::two(1, 20), vec![1, 0xc1, 0xff]);
        engine.commit(writes).unwrap();
    }
    let store = open(path.to_owned()).await.unwrap();
    let err = store
        .member(GuildId::new(1), UserId::new(20))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { key, .. } if key.contains("members") && key.contains("member/1/20")),
        "{err}"
    );
    assert!(
        store
            .member(GuildId::new(1), UserId::new(21))
            .await
            .unwrap()
            .is_some()
    );
    store
        .apply(&[Mutation::upsert(fx::member(1, 20, &[]))])
        .await
        .unwrap();
    assert!(
        store
            .member(GuildId::new(1), UserId::new(20))
            .await
            .unwrap()
            .is_some(),
        "rewriting the value mends it"
    );
}

/// Messages a crash child writes: batch `batch`, message `i`.
pub fn crash_message(batch: u64, i: u64) -> Message {
    Message {
        id: MessageId::new((1 << 42) + batch * CRASH_BATCH + i),
        channel_id: ChannelId::new(1 + i % 20),
        guild_id: Some(GuildId::new(1)),
        content: format!("batch {batch} message {i} {}", "x".repeat(200)),
        ..Default::default()
    }
}

/// Messages per crash batch.
pub const CRASH_BATCH: u64 = 200;

/// The crash child: streams batches through a cache forever, printing
/// `durable N` after each `flush()` returns.
pub async fn run_crash_child<S: Store>(store: S) {
    let rules = Ruleset::builder().message_cap(u32::MAX).build().unwrap();
    let config = CacheConfig {
        batch_delay: Duration::from_millis(2),
        ..Default::default()
    };
    let cache = Cache::new(store, rules, config).unwrap();
    for batch in 0.. {
        for i in 0..CRASH_BATCH {
            cache
                .enqueue(Mutation::upsert(crash_message(batch, i)))
                .await
                .unwrap();
        }
        cache.flush().await.unwrap();
        println!("durable {batch}");
    }
}

/// The crash parent: runs the test binary's `child_test` with `env` set to
/// `path`, SIGKILLs it after `reports` durable batches, then reopens the store
/// and checks every reported batch is there whole.
pub async fn run_crash_parent<S, F, Fut>(
    child_test: &str,
    env: &str,
    path: &Path,
    reports: usize,
    open: F,
) where
    S: Store,
    F: Fn(PathBuf) -> Fut,
    Fut: Future<Output = Result<S>>,
{
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            child_test,
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(env, path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut durable = Vec::new();
    while durable.len() < reports {
        let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .expect("the child stopped reporting")
            .unwrap()
            .expect("the child exited early");
        if let Some(n) = line.strip_prefix("durable ") {
            durable.push(n.parse::<u64>().unwrap());
        }
    }
    child.start_kill().unwrap();
    assert!(!child.wait().await.unwrap().success());
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(n) = line.strip_prefix("durable ") {
            durable.push(n.parse::<u64>().unwrap());
        }
    }
    let store = open(path.to_owned())
        .await
        .expect("the store reopens cleanly after SIGKILL");
    for batch in &durable {
        for i in 0..CRASH_BATCH {
            let expected = crash_message(*batch, i);
            let found = store.message(expected.id).await.unwrap();
            assert_eq!(
                found.map(|m| m.content),
                Some(expected.content),
                "batch {batch} message {i} lost"
            );
        }
    }
    let page = store
        .channel_messages(ChannelId::new(1), persist_core::MessagePage::Latest, 5)
        .await
        .unwrap();
    assert!(!page.is_empty(), "the channel index survived");
}
