use persist_core::GuildId;
use persist_core::model as core;
use serde_json::{Value, json};
use serenity::model as s;

use super::*;
use crate::events;
use fake_discord::payload as p;

#[test]
fn ids_convert_both_ways_losslessly() {
    for raw in [1, 80_351_110_224_678_912, u64::MAX >> 1] {
        let serenity_id = s::id::MessageId::new(raw);
        let core: persist_core::MessageId = serenity_id.into_core();
        assert_eq!(core.get(), raw);
        assert_eq!(core.into_serenity().unwrap(), serenity_id);
        let guild = persist_core::GuildId::new(raw);
        assert_eq!(guild.into_serenity().unwrap().into_core(), guild);
        let user = s::id::UserId::new(raw);
        assert_eq!(user.into_core().into_serenity().unwrap(), user);
    }
    let err = persist_core::GuildId::new(0).into_serenity().unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot convert to GuildId: id 0 in a GuildId"
    );
    {}
}

fn json_of(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap()
}

/// serenity parses `discord`; the adapter's typed conversion makes it a
/// core model, and `to_serenity` gives back what serenity had.
fn round_trip<S, C>(discord: Value, to_core: impl Fn(&S) -> C)
where
    S: serde::de::DeserializeOwned + serde::Serialize,
    C: ToSerenity<Serenity = S>,
{
    let original: S = serde_json::from_value(discord).expect("serenity parses the payload");
    let core = to_core(&original);
    let back = core.to_serenity().expect("to serenity");
    assert_eq!(
        json_of(&back),
        json_of(&original),
        "{}",
        std::any::type_name::<S>()
    );
}

#[test]
fn stored_models_become_what_serenity_parsed() {
    let g = p::snowflake(1_700_000_000_000, 1);
    let (c, m, u) = (11, p::snowflake(1_700_000_100_000, 2), 5);
    round_trip(p::user(u), |x| events::user::user(x).unwrap());
    let mut message = p::message_create(m, c, g, u, "hello");
    message.as_object_mut().unwrap().remove("member");
    round_trip(message, |x| events::message::message(x).unwrap());
    round_trip(p::channel(c, g, "general", 0, 1), |x| {
        events::channel::channel(x).unwrap()
    });
    round_trip(p::channel(12, g, "voice", 2, 2), |x| {
        events::channel::channel(x).unwrap()
    });
    let thread = json!({"id": "13", "type": 11, "guild_id": g.to_string(), "name": "a thread",
        "parent_id": "11", "owner_id": "5", "position": 0, "permission_overwrites": [],
        "nsfw": false, "flags": 0, "message_count": 3, "member_count": 2,
        "thread_metadata": {"archived": false, "auto_archive_duration": 1440,
            "archive_timestamp": p::iso8601(1_700_000_000_000), "locked": false},
        "member": {"join_timestamp": p::iso8601(1_700_000_000_000), "flags": 0}});
    round_trip(thread, |x| events::channel::channel(x).unwrap());
    let forum = json!({"id": "14", "type": 15, "guild_id": g.to_string(), "name": "forum",
        "position": 3, "permission_overwrites": [{"id": "5", "type": 1, "allow": "1024", "deny": "0"}],
        "nsfw": false, "flags": 0, "available_tags": [{"id": "1", "name": "help",
            "moderated": false, "emoji_id": null, "emoji_name": "🦀"}]});
    round_trip(forum, |x| events::channel::channel(x).unwrap());
    let mut role = p::role(21, "mods", 3);
    role["guild_id"] = json!(g.to_string());
    round_trip(role, |x| events::guild::role(x).unwrap());
}

#[test]
fn a_message_keeps_what_core_holds_in_extra() {
    let mut discord = p::message_create(7, 11, 1, 5, "poll time");
    discord.as_object_mut().unwrap().remove("member");
    discord["nonce"] = json!("1234");
    discord["poll"] = json!({
        "question": {"text": "tabs or spaces?"},
        "answers": [{"answer_id": 1, "poll_media": {"text": "tabs"}}],
        "expiry": p::iso8601(1_700_000_000_000),
        "allow_multiselect": false, "layout_type": 1
    });
    discord["attachments"] = json!([{"id": "9", "filename": "a.png", "size": 10,
        "url": "https://x/a.png", "proxy_url": "https://y/a.png"}]);
    discord["reactions"] = json!([{"count": 2, "me": false, "emoji": {"id": null, "name": "🦀"},
        "count_details": {"burst": 0, "normal": 2}, "me_burst": false, "burst_colors": []}]);
    let original: s::channel::Message = serde_json::from_value(discord).unwrap();
    let back = events::message::message(&original)
        .unwrap()
        .to_serenity()
        .unwrap();
    assert_eq!(json_of(&back), json_of(&original));
    assert_eq!(
        back.poll
            .as_ref()
            .and_then(|p| p.question.text.clone())
            .as_deref(),
        Some("tabs or spaces?")
    );
    assert_eq!(back.reactions[0].count, 2);
}

