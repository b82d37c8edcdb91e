//! The middle-man: each gateway event, in the order the shard received it,
//! becomes mutations queued in the cache before serenity dispatches it.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use persist_core::gateway::{Applied, Session, check_ids, to_mutations};
use persist_core::{Cache, GuildId, Mutation, Producer, ResourceKind, UserId};
use serde::Deserialize;
use serde_json::Value;
use serenity::gateway::{ChunkGuildFilter, ShardManager, ShardMessenger};
use serenity::model::event::Event;

use crate::convert::IntoSerenity;

use crate::events::{self, strip_nulls};
use crate::lock;

/// How many member requests can be waiting for their chunks at once; older
/// ones (their chunks lost with a connection) are forgotten first.
const MAX_OPEN_CHUNK_REQUESTS: usize = 1_024;

/// What happened to the gateway events the cache saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// Dispatches seen, in arrival order, by every shard.
    pub events: u64,
    /// Dispatches turned into mutations and queued.
    pub applied: u64,
    /// Dispatches that carry nothing a cache keeps (typing, interactions, ...).
    pub not_cached: u64,
    /// Dispatches serenity could not parse (`Event::Unknown`) that were
    /// re-read from their raw JSON and applied: nothing lost.
    pub recovered: u64,
    /// Parsed events whose typed conversion failed, read from their JSON
    /// form instead (each logged at DEBUG; none expected).
    pub fallbacks: u64,
    /// Dispatches that could not be applied, by event name (each is logged).
    pub failed: BTreeMap<String, u64>,
    /// The last failure, with its event name and reason.
    pub last_failure: Option<String>,
}

impl GatewayStats {
    /// How many dispatches could not be applied, all names together.
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }
}

/// Shared by every shard's collector; on an event's path it is only read
/// and counted (atomics), never locked.
pub(crate) struct Tap {
    cache: Cache,
    /// For events fed from outside a shard (`Persist::apply_event`).
    producer: Producer,
    /// The bot's own user id (from READY; 0 until then).
    current_user: AtomicU64,
    /// Taken only for GUILD_MEMBERS_CHUNK events and member requests.
    chunks: Mutex<ChunkRequests>,
    /// The client's shard count (1 until serenity says).
    shard_count: AtomicU32,
    nonces: AtomicU64,
    resync_started: AtomicBool,
    events: AtomicU64,
    applied: AtomicU64,
    not_cached: AtomicU64,
    recovered: AtomicU64,
    fallbacks: AtomicU64,
    failures: Mutex<(BTreeMap<String, u64>, Option<String>)>,
}

impl Tap {
    pub(crate) fn new(cache: Cache) -> Self {
        Self {
            producer: cache.producer(),
            cache,
            current_user: AtomicU64::new(0),
            shard_count: AtomicU32::new(1),
            nonces: AtomicU64::new(0),
            resync_started: AtomicBool::new(false),
            chunks: Mutex::new(ChunkRequests::default()),
            events: AtomicU64::new(0),
            applied: AtomicU64::new(0),
            not_cached: AtomicU64::new(0),
            recovered: AtomicU64::new(0),
            fallbacks: AtomicU64::new(0),
            failures: Mutex::new((BTreeMap::new(), None)),
        }
    }

    pub(crate) fn cache(&self) -> &Cache {
        &self.cache
    }

    /// A producer for one shard's collector (a queue lane of its own).
    pub(crate) fn producer(&self) -> Producer {
        self.cache.producer()
    }

    fn session(&self) -> Session {
        let id = self.current_user.load(Ordering::Acquire);
        Session {
            current_user: (id != 0).then(|| UserId::new(id)),
        }
    }

    /// Applies one event serenity parsed (or kept raw as `Event::Unknown`)
    /// through the tap's own producer.
    pub(crate) fn apply_event(&self, event: &Event) {
        self.apply_event_with(event, &self.producer);
    }

