//! Applying one batch inside the writer's transaction.
//!
//! Writes of single objects (upserts, patches, reactions, single deletes)
//! are staged in memory, then written with one statement per table: a
//! multi-row upsert over `json_each` and a multi-key delete. Cascades, set
//! replacements, trims and prunes first write what is staged, then run as
//! one set-based statement each.

use std::borrow::Cow;
use std::collections::HashMap;

use persist_core::{EntityKey, Error, Mutation, Record, Result};
use sqlx::{Row, SqliteConnection, sqlite::SqliteRow};

use crate::store::backend_error;
use crate::table::{Table, read_object, sql_id};

/// The pending state of objects touched since the last flush: `None` =
/// deleted. Records of the batch are borrowed, not copied.
#[derive(Default)]
struct Staged<'a> {
    objects: HashMap<EntityKey, Option<Cow<'a, Record>>>,
}

impl<'a> Staged<'a> {
    async fn current(
        &mut self,
        conn: &mut SqliteConnection,
        key: EntityKey,
    ) -> Result<Option<Record>> {
        if let Some(state) = self.objects.get(&key) {
            return Ok(state.as_ref().map(|r| r.clone().into_owned()));
        }
        load(conn, key).await
    }

    fn put(&mut self, record: Record) {
        self.objects.insert(record.key(), Some(Cow::Owned(record)));
    }

    fn put_borrowed(&mut self, record: &'a Record) {
        self.objects
            .insert(record.key(), Some(Cow::Borrowed(record)));
    }

    fn delete(&mut self, key: EntityKey) {
        self.objects.insert(key, None);
    }

    /// Writes everything staged, one upsert and one delete statement per table.
    async fn flush(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        if self.objects.is_empty() {
            return Ok(());
        }
        let mut upserts: HashMap<Table, Vec<u8>> = HashMap::new();
        let mut deletes: HashMap<Table, Vec<u8>> = HashMap::new();
        for (key, state) in self.objects.drain() {
            let table = Table::of(&key);
            match state {
                Some(record) => {
                    let rows = upserts.entry(table).or_insert_with(|| b"[".to_vec());
                    if rows.len() > 1 {
                        rows.push(b',');
                    }
                    Table::write_row(&record, rows).map_err(|e| encode_error(&key, e))?;
                }
                None => {
                    let keys = deletes.entry(table).or_insert_with(|| b"[".to_vec());
                    if keys.len() > 1 {
                        keys.push(b',');
                    }
                    let (a, b) = Table::key_values(&key);
                    let text = match b {
                        Some(b) => format!("[{a},{b}]"),
                        None => format!("[{a}]"),
                    };
                    keys.extend_from_slice(text.as_bytes());
                }
            }
        }
        for (table, mut keys) in deletes {
            keys.push(b']');
            sqlx::query(table.statements().delete)
                .bind(into_text(keys))
                .execute(&mut *conn)
                .await
                .map_err(backend_error(format!("deleting from {}", table.name())))?;
        }
        for (table, mut rows) in upserts {
            rows.push(b']');
            sqlx::query(table.statements().upsert)
                .bind(into_text(rows))
                .execute(&mut *conn)
                .await
                .map_err(backend_error(format!("writing {}", table.name())))?;
        }
        Ok(())
    }
}

fn into_text(json: Vec<u8>) -> String {
    // serde_json and the id formatting above only ever write UTF-8.
    String::from_utf8(json).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn encode_error(key: &EntityKey, e: serde_json::Error) -> Error {
    Error::InvalidData {
        kind: key.kind(),
        reason: format!("{key} could not be encoded: {e}"),
    }
}

/// Reads one stored object inside the transaction.
pub(crate) async fn load(conn: &mut SqliteConnection, key: EntityKey) -> Result<Option<Record>> {
    let table = Table::of(&key);
    let (a, b) = Table::key_values(&key);
    let mut query = sqlx::query(table.statements().get).bind(a);
    if let Some(b) = b {
        query = query.bind(b);
    }
    let row = query
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend_error(format!("reading {key}")))?;
    row.map(|row| decode(table, &key.to_string(), &row))
        .transpose()
}

