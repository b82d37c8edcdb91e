//! Read-your-writes: answers a query from the store with every queued and
//! in-flight mutation that can change the answer (see `relevance`) applied
//! on top.
//!
//! The store's answer (widened to cover pending removals) seeds an empty
//! [`MemoryStore`]; the relevant pending mutations are applied to it in order;
//! the scratch store then answers the query. Re-applying a mutation the store
//! already committed is harmless for every idempotent mutation; reads touched
//! by reaction counts (not idempotent) instead hold the commit gate so that
//! no batch commits between their snapshot and their store read.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::entity::{EntityKey, Record};
use crate::model::Message;
use crate::model::{Guild, Member};
use crate::{
    Answer, ChannelId, GuildId, MemoryStore, MessageId, MessagePage, Mutation, Query, Result, Store,
};

use super::relevance::{query_guild, query_kinds, record_matters, relevant_part};

/// The store reads that seed the scratch store for `query`, widened by
/// `widen` so that pending removals cannot leave a page short.
fn seed_queries(query: &Query, pending: &[&Mutation], widen: usize) -> Vec<Query> {
    let mut seeds = match *query {
        Query::ChannelMessages {
            channel_id,
            page,
            limit,
        } => {
            let wide = limit.saturating_add(widen);
            let mut seeds = vec![Query::Channel(channel_id)];
            match page {
                MessagePage::Around(id) => {
                    seeds.push(Query::ChannelMessages {
                        channel_id,
                        page: MessagePage::Before(id),
                        limit: wide,
                    });
                    seeds.push(Query::Message(id));
                    seeds.push(Query::ChannelMessages {
                        channel_id,
                        page: MessagePage::After(id),
                        limit: wide,
                    });
                }
                page => seeds.push(Query::ChannelMessages {
                    channel_id,
                    page,
                    limit: wide,
                }),
            }
            seeds
        }
        Query::GuildMembers {
            guild_id,
            after,
            limit,
        } => vec![Query::GuildMembers {
            guild_id,
            after,
            limit: limit.saturating_add(widen),
        }],
        ref other => vec![other.clone()],
    };
    // Guild-wide cascades (a guild left while away) are found through the guild.
    if let Some(guild_id) = query_guild(query) {
        seeds.push(Query::Guild(guild_id));
    }
    // A role retained away is stripped from the members that have it.
    let members_of = match *query {
        Query::Member(g, _) | Query::GuildMembers { guild_id: g, .. } => Some(g),
        _ => None,
    };
    if let Some(g) = members_of
        && pending
            .iter()
            .any(|m| matches!(m, Mutation::RetainGuildRoles { guild_id, .. } if *guild_id == g))
    {
        seeds.push(Query::GuildRoles(g));
    }
    // A role deleted is stripped only in its own guild: read where it is.
    if members_of.is_some() {
        seeds.extend(pending.iter().filter_map(|m| match m {
            Mutation::Delete(EntityKey::Role(r)) => Some(Query::Role(*r)),
            _ => None,
        }));
    }
    // A user's guilds, through the stored guilds (placeholders of them).
    if matches!(query, Query::UserGuilds(_)) {
        seeds.push(Query::GuildIds);
    }
    seeds
}

/// Puts a store answer into the scratch store. Id-only answers become
/// placeholder objects that carry just their ids.
/// The objects a cascade finds a record through: its guild, a thread's
/// parent channel, a message's or thread member's channel.
fn parents_of(record: &Record) -> impl Iterator<Item = EntityKey> {
    let thread_parent = match record {
        Record::Channel(c) if c.is_thread() => c.parent_id,
        Record::Message(m) => Some(m.channel_id),
        Record::ThreadMember(m) => Some(m.thread_id),
        _ => None,
    };
    record
        .guild_id()
        .map(EntityKey::Guild)
        .into_iter()
        .chain(thread_parent.map(EntityKey::Channel))
}

/// Returns the channels of the messages and thread members it put, and
/// the parents (see [`parents_of`]) of every object it put.
fn seed(
    scratch: &MemoryStore,
    query: &Query,
    answer: Answer,
) -> Result<(Vec<ChannelId>, Vec<EntityKey>)> {
    let mut channels = Vec::new();
    let records: Vec<Record> = match answer {
        Answer::GuildIds(ids) => match query {
            Query::UserGuilds(user_id) => ids
                .into_iter()
                .map(|guild_id| {
                    Record::Member(Member {
                        guild_id,
                        user_id: *user_id,
                        ..Default::default()
                    })
                })
                .collect(),
            _ => ids
                .into_iter()
                .map(|id| {
                    Record::Guild(Guild {
                        id,
                        ..Default::default()
                    })
                })
                .collect(),
        },
        Answer::Message(v) => {
            channels.extend(v.as_ref().map(|m| m.channel_id));
            Answer::Message(v).into_records()
        }
        Answer::ThreadMember(v) => {
            channels.extend(v.as_ref().map(|m| m.thread_id));
            Answer::ThreadMember(v).into_records()
        }
        Answer::ThreadMembers(v) => {
            channels.extend(v.first().map(|m| m.thread_id));
            Answer::ThreadMembers(v).into_records()
        }
        other => other.into_records(),
    };
    let parents = records.iter().flat_map(parents_of).collect();
    scratch.apply_now(&[Mutation::UpsertMany(records)])?;
    Ok((channels, parents))
}

