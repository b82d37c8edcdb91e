//! The demonstration: a real serenity client, a fake Discord on loopback, a
//! realistic session stored in `./demo-cache.db` (SQLite), then what is
//! stored and a few queries answered from the store. No token needed.
//!
//! ```text
//! cargo run --release -p persist-serenity --example demo [-- PATH]
//! ```
//!
//! Run it twice: the second run first reports what the first left on disk,
//! and its session (in which the bot was removed from one guild while it was
//! offline) is reconciled against it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use fake_discord::FakeDiscord;
use fake_discord::payload::{self as p, GuildSpec};
use indicatif::{ProgressBar, ProgressStyle};
use persist_serenity::persist_core::Counts;
use persist_serenity::prelude::*;
use persist_serenity::serenity::all::{
    ChannelId, EventHandler, GatewayIntents, GuildId, MessageId, ShardId, UserId,
};
use serde_json::{Value, json};

/// Guilds in the session; the first few are large.
const GUILDS: u64 = 40;
const LARGE_GUILDS: u64 = 3;
/// Members of a large guild (sent in chunks) and at most of a small one.
const LARGE_MEMBERS: u64 = 3_000;
const SMALL_MEMBERS: u64 = 120;
/// The mixed stream after the guilds arrive, by default.
const MESSAGES: u64 = 12_000;
/// Discord's heartbeat interval (HELLO's): a busy machine may take a while
/// to work through a backlog between two heartbeats.
const HEARTBEAT: Duration = Duration::from_millis(41_250);
/// Without a new event for this long, the demo says what the gateway did.
const QUIET: Duration = Duration::from_secs(5);

type Error = Box<dyn std::error::Error + Send + Sync>;

struct World {
    guilds: Vec<GuildSpec>,
    /// Every member of each guild (GUILD_CREATE sends all of a small guild's).
    members: Vec<Vec<u64>>,
}

