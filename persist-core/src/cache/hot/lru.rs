//! The order in which the hot tier evicts: least recently used first,
//! among what is not pinned.

use std::collections::BTreeMap;

use crate::ChannelId;
use crate::entity::EntityKey;

/// What eviction removes at once: one object, or a channel's window of
/// messages (a window loses its meaning if a message in it goes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Victim {
    Object(EntityKey),
    Window(ChannelId),
}

/// Evictable entries by the tick of their last use.
#[derive(Debug, Default)]
pub(super) struct Lru {
    // Invariant: each victim appears at most once, under its last tick.
    order: BTreeMap<u64, Victim>,
    tick: u64,
}

impl Lru {
    /// Adds or moves `victim` to the most recently used end; `last` is its
    /// tick so far (0: not in the order). Returns its new tick.
    pub(super) fn touch(&mut self, victim: Victim, last: u64) -> u64 {
        if last != 0 {
            self.order.remove(&last);
        }
        self.tick += 1;
        self.order.insert(self.tick, victim);
        self.tick
    }

    /// Takes `victim` (at tick `last`) out of the order.
    pub(super) fn forget(&mut self, last: u64) {
        if last != 0 {
            self.order.remove(&last);
        }
    }

    /// The least recently used victim, taken out of the order.
    pub(super) fn pop_oldest(&mut self) -> Option<Victim> {
        self.order.pop_first().map(|(_, victim)| victim)
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;

    #[test]
    fn the_least_recently_touched_goes_first() {
        let mut lru = Lru::default();
        let a = Victim::Object(EntityKey::User(UserId::new(1)));
        let b = Victim::Window(ChannelId::new(2));
        let ta = lru.touch(a, 0);
        let tb = lru.touch(b, 0);
        lru.touch(a, ta);
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.pop_oldest(), Some(b));
        lru.forget(tb);
        assert_eq!(lru.pop_oldest(), Some(a));
        assert_eq!(lru.pop_oldest(), None);
    }
}
