//! The store as one batch has changed it so far: the objects it read or
//! wrote, over the engine's committed state.

use std::borrow::Cow;
use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use crate::entity::{EntityKey, Record};
use crate::model::Message;
use crate::{MessageId, Result};

use super::{Changes, Engine, Scope};

/// What the batch knows of one key.
struct Slot<'b> {
    /// The object now (`None`: absent, remembered so a key the store lacks
    /// is read once); lent by the batch when it upserted it as it is.
    now: Option<Cow<'b, Record>>,
    /// Whether the batch wrote the key (else it is as committed).
    written: bool,
}

pub(super) struct BatchView<'e, 'b> {
    engine: &'e mut dyn Engine,
    // Every key read or written.
    known: FxHashMap<EntityKey, Slot<'b>>,
    // The written keys whose object is now in each parent-named scope
    // (`Scope::of`), so listing a scope does not scan every write. Built at
    // the batch's first scope listing (most batches list none), then kept.
    written_in: Option<FxHashMap<Scope, BTreeSet<EntityKey>>>,
}

impl<'e, 'b> BatchView<'e, 'b> {
    /// A view for a batch of about `size` mutations.
    pub(super) fn new(engine: &'e mut dyn Engine, size: usize) -> Self {
        Self {
            engine,
            known: FxHashMap::with_capacity_and_hasher(size, Default::default()),
            written_in: None,
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
        self.known
            .extend(missing.into_iter().zip(found).map(|(key, now)| {
                (
                    key,
                    Slot {
                        now: now.map(Cow::Owned),
                        written: false,
                    },
                )
            }));
        Ok(())
    }

    fn now(&self, key: &EntityKey) -> Option<Record> {
        self.known
            .get(key)
            .and_then(|slot| slot.now.as_deref().cloned())
    }

    pub(super) fn get(&mut self, key: EntityKey) -> Result<Option<Record>> {
        self.prefetch(std::iter::once(key))?;
        Ok(self.now(&key))
    }

    pub(super) fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>> {
        self.prefetch(keys.iter().copied())?;
        Ok(keys.iter().map(|k| self.now(k)).collect())
    }

    /// Writes the key's object (`None`: removes it).
    fn write(&mut self, key: EntityKey, now: Option<Cow<'b, Record>>) {
        let slot = Slot { now, written: true };
        let old = self.known.insert(key, slot).filter(|old| old.written);
        if let Some(written_in) = &mut self.written_in {
            // Only a written object is in `written_in`.
            if let Some(old) = old.as_ref().and_then(|old| old.now.as_deref()) {
                for scope in Scope::of(old) {
                    if let Some(keys) = written_in.get_mut(&scope) {
                        keys.remove(&key);
                    }
                }
            }
            if let Some(now) = self.known.get(&key).and_then(|slot| slot.now.as_deref()) {
                for scope in Scope::of(now) {
                    written_in.entry(scope).or_default().insert(key);
                }
            }
        }
    }

    pub(super) fn put(&mut self, record: Record) {
        self.write(record.key(), Some(Cow::Owned(record)));
    }

    /// Puts an object read and changed by the batch, unless it is as the
    /// view already holds it (a member patch that changes nothing, as most
    /// of those MESSAGE_CREATE carries are, writes nothing).
    pub(super) fn put_changed(&mut self, record: Record) {
        self.write_changed(Cow::Owned(record));
    }

    /// Puts an object of the batch as it is (lent, not copied).
    pub(super) fn put_borrowed(&mut self, record: &'b Record) {
        self.write(record.key(), Some(Cow::Borrowed(record)));
    }

    /// Like [`BatchView::put_borrowed`], writing nothing when the view
    /// already holds the object as it is.
    pub(super) fn put_borrowed_changed(&mut self, record: &'b Record) {
        self.write_changed(Cow::Borrowed(record));
    }

    fn write_changed(&mut self, record: Cow<'b, Record>) {
        let key = record.key();
        let unchanged = self
            .known
            .get(&key)
            .is_some_and(|slot| slot.now.as_deref() == Some(&*record));
        if !unchanged {
            self.write(key, Some(record));
        }
    }

    pub(super) fn delete(&mut self, key: EntityKey) {
        self.write(key, None);
    }

    /// The written keys by parent-named scope, built on first use.
    fn written_in(&mut self) -> &FxHashMap<Scope, BTreeSet<EntityKey>> {
        let known = &self.known;
        self.written_in.get_or_insert_with(|| {
            let mut written_in: FxHashMap<Scope, BTreeSet<EntityKey>> = FxHashMap::default();
            for (key, slot) in known.iter().filter(|(_, slot)| slot.written) {
                for scope in slot.now.iter().flat_map(|now| Scope::of(now)) {
                    written_in.entry(scope).or_default().insert(*key);
                }
            }
            written_in
        })
    }

    /// The scope's keys now, ascending: the engine's, less what the batch
    /// removed or moved out, plus what it wrote into the scope.
    pub(super) fn scope_keys(&mut self, scope: Scope) -> Result<Vec<EntityKey>> {
        let mut keys = self.engine.scope_keys(scope)?;
        // Only a key the batch wrote can have left the scope.
        keys.retain(|k| match self.known.get(k) {
            Some(Slot { now, written: true }) => {
                now.as_ref().is_some_and(|record| scope.contains(record))
            }
            _ => true,
        });
        let before = keys.len();
        if scope.is_predicate() {
            keys.extend(self.known.iter().filter_map(|(key, slot)| {
                let in_scope = slot.written && slot.now.as_ref().is_some_and(|r| scope.contains(r));
                in_scope.then_some(*key)
            }));
        } else if let Some(written) = self.written_in().get(&scope) {
            keys.extend(written.iter().copied());
        }
        if keys.len() > before {
            keys.sort_unstable();
            keys.dedup();
        }
        Ok(keys)
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
            self.put_changed(Record::Message(message));
        }
        Ok(())
    }

    pub(super) fn into_changes(self) -> Changes<'b> {
        let mut changes = Changes::default();
        for (key, slot) in self.known {
            match slot {
                Slot { written: false, .. } => {}
                Slot {
                    now: Some(record), ..
                } => changes.puts.push(record),
                Slot { now: None, .. } => changes.deletes.push(key),
            }
        }
        changes
    }
}
