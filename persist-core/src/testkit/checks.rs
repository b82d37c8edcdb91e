//! Store-level checks: every mutation, cascade, partial update, paging edge,
//! migration hook and schema check, straight against the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::json;

use super::fixtures::{self as fx, message_id_aged};
use super::{Check, Outcome, StoreFactory, ensure, ensure_eq};
use crate::entity::{EntityKey, Record};
use crate::model::{Channel, ChannelKind, Emoji, Guild, Member, Sticker};
use crate::{
    ChannelId, Counts, EmojiId, Error, GuildId, MessageId, MessagePage, Migrations, Mutation,
    Patch, ReactionChange, ReactionEmoji, ReadApi, RoleId, ScheduledEventId, StageInstanceId,
    StickerId, Store, UserId,
};

pub(super) const CHECKS: &[(&str, Check)] = &[
    ("upsert_and_read_every_kind", |f, n| {
        Box::pin(upsert_and_read_every_kind(f, n))
    }),
    ("upsert_replaces_the_whole_object", |f, n| {
        Box::pin(upsert_replaces_the_whole_object(f, n))
    }),
    ("unknown_fields_and_hostile_strings_round_trip", |f, n| {
        Box::pin(unknown_fields_and_hostile_strings_round_trip(f, n))
    }),
    ("patches_keep_unsent_fields", |f, n| {
        Box::pin(patches_keep_unsent_fields(f, n))
    }),
    (
        "patch_of_a_missing_object_stores_what_it_carries",
        |f, n| Box::pin(patch_of_a_missing_object_stores_what_it_carries(f, n)),
    ),
    ("a_batch_applies_in_order", |f, n| {
        Box::pin(a_batch_applies_in_order(f, n))
    }),
    ("single_deletes", |f, n| Box::pin(single_deletes(f, n))),
    ("deleting_a_guild_removes_everything_of_it", |f, n| {
        Box::pin(deleting_a_guild_removes_everything_of_it(f, n))
    }),
    (
        "deleting_a_channel_removes_messages_threads_and_members",
        |f, n| {
            Box::pin(deleting_a_channel_removes_messages_threads_and_members(
                f, n,
            ))
        },
    ),
    ("deleting_a_role_removes_it_from_members", |f, n| {
        Box::pin(deleting_a_role_removes_it_from_members(f, n))
    }),
    ("bulk_delete_messages", |f, n| {
        Box::pin(bulk_delete_messages(f, n))
    }),
    ("reactions", |f, n| Box::pin(reactions(f, n))),
    ("scheduled_event_subscribers_are_counted", |f, n| {
        Box::pin(scheduled_event_subscribers_are_counted(f, n))
    }),
    ("member_chunks_and_user_guilds", |f, n| {
        Box::pin(member_chunks_and_user_guilds(f, n))
    }),
    ("replacing_emojis_and_stickers", |f, n| {
        Box::pin(replacing_emojis_and_stickers(f, n))
    }),
    ("trimming_keeps_the_newest_messages", |f, n| {
        Box::pin(trimming_keeps_the_newest_messages(f, n))
    }),
    ("pruning_removes_old_messages", |f, n| {
        Box::pin(pruning_removes_old_messages(f, n))
    }),
    ("message_pages", |f, n| Box::pin(message_pages(f, n))),
    ("member_pages", |f, n| Box::pin(member_pages(f, n))),
    ("guild_lists_are_scoped_and_sorted", |f, n| {
        Box::pin(guild_lists_are_scoped_and_sorted(f, n))
    }),
    ("dm_channels_and_messages", |f, n| {
        Box::pin(dm_channels_and_messages(f, n))
    }),
    ("counts", |f, n| Box::pin(counts(f, n))),
    ("data_survives_reopening", |f, n| {
        Box::pin(data_survives_reopening(f, n))
    }),
    ("reconciling_removes_what_is_gone", |f, n| {
        Box::pin(reconciling_removes_what_is_gone(f, n))
    }),
    ("migration_hooks_run_once_in_order", |f, n| {
        Box::pin(migration_hooks_run_once_in_order(f, n))
    }),
    ("a_failed_hook_is_not_recorded", |f, n| {
        Box::pin(a_failed_hook_is_not_recorded(f, n))
    }),
    ("invalid_or_newer_hooks_are_refused", |f, n| {
        Box::pin(invalid_or_newer_hooks_are_refused(f, n))
    }),
    ("a_newer_schema_is_refused_and_left_untouched", |f, n| {
        Box::pin(a_newer_schema_is_refused_and_left_untouched(f, n))
    }),
];

async fn open(factory: &dyn StoreFactory, name: &str) -> Result<Arc<dyn Store>, Error> {
    factory.open(name, &Migrations::new()).await
}

fn ups<R: Into<Record>>(items: impl IntoIterator<Item = R>) -> Vec<Mutation> {
    items.into_iter().map(Mutation::upsert).collect()
}

fn ids<T, I: PartialEq + std::fmt::Debug>(items: &[T], id: impl Fn(&T) -> I) -> Vec<I> {
    items.iter().map(id).collect()
}

fn g(id: u64) -> GuildId {
    GuildId::new(id)
}

fn c(id: u64) -> ChannelId {
    ChannelId::new(id)
}

fn u(id: u64) -> UserId {
    UserId::new(id)
}

/// One object of every kind, in guild 1 (channel 10, thread 11, user 20).
fn one_of_each() -> Vec<Record> {
    let m = fx::message(message_id_aged(Duration::from_secs(60), 0), 10, 1);
    vec![
        fx::current_user(99).into(),
        fx::guild(1).into(),
        fx::channel(10, 1).into(),
        fx::thread(11, 1, 10).into(),
        m.into(),
        fx::user(20).into(),
        fx::member(1, 20, &[30]).into(),
        fx::role(30, 1).into(),
        fx::emoji(40, 1).into(),
        fx::sticker(50, 1).into(),
        fx::voice_state(1, 20, 10).into(),
        fx::presence(1, 20).into(),
        fx::stage_instance(60, 1, 10).into(),
        fx::scheduled_event(70, 1).into(),
        fx::thread_member(11, 20).into(),
    ]
}

async fn read_back(store: &dyn Store, key: EntityKey) -> Result<Option<Record>, Error> {
    Ok(match key {
        EntityKey::CurrentUser => store.current_user().await?.map(Record::from),
        EntityKey::Guild(id) => store.guild(id).await?.map(Record::from),
        EntityKey::Channel(id) => store.channel(id).await?.map(Record::from),
        EntityKey::Message(id) => store.message(id).await?.map(Record::from),
        EntityKey::User(id) => store.user(id).await?.map(Record::from),
        EntityKey::Member(g, u) => store.member(g, u).await?.map(Record::from),
        EntityKey::Role(id) => store.role(id).await?.map(Record::from),
        EntityKey::Emoji(id) => store.emoji(id).await?.map(Record::from),
        EntityKey::Sticker(id) => store.sticker(id).await?.map(Record::from),
        EntityKey::VoiceState(g, u) => store.voice_state(g, u).await?.map(Record::from),
        EntityKey::Presence(g, u) => store.presence(g, u).await?.map(Record::from),
        EntityKey::StageInstance(id) => store.stage_instance(id).await?.map(Record::from),
        EntityKey::ScheduledEvent(id) => store.scheduled_event(id).await?.map(Record::from),
        EntityKey::ThreadMember(t, u) => store.thread_member(t, u).await?.map(Record::from),
    })
}

