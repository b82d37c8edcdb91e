//! The gateway: one task per connection, streaming the session log in order.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::{Session, Shared, dispatch_frame, payload};

/// Heartbeats are rare enough not to matter and frequent enough to be seen.
const HEARTBEAT_INTERVAL_MS: u64 = 5_000;

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    crate::accept(listener, shared, "gateway", |stream, shared| async move {
        connection(stream, &shared).await
    })
    .await;
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;
type WsResult<T> = Result<T, tokio_tungstenite::tungstenite::Error>;

async fn connection(stream: TcpStream, shared: &Shared) -> WsResult<()> {
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
    let kick = shared.state().kick;
    send(
        &mut ws,
        json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}).to_string(),
    )
    .await?;
    // Index into the session log of the next dispatch to send; `None` until
    // the client identified or resumed on this connection.
    let mut next: Option<usize> = None;
    loop {
        // Registered before reading the state, so no change is missed.
        let changed = shared.changed.notified();
        if shared.state().kick != kick {
            // Dropped without a close frame, like a failed network.
            return Ok(());
        }
        if let Some(index) = next.as_mut() {
            let frames: Vec<String> = match &shared.state().session {
                Some(session) => session.log.get(*index..).unwrap_or_default().to_vec(),
                None => Vec::new(),
            };
            *index += frames.len();
            for frame in frames {
                ws.feed(Message::Text(frame)).await?;
            }
            ws.flush().await?;
        }
        tokio::select! {
            () = changed => {}
            message = ws.next() => {
                let Some(message) = message else { return Ok(()) };
                let text = match message? {
                    Message::Text(text) => text,
                    Message::Close(_) => return Ok(()),
                    _ => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                match frame["op"].as_u64() {
                    Some(1) => send(&mut ws, json!({"op": 11}).to_string()).await?,
                    Some(2) => next = Some(identify(shared)),
                    Some(8) => request_members(shared, &frame["d"]),
                    Some(6) => match resume(shared, &frame["d"]) {
                        Some(index) => next = Some(index),
                        None => {
                            send(&mut ws, json!({"op": 9, "d": false}).to_string()).await?;
                        }
                    },
                    _ => {}
                }
            }
        }
    }
}

async fn send(ws: &mut Ws, text: String) -> WsResult<()> {
    ws.send(Message::Text(text)).await
}

/// Starts a new session: READY, then the after-READY dispatches.
fn identify(shared: &Shared) -> usize {
    {
        let mut state = shared.state();
        state.identifies += 1;
        let id = format!("fake-session-{}", state.identifies);
        let ready = payload::ready(&id, &shared.gateway_url, &state.ready_guilds);
        let mut log = vec![dispatch_frame(1, "READY", &ready)];
        for (event, d) in &state.after_ready {
            log.push(dispatch_frame(log.len() as u64 + 1, event, d));
        }
        state.session = Some(Session { id, log });
    }
    shared.changed.notify_waiters();
    0
}

/// Members in one GUILD_MEMBERS_CHUNK, as Discord sends them.
const CHUNK_SIZE: usize = 1_000;

/// Answers REQUEST_GUILD_MEMBERS for every member (query "" and limit 0) or
/// for the first `limit`.
fn request_members(shared: &Shared, d: &Value) {
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
        let Some(session) = state.session.as_mut() else {
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

/// Resumes the current session after `seq`, appending RESUMED; `None` if the
/// session is not the current one.
fn resume(shared: &Shared, d: &Value) -> Option<usize> {
    let index = {
        let mut state = shared.state();
        state.resumes += 1;
        let session = state.session.as_mut()?;
        if d["session_id"].as_str() != Some(session.id.as_str()) {
            return None;
        }
        let seq = d["seq"].as_u64().unwrap_or(0) as usize;
        let index = seq.min(session.log.len());
        let resumed_seq = session.log.len() as u64 + 1;
        session
            .log
            .push(dispatch_frame(resumed_seq, "RESUMED", &json!({})));
        index
    };
    shared.changed.notify_waiters();
    Some(index)
}
