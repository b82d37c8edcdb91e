//! A fake Discord on loopback: the HTTP API a serenity client calls at
//! start-up (pointed at with `HttpBuilder::proxy`) and a plain `ws://`
//! gateway that speaks HELLO, IDENTIFY, READY, numbered dispatches,
//! heartbeat ACKs and RESUME.
//!
//! Tests, the demo and the benchmarks use it to drive a real serenity
//! `Client` without a token or a network. Dispatches are appended to the
//! current session's log with consecutive sequence numbers; a connection
//! streams the log in order, and a RESUME replays what the client missed.
//! With [`FakeDiscord::replay_on_identify`], a client that identifies again
//! while its session is current (serenity restarts a shard whose heartbeat
//! went unacknowledged) gets a new READY and then the old session's
//! dispatches again, in order: a slow client is never left waiting for
//! traffic the old connection dropped (events it had already applied
//! arrive twice). Without it, as on Discord, a new session starts afresh.
//!
//! ```
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let discord = fake_discord::FakeDiscord::start().await?;
//! assert!(discord.gateway_url().starts_with("ws://127.0.0.1:"));
//! assert!(discord.http_url().starts_with("http://127.0.0.1:"));
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

#![warn(missing_docs)]
#![recursion_limit = "256"]

mod gateway;
mod http;
pub mod payload;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// A running fake Discord. Dropping it stops accepting connections.
///
/// It shards as Discord does: each IDENTIFY's `[shard_id, shard_count]` is
/// echoed in READY, a shard's session carries only the dispatches of its
/// guilds (`(guild_id >> 22) % shard_count`), and dispatches without a guild
/// go to shard 0.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    gateway_addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// State shared with the connection tasks.
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Wakes connections (new dispatches, a kick) and waiters.
    changed: Notify,
    gateway_url: String,
}

pub(crate) struct State {
    /// The current session of each shard, once it identified.
    sessions: std::collections::HashMap<u32, Session>,
    /// The shard count of the last IDENTIFY (and what `/gateway/bot` advises).
    shard_count: u32,
    /// What HELLO asks of the client.
    heartbeat_interval_ms: u64,
    /// Heartbeats received (and acknowledged).
    heartbeats: u64,
    /// Dispatches sent right after READY in every new session, back to back.
    after_ready: Vec<(String, Value)>,
    /// READY's guild list (as unavailable guilds).
    ready_guilds: Vec<u64>,
    /// Every member of a guild, for REQUEST_GUILD_MEMBERS (op 8).
    guild_members: std::collections::HashMap<u64, Vec<u64>>,
    identifies: u32,
    resumes: u32,
    /// Bumped to make every open connection drop without a close frame.
    kick: u64,
    http_requests: Vec<String>,
    /// Messages the bot sent (`POST /channels/{id}/messages`).
    sent_messages: Vec<(u64, String)>,
    /// Whether a new IDENTIFY of a shard with a current session replays
    /// that session's dispatches.
    replay_on_identify: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            sessions: Default::default(),
            shard_count: 1,
            heartbeat_interval_ms: DEFAULT_HEARTBEAT_INTERVAL_MS,
            heartbeats: 0,
            after_ready: Vec::new(),
            ready_guilds: Vec::new(),
            guild_members: Default::default(),
            identifies: 0,
            resumes: 0,
            kick: 0,
            http_requests: Vec::new(),
            sent_messages: Vec::new(),
            replay_on_identify: false,
        }
    }
}

/// Rare enough not to matter, frequent enough to be seen.
const DEFAULT_HEARTBEAT_INTERVAL_MS: u64 = 5_000;

/// The shard a guild belongs to (Discord's formula).
pub fn shard_of(guild_id: u64, shard_count: u32) -> u32 {
    ((guild_id >> 22) % u64::from(shard_count.max(1))) as u32
}

/// The shard a dispatch goes to: its guild's, or shard 0 for the rest (DMs).
pub(crate) fn shard_of_dispatch(event: &str, d: &Value, shard_count: u32) -> u32 {
    let guild = match event {
        "GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE" => &d["id"],
        _ => &d["guild_id"],
    };
    guild
        .as_str()
        .and_then(|g| g.parse().ok())
        .or_else(|| guild.as_u64())
        .map_or(0, |g| shard_of(g, shard_count))
}

/// One gateway session: every dispatch sent in it, in order (seq = index + 1).
pub(crate) struct Session {
    id: String,
    log: Vec<String>,
    /// Where the dispatches added after the session's start begin (READY
    /// and the after-READY dispatches come before).
    added_from: usize,
}

fn lock(mutex: &Mutex<State>) -> MutexGuard<'_, State> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// Accepts connections for ever, each handled in its own task.
pub(crate) async fn accept<F, Fut, E>(
    listener: TcpListener,
    shared: Arc<Shared>,
    what: &'static str,
    handle: F,
) where
    F: Fn(tokio::net::TcpStream, Arc<Shared>) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
    E: std::fmt::Display,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let connection = handle(stream, Arc::clone(&shared));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("fake {what} connection ended: {e}");
            }
        });
    }
}

/// A gateway frame for a dispatch.
pub(crate) fn dispatch_frame(seq: u64, event: &str, d: &Value) -> String {
    json!({"op": 0, "s": seq, "t": event, "d": d}).to_string()
}

