//! Checks of a [`Cache`] over the store: rulesets, the message cap and age
//! limit, read-your-writes before commit, flush and shutdown.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::fixtures::{self as fx, message_id_aged};
use super::{Check, Outcome, StoreFactory, ensure, ensure_eq};
use crate::entity::EntityKey;
use crate::{
    Cache, CacheConfig, ChannelId, ContentMode, GuildId, MessageId, MessagePage, Migrations,
    Mutation, Patch, ReactionChange, ReactionEmoji, ReadApi, ResourceKind, RoleId, Ruleset, Store,
    UserId,
};

pub(super) const CHECKS: &[(&str, Check)] = &[
    ("rulesets_filter_before_anything_is_stored", |f, n| {
        Box::pin(rulesets_filter_before_anything_is_stored(f, n))
    }),
    ("the_message_cap_holds_per_channel", |f, n| {
        Box::pin(the_message_cap_holds_per_channel(f, n))
    }),
    ("the_age_limit_drops_and_prunes", |f, n| {
        Box::pin(the_age_limit_drops_and_prunes(f, n))
    }),
    ("reads_see_queued_writes", |f, n| {
        Box::pin(reads_see_queued_writes(f, n))
    }),
    ("flush_and_shutdown_make_everything_durable", |f, n| {
        Box::pin(flush_and_shutdown_make_everything_durable(f, n))
    }),
    (
        "a_record_nested_too_deep_is_refused_and_its_channel_stays_readable",
        |f, n| Box::pin(a_record_nested_too_deep_is_refused_and_its_channel_stays_readable(f, n)),
    ),
];

/// A message in channel 10 whose unknown field nests `levels` deep.
fn deep_message(id: u64, levels: usize) -> crate::model::Message {
    let mut value = json!(1);
    for _ in 0..levels {
        value = json!({ "a": value });
    }
    let mut message = fx::message(MessageId::new(id), 10, 1);
    message.extra.insert("deep".into(), value);
    message
}

async fn a_record_nested_too_deep_is_refused_and_its_channel_stays_readable(
    f: &dyn StoreFactory,
    n: &str,
) -> Outcome {
    let (cache, store) = cache(f, n, Ruleset::default(), CacheConfig::default()).await?;
    cache
        .enqueue_all([
            Mutation::upsert(deep_message(1 << 40, 20)),
            // Parsed from JSON it would be within serde_json's 128 levels;
            // stored, it could never be read back.
            Mutation::upsert(deep_message((1 << 40) + 1, 127)),
            Mutation::upsert(deep_message((1 << 40) + 2, 1)),
        ])
        .await?;
    cache.flush().await?;
    let page = store
        .channel_messages(ChannelId::new(10), MessagePage::Latest, 50)
        .await?;
    let ids: Vec<u64> = page.iter().map(|m| m.id.get()).collect();
    ensure_eq!(ids, vec![(1 << 40) + 2, 1 << 40]);
    ensure!(
        store
            .message(MessageId::new((1 << 40) + 1))
            .await?
            .is_none(),
        "the refused message was stored"
    );
    let letters = cache.dead_letters();
    ensure_eq!(letters.len(), 1);
    ensure!(
        letters[0].error.contains("levels deep"),
        "{}",
        letters[0].error
    );
    ensure_eq!(cache.stats().rejected, 1);
    cache.shutdown().await?;
    Ok(())
}

/// A cache whose batches wait (so queued writes stay queued) unless flushed.
fn slow_config() -> CacheConfig {
    CacheConfig {
        batch_size: 100_000,
        queue_capacity: 100_000,
        batch_delay: crate::MAX_BATCH_DELAY,
        ..Default::default()
    }
}

async fn cache(
    f: &dyn StoreFactory,
    n: &str,
    rules: Ruleset,
    config: CacheConfig,
) -> Result<(Cache, Arc<dyn Store>), crate::Error> {
    let store = f.open(n, &Migrations::new()).await?;
    Ok((Cache::from_arc(Arc::clone(&store), rules, config)?, store))
}