async fn upsert_and_read_every_kind(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let records = one_of_each();
    store.apply(&ups(records.clone())).await?;
    for record in records {
        let back = read_back(&*store, record.key()).await?;
        ensure_eq!(back, Some(record));
    }
    ensure!(
        store.guild(g(2)).await?.is_none(),
        "a guild never stored was found"
    );
    ensure!(
        store.message(MessageId::new(12345)).await?.is_none(),
        "a message never stored was found"
    );
    Ok(())
}

async fn upsert_replaces_the_whole_object(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let first = fx::member(1, 20, &[30, 31]);
    store.apply(&ups([first])).await?;
    let second = Member {
        nick: None,
        deaf: false,
        ..fx::member(1, 20, &[32])
    };
    store.apply(&ups([second.clone()])).await?;
    ensure_eq!(store.member(g(1), u(20)).await?, Some(second));
    Ok(())
}

async fn unknown_fields_and_hostile_strings_round_trip(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let hostile = [
        "it's \"quoted\" ; DROP TABLE messages; --".to_owned(),
        "nul \0 inside".to_owned(),
        "emoji 👍🏽 and ZWJ 👩‍👩‍👧 and RTL \u{202e}".to_owned(),
        "x".repeat(100_000),
        String::new(),
    ];
    let mut records = Vec::new();
    for (i, text) in hostile.iter().enumerate() {
        let mut m = fx::message(message_id_aged(Duration::from_secs(60), i as u64), 10, 1);
        m.content = text.clone();
        m.extra.insert(text.clone(), json!(text));
        m.extra.insert(
            "nested".into(),
            json!({"a": [null, true, 1.5, {"b": text}]}),
        );
        records.push(Record::from(m));
    }
    let mut user = fx::user(20);
    user.username = hostile[0].clone();
    records.push(user.into());
    store.apply(&ups(records.clone())).await?;
    for record in records {
        let back = read_back(&*store, record.key()).await?;
        ensure!(
            back.as_ref() == Some(&record),
            "{} did not round-trip exactly",
            record.key()
        );
    }
    Ok(())
}

async fn patches_keep_unsent_fields(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let id = message_id_aged(Duration::from_secs(60), 0);
    let mut m = fx::message(id, 10, 1);
    m.pinned = true;
    store
        .apply(&ups::<Record>([
            fx::guild(1).into(),
            fx::channel(10, 1).into(),
            m.into(),
            fx::member(1, 20, &[30]).into(),
            fx::user(20).into(),
            fx::presence(1, 20).into(),
            fx::current_user(99).into(),
            fx::role(30, 1).into(),
            fx::voice_state(1, 20, 10).into(),
        ]))
        .await?;
    let patches = vec![
        Patch::guild(g(1), json!({"name": "renamed", "brand_new": 1}))?,
        Patch::channel(c(10), json!({"topic": "new topic"}))?,
        Patch::message(
            c(10),
            id,
            json!({"content": "edited", "edited_timestamp": "2024-01-01T00:00:00+00:00"}),
        )?,
        Patch::member(g(1), u(20), json!({"nick": null, "roles": ["31"]}))?,
        Patch::user(u(20), json!({"global_name": "Renamed"}))?,
        Patch::presence(g(1), u(20), json!({"status": "idle"}))?,
        Patch::current_user(json!({"username": "renamed-bot"}))?,
        Patch::new(
            EntityKey::Role(RoleId::new(30)),
            json!({"name": "renamed role"}),
        )?,
        Patch::new(
            EntityKey::VoiceState(g(1), u(20)),
            json!({"self_mute": false}),
        )?,
    ];
    store
        .apply(&patches.into_iter().map(Mutation::Patch).collect::<Vec<_>>())
        .await?;

    let guild = store.guild(g(1)).await?.ok_or(Error::Closed)?;
    ensure_eq!(guild.name, "renamed");
    ensure_eq!(guild.features, vec!["COMMUNITY".to_owned()]);
    ensure_eq!(guild.member_count, Some(3));
    ensure_eq!(guild.extra.get("brand_new"), Some(&json!(1)));
    ensure!(
        guild.extra.contains_key("field_from_the_future"),
        "unknown field lost by a patch"
    );

    let channel = store.channel(c(10)).await?.ok_or(Error::Closed)?;
    ensure_eq!(channel.topic.as_deref(), Some("new topic"));
    ensure_eq!(channel.permission_overwrites.len(), 1);

    let message = store.message(id).await?.ok_or(Error::Closed)?;
    ensure_eq!(message.content, "edited");
    ensure!(
        message.pinned,
        "pinned was wiped by a patch that did not send it"
    );
    ensure_eq!(message.author.id, u(7));
    ensure!(
        message.edited_timestamp.is_some(),
        "edited_timestamp not set"
    );

    let member = store.member(g(1), u(20)).await?.ok_or(Error::Closed)?;
    ensure_eq!(member.nick, None);
    ensure_eq!(member.roles, vec![RoleId::new(31)]);
    ensure!(
        member.deaf,
        "deaf was wiped by a patch that did not send it"
    );

    let user = store.user(u(20)).await?.ok_or(Error::Closed)?;
    ensure_eq!(user.global_name.as_deref(), Some("Renamed"));
    ensure_eq!(user.username, "user20");
    ensure_eq!(
        store.presence(g(1), u(20)).await?.map(|p| p.status),
        Some("idle".to_owned())
    );
    let me = store.current_user().await?.ok_or(Error::Closed)?;
    ensure_eq!((me.username.as_str(), me.bot), ("renamed-bot", true));
    let role = store.role(RoleId::new(30)).await?.ok_or(Error::Closed)?;
    ensure_eq!(
        (role.name.as_str(), role.color, role.guild_id),
        ("renamed role", 0xff00ff, g(1))
    );
    let voice = store.voice_state(g(1), u(20)).await?.ok_or(Error::Closed)?;
    ensure_eq!(
        (voice.self_mute, voice.session_id.as_str()),
        (false, "session20")
    );
    Ok(())
}

