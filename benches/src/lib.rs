//! Benchmarks of serenity-persist. The criterion benches live in `benches/`,
//! the latency binaries in `src/bin/`; see `BENCHMARKS.md` at the repository
//! root for what each measures and the command that reproduces it.
#![warn(missing_docs)]

use std::time::{Duration, SystemTime};

use persist_core::model::{Message, User};
use persist_core::{ChannelId, GuildId, MessageId, UserId};

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

/// The p-th percentile (0-100) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// A small deterministic generator, so every run reads the same keys.
pub struct Lcg(pub u64);

impl Lcg {
    /// A number below `below` (which must not be 0).
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}
