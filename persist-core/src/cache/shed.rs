//! Shedding: what the cache gives up when the store falls so far behind
//! that the queue reaches its memory budget (see
//! [`CacheConfig::queue_memory_budget`](crate::CacheConfig) for the order).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rustc_hash::FxHashMap;

use super::Inner;
use super::queue::{Queued, Segment, lock};
use super::stats::ShedKind;
use crate::{ChannelId, GuildId, Mutation};

/// Incoming mutations of sheddable kinds are refused past this multiple of
/// the budget (in quarters).
const HARD_LIMIT_QUARTERS: usize = 5;
/// Compaction stops once the queue is under this multiple (in quarters).
const LOW_WATER_QUARTERS: usize = 3;

impl Inner {
    /// The queue's hard limit in bytes.
    fn hard_limit(&self) -> usize {
        (self.config.queue_memory_budget / 4).saturating_mul(HARD_LIMIT_QUARTERS)
    }

    fn low_water(&self) -> usize {
        (self.config.queue_memory_budget / 4).saturating_mul(LOW_WATER_QUARTERS)
    }

    /// Decides, on the producer's path, what of an incoming mutation must
    /// be shed (in constant time for one object; for a list, in its
    /// length); marks what is shed and returns what is left to queue.
    /// (Compared with what is queued already, so one mutation larger than
    /// the budget is still taken into an empty queue.)
    pub(super) fn shed_incoming(&self, mutation: Mutation) -> Option<Mutation> {
        let queued = self.queue.bytes.load(Ordering::Acquire);
        if queued <= self.config.queue_memory_budget {
            return Some(mutation);
        }
        self.start_shedding();
        // Presences go as soon as the queue is over its budget, the other
        // sheddable kinds past the hard limit.
        let sheds = |kind: ShedKind| kind == ShedKind::Presences || queued > self.hard_limit();
        match mutation {
            Mutation::UpsertMany(records) => self.shed_from_list(records, sheds),
            mutation => match ShedKind::of(&mutation) {
                Some((kind, guild)) if sheds(kind) => {
                    self.count_shed(kind, 1, guild.into_iter());
                    None
                }
                _ => Some(mutation),
            },
        }
    }

    /// Sheds the members, users, presences and voice states of a
    /// GUILD_CREATE or a member chunk, keeping the guild, its channels and
    /// roles: a startup burst of member lists is bounded like any other
    /// write, and the members come back with the guild's resync.
    fn shed_from_list(
        &self,
        mut records: Vec<crate::entity::Record>,
        sheds: impl Fn(ShedKind) -> bool,
    ) -> Option<Mutation> {
        let mut shed: FxHashMap<ShedKind, (u64, Vec<GuildId>)> = FxHashMap::default();
        records.retain(|record| match ShedKind::of_record(record) {
            Some((kind, guild)) if sheds(kind) => {
                let entry = shed.entry(kind).or_default();
                entry.0 += 1;
                entry.1.extend(guild);
                false
            }
            _ => true,
        });
        if shed.is_empty() {
            return Some(Mutation::UpsertMany(records));
        }
        for (kind, (n, mut guilds)) in shed {
            guilds.dedup();
            self.count_shed(kind, n, guilds.into_iter());
        }
        if records.is_empty() {
            return None;
        }
        // What was shed must not stay allocated in the queue.
        records.shrink_to_fit();
        Some(Mutation::UpsertMany(records))
    }

    /// Notes that the queue went over its budget: logs once per burst and
    /// wakes the compaction task.
    fn start_shedding(&self) {
        if !self.shedding.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                backend = self.store.backend(),
                budget_bytes = self.config.queue_memory_budget,
                queued_bytes = self.queue.bytes.load(Ordering::Relaxed),
                "the store is falling behind: the write queue reached its memory budget; \
                 shedding presences, then the oldest messages of the busiest channels, then \
                 members (counted in stats().shed; the guilds touched are re-synced later)"
            );
        }
        self.shed_wake.notify_one();
    }

    /// Called when a batch settles: ends a burst of shedding once the queue
    /// is back under its low-water mark.
    pub(super) fn end_shedding_if_recovered(&self) {
        if self.shedding.load(Ordering::Acquire)
            && self.queue.bytes.load(Ordering::Acquire) <= self.low_water()
            && self.shedding.swap(false, Ordering::AcqRel)
        {
            let stale = super::queue::lock(&self.stale).len();
            tracing::info!(
                backend = self.store.backend(),
                shed = ?self.counters.shed(),
                stale_guilds = stale,
                "the write queue is back under its memory budget"
            );
            self.resync_ready.notify_waiters();
        }
    }

    fn count_shed(&self, kind: ShedKind, n: u64, guilds: impl Iterator<Item = GuildId>) {
        self.counters.add_shed(kind, n);
        let resource = kind.resource();
        let mark = self.shed_marks.fetch_add(1, Ordering::AcqRel) + 1;
        let mut stale = super::queue::lock(&self.stale);
        for guild in guilds {
            let kinds = stale.entry(guild).or_default();
            match kinds.iter_mut().find(|(k, _)| *k == resource) {
                Some((_, shed_at)) => *shed_at = mark,
                None => kinds.push((resource, mark)),
            }
        }
    }
}

/// Removes queued mutations, in the documented order, until the queue is
/// under its low-water mark. Runs in its own task, woken by producers.
pub(super) async fn run(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let wake = Arc::clone(&strong.shed_wake);
        let notified = wake.notified();
        if strong.queue.bytes.load(Ordering::Acquire) > strong.config.queue_memory_budget {
            compact(&strong);
        }
        if strong.queue.closed.load(Ordering::Acquire) {
            return;
        }
        drop(strong);
        notified.await;
    }
}