fn world() -> World {
    // Ids made at a fixed moment, so every run's guilds are the same ones.
    let made = |n: u64| p::snowflake(1_700_000_000_000, n);
    let mut rng = fastrand::Rng::with_seed(42);
    let mut guilds = Vec::new();
    let mut members = Vec::new();
    for g in 0..GUILDS {
        let id = made(g * 10_000);
        let count = if g < LARGE_GUILDS {
            LARGE_MEMBERS
        } else {
            10 + rng.u64(..SMALL_MEMBERS)
        };
        // Users overlap between guilds: a pool of 6,000 people.
        let mut all: Vec<u64> = (0..count)
            .map(|i| made(1_000_000 + (g * 97 + i * 13) % 6_000))
            .collect();
        all.sort_unstable();
        all.dedup();
        let channels = 3 + rng.u64(..8);
        guilds.push(GuildSpec {
            id,
            name: format!(
                "{} #{g}",
                ["Rustaceans", "Ferris Fans", "Crab Rave", "Async Club"][g as usize % 4]
            ),
            owner_id: all[0],
            channels: (1..=channels).map(|c| made(g * 10_000 + c)).collect(),
            roles: (0..3 + rng.u64(..6))
                .map(|r| made(g * 10_000 + 100 + r))
                .collect(),
            emojis: (0..rng.u64(..5))
                .map(|e| made(g * 10_000 + 200 + e))
                .collect(),
            // Large guilds send only the first members; the rest come in chunks.
            members: all[..all
                .len()
                .min(if g < LARGE_GUILDS { 100 } else { usize::MAX })]
                .to_vec(),
            member_count: all.len() as u64,
        });
        members.push(all);
    }
    World { guilds, members }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The mixed stream: mostly new messages, with edits, deletes, reactions,
/// member joins and leaves, presences, and a few payloads serenity 0.12.5
/// cannot parse.
fn traffic(world: &World, skip_last_guild: bool, messages: u64) -> Vec<(String, Value)> {
    let mut rng = fastrand::Rng::with_seed(7);
    let start = now_ms();
    let guilds = &world.guilds[..world.guilds.len() - usize::from(skip_last_guild)];
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut live: Vec<(u64, u64, u64, u64)> = Vec::new(); // message, channel, guild, author
    let emojis = ["👍", "🎉", "🦀", "❤️", "😂"];
    for n in 0..messages {
        let gi = rng.u64(..guilds.len() as u64) as usize;
        let guild = &guilds[gi];
        let channel = guild.channels[rng.u64(..guild.channels.len() as u64) as usize];
        let members = &world.members[gi];
        let author = members[rng.u64(..members.len() as u64) as usize];
        let id = p::snowflake(start, n);
        let text = format!(
            "message {n} in {} — {}",
            guild.name,
            [
                "hello",
                "gm",
                "ship it",
                "cargo test passes",
                "who broke main?"
            ][n as usize % 5]
        );
        out.push((
            "MESSAGE_CREATE".into(),
            p::message_create(id, channel, guild.id, author, &text),
        ));
        live.push((id, channel, guild.id, author));
        let roll = rng.u64(..100);
        let pick = live[rng.u64(..live.len() as u64) as usize];
        match roll {
            0..=11 => out.push((
                "MESSAGE_UPDATE".into(),
                p::message_update(
                    pick.0,
                    pick.1,
                    pick.2,
                    pick.3,
                    &format!("edited at {n}"),
                    start + n,
                ),
            )),
            12..=17 => {
                out.push((
                    "MESSAGE_DELETE".into(),
                    p::message_delete(pick.0, pick.1, pick.2),
                ));
                live.retain(|m| m.0 != pick.0);
            }
            18..=35 => {
                let emoji = emojis[rng.u64(..emojis.len() as u64) as usize];
                out.push((
                    "MESSAGE_REACTION_ADD".into(),
                    p::reaction(author, pick.1, pick.0, pick.2, emoji),
                ));
                if roll == 18 {
                    out.push((
                        "MESSAGE_REACTION_REMOVE".into(),
                        p::reaction(author, pick.1, pick.0, pick.2, emoji),
                    ));
                }
            }
            36 => {
                // As Discord sends it; serenity 0.12.5 cannot parse it.
                out.push((
                    "MESSAGE_REACTION_REMOVE_EMOJI".into(),
                    json!({"channel_id": pick.1.to_string(),
                    "guild_id": pick.2.to_string(), "message_id": pick.0.to_string(),
                    "emoji": {"id": null, "name": "👍"}}),
                ));
            }
            37..=39 => {
                let status = ["online", "idle", "dnd"][n as usize % 3];
                out.push((
                    "PRESENCE_UPDATE".into(),
                    json!({"user": {"id": author.to_string()},
                    "guild_id": guild.id.to_string(), "status": status,
                    "activities": [], "client_status": {"desktop": status}}),
                ));
            }
            40 => {
                let mut add = p::member(p::snowflake(start, 1_000_000 + n), &[], start);
                add["guild_id"] = json!(guild.id.to_string());
                out.push(("GUILD_MEMBER_ADD".into(), add));
            }
            41 if n % 5 == 0 => {
                // A role without `colors`, as Discord sent roles until 2025:
                // serenity 0.12.5 cannot parse it.
                let mut role = p::role(guild.roles[0], &format!("renamed {n}"), 1);
                role.as_object_mut().map(|r| r.remove("colors"));
                out.push((
                    "GUILD_ROLE_UPDATE".into(),
                    json!({"guild_id": guild.id.to_string(), "role": role}),
                ));
            }
            _ => {}
        }
    }
    out
}

async fn report(persist: &Persist, title: &str) -> Result<Counts, Error> {
    let c = persist.counts().await?;
    println!("{title}");
    println!(
        "  guilds {}  channels {}  threads {}  roles {}  emojis {}  stickers {}",
        c.guilds, c.channels, c.threads, c.roles, c.emojis, c.stickers
    );
    println!(
        "  users {}  members {}  presences {}  voice states {}  messages {}",
        c.users, c.members, c.presences, c.voice_states, c.messages
    );
    Ok(c)
}

struct Quiet;
impl EventHandler for Quiet {}

/// The demonstration: a real serenity 0.12.5 client, a fake Discord on
/// loopback, and the cache in a SQLite file.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The SQLite file the cache is kept in.
    #[arg(default_value = "demo-cache.db")]
    path: PathBuf,
    /// Messages in the session (with edits, deletes, reactions, joins and
    /// presences in proportion).
    #[arg(long, default_value_t = MESSAGES)]
    messages: u64,
    /// Gives up when no event has arrived for this long ("90s", "5m").
    #[arg(long, default_value = "120s", value_parser = humantime::parse_duration)]
    stall_timeout: Duration,
}

