//! SQLite: applying batches of 1,000 message upserts through `SqliteStore`,
//! against the raw floors measured in the same run.
//!
//! `cargo bench -p persist-benches --bench sqlite`
//!
//! - `persist_store`: `SqliteStore::apply` of 1,000 `Mutation::upsert(message)`
//!   (serialization, typed columns and the multi-row upsert are all ours).
//! - `sqlx_prepared_floor`: the same rows (pre-serialized) inserted by plain
//!   sqlx in one transaction with one prepared statement, a row at a time.
//! - `rusqlite_in_thread_floor`: the same rows inserted by rusqlite in the
//!   bench's own thread, one transaction, one prepared statement: SQLite's
//!   own floor, with no hop to sqlx's worker thread.
//!
//! Every variant writes to its own file with the store's pragmas (WAL,
//! synchronous = NORMAL, a 64 MiB page cache) and a growing table with the
//! store's indexes, as a cache does.

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use persist_benches::messages;
use persist_core::{Migrations, Mutation, Store};
use persist_sqlite::{SqliteConfig, SqliteStore};
use sqlx::{ConnectOptions as _, Connection as _};
use tokio::runtime::Runtime;

const BATCH: usize = 1_000;
const CHANNELS: u64 = 50;

static MEANS: Mutex<Vec<(&'static str, Duration, u64)>> = Mutex::new(Vec::new());

fn record(name: &'static str, elapsed: Duration, rows: u64) {
    let mut means = MEANS.lock().unwrap();
    match means.iter_mut().find(|(n, ..)| *n == name) {
        Some((_, total, count)) => {
            *total += elapsed;
            *count += rows;
        }
        None => means.push((name, elapsed, rows)),
    }
}

fn rows_per_second(name: &str) -> Option<f64> {
    let means = MEANS.lock().unwrap();
    means
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, total, count)| *count as f64 / total.as_secs_f64())
}

/// The rows as every floor inserts them.
fn rows(offset: u64) -> Vec<(i64, i64, i64, i64, String)> {
    messages(BATCH, offset, CHANNELS)
        .into_iter()
        .map(|m| {
            (
                m.id.get() as i64,
                m.channel_id.get() as i64,
                m.guild_id.map_or(0, |g| g.get()) as i64,
                m.author.id.get() as i64,
                serde_json::to_string(&m).unwrap(),
            )
        })
        .collect()
}

const INSERT: &str =
    "INSERT INTO messages (id, channel_id, guild_id, author_id, data) VALUES (?1, ?2, ?3, ?4, ?5)";
const SCHEMA: &str = "CREATE TABLE messages (id INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL, \
    guild_id INTEGER, author_id INTEGER, data TEXT NOT NULL); \
    CREATE INDEX messages_by_channel ON messages (channel_id, id); \
    CREATE INDEX messages_by_guild ON messages (guild_id) WHERE guild_id IS NOT NULL;";

fn main() {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("sqlite_apply_1000_messages");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);

    let store = rt
        .block_on(SqliteStore::open(
            SqliteConfig::new(dir.path().join("store.db")),
            &Migrations::new(),
        ))
        .unwrap();
    let mut offset = 0;
    group.bench_function("persist_store", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let batch: Vec<Mutation> = messages(BATCH, offset, CHANNELS)
                    .into_iter()
                    .map(Mutation::upsert)
                    .collect();
                offset += BATCH as u64;
                let started = Instant::now();
                rt.block_on(store.apply(&batch)).unwrap();
                elapsed += started.elapsed();
            }
            record("persist_store", elapsed, iters * BATCH as u64);
            elapsed
        })
    });

    let mut conn = rt
        .block_on(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.path().join("sqlx.db"))
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .pragma("cache_size", persist_sqlite::CACHE_SIZE_PRAGMA)
                .connect(),
        )
        .unwrap();
    rt.block_on(sqlx::raw_sql(SCHEMA).execute(&mut conn))
        .unwrap();
    let mut offset = 0;
    group.bench_function("sqlx_prepared_floor", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let batch = rows(offset);
                offset += BATCH as u64;
                let started = Instant::now();
                rt.block_on(async {
                    let mut tx = conn.begin().await.unwrap();
                    for (id, channel, guild, author, data) in batch {
                        sqlx::query(INSERT)
                            .bind(id)
                            .bind(channel)
                            .bind(guild)
                            .bind(author)
                            .bind(data)
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                    }
                    tx.commit().await.unwrap();
                });
                elapsed += started.elapsed();
            }
            record("sqlx_prepared_floor", elapsed, iters * BATCH as u64);
            elapsed
        })
    });

    let mut raw = rusqlite::Connection::open(dir.path().join("rusqlite.db")).unwrap();
    raw.pragma_update(None, "journal_mode", "WAL").unwrap();
    raw.pragma_update(None, "synchronous", "NORMAL").unwrap();
    raw.pragma_update(None, "cache_size", persist_sqlite::CACHE_SIZE_PRAGMA)
        .unwrap();
    raw.execute_batch(SCHEMA).unwrap();
    let mut offset = 0;
    group.bench_function("rusqlite_in_thread_floor", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                let batch = rows(offset);
                offset += BATCH as u64;
                let started = Instant::now();
                let tx = raw.transaction().unwrap();
                {
                    let mut insert = tx.prepare_cached(INSERT).unwrap();
                    for (id, channel, guild, author, data) in &batch {
                        insert
                            .execute(rusqlite::params![id, channel, guild, author, data])
                            .unwrap();
                    }
                }
                tx.commit().unwrap();
                elapsed += started.elapsed();
                black_box(&batch);
            }
            record("rusqlite_in_thread_floor", elapsed, iters * BATCH as u64);
            elapsed
        })
    });
    group.finish();
    criterion.final_summary();

    println!(
        "\nrows/s over every timed batch of 1,000 (ratio = ours / floor; above 1 is faster than the floor):"
    );
    let ours = rows_per_second("persist_store");
    for floor in ["sqlx_prepared_floor", "rusqlite_in_thread_floor"] {
        if let (Some(ours), Some(base)) = (ours, rows_per_second(floor)) {
            println!(
                "  persist_store {ours:.0}/s vs {floor} {base:.0}/s = {:.2} of the floor",
                ours / base
            );
        }
    }
}