async fn patch_of_a_missing_object_stores_what_it_carries(
    f: &dyn StoreFactory,
    n: &str,
) -> Outcome {
    let store = open(f, n).await?;
    let id = message_id_aged(Duration::from_secs(60), 0);
    store
        .apply(&[
            Mutation::Patch(Patch::message(
                c(10),
                id,
                json!({"content": "only this", "guild_id": "1"}),
            )?),
            Mutation::Patch(Patch::member(g(1), u(20), json!({"nick": "n"}))?),
        ])
        .await?;
    let message = store.message(id).await?.ok_or(Error::Closed)?;
    ensure_eq!(
        (message.id, message.channel_id, message.guild_id),
        (id, c(10), Some(g(1)))
    );
    ensure_eq!(message.content, "only this");
    let page = store
        .channel_messages(c(10), MessagePage::Latest, 10)
        .await?;
    ensure_eq!(ids(&page, |m| m.id), vec![id]);
    let member = store.member(g(1), u(20)).await?.ok_or(Error::Closed)?;
    ensure_eq!(member.nick.as_deref(), Some("n"));
    ensure_eq!(store.user_guilds(u(20)).await?, vec![g(1)]);
    Ok(())
}

async fn a_batch_applies_in_order(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    store
        .apply(&[
            Mutation::upsert(fx::user(1)),
            Mutation::Delete(EntityKey::User(u(1))),
            Mutation::Delete(EntityKey::User(u(2))),
            Mutation::upsert(fx::user(2)),
            Mutation::upsert(fx::member(1, 3, &[])),
            Mutation::Patch(Patch::member(g(1), u(3), json!({"nick": "after"}))?),
            Mutation::Delete(EntityKey::Guild(g(1))),
            Mutation::upsert(fx::member(1, 4, &[])),
        ])
        .await?;
    ensure!(
        store.user(u(1)).await?.is_none(),
        "upsert then delete left the object"
    );
    ensure!(
        store.user(u(2)).await?.is_some(),
        "delete then upsert lost the object"
    );
    ensure!(
        store.member(g(1), u(3)).await?.is_none(),
        "the guild delete did not cascade"
    );
    ensure!(
        store.member(g(1), u(4)).await?.is_some(),
        "a write after the cascade was lost"
    );
    Ok(())
}

async fn single_deletes(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let records = one_of_each();
    store.apply(&ups(records.clone())).await?;
    let keep_guild = [
        EntityKey::Guild(g(1)),
        EntityKey::Channel(c(10)),
        EntityKey::Role(RoleId::new(30)),
    ];
    let deletes: Vec<Mutation> = records
        .iter()
        .map(Record::key)
        .filter(|k| !keep_guild.contains(k))
        .map(Mutation::Delete)
        .collect();
    store.apply(&deletes).await?;
    for record in &records {
        let key = record.key();
        let back = read_back(&*store, key).await?;
        ensure_eq!(back.is_some(), keep_guild.contains(&key));
    }
    // Deleting what is not there is not an error.
    store
        .apply(&[
            Mutation::Delete(EntityKey::Message(MessageId::new(1))),
            Mutation::Delete(EntityKey::Member(g(5), u(5))),
        ])
        .await?;
    Ok(())
}

/// Guild 1 and guild 2 with a bit of everything; returns message ids of guild 1 and 2.
async fn two_guilds(store: &dyn Store) -> Result<(Vec<MessageId>, Vec<MessageId>), Error> {
    let mut records = Vec::new();
    let mut mine = Vec::new();
    let mut other = Vec::new();
    for (guild, channel, thread, list) in [(1, 10, 11, &mut mine), (2, 20, 21, &mut other)] {
        records.push(Record::from(fx::guild(guild)));
        records.push(fx::channel(channel, guild).into());
        records.push(fx::thread(thread, guild, channel).into());
        for (i, ch) in [channel, thread].into_iter().enumerate() {
            let id = message_id_aged(Duration::from_secs(60), guild * 10 + i as u64);
            list.push(id);
            records.push(fx::message(id, ch, guild).into());
        }
        records.push(fx::member(guild, 100, &[guild * 100]).into());
        records.push(fx::role(guild * 100, guild).into());
        records.push(fx::emoji(guild * 100 + 1, guild).into());
        records.push(fx::sticker(guild * 100 + 2, guild).into());
        records.push(fx::voice_state(guild, 100, channel).into());
        records.push(fx::presence(guild, 100).into());
        records.push(fx::stage_instance(guild * 100 + 3, guild, channel).into());
        records.push(fx::scheduled_event(guild * 100 + 4, guild).into());
        records.push(fx::thread_member(thread, 100).into());
    }
    records.push(fx::user(100).into());
    store.apply(&[Mutation::UpsertMany(records)]).await?;
    Ok((mine, other))
}

async fn deleting_a_guild_removes_everything_of_it(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let (mine, other) = two_guilds(&*store).await?;
    // A message whose channel is not cached still goes with its guild.
    let orphan = message_id_aged(Duration::from_secs(30), 0);
    store.apply(&ups([fx::message(orphan, 15, 1)])).await?;
    store
        .apply(&[Mutation::Delete(EntityKey::Guild(g(1)))])
        .await?;

    ensure!(store.guild(g(1)).await?.is_none(), "guild still there");
    ensure!(
        store.guild_channels(g(1)).await?.is_empty(),
        "channels left"
    );
    ensure!(store.guild_threads(g(1)).await?.is_empty(), "threads left");
    for id in mine.iter().chain([&orphan]) {
        ensure!(store.message(*id).await?.is_none(), "message {id} left");
    }
    ensure!(store.member(g(1), u(100)).await?.is_none(), "member left");
    ensure!(store.guild_roles(g(1)).await?.is_empty(), "roles left");
    ensure!(store.guild_emojis(g(1)).await?.is_empty(), "emojis left");
    ensure!(
        store.guild_stickers(g(1)).await?.is_empty(),
        "stickers left"
    );
    ensure!(
        store.guild_voice_states(g(1)).await?.is_empty(),
        "voice states left"
    );
    ensure!(
        store.guild_presences(g(1)).await?.is_empty(),
        "presences left"
    );
    ensure!(
        store.guild_stage_instances(g(1)).await?.is_empty(),
        "stage instances left"
    );
    ensure!(
        store.guild_scheduled_events(g(1)).await?.is_empty(),
        "scheduled events left"
    );
    ensure!(
        store.thread_members(c(11)).await?.is_empty(),
        "thread members left"
    );
    ensure_eq!(store.user_guilds(u(100)).await?, vec![g(2)]);
    ensure!(
        store.user(u(100)).await?.is_some(),
        "users are global and must stay"
    );

    // Guild 2 is untouched.
    ensure!(store.guild(g(2)).await?.is_some(), "other guild removed");
    for id in &other {
        ensure!(
            store.message(*id).await?.is_some(),
            "other guild's message {id} removed"
        );
    }
    ensure_eq!(store.guild_channels(g(2)).await?.len(), 1);
    ensure_eq!(store.guild_threads(g(2)).await?.len(), 1);
    ensure_eq!(store.guild_roles(g(2)).await?.len(), 1);
    ensure_eq!(store.thread_members(c(21)).await?.len(), 1);
    ensure_eq!(store.guild_voice_states(g(2)).await?.len(), 1);
    Ok(())
}

