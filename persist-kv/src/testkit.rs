//! Checks every key-value backend runs on top of the conformance kit: layout
//! upgrades and undecodable values. Each takes a function that opens the
//! backend's store at a path. [`backend_tests!`](crate::backend_tests) writes
//! a backend's whole test suite: the conformance kit, these checks, clear
//! errors for bad paths and files, and crash safety.

use std::future::Future;
use std::path::{Path, PathBuf};

use persist_core::testkit::fixtures as fx;
use persist_core::{Error, GuildId, MessageId, Mutation, ReadApi, Result, Store, UserId};

use crate::{CURRENT_LAYOUT, KvEngine, Space, WriteSet, key};

/// A store written in layout 1 (before the user -> guilds index and the
/// thread count) is upgraded on open and its data is intact, the new index
/// and the counts included.
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
        batch.push(Mutation::upsert(fx::channel(10, 1)));
        batch.push(Mutation::upsert(fx::thread(11, 1, 10)));
        batch.push(Mutation::upsert(fx::thread(12, 1, 10)));
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
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.channels, counts.threads), (1, 2));
    // The kept count follows later writes.
    store
        .apply(&[
            Mutation::Delete(persist_core::EntityKey::Channel(
                persist_core::ChannelId::new(11),
            )),
            Mutation::upsert(fx::thread(13, 1, 10)),
            Mutation::upsert(fx::thread(13, 1, 10)),
            Mutation::upsert(fx::channel(14, 1)),
        ])
        .await
        .unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.channels, counts.threads), (2, 2));
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

/// Writes the test suite of a key-value backend: the conformance kit, the
/// layout upgrade, undecodable values, a store open elsewhere, unwritable
/// paths, foreign files, and SIGKILL crash safety. Invoke it once in a test
/// file of the backend crate (which needs `async-trait`, `tempfile` and
/// `tokio` as dev-dependencies).
#[macro_export]
macro_rules! backend_tests {
    (store: $store:ident, engine: $engine:ident, backend: $backend:literal, extension: $ext:literal, crash_env: $env:literal $(,)?) => {
        struct Factory {
            dir: ::tempfile::TempDir,
        }

        impl Factory {
            fn path(&self, name: &str) -> ::std::path::PathBuf {
                self.dir.path().join(format!("{name}.{}", $ext))
            }
        }

        #[::async_trait::async_trait]
        impl ::persist_core::testkit::StoreFactory for Factory {
            async fn open(
                &self,
                name: &str,
                migrations: &::persist_core::Migrations,
            ) -> ::persist_core::Result<::std::sync::Arc<dyn ::persist_core::Store>> {
                Ok(::std::sync::Arc::new(
                    $store::open(self.path(name), migrations).await?,
                ))
            }

            async fn make_schema_newer(&self, name: &str) -> ::persist_core::Result<()> {
                use $crate::KvEngine as _;
                let engine = $engine::open(self.path(name))?;
                let mut writes = $crate::WriteSet::default();
                writes.put($crate::Space::Meta, b"layout", 99u32.to_be_bytes().to_vec());
                engine.commit(writes)
            }
        }

        fn temp() -> ::tempfile::TempDir {
            ::tempfile::tempdir().expect("a temporary directory")
        }

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn passes_the_conformance_kit() {
            ::persist_core::testkit::run_conformance(&Factory { dir: temp() }).await;
        }

        #[test]
        fn agrees_with_the_reference_model() {
            ::persist_core::testkit::run_model_check(
                &Factory { dir: temp() },
                128,
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions.txt"),
            );
        }

        #[test]
        fn agrees_with_the_reference_model_behind_the_hot_tier() {
            ::persist_core::testkit::run_hot_tier_model_checks(
                &Factory { dir: temp() },
                32,
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/model-regressions-cache"),
            );
        }

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_layout_1_store_is_upgraded_with_its_data_intact() {
            let dir = temp();
            $crate::testkit::check_layout_upgrade(
                &dir.path().join(format!("old.{}", $ext)),
                |path, layout| async move {
                    $store::open_layout(path, &::persist_core::Migrations::new(), layout).await
                },
            )
            .await;
        }

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn an_undecodable_value_is_reported_with_its_key() {
            let dir = temp();
            $crate::testkit::check_undecodable_value_is_reported(
                &dir.path().join(format!("bad.{}", $ext)),
                |p: &::std::path::Path| $engine::open(p),
                |path| async move { $store::open(path, &::persist_core::Migrations::new()).await },
            )
            .await;
        }

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_store_open_elsewhere_is_refused() {
            let dir = temp();
            let path = dir.path().join(format!("busy.{}", $ext));
            let _first = $store::open(&path, &::persist_core::Migrations::new())
                .await
                .unwrap();
            let err = $store::open(&path, &::persist_core::Migrations::new())
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    ::persist_core::Error::Backend {
                        backend: $backend,
                        ..
                    }
                ),
                "{err}"
            );
        }

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_path_that_cannot_be_written_is_a_clear_error() {
            let dir = temp();
            let file = dir.path().join("a-file");
            ::std::fs::write(&file, b"not a directory").unwrap();
            let target = file.join(format!("cache.{}", $ext));
            let err = $store::open(&target, &::persist_core::Migrations::new())
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    ::persist_core::Error::Backend {
                        backend: $backend,
                        ..
                    }
                ),
                "{err}"
            );
            assert!(
                err.to_string().contains("a-file"),
                "the error names the path: {err}"
            );
        }

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_foreign_file_is_refused_and_left_alone() {
            let dir = temp();
            let path = dir.path().join(format!("foreign.{}", $ext));
            let text = b"these are my notes, not a database\n".repeat(300);
            ::std::fs::write(&path, &text).unwrap();
            let err = $store::open(&path, &::persist_core::Migrations::new())
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    ::persist_core::Error::Backend {
                        backend: $backend,
                        ..
                    }
                ),
                "{err}"
            );
            assert_eq!(::std::fs::read(&path).unwrap(), text);
        }

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "helper process of sigkill_mid_stream_loses_nothing_reported_durable"]
        async fn crash_child_writer() {
            let Ok(path) = ::std::env::var($env) else {
                return;
            };
            let store = $store::open(path, &::persist_core::Migrations::new())
                .await
                .unwrap();
            ::persist_core::testkit::crash::run_crash_child(store).await;
        }

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sigkill_mid_stream_loses_nothing_reported_durable() {
            let dir = temp();
            let path = dir.path().join(format!("crash.{}", $ext));
            ::persist_core::testkit::crash::run_crash_parent(
                "crash_child_writer",
                $env,
                &path,
                25,
                |path| async move { $store::open(path, &::persist_core::Migrations::new()).await },
            )
            .await;
        }
    };
}
