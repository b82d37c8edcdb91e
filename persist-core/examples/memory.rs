//! The main job, for now: a realistic bot session played through the cache
//! into the memory store, then read back through the query API.
//!
//! `cargo run --release -p persist-core --example memory`
//!
//! It opens a store (running an application migration hook), starts a cache
//! with a ruleset, plays guilds, channels, roles, thousands of members and
//! more than 10,000 messages with edits, deletes, bulk deletes, reactions, a
//! role deletion and a guild the bot leaves, then prints what is stored and
//! answers a few queries.

use std::time::{Duration, Instant};

use persist_core::model::{Channel, ChannelKind, Guild, Member, Message, Role, User};
use persist_core::{
    Cache, CacheConfig, ChannelId, EntityKey, GuildId, MemoryStore, MessageId, MessagePage,
    Migrations, Mutation, Patch, ReactionChange, ReactionEmoji, ReadApi, RoleId, Ruleset, UserId,
};
use serde_json::json;

const GUILDS: u64 = 20;
const CHANNELS_PER_GUILD: u64 = 5;
const MESSAGES: u64 = 12_000;

fn guild_id(g: u64) -> GuildId {
    GuildId::new(1_000_000_000_000 + g)
}

fn channel_id(g: u64, c: u64) -> ChannelId {
    ChannelId::new(2_000_000_000_000 + g * 100 + c)
}

