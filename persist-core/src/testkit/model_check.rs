//! The model-based check: random sequences of mutations, split into random
//! batches, applied to a store and to the reference [`Model`]; after every
//! batch every query over a small universe of ids must answer the same.

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use serde_json::json;

use super::StoreFactory;
use super::fixtures;
use super::model::Model;
use crate::entity::Record;
use crate::model::{Channel, ChannelKind};
use crate::{
    ChannelId, EmojiId, EntityKey, GuildId, MemberPatch, MessageId, MessagePage, MessagePatch,
    Migrations, Mutation, Patch, Query, ReactionChange, ReactionEmoji, RoleId, ScheduledEventId,
    StageInstanceId, StickerId, UserId, UserPatch,
};

/// Guilds on two shards of two (`shard_of` reads bits 22 and up).
const GUILDS: [u64; 3] = [1 << 22 | 1, 2 << 22 | 2, 3 << 22 | 3];
/// Text channels, two per guild, and one channel of no guild.
const CHANNELS: [u64; 7] = [100, 101, 102, 103, 104, 105, 106];
/// Threads under channels 100, 101 and 102.
const THREADS: [u64; 3] = [110, 111, 112];
const USERS: [u64; 4] = [200, 201, 202, 203];
const ROLES: [u64; 4] = [300, 301, 302, 303];
const EMOJIS: [u64; 3] = [400, 401, 402];
const STICKERS: [u64; 2] = [500, 501];
const STAGES: [u64; 2] = [600, 601];
const EVENTS: [u64; 2] = [700, 701];
/// Message ids (their channel follows from the id).
const MESSAGES: std::ops::Range<u64> = 1_000..1_024;

fn guild_of_channel(channel: u64) -> Option<u64> {
    match channel {
        100..=105 => Some(GUILDS[(channel as usize - 100) % 3]),
        110..=112 => guild_of_channel(channel - 10),
        _ => None,
    }
}

fn channel_of_message(id: u64) -> u64 {
    let all: Vec<u64> = CHANNELS.iter().chain(&THREADS).copied().collect();
    all[id as usize % all.len()]
}

fn guild_of(id: u64) -> u64 {
    GUILDS[id as usize % 3]
}

