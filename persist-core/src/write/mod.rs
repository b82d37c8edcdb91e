//! The cache's mutation semantics, written once: cascades, retains, caps,
//! prunes, patches, reactions and set replacement, over the few reads an
//! [`Engine`] provides. Every backend applies a batch the same way:
//!
//! 1. [`plan`] reads, in one [`Engine::get_many`], every object the batch's
//!    patches, reactions and counts need;
//! 2. applies the mutations in order to an in-memory view of the store
//!    (reads it lacks go to the engine once; absent keys are remembered);
//! 3. returns the net [`Changes`]: each key once, put or deleted (an object
//!    the batch upserts unchanged is lent from the batch, not copied), and
//!    the per-channel caps that end the batch, which the engine applies last
//!    from its own message count.
//!
//! The engine then writes the changes in the same transaction (a backend
//! batches them per table); it never re-implements a rule of the cache.
//!
//! ```
//! use persist_core::write::{plan, Engine, Scope};
//! use persist_core::{EntityKey, GuildId, Mutation, Record, Result, model::Guild};
//!
//! /// An engine with nothing stored.
//! struct Empty;
//! impl Engine for Empty {
//!     fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>> {
//!         Ok(vec![None; keys.len()])
//!     }
//!     fn scope_keys(&mut self, _: Scope) -> Result<Vec<EntityKey>> {
//!         Ok(Vec::new())
//!     }
//! }
//!
//! let guild = Guild { id: GuildId::new(1), ..Default::default() };
//! let batch = [Mutation::upsert(guild.clone()), Mutation::Delete(EntityKey::Guild(GuildId::new(1)))];
//! let changes = plan(&mut Empty, &batch)?;
//! assert!(changes.puts.is_empty());
//! assert_eq!(changes.deletes, [EntityKey::Guild(GuildId::new(1))]);
//! # Ok::<(), persist_core::Error>(())
//! ```

mod engine;
mod scope;
mod view;

pub use engine::{Changes, Engine, run_blocking};
pub use scope::Scope;

use rustc_hash::FxHashSet;

use crate::entity::{EntityKey, Record};
use crate::{ChannelId, GuildId, Mutation, Result, RoleId};

use view::BatchView;

/// Applies a batch to a view of the engine's committed state; the net
/// changes to write.
pub fn plan<'b>(engine: &mut dyn Engine, batch: &'b [Mutation]) -> Result<Changes<'b>> {
    // The caps that end the batch (the pipeline adds one per channel that
    // gained messages) go to the engine, which trims from its own count;
    // a cap with more mutations after it is applied here, in order.
    let caps = batch
        .iter()
        .rev()
        .take_while(|m| matches!(m, Mutation::TrimChannelMessages { .. }))
        .count();
    let (body, caps) = batch.split_at(batch.len() - caps);
    let mut view = BatchView::new(engine, body.len());
    view.prefetch(body.iter().filter_map(read_before_write))?;
    for mutation in body {
        apply(&mut view, mutation)?;
    }
    let mut changes = view.into_changes();
    changes.trims = caps
        .iter()
        .filter_map(|m| match m {
            Mutation::TrimChannelMessages { channel_id, keep } => Some((*channel_id, *keep)),
            _ => None,
        })
        .collect();
    Ok(changes)
}

/// The object a mutation reads before writing it, if any.
pub(crate) fn read_before_write(mutation: &Mutation) -> Option<EntityKey> {
    Some(match mutation {
        Mutation::Upsert(record) if upserted_unchanged_mostly(record) => record.key(),
        Mutation::Patch(patch) => patch.key(),
        Mutation::AddReaction(r) | Mutation::RemoveReaction(r) => EntityKey::Message(r.message_id),
        Mutation::RemoveAllReactions { message_id, .. }
        | Mutation::RemoveEmojiReactions { message_id, .. } => EntityKey::Message(*message_id),
        Mutation::CountScheduledEventUser { event_id, .. } => EntityKey::ScheduledEvent(*event_id),
        _ => return None,
    })
}

/// Whether a whole object of this kind is upserted over and over as it is
/// stored, so reading it first is cheaper than rewriting it and its pages:
/// users (every message carries its author).
fn upserted_unchanged_mostly(record: &Record) -> bool {
    matches!(record, Record::User(_))
}

