//! Several bot processes sharing one PostgreSQL database, against the fake
//! Discord: each process a real serenity client running its own shards.
//!
//! Each bot is this test binary run again (`bot_process`), driven over its
//! stdin and reporting on its stdout.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{NoHandler, guild_create, id, rules};
use fake_discord::FakeDiscord;
use fake_discord::payload::{self as p, GuildSpec};
use persist_serenity::serenity::all::GatewayIntents;
use persist_serenity::{Cache, ClientBuilderExt, LeaseConfig, Migrations, Persist};
use sqlx::{Connection as _, PgConnection};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

const BOT_ENV: &str = "PERSIST_SHARED_DATABASE_BOT";
const WAIT: Duration = Duration::from_secs(60);
const SHARDS: u32 = 4;

fn base_url() -> String {
    std::env::var("PERSIST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The URL of a schema of the test database.
fn url(schema: &str) -> String {
    format!("{}?options=-c%20search_path%3D{schema}", base_url())
}

async fn admin() -> PgConnection {
    PgConnection::connect(&base_url())
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must answer (.ci/run starts it): {e}"))
}

/// A fresh, empty schema.
async fn fresh_schema(schema: &str) {
    let mut conn = admin().await;
    for sql in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Every stored object of the schema, as `table key data` lines, sorted.
async fn dump(schema: &str) -> Vec<String> {
    let mut conn = admin().await;
    let tables = [
        ("\"current_user\"", "id"),
        ("guilds", "id"),
        ("channels", "id"),
        ("messages", "id"),
        ("users", "id"),
        ("members", "guild_id::text || '/' || user_id"),
        ("roles", "id"),
        ("emojis", "id"),
        ("stickers", "id"),
        ("voice_states", "guild_id::text || '/' || user_id"),
        ("presences", "guild_id::text || '/' || user_id"),
        ("stage_instances", "id"),
        ("scheduled_events", "id"),
        ("thread_members", "thread_id::text || '/' || user_id"),
    ];
    let mut rows = Vec::new();
    for (table, key) in tables {
        let sql = format!("SELECT {key}::text || ' ' || data::text FROM {schema}.{table}");
        let found: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        rows.extend(found.into_iter().map(|row| format!("{table} {row}")));
    }
    rows.sort();
    rows
}

/// A guild on a shard of its own choosing: its id's timestamp picks the shard.
fn sharded_guild(k: u64) -> GuildSpec {
    let gid = p::snowflake(common::NOW_MS + k, 0);
    GuildSpec {
        id: gid,
        name: format!("guild {k}"),
        owner_id: id(900_000 + k),
        channels: vec![
            p::snowflake(common::NOW_MS + k, 1),
            p::snowflake(common::NOW_MS + k, 2),
        ],
        roles: vec![p::snowflake(common::NOW_MS + k, 3)],
        emojis: vec![],
        members: vec![id(500_000), id(500_001 + k)],
        member_count: 2,
    }
}

fn guilds() -> Vec<GuildSpec> {
    let guilds: Vec<GuildSpec> = (0..8).map(sharded_guild).collect();
    let on: std::collections::BTreeSet<u32> = guilds.iter().map(shard).collect();
    assert_eq!(
        on.len(),
        SHARDS as usize,
        "the guilds must cover every shard"
    );
    guilds
}

fn shard(g: &GuildSpec) -> u32 {
    fake_discord::shard_of(g.id, SHARDS)
}

/// A bot process running a range of shards.
struct Bot {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    shards: std::ops::Range<u32>,
}

impl Bot {
    async fn spawn(
        discord: &FakeDiscord,
        schema: &str,
        shards: std::ops::Range<u32>,
        owner: &str,
    ) -> Bot {
        let spec = format!(
            "{}|{}|{}|{}|{owner}",
            url(schema),
            discord.http_url(),
            shards.start,
            shards.end
        );
        let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "bot_process", "--include-ignored", "--nocapture"])
            .env(BOT_ENV, spec)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut bot = Bot {
            child,
            stdin,
            lines,
            shards,
        };
        bot.answer("ready").await;
        bot
    }

    /// The next line starting with `prefix` (other lines are the test
    /// harness's), within the bound.
    async fn answer(&mut self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let line = tokio::time::timeout_at(deadline, self.lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("bot {:?} did not say {prefix:?} in time", self.shards))
                .unwrap()
                .unwrap_or_else(|| panic!("bot {:?} exited before saying {prefix:?}", self.shards));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
    }

    async fn say(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Waits until the bot has seen `events` dispatches and committed them.
    async fn committed(&mut self, events: u64) {
        self.say(&format!("expect {events}")).await;
        let answer = self.answer("flushed").await;
        assert_eq!(answer, "ok", "bot {:?}", self.shards);
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    async fn stop(mut self) {
        self.say("stop").await;
        self.answer("stopped").await;
        let _ = tokio::time::timeout(WAIT, self.child.wait()).await;
    }
}

/// The dispatches a bot running `shards` receives: a READY per shard and
/// every dispatch of its guilds.
fn events_for(shards: &std::ops::Range<u32>, guilds: &[GuildSpec], per_guild: u64) -> u64 {
    let mine = guilds.iter().filter(|g| shards.contains(&shard(g))).count() as u64;
    u64::from(shards.end - shards.start) + mine * (1 + per_guild)
}

/// Messages created, edited and deleted on every guild: five dispatches a
/// guild per round.
fn traffic(discord: &FakeDiscord, guilds: &[GuildSpec], rounds: u64) -> u64 {
    for round in 0..rounds {
        for (k, g) in (0u64..).zip(guilds) {
            let (c, author) = (g.channels[0], g.members[1]);
            let gone = p::snowflake(common::NOW_MS + 100 + round, 10 + k);
            let kept = p::snowflake(common::NOW_MS + 200 + round, 10 + k);
            for (event, d) in [
                (
                    "MESSAGE_CREATE",
                    p::message_create(gone, c, g.id, author, "a"),
                ),
                (
                    "MESSAGE_CREATE",
                    p::message_create(kept, c, g.id, author, "a"),
                ),
                (
                    "MESSAGE_UPDATE",
                    p::message_update(kept, c, g.id, author, "b", common::NOW_MS + 1),
                ),
                ("MESSAGE_DELETE", p::message_delete(gone, c, g.id)),
                (
                    "MESSAGE_UPDATE",
                    p::message_update(kept, c, g.id, author, "last", common::NOW_MS + 2),
                ),
            ] {
                discord
                    .dispatch(event, d)
                    .expect("a session on every shard");
            }
        }
    }
    rounds * 5
}

async fn all_shards_connected(discord: &FakeDiscord) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while discord.shards() != (0..SHARDS).collect::<Vec<_>>() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "shards connected: {:?}",
            discord.shards()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs the same traffic through `ranges` (one bot process each) into
/// `schema`; returns the database's contents.
async fn run_bots(schema: &str, ranges: &[std::ops::Range<u32>]) -> Vec<String> {
    fresh_schema(schema).await;
    let discord = FakeDiscord::start().await.unwrap();
    let guilds = guilds();
    discord.set_ready_guilds(guilds.iter().map(|g| g.id));
    discord.set_after_ready(guilds.iter().map(guild_create).collect());
    let mut bots = Vec::new();
    for (n, range) in ranges.iter().enumerate() {
        bots.push(Bot::spawn(&discord, schema, range.clone(), &format!("{schema}-{n}")).await);
    }
    all_shards_connected(&discord).await;
    let per_guild = traffic(&discord, &guilds, 10);
    for bot in &mut bots {
        let events = events_for(&bot.shards, &guilds, per_guild);
        bot.committed(events).await;
    }
    assert_eq!(discord.connections(), (SHARDS, 0), "a shard reconnected");
    for bot in bots {
        bot.stop().await;
    }
    dump(schema).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_of_two_shards_store_what_one_process_of_four_does() {
    let everything = 0..SHARDS;
    let single = run_bots("persist_t_shared_single", std::slice::from_ref(&everything)).await;
    let shared = run_bots("persist_t_shared_two", &[0..2, 2..4]).await;
    assert!(
        single.iter().any(|row| row.starts_with("messages ")),
        "{single:?}"
    );
    assert!(
        single
            .iter()
            .filter(|row| row.starts_with("guilds "))
            .count()
            == 8
    );
    let only_single: Vec<&String> = single.iter().filter(|r| !shared.contains(r)).collect();
    let only_shared: Vec<&String> = shared.iter().filter(|r| !single.contains(r)).collect();
    assert!(
        only_single.is_empty() && only_shared.is_empty(),
        "only in the single process's database: {only_single:#?}\nonly in the two processes': {only_shared:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_paused_past_its_lease_is_fenced_and_cannot_overwrite_the_new_owner() {
    let schema = "persist_t_shared_fence";
    fresh_schema(schema).await;
    let discord = FakeDiscord::start().await.unwrap();
    let guilds = guilds();
    discord.set_ready_guilds(guilds.iter().map(|g| g.id));
    discord.set_after_ready(guilds.iter().map(guild_create).collect());
    let mut a = Bot::spawn(&discord, schema, 0..2, "a").await;
    let mut b = Bot::spawn(&discord, schema, 2..4, "b").await;
    all_shards_connected(&discord).await;
    let per_guild = traffic(&discord, &guilds, 2);
    a.committed(events_for(&a.shards, &guilds, per_guild)).await;
    b.committed(events_for(&b.shards, &guilds, per_guild)).await;

    // A stops answering, past its lease (2 s); C takes its shards over.
    a.signal("-STOP");
    let (identified, _) = discord.connections();
    let mut c = Bot::spawn(&discord, schema, 0..2, "c").await;
    assert!(
        discord.wait_for_connections(identified + 2, 0, WAIT).await,
        "C's shards did not identify"
    );
    let taken: Vec<(i32, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT shard_id, owner, token FROM {schema}.persist_leases ORDER BY shard_id"
    )))
    .fetch_all(&mut admin().await)
    .await
    .unwrap();
    assert_eq!(
        taken,
        [
            (0, "c".into(), 2),
            (1, "c".into(), 2),
            (2, "b".into(), 1),
            (3, "b".into(), 1)
        ]
    );
    // C's sessions: a READY per shard and its guilds again, then edits.
    let on_a: Vec<&GuildSpec> = guilds
        .iter()
        .filter(|g| a.shards.contains(&shard(g)))
        .collect();
    let message = |g: &GuildSpec| {
        p::snowflake(
            common::NOW_MS + 200,
            10 + guilds.iter().position(|x| x.id == g.id).unwrap() as u64,
        )
    };
    for g in &on_a {
        let d = p::message_update(
            message(g),
            g.channels[0],
            g.id,
            g.members[1],
            "fresh",
            common::NOW_MS + 3,
        );
        discord.dispatch("MESSAGE_UPDATE", d).expect("C's session");
    }
    c.committed(2 + on_a.len() as u64 * 2).await;

    // A wakes up and writes what it last knew: its batch is refused.
    a.signal("-CONT");
    let stale: Vec<String> = on_a
        .iter()
        .map(|g| format!("{} {} {} {}", message(g), g.channels[0], g.id, g.members[1]))
        .collect();
    a.say(&format!("stale {}", stale.join(" "))).await;
    let fenced: u64 = a.answer("fenced").await.parse().unwrap();
    assert!(fenced > 0, "A's stale batch was not refused by the fence");

    let contents: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT data ->> 'content' FROM {schema}.messages WHERE id = ANY($1::numeric[]) ORDER BY id"
    )))
    .bind(
        on_a.iter()
            .map(|g| message(g).to_string())
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut admin().await)
    .await
    .unwrap();
    assert_eq!(contents, vec!["fresh".to_owned(); on_a.len()]);
    let guild_rows = dump(schema)
        .await
        .iter()
        .filter(|r| r.starts_with("guilds "))
        .count();
    assert_eq!(guild_rows, guilds.len());
    for bot in [a, b, c] {
        bot.stop().await;
    }
}

