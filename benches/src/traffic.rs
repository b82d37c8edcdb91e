//! A seeded generator of gateway traffic, written as JSONL of raw dispatch
//! frames (`{"op":0,"s":N,"t":"EVENT","d":{...}}`, one a line) as a bot
//! receives them: READY, GUILD_CREATEs from tiny guilds up to one of
//! `largest_guild` members (whose members then come in chunks), then a mixed
//! stream that is mostly MESSAGE_CREATE, with edits, deletes, bulk deletes,
//! reactions, member and presence updates, and channel and role changes.
//! Shapes follow `fake_discord::payload` (and through it the real payloads
//! in `tests/fixtures/gateway/`). The same config gives the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use fake_discord::payload::{self as p, GuildSpec};
use serde_json::{Value, json};

/// Every id is made after this moment, so the bytes never depend on the clock.
const BASE_MS: u64 = 1_750_000_000_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficConfig {
    /// The generator's seed.
    pub seed: u64,
    /// MESSAGE_CREATEs in the mixed stream.
    pub messages: u64,
    /// Guilds in READY.
    pub guilds: u64,
    /// Members of the largest guild (the others are smaller).
    pub largest_guild: u64,
}

impl TrafficConfig {
    /// A bot whose size grows with its traffic: a guild per 10,000 messages
    /// (at least 10), one guild of 25,000 members, the others of 20 to 2,000
    /// (about 1M members in all at 10M messages).
    pub fn for_messages(messages: u64, seed: u64) -> Self {
        Self {
            seed,
            messages,
            guilds: (messages / 10_000).max(10),
            largest_guild: 25_000,
        }
    }
}

/// What a generated stream holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrafficSummary {
    /// Dispatches written.
    pub events: u64,
    /// Dispatches by event name.
    pub by_event: BTreeMap<String, u64>,
    /// Guild members (each guild's full list).
    pub members: u64,
    /// Messages created and not deleted by the end.
    pub messages_kept: u64,
}

struct Writer<W: Write> {
    out: W,
    summary: TrafficSummary,
}

impl<W: Write> Writer<W> {
    fn dispatch(&mut self, event: &str, d: &Value) -> io::Result<()> {
        self.summary.events += 1;
        *self.summary.by_event.entry(event.to_owned()).or_default() += 1;
        let frame = json!({"op": 0, "s": self.summary.events, "t": event, "d": d});
        serde_json::to_writer(&mut self.out, &frame)?;
        self.out.write_all(b"\n")
    }
}

/// A message still in the stream (for edits, deletes and reactions).
#[derive(Clone, Copy)]
struct Live {
    id: u64,
    channel: u64,
    guild: u64,
    author: u64,
}