/// What a run stored and saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What the store holds at the end.
    pub counts: Counts,
    /// Events the session played (what the demo waited for).
    pub events: u64,
    /// Events recovered from payloads serenity could not parse.
    pub recovered: u64,
    /// Events the cache could not apply.
    pub failed: u64,
    /// Whether the last run's cache was found on disk.
    pub second_run: bool,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    // Logs: warnings by default (not serenity's about the fake's closing
    // handshake); RUST_LOG=persist=info (or debug) shows the cache at work.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(
                    "warn,serenity::gateway::bridge::shard_runner=error",
                )
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    run(&args.path, args.messages, args.stall_timeout).await?;
    Ok(())
}

/// Plays one session into the cache at `path`, reports and returns what
/// it stored.
pub async fn run(path: &Path, messages: u64, stall_timeout: Duration) -> Result<Outcome, Error> {
    println!(
        "serenity-persist demo: a real serenity 0.12.5 client, a fake Discord on loopback, SQLite at {}",
        path.display()
    );
    let existed = path.exists();
    let persist = Persist::builder()
        .sqlite(path)
        .open()
        .await
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    // Commits and closes the cache on every way out of this function.
    let _guard = persist.shutdown_on_drop();
    let found = persist.counts().await?;
    let second_run = existed && found.guilds > 0;
    if second_run {
        report(
            &persist,
            "\nFound on disk from the last run (read before connecting):",
        )
        .await?;
        if let Some(me) = persist.current_user().await? {
            println!("  logged in last time as {} ({})", me.name, me.id);
        }
    } else {
        println!("\nNo earlier cache at {}: starting empty.", path.display());
    }

    let world = world();
    let discord = FakeDiscord::start().await?;
    discord.set_heartbeat_interval(HEARTBEAT);
    // If serenity restarts the shard (a busy machine kept it from
    // heartbeating), its new session gets everything again: nothing waits
    // for traffic a dropped connection lost.
    discord.replay_on_identify(true);
    // On a second run the bot "was removed" from the last guild while offline.
    let present = &world.guilds[..world.guilds.len() - usize::from(second_run)];
    discord.set_ready_guilds(present.iter().map(|g| g.id));
    discord.set_after_ready(
        present
            .iter()
            .map(|g| ("GUILD_CREATE".to_owned(), p::guild_create(g)))
            .collect(),
    );
    for (guild, members) in world.guilds.iter().zip(&world.members) {
        discord.set_guild_members(guild.id, members.clone());
    }

    let mut client = discord
        .client_builder(GatewayIntents::all())
        .event_handler(Quiet)
        .persist(&persist)
        .await?;
    let manager = Arc::clone(&client.shard_manager);
    let client_task = tokio::spawn(async move { client.start().await });

    println!(
        "\nPlaying a session: READY, {} GUILD_CREATEs, member chunks, then {messages} messages with edits, deletes, reactions, joins and presences.",
        present.len()
    );
    let started = Instant::now();
    let before = persist.stats().gateway.events;
    let mut watch = Watch {
        persist: &persist,
        discord: &discord,
        stall_timeout,
        last: None,
    };
    watch
        .wait_for(before + 1 + present.len() as u64, None)
        .await?;
    // Ask for every member of the large guilds (answered in chunks).
    let shard = {
        let runners = manager.runners.lock().await;
        runners
            .get(&ShardId(0))
            .map(|r| r.runner_tx.clone())
            .ok_or("the shard did not start")?
    };
    let mut expected = before + 1 + present.len() as u64;
    for (guild, members) in present
        .iter()
        .zip(&world.members)
        .take(LARGE_GUILDS as usize)
    {
        persist.request_all_members(&shard, GuildId::new(guild.id));
        expected += (members.len() as u64).div_ceil(1_000);
    }
    // The chunks answer with the members the fake knows, which do not
    // include those the traffic adds: they are applied first, so a chunk
    // never prunes a member who joined after the request.
    watch.wait_for(expected, None).await?;
    let mut stream = traffic(&world, second_run, messages);
    // The last event: once it is in the cache, so is everything before it
    // (a replayed session counts some events twice).
    let (last_channel, last_id) = (
        world.guilds[0].channels[0],
        p::snowflake(now_ms(), 0x3F_FFFF),
    );
    stream.push((
        "MESSAGE_CREATE".into(),
        p::message_create(
            last_id,
            last_channel,
            world.guilds[0].id,
            world.members[0][0],
            "that's all",
        ),
    ));
    expected += stream.len() as u64;
    for (event, d) in stream {
        discord.dispatch(&event, d).ok_or("the session ended")?;
    }
    let bar = ProgressBar::new(expected - before).with_style(
        ProgressStyle::with_template(
            "  [{bar:40}] {percent:>3}%  {pos}/{len} events  {per_sec}  {msg}",
        )?
        .progress_chars("#>-"),
    );
    watch.last = Some((ChannelId::new(last_channel), MessageId::new(last_id)));
    watch.wait_for(expected, Some((&bar, before))).await?;
    persist.flush().await?;
    let elapsed = started.elapsed();
    bar.finish();
    let stats = persist.stats();
    println!(
        "\nStored {} events in {:.2} s: {:.0} events/s until durable (flush returned).",
        expected - before,
        elapsed.as_secs_f64(),
        (expected - before) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  applied {}  not cached {}  recovered from payloads serenity could not parse: {}  failed: {}",
        stats.gateway.applied,
        stats.gateway.not_cached,
        stats.gateway.recovered,
        stats.gateway.failed_total()
    );
    if let Some(failure) = &stats.gateway.last_failure {
        println!("  last failure: {failure}");
    }
    let (identifies, resumes) = discord.connections();
    if identifies > 1 || resumes > 0 {
        println!(
            "  the gateway connection was restarted: {identifies} IDENTIFYs, {resumes} RESUMEs (what was not delivered was sent again)"
        );
    }
    println!(
        "  pipeline: {} mutations in {} batches, {} coalesced, queue high water {}",
        stats.cache.mutations_committed,
        stats.cache.batches_committed,
        stats.cache.coalesced,
        stats.cache.queue_high_water
    );
    let counts = report(&persist, "\nWhat is stored now:").await?;
    println!("  (presences are received but not kept: the default ruleset leaves them out)");
    if second_run && let Some(gone) = world.guilds.last().map(|g| GuildId::new(g.id)) {
        let still = persist.guild(gone).await?.is_some();
        println!(
            "  the guild the bot left while offline ({gone}) is {}",
            if still {
                "STILL THERE (bug)"
            } else {
                "gone, with its channels, roles and members"
            }
        );
    }

    println!("\nQueries answered from the store, in serenity's types:");
    let big = GuildId::new(world.guilds[0].id);
    if let Some(guild) = persist.guild(big).await? {
        println!(
            "  guild \"{}\": {} channels, {} roles, {} emojis, {} members",
            guild.name,
            guild.channels.len(),
            guild.roles.len(),
            guild.emojis.len(),
            guild.member_count
        );
    }
    let someone = UserId::new(world.members[0][world.members[0].len() / 2]);
    match persist.member(big, someone).await? {
        Some(member) => println!(
            "  member {} ({}) of \"{}\": {} roles, joined {}",
            member.display_name(),
            member.user.name,
            world.guilds[0].name,
            member.roles.len(),
            member
                .joined_at
                .map_or_else(|| "?".into(), |t| t.to_string())
        ),
        None => println!("  member {someone} of {big}: not stored"),
    }
    let channel = ChannelId::new(world.guilds[0].channels[0]);
    let last = persist.channel_messages(channel, None, 5).await?;
    println!("  last {} messages of channel {channel}:", last.len());
    for m in &last {
        let reactions: u64 = m.reactions.iter().map(|r| r.count).sum();
        println!(
            "    {} {}: {} ({} reactions)",
            m.id,
            m.author.display_name(),
            m.content,
            reactions
        );
    }
    let guilds = persist.user_guilds(someone).await?;
    println!(
        "  user {someone} is in {} of the bot's guilds",
        guilds.len()
    );

    manager.shutdown_all().await;
    let _ = tokio::time::timeout(Duration::from_secs(10), client_task).await;
    persist.shutdown().await?;
    println!(
        "\nThe cache is in {}; run the demo again to see it read back, or open it with sqlite3.",
        path.display()
    );
    Ok(Outcome {
        counts,
        events: expected - before,
        recovered: stats.gateway.recovered,
        failed: stats.gateway.failed_total(),
        second_run,
    })
}

