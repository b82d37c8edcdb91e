//! What a bot operator reads: a real session through the fake Discord logs
//! the store opening, the collector's install, READY's reconciliation with
//! its counts and shutdown at INFO; every batch at DEBUG; every event at
//! TRACE inside a span with its shard id and guild id.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{NoHandler, connect, guild_create, guild_spec, id, seen};
use fake_discord::FakeDiscord;
use fake_discord::payload as p;
use persist_serenity::Persist;

/// Everything logged, shared with the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_logs_what_an_operator_wants_at_each_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Global, as the shard's collector runs on serenity's threads.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "persist_core=debug,persist_serenity=trace,persist_sqlite=info",
        ))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let discord = FakeDiscord::start().await.unwrap();
    let spec = guild_spec(1, 2, 3);
    discord.set_ready_guilds([spec.id]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    let persist = Persist::builder()
        .sqlite(dir.path().join("logs.db"))
        .open()
        .await
        .unwrap();
    let running = connect(&discord, &persist, NoHandler).await;
    seen(&persist, 2).await;
    let message = p::message_create(id(9_000), spec.channels[0], spec.id, spec.members[0], "hi");
    discord.dispatch("MESSAGE_CREATE", message).unwrap();
    seen(&persist, 3).await;
    persist.flush().await.unwrap();
    running.stop().await;
    persist.shutdown().await.unwrap();

    let lines = captured.lines();
    let find = |level: &str, text: &str| {
        lines
            .iter()
            .find(|l| l.contains(level) && l.contains(text))
            .unwrap_or_else(|| panic!("no {level} line with {text:?} in:\n{}", lines.join("\n")))
            .clone()
    };
    find("INFO", "cache opened");
    find("INFO", "cache collector installed on the shard");
    let ready = find("INFO", "READY reconciled");
    assert!(
        ready.contains("shard_id=0") && ready.contains("removed=0"),
        "{ready}"
    );
    let shutdown = find("INFO", "cache shut down");
    assert!(shutdown.contains("mutations_committed="), "{shutdown}");
    find("INFO", "SQLite store closed");
    let batch = find("DEBUG", "batch committed");
    assert!(
        batch.contains("mutations=") && batch.contains("commit_ms="),
        "{batch}"
    );
    let event = find("TRACE", "event=\"MESSAGE_CREATE\"");
    assert!(event.contains("shard{shard_id=0"), "{event}");
    assert!(event.contains(&format!("guild_id={}", spec.id)), "{event}");
    // INFO stays quiet: a line per thing, not per event.
    let info = lines.iter().filter(|l| l.contains(" INFO ")).count();
    assert!(info < 20, "{info} INFO lines:\n{}", lines.join("\n"));
}
