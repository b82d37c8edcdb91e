//! Members, presences and voice states.

use serde_json::Value;

use super::{Ctx, GatewayError, array, without};
use crate::entity::Record;
use crate::model::{Member, Presence, User, VoiceState};
use crate::{EntityKey, GuildId, Mutation, Patch, UserId};

/// The user and the member of a guild member object (`{"user": {...}, ...}`).
pub(super) fn member_records(
    ctx: &Ctx<'_>,
    guild_id: GuildId,
    data: &Value,
) -> Result<Vec<Record>, GatewayError> {
    let user_value = data
        .get("user")
        .ok_or_else(|| ctx.error("member without `user`"))?;
    let user: User = ctx.model(user_value, "member user")?;
    let member: Member = ctx.model(&without(data, &["user", "guild_id"]), "member")?;
    let member = Member {
        guild_id,
        user_id: user.id,
        ..member
    };
    Ok(vec![Record::User(user), Record::Member(member)])
}

/// A presence of a guild (`{"user": {"id": ...}, "status": ...}`).
pub(super) fn presence_record(
    ctx: &Ctx<'_>,
    guild_id: GuildId,
    data: &Value,
) -> Result<Record, GatewayError> {
    let user_id: UserId = ctx
        .id(data.get("user").unwrap_or(&Value::Null), "id")
        .or_else(|_| ctx.id(data, "user_id"))?;
    let presence: Presence = ctx.model(&without(data, &["user", "guild_id"]), "presence")?;
    Ok(Record::Presence(Presence {
        guild_id,
        user_id,
        ..presence
    }))
}

pub(super) fn member_add(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    Ok(vec![Mutation::UpsertMany(member_records(
        ctx, guild_id, data,
    )?)])
}

pub(super) fn member_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    let user: User = ctx.model(
        data.get("user")
            .ok_or_else(|| ctx.error("missing `user`"))?,
        "user",
    )?;
    // Fields not sent (deaf, mute in recent API versions) are kept.
    let patch = Patch::member(guild_id, user.id, without(data, &["user", "guild_id"]))
        .map_err(|e| ctx.error(e.to_string()))?;
    Ok(vec![Mutation::upsert(user), Mutation::Patch(patch)])
}

pub(super) fn member_remove(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    let user_id: UserId = ctx.id(data.get("user").unwrap_or(&Value::Null), "id")?;
    Ok(vec![Mutation::Delete(EntityKey::Member(guild_id, user_id))])
}

pub(super) fn members_chunk(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    let mut records = Vec::new();
    for m in array(data, "members") {
        records.extend(member_records(ctx, guild_id, m)?);
    }
    for p in array(data, "presences") {
        records.push(presence_record(ctx, guild_id, p)?);
    }
    Ok(vec![Mutation::UpsertMany(records)])
}

pub(super) fn presence_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let Some(guild_id) = ctx.opt_id::<GuildId>(data, "guild_id")? else {
        // Presences outside guilds (friends of user accounts) are not cached.
        return Ok(Vec::new());
    };
    let mut mutations = vec![Mutation::upsert(presence_record(ctx, guild_id, data)?)];
    // The user object is partial: only what changed besides the id.
    if let Some(user) = data
        .get("user")
        .filter(|u| u.as_object().is_some_and(|o| o.len() > 1))
    {
        let user_id: UserId = ctx.id(user, "id")?;
        mutations.push(Mutation::Patch(
            Patch::user(user_id, user.clone()).map_err(|e| ctx.error(e.to_string()))?,
        ));
    }
    Ok(mutations)
}

pub(super) fn voice_state_update(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    let Some(guild_id) = ctx.opt_id::<GuildId>(data, "guild_id")? else {
        // Voice in DMs (calls) is not cached.
        return Ok(Vec::new());
    };
    let user_id: UserId = ctx.id(data, "user_id")?;
    let mut mutations = Vec::new();
    if let Some(member) = data.get("member").filter(|m| m.get("user").is_some()) {
        mutations.push(Mutation::UpsertMany(member_records(ctx, guild_id, member)?));
    }
    if ctx
        .opt_id::<crate::ChannelId>(data, "channel_id")?
        .is_none()
    {
        mutations.push(Mutation::Delete(EntityKey::VoiceState(guild_id, user_id)));
    } else {
        let state: VoiceState = ctx.model(&without(data, &["member"]), "voice state")?;
        mutations.push(Mutation::upsert(VoiceState {
            guild_id,
            user_id,
            ..state
        }));
    }
    Ok(mutations)
}
