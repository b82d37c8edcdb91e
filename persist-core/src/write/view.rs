//! The store as one batch has changed it so far: the objects it read or
//! wrote, over the engine's committed state.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::entity::{EntityKey, Record};
use crate::model::Message;
use crate::{MessageId, Result};

use super::{Changes, Engine, Scope};

pub(super) struct BatchView<'e> {
    engine: &'e mut dyn Engine,
    // Every key read or written: its object now (`None`: absent, remembered
    // so a key the store lacks is read once).
    known: FxHashMap<EntityKey, Option<Record>>,
    // Keys written, in the order first written; each once.
    written: Vec<EntityKey>,
    written_set: FxHashSet<EntityKey>,
}

impl<'e> BatchView<'e> {
    pub(super) fn new(engine: &'e mut dyn Engine) -> Self {
        Self {
            engine,
            known: FxHashMap::default(),
            written: Vec::new(),
            written_set: FxHashSet::default(),
        }
    }

    /// Reads every key not yet known in one engine read.
    pub(super) fn prefetch(&mut self, keys: impl Iterator<Item = EntityKey>) -> Result<()> {
        let mut missing: Vec<EntityKey> = keys.filter(|k| !self.known.contains_key(k)).collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        let found = self.engine.get_many(&missing)?;
        self.known.extend(missing.into_iter().zip(found));
        Ok(())
    }

    pub(super) fn get(&mut self, key: EntityKey) -> Result<Option<Record>> {
        self.prefetch(std::iter::once(key))?;
        Ok(self.known.get(&key).cloned().flatten())
    }

    pub(super) fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>> {
        self.prefetch(keys.iter().copied())?;
        Ok(keys
            .iter()
            .map(|k| self.known.get(k).cloned().flatten())
            .collect())
    }

    fn mark_written(&mut self, key: EntityKey) {
        if self.written_set.insert(key) {
            self.written.push(key);
        }
    }

    pub(super) fn put(&mut self, record: Record) {
        let key = record.key();
        self.known.insert(key, Some(record));
        self.mark_written(key);
    }

    pub(super) fn delete(&mut self, key: EntityKey) {
        self.known.insert(key, None);
        self.mark_written(key);
    }

    /// The scope's keys now, ascending: the engine's, less what the batch
    /// removed or moved out, plus what it wrote into the scope.
    pub(super) fn scope_keys(&mut self, scope: Scope) -> Result<Vec<EntityKey>> {
        let committed = self.engine.scope_keys(scope)?;
        let mut keys: BTreeSet<EntityKey> = committed
            .into_iter()
            .filter(|k| match self.known.get(k) {
                Some(Some(record)) => scope.contains(record),
                Some(None) => false,
                None => true,
            })
            .collect();
        for key in &self.written {
            if let Some(Some(record)) = self.known.get(key)
                && scope.contains(record)
            {
                keys.insert(*key);
            }
        }
        Ok(keys.into_iter().collect())
    }

    pub(super) fn delete_scope(&mut self, scope: Scope) -> Result<()> {
        for key in self.scope_keys(scope)? {
            self.delete(key);
        }
        Ok(())
    }

    /// Changes a stored message in place (nothing if it is not stored).
    pub(super) fn change_message(
        &mut self,
        id: MessageId,
        change: impl FnOnce(&mut Message),
    ) -> Result<()> {
        if let Some(Record::Message(mut message)) = self.get(EntityKey::Message(id))? {
            change(&mut message);
            self.put(Record::Message(message));
        }
        Ok(())
    }

    pub(super) fn into_changes(mut self) -> Changes {
        let mut changes = Changes::default();
        for key in self.written {
            match self.known.remove(&key).flatten() {
                Some(record) => changes.puts.push(record),
                None => changes.deletes.push(key),
            }
        }
        changes
    }
}