/// Decodes a row's `data` column into an object of the table's kind.
pub(crate) fn decode(table: Table, key: &str, row: &SqliteRow) -> Result<Record> {
    let data: &str = row.try_get("data").map_err(|e| Error::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })?;
    read_object(table, data).map_err(|e| Error::Corrupt {
        key: format!("{} {key}", table.name()),
        reason: e.to_string(),
    })
}

async fn run(
    conn: &mut SqliteConnection,
    what: &str,
    sql: &'static str,
    binds: &[i64],
) -> Result<()> {
    let mut query = sqlx::query(sql);
    for bind in binds {
        query = query.bind(*bind);
    }
    query
        .execute(&mut *conn)
        .await
        .map_err(backend_error(what.to_owned()))?;
    Ok(())
}

async fn delete_guild(conn: &mut SqliteConnection, guild: i64) -> Result<()> {
    const STATEMENTS: &[&str] = &[
        "DELETE FROM messages WHERE guild_id = ?1 OR channel_id IN (SELECT id FROM channels WHERE guild_id = ?1)",
        "DELETE FROM thread_members WHERE thread_id IN (SELECT id FROM channels WHERE guild_id = ?1)",
        "DELETE FROM channels WHERE guild_id = ?1",
        "DELETE FROM members WHERE guild_id = ?1",
        "DELETE FROM roles WHERE guild_id = ?1",
        "DELETE FROM emojis WHERE guild_id = ?1",
        "DELETE FROM stickers WHERE guild_id = ?1",
        "DELETE FROM voice_states WHERE guild_id = ?1",
        "DELETE FROM presences WHERE guild_id = ?1",
        "DELETE FROM stage_instances WHERE guild_id = ?1",
        "DELETE FROM scheduled_events WHERE guild_id = ?1",
        "DELETE FROM guilds WHERE id = ?1",
    ];
    for sql in STATEMENTS {
        run(conn, "removing a guild", sql, &[guild]).await?;
    }
    Ok(())
}

async fn delete_channel(conn: &mut SqliteConnection, channel: i64) -> Result<()> {
    const STATEMENTS: &[&str] = &[
        "DELETE FROM messages WHERE channel_id = ?1 \
         OR channel_id IN (SELECT id FROM channels WHERE parent_id = ?1 AND is_thread = 1)",
        "DELETE FROM thread_members WHERE thread_id = ?1 \
         OR thread_id IN (SELECT id FROM channels WHERE parent_id = ?1 AND is_thread = 1)",
        "DELETE FROM channels WHERE id = ?1 OR (parent_id = ?1 AND is_thread = 1)",
    ];
    for sql in STATEMENTS {
        run(conn, "removing a channel", sql, &[channel]).await?;
    }
    Ok(())
}

async fn delete_role(conn: &mut SqliteConnection, role: i64) -> Result<()> {
    let guild: Option<i64> = sqlx::query_scalar("SELECT guild_id FROM roles WHERE id = ?1")
        .bind(role)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend_error("removing a role"))?;
    run(
        conn,
        "removing a role",
        "DELETE FROM roles WHERE id = ?1",
        &[role],
    )
    .await?;
    // Role ids are strings in the JSON; a role the store never saw may still
    // be held by members of any guild.
    const STRIP: &str = "UPDATE members SET data = json_set(data, '$.roles', \
        (SELECT json_group_array(value) FROM json_each(members.data, '$.roles') WHERE value <> CAST(?1 AS TEXT))) \
        WHERE (?2 IS NULL OR guild_id = ?2) \
        AND EXISTS (SELECT 1 FROM json_each(members.data, '$.roles') WHERE value = CAST(?1 AS TEXT))";
    sqlx::query(STRIP)
        .bind(role)
        .bind(guild)
        .execute(&mut *conn)
        .await
        .map_err(backend_error("removing a role from members"))?;
    Ok(())
}

