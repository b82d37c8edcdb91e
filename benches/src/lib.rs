//! Benchmarks of serenity-persist. The criterion benches live in `benches/`,
//! the latency binaries in `src/bin/`; see `BENCHMARKS.md` at the repository
//! root for what each measures and the command that reproduces it.
#![warn(missing_docs)]

pub mod traffic;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use persist_core::model::{Message, User};
use persist_core::{ChannelId, GuildId, MessageId, Mutation, Store, UserId};

/// Realistic message upserts: distinct ids from `offset`, spread over
/// `channels` channels of one guild, a real author and some text.
pub fn messages(n: usize, offset: u64, channels: u64) -> Vec<Message> {
    let base = MessageId::first_at(SystemTime::now() - Duration::from_secs(3600)).get();
    (0..n as u64)
        .map(|i| {
            let i = offset + i;
            Message {
                id: MessageId::new(base + (i << 8)),
                channel_id: ChannelId::new(1 + i % channels),
                guild_id: Some(GuildId::new(1)),
                author: User {
                    id: UserId::new(1_000 + i % 5_000),
                    username: format!("user{}", i % 5_000),
                    ..Default::default()
                },
                content: format!("benchmark message number {i} with some text in it"),
                ..Default::default()
            }
        })
        .collect()
}

/// Opens a fresh or existing store of `backend` ("memory", "sqlite", "redb"
/// or "sled") at `path` (unused by the memory store), with no hooks.
pub async fn open_store(
    backend: &str,
    path: &Path,
) -> Result<Arc<dyn Store>, Box<dyn std::error::Error + Send + Sync>> {
    let migrations = persist_core::Migrations::new();
    Ok(match backend {
        "memory" => Arc::new(persist_core::MemoryStore::open(&migrations).await?),
        "sqlite" => Arc::new(
            persist_sqlite::SqliteStore::open(persist_sqlite::SqliteConfig::new(path), &migrations)
                .await?,
        ),
        "redb" => Arc::new(persist_redb::RedbStore::open(path, &migrations).await?),
        "sled" => Arc::new(persist_sled::SledStore::open(path, &migrations).await?),
        "postgres" | "mysql" => open_server(backend, path, 0..1, 1).await?,
        other => return Err(format!("unknown backend {other}").into()),
    })
}

/// The URL of the benchmark's PostgreSQL (`PERSIST_POSTGRES_URL`) or MySQL
/// (`PERSIST_MYSQL_URL`) server: by default the local test servers.
pub fn server_url(backend: &str) -> String {
    match backend {
        "postgres" => std::env::var("PERSIST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        _ => std::env::var("PERSIST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into()),
    }
}

/// The schema (PostgreSQL) or database (MySQL) a store at `path` lives in:
/// the path's file name, as a plain SQL name.
pub fn server_place(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("replay_{plain}")
}

/// Drops the schema or database of a server store at `path`.
pub async fn drop_server_place(
    backend: &str,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use sqlx::Connection as _;
    let place = server_place(path);
    let url = server_url(backend);
    if backend == "postgres" {
        let mut conn = sqlx::PgConnection::connect(&url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {place} CASCADE"
        )))
        .execute(&mut conn)
        .await?;
    } else {
        let mut conn = sqlx::MySqlConnection::connect(&url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {place}"
        )))
        .execute(&mut conn)
        .await?;
    }
    Ok(())
}

/// Opens a writer of `shards` (of `shard_count`) on a server backend, in
/// the schema or database named after `path` (created when missing).
pub async fn open_server(
    backend: &str,
    path: &Path,
    shards: std::ops::Range<u32>,
    shard_count: u32,
) -> Result<Arc<dyn Store>, Box<dyn std::error::Error + Send + Sync>> {
    let migrations = persist_core::Migrations::new();
    let leases = persist_sql::lease::LeaseConfig::new(shards, shard_count);
    let place = server_place(path);
    let url = server_url(backend);
    Ok(if backend == "postgres" {
        let config = persist_postgres::PostgresConfig::new(url, leases).schema(place);
        Arc::new(persist_postgres::PostgresStore::open(config, &migrations).await?)
    } else {
        let config = persist_mysql::MySqlConfig::new(url, leases).database(place);
        Arc::new(persist_mysql::MySqlStore::open(config, &migrations).await?)
    })
}

