//! Checks of the write semantics' primitives as each engine provides them
//! (see `write::Engine`): scope deletes mixed with writes into the scope,
//! large retains, and batches that read keys they also write.

use std::sync::Arc;

use super::fixtures as fx;
use super::{Check, Outcome, StoreFactory, ensure, ensure_eq};
use crate::entity::{EntityKey, Record};
use crate::model::Member;
use crate::{
    ChannelId, Error, GuildId, MessageId, MessagePage, Migrations, Mutation, Patch, ReactionChange,
    ReactionEmoji, ReadApi, Store, UserId,
};

pub(super) const CHECKS: &[(&str, Check)] = &[
    ("a_scope_delete_then_writes_into_the_scope", |f, n| {
        Box::pin(a_scope_delete_then_writes_into_the_scope(f, n))
    }),
    ("a_retain_of_a_hundred_thousand_kept_members", |f, n| {
        Box::pin(a_retain_of_a_hundred_thousand_kept_members(f, n))
    }),
    ("a_batch_reads_keys_it_also_writes", |f, n| {
        Box::pin(a_batch_reads_keys_it_also_writes(f, n))
    }),
];

async fn open(factory: &dyn StoreFactory, name: &str) -> Result<Arc<dyn Store>, Error> {
    factory.open(name, &Migrations::new()).await
}

fn mid(n: u64) -> MessageId {
    MessageId::new((1 << 40) + n)
}

async fn a_scope_delete_then_writes_into_the_scope(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    store
        .apply(&[
            Mutation::upsert(fx::guild(1)),
            Mutation::upsert(fx::channel(10, 1)),
            Mutation::upsert(fx::message(mid(1), 10, 1)),
            Mutation::upsert(fx::member(1, 20, &[])),
        ])
        .await?;
    // In one batch: a message written before the channel's delete goes with
    // it, the channel and a message written after it stay; the guild's
    // members go with the guild and a member written after it stays.
    store
        .apply(&[
            Mutation::upsert(fx::message(mid(2), 10, 1)),
            Mutation::Delete(EntityKey::Channel(ChannelId::new(10))),
            Mutation::upsert(fx::channel(10, 1)),
            Mutation::upsert(fx::message(mid(3), 10, 1)),
            Mutation::Delete(EntityKey::Guild(GuildId::new(1))),
            Mutation::upsert(fx::member(1, 21, &[])),
        ])
        .await?;
    let page = store
        .channel_messages(ChannelId::new(10), MessagePage::Latest, 50)
        .await?;
    // The guild delete took channel 10 and its messages a second time.
    ensure!(
        page.is_empty(),
        "messages left after the guild delete: {page:?}"
    );
    ensure!(
        store.channel(ChannelId::new(10)).await?.is_none(),
        "channel kept"
    );
    let members = store.guild_members(GuildId::new(1), None, 100).await?;
    let users: Vec<u64> = members.iter().map(|m| m.user_id.get()).collect();
    ensure_eq!(users, vec![21]);
    // And without the guild delete: the later writes stay.
    store
        .apply(&[
            Mutation::upsert(fx::channel(10, 1)),
            Mutation::upsert(fx::message(mid(4), 10, 1)),
            Mutation::Delete(EntityKey::Channel(ChannelId::new(10))),
            Mutation::upsert(fx::channel(10, 1)),
            Mutation::upsert(fx::message(mid(5), 10, 1)),
        ])
        .await?;
    let page = store
        .channel_messages(ChannelId::new(10), MessagePage::Latest, 50)
        .await?;
    let ids: Vec<MessageId> = page.iter().map(|m| m.id).collect();
    ensure_eq!(ids, vec![mid(5)]);
    Ok(())
}

async fn a_retain_of_a_hundred_thousand_kept_members(f: &dyn StoreFactory, n: &str) -> Outcome {
    const MEMBERS: u64 = 100_000;
    let store = open(f, n).await?;
    let member = |guild: u64, user: u64| {
        Record::Member(Member {
            guild_id: GuildId::new(guild),
            user_id: UserId::new(user),
            ..Default::default()
        })
    };
    store
        .apply(&[
            Mutation::UpsertMany((1..=MEMBERS).map(|u| member(1, u)).collect()),
            Mutation::UpsertMany((1..=10).map(|u| member(2, u)).collect()),
        ])
        .await?;
    // Every fifth user left guild 1.
    let keep: Vec<UserId> = (1..=MEMBERS)
        .filter(|u| u % 5 != 0)
        .map(UserId::new)
        .collect();
    store
        .apply(&[Mutation::RetainGuildMembers {
            guild_id: GuildId::new(1),
            keep,
        }])
        .await?;
    ensure_eq!(store.counts().await?.members, MEMBERS * 4 / 5 + 10);
    ensure!(
        store
            .member(GuildId::new(1), UserId::new(5))
            .await?
            .is_none(),
        "a member not kept is still stored"
    );
    ensure!(
        store
            .member(GuildId::new(1), UserId::new(4))
            .await?
            .is_some(),
        "a kept member is gone"
    );
    ensure!(
        store
            .member(GuildId::new(2), UserId::new(5))
            .await?
            .is_some(),
        "another guild's member is gone"
    );
    Ok(())
}

async fn a_batch_reads_keys_it_also_writes(f: &dyn StoreFactory, n: &str) -> Outcome {
    let store = open(f, n).await?;
    store
        .apply(&[Mutation::upsert(fx::member(1, 20, &[]))])
        .await?;
    let emoji = ReactionEmoji::unicode("👍");
    let reaction = |message: MessageId| {
        Mutation::AddReaction(ReactionChange {
            channel_id: ChannelId::new(10),
            message_id: message,
            guild_id: Some(GuildId::new(1)),
            user_id: UserId::new(20),
            emoji: emoji.clone(),
            burst: false,
            by_current_user: false,
        })
    };
    store
        .apply(&[
            // Written, then read by a patch and a reaction, in one batch.
            Mutation::upsert(fx::message(mid(1), 10, 1)),
            Patch::message(
                ChannelId::new(10),
                mid(1),
                serde_json::json!({"content": "edited"}),
            )?
            .into(),
            reaction(mid(1)),
            reaction(mid(1)),
            // Stored, patched twice, deleted, written again, patched.
            Patch::member(
                GuildId::new(1),
                UserId::new(20),
                serde_json::json!({"nick": "a"}),
            )?
            .into(),
            Patch::member(
                GuildId::new(1),
                UserId::new(20),
                serde_json::json!({"nick": "b"}),
            )?
            .into(),
            Mutation::Delete(EntityKey::Member(GuildId::new(1), UserId::new(20))),
            Mutation::upsert(fx::member(1, 20, &[])),
            Patch::member(
                GuildId::new(1),
                UserId::new(20),
                serde_json::json!({"nick": "c"}),
            )?
            .into(),
            // A reaction to a message the store never had changes nothing.
            reaction(mid(2)),
        ])
        .await?;
    let Some(message) = store.message(mid(1)).await? else {
        return Err(super::Failure("the message is missing".into()));
    };
    ensure_eq!(message.content, "edited");
    ensure_eq!(message.reactions.len(), 1);
    ensure_eq!(message.reactions[0].count, 2);
    ensure!(
        store.message(mid(2)).await?.is_none(),
        "a reaction created a message"
    );
    let Some(member) = store.member(GuildId::new(1), UserId::new(20)).await? else {
        return Err(super::Failure("the member is missing".into()));
    };
    ensure_eq!(member.nick.as_deref(), Some("c"));
    Ok(())
}
