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

/// Puts and deletes to commit together.
#[derive(Clone, Debug, Default)]
pub struct WriteSet {
    // Per space, so lookups borrow the key instead of copying it.
    spaces: BTreeMap<Space, BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl WriteSet {
    /// Stages a put.
    pub fn put(&mut self, space: Space, key: &[u8], value: Vec<u8>) {
        self.spaces
            .entry(space)
            .or_default()
            .insert(key.to_vec(), Some(value));
    }

    /// Stages a delete.
    pub fn delete(&mut self, space: Space, key: &[u8]) {
        self.spaces
            .entry(space)
            .or_default()
            .insert(key.to_vec(), None);
    }

    /// The staged change of a key: `Some(None)` is a delete.
    pub fn change(&self, space: Space, key: &[u8]) -> Option<&Option<Vec<u8>>> {
        self.spaces.get(&space)?.get(key)
    }

    /// The staged changes with `from <= key < to`, ascending.
    pub fn range<'a>(
        &'a self,
        space: Space,
        from: &[u8],
        to: &[u8],
    ) -> impl Iterator<Item = (&'a [u8], &'a Option<Vec<u8>>)> + 'a {
        let changes = self.spaces.get(&space).filter(|_| from < to);
        let bounds = (
            std::ops::Bound::Included(from.to_vec()),
            std::ops::Bound::Excluded(to.to_vec()),
        );
        changes
            .into_iter()
            .flat_map(move |m| m.range(bounds.clone()))
            .map(|(k, v)| (k.as_slice(), v))
    }

    /// Every change, by space then key: (space, key, new value or `None` to delete).
    pub fn iter(&self) -> impl Iterator<Item = (Space, &[u8], Option<&[u8]>)> {
        self.spaces.iter().flat_map(|(space, m)| {
            m.iter()
                .map(move |(k, v)| (*space, k.as_slice(), v.as_deref()))
        })
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.spaces.values().all(BTreeMap::is_empty)
    }
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

/// How long an engine's open waits for a file or directory that this
/// process is still closing (an engine releases its lock when its last
/// handle drops, and a store a task is still dropping holds one) before
/// reporting it open elsewhere.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Calls `open` until it succeeds, fails with an error that is not
/// `locked`, or [`LOCK_WAIT`] has passed (then the last error is returned).
///
/// ```
/// let mut tries = 0;
/// let opened: Result<u32, &str> = persist_kv::open_waiting_for_lock(
///     || { tries += 1; if tries < 3 { Err("locked") } else { Ok(7) } },
///     |e| *e == "locked",
/// );
/// assert_eq!(opened, Ok(7));
/// ```
pub fn open_waiting_for_lock<T, E>(
    mut open: impl FnMut() -> Result<T, E>,
    locked: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let started = std::time::Instant::now();
    loop {
        match open() {
            Err(e) if locked(&e) && started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            done => return done,
        }
    }
}
