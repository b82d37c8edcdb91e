//! Read-your-writes: answers a query from the store with every queued and
//! in-flight mutation that can change the answer applied on top.
//!
//! The store's answer (widened to cover pending removals) seeds an empty
//! [`MemoryStore`]; the relevant pending mutations are applied to it in order;
//! the scratch store then answers the query. Re-applying a mutation the store
//! already committed is harmless for every idempotent mutation; reads touched
//! by reaction counts (not idempotent) instead hold the commit gate so that
//! no batch commits between their snapshot and their store read.

use crate::entity::{EntityKey, Record};
use crate::model::{Guild, Member};
use crate::{
    Answer, ChannelId, GuildId, MemoryStore, MessagePage, Mutation, Query, ResourceKind, Result,
    Store,
};

/// The resource kinds whose changes can alter the answer to `query`.
fn query_kinds(query: &Query) -> ResourceKind {
    match query {
        Query::CurrentUser => ResourceKind::CURRENT_USER,
        Query::Guild(_) | Query::GuildIds => ResourceKind::GUILDS,
        Query::Channel(_) | Query::GuildChannels(_) | Query::GuildThreads(_) => {
            ResourceKind::CHANNELS | ResourceKind::THREADS
        }
        Query::Message(_) | Query::ChannelMessages { .. } => ResourceKind::MESSAGES,
        Query::User(_) => ResourceKind::USERS,
        Query::Member(..) | Query::GuildMembers { .. } | Query::UserGuilds(_) => {
            ResourceKind::MEMBERS
        }
        Query::Role(_) | Query::GuildRoles(_) => ResourceKind::ROLES,
        Query::Emoji(_) | Query::GuildEmojis(_) => ResourceKind::EMOJIS,
        Query::Sticker(_) | Query::GuildStickers(_) => ResourceKind::STICKERS,
        Query::VoiceState(..) | Query::GuildVoiceStates(_) => ResourceKind::VOICE_STATES,
        Query::Presence(..) | Query::GuildPresences(_) => ResourceKind::PRESENCES,
        Query::StageInstance(_) | Query::GuildStageInstances(_) => ResourceKind::STAGE_INSTANCES,
        Query::ScheduledEvent(_) | Query::GuildScheduledEvents(_) => ResourceKind::SCHEDULED_EVENTS,
        Query::ThreadMember(..) | Query::ThreadMembers(_) => ResourceKind::THREAD_MEMBERS,
        Query::Counts => ResourceKind::all(),
    }
}

/// The one object a point query reads.
fn point_key(query: &Query) -> Option<EntityKey> {
    Some(match *query {
        Query::CurrentUser => EntityKey::CurrentUser,
        Query::Guild(id) => EntityKey::Guild(id),
        Query::Channel(id) => EntityKey::Channel(id),
        Query::Message(id) => EntityKey::Message(id),
        Query::User(id) => EntityKey::User(id),
        Query::Member(g, u) => EntityKey::Member(g, u),
        Query::Role(id) => EntityKey::Role(id),
        Query::Emoji(id) => EntityKey::Emoji(id),
        Query::Sticker(id) => EntityKey::Sticker(id),
        Query::VoiceState(g, u) => EntityKey::VoiceState(g, u),
        Query::Presence(g, u) => EntityKey::Presence(g, u),
        Query::StageInstance(id) => EntityKey::StageInstance(id),
        Query::ScheduledEvent(id) => EntityKey::ScheduledEvent(id),
        Query::ThreadMember(t, u) => EntityKey::ThreadMember(t, u),
        _ => return None,
    })
}

/// The guild a list query is scoped to.
fn query_guild(query: &Query) -> Option<GuildId> {
    match *query {
        Query::GuildChannels(g)
        | Query::GuildThreads(g)
        | Query::GuildRoles(g)
        | Query::GuildEmojis(g)
        | Query::GuildStickers(g)
        | Query::GuildVoiceStates(g)
        | Query::GuildPresences(g)
        | Query::GuildStageInstances(g)
        | Query::GuildScheduledEvents(g) => Some(g),
        Query::GuildMembers { guild_id, .. } => Some(guild_id),
        _ => None,
    }
}

/// Whether a single-object write of `key` (from `mutation`) can change the answer.
fn key_matters(key: EntityKey, mutation: &Mutation, query: &Query) -> bool {
    if let Some(wanted) = point_key(query) {
        return key == wanted;
    }
    match query {
        Query::GuildIds => matches!(key, EntityKey::Guild(_)),
        Query::UserGuilds(u) => matches!(key, EntityKey::Member(_, user) if user == *u),
        Query::ThreadMembers(t) => {
            matches!(key, EntityKey::ThreadMember(thread, _) if thread == *t)
        }
        Query::ChannelMessages { channel_id, .. } => {
            mutation.channel_id().is_none_or(|c| c == *channel_id)
        }
        _ => {
            let Some(guild) = query_guild(query) else {
                return true;
            };
            let scope = match mutation {
                Mutation::Upsert(record) => record.guild_id(),
                Mutation::Patch(patch) => patch.guild_id(),
                _ => key.guild_id(),
            };
            // Unknown scope: it may belong to this guild.
            scope.is_none_or(|g| g == guild)
        }
    }
}

