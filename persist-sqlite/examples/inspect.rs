//! Writes a small cache to `sqlite-example.db` through the pipeline, then
//! shows the `sqlite3` queries that inspect it.
//!
//! `cargo run -p persist-sqlite --example inspect`

use persist_core::testkit::fixtures as fx;
use persist_core::{Cache, CacheConfig, Migrations, Mutation, ReadApi, Ruleset};
use persist_sqlite::{SqliteConfig, SqliteStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The cache's log: RUST_LOG=info by default, RUST_LOG=persist=debug for every batch.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let path = "sqlite-example.db";
    let store = SqliteStore::open(SqliteConfig::new(path), &Migrations::new()).await?;
    let cache = Cache::new(store, Ruleset::default(), CacheConfig::default())?;
    let mut mutations = vec![
        Mutation::upsert(fx::guild(1)),
        Mutation::upsert(fx::channel(10, 1)),
        Mutation::upsert(fx::role(30, 1)),
        Mutation::upsert(fx::role(31, 1)),
    ];
    for user in 20..25 {
        mutations.push(Mutation::upsert(fx::user(user)));
        mutations.push(Mutation::upsert(fx::member(1, user, &[30, 31])));
    }
    for n in 0..30 {
        let id = fx::message_id_aged(std::time::Duration::from_secs(600 - n * 10), 0);
        mutations.push(Mutation::upsert(fx::message(id, 10, 1)));
    }
    cache.enqueue_all(mutations).await?;
    cache.flush().await?;
    let counts = cache.counts().await?;
    cache.shutdown().await?;
    println!(
        "wrote {path}: {} members, {} messages, {} roles",
        counts.members, counts.messages, counts.roles
    );
    println!("try:");
    println!("  sqlite3 {path} \"SELECT user_id, nick FROM members WHERE guild_id = 1\"");
    println!(
        "  sqlite3 {path} \"SELECT id, data ->> '$.content' FROM messages WHERE channel_id = 10 ORDER BY id DESC LIMIT 5\""
    );
    println!("  sqlite3 {path} \"SELECT kind, n FROM persist_counts ORDER BY kind\"");
    println!(
        "  sqlite3 {path} \"SELECT r.name FROM members m, json_each(m.data, '$.roles') j JOIN roles r ON r.id = j.value WHERE m.guild_id = 1 AND m.user_id = 20\""
    );
    Ok(())
}
