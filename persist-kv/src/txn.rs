//! One batch: reads see the committed view with the batch's own writes on
//! top; writes collect into a [`WriteSet`] committed at the end.

use std::collections::BTreeMap;

use persist_core::model::{Channel, Message};
use persist_core::write::Changes;
use persist_core::{EntityKey, Error, Record};

use crate::codec::encode_record;
use crate::engine::{KvRead, Pair, WriteSet};
use crate::{Space, key, location};

/// The layout that added the user -> guilds index.
pub const LAYOUT_USER_GUILDS: u32 = 2;

/// The layout that keeps the number of threads in `meta` (so counting
/// channels and threads reads no channel).
pub const LAYOUT_THREAD_COUNT: u32 = 3;

/// The `meta` key of the number of threads stored (u64, big-endian).
pub(crate) const THREADS_KEY: &[u8] = b"count/threads";

/// A count kept in `meta` under `name` (absent: 0).
pub fn meta_count(view: &dyn KvRead, name: &[u8]) -> Result<u64, Error> {
    match view.get(Space::Meta, name)? {
        Some(v) => Ok(u64::from_be_bytes(v.as_slice().try_into().map_err(
            |_| Error::Corrupt {
                key: format!("meta/{}", String::from_utf8_lossy(name)),
                reason: "not an 8-byte count".into(),
            },
        )?)),
        None => Ok(0),
    }
}

/// A batch in progress.
pub struct Txn<'a> {
    base: &'a dyn KvRead,
    writes: WriteSet,
    /// The layout written (older layouts are written only to build test databases).
    layout: u32,
    /// The largest message id committed before this batch (looked up once).
    newest_message: Option<Option<u64>>,
    /// Threads added minus threads removed by this batch.
    threads_added: i64,
}

impl KvRead for Txn<'_> {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        match self.writes.change(space, key) {
            Some(change) => Ok(change.clone()),
            None => self.base.get(space, key),
        }
    }

    fn range(
        &self,
        space: Space,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Pair>, Error> {
        let ours: Vec<(&[u8], &Option<Vec<u8>>)> = self.writes.range(space, from, to).collect();
        if ours.is_empty() {
            return self.base.range(space, from, to, reverse, limit);
        }
        // Read enough of the base that our deletes cannot leave the page short.
        let deletes = ours.iter().filter(|(_, v)| v.is_none()).count();
        let base = self
            .base
            .range(space, from, to, reverse, limit.saturating_add(deletes))?;
        // Past the last base key read, unread base keys may come before our
        // inserts, unless the base range ran out.
        let exhausted = base.len() < limit.saturating_add(deletes);
        let bound = base.last().map(|(k, _)| k.clone());
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().collect();
        for (k, v) in ours {
            let within = match (&bound, reverse) {
                (Some(b), false) => k <= b.as_slice(),
                (Some(b), true) => k >= b.as_slice(),
                (None, _) => true,
            };
            match v {
                Some(value) if within || exhausted => {
                    merged.insert(k.to_vec(), value.clone());
                }
                Some(_) => {}
                None => {
                    merged.remove(k);
                }
            }
        }
        let mut pairs: Vec<Pair> = merged.into_iter().collect();
        if reverse {
            pairs.reverse();
        }
        pairs.truncate(limit);
        Ok(pairs)
    }

    fn count(&self, space: Space) -> Result<u64, Error> {
        let mut n = self.base.count(space)? as i64;
        for (s, k, v) in self.writes.iter() {
            if s != space {
                continue;
            }
            let before = self.base.get(space, k)?.is_some();
            n += i64::from(v.is_some()) - i64::from(before);
        }
        Ok(n.max(0) as u64)
    }
}

fn missing(what: &str) -> Error {
    Error::Corrupt {
        key: what.to_owned(),
        reason: "wrong kind of record".into(),
    }
}

impl<'a> Txn<'a> {
    /// A batch over `base`, writing `layout`.
    pub fn new(base: &'a dyn KvRead, layout: u32) -> Self {
        Self {
            base,
            writes: WriteSet::default(),
            layout,
            newest_message: None,
            threads_added: 0,
        }
    }

