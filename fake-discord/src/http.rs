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
    let text = String::from_utf8_lossy(&head);
    let path = text
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    shared.state().http_requests.push(path.clone());
    let shards = shared.state().shard_count;
    let (status, body) = answer(&path, &shared.gateway_url, shards);
    let body = body.to_string();
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
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
