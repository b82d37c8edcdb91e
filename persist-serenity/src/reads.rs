//! The read API in serenity's types: serenity's ids in, serenity's models
//! out, with serenity's argument order where serenity has the getter.

use std::collections::HashMap;

use persist_core::{Counts, MessagePage, ReadApi, Result};
use serenity::http::MessagePagination;
use serenity::model::channel::{GuildChannel, Message};
use serenity::model::guild::{Emoji, Guild, Member, Role};
use serenity::model::id::{ChannelId, EmojiId, GuildId, MessageId, RoleId, UserId};
use serenity::model::user::{CurrentUser, User};
use serenity::model::voice::VoiceState;

use crate::Persist;
use crate::convert::{
    GuildParts, IntoCore, IntoSerenity, ToSerenity, guild_to_serenity, member_to_serenity,
};

/// The most members one [`Persist::guild_members`] page holds (Discord's
/// limit for `GET /guilds/{id}/members`).
pub const MAX_MEMBERS_PAGE: u64 = 1000;

fn all<T: ToSerenity>(models: &[T]) -> Result<Vec<T::Serenity>> {
    models.iter().map(ToSerenity::to_serenity).collect()
}

impl Persist {
    /// A stored member joined with its user, as serenity's `Member`.
    async fn with_user(&self, member: &persist_core::model::Member) -> Result<Member> {
        let user = self.cache().user(member.user_id).await?.unwrap_or_else(|| {
            // A member stored without its user (never seen whole): its id.
            persist_core::model::User {
                id: member.user_id,
                ..Default::default()
            }
        });
        member_to_serenity(member, &user)
    }

    /// The bot's own user, as of the last READY or USER_UPDATE.
    pub async fn current_user(&self) -> Result<Option<CurrentUser>> {
        self.cache()
            .current_user()
            .await?
            .map(|u| u.to_serenity())
            .transpose()
    }

