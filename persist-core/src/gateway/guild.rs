//! Guilds and what GUILD_CREATE carries: channels, threads, members, roles,
//! emojis, stickers, voice states, presences, stage instances, events.

use serde_json::{Value, json};

use super::member::{member_records, presence_record};
use super::{Ctx, GatewayError, array, without};
use crate::entity::Record;
use crate::model::{
    Channel, Emoji, Guild, Role, ScheduledEvent, StageInstance, Sticker, VoiceState,
};
use crate::{EntityKey, GuildId, Mutation, Patch, RoleId};

/// The collections a guild object carries; stored as objects of their own.
const COLLECTIONS: &[&str] = &[
    "channels",
    "threads",
    "members",
    "roles",
    "emojis",
    "stickers",
    "voice_states",
    "presences",
    "stage_instances",
    "guild_scheduled_events",
];

fn roles(ctx: &Ctx<'_>, guild_id: GuildId, data: &Value) -> Result<Vec<Record>, GatewayError> {
    array(data, "roles")
        .iter()
        .map(|r| {
            ctx.model::<Role>(r, "role")
                .map(|role| Record::Role(Role { guild_id, ..role }))
        })
        .collect()
}

fn emojis(ctx: &Ctx<'_>, guild_id: GuildId, data: &Value) -> Result<Vec<Emoji>, GatewayError> {
    array(data, "emojis")
        .iter()
        .map(|e| {
            ctx.model::<Emoji>(e, "emoji")
                .map(|emoji| Emoji { guild_id, ..emoji })
        })
        .collect()
}

fn stickers(ctx: &Ctx<'_>, guild_id: GuildId, data: &Value) -> Result<Vec<Sticker>, GatewayError> {
    array(data, "stickers")
        .iter()
        .map(|s| {
            ctx.model::<Sticker>(s, "sticker").map(|sticker| Sticker {
                guild_id: Some(guild_id),
                ..sticker
            })
        })
        .collect()
}

pub(super) fn guild_create(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "id")?;
    if data.get("unavailable").and_then(Value::as_bool) == Some(true) {
        // An outage: the guild is still ours, its data just is not here.
        return Ok(vec![Mutation::Patch(
            Patch::guild(guild_id, json!({"unavailable": true}))
                .map_err(|e| ctx.error(e.to_string()))?,
        )]);
    }
    let guild: Guild = ctx.model(&without(data, COLLECTIONS), "guild")?;
    let mut records = vec![Record::Guild(Guild {
        id: guild_id,
        ..guild
    })];
    for key in ["channels", "threads"] {
        for c in array(data, key) {
            let channel: Channel = ctx.model(c, "channel")?;
            records.push(Record::Channel(Channel {
                guild_id: Some(guild_id),
                ..channel
            }));
        }
    }
    records.extend(roles(ctx, guild_id, data)?);
    for m in array(data, "members") {
        records.extend(member_records(ctx, guild_id, m)?);
    }
    for p in array(data, "presences") {
        records.push(presence_record(ctx, guild_id, p)?);
    }
    for v in array(data, "voice_states") {
        let state: VoiceState = ctx.model(&without(v, &["member"]), "voice state")?;
        if state.channel_id.is_some() {
            records.push(Record::VoiceState(VoiceState { guild_id, ..state }));
        }
    }
    for s in array(data, "stage_instances") {
        let stage: StageInstance = ctx.model(s, "stage instance")?;
        records.push(Record::StageInstance(StageInstance { guild_id, ..stage }));
    }
    for e in array(data, "guild_scheduled_events") {
        let event: ScheduledEvent = ctx.model(e, "scheduled event")?;
        records.push(Record::ScheduledEvent(ScheduledEvent { guild_id, ..event }));
    }
    let mut mutations = vec![Mutation::UpsertMany(records)];
    // What GUILD_CREATE lists is complete: what it no longer lists is gone
    // (deleted while the bot was away). A collection it leaves out says nothing.
    if data.get("channels").is_some_and(Value::is_array) {
        let keep = array(data, "channels")
            .iter()
            .map(|c| ctx.id(c, "id"))
            .collect::<Result<_, _>>()?;
        mutations.push(Mutation::RetainGuildChannels { guild_id, keep });
    }
    if data.get("roles").is_some_and(Value::is_array) {
        let keep = array(data, "roles")
            .iter()
            .map(|r| ctx.id(r, "id"))
            .collect::<Result<_, _>>()?;
        mutations.push(Mutation::RetainGuildRoles { guild_id, keep });
    }
    // Members only from a complete list (small guilds); large guilds send a
    // part of them and chunks later, and a part must never prune.
    let listed: std::collections::BTreeSet<crate::UserId> = array(data, "members")
        .iter()
        .map(|m| ctx.id(m.get("user").unwrap_or(&Value::Null), "id"))
        .collect::<Result<_, _>>()?;
    let total = data.get("member_count").and_then(Value::as_u64);
    if total.is_some_and(|t| t > 0 && listed.len() as u64 >= t) {
        mutations.push(Mutation::RetainGuildMembers {
            guild_id,
            keep: listed.into_iter().collect(),
        });
    }
    // The emoji and sticker sets are complete here: replace, so removed ones go.
    mutations.push(Mutation::ReplaceGuildEmojis {
        guild_id,
        emojis: emojis(ctx, guild_id, data)?,
    });
    mutations.push(Mutation::ReplaceGuildStickers {
        guild_id,
        stickers: stickers(ctx, guild_id, data)?,
    });
    Ok(mutations)
}

