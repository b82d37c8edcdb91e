//! The gateway: one task per connection, streaming its shard's session log
//! in order, a few frames at a time, answering heartbeats in between.

use std::sync::Arc;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::{Session, Shared, dispatch_frame, payload, shard_of_dispatch};

/// Frames sent before the connection looks at what the client sent: small
/// enough that a heartbeat is answered promptly however long the backlog.
const FRAMES_PER_TURN: usize = 32;

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    crate::accept(listener, shared, "gateway", |stream, shared| async move {
        connection(stream, &shared).await
    })
    .await;
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;
type Sink = SplitSink<Ws, Message>;
type Source = SplitStream<Ws>;
type WsResult<T> = Result<T, tokio_tungstenite::tungstenite::Error>;

/// Where a connection is in its shard's session log.
#[derive(Clone, Copy)]
struct Position {
    shard: u32,
    /// Index of the next dispatch to send.
    next: usize,
}

async fn connection(stream: TcpStream, shared: &Shared) -> WsResult<()> {
    let ws = tokio_tungstenite::accept_async(stream).await?;
    let (mut sink, mut source): (Sink, Source) = ws.split();
    let kick = shared.state().kick;
    let interval = shared.state().heartbeat_interval_ms;
    send(
        &mut sink,
        json!({"op": 10, "d": {"heartbeat_interval": interval}}).to_string(),
    )
    .await?;
    // `None` until the client identified or resumed on this connection.
    let mut position: Option<Position> = None;
    loop {
        // Registered before reading the state, so no change is missed.
        let changed = shared.changed.notified();
        if shared.state().kick != kick {
            // Dropped without a close frame, like a failed network.
            return Ok(());
        }
        let frames: Vec<String> = match position {
            Some(Position { shard, next }) => match shared.state().sessions.get(&shard) {
                Some(session) => session
                    .log
                    .get(next..)
                    .unwrap_or_default()
                    .iter()
                    .take(FRAMES_PER_TURN)
                    .cloned()
                    .collect(),
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        if !frames.is_empty() {
            if let Some(p) = position.as_mut() {
                p.next += frames.len();
            }
            for frame in frames {
                sink.feed(Message::Text(frame)).await?;
            }
            sink.flush().await?;
            // Whatever the client sent meanwhile (heartbeats), without waiting.
            while let Some(message) = source.next().now_or_never() {
                let Some(message) = message else {
                    return Ok(());
                };
                if !received(message?, shared, &mut sink, &mut position).await? {
                    return Ok(());
                }
            }
            continue;
        }
        tokio::select! {
            () = changed => {}
            message = source.next() => {
                let Some(message) = message else { return Ok(()) };
                if !received(message?, shared, &mut sink, &mut position).await? {
                    return Ok(());
                }
            }
        }
    }
}

/// Handles one frame from the client; `false` when it closed.
async fn received(
    message: Message,
    shared: &Shared,
    sink: &mut Sink,
    position: &mut Option<Position>,
) -> WsResult<bool> {
    let text = match message {
        Message::Text(text) => text,
        Message::Close(_) => return Ok(false),
        _ => return Ok(true),
    };
    let Ok(frame) = serde_json::from_str::<Value>(&text) else {
        return Ok(true);
    };
    match frame["op"].as_u64() {
        Some(1) => {
            shared.state().heartbeats += 1;
            send(sink, json!({"op": 11}).to_string()).await?;
        }
        Some(2) => *position = Some(identify(shared, &frame["d"])),
        Some(8) => {
            if let Some(p) = position {
                request_members(shared, p.shard, &frame["d"]);
            }
        }
        Some(6) => match resume(shared, &frame["d"]) {
            Some(p) => *position = Some(p),
            None => send(sink, json!({"op": 9, "d": false}).to_string()).await?,
        },
        _ => {}
    }
    Ok(true)
}

async fn send(sink: &mut Sink, text: String) -> WsResult<()> {
    sink.send(Message::Text(text)).await
}

/// Starts a new session for the IDENTIFY's shard: READY with that shard's
/// guilds, then the after-READY dispatches of its guilds, then (when
/// replaying) every dispatch the shard's previous session added, in order: the new session
/// rebuilds the state the old one had reached (a READY and GUILD_CREATEs
/// alone would lose it, as the fake keeps no world state beyond its log).
fn identify(shared: &Shared, d: &Value) -> Position {
    let (shard, count) = match d["shard"].as_array().map(Vec::as_slice) {
        Some([id, count]) => (
            id.as_u64().unwrap_or(0) as u32,
            count.as_u64().unwrap_or(1).max(1) as u32,
        ),
        _ => (0, 1),
    };
    {
        let mut state = shared.state();
        state.identifies += 1;
        state.shard_count = count;
        let id = format!("fake-session-{}-{shard}", state.identifies);
        let mine = |guild: u64| crate::shard_of(guild, count) == shard;
        let guilds: Vec<u64> = state
            .ready_guilds
            .iter()
            .copied()
            .filter(|g| mine(*g))
            .collect();
        let mut ready = payload::ready(&id, &shared.gateway_url, &guilds);
        ready["shard"] = json!([shard, count]);
        let mut log = vec![dispatch_frame(1, "READY", &ready)];
        for (event, d) in &state.after_ready {
            if shard_of_dispatch(event, d, count) == shard {
                log.push(dispatch_frame(log.len() as u64 + 1, event, d));
            }
        }
        let added_from = log.len();
        let replay = state.replay_on_identify;
        if let Some(old) = state.sessions.get(&shard).filter(|_| replay) {
            for frame in old.log.get(old.added_from..).unwrap_or_default() {
                if let Some(frame) = renumbered(frame, log.len() as u64 + 1) {
                    log.push(frame);
                }
            }
        }
        state.sessions.insert(
            shard,
            Session {
                id,
                log,
                added_from,
            },
        );
    }
    shared.changed.notify_waiters();
    Position { shard, next: 0 }
}

/// A dispatch of an earlier session with sequence number `seq`; `None` for
/// RESUMED, which belonged to that session's connections.
fn renumbered(frame: &str, seq: u64) -> Option<String> {
    let mut frame: Value = serde_json::from_str(frame).ok()?;
    if frame["t"] == "RESUMED" {
        return None;
    }
    frame["s"] = json!(seq);
    Some(frame.to_string())
}

/// Members in one GUILD_MEMBERS_CHUNK, as Discord sends them.
const CHUNK_SIZE: usize = 1_000;

/// Answers REQUEST_GUILD_MEMBERS for every member (query "" and limit 0) or
/// for the first `limit`.
fn request_members(shared: &Shared, shard: u32, d: &Value) {
    {
        let mut state = shared.state();
        let Some(guild_id) = d["guild_id"]
            .as_str()
            .and_then(|g| g.parse::<u64>().ok())
            .or_else(|| d["guild_id"].as_u64())
        else {
            return;
        };
        let mut members = state
            .guild_members
            .get(&guild_id)
            .cloned()
            .unwrap_or_default();
        if let Some(limit) = d["limit"].as_u64().filter(|l| *l > 0) {
            members.truncate(limit as usize);
        }
        let nonce = d["nonce"].as_str().map(str::to_owned);
        let Some(session) = state.sessions.get_mut(&shard) else {
            return;
        };
        let chunks: Vec<&[u64]> = if members.is_empty() {
            vec![&[]]
        } else {
            members.chunks(CHUNK_SIZE).collect()
        };
        let count = chunks.len() as u32;
        for (index, chunk) in chunks.into_iter().enumerate() {
            let d = payload::members_chunk(guild_id, chunk, index as u32, count, nonce.as_deref());
            let seq = session.log.len() as u64 + 1;
            session
                .log
                .push(dispatch_frame(seq, "GUILD_MEMBERS_CHUNK", &d));
        }
    }
    shared.changed.notify_waiters();
}

/// Resumes a current session after `seq`, appending RESUMED; `None` if the
/// session is not a current one.
fn resume(shared: &Shared, d: &Value) -> Option<Position> {
    let position = {
        let mut state = shared.state();
        state.resumes += 1;
        let wanted = d["session_id"].as_str()?;
        let (shard, session) = state.sessions.iter_mut().find(|(_, s)| s.id == wanted)?;
        let seq = d["seq"].as_u64().unwrap_or(0) as usize;
        let next = seq.min(session.log.len());
        let resumed_seq = session.log.len() as u64 + 1;
        session
            .log
            .push(dispatch_frame(resumed_seq, "RESUMED", &json!({})));
        Position {
            shard: *shard,
            next,
        }
    };
    shared.changed.notify_waiters();
    Some(position)
}
