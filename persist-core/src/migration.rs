//! Application migration hooks: versioned steps that run once per store.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::store::{AppliedHook, BoxFuture, Store};
use crate::{ConfigError, Error, Result, Timestamp};

type HookFn = Arc<dyn for<'a> Fn(&'a dyn Store) -> BoxFuture<'a, Result<()>> + Send + Sync>;

/// One application migration hook.
#[derive(Clone)]
pub struct MigrationHook {
    version: u32,
    name: String,
    run: HookFn,
}

impl MigrationHook {
    /// The hook's version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The hook's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for MigrationHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MigrationHook")
            .field("version", &self.version)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The application's migration hooks, run after a store's own migrations
/// whenever a store is opened. Each runs once: the store records it.
///
/// A hook interrupted by a crash before it is recorded runs again on the next
/// open, so write hooks that can safely run twice. Keep old hooks registered:
/// a store that records a hook newer than every registered one was written by
/// newer code and is refused ([`Error::HookTooNew`]).
///
/// ```
/// use persist_core::{Migrations, MemoryStore, Mutation, Patch, GuildId};
/// # tokio_test_block_on(async {
/// let migrations = Migrations::new().hook(1, "rename-guild-1", |store| {
///     Box::pin(async move {
///         let patch = Patch::guild(GuildId::new(1), serde_json::json!({"name": "renamed"}))?;
///         store.apply(&[Mutation::Patch(patch)]).await
///     })
/// });
/// let store = MemoryStore::open(&migrations).await.unwrap();
/// let again = store.reopen(&migrations).await.unwrap(); // recorded: does not run twice
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Migrations {
    hooks: Vec<MigrationHook>,
}

impl Migrations {
    /// No hooks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a hook. Versions must be unique and start at 1; a duplicate is
    /// reported when the hooks run.
    pub fn hook<F>(mut self, version: u32, name: impl Into<String>, run: F) -> Self
    where
        F: for<'a> Fn(&'a dyn Store) -> BoxFuture<'a, Result<()>> + Send + Sync + 'static,
    {
        self.hooks.push(MigrationHook {
            version,
            name: name.into(),
            run: Arc::new(run),
        });
        self
    }

    /// The registered hooks, by version.
    pub fn hooks(&self) -> Vec<&MigrationHook> {
        let mut hooks: Vec<_> = self.hooks.iter().collect();
        hooks.sort_by_key(|h| h.version);
        hooks
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for hook in &self.hooks {
            if hook.version == 0 {
                return Err(ConfigError::HookVersionZero);
            }
            if !seen.insert(hook.version) {
                return Err(ConfigError::DuplicateHook(hook.version));
            }
        }
        Ok(())
    }

    /// Checks the store's recorded hooks against these, before anything runs:
    /// fails on invalid hooks or on a store that records a newer hook.
    pub async fn check(&self, store: &dyn Store) -> Result<()> {
        self.validate()?;
        let registered = self.hooks.iter().map(|h| h.version).max().unwrap_or(0);
        let found = store
            .applied_hooks()
            .await?
            .iter()
            .map(|h| h.version)
            .max()
            .unwrap_or(0);
        if found > registered {
            return Err(Error::HookTooNew { found, registered });
        }
        Ok(())
    }

    /// Runs every hook the store has not recorded, in version order, and
    /// records each. Returns the versions that ran.
    pub async fn run(&self, store: &dyn Store) -> Result<Vec<u32>> {
        self.check(store).await?;
        let applied: std::collections::BTreeSet<u32> = store
            .applied_hooks()
            .await?
            .iter()
            .map(|h| h.version)
            .collect();
        let mut ran = Vec::new();
        for hook in self.hooks() {
            if applied.contains(&hook.version) {
                continue;
            }
            tracing::info!(version = hook.version, name = %hook.name, "running migration hook");
            (hook.run)(store).await.map_err(|source| Error::Hook {
                version: hook.version,
                name: hook.name.clone(),
                source: Box::new(source),
            })?;
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| {
                    Timestamp::from_unix_micros(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
                })
                .unwrap_or_default();
            store
                .record_hook(&AppliedHook {
                    version: hook.version,
                    name: hook.name.clone(),
                    applied_at: now,
                })
                .await?;
            ran.push(hook.version);
        }
        Ok(ran)
    }
}