/// Writes the stream described by `config` to `out`.
pub fn generate(config: &TrafficConfig, out: impl Write) -> io::Result<TrafficSummary> {
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let mut w = Writer {
        out: io::BufWriter::new(out),
        summary: TrafficSummary::default(),
    };
    let made = |n: u64| p::snowflake(BASE_MS, n);
    // Users: a pool shared by the guilds, as people are in several.
    let pool = (config.largest_guild + config.guilds * 500).max(1_000);
    let user = |n: u64| made(100_000_000 + n % pool);
    let mut guilds = Vec::new();
    for g in 0..config.guilds {
        let size = if g == 0 {
            config.largest_guild
        } else {
            // Mostly small, some large: 20 + x^2 scaled to 2,000.
            let x = rng.u64(..1_000);
            20 + x * x / 500
        };
        let start = rng.u64(..pool);
        let mut members: Vec<u64> = (0..size).map(|i| user(start + i * 7)).collect();
        members.sort_unstable();
        members.dedup();
        let channels = 5 + rng.u64(..20);
        guilds.push((
            GuildSpec {
                // Made a millisecond apart, so the guilds spread over shards
                // (`shard_of` divides the timestamp) as Discord's do.
                id: p::snowflake(BASE_MS + 1 + g, 0),
                name: format!("guild {g}"),
                owner_id: members[0],
                channels: (1..=channels).map(|c| made(g * 100_000 + c)).collect(),
                roles: (0..3 + rng.u64(..10))
                    .map(|r| made(g * 100_000 + 1_000 + r))
                    .collect(),
                emojis: (0..rng.u64(..10))
                    .map(|e| made(g * 100_000 + 2_000 + e))
                    .collect(),
                members: members[..members.len().min(100)].to_vec(),
                member_count: members.len() as u64,
            },
            members,
        ));
    }
    w.summary.members = guilds.iter().map(|(_, m)| m.len() as u64).sum();
    let ids: Vec<u64> = guilds.iter().map(|(g, _)| g.id).collect();
    w.dispatch("READY", &p::ready("bench-session", "ws://127.0.0.1", &ids))?;
    for (spec, members) in &guilds {
        let large = members.len() > 250;
        let sent = if large {
            spec.clone()
        } else {
            GuildSpec {
                members: members.clone(),
                ..spec.clone()
            }
        };
        w.dispatch("GUILD_CREATE", &p::guild_create(&sent))?;
    }
    // The large guilds' members, as a full member request answers.
    for (spec, members) in guilds.iter().filter(|(_, m)| m.len() > 250) {
        let count = members.len().div_ceil(1_000) as u32;
        for (i, chunk) in members.chunks(1_000).enumerate() {
            w.dispatch(
                "GUILD_MEMBERS_CHUNK",
                &p::members_chunk(spec.id, chunk, i as u32, count, Some("bench")),
            )?;
        }
    }

    let emojis = ["👍", "🎉", "🦀", "❤️", "😂", "🔥"];
    let mut live: Vec<Live> = Vec::new();
    let mut created = 0;
    let mut step = 0u64;
    while created < config.messages {
        step += 1;
        let at = BASE_MS + 86_400_000 + step;
        let (spec, members) = &guilds[rng.u64(..guilds.len() as u64) as usize];
        let author = members[rng.u64(..members.len() as u64) as usize];
        let pick = (!live.is_empty()).then(|| {
            // Recent messages get most of the attention.
            let back = rng.u64(..live.len().min(5_000) as u64) as usize;
            live.len() - 1 - back
        });
        let roll = rng.u64(..1_000);
        match (roll, pick) {
            (0..=799, _) | (_, None) => {
                let channel = spec.channels[rng.u64(..spec.channels.len() as u64) as usize];
                let id = p::snowflake(at, created & 0xFFF);
                let text = format!(
                    "message {created} from {author}: {}",
                    [
                        "hello there",
                        "gm",
                        "ship it",
                        "cargo test passes on my machine",
                        "who broke main?",
                        "🦀🦀🦀"
                    ][rng.u64(..6) as usize]
                );
                w.dispatch(
                    "MESSAGE_CREATE",
                    &p::message_create(id, channel, spec.id, author, &text),
                )?;
                live.push(Live {
                    id,
                    channel,
                    guild: spec.id,
                    author,
                });
                created += 1;
            }
            (800..=859, Some(i)) => {
                let m = live[i];
                w.dispatch(
                    "MESSAGE_UPDATE",
                    &p::message_update(
                        m.id,
                        m.channel,
                        m.guild,
                        m.author,
                        &format!("edited at step {step}"),
                        at,
                    ),
                )?;
            }
            (860..=889, Some(i)) => {
                let m = live.swap_remove(i);
                w.dispatch(
                    "MESSAGE_DELETE",
                    &p::message_delete(m.id, m.channel, m.guild),
                )?;
            }
            (890..=891, Some(i)) => {
                let channel = live[i].channel;
                let guild = live[i].guild;
                let from = live.len().saturating_sub(300);
                let gone: Vec<u64> = live[from..]
                    .iter()
                    .filter(|m| m.channel == channel)
                    .map(|m| m.id)
                    .take(20)
                    .collect();
                // They are all in the tail: keep the rest in order.
                let tail = live.split_off(from);
                live.extend(tail.into_iter().filter(|m| !gone.contains(&m.id)));
                let ids: Vec<String> = gone.iter().map(u64::to_string).collect();
                w.dispatch("MESSAGE_DELETE_BULK", &json!({"ids": ids, "channel_id": channel.to_string(), "guild_id": guild.to_string()}))?;
            }
            (892..=949, Some(i)) => {
                let m = live[i];
                let emoji = emojis[rng.u64(..emojis.len() as u64) as usize];
                let event = if roll < 940 {
                    "MESSAGE_REACTION_ADD"
                } else {
                    "MESSAGE_REACTION_REMOVE"
                };
                w.dispatch(event, &p::reaction(author, m.channel, m.id, m.guild, emoji))?;
            }
            (950..=964, _) => {
                let mut member = p::member(author, &spec.roles[..1], BASE_MS);
                member["guild_id"] = json!(spec.id.to_string());
                member["nick"] = json!(format!("nick {step}"));
                w.dispatch("GUILD_MEMBER_UPDATE", &member)?;
            }
            (965..=994, _) => {
                let status = ["online", "idle", "dnd", "offline"][rng.u64(..4) as usize];
                w.dispatch(
                    "PRESENCE_UPDATE",
                    &json!({"user": {"id": author.to_string()},
                    "guild_id": spec.id.to_string(), "status": status,
                    "activities": [], "client_status": {"desktop": status}}),
                )?;
            }
            (995..=996, _) => {
                let c = spec.channels[rng.u64(..spec.channels.len() as u64) as usize];
                w.dispatch(
                    "CHANNEL_UPDATE",
                    &p::channel(c, spec.id, &format!("renamed-{step}"), 0, 1),
                )?;
            }
            (997, _) => {
                // A new channel (not used by later messages: the spec is fixed).
                w.dispatch(
                    "CHANNEL_CREATE",
                    &p::channel(made(50_000_000 + step), spec.id, "new-channel", 0, 99),
                )?;
            }
            _ => {
                let role = spec.roles[rng.u64(..spec.roles.len() as u64) as usize];
                w.dispatch("GUILD_ROLE_UPDATE", &json!({"guild_id": spec.id.to_string(), "role": p::role(role, &format!("role {step}"), 1)}))?;
            }
        }
    }
    w.summary.messages_kept = live.len() as u64;
    w.out.flush()?;
    Ok(w.summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
        let config = TrafficConfig {
            seed: 7,
            messages: 3_000,
            guilds: 12,
            largest_guild: 2_600,
        };
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        let summary = generate(&config, &mut a).unwrap();
        generate(&config, &mut b).unwrap();
        generate(
            &TrafficConfig {
                seed: 8,
                ..config.clone()
            },
            &mut c,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(summary.by_event["MESSAGE_CREATE"], 3_000);
        assert_eq!(summary.by_event["READY"], 1);
        assert_eq!(summary.by_event["GUILD_CREATE"], 12);
        // The 2,600-member guild came in three chunks.
        assert!(summary.by_event["GUILD_MEMBERS_CHUNK"] >= 3);
        for kind in [
            "MESSAGE_UPDATE",
            "MESSAGE_DELETE",
            "MESSAGE_REACTION_ADD",
            "PRESENCE_UPDATE",
            "GUILD_MEMBER_UPDATE",
        ] {
            assert!(
                summary.by_event.get(kind).is_some_and(|n| *n > 0),
                "no {kind}"
            );
        }
        let lines = a.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
        assert_eq!(lines, summary.events);
    }

    #[test]
    fn every_frame_parses_in_serenity_as_a_known_event() {
        use serenity::model::event::{Event, GatewayEvent};
        let config = TrafficConfig {
            seed: 1,
            messages: 2_000,
            guilds: 10,
            largest_guild: 1_500,
        };
        let mut bytes = Vec::new();
        generate(&config, &mut bytes).unwrap();
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let text = std::str::from_utf8(line).unwrap();
            match serde_json::from_str::<GatewayEvent>(text) {
                Ok(GatewayEvent::Dispatch(_, Event::Unknown(u))) => {
                    panic!("serenity cannot parse {}", u.kind)
                }
                Ok(GatewayEvent::Dispatch(..)) => {}
                other => panic!("not a dispatch: {other:?}"),
            }
        }
    }
}