/// Keeps the newest `keep` messages of each channel: one statement per
/// distinct `keep` (the ruleset gives every channel the same cap).
async fn trim(conn: &mut SqliteConnection, caps: &[(i64, u32)]) -> Result<()> {
    let mut by_keep: HashMap<u32, Vec<i64>> = HashMap::new();
    for (channel, keep) in caps {
        by_keep.entry(*keep).or_default().push(*channel);
    }
    // The newest-but-`keep` id is found by an index seek per channel; only
    // the rows past it are visited.
    const TRIM: &str = "DELETE FROM messages WHERE id IN ( \
        SELECT m.id FROM json_each(?1) AS cap \
        JOIN messages AS m ON m.channel_id = cap.value \
        WHERE m.id < (SELECT id FROM messages WHERE channel_id = cap.value \
                      ORDER BY id DESC LIMIT 1 OFFSET ?2))";
    const CLEAR: &str =
        "DELETE FROM messages WHERE channel_id IN (SELECT value FROM json_each(?1))";
    for (keep, channels) in by_keep {
        let json = serde_json::to_string(&channels)
            .map_err(|e| Error::backend("sqlite", "trimming channels", e))?;
        let query = if keep == 0 {
            sqlx::query(CLEAR).bind(json)
        } else {
            sqlx::query(TRIM).bind(json).bind(i64::from(keep) - 1)
        };
        query
            .execute(&mut *conn)
            .await
            .map_err(backend_error("trimming channels to their message cap"))?;
    }
    Ok(())
}

/// The ids a `SELECT id ... NOT IN (json_each(?1))` finds, with `?2` the scope if any.
async fn ids_not_kept(
    conn: &mut SqliteConnection,
    sql: &'static str,
    scope: Option<i64>,
    keep: impl Iterator<Item = i64>,
) -> Result<Vec<i64>> {
    let keep = serde_json::to_string(&keep.collect::<Vec<_>>())
        .map_err(|e| Error::backend("sqlite", "reconciling", e))?;
    let mut query = sqlx::query_scalar(sql).bind(keep);
    if let Some(scope) = scope {
        query = query.bind(scope);
    }
    query
        .fetch_all(&mut *conn)
        .await
        .map_err(backend_error("reconciling"))
}

