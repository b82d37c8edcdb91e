//! sled storage backend for serenity-persist: a pure-Rust embedded store on
//! sled 0.34.
//!
//! [`SledStore`] keeps the cache in a sled directory, with the key layout of
//! [`persist_kv`]: one tree per space, big-endian keys, MessagePack values
//! with a format byte. Each batch is one sled transaction across the trees
//! it touches, followed by `Db::flush`, which waits for sled's own flush to
//! disk: a batch `Cache::flush()` reported durable survives a crash. sled
//! allows one process at a time: a directory open elsewhere is refused with a
//! clear error.
//!
//! **Maintenance:** sled 0.34.7 is the last release, from 2021; the engine
//! is unmaintained. Prefer the SQLite default or redb for new bots.
//!
//! **Reads are not snapshots:** a read lists an index, then gets each object
//! it names; a batch committed in between can remove an object the index
//! named (it is then left out) or add one after the listing. Each object read
//! is whole and committed, and the writer's own reads are serialized with
//! its commits, so only what a read answers can straddle one batch.
//!
//! ```no_run
//! # async fn demo() -> Result<(), persist_core::Error> {
//! use persist_core::{Migrations, ReadApi};
//! let store = persist_sled::SledStore::open("cache.sled", &Migrations::new()).await?;
//! let guilds = store.guild_ids().await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::path::Path;

use persist_core::{Error, Migrations, Result};
pub use persist_kv::LOCK_WAIT;
use persist_kv::{KvEngine, KvRead, KvStore, Pair, Space, WriteSet, open_waiting_for_lock};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

/// A [`persist_core::Store`] in a sled directory.
#[derive(Debug)]
pub struct SledStore(KvStore<SledEngine>);

persist_kv::forward_store!(SledStore);

fn fail(context: &str) -> impl FnOnce(sled::Error) -> Error + '_ {
    move |e| Error::backend("sled", context.to_owned(), e)
}

/// The page cache a store opens with: 64 MiB (sled's own default is
/// 1 GiB). sled's memory use runs above its cache setting (its write
/// buffers and log); the replay measures the whole process.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// The sled engine under [`SledStore`].
#[derive(Debug)]
pub struct SledEngine {
    db: sled::Db,
    // Invariant: trees[i] is the tree of Space::ALL[i].
    trees: Vec<sled::Tree>,
}

