//! Channels and threads.

use persist_core::gateway::Session;
use persist_core::model::{Channel, ChannelKind, Extra, ThreadMember};
use persist_core::{
    ApplicationId, ChannelId, ForumTagId, GuildId, MessageId, Mutation, Permissions, UserId,
};
use serenity::model::channel as s;

use super::{ConvertFailure, each_via_json, json, keep, timestamp, via_json};

/// A serenity guild channel (or thread) as ours.
pub(crate) fn channel(c: &s::GuildChannel) -> Result<Channel, ConvertFailure> {
    let mut extra = Extra::new();
    keep(&mut extra, "status", c.status.as_ref())?;
    Ok(Channel {
        id: ChannelId::new(c.id.get()),
        kind: ChannelKind::from_number(u8::from(c.kind)),
        guild_id: Some(GuildId::new(c.guild_id.get())),
        position: Some(i64::from(c.position)),
        permission_overwrites: each_via_json(&c.permission_overwrites)?,
        name: Some(c.name.clone()),
        topic: c.topic.clone(),
        nsfw: c.nsfw,
        last_message_id: c.last_message_id.map(|m| MessageId::new(m.get())),
        bitrate: c.bitrate,
        user_limit: c.user_limit,
        rate_limit_per_user: c.rate_limit_per_user.map(u32::from),
        recipients: Vec::new(),
        icon: None,
        owner_id: c.owner_id.map(|u| UserId::new(u.get())),
        application_id: None::<ApplicationId>,
        parent_id: c.parent_id.map(|p| ChannelId::new(p.get())),
        last_pin_timestamp: c.last_pin_timestamp.as_ref().map(timestamp),
        rtc_region: c.rtc_region.clone(),
        video_quality_mode: c.video_quality_mode.map(u8::from),
        message_count: c.message_count,
        member_count: c.member_count.map(u32::from),
        thread_metadata: c.thread_metadata.as_ref().map(via_json).transpose()?,
        member: c.member.as_ref().map(via_json).transpose()?,
        default_auto_archive_duration: c
            .default_auto_archive_duration
            .map(|d| u32::from(u16::from(d))),
        permissions: c.permissions.map(|p| Permissions::new(p.bits())),
        flags: c.flags.bits(),
        total_message_sent: c.total_message_sent.and_then(|n| u32::try_from(n).ok()),
        available_tags: each_via_json(&c.available_tags)?,
        applied_tags: c
            .applied_tags
            .iter()
            .map(|t| ForumTagId::new(t.get()))
            .collect(),
        default_reaction_emoji: c.default_reaction_emoji.as_ref().map(json).transpose()?,
        default_thread_rate_limit_per_user: c.default_thread_rate_limit_per_user.map(u32::from),
        default_sort_order: c.default_sort_order.map(u8::from),
        default_forum_layout: c.default_forum_layout.map(u8::from),
        extra,
    })
}

/// CHANNEL_CREATE, CHANNEL_UPDATE, THREAD_CREATE: the channel, and the
/// bot's membership of a thread, which comes inside it.
pub(crate) fn channel_upsert(
    c: &s::GuildChannel,
    session: &Session,
) -> Result<Vec<Mutation>, ConvertFailure> {
    let channel = channel(c)?;
    let mut mutations = Vec::with_capacity(2);
    if let (Some(member), Some(me)) = (&channel.member, session.current_user) {
        mutations.push(Mutation::upsert(ThreadMember {
            thread_id: channel.id,
            user_id: me,
            ..member.clone()
        }));
    }
    mutations.insert(0, Mutation::upsert(channel));
    Ok(mutations)
}
