//! The checks every server backend (PostgreSQL, MySQL) runs besides the
//! conformance kit: schema upgrades keep data, bad settings and unreachable
//! servers give typed errors within the connect timeout, read-only
//! processes read and refuse writes, a shard is leased to one live process
//! at a time, and every 64-bit snowflake orders right.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use persist_core::testkit::fixtures;
use persist_core::{ChannelId, Error, MessageId, MessagePage, Mutation, ReadApi, Result, Store};

use crate::lease::LeaseConfig;

/// How the checks open a backend's stores; each `place` (a schema or a
/// database) is the checks' own and starts empty.
#[async_trait]
pub trait ServerFactory: Send + Sync {
    /// The backend's store.
    type Store: Store + ReadApi;

    /// Opens a writer of `shards` in `place`, its schema stopped at
    /// `version` (`None`: the newest).
    async fn writer(
        &self,
        place: &str,
        shards: LeaseConfig,
        version: Option<u32>,
    ) -> Result<Self::Store>;

    /// Opens `place` read-only.
    async fn reader(&self, place: &str) -> Result<Self::Store>;

    /// Opens a writer of shard 0 of 1 at `url`, connecting within `timeout`.
    async fn at_url(&self, url: &str, timeout: Duration) -> Result<Self::Store>;

    /// URLs that must be refused: one that does not parse, one naming a
    /// user the server refuses, one of a port nothing listens on.
    fn bad_urls(&self) -> [String; 3];

    /// A URL of a host that never answers (a blackholed address).
    fn silent_url(&self) -> String;

    /// Opens a writer in a `place` whose name SQL would need quoted.
    async fn bad_place(&self) -> Result<Self::Store>;

    /// Rows of `table` in `place`, counted with `count(*)`.
    async fn rows(&self, place: &str, table: &str) -> i64;

    /// Runs a statement in `place`, as an operator or another process would.
    async fn execute(&self, place: &str, sql: &str);

    /// Closes a store (ending its leases).
    async fn close(&self, store: Self::Store);
}

fn shards(owner: &str) -> LeaseConfig {
    let mut config = LeaseConfig::new([0], 1);
    config.owner = owner.into();
    config
}

/// Runs every check; panics naming the first that fails.
pub async fn run_server_checks<F: ServerFactory>(factory: &F, prefix: &str) {
    upgrade_keeps_data(factory, &format!("{prefix}_upgrade")).await;
    bad_settings_are_typed_errors(factory).await;
    read_only_processes_read_and_refuse_writes(factory, &format!("{prefix}_readers")).await;
    a_shard_is_leased_to_one_live_process(factory, &format!("{prefix}_leases")).await;
    every_snowflake_orders_right(factory, &format!("{prefix}_snowflakes")).await;
    a_user_is_never_replaced_by_an_older_copy(factory, &format!("{prefix}_users")).await;
    a_process_whose_shard_was_taken_over_is_fenced(factory, &format!("{prefix}_fence")).await;
}

/// A process paused past its lease, whose shard another process took
/// over, has its next batch refused ([`Error::Fenced`]) and writes nothing;
/// the new owner's writes stand.
async fn a_process_whose_shard_was_taken_over_is_fenced<F: ServerFactory>(
    factory: &F,
    place: &str,
) {
    let mut config = shards("paused");
    // Renewed every 20 minutes: nothing renews it during the check.
    config.ttl = Duration::from_secs(3600);
    let paused = factory.writer(place, config, None).await.unwrap();
    paused
        .apply(&[Mutation::upsert(fixtures::guild(1))])
        .await
        .unwrap();
    // Its lease runs out while it is paused.
    factory
        .execute(
            place,
            "UPDATE persist_leases SET expires_at = expires_at - INTERVAL '2' HOUR",
        )
        .await;
    let taker = factory.writer(place, shards("taker"), None).await.unwrap();
    taker
        .apply(&[Mutation::upsert(fixtures::guild(2))])
        .await
        .unwrap();
    match paused.apply(&[Mutation::upsert(fixtures::guild(3))]).await {
        Err(Error::Fenced { owner }) => assert_eq!(owner, "paused"),
        other => panic!("a batch after a takeover: {:?}", other.map(|_| ())),
    }
    // Fenced for good: not even a batch that changes nothing commits.
    assert!(matches!(paused.apply(&[]).await, Err(Error::Fenced { .. })));
    let guilds = taker.guild_ids().await.unwrap();
    assert_eq!(guilds.len(), 2, "{guilds:?}");
    factory.close(paused).await;
    factory.close(taker).await;
}

