//! The session's own user, stage instances and scheduled events.

use serde_json::Value;

use super::{Ctx, GatewayError, array};
use crate::model::{CurrentUser, ScheduledEvent, StageInstance, User};
use crate::{EntityKey, GuildId, Mutation, ScheduledEventId, StageInstanceId};

pub(super) fn ready(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let user = data
        .get("user")
        .ok_or_else(|| ctx.error("missing `user`"))?;
    // READY lists every guild of this shard (as stubs; GUILD_CREATEs follow):
    // the shard's other cached guilds were left while the bot was away.
    let keep = array(data, "guilds")
        .iter()
        .map(|g| ctx.id(g, "id"))
        .collect::<Result<_, _>>()?;
    let (shard_id, shard_count) = match data
        .get("shard")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        Some([id, count]) => (
            id.as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| ctx.error("bad `shard` id"))?,
            count
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .filter(|c| *c > 0)
                .ok_or_else(|| ctx.error("bad `shard` count"))?,
        ),
        _ => (0, 1),
    };
    Ok(vec![
        Mutation::upsert(ctx.model::<CurrentUser>(user, "current user")?),
        Mutation::upsert(ctx.model::<User>(user, "user")?),
        Mutation::RetainShardGuilds {
            shard_id,
            shard_count,
            keep,
        },
    ])
}

pub(super) fn user_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    Ok(vec![
        Mutation::upsert(ctx.model::<CurrentUser>(data, "current user")?),
        Mutation::upsert(ctx.model::<User>(data, "user")?),
    ])
}

pub(super) fn stage_instance_upsert(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    ctx.id::<StageInstanceId>(data, "id")?;
    let stage: StageInstance = ctx.model(data, "stage instance")?;
    Ok(vec![Mutation::upsert(StageInstance { guild_id, ..stage })])
}

pub(super) fn stage_instance_delete(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    Ok(vec![Mutation::Delete(EntityKey::StageInstance(
        ctx.id(data, "id")?,
    ))])
}

pub(super) fn scheduled_event_upsert(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    ctx.id::<ScheduledEventId>(data, "id")?;
    let event: ScheduledEvent = ctx.model(data, "scheduled event")?;
    Ok(vec![Mutation::upsert(ScheduledEvent { guild_id, ..event })])
}

pub(super) fn scheduled_event_delete(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    Ok(vec![Mutation::Delete(EntityKey::ScheduledEvent(
        ctx.id(data, "id")?,
    ))])
}

/// GUILD_SCHEDULED_EVENT_USER_ADD and _REMOVE: the subscriber count moves by
/// one. Not idempotent: the serenity adapter applies each event exactly once.
pub(super) fn scheduled_event_user(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    Ok(vec![Mutation::CountScheduledEventUser {
        guild_id: ctx.id(data, "guild_id")?,
        event_id: ctx.id(data, "guild_scheduled_event_id")?,
        added: ctx.event == "GUILD_SCHEDULED_EVENT_USER_ADD",
    }])
}