/// One object of the universe, its content varied by `v`.
fn record(kind: u8, i: usize, v: u8) -> Record {
    let user = USERS[i % USERS.len()];
    let g = GUILDS[i % 3];
    match kind % 14 {
        0 => {
            let mut r = fixtures::guild(g);
            r.name = format!("guild v{v}");
            Record::Guild(r)
        }
        1 => {
            let id = CHANNELS[i % CHANNELS.len()];
            let mut r = match guild_of_channel(id) {
                Some(g) => fixtures::channel(id, g),
                None => Channel {
                    id: ChannelId::new(id),
                    kind: ChannelKind::Dm,
                    ..Default::default()
                },
            };
            r.name = Some(format!("channel v{v}"));
            Record::Channel(r)
        }
        2 => {
            let id = THREADS[i % THREADS.len()];
            let parent = id - 10;
            let g = guild_of_channel(parent).unwrap_or(GUILDS[0]);
            let mut r = fixtures::thread(id, g, parent);
            r.name = Some(format!("thread v{v}"));
            Record::Channel(r)
        }
        3 | 4 => {
            let id = MESSAGES.start + (i as u64 % (MESSAGES.end - MESSAGES.start));
            let channel = channel_of_message(id);
            let mut r = fixtures::message(
                MessageId::new(id),
                channel,
                guild_of_channel(channel).unwrap_or(GUILDS[0]),
            );
            if guild_of_channel(channel).is_none() {
                r.guild_id = None;
            }
            r.content = format!("message v{v}");
            Record::Message(r)
        }
        5 => {
            let mut r = fixtures::user(user);
            r.username = format!("user v{v}");
            Record::User(r)
        }
        6 => {
            let roles: Vec<u64> = ROLES
                .iter()
                .copied()
                .filter(|r| guild_of(*r) == g && (v as u64 + r).is_multiple_of(2))
                .collect();
            let mut r = fixtures::member(g, user, &roles);
            r.nick = Some(format!("member v{v}"));
            Record::Member(r)
        }
        7 => {
            let id = ROLES[i % ROLES.len()];
            let mut r = fixtures::role(id, guild_of(id));
            r.name = format!("role v{v}");
            Record::Role(r)
        }
        8 => {
            let id = EMOJIS[i % EMOJIS.len()];
            let mut r = fixtures::emoji(id, guild_of(id));
            r.name = Some(format!("emoji{v}"));
            Record::Emoji(r)
        }
        9 => {
            let id = STICKERS[i % STICKERS.len()];
            let mut r = fixtures::sticker(id, guild_of(id));
            r.name = format!("sticker v{v}");
            Record::Sticker(r)
        }
        10 => {
            let channel = CHANNELS[(i / 3 % 2) * 3 + i % 3];
            let mut r =
                fixtures::voice_state(guild_of_channel(channel).unwrap_or(g), user, channel);
            r.self_mute = v.is_multiple_of(2);
            Record::VoiceState(r)
        }
        11 => {
            let mut r = fixtures::presence(g, user);
            r.status = if v.is_multiple_of(2) {
                "online"
            } else {
                "idle"
            }
            .into();
            Record::Presence(r)
        }
        12 => {
            if i.is_multiple_of(2) {
                let id = STAGES[i / 2 % STAGES.len()];
                let g = guild_of(id);
                let channel = CHANNELS[GUILDS.iter().position(|x| *x == g).unwrap_or(0)];
                let mut r = fixtures::stage_instance(id, g, channel);
                r.topic = format!("stage v{v}");
                Record::StageInstance(r)
            } else {
                let id = EVENTS[i / 2 % EVENTS.len()];
                let mut r = fixtures::scheduled_event(id, guild_of(id));
                r.name = format!("event v{v}");
                Record::ScheduledEvent(r)
            }
        }
        _ => {
            if i.is_multiple_of(4) {
                let mut r = fixtures::current_user(USERS[0]);
                r.username = format!("bot v{v}");
                Record::CurrentUser(r)
            } else {
                let thread = THREADS[i % THREADS.len()];
                Record::ThreadMember(fixtures::thread_member(thread, user))
            }
        }
    }
}

fn any_record() -> impl Strategy<Value = Record> {
    (any::<u8>(), 0..64usize, 0..4u8).prop_map(|(kind, i, v)| record(kind, i, v))
}

fn message_id(i: usize) -> MessageId {
    MessageId::new(MESSAGES.start + (i as u64 % (MESSAGES.end - MESSAGES.start)))
}

/// A key of any kind in the universe (present or not): the key of the
/// object [`record`] makes for the same `kind` and `i`.
fn key(kind: u8, i: usize) -> EntityKey {
    record(kind, i, 0).key()
}

fn patch(kind: u8, i: usize, v: u8) -> Option<Patch> {
    let user = UserId::new(USERS[i % USERS.len()]);
    let g = GuildId::new(GUILDS[i % 3]);
    let id = message_id(i);
    let channel = ChannelId::new(channel_of_message(id.get()));
    // A message update names its guild, as the gateway's do (a patch of a
    // message the store lacks makes a partial message of it).
    let message_guild = guild_of_channel(channel.get()).map(GuildId::new);
    Some(match kind % 8 {
        0 => Patch::from_member(
            g,
            user,
            MemberPatch {
                nick: Some((v.is_multiple_of(2)).then(|| format!("nick v{v}"))),
                roles: (v.is_multiple_of(3)).then(|| vec![RoleId::new(ROLES[i % ROLES.len()])]),
                ..Default::default()
            },
        ),
        1 => Patch::from_message(
            channel,
            id,
            MessagePatch {
                guild_id: message_guild.map(Some),
                content: Some(format!("edited v{v}")),
                pinned: Some(v.is_multiple_of(2)),
                ..Default::default()
            },
        ),
        2 => Patch::from_user(
            user,
            UserPatch {
                global_name: Some(Some(format!("global v{v}"))),
                ..Default::default()
            },
        ),
        3 => Patch::member(g, user, json!({"nick": format!("json v{v}"), "deaf": true})).ok()?,
        4 => {
            let mut fields = json!({"content": format!("json v{v}")});
            if let Some(g) = message_guild {
                fields["guild_id"] = json!(g.get().to_string());
            }
            Patch::message(channel, id, fields).ok()?
        }
        5 => Patch::guild(g, json!({"name": format!("json guild v{v}")})).ok()?,
        6 => Patch::channel(
            ChannelId::new(CHANNELS[i % 6]),
            json!({"name": format!("json channel v{v}"), "topic": null}),
        )
        .ok()?,
        _ => Patch::presence(g, user, json!({"status": "dnd"})).ok()?,
    })
}

