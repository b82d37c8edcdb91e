//! Opening: schema upgrades, and clear errors (never a panic) for bad paths,
//! foreign files, locks and newer schemas.

use std::time::Duration;

use persist_core::testkit::fixtures as fx;
use persist_core::{Error, MessageId, Migrations, Mutation, ReadApi, Store};
use persist_sqlite::{SqliteConfig, SqliteStore};
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};

/// Opens the store in `path` with the defaults and no hooks.
async fn open(path: impl AsRef<std::path::Path>) -> Result<SqliteStore, Error> {
    SqliteStore::open(SqliteConfig::new(path.as_ref()), &Migrations::new()).await
}

async fn raw(path: &std::path::Path) -> SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_version_1_database_is_upgraded_with_its_data_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    let message = fx::message(MessageId::new(175928847299117063), 10, 1);
    let member = fx::member(1, 20, &[30]);
    {
        let store = SqliteStore::open_at(SqliteConfig::new(&path), &Migrations::new(), Some(1))
            .await
            .unwrap();
        assert_eq!(store.schema_version().await.unwrap(), 1);
        store.close().await.unwrap();
        // Rows as version 1 wrote them (no author column yet).
        let mut conn = raw(&path).await;
        sqlx::query("INSERT INTO messages (id, channel_id, guild_id, data) VALUES (?1, 10, 1, ?2)")
            .bind(message.id.get() as i64)
            .bind(serde_json::to_string(&message).unwrap())
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO members (guild_id, user_id, nick, data) VALUES (1, 20, ?1, ?2)")
            .bind(&member.nick)
            .bind(serde_json::to_string(&member).unwrap())
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let store = open(&path).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        persist_sqlite::code_schema_version()
    );
    assert!(persist_sqlite::code_schema_version() >= 3);
    // Version 3 counted the rows already there, and keeps counting.
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.messages, counts.members), (1, 1));
    assert_eq!(
        store.message(message.id).await.unwrap(),
        Some(message.clone())
    );
    assert_eq!(
        store.member(member.guild_id, member.user_id).await.unwrap(),
        Some(member)
    );
    store.close().await.unwrap();
    let mut conn = raw(&path).await;
    let author: i64 = sqlx::query_scalar("SELECT author_id FROM messages WHERE id = ?1")
        .bind(message.id.get() as i64)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        author as u64,
        message.author.id.get(),
        "version 2 backfilled the author column"
    );
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_the_file_left_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    open(&path).await.unwrap().close().await.unwrap();
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO refinery_schema_history VALUES (99, 'future', '2030-01-01T00:00:00Z', '1')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = open(&path).await.unwrap_err();
    assert!(
        matches!(err, Error::SchemaTooNew { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("left untouched"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn a_path_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/cache.db");
    let err = open(&missing).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    // A directory where the file should be.
    let err = open(dir.path()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Backend {
                backend: "sqlite",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    let text = b"these are my notes, not a database\n".repeat(200);
    std::fs::write(&path, &text).unwrap();
    let err = open(&path).await.unwrap_err();
    assert!(err.to_string().contains("not a database"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), text);
}

#[tokio::test]
async fn a_database_locked_elsewhere_gives_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let config = SqliteConfig {
        busy_timeout: Duration::from_millis(200),
        ..SqliteConfig::new(&path)
    };
    let store = SqliteStore::open(config.clone(), &Migrations::new())
        .await
        .unwrap();
    let mut other = raw(&path).await;
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut other)
        .await
        .unwrap();
    let err = store
        .apply(&[Mutation::upsert(fx::user(1))])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    // Once the lock is gone the same store works again.
    store.apply(&[Mutation::upsert(fx::user(1))]).await.unwrap();
    assert!(
        store
            .user(persist_core::UserId::new(1))
            .await
            .unwrap()
            .is_some()
    );
}

/// The message of the configuration error opening with `config` gives.
async fn config_error(config: SqliteConfig) -> String {
    match SqliteStore::open(config, &Migrations::new()).await {
        Err(err @ Error::Config(_)) => err.to_string(),
        Err(other) => panic!("not a configuration error: {other}"),
        Ok(_) => panic!("accepted"),
    }
}

#[tokio::test]
async fn bad_settings_are_refused_naming_the_field_the_value_and_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let at = |change: fn(&mut SqliteConfig)| {
        let mut config = SqliteConfig::new(dir.path().join("x.db"));
        change(&mut config);
        config
    };
    let err = config_error(at(|c| c.readers = 0)).await;
    assert!(
        err.contains("readers must be between 1 and 64, got 0"),
        "{err}"
    );
    let err = config_error(at(|c| c.readers = 65)).await;
    assert!(
        err.contains("readers must be between 1 and 64, got 65"),
        "{err}"
    );
    let err = config_error(at(|c| c.busy_timeout = Duration::MAX)).await;
    assert!(
        err.contains("busy_timeout (milliseconds) must be between 0 and 2147483647, got"),
        "{err}"
    );
    let err = config_error(at(|c| {
        c.busy_timeout = Duration::from_millis(i32::MAX as u64 + 1)
    }))
    .await;
    assert!(err.contains("got 2147483648"), "{err}");
    let err = config_error(at(|c| c.path = "".into())).await;
    assert!(
        err.contains("invalid path: the database path is empty"),
        "{err}"
    );
    // Nothing was created by the refused opens.
    assert!(!dir.path().join("x.db").exists());
    // The largest accepted values open.
    let config = at(|c| {
        c.readers = 64;
        c.busy_timeout = Duration::from_millis(i32::MAX as u64);
    });
    let store = SqliteStore::open(config, &Migrations::new()).await.unwrap();
    store.apply(&[Mutation::upsert(fx::user(1))]).await.unwrap();
    store.close().await.unwrap();
}

#[tokio::test]
async fn one_process_opens_a_file_once_and_again_after_closing_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("once.db");
    let store = open(&path).await.unwrap();
    store.apply(&[Mutation::upsert(fx::user(1))]).await.unwrap();
    // Two spellings of the same file are the same file.
    let other_spelling = dir.path().join(".").join("once.db");
    let err = open(&other_spelling).await.unwrap_err();
    assert!(
        err.to_string().contains("already has the file open"),
        "{err}"
    );
    // The refused open changed nothing: the first store still works.
    store.apply(&[Mutation::upsert(fx::user(2))]).await.unwrap();
    store.close().await.unwrap();
    store.close().await.unwrap();
    let err = store
        .apply(&[Mutation::upsert(fx::user(3))])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
    let again = open(&path).await.unwrap();
    assert!(
        again
            .user(persist_core::UserId::new(2))
            .await
            .unwrap()
            .is_some()
    );
    drop(again);
    // Dropping without closing releases the file too.
    open(&path).await.unwrap().close().await.unwrap();
}

#[tokio::test]
async fn closing_checkpoints_and_leaves_no_journal_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clean.db");
    let store = open(&path).await.unwrap();
    store
        .apply(
            &(1..=500)
                .map(|u| Mutation::upsert(fx::user(u)))
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    assert!(dir.path().join("clean.db-wal").exists());
    store.close().await.unwrap();
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["clean.db"]);
    let again = open(&path).await.unwrap();
    assert!(
        again
            .user(persist_core::UserId::new(500))
            .await
            .unwrap()
            .is_some()
    );
    again.close().await.unwrap();
}

