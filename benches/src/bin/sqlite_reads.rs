//! Read latency of the SQLite store with 1,000,000 messages stored, against
//! plain sqlx running the same SELECT in the same run.
//!
//! `cargo run --release -p persist-benches --bin sqlite_reads [-- MESSAGES]`
//!
//! Fills a fresh database with MESSAGES messages (default 1,000,000) in 1,000
//! channels through `SqliteStore::apply` (batches of 10,000), then times
//! 20,000 point reads (`message(id)`) and 20,000 page reads (the last 50
//! messages of a channel) at random, through the store (which decodes each
//! row into a `Message`) and through plain sqlx (which only fetches the
//! `data` text). Prints p50 and p99 of each and the ratios.

use std::time::Instant;

use persist_benches::{check_total, fill, report};
use persist_core::{ChannelId, MessagePage, Migrations, ReadApi};
use persist_sqlite::{SqliteConfig, SqliteStore};
use sqlx::Row;

const CHANNELS: u64 = 1_000;
const READS: usize = 20_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    check_total(total, CHANNELS)?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("reads.db");
    let store = SqliteStore::open(SqliteConfig::new(&path), &Migrations::new()).await?;
    let (ids, filled) = fill(&store, total, CHANNELS).await?;
    println!(
        "filled {total} messages in {:.1?} ({:.0} messages/s through SqliteStore::apply)",
        filled,
        total as f64 / filled.as_secs_f64()
    );

    let raw = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .read_only(true),
        )
        .await?;
    let mut rng = fastrand::Rng::with_seed(7);
    // Warm both paths (statement caches, page cache).
    for _ in 0..1_000 {
        let id = ids[rng.u64(..ids.len() as u64) as usize];
        store.message(id).await?;
        sqlx::query("SELECT data FROM messages WHERE id = ?1")
            .bind(id.get() as i64)
            .fetch_optional(&raw)
            .await?;
    }

    let (mut ours, mut plain) = (Vec::with_capacity(READS), Vec::with_capacity(READS));
    for _ in 0..READS {
        // Each path reads its own random key, so neither warms the other's cache.
        let id = ids[rng.u64(..ids.len() as u64) as usize];
        let other = ids[rng.u64(..ids.len() as u64) as usize];
        let t = Instant::now();
        let found = store.message(id).await?;
        ours.push(t.elapsed());
        assert!(found.is_some());
        let t = Instant::now();
        let row = sqlx::query("SELECT data FROM messages WHERE id = ?1")
            .bind(other.get() as i64)
            .fetch_optional(&raw)
            .await?;
        plain.push(t.elapsed());
        assert!(row.is_some());
    }
    report(
        "point read: message(id)",
        &mut ours,
        "plain sqlx",
        &mut plain,
    );

    let (mut ours, mut plain) = (Vec::with_capacity(READS), Vec::with_capacity(READS));
    for _ in 0..READS {
        let channel = ChannelId::new(1 + rng.u64(..CHANNELS));
        let other = ChannelId::new(1 + rng.u64(..CHANNELS));
        let t = Instant::now();
        let page = store
            .channel_messages(channel, MessagePage::Latest, 50)
            .await?;
        ours.push(t.elapsed());
        assert_eq!(page.len(), 50);
        let t = Instant::now();
        let rows = sqlx::query(
            "SELECT data FROM messages WHERE channel_id = ?1 ORDER BY id DESC LIMIT 50",
        )
        .bind(other.get() as i64)
        .fetch_all(&raw)
        .await?;
        plain.push(t.elapsed());
        assert_eq!(rows.len(), 50);
        let _ = rows[0].try_get::<&str, _>(0)?;
    }
    report(
        "page read: last 50 of a channel",
        &mut ours,
        "plain sqlx",
        &mut plain,
    );
    let size = std::fs::metadata(&path)?.len()
        + std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
    println!(
        "database size: {:.0} MiB ({:.0} bytes per message)",
        size as f64 / 1048576.0,
        size as f64 / total as f64
    );
    store.close().await?;
    Ok(())
}
