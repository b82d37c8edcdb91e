//! Reconciliation against plain upserts, on every backend, at two guild
//! sizes: what a GUILD_CREATE with a complete member list costs over a
//! store that already holds the guild.
//!
//! `cargo run --release -p persist-benches --bin reconcile -- [MEMBERS...]`
//! (default: 25000 250000)
//!
//! For each size N and backend: fill a fresh store with N members of one
//! guild; then time, in the same run, (a) one batch upserting N members
//! (the same ids: every row rewritten) and (b) one batch upserting a
//! complete list of N members, 10,000 (or N/25 when smaller) of the stored
//! ones gone and as many new, followed by `RetainGuildMembers` with the N
//! ids it keeps, as the gateway's GUILD_CREATE handling produces. The ratio
//! (b)/(a) is the price of reconciliation; linear retains keep it a small
//! constant as N grows (it was O(stored x kept) before).

use std::time::Instant;

use persist_benches::open_store;
use persist_core::model::Member;
use persist_core::{GuildId, Mutation, Record, UserId};

type Error = Box<dyn std::error::Error + Send + Sync>;

const GUILD: GuildId = GuildId::new(1 << 32);

fn members(ids: impl Iterator<Item = u64>, generation: u64) -> Vec<Record> {
    ids.map(|id| {
        Record::Member(Member {
            guild_id: GUILD,
            user_id: UserId::new(id),
            nick: Some(format!("nick {id} {generation}")),
            ..Default::default()
        })
    })
    .collect()
}

async fn run(backend: &str, n: u64) -> Result<(f64, f64), Error> {
    let dir = tempfile::tempdir()?;
    let store = open_store(backend, &dir.path().join(format!("{backend}-{n}"))).await?;
    let first = 1u64 << 40;
    store
        .apply(&[Mutation::UpsertMany(members(first..first + n, 0))])
        .await?;
    // (a) the same N members upserted again.
    let started = Instant::now();
    store
        .apply(&[Mutation::UpsertMany(members(first..first + n, 1))])
        .await?;
    let upsert = started.elapsed().as_secs_f64();
    // (b) a complete list: the first `gone` stored members left, as many joined.
    let gone = (n / 25).min(10_000);
    let kept: Vec<u64> = (first + gone..first + n + gone).collect();
    let started = Instant::now();
    store
        .apply(&[
            Mutation::UpsertMany(members(kept.iter().copied(), 2)),
            Mutation::RetainGuildMembers {
                guild_id: GUILD,
                keep: kept.iter().map(|id| UserId::new(*id)).collect(),
            },
        ])
        .await?;
    let reconcile = started.elapsed().as_secs_f64();
    let counts = store.read(&persist_core::Query::Counts).await?;
    match counts {
        persist_core::Answer::Counts(c) if c.members == n => {}
        other => return Err(format!("{backend}: expected {n} members, found {other:?}").into()),
    }
    Ok((upsert, reconcile))
}

fn main() -> Result<(), Error> {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let sizes = if sizes.is_empty() {
        vec![25_000, 250_000]
    } else {
        sizes
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!("| backend | members | upsert N (s) | reconcile N (s) | reconcile / upsert |");
    println!("|---|---|---|---|---|");
    for backend in ["memory", "sqlite", "redb", "sled"] {
        for &n in &sizes {
            let (upsert, reconcile) = runtime.block_on(run(backend, n))?;
            println!(
                "| {backend} | {n} | {upsert:.3} | {reconcile:.3} | {:.2} |",
                reconcile / upsert
            );
        }
    }
    Ok(())
}
