//! Read latency of the redb and sled stores with 1,000,000 messages stored,
//! against the engine's own API doing the same lookups in the same run.
//!
//! `cargo run --release -p persist-benches --bin kv_reads -- redb|sled [MESSAGES]`
//!
//! Fills a fresh store with MESSAGES messages (default 1,000,000) in 1,000
//! channels through `apply` (batches of 10,000), then times 20,000 point
//! reads (`message(id)`) and 20,000 page reads (the last 50 messages of a
//! channel) at random: through the store (which decodes each record into a
//! `Message`) and through the engine directly (a get of the same key; a
//! reverse range of the same index and a get per message, no decoding).

use std::time::Instant;

use persist_benches::{check_total, fill, report};
use persist_core::{ChannelId, MessagePage, Migrations, ReadApi, Store};
use persist_kv::{KvEngine, Space, key};
use persist_redb::RedbStore;
use persist_sled::SledStore;

const CHANNELS: u64 = 1_000;
const READS: usize = 20_000;

async fn run<S: Store, E: KvEngine>(
    name: &str,
    store: &S,
    engine: &E,
    total: u64,
) -> Result<(), persist_core::Error> {
    let (ids, filled) = fill(store, total, CHANNELS).await?;
    println!(
        "{name}: filled {total} messages in {filled:.1?} ({:.0} messages/s through apply)",
        total as f64 / filled.as_secs_f64()
    );
    let mut rng = fastrand::Rng::with_seed(7);
    let (mut ours, mut raw) = (Vec::with_capacity(READS), Vec::with_capacity(READS));
    for round in 0..READS + 1_000 {
        // Each path reads its own random key, so neither warms the other's cache.
        let id = ids[rng.u64(..ids.len() as u64) as usize];
        let other = ids[rng.u64(..ids.len() as u64) as usize];
        let t = Instant::now();
        let found = store.message(id).await?;
        let a = t.elapsed();
        let t = Instant::now();
        let bytes = engine
            .read()?
            .get(Space::Messages, &key::one(other.get()))?;
        let b = t.elapsed();
        assert!(found.is_some() && bytes.is_some());
        if round >= 1_000 {
            ours.push(a);
            raw.push(b);
        }
    }
    report("point read: message(id)", &mut ours, "engine", &mut raw);
    let (mut ours, mut raw) = (Vec::with_capacity(READS), Vec::with_capacity(READS));
    for round in 0..READS + 1_000 {
        let channel = 1 + rng.u64(..CHANNELS);
        let other = 1 + rng.u64(..CHANNELS);
        let t = Instant::now();
        let page = store
            .channel_messages(ChannelId::new(channel), MessagePage::Latest, 50)
            .await?;
        let a = t.elapsed();
        let t = Instant::now();
        let view = engine.read()?;
        let (from, to) = key::scope(other, 0, None);
        let index = view.range(Space::ChannelMessages, &from, &to, true, 50)?;
        let mut bytes = 0;
        for (k, _) in &index {
            bytes += view
                .get(Space::Messages, &key::one(key::second(k).unwrap_or(0)))?
                .map_or(0, |v| v.len());
        }
        let b = t.elapsed();
        assert!(page.len() == 50 && index.len() == 50 && bytes > 0);
        if round >= 1_000 {
            ours.push(a);
            raw.push(b);
        }
    }
    report(
        "page read: last 50 of a channel",
        &mut ours,
        "engine",
        &mut raw,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let engine = args.next().unwrap_or_else(|| "redb".into());
    let total: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    check_total(total, CHANNELS)?;
    let dir = tempfile::tempdir()?;
    match engine.as_str() {
        "redb" => {
            let path = dir.path().join("reads.redb");
            let store = RedbStore::open(&path, &Migrations::new()).await?;
            run("redb", &store, store.engine(), total).await?;
        }
        "sled" => {
            let path = dir.path().join("reads.sled");
            let store = SledStore::open(&path, &Migrations::new()).await?;
            run("sled", &store, store.engine(), total).await?;
        }
        other => return Err(format!("unknown engine {other:?}: use redb or sled").into()),
    }
    Ok(())
}