/// Applies a batch in order inside the open transaction.
pub(crate) async fn apply(conn: &mut SqliteConnection, batch: &[Mutation]) -> Result<()> {
    let mut staged = Staged::default();
    let mut caps: Vec<(i64, u32)> = Vec::new();
    for mutation in batch {
        if !matches!(mutation, Mutation::TrimChannelMessages { .. }) && !caps.is_empty() {
            staged.flush(conn).await?;
            trim(conn, &caps).await?;
            caps.clear();
        }
        match mutation {
            Mutation::Upsert(record) => staged.put_borrowed(record),
            Mutation::UpsertMany(records) => {
                for record in records {
                    staged.put_borrowed(record);
                }
            }
            Mutation::Patch(patch) => {
                let current = staged.current(conn, patch.key()).await?;
                staged.put(patch.apply_record(current)?);
            }
            Mutation::Delete(EntityKey::Guild(id)) => {
                staged.flush(conn).await?;
                delete_guild(conn, sql_id(id.get())).await?;
            }
            Mutation::Delete(EntityKey::Channel(id)) => {
                staged.flush(conn).await?;
                delete_channel(conn, sql_id(id.get())).await?;
            }
            Mutation::Delete(EntityKey::Role(id)) => {
                staged.flush(conn).await?;
                delete_role(conn, sql_id(id.get())).await?;
            }
            Mutation::Delete(key) => staged.delete(*key),
            Mutation::ReplaceGuildEmojis { guild_id, emojis } => {
                staged.flush(conn).await?;
                run(
                    conn,
                    "replacing emojis",
                    "DELETE FROM emojis WHERE guild_id = ?1",
                    &[sql_id(guild_id.get())],
                )
                .await?;
                for emoji in emojis {
                    staged.put(Record::Emoji(persist_core::model::Emoji {
                        guild_id: *guild_id,
                        ..emoji.clone()
                    }));
                }
            }
            Mutation::ReplaceGuildStickers { guild_id, stickers } => {
                staged.flush(conn).await?;
                run(
                    conn,
                    "replacing stickers",
                    "DELETE FROM stickers WHERE guild_id = ?1",
                    &[sql_id(guild_id.get())],
                )
                .await?;
                for sticker in stickers {
                    staged.put(Record::Sticker(persist_core::model::Sticker {
                        guild_id: Some(*guild_id),
                        ..sticker.clone()
                    }));
                }
            }
            Mutation::BulkDeleteMessages { message_ids, .. } => {
                for id in message_ids {
                    staged.delete(EntityKey::Message(*id));
                }
            }
            Mutation::AddReaction(r) | Mutation::RemoveReaction(r) => {
                if let Some(Record::Message(mut message)) = staged
                    .current(conn, EntityKey::Message(r.message_id))
                    .await?
                {
                    if matches!(mutation, Mutation::AddReaction(_)) {
                        message.add_reaction(&r.emoji, r.burst, r.by_current_user);
                    } else {
                        message.remove_reaction(&r.emoji, r.burst, r.by_current_user);
                    }
                    staged.put(Record::Message(message));
                }
            }
            Mutation::CountScheduledEventUser {
                event_id, added, ..
            } => {
                if let Some(Record::ScheduledEvent(mut event)) = staged
                    .current(conn, EntityKey::ScheduledEvent(*event_id))
                    .await?
                {
                    event.count_user(*added);
                    staged.put(Record::ScheduledEvent(event));
                }
            }
            Mutation::RemoveAllReactions { message_id, .. } => {
                if let Some(Record::Message(mut message)) = staged
                    .current(conn, EntityKey::Message(*message_id))
                    .await?
                {
                    message.reactions.clear();
                    staged.put(Record::Message(message));
                }
            }
            Mutation::RemoveEmojiReactions {
                message_id, emoji, ..
            } => {
                if let Some(Record::Message(mut message)) = staged
                    .current(conn, EntityKey::Message(*message_id))
                    .await?
                {
                    message.remove_emoji_reactions(emoji);
                    staged.put(Record::Message(message));
                }
            }
            Mutation::TrimChannelMessages { channel_id, keep } => {
                caps.push((sql_id(channel_id.get()), *keep))
            }
            Mutation::RetainGuildChannels { guild_id, keep } => {
                staged.flush(conn).await?;
                let gone = ids_not_kept(
                    conn,
                    "SELECT id FROM channels WHERE guild_id = ?2 AND is_thread = 0 \
                     AND id NOT IN (SELECT value FROM json_each(?1))",
                    Some(sql_id(guild_id.get())),
                    keep.iter().map(|c| sql_id(c.get())),
                )
                .await?;
                for id in gone {
                    delete_channel(conn, id).await?;
                }
            }
            Mutation::RetainGuildRoles { guild_id, keep } => {
                staged.flush(conn).await?;
                let gone = ids_not_kept(
                    conn,
                    "SELECT id FROM roles WHERE guild_id = ?2 AND id NOT IN (SELECT value FROM json_each(?1))",
                    Some(sql_id(guild_id.get())),
                    keep.iter().map(|r| sql_id(r.get())),
                )
                .await?;
                for id in gone {
                    delete_role(conn, id).await?;
                }
            }
            Mutation::RetainGuildMembers { guild_id, keep } => {
                staged.flush(conn).await?;
                let keep = serde_json::to_string(
                    &keep.iter().map(|u| sql_id(u.get())).collect::<Vec<_>>(),
                )
                .map_err(|e| Error::backend("sqlite", "retaining members", e))?;
                sqlx::query("DELETE FROM members WHERE guild_id = ?1 AND user_id NOT IN (SELECT value FROM json_each(?2))")
                    .bind(sql_id(guild_id.get()))
                    .bind(keep)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend_error("retaining members"))?;
            }
            Mutation::RetainShardGuilds {
                shard_id,
                shard_count,
                keep,
            } => {
                staged.flush(conn).await?;
                let gone = ids_not_kept(
                    conn,
                    "SELECT id FROM guilds WHERE id NOT IN (SELECT value FROM json_each(?1))",
                    None,
                    keep.iter().map(|g| sql_id(g.get())),
                )
                .await?;
                for id in gone {
                    if persist_core::shard_of(persist_core::GuildId::new(id as u64), *shard_count)
                        == *shard_id
                    {
                        delete_guild(conn, id).await?;
                    }
                }
            }
            Mutation::PruneMessages { before } => {
                staged.flush(conn).await?;
                run(
                    conn,
                    "pruning old messages",
                    "DELETE FROM messages WHERE id < ?1",
                    &[sql_id(before.get())],
                )
                .await?;
            }
        }
    }
    staged.flush(conn).await?;
    if !caps.is_empty() {
        trim(conn, &caps).await?;
    }
    Ok(())
}