fn reaction(i: usize, v: u8) -> ReactionChange {
    let id = message_id(i);
    let channel = channel_of_message(id.get());
    ReactionChange {
        channel_id: ChannelId::new(channel),
        message_id: id,
        guild_id: guild_of_channel(channel).map(GuildId::new),
        user_id: UserId::new(USERS[i % USERS.len()]),
        emoji: if v.is_multiple_of(2) {
            ReactionEmoji::unicode("👍")
        } else {
            ReactionEmoji::custom(EmojiId::new(EMOJIS[0]), Some("e".into()))
        },
        burst: v.is_multiple_of(3),
        by_current_user: v.is_multiple_of(4),
    }
}

/// Any mutation over the universe.
fn any_mutation() -> impl Strategy<Value = Mutation> {
    let pick = (any::<u8>(), 0..64usize, 0..6u8);
    prop_oneof![
        8 => any_record().prop_map(Mutation::upsert),
        2 => prop::collection::vec(any_record(), 1..6).prop_map(Mutation::UpsertMany),
        4 => pick.clone().prop_filter_map("an invalid patch", |(k, i, v)| patch(k, i, v).map(Mutation::Patch)),
        3 => pick.clone().prop_map(|(k, i, _)| Mutation::Delete(key(k, i))),
        3 => pick.clone().prop_map(|(k, i, v)| match k % 4 {
            0 => Mutation::AddReaction(reaction(i, v)),
            1 => Mutation::RemoveReaction(reaction(i, v)),
            2 => {
                let r = reaction(i, v);
                Mutation::RemoveAllReactions { channel_id: r.channel_id, message_id: r.message_id }
            }
            _ => {
                let r = reaction(i, v);
                Mutation::RemoveEmojiReactions { channel_id: r.channel_id, message_id: r.message_id, emoji: r.emoji }
            }
        }),
        1 => (0..3usize, prop::collection::vec(0..64usize, 0..3)).prop_map(|(g, ids)| {
            let guild_id = GuildId::new(GUILDS[g]);
            Mutation::ReplaceGuildEmojis {
                guild_id,
                // A guild lists only its own emojis: an object never changes guild.
                emojis: ids
                    .iter()
                    .map(|i| EMOJIS[i % 3])
                    .filter(|id| guild_of(*id) == GUILDS[g])
                    .map(|id| fixtures::emoji(id, GUILDS[g]))
                    .collect(),
            }
        }),
        1 => (0..3usize, prop::collection::vec(0..64usize, 0..2)).prop_map(|(g, ids)| {
            Mutation::ReplaceGuildStickers {
                guild_id: GuildId::new(GUILDS[g]),
                stickers: ids
                    .iter()
                    .map(|i| STICKERS[i % 2])
                    .filter(|id| guild_of(*id) == GUILDS[g])
                    .map(|id| fixtures::sticker(id, GUILDS[g]))
                    .collect(),
            }
        }),
        1 => prop::collection::vec(0..64usize, 1..4).prop_map(|ids| {
            let ids: Vec<MessageId> = ids.into_iter().map(message_id).collect();
            Mutation::BulkDeleteMessages {
                channel_id: ChannelId::new(channel_of_message(ids[0].get())),
                message_ids: ids,
            }
        }),
        1 => (0..2usize, any::<bool>()).prop_map(|(e, added)| Mutation::CountScheduledEventUser {
            guild_id: GuildId::new(guild_of(EVENTS[e])),
            event_id: ScheduledEventId::new(EVENTS[e]),
            added,
        }),
        2 => (0..10usize, 0..4u32).prop_map(|(c, keep)| Mutation::TrimChannelMessages {
            channel_id: ChannelId::new(*CHANNELS.iter().chain(&THREADS).nth(c).unwrap_or(&100)),
            keep,
        }),
        1 => (0..64usize).prop_map(|i| Mutation::PruneMessages { before: message_id(i) }),
        1 => (0..3usize, prop::collection::vec(0..7usize, 0..4)).prop_map(|(g, keep)| {
            Mutation::RetainGuildChannels {
                guild_id: GuildId::new(GUILDS[g]),
                keep: keep.into_iter().map(|c| ChannelId::new(CHANNELS[c])).collect(),
            }
        }),
        1 => (0..3usize, prop::collection::vec(0..4usize, 0..3)).prop_map(|(g, keep)| {
            Mutation::RetainGuildRoles {
                guild_id: GuildId::new(GUILDS[g]),
                keep: keep.into_iter().map(|r| RoleId::new(ROLES[r])).collect(),
            }
        }),
        1 => (0..3usize, prop::collection::vec(0..4usize, 0..4)).prop_map(|(g, keep)| {
            Mutation::RetainGuildMembers {
                guild_id: GuildId::new(GUILDS[g]),
                keep: keep.into_iter().map(|u| UserId::new(USERS[u])).collect(),
            }
        }),
        1 => (0..2u32, prop::collection::vec(0..3usize, 0..3)).prop_map(|(shard_id, keep)| {
            Mutation::RetainShardGuilds {
                shard_id,
                shard_count: 2,
                keep: keep.into_iter().map(|g| GuildId::new(GUILDS[g])).collect(),
            }
        }),
    ]
}

