//! Several bot processes sharing one database (PostgreSQL, MariaDB),
//! against the fake Discord: each process a real serenity client running
//! its own shards.
//!
//! Each bot is this test binary run again (`bot_process`), driven over its
//! stdin and reporting on its stdout.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{NoHandler, guild_create, id};
use fake_discord::FakeDiscord;
use fake_discord::payload::{self as p, GuildSpec};
use persist_serenity::serenity::all::GatewayIntents;
use persist_serenity::{ClientBuilderExt, LeaseConfig, Migrations, Persist};
use sqlx::{Connection as _, MySqlConnection, PgConnection};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

const BOT_ENV: &str = "PERSIST_SHARED_DATABASE_BOT";
const WAIT: Duration = Duration::from_secs(60);
const SHARDS: u32 = 4;

/// One test at a time: each runs up to three bot processes and a server.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The database server the bots share (`.ci/run` starts both).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Server {
    Postgres,
    MySql,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Postgres => "postgres",
            Server::MySql => "mysql",
        }
    }

    fn named(name: &str) -> Self {
        match name {
            "postgres" => Server::Postgres,
            _ => Server::MySql,
        }
    }

    /// The test database's URL (`PERSIST_POSTGRES_URL`, `PERSIST_MYSQL_URL`).
    fn url(self) -> String {
        match self {
            Server::Postgres => std::env::var("PERSIST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
            Server::MySql => std::env::var("PERSIST_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into()),
        }
    }

    /// The URL of a place (a schema of the test database, or a database).
    fn place_url(self, place: &str) -> String {
        let url = self.url();
        match self {
            Server::Postgres => {
                let joint = if url.contains('?') { '&' } else { '?' };
                format!("{url}{joint}options=-c%20search_path%3D{place}")
            }
            Server::MySql => match url.rsplit_once('/') {
                Some((server, _)) => format!("{server}/{place}"),
                None => format!("{url}/{place}"),
            },
        }
    }

    /// The rows of a statement of one text column, run as an operator would.
    async fn texts(self, sql: String) -> Vec<String> {
        let failed = |e: sqlx::Error| -> ! {
            panic!("{} must answer (.ci/run starts it): {e}", self.name())
        };
        let sql = sqlx::AssertSqlSafe(sql);
        match self {
            Server::Postgres => {
                let mut conn = PgConnection::connect(&self.url())
                    .await
                    .unwrap_or_else(|e| failed(e));
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
            Server::MySql => {
                let mut conn = MySqlConnection::connect(&self.url())
                    .await
                    .unwrap_or_else(|e| failed(e));
                sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
            }
        }
    }

    async fn execute(self, sql: String) {
        let sql = sqlx::AssertSqlSafe(sql);
        match self {
            Server::Postgres => {
                let mut conn = PgConnection::connect(&self.url()).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            }
            Server::MySql => {
                let mut conn = MySqlConnection::connect(&self.url()).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            }
        }
    }

    /// A fresh, empty place.
    async fn fresh(self, place: &str) {
        self.execute(match self {
            Server::Postgres => {
                format!("DROP SCHEMA IF EXISTS {place} CASCADE; CREATE SCHEMA {place}")
            }
            Server::MySql => format!("DROP DATABASE IF EXISTS {place}; CREATE DATABASE {place}"),
        })
        .await;
    }

    /// A message's content, as SQL reads it from `data`.
    fn content(self) -> &'static str {
        match self {
            Server::Postgres => "data ->> 'content'",
            Server::MySql => "JSON_VALUE(data, '$.content')",
        }
    }

    /// Every stored object of a place, as `table key data` lines, sorted.
    async fn dump(self, place: &str) -> Vec<String> {
        let current_user = match self {
            Server::Postgres => "\"current_user\"",
            Server::MySql => "`current_user`",
        };
        let pair = |a: &str, b: &str| format!("CONCAT({a}, '/', {b})");
        let tables = [
            (current_user, "id".to_owned()),
            ("guilds", "id".to_owned()),
            ("channels", "id".to_owned()),
            ("messages", "id".to_owned()),
            ("users", "id".to_owned()),
            ("members", pair("guild_id", "user_id")),
            ("roles", "id".to_owned()),
            ("emojis", "id".to_owned()),
            ("stickers", "id".to_owned()),
            ("voice_states", pair("guild_id", "user_id")),
            ("presences", pair("guild_id", "user_id")),
            ("stage_instances", "id".to_owned()),
            ("scheduled_events", "id".to_owned()),
            ("thread_members", pair("thread_id", "user_id")),
        ];
        let mut rows = Vec::new();
        for (table, key) in tables {
            let sql = format!("SELECT CONCAT('{table} ', {key}, ' ', data) FROM {place}.{table}");
            rows.extend(self.texts(sql).await);
        }
        rows.sort();
        rows
    }
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
        server: Server,
        place: &str,
        shards: std::ops::Range<u32>,
        owner: &str,
    ) -> Bot {
        let spec = format!(
            "{}|{}|{}|{}|{}|{owner}",
            server.name(),
            server.place_url(place),
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
/// `place`; returns the database's contents.
async fn run_bots(server: Server, place: &str, ranges: &[std::ops::Range<u32>]) -> Vec<String> {
    server.fresh(place).await;
    let discord = FakeDiscord::start().await.unwrap();
    let guilds = guilds();
    discord.set_ready_guilds(guilds.iter().map(|g| g.id));
    discord.set_after_ready(guilds.iter().map(guild_create).collect());
    let mut bots = Vec::new();
    for (n, range) in ranges.iter().enumerate() {
        let owner = format!("{place}-{n}");
        bots.push(Bot::spawn(&discord, server, place, range.clone(), &owner).await);
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
    server.dump(place).await
}

async fn two_processes_store_what_one_does(server: Server) {
    let _serial = SERIAL.lock().await;
    let everything = 0..SHARDS;
    let prefix = format!("persist_t_shared_{}", server.name());
    let single = run_bots(
        server,
        &format!("{prefix}_single"),
        std::slice::from_ref(&everything),
    )
    .await;
    let shared = run_bots(server, &format!("{prefix}_two"), &[0..2, 2..4]).await;
    assert!(
        single.iter().any(|row| row.starts_with("messages ")),
        "{single:?}"
    );
    assert_eq!(
        single
            .iter()
            .filter(|row| row.starts_with("guilds "))
            .count(),
        8
    );
    let only_single: Vec<&String> = single.iter().filter(|r| !shared.contains(r)).collect();
    let only_shared: Vec<&String> = shared.iter().filter(|r| !single.contains(r)).collect();
    assert!(
        only_single.is_empty() && only_shared.is_empty(),
        "only in the single process's database: {only_single:#?}\nonly in the two processes': {only_shared:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_of_two_shards_store_what_one_process_of_four_does_postgres() {
    two_processes_store_what_one_does(Server::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_of_two_shards_store_what_one_process_of_four_does_mysql() {
    two_processes_store_what_one_does(Server::MySql).await;
}

async fn paused_process_is_fenced(server: Server) {
    let _serial = SERIAL.lock().await;
    let place = format!("persist_t_shared_{}_fence", server.name());
    let place = place.as_str();
    server.fresh(place).await;
    let discord = FakeDiscord::start().await.unwrap();
    let guilds = guilds();
    discord.set_ready_guilds(guilds.iter().map(|g| g.id));
    discord.set_after_ready(guilds.iter().map(guild_create).collect());
    let mut a = Bot::spawn(&discord, server, place, 0..2, "a").await;
    let mut b = Bot::spawn(&discord, server, place, 2..4, "b").await;
    all_shards_connected(&discord).await;
    let per_guild = traffic(&discord, &guilds, 2);
    a.committed(events_for(&a.shards, &guilds, per_guild)).await;
    b.committed(events_for(&b.shards, &guilds, per_guild)).await;

    // A stops answering, past its lease (2 s); C takes its shards over.
    a.signal("-STOP");
    let (identified, _) = discord.connections();
    let mut c = Bot::spawn(&discord, server, place, 0..2, "c").await;
    assert!(
        discord.wait_for_connections(identified + 2, 0, WAIT).await,
        "C's shards did not identify"
    );
    let taken = server
        .texts(format!(
            "SELECT CONCAT(shard_id, ' ', owner, ' ', token) FROM {place}.persist_leases ORDER BY shard_id"
        ))
        .await;
    assert_eq!(taken, ["0 c 2", "1 c 2", "2 b 1", "3 b 1"]);
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

    let ids: Vec<String> = on_a.iter().map(|g| message(g).to_string()).collect();
    let contents = server
        .texts(format!(
            "SELECT {} FROM {place}.messages WHERE id IN ({}) ORDER BY id",
            server.content(),
            ids.join(", ")
        ))
        .await;
    assert_eq!(contents, vec!["fresh".to_owned(); on_a.len()]);
    let guild_rows = server
        .dump(place)
        .await
        .iter()
        .filter(|r| r.starts_with("guilds "))
        .count();
    assert_eq!(guild_rows, guilds.len());
    for bot in [a, b, c] {
        bot.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_paused_past_its_lease_is_fenced_and_cannot_overwrite_the_new_owner_postgres() {
    paused_process_is_fenced(Server::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_paused_past_its_lease_is_fenced_and_cannot_overwrite_the_new_owner_mysql() {
    paused_process_is_fenced(Server::MySql).await;
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
        .with_env_filter("warn")
        .with_writer(std::io::stderr)
        .try_init();
    let parts: Vec<&str> = spec.split('|').collect();
    let [server, url, http, first, end, owner] = parts[..] else {
        panic!("bad spec {spec}");
    };
    let (first, end): (u32, u32) = (first.parse().unwrap(), end.parse().unwrap());
    let mut leases = LeaseConfig::new(first..end, SHARDS);
    leases.owner = owner.into();
    leases.ttl = Duration::from_secs(2);
    // Opened as a bot would, through the public API.
    let persist = match Server::named(server) {
        Server::Postgres => Persist::open_postgres(url, Some(leases), &Migrations::new()).await,
        Server::MySql => Persist::open_mysql(url, Some(leases), &Migrations::new()).await,
    }
    .unwrap();
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
                println!("stopped");
                return;
            }
            _ => println!("unknown command {line}"),
        }
    }
}
