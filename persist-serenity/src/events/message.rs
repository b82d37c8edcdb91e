//! Messages and reactions.

use persist_core::gateway::Session;
use persist_core::model::{Extra, Message, ReactionEmoji, StickerItem};
use persist_core::{
    ApplicationId, ChannelId, EntityKey, GuildId, MemberPatch, MessageId, MessagePatch, Mutation,
    Patch, Permissions, ReactionChange, RoleId, UserId, WebhookId,
};
use serde_json::Value;
use serenity::model::channel as s;
use serenity::model::event as e;
use serenity::model::guild::PartialMember;

use super::user::user;
use super::{ConvertFailure, each_via_json, json, keep, timestamp, via_json};

/// A serenity message as ours (the sender's member is not kept inside it).
pub(crate) fn message(m: &s::Message) -> Result<Message, ConvertFailure> {
    let mut extra = Extra::new();
    if !m.mention_channels.is_empty() {
        extra.insert("mention_channels".into(), json(&m.mention_channels)?);
    }
    if !m.message_snapshots.is_empty() {
        // Discord wraps each snapshot in `message`; serenity writes it bare.
        let snapshots = m
            .message_snapshots
            .iter()
            .map(|s| Ok(serde_json::json!({ "message": json(s)? })))
            .collect::<Result<Vec<_>, ConvertFailure>>()?;
        extra.insert("message_snapshots".into(), snapshots.into());
    }
    match &m.nonce {
        // serenity reads a negative number nonce wrapped into a u64: undo it.
        Some(s::Nonce::Number(n)) => {
            let n = i64::try_from(*n).map_or_else(|_| Value::from(*n as i64), Value::from);
            extra.insert("nonce".into(), n);
        }
        other => keep(&mut extra, "nonce", other.as_ref())?,
    }
    keep(&mut extra, "activity", m.activity.as_ref())?;
    keep(&mut extra, "application", m.application.as_ref())?;
    #[allow(deprecated)]
    keep(&mut extra, "interaction", m.interaction.as_ref())?;
    keep(
        &mut extra,
        "interaction_metadata",
        m.interaction_metadata.as_ref(),
    )?;
    keep(&mut extra, "thread", m.thread.as_ref())?;
    keep(&mut extra, "position", m.position.as_ref())?;
    keep(
        &mut extra,
        "role_subscription_data",
        m.role_subscription_data.as_ref(),
    )?;
    keep(&mut extra, "poll", m.poll.as_ref())?;
    Ok(Message {
        id: MessageId::new(m.id.get()),
        channel_id: ChannelId::new(m.channel_id.get()),
        guild_id: m.guild_id.map(|g| GuildId::new(g.get())),
        author: user(&m.author)?,
        content: m.content.clone(),
        timestamp: Some(timestamp(&m.timestamp)),
        edited_timestamp: m.edited_timestamp.as_ref().map(timestamp),
        tts: m.tts,
        mention_everyone: m.mention_everyone,
        mentions: m.mentions.iter().map(user).collect::<Result<_, _>>()?,
        mention_roles: m
            .mention_roles
            .iter()
            .map(|r| RoleId::new(r.get()))
            .collect(),
        attachments: each_via_json(&m.attachments)?,
        embeds: each_via_json(&m.embeds)?,
        reactions: each_via_json(&m.reactions)?,
        pinned: m.pinned,
        webhook_id: m.webhook_id.map(|w| WebhookId::new(w.get())),
        kind: u8::from(m.kind),
        application_id: m.application_id.map(|a| ApplicationId::new(a.get())),
        message_reference: m.message_reference.as_ref().map(via_json).transpose()?,
        referenced_message: m
            .referenced_message
            .as_deref()
            .map(|r| message(r).map(Box::new))
            .transpose()?,
        flags: m.flags.map_or(0, |f| f.bits()),
        sticker_items: m.sticker_items.iter().map(sticker_item).collect(),
        components: m.components.iter().map(json).collect::<Result<_, _>>()?,
        extra,
    })
}

fn sticker_item(item: &serenity::model::sticker::StickerItem) -> StickerItem {
    StickerItem {
        id: persist_core::StickerId::new(item.id.get()),
        name: item.name.clone(),
        format_type: u8::from(item.format_type),
    }
}

