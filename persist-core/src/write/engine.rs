//! What a storage engine provides to apply a batch: reads of the committed
//! state, many keys or one scope at a time. The semantics
//! ([`plan`](super::plan)) turn a batch into [`Changes`]; the engine writes
//! them in the same transaction as its reads.

use crate::Result;
use crate::entity::{EntityKey, Record};

use super::Scope;

/// The committed state as one batch's transaction sees it.
pub trait Engine {
    /// The objects under these keys, in the same order (`None` where absent).
    fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>>;

    /// The keys of every object in the scope, in ascending order.
    fn scope_keys(&mut self, scope: Scope) -> Result<Vec<EntityKey>>;
}

/// A batch's net effect: each key at most once, in either list. The engine
/// writes whole objects and removes objects (keeping its own indexes and
/// counts in step); every rule of the cache is already applied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Objects to store, replacing what is stored under their key.
    pub puts: Vec<Record>,
    /// Keys whose object to remove (one object each, no cascade).
    pub deletes: Vec<EntityKey>,
}

impl Changes {
    /// Whether the batch changed nothing.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty() && self.deletes.is_empty()
    }
}