/// One bot process (see `Bot::spawn`): runs its shards against the fake
/// Discord into the shared database and answers commands on stdin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a bot process of the shared-database tests, run by them"]
async fn bot_process() {
    let Ok(spec) = std::env::var(BOT_ENV) else {
        return;
    };
    // What the bot logs (fences, failed commits) goes to the test's stderr.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn,persist_core=info,persist_sql=info")
        .with_writer(std::io::stderr)
        .try_init();
    let parts: Vec<&str> = spec.split('|').collect();
    let [url, http, first, end, owner] = parts[..] else {
        panic!("bad spec {spec}");
    };
    let (first, end): (u32, u32) = (first.parse().unwrap(), end.parse().unwrap());
    let mut leases = LeaseConfig::new(first..end, SHARDS);
    leases.owner = owner.into();
    leases.ttl = Duration::from_secs(2);
    let config = persist_serenity::postgres::PostgresConfig::new(url, leases);
    let store = persist_serenity::postgres::PostgresStore::open(config, &Migrations::new())
        .await
        .unwrap();
    let store = std::sync::Arc::new(store);
    let persist = Persist::new(
        Cache::new(std::sync::Arc::clone(&store), rules(), Default::default()).unwrap(),
    );
    let client = fake_discord::client_builder_at(http, GatewayIntents::all())
        .event_handler(NoHandler)
        .persist(&persist)
        .await
        .unwrap();
    let running = common::run_range(client, first..end, SHARDS);
    println!("ready");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["expect", n] => {
                let n: u64 = n.parse().unwrap();
                let deadline = tokio::time::Instant::now() + WAIT;
                while persist.stats().gateway.events < n && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let seen = persist.stats().gateway.events;
                match persist.flush().await {
                    Ok(()) if seen >= n => println!("flushed ok"),
                    Ok(()) => println!("flushed only {seen} of {n} events seen"),
                    Err(e) => println!("flushed error {e}"),
                }
            }
            ["stale", rest @ ..] => {
                for m in rest.chunks(4) {
                    let [message, channel, guild, author] = m else {
                        continue;
                    };
                    let d = p::message_update(
                        message.parse().unwrap(),
                        channel.parse().unwrap(),
                        guild.parse().unwrap(),
                        author.parse().unwrap(),
                        "stale",
                        common::NOW_MS + 4,
                    );
                    persist.apply_dispatch("MESSAGE_UPDATE", &d);
                }
                let _ = persist.flush().await;
                println!("fenced {}", persist.stats().cache.fenced_mutations);
            }
            ["stop"] => {
                running.stop().await;
                let _ = persist.shutdown().await;
                let _ = store.close().await;
                println!("stopped");
                return;
            }
            _ => println!("unknown command {line}"),
        }
    }
}