    /// Applies one event through `producer` (a shard's).
    pub(crate) fn apply_event_with(&self, event: &Event, producer: &Producer) {
        if let Event::Unknown(unknown) = event {
            self.apply_with(&unknown.kind, &unknown.value, true, producer);
            return;
        }
        match events::typed(event, &self.session(), self.cache.rules()) {
            Some((name, Ok(applied))) => {
                let mut requested = false;
                let mut resynced = match event {
                    Event::GuildCreate(create) => Self::resynced_by_guild_create(create),
                    _ => None,
                };
                let checked = match applied {
                    Applied::Mutations(mut mutations) => {
                        check_ids(name, &mutations).map_err(|e| e.reason).map(|()| {
                            if let Event::GuildMembersChunk(chunk) = event {
                                (requested, resynced) =
                                    self.observe_chunk(ChunkAnswer::parsed(chunk), &mut mutations);
                            }
                            Applied::Mutations(mutations)
                        })
                    }
                    not_cached => Ok(not_cached),
                };
                self.settle(name, checked, false, requested, producer);
                self.mark_resynced(resynced);
            }
            // Not a typed event, or its conversion failed: read it raw.
            typed @ (Some((_, Err(_))) | None) => match dispatch_of(event) {
                Ok((name, data)) => {
                    if let Some((_, Err(reason))) = typed {
                        self.fallbacks.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(
                            event = name,
                            reason,
                            "typed conversion failed; reading the event raw"
                        );
                    }
                    self.apply_with(&name, &data, false, producer);
                    if let Event::GuildCreate(create) = event {
                        self.mark_resynced(Self::resynced_by_guild_create(create));
                    }
                }
                Err(reason) => {
                    let name = event.name().unwrap_or_else(|| "UNKNOWN".to_owned());
                    self.settle(&name, Err(reason), false, false, producer);
                }
            },
        }
    }

    /// A GUILD_CREATE re-syncs what shedding lost of the guild, but messages
    /// (and members unless it lists every one).
    fn resynced_by_guild_create(
        create: &serenity::model::event::GuildCreateEvent,
    ) -> Option<Resynced> {
        let guild = &create.guild;
        let mut kinds = ResourceKind::all() - ResourceKind::MESSAGES;
        if guild.members.len() as u64 != guild.member_count {
            kinds -= ResourceKind::MEMBERS;
        }
        Some(Resynced {
            guild_id: GuildId::new(guild.id.get()),
            kinds,
            asked_at: u64::MAX,
        })
    }

    /// Records a resync once what re-synced it is queued: a reader who sees
    /// the guild no longer stale and flushes gets it.
    fn mark_resynced(&self, resynced: Option<Resynced>) {
        if let Some(r) = resynced {
            self.cache
                .mark_resynced_since(r.guild_id, r.kinds, r.asked_at);
        }
    }

    /// Applies one raw dispatch: its event name and its `d` object.
    pub(crate) fn apply(&self, event: &str, data: &Value, unparsed: bool) {
        self.apply_with(event, data, unparsed, &self.producer);
    }

    fn apply_with(&self, event: &str, data: &Value, unparsed: bool, producer: &Producer) {
        if event == "READY"
            && let Some(Ok(id)) = data
                .get("user")
                .and_then(|u| u.get("id"))
                .map(UserId::deserialize)
        {
            self.current_user.store(id.get(), Ordering::Release);
        }
        let applied = to_mutations(event, data, &self.session()).map_err(|e| e.reason);
        let (mut requested, mut resynced) = (false, None);
        let applied = applied.map(|applied| match applied {
            Applied::Mutations(mut mutations) if event == "GUILD_MEMBERS_CHUNK" => {
                (requested, resynced) = self.observe_chunk(ChunkAnswer::raw(data), &mut mutations);
                Applied::Mutations(mutations)
            }
            other => other,
        });
        self.settle(event, applied, unparsed, requested, producer);
        self.mark_resynced(resynced);
    }

    /// Adds the pruning of a member request's answer once its last chunk
    /// arrived (the guild's members are then in sync again); says whether
    /// the chunk answers a request of ours.
    fn observe_chunk(
        &self,
        chunk: Option<ChunkAnswer<'_>>,
        mutations: &mut Vec<Mutation>,
    ) -> (bool, Option<Resynced>) {
        let Some(chunk) = chunk else {
            return (false, None);
        };
        let mut requests = lock(&self.chunks);
        let ours = requests.open.contains_key(chunk.nonce);
        let Some(answered) = requests.observe(chunk) else {
            return (ours, None);
        };
        mutations.push(Mutation::RetainGuildMembers {
            guild_id: answered.guild_id,
            keep: answered.members,
        });
        // Members of the guild shed while the answer came in (part of it,
        // or a change after it) keep the guild stale: asked again.
        let resynced = Resynced {
            guild_id: answered.guild_id,
            kinds: ResourceKind::MEMBERS,
            asked_at: answered.asked_at,
        };
        (ours, Some(resynced))
    }

