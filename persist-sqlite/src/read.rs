//! Answering queries from the read connections.

use persist_core::{
    Answer, Counts, Entity, EntityKey, Error, GuildId, MessagePage, Query, Record, Result,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::store::{SqliteStore, backend_error};
use crate::table::{Table, decode_data, sql_id};

/// Decodes a row's `data` column into an object of the table's kind.
fn decode(table: Table, key: &str, row: &SqliteRow) -> Result<Record> {
    decode_data(table, &key, row.try_get::<&str, _>("data"))
}

/// Runs a query returning `data` rows, with up to three integer binds.
async fn rows(
    store: &SqliteStore,
    what: &str,
    sql: &'static str,
    binds: &[i64],
) -> Result<Vec<SqliteRow>> {
    let mut query = sqlx::query(sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    query
        .fetch_all(store.readers())
        .await
        .map_err(backend_error(what.to_owned()))
}

/// The objects of a list read; an undecodable row is left out and logged.
fn all<T: Entity>(table: Table, rows: &[SqliteRow]) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let record = decode(table, "(list)", row).and_then(|record| {
            T::from_record(record).ok_or_else(|| Error::Corrupt {
                key: table.name().into(),
                reason: "wrong kind".into(),
            })
        });
        out.extend(persist_core::listed("sqlite", record)?);
    }
    Ok(out)
}

async fn one(store: &SqliteStore, key: EntityKey) -> Result<Option<Record>> {
    let table = Table::of(&key);
    let (a, b) = Table::key_values(&key);
    let mut query = sqlx::query(table.statements().get).bind(a);
    if let Some(b) = b {
        query = query.bind(b);
    }
    let row = query
        .fetch_optional(store.readers())
        .await
        .map_err(backend_error(format!("reading {key}")))?;
    row.map(|row| decode(table, &key.to_string(), &row))
        .transpose()
}

fn typed<T: Entity>(record: Option<Record>) -> Option<T> {
    record.and_then(T::from_record)
}

async fn guild_ids(store: &SqliteStore, sql: &'static str, bind: &[i64]) -> Result<Vec<GuildId>> {
    let rows = rows(store, "reading guild ids", sql, bind).await?;
    rows.iter()
        .map(|r| {
            r.try_get::<i64, _>(0)
                .map(|id| GuildId::new(id as u64))
                .map_err(backend_error("reading guild ids"))
        })
        .collect()
}