/// The part of `mutation` that can change the answer to `query`, if any.
/// Cap trims and age prunes are left to the store (see `Cache::read`).
pub(super) fn relevant_part(mutation: &Mutation, query: &Query) -> Option<Mutation> {
    if matches!(
        mutation,
        Mutation::TrimChannelMessages { .. } | Mutation::PruneMessages { .. }
    ) || !mutation.kinds().intersects(query_kinds(query))
    {
        return None;
    }
    if let Mutation::UpsertMany(records) = mutation {
        let kept: Vec<Record> = records
            .iter()
            .filter(|r| {
                let one = Mutation::from((*r).clone());
                relevant_part(&one, query).is_some()
            })
            .cloned()
            .collect();
        return (!kept.is_empty()).then_some(Mutation::UpsertMany(kept));
    }
    match mutation.object_key() {
        Some(key) => key_matters(key, mutation, query).then(|| mutation.clone()),
        // Cascades and multi-object writes: keep them (they are rare).
        None => Some(mutation.clone()),
    }
}

/// The store reads that seed the scratch store for `query`, widened by
/// `widen` so that pending removals cannot leave a page short.
fn seed_queries(query: &Query, widen: usize) -> Vec<Query> {
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
    seeds
}

/// Puts a store answer into the scratch store. Id-only answers become
/// placeholder objects that carry just their ids.
fn seed(scratch: &MemoryStore, query: &Query, answer: Answer) -> Result<Vec<ChannelId>> {
    let mut channels = Vec::new();
    let records: Vec<Record> = match answer {
        Answer::CurrentUser(v) => v.map(Record::CurrentUser).into_iter().collect(),
        Answer::Guild(v) => v.map(Record::Guild).into_iter().collect(),
        Answer::GuildIds(ids) => match query {
            // The guilds too, so a pending removal of a guild shows.
            Query::UserGuilds(user_id) => ids
                .into_iter()
                .flat_map(|guild_id| {
                    [
                        Record::Member(Member {
                            guild_id,
                            user_id: *user_id,
                            ..Default::default()
                        }),
                        Record::Guild(Guild {
                            id: guild_id,
                            ..Default::default()
                        }),
                    ]
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
        Answer::Channel(v) => v.map(Record::Channel).into_iter().collect(),
        Answer::Channels(v) => v.into_iter().map(Record::Channel).collect(),
        Answer::Message(v) => {
            channels.extend(v.as_ref().map(|m| m.channel_id));
            v.map(Record::Message).into_iter().collect()
        }
        Answer::Messages(v) => v.into_iter().map(Record::Message).collect(),
        Answer::User(v) => v.map(Record::User).into_iter().collect(),
        Answer::Member(v) => v.map(Record::Member).into_iter().collect(),
        Answer::Members(v) => v.into_iter().map(Record::Member).collect(),
        Answer::Role(v) => v.map(Record::Role).into_iter().collect(),
        Answer::Roles(v) => v.into_iter().map(Record::Role).collect(),
        Answer::Emoji(v) => v.map(Record::Emoji).into_iter().collect(),
        Answer::Emojis(v) => v.into_iter().map(Record::Emoji).collect(),
        Answer::Sticker(v) => v.map(Record::Sticker).into_iter().collect(),
        Answer::Stickers(v) => v.into_iter().map(Record::Sticker).collect(),
        Answer::VoiceState(v) => v.map(Record::VoiceState).into_iter().collect(),
        Answer::VoiceStates(v) => v.into_iter().map(Record::VoiceState).collect(),
        Answer::Presence(v) => v.map(Record::Presence).into_iter().collect(),
        Answer::Presences(v) => v.into_iter().map(Record::Presence).collect(),
        Answer::StageInstance(v) => v.map(Record::StageInstance).into_iter().collect(),
        Answer::StageInstances(v) => v.into_iter().map(Record::StageInstance).collect(),
        Answer::ScheduledEvent(v) => v.map(Record::ScheduledEvent).into_iter().collect(),
        Answer::ScheduledEvents(v) => v.into_iter().map(Record::ScheduledEvent).collect(),
        Answer::ThreadMember(v) => v.map(Record::ThreadMember).into_iter().collect(),
        Answer::ThreadMembers(v) => v.into_iter().map(Record::ThreadMember).collect(),
        Answer::Counts(_) => Vec::new(),
    };
    scratch.apply_now(&[Mutation::UpsertMany(records)])?;
    Ok(channels)
}

/// Answers `query` from `store` with `pending` (the relevant queued and
/// in-flight mutations, oldest first) applied on top.
pub(super) async fn resolve(
    store: &dyn Store,
    query: &Query,
    pending: &[Mutation],
) -> Result<Answer> {
    if pending.is_empty() {
        return store.read(query).await;
    }
    let widen = pending
        .iter()
        .map(Mutation::max_removals)
        .fold(0usize, usize::saturating_add);
    let scratch = MemoryStore::new();
    for seed_query in seed_queries(query, widen) {
        let answer = store.read(&seed_query).await?;
        for channel_id in seed(&scratch, &seed_query, answer)? {
            // The message's channel tells cascades which thread it is in.
            if !scratch.contains(&EntityKey::Channel(channel_id)) {
                let channel = store.read(&Query::Channel(channel_id)).await?;
                seed(&scratch, &Query::Channel(channel_id), channel)?;
            }
        }
    }
    scratch.apply_now(pending)?;
    Ok(scratch.read_now(query))
}
