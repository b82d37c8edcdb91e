//! The session's own user, stage instances and scheduled events.

use serde_json::Value;

use super::{Ctx, GatewayError};
use crate::model::{CurrentUser, ScheduledEvent, StageInstance, User};
use crate::{EntityKey, GuildId, Mutation, ScheduledEventId, StageInstanceId};

pub(super) fn ready(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let user = data
        .get("user")
        .ok_or_else(|| ctx.error("missing `user`"))?;
    // READY's guilds are unavailable stubs; their GUILD_CREATEs follow.
    Ok(vec![
        Mutation::upsert(ctx.model::<CurrentUser>(user, "current user")?),
        Mutation::upsert(ctx.model::<User>(user, "user")?),
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