    /// Queues what an event became (or counts why it could not be), then
    /// counts the event: once queued, so a reader who sees the count sees
    /// the event. `requested`: it answers a member request of ours, whose
    /// members are never shed (else a resync could never complete).
    fn settle(
        &self,
        event: &str,
        applied: Result<Applied, String>,
        unparsed: bool,
        requested: bool,
        producer: &Producer,
    ) {
        let queued = |mutations| {
            if requested {
                producer.enqueue_requested_now(mutations)
            } else {
                producer.enqueue_now(mutations)
            }
        };
        if tracing::enabled!(tracing::Level::TRACE) {
            let (mutations, guild_id) = match &applied {
                Ok(Applied::Mutations(m)) => (m.len(), m.iter().find_map(Mutation::guild_id)),
                _ => (0, None),
            };
            if let Some(guild_id) = guild_id {
                tracing::Span::current().record("guild_id", guild_id.get());
            }
            tracing::trace!(event, mutations, unparsed, "gateway event applied");
        }
        match applied {
            Ok(Applied::Mutations(mutations)) => match queued(mutations) {
                Ok(()) => {
                    self.applied.fetch_add(1, Ordering::Relaxed);
                    if unparsed {
                        self.recovered.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(e) => self.fail(event, &e.to_string()),
            },
            Ok(Applied::NotCached) => {
                self.not_cached.fetch_add(1, Ordering::Relaxed);
            }
            Err(reason) => self.fail(event, &reason),
        }
        self.events.fetch_add(1, Ordering::Release);
    }

    fn fail(&self, event: &str, reason: &str) {
        tracing::warn!(
            event,
            reason,
            "a gateway event could not be applied to the cache"
        );
        let mut failures = lock(&self.failures);
        *failures.0.entry(event.to_owned()).or_default() += 1;
        failures.1 = Some(format!("{event}: {reason}"));
    }

    /// Asks a shard for every member of a guild; once every chunk of the
    /// answer arrived, members it did not list are removed.
    pub(crate) fn request_all_members(&self, shard: &ShardMessenger, guild_id: GuildId) {
        let Ok(serenity_guild_id) = guild_id.into_serenity() else {
            tracing::warn!(%guild_id, "not asking for the members of guild 0");
            return;
        };
        let n = self.nonces.fetch_add(1, Ordering::Relaxed);
        // Discord caps nonces at 32 bytes.
        let nonce = format!("persist:{:x}:{n:x}", guild_id.get() & 0xFFFF_FFFF);
        let asked_at = self.cache.shed_mark();
        lock(&self.chunks).expect(nonce.clone(), guild_id, asked_at);
        shard.chunk_guild(
            serenity_guild_id,
            None,
            false,
            ChunkGuildFilter::Query(String::new()),
            Some(nonce),
        );
    }

    /// Member requests still waiting for chunks (those sent more than
    /// `unanswered_after` ago are given up: Discord never answers some).
    pub(crate) fn open_member_requests(&self, unanswered_after: Duration) -> usize {
        let mut chunks = lock(&self.chunks);
        chunks.give_up_older_than(unanswered_after);
        chunks.open.len()
    }

    /// Starts the resync task, once, when the first shard runs. It holds
    /// the tap and the shard manager weakly (a shard's messenger holds the
    /// collectors, which hold the tap).
    pub(crate) fn shard_started(self: &Arc<Self>, manager: Weak<ShardManager>) {
        if !self.resync_started.swap(true, Ordering::AcqRel) {
            tokio::spawn(crate::resync::run(Arc::downgrade(self), manager));
        }
    }

    pub(crate) fn set_shard_count(&self, count: u32) {
        self.shard_count.store(count.max(1), Ordering::Release);
    }

    pub(crate) fn shard_count(&self) -> u32 {
        self.shard_count.load(Ordering::Acquire)
    }

    pub(crate) fn stats(&self) -> GatewayStats {
        let failures = lock(&self.failures);
        GatewayStats {
            events: self.events.load(Ordering::Acquire),
            applied: self.applied.load(Ordering::Relaxed),
            not_cached: self.not_cached.load(Ordering::Relaxed),
            recovered: self.recovered.load(Ordering::Relaxed),
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
            failed: failures.0.clone(),
            last_failure: failures.1.clone(),
        }
    }
}

/// The event name and `d` object of a parsed event, as Discord sent them
/// (serenity's models serialize to Discord's shape).
fn dispatch_of(event: &Event) -> Result<(String, Value), String> {
    let value = serde_json::to_value(event).map_err(|e| format!("cannot re-serialize: {e}"))?;
    let Value::Object(mut frame) = value else {
        return Err("re-serialized to a non-object".to_owned());
    };
    let name = match frame.remove("t") {
        Some(Value::String(name)) => name,
        _ => return Err("re-serialized without an event name".to_owned()),
    };
    let mut data = frame.remove("d").unwrap_or(Value::Null);
    // serenity writes every optional field it did not receive as null. Where
    // a whole object is sent, null and absent mean the same; in the updates
    // that Discord sends whole but the cache applies as patches, a top-level
    // null may clear a field (a nickname removed), so those stay.
    let keep_top_level_nulls = matches!(
        name.as_str(),
        "GUILD_MEMBER_UPDATE" | "GUILD_UPDATE" | "THREAD_UPDATE"
    );
    strip_nulls(&mut data, keep_top_level_nulls);
    Ok((name, data))
}

/// Full member requests of ours waiting for their chunks, by nonce.
#[derive(Default)]
struct ChunkRequests {
    open: HashMap<String, ChunkRequest>,
    order: VecDeque<String>,
}

struct ChunkRequest {
    guild_id: GuildId,
    seen: BTreeSet<u64>,
    members: Vec<UserId>,
    /// The cache's shed mark when the request was sent.
    asked_at: u64,
    sent: Instant,
}

/// A guild's kinds re-synced by an answer asked for at `asked_at` (a shed
/// mark; `u64::MAX`: complete when queued), recorded once it is queued.
struct Resynced {
    guild_id: GuildId,
    kinds: ResourceKind,
    asked_at: u64,
}

/// A member request every chunk of which arrived.
#[derive(Debug, PartialEq)]
struct AnsweredRequest {
    guild_id: GuildId,
    /// Every member the answer listed.
    members: Vec<UserId>,
    /// The cache's shed mark when the request was sent.
    asked_at: u64,
}

impl ChunkRequests {
    fn expect(&mut self, nonce: String, guild_id: GuildId, asked_at: u64) {
        if self.order.len() >= MAX_OPEN_CHUNK_REQUESTS
            && let Some(oldest) = self.order.pop_front()
        {
            self.open.remove(&oldest);
        }
        self.order.push_back(nonce.clone());
        self.open.insert(
            nonce,
            ChunkRequest {
                guild_id,
                seen: BTreeSet::new(),
                members: Vec::new(),
                asked_at,
                sent: Instant::now(),
            },
        );
    }

    /// Takes one chunk; after the last chunk of a complete answer, the
    /// answer (every member not listed is then removed).
    fn observe(&mut self, chunk: ChunkAnswer<'_>) -> Option<AnsweredRequest> {
        let request = self.open.get_mut(chunk.nonce)?;
        // Not an answer we can prune from (ids not found, another guild, or
        // a member whose id could not be read, which pruning would remove):
        // forget it.
        let members = match chunk.members {
            Some(members) if !chunk.not_found && request.guild_id == chunk.guild_id => members,
            _ => {
                self.forget(chunk.nonce);
                return None;
            }
        };
        request.seen.insert(chunk.index);
        request.members.extend(members);
        if (request.seen.len() as u64) < chunk.count {
            return None;
        }
        let request = self.open.remove(chunk.nonce)?;
        self.order.retain(|n| n != chunk.nonce);
        Some(AnsweredRequest {
            guild_id: request.guild_id,
            members: request.members,
            asked_at: request.asked_at,
        })
    }

    fn give_up_older_than(&mut self, age: Duration) {
        self.open.retain(|_, request| request.sent.elapsed() < age);
        let open = &self.open;
        self.order.retain(|nonce| open.contains_key(nonce));
    }

    fn forget(&mut self, nonce: &str) {
        self.open.remove(nonce);
        self.order.retain(|n| n != nonce);
    }
}

/// What member pruning needs of one GUILD_MEMBERS_CHUNK, parsed or raw.
struct ChunkAnswer<'a> {
    nonce: &'a str,
    guild_id: GuildId,
    index: u64,
    count: u64,
    /// Some ids asked for were not found.
    not_found: bool,
    /// The members' ids; `None` if any member's id could not be read.
    members: Option<Vec<UserId>>,
}

impl<'a> ChunkAnswer<'a> {
    /// From serenity's parsed chunk; `None` when it answers no request of ours.
    fn parsed(chunk: &'a serenity::model::event::GuildMembersChunkEvent) -> Option<Self> {
        Some(Self {
            nonce: chunk.nonce.as_deref()?,
            guild_id: GuildId::new(chunk.guild_id.get()),
            index: u64::from(chunk.chunk_index),
            count: u64::from(chunk.chunk_count),
            not_found: !chunk.not_found.is_empty(),
            members: Some(
                chunk
                    .members
                    .keys()
                    .map(|id| UserId::new(id.get()))
                    .collect(),
            ),
        })
    }

