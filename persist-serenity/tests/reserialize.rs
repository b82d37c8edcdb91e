//! serenity parses a dispatch into its own models and the adapter reads the
//! event back from them (re-serialized). For every cache-relevant event that
//! serenity 0.12.5 parses, the cache must end up as it does from the raw
//! payload. (The real payloads in `tests/fixtures/gateway/` cover the rest;
//! these are Discord's documented v10 shapes.)

use fake_discord::payload::{self as p, GuildSpec};
use persist_serenity::persist_core::{ChannelId, GuildId, MessageId, MessagePage, UserId};
use persist_serenity::serenity::model::event::Event;
use persist_serenity::{Persist, ReadApi, ResourceKind, Ruleset};
use serde::Serialize;
use serde_json::{Value, json};

const NOW_MS: u64 = 1_760_000_000_000;

/// Events in the shape Discord sends them that serenity 0.12.5 cannot parse
/// (MESSAGE_REACTION_REMOVE_EMOJI: it wants `burst` and `type`, which Discord
/// sends only with single reactions).
const SERENITY_REFUSES: &[&str] = &["MESSAGE_REACTION_REMOVE_EMOJI"];

fn id(n: u64) -> u64 {
    p::snowflake(NOW_MS, n)
}

async fn persist() -> Persist {
    let rules = Ruleset::builder()
        .resources(ResourceKind::all())
        .message_cap(1_000)
        .build()
        .unwrap();
    Persist::builder()
        .memory()
        .ruleset(rules)
        .open()
        .await
        .unwrap()
}

/// Everything cached about the test guild, as JSON.
async fn snapshot(persist: &Persist, g: u64, channel: u64, thread: u64, users: &[u64]) -> Value {
    let cache = persist.cache();
    fn j(v: impl Serialize) -> Value {
        serde_json::to_value(v).unwrap()
    }
    // Counts answer what is committed: commit everything the event queued.
    cache.flush().await.unwrap();
    let g = GuildId::new(g);
    let mut users_out = Vec::new();
    for u in users {
        users_out.push(j(cache.user(UserId::new(*u)).await.unwrap()));
    }
    json!({
        "guild": j(cache.guild(g).await.unwrap()),
        "channels": j(cache.guild_channels(g).await.unwrap()),
        "threads": j(cache.guild_threads(g).await.unwrap()),
        "roles": j(cache.guild_roles(g).await.unwrap()),
        "emojis": j(cache.guild_emojis(g).await.unwrap()),
        "stickers": j(cache.guild_stickers(g).await.unwrap()),
        "members": j(cache.guild_members(g, None, 1_000).await.unwrap()),
        "presences": j(cache.guild_presences(g).await.unwrap()),
        "voice": j(cache.guild_voice_states(g).await.unwrap()),
        "stages": j(cache.guild_stage_instances(g).await.unwrap()),
        "events": j(cache.guild_scheduled_events(g).await.unwrap()),
        "messages": j(cache.channel_messages(ChannelId::new(channel), MessagePage::Latest, 100).await.unwrap()),
        "thread_members": j(cache.thread_members(ChannelId::new(thread)).await.unwrap()),
        "users": users_out,
        "me": j(cache.current_user().await.unwrap()),
        "counts": j(cache.counts().await.unwrap()),
    })
}