fn apply<'b>(view: &mut BatchView<'_, 'b>, mutation: &'b Mutation) -> Result<()> {
    match mutation {
        // Read first (see `read_before_write`): written only if it changed.
        Mutation::Upsert(record) if upserted_unchanged_mostly(record) => {
            view.put_borrowed_changed(record)
        }
        Mutation::Upsert(record) => view.put_borrowed(record),
        Mutation::UpsertMany(records) => {
            for record in records {
                view.put_borrowed(record);
            }
        }
        Mutation::Patch(patch) => {
            let current = view.get(patch.key())?;
            match patch.apply_record(current) {
                Ok(merged) => view.put_changed(merged),
                // Patches are validated when built; one that still fails is
                // skipped so the rest of the batch lands.
                Err(error) => tracing::error!(%error, "a patch could not be applied; skipped"),
            }
        }
        Mutation::Delete(key) => delete(view, *key)?,
        Mutation::ReplaceGuildEmojis { guild_id, emojis } => {
            view.delete_scope(Scope::GuildEmojis(*guild_id))?;
            for emoji in emojis {
                let mut emoji = emoji.clone();
                emoji.guild_id = *guild_id;
                view.put(Record::Emoji(emoji));
            }
        }
        Mutation::ReplaceGuildStickers { guild_id, stickers } => {
            view.delete_scope(Scope::GuildStickers(*guild_id))?;
            for sticker in stickers {
                let mut sticker = sticker.clone();
                sticker.guild_id = Some(*guild_id);
                view.put(Record::Sticker(sticker));
            }
        }
        Mutation::BulkDeleteMessages { message_ids, .. } => {
            for id in message_ids {
                view.delete(EntityKey::Message(*id));
            }
        }
        Mutation::CountScheduledEventUser {
            event_id, added, ..
        } => {
            if let Some(Record::ScheduledEvent(mut event)) =
                view.get(EntityKey::ScheduledEvent(*event_id))?
            {
                event.count_user(*added);
                view.put_changed(Record::ScheduledEvent(event));
            }
        }
        Mutation::AddReaction(r) => view.change_message(r.message_id, |m| {
            m.add_reaction(&r.emoji, r.burst, r.by_current_user)
        })?,
        Mutation::RemoveReaction(r) => view.change_message(r.message_id, |m| {
            m.remove_reaction(&r.emoji, r.burst, r.by_current_user)
        })?,
        Mutation::RemoveAllReactions { message_id, .. } => {
            view.change_message(*message_id, |m| m.reactions.clear())?
        }
        Mutation::RemoveEmojiReactions {
            message_id, emoji, ..
        } => view.change_message(*message_id, |m| m.remove_emoji_reactions(emoji))?,
        Mutation::TrimChannelMessages { channel_id, keep } => {
            // Ascending ids: the oldest first.
            let ids = view.scope_keys(Scope::ChannelMessages(*channel_id))?;
            let excess = ids.len().saturating_sub(*keep as usize);
            for key in &ids[..excess] {
                view.delete(*key);
            }
        }
        Mutation::PruneMessages { before } => {
            view.delete_scope(Scope::MessagesBefore(*before))?;
        }
        Mutation::RetainGuildChannels { guild_id, keep } => {
            let keep: FxHashSet<ChannelId> = keep.iter().copied().collect();
            let keys = view.scope_keys(Scope::GuildChannels(*guild_id))?;
            let mut removed = 0u64;
            for record in view.get_many(&keys)?.into_iter().flatten() {
                if let Record::Channel(c) = record
                    && !c.is_thread()
                    && !keep.contains(&c.id)
                {
                    delete_channel(view, c.id)?;
                    removed += 1;
                }
            }
            reconciled("channels", *guild_id, keep.len(), removed);
        }
        Mutation::RetainGuildRoles { guild_id, keep } => {
            let keep: FxHashSet<RoleId> = keep.iter().copied().collect();
            let gone: FxHashSet<RoleId> = view
                .scope_keys(Scope::GuildRoles(*guild_id))?
                .into_iter()
                .filter_map(|key| match key {
                    EntityKey::Role(id) if !keep.contains(&id) => Some(id),
                    _ => None,
                })
                .collect();
            delete_roles(view, Some(*guild_id), &gone)?;
            reconciled("roles", *guild_id, keep.len(), gone.len() as u64);
        }
        Mutation::RetainGuildMembers { guild_id, keep } => {
            let keep: FxHashSet<_> = keep.iter().copied().collect();
            let mut removed = 0u64;
            for key in view.scope_keys(Scope::GuildMembers(*guild_id))? {
                if let EntityKey::Member(_, user) = key
                    && !keep.contains(&user)
                {
                    view.delete(key);
                    removed += 1;
                }
            }
            reconciled("members", *guild_id, keep.len(), removed);
        }
        Mutation::RetainShardGuilds {
            shard_id,
            shard_count,
            keep,
        } => {
            let keep: FxHashSet<GuildId> = keep.iter().copied().collect();
            let scope = Scope::ShardGuilds {
                shard_id: *shard_id,
                shard_count: *shard_count,
            };
            let mut removed = 0;
            for key in view.scope_keys(scope)? {
                if let EntityKey::Guild(id) = key
                    && !keep.contains(&id)
                {
                    delete_guild(view, id)?;
                    removed += 1;
                }
            }
            tracing::info!(
                shard_id,
                guilds = keep.len(),
                removed,
                "READY reconciled: guilds the bot left while offline are removed with everything of them"
            );
        }
    }
    Ok(())
}

/// Logs a guild's reconciliation: at INFO when it removed something (what
/// changed while the bot was away), else at DEBUG.
fn reconciled(what: &'static str, guild_id: GuildId, kept: usize, removed: u64) {
    if removed > 0 {
        tracing::info!(%guild_id, kept, removed, "GUILD_CREATE reconciled {what}: those gone while the bot was away are removed");
    } else {
        tracing::debug!(%guild_id, kept, "GUILD_CREATE reconciled {what}: nothing removed");
    }
}