async fn rulesets_filter_before_anything_is_stored(f: &dyn StoreFactory, n: &str) -> Outcome {
    let rules = Ruleset::builder()
        .resources(ResourceKind::default().difference(ResourceKind::STICKERS))
        .deny_guild(GuildId::new(2))
        .guild_filter(|g| g.get() != 3)
        .content(ContentMode::Off)
        .build()?;
    let (cache, store) = cache(f, n, rules, CacheConfig::default()).await?;
    let id = message_id_aged(Duration::from_secs(60), 0);
    let mut message = fx::message(id, 10, 1);
    message.attachments.push(Default::default());
    cache
        .enqueue_all([
            Mutation::upsert(fx::guild(1)),
            Mutation::upsert(fx::guild(2)),
            Mutation::upsert(fx::guild(3)),
            Mutation::upsert(fx::member(2, 20, &[])),
            Mutation::upsert(message),
            Mutation::upsert(fx::presence(1, 20)),
            Mutation::upsert(fx::sticker(5, 1)),
            Mutation::upsert(fx::user(20)),
            Mutation::Patch(Patch::message(
                ChannelId::new(10),
                id,
                json!({"content": "edit", "pinned": true}),
            )?),
        ])
        .await?;
    cache.flush().await?;
    ensure_eq!(store.guild_ids().await?, vec![GuildId::new(1)]);
    ensure!(
        store
            .member(GuildId::new(2), UserId::new(20))
            .await?
            .is_none(),
        "denied guild's member stored"
    );
    ensure!(
        store
            .presence(GuildId::new(1), UserId::new(20))
            .await?
            .is_none(),
        "presences are off by default"
    );
    ensure!(
        store.sticker(crate::StickerId::new(5)).await?.is_none(),
        "a kind that is off was stored"
    );
    ensure!(
        store.user(UserId::new(20)).await?.is_some(),
        "users are global and cached"
    );
    let stored = store.message(id).await?.ok_or(crate::Error::Closed)?;
    ensure_eq!(stored.content, "");
    ensure!(
        stored.attachments.is_empty(),
        "attachments kept in content-off mode"
    );
    ensure!(stored.pinned, "metadata from the patch lost");
    ensure_eq!(stored.author.id, UserId::new(7));
    let stats = cache.stats();
    ensure_eq!(stats.filtered, 5);
    cache.shutdown().await?;
    Ok(())
}

async fn the_message_cap_holds_per_channel(f: &dyn StoreFactory, n: &str) -> Outcome {
    let rules = Ruleset::builder().message_cap(5).build()?;
    let config = CacheConfig {
        batch_size: 7,
        queue_capacity: 7,
        ..Default::default()
    };
    let (cache, store) = cache(f, n, rules, config).await?;
    let ids: Vec<MessageId> = (0..20)
        .map(|i| message_id_aged(Duration::from_secs(600), i))
        .collect();
    for id in &ids {
        cache
            .enqueue(Mutation::upsert(fx::message(*id, 10, 1)))
            .await?;
    }
    for i in 0..3 {
        cache
            .enqueue(Mutation::upsert(fx::message(
                message_id_aged(Duration::from_secs(60), i),
                11,
                1,
            )))
            .await?;
    }
    cache.flush().await?;
    let page = store
        .channel_messages(ChannelId::new(10), MessagePage::Latest, 100)
        .await?;
    let newest: Vec<MessageId> = ids.iter().rev().take(5).copied().collect();
    ensure_eq!(page.iter().map(|m| m.id).collect::<Vec<_>>(), newest);
    ensure_eq!(
        store
            .channel_messages(ChannelId::new(11), MessagePage::Latest, 100)
            .await?
            .len(),
        3
    );
    cache.shutdown().await?;

    let (cache, store) = self::cache(
        f,
        &format!("{n}-zero"),
        Ruleset::builder().message_cap(0).build()?,
        CacheConfig::default(),
    )
    .await?;
    cache
        .enqueue(Mutation::upsert(fx::message(ids[0], 10, 1)))
        .await?;
    cache.flush().await?;
    ensure!(
        store.message(ids[0]).await?.is_none(),
        "cap 0 stored a message"
    );
    cache.shutdown().await?;
    Ok(())
}

