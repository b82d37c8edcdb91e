//! The adapter converts the events a shard sees most from serenity's parsed
//! models straight to mutations (no JSON in between). For every event of
//! the traffic generator and every real fixture serenity parses, that typed
//! conversion must store what the lenient raw-JSON reader stores from the
//! payload itself: the same objects, and every field the typed side stores
//! equal to the raw side's (serenity drops fields it does not model, so the
//! raw side may hold more; permission bits serenity does not know are
//! dropped; inside objects kept as sent, a timestamp may be written "Z").

use std::collections::BTreeSet;
use std::path::PathBuf;

use persist_benches::traffic::{TrafficConfig, generate};
use persist_core::{
    Cache, CacheConfig, ChannelId, MemoryStore, MessagePage, Migrations, ReadApi, ResourceKind,
    Ruleset, UserId,
};
use persist_serenity::Persist;
use persist_serenity::serenity::model::event::{Event, GatewayEvent};
use serde::Serialize;
use serde_json::{Value, json};

async fn persist() -> Persist {
    let rules = Ruleset::builder()
        .resources(ResourceKind::all())
        .message_cap(1_000_000)
        .build()
        .unwrap();
    let store = MemoryStore::open(&Migrations::new()).await.unwrap();
    Persist::new(Cache::new(store, rules, CacheConfig::default()).unwrap())
}

fn j(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap()
}

/// Everything stored, as JSON, reached through the read API.
async fn everything(p: &Persist) -> Value {
    p.flush().await.unwrap();
    let mut guilds = serde_json::Map::new();
    let mut users = BTreeSet::new();
    for g in p.cache().guild_ids().await.unwrap() {
        let channels = p.cache().guild_channels(g).await.unwrap();
        let threads = p.cache().guild_threads(g).await.unwrap();
        let mut messages = Vec::new();
        let mut thread_members = Vec::new();
        for c in channels.iter().chain(&threads) {
            let page = p
                .cache()
                .channel_messages(c.id, MessagePage::Latest, 1_000_000)
                .await
                .unwrap();
            users.extend(page.iter().map(|m| m.author.id));
            messages.push(j(page));
            thread_members.push(j(p.cache().thread_members(c.id).await.unwrap()));
        }
        let members = p.cache().guild_members(g, None, 1_000_000).await.unwrap();
        users.extend(members.iter().map(|m| m.user_id));
        guilds.insert(
            g.to_string(),
            json!({
                "guild": j(p.cache().guild(g).await.unwrap()),
                "channels": j(channels),
                "threads": j(threads),
                "roles": j(p.cache().guild_roles(g).await.unwrap()),
                "emojis": j(p.cache().guild_emojis(g).await.unwrap()),
                "stickers": j(p.cache().guild_stickers(g).await.unwrap()),
                "members": j(members),
                "presences": j(p.cache().guild_presences(g).await.unwrap()),
                "voice": j(p.cache().guild_voice_states(g).await.unwrap()),
                "stages": j(p.cache().guild_stage_instances(g).await.unwrap()),
                "events": j(p.cache().guild_scheduled_events(g).await.unwrap()),
                "messages": messages,
                "thread_members": thread_members,
            }),
        );
    }
    let mut user_values = Vec::new();
    for u in users {
        user_values.push(j(p.cache().user(u).await.unwrap()));
    }
    json!({
        "guilds": guilds,
        "users": user_values,
        "me": j(p.cache().current_user().await.unwrap()),
        "counts": j(p.cache().counts().await.unwrap()),
    })
}

/// Whether a value is what a model leaves out (it reads back as absent).
fn empty(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::Bool(true) => false,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Every field the typed side holds, the raw side holds with the same value;
/// lists are of the same length; the raw side may hold more fields.
fn agree(raw: &Value, typed: &Value, path: &str) -> Result<(), String> {
    match (raw, typed) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, vb) in b {
                if k == "permissions" {
                    // serenity drops permission bits it does not know.
                    let bits = |v: &Value| v.as_str().and_then(|s| s.parse::<u64>().ok());
                    if let (Some(ra), Some(rb)) = (a.get(k).and_then(bits), bits(vb))
                        && ra & rb == rb
                    {
                        continue;
                    }
                }
                match a.get(k) {
                    Some(va) => agree(va, vb, &format!("{path}.{k}"))?,
                    None if empty(vb) => {}
                    None => return Err(format!("{path}.{k}: only the typed side has {vb}")),
                }
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
        // Inside objects kept as sent, serenity writes the same instant as
        // "...Z" where Discord wrote "...+00:00".
        (Value::String(a), Value::String(b))
            if a.parse::<persist_core::Timestamp>().ok().is_some()
                && a.parse::<persist_core::Timestamp>().ok() == b.parse().ok() =>
        {
            Ok(())
        }
        (a, b) => Err(format!("{path}: raw {a} vs typed {b}")),
    }
}