/// A sequence of mutations cut into batches (each at least one mutation).
fn batches() -> impl Strategy<Value = Vec<Vec<Mutation>>> {
    prop::collection::vec(prop::collection::vec(any_mutation(), 1..12), 1..5)
}

/// Every query the check asks after each batch.
fn queries() -> Vec<Query> {
    let mut q = vec![Query::CurrentUser, Query::GuildIds, Query::Counts];
    for g in GUILDS.map(GuildId::new) {
        q.extend([
            Query::Guild(g),
            Query::GuildChannels(g),
            Query::GuildThreads(g),
            Query::GuildRoles(g),
            Query::GuildEmojis(g),
            Query::GuildStickers(g),
            Query::GuildVoiceStates(g),
            Query::GuildPresences(g),
            Query::GuildStageInstances(g),
            Query::GuildScheduledEvents(g),
            Query::GuildMembers {
                guild_id: g,
                after: None,
                limit: 100,
            },
            Query::GuildMembers {
                guild_id: g,
                after: Some(UserId::new(USERS[0])),
                limit: 2,
            },
        ]);
        for u in USERS.map(UserId::new) {
            q.extend([
                Query::Member(g, u),
                Query::VoiceState(g, u),
                Query::Presence(g, u),
            ]);
        }
    }
    let middle = MessageId::new(MESSAGES.start + 11);
    for c in CHANNELS.iter().chain(&THREADS).map(|c| ChannelId::new(*c)) {
        q.push(Query::Channel(c));
        q.push(Query::ThreadMembers(c));
        for (page, limit) in [
            (MessagePage::Latest, 100),
            (MessagePage::Latest, 2),
            (MessagePage::Before(middle), 2),
            (MessagePage::After(middle), 2),
            (MessagePage::Around(middle), 3),
        ] {
            q.push(Query::ChannelMessages {
                channel_id: c,
                page,
                limit,
            });
        }
    }
    for t in THREADS.map(ChannelId::new) {
        for u in USERS.map(UserId::new) {
            q.push(Query::ThreadMember(t, u));
        }
    }
    q.extend(MESSAGES.map(|m| Query::Message(MessageId::new(m))));
    for u in USERS.map(UserId::new) {
        q.extend([Query::User(u), Query::UserGuilds(u)]);
    }
    q.extend(ROLES.map(|r| Query::Role(RoleId::new(r))));
    q.extend(EMOJIS.map(|e| Query::Emoji(EmojiId::new(e))));
    q.extend(STICKERS.map(|s| Query::Sticker(StickerId::new(s))));
    q.extend(STAGES.map(|s| Query::StageInstance(StageInstanceId::new(s))));
    q.extend(EVENTS.map(|e| Query::ScheduledEvent(ScheduledEventId::new(e))));
    q
}

