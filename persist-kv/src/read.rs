//! Answering queries from a read view: point gets and range scans.

use persist_core::model::{Channel, Message};
use persist_core::{Answer, Counts, Entity, EntityKey, Error, GuildId, MessagePage, Query, Record};

use crate::codec::decode;
use crate::engine::KvRead;
use crate::{Space, key, location};

/// An item of a list read: an undecodable object is left out and logged.
fn listed<T>(item: Result<T, Error>) -> Result<Option<T>, Error> {
    persist_core::listed("kv", item)
}

/// Decodes a stored object of `space`; errors name `entity`.
pub fn decode_record(space: Space, value: &[u8], entity: &EntityKey) -> Result<Record, Error> {
    decode_at(space, value, &|| format!("{}/{entity}", space.name()))
}

/// Decodes a stored object found under `key` by a scan; errors name the key.
fn decode_scanned(space: Space, value: &[u8], key: &[u8]) -> Result<Record, Error> {
    decode_at(space, value, &|| {
        let ids: Vec<String> = key
            .chunks(8)
            .map(|c| {
                c.try_into()
                    .map_or_else(|_| format!("{c:?}"), |b| u64::from_be_bytes(b).to_string())
            })
            .collect();
        format!("{}/{}", space.name(), ids.join("/"))
    })
}

fn decode_at(space: Space, value: &[u8], what: &dyn Fn() -> String) -> Result<Record, Error> {
    Ok(match space {
        Space::CurrentUser => Record::CurrentUser(decode(value, what)?),
        Space::Guilds => Record::Guild(decode(value, what)?),
        Space::Channels => Record::Channel(decode(value, what)?),
        Space::Messages => Record::Message(decode(value, what)?),
        Space::Users => Record::User(decode(value, what)?),
        Space::Members => Record::Member(decode(value, what)?),
        Space::Roles => Record::Role(decode(value, what)?),
        Space::Emojis => Record::Emoji(decode(value, what)?),
        Space::Stickers => Record::Sticker(decode(value, what)?),
        Space::VoiceStates => Record::VoiceState(decode(value, what)?),
        Space::Presences => Record::Presence(decode(value, what)?),
        Space::StageInstances => Record::StageInstance(decode(value, what)?),
        Space::ScheduledEvents => Record::ScheduledEvent(decode(value, what)?),
        Space::ThreadMembers => Record::ThreadMember(decode(value, what)?),
        other => {
            return Err(Error::Corrupt {
                key: what(),
                reason: format!("{} holds no objects", other.name()),
            });
        }
    })
}

fn get<T: Entity>(view: &dyn KvRead, entity: EntityKey) -> Result<Option<T>, Error> {
    let (space, bytes) = location(&entity);
    match view.get(space, &bytes)? {
        Some(value) => Ok(T::from_record(decode_record(space, &value, &entity)?)),
        None => Ok(None),
    }
}

/// Objects in `objects` named by the ids of an index scope, in id order.
fn indexed<T: Entity>(
    view: &dyn KvRead,
    index: Space,
    scope: u64,
    objects: Space,
) -> Result<Vec<T>, Error> {
    let (from, to) = key::scope(scope, 0, None);
    let mut out = Vec::new();
    for (k, _) in view.range(index, &from, &to, false, usize::MAX)? {
        let Some(id) = key::second(&k) else { continue };
        if let Some(value) = view.get(objects, &key::one(id))?
            && let Some(record) = listed(decode_scanned(objects, &value, &key::one(id)))?
            && let Some(object) = T::from_record(record)
        {
            out.push(object);
        }
    }
    Ok(out)
}