    /// From a raw chunk's `d` object; `None` when it answers no request of
    /// ours or misses what every chunk has.
    fn raw(chunk: &'a Value) -> Option<Self> {
        let members = chunk.get("members").and_then(Value::as_array);
        Some(Self {
            nonce: chunk.get("nonce")?.as_str()?,
            guild_id: GuildId::deserialize(chunk.get("guild_id")?).ok()?,
            index: chunk.get("chunk_index")?.as_u64()?,
            count: chunk.get("chunk_count")?.as_u64()?,
            not_found: chunk
                .get("not_found")
                .and_then(Value::as_array)
                .is_some_and(|n| !n.is_empty()),
            members: members.and_then(|members| {
                members
                    .iter()
                    .map(|m| UserId::deserialize(m.get("user")?.get("id")?).ok())
                    .collect()
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(chunk: &Value) -> ChunkAnswer<'_> {
        ChunkAnswer::raw(chunk).expect("a chunk answering a request")
    }

    fn chunk(index: u32, count: u32, users: &[u64], nonce: &str) -> Value {
        let members: Vec<Value> = users
            .iter()
            .map(|u| json!({"user": {"id": u.to_string()}}))
            .collect();
        json!({"guild_id": "7", "members": members, "chunk_index": index, "chunk_count": count, "nonce": nonce})
    }

    #[test]
    fn members_are_pruned_only_after_every_chunk_of_our_request() {
        let mut requests = ChunkRequests::default();
        requests.expect("n1".into(), GuildId::new(7), 4);
        assert_eq!(requests.observe(answer(&chunk(1, 3, &[3, 4], "n1"))), None);
        assert_eq!(requests.observe(answer(&chunk(0, 3, &[1, 2], "n1"))), None);
        // A chunk of somebody else's request changes nothing.
        assert_eq!(requests.observe(answer(&chunk(2, 3, &[9], "other"))), None);
        let Some(mut answered) = requests.observe(answer(&chunk(2, 3, &[5], "n1"))) else {
            panic!("no prune after the last chunk");
        };
        answered.members.sort();
        assert_eq!(answered.guild_id, GuildId::new(7));
        assert_eq!(answered.members, [1, 2, 3, 4, 5].map(UserId::new));
        assert_eq!(answered.asked_at, 4);
        assert!(requests.open.is_empty());
    }

    #[test]
    fn an_answer_with_not_found_or_an_unreadable_member_prunes_nothing() {
        let mut requests = ChunkRequests::default();
        requests.expect("n".into(), GuildId::new(7), 0);
        let mut first = chunk(0, 2, &[1], "n");
        first["not_found"] = json!(["5"]);
        assert_eq!(requests.observe(answer(&first)), None);
        assert_eq!(requests.observe(answer(&chunk(1, 2, &[2], "n"))), None);

        requests.expect("m".into(), GuildId::new(7), 0);
        let mut broken = chunk(0, 1, &[1], "m");
        broken["members"][0]["user"]["id"] = json!("not a snowflake");
        assert_eq!(requests.observe(answer(&broken)), None);
    }
}