async fn deleting_a_channel_removes_messages_threads_and_members(
    f: &dyn StoreFactory,
    n: &str,
) -> Outcome {
    let store = open(f, n).await?;
    let (mine, other) = two_guilds(&*store).await?;
    let sibling = message_id_aged(Duration::from_secs(30), 0);
    store
        .apply(&ups::<Record>([
            fx::channel(12, 1).into(),
            fx::message(sibling, 12, 1).into(),
        ]))
        .await?;
    store
        .apply(&[Mutation::Delete(EntityKey::Channel(c(10)))])
        .await?;
    ensure!(store.channel(c(10)).await?.is_none(), "channel left");
    ensure!(store.channel(c(11)).await?.is_none(), "its thread left");
    for id in &mine {
        ensure!(
            store.message(*id).await?.is_none(),
            "message {id} of the channel or its thread left"
        );
    }
    ensure!(
        store
            .channel_messages(c(10), MessagePage::Latest, 10)
            .await?
            .is_empty(),
        "page not empty"
    );
    ensure!(
        store.thread_members(c(11)).await?.is_empty(),
        "thread members left"
    );
    ensure!(
        store.message(sibling).await?.is_some(),
        "a sibling channel's message was removed"
    );
    ensure!(
        store.channel(c(12)).await?.is_some(),
        "a sibling channel was removed"
    );
    ensure!(store.guild(g(1)).await?.is_some(), "the guild was removed");
    for id in &other {
        ensure!(
            store.message(*id).await?.is_some(),
            "other guild's message {id} removed"
        );
    }
    // Deleting a thread removes its messages and members only.
    store
        .apply(&[Mutation::Delete(EntityKey::Channel(c(21)))])
        .await?;
    ensure!(
        store.message(other[1]).await?.is_none(),
        "thread message left"
    );
    ensure!(
        store.message(other[0]).await?.is_some(),
        "parent message removed"
    );
    ensure!(
        store.thread_members(c(21)).await?.is_empty(),
        "thread members left"
    );
    Ok(())
}

async fn deleting_a_role_removes_it_from_members(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    store
        .apply(&ups::<Record>([
            fx::role(30, 1).into(),
            fx::role(31, 1).into(),
            fx::member(1, 20, &[30, 31]).into(),
            fx::member(1, 21, &[30]).into(),
            fx::member(1, 22, &[]).into(),
            fx::member(2, 20, &[30, 32]).into(),
        ]))
        .await?;
    store
        .apply(&[Mutation::Delete(EntityKey::Role(RoleId::new(30)))])
        .await?;
    ensure!(store.role(RoleId::new(30)).await?.is_none(), "role left");
    ensure_eq!(
        ids(&store.guild_roles(g(1)).await?, |r| r.id),
        vec![RoleId::new(31)]
    );
    ensure_eq!(
        store.member(g(1), u(20)).await?.map(|m| m.roles),
        Some(vec![RoleId::new(31)])
    );
    ensure_eq!(
        store.member(g(1), u(21)).await?.map(|m| m.roles),
        Some(vec![])
    );
    ensure_eq!(
        store.member(g(1), u(22)).await?.map(|m| m.roles),
        Some(vec![])
    );
    // A role of another guild with the same id cannot exist (ids are global),
    // but a member elsewhere holding it is not this guild's business.
    ensure_eq!(
        store.member(g(2), u(20)).await?.map(|m| m.roles),
        Some(vec![RoleId::new(30), RoleId::new(32)])
    );
    // A role the store never saw is still removed from members that hold it.
    store
        .apply(&[Mutation::Delete(EntityKey::Role(RoleId::new(32)))])
        .await?;
    ensure_eq!(
        store.member(g(2), u(20)).await?.map(|m| m.roles),
        Some(vec![RoleId::new(30)])
    );
    Ok(())
}

async fn bulk_delete_messages(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let ids_: Vec<MessageId> = (0..10)
        .map(|i| message_id_aged(Duration::from_secs(60), i))
        .collect();
    store
        .apply(&ups(ids_.iter().map(|id| fx::message(*id, 10, 1))))
        .await?;
    store
        .apply(&[Mutation::BulkDeleteMessages {
            channel_id: c(10),
            message_ids: vec![ids_[1], ids_[3], ids_[5], MessageId::new(42)],
        }])
        .await?;
    let page = store
        .channel_messages(c(10), MessagePage::Latest, 100)
        .await?;
    let expected: Vec<MessageId> = ids_
        .iter()
        .rev()
        .copied()
        .filter(|id| ![ids_[1], ids_[3], ids_[5]].contains(id))
        .collect();
    ensure_eq!(ids(&page, |m| m.id), expected);
    Ok(())
}

async fn scheduled_event_subscribers_are_counted(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    store
        .apply(&[Mutation::upsert(fx::scheduled_event(70, 1))])
        .await?;
    let count = |event_id: u64, added: bool| Mutation::CountScheduledEventUser {
        guild_id: GuildId::new(1),
        event_id: ScheduledEventId::new(event_id),
        added,
    };
    // Within one batch and across batches; an unknown event is left alone.
    store
        .apply(&[count(70, true), count(70, true), count(71, true)])
        .await?;
    store.apply(&[count(70, false)]).await?;
    let event = store.scheduled_event(ScheduledEventId::new(70)).await?;
    ensure_eq!(
        event.map(|e| (e.user_count, e.name)),
        Some((Some(5), "game night".to_owned()))
    );
    ensure!(
        store
            .scheduled_event(ScheduledEventId::new(71))
            .await?
            .is_none(),
        "a count made an event that was never created"
    );
    // Never below zero.
    store.apply(&vec![count(70, false); 9]).await?;
    let event = store.scheduled_event(ScheduledEventId::new(70)).await?;
    ensure_eq!(event.and_then(|e| e.user_count), Some(0));
    Ok(())
}