/// Runs `cases` random sequences (the `PERSIST_MODEL_CASES` environment
/// variable overrides it) against stores from `factory`, comparing every
/// query with the reference model after every batch. Failures, shrunk, are
/// kept in `regressions` (a file, re-run first on every later run).
///
/// Call it from a plain `#[test]` (it runs its own Tokio runtime).
///
/// ```
/// use persist_core::testkit::{MemoryFactory, run_model_check};
/// run_model_check(&MemoryFactory::default(), 4, "/tmp/persist-memory-model.txt");
/// ```
pub fn run_model_check(factory: &dyn StoreFactory, cases: u32, regressions: &'static str) {
    run_sequences(cases, regressions, |runtime, name, batches, queries| {
        runtime.block_on(check_one(factory, name, batches, queries))
    });
}

/// Like [`run_model_check`], through a [`Cache`](crate::Cache) over the
/// store with `config` (its hot tier's budget, pins and windows): each
/// batch is queued and every query is read before and after it commits.
/// The ruleset caches every kind and caps no channel below the universe.
///
/// ```
/// use persist_core::CacheConfig;
/// use persist_core::testkit::{MemoryFactory, run_cache_model_check};
/// let tiny = CacheConfig { memory_budget: 0, pinned_kinds: persist_core::ResourceKind::empty(), ..Default::default() };
/// run_cache_model_check(&MemoryFactory::default(), 2, tiny, "/tmp/persist-memory-cache-model.txt");
/// ```
pub fn run_cache_model_check(
    factory: &dyn StoreFactory,
    cases: u32,
    config: crate::CacheConfig,
    regressions: &'static str,
) {
    run_sequences(cases, regressions, |runtime, name, batches, queries| {
        runtime.block_on(check_one_cached(factory, name, batches, queries, &config))
    });
}

/// A hot tier that evicts everything it may: nothing pinned, no budget,
/// windows of two messages.
pub fn tiny_hot_tier() -> crate::CacheConfig {
    crate::CacheConfig {
        memory_budget: 0,
        pinned_kinds: crate::ResourceKind::empty(),
        hot_messages_per_channel: 2,
        ..Default::default()
    }
}

/// A hot tier that holds everything it reads.
pub fn huge_hot_tier() -> crate::CacheConfig {
    crate::CacheConfig {
        memory_budget: usize::MAX,
        hot_messages_per_channel: 3,
        ..Default::default()
    }
}

/// [`run_cache_model_check`] behind [`tiny_hot_tier`] and [`huge_hot_tier`]:
/// the store answers the same through a cache that evicts everything and
/// one that holds everything. `regressions` names a file per hot tier
/// (`-tiny.txt` and `-huge.txt` are appended).
pub fn run_hot_tier_model_checks(
    factory: &dyn StoreFactory,
    cases: u32,
    regressions: &'static str,
) {
    let tiny: &'static str = Box::leak(format!("{regressions}-tiny.txt").into_boxed_str());
    let huge: &'static str = Box::leak(format!("{regressions}-huge.txt").into_boxed_str());
    run_cache_model_check(factory, cases, tiny_hot_tier(), tiny);
    run_cache_model_check(factory, cases, huge_hot_tier(), huge);
}

type Sequence<'a> = dyn Fn(&tokio::runtime::Runtime, &str, &[Vec<Mutation>], &[Query]) -> Result<(), TestCaseError>
    + 'a;

