//! What serenity's types cost on a read: the getters of `Persist`
//! (serenity's ids in, serenity's models out, converted field by field)
//! against the same reads in persist-core's types (`persist.cache()`), in
//! the same run, on the same cache.
//!
//! `cargo run --release -p persist-benches --bin serenity_reads -- [sqlite|memory]`
//!
//! Plays a guild of 1,000 members and 10 channels and 5,000 messages (under the default cap of 1,000 per channel) into
//! the cache (SQLite by default, in a temporary directory), flushes, then
//! times 20,000 random reads of each kind both ways: a member (with its
//! user), a message, a page of a channel's 50 newest messages, and the
//! guild (with its roles, channels and emojis).

use std::time::{Duration, Instant};

use fake_discord::payload::{self as p, GuildSpec};
use persist_benches::report;
use persist_core::{
    ChannelId as CoreChannel, GuildId as CoreGuild, MessageId as CoreMessage, MessagePage, ReadApi,
    UserId as CoreUser,
};
use persist_serenity::Persist;
use persist_serenity::serenity::all::{ChannelId, GuildId, MessageId, UserId};

const READS: usize = 20_000;
const MESSAGES: u64 = 5_000;
const MEMBERS: u64 = 1_000;
const NOW_MS: u64 = 1_760_000_000_000;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Times `read` over `READS` rounds (after 1,000 to warm up).
async fn timed<F, Fut>(mut read: F) -> Result<Vec<Duration>, Error>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<bool, Error>>,
{
    let mut times = Vec::with_capacity(READS);
    for round in 0..READS + 1_000 {
        let started = Instant::now();
        let found = read(round).await?;
        let took = started.elapsed();
        if !found {
            return Err(format!("read {round} found nothing").into());
        }
        if round >= 1_000 {
            times.push(took);
        }
    }
    Ok(times)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let backend = std::env::args().nth(1).unwrap_or_else(|| "sqlite".into());
    let dir = tempfile::tempdir()?;
    let builder = match backend.as_str() {
        "sqlite" => Persist::builder().sqlite(dir.path().join("reads.db")),
        "memory" => Persist::builder().memory(),
        other => return Err(format!("unknown backend {other}: sqlite or memory").into()),
    };
    let persist = builder.open().await?;
    let id = |n: u64| p::snowflake(NOW_MS, n);
    let spec = GuildSpec {
        id: id(1),
        name: "bench".into(),
        owner_id: id(100_000),
        channels: (0..10).map(|c| id(10 + c)).collect(),
        roles: (0..20).map(|r| id(100 + r)).collect(),
        emojis: (0..10).map(|e| id(200 + e)).collect(),
        members: (0..MEMBERS).map(|m| id(100_000 + m)).collect(),
        member_count: MEMBERS,
    };
    persist.apply_dispatch("GUILD_CREATE", &p::guild_create(&spec));
    let mut rng = fastrand::Rng::with_seed(11);
    let mut messages = Vec::with_capacity(MESSAGES as usize);
    for n in 0..MESSAGES {
        let channel = spec.channels[rng.usize(..spec.channels.len())];
        let author = spec.members[rng.usize(..spec.members.len())];
        let message = p::snowflake(NOW_MS + 1_000 + n, 0);
        persist.apply_dispatch(
            "MESSAGE_CREATE",
            &p::message_create(message, channel, spec.id, author, &format!("message {n}")),
        );
        messages.push((channel, message));
    }
    persist.flush().await?;
    println!("{backend}: 1 guild, {MEMBERS} members, {MESSAGES} messages stored");
    let cache = persist.cache();
    let guild = spec.id;
    let pick = |round: usize, len: usize| (round * 7_919) % len;

    let mut ours = timed(|round| {
        let user = spec.members[pick(round, spec.members.len())];
        let persist = &persist;
        async move {
            Ok(persist
                .member(GuildId::new(guild), UserId::new(user))
                .await?
                .is_some())
        }
    })
    .await?;
    let mut core = timed(|round| {
        let user = CoreUser::new(spec.members[pick(round + 1, spec.members.len())]);
        async move {
            let member = cache.member(CoreGuild::new(guild), user).await?;
            let user = cache.user(user).await?;
            Ok(member.is_some() && user.is_some())
        }
    })
    .await?;
    report("member (with its user)", &mut ours, "core", &mut core);

    let mut ours = timed(|round| {
        let (channel, message) = messages[pick(round, messages.len())];
        let persist = &persist;
        async move {
            Ok(persist
                .message(ChannelId::new(channel), MessageId::new(message))
                .await?
                .is_some())
        }
    })
    .await?;
    let mut core = timed(|round| {
        let (_, message) = messages[pick(round + 1, messages.len())];
        async move { Ok(cache.message(CoreMessage::new(message)).await?.is_some()) }
    })
    .await?;
    report("message", &mut ours, "core", &mut core);

    let mut ours = timed(|round| {
        let channel = spec.channels[pick(round, spec.channels.len())];
        let persist = &persist;
        async move {
            Ok(persist
                .channel_messages(ChannelId::new(channel), None, 50)
                .await?
                .len()
                == 50)
        }
    })
    .await?;
    let mut core = timed(|round| {
        let channel = CoreChannel::new(spec.channels[pick(round + 1, spec.channels.len())]);
        async move {
            Ok(cache
                .channel_messages(channel, MessagePage::Latest, 50)
                .await?
                .len()
                == 50)
        }
    })
    .await?;
    report("page of 50 messages", &mut ours, "core", &mut core);

    let mut ours = timed(|_| {
        let persist = &persist;
        async move { Ok(persist.guild(GuildId::new(guild)).await?.is_some()) }
    })
    .await?;
    let mut core = timed(|_| async move {
        let g = CoreGuild::new(guild);
        let found = cache.guild(g).await?.is_some();
        let parts = (
            cache.guild_roles(g).await?,
            cache.guild_channels(g).await?,
            cache.guild_threads(g).await?,
            cache.guild_emojis(g).await?,
            cache.guild_stickers(g).await?,
            cache.guild_voice_states(g).await?,
        );
        Ok(found && !parts.0.is_empty())
    })
    .await?;
    report(
        "guild (roles, channels, emojis)",
        &mut ours,
        "core",
        &mut core,
    );
    persist.shutdown().await?;
    Ok(())
}
