//! Crash safety, for every backend: a child process streams batches and
//! reports each one `flush()` made durable; the parent kills it with SIGKILL
//! mid-stream, reopens the store and finds every reported batch whole.
//!
//! A backend's test binary holds two tests: an `#[ignore]`d child that calls
//! [`run_crash_child`] when the environment variable names a path, and the
//! parent that calls [`run_crash_parent`] with the child's test name.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::Message;
use crate::{
    Cache, CacheConfig, ChannelId, GuildId, MessageId, MessagePage, Mutation, ReadApi, Result,
    Ruleset, Store,
};

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
/// `path`, SIGKILLs it after `reports` durable batches, then reopens the store,
/// checks every reported batch is there whole, and returns it for checks of
/// the backend's own.
pub async fn run_crash_parent<S, F, Fut>(
    child_test: &str,
    env: &str,
    path: &Path,
    reports: usize,
    open: F,
) -> S
where
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
        .channel_messages(ChannelId::new(1), MessagePage::Latest, 5)
        .await
        .unwrap();
    assert!(!page.is_empty(), "the channel index survived");
    store
}