fn run_sequences(
    cases: u32,
    regressions: &'static str,
    check: impl Fn(
        &tokio::runtime::Runtime,
        &str,
        &[Vec<Mutation>],
        &[Query],
    ) -> Result<(), TestCaseError>,
) {
    let check: &Sequence<'_> = &check;
    let cases = std::env::var("PERSIST_MODEL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a Tokio runtime for the model check");
    let config = Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    };
    let queries = queries();
    // Numbered across runs: two runs on one factory never reopen each
    // other's stores.
    static STORES: AtomicU64 = AtomicU64::new(0);
    let result = TestRunner::new(config).run(&batches(), |batches| {
        let name = format!("model-{}", STORES.fetch_add(1, Ordering::Relaxed));
        check(&runtime, &name, &batches, &queries)
    });
    if let Err(e) = result {
        panic!("the store and the model disagree: {e}");
    }
}

async fn check_one_cached(
    factory: &dyn StoreFactory,
    name: &str,
    batches: &[Vec<Mutation>],
    queries: &[Query],
    config: &crate::CacheConfig,
) -> Result<(), TestCaseError> {
    use crate::{Cache, ResourceKind, Ruleset};
    let fail = |what: String| TestCaseError::fail(what);
    let store = open(factory, name).await?;
    let rules = Ruleset::builder()
        .resources(ResourceKind::all())
        .message_cap(10_000)
        .build()
        .map_err(|e| fail(format!("ruleset: {e}")))?;
    let cache =
        Cache::from_arc(store, rules, config.clone()).map_err(|e| fail(format!("cache: {e}")))?;
    let mut model = Model::new();
    for (n, batch) in batches.iter().enumerate() {
        cache
            .enqueue_now(batch.iter().cloned())
            .map_err(|e| fail(format!("batch {n} not queued: {e}")))?;
        for mutation in batch {
            model.apply(mutation);
        }
        // Trims and prunes queued show once committed (`Cache::read`).
        let visible_queued = !batch.iter().any(|m| {
            matches!(
                m,
                Mutation::TrimChannelMessages { .. } | Mutation::PruneMessages { .. }
            )
        });
        for committed in [false, true] {
            if committed {
                cache
                    .flush()
                    .await
                    .map_err(|e| fail(format!("batch {n} not committed: {e}")))?;
            } else if !visible_queued {
                continue;
            }
            let asked = queries.iter().filter(|q| committed || **q != Query::Counts);
            agree(
                &cache,
                &model,
                asked,
                &format!("batch {n} (committed: {committed})"),
            )
            .await
            .map_err(|e| fail(format!("{e}\n hot: {:?}", cache.stats().hot)))?;
        }
    }
    cache
        .shutdown()
        .await
        .map_err(|e| fail(format!("shutdown: {e}")))?;
    Ok(())
}

/// Every query answered by `reader` (a store, or a cache over one) as the
/// model answers it, after `at`.
async fn agree<R: crate::ReadApi + ?Sized>(
    reader: &R,
    model: &Model,
    queries: impl Iterator<Item = &Query>,
    at: &str,
) -> Result<(), TestCaseError> {
    for query in queries {
        let got = reader
            .query(query)
            .await
            .map_err(|e| TestCaseError::fail(format!("after {at}, {query:?} failed: {e}")))?;
        let want = model.read(query);
        if got != want {
            return Err(TestCaseError::fail(format!(
                "after {at}, {query:?}:\n read: {got:?}\n model: {want:?}"
            )));
        }
    }
    Ok(())
}

async fn open(
    factory: &dyn StoreFactory,
    name: &str,
) -> Result<std::sync::Arc<dyn crate::Store>, TestCaseError> {
    factory
        .open(name, &Migrations::new())
        .await
        .map_err(|e| TestCaseError::fail(format!("open: {e}")))
}

async fn check_one(
    factory: &dyn StoreFactory,
    name: &str,
    batches: &[Vec<Mutation>],
    queries: &[Query],
) -> Result<(), TestCaseError> {
    let fail = |what: String| TestCaseError::fail(what);
    let store = open(factory, name).await?;
    let mut model = Model::new();
    for (n, batch) in batches.iter().enumerate() {
        store
            .apply(batch)
            .await
            .map_err(|e| fail(format!("batch {n} failed: {e}")))?;
        for mutation in batch {
            model.apply(mutation);
        }
        agree(&*store, &model, queries.iter(), &format!("batch {n}")).await?;
    }
    Ok(())
}
