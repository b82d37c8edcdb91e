//! Payloads that once lost data, replayed through both paths: raw JSON
//! (`apply_dispatch`) and serenity's parser (`apply_event`).

use persist_serenity::persist_core::{Cache, GuildId, MemoryStore, RoleId, UserId};
use persist_serenity::serenity::model::event::Event;
use persist_serenity::{Migrations, Persist, ReadApi, ResourceKind, Ruleset};
use serde_json::{Value, json};

async fn persist() -> Persist {
    let rules = Ruleset::builder()
        .resources(ResourceKind::all())
        .build()
        .unwrap();
    let store = MemoryStore::open(&Migrations::new()).await.unwrap();
    Persist::new(Cache::new(store, rules, Default::default()).unwrap())
}

/// Applies one dispatch raw to one cache and parsed to another.
async fn both(event: &str, d: &Value) -> [Persist; 2] {
    let (raw, parsed) = (persist().await, persist().await);
    raw.apply_dispatch(event, d);
    parsed.apply_event(&serde_json::from_value::<Event>(json!({"t": event, "d": d})).unwrap());
    for p in [&raw, &parsed] {
        p.flush().await.unwrap();
    }
    [raw, parsed]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_update_without_flags_applies_on_both_paths() {
    let d = json!({"guild_id": "1", "user": {"id": "2", "username": "x", "discriminator": "0",
        "avatar": null}, "roles": ["3"], "joined_at": "2020-01-01T00:00:00+00:00",
        "nick": "newnick"});
    for (side, p) in ["raw", "parsed"]
        .iter()
        .zip(both("GUILD_MEMBER_UPDATE", &d).await)
    {
        let stats = p.stats().gateway;
        assert_eq!(stats.failed_total(), 0, "{side}: {stats:?}");
        let member = p
            .cache()
            .member(GuildId::new(1), UserId::new(2))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{side}: the member was lost"));
        assert_eq!(member.nick.as_deref(), Some("newnick"), "{side}");
        assert_eq!(member.roles, [RoleId::new(3)], "{side}");
        let user = p.cache().user(UserId::new(2)).await.unwrap();
        assert_eq!(user.map(|u| u.username).as_deref(), Some("x"), "{side}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_update_keeps_flags_it_does_not_send_and_clears_a_null_nick() {
    for p in both(
        "GUILD_MEMBER_ADD",
        &json!({"guild_id": "1", "user": {"id": "2", "username": "x"}, "roles": [],
            "joined_at": "2020-01-01T00:00:00+00:00", "nick": "old", "flags": 4,
            "deaf": true, "mute": false}),
    )
    .await
    {
        let d = json!({"guild_id": "1", "user": {"id": "2", "username": "x"}, "roles": [],
            "joined_at": "2020-01-01T00:00:00+00:00", "nick": null});
        p.apply_event(
            &serde_json::from_value::<Event>(json!({"t": "GUILD_MEMBER_UPDATE", "d": d})).unwrap(),
        );
        let member = p
            .cache()
            .member(GuildId::new(1), UserId::new(2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((member.nick, member.flags, member.deaf), (None, 4, true));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_a_user_id_is_refused_and_nothing_with_id_0_is_stored() {
    let d = json!({"guild_id": "1", "user": {}, "roles": [],
        "joined_at": "2020-01-01T00:00:00+00:00"});
    for (side, p) in ["raw", "parsed"]
        .iter()
        .zip(both("GUILD_MEMBER_ADD", &d).await)
    {
        let stats = p.stats().gateway;
        assert_eq!(
            stats.failed.get("GUILD_MEMBER_ADD"),
            Some(&1),
            "{side}: {stats:?}"
        );
        assert!(
            p.cache()
                .member(GuildId::new(1), UserId::new(0))
                .await
                .unwrap()
                .is_none(),
            "{side}"
        );
        let counts = p.cache().counts().await.unwrap();
        assert_eq!((counts.members, counts.users), (0, 0), "{side}");
    }
}