async fn reactions(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let id = message_id_aged(Duration::from_secs(60), 0);
    store.apply(&ups([fx::message(id, 10, 1)])).await?;
    let thumbs = ReactionEmoji::unicode("👍");
    let blob = ReactionEmoji::custom(EmojiId::new(5), Some("blob".into()));
    let change = |emoji: &ReactionEmoji, user: u64, burst: bool, me: bool| ReactionChange {
        channel_id: c(10),
        message_id: id,
        guild_id: Some(g(1)),
        user_id: u(user),
        emoji: emoji.clone(),
        burst,
        by_current_user: me,
    };
    store
        .apply(&[
            Mutation::AddReaction(change(&thumbs, 1, false, false)),
            Mutation::AddReaction(change(&thumbs, 99, false, true)),
            Mutation::AddReaction(change(&thumbs, 2, true, false)),
            Mutation::AddReaction(change(&blob, 1, false, false)),
        ])
        .await?;
    let m = store.message(id).await?.ok_or(Error::Closed)?;
    let r = m.reaction(&thumbs).ok_or(Error::Closed)?;
    ensure_eq!(
        (r.count, r.count_details.normal, r.count_details.burst, r.me),
        (3, 2, 1, true)
    );
    ensure_eq!(m.reaction(&blob).map(|r| r.count), Some(1));

    store
        .apply(&[Mutation::RemoveReaction(change(&thumbs, 99, false, true))])
        .await?;
    let m = store.message(id).await?.ok_or(Error::Closed)?;
    let r = m.reaction(&thumbs).ok_or(Error::Closed)?;
    ensure_eq!((r.count, r.me), (2, false));

    store
        .apply(&[Mutation::RemoveEmojiReactions {
            channel_id: c(10),
            message_id: id,
            emoji: thumbs.clone(),
        }])
        .await?;
    let m = store.message(id).await?.ok_or(Error::Closed)?;
    ensure!(m.reaction(&thumbs).is_none(), "emoji reactions left");
    ensure!(
        m.reaction(&blob).is_some(),
        "another emoji's reactions were removed"
    );

    store
        .apply(&[Mutation::RemoveAllReactions {
            channel_id: c(10),
            message_id: id,
        }])
        .await?;
    ensure!(
        store
            .message(id)
            .await?
            .ok_or(Error::Closed)?
            .reactions
            .is_empty(),
        "reactions left"
    );

    // Reactions on a message the store does not have change nothing.
    let missing = message_id_aged(Duration::from_secs(60), 9);
    store
        .apply(&[Mutation::AddReaction(ReactionChange {
            message_id: missing,
            ..change(&thumbs, 1, false, false)
        })])
        .await?;
    ensure!(
        store.message(missing).await?.is_none(),
        "a reaction created a message"
    );
    Ok(())
}

async fn member_chunks_and_user_guilds(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let chunk: Vec<Record> = (1..=250)
        .flat_map(|i| [Record::from(fx::member(1, i, &[])), fx::user(i).into()])
        .collect();
    store.apply(&[Mutation::UpsertMany(chunk)]).await?;
    store
        .apply(&[Mutation::UpsertMany(vec![
            fx::member(3, 5, &[]).into(),
            fx::member(2, 5, &[]).into(),
        ])])
        .await?;
    let all = store.guild_members(g(1), None, 1000).await?;
    ensure_eq!(all.len(), 250);
    ensure_eq!(
        store.user(u(250)).await?.map(|u| u.username),
        Some("user250".to_owned())
    );
    ensure_eq!(store.user_guilds(u(5)).await?, vec![g(1), g(2), g(3)]);
    ensure_eq!(store.user_guilds(u(6)).await?, vec![g(1)]);
    ensure!(
        store.user_guilds(u(999)).await?.is_empty(),
        "unknown user has guilds"
    );
    store
        .apply(&[Mutation::Delete(EntityKey::Member(g(2), u(5)))])
        .await?;
    ensure_eq!(store.user_guilds(u(5)).await?, vec![g(1), g(3)]);
    Ok(())
}

async fn replacing_emojis_and_stickers(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    store
        .apply(&ups::<Record>([
            fx::emoji(1, 1).into(),
            fx::emoji(2, 1).into(),
            fx::emoji(3, 2).into(),
            fx::sticker(1, 1).into(),
            fx::sticker(3, 2).into(),
        ]))
        .await?;
    let renamed = Emoji {
        name: Some("renamed".into()),
        ..fx::emoji(2, 1)
    };
    // Guild ids in the set are ignored: the set belongs to the guild named.
    let foreign = Emoji {
        guild_id: g(9),
        ..fx::emoji(4, 1)
    };
    store
        .apply(&[
            Mutation::ReplaceGuildEmojis {
                guild_id: g(1),
                emojis: vec![renamed.clone(), foreign],
            },
            Mutation::ReplaceGuildStickers {
                guild_id: g(1),
                stickers: vec![Sticker {
                    guild_id: None,
                    ..fx::sticker(2, 1)
                }],
            },
        ])
        .await?;
    let emojis = store.guild_emojis(g(1)).await?;
    ensure_eq!(
        ids(&emojis, |e| e.id),
        vec![EmojiId::new(2), EmojiId::new(4)]
    );
    ensure_eq!(emojis[0].name.as_deref(), Some("renamed"));
    ensure_eq!(emojis[1].guild_id, g(1));
    ensure!(
        store.emoji(EmojiId::new(1)).await?.is_none(),
        "replaced emoji left"
    );
    ensure_eq!(
        ids(&store.guild_emojis(g(2)).await?, |e| e.id),
        vec![EmojiId::new(3)]
    );
    let stickers = store.guild_stickers(g(1)).await?;
    ensure_eq!(
        ids(&stickers, |s| (s.id, s.guild_id)),
        vec![(StickerId::new(2), Some(g(1)))]
    );
    ensure_eq!(store.guild_stickers(g(2)).await?.len(), 1);
    store
        .apply(&[Mutation::ReplaceGuildEmojis {
            guild_id: g(1),
            emojis: vec![],
        }])
        .await?;
    ensure!(
        store.guild_emojis(g(1)).await?.is_empty(),
        "empty set left emojis"
    );
    Ok(())
}

async fn trimming_keeps_the_newest_messages(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let ids_: Vec<MessageId> = (0..20)
        .map(|i| message_id_aged(Duration::from_secs(60), i))
        .collect();
    let other = message_id_aged(Duration::from_secs(600), 0);
    store
        .apply(&ups(ids_
            .iter()
            .map(|id| fx::message(*id, 10, 1))
            .chain([fx::message(other, 11, 1)])))
        .await?;
    store
        .apply(&[Mutation::TrimChannelMessages {
            channel_id: c(10),
            keep: 5,
        }])
        .await?;
    let page = store
        .channel_messages(c(10), MessagePage::Latest, 100)
        .await?;
    let newest: Vec<MessageId> = ids_.iter().rev().take(5).copied().collect();
    ensure_eq!(ids(&page, |m| m.id), newest);
    ensure!(
        store.message(ids_[0]).await?.is_none(),
        "trimmed message still readable by id"
    );
    ensure!(
        store.message(other).await?.is_some(),
        "another channel was trimmed"
    );
    store
        .apply(&[Mutation::TrimChannelMessages {
            channel_id: c(10),
            keep: 10,
        }])
        .await?;
    ensure_eq!(
        store
            .channel_messages(c(10), MessagePage::Latest, 100)
            .await?
            .len(),
        5
    );
    store
        .apply(&[Mutation::TrimChannelMessages {
            channel_id: c(10),
            keep: 0,
        }])
        .await?;
    ensure!(
        store
            .channel_messages(c(10), MessagePage::Latest, 100)
            .await?
            .is_empty(),
        "keep 0 left messages"
    );
    Ok(())
}

