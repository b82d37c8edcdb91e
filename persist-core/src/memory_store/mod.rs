//! An in-memory `Store`: a store for tests and small bots, and the scratch
//! space of read overlays. Batches apply through the shared semantics
//! ([`crate::write::plan`]); its engine is [`objects`].

mod messages;
mod objects;

pub(crate) use messages::ChannelMessages;
pub(crate) use objects::{Committed, Data};

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;

use crate::entity::EntityKey;
use crate::store::{AppliedHook, Store};
use crate::write;
use crate::{Answer, Error, Migrations, Mutation, Query, Result};

/// The schema version of the memory store (it has had one layout).
pub const MEMORY_SCHEMA_VERSION: u32 = 1;

/// A [`Store`] that keeps everything in memory. Clones share the same data.
///
/// ```
/// use persist_core::{MemoryStore, Migrations, Store, Mutation, Query, Answer, model::Guild, GuildId};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::open(&Migrations::new()).await?;
/// let guild = Guild { id: GuildId::new(1), name: "ferris club".into(), ..Default::default() };
/// store.apply(&[Mutation::upsert(guild)]).await?;
/// let Answer::Guild(Some(read)) = store.read(&Query::Guild(GuildId::new(1))).await? else { panic!() };
/// assert_eq!(read.name, "ferris club");
/// # Ok::<(), persist_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    data: Arc<RwLock<Data>>,
}

impl MemoryStore {
    /// An empty store; no hooks run (use [`MemoryStore::open`] for that).
    pub fn new() -> Self {
        Self {
            data: Arc::new(RwLock::new(Data::at_version(MEMORY_SCHEMA_VERSION))),
        }
    }

    /// An empty store with the application's migration hooks run.
    pub async fn open(migrations: &Migrations) -> Result<Self> {
        Self::new().reopen(migrations).await
    }

    /// Opens this store's data again, as a restarted process opens its file:
    /// checks the schema version, then runs hooks not yet recorded.
    pub async fn reopen(&self, migrations: &Migrations) -> Result<Self> {
        let found = self.read_data().schema_version;
        if found > MEMORY_SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                found,
                supported: MEMORY_SCHEMA_VERSION,
            });
        }
        let store = self.clone();
        migrations.run(&store).await?;
        Ok(store)
    }

    /// Marks the data as written by a newer schema (for testing refusal).
    #[doc(hidden)]
    pub fn set_schema_version(&self, version: u32) {
        self.write_data().schema_version = version;
    }

    // Nothing in `Data::commit` panics, so a poisoned lock cannot hide a
    // half-applied batch; reuse the data rather than fail every later call.
    fn read_data(&self) -> RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_data(&self) -> RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies mutations synchronously (the overlay's path).
    pub(crate) fn apply_now(&self, batch: &[Mutation]) -> Result<()> {
        let mut data = self.write_data();
        let changes = write::plan(&mut Committed(&data), batch)?;
        data.commit(changes);
        Ok(())
    }

    /// Answers a query synchronously (the overlay's path).
    pub(crate) fn read_now(&self, query: &Query) -> Answer {
        self.read_data().read(query)
    }

    /// Whether an object is stored (the overlay's path).
    pub(crate) fn contains(&self, key: &EntityKey) -> bool {
        self.read_data().get(key).is_some()
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn apply(&self, batch: &[Mutation]) -> Result<()> {
        self.apply_now(batch)
    }

    async fn read(&self, query: &Query) -> Result<Answer> {
        Ok(self.read_now(query))
    }

    async fn schema_version(&self) -> Result<u32> {
        Ok(self.read_data().schema_version)
    }

    async fn applied_hooks(&self) -> Result<Vec<AppliedHook>> {
        Ok(self.read_data().hooks.clone())
    }

    async fn record_hook(&self, hook: &AppliedHook) -> Result<()> {
        let mut data = self.write_data();
        data.hooks.retain(|h| h.version != hook.version);
        data.hooks.push(hook.clone());
        Ok(())
    }
}
