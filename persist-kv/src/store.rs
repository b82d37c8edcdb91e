//! A [`Store`] over any [`KvEngine`].

use std::sync::Arc;

use async_trait::async_trait;
use persist_core::write::run_blocking as blocking;
use persist_core::{Answer, AppliedHook, Error, Migrations, Mutation, Query, Result, Store};
use tokio::sync::Mutex;

use crate::codec::{decode, encode};
use crate::committed::Committed;
use crate::engine::{KvEngine, KvRead, WriteSet};
use crate::read::decode_record;
use crate::txn::{LAYOUT_THREAD_COUNT, LAYOUT_USER_GUILDS, THREADS_KEY, Txn};
use crate::{Space, key};

/// The newest layout this code writes.
pub const CURRENT_LAYOUT: u32 = 3;

const LAYOUT_KEY: &[u8] = b"layout";

/// The layout recorded in the store; 0 for an empty one.
pub fn stored_layout(view: &dyn KvRead) -> Result<u32> {
    match view.get(Space::Meta, LAYOUT_KEY)? {
        Some(v) => Ok(u32::from_be_bytes(v.as_slice().try_into().map_err(
            |_| Error::Corrupt {
                key: "meta/layout".into(),
                reason: format!("{} bytes", v.len()),
            },
        )?)),
        None => Ok(0),
    }
}

/// One step of the layout: rewrites keys or values from `to - 1` to `to`.
fn upgrade(view: &dyn KvRead, to: u32) -> Result<WriteSet> {
    let mut txn = Txn::new(view, to);
    if to == LAYOUT_USER_GUILDS {
        // Layout 2 adds the user -> guilds index: built from every member.
        for (k, _) in view.range(Space::Members, &[], &[0xff; 17], false, usize::MAX)? {
            if let (Some(guild), Some(user)) = (key::first(&k), key::second(&k)) {
                txn.put(Space::UserGuilds, &key::two(user, guild), Vec::new());
            }
        }
    }
    if to == LAYOUT_THREAD_COUNT {
        // Layout 3 keeps the number of threads: counted once from every channel.
        let mut threads = 0u64;
        for (k, v) in view.range(Space::Channels, &[], &[0xff; 9], false, usize::MAX)? {
            let Some(id) = key::first(&k) else { continue };
            let entity = persist_core::EntityKey::Channel(persist_core::ChannelId::new(id));
            // An unreadable channel is skipped, as reads skip it.
            if let Ok(persist_core::Record::Channel(c)) =
                decode_record(Space::Channels, &v, &entity)
            {
                threads += u64::from(c.is_thread());
            }
        }
        txn.put(Space::Meta, THREADS_KEY, threads.to_be_bytes().to_vec());
    }
    txn.put(Space::Meta, LAYOUT_KEY, to.to_be_bytes().to_vec());
    Ok(txn.into_writes())
}

/// What one batch writes over the committed `view`: the cache's semantics
/// give the net changes, staged with their index entries.
pub fn batch_writes(view: &dyn KvRead, layout: u32, batch: &[Mutation]) -> Result<WriteSet> {
    let changes = persist_core::write::plan(&mut Committed(view), batch)?;
    let mut txn = Txn::new(view, layout);
    txn.commit(&changes)?;
    Ok(txn.into_writes())
}

/// A store over a key-value engine: one write transaction per batch, reads
/// from consistent views, a versioned layout.
pub struct KvStore<E: KvEngine> {
    engine: Arc<E>,
    /// One batch at a time (the engines serialize writers anyway; this keeps
    /// the read-then-commit of a batch free of interleaving).
    writer: Mutex<()>,
    layout: u32,
}

impl<E: KvEngine> std::fmt::Debug for KvStore<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvStore")
            .field("engine", &E::NAME)
            .field("layout", &self.layout)
            .finish()
    }
}

impl<E: KvEngine> KvStore<E> {
    /// Opens a store over an opened engine: checks and upgrades the layout,
    /// then runs the application's hooks. A layout newer than this code is
    /// refused with [`Error::SchemaTooNew`] before anything is written.
    pub async fn open(engine: E, migrations: &Migrations) -> Result<Self> {
        Self::open_at(engine, migrations, None).await
    }

    /// Like [`KvStore::open`], stopping at `layout` (to build old stores in tests).
    #[doc(hidden)]
    pub async fn open_at(engine: E, migrations: &Migrations, layout: Option<u32>) -> Result<Self> {
        let target = layout.unwrap_or(CURRENT_LAYOUT).min(CURRENT_LAYOUT);
        let found = stored_layout(&*engine.read()?)?;
        if found > CURRENT_LAYOUT {
            return Err(Error::SchemaTooNew {
                found,
                supported: CURRENT_LAYOUT,
            });
        }
        if found == 0 {
            // An empty store starts at the target layout.
            let mut writes = WriteSet::default();
            writes.put(Space::Meta, LAYOUT_KEY, target.to_be_bytes().to_vec());
            blocking(|| engine.commit(writes))?;
        } else {
            for to in found + 1..=target {
                let writes = blocking(|| upgrade(&*engine.read()?, to))?;
                blocking(|| engine.commit(writes))?;
                tracing::info!(engine = E::NAME, layout = to, "upgraded the store's layout");
            }
        }
        let layout = if found == 0 {
            target
        } else {
            found.max(target)
        };
        let store = Self {
            engine: Arc::new(engine),
            writer: Mutex::new(()),
            layout,
        };
        migrations.run(&store).await?;
        Ok(store)
    }

    /// The engine.
    pub fn engine(&self) -> &E {
        &self.engine
    }
}

#[async_trait]
impl<E: KvEngine> Store for KvStore<E> {
    fn backend(&self) -> &'static str {
        E::NAME
    }

    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        let _writer = self.writer.lock().await;
        blocking(|| {
            let view = self.engine.read()?;
            let writes = batch_writes(&*view, self.layout, batch)?;
            drop(view);
            self.engine.commit(writes)
        })
    }

    async fn read(&self, query: &Query) -> Result<Answer> {
        // Reads touch files (a page cache miss): off the async worker.
        blocking(|| {
            let view = self.engine.read()?;
            crate::read::answer(&*view, query)
        })
    }

    async fn schema_version(&self) -> Result<u32> {
        stored_layout(&*self.engine.read()?)
    }

    async fn applied_hooks(&self) -> Result<Vec<AppliedHook>> {
        let view = self.engine.read()?;
        view.range(Space::Hooks, &[], &[0xff; 5], false, usize::MAX)?
            .iter()
            .map(|(k, v)| decode(v, || format!("hooks/{k:?}")))
            .collect()
    }

    async fn record_hook(&self, hook: &AppliedHook) -> Result<()> {
        let _writer = self.writer.lock().await;
        let mut writes = WriteSet::default();
        writes.put(Space::Hooks, &hook.version.to_be_bytes(), encode(hook)?);
        blocking(|| self.engine.commit(writes))
    }
}