async fn pruning_removes_old_messages(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let old = message_id_aged(Duration::from_secs(7200), 0);
    let fresh = message_id_aged(Duration::from_secs(60), 0);
    let old_dm = message_id_aged(Duration::from_secs(7200), 1);
    store
        .apply(&ups([
            fx::message(old, 10, 1),
            fx::message(fresh, 10, 1),
            fx::message(old_dm, 5, 0),
        ]))
        .await?;
    let cutoff = message_id_aged(Duration::from_secs(3600), 0);
    store
        .apply(&[Mutation::PruneMessages { before: cutoff }])
        .await?;
    ensure!(store.message(old).await?.is_none(), "old message left");
    ensure!(
        store.message(old_dm).await?.is_none(),
        "old DM message left"
    );
    ensure!(
        store.message(fresh).await?.is_some(),
        "fresh message pruned"
    );
    ensure_eq!(
        ids(
            &store
                .channel_messages(c(10), MessagePage::Latest, 10)
                .await?,
            |m| m.id
        ),
        vec![fresh]
    );
    Ok(())
}

async fn message_pages(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    // 30 messages, ids ascending with age descending; a second channel interleaved.
    let ids_: Vec<MessageId> = (0..30)
        .map(|i| message_id_aged(Duration::from_secs(3000 - i * 10), 0))
        .collect();
    let noise: Vec<MessageId> = (0..30)
        .map(|i| message_id_aged(Duration::from_secs(3000 - i * 10), 1))
        .collect();
    store
        .apply(&ups(ids_
            .iter()
            .map(|id| fx::message(*id, 10, 1))
            .chain(noise.iter().map(|id| fx::message(*id, 11, 1)))))
        .await?;
    let page = |p: MessagePage, limit: usize| {
        let store = Arc::clone(&store);
        async move {
            store
                .channel_messages(c(10), p, limit)
                .await
                .map(|v| ids(&v, |m| m.id))
        }
    };
    let rev = |from: usize, to: usize| -> Vec<MessageId> {
        ids_[from..to].iter().rev().copied().collect()
    };

    ensure_eq!(page(MessagePage::Latest, 5).await?, rev(25, 30));
    ensure_eq!(page(MessagePage::Latest, 100).await?, rev(0, 30));
    ensure_eq!(page(MessagePage::Latest, 0).await?, Vec::<MessageId>::new());
    ensure_eq!(page(MessagePage::Before(ids_[10]), 5).await?, rev(5, 10));
    ensure_eq!(page(MessagePage::Before(ids_[3]), 5).await?, rev(0, 3));
    ensure_eq!(
        page(MessagePage::Before(ids_[0]), 5).await?,
        Vec::<MessageId>::new()
    );
    ensure_eq!(page(MessagePage::After(ids_[10]), 5).await?, rev(11, 16));
    ensure_eq!(page(MessagePage::After(ids_[27]), 5).await?, rev(28, 30));
    ensure_eq!(
        page(MessagePage::After(ids_[29]), 5).await?,
        Vec::<MessageId>::new()
    );
    ensure_eq!(page(MessagePage::Around(ids_[10]), 5).await?, rev(8, 13));
    ensure_eq!(page(MessagePage::Around(ids_[10]), 4).await?, rev(9, 13));
    ensure_eq!(page(MessagePage::Around(ids_[29]), 5).await?, rev(27, 30));
    ensure_eq!(page(MessagePage::Around(ids_[0]), 5).await?, rev(0, 3));
    ensure_eq!(page(MessagePage::Around(ids_[10]), 1).await?, rev(10, 11));
    // Anchors that are not stored messages still page by id.
    let between = MessageId::new(ids_[10].get() + 2);
    ensure!(
        !ids_.contains(&between) && !noise.contains(&between),
        "fixture ids collide"
    );
    ensure_eq!(page(MessagePage::Before(between), 3).await?, rev(8, 11));
    ensure_eq!(page(MessagePage::After(between), 3).await?, rev(11, 14));
    ensure_eq!(page(MessagePage::Around(between), 4).await?, rev(9, 13));
    ensure_eq!(
        page(MessagePage::Before(MessageId::new(u64::MAX)), 2).await?,
        rev(28, 30)
    );
    ensure_eq!(
        page(MessagePage::After(MessageId::new(0)), 2).await?,
        rev(0, 2)
    );
    ensure!(
        store
            .channel_messages(c(12), MessagePage::Latest, 10)
            .await?
            .is_empty(),
        "empty channel has messages"
    );
    Ok(())
}

async fn member_pages(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let users: Vec<u64> = (1..=25).map(|i| i * 1_000_000_007).collect();
    store
        .apply(&ups(users
            .iter()
            .map(|id| fx::member(1, *id, &[]))
            .chain([fx::member(2, 5, &[]), fx::member(0, 3, &[])])))
        .await?;
    let page = |after: Option<u64>, limit: usize| {
        let store = Arc::clone(&store);
        async move {
            store
                .guild_members(g(1), after.map(u), limit)
                .await
                .map(|v| ids(&v, |m| m.user_id.get()))
        }
    };
    ensure_eq!(page(None, 10).await?, users[..10].to_vec());
    ensure_eq!(page(Some(users[9]), 10).await?, users[10..20].to_vec());
    ensure_eq!(page(Some(users[19]), 10).await?, users[20..].to_vec());
    ensure_eq!(page(Some(users[24]), 10).await?, Vec::<u64>::new());
    ensure_eq!(page(None, 0).await?, Vec::<u64>::new());
    ensure_eq!(page(None, 1000).await?, users.clone());
    ensure_eq!(page(Some(users[3] + 1), 2).await?, users[4..6].to_vec());
    ensure_eq!(page(Some(0), 1).await?, users[..1].to_vec());
    ensure!(
        store.guild_members(g(9), None, 10).await?.is_empty(),
        "unknown guild has members"
    );
    Ok(())
}

