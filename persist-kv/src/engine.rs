//! What a key-value engine provides: a consistent read view and an atomic,
//! durable commit of a write set.

use std::collections::BTreeMap;

use persist_core::Error;

use crate::Space;

/// A pair read from a range.
pub type Pair = (Vec<u8>, Vec<u8>);

/// A consistent view of the committed data.
pub trait KvRead {
    /// The value under `key`.
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, Error>;

    /// Up to `limit` pairs with `from <= key < to`, ascending (or descending
    /// when `reverse`).
    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Pair>, Error>;

    /// How many keys the space holds.
    fn count(&self, space: Space) -> Result<u64, Error>;
}

/// Puts (`Some`) and deletes (`None`) to commit together, in key order.
#[derive(Debug, Default)]
pub struct WriteSet {
    /// The changes.
    pub changes: BTreeMap<(Space, Vec<u8>), Option<Vec<u8>>>,
}

/// A key-value engine.
pub trait KvEngine: Send + Sync + 'static {
    /// The engine's name ("redb", "sled").
    const NAME: &'static str;

    /// A read view of everything committed so far.
    fn read(&self) -> Result<Box<dyn KvRead + '_>, Error>;

    /// Commits every change atomically; durable once this returns.
    fn commit(&self, writes: WriteSet) -> Result<(), Error>;
}