/// A user another process wrote from a later sighting (a later `seen_at`)
/// is not replaced by this process's copy; a copy seen later is.
async fn a_user_is_never_replaced_by_an_older_copy<F: ServerFactory>(factory: &F, place: &str) {
    let store = factory.writer(place, shards("users"), None).await.unwrap();
    let mut user = fixtures::user(7);
    user.username = "first".into();
    store
        .apply(&[Mutation::upsert(user.clone())])
        .await
        .unwrap();
    // Another process saw the user later (an hour from now) and wrote it.
    let later = crate::now_micros() + 3_600_000_000;
    factory
        .execute(
            place,
            &format!("UPDATE users SET username = 'newer', seen_at = {later} WHERE id = 7"),
        )
        .await;
    user.username = "older".into();
    store
        .apply(&[Mutation::upsert(user.clone())])
        .await
        .unwrap();
    assert_eq!(
        factory.rows(place, "users WHERE username = 'newer'").await,
        1,
        "an older copy replaced a user another process saw later"
    );
    // Seen later than that: replaced.
    factory
        .execute(place, "UPDATE users SET seen_at = 0 WHERE id = 7")
        .await;
    store.apply(&[Mutation::upsert(user)]).await.unwrap();
    assert_eq!(
        factory.rows(place, "users WHERE username = 'older'").await,
        1
    );
    factory.close(store).await;
}

/// A database of schema version 1 (before counts) opened by this code: its
/// objects are all there and counted.
async fn upgrade_keeps_data<F: ServerFactory>(factory: &F, place: &str) {
    let old = factory
        .writer(place, shards("upgrade"), Some(1))
        .await
        .expect("a version 1 database");
    assert_eq!(old.schema_version().await.unwrap(), 1);
    let mut batch = vec![Mutation::upsert(fixtures::guild(1))];
    batch.extend((10..13).map(|c| Mutation::upsert(fixtures::channel(c, 1))));
    batch.push(Mutation::upsert(fixtures::thread(20, 1, 10)));
    batch.extend((1..=5).map(|m| Mutation::upsert(fixtures::message(MessageId::new(m), 10, 1))));
    batch.push(Mutation::upsert(fixtures::member(1, 7, &[])));
    old.apply(&batch).await.unwrap();
    factory.close(old).await;

    let new = factory
        .writer(place, shards("upgrade"), None)
        .await
        .expect("the version 1 database upgrades");
    assert!(new.schema_version().await.unwrap() > 1);
    let counts = new.counts().await.unwrap();
    assert_eq!(
        (
            counts.guilds,
            counts.channels,
            counts.threads,
            counts.messages,
            counts.members
        ),
        (1, 3, 1, 5, 1),
        "objects stored before the upgrade are counted"
    );
    let page = new
        .channel_messages(ChannelId::new(10), MessagePage::Latest, 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 5, "messages stored before the upgrade are read");
    // Counting goes on from there.
    new.apply(&[Mutation::upsert(fixtures::message(
        MessageId::new(6),
        10,
        1,
    ))])
    .await
    .unwrap();
    assert_eq!(new.counts().await.unwrap().messages, 6);
    assert_eq!(factory.rows(place, "messages").await, 6);
    factory.close(new).await;
}

/// Malformed URLs, refused logins, closed ports, silent hosts, bad names
/// and bad lease settings: typed errors, within the connect timeout.
async fn bad_settings_are_typed_errors<F: ServerFactory>(factory: &F) {
    let timeout = Duration::from_secs(2);
    // Bounded: a connect that ignored its timeout fails the check.
    let bound = timeout * 5;
    let [malformed, refused_login, closed_port] = factory.bad_urls();
    let opened = tokio::time::timeout(bound, factory.at_url(&malformed, timeout))
        .await
        .expect("a malformed URL is refused at once");
    match opened {
        Err(Error::Config(e)) => {
            assert!(
                !e.to_string().contains("secret"),
                "the error repeats the URL's password: {e}"
            );
        }
        other => panic!("a malformed URL: {:?}", other.map(|_| ())),
    }
    for url in [refused_login, closed_port, factory.silent_url()] {
        let opened = tokio::time::timeout(bound, factory.at_url(&url, timeout))
            .await
            .unwrap_or_else(|_| panic!("connecting to {url} outlived its timeout"));
        match opened {
            Err(Error::Backend { context, .. }) => {
                assert!(context.contains("connecting"), "{context}");
            }
            other => panic!("{url}: {:?}", other.map(|_| ())),
        }
    }
    assert!(matches!(factory.bad_place().await, Err(Error::Config(_))));
    for bad in [
        LeaseConfig::new([3], 2),
        LeaseConfig::new([], 2),
        LeaseConfig::new([1, 1], 2),
    ] {
        match factory.writer("unused_place", bad.clone(), None).await {
            Err(Error::Config(_)) => {}
            other => panic!("{bad:?}: {:?}", other.map(|_| ())),
        }
    }
}