pub(super) fn guild_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "id")?;
    // A partial view of the guild: fields it does not send are kept.
    let patch =
        Patch::guild(guild_id, without(data, COLLECTIONS)).map_err(|e| ctx.error(e.to_string()))?;
    let mut mutations = vec![Mutation::Patch(patch)];
    let roles = roles(ctx, guild_id, data)?;
    if !roles.is_empty() {
        mutations.push(Mutation::UpsertMany(roles));
    }
    if data.get("emojis").is_some_and(Value::is_array) {
        mutations.push(Mutation::ReplaceGuildEmojis {
            guild_id,
            emojis: emojis(ctx, guild_id, data)?,
        });
    }
    if data.get("stickers").is_some_and(Value::is_array) {
        mutations.push(Mutation::ReplaceGuildStickers {
            guild_id,
            stickers: stickers(ctx, guild_id, data)?,
        });
    }
    Ok(mutations)
}

pub(super) fn guild_delete(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "id")?;
    if data.get("unavailable").and_then(Value::as_bool) == Some(true) {
        let patch = Patch::guild(guild_id, json!({"unavailable": true}))
            .map_err(|e| ctx.error(e.to_string()))?;
        return Ok(vec![Mutation::Patch(patch)]);
    }
    // Removed from the guild (kicked, left, or the guild was deleted).
    Ok(vec![Mutation::Delete(EntityKey::Guild(guild_id))])
}

pub(super) fn role_upsert(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let role_value = data
        .get("role")
        .ok_or_else(|| ctx.error("missing `role`"))?;
    // Discord sends the guild beside the role; serenity's re-serialized
    // events carry it inside the role.
    let guild_id: GuildId = ctx
        .id(data, "guild_id")
        .or_else(|e| ctx.id(role_value, "guild_id").map_err(|_| e))?;
    let role: Role = ctx.model(role_value, "role")?;
    Ok(vec![Mutation::upsert(Role { guild_id, ..role })])
}

pub(super) fn role_delete(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let role_id: RoleId = ctx.id(data, "role_id")?;
    Ok(vec![Mutation::Delete(EntityKey::Role(role_id))])
}

pub(super) fn emojis_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    Ok(vec![Mutation::ReplaceGuildEmojis {
        guild_id,
        emojis: emojis(ctx, guild_id, data)?,
    }])
}

pub(super) fn stickers_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    Ok(vec![Mutation::ReplaceGuildStickers {
        guild_id,
        stickers: stickers(ctx, guild_id, data)?,
    }])
}