/// Waits for events, drawing progress and saying what the gateway does
/// when nothing arrives.
struct Watch<'a> {
    persist: &'a Persist,
    discord: &'a FakeDiscord,
    stall_timeout: Duration,
    /// The session's last message: waiting ends once it is stored too.
    last: Option<(ChannelId, MessageId)>,
}

impl Watch<'_> {
    /// Waits until the cache has seen `events` in all; `bar` counts from
    /// its base. Fails when no event arrives for the stall timeout.
    async fn wait_for(&self, events: u64, bar: Option<(&ProgressBar, u64)>) -> Result<(), Error> {
        let mut last_seen = self.persist.stats().gateway.events;
        let mut last_change = Instant::now();
        let mut last_note = Instant::now();
        let mut quarter_printed = 0;
        loop {
            let seen = self.persist.stats().gateway.events;
            if let Some((bar, base)) = bar {
                let done = seen.saturating_sub(base).min(bar.length().unwrap_or(0));
                bar.set_position(done);
                // Without a terminal the bar is hidden: a line per quarter.
                let quarter = done * 4 / bar.length().unwrap_or(1).max(1);
                if bar.is_hidden() && quarter > quarter_printed {
                    quarter_printed = quarter;
                    println!("  {}% ({done} events)", quarter * 25);
                }
            }
            if seen >= events && self.last_is_stored().await? {
                return Ok(());
            }
            if seen != last_seen {
                last_seen = seen;
                last_change = Instant::now();
            }
            let quiet = last_change.elapsed();
            if quiet >= QUIET && last_note.elapsed() >= QUIET {
                last_note = Instant::now();
                let note = self.gateway_state(seen, events);
                match bar {
                    Some((bar, _)) if !bar.is_hidden() => bar.set_message(note),
                    _ => println!("  waiting: {note}"),
                }
            }
            if quiet >= self.stall_timeout {
                return Err(format!(
                    "no event for {:?}: {}",
                    self.stall_timeout,
                    self.gateway_state(seen, events)
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn last_is_stored(&self) -> Result<bool, Error> {
        Ok(match self.last {
            Some((channel, message)) => self.persist.message(channel, message).await?.is_some(),
            None => true,
        })
    }

    fn gateway_state(&self, seen: u64, events: u64) -> String {
        let (identifies, resumes) = self.discord.connections();
        format!(
            "{seen} of {events} events so far, none for {}s; the gateway has {} dispatches              queued in its session, {identifies} IDENTIFYs, {resumes} RESUMEs, {} heartbeats",
            QUIET.as_secs(),
            self.discord.last_seq(),
            self.discord.heartbeats()
        )
    }
}