impl SledEngine {
    /// Opens (creating if missing) a sled directory and its trees.
    ///
    /// sled releases a directory's lock from a background thread after its
    /// last handle drops, so a directory closed a moment ago can still look
    /// locked: this waits up to [`LOCK_WAIT`] for it before reporting that
    /// the directory is open elsewhere.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Like [`SledEngine::open`], with sled's page cache bounded to
    /// `cache_bytes`.
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> Result<Self> {
        let path = path.as_ref();
        let context = format!("opening {}", path.display());
        // No background flusher: every commit flushes, and the thread would
        // keep the directory locked after the last handle is dropped.
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(u64::try_from(cache_bytes).unwrap_or(u64::MAX))
            .flush_every_ms(None);
        let db = open_waiting_for_lock(
            || config.open(),
            // sled reports the lock as an `Other` I/O error with this text.
            |e| matches!(e, sled::Error::Io(e) if e.to_string().contains("could not acquire lock")),
        )
        .map_err(fail(&context))?;
        let trees = Space::ALL
            .iter()
            .map(|space| db.open_tree(space.name()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(fail(&context))?;
        let engine = Self { db, trees };
        engine.keep_counts()?;
        Ok(engine)
    }

    fn tree(&self, space: Space) -> &sled::Tree {
        &self.trees[space as usize]
    }

    /// Starts keeping the number of keys of every object space in `meta`
    /// (sled's own `Tree::len` walks the whole tree): counted once, the
    /// first time a directory is opened by code that keeps them; every
    /// commit then updates them in its own transaction.
    fn keep_counts(&self) -> Result<()> {
        let meta = self.tree(Space::Meta);
        if meta
            .contains_key(COUNTS_KEPT)
            .map_err(fail("reading the counts"))?
        {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for space in Space::OBJECTS {
            let n = self.tree(space).len() as u64;
            batch.insert(count_key(space), &n.to_be_bytes());
        }
        batch.insert(COUNTS_KEPT, &[]);
        meta.apply_batch(batch)
            .map_err(fail("writing the counts"))?;
        self.db.flush().map_err(fail("flushing"))?;
        Ok(())
    }

    /// The number of keys of an object space, as kept in `meta`.
    fn kept_count(&self, space: Space) -> Result<u64> {
        persist_kv::meta_count(self, &count_key(space))
    }
}

/// The `meta` key saying the counts below are kept.
const COUNTS_KEPT: &[u8] = b"counts_kept";

/// The `meta` key of an object space's count (u64, big-endian).
fn count_key(space: Space) -> Vec<u8> {
    format!("count/{}", space.name()).into_bytes()
}

impl SledStore {
    /// Opens the store in a sled directory, upgrading its layout, then runs
    /// the application's hooks.
    pub async fn open(path: impl AsRef<Path>, migrations: &Migrations) -> Result<Self> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES, migrations).await
    }

    /// Like [`SledStore::open`], with sled's page cache bounded to
    /// `cache_bytes` (the default, [`DEFAULT_CACHE_BYTES`], is 64 MiB; sled's
    /// own default is 1 GiB).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), persist_core::Error> {
    /// let store = persist_sled::SledStore::open_with_cache(
    ///     "cache.sled",
    ///     256 << 20,
    ///     &persist_core::Migrations::new(),
    /// ).await?;
    /// # Ok(()) }
    /// ```
    pub async fn open_with_cache(
        path: impl AsRef<Path>,
        cache_bytes: usize,
        migrations: &Migrations,
    ) -> Result<Self> {
        KvStore::open_at(
            SledEngine::open_with_cache(path, cache_bytes)?,
            migrations,
            None,
        )
        .await
        .map(Self)
    }

    /// The engine underneath (reads on it see committed data only).
    pub fn engine(&self) -> &SledEngine {
        self.0.engine()
    }

    /// Like [`SledStore::open`], stopping at an older layout (for tests).
    #[doc(hidden)]
    pub async fn open_layout(
        path: impl AsRef<Path>,
        migrations: &Migrations,
        layout: Option<u32>,
    ) -> Result<Self> {
        KvStore::open_at(SledEngine::open(path)?, migrations, layout)
            .await
            .map(Self)
    }
}

impl KvRead for SledEngine {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .tree(space)
            .get(key)
            .map_err(fail("reading"))?
            .map(|v| v.to_vec()))
    }

    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Pair>> {
        if from >= to || limit == 0 {
            return Ok(Vec::new());
        }
        let range = self.tree(space).range(from..to);
        let items: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = if reverse {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        let mut out = Vec::new();
        for item in items.take(limit) {
            let (k, v) = item.map_err(fail("reading a range"))?;
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    fn count(&self, space: Space) -> Result<u64> {
        if Space::OBJECTS.contains(&space) {
            self.kept_count(space)
        } else {
            // Not read by the cache (indexes and metadata): sled walks the tree.
            Ok(self.tree(space).len() as u64)
        }
    }
}

impl KvEngine for SledEngine {
    const NAME: &'static str = "sled";

    fn read(&self) -> Result<Box<dyn KvRead + '_>> {
        // sled reads see committed transactions whole; the store's writer
        // lock keeps a batch's own reads free of other batches.
        Ok(Box::new(SledView(self)))
    }

    fn commit(&self, writes: WriteSet) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let trees: Vec<&sled::Tree> = self.trees.iter().collect();
        trees
            .as_slice()
            .transaction(|txs| {
                // Keys added minus keys removed, per space (sled gives the
                // old value of every insert and remove).
                let mut added = [0i64; Space::ALL.len()];
                for (space, key, change) in writes.iter() {
                    let tree = &txs[space as usize];
                    let (existed, exists) = match change {
                        Some(value) => (tree.insert(key, value)?.is_some(), true),
                        None => (tree.remove(key)?.is_some(), false),
                    };
                    added[space as usize] += i64::from(exists) - i64::from(existed);
                }
                let meta = &txs[Space::Meta as usize];
                for space in Space::OBJECTS {
                    if added[space as usize] == 0 {
                        continue;
                    }
                    let key = count_key(space);
                    let now = match meta.get(&key)? {
                        None => 0,
                        Some(v) => match <[u8; 8]>::try_from(v.as_ref()) {
                            Ok(bytes) => u64::from_be_bytes(bytes),
                            // A damaged count fails the batch (kept for
                            // retry), never silently restarts at 0.
                            Err(_) => {
                                return Err(ConflictableTransactionError::Abort(Error::Corrupt {
                                    key: format!("meta/{}", String::from_utf8_lossy(&key)),
                                    reason: "not an 8-byte count".into(),
                                }));
                            }
                        },
                    };
                    let next = now.saturating_add_signed(added[space as usize]);
                    meta.insert(key, &next.to_be_bytes())?;
                }
                Ok(())
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => {
                    Error::backend("sled", "committing a batch", e.to_string())
                }
            })?;
        // Durable: wait for sled to write and fsync its log.
        self.db.flush().map_err(fail("flushing"))?;
        Ok(())
    }
}

struct SledView<'a>(&'a SledEngine);

impl KvRead for SledView<'_> {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.0.get(space, key)
    }

    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Pair>> {
        self.0.range(space, from, to, reverse, limit)
    }

    fn count(&self, space: Space) -> Result<u64> {
        self.0.count(space)
    }
}
