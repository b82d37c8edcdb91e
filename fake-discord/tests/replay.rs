//! A shard that identifies again while its session is current: with
//! `replay_on_identify`, the new session carries the old one's dispatches;
//! without it, the new session starts afresh, as on Discord.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_frame(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("the connection open")
            .expect("a frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// Identifies as shard 0 of 1 and reads `count` dispatches: (event, seq).
async fn session(url: &str, count: usize) -> (Ws, Vec<(String, u64)>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next_frame(&mut ws).await["op"], 10);
    let identify = json!({"op": 2, "d": {"token": "x", "intents": 0, "shard": [0, 1],
        "properties": {}}});
    ws.send(Message::Text(identify.to_string())).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < count {
        let frame = next_frame(&mut ws).await;
        if frame["op"] == 0 {
            seen.push((
                frame["t"].as_str().unwrap().to_owned(),
                frame["s"].as_u64().unwrap(),
            ));
        }
    }
    (ws, seen)
}

/// What the second session sent, and how long its log is.
async fn reidentify(replay: bool) -> (Vec<(String, u64)>, u64) {
    let discord = fake_discord::FakeDiscord::start().await.unwrap();
    discord.replay_on_identify(replay);
    discord.set_ready_guilds([1]);
    discord.set_after_ready(vec![(
        "GUILD_CREATE".into(),
        json!({"id": "1", "name": "g"}),
    )]);
    let url = discord.gateway_url();
    let (first, seen) = session(&url, 2).await;
    assert_eq!(seen, [("READY".into(), 1), ("GUILD_CREATE".into(), 2)]);
    for n in 0..3 {
        discord
            .dispatch(
                "TYPING_START",
                json!({"channel_id": "5", "user_id": n.to_string()}),
            )
            .unwrap();
    }
    // The client restarts the shard before reading the dispatches.
    drop(first);
    let expected = if replay { 5 } else { 2 };
    let (_second, seen) = session(&url, expected).await;
    (seen, discord.last_seq())
}

#[tokio::test]
async fn a_new_identify_replays_the_old_session_when_asked() {
    let (seen, logged) = reidentify(true).await;
    assert_eq!(logged, 5);
    let names: Vec<&str> = seen.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        names,
        [
            "READY",
            "GUILD_CREATE",
            "TYPING_START",
            "TYPING_START",
            "TYPING_START"
        ]
    );
    // Numbered afresh in the new session.
    assert_eq!(
        seen.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
}

#[tokio::test]
async fn a_new_identify_starts_afresh_by_default() {
    let (seen, logged) = reidentify(false).await;
    assert_eq!(seen, [("READY".into(), 1), ("GUILD_CREATE".into(), 2)]);
    // The new session's log holds nothing of the old one's.
    assert_eq!(logged, 2);
}