/// The p-th percentile (0-100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Fills `store` with `total` messages from [`messages`] over `channels`
/// channels, in batches of 10,000 through `apply`. Returns their ids and how
/// long it took.
pub async fn fill(
    store: &dyn Store,
    total: u64,
    channels: u64,
) -> Result<(Vec<MessageId>, Duration), persist_core::Error> {
    let started = std::time::Instant::now();
    let mut ids = Vec::with_capacity(total as usize);
    let mut offset = 0;
    while offset < total {
        let n = 10_000.min(total - offset) as usize;
        let batch = messages(n, offset, channels);
        ids.extend(batch.iter().map(|m| m.id));
        store
            .apply(&batch.into_iter().map(Mutation::upsert).collect::<Vec<_>>())
            .await?;
        offset += n as u64;
    }
    Ok((ids, started.elapsed()))
}

/// Prints p50 and p99 of the store's and the baseline's samples, and their ratios.
pub fn report(what: &str, ours: &mut [Duration], baseline_name: &str, baseline: &mut [Duration]) {
    ours.sort();
    baseline.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let (o50, o99) = (us(percentile(ours, 50.0)), us(percentile(ours, 99.0)));
    let (b50, b99) = (
        us(percentile(baseline, 50.0)),
        us(percentile(baseline, 99.0)),
    );
    println!(
        "{what:<32} store p50 {o50:>7.1} µs p99 {o99:>7.1} µs | {baseline_name} p50 {b50:>7.1} µs p99 {b99:>7.1} µs | ratio p50 {:.2} p99 {:.2}",
        o50 / b50,
        o99 / b99
    );
}

/// The read binaries time pages of this many messages per channel.
pub const PAGE: u64 = 50;

/// Refuses a message count too small for every channel to hold a full page.
pub fn check_total(total: u64, channels: u64) -> Result<(), String> {
    let least = PAGE * channels;
    if total < least {
        return Err(format!(
            "MESSAGES must be at least {least} ({PAGE} per channel over {channels} channels), got {total}"
        ));
    }
    Ok(())
}

/// A fixed-size uniform sample of a stream (Vitter's algorithm R), so that
/// what a benchmark keeps to measure does not grow with the run.
pub struct Reservoir<T> {
    items: Vec<T>,
    seen: u64,
    capacity: usize,
    rng: fastrand::Rng,
}

impl<T> Reservoir<T> {
    /// Keeps at most `capacity` items.
    pub fn new(capacity: usize, seed: u64) -> Self {
        Self {
            items: Vec::with_capacity(capacity),
            seen: 0,
            capacity,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Offers one item of the stream.
    pub fn push(&mut self, item: T) {
        self.seen += 1;
        if self.items.len() < self.capacity {
            self.items.push(item);
        } else {
            let slot = self.rng.u64(..self.seen) as usize;
            if slot < self.capacity {
                self.items[slot] = item;
            }
        }
    }

    /// How many items were offered.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The sample.
    pub fn into_vec(self) -> Vec<T> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservoir_keeps_a_bounded_uniform_sample() {
        let mut r = Reservoir::new(1_000, 1);
        for i in 0..100_000u64 {
            r.push(i);
        }
        assert_eq!(r.seen(), 100_000);
        let sample = r.into_vec();
        assert_eq!(sample.len(), 1_000);
        // Uniform: about half the sample from each half of the stream.
        let low = sample.iter().filter(|i| **i < 50_000).count();
        assert!(
            (400..600).contains(&low),
            "{low} of 1,000 from the first half"
        );
    }
}
