//! The checks every server backend runs (persist-sql's testkit), a crash
//! mid-stream, and the schema docs' example queries.

mod common;

use std::time::Duration;

use async_trait::async_trait;
use common::{admin, drop_schemas, url};
use persist_core::testkit::crash::{run_crash_child, run_crash_parent};
use persist_core::{Migrations, Result};
use persist_postgres::{LeaseConfig, PostgresConfig, PostgresStore};
use persist_sql::testkit::{ServerFactory, run_server_checks};

struct Postgres;

fn config(url: String, place: &str, shards: LeaseConfig) -> PostgresConfig {
    PostgresConfig::new(url, shards).schema(place)
}

#[async_trait]
impl ServerFactory for Postgres {
    type Store = PostgresStore;

    async fn writer(
        &self,
        place: &str,
        shards: LeaseConfig,
        version: Option<u32>,
    ) -> Result<PostgresStore> {
        PostgresStore::open_at(config(url(), place, shards), &Migrations::new(), version).await
    }

    async fn reader(&self, place: &str) -> Result<PostgresStore> {
        PostgresStore::open(
            PostgresConfig::read_only(url()).schema(place),
            &Migrations::new(),
        )
        .await
    }

    async fn at_url(&self, url: &str, timeout: Duration) -> Result<PostgresStore> {
        let mut config = PostgresConfig::new(url, LeaseConfig::new([0], 1));
        config.connect_timeout = timeout;
        PostgresStore::open(config, &Migrations::new()).await
    }

    fn bad_urls(&self) -> [String; 3] {
        [
            "postgres//user:secret@127.0.0.1:5432".into(),
            "postgres://no_such_role:secret@127.0.0.1:5432/test".into(),
            "postgres://postgres@127.0.0.1:1/test".into(),
        ]
    }

    fn silent_url(&self) -> String {
        // TEST-NET-1 (RFC 5737): never routed, so a connect hangs or fails.
        "postgres://postgres@192.0.2.1:5432/test".into()
    }

    async fn bad_place(&self) -> Result<PostgresStore> {
        self.writer("bad; DROP TABLE x", LeaseConfig::new([0], 1), None)
            .await
    }

    async fn rows(&self, place: &str, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {place}.{table}"
        )))
        .fetch_one(&mut admin().await)
        .await
        .unwrap()
    }

    async fn execute(&self, place: &str, sql: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "SET search_path = {place}; {sql}"
        )))
        .execute(&mut admin().await)
        .await
        .unwrap();
    }

    async fn close(&self, store: PostgresStore) {
        store.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_server_checks() {
    drop_schemas("persist_t_server").await;
    run_server_checks(&Postgres, "persist_t_server").await;
    drop_schemas("persist_t_server").await;
}

const CRASH_ENV: &str = "PERSIST_POSTGRES_CRASH_SCHEMA";

fn crash_config(schema: &std::path::Path) -> PostgresConfig {
    let schema = schema.display().to_string();
    let mut shards = LeaseConfig::new([0], 1);
    shards.owner = format!("crash-{schema}");
    PostgresConfig::new(url(), shards).schema(schema)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "helper process of sigkill_mid_stream_loses_nothing_reported_durable"]
async fn crash_child_writer() {
    let Ok(schema) = std::env::var(CRASH_ENV) else {
        return;
    };
    let config = crash_config(std::path::Path::new(&schema));
    run_crash_child(
        PostgresStore::open(config, &Migrations::new())
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_nothing_reported_durable() {
    let schema = "persist_t_crash";
    drop_schemas(schema).await;
    let store = run_crash_parent(
        "crash_child_writer",
        CRASH_ENV,
        std::path::Path::new(schema),
        20,
        |schema| async move { PostgresStore::open(crash_config(&schema), &Migrations::new()).await },
    )
    .await;
    // Consistent: the counts kept by triggers are the rows there are.
    let counted = persist_core::ReadApi::counts(&store)
        .await
        .unwrap()
        .messages;
    assert_eq!(counted as i64, Postgres.rows(schema, "messages").await);
    store.close().await.unwrap();
    drop_schemas(schema).await;
}

/// The example queries of the crate's docs run, on a store with data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_docs_queries_run() {
    use persist_core::testkit::fixtures;
    use persist_core::{MessageId, Mutation, Store};
    let schema = "persist_t_docs";
    drop_schemas(schema).await;
    let store = Postgres
        .writer(schema, LeaseConfig::new([0], 1), None)
        .await
        .unwrap();
    let mut message = fixtures::message(MessageId::new(100), 10, 1);
    message.content = "hello".into();
    store
        .apply(&[
            Mutation::upsert(fixtures::guild(1)),
            Mutation::upsert(fixtures::member(1, 20, &[])),
            Mutation::upsert(message),
        ])
        .await
        .unwrap();
    let docs = include_str!("../src/lib.rs");
    let queries: Vec<&str> = docs
        .lines()
        .filter_map(|l| l.trim_start_matches("//! ").strip_prefix("psql -c \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert_eq!(queries.len(), 4, "the docs' example queries");
    let mut conn = admin().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET search_path = {schema}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut answers = Vec::new();
    for query in queries {
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(query.to_owned()))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        answers.push(rows.len());
    }
    // One member, one message, a count of every kind, one lease.
    assert_eq!(answers, [1, 1, 14, 1]);
    store.close().await.unwrap();
    drop_schemas(schema).await;
}