fn user(u: u64) -> User {
    User {
        id: UserId::new(3_000_000_000_000 + u),
        username: format!("member{u}"),
        global_name: Some(format!("Member {u}")),
        ..Default::default()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The cache's log: RUST_LOG=info by default, RUST_LOG=persist=debug for every batch.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let started = Instant::now();
    let migrations = Migrations::new().hook(1, "welcome-guild", |store| {
        Box::pin(async move {
            let guild = Guild {
                id: GuildId::new(1),
                name: "created by a migration hook".into(),
                ..Default::default()
            };
            store.apply(&[Mutation::upsert(guild)]).await
        })
    });
    let store = MemoryStore::open(&migrations).await?;
    let rules = Ruleset::builder().message_cap(500).build()?;
    let cache = Cache::new(store, rules, CacheConfig::default())?;
    let mut rng = fastrand::Rng::with_seed(42);
    let mut members_per_guild = Vec::new();

    // GUILD_CREATEs: the guild, its channels, roles, members and their users.
    for g in 0..GUILDS {
        let members = 50 + rng.u64(..1_500);
        members_per_guild.push(members);
        let mut records = vec![
            Guild {
                id: guild_id(g),
                name: format!("guild {g}"),
                member_count: Some(members),
                ..Default::default()
            }
            .into(),
        ];
        for c in 0..CHANNELS_PER_GUILD {
            records.push(
                Channel {
                    id: channel_id(g, c),
                    kind: if c == 4 {
                        ChannelKind::Voice
                    } else {
                        ChannelKind::Text
                    },
                    guild_id: Some(guild_id(g)),
                    name: Some(format!("channel-{c}")),
                    ..Default::default()
                }
                .into(),
            );
        }
        for r in 0..10 {
            records.push(
                Role {
                    id: RoleId::new(4_000_000_000_000 + g * 100 + r),
                    guild_id: guild_id(g),
                    name: format!("role {r}"),
                    ..Default::default()
                }
                .into(),
            );
        }
        for m in 0..members {
            let u = rng.u64(..6_000);
            records.push(user(u).into());
            let roles = vec![RoleId::new(4_000_000_000_000 + g * 100 + m % 10)];
            records.push(
                Member {
                    guild_id: guild_id(g),
                    user_id: user(u).id,
                    roles,
                    ..Default::default()
                }
                .into(),
            );
        }
        cache.enqueue(Mutation::UpsertMany(records)).await?;
    }

    // MESSAGE_CREATE, with edits, deletes, bulk deletes and reactions mixed in.
    let base = MessageId::first_at(std::time::SystemTime::now() - Duration::from_secs(3600)).get();
    let mut sent = Vec::new();
    for i in 0..MESSAGES {
        let (g, c) = (rng.u64(..GUILDS), rng.u64(..CHANNELS_PER_GUILD - 1));
        let id = MessageId::new(base + (i << 22));
        let author = user(rng.u64(..6_000));
        cache
            .enqueue(Mutation::upsert(Message {
                id,
                channel_id: channel_id(g, c),
                guild_id: Some(guild_id(g)),
                author,
                content: format!("message {i} in guild {g}"),
                timestamp: Some(id.created_at()),
                ..Default::default()
            }))
            .await?;
        sent.push((g, c, id));
        match rng.u64(..20) {
            0..=2 => {
                let (g, c, target) = sent[rng.u64(..sent.len() as u64) as usize];
                let patch = Patch::message(
                    channel_id(g, c),
                    target,
                    json!({"content": format!("edited {i}"), "edited_timestamp": id.created_at()}),
                )?;
                cache.enqueue(Mutation::Patch(patch)).await?;
            }
            3..=5 => {
                let (g, c, target) = sent[rng.u64(..sent.len() as u64) as usize];
                cache
                    .enqueue(Mutation::AddReaction(ReactionChange {
                        channel_id: channel_id(g, c),
                        message_id: target,
                        guild_id: Some(guild_id(g)),
                        user_id: user(rng.u64(..6_000)).id,
                        emoji: ReactionEmoji::unicode(["👍", "🎉", "🦀"][rng.u64(..3) as usize]),
                        burst: false,
                        by_current_user: false,
                    }))
                    .await?;
            }
            6 => {
                let (_, _, target) = sent[rng.u64(..sent.len() as u64) as usize];
                cache
                    .enqueue(Mutation::Delete(EntityKey::Message(target)))
                    .await?;
            }
            7 if i % 500 == 7 => {
                let recent: Vec<MessageId> = sent
                    .iter()
                    .rev()
                    .take(40)
                    .filter(|(gg, cc, _)| (*gg, *cc) == (g, c))
                    .map(|(_, _, id)| *id)
                    .collect();
                cache
                    .enqueue(Mutation::BulkDeleteMessages {
                        channel_id: channel_id(g, c),
                        message_ids: recent,
                    })
                    .await?;
            }
            _ => {}
        }
    }

    // A role is deleted (members lose it) and the bot leaves the last guild.
    cache
        .enqueue(Mutation::Delete(EntityKey::Role(RoleId::new(
            4_000_000_000_000 + 3,
        ))))
        .await?;
    cache
        .enqueue(Mutation::Delete(EntityKey::Guild(guild_id(GUILDS - 1))))
        .await?;

    // Read-your-writes: this read sees the writes still queued.
    let queued = cache.stats().queued;
    let leaving_seen = cache.guild(guild_id(GUILDS - 1)).await?.is_none();
    cache.flush().await?;
    let elapsed = started.elapsed();
    let stats = cache.stats();
    let counts = cache.counts().await?;

    println!("serenity-persist memory-store demo");
    println!("==================================");
    println!(
        "played {} mutations in {:.2?} ({:.0}/s); {} folded into queued writes, {} batches",
        stats.enqueued,
        elapsed,
        stats.enqueued as f64 / elapsed.as_secs_f64(),
        stats.coalesced,
        stats.batches_committed
    );
    println!(
        "read-your-writes: {queued} mutations were still queued and the guild leave was {}visible",
        if leaving_seen { "" } else { "NOT " }
    );
    println!(
        "rejected: {}, commit failures: {}, healthy: {}",
        stats.rejected, stats.commit_failures, stats.healthy
    );
    println!();
    println!(
        "stored: {} guilds, {} channels, {} roles, {} users, {} members, {} messages",
        counts.guilds, counts.channels, counts.roles, counts.users, counts.members, counts.messages
    );

    let g = guild_id(0);
    let first = cache.guild_members(g, None, 3).await?;
    println!();
    println!("first members of guild 0 (of {}):", members_per_guild[0]);
    for member in &first {
        let user = cache.user(member.user_id).await?;
        let guilds = cache.user_guilds(member.user_id).await?;
        println!(
            "  {} roles={:?} shares {} guild(s) with the bot",
            user.map_or_else(|| member.user_id.to_string(), |u| u.username),
            member
                .roles
                .iter()
                .map(|r| r.get() % 100)
                .collect::<Vec<_>>(),
            guilds.len()
        );
    }
    println!();
    println!("last 5 messages of guild 0 #channel-0:");
    for m in cache
        .channel_messages(channel_id(0, 0), MessagePage::Latest, 5)
        .await?
    {
        let reactions: Vec<String> = m
            .reactions
            .iter()
            .map(|r| format!("{}x{}", r.emoji.name.as_deref().unwrap_or("?"), r.count))
            .collect();
        println!(
            "  [{}] {}: {} {}",
            m.id.created_at(),
            m.author.username,
            m.content,
            reactions.join(" ")
        );
    }
    println!();
    println!(
        "hook guild: {:?}",
        cache.guild(GuildId::new(1)).await?.map(|g| g.name)
    );
    cache.shutdown().await?;
    Ok(())
}