    /// A guild with its roles, channels, threads, emojis, stickers and
    /// voice states (its members are paged with [`Persist::guild_members`]).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// # let persist = persist_serenity::Persist::builder().memory().open().await?;
    /// use serenity::all::GuildId;
    /// persist.apply_dispatch("GUILD_CREATE", &serde_json::json!({
    ///     "id": "81384788765712384", "name": "Discord API",
    ///     "roles": [{"id": "81384788765712384", "name": "@everyone", "permissions": "104324161"}],
    /// }));
    /// let guild = persist.guild(GuildId::new(81384788765712384)).await?.unwrap();
    /// assert_eq!(guild.name, "Discord API");
    /// assert_eq!(guild.roles.len(), 1);
    /// # Ok::<(), persist_serenity::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn guild(&self, guild_id: impl Into<GuildId>) -> Result<Option<Guild>> {
        let id = guild_id.into().into_core();
        let cache = self.cache();
        let Some(guild) = cache.guild(id).await? else {
            return Ok(None);
        };
        let parts = GuildParts {
            roles: cache.guild_roles(id).await?,
            channels: cache.guild_channels(id).await?,
            threads: cache.guild_threads(id).await?,
            emojis: cache.guild_emojis(id).await?,
            stickers: cache.guild_stickers(id).await?,
            voice_states: cache.guild_voice_states(id).await?,
        };
        guild_to_serenity(&guild, &parts).map(Some)
    }

    /// Every stored guild's id, ascending.
    pub async fn guilds(&self) -> Result<Vec<GuildId>> {
        self.cache()
            .guild_ids()
            .await?
            .into_iter()
            .map(IntoSerenity::into_serenity)
            .collect()
    }

    /// A guild's channel or thread.
    pub async fn channel(&self, channel_id: impl Into<ChannelId>) -> Result<Option<GuildChannel>> {
        let id = channel_id.into().into_core();
        match self.cache().channel(id).await? {
            // A DM channel is not a guild channel.
            Some(channel) if channel.guild_id.is_some() => channel.to_serenity().map(Some),
            _ => Ok(None),
        }
    }

    /// A guild's channels, threads apart (serenity's `Guild::channels`).
    pub async fn guild_channels(
        &self,
        guild_id: impl Into<GuildId>,
    ) -> Result<HashMap<ChannelId, GuildChannel>> {
        let channels = self
            .cache()
            .guild_channels(guild_id.into().into_core())
            .await?;
        Ok(all(&channels)?.into_iter().map(|c| (c.id, c)).collect())
    }

    /// A guild's active threads.
    pub async fn guild_threads(&self, guild_id: impl Into<GuildId>) -> Result<Vec<GuildChannel>> {
        all(&self
            .cache()
            .guild_threads(guild_id.into().into_core())
            .await?)
    }

    /// A guild's roles (serenity's `Guild::roles`).
    pub async fn guild_roles(&self, guild_id: impl Into<GuildId>) -> Result<HashMap<RoleId, Role>> {
        let roles = self
            .cache()
            .guild_roles(guild_id.into().into_core())
            .await?;
        Ok(all(&roles)?.into_iter().map(|r| (r.id, r)).collect())
    }

    /// A role of a guild (serenity's `Cache::role(guild_id, role_id)`).
    pub async fn role(
        &self,
        guild_id: impl Into<GuildId>,
        role_id: impl Into<RoleId>,
    ) -> Result<Option<Role>> {
        let guild_id = guild_id.into().into_core();
        match self.cache().role(role_id.into().into_core()).await? {
            Some(role) if role.guild_id == guild_id => role.to_serenity().map(Some),
            _ => Ok(None),
        }
    }

    /// A custom emoji of a guild.
    pub async fn emoji(
        &self,
        guild_id: impl Into<GuildId>,
        emoji_id: impl Into<EmojiId>,
    ) -> Result<Option<Emoji>> {
        let guild_id = guild_id.into().into_core();
        match self.cache().emoji(emoji_id.into().into_core()).await? {
            Some(emoji) if emoji.guild_id == guild_id => emoji.to_serenity().map(Some),
            _ => Ok(None),
        }
    }

    /// A user.
    pub async fn user(&self, user_id: impl Into<UserId>) -> Result<Option<User>> {
        let id = user_id.into().into_core();
        self.cache()
            .user(id)
            .await?
            .map(|u| u.to_serenity())
            .transpose()
    }

    /// A guild member with its user (serenity's `Cache::member(guild_id,
    /// user_id)`).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
    /// # let persist = persist_serenity::Persist::builder().memory().open().await?;
    /// use serenity::all::{GuildId, Mentionable, UserId};
    /// persist.apply_dispatch("GUILD_MEMBER_ADD", &serde_json::json!({
    ///     "guild_id": "7", "user": {"id": "5", "username": "ferris", "global_name": "Ferris"},
    ///     "nick": null, "roles": [], "joined_at": "2024-01-01T00:00:00+00:00",
    ///     "deaf": false, "mute": false,
    /// }));
    /// let member = persist.member(GuildId::new(7), UserId::new(5)).await?.unwrap();
    /// assert_eq!(member.display_name(), "Ferris");
    /// assert_eq!(member.user.mention().to_string(), "<@5>");
    /// # Ok::<(), persist_serenity::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn member(
        &self,
        guild_id: impl Into<GuildId>,
        user_id: impl Into<UserId>,
    ) -> Result<Option<Member>> {
        let (guild_id, user_id) = (guild_id.into().into_core(), user_id.into().into_core());
        match self.cache().member(guild_id, user_id).await? {
            Some(member) => self.with_user(&member).await.map(Some),
            None => Ok(None),
        }
    }

    /// A page of a guild's members with their users, by ascending user id
    /// after `after` (serenity's `GuildId::members(http, limit, after)`);
    /// `limit` is at most [`MAX_MEMBERS_PAGE`], which is also the default.
    pub async fn guild_members(
        &self,
        guild_id: impl Into<GuildId>,
        limit: Option<u64>,
        after: Option<UserId>,
    ) -> Result<Vec<Member>> {
        let limit = limit.unwrap_or(MAX_MEMBERS_PAGE).min(MAX_MEMBERS_PAGE) as usize;
        let cache = self.cache();
        let members = cache
            .guild_members(
                guild_id.into().into_core(),
                after.map(IntoCore::into_core),
                limit,
            )
            .await?;
        let mut page = Vec::with_capacity(members.len());
        for member in &members {
            page.push(self.with_user(member).await?);
        }
        Ok(page)
    }

    /// A message of a channel (serenity's `Cache::message(channel_id,
    /// message_id)`), with every edit and reaction received since.
    pub async fn message(
        &self,
        channel_id: impl Into<ChannelId>,
        message_id: impl Into<MessageId>,
    ) -> Result<Option<Message>> {
        let channel_id = channel_id.into().into_core();
        match self.cache().message(message_id.into().into_core()).await? {
            Some(message) if message.channel_id == channel_id => message.to_serenity().map(Some),
            _ => Ok(None),
        }
    }

    /// A page of a channel's stored messages, newest first, like serenity's
    /// `get_messages(channel_id, target, limit)`: the newest without a
    /// target, else those before, after or around a message.
    pub async fn channel_messages(
        &self,
        channel_id: impl Into<ChannelId>,
        target: Option<MessagePagination>,
        limit: usize,
    ) -> Result<Vec<Message>> {
        let page = match target {
            None => MessagePage::Latest,
            Some(MessagePagination::Before(id)) => MessagePage::Before(id.into_core()),
            Some(MessagePagination::After(id)) => MessagePage::After(id.into_core()),
            Some(MessagePagination::Around(id)) => MessagePage::Around(id.into_core()),
            Some(other) => {
                return Err(persist_core::Error::Conversion {
                    to: "MessagePage",
                    reason: format!("{other:?} is not a page this cache reads"),
                });
            }
        };
        let messages = self
            .cache()
            .channel_messages(channel_id.into().into_core(), page, limit)
            .await?;
        all(&messages)
    }

    /// The guilds a user shares with the bot, ascending.
    pub async fn user_guilds(&self, user_id: impl Into<UserId>) -> Result<Vec<GuildId>> {
        self.cache()
            .user_guilds(user_id.into().into_core())
            .await?
            .into_iter()
            .map(IntoSerenity::into_serenity)
            .collect()
    }

    /// A user's voice state in a guild.
    pub async fn voice_state(
        &self,
        guild_id: impl Into<GuildId>,
        user_id: impl Into<UserId>,
    ) -> Result<Option<VoiceState>> {
        let (guild_id, user_id) = (guild_id.into().into_core(), user_id.into().into_core());
        self.cache()
            .voice_state(guild_id, user_id)
            .await?
            .map(|v| v.to_serenity())
            .transpose()
    }

    /// How many objects of each kind are stored (after queued writes).
    pub async fn counts(&self) -> Result<Counts> {
        self.cache().counts().await
    }
}
