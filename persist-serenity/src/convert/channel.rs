//! Guild channels and threads.

use persist_core::Result;
use persist_core::model as core;
use serenity::model as s;

use super::{ToSerenity, failed, filled, from_extra, id, leaf, narrow, timestamps};
use serde_json::json;

type S = s::channel::GuildChannel;

impl ToSerenity for core::Channel {
    type Serenity = S;

    /// A guild's channel or thread; a channel outside any guild (a DM) is
    /// not a `GuildChannel` and gives [`Error::Conversion`](persist_core::Error::Conversion).
    fn to_serenity(&self) -> Result<S> {
        let Some(guild_id) = self.guild_id else {
            return Err(failed::<S>(format!(
                "channel {} is not in a guild (a DM channel)",
                self.id
            )));
        };
        let mut c = S::default();
        c.id = id::<S, _>(self.id.get())?;
        c.bitrate = self.bitrate;
        c.parent_id = self.parent_id.map(|p| id::<S, _>(p.get())).transpose()?;
        c.guild_id = id::<S, _>(guild_id.get())?;
        c.kind = s::channel::ChannelType::from(self.kind.number());
        c.owner_id = self.owner_id.map(|u| id::<S, _>(u.get())).transpose()?;
        c.last_message_id = self
            .last_message_id
            .map(|m| id::<S, _>(m.get()))
            .transpose()?;
        c.last_pin_timestamp = timestamps::<S>(self.last_pin_timestamp)?;
        c.name = self.name.clone().unwrap_or_default();
        c.permission_overwrites = self
            .permission_overwrites
            .iter()
            .map(permission_overwrite)
            .collect::<Result<_>>()?;
        c.position = narrow::<S, u16, _>("position", self.position.unwrap_or(0))?;
        c.topic.clone_from(&self.topic);
        c.user_limit = self.user_limit;
        c.nsfw = self.nsfw;
        c.rate_limit_per_user = self
            .rate_limit_per_user
            .map(|r| narrow::<S, u16, _>("rate_limit_per_user", r))
            .transpose()?;
        c.rtc_region.clone_from(&self.rtc_region);
        c.video_quality_mode = self
            .video_quality_mode
            .map(s::channel::VideoQualityMode::from);
        c.message_count = self.message_count;
        // serenity holds a thread's member count in a u8 (Discord stops
        // counting at 50).
        c.member_count = self
            .member_count
            .map(|n| u8::try_from(n).unwrap_or(u8::MAX));
        c.thread_metadata = self
            .thread_metadata
            .as_ref()
            .map(|t| {
                filled::<S, _>(
                    t,
                    &[
                        ("archived", json!(false)),
                        ("auto_archive_duration", json!(0)),
                    ],
                )
            })
            .transpose()?;
        // A membership stored without its join time: the thread's creation.
        let created = c.id.created_at().to_string();
        c.member = self
            .member
            .as_ref()
            .map(|m| {
                filled::<S, _>(
                    m,
                    &[("flags", json!(0)), ("join_timestamp", json!(created))],
                )
            })
            .transpose()?;
        c.default_auto_archive_duration = self
            .default_auto_archive_duration
            .map(|d| narrow::<S, u16, _>("default_auto_archive_duration", d))
            .transpose()?
            .map(s::channel::AutoArchiveDuration::from);
        c.permissions = self
            .permissions
            .map(|p| s::Permissions::from_bits_retain(p.bits()));
        c.flags = s::channel::ChannelFlags::from_bits_retain(self.flags);
        c.total_message_sent = self.total_message_sent.map(u64::from);
        c.available_tags = self
            .available_tags
            .iter()
            .map(|t| filled::<S, _>(t, &[("name", json!("")), ("moderated", json!(false))]))
            .collect::<Result<_>>()?;
        c.applied_tags = self
            .applied_tags
            .iter()
            .map(|t| id::<S, _>(t.get()))
            .collect::<Result<_>>()?;
        c.default_reaction_emoji = self
            .default_reaction_emoji
            .as_ref()
            .map(leaf::<S, _>)
            .transpose()?;
        c.default_thread_rate_limit_per_user = self
            .default_thread_rate_limit_per_user
            .map(|r| narrow::<S, u16, _>("default_thread_rate_limit_per_user", r))
            .transpose()?;
        c.status = from_extra::<S, _>(&self.extra, "status")?;
        c.default_sort_order = self.default_sort_order.map(s::channel::SortOrder::from);
        c.default_forum_layout = self
            .default_forum_layout
            .map(s::channel::ForumLayoutType::from);
        Ok(c)
    }
}

/// Discord's overwrite types: 0 a role, 1 a member.
fn permission_overwrite(o: &core::PermissionOverwrite) -> Result<s::channel::PermissionOverwrite> {
    let kind = match o.kind {
        0 => s::channel::PermissionOverwriteType::Role(id::<S, _>(o.id.get())?),
        1 => s::channel::PermissionOverwriteType::Member(id::<S, _>(o.id.get())?),
        other => {
            return Err(failed::<S>(format!(
                "permission overwrite {} has unknown type {other}",
                o.id
            )));
        }
    };
    Ok(s::channel::PermissionOverwrite {
        allow: s::Permissions::from_bits_retain(o.allow.bits()),
        deny: s::Permissions::from_bits_retain(o.deny.bits()),
        kind,
    })
}
