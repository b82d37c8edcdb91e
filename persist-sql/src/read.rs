//! The read API's queries, written once for every SQL backend: the backend
//! runs a rendered statement ([`SqlReads`]), this turns the rows into the
//! [`Answer`].

use std::sync::LazyLock;

use async_trait::async_trait;
use persist_core::model::Message;
use persist_core::{
    Answer, Counts, Entity, EntityKey, Error, GuildId, MessagePage, Query, Record, Result,
};

use crate::{Bind, Dialect, Table, decode_data, sql};

/// What a SQL backend runs for a read.
#[async_trait]
pub trait SqlReads: Send + Sync {
    /// The backend's name, for errors.
    fn backend(&self) -> &'static str;

    /// The dialect statements are rendered in.
    fn dialect(&self) -> Dialect;

    /// The first column of each row, as text (`data` or, in list reads,
    /// its JSON).
    async fn texts(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<String>>;

    /// The first column of each row, a snowflake.
    async fn ids(&self, sql: &'static str, binds: &[Bind]) -> Result<Vec<u64>>;

    /// The number of objects of each kind: `(kind, n)` rows, the kinds
    /// named as [`Counts`]' fields (channels apart from threads).
    async fn counts(&self) -> Result<Vec<(String, i64)>>;
}

/// `SELECT data FROM <table> WHERE <key> = ...`, per table and dialect.
static GET: LazyLock<Vec<[String; 3]>> = LazyLock::new(|| {
    Table::ALL
        .iter()
        .map(|table| {
            let key = table.key();
            Dialect::ALL.map(|d| {
                let name = table.sql_name(d);
                d.render(&if key.len() == 1 {
                    format!("SELECT #data FROM {name} WHERE {} = ?id", key[0])
                } else {
                    format!(
                        "SELECT #data FROM {name} WHERE {} = ?id AND {} = ?id",
                        key[0], key[1]
                    )
                })
            })
        })
        .collect()
});

/// The objects of a list read; an undecodable row is left out and logged.
fn all<T: Entity>(backend: &'static str, table: Table, rows: &[String]) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(rows.len());
    for data in rows {
        let record = decode_data(table, &"(list)", Ok::<_, Error>(data.as_str())).and_then(|r| {
            T::from_record(r).ok_or_else(|| Error::Corrupt {
                key: table.name().into(),
                reason: "wrong kind".into(),
            })
        });
        out.extend(persist_core::listed(backend, record)?);
    }
    Ok(out)
}

async fn one<R: SqlReads + ?Sized>(reads: &R, key: EntityKey) -> Result<Option<Record>> {
    let table = Table::of(&key);
    let (a, b) = Table::key_values(&key);
    let mut binds = vec![Bind::Id(a)];
    binds.extend(b.map(Bind::Id));
    let sql = GET[table as usize][reads.dialect() as usize].as_str();
    let rows = reads.texts(sql, &binds).await?;
    rows.first()
        .map(|data| decode_data(table, &key, Ok::<_, Error>(data.as_str())))
        .transpose()
}

async fn get<T: Entity, R: SqlReads + ?Sized>(reads: &R, key: EntityKey) -> Result<Option<T>> {
    Ok(one(reads, key).await?.and_then(T::from_record))
}

/// The objects of `table` a statement selects (`#data` first).
async fn list<T: Entity, R: SqlReads + ?Sized>(
    reads: &R,
    table: Table,
    sql: &'static str,
    binds: &[Bind],
) -> Result<Vec<T>> {
    all(reads.backend(), table, &reads.texts(sql, binds).await?)
}

fn guild_ids(ids: Vec<u64>) -> Vec<GuildId> {
    ids.into_iter().map(GuildId::new).collect()
}

/// A limit as a bound integer.
fn limit(n: impl TryInto<i64>) -> Bind {
    Bind::Int(n.try_into().unwrap_or(i64::MAX))
}

/// A page of a channel's messages, newest first.
async fn messages<R: SqlReads + ?Sized>(
    reads: &R,
    channel: u64,
    page: MessagePage,
    limit_to: usize,
) -> Result<Vec<Message>> {
    let d = reads.dialect();
    let before = sql!(
        d,
        "SELECT #data FROM messages WHERE channel_id = ?id AND id < ?id ORDER BY id DESC LIMIT ?n"
    );
    let at_or_before = sql!(
        d,
        "SELECT #data FROM messages WHERE channel_id = ?id AND id <= ?id ORDER BY id DESC LIMIT ?n"
    );
    let after = sql!(
        d,
        "SELECT #data FROM messages WHERE channel_id = ?id AND id > ?id ORDER BY id ASC LIMIT ?n"
    );
    let read = |sql: &'static str, anchor: u64, n: usize| async move {
        let binds = [Bind::Id(channel), Bind::Id(anchor), limit(n)];
        list::<Message, R>(reads, Table::Messages, sql, &binds).await
    };
    let mut page = match page {
        MessagePage::Latest => read(at_or_before, u64::MAX, limit_to).await?,
        MessagePage::Before(id) => read(before, id.get(), limit_to).await?,
        MessagePage::After(id) => {
            let mut page = read(after, id.get(), limit_to).await?;
            page.reverse();
            page
        }
        MessagePage::Around(id) => {
            let newer = limit_to / 2;
            let mut page = read(after, id.get(), newer).await?;
            page.reverse();
            page.extend(read(at_or_before, id.get(), limit_to - newer).await?);
            page
        }
    };
    page.truncate(limit_to);
    Ok(page)
}

/// Counts from `(kind, n)` rows; a kind a newer schema counts is ignored.
fn counts(rows: Vec<(String, i64)>) -> Counts {
    let mut counts = Counts::default();
    for (kind, n) in rows {
        let slot = match kind.as_str() {
            "guilds" => &mut counts.guilds,
            "channels" => &mut counts.channels,
            "threads" => &mut counts.threads,
            "messages" => &mut counts.messages,
            "users" => &mut counts.users,
            "members" => &mut counts.members,
            "roles" => &mut counts.roles,
            "emojis" => &mut counts.emojis,
            "stickers" => &mut counts.stickers,
            "voice_states" => &mut counts.voice_states,
            "presences" => &mut counts.presences,
            "stage_instances" => &mut counts.stage_instances,
            "scheduled_events" => &mut counts.scheduled_events,
            "thread_members" => &mut counts.thread_members,
            _ => continue,
        };
        *slot = u64::try_from(n).unwrap_or(0);
    }
    counts
}

/// Answers one read of the read API.
pub async fn answer<R: SqlReads + ?Sized>(reads: &R, query: &Query) -> Result<Answer> {
    use Table as T;
    let d = reads.dialect();
    let id = |v: u64| [Bind::Id(v)];
    Ok(match *query {
        Query::CurrentUser => Answer::CurrentUser(get(reads, EntityKey::CurrentUser).await?),
        Query::Guild(g) => Answer::Guild(get(reads, EntityKey::Guild(g)).await?),
        Query::GuildIds => Answer::GuildIds(guild_ids(
            reads
                .ids(sql!(d, "SELECT #id FROM guilds ORDER BY id"), &[])
                .await?,
        )),
        Query::Channel(c) => Answer::Channel(get(reads, EntityKey::Channel(c)).await?),
        Query::GuildChannels(g) => Answer::Channels(
            list(
                reads,
                T::Channels,
                sql!(
                    d,
                    "SELECT #data FROM channels WHERE guild_id = ?id AND is_thread = 0 ORDER BY id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::GuildThreads(g) => Answer::Channels(
            list(
                reads,
                T::Channels,
                sql!(
                    d,
                    "SELECT #data FROM channels WHERE guild_id = ?id AND is_thread = 1 ORDER BY id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::Message(m) => Answer::Message(get(reads, EntityKey::Message(m)).await?),
        Query::ChannelMessages {
            channel_id,
            page,
            limit,
        } => Answer::Messages(messages(reads, channel_id.get(), page, limit).await?),
        Query::User(u) => Answer::User(get(reads, EntityKey::User(u)).await?),
        Query::Member(g, u) => Answer::Member(get(reads, EntityKey::Member(g, u)).await?),
        Query::GuildMembers {
            guild_id,
            after,
            limit: n,
        } => {
            let guild = Bind::Id(guild_id.get());
            let (sql, binds) = match after {
                Some(u) => (
                    sql!(
                        d,
                        "SELECT #data FROM members WHERE guild_id = ?id AND user_id > ?id ORDER BY user_id LIMIT ?n"
                    ),
                    vec![guild, Bind::Id(u.get()), limit(n)],
                ),
                None => (
                    sql!(
                        d,
                        "SELECT #data FROM members WHERE guild_id = ?id ORDER BY user_id LIMIT ?n"
                    ),
                    vec![guild, limit(n)],
                ),
            };
            Answer::Members(list(reads, T::Members, sql, &binds).await?)
        }
        Query::UserGuilds(u) => Answer::GuildIds(guild_ids(
            reads
                .ids(
                    sql!(
                        d,
                        "SELECT #guild_id FROM members WHERE user_id = ?id ORDER BY guild_id"
                    ),
                    &id(u.get()),
                )
                .await?,
        )),
        Query::Role(r) => Answer::Role(get(reads, EntityKey::Role(r)).await?),
        Query::GuildRoles(g) => Answer::Roles(
            list(
                reads,
                T::Roles,
                sql!(
                    d,
                    "SELECT #data FROM roles WHERE guild_id = ?id ORDER BY id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::Emoji(e) => Answer::Emoji(get(reads, EntityKey::Emoji(e)).await?),
        Query::GuildEmojis(g) => Answer::Emojis(
            list(
                reads,
                T::Emojis,
                sql!(
                    d,
                    "SELECT #data FROM emojis WHERE guild_id = ?id ORDER BY id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::Sticker(s) => Answer::Sticker(get(reads, EntityKey::Sticker(s)).await?),
        Query::GuildStickers(g) => Answer::Stickers(
            list(
                reads,
                T::Stickers,
                sql!(
                    d,
                    "SELECT #data FROM stickers WHERE guild_id = ?id ORDER BY id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::VoiceState(g, u) => {
            Answer::VoiceState(get(reads, EntityKey::VoiceState(g, u)).await?)
        }
        Query::GuildVoiceStates(g) => Answer::VoiceStates(
            list(
                reads,
                T::VoiceStates,
                sql!(
                    d,
                    "SELECT #data FROM voice_states WHERE guild_id = ?id ORDER BY user_id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::Presence(g, u) => Answer::Presence(get(reads, EntityKey::Presence(g, u)).await?),
        Query::GuildPresences(g) => Answer::Presences(
            list(
                reads,
                T::Presences,
                sql!(
                    d,
                    "SELECT #data FROM presences WHERE guild_id = ?id ORDER BY user_id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::StageInstance(s) => {
            Answer::StageInstance(get(reads, EntityKey::StageInstance(s)).await?)
        }
        Query::GuildStageInstances(g) => Answer::StageInstances(
            list(
                reads,
                T::StageInstances,
                sql!(
                    d,
                    "SELECT #data FROM stage_instances WHERE guild_id = ?id ORDER BY id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::ScheduledEvent(s) => {
            Answer::ScheduledEvent(get(reads, EntityKey::ScheduledEvent(s)).await?)
        }
        Query::GuildScheduledEvents(g) => Answer::ScheduledEvents(
            list(
                reads,
                T::ScheduledEvents,
                sql!(
                    d,
                    "SELECT #data FROM scheduled_events WHERE guild_id = ?id ORDER BY id"
                ),
                &id(g.get()),
            )
            .await?,
        ),
        Query::ThreadMember(t, u) => {
            Answer::ThreadMember(get(reads, EntityKey::ThreadMember(t, u)).await?)
        }
        Query::ThreadMembers(t) => Answer::ThreadMembers(
            list(
                reads,
                T::ThreadMembers,
                sql!(
                    d,
                    "SELECT #data FROM thread_members WHERE thread_id = ?id ORDER BY user_id"
                ),
                &id(t.get()),
            )
            .await?,
        ),
        Query::Counts => Answer::Counts(counts(reads.counts().await?)),
    })
}