/// Whether a mutation removes what it finds through a parent (a guild's
/// channels, a shard's guilds) rather than by the objects' own keys.
fn cascades(mutation: &Mutation) -> bool {
    mutation.object_key().is_none()
        && !matches!(
            mutation,
            Mutation::UpsertMany(_)
                | Mutation::BulkDeleteMessages { .. }
                | Mutation::TrimChannelMessages { .. }
                | Mutation::PruneMessages { .. }
        )
}

/// How many objects `mutation` can remove from a page `query` reads while
/// leaving others: a page read that far wider cannot come up short.
/// (Removals of a whole channel or guild leave nothing to fill.)
fn page_removals(mutation: &Mutation, query: &Query) -> usize {
    match (query, mutation) {
        (Query::ChannelMessages { .. }, Mutation::BulkDeleteMessages { message_ids, .. }) => {
            message_ids.len()
        }
        (Query::ChannelMessages { .. }, Mutation::Delete(EntityKey::Message(_)))
        | (Query::GuildMembers { .. }, Mutation::Delete(EntityKey::Member(..))) => 1,
        (Query::GuildMembers { .. }, Mutation::RetainGuildMembers { .. }) => usize::MAX,
        _ => 0,
    }
}

/// The guild a mutation is confined to, when it writes or removes objects
/// of one guild only through a guild-wide rule or as structure.
fn guild_scope(mutation: &Mutation) -> Option<GuildId> {
    match mutation {
        Mutation::Delete(EntityKey::Guild(g))
        | Mutation::RetainGuildChannels { guild_id: g, .. }
        | Mutation::RetainGuildRoles { guild_id: g, .. }
        | Mutation::RetainGuildMembers { guild_id: g, .. }
        | Mutation::ReplaceGuildEmojis { guild_id: g, .. }
        | Mutation::ReplaceGuildStickers { guild_id: g, .. } => Some(*g),
        Mutation::Upsert(record) if matches!(**record, Record::Guild(_) | Record::Channel(_)) => {
            record.guild_id()
        }
        Mutation::UpsertMany(records) => {
            let mut guilds = records.iter().map(Record::guild_id);
            let first = guilds.next().flatten()?;
            guilds.all(|g| g == Some(first)).then_some(first)
        }
        _ => None,
    }
}

