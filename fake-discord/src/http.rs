//! The HTTP API: just what a serenity client calls to start.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{Shared, payload};

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    crate::accept(listener, shared, "HTTP", |stream, shared| async move {
        request(stream, &shared).await
    })
    .await;
}

/// Answers one request and closes the connection.
async fn request(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 64 * 1024 {
            return Ok(());
        }
    }
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(head.len(), |p| p + 4);
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut request_line = text.lines().next().unwrap_or("").split_whitespace();
    let method = request_line.next().unwrap_or("GET").to_owned();
    let path = request_line.next().unwrap_or("/").to_owned();
    let length = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = head[end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    shared.state().http_requests.push(path.clone());
    let shards = shared.state().shard_count;
    let (status, body) = match sent_message(&method, &path, &body) {
        Some((channel_id, content)) => {
            let mut message = payload::message_create(
                payload::snowflake(crate::now_ms(), 0),
                channel_id,
                0,
                payload::BOT_ID,
                &content,
            );
            // The answer names no guild (the fake does not track channels').
            if let Some(fields) = message.as_object_mut() {
                fields.remove("guild_id");
                fields.remove("member");
            }
            shared.state().sent_messages.push((channel_id, content));
            ("200 OK", message)
        }
        None => answer(&path, &shared.gateway_url, shards),
    };
    let body = body.to_string();
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// `POST /channels/{id}/messages`: the channel and the content sent.
fn sent_message(method: &str, path: &str, body: &[u8]) -> Option<(u64, String)> {
    if method != "POST" {
        return None;
    }
    let path = path.split('?').next().unwrap_or(path);
    let channel = path
        .strip_suffix("/messages")?
        .rsplit_once("/channels/")?
        .1
        .parse()
        .ok()?;
    let body: Value = serde_json::from_slice(body).ok()?;
    Some((
        channel,
        body["content"].as_str().unwrap_or_default().to_owned(),
    ))
}

fn answer(path: &str, gateway_url: &str, shards: u32) -> (&'static str, Value) {
    let path = path.split('?').next().unwrap_or(path);
    if path.ends_with("/gateway") {
        ("200 OK", json!({"url": gateway_url}))
    } else if path.ends_with("/gateway/bot") {
        (
            "200 OK",
            json!({"url": gateway_url, "shards": shards, "session_start_limit":
                {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 16}}),
        )
    } else if path.ends_with("/users/@me") {
        ("200 OK", payload::bot_user())
    } else {
        (
            "404 Not Found",
            json!({"message": "404: Not Found", "code": 0}),
        )
    }
}