    /// The writes to commit.
    pub fn into_writes(self) -> WriteSet {
        self.writes
    }

    /// Stages a put.
    pub fn put(&mut self, space: Space, key: &[u8], value: Vec<u8>) {
        self.writes.put(space, key, value);
    }

    /// Stages a delete.
    pub fn del(&mut self, space: Space, key: &[u8]) {
        self.writes.delete(space, key);
    }

    /// A stored object.
    pub fn record(&self, key: &EntityKey) -> Result<Option<Record>, Error> {
        let (space, bytes) = location(key);
        self.get(space, &bytes)?
            .map(|value| crate::read::decode_record(space, &value, key))
            .transpose()
    }

    fn message(&self, id: u64) -> Result<Option<Message>, Error> {
        match self.record(&EntityKey::Message(persist_core::MessageId::new(id)))? {
            Some(Record::Message(m)) => Ok(Some(m)),
            Some(_) => Err(missing("message")),
            None => Ok(None),
        }
    }

    fn adjust_count(&mut self, channel: u64, delta: i64) -> Result<(), Error> {
        let k = key::one(channel);
        let now = crate::committed::channel_message_count(self, channel)?;
        let next = (now as i64 + delta).max(0) as u64;
        if next == 0 {
            self.del(Space::ChannelCounts, &k);
        } else {
            self.put(Space::ChannelCounts, &k, next.to_be_bytes().to_vec());
        }
        Ok(())
    }

    /// Writes a whole object and keeps its indexes in step.
    pub fn upsert(&mut self, record: &Record) -> Result<(), Error> {
        let value = encode_record(record)?;
        let (space, bytes) = location(&record.key());
        match record {
            Record::Channel(c) => {
                if let Some(Record::Channel(old)) = self.record(&record.key())? {
                    self.unindex_channel(&old);
                    self.threads_added -= i64::from(old.is_thread());
                }
                self.threads_added += i64::from(c.is_thread());
                if let Some(g) = c.guild_id {
                    self.put(
                        Space::GuildChannels,
                        &key::two(g.get(), c.id.get()),
                        Vec::new(),
                    );
                }
                if let (true, Some(parent)) = (c.is_thread(), c.parent_id) {
                    self.put(
                        Space::ThreadParents,
                        &key::two(parent.get(), c.id.get()),
                        Vec::new(),
                    );
                }
            }
            Record::Message(m) => {
                // Snowflakes grow: a message newer than every committed one and
                // not yet written in this batch is new, with no lookup.
                let newest = match self.newest_message {
                    Some(newest) => newest,
                    None => {
                        let last = self.base.range(Space::Messages, &[], &[0xff; 9], true, 1)?;
                        let newest = last.first().and_then(|(k, _)| key::first(k));
                        self.newest_message = Some(newest);
                        newest
                    }
                };
                let known_new = newest.is_none_or(|n| m.id.get() > n)
                    && self
                        .writes
                        .change(Space::Messages, &key::one(m.id.get()))
                        .is_none();
                let old = if known_new {
                    None
                } else {
                    self.message(m.id.get())?
                };
                match old {
                    Some(old) if old.channel_id == m.channel_id => {}
                    old => {
                        if let Some(old) = old {
                            self.del(
                                Space::ChannelMessages,
                                &key::two(old.channel_id.get(), old.id.get()),
                            );
                            self.adjust_count(old.channel_id.get(), -1)?;
                        }
                        self.put(
                            Space::ChannelMessages,
                            &key::two(m.channel_id.get(), m.id.get()),
                            Vec::new(),
                        );
                        self.adjust_count(m.channel_id.get(), 1)?;
                    }
                }
                if let Some(g) = m.guild_id {
                    self.put(
                        Space::GuildMessageChannels,
                        &key::two(g.get(), m.channel_id.get()),
                        Vec::new(),
                    );
                }
            }
            Record::Member(m) if self.layout >= LAYOUT_USER_GUILDS => {
                self.put(
                    Space::UserGuilds,
                    &key::two(m.user_id.get(), m.guild_id.get()),
                    Vec::new(),
                );
            }
            Record::Role(r) => self.reindex(
                Space::GuildRoles,
                record,
                Some(r.guild_id.get()),
                r.id.get(),
            )?,
            Record::Emoji(e) => self.reindex(
                Space::GuildEmojis,
                record,
                Some(e.guild_id.get()),
                e.id.get(),
            )?,
            Record::Sticker(s) => self.reindex(
                Space::GuildStickers,
                record,
                s.guild_id.map(|g| g.get()),
                s.id.get(),
            )?,
            Record::StageInstance(s) => self.reindex(
                Space::GuildStageInstances,
                record,
                Some(s.guild_id.get()),
                s.id.get(),
            )?,
            Record::ScheduledEvent(s) => self.reindex(
                Space::GuildScheduledEvents,
                record,
                Some(s.guild_id.get()),
                s.id.get(),
            )?,
            _ => {}
        }
        self.put(space, &bytes, value);
        Ok(())
    }

