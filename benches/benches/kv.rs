//! redb and sled: applying batches of 1,000 message upserts through our
//! store, against each engine's raw floor measured in the same run.
//!
//! `cargo bench -p persist-benches --bench kv`
//!
//! - `store`: `RedbStore`/`SledStore::apply` of 1,000 `Mutation::upsert(message)`:
//!   encoding, the batch overlay, index and count upkeep, then the commit.
//! - `raw_floor`: the very key/value pairs our store writes for the same
//!   batch (worked out before the clock starts), written in one transaction
//!   with the engine's own API and nothing of ours: redb with a durable
//!   commit, sled in one multi-tree transaction and a flush.
//!
//! Each variant writes to its own database, which grows as the bench runs.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use persist_benches::messages;
use persist_core::{Migrations, Mutation, Store};
use persist_kv::{KvEngine, Space, WriteSet};
use persist_redb::{RedbEngine, RedbStore};
use persist_sled::{SledEngine, SledStore};
use tokio::runtime::Runtime;

const BATCH: usize = 1_000;
const CHANNELS: u64 = 50;

static TOTALS: Mutex<Vec<(String, Duration, u64)>> = Mutex::new(Vec::new());

fn record(name: String, elapsed: Duration, rows: u64) {
    let mut totals = TOTALS.lock().unwrap();
    match totals.iter_mut().find(|(n, ..)| *n == name) {
        Some((_, total, count)) => {
            *total += elapsed;
            *count += rows;
        }
        None => totals.push((name, elapsed, rows)),
    }
}

fn rows_per_second(name: &str) -> Option<f64> {
    let totals = TOTALS.lock().unwrap();
    totals
        .iter()
        .find(|(n, ..)| n == name)
        .map(|(_, total, count)| *count as f64 / total.as_secs_f64())
}

fn batch(offset: u64) -> Vec<Mutation> {
    messages(BATCH, offset, CHANNELS)
        .into_iter()
        .map(Mutation::upsert)
        .collect()
}

/// The pairs our store would write for `batch` on top of `engine`'s data.
fn pairs<E: KvEngine>(engine: &E, batch: &[Mutation]) -> WriteSet {
    let view = engine.read().unwrap();
    persist_kv::batch_writes(&*view, persist_kv::CURRENT_LAYOUT, batch).unwrap()
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

/// Times our store applying fresh batches.
fn bench_store(group: &mut Group<'_>, rt: &Runtime, store: &dyn Store, engine: &str) {
    let mut offset = 0;
    group.bench_function("store", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let mutations = batch(offset);
                offset += BATCH as u64;
                let started = Instant::now();
                rt.block_on(store.apply(&mutations)).unwrap();
                elapsed += started.elapsed();
            }
            record(format!("{engine}/store"), elapsed, iters * BATCH as u64);
            elapsed
        })
    });
}

/// Times `write` putting the pairs our store would write for the same
/// batches (worked out on `twin`, which stays in step) with the engine's API.
fn bench_floor<E: KvEngine>(
    group: &mut Group<'_>,
    twin: &E,
    engine: &str,
    write: impl Fn(&WriteSet),
) {
    let mut offset = 0;
    group.bench_function("raw_floor", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let writes = pairs(twin, &batch(offset));
                twin.commit(writes.clone()).unwrap();
                offset += BATCH as u64;
                let started = Instant::now();
                write(&writes);
                elapsed += started.elapsed();
            }
            record(format!("{engine}/raw_floor"), elapsed, iters * BATCH as u64);
            elapsed
        })
    });
}

fn main() {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut criterion = Criterion::default().configure_from_args();

    let mut group = criterion.benchmark_group("redb_apply_1000_messages");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    let store = rt
        .block_on(RedbStore::open(
            dir.path().join("store.redb"),
            &Migrations::new(),
        ))
        .unwrap();
    bench_store(&mut group, &rt, &store, "redb");
    drop(store);
    let twin = RedbEngine::open(dir.path().join("twin.redb")).unwrap();
    let db = redb::Database::create(dir.path().join("raw.redb")).unwrap();
    bench_floor(&mut group, &twin, "redb", |writes| redb_raw(&db, writes));
    group.finish();

    let mut group = criterion.benchmark_group("sled_apply_1000_messages");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    let store = rt
        .block_on(SledStore::open(
            dir.path().join("store.sled"),
            &Migrations::new(),
        ))
        .unwrap();
    bench_store(&mut group, &rt, &store, "sled");
    drop(store);
    let twin = SledEngine::open(dir.path().join("twin.sled")).unwrap();
    // The same configuration as the store's: no background flusher, a flush per commit.
    let db = sled::Config::new()
        .path(dir.path().join("raw.sled"))
        .flush_every_ms(None)
        .open()
        .unwrap();
    let trees: Vec<sled::Tree> = Space::ALL
        .iter()
        .map(|s| db.open_tree(s.name()).unwrap())
        .collect();
    bench_floor(&mut group, &twin, "sled", |writes| {
        sled_raw(&db, &trees, writes)
    });
    group.finish();

    criterion.final_summary();

    println!("\nrows/s over every timed batch of 1,000 (ratio = ours / the engine's raw floor):");
    for engine in ["redb", "sled"] {
        if let (Some(ours), Some(floor)) = (
            rows_per_second(&format!("{engine}/store")),
            rows_per_second(&format!("{engine}/raw_floor")),
        ) {
            println!(
                "  {engine}: store {ours:.0}/s vs raw floor {floor:.0}/s = {:.2} of the floor",
                ours / floor
            );
        }
    }
}

type RawTable<'txn> = redb::Table<'txn, &'static [u8], &'static [u8]>;

fn redb_raw(db: &redb::Database, writes: &WriteSet) {
    let txn = db.begin_write().unwrap();
    let mut current: Option<(Space, RawTable<'_>)> = None;
    for (space, key, change) in writes.iter() {
        if current.as_ref().is_none_or(|(s, _)| *s != space) {
            let def = redb::TableDefinition::<&[u8], &[u8]>::new(space.name());
            current = Some((space, txn.open_table(def).unwrap()));
        }
        let Some((_, table)) = current.as_mut() else {
            continue;
        };
        match change {
            Some(v) => {
                table.insert(key, v).unwrap();
            }
            None => {
                table.remove(key).unwrap();
            }
        }
    }
    drop(current);
    txn.commit().unwrap();
}

fn sled_raw(db: &sled::Db, trees: &[sled::Tree], writes: &WriteSet) {
    use sled::Transactional;
    let refs: Vec<&sled::Tree> = trees.iter().collect();
    refs.as_slice()
        .transaction(|txs| {
            for (space, key, change) in writes.iter() {
                let tree = &txs[space as usize];
                match change {
                    Some(v) => {
                        tree.insert(key, v)?;
                    }
                    None => {
                        tree.remove(key)?;
                    }
                }
            }
            Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
        })
        .unwrap();
    db.flush().unwrap();
}