async fn the_age_limit_drops_and_prunes(f: &dyn StoreFactory, n: &str) -> Outcome {
    let old = message_id_aged(Duration::from_secs(7200), 0);
    let fresh = message_id_aged(Duration::from_secs(60), 0);
    {
        // Stored under an earlier ruleset without an age limit.
        let store = f.open(n, &Migrations::new()).await?;
        store
            .apply(&[Mutation::upsert(fx::message(old, 10, 1))])
            .await?;
    }
    let rules = Ruleset::builder()
        .message_max_age(Duration::from_secs(3600))
        .build()?;
    let (cache, store) = cache(f, n, rules, CacheConfig::default()).await?;
    // Hidden from reads at once, even before the prune commits.
    ensure!(
        cache.message(old).await?.is_none(),
        "an expired message was readable"
    );
    let old_too = message_id_aged(Duration::from_secs(7200), 1);
    cache
        .enqueue_all([
            Mutation::upsert(fx::message(old_too, 10, 1)),
            Mutation::upsert(fx::message(fresh, 10, 1)),
        ])
        .await?;
    // The pruner queues a prune when the cache starts; wait for it to land.
    let mut pruned = false;
    for _ in 0..200 {
        cache.flush().await?;
        if store.message(old).await?.is_none() {
            pruned = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    ensure!(pruned, "the expired message was never pruned");
    ensure!(
        store.message(old_too).await?.is_none(),
        "an expired message was stored"
    );
    ensure!(
        store.message(fresh).await?.is_some(),
        "a fresh message was dropped"
    );
    cache.shutdown().await?;
    Ok(())
}

async fn reads_see_queued_writes(f: &dyn StoreFactory, n: &str) -> Outcome {
    let (cache, store) = cache(f, n, Ruleset::default(), slow_config()).await?;
    let g = GuildId::new(1);
    let ids: Vec<MessageId> = (0..10)
        .map(|i| message_id_aged(Duration::from_secs(600), i))
        .collect();
    // Committed state: a guild, a channel with 10 messages, 5 members, a role.
    cache
        .enqueue_all(
            [
                Mutation::upsert(fx::guild(1)),
                Mutation::upsert(fx::channel(10, 1)),
                Mutation::upsert(fx::role(30, 1)),
            ]
            .into_iter()
            .chain(
                ids.iter()
                    .map(|id| Mutation::upsert(fx::message(*id, 10, 1))),
            )
            .chain((1..=5).map(|u| Mutation::upsert(fx::member(1, u, &[30])))),
        )
        .await?;
    cache.flush().await?;

    // Queued, not committed.
    let new_id = message_id_aged(Duration::from_secs(60), 0);
    let thumbs = ReactionEmoji::unicode("👍");
    cache
        .enqueue_all([
            Mutation::Patch(Patch::guild(g, json!({"name": "renamed"}))?),
            Mutation::upsert(fx::message(new_id, 10, 1)),
            Mutation::Delete(EntityKey::Message(ids[9])),
            Mutation::BulkDeleteMessages {
                channel_id: ChannelId::new(10),
                message_ids: vec![ids[8], ids[7]],
            },
            Mutation::Patch(Patch::message(
                ChannelId::new(10),
                ids[6],
                json!({"content": "edited"}),
            )?),
            Mutation::AddReaction(ReactionChange {
                channel_id: ChannelId::new(10),
                message_id: ids[6],
                guild_id: Some(g),
                user_id: UserId::new(3),
                emoji: thumbs.clone(),
                burst: false,
                by_current_user: false,
            }),
            Mutation::Delete(EntityKey::Member(g, UserId::new(1))),
            Mutation::Delete(EntityKey::Member(g, UserId::new(2))),
            Mutation::upsert(fx::member(1, 6, &[30])),
            Mutation::Delete(EntityKey::Role(RoleId::new(30))),
        ])
        .await?;
    ensure!(cache.stats().queued > 0, "writes were committed early");
    ensure_eq!(
        store.guild(g).await?.map(|g| g.name),
        Some("guild 1".to_owned())
    );

    ensure_eq!(
        cache.guild(g).await?.map(|g| g.name),
        Some("renamed".to_owned())
    );
    let page = cache
        .channel_messages(ChannelId::new(10), MessagePage::Latest, 3)
        .await?;
    ensure_eq!(
        page.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![new_id, ids[6], ids[5]]
    );
    ensure_eq!(page[1].content, "edited");
    ensure_eq!(page[1].reaction(&thumbs).map(|r| r.count), Some(1));
    ensure!(
        cache.message(ids[9]).await?.is_none(),
        "a queued delete was not seen"
    );
    let members = cache.guild_members(g, None, 3).await?;
    ensure_eq!(
        members.iter().map(|m| m.user_id.get()).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    ensure!(
        members.iter().all(|m| m.roles.is_empty()),
        "a queued role delete was not seen"
    );
    ensure!(
        cache.role(RoleId::new(30)).await?.is_none(),
        "queued role delete not seen"
    );
    ensure_eq!(cache.user_guilds(UserId::new(6)).await?, vec![g]);
    ensure!(
        cache.user_guilds(UserId::new(1)).await?.is_empty(),
        "queued member delete not seen"
    );
    // Counts answer what is committed, without waiting for the queue.
    cache.flush().await?;
    ensure_eq!(cache.counts().await?.messages, 8);

    // After the commit the store agrees with what the cache showed.
    let reaction = store
        .message(ids[6])
        .await?
        .and_then(|m| m.reaction(&thumbs).map(|r| r.count));
    ensure_eq!(reaction, Some(1));
    ensure_eq!(
        store.guild(g).await?.map(|g| g.name),
        Some("renamed".to_owned())
    );
    cache.shutdown().await?;
    Ok(())
}

async fn flush_and_shutdown_make_everything_durable(f: &dyn StoreFactory, n: &str) -> Outcome {
    let config = CacheConfig {
        batch_size: 64,
        queue_capacity: 256,
        ..Default::default()
    };
    {
        let (cache, store) = cache(f, n, Ruleset::default(), config).await?;
        for u in 1..=300 {
            cache
                .enqueue(Mutation::upsert(fx::member(1, u, &[])))
                .await?;
        }
        cache.flush().await?;
        ensure_eq!(
            store
                .guild_members(GuildId::new(1), None, 1000)
                .await?
                .len(),
            300
        );
        for u in 301..=1000 {
            cache
                .enqueue(Mutation::upsert(fx::member(1, u, &[])))
                .await?;
        }
        cache.shutdown().await?;
        ensure!(
            matches!(
                cache.enqueue(Mutation::upsert(fx::user(1))).await,
                Err(crate::Error::Closed)
            ),
            "enqueue after shutdown accepted"
        );
        let stats = cache.stats();
        ensure_eq!(
            (stats.mutations_committed, stats.rejected, stats.queued),
            (1000, 0, 0)
        );
        ensure!(
            stats.queue_high_water <= 256,
            "queue exceeded its bound: {}",
            stats.queue_high_water
        );
    }
    let store = f.open(n, &Migrations::new()).await?;
    ensure_eq!(
        store
            .guild_members(GuildId::new(1), None, 2000)
            .await?
            .len(),
        1000
    );
    Ok(())
}