/// The member a message carries, as a patch: Discord sends it whole, so a
/// nickname or avatar it leaves empty is cleared.
fn member_patch(m: &PartialMember) -> Result<MemberPatch, ConvertFailure> {
    let extra = super::member::member_extras(
        m.unusual_dm_activity_until.as_ref(),
        m.avatar_decoration_data.as_ref(),
    )?;
    Ok(MemberPatch {
        nick: Some(m.nick.clone()),
        avatar: Some(m.avatar.map(|h| h.to_string())),
        banner: Some(m.banner.map(|h| h.to_string())),
        roles: Some(m.roles.iter().map(|r| RoleId::new(r.get())).collect()),
        joined_at: m.joined_at.as_ref().map(|t| Some(timestamp(t))),
        premium_since: Some(m.premium_since.as_ref().map(timestamp)),
        deaf: Some(m.deaf),
        mute: Some(m.mute),
        pending: Some(m.pending),
        permissions: m.permissions.map(|p| Some(Permissions::new(p.bits()))),
        extra,
        ..Default::default()
    })
}

/// The author (a user, not a webhook) and the sender's guild member.
fn author_mutations(
    author: Option<&serenity::model::user::User>,
    member: Option<&PartialMember>,
    guild_id: Option<serenity::model::id::GuildId>,
    webhook: bool,
) -> Result<Vec<Mutation>, ConvertFailure> {
    let mut mutations = Vec::new();
    let Some(author) = author.filter(|_| !webhook) else {
        return Ok(mutations);
    };
    let user = user(author)?;
    if let (Some(guild_id), Some(member)) = (guild_id, member) {
        mutations.push(Mutation::Patch(Patch::from_member(
            GuildId::new(guild_id.get()),
            user.id,
            member_patch(member)?,
        )));
    }
    mutations.push(Mutation::upsert(user));
    Ok(mutations)
}

pub(crate) fn create(m: &s::Message) -> Result<Vec<Mutation>, ConvertFailure> {
    let mut mutations = author_mutations(
        Some(&m.author),
        m.member.as_deref(),
        m.guild_id,
        m.webhook_id.is_some(),
    )?;
    mutations.push(Mutation::upsert(message(m)?));
    Ok(mutations)
}

pub(crate) fn update(u: &e::MessageUpdateEvent) -> Result<Vec<Mutation>, ConvertFailure> {
    let webhook = matches!(u.webhook_id, Some(Some(_)));
    let mut mutations = author_mutations(
        u.author.as_ref(),
        u.member.as_ref().and_then(|m| m.as_deref()),
        u.guild_id,
        webhook,
    )?;
    let mut extra = Extra::new();
    // Fields serenity models and we do not; an explicit null clears them.
    fn sent<T: serde::Serialize>(
        extra: &mut Extra,
        name: &str,
        value: Option<&Option<T>>,
    ) -> Result<(), ConvertFailure> {
        match value {
            Some(Some(v)) => {
                extra.insert(name.to_owned(), json(v)?);
            }
            Some(None) => {
                extra.insert(name.to_owned(), serde_json::Value::Null);
            }
            None => {}
        }
        Ok(())
    }
    if let Some(channels) = &u.mention_channels {
        extra.insert("mention_channels".into(), json(channels)?);
    }
    sent(&mut extra, "activity", u.activity.as_ref())?;
    sent(&mut extra, "application", u.application.as_ref())?;
    #[allow(deprecated)]
    sent(&mut extra, "interaction", u.interaction.as_ref())?;
    sent(
        &mut extra,
        "interaction_metadata",
        u.interaction_metadata.as_ref(),
    )?;
    sent(&mut extra, "thread", u.thread.as_ref())?;
    sent(&mut extra, "position", u.position.as_ref())?;
    sent(
        &mut extra,
        "role_subscription_data",
        u.role_subscription_data.as_ref(),
    )?;
    let patch = MessagePatch {
        channel_id: None,
        guild_id: u.guild_id.map(|g| Some(GuildId::new(g.get()))),
        author: u.author.as_ref().map(user).transpose()?,
        content: u.content.clone(),
        timestamp: u.timestamp.as_ref().map(|t| Some(timestamp(t))),
        edited_timestamp: u.edited_timestamp.as_ref().map(|t| Some(timestamp(t))),
        tts: u.tts,
        mention_everyone: u.mention_everyone,
        mentions: u
            .mentions
            .as_ref()
            .map(|m| m.iter().map(user).collect::<Result<_, _>>())
            .transpose()?,
        mention_roles: u
            .mention_roles
            .as_ref()
            .map(|r| r.iter().map(|r| RoleId::new(r.get())).collect()),
        attachments: u.attachments.as_deref().map(each_via_json).transpose()?,
        embeds: u.embeds.as_deref().map(each_via_json).transpose()?,
        reactions: u.reactions.as_deref().map(each_via_json).transpose()?,
        pinned: u.pinned,
        webhook_id: u.webhook_id.map(|w| w.map(|w| WebhookId::new(w.get()))),
        kind: u.kind.map(u8::from),
        application_id: u
            .application_id
            .map(|a| a.map(|a| ApplicationId::new(a.get()))),
        message_reference: u
            .message_reference
            .as_ref()
            .map(|r| r.as_ref().map(via_json).transpose())
            .transpose()?,
        referenced_message: u
            .referenced_message
            .as_ref()
            .map(|r| r.as_deref().map(|r| message(r).map(Box::new)).transpose())
            .transpose()?,
        flags: u.flags.map(|f| f.map_or(0, |f| f.bits())),
        sticker_items: u
            .sticker_items
            .as_ref()
            .map(|items| items.iter().map(sticker_item).collect()),
        components: u
            .components
            .as_ref()
            .map(|c| c.iter().map(json).collect::<Result<_, _>>())
            .transpose()?,
        extra,
    };
    mutations.push(Mutation::Patch(Patch::from_message(
        ChannelId::new(u.channel_id.get()),
        MessageId::new(u.id.get()),
        patch,
    )));
    Ok(mutations)
}