/// Compares two snapshots: the same objects (arrays of the same length,
/// objects present on both sides), and every field both sides have holds
/// the same value. serenity drops fields it does not model, so a field only
/// the raw side has is allowed.
fn agree(raw: &Value, via: &Value, path: &str) -> Result<(), String> {
    match (raw, via) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let Some(vb) = b.get(k) else { continue };
                if k == "permissions" {
                    // serenity drops permission bits it does not know.
                    let bits = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
                    if let (Some(ra), Some(rb)) = (bits(va), bits(vb))
                        && ra & rb == rb
                    {
                        continue;
                    }
                }
                agree(va, vb, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Err(format!("{path}: {} vs {} items", a.len(), b.len()));
            }
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                agree(va, vb, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!("{path}: raw {a} vs via serenity {b}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_serenity_parses_apply_as_their_raw_payloads_do() {
    let g = id(1);
    let (c, voice, stage_channel) = (id(2), id(3), id(4));
    let thread = id(5);
    let (u1, u2) = (id(10), id(11));
    let (m1, m2) = (id(20), id(21));
    let spec = GuildSpec {
        id: g,
        name: "g".into(),
        owner_id: u1,
        channels: vec![c],
        roles: vec![id(30)],
        emojis: vec![id(40)],
        members: vec![u1, u2],
        member_count: 2,
    };
    let iso = p::iso8601(NOW_MS);
    let thread_object = |name: &str| {
        json!({"id": thread.to_string(), "guild_id": g.to_string(), "parent_id": c.to_string(),
            "owner_id": u1.to_string(), "type": 11, "name": name, "last_message_id": null,
            "rate_limit_per_user": 0, "flags": 0, "message_count": 1, "member_count": 1,
            "total_message_sent": 1,
            "thread_metadata": {"archived": false, "auto_archive_duration": 1440,
                "archive_timestamp": iso, "locked": false}})
    };
    let thread_member = |user: u64| json!({"id": thread.to_string(), "user_id": user.to_string(), "join_timestamp": iso, "flags": 0});
    let mut guild_update = p::guild_create(&spec);
    for k in [
        "channels",
        "members",
        "threads",
        "presences",
        "voice_states",
        "member_count",
        "joined_at",
        "large",
        "unavailable",
        "lazy",
    ] {
        guild_update.as_object_mut().unwrap().remove(k);
    }
    guild_update["name"] = json!("renamed");
    let mut member_update = p::member(u2, &[id(30)], NOW_MS);
    member_update["guild_id"] = json!(g.to_string());
    member_update["nick"] = json!("nickname");
    let mut member_add = p::member(id(12), &[], NOW_MS);
    member_add["guild_id"] = json!(g.to_string());
    let sticker = json!({"id": id(50).to_string(), "name": "s", "tags": "x", "type": 2,
        "format_type": 1, "description": null, "available": true, "guild_id": g.to_string()});
    let voice_state = json!({"guild_id": g.to_string(), "channel_id": voice.to_string(),
        "user_id": u1.to_string(), "member": p::member(u1, &[], NOW_MS), "session_id": "abc",
        "deaf": false, "mute": false, "self_deaf": false, "self_mute": true,
        "self_video": false, "suppress": false, "request_to_speak_timestamp": null});
    let stage = json!({"id": id(60).to_string(), "guild_id": g.to_string(),
        "channel_id": stage_channel.to_string(), "topic": "talk", "privacy_level": 2,
        "discoverable_disabled": false, "guild_scheduled_event_id": null});
    let event = json!({"id": id(70).to_string(), "guild_id": g.to_string(), "channel_id": null,
        "creator_id": u1.to_string(), "name": "party", "description": "d",
        "scheduled_start_time": p::iso8601(NOW_MS + 3_600_000),
        "scheduled_end_time": p::iso8601(NOW_MS + 7_200_000), "privacy_level": 2, "status": 1,
        "entity_type": 3, "entity_id": null, "entity_metadata": {"location": "here"}, "user_count": 0});
    let subscriber = |user: u64| {
        json!({"guild_scheduled_event_id": id(70).to_string(), "user_id": user.to_string(),
            "guild_id": g.to_string()})
    };
    let mut bot = p::bot_user();
    bot["username"] = json!("renamed-bot");
    let events: Vec<(&str, Value)> = vec![
        ("READY", p::ready("s", "ws://x", &[g])),
        ("GUILD_CREATE", p::guild_create(&spec)),
        ("MESSAGE_CREATE", p::message_create(m1, c, g, u1, "one")),
        ("MESSAGE_CREATE", p::message_create(m2, c, g, u2, "two")),
        ("MESSAGE_REACTION_ADD", p::reaction(u1, c, m1, g, "👍")),
        ("MESSAGE_REACTION_ADD", p::reaction(u2, c, m1, g, "👍")),
        ("MESSAGE_REACTION_ADD", p::reaction(u2, c, m1, g, "🎉")),
        (
            "MESSAGE_REACTION_REMOVE_EMOJI",
            json!({"channel_id": c.to_string(), "guild_id": g.to_string(),
            "message_id": m1.to_string(), "emoji": {"id": null, "name": "👍"}}),
        ),
        ("GUILD_UPDATE", guild_update),
        (
            "GUILD_ROLE_UPDATE",
            json!({"guild_id": g.to_string(), "role": p::role(id(30), "renamed", 1)}),
        ),
        (
            "GUILD_EMOJIS_UPDATE",
            json!({"guild_id": g.to_string(), "emojis": [p::emoji(id(41), "new")]}),
        ),
        (
            "GUILD_STICKERS_UPDATE",
            json!({"guild_id": g.to_string(), "stickers": [sticker]}),
        ),
        ("GUILD_MEMBER_ADD", member_add),
        ("GUILD_MEMBER_UPDATE", member_update),
        (
            "PRESENCE_UPDATE",
            json!({"user": {"id": u1.to_string(), "username": "changed"},
            "guild_id": g.to_string(), "status": "online",
            "activities": [{"name": "Rust", "type": 0, "created_at": NOW_MS}],
            "client_status": {"desktop": "online"}}),
        ),
        ("USER_UPDATE", bot),
        ("VOICE_STATE_UPDATE", voice_state),
        ("THREAD_CREATE", thread_object("thread")),
        ("THREAD_UPDATE", thread_object("renamed thread")),
        (
            "THREAD_MEMBERS_UPDATE",
            json!({"id": thread.to_string(), "guild_id": g.to_string(),
            "member_count": 2, "added_members": [thread_member(u2)], "removed_member_ids": []}),
        ),
        ("THREAD_MEMBER_UPDATE", {
            let mut m = thread_member(p::BOT_ID);
            m["guild_id"] = json!(g.to_string());
            m
        }),
        (
            "THREAD_LIST_SYNC",
            json!({"guild_id": g.to_string(), "threads": [thread_object("synced")],
            "members": [thread_member(u1)]}),
        ),
        (
            "CHANNEL_PINS_UPDATE",
            json!({"guild_id": g.to_string(), "channel_id": c.to_string(),
            "last_pin_timestamp": iso}),
        ),
        ("STAGE_INSTANCE_CREATE", stage.clone()),
        ("GUILD_SCHEDULED_EVENT_CREATE", event.clone()),
        ("GUILD_SCHEDULED_EVENT_USER_ADD", subscriber(u1)),
        ("GUILD_SCHEDULED_EVENT_USER_ADD", subscriber(u2)),
        ("GUILD_SCHEDULED_EVENT_USER_REMOVE", subscriber(u1)),
        (
            "MESSAGE_UPDATE",
            json!({"id": m2.to_string(), "channel_id": c.to_string(),
            "guild_id": g.to_string(), "content": "edited", "edited_timestamp": iso}),
        ),
        (
            "MESSAGE_DELETE_BULK",
            json!({"ids": [m1.to_string()], "channel_id": c.to_string(),
            "guild_id": g.to_string()}),
        ),
        (
            "GUILD_MEMBERS_CHUNK",
            p::members_chunk(g, &[id(13), id(14)], 0, 1, None),
        ),
        ("GUILD_MEMBER_REMOVE", p::member_remove(g, id(13))),
        ("STAGE_INSTANCE_DELETE", stage),
        ("GUILD_SCHEDULED_EVENT_DELETE", event),
        (
            "THREAD_DELETE",
            json!({"id": thread.to_string(), "guild_id": g.to_string(),
            "parent_id": c.to_string(), "type": 11}),
        ),
        ("RESUMED", json!({"_trace": ["gateway"]})),
    ];
    let (raw, via) = (persist().await, persist().await);
    let users = [u1, u2, id(12), id(13), id(14), p::BOT_ID];
    for (event, d) in &events {
        let parsed: Event = serde_json::from_value(json!({"t": event, "d": d})).unwrap();
        if SERENITY_REFUSES.contains(event) {
            // Then it reaches the adapter raw, as Event::Unknown.
            assert!(matches!(parsed, Event::Unknown(_)), "{event} now parses");
        } else if let Event::Unknown(_) = parsed {
            let error = serde_json::from_value::<Event>(json!({"t": event, "d": d}));
            panic!("serenity did not parse the test's {event}, so it tests nothing: {error:?}");
        }
        raw.apply_dispatch(event, d);
        via.apply_event(&parsed);
        let (a, b) = (
            snapshot(&raw, g, c, thread, &users).await,
            snapshot(&via, g, c, thread, &users).await,
        );
        if let Err(e) = agree(&a, &b, "") {
            panic!("after {event}: {e}");
        }
        if *event == "GUILD_SCHEDULED_EVENT_USER_REMOVE" {
            // 0 at creation, two in, one out.
            assert_eq!(b["events"][0]["user_count"], json!(1), "{b}");
        }
    }
    for side in [&raw, &via] {
        let stats = side.stats().gateway;
        assert_eq!(stats.failed_total(), 0, "{stats:?}");
        assert_eq!(stats.applied, events.len() as u64);
    }
    // The sequence did something: a renamed guild, an edited message.
    let guild = via.cache().guild(GuildId::new(g)).await.unwrap().unwrap();
    assert_eq!(guild.name, "renamed");
    let message = via
        .cache()
        .message(MessageId::new(m2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(message.content, "edited");
}