/// Objects stored under (scope, user) keys, in user order, after `after`, at most `limit`.
fn per_user<T: Entity>(
    view: &dyn KvRead,
    space: Space,
    scope: u64,
    after: Option<u64>,
    limit: usize,
) -> Result<Vec<T>, Error> {
    let start = match after {
        Some(u) => match u.checked_add(1) {
            Some(next) => next,
            None => return Ok(Vec::new()),
        },
        None => 0,
    };
    let (from, to) = key::scope(scope, start, None);
    let mut out = Vec::new();
    for (k, v) in view.range(space, &from, &to, false, limit)? {
        let object = decode_scanned(space, &v, &k).and_then(|r| {
            T::from_record(r).ok_or_else(|| Error::Corrupt {
                key: space.name().into(),
                reason: "wrong kind".into(),
            })
        });
        out.extend(listed(object)?);
    }
    Ok(out)
}

fn channel_messages(
    view: &dyn KvRead,
    channel: u64,
    page: MessagePage,
    limit: usize,
) -> Result<Vec<Message>, Error> {
    let load = |pairs: Vec<(Vec<u8>, Vec<u8>)>| -> Result<Vec<Message>, Error> {
        let mut out = Vec::with_capacity(pairs.len());
        for (k, _) in pairs {
            if let Some(id) = key::second(&k)
                && let Some(Some(m)) = listed(get::<Message>(
                    view,
                    EntityKey::Message(persist_core::MessageId::new(id)),
                ))?
            {
                out.push(m);
            }
        }
        Ok(out)
    };
    let range = |from: u64, to: Option<u64>, reverse: bool, limit: usize| {
        let (a, b) = key::scope(channel, from, to);
        view.range(Space::ChannelMessages, &a, &b, reverse, limit)
    };
    Ok(match page {
        MessagePage::Latest => load(range(0, None, true, limit)?)?,
        MessagePage::Before(id) => load(range(0, Some(id.get()), true, limit)?)?,
        MessagePage::After(id) => match id.get().checked_add(1) {
            Some(next) => {
                let mut page = load(range(next, None, false, limit)?)?;
                page.reverse();
                page
            }
            None => Vec::new(),
        },
        MessagePage::Around(id) => {
            let newer = limit / 2;
            let mut page = match id.get().checked_add(1) {
                Some(next) => load(range(next, None, false, newer)?)?,
                None => Vec::new(),
            };
            page.reverse();
            let older = limit - newer;
            let to = id.get().checked_add(1);
            page.extend(load(range(0, to, true, older)?)?);
            page
        }
    })
}

fn guild_ids(
    view: &dyn KvRead,
    space: Space,
    from: &[u8],
    to: &[u8],
    second: bool,
) -> Result<Vec<GuildId>, Error> {
    Ok(view
        .range(space, from, to, false, usize::MAX)?
        .iter()
        .filter_map(|(k, _)| {
            if second {
                key::second(k)
            } else {
                key::first(k)
            }
        })
        .map(GuildId::new)
        .collect())
}

