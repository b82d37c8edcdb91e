//! Channels, threads and thread members.

use serde_json::{Value, json};

use super::{Ctx, GatewayError, array, without};
use crate::model::{Channel, ThreadMember};
use crate::{ChannelId, EntityKey, GuildId, Mutation, Patch, UserId};

pub(super) fn channel_upsert(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let channel: Channel = ctx.model(data, "channel")?;
    ctx.id::<ChannelId>(data, "id")?;
    let mut mutations = vec![Mutation::upsert(channel.clone())];
    // The bot's membership of a thread comes inside the thread.
    if let (Some(member), Some(me)) = (&channel.member, ctx.session.current_user) {
        mutations.push(Mutation::upsert(ThreadMember {
            thread_id: channel.id,
            user_id: me,
            ..member.clone()
        }));
    }
    Ok(mutations)
}

pub(super) fn thread_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let id: ChannelId = ctx.id(data, "id")?;
    // THREAD_UPDATE leaves out the bot's membership: keep what is stored.
    let patch =
        Patch::channel(id, without(data, &["member"])).map_err(|e| ctx.error(e.to_string()))?;
    Ok(vec![Mutation::Patch(patch)])
}

pub(super) fn channel_delete(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let id: ChannelId = ctx.id(data, "id")?;
    Ok(vec![Mutation::Delete(EntityKey::Channel(id))])
}

pub(super) fn pins_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let id: ChannelId = ctx.id(data, "channel_id")?;
    let stamp = data
        .get("last_pin_timestamp")
        .cloned()
        .unwrap_or(Value::Null);
    let patch = Patch::channel(id, json!({"last_pin_timestamp": stamp}))
        .map_err(|e| ctx.error(e.to_string()))?;
    Ok(vec![Mutation::Patch(patch)])
}

pub(super) fn thread_list_sync(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let guild_id: GuildId = ctx.id(data, "guild_id")?;
    let mut mutations = Vec::new();
    for t in array(data, "threads") {
        let thread: Channel = ctx.model(t, "thread")?;
        mutations.push(Mutation::upsert(Channel {
            guild_id: Some(guild_id),
            ..thread
        }));
    }
    for m in array(data, "members") {
        mutations.push(Mutation::upsert(ctx.model::<ThreadMember>(
            &without(m, &["member", "presence"]),
            "thread member",
        )?));
    }
    Ok(mutations)
}

pub(super) fn thread_member_update(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    let mut member: ThreadMember = ctx.model(
        &without(data, &["guild_id", "member", "presence"]),
        "thread member",
    )?;
    if member.user_id == UserId::default() {
        // Sent to the bot about itself: the user id may be left out.
        member.user_id = ctx
            .session
            .current_user
            .ok_or_else(|| ctx.error("no user_id and no current user"))?;
    }
    Ok(vec![Mutation::upsert(member)])
}

pub(super) fn thread_members_update(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    let thread_id: ChannelId = ctx.id(data, "id")?;
    let mut mutations = Vec::new();
    for m in array(data, "added_members") {
        let member: ThreadMember =
            ctx.model(&without(m, &["member", "presence"]), "thread member")?;
        mutations.push(Mutation::upsert(ThreadMember {
            thread_id,
            ..member
        }));
    }
    for u in array(data, "removed_member_ids") {
        let user_id: UserId = ctx.model(u, "removed member id")?;
        mutations.push(Mutation::Delete(EntityKey::ThreadMember(
            thread_id, user_id,
        )));
    }
    if let Some(count) = data.get("member_count").filter(|c| c.is_u64()) {
        let patch = Patch::channel(thread_id, json!({"member_count": count}))
            .map_err(|e| ctx.error(e.to_string()))?;
        mutations.push(Mutation::Patch(patch));
    }
    Ok(mutations)
}