async fn guild_lists_are_scoped_and_sorted(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    // Written in descending order; every list comes back ascending.
    let mut records: Vec<Record> = Vec::new();
    for i in (1..=3).rev() {
        for guild in [1, 2] {
            let base = guild * 1000 + i * 10;
            records.push(fx::channel(base, guild).into());
            records.push(fx::thread(base + 1, guild, base).into());
            records.push(fx::role(base + 2, guild).into());
            records.push(fx::emoji(base + 3, guild).into());
            records.push(fx::sticker(base + 4, guild).into());
            records.push(fx::voice_state(guild, base + 5, base).into());
            records.push(fx::presence(guild, base + 6).into());
            records.push(fx::stage_instance(base + 7, guild, base).into());
            records.push(fx::scheduled_event(base + 8, guild).into());
            records.push(fx::thread_member(guild * 1000 + 11, base + 9).into());
        }
    }
    records.push(
        Channel {
            kind: ChannelKind::Voice,
            ..fx::channel(1005, 1)
        }
        .into(),
    );
    records.push(
        Channel {
            kind: ChannelKind::Forum,
            ..fx::channel(1006, 1)
        }
        .into(),
    );
    records.push(
        Channel {
            kind: ChannelKind::PrivateThread,
            ..fx::thread(1007, 1, 1006)
        }
        .into(),
    );
    records.push(
        Channel {
            kind: ChannelKind::AnnouncementThread,
            ..fx::thread(1008, 1, 1005)
        }
        .into(),
    );
    store.apply(&ups(records)).await?;
    let expect = |offset: u64| -> Vec<u64> { (1..=3).map(|i| 1000 + i * 10 + offset).collect() };

    let channels = store.guild_channels(g(1)).await?;
    ensure_eq!(
        ids(&channels, |c| c.id.get()),
        vec![1005, 1006, 1010, 1020, 1030]
    );
    ensure!(
        channels.iter().all(|c| !c.is_thread()),
        "threads among channels"
    );
    let threads = store.guild_threads(g(1)).await?;
    ensure_eq!(
        ids(&threads, |c| c.id.get()),
        vec![1007, 1008, 1011, 1021, 1031]
    );
    ensure_eq!(
        ids(&store.guild_roles(g(1)).await?, |r| r.id.get()),
        expect(2)
    );
    ensure_eq!(
        ids(&store.guild_emojis(g(1)).await?, |e| e.id.get()),
        expect(3)
    );
    ensure_eq!(
        ids(&store.guild_stickers(g(1)).await?, |s| s.id.get()),
        expect(4)
    );
    ensure_eq!(
        ids(&store.guild_voice_states(g(1)).await?, |v| v.user_id.get()),
        expect(5)
    );
    ensure_eq!(
        ids(&store.guild_presences(g(1)).await?, |p| p.user_id.get()),
        expect(6)
    );
    ensure_eq!(
        ids(&store.guild_stage_instances(g(1)).await?, |s| s.id.get()),
        expect(7)
    );
    ensure_eq!(
        ids(&store.guild_scheduled_events(g(1)).await?, |s| s.id.get()),
        expect(8)
    );
    ensure_eq!(
        ids(&store.thread_members(c(1011)).await?, |t| t.user_id.get()),
        expect(9)
    );
    ensure_eq!(store.guild_roles(g(2)).await?.len(), 3);
    ensure!(
        store.guild_roles(g(3)).await?.is_empty(),
        "unknown guild has roles"
    );
    ensure!(
        store
            .stage_instance(StageInstanceId::new(1017))
            .await?
            .is_some(),
        "stage instance by id"
    );
    ensure!(
        store
            .scheduled_event(ScheduledEventId::new(1018))
            .await?
            .is_some(),
        "scheduled event by id"
    );
    Ok(())
}

async fn dm_channels_and_messages(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let dm = Channel {
        kind: ChannelKind::Dm,
        guild_id: None,
        recipients: vec![fx::user(20)],
        ..fx::channel(500, 0)
    };
    let id = message_id_aged(Duration::from_secs(60), 0);
    store
        .apply(&ups::<Record>([
            dm.clone().into(),
            fx::message(id, 500, 0).into(),
        ]))
        .await?;
    ensure_eq!(store.channel(c(500)).await?, Some(dm));
    let page = store
        .channel_messages(c(500), MessagePage::Latest, 10)
        .await?;
    ensure_eq!(ids(&page, |m| (m.id, m.guild_id)), vec![(id, None)]);
    store
        .apply(&[Mutation::Delete(EntityKey::Channel(c(500)))])
        .await?;
    ensure!(
        store.message(id).await?.is_none(),
        "DM message left after its channel was deleted"
    );
    Ok(())
}

async fn counts(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    ensure_eq!(store.counts().await?, Counts::default());
    two_guilds(&*store).await?;
    store.apply(&ups([fx::current_user(99)])).await?;
    let expected = Counts {
        guilds: 2,
        channels: 2,
        threads: 2,
        messages: 4,
        users: 1,
        members: 2,
        roles: 2,
        emojis: 2,
        stickers: 2,
        voice_states: 2,
        presences: 2,
        stage_instances: 2,
        scheduled_events: 2,
        thread_members: 2,
    };
    ensure_eq!(store.counts().await?, expected);
    Ok(())
}

async fn reconciling_removes_what_is_gone(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    let (mine, _) = two_guilds(&*store).await?;
    store
        .apply(&ups::<Record>([
            fx::channel(12, 1).into(),
            fx::role(101, 1).into(),
            fx::member(1, 101, &[100, 101]).into(),
            fx::member(1, 102, &[]).into(),
        ]))
        .await?;
    store
        .apply(&[
            // Channel 10 is gone (its thread 11 with it); 12 stays. Threads are never listed.
            Mutation::RetainGuildChannels {
                guild_id: g(1),
                keep: vec![c(12)],
            },
            // Role 100 is gone: members lose it.
            Mutation::RetainGuildRoles {
                guild_id: g(1),
                keep: vec![RoleId::new(101)],
            },
            // A complete member list without member 102.
            Mutation::RetainGuildMembers {
                guild_id: g(1),
                keep: vec![u(100), u(101)],
            },
        ])
        .await?;
    ensure_eq!(
        ids(&store.guild_channels(g(1)).await?, |c| c.id),
        vec![c(12)]
    );
    ensure!(
        store.guild_threads(g(1)).await?.is_empty(),
        "the removed channel's thread stayed"
    );
    ensure!(
        store.message(mine[0]).await?.is_none(),
        "the removed channel's message stayed"
    );
    ensure_eq!(
        ids(&store.guild_roles(g(1)).await?, |r| r.id),
        vec![RoleId::new(101)]
    );
    ensure_eq!(
        store.member(g(1), u(101)).await?.map(|m| m.roles),
        Some(vec![RoleId::new(101)])
    );
    ensure!(
        store.member(g(1), u(102)).await?.is_none(),
        "a member missing from the complete list stayed"
    );
    ensure!(
        store.member(g(1), u(100)).await?.is_some(),
        "a listed member was removed"
    );
    ensure_eq!(store.guild_channels(g(2)).await?.len(), 1);
    ensure_eq!(store.guild_roles(g(2)).await?.len(), 1);

    // Two shards: guild ids whose shard (id >> 22) % 2 differs.
    let (even, odd, gone_odd) = (
        GuildId::new(2 << 22),
        GuildId::new(3 << 22),
        GuildId::new(5 << 22),
    );
    store
        .apply(&ups::<Record>([
            fx::guild(even.get()).into(),
            fx::guild(odd.get()).into(),
            fx::guild(gone_odd.get()).into(),
            fx::member(gone_odd.get(), 7, &[]).into(),
        ]))
        .await?;
    ensure_eq!(crate::shard_of(odd, 2), 1);
    store
        .apply(&[Mutation::RetainShardGuilds {
            shard_id: 1,
            shard_count: 2,
            keep: vec![odd],
        }])
        .await?;
    ensure!(
        store.guild(gone_odd).await?.is_none(),
        "a guild missing from READY stayed"
    );
    ensure!(
        store.member(gone_odd, u(7)).await?.is_none(),
        "the left guild's member stayed"
    );
    ensure!(
        store.guild(odd).await?.is_some(),
        "a guild in READY was removed"
    );
    ensure!(
        store.guild(even).await?.is_some(),
        "another shard's guild was touched"
    );
    ensure!(
        store.guild(g(1)).await?.is_some() == (crate::shard_of(g(1), 2) != 1),
        "guild 1 handled by its shard"
    );
    Ok(())
}