/// Removes one object, with the cascades of its kind.
fn delete(view: &mut BatchView<'_, '_>, key: EntityKey) -> Result<()> {
    match key {
        EntityKey::Guild(id) => delete_guild(view, id),
        EntityKey::Channel(id) => delete_channel(view, id),
        EntityKey::Role(id) => {
            let guild = view.get(key)?.and_then(|role| role.guild_id());
            delete_roles(view, guild, &FxHashSet::from_iter([id]))
        }
        other => {
            view.delete(other);
            Ok(())
        }
    }
}

/// A channel, its messages and thread members, and its threads with theirs.
fn delete_channel(view: &mut BatchView<'_, '_>, id: ChannelId) -> Result<()> {
    for thread in view.scope_keys(Scope::ChannelThreads(id))? {
        if let EntityKey::Channel(thread) = thread {
            // Threads hold no threads: the recursion is one level deep.
            delete_channel(view, thread)?;
        }
    }
    view.delete_scope(Scope::ChannelMessages(id))?;
    view.delete_scope(Scope::ThreadMembers(id))?;
    view.delete(EntityKey::Channel(id));
    Ok(())
}

/// A guild and everything of it.
fn delete_guild(view: &mut BatchView<'_, '_>, id: GuildId) -> Result<()> {
    for channel in view.scope_keys(Scope::GuildChannels(id))? {
        if let EntityKey::Channel(channel) = channel {
            delete_channel(view, channel)?;
        }
    }
    for scope in [
        Scope::GuildMessages(id),
        Scope::GuildMembers(id),
        Scope::GuildRoles(id),
        Scope::GuildEmojis(id),
        Scope::GuildStickers(id),
        Scope::GuildVoiceStates(id),
        Scope::GuildPresences(id),
        Scope::GuildStageInstances(id),
        Scope::GuildScheduledEvents(id),
    ] {
        view.delete_scope(scope)?;
    }
    view.delete(EntityKey::Guild(id));
    Ok(())
}

/// Removes roles and takes them from every member of their guild (of every
/// guild when the guild is unknown: a role the store never had may still be
/// held by stored members).
fn delete_roles(
    view: &mut BatchView<'_, '_>,
    guild: Option<GuildId>,
    roles: &FxHashSet<RoleId>,
) -> Result<()> {
    if roles.is_empty() {
        return Ok(());
    }
    let members = match guild {
        Some(g) => view.scope_keys(Scope::GuildMembers(g))?,
        None => view.scope_keys(Scope::AllMembers)?,
    };
    for record in view.get_many(&members)?.into_iter().flatten() {
        if let Record::Member(mut member) = record
            && member.roles.iter().any(|r| roles.contains(r))
        {
            member.roles.retain(|r| !roles.contains(r));
            view.put(Record::Member(member));
        }
    }
    for role in roles {
        view.delete(EntityKey::Role(*role));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Member, User};
    use crate::{MemberPatch, Patch, UserId};

    /// Committed objects.
    struct Stored(Vec<Record>);

    impl Engine for Stored {
        fn get_many(&mut self, keys: &[EntityKey]) -> Result<Vec<Option<Record>>> {
            Ok(keys
                .iter()
                .map(|k| self.0.iter().find(|r| r.key() == *k).cloned())
                .collect())
        }
        fn scope_keys(&mut self, _: Scope) -> Result<Vec<EntityKey>> {
            Ok(Vec::new())
        }
    }

    fn member(nick: &str) -> Member {
        Member {
            guild_id: GuildId::new(1),
            user_id: UserId::new(2),
            nick: Some(nick.into()),
            ..Default::default()
        }
    }

    fn user(name: &str) -> User {
        User {
            id: UserId::new(2),
            username: name.into(),
            ..Default::default()
        }
    }

    fn nick_patch(nick: &str) -> Mutation {
        Mutation::Patch(Patch::from_member(
            GuildId::new(1),
            UserId::new(2),
            MemberPatch {
                nick: Some(Some(nick.into())),
                ..Default::default()
            },
        ))
    }

    #[test]
    fn a_patch_or_user_upsert_that_changes_nothing_writes_nothing() {
        let mut engine = Stored(vec![Record::Member(member("a")), Record::User(user("u"))]);
        let batch = [nick_patch("a"), Mutation::upsert(user("u"))];
        let changes = plan(&mut engine, &batch).unwrap();
        assert!(changes.puts.is_empty(), "{:?}", changes.puts);
        assert!(changes.deletes.is_empty());
    }

    #[test]
    fn a_change_is_written_once_as_it_ends_the_batch() {
        let mut engine = Stored(vec![Record::Member(member("a")), Record::User(user("u"))]);
        let batch = [
            nick_patch("b"),
            Mutation::upsert(user("v")),
            Mutation::upsert(user("v")),
        ];
        let changes = plan(&mut engine, &batch).unwrap();
        let mut puts: Vec<Record> = changes.puts.into_iter().map(|r| r.into_owned()).collect();
        puts.sort_by_key(|r| r.key());
        assert_eq!(puts, [Record::User(user("v")), Record::Member(member("b"))]);
    }
}