pub(crate) async fn answer(store: &SqliteStore, query: &Query) -> Result<Answer> {
    use Table as T;
    Ok(match *query {
        Query::CurrentUser => Answer::CurrentUser(typed(one(store, EntityKey::CurrentUser).await?)),
        Query::Guild(id) => Answer::Guild(typed(one(store, EntityKey::Guild(id)).await?)),
        Query::GuildIds => Answer::GuildIds(guild_ids(store, "SELECT id FROM guilds ORDER BY id", &[]).await?),
        Query::Channel(id) => Answer::Channel(typed(one(store, EntityKey::Channel(id)).await?)),
        Query::GuildChannels(g) => Answer::Channels(all(
            T::Channels,
            &rows(store, "reading channels", "SELECT data FROM channels WHERE guild_id = ?1 AND is_thread = 0 ORDER BY id", &[sql_id(g.get())]).await?,
        )?),
        Query::GuildThreads(g) => Answer::Channels(all(
            T::Channels,
            &rows(store, "reading threads", "SELECT data FROM channels WHERE guild_id = ?1 AND is_thread = 1 ORDER BY id", &[sql_id(g.get())]).await?,
        )?),
        Query::Message(id) => Answer::Message(typed(one(store, EntityKey::Message(id)).await?)),
        Query::ChannelMessages { channel_id, page, limit } => {
            let channel = sql_id(channel_id.get());
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let read = |sql: &'static str, anchor: i64, limit: i64| async move { rows(store, "reading messages", sql, &[channel, anchor, limit]).await };
            const BEFORE: &str = "SELECT data FROM messages WHERE channel_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
            const AT_OR_BEFORE: &str = "SELECT data FROM messages WHERE channel_id = ?1 AND id <= ?2 ORDER BY id DESC LIMIT ?3";
            const AFTER: &str = "SELECT data FROM messages WHERE channel_id = ?1 AND id > ?2 ORDER BY id ASC LIMIT ?3";
            let mut messages = match page {
                MessagePage::Latest => all(T::Messages, &read(AT_OR_BEFORE, i64::MAX, limit).await?)?,
                MessagePage::Before(id) => all(T::Messages, &read(BEFORE, sql_id(id.get()), limit).await?)?,
                MessagePage::After(id) => {
                    let mut page: Vec<_> = all(T::Messages, &read(AFTER, sql_id(id.get()), limit).await?)?;
                    page.reverse();
                    page
                }
                MessagePage::Around(id) => {
                    let newer = limit / 2;
                    let mut page: Vec<_> = all(T::Messages, &read(AFTER, sql_id(id.get()), newer).await?)?;
                    page.reverse();
                    page.extend(all::<persist_core::model::Message>(T::Messages, &read(AT_OR_BEFORE, sql_id(id.get()), limit - newer).await?)?);
                    page
                }
            };
            messages.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            Answer::Messages(messages)
        }
        Query::User(id) => Answer::User(typed(one(store, EntityKey::User(id)).await?)),
        Query::Member(g, u) => Answer::Member(typed(one(store, EntityKey::Member(g, u)).await?)),
        Query::GuildMembers { guild_id, after, limit } => Answer::Members(all(
            T::Members,
            &rows(
                store,
                "reading members",
                "SELECT data FROM members WHERE guild_id = ?1 AND user_id > ?2 ORDER BY user_id LIMIT ?3",
                &[sql_id(guild_id.get()), after.map_or(-1, |u| sql_id(u.get())), i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await?,
        )?),
        Query::UserGuilds(u) => Answer::GuildIds(
            guild_ids(store, "SELECT guild_id FROM members WHERE user_id = ?1 ORDER BY guild_id", &[sql_id(u.get())]).await?,
        ),
        Query::Role(id) => Answer::Role(typed(one(store, EntityKey::Role(id)).await?)),
        Query::GuildRoles(g) => Answer::Roles(all(T::Roles, &rows(store, "reading roles", "SELECT data FROM roles WHERE guild_id = ?1 ORDER BY id", &[sql_id(g.get())]).await?)?),
        Query::Emoji(id) => Answer::Emoji(typed(one(store, EntityKey::Emoji(id)).await?)),
        Query::GuildEmojis(g) => Answer::Emojis(all(T::Emojis, &rows(store, "reading emojis", "SELECT data FROM emojis WHERE guild_id = ?1 ORDER BY id", &[sql_id(g.get())]).await?)?),
        Query::Sticker(id) => Answer::Sticker(typed(one(store, EntityKey::Sticker(id)).await?)),
        Query::GuildStickers(g) => Answer::Stickers(all(T::Stickers, &rows(store, "reading stickers", "SELECT data FROM stickers WHERE guild_id = ?1 ORDER BY id", &[sql_id(g.get())]).await?)?),
        Query::VoiceState(g, u) => Answer::VoiceState(typed(one(store, EntityKey::VoiceState(g, u)).await?)),
        Query::GuildVoiceStates(g) => Answer::VoiceStates(all(T::VoiceStates, &rows(store, "reading voice states", "SELECT data FROM voice_states WHERE guild_id = ?1 ORDER BY user_id", &[sql_id(g.get())]).await?)?),
        Query::Presence(g, u) => Answer::Presence(typed(one(store, EntityKey::Presence(g, u)).await?)),
        Query::GuildPresences(g) => Answer::Presences(all(T::Presences, &rows(store, "reading presences", "SELECT data FROM presences WHERE guild_id = ?1 ORDER BY user_id", &[sql_id(g.get())]).await?)?),
        Query::StageInstance(id) => Answer::StageInstance(typed(one(store, EntityKey::StageInstance(id)).await?)),
        Query::GuildStageInstances(g) => Answer::StageInstances(all(T::StageInstances, &rows(store, "reading stage instances", "SELECT data FROM stage_instances WHERE guild_id = ?1 ORDER BY id", &[sql_id(g.get())]).await?)?),
        Query::ScheduledEvent(id) => Answer::ScheduledEvent(typed(one(store, EntityKey::ScheduledEvent(id)).await?)),
        Query::GuildScheduledEvents(g) => Answer::ScheduledEvents(all(T::ScheduledEvents, &rows(store, "reading scheduled events", "SELECT data FROM scheduled_events WHERE guild_id = ?1 ORDER BY id", &[sql_id(g.get())]).await?)?),
        Query::ThreadMember(t, u) => Answer::ThreadMember(typed(one(store, EntityKey::ThreadMember(t, u)).await?)),
        Query::ThreadMembers(t) => Answer::ThreadMembers(all(T::ThreadMembers, &rows(store, "reading thread members", "SELECT data FROM thread_members WHERE thread_id = ?1 ORDER BY user_id", &[sql_id(t.get())]).await?)?),
        Query::Counts => {
            // Kept by triggers in the rows' own transactions (schema version 3).
            let rows = sqlx::query("SELECT kind, n FROM persist_counts").fetch_all(store.readers()).await.map_err(backend_error("counting"))?;
            let mut counts = Counts::default();
            for row in rows {
                let kind: String = row.try_get(0).map_err(backend_error("counting"))?;
                let n = row.try_get::<i64, _>(1).map_err(backend_error("counting"))?.max(0) as u64;
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
                    // A kind a newer schema counts.
                    _ => continue,
                };
                *slot = n;
            }
            Answer::Counts(counts)
        }
    })
}