/// Answers a query.
pub fn answer(view: &dyn KvRead, query: &Query) -> Result<Answer, Error> {
    use Space as S;
    Ok(match *query {
        Query::CurrentUser => Answer::CurrentUser(get(view, EntityKey::CurrentUser)?),
        Query::Guild(id) => Answer::Guild(get(view, EntityKey::Guild(id))?),
        Query::GuildIds => Answer::GuildIds(guild_ids(view, S::Guilds, &[], &[0xff; 9], false)?),
        Query::Channel(id) => Answer::Channel(get(view, EntityKey::Channel(id))?),
        Query::GuildChannels(g) => Answer::Channels(
            indexed::<Channel>(view, S::GuildChannels, g.get(), S::Channels)?
                .into_iter()
                .filter(|c| !c.is_thread())
                .collect(),
        ),
        Query::GuildThreads(g) => Answer::Channels(
            indexed::<Channel>(view, S::GuildChannels, g.get(), S::Channels)?
                .into_iter()
                .filter(|c| c.is_thread())
                .collect(),
        ),
        Query::Message(id) => Answer::Message(get(view, EntityKey::Message(id))?),
        Query::ChannelMessages {
            channel_id,
            page,
            limit,
        } => Answer::Messages(channel_messages(view, channel_id.get(), page, limit)?),
        Query::User(id) => Answer::User(get(view, EntityKey::User(id))?),
        Query::Member(g, u) => Answer::Member(get(view, EntityKey::Member(g, u))?),
        Query::GuildMembers {
            guild_id,
            after,
            limit,
        } => Answer::Members(per_user(
            view,
            S::Members,
            guild_id.get(),
            after.map(|u| u.get()),
            limit,
        )?),
        Query::UserGuilds(u) => {
            let (from, to) = key::scope(u.get(), 0, None);
            Answer::GuildIds(guild_ids(view, S::UserGuilds, &from, &to, true)?)
        }
        Query::Role(id) => Answer::Role(get(view, EntityKey::Role(id))?),
        Query::GuildRoles(g) => Answer::Roles(indexed(view, S::GuildRoles, g.get(), S::Roles)?),
        Query::Emoji(id) => Answer::Emoji(get(view, EntityKey::Emoji(id))?),
        Query::GuildEmojis(g) => Answer::Emojis(indexed(view, S::GuildEmojis, g.get(), S::Emojis)?),
        Query::Sticker(id) => Answer::Sticker(get(view, EntityKey::Sticker(id))?),
        Query::GuildStickers(g) => {
            Answer::Stickers(indexed(view, S::GuildStickers, g.get(), S::Stickers)?)
        }
        Query::VoiceState(g, u) => Answer::VoiceState(get(view, EntityKey::VoiceState(g, u))?),
        Query::GuildVoiceStates(g) => {
            Answer::VoiceStates(per_user(view, S::VoiceStates, g.get(), None, usize::MAX)?)
        }
        Query::Presence(g, u) => Answer::Presence(get(view, EntityKey::Presence(g, u))?),
        Query::GuildPresences(g) => {
            Answer::Presences(per_user(view, S::Presences, g.get(), None, usize::MAX)?)
        }
        Query::StageInstance(id) => Answer::StageInstance(get(view, EntityKey::StageInstance(id))?),
        Query::GuildStageInstances(g) => Answer::StageInstances(indexed(
            view,
            S::GuildStageInstances,
            g.get(),
            S::StageInstances,
        )?),
        Query::ScheduledEvent(id) => {
            Answer::ScheduledEvent(get(view, EntityKey::ScheduledEvent(id))?)
        }
        Query::GuildScheduledEvents(g) => Answer::ScheduledEvents(indexed(
            view,
            S::GuildScheduledEvents,
            g.get(),
            S::ScheduledEvents,
        )?),
        Query::ThreadMember(t, u) => {
            Answer::ThreadMember(get(view, EntityKey::ThreadMember(t, u))?)
        }
        Query::ThreadMembers(t) => {
            Answer::ThreadMembers(per_user(view, S::ThreadMembers, t.get(), None, usize::MAX)?)
        }
        Query::Counts => {
            // O(1) per kind: the engine's count of keys, and the threads
            // kept in `meta`.
            let all_channels = view.count(S::Channels)?;
            let threads = crate::txn::meta_count(view, crate::txn::THREADS_KEY)?;
            Answer::Counts(Counts {
                guilds: view.count(S::Guilds)?,
                channels: all_channels.saturating_sub(threads),
                threads,
                messages: view.count(S::Messages)?,
                users: view.count(S::Users)?,
                members: view.count(S::Members)?,
                roles: view.count(S::Roles)?,
                emojis: view.count(S::Emojis)?,
                stickers: view.count(S::Stickers)?,
                voice_states: view.count(S::VoiceStates)?,
                presences: view.count(S::Presences)?,
                stage_instances: view.count(S::StageInstances)?,
                scheduled_events: view.count(S::ScheduledEvents)?,
                thread_members: view.count(S::ThreadMembers)?,
            })
        }
    })
}