/// A read-only process sees what a writer committed and refuses writes;
/// one opened before any writer says the schema is missing.
async fn read_only_processes_read_and_refuse_writes<F: ServerFactory>(factory: &F, place: &str) {
    match factory.reader(place).await {
        Err(Error::Backend { .. }) => {}
        other => panic!("a reader of an empty database: {:?}", other.map(|_| ())),
    }
    let writer = factory.writer(place, shards("writer"), None).await.unwrap();
    writer
        .apply(&[
            Mutation::upsert(fixtures::guild(1)),
            Mutation::upsert(fixtures::message(MessageId::new(9), 10, 1)),
        ])
        .await
        .unwrap();
    let reader = factory.reader(place).await.unwrap();
    assert!(
        reader
            .guild(persist_core::GuildId::new(1))
            .await
            .unwrap()
            .is_some()
    );
    assert!(reader.message(MessageId::new(9)).await.unwrap().is_some());
    // What the writer commits later is seen too: nothing is cached.
    writer
        .apply(&[Mutation::upsert(fixtures::guild(2))])
        .await
        .unwrap();
    assert_eq!(reader.guild_ids().await.unwrap().len(), 2);
    assert!(matches!(
        reader.apply(&[Mutation::upsert(fixtures::guild(3))]).await,
        Err(Error::ReadOnly { .. })
    ));
    // A cache over a reader reads; what it cannot write is dead-lettered,
    // not lost silently.
    let cache =
        persist_core::Cache::new(Arc::new(reader), Default::default(), Default::default()).unwrap();
    assert_eq!(cache.guild_ids().await.unwrap().len(), 2);
    factory.close(writer).await;
}

/// A second process asking for a shard a live process holds waits its
/// `acquire_timeout`, then fails naming the holder; once the holder closes,
/// the shard is taken at once with a newer token.
async fn a_shard_is_leased_to_one_live_process<F: ServerFactory>(factory: &F, place: &str) {
    let first = factory.writer(place, shards("first"), None).await.unwrap();
    let mut second = shards("second");
    second.acquire_timeout = Duration::from_secs(1);
    match factory.writer(place, second.clone(), None).await {
        Err(Error::LeaseHeld {
            shard_id: 0, owner, ..
        }) => assert_eq!(owner, "first"),
        other => panic!("a shard held by a live process: {:?}", other.map(|_| ())),
    }
    // The holder still writes: nothing took its shard.
    first
        .apply(&[Mutation::upsert(fixtures::guild(1))])
        .await
        .unwrap();
    factory.close(first).await;
    let taken = factory.writer(place, second, None).await.unwrap();
    taken
        .apply(&[Mutation::upsert(fixtures::guild(2))])
        .await
        .unwrap();
    assert_eq!(taken.guild_ids().await.unwrap().len(), 2);
    factory.close(taken).await;
}

/// Snowflakes at and past 2^63 are stored as they are and ordered right.
async fn every_snowflake_orders_right<F: ServerFactory>(factory: &F, place: &str) {
    let store = factory.writer(place, shards("ids"), None).await.unwrap();
    let ids = [1u64 << 62, (1 << 63) - 1, 1 << 63, u64::MAX];
    let batch: Vec<Mutation> = ids
        .iter()
        .map(|id| Mutation::upsert(fixtures::message(MessageId::new(*id), 10, 1)))
        .collect();
    store.apply(&batch).await.unwrap();
    let page = store
        .channel_messages(ChannelId::new(10), MessagePage::Latest, 10)
        .await
        .unwrap();
    let newest_first: Vec<u64> = page.iter().map(|m| m.id.get()).collect();
    assert_eq!(newest_first, [u64::MAX, 1 << 63, (1 << 63) - 1, 1 << 62]);
    let before = store
        .channel_messages(
            ChannelId::new(10),
            MessagePage::Before(MessageId::new(u64::MAX)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(before.len(), 3);
    assert!(
        store
            .message(MessageId::new(u64::MAX))
            .await
            .unwrap()
            .is_some()
    );
    factory.close(store).await;
}
