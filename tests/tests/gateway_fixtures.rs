//! Every real gateway payload in `tests/fixtures/gateway/` (serenity 0.12.5
//! cannot parse about a third of them) is read by `persist_core::gateway`,
//! applied through a cache, and what is stored is checked field by field
//! against the payload itself.

use persist_core::Counts;
use persist_core::gateway::{Applied, Session, to_mutations};
use persist_core::{
    Cache, CacheConfig, ChannelId, GuildId, MemoryStore, MessageId, Migrations, ReadApi,
    ResourceKind, RoleId, Ruleset, UserId,
};
use persist_serenity::Persist;
use persist_serenity::serenity::model::event::Event;
use serde_json::{Value, json};

/// Events that carry nothing a cache keeps.
const NOT_CACHED: &[&str] = &[
    "CHANNEL_RECIPIENT_REMOVE",
    "GUILD_AUDIT_LOG_ENTRY_CREATE",
    "GUILD_BAN_ADD",
    "GUILD_BAN_REMOVE",
    "INTERACTION_CREATE",
    "TYPING_START",
    "VOICE_CHANNEL_START_TIME_UPDATE",
    "VOICE_CHANNEL_STATUS_UPDATE",
    "WEBHOOKS_UPDATE",
];

fn fixtures() -> Vec<(String, String, Value)> {
    let out = persist_tests::gateway_fixtures();
    assert!(out.len() >= 80, "fixtures missing: {}", out.len());
    out
}

fn id(v: &Value) -> u64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        Value::Number(n) => n.as_u64().unwrap(),
        other => panic!("not an id: {other}"),
    }
}

fn text(v: &Value, field: &str) -> Option<String> {
    v.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn len(v: &Value, field: &str) -> usize {
    v.get(field).and_then(Value::as_array).map_or(0, Vec::len)
}

/// How many distinct ids a collection holds (hand-edited payloads repeat some;
/// the cache keeps one object per id). `path` leads from an element to its id.
fn distinct(v: &Value, field: &str, path: &[&str]) -> usize {
    let ids: std::collections::BTreeSet<u64> = v
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| id(path.iter().fold(e, |e, key| &e[*key])))
        .collect();
    ids.len()
}

/// Fixtures serenity 0.12.5 could not parse, applied from their raw JSON.
static UNPARSED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The two ways a payload reaches the cache.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// `persist_core::gateway` on the raw JSON.
    Raw,
    /// As a bot receives it: serenity 0.12.5 parses the dispatch (to
    /// `Event::Unknown` when it cannot) and the adapter applies the event.
    Serenity,
}