    /// Moves a guild-scoped object's index entry to its (possibly new) guild.
    fn reindex(
        &mut self,
        index: Space,
        record: &Record,
        guild: Option<u64>,
        id: u64,
    ) -> Result<(), Error> {
        if let Some(old) = self.record(&record.key())?
            && let Some(old_guild) = old.guild_id()
        {
            self.del(index, &key::two(old_guild.get(), id));
        }
        if let Some(g) = guild {
            self.put(index, &key::two(g, id), Vec::new());
        }
        Ok(())
    }

    fn unindex_channel(&mut self, c: &Channel) {
        if let Some(g) = c.guild_id {
            self.del(Space::GuildChannels, &key::two(g.get(), c.id.get()));
        }
        if let Some(parent) = c.parent_id {
            self.del(Space::ThreadParents, &key::two(parent.get(), c.id.get()));
        }
    }

    /// Removes one object and its index entries (no cascade: the cache's
    /// semantics list everything that goes).
    pub fn remove(&mut self, entity: &EntityKey) -> Result<(), Error> {
        let (space, bytes) = location(entity);
        match *entity {
            EntityKey::Message(id) => {
                let Some(m) = self.message(id.get())? else {
                    return Ok(());
                };
                self.del(
                    Space::ChannelMessages,
                    &key::two(m.channel_id.get(), id.get()),
                );
                self.adjust_count(m.channel_id.get(), -1)?;
            }
            EntityKey::Channel(id) => {
                if let Some(Record::Channel(c)) = self.record(entity)? {
                    self.unindex_channel(&c);
                    self.threads_added -= i64::from(c.is_thread());
                    if let Some(g) = c.guild_id {
                        self.del(Space::GuildMessageChannels, &key::two(g.get(), id.get()));
                    }
                }
            }
            EntityKey::Guild(id) => {
                // The guild's message channels index only what it held.
                let (from, to) = key::scope(id.get(), 0, None);
                for (k, _) in
                    self.range(Space::GuildMessageChannels, &from, &to, false, usize::MAX)?
                {
                    self.del(Space::GuildMessageChannels, &k);
                }
            }
            EntityKey::Member(g, u) => {
                self.del(Space::UserGuilds, &key::two(u.get(), g.get()));
            }
            EntityKey::Role(_)
            | EntityKey::Emoji(_)
            | EntityKey::Sticker(_)
            | EntityKey::StageInstance(_)
            | EntityKey::ScheduledEvent(_) => {
                let index = match entity {
                    EntityKey::Role(_) => Space::GuildRoles,
                    EntityKey::Emoji(_) => Space::GuildEmojis,
                    EntityKey::Sticker(_) => Space::GuildStickers,
                    EntityKey::StageInstance(_) => Space::GuildStageInstances,
                    _ => Space::GuildScheduledEvents,
                };
                if let Some(old) = self.record(entity)?
                    && let (Some(g), Some(id)) = (old.guild_id(), key::first(&bytes))
                {
                    self.del(index, &key::two(g.get(), id));
                }
            }
            _ => {}
        }
        self.del(space, &bytes);
        Ok(())
    }

