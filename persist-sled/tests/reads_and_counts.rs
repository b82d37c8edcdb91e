//! What is particular to sled: reads are not snapshots (the crate docs say
//! so): a list read that straddles a commit leaves out what the commit
//! removed and does not show what it added after the listing. It never
//! fails and never answers an object that was not committed whole. The
//! commit is made to land exactly between the index scan and the point gets
//! of a read. And the counts sled's own `Tree::len` would walk are kept in
//! `meta`.

use std::cell::Cell;

use persist_core::testkit::fixtures as fx;
use persist_core::{
    Answer, EntityKey, GuildId, Migrations, Mutation, Query, ReadApi, RoleId, Store,
};
use persist_kv::{CURRENT_LAYOUT, KvEngine, KvRead, Pair, Space, answer, batch_writes};
use persist_sled::{SledEngine, SledStore};

/// A read view that commits `batch` right after its first range scan.
struct CommitAfterListing<'a> {
    view: Box<dyn KvRead + 'a>,
    engine: &'a SledEngine,
    batch: Vec<Mutation>,
    committed: Cell<bool>,
}

impl KvRead for CommitAfterListing<'_> {
    fn get(&self, space: Space, key: &[u8]) -> persist_core::Result<Option<Vec<u8>>> {
        self.view.get(space, key)
    }

    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> persist_core::Result<Vec<Pair>> {
        let listed = self.view.range(space, from, to, reverse, limit)?;
        if !self.committed.replace(true) {
            let writes = batch_writes(&*self.engine.read()?, CURRENT_LAYOUT, &self.batch)?;
            self.engine.commit(writes)?;
        }
        Ok(listed)
    }

    fn count(&self, space: Space) -> persist_core::Result<u64> {
        self.view.count(space)
    }
}

/// Two roles of guild 9 and a member holding one.
fn roles_and_a_member() -> Vec<Mutation> {
    vec![
        Mutation::upsert(fx::role(1, 9)),
        Mutation::upsert(fx::role(2, 9)),
        Mutation::upsert(fx::member(9, 20, &[1])),
    ]
}

/// Opens the store at `path`, commits `batch` and closes it.
async fn write(path: &std::path::Path, batch: &[Mutation]) {
    let store = SledStore::open(path, &Migrations::new()).await.unwrap();
    store.apply(batch).await.unwrap();
}

/// Edits the `meta` tree of a closed store's directory with sled itself,
/// as another tool (or older code) would.
fn edit_meta(path: &std::path::Path, edit: impl FnOnce(&sled::Tree)) {
    let db = sled::open(path).unwrap();
    edit(&db.open_tree("meta").unwrap());
    db.flush().unwrap();
}

fn role_ids(answer: Answer) -> Vec<u64> {
    match answer {
        Answer::Roles(roles) => roles.iter().map(|r| r.id.get()).collect(),
        other => panic!("expected roles, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_read_straddling_a_commit_leaves_out_what_it_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("cache.sled"), &Migrations::new())
        .await
        .unwrap();
    store
        .apply(&[
            Mutation::upsert(fx::role(1, 9)),
            Mutation::upsert(fx::role(2, 9)),
            Mutation::upsert(fx::role(3, 9)),
        ])
        .await
        .unwrap();

    let engine = store.engine();
    let view = CommitAfterListing {
        view: engine.read().unwrap(),
        engine,
        batch: vec![
            Mutation::Delete(EntityKey::Role(RoleId::new(2))),
            Mutation::upsert(fx::role(4, 9)),
        ],
        committed: Cell::new(false),
    };
    let straddling = answer(&view, &Query::GuildRoles(GuildId::new(9))).unwrap();
    assert!(view.committed.get(), "the commit landed inside the read");
    // Role 2 was listed, then removed before its get: left out. Role 4 was
    // added after the listing: not seen.
    assert_eq!(role_ids(straddling), [1, 3]);

    // The next read sees the commit whole.
    let after = store.guild_roles(GuildId::new(9)).await.unwrap();
    let ids: Vec<u64> = after.iter().map(|r| r.id.get()).collect();
    assert_eq!(ids, [1, 3, 4]);
}

#[tokio::test(flavor = "multi_thread")]
async fn counts_are_kept_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sled");
    let mut batch = roles_and_a_member();
    batch.push(Mutation::upsert(fx::channel(10, 9)));
    batch.push(Mutation::upsert(fx::thread(11, 9, 10)));
    write(&path, &batch).await;
    // Rewriting an object does not count it twice; deleting one that is
    // not stored does not count it down.
    write(
        &path,
        &[
            Mutation::upsert(fx::role(1, 9)),
            Mutation::Delete(EntityKey::Role(RoleId::new(77))),
        ],
    )
    .await;
    let store = SledStore::open(&path, &Migrations::new()).await.unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!(
        (
            counts.roles,
            counts.members,
            counts.channels,
            counts.threads
        ),
        (2, 1, 1, 1)
    );
    store
        .apply(&[Mutation::Delete(EntityKey::Role(RoleId::new(2)))])
        .await
        .unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.roles, counts.members), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_directory_written_before_counts_were_kept_is_counted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sled");
    write(&path, &roles_and_a_member()).await;
    // As code before the counts left it: no marker, no counts.
    edit_meta(&path, |meta| {
        let kept: Vec<_> = meta
            .iter()
            .keys()
            .map(Result::unwrap)
            .filter(|k| k.starts_with(b"count"))
            .collect();
        assert!(kept.len() > 1, "counts were kept: {kept:?}");
        for key in kept {
            meta.remove(key).unwrap();
        }
    });
    let store = SledStore::open(&path, &Migrations::new()).await.unwrap();
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.roles, counts.members), (2, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_count_fails_the_commit_and_the_count_read_instead_of_restarting_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.sled");
    write(&path, &roles_and_a_member()).await;
    edit_meta(&path, |meta| {
        meta.insert(b"count/roles", &b"bad"[..]).unwrap();
    });
    let store = SledStore::open(&path, &Migrations::new()).await.unwrap();
    let commit = store.apply(&[Mutation::upsert(fx::role(3, 9))]).await;
    assert!(
        matches!(&commit, Err(persist_core::Error::Corrupt { key, .. }) if key == "meta/count/roles"),
        "{commit:?}"
    );
    let counts = store.counts().await;
    assert!(
        matches!(counts, Err(persist_core::Error::Corrupt { .. })),
        "{counts:?}"
    );
    // Nothing of the failed batch landed.
    assert_eq!(store.role(RoleId::new(3)).await.unwrap(), None);
}
