//! Shard leases with fencing tokens: how several processes write one
//! database without overwriting each other.
//!
//! A writing process declares the shards it runs ([`LeaseConfig`]) and owns
//! each through a row of `persist_leases` (owner, expiry, token). Taking a
//! shard over (from a lease that expired, or from this owner's previous
//! run) increases its token. Every batch reads the rows of the process's
//! shards in its own transaction, locked against a takeover until it
//! commits, and commits only if every token is still the one this process
//! took ([`Leases::check`]): a process paused past its lease (GC, SIGSTOP, a
//! network partition) can never overwrite a newer owner's writes. Leases
//! renew in the background ([`Leases::renew_until_dropped`]); expiry is
//! measured by the database's clock, so the processes' clocks need not
//! agree.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use persist_core::{ConfigError, Error, Result};

/// The shards a writing process runs, and how it holds them.
///
/// ```
/// let config = persist_sql::lease::LeaseConfig::new([0, 1], 4);
/// assert_eq!(config.shard_ids, [0, 1]);
/// assert_eq!(config.ttl, std::time::Duration::from_secs(10));
/// ```
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// The shards this process runs (each below `shard_count`).
    pub shard_ids: Vec<u32>,
    /// How many shards the bot runs in all.
    pub shard_count: u32,
    /// How long a lease lasts without renewal; renewed every third of it.
    /// A process that dies loses its shards this long after its last renewal.
    pub ttl: Duration,
    /// How long opening waits for a shard another live process holds.
    pub acquire_timeout: Duration,
    /// Who this process is, in `persist_leases.owner`. Unique per process:
    /// the default is the host name, process id and start time. A process
    /// restarted under the same owner name takes its shards back at once.
    pub owner: String,
}

impl LeaseConfig {
    /// These shards of `shard_count`, with the default timings and owner.
    pub fn new(shard_ids: impl IntoIterator<Item = u32>, shard_count: u32) -> Self {
        let host = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".into());
        Self {
            shard_ids: shard_ids.into_iter().collect(),
            shard_count,
            ttl: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
            owner: format!("{host}:{}:{}", std::process::id(), crate::now_micros()),
        }
    }

    /// Refuses what cannot be leased: no shards, a shard out of range, a
    /// shard twice, a TTL under a second.
    pub fn validate(&self) -> Result<()> {
        if self.shard_count == 0 {
            return Err(ConfigError::OutOfRange {
                setting: "shard_count",
                min: 1,
                max: u64::from(u32::MAX),
                value: 0,
            }
            .into());
        }
        if self.shard_ids.is_empty() {
            return Err(invalid(
                "shard_ids",
                "no shards: a process that runs no shard opens the store read-only",
            ));
        }
        let mut seen = self.shard_ids.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != self.shard_ids.len() {
            return Err(invalid("shard_ids", "a shard is listed twice"));
        }
        if let Some(&shard) = self.shard_ids.iter().find(|s| **s >= self.shard_count) {
            return Err(ConfigError::OutOfRange {
                setting: "shard_ids",
                min: 0,
                max: u64::from(self.shard_count - 1),
                value: u64::from(shard),
            }
            .into());
        }
        if self.ttl < Duration::from_secs(1) {
            return Err(ConfigError::OutOfRange {
                setting: "lease ttl (milliseconds)",
                min: 1000,
                max: u64::MAX,
                value: u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX),
            }
            .into());
        }
        if self.owner.is_empty() || self.owner.len() > 200 {
            return Err(invalid("lease owner", "the name must be 1 to 200 bytes"));
        }
        Ok(())
    }
}

fn invalid(setting: &'static str, reason: &str) -> Error {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
    .into()
}

/// What an attempt to take a shard found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// The shard is this process's, under this fencing token.
    Token(i64),
    /// Another live process holds it.
    HeldBy {
        /// Its owner.
        owner: String,
    },
}

/// A shard's lease row as a batch's transaction reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRow {
    /// The shard.
    pub shard_id: u32,
    /// Its owner.
    pub owner: String,
    /// Its fencing token.
    pub token: i64,
}

/// The `persist_leases` table of a backend.
#[async_trait]
pub trait LeaseTable: Send + Sync {
    /// Takes the shard if it has no lease, its lease expired, or `owner`
    /// holds it (each a takeover: the token increases); else says who holds it.
    async fn try_take(&self, shard_id: u32, config: &LeaseConfig) -> Result<Taken>;

    /// Extends the leases `owner` still holds under these tokens; returns
    /// the shards it no longer holds.
    async fn renew(&self, config: &LeaseConfig, held: &[(u32, i64)]) -> Result<Vec<u32>>;

    /// Ends these leases now, so another process can take them at once.
    async fn release(&self, config: &LeaseConfig, held: &[(u32, i64)]) -> Result<()>;
}

/// The shards a process holds, and whether it may still write.
#[derive(Debug)]
pub struct Leases {
    config: LeaseConfig,
    // (shard, token) for each shard, as acquired: never changes after.
    held: Vec<(u32, i64)>,
    // Set for good once any lease is found lost: this process's view of
    // its shards may be stale, so it writes nothing more.
    fenced: AtomicBool,
    refused: AtomicU64,
}