/// A serenity `ClientBuilder` pointed at a fake Discord's HTTP API by its
/// URL ([`FakeDiscord::http_url`]): how a bot in another process connects.
pub fn client_builder_at(
    http_url: &str,
    intents: serenity::all::GatewayIntents,
) -> serenity::all::ClientBuilder {
    let http = serenity::all::HttpBuilder::new("fake-token")
        .proxy(http_url)
        .ratelimiter_disabled(true)
        .build();
    serenity::all::ClientBuilder::new_with_http(http, intents)
}

impl FakeDiscord {
    /// Starts the HTTP API and the gateway on two free loopback ports.
    pub async fn start() -> std::io::Result<Self> {
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let gateway = TcpListener::bind("127.0.0.1:0").await?;
        let http_addr = http.local_addr()?;
        let gateway_addr = gateway.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            gateway_url: format!("ws://{gateway_addr}"),
        });
        let tasks = vec![
            tokio::spawn(http::serve(http, Arc::clone(&shared))),
            tokio::spawn(gateway::serve(gateway, Arc::clone(&shared))),
        ];
        Ok(Self {
            shared,
            http_addr,
            gateway_addr,
            tasks,
        })
    }

    /// The base URL to give `HttpBuilder::proxy`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// A serenity `ClientBuilder` pointed at this fake Discord (HTTP through
    /// `HttpBuilder::proxy`, rate limiter off).
    pub fn client_builder(
        &self,
        intents: serenity::all::GatewayIntents,
    ) -> serenity::all::ClientBuilder {
        client_builder_at(&self.http_url(), intents)
    }

    /// The gateway's URL (what `GET /gateway` answers).
    pub fn gateway_url(&self) -> String {
        format!("ws://{}", self.gateway_addr)
    }

    /// Sets the guilds READY lists (as unavailable) in every new session.
    pub fn set_ready_guilds(&self, guilds: impl IntoIterator<Item = u64>) {
        self.shared.state().ready_guilds = guilds.into_iter().collect();
    }

    /// Sets the dispatches sent right after READY, with no delay, in every
    /// new session (typically the GUILD_CREATEs).
    pub fn set_after_ready(&self, dispatches: Vec<(String, Value)>) {
        self.shared.state().after_ready = dispatches;
    }

    /// Sets every member of a guild: a REQUEST_GUILD_MEMBERS (op 8) for it
    /// is answered with GUILD_MEMBERS_CHUNKs of up to 1,000 members.
    pub fn set_guild_members(&self, guild_id: u64, members: Vec<u64>) {
        self.shared.state().guild_members.insert(guild_id, members);
    }

    /// Appends a dispatch to the current session of the shard it belongs
    /// to (its guild's, shard 0 without one) and returns its sequence
    /// number; `None` if that shard has not identified yet.
    pub fn dispatch(&self, event: &str, d: Value) -> Option<u64> {
        let seq = {
            let mut state = self.shared.state();
            let shard = shard_of_dispatch(event, &d, state.shard_count);
            let session = state.sessions.get_mut(&shard)?;
            let seq = session.log.len() as u64 + 1;
            session.log.push(dispatch_frame(seq, event, &d));
            seq
        };
        self.shared.changed.notify_waiters();
        Some(seq)
    }

    /// Makes a new IDENTIFY of a shard whose session is current (a client
    /// that restarted the shard) replay that session's dispatches after
    /// the new READY, so nothing sent to the old connection is lost.
    pub fn replay_on_identify(&self, replay: bool) {
        self.shared.state().replay_on_identify = replay;
    }

    /// Sets the heartbeat interval HELLO asks of new connections.
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        self.shared.state().heartbeat_interval_ms = interval.as_millis().max(1) as u64;
    }

    /// How many heartbeats the gateway has received and acknowledged.
    pub fn heartbeats(&self) -> u64 {
        self.shared.state().heartbeats
    }

    /// The shards that have a current session.
    pub fn shards(&self) -> Vec<u32> {
        let mut shards: Vec<u32> = self.shared.state().sessions.keys().copied().collect();
        shards.sort_unstable();
        shards
    }

    /// Drops every open gateway connection without a close frame, as a
    /// network failure would; the session stays resumable.
    pub fn drop_connections(&self) {
        self.shared.state().kick += 1;
        self.shared.changed.notify_waiters();
    }

    /// Forgets the current session, so the next RESUME is refused and the
    /// client identifies again (a new READY).
    pub fn invalidate_session(&self) {
        self.shared.state().sessions.clear();
        self.drop_connections();
    }

    /// How many IDENTIFYs and RESUMEs the gateway has answered.
    pub fn connections(&self) -> (u32, u32) {
        let state = self.shared.state();
        (state.identifies, state.resumes)
    }

    /// The number of dispatches in the current sessions so far, all shards.
    pub fn last_seq(&self) -> u64 {
        self.shared
            .state()
            .sessions
            .values()
            .map(|s| s.log.len() as u64)
            .sum()
    }

    /// The messages the bot sent, as channel id and content, in order.
    pub fn sent_messages(&self) -> Vec<(u64, String)> {
        self.shared.state().sent_messages.clone()
    }

    /// The paths of the HTTP requests served, in order.
    pub fn http_requests(&self) -> Vec<String> {
        self.shared.state().http_requests.clone()
    }

    /// Waits until `identifies` IDENTIFYs and `resumes` RESUMEs have been
    /// answered, or `timeout` passes; returns whether they were.
    pub async fn wait_for_connections(
        &self,
        identifies: u32,
        resumes: u32,
        timeout: Duration,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            let (i, r) = self.connections();
            if i >= identifies && r >= resumes {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.drop_connections();
    }
}

/// Milliseconds since 1970 now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
