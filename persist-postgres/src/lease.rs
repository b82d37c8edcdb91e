//! `persist_leases` in PostgreSQL: expiry by the server's clock (`now()`).

use async_trait::async_trait;
use persist_core::Result;
use persist_sql::lease::{LeaseConfig, LeaseTable, Taken};
use sqlx::{PgPool, Row};

use crate::store::backend_error;

/// The lease table, through the store's pool.
pub(crate) struct PgLeases(pub PgPool);

fn shard(id: u32) -> i32 {
    i32::try_from(id).unwrap_or(i32::MAX)
}

fn held_arrays(held: &[(u32, i64)]) -> (Vec<i32>, Vec<i64>) {
    held.iter().map(|(s, t)| (shard(*s), *t)).unzip()
}

#[async_trait]
impl LeaseTable for PgLeases {
    async fn try_take(&self, shard_id: u32, config: &LeaseConfig) -> Result<Taken> {
        let taken = sqlx::query(
            "INSERT INTO persist_leases AS l (shard_id, shard_count, owner, token, expires_at) \
             VALUES ($1, $2, $3, 1, now() + make_interval(secs => $4)) \
             ON CONFLICT (shard_id) DO UPDATE SET shard_count = excluded.shard_count, \
                 owner = excluded.owner, token = l.token + 1, expires_at = excluded.expires_at \
             WHERE l.expires_at < now() OR l.owner = excluded.owner \
             RETURNING token",
        )
        .bind(shard(shard_id))
        .bind(i32::try_from(config.shard_count).unwrap_or(i32::MAX))
        .bind(&config.owner)
        .bind(config.ttl.as_secs_f64())
        .fetch_optional(&self.0)
        .await
        .map_err(backend_error("taking a shard lease"))?;
        if let Some(row) = taken {
            return Ok(Taken::Token(
                row.try_get(0)
                    .map_err(backend_error("taking a shard lease"))?,
            ));
        }
        let owner: Option<String> =
            sqlx::query_scalar("SELECT owner FROM persist_leases WHERE shard_id = $1")
                .bind(shard(shard_id))
                .fetch_optional(&self.0)
                .await
                .map_err(backend_error("reading a shard lease"))?;
        Ok(Taken::HeldBy {
            owner: owner.unwrap_or_default(),
        })
    }

    async fn renew(&self, config: &LeaseConfig, held: &[(u32, i64)]) -> Result<Vec<u32>> {
        let (shards, tokens) = held_arrays(held);
        let renewed: Vec<i32> = sqlx::query_scalar(
            "UPDATE persist_leases AS l SET expires_at = now() + make_interval(secs => $4) \
             FROM unnest($2::integer[], $3::bigint[]) AS h(shard_id, token) \
             WHERE l.shard_id = h.shard_id AND l.token = h.token AND l.owner = $1 \
             RETURNING l.shard_id",
        )
        .bind(&config.owner)
        .bind(&shards)
        .bind(&tokens)
        .bind(config.ttl.as_secs_f64())
        .fetch_all(&self.0)
        .await
        .map_err(backend_error("renewing shard leases"))?;
        Ok(held
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| !renewed.contains(&shard(*s)))
            .collect())
    }

    async fn release(&self, config: &LeaseConfig, held: &[(u32, i64)]) -> Result<()> {
        let (shards, tokens) = held_arrays(held);
        sqlx::query(
            "UPDATE persist_leases AS l SET expires_at = now() - interval '1 second' \
             FROM unnest($2::integer[], $3::bigint[]) AS h(shard_id, token) \
             WHERE l.shard_id = h.shard_id AND l.token = h.token AND l.owner = $1",
        )
        .bind(&config.owner)
        .bind(&shards)
        .bind(&tokens)
        .execute(&self.0)
        .await
        .map_err(backend_error("releasing shard leases"))?;
        Ok(())
    }
}
