//! Which queued mutations may change a query's answer: the filter a read
//! runs over the queue before it replays what matters on the store's answer
//! (see `overlay`), and that the hot tier uses to know what a shed or
//! rejected mutation touched.

use crate::entity::{EntityKey, Record};
use crate::{ChannelId, GuildId, Mutation, Query, ResourceKind};

/// The kinds cascades find other objects through, relevant to every query.
const STRUCTURE: ResourceKind = ResourceKind::GUILDS
    .union(ResourceKind::CHANNELS)
    .union(ResourceKind::THREADS);

/// The resource kinds whose changes can alter the answer to `query`.
pub(super) fn query_kinds(query: &Query) -> ResourceKind {
    match query {
        Query::CurrentUser => ResourceKind::CURRENT_USER,
        Query::Guild(_) | Query::GuildIds => ResourceKind::GUILDS,
        Query::Channel(_) | Query::GuildChannels(_) | Query::GuildThreads(_) => {
            ResourceKind::CHANNELS | ResourceKind::THREADS
        }
        Query::Message(_) | Query::ChannelMessages { .. } => {
            ResourceKind::MESSAGES | ResourceKind::CHANNELS | ResourceKind::THREADS
        }
        Query::User(_) => ResourceKind::USERS,
        Query::UserGuilds(_) => ResourceKind::MEMBERS,
        // A role retained away is stripped from members.
        Query::Member(..) | Query::GuildMembers { .. } => {
            ResourceKind::MEMBERS | ResourceKind::ROLES
        }
        Query::Role(_) | Query::GuildRoles(_) => ResourceKind::ROLES,
        Query::Emoji(_) | Query::GuildEmojis(_) => ResourceKind::EMOJIS,
        Query::Sticker(_) | Query::GuildStickers(_) => ResourceKind::STICKERS,
        Query::VoiceState(..) | Query::GuildVoiceStates(_) => ResourceKind::VOICE_STATES,
        Query::Presence(..) | Query::GuildPresences(_) => ResourceKind::PRESENCES,
        Query::StageInstance(_) | Query::GuildStageInstances(_) => ResourceKind::STAGE_INSTANCES,
        Query::ScheduledEvent(_) | Query::GuildScheduledEvents(_) => ResourceKind::SCHEDULED_EVENTS,
        // A thread's members go with the thread, found through its parent.
        Query::ThreadMember(..) | Query::ThreadMembers(_) => {
            ResourceKind::THREAD_MEMBERS | ResourceKind::CHANNELS | ResourceKind::THREADS
        }
        Query::Counts => ResourceKind::all(),
    }
}

/// The one object a point query reads.
pub(super) fn point_key(query: &Query) -> Option<EntityKey> {
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
pub(super) fn query_guild(query: &Query) -> Option<GuildId> {
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

/// Whether a single-object write of `key` (a message's in `channel`, an
/// object of guild `scope`) can change the answer.
fn key_matters(
    key: EntityKey,
    channel: Option<ChannelId>,
    scope: Option<GuildId>,
    query: &Query,
) -> bool {
    if let Some(wanted) = point_key(query) {
        return match (wanted, key) {
            (EntityKey::ThreadMember(..) | EntityKey::Message(_), EntityKey::Channel(_)) => true,
            // A role deleted is stripped from the members of its own guild:
            // where it is, is known from the role.
            (EntityKey::Member(..), EntityKey::Role(_)) => true,
            _ => key == wanted,
        };
    }
    match query {
        Query::GuildIds => matches!(key, EntityKey::Guild(_)),
        Query::UserGuilds(u) => matches!(key, EntityKey::Member(_, user) if user == *u),
        Query::ThreadMembers(t) => match key {
            EntityKey::ThreadMember(thread, _) => thread == *t,
            EntityKey::Channel(_) => true,
            _ => false,
        },
        // Channels too: a channel retained away takes its messages.
        Query::ChannelMessages { channel_id, .. } => channel.is_none_or(|c| c == *channel_id),
        Query::GuildMembers { .. } if matches!(key, EntityKey::Role(_)) => true,
        _ => {
            let Some(guild) = query_guild(query) else {
                return true;
            };
            // Unknown scope: it may belong to this guild.
            scope.is_none_or(|g| g == guild)
        }
    }
}

/// Whether an upsert of `record` can change the answer to `query` (as
/// [`relevant_part`] decides for one `Upsert`, without building it).
pub(super) fn record_matters(record: &Record, query: &Query) -> bool {
    let key = record.key();
    if matches!(key, EntityKey::Guild(_) | EntityKey::Channel(_)) {
        return true;
    }
    let channel = match record {
        Record::Message(m) => Some(m.channel_id),
        _ => None,
    };
    key_matters(key, channel, record.guild_id(), query)
}

/// Whether `mutation` may change the answer to `query`: what a read
/// collects from the queue, without copying (`resolve` keeps the part that
/// does, see [`relevant_part`]).
pub(super) fn may_matter(mutation: &Mutation, query: &Query) -> bool {
    // Guilds and channels are what cascades (a shard's guilds or a guild's
    // channels retained) find the rest through: every query may need them.
    if matches!(
        mutation.object_key(),
        Some(EntityKey::Guild(_) | EntityKey::Channel(_))
    ) {
        return true;
    }
    if matches!(
        mutation,
        Mutation::TrimChannelMessages { .. } | Mutation::PruneMessages { .. }
    ) || !mutation.kinds().intersects(query_kinds(query) | STRUCTURE)
    {
        return false;
    }
    match mutation {
        Mutation::UpsertMany(records) => records.iter().any(|r| listed_record_matters(r, query)),
        _ => single_matters(mutation, query),
    }
}

/// Whether one record of a list can change the answer.
fn listed_record_matters(record: &Record, query: &Query) -> bool {
    (query_kinds(query) | STRUCTURE).intersects(record.kind()) && record_matters(record, query)
}

/// Whether a mutation other than a list can change the answer (past the
/// kind checks of [`may_matter`]).
fn single_matters(mutation: &Mutation, query: &Query) -> bool {
    match mutation.object_key() {
        Some(key) => {
            let scope = match mutation {
                Mutation::Upsert(record) => record.guild_id(),
                Mutation::Patch(patch) => patch.guild_id(),
                _ => key.guild_id(),
            };
            key_matters(key, mutation.channel_id(), scope, query)
        }
        // Cascades and multi-object writes: keep them (they are rare).
        None => true,
    }
}

/// The part of `mutation` that can change the answer to `query`, if any
/// (of a list, the records that can; see [`may_matter`]). Cap trims and
/// age prunes are left to the store (see `Cache::read`).
pub(super) fn relevant_part(mutation: &Mutation, query: &Query) -> Option<Mutation> {
    if !may_matter(mutation, query) {
        return None;
    }
    Some(match mutation {
        Mutation::UpsertMany(records) => Mutation::UpsertMany(
            records
                .iter()
                .filter(|r| listed_record_matters(r, query))
                .cloned()
                .collect(),
        ),
        other => other.clone(),
    })
}
