//! Messages and reactions.

use serde_json::Value;

use super::{Ctx, GatewayError, array, without};
use crate::model::{Message, ReactionEmoji, User};
use crate::{ChannelId, EntityKey, GuildId, MessageId, Mutation, Patch, ReactionChange, UserId};

/// The author and the sender's guild member, which a message carries.
fn author_mutations(
    ctx: &Ctx<'_>,
    data: &Value,
    guild_id: Option<GuildId>,
) -> Result<Vec<Mutation>, GatewayError> {
    let mut mutations = Vec::new();
    // A webhook's "author" is not a user.
    if data.get("webhook_id").is_none_or(Value::is_null)
        && let Some(author) = data.get("author")
    {
        let user: User = ctx.model(author, "author")?;
        if let (Some(guild_id), Some(member)) =
            (guild_id, data.get("member").filter(|m| m.is_object()))
        {
            let patch = Patch::member(guild_id, user.id, without(member, &["user"]))
                .map_err(|e| ctx.error(e.to_string()))?;
            mutations.push(Mutation::Patch(patch));
        }
        mutations.push(Mutation::upsert(user));
    }
    Ok(mutations)
}

pub(super) fn message_create(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    ctx.id::<MessageId>(data, "id")?;
    ctx.id::<ChannelId>(data, "channel_id")?;
    let guild_id: Option<GuildId> = ctx.opt_id(data, "guild_id")?;
    // The sender's member is stored as a member, not inside the message.
    let message: Message = ctx.model(&without(data, &["member"]), "message")?;
    let mut mutations = author_mutations(ctx, data, guild_id)?;
    mutations.push(Mutation::upsert(message));
    Ok(mutations)
}

pub(super) fn message_update(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let id: MessageId = ctx.id(data, "id")?;
    let channel_id: ChannelId = ctx.id(data, "channel_id")?;
    let guild_id: Option<GuildId> = ctx.opt_id(data, "guild_id")?;
    let mut mutations = author_mutations(ctx, data, guild_id)?;
    // Partial: only the fields sent change.
    let patch = Patch::message(channel_id, id, without(data, &["member"]))
        .map_err(|e| ctx.error(e.to_string()))?;
    mutations.push(Mutation::Patch(patch));
    Ok(mutations)
}

pub(super) fn message_delete(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    Ok(vec![Mutation::Delete(EntityKey::Message(
        ctx.id(data, "id")?,
    ))])
}

pub(super) fn message_delete_bulk(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    let channel_id: ChannelId = ctx.id(data, "channel_id")?;
    let message_ids = array(data, "ids")
        .iter()
        .map(|v| ctx.model::<MessageId>(v, "message id"))
        .collect::<Result<_, _>>()?;
    Ok(vec![Mutation::BulkDeleteMessages {
        channel_id,
        message_ids,
    }])
}

fn emoji(ctx: &Ctx<'_>, data: &Value) -> Result<ReactionEmoji, GatewayError> {
    ctx.model(
        data.get("emoji")
            .ok_or_else(|| ctx.error("missing `emoji`"))?,
        "emoji",
    )
}

pub(super) fn reaction(ctx: &Ctx<'_>, data: &Value) -> Result<Vec<Mutation>, GatewayError> {
    let user_id: UserId = ctx.id(data, "user_id")?;
    let change = ReactionChange {
        channel_id: ctx.id(data, "channel_id")?,
        message_id: ctx.id(data, "message_id")?,
        guild_id: ctx.opt_id(data, "guild_id")?,
        user_id,
        emoji: emoji(ctx, data)?,
        burst: data.get("burst").and_then(Value::as_bool).unwrap_or(false),
        by_current_user: ctx.session.current_user == Some(user_id),
    };
    Ok(vec![if ctx.event == "MESSAGE_REACTION_ADD" {
        Mutation::AddReaction(change)
    } else {
        Mutation::RemoveReaction(change)
    }])
}

pub(super) fn reaction_remove_all(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    Ok(vec![Mutation::RemoveAllReactions {
        channel_id: ctx.id(data, "channel_id")?,
        message_id: ctx.id(data, "message_id")?,
    }])
}

pub(super) fn reaction_remove_emoji(
    ctx: &Ctx<'_>,
    data: &Value,
) -> Result<Vec<Mutation>, GatewayError> {
    Ok(vec![Mutation::RemoveEmojiReactions {
        channel_id: ctx.id(data, "channel_id")?,
        message_id: ctx.id(data, "message_id")?,
        emoji: emoji(ctx, data)?,
    }])
}
