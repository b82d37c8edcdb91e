//! One batch: reads see the committed view with the batch's own writes on
//! top; writes collect into a [`WriteSet`] committed at the end.

use std::collections::BTreeMap;

use persist_core::model::{Channel, Emoji, Member, Message, Sticker};
use persist_core::{EntityKey, Error, Mutation, Record};

use crate::codec::{decode, encode, encode_record};
use crate::engine::{KvRead, Pair, WriteSet};
use crate::{Space, key, location};

/// The layout that added the user -> guilds index.
pub const LAYOUT_USER_GUILDS: u32 = 2;

/// A batch in progress.
pub struct Txn<'a> {
    base: &'a dyn KvRead,
    writes: WriteSet,
    /// The layout written (older layouts are written only to build test databases).
    layout: u32,
    /// The largest message id committed before this batch (looked up once).
    newest_message: Option<Option<u64>>,
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

    /// Every key of a scope (for cascades).
    fn scope_keys(&self, space: Space, scope: u64) -> Result<Vec<u64>, Error> {
        let (from, to) = key::scope(scope, 0, None);
        Ok(self
            .range(space, &from, &to, false, usize::MAX)?
            .iter()
            .filter_map(|(k, _)| key::second(k))
            .collect())
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
        let now = match self.get(Space::ChannelCounts, &k)? {
            Some(v) => u64::from_be_bytes(
                v.as_slice()
                    .try_into()
                    .map_err(|_| missing("channel count"))?,
            ),
            None => 0,
        };
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
                }
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

    fn delete_message(&mut self, id: u64) -> Result<(), Error> {
        if let Some(m) = self.message(id)? {
            self.del(Space::ChannelMessages, &key::two(m.channel_id.get(), id));
            self.adjust_count(m.channel_id.get(), -1)?;
            self.del(Space::Messages, &key::one(id));
        }
        Ok(())
    }

    /// Removes every message of a channel.
    fn clear_channel_messages(&mut self, channel: u64) -> Result<(), Error> {
        for id in self.scope_keys(Space::ChannelMessages, channel)? {
            self.del(Space::Messages, &key::one(id));
            self.del(Space::ChannelMessages, &key::two(channel, id));
        }
        self.del(Space::ChannelCounts, &key::one(channel));
        Ok(())
    }

    fn delete_channel(&mut self, id: u64) -> Result<(), Error> {
        for thread in self.scope_keys(Space::ThreadParents, id)? {
            // Only threads are indexed under a parent; they hold no threads themselves.
            self.delete_channel(thread)?;
        }
        self.clear_channel_messages(id)?;
        for user in self.scope_keys(Space::ThreadMembers, id)? {
            self.del(Space::ThreadMembers, &key::two(id, user));
        }
        if let Some(Record::Channel(c)) =
            self.record(&EntityKey::Channel(persist_core::ChannelId::new(id)))?
        {
            self.unindex_channel(&c);
            if let Some(g) = c.guild_id {
                self.del(Space::GuildMessageChannels, &key::two(g.get(), id));
            }
        }
        self.del(Space::Channels, &key::one(id));
        Ok(())
    }

    fn delete_scoped(&mut self, index: Space, objects: Space, guild: u64) -> Result<(), Error> {
        for id in self.scope_keys(index, guild)? {
            self.del(objects, &key::one(id));
            self.del(index, &key::two(guild, id));
        }
        Ok(())
    }

    fn delete_guild(&mut self, guild: u64) -> Result<(), Error> {
        for channel in self.scope_keys(Space::GuildChannels, guild)? {
            self.delete_channel(channel)?;
        }
        // Messages of channels the cache never saw still name the guild.
        for channel in self.scope_keys(Space::GuildMessageChannels, guild)? {
            self.clear_channel_messages(channel)?;
            self.del(Space::GuildMessageChannels, &key::two(guild, channel));
        }
        for user in self.scope_keys(Space::Members, guild)? {
            self.del(Space::Members, &key::two(guild, user));
            self.del(Space::UserGuilds, &key::two(user, guild));
        }
        self.delete_scoped(Space::GuildRoles, Space::Roles, guild)?;
        self.delete_scoped(Space::GuildEmojis, Space::Emojis, guild)?;
        self.delete_scoped(Space::GuildStickers, Space::Stickers, guild)?;
        self.delete_scoped(Space::GuildStageInstances, Space::StageInstances, guild)?;
        self.delete_scoped(Space::GuildScheduledEvents, Space::ScheduledEvents, guild)?;
        for user in self.scope_keys(Space::VoiceStates, guild)? {
            self.del(Space::VoiceStates, &key::two(guild, user));
        }
        for user in self.scope_keys(Space::Presences, guild)? {
            self.del(Space::Presences, &key::two(guild, user));
        }
        self.del(Space::Guilds, &key::one(guild));
        Ok(())
    }

    fn delete_role(&mut self, role: u64) -> Result<(), Error> {
        let role_key = EntityKey::Role(persist_core::RoleId::new(role));
        let guilds: Vec<u64> = match self.record(&role_key)? {
            Some(r) => r.guild_id().map(|g| g.get()).into_iter().collect(),
            // Unknown role: members of any guild may hold it.
            None => {
                let all = self.range(Space::Members, &[], &[0xff; 17], false, usize::MAX)?;
                let mut guilds: Vec<u64> = all.iter().filter_map(|(k, _)| key::first(k)).collect();
                guilds.dedup();
                guilds
            }
        };
        for guild in guilds {
            let (from, to) = key::scope(guild, 0, None);
            for (k, v) in self.range(Space::Members, &from, &to, false, usize::MAX)? {
                let mut member: Member = decode(&v, || format!("members/{guild}"))?;
                let before = member.roles.len();
                member.roles.retain(|r| r.get() != role);
                if member.roles.len() != before {
                    self.put(Space::Members, &k, encode(&member)?);
                }
            }
        }
        if let Some(r) = self.record(&role_key)?
            && let Some(g) = r.guild_id()
        {
            self.del(Space::GuildRoles, &key::two(g.get(), role));
        }
        self.del(Space::Roles, &key::one(role));
        Ok(())
    }

    /// Removes one object, with the cascades of its kind.
    pub fn delete(&mut self, entity: &EntityKey) -> Result<(), Error> {
        match *entity {
            EntityKey::Guild(g) => self.delete_guild(g.get()),
            EntityKey::Channel(c) => self.delete_channel(c.get()),
            EntityKey::Role(r) => self.delete_role(r.get()),
            EntityKey::Message(m) => self.delete_message(m.get()),
            EntityKey::Member(g, u) => {
                self.del(Space::Members, &key::two(g.get(), u.get()));
                self.del(Space::UserGuilds, &key::two(u.get(), g.get()));
                Ok(())
            }
            EntityKey::Emoji(_)
            | EntityKey::Sticker(_)
            | EntityKey::StageInstance(_)
            | EntityKey::ScheduledEvent(_) => {
                let index = match entity {
                    EntityKey::Emoji(_) => Space::GuildEmojis,
                    EntityKey::Sticker(_) => Space::GuildStickers,
                    EntityKey::StageInstance(_) => Space::GuildStageInstances,
                    _ => Space::GuildScheduledEvents,
                };
                let (space, bytes) = location(entity);
                if let Some(old) = self.record(entity)?
                    && let (Some(g), Some(id)) = (old.guild_id(), key::first(&bytes))
                {
                    self.del(index, &key::two(g.get(), id));
                }
                self.del(space, &bytes);
                Ok(())
            }
            _ => {
                let (space, bytes) = location(entity);
                self.del(space, &bytes);
                Ok(())
            }
        }
    }

    fn with_message(&mut self, id: u64, change: impl FnOnce(&mut Message)) -> Result<(), Error> {
        if let Some(mut m) = self.message(id)? {
            change(&mut m);
            self.put(Space::Messages, &key::one(id), encode(&m)?);
        }
        Ok(())
    }

    /// Applies one mutation.
    pub fn apply(&mut self, mutation: &Mutation) -> Result<(), Error> {
        match mutation {
            Mutation::Upsert(record) => self.upsert(record),
            Mutation::UpsertMany(records) => records.iter().try_for_each(|r| self.upsert(r)),
            Mutation::Patch(patch) => {
                let current = self.record(&patch.key())?;
                let merged = patch.apply_record(current)?;
                self.upsert(&merged)
            }
            Mutation::Delete(key) => self.delete(key),
            Mutation::ReplaceGuildEmojis { guild_id, emojis } => {
                self.delete_scoped(Space::GuildEmojis, Space::Emojis, guild_id.get())?;
                emojis.iter().try_for_each(|e| {
                    self.upsert(&Record::Emoji(Emoji {
                        guild_id: *guild_id,
                        ..e.clone()
                    }))
                })
            }
            Mutation::ReplaceGuildStickers { guild_id, stickers } => {
                self.delete_scoped(Space::GuildStickers, Space::Stickers, guild_id.get())?;
                stickers.iter().try_for_each(|s| {
                    self.upsert(&Record::Sticker(Sticker {
                        guild_id: Some(*guild_id),
                        ..s.clone()
                    }))
                })
            }
            Mutation::BulkDeleteMessages { message_ids, .. } => message_ids
                .iter()
                .try_for_each(|id| self.delete_message(id.get())),
            Mutation::CountScheduledEventUser {
                event_id, added, ..
            } => {
                let key = EntityKey::ScheduledEvent(*event_id);
                if let Some(Record::ScheduledEvent(mut event)) = self.record(&key)? {
                    event.count_user(*added);
                    self.upsert(&Record::ScheduledEvent(event))?;
                }
                Ok(())
            }
            Mutation::AddReaction(r) => self.with_message(r.message_id.get(), |m| {
                m.add_reaction(&r.emoji, r.burst, r.by_current_user)
            }),
            Mutation::RemoveReaction(r) => self.with_message(r.message_id.get(), |m| {
                m.remove_reaction(&r.emoji, r.burst, r.by_current_user)
            }),
            Mutation::RemoveAllReactions { message_id, .. } => {
                self.with_message(message_id.get(), |m| m.reactions.clear())
            }
            Mutation::RemoveEmojiReactions {
                message_id, emoji, ..
            } => self.with_message(message_id.get(), |m| m.remove_emoji_reactions(emoji)),
            Mutation::TrimChannelMessages { channel_id, keep } => {
                let channel = channel_id.get();
                let count = match self.get(Space::ChannelCounts, &key::one(channel))? {
                    Some(v) => u64::from_be_bytes(
                        v.as_slice()
                            .try_into()
                            .map_err(|_| missing("channel count"))?,
                    ),
                    None => 0,
                };
                let excess = count.saturating_sub(u64::from(*keep));
                if excess > 0 {
                    let (from, to) = key::scope(channel, 0, None);
                    let oldest =
                        self.range(Space::ChannelMessages, &from, &to, false, excess as usize)?;
                    for (k, _) in oldest {
                        if let Some(id) = key::second(&k) {
                            self.delete_message(id)?;
                        }
                    }
                }
                Ok(())
            }
            Mutation::RetainGuildChannels { guild_id, keep } => {
                for id in self.scope_keys(Space::GuildChannels, guild_id.get())? {
                    let channel =
                        self.record(&EntityKey::Channel(persist_core::ChannelId::new(id)))?;
                    let thread = matches!(&channel, Some(Record::Channel(c)) if c.is_thread());
                    if !thread && !keep.iter().any(|k| k.get() == id) {
                        self.delete_channel(id)?;
                    }
                }
                Ok(())
            }
            Mutation::RetainGuildRoles { guild_id, keep } => {
                for id in self.scope_keys(Space::GuildRoles, guild_id.get())? {
                    if !keep.iter().any(|k| k.get() == id) {
                        self.delete_role(id)?;
                    }
                }
                Ok(())
            }
            Mutation::RetainGuildMembers { guild_id, keep } => {
                let guild = guild_id.get();
                for user in self.scope_keys(Space::Members, guild)? {
                    if !keep.iter().any(|k| k.get() == user) {
                        self.del(Space::Members, &key::two(guild, user));
                        self.del(Space::UserGuilds, &key::two(user, guild));
                    }
                }
                Ok(())
            }
            Mutation::RetainShardGuilds {
                shard_id,
                shard_count,
                keep,
            } => {
                let guilds = self.range(Space::Guilds, &[], &[0xff; 9], false, usize::MAX)?;
                for (k, _) in guilds {
                    let Some(id) = key::first(&k) else { continue };
                    let guild = persist_core::GuildId::new(id);
                    if persist_core::shard_of(guild, *shard_count) == *shard_id
                        && !keep.contains(&guild)
                    {
                        self.delete_guild(id)?;
                    }
                }
                Ok(())
            }
            Mutation::PruneMessages { before } => {
                let old = self.range(
                    Space::Messages,
                    &[],
                    &key::one(before.get()),
                    false,
                    usize::MAX,
                )?;
                for (k, _) in old {
                    if let Some(id) = key::first(&k) {
                        self.delete_message(id)?;
                    }
                }
                Ok(())
            }
        }
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