/// Applies one payload to a fresh cache that keeps every kind. Returns the
/// cache and what it held before the payload (the session's own user).
async fn apply(event: &str, data: &Value, via: Via) -> (Cache, Counts) {
    let rules = Ruleset::builder()
        .resources(ResourceKind::all())
        .message_cap(100_000)
        .build()
        .unwrap();
    let store = MemoryStore::open(&Migrations::new()).await.unwrap();
    let cache = Cache::new(store, rules, CacheConfig::default()).unwrap();
    match via {
        Via::Raw => {
            let session = Session {
                current_user: Some(UserId::new(1)),
            };
            match to_mutations(event, data, &session).unwrap_or_else(|e| panic!("{e}")) {
                Applied::Mutations(mutations) => cache.enqueue_all(mutations).await.unwrap(),
                Applied::NotCached => panic!("{event} is cache-relevant"),
            }
            cache.flush().await.unwrap();
            (cache, Counts::default())
        }
        Via::Serenity => {
            let persist = Persist::new(cache.clone());
            let ready = json!({"v": 10, "user": {"id": "1", "username": "bot", "discriminator": "0",
                "avatar": null, "bot": true}, "guilds": [], "session_id": "s",
                "resume_gateway_url": "ws://x", "application": {"id": "1", "flags": 0}});
            let parsed: Event = serde_json::from_value(json!({"t": "READY", "d": ready})).unwrap();
            assert!(
                !matches!(parsed, Event::Unknown(_)),
                "the test READY must parse"
            );
            persist.apply_event(&parsed);
            cache.flush().await.unwrap();
            let parsed: Event = serde_json::from_value(json!({"t": event, "d": data}))
                .unwrap_or_else(|e| panic!("{event}: serenity refused even as unknown: {e}"));
            persist.apply_event(&parsed);
            if matches!(parsed, Event::Unknown(_)) {
                assert_eq!(persist.stats().gateway.recovered, 1, "{event}");
                UNPARSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let before = Counts {
                users: 1,
                ..Default::default()
            };
            cache.flush().await.unwrap();
            let stats = persist.stats().gateway;
            assert_eq!(stats.failed_total(), 0, "{event}: {stats:?}");
            assert_eq!(stats.applied, 2, "{event}: {stats:?}");
            (cache, before)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_payload_is_applied_or_known_to_carry_nothing_cached() {
    for (file, event, data) in fixtures() {
        let applied = to_mutations(&event, &data, &Session::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let not_cached = NOT_CACHED.contains(&event.as_str());
        assert_eq!(matches!(applied, Applied::NotCached), not_cached, "{file}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_objects_match_their_payloads_field_by_field() {
    let mut checked = 0;
    for (file, event, d) in fixtures() {
        if NOT_CACHED.contains(&event.as_str()) {
            continue;
        }
        for via in [Via::Raw, Via::Serenity] {
            let file = format!("{file} via {via:?}");
            let (cache, before) = apply(&event, &d, via).await;
            match event.as_str() {
                "GUILD_CREATE" | "GUILD_UPDATE" => {
                    let g = GuildId::new(id(&d["id"]));
                    let guild = cache
                        .guild(g)
                        .await
                        .unwrap()
                        .unwrap_or_else(|| panic!("{file}: guild"));
                    assert_eq!(Some(guild.name.clone()), text(&d, "name"), "{file}");
                    assert_eq!(
                        guild.owner_id.get(),
                        d.get("owner_id").map_or(0, id),
                        "{file}"
                    );
                    assert_eq!(guild.features.len(), len(&d, "features"), "{file}");
                    let roles = cache.guild_roles(g).await.unwrap();
                    assert_eq!(roles.len(), distinct(&d, "roles", &["id"]), "{file}");
                    // The last object of an id wins, as it does in the cache.
                    let last: std::collections::BTreeMap<u64, &Value> = d["roles"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| (id(&r["id"]), r))
                        .collect();
                    for r in last.values() {
                        let role = cache
                            .role(RoleId::new(id(&r["id"])))
                            .await
                            .unwrap()
                            .unwrap();
                        assert_eq!(Some(role.name), text(r, "name"), "{file}");
                        assert_eq!(role.position, r["position"].as_i64().unwrap_or(0), "{file}");
                        assert_eq!(role.guild_id, g, "{file}");
                    }
                    assert_eq!(
                        cache.guild_emojis(g).await.unwrap().len(),
                        distinct(&d, "emojis", &["id"]),
                        "{file}"
                    );
                    if event == "GUILD_CREATE" {
                        let channels = cache.guild_channels(g).await.unwrap().len()
                            + cache.guild_threads(g).await.unwrap().len();
                        assert_eq!(
                            channels,
                            distinct(&d, "channels", &["id"]) + distinct(&d, "threads", &["id"]),
                            "{file}"
                        );
                        let members = cache.guild_members(g, None, 1_000_000).await.unwrap();
                        assert_eq!(
                            members.len(),
                            distinct(&d, "members", &["user", "id"]),
                            "{file}"
                        );
                        let last: std::collections::BTreeMap<u64, &Value> = d["members"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|m| (id(&m["user"]["id"]), m))
                            .collect();
                        for m in last.values().take(50) {
                            let u = UserId::new(id(&m["user"]["id"]));
                            let member = cache.member(g, u).await.unwrap().unwrap();
                            assert_eq!(member.nick, text(m, "nick"), "{file}");
                            assert_eq!(member.roles.len(), len(m, "roles"), "{file}");
                            let user = cache.user(u).await.unwrap().unwrap();
                            assert_eq!(Some(user.username), text(&m["user"], "username"), "{file}");
                        }
                        assert_eq!(
                            cache.guild_presences(g).await.unwrap().len(),
                            distinct(&d, "presences", &["user", "id"]),
                            "{file}"
                        );
                    }
                }
                "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "THREAD_CREATE" => {
                    let c = cache
                        .channel(ChannelId::new(id(&d["id"])))
                        .await
                        .unwrap()
                        .unwrap();
                    assert_eq!(c.name, text(&d, "name"), "{file}");
                    assert_eq!(c.topic, text(&d, "topic"), "{file}");
                    assert_eq!(
                        u64::from(c.kind.number()),
                        d["type"].as_u64().unwrap(),
                        "{file}"
                    );
                    assert_eq!(
                        c.permission_overwrites.len(),
                        len(&d, "permission_overwrites"),
                        "{file}"
                    );
                    assert_eq!(c.recipients.len(), len(&d, "recipients"), "{file}");
                }
                "MESSAGE_CREATE" | "MESSAGE_UPDATE" => {
                    let m = cache
                        .message(MessageId::new(id(&d["id"])))
                        .await
                        .unwrap()
                        .unwrap();
                    assert_eq!(m.channel_id.get(), id(&d["channel_id"]), "{file}");
                    assert_eq!(
                        Some(m.content.clone()),
                        text(&d, "content").or(Some(String::new())),
                        "{file}"
                    );
                    assert_eq!(m.embeds.len(), len(&d, "embeds"), "{file}");
                    assert_eq!(m.attachments.len(), len(&d, "attachments"), "{file}");
                    assert_eq!(m.sticker_items.len(), len(&d, "sticker_items"), "{file}");
                    assert_eq!(m.mentions.len(), len(&d, "mentions"), "{file}");
                    assert_eq!(m.pinned, d["pinned"].as_bool().unwrap_or(false), "{file}");
                    assert_eq!(
                        m.author.id.get(),
                        d["author"]["id"].as_str().map_or(0, |s| s.parse().unwrap()),
                        "{file}"
                    );
                    assert_eq!(
                        m.message_reference.is_some(),
                        d.get("message_reference").is_some_and(|r| !r.is_null()),
                        "{file}"
                    );
                    assert_eq!(
                        m.referenced_message.is_some(),
                        d.get("referenced_message").is_some_and(|r| !r.is_null()),
                        "{file}"
                    );
                    assert!(
                        !m.extra.contains_key("member"),
                        "{file}: the member is stored as a member"
                    );
                    if let (Some(g), Some(member)) = (d.get("guild_id"), d.get("member")) {
                        let stored = cache
                            .member(GuildId::new(id(g)), m.author.id)
                            .await
                            .unwrap()
                            .unwrap();
                        assert_eq!(stored.roles.len(), len(member, "roles"), "{file}");
                    }
                    if d.get("webhook_id").is_none_or(Value::is_null) {
                        let author = cache.user(m.author.id).await.unwrap().unwrap();
                        assert_eq!(
                            Some(author.username),
                            text(&d["author"], "username"),
                            "{file}"
                        );
                    }
                }
                "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" => {
                    let g = GuildId::new(id(&d["guild_id"]));
                    let member = cache
                        .member(g, UserId::new(id(&d["user"]["id"])))
                        .await
                        .unwrap()
                        .unwrap();
                    assert_eq!(member.nick, text(&d, "nick"), "{file}");
                    assert_eq!(member.roles.len(), len(&d, "roles"), "{file}");
                }
                "GUILD_MEMBERS_CHUNK" => {
                    let g = GuildId::new(id(&d["guild_id"]));
                    assert_eq!(
                        cache.guild_members(g, None, 10_000).await.unwrap().len(),
                        distinct(&d, "members", &["user", "id"]),
                        "{file}"
                    );
                    assert_eq!(
                        cache.guild_presences(g).await.unwrap().len(),
                        distinct(&d, "presences", &["user", "id"]),
                        "{file}"
                    );
                }
                "GUILD_ROLE_CREATE" | "GUILD_ROLE_UPDATE" => {
                    let role = cache
                        .role(RoleId::new(id(&d["role"]["id"])))
                        .await
                        .unwrap()
                        .unwrap();
                    assert_eq!(Some(role.name), text(&d["role"], "name"), "{file}");
                    assert_eq!(role.guild_id.get(), id(&d["guild_id"]), "{file}");
                }
                "GUILD_EMOJIS_UPDATE" => {
                    let emojis = cache
                        .guild_emojis(GuildId::new(id(&d["guild_id"])))
                        .await
                        .unwrap();
                    assert_eq!(emojis.len(), distinct(&d, "emojis", &["id"]), "{file}");
                }
                "VOICE_STATE_UPDATE" => {
                    let state = cache
                        .voice_state(
                            GuildId::new(id(&d["guild_id"])),
                            UserId::new(id(&d["user_id"])),
                        )
                        .await
                        .unwrap();
                    assert_eq!(state.is_some(), !d["channel_id"].is_null(), "{file}");
                    if let Some(state) = state {
                        assert_eq!(Some(state.session_id), text(&d, "session_id"), "{file}");
                        assert_eq!(state.self_mute, d["self_mute"].as_bool().unwrap(), "{file}");
                    }
                }
                "READY" => {
                    let me = cache.current_user().await.unwrap().unwrap();
                    assert_eq!(me.id.get(), id(&d["user"]["id"]), "{file}");
                    assert_eq!(Some(me.username), text(&d["user"], "username"), "{file}");
                }
                "CHANNEL_PINS_UPDATE" => {
                    let c = cache
                        .channel(ChannelId::new(id(&d["channel_id"])))
                        .await
                        .unwrap()
                        .unwrap();
                    assert_eq!(
                        c.last_pin_timestamp.is_some(),
                        !d["last_pin_timestamp"].is_null(),
                        "{file}"
                    );
                }
                // Deletes and reactions on an empty cache leave nothing behind.
                "CHANNEL_DELETE"
                | "GUILD_DELETE"
                | "GUILD_MEMBER_REMOVE"
                | "GUILD_ROLE_DELETE"
                | "MESSAGE_DELETE" => {
                    assert_eq!(cache.counts().await.unwrap(), before, "{file}");
                }
                "MESSAGE_REACTION_ADD"
                | "MESSAGE_REACTION_REMOVE"
                | "MESSAGE_REACTION_REMOVE_ALL" => {
                    assert_eq!(
                        cache.counts().await.unwrap().messages,
                        0,
                        "{file}: a reaction made a message"
                    );
                }
                other => panic!("{file}: no check for {other}"),
            }
            checked += 1;
            cache.shutdown().await.unwrap();
        }
    }
    assert!(checked >= 140, "only {checked} payloads were checked");
    let unparsed = UNPARSED.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        unparsed >= 20,
        "only {unparsed} fixtures reached the adapter as Event::Unknown"
    );
}

#[test]
fn malformed_payloads_are_errors_not_panics() {
    let session = Session::default();
    for (event, data) in [
        ("MESSAGE_CREATE", serde_json::json!([1, 2])),
        ("MESSAGE_CREATE", serde_json::json!({"channel_id": "1"})),
        (
            "MESSAGE_CREATE",
            serde_json::json!({"id": "x", "channel_id": "1"}),
        ),
        (
            "GUILD_CREATE",
            serde_json::json!({"id": "1", "roles": [{"id": "nope"}]}),
        ),
        ("GUILD_MEMBER_ADD", serde_json::json!({"guild_id": "1"})),
        (
            "MESSAGE_REACTION_ADD",
            serde_json::json!({"user_id": "1", "channel_id": "2", "message_id": "3"}),
        ),
        ("GUILD_ROLE_DELETE", serde_json::json!(null)),
    ] {
        let err = to_mutations(event, &data, &session).unwrap_err();
        assert_eq!(err.event, event);
        assert!(!err.reason.is_empty());
    }
}

fn mutations(event: &str, data: Value) -> Vec<persist_core::Mutation> {
    match to_mutations(event, &data, &Session::default()).unwrap() {
        Applied::Mutations(m) => m,
        Applied::NotCached => panic!("{event} is cache-relevant"),
    }
}

#[test]
fn guild_create_reconciles_only_what_it_lists_in_full() {
    use persist_core::Mutation;
    let member = |id: &str| serde_json::json!({"user": {"id": id, "username": id}, "roles": []});
    // member_count 3 but 2 listed: a partial list must never prune members.
    let partial = mutations(
        "GUILD_CREATE",
        serde_json::json!({"id": "1", "name": "g", "member_count": 3, "channels": [{"id": "5", "type": 0}], "members": [member("7"), member("8")]}),
    );
    assert!(partial.iter().any(
        |m| matches!(m, Mutation::RetainGuildChannels { keep, .. } if keep == &[ChannelId::new(5)])
    ));
    assert!(
        !partial
            .iter()
            .any(|m| matches!(m, Mutation::RetainGuildMembers { .. }))
    );
    assert!(
        !partial
            .iter()
            .any(|m| matches!(m, Mutation::RetainGuildRoles { .. })),
        "roles were not listed"
    );
    let complete = mutations(
        "GUILD_CREATE",
        serde_json::json!({"id": "1", "name": "g", "member_count": 2, "roles": [], "members": [member("7"), member("8")]}),
    );
    assert!(
        complete
            .iter()
            .any(|m| matches!(m, Mutation::RetainGuildMembers { keep, .. } if keep.len() == 2))
    );
    assert!(
        complete
            .iter()
            .any(|m| matches!(m, Mutation::RetainGuildRoles { keep, .. } if keep.is_empty()))
    );
}

#[test]
fn ready_reconciles_its_own_shard() {
    use persist_core::Mutation;
    let ready = mutations(
        "READY",
        serde_json::json!({"user": {"id": "9", "username": "bot"}, "shard": [1, 4], "guilds": [{"id": "10", "unavailable": true}]}),
    );
    assert!(ready.iter().any(|m| matches!(m,
        Mutation::RetainShardGuilds { shard_id: 1, shard_count: 4, keep } if keep == &[GuildId::new(10)])));
    let unsharded = mutations(
        "READY",
        serde_json::json!({"user": {"id": "9"}, "guilds": []}),
    );
    assert!(unsharded.iter().any(|m| matches!(
        m,
        Mutation::RetainShardGuilds {
            shard_id: 0,
            shard_count: 1,
            ..
        }
    )));
    assert!(
        to_mutations(
            "READY",
            &serde_json::json!({"user": {"id": "9"}, "shard": [0, 0]}),
            &Session::default()
        )
        .is_err()
    );
}