async fn data_survives_reopening(f: &dyn StoreFactory, n: &str) -> Outcome {
    let records = one_of_each();
    {
        let store = open(f, n).await?;
        store.apply(&ups(records.clone())).await?;
    }
    let store = open(f, n).await?;
    for record in records {
        let back = read_back(&*store, record.key()).await?;
        ensure_eq!(back, Some(record));
    }
    Ok(())
}

/// Hooks that count their runs and leave a mark in the store.
fn counting_hooks(runs: &Arc<AtomicU32>, versions: &[u32]) -> Migrations {
    let mut migrations = Migrations::new();
    for &version in versions {
        let runs = Arc::clone(runs);
        migrations = migrations.hook(version, format!("mark-{version}"), move |store| {
            let runs = Arc::clone(&runs);
            Box::pin(async move {
                runs.fetch_add(1, Ordering::SeqCst);
                let order = store
                    .guild(GuildId::new(1))
                    .await?
                    .map_or(0, |g| g.name.len());
                store
                    .apply(&[Mutation::upsert(Guild {
                        id: GuildId::new(1),
                        name: "x".repeat(order + 1),
                        ..Default::default()
                    })])
                    .await
            })
        });
    }
    migrations
}

async fn migration_hooks_run_once_in_order(f: &dyn StoreFactory, n: &str) -> Outcome {
    let runs = Arc::new(AtomicU32::new(0));
    // Registered out of order; they run by version.
    let first = counting_hooks(&runs, &[2, 1]);
    {
        let store = f.open(n, &first).await?;
        let applied = store.applied_hooks().await?;
        ensure_eq!(ids(&applied, |h| h.version), vec![1, 2]);
        ensure_eq!(applied[0].name, "mark-1");
        ensure_eq!(
            store.guild(g(1)).await?.map(|g| g.name),
            Some("xx".to_owned())
        );
    }
    ensure_eq!(runs.load(Ordering::SeqCst), 2);
    {
        let store = f.open(n, &first).await?;
        ensure_eq!(store.applied_hooks().await?.len(), 2);
    }
    ensure_eq!(runs.load(Ordering::SeqCst), 2);
    // A new hook runs alone on the next open.
    let store = f.open(n, &counting_hooks(&runs, &[1, 2, 3])).await?;
    ensure_eq!(runs.load(Ordering::SeqCst), 3);
    ensure_eq!(
        store.guild(g(1)).await?.map(|g| g.name),
        Some("xxx".to_owned())
    );
    ensure_eq!(
        ids(&store.applied_hooks().await?, |h| h.version),
        vec![1, 2, 3]
    );
    Ok(())
}

async fn a_failed_hook_is_not_recorded(f: &dyn StoreFactory, n: &str) -> Outcome {
    let failing = Migrations::new().hook(1, "fails", |_store| {
        Box::pin(async {
            Err(Error::InvalidMutation {
                key: EntityKey::CurrentUser,
                reason: "deliberate".into(),
            })
        })
    });
    match f.open(n, &failing).await {
        Err(Error::Hook { version: 1, .. }) => {}
        Err(other) => return Err(super::Failure(format!("expected Error::Hook, got {other}"))),
        Ok(_) => {
            return Err(super::Failure(
                "a failing hook did not fail the open".into(),
            ));
        }
    }
    let runs = Arc::new(AtomicU32::new(0));
    let store = f.open(n, &counting_hooks(&runs, &[1])).await?;
    ensure_eq!(runs.load(Ordering::SeqCst), 1);
    ensure_eq!(store.applied_hooks().await?.len(), 1);
    Ok(())
}

async fn invalid_or_newer_hooks_are_refused(f: &dyn StoreFactory, n: &str) -> Outcome {
    let runs = Arc::new(AtomicU32::new(0));
    let duplicate = counting_hooks(&runs, &[1, 1]);
    ensure!(
        matches!(
            f.open(n, &duplicate).await,
            Err(Error::Config(crate::ConfigError::DuplicateHook(1)))
        ),
        "duplicate hook versions were accepted"
    );
    let zero = counting_hooks(&runs, &[0]);
    ensure!(
        matches!(
            f.open(n, &zero).await,
            Err(Error::Config(crate::ConfigError::HookVersionZero))
        ),
        "hook version 0 was accepted"
    );
    ensure_eq!(runs.load(Ordering::SeqCst), 0);
    drop(f.open(n, &counting_hooks(&runs, &[1, 2])).await?);
    ensure_eq!(runs.load(Ordering::SeqCst), 2);
    // Older code (knowing only hook 1) must not open a store newer code migrated.
    match f.open(n, &counting_hooks(&runs, &[1])).await {
        Err(Error::HookTooNew {
            found: 2,
            registered: 1,
        }) => {}
        Err(other) => return Err(super::Failure(format!("expected HookTooNew, got {other}"))),
        Ok(_) => {
            return Err(super::Failure(
                "a store with a newer hook was opened".into(),
            ));
        }
    }
    ensure_eq!(runs.load(Ordering::SeqCst), 2);
    let store = f.open(n, &counting_hooks(&runs, &[1, 2])).await?;
    ensure_eq!(store.applied_hooks().await?.len(), 2);
    Ok(())
}

async fn a_newer_schema_is_refused_and_left_untouched(f: &dyn StoreFactory, n: &str) -> Outcome {
    let id = message_id_aged(Duration::from_secs(60), 0);
    {
        let store = open(f, n).await?;
        store.apply(&ups([fx::message(id, 10, 1)])).await?;
    }
    f.make_schema_newer(n).await?;
    let runs = Arc::new(AtomicU32::new(0));
    for _ in 0..2 {
        match f.open(n, &counting_hooks(&runs, &[1])).await {
            Err(Error::SchemaTooNew { found, supported }) => {
                ensure!(
                    found > supported,
                    "found {found} is not newer than {supported}"
                );
            }
            Err(other) => {
                return Err(super::Failure(format!(
                    "expected SchemaTooNew, got {other}"
                )));
            }
            Ok(_) => {
                return Err(super::Failure(
                    "a store with a newer schema was opened".into(),
                ));
            }
        }
    }
    ensure_eq!(runs.load(Ordering::SeqCst), 0);
    Ok(())
}
