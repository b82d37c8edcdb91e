//! `persist_leases` in MySQL: expiry by the server's clock
//! (`UTC_TIMESTAMP(6)`); a takeover decided under a row lock.

use async_trait::async_trait;
use persist_core::Result;
use persist_sql::lease::{LeaseConfig, LeaseTable, Taken};
use sqlx::{MySqlPool, Row};

use crate::store::backend_error;

/// The lease table, through the store's pool.
pub(crate) struct MySqlLeases(pub MySqlPool);

fn micros(config: &LeaseConfig) -> i64 {
    i64::try_from(config.ttl.as_micros()).unwrap_or(i64::MAX)
}

#[async_trait]
impl LeaseTable for MySqlLeases {
    async fn try_take(&self, shard_id: u32, config: &LeaseConfig) -> Result<Taken> {
        let failed = || backend_error("taking a shard lease");
        let mut tx = self.0.begin().await.map_err(failed())?;
        let current = sqlx::query(
            "SELECT owner, token, expires_at < UTC_TIMESTAMP(6) FROM persist_leases \
             WHERE shard_id = ? FOR UPDATE",
        )
        .bind(shard_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(failed())?;
        let token = match current {
            None => 1,
            Some(row) => {
                let owner: String = row.try_get(0).map_err(failed())?;
                let token: i64 = row.try_get(1).map_err(failed())?;
                let expired: bool = row.try_get(2).map_err(failed())?;
                if !expired && owner != config.owner {
                    return Ok(Taken::HeldBy { owner });
                }
                token + 1
            }
        };
        let written = sqlx::query(
            "INSERT INTO persist_leases (shard_id, shard_count, owner, token, expires_at) \
             VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND) \
             ON DUPLICATE KEY UPDATE shard_count = VALUES(shard_count), owner = VALUES(owner), \
                 token = VALUES(token), expires_at = VALUES(expires_at)",
        )
        .bind(shard_id)
        .bind(config.shard_count)
        .bind(&config.owner)
        .bind(token)
        .bind(micros(config))
        .execute(&mut *tx)
        .await;
        match written {
            Ok(_) => {}
            // Another process inserted the first lease meanwhile: held.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Ok(Taken::HeldBy {
                    owner: "another process".into(),
                });
            }
            Err(e) => return Err(failed()(e)),
        }
        tx.commit().await.map_err(failed())?;
        Ok(Taken::Token(token))
    }

    async fn renew(&self, config: &LeaseConfig, held: &[(u32, i64)]) -> Result<Vec<u32>> {
        let mut lost = Vec::new();
        for (shard, token) in held {
            let renewed = sqlx::query(
                "UPDATE persist_leases SET expires_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND \
                 WHERE shard_id = ? AND token = ? AND owner = ?",
            )
            .bind(micros(config))
            .bind(shard)
            .bind(token)
            .bind(&config.owner)
            .execute(&self.0)
            .await
            .map_err(backend_error("renewing shard leases"))?;
            if renewed.rows_affected() == 0 {
                lost.push(*shard);
            }
        }
        Ok(lost)
    }

    async fn release(&self, config: &LeaseConfig, held: &[(u32, i64)]) -> Result<()> {
        for (shard, token) in held {
            sqlx::query(
                "UPDATE persist_leases SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND \
                 WHERE shard_id = ? AND token = ? AND owner = ?",
            )
            .bind(shard)
            .bind(token)
            .bind(&config.owner)
            .execute(&self.0)
            .await
            .map_err(backend_error("releasing shard leases"))?;
        }
        Ok(())
    }
}
