//! redb storage backend for serenity-persist: a pure-Rust embedded store.
//!
//! [`RedbStore`] keeps the cache in one redb file, with the key layout of
//! [`persist_kv`]: one table per space, big-endian keys, MessagePack values
//! with a format byte. Each batch is one redb write transaction committed
//! with `Durability::Immediate` (fsync'd before `apply` returns), so a batch
//! `Cache::flush()` reported durable survives a crash. redb allows one
//! process at a time: a file open elsewhere is refused with a clear error.
//!
//! ```no_run
//! # async fn demo() -> Result<(), persist_core::Error> {
//! use persist_core::{Migrations, ReadApi};
//! let store = persist_redb::RedbStore::open("cache.redb", &Migrations::new()).await?;
//! let guilds = store.guild_ids().await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::path::Path;

use persist_core::{Error, Migrations, Result};
pub use persist_kv::LOCK_WAIT;
use persist_kv::{KvEngine, KvRead, KvStore, Pair, Space, WriteSet, open_waiting_for_lock};
use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition, TableError};

/// The page cache a store opens with: 64 MiB (redb's own default is
/// 1 GiB). With the cache's default queue budget (256 MiB) a bot's cache
/// stays within about 350 MiB plus what the bot itself holds.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// A [`persist_core::Store`] in a redb file.
#[derive(Debug)]
pub struct RedbStore(KvStore<RedbEngine>);

persist_kv::forward_store!(RedbStore);

type Bytes = &'static [u8];
type RangeItem<'a> = std::result::Result<
    (redb::AccessGuard<'a, Bytes>, redb::AccessGuard<'a, Bytes>),
    redb::StorageError,
>;

fn table(space: Space) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(space.name())
}

fn fail(context: &str) -> impl FnOnce(redb::Error) -> Error + '_ {
    move |e| Error::backend("redb", context.to_owned(), e)
}

/// The redb engine under [`RedbStore`].
#[derive(Debug)]
pub struct RedbEngine {
    db: redb::Database,
}

impl RedbEngine {
    /// Opens (creating if missing) a redb file and its tables, with a page
    /// cache of [`DEFAULT_CACHE_BYTES`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// Opens (creating if missing) a redb file and its tables, with a page
    /// cache of at most `cache_bytes`.
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> Result<Self> {
        let path = path.as_ref();
        let context = format!("opening {}", path.display());
        // A store of this process closed a moment ago may still be held by
        // a task that is ending: wait for it, briefly.
        let db = open_waiting_for_lock(
            || {
                redb::Builder::new()
                    .set_cache_size(cache_bytes)
                    .create(path)
            },
            |e| matches!(e, redb::DatabaseError::DatabaseAlreadyOpen),
        )
        .map_err(|e| fail(&context)(e.into()))?;
        let engine = Self { db };
        Ok(engine)
    }

    fn create_tables(&self) -> Result<()> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| fail("creating tables")(e.into()))?;
        for space in Space::ALL {
            txn.open_table(table(space))
                .map_err(|e| fail("creating tables")(e.into()))?;
        }
        txn.commit().map_err(|e| fail("creating tables")(e.into()))
    }
}

impl RedbStore {
    /// Opens the store in a redb file, upgrading its layout, then runs the
    /// application's hooks.
    pub async fn open(path: impl AsRef<Path>, migrations: &Migrations) -> Result<Self> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES, migrations).await
    }

    /// Like [`RedbStore::open`], with redb's page cache bounded to
    /// `cache_bytes` (the default, [`DEFAULT_CACHE_BYTES`], is 64 MiB; redb's
    /// own default is 1 GiB).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), persist_core::Error> {
    /// let store = persist_redb::RedbStore::open_with_cache(
    ///     "cache.redb",
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
        let engine = RedbEngine::open_with_cache(path, cache_bytes)?;
        Self::open_engine(engine, migrations, None).await
    }

    /// The engine underneath (reads on it see committed data only).
    pub fn engine(&self) -> &RedbEngine {
        self.0.engine()
    }

    /// Like [`RedbStore::open`], stopping at an older layout (for tests).
    #[doc(hidden)]
    pub async fn open_layout(
        path: impl AsRef<Path>,
        migrations: &Migrations,
        layout: Option<u32>,
    ) -> Result<Self> {
        Self::open_engine(RedbEngine::open(path)?, migrations, layout).await
    }

    async fn open_engine(
        engine: RedbEngine,
        migrations: &Migrations,
        layout: Option<u32>,
    ) -> Result<Self> {
        // Tables are created in their own transaction: an empty new file is no
        // layout at all, and a newer layout is refused before this writes.
        let found = persist_kv::stored_layout(&*engine.read()?)?;
        if found > persist_kv::CURRENT_LAYOUT {
            return Err(Error::SchemaTooNew {
                found,
                supported: persist_kv::CURRENT_LAYOUT,
            });
        }
        engine.create_tables()?;
        KvStore::open_at(engine, migrations, layout).await.map(Self)
    }
}