/// One pass of compaction over the segments not yet taken by the writer.
fn compact(inner: &Inner) {
    let segments = inner.queue.sealed_snapshot();
    let over = inner
        .queue
        .bytes
        .load(Ordering::Acquire)
        .saturating_sub(inner.low_water());
    let drop = plan(&segments, over);
    if drop.is_empty() {
        return;
    }
    let mut replacements = Vec::new();
    for segment in &segments {
        if !segment.iter().any(|q| drop.contains_key(&q.seq)) {
            continue;
        }
        let kept: Vec<Queued> = segment
            .iter()
            .filter(|q| !drop.contains_key(&q.seq))
            .map(|q| Queued {
                seq: q.seq,
                bytes: q.bytes,
                mutation: q.mutation.clone(),
            })
            .collect();
        let new = (!kept.is_empty()).then(|| Arc::new(kept));
        replacements.push((Arc::clone(segment), new));
    }
    // Under the hot tier's lock, with what it held of them forgotten: a
    // load never sees them queued and then admits them after they are gone.
    let replaced = {
        let mut hot = lock(&inner.hot);
        let replaced = inner.queue.replace_sealed(replacements);
        for segment in &replaced {
            for q in segment.iter().filter(|q| drop.contains_key(&q.seq)) {
                hot.forget(&q.mutation);
            }
        }
        replaced
    };
    // Count only what was really removed (the writer may have taken some).
    let mut by_kind: HashMap<ShedKind, (u64, Vec<GuildId>)> = HashMap::new();
    let (mut len, mut bytes) = (0usize, 0usize);
    for segment in replaced {
        for q in segment.iter() {
            if let Some((kind, guild)) = drop.get(&q.seq) {
                let entry = by_kind.entry(*kind).or_default();
                entry.0 += 1;
                entry.1.extend(*guild);
                len += 1;
                bytes += q.bytes;
            }
        }
    }
    inner.queue.len.fetch_sub(len, Ordering::AcqRel);
    inner.queue.bytes.fetch_sub(bytes, Ordering::AcqRel);
    for (kind, (n, guilds)) in by_kind {
        inner.count_shed(kind, n, guilds.into_iter());
    }
}

/// Which queued mutations to drop to free `over` bytes: presences first,
/// then message writes of the busiest channels (oldest first), then
/// member, user, voice-state and thread-member writes (oldest first).
fn plan(segments: &[Segment], over: usize) -> FxHashMap<u64, (ShedKind, Option<GuildId>)> {
    let mut drop = FxHashMap::default();
    let mut freed = 0usize;
    let all = super::queue::merge(segments);
    let sheddable: Vec<(&Queued, ShedKind, Option<GuildId>)> = all
        .iter()
        .filter_map(|q| ShedKind::of(&q.mutation).map(|(k, g)| (*q, k, g)))
        .collect();
    // Presences.
    for (q, kind, guild) in sheddable.iter().filter(|s| s.1 == ShedKind::Presences) {
        drop.insert(q.seq, (*kind, *guild));
        freed += q.bytes;
    }
    if freed >= over {
        return drop;
    }
    // Messages, busiest channel first.
    let mut per_channel: FxHashMap<ChannelId, Vec<(&Queued, Option<GuildId>)>> =
        FxHashMap::default();
    for (q, kind, guild) in &sheddable {
        if *kind == ShedKind::Messages {
            let channel = q.mutation.channel_id().unwrap_or(ChannelId::new(0));
            per_channel.entry(channel).or_default().push((q, *guild));
        }
    }
    let mut channels: Vec<_> = per_channel.into_values().collect();
    channels.sort_by_key(|writes| std::cmp::Reverse(writes.len()));
    for writes in channels {
        for (q, guild) in writes {
            if freed >= over {
                return drop;
            }
            drop.insert(q.seq, (ShedKind::Messages, guild));
            freed += q.bytes;
        }
    }
    // Members and the rest, oldest first.
    for (q, kind, guild) in sheddable.iter().filter(|s| s.1.rank() >= 2) {
        if freed >= over {
            break;
        }
        drop.insert(q.seq, (*kind, *guild));
        freed += q.bytes;
    }
    drop
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Message, Presence};
    use crate::{MessageId, UserId};

    fn queued(seq: u64, mutation: Mutation) -> Queued {
        Queued {
            seq,
            bytes: 100,
            mutation,
        }
    }

    #[test]
    fn presences_go_first_then_the_busiest_channel_oldest_first() {
        let message = |id: u64, channel: u64| {
            Mutation::upsert(Message {
                id: MessageId::new(id),
                channel_id: ChannelId::new(channel),
                ..Default::default()
            })
        };
        let presence = Mutation::upsert(Presence {
            guild_id: GuildId::new(1),
            user_id: UserId::new(2),
            ..Default::default()
        });
        let segment = Arc::new(vec![
            queued(0, message(1, 10)),
            queued(1, presence),
            queued(2, message(2, 20)),
            queued(3, message(3, 20)),
            queued(
                4,
                Mutation::Delete(crate::EntityKey::Message(MessageId::new(9))),
            ),
        ]);
        let plan = plan(&[segment], 250);
        let mut dropped: Vec<u64> = plan.keys().copied().collect();
        dropped.sort_unstable();
        // The presence, then channel 20's two messages; never the delete.
        assert_eq!(dropped, [1, 2, 3]);
    }
}