impl Leases {
    /// Takes every shard of the config, waiting up to its
    /// `acquire_timeout` for shards other processes hold.
    pub async fn acquire(table: &dyn LeaseTable, config: LeaseConfig) -> Result<Self> {
        config.validate()?;
        let deadline = tokio::time::Instant::now() + config.acquire_timeout;
        let mut held = Vec::with_capacity(config.shard_ids.len());
        for &shard in &config.shard_ids {
            loop {
                match table.try_take(shard, &config).await? {
                    Taken::Token(token) => {
                        tracing::info!(shard, token, owner = %config.owner, "took the lease on shard");
                        held.push((shard, token));
                        break;
                    }
                    Taken::HeldBy { owner } => {
                        if tokio::time::Instant::now() >= deadline {
                            return Err(Error::LeaseHeld {
                                shard_id: shard,
                                owner,
                                waited: config.acquire_timeout,
                            });
                        }
                        tracing::info!(shard, holder = %owner, "shard leased by another process; waiting for its lease to expire");
                        let pause = (config.ttl / 4).min(Duration::from_secs(1));
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        }
        Ok(Self {
            config,
            held,
            fenced: AtomicBool::new(false),
            refused: AtomicU64::new(0),
        })
    }

    /// The configuration the leases were taken with.
    pub fn config(&self) -> &LeaseConfig {
        &self.config
    }

    /// The shards held and their tokens.
    pub fn held(&self) -> &[(u32, i64)] {
        &self.held
    }

    /// The shard ids held.
    pub fn shard_ids(&self) -> &[u32] {
        &self.config.shard_ids
    }

    /// Whether a lease was lost: every batch is refused from then on.
    pub fn is_fenced(&self) -> bool {
        self.fenced.load(Ordering::Acquire)
    }

    /// How many batches the fence refused.
    pub fn refused_batches(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Checks the lease rows a batch's transaction read (locked until it
    /// ends): the batch may commit only if each of this process's shards is
    /// still its own under the token it took.
    pub fn check(&self, rows: &[LeaseRow]) -> Result<()> {
        if !self.is_fenced() {
            let lost = self.held.iter().find(|(shard, token)| {
                !rows.iter().any(|row| {
                    row.shard_id == *shard && row.token == *token && row.owner == self.config.owner
                })
            });
            match lost {
                None => return Ok(()),
                Some(&(shard, _)) => {
                    let now = rows.iter().find(|r| r.shard_id == shard);
                    tracing::error!(
                        shard,
                        holder = now.map_or("nobody", |r| r.owner.as_str()),
                        "lost the lease on a shard to another process: this process writes nothing more (restart it to take shards again)"
                    );
                    self.fenced.store(true, Ordering::Release);
                }
            }
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        Err(Error::Fenced {
            owner: self.config.owner.clone(),
        })
    }

    /// Renews the leases every third of their TTL until `self` is dropped
    /// elsewhere (the task holds a weak handle), ending them when the
    /// store is closed.
    pub fn renew_until_dropped(
        self: &Arc<Self>,
        table: Arc<dyn LeaseTable>,
    ) -> tokio::task::JoinHandle<()> {
        let leases = Arc::downgrade(self);
        let every = self.config.ttl / 3;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(leases) = leases.upgrade() else {
                    return;
                };
                if leases.is_fenced() {
                    return;
                }
                match table.renew(&leases.config, &leases.held).await {
                    Ok(lost) if lost.is_empty() => {}
                    Ok(lost) => {
                        tracing::error!(
                            ?lost,
                            "lost shard leases to another process (this process was paused or cut off past its lease): it writes nothing more"
                        );
                        leases.fenced.store(true, Ordering::Release);
                        return;
                    }
                    Err(error) => tracing::warn!(%error, "renewing shard leases failed; retrying"),
                }
            }
        })
    }

    /// Ends the leases now (at shutdown), so another process takes the
    /// shards without waiting for them to expire.
    pub async fn release(&self, table: &dyn LeaseTable) -> Result<()> {
        if self.is_fenced() {
            return Ok(());
        }
        table.release(&self.config, &self.held).await?;
        self.fenced.store(true, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leases(held: Vec<(u32, i64)>) -> Leases {
        let mut config = LeaseConfig::new(held.iter().map(|(s, _)| *s), 4);
        config.owner = "me".into();
        Leases {
            config,
            held,
            fenced: AtomicBool::new(false),
            refused: AtomicU64::new(0),
        }
    }

    fn row(shard_id: u32, owner: &str, token: i64) -> LeaseRow {
        LeaseRow {
            shard_id,
            owner: owner.into(),
            token,
        }
    }

    #[test]
    fn a_batch_commits_only_while_every_token_is_current() {
        let leases = leases(vec![(0, 3), (1, 7)]);
        leases.check(&[row(0, "me", 3), row(1, "me", 7)]).unwrap();
        // Shard 1 taken over: a newer token, another owner.
        let refused = leases.check(&[row(0, "me", 3), row(1, "other", 8)]);
        assert!(matches!(refused, Err(Error::Fenced { .. })), "{refused:?}");
        // Fenced for good, even if the rows looked right again.
        assert!(leases.check(&[row(0, "me", 3), row(1, "me", 7)]).is_err());
        assert_eq!(leases.refused_batches(), 2);
    }

    #[test]
    fn a_missing_lease_row_fences_too() {
        let leases = leases(vec![(2, 1)]);
        assert!(leases.check(&[]).is_err());
        assert!(leases.is_fenced());
    }

    #[test]
    fn bad_configs_are_refused() {
        assert!(LeaseConfig::new([4], 4).validate().is_err());
        assert!(LeaseConfig::new([1, 1], 4).validate().is_err());
        assert!(LeaseConfig::new([], 4).validate().is_err());
        assert!(LeaseConfig::new([0], 0).validate().is_err());
        let mut short = LeaseConfig::new([0], 1);
        short.ttl = Duration::from_millis(10);
        assert!(short.validate().is_err());
        LeaseConfig::new([0, 3], 4).validate().unwrap();
    }
}