type ReadTable = redb::ReadOnlyTable<Bytes, Bytes>;

struct RedbRead {
    txn: redb::ReadTransaction,
    // Tables opened so far in this view, by space (opening costs a lookup).
    tables: std::cell::RefCell<Vec<Option<Option<std::rc::Rc<ReadTable>>>>>,
}

impl RedbRead {
    fn open(&self, space: Space) -> Result<Option<std::rc::Rc<ReadTable>>> {
        if let Some(Some(table)) = self.tables.borrow().get(space as usize) {
            return Ok(table.clone());
        }
        let table = match self.txn.open_table(table(space)) {
            Ok(t) => Some(std::rc::Rc::new(t)),
            Err(TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(fail("reading")(e.into())),
        };
        if let Some(slot) = self.tables.borrow_mut().get_mut(space as usize) {
            *slot = Some(table.clone());
        }
        Ok(table)
    }
}

impl KvRead for RedbRead {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(t) = self.open(space)? else {
            return Ok(None);
        };
        Ok(t.get(key)
            .map_err(|e| fail("reading")(e.into()))?
            .map(|v| v.value().to_vec()))
    }

    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Pair>> {
        let Some(t) = self.open(space)? else {
            return Ok(Vec::new());
        };
        if from >= to || limit == 0 {
            return Ok(Vec::new());
        }
        let range = t
            .range::<&[u8]>(from..to)
            .map_err(|e| fail("reading a range")(e.into()))?;
        let items: Box<dyn Iterator<Item = RangeItem<'_>>> = if reverse {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        let mut out = Vec::new();
        for item in items.take(limit) {
            let (k, v) = item.map_err(|e| fail("reading a range")(e.into()))?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn count(&self, space: Space) -> Result<u64> {
        let Some(t) = self.open(space)? else {
            return Ok(0);
        };
        t.len().map_err(|e| fail("counting")(e.into()))
    }
}

impl KvEngine for RedbEngine {
    const NAME: &'static str = "redb";

    fn read(&self) -> Result<Box<dyn KvRead + '_>> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| fail("starting a read")(e.into()))?;
        Ok(Box::new(RedbRead {
            txn,
            tables: std::cell::RefCell::new(vec![None; Space::ALL.len()]),
        }))
    }

    fn commit(&self, writes: WriteSet) -> Result<()> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| fail("starting a batch")(e.into()))?;
        {
            let mut current: Option<(Space, redb::Table<Bytes, Bytes>)> = None;
            for (space, key, change) in writes.iter() {
                if current.as_ref().is_none_or(|(s, _)| *s != space) {
                    let t = txn
                        .open_table(table(space))
                        .map_err(|e| fail("writing")(e.into()))?;
                    current = Some((space, t));
                }
                let Some((_, t)) = current.as_mut() else {
                    continue;
                };
                match change {
                    Some(value) => {
                        t.insert(key, value)
                            .map_err(|e| fail("writing")(e.into()))?;
                    }
                    None => {
                        t.remove(key).map_err(|e| fail("writing")(e.into()))?;
                    }
                }
            }
        }
        txn.commit()
            .map_err(|e| fail("committing a batch")(e.into()))
    }
}