#[tokio::test]
async fn a_corrupt_row_is_reported_with_its_key_and_the_store_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.db");
    let store = open(&path).await.unwrap();
    store
        .apply(&[Mutation::upsert(fx::user(1)), Mutation::upsert(fx::user(2))])
        .await
        .unwrap();
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE users SET data = '{\"id\": \"1\", \"username\": 5}' WHERE id = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    let err = store.user(persist_core::UserId::new(1)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { key, .. } if key.contains("user/1")),
        "{err}"
    );
    assert!(
        store
            .user(persist_core::UserId::new(2))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn an_undecodable_row_is_left_out_of_a_page_not_failing_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.db");
    let store = open(&path).await.unwrap();
    let ids = [1u64 << 40, (1 << 40) + 1, (1 << 40) + 2];
    store
        .apply(&ids.map(|id| Mutation::upsert(fx::message(MessageId::new(id), 10, 1))))
        .await
        .unwrap();
    // A row some other tool wrote: too deep for serde_json to read back.
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE messages SET data = json_set(data, '$.deep', json(?1)) WHERE id = ?2")
        .bind(deep)
        .bind(ids[1] as i64)
        .execute(&mut conn)
        .await
        .unwrap();
    let page = store
        .channel_messages(
            persist_core::ChannelId::new(10),
            persist_core::MessagePage::Latest,
            50,
        )
        .await
        .unwrap();
    let got: Vec<u64> = page.iter().map(|m| m.id.get()).collect();
    assert_eq!(got, [ids[2], ids[0]]);
    // Asked for by id, it is an error naming it.
    let err = store.message(MessageId::new(ids[1])).await.unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
}

const READ_ONLY_ENV: &str = "PERSIST_SQLITE_READ_ONLY_DB";

/// Opens the file named by the environment, which this process may not
/// write; run by `a_read_only_file_is_refused_at_open` as another user.
#[tokio::test]
#[ignore = "helper process of a_read_only_file_is_refused_at_open"]
async fn read_only_child() {
    let Ok(path) = std::env::var(READ_ONLY_ENV) else {
        return;
    };
    let err = open(&path).await.unwrap_err();
    assert!(matches!(err, Error::Unwritable { .. }), "{err}");
    assert!(err.to_string().contains("cannot be written"), "{err}");
}

#[tokio::test]
async fn a_read_only_file_is_refused_at_open() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    use std::os::unix::process::CommandExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("read-only.db");
    let store = open(&path).await.unwrap();
    store.apply(&[Mutation::upsert(fx::user(1))]).await.unwrap();
    store.close().await.unwrap();
    let set_mode = |p: &std::path::Path, mode| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set_mode(&path, 0o444);
    set_mode(dir.path(), 0o555);
    let as_root = std::fs::metadata(&path).unwrap().uid() == 0;
    if as_root {
        // Permissions do not bind root: open it as `nobody` in a child.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "read_only_child", "--ignored", "--nocapture"])
            .env(READ_ONLY_ENV, &path)
            .uid(65534)
            .gid(65534)
            .status()
            .unwrap();
        set_mode(dir.path(), 0o755);
        assert!(
            status.success(),
            "the read-only open did not fail as it should"
        );
    } else {
        let err = open(&path).await.unwrap_err();
        set_mode(dir.path(), 0o755);
        assert!(matches!(err, Error::Unwritable { .. }), "{err}");
    }
    // Made writable again, it opens with its data.
    set_mode(&path, 0o644);
    let store = open(&path).await.unwrap();
    assert!(
        store
            .user(persist_core::UserId::new(1))
            .await
            .unwrap()
            .is_some()
    );
}