pub(crate) fn delete(d: &e::MessageDeleteEvent) -> Vec<Mutation> {
    vec![Mutation::Delete(EntityKey::Message(MessageId::new(
        d.message_id.get(),
    )))]
}

pub(crate) fn delete_bulk(d: &e::MessageDeleteBulkEvent) -> Vec<Mutation> {
    vec![Mutation::BulkDeleteMessages {
        channel_id: ChannelId::new(d.channel_id.get()),
        message_ids: d.ids.iter().map(|id| MessageId::new(id.get())).collect(),
    }]
}

fn emoji(e: &s::ReactionType) -> ReactionEmoji {
    match e {
        s::ReactionType::Custom { animated, id, name } => ReactionEmoji {
            id: Some(persist_core::EmojiId::new(id.get())),
            name: name.clone(),
            animated: *animated,
        },
        s::ReactionType::Unicode(name) => ReactionEmoji::unicode(name.clone()),
        // serenity's enum is non-exhaustive; it has no other variant today.
        _ => ReactionEmoji::default(),
    }
}

pub(crate) fn reaction(
    r: &s::Reaction,
    added: bool,
    session: &Session,
) -> Result<Vec<Mutation>, ConvertFailure> {
    let user_id = UserId::new(r.user_id.ok_or("missing `user_id`")?.get());
    let change = ReactionChange {
        channel_id: ChannelId::new(r.channel_id.get()),
        message_id: MessageId::new(r.message_id.get()),
        guild_id: r.guild_id.map(|g| GuildId::new(g.get())),
        user_id,
        emoji: emoji(&r.emoji),
        burst: r.burst,
        by_current_user: session.current_user == Some(user_id),
    };
    Ok(vec![if added {
        Mutation::AddReaction(change)
    } else {
        Mutation::RemoveReaction(change)
    }])
}

pub(crate) fn reaction_remove_all(r: &e::ReactionRemoveAllEvent) -> Vec<Mutation> {
    vec![Mutation::RemoveAllReactions {
        channel_id: ChannelId::new(r.channel_id.get()),
        message_id: MessageId::new(r.message_id.get()),
    }]
}

pub(crate) fn reaction_remove_emoji(r: &s::Reaction) -> Vec<Mutation> {
    vec![Mutation::RemoveEmojiReactions {
        channel_id: ChannelId::new(r.channel_id.get()),
        message_id: MessageId::new(r.message_id.get()),
        emoji: emoji(&r.emoji),
    }]
}