fn dispatch(frame: &Value) -> (String, Value) {
    (frame["t"].as_str().unwrap().to_owned(), frame["d"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generators_stream_stores_the_same_typed_and_raw() {
    let mut stream = Vec::new();
    let config = TrafficConfig {
        largest_guild: 1_500,
        ..TrafficConfig::for_messages(3_000, 11)
    };
    generate(&config, &mut stream).unwrap();
    let (raw, typed) = (persist().await, persist().await);
    let mut names = BTreeSet::new();
    for line in String::from_utf8(stream).unwrap().lines() {
        let frame: Value = serde_json::from_str(line).unwrap();
        let (name, d) = dispatch(&frame);
        let GatewayEvent::Dispatch(_, event) = serde_json::from_str(line).unwrap() else {
            panic!("not a dispatch: {line}");
        };
        assert!(
            !matches!(event, Event::Unknown(_)),
            "serenity refused {name}"
        );
        raw.apply_dispatch(&name, &d);
        typed.apply_event(&event);
        names.insert(name);
    }
    for side in [&raw, &typed] {
        let stats = side.stats().gateway;
        assert_eq!(stats.failed_total(), 0, "{stats:?}");
        assert_eq!(stats.fallbacks, 0, "{stats:?}");
    }
    let (a, b) = (everything(&raw).await, everything(&typed).await);
    if let Err(e) = agree(&a, &b, "") {
        panic!("{e}");
    }
    // The stream exercised the typed conversions.
    for typed_event in [
        "MESSAGE_CREATE",
        "MESSAGE_UPDATE",
        "MESSAGE_DELETE",
        "MESSAGE_DELETE_BULK",
        "MESSAGE_REACTION_ADD",
        "MESSAGE_REACTION_REMOVE",
        "GUILD_MEMBER_UPDATE",
        "GUILD_MEMBERS_CHUNK",
        "PRESENCE_UPDATE",
        "CHANNEL_UPDATE",
        "GUILD_ROLE_UPDATE",
    ] {
        assert!(names.contains(typed_event), "no {typed_event} in {names:?}");
    }
    assert!(
        a["counts"]["messages"].as_u64().unwrap() > 2_000,
        "{}",
        a["counts"]
    );
    raw.shutdown().await.unwrap();
    typed.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_fixtures_serenity_parses_store_the_same_typed_and_raw() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/gateway");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    files.sort();
    let mut compared = 0;
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let name = file.split("__").next().unwrap().to_owned();
        let d: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Ok(event) = serde_json::from_value::<Event>(json!({"t": name, "d": d})) else {
            continue;
        };
        if matches!(event, Event::Unknown(_)) {
            continue;
        }
        // Each fixture on its own, over a guild both sides know.
        let (raw, typed) = (persist().await, persist().await);
        raw.apply_dispatch(&name, &d);
        typed.apply_event(&event);
        let stats = typed.stats().gateway;
        assert_eq!(stats.fallbacks, 0, "{file}: {stats:?}");
        assert_eq!(
            raw.stats().gateway.failed_total(),
            stats.failed_total(),
            "{file}"
        );
        let (a, b) = (everything(&raw).await, everything(&typed).await);
        if let Err(e) = agree(&a, &b, "") {
            panic!("{file}: {e}");
        }
        // Objects outside any guild (a DM message, a user) too.
        for id in ["author", "user"] {
            if let Some(user) = d.get(id).and_then(|u| u.get("id")).and_then(Value::as_str) {
                let user = UserId::new(user.parse().unwrap());
                agree(
                    &j(raw.cache().user(user).await.unwrap()),
                    &j(typed.cache().user(user).await.unwrap()),
                    &format!("{file} user"),
                )
                .unwrap();
            }
        }
        if let Some(channel) = d.get("channel_id").and_then(Value::as_str) {
            let channel = ChannelId::new(channel.parse().unwrap());
            let page = |p: Persist| async move {
                j(p.cache()
                    .channel_messages(channel, MessagePage::Latest, 100)
                    .await
                    .unwrap())
            };
            agree(&page(raw.clone()).await, &page(typed.clone()).await, &file).unwrap();
        }
        compared += 1;
        raw.shutdown().await.unwrap();
        typed.shutdown().await.unwrap();
    }
    assert!(compared >= 40, "only {compared} fixtures compared");
}