/// Answers `query` from `store` with `pending` (the queued and in-flight
/// mutations that may change it, oldest first: see [`may_matter`]) applied
/// on top. Of guild-wide rules and structure, only those of the guilds the
/// answer involves are applied.
pub(super) async fn resolve(
    store: &dyn Store,
    query: &Query,
    pending: &[&Mutation],
) -> Result<Answer> {
    if pending.is_empty() {
        return store.read(query).await;
    }
    let widen = pending
        .iter()
        .map(|m| page_removals(m, query))
        .fold(0usize, usize::saturating_add);
    let scratch = MemoryStore::new();
    // A cascade through a guild (a shard's guilds retained) finds the
    // objects read only if their guild is there too.
    let through_guilds = pending.iter().any(|m| cascades(m));
    // The guilds the answer involves: of the objects read and queued, and
    // their parents'.
    let mut involved: FxHashSet<GuildId> = query_guild(query).into_iter().collect();
    let note = |involved: &mut FxHashSet<GuildId>, keys: &[EntityKey]| {
        involved.extend(keys.iter().filter_map(|k| match k {
            EntityKey::Guild(g) => Some(*g),
            _ => None,
        }));
    };
    let mut parents = Vec::new();
    for seed_query in seed_queries(query, pending, widen) {
        let answer = store.read(&seed_query).await?;
        let (channels, more) = seed(&scratch, &seed_query, answer)?;
        note(&mut involved, &more);
        // The message's or thread member's channel tells cascades which
        // thread (and guild) it is in.
        parents.extend(channels.into_iter().map(EntityKey::Channel));
        parents.extend(more.into_iter().filter(|_| through_guilds));
    }
    // The guilds and channels the queue writes, whose parents a chain
    // follows too.
    let mut queued_parents: FxHashMap<EntityKey, &Record> = FxHashMap::default();
    let own = query_kinds(query);
    {
        for mutation in pending.iter().copied() {
            let records: &[Record] = match mutation {
                Mutation::Upsert(record) => std::slice::from_ref(&**record),
                Mutation::UpsertMany(records) => records,
                Mutation::Patch(patch) if own.intersects(patch.key().kind()) => {
                    let keys: Vec<EntityKey> = patch
                        .guild_id()
                        .map(EntityKey::Guild)
                        .into_iter()
                        .chain(patch.message_channel().map(EntityKey::Channel))
                        .collect();
                    note(&mut involved, &keys);
                    parents.extend(keys.into_iter().filter(|_| through_guilds));
                    continue;
                }
                // A guild's emojis or stickers, listed whole.
                Mutation::ReplaceGuildEmojis { guild_id, .. }
                | Mutation::ReplaceGuildStickers { guild_id, .. }
                    if own.intersects(mutation.kinds()) =>
                {
                    involved.insert(*guild_id);
                    if through_guilds {
                        parents.push(EntityKey::Guild(*guild_id));
                    }
                    continue;
                }
                _ => continue,
            };
            for record in records {
                if matches!(record, Record::Guild(_) | Record::Channel(_)) {
                    queued_parents.insert(record.key(), record);
                }
                // Only the query's own objects start a chain: the guilds
                // and channels queued are followed when a chain reaches them.
                if own.intersects(record.kind()) && record_matters(record, query) {
                    let keys: Vec<EntityKey> = parents_of(record).collect();
                    note(&mut involved, &keys);
                    parents.extend(keys.into_iter().filter(|_| through_guilds));
                }
            }
        }
        parents.sort_unstable();
        parents.dedup();
    }
    let mut followed = FxHashSet::default();
    while let Some(parent) = parents.pop() {
        if scratch.contains(&parent) || !followed.insert(parent) {
            continue;
        }
        // Queued, its parents may differ from the stored one's: both count
        // (the queue may remove it before it writes it again).
        if let Some(record) = queued_parents.get(&parent) {
            let keys: Vec<EntityKey> = parents_of(record).collect();
            note(&mut involved, &keys);
            parents.extend(keys);
        }
        let read = match parent {
            EntityKey::Channel(id) => Query::Channel(id),
            EntityKey::Guild(id) => Query::Guild(id),
            _ => continue,
        };
        let answer = store.read(&read).await?;
        let (_, more) = seed(&scratch, &read, answer)?;
        note(&mut involved, &more);
        parents.extend(more.into_iter().filter(|_| through_guilds));
    }
    // Guild-wide rules and structure of other guilds cannot reach the
    // answer (a user's guilds or the guild list read every guild).
    let every_guild = matches!(query, Query::GuildIds | Query::UserGuilds(_));
    let pending: Vec<Mutation> = pending
        .iter()
        .filter(|m| every_guild || guild_scope(m).is_none_or(|g| involved.contains(&g)))
        .filter_map(|m| relevant_part(m, query))
        .collect();
    scratch.apply_now(&pending)?;
    Ok(scratch.read_now(query))
}

/// `answer` (the store's, with the queue on top, when a load began) with
/// `log` (what was queued since, oldest first) applied; `None` when that is
/// not known from the answer alone (a page of messages, which later writes
/// can shift past what was read).
pub(super) fn replay(query: &Query, answer: &Answer, log: &[Mutation]) -> Result<Option<Answer>> {
    if log.is_empty() {
        return Ok(Some(answer.clone()));
    }
    // A page can shift past what was read; a cascade can reach through a
    // parent the answer does not carry.
    if matches!(query, Query::ChannelMessages { .. }) || log.iter().any(cascades) {
        return Ok(None);
    }
    let scratch = MemoryStore::new();
    seed(&scratch, query, answer.clone())?;
    scratch.apply_now(log)?;
    Ok(Some(scratch.read_now(query)))
}

/// A channel's newest `limit` messages as a load read them (`answer`), with
/// `log` applied: the window's bottom (`None`: the whole channel) and every
/// message at or above it. `None` when a cascade in the log may reach the
/// channel through a parent.
pub(super) fn replay_window(
    channel_id: ChannelId,
    answer: &Answer,
    log: &[Mutation],
    limit: usize,
) -> Result<Option<(Option<MessageId>, Vec<Message>)>> {
    let Answer::Messages(read) = answer else {
        return Ok(None);
    };
    if log.iter().any(cascades) {
        return Ok(None);
    }
    // What was read is every message at or above the oldest read: writes
    // after it add to or remove from that range, never shift it.
    let bottom = (read.len() >= limit)
        .then(|| read.iter().map(|m| m.id).min())
        .flatten();
    let scratch = MemoryStore::new();
    scratch.apply_now(&[Mutation::UpsertMany(
        read.iter().cloned().map(Record::Message).collect(),
    )])?;
    scratch.apply_now(log)?;
    let Answer::Messages(all) = scratch.read_now(&Query::ChannelMessages {
        channel_id,
        page: MessagePage::Latest,
        limit: usize::MAX,
    }) else {
        return Ok(None);
    };
    let held = all
        .into_iter()
        .filter(|m| bottom.is_none_or(|b| m.id >= b))
        .collect();
    Ok(Some((bottom, held)))
}