    /// Stages a batch's net changes: removals, whole objects, then the caps.
    pub fn commit(&mut self, changes: &Changes<'_>) -> Result<(), Error> {
        for key in &changes.deletes {
            self.remove(key)?;
        }
        for record in &changes.puts {
            self.upsert(record)?;
        }
        for (channel, keep) in &changes.trims {
            let channel = channel.get();
            let count = crate::committed::channel_message_count(self, channel)?;
            let excess = count.saturating_sub(u64::from(*keep));
            if excess > 0 {
                let (from, to) = key::scope(channel, 0, None);
                let oldest =
                    self.range(Space::ChannelMessages, &from, &to, false, excess as usize)?;
                for (k, _) in oldest {
                    if let Some(id) = key::second(&k) {
                        self.remove(&EntityKey::Message(persist_core::MessageId::new(id)))?;
                    }
                }
            }
        }
        if self.threads_added != 0 && self.layout >= LAYOUT_THREAD_COUNT {
            let threads = meta_count(self.base, THREADS_KEY)?;
            let threads = threads.saturating_add_signed(self.threads_added);
            self.put(Space::Meta, THREADS_KEY, threads.to_be_bytes().to_vec());
            self.threads_added = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Committed data in memory.
    struct Mem(BTreeMap<(Space, Vec<u8>), Vec<u8>>);

    impl KvRead for Mem {
        fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
            Ok(self.0.get(&(space, key.to_vec())).cloned())
        }

        fn range(
            &self,
            space: Space,
            from: &[u8],
            to: &[u8],
            reverse: bool,
            limit: usize,
        ) -> Result<Vec<Pair>, Error> {
            let mut pairs: Vec<Pair> = self
                .0
                .range((space, from.to_vec())..(space, to.to_vec()))
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect();
            if reverse {
                pairs.reverse();
            }
            pairs.truncate(limit);
            Ok(pairs)
        }

        fn count(&self, space: Space) -> Result<u64, Error> {
            Ok(self.0.keys().filter(|(s, _)| *s == space).count() as u64)
        }
    }

    fn keys(pairs: &[Pair]) -> Vec<u64> {
        pairs.iter().filter_map(|(k, _)| key::second(k)).collect()
    }

    #[test]
    fn ranges_merge_the_batch_over_the_committed_view() {
        let base = Mem((0..10)
            .map(|i| {
                (
                    (Space::ChannelMessages, key::two(1, i * 10).to_vec()),
                    vec![],
                )
            })
            .collect());
        let mut txn = Txn::new(&base, 2);
        txn.del(Space::ChannelMessages, &key::two(1, 0));
        txn.del(Space::ChannelMessages, &key::two(1, 10));
        txn.put(Space::ChannelMessages, &key::two(1, 15), vec![]);
        // Past the first page of the base: must not jump ahead of unread base keys.
        txn.put(Space::ChannelMessages, &key::two(1, 95), vec![]);
        let (from, to) = key::scope(1, 0, None);
        let page = txn
            .range(Space::ChannelMessages, &from, &to, false, 3)
            .unwrap();
        assert_eq!(keys(&page), vec![15, 20, 30]);
        let page = txn
            .range(Space::ChannelMessages, &from, &to, true, 3)
            .unwrap();
        assert_eq!(keys(&page), vec![95, 90, 80]);
        let all = txn
            .range(Space::ChannelMessages, &from, &to, false, usize::MAX)
            .unwrap();
        assert_eq!(keys(&all), vec![15, 20, 30, 40, 50, 60, 70, 80, 90, 95]);
        assert_eq!(txn.count(Space::ChannelMessages).unwrap(), 10);
        assert_eq!(
            txn.get(Space::ChannelMessages, &key::two(1, 0)).unwrap(),
            None
        );
    }
}
