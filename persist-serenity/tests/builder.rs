//! Every option of `Persist::builder()` and of `PersistConfig` takes effect,
//! and every rejected value names the setting, the value and what is allowed.

use std::time::Duration;

use persist_serenity::ReadApi;
use persist_serenity::prelude::*;
use persist_serenity::sqlite::{Durability, SqliteConfig};
use serde_json::json;
use serenity::all::{ChannelId, GuildId, UserId};

/// The message of the error opening `builder` gives.
async fn refused(builder: PersistBuilder) -> String {
    match builder.open().await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened"),
    }
}

fn message(id: u64, channel: u64) -> serde_json::Value {
    json!({"id": id.to_string(), "channel_id": channel.to_string(), "guild_id": "1",
        "author": {"id": "5", "username": "ferris", "global_name": "Ferris"}, "content": format!("m{id}"),
        "timestamp": "2026-01-01T00:00:00+00:00"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_choice_takes_effect() {
    let dir = tempfile::tempdir().unwrap();
    let memory = Persist::builder().memory().open().await.unwrap();
    assert_eq!(memory.cache().store().backend(), "memory");
    memory.shutdown().await.unwrap();

    let path = dir.path().join("a.db");
    let sqlite = Persist::builder().sqlite(&path).open().await.unwrap();
    assert_eq!(sqlite.cache().store().backend(), "sqlite");
    assert!(path.exists());
    // The same file twice in one process would be two writers.
    let err = refused(Persist::builder().sqlite(&path)).await;
    assert!(err.contains("already has the file open"), "{err}");
    sqlite.apply_dispatch("MESSAGE_CREATE", &message(10, 3));
    // Shutdown commits, closes (no journal files left) and can run twice.
    sqlite.shutdown().await.unwrap();
    sqlite.shutdown().await.unwrap();
    assert!(!dir.path().join("a.db-wal").exists());
    assert!(!dir.path().join("a.db-shm").exists());
    let reopened = Persist::builder().sqlite(&path).open().await.unwrap();
    assert!(
        reopened
            .message(ChannelId::new(3), 10)
            .await
            .unwrap()
            .is_some()
    );
    reopened.shutdown().await.unwrap();

    let redb_path = dir.path().join("a.redb");
    let redb = Persist::builder()
        .redb(&redb_path, 1 << 20)
        .open()
        .await
        .unwrap();
    assert_eq!(redb.cache().store().backend(), "redb");
    assert!(redb_path.exists());
    redb.shutdown().await.unwrap();

    let sled_path = dir.path().join("a.sled");
    let sled = Persist::builder()
        .sled(&sled_path, 1 << 20)
        .open()
        .await
        .unwrap();
    assert_eq!(sled.cache().store().backend(), "sled");
    assert!(sled_path.is_dir());
    sled.shutdown().await.unwrap();

    let err = refused(Persist::builder()).await;
    assert!(err.contains("invalid store: no store chosen"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_s_own_config_takes_effect() {
    let dir = tempfile::tempdir().unwrap();
    let config = |readers| SqliteConfig {
        readers,
        durability: Durability::PowerLoss,
        busy_timeout: Duration::from_millis(100),
        ..SqliteConfig::new(dir.path().join("b.db"))
    };
    // The store's settings reach the store: its own checks answer.
    let err = refused(Persist::builder().sqlite_config(config(65))).await;
    assert!(
        err.contains("readers must be between 1 and 64, got 65"),
        "{err}"
    );
    let persist = Persist::builder()
        .sqlite_config(config(1))
        .open()
        .await
        .unwrap();
    persist.apply_dispatch("MESSAGE_CREATE", &message(10, 3));
    persist.flush().await.unwrap();
    persist.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ruleset_takes_effect() {
    let rules = Ruleset::builder()
        .resources(ResourceKind::default() | ResourceKind::PRESENCES)
        .message_cap(2)
        .build()
        .unwrap();
    let persist = Persist::builder()
        .memory()
        .ruleset(rules)
        .open()
        .await
        .unwrap();
    for id in 10..15 {
        persist.apply_dispatch("MESSAGE_CREATE", &message(id, 3));
    }
    persist.apply_dispatch(
        "PRESENCE_UPDATE",
        &json!({"user": {"id": "5"}, "guild_id": "1", "status": "online", "activities": []}),
    );
    persist.flush().await.unwrap();
    let kept = persist
        .channel_messages(ChannelId::new(3), None, 100)
        .await
        .unwrap();
    assert_eq!(kept.len(), 2, "the message cap");
    assert_eq!(
        persist.counts().await.unwrap().presences,
        1,
        "presences cached"
    );
    persist.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_config_takes_effect_and_is_checked_before_any_file_is_made() {
    let dir = tempfile::tempdir().unwrap();
    // The longest flush window: a write stays queued until flushed.
    let config = CacheConfig {
        batch_size: 100_000,
        queue_capacity: 100_000,
        batch_delay: persist_serenity::persist_core::MAX_BATCH_DELAY,
        ..Default::default()
    };
    let persist = Persist::builder()
        .memory()
        .cache_config(config.clone())
        .open()
        .await
        .unwrap();
    assert_eq!(persist.cache().config(), &config);
    persist.apply_dispatch("MESSAGE_CREATE", &message(10, 3));
    let id = persist_serenity::persist_core::MessageId::new(10);
    let store = persist.cache().store();
    assert!(
        store.message(id).await.unwrap().is_none(),
        "not committed yet"
    );
    assert!(
        persist
            .message(ChannelId::new(3), 10)
            .await
            .unwrap()
            .is_some()
    );
    persist.flush().await.unwrap();
    assert!(store.message(id).await.unwrap().is_some(), "committed");
    persist.shutdown().await.unwrap();

    let path = dir.path().join("never.db");
    let err = refused(Persist::builder().sqlite(&path).cache_config(CacheConfig {
        batch_delay: Duration::from_secs(86_400),
        ..Default::default()
    }))
    .await;
    assert_eq!(
        err,
        "invalid configuration: batch_delay must be between 1ms and 10s, got 1day"
    );
    let err = refused(Persist::builder().sqlite(&path).cache_config(CacheConfig {
        dead_letter_capacity: 0,
        ..Default::default()
    }))
    .await;
    assert_eq!(
        err,
        "invalid configuration: dead_letter_capacity must be between 1 and 100000000, got 0"
    );
    assert!(!path.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_hooks_take_effect() {
    let migrations = Migrations::new().hook(1, "first", |_| Box::pin(async { Ok(()) }));
    let persist = Persist::builder()
        .memory()
        .migrations(migrations)
        .open()
        .await
        .unwrap();
    let applied = persist.cache().store().applied_hooks().await.unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].name, "first");
    persist.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_file_sets_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let file = dir.path().join("bot.toml");
    std::fs::write(
        &file,
        format!(
            r#"
            token_env = "DISCORD_TOKEN"

            [persist]
            store = "sqlite"
            path = {path:?}

            [persist.sqlite]
            readers = 2
            busy_timeout = "250ms"
            durability = "power-loss"

            [persist.rules]
            resources = "GUILDS | MESSAGES | USERS | PRESENCES"
            message_cap = 3
            message_max_age = "30days"
            deny_guilds = [99]

            [persist.cache]
            batch_delay = "20ms"
            "#
        ),
    )
    .unwrap();
    let config = PersistConfig::from_file(&file).unwrap();
    let persist = Persist::builder()
        .config(config)
        .unwrap()
        .open()
        .await
        .unwrap();
    assert_eq!(persist.cache().store().backend(), "sqlite");
    assert!(path.exists());
    let rules = persist.cache().rules();
    assert_eq!(rules.message_cap(), 3);
    assert_eq!(
        rules.message_max_age(),
        Some(Duration::from_secs(30 * 86_400))
    );
    assert!(!rules.allows_guild(persist_serenity::persist_core::GuildId::new(99)));
    assert!(rules.wants(ResourceKind::PRESENCES));
    assert!(!rules.wants(ResourceKind::MEMBERS));
    assert_eq!(
        persist.cache().config().batch_delay,
        Duration::from_millis(20)
    );
    persist.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_sets_everything_the_file_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.db");
    let vars = [
        ("PERSIST_STORE", "sqlite".to_owned()),
        ("PERSIST_PATH", path.display().to_string()),
        ("PERSIST_SQLITE__READERS", "2".to_owned()),
        ("PERSIST_RULES__MESSAGE_CAP", "4".to_owned()),
        ("PERSIST_RULES__ALLOW_GUILDS", "[1, 2]".to_owned()),
        ("PERSIST_CACHE__BATCH_DELAY", "15ms".to_owned()),
        // Not settings: the test suite's own.
        ("PERSIST_POSTGRES_URL", "postgres://x".to_owned()),
        ("HOME", "/root".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let config = PersistConfig::from_vars(vars).unwrap();
    let persist = Persist::builder()
        .config(config)
        .unwrap()
        .open()
        .await
        .unwrap();
    assert_eq!(persist.cache().rules().message_cap(), 4);
    assert!(
        !persist
            .cache()
            .rules()
            .allows_guild(persist_serenity::persist_core::GuildId::new(3))
    );
    assert_eq!(
        persist.cache().config().batch_delay,
        Duration::from_millis(15)
    );
    assert!(path.exists());
    persist.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_values_name_the_setting_the_value_and_what_is_allowed() {
    let err = |toml: &str| match PersistConfig::from_toml(toml) {
        Err(e) => e.to_string(),
        Ok(config) => match Persist::builder().config(config) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted {toml}"),
        },
    };
    let e = err("[persist]\nstore = \"postgress\"");
    assert!(
        e.contains("invalid store: \"postgress\": expected one of \"memory\", \"sqlite\""),
        "{e}"
    );
    let e = err("[persist]\nstore = \"sqlite\"");
    assert!(
        e.contains("invalid path: store = \"sqlite\" needs a path"),
        "{e}"
    );
    let e = err("[persist.cache]\nbatch_delay = \"soon\"");
    assert!(e.contains("batch_delay") && e.contains("soon"), "{e}");
    let e = err("[persist.cache]\nbatch_dealy = \"20ms\"");
    assert!(e.contains("unknown field `batch_dealy`"), "{e}");
    let e = err("[persist.rules]\nmessage_max_age = \"0s\"");
    assert!(
        e.contains("message_max_age must be between 1s and 100years, got 0s"),
        "{e}"
    );
    let e = err("[persist.rules]\ncontent = \"none\"");
    assert!(
        e.contains("invalid rules.content: \"none\": expected \"keep\" or \"off\""),
        "{e}"
    );
    let e = err(
        "[persist]\nstore = \"sqlite\"\npath = \"x.db\"\n[persist.sqlite]\ndurability = \"always\"",
    );
    assert!(e.contains("sqlite.durability: \"always\""), "{e}");
    let e = err("[persist]\nshards = [0]\nstore = \"memory\"\nfoo = 1");
    assert!(e.contains("unknown field `foo`"), "{e}");
    let e = err("[persist]\nstore = \"sqlite\"\npath = \"x.db\"\nurl = \"postgres://x\"");
    assert!(e.contains("store = \"sqlite\" does not read `url`"), "{e}");
    let e = err("[persist]\nstore = \"postgres\"\nurl = \"postgres://x\"\npath = \"x.db\"");
    assert!(
        e.contains("store = \"postgres\" does not read `path`"),
        "{e}"
    );
    let e = err("[persist]\nstore = \"memory\"\n[persist.sqlite]\nreaders = 2");
    assert!(
        e.contains("store = \"memory\" does not read `sqlite`"),
        "{e}"
    );
    // Checked when the cache opens, like the builder's.
    let config = PersistConfig::from_toml(
        "[persist]\nstore = \"memory\"\n[persist.cache]\nbatch_delay = \"1day\"",
    )
    .unwrap();
    let e = refused(Persist::builder().config(config).unwrap()).await;
    assert!(
        e.contains("batch_delay must be between 1ms and 10s, got 1day"),
        "{e}"
    );
    let e = PersistConfig::from_file("/nonexistent/bot.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read /nonexistent/bot.toml"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_take_serenity_ids_and_give_serenity_models() {
    let persist = Persist::builder().memory().open().await.unwrap();
    persist.apply_dispatch(
        "GUILD_CREATE",
        &json!({"id": "1", "name": "crabs", "owner_id": "5",
            "roles": [{"id": "1", "name": "@everyone", "permissions": "0"},
                      {"id": "2", "name": "mods", "permissions": "8", "color": 255}],
            "channels": [{"id": "3", "type": 0, "name": "general", "position": 0}],
            "members": [{"user": {"id": "5", "username": "ferris", "global_name": "Ferris"},
                "roles": ["2"], "joined_at": "2024-01-01T00:00:00+00:00", "nick": "crab"}]}),
    );
    persist.apply_dispatch("MESSAGE_CREATE", &message(10, 3));
    let guild = persist.guild(GuildId::new(1)).await.unwrap().unwrap();
    assert_eq!(guild.roles.len(), 2);
    assert_eq!(guild.channels[&ChannelId::new(3)].name, "general");
    let member = persist
        .member(GuildId::new(1), UserId::new(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.display_name(), "crab");
    assert_eq!(member.user.display_name(), "Ferris");
    let role = persist.role(1, 2).await.unwrap().unwrap();
    assert!(role.permissions.administrator());
    assert!(
        persist.role(7, 2).await.unwrap().is_none(),
        "another guild's role"
    );
    let message = persist
        .message(ChannelId::new(3), 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.content, "m10");
    assert!(
        persist
            .message(ChannelId::new(4), 10)
            .await
            .unwrap()
            .is_none()
    );
    let page = persist.guild_members(1, Some(10), None).await.unwrap();
    assert_eq!(page[0].user.name, "ferris");
    assert_eq!(persist.user_guilds(5).await.unwrap(), [GuildId::new(1)]);
    assert_eq!(persist.guilds().await.unwrap(), [GuildId::new(1)]);
    assert_eq!(persist.guild_roles(1).await.unwrap().len(), 2);
    assert!(persist.channel(3).await.unwrap().is_some());
    persist.shutdown().await.unwrap();
}
