//! The write pipeline against a plain `HashMap` insert, measured in one run.
//!
//! `cargo bench -p persist-benches --bench pipeline`
//!
//! - `enqueue`: the cost a bot pays on its own path for one mutation
//!   (`Cache::try_enqueue` with room in the queue), against inserting the same
//!   message into a plain `HashMap` (batches of 5,000), and into one sized
//!   in advance.
//! - `throughput`: enqueueing N mutations and `flush()`ing them into the
//!   memory store, against inserting the same N messages into a plain
//!   `HashMap` (what a naive in-memory cache does).
//!
//! Criterion prints each measurement; the ratios are printed at the end.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput};
use persist_core::model::{Message, User};
use persist_core::{
    Cache, CacheConfig, ChannelId, GuildId, MemoryStore, MessageId, Mutation, Ruleset,
};
use tokio::runtime::Runtime;

/// Mean time per element of every timed run, by benchmark name.
static MEANS: Mutex<Vec<(String, Duration, u64)>> = Mutex::new(Vec::new());

fn record(name: &str, elapsed: Duration, elements: u64) {
    let mut means = MEANS.lock().unwrap();
    match means.iter_mut().find(|(n, ..)| n == name) {
        Some((_, total, count)) => {
            *total += elapsed;
            *count += elements;
        }
        None => means.push((name.to_owned(), elapsed, elements)),
    }
}

fn mean(name: &str) -> Option<f64> {
    let means = MEANS.lock().unwrap();
    means
        .iter()
        .find(|(n, ..)| n == name)
        .map(|(_, total, count)| total.as_secs_f64() / *count as f64)
}

/// Realistic message upserts: distinct ids, 50 channels, a real author.
fn messages(n: usize, offset: u64) -> Vec<Message> {
    let base = MessageId::first_at(SystemTime::now() - Duration::from_secs(600)).get();
    (0..n as u64)
        .map(|i| Message {
            id: MessageId::new(base + ((offset + i) << 8)),
            channel_id: ChannelId::new(1 + i % 50),
            guild_id: Some(GuildId::new(1)),
            author: User {
                username: "bench".into(),
                ..Default::default()
            },
            content: format!("benchmark message number {i} with some text in it"),
            ..Default::default()
        })
        .collect()
}

/// Times inserting `elements` messages, in maps of `per_map`, into a plain
/// `HashMap` (grown as it fills, or sized in advance), and records the mean.
fn time_hashmap(elements: u64, per_map: usize, presized: bool, name: &str) -> Duration {
    let mut elapsed = Duration::ZERO;
    let mut done = 0;
    while done < elements {
        let batch = messages(per_map.min((elements - done) as usize), done);
        let started = Instant::now();
        let mut map = if presized {
            HashMap::with_capacity(batch.len())
        } else {
            HashMap::new()
        };
        for m in batch {
            map.insert(m.id, m);
        }
        elapsed += started.elapsed();
        done += map.len() as u64;
        black_box(map);
    }
    record(name, elapsed, elements);
    elapsed
}

fn cache(rt: &Runtime, capacity: usize) -> Cache {
    let _guard = rt.enter();
    let config = CacheConfig {
        queue_capacity: capacity,
        batch_size: 1000,
        ..Default::default()
    };
    Cache::new(MemoryStore::new(), Ruleset::default(), config).unwrap()
}

fn enqueue(c: &mut Criterion, rt: &Runtime) {
    const N: usize = 5_000;
    let mut group = c.benchmark_group("enqueue");
    group.throughput(Throughput::Elements(1));
    group.bench_function("hashmap_insert", |b| {
        b.iter_custom(|iters| time_hashmap(iters, N, false, "enqueue/hashmap_insert"))
    });
    group.bench_function("hashmap_insert_presized", |b| {
        b.iter_custom(|iters| time_hashmap(iters, N, true, "enqueue/hashmap_insert_presized"))
    });
    let cache = cache(rt, 100_000);
    group.bench_function("cache_try_enqueue", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut done = 0;
            let mut offset = 0;
            while done < iters {
                let batch = messages(N.min((iters - done) as usize), offset);
                offset += batch.len() as u64;
                let count = batch.len() as u64;
                let mutations: Vec<Mutation> = batch.into_iter().map(Mutation::upsert).collect();
                let started = Instant::now();
                for m in mutations {
                    cache.try_enqueue(m).unwrap();
                }
                elapsed += started.elapsed();
                done += count;
                // Drain outside the timed part, so every sample has room.
                rt.block_on(cache.flush()).unwrap();
            }
            record("enqueue/cache_try_enqueue", elapsed, iters);
            elapsed
        })
    });
    group.finish();
    rt.block_on(cache.shutdown()).unwrap();
}

fn throughput(c: &mut Criterion, rt: &Runtime) {
    const N: usize = 50_000;
    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(20);
    group.bench_function(BenchmarkId::new("hashmap_insert", N), |b| {
        b.iter_custom(|iters| time_hashmap(iters * N as u64, N, false, "throughput/hashmap_insert"))
    });
    group.bench_function(BenchmarkId::new("cache_into_memory_store", N), |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for i in 0..iters {
                let cache = cache(rt, 10_000);
                let mutations: Vec<Mutation> = messages(N, i * N as u64)
                    .into_iter()
                    .map(Mutation::upsert)
                    .collect();
                let started = Instant::now();
                rt.block_on(async {
                    for m in mutations {
                        cache.enqueue(m).await.unwrap();
                    }
                    cache.flush().await.unwrap();
                });
                elapsed += started.elapsed();
                rt.block_on(cache.shutdown()).unwrap();
            }
            record(
                "throughput/cache_into_memory_store",
                elapsed,
                iters * N as u64,
            );
            elapsed
        })
    });
    group.finish();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    enqueue(&mut criterion, &rt);
    throughput(&mut criterion, &rt);
    criterion.final_summary();

    println!("\nratios against the HashMap baseline of the same run (per mutation):");
    for (what, ours, base) in [
        (
            "enqueue on the caller's path",
            "enqueue/cache_try_enqueue",
            "enqueue/hashmap_insert",
        ),
        (
            "enqueue vs a pre-sized map",
            "enqueue/cache_try_enqueue",
            "enqueue/hashmap_insert_presized",
        ),
        (
            "pipeline into the memory store",
            "throughput/cache_into_memory_store",
            "throughput/hashmap_insert",
        ),
    ] {
        if let (Some(ours), Some(base)) = (mean(ours), mean(base)) {
            println!(
                "  {what}: {:.0} ns vs {:.0} ns = {:.2}x the baseline's time",
                ours * 1e9,
                base * 1e9,
                ours / base
            );
        }
    }
}