#[test]
fn members_join_their_user() {
    let mut discord = p::member(5, &[21], 1_700_000_000_000);
    discord["guild_id"] = json!("77");
    let member: s::guild::Member = serde_json::from_value(discord).unwrap();
    let [
        persist_core::Record::User(user),
        persist_core::Record::Member(core),
    ] = events::member::member_records(&member, GuildId::new(77)).unwrap()
    else {
        panic!("a user and a member")
    };
    let back = member_to_serenity(&core, &user).unwrap();
    assert_eq!(json_of(&back), json_of(&member));
    let stranger = core::User {
        id: persist_core::UserId::new(6),
        ..Default::default()
    };
    let err = member_to_serenity(&core, &stranger).unwrap_err();
    assert!(err.to_string().contains("joined with user 6"), "{err}");
}

#[test]
fn a_guild_is_assembled_from_its_parts() {
    let gid = p::snowflake(1_700_000_000_000, 1);
    let discord = p::guild_create(&p::GuildSpec {
        id: gid,
        name: "ferris club".into(),
        owner_id: 5,
        channels: vec![11, 12],
        roles: vec![21],
        emojis: vec![31],
        members: vec![5],
        member_count: 1,
    });
    let serenity_guild: s::guild::Guild = serde_json::from_value(discord.clone()).unwrap();
    let guild: core::Guild = serde_json::from_value(discord.clone()).unwrap();
    let parts = GuildParts {
        roles: serenity_guild
            .roles
            .values()
            .map(|r| core::Role {
                guild_id: GuildId::new(gid),
                ..events::guild::role(r).unwrap()
            })
            .collect(),
        channels: serenity_guild
            .channels
            .values()
            .map(|c| events::channel::channel(c).unwrap())
            .collect(),
        emojis: discord["emojis"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let mut e: core::Emoji = serde_json::from_value(e.clone()).unwrap();
                e.guild_id = GuildId::new(gid);
                e
            })
            .collect(),
        ..Default::default()
    };
    let back = guild_to_serenity(&guild, &parts).unwrap();
    assert_eq!(back.name, "ferris club");
    // serenity serializes its maps as lists in no set order; and it gives
    // the roles of a guild it parses whole the guild id 1.
    let normal = |guild: &s::guild::Guild, field: &str| {
        let mut value = json_of(guild)[field].clone();
        if let Value::Array(items) = &mut value {
            for item in items.iter_mut() {
                item.as_object_mut().map(|o| o.remove("guild_id"));
            }
            items.sort_by_key(|item| item["id"].to_string());
        }
        value
    };
    for field in ["roles", "channels", "emojis", "owner_id", "id", "joined_at"] {
        assert_eq!(
            normal(&back, field),
            normal(&serenity_guild, field),
            "{field}"
        );
    }
    assert!(back.roles.values().all(|r| r.guild_id == back.id));
    let mut foreign = parts.clone();
    foreign.roles[0].guild_id = GuildId::new(1);
    let err = guild_to_serenity(&guild, &foreign).unwrap_err();
    assert!(err.to_string().contains("belongs to guild 1"), "{err}");
}

#[test]
fn values_serenity_cannot_hold_are_errors_not_panics() {
    let role = core::Role {
        id: persist_core::RoleId::new(1),
        guild_id: GuildId::new(1),
        position: 70_000,
        ..Default::default()
    };
    let err = role.to_serenity().unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot convert to Role: position 70000 is out of range"
    );
    let dm = core::Channel {
        id: persist_core::ChannelId::new(3),
        ..Default::default()
    };
    let err = dm.to_serenity().unwrap_err();
    assert!(err.to_string().contains("not in a guild"), "{err}");
    let user = core::User {
        id: persist_core::UserId::new(5),
        avatar: Some("not a hash".into()),
        ..Default::default()
    };
    let err = user.to_serenity().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot convert to User: image hash"),
        "{err}"
    );
}

#[test]
fn the_bot_s_own_user_keeps_what_only_it_has() {
    let me = core::CurrentUser {
        id: persist_core::UserId::new(9),
        username: "persist-bot".into(),
        discriminator: Some("0420".into()),
        bot: true,
        verified: Some(true),
        mfa_enabled: true,
        flags: Some(1 << 16),
        premium_type: Some(2),
        ..Default::default()
    };
    let back = me.to_serenity().unwrap();
    assert_eq!(
        (back.id.get(), back.name.as_str(), back.bot),
        (9, "persist-bot", true)
    );
    assert_eq!(back.discriminator.map(|d| d.get()), Some(420));
    assert_eq!((back.verified, back.mfa_enabled), (Some(true), true));
    assert_eq!(back.flags.bits(), 1 << 16);
    assert_eq!(u8::from(back.premium_type), 2);
}
