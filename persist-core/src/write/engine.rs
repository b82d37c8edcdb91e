//! What a storage engine provides to apply a batch: reads of the committed
//! state, many keys or one scope at a time. The semantics
//! ([`plan`](super::plan)) turn a batch into [`Changes`]; the engine writes
//! them in the same transaction as its reads.

use std::borrow::Cow;

use crate::entity::{EntityKey, Record};
use crate::{ChannelId, Result};

use super::Scope;

/// The committed state as one batch's transaction sees it.
pub trait Engine {
    /// The objects under these keys, in the same order (`None` where absent).
    fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>>;

    /// The keys of every object in the scope, in ascending order.
    fn scope_keys(&mut self, scope: Scope) -> Result<Vec<EntityKey>>;
}

/// A batch's net effect: each key at most once, in `puts` or `deletes`. The
/// engine removes objects, writes whole objects, then applies the caps
/// (keeping its own indexes and counts in step); every other rule of the
/// cache is already applied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes<'b> {
    /// Objects to store, replacing what is stored under their key (lent by
    /// the batch when it upserts them as they are).
    pub puts: Vec<Cow<'b, Record>>,
    /// Keys whose object to remove (one object each, no cascade).
    pub deletes: Vec<EntityKey>,
    /// Then, in order, each channel cut to its newest `keep` messages (the
    /// caps that end a batch: an engine trims with its own count instead
    /// of listing the channel).
    pub trims: Vec<(ChannelId, u32)>,
}

impl Changes<'_> {
    /// Whether the batch changed nothing.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty() && self.deletes.is_empty() && self.trims.is_empty()
    }
}

/// Runs an engine's synchronous work (a batch's transaction, a read of
/// files) from an async `Store` method without stalling the runtime's other
/// tasks: on tokio's multi-threaded runtime the worker hands its other tasks
/// off first (`block_in_place`); elsewhere the work runs inline.
///
/// The work runs to its end once started: a caller's future dropped
/// meanwhile cannot leave a transaction half done.
///
/// ```
/// let sum = persist_core::write::run_blocking(|| 1 + 1);
/// assert_eq!(sum, 2);
/// ```
pub fn run_blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}
