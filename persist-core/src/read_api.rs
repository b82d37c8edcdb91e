//! The read API: typed getters shaped like serenity's, over one `query` call.

use async_trait::async_trait;

use crate::model::{
    Channel, CurrentUser, Emoji, Guild, Member, Message, Presence, Role, ScheduledEvent,
    StageInstance, Sticker, ThreadMember, User, VoiceState,
};
use crate::{
    Answer, BoxFuture, ChannelId, Counts, EmojiId, Error, GuildId, MessageId, MessagePage, Query,
    Result, RoleId, ScheduledEventId, StageInstanceId, StickerId, Store, UserId,
};

macro_rules! getter {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty, $query:expr, $variant:ident) => {
        $(#[$doc])*
        fn $name(&self, $($arg: $ty),*) -> BoxFuture<'_, Result<$out>> {
            // Written out (not `async fn`) so the future is `Send`, as `#[async_trait]` would make it.
            Box::pin(async move {
                let query = $query;
                match self.query(&query).await? {
                    Answer::$variant(v) => Ok(v),
                    other => Err(Error::UnexpectedAnswer {
                        query: query.name(),
                        answer: other.name(),
                    }),
                }
            })
        }
    };
}

/// The typed getters whose answers the cache's hot tier can hold, each as
/// `$getter!(doc, name(args) -> answer, query, answer variant)`: written
/// once for the async [`ReadApi`] and the synchronous
/// [`HotView`](crate::HotView).
macro_rules! memory_getters {
    ($getter:ident) => {
        $getter!(
            /// The bot's own user.
            current_user() -> Option<CurrentUser>, Query::CurrentUser, CurrentUser
        );
        $getter!(
            /// A guild by id.
            guild(id: GuildId) -> Option<Guild>, Query::Guild(id), Guild
        );
        $getter!(
            /// A channel or thread by id.
            channel(id: ChannelId) -> Option<Channel>, Query::Channel(id), Channel
        );
        $getter!(
            /// A guild's channels (threads excluded), by id.
            guild_channels(guild_id: GuildId) -> Vec<Channel>, Query::GuildChannels(guild_id), Channels
        );
        $getter!(
            /// A guild's threads, by id.
            guild_threads(guild_id: GuildId) -> Vec<Channel>, Query::GuildThreads(guild_id), Channels
        );
        $getter!(
            /// A user by id.
            user(id: UserId) -> Option<User>, Query::User(id), User
        );
        $getter!(
            /// A guild member.
            member(guild_id: GuildId, user_id: UserId) -> Option<Member>, Query::Member(guild_id, user_id), Member
        );
        $getter!(
            /// A role by id.
            role(id: RoleId) -> Option<Role>, Query::Role(id), Role
        );
        $getter!(
            /// A guild's roles, by id.
            guild_roles(guild_id: GuildId) -> Vec<Role>, Query::GuildRoles(guild_id), Roles
        );
        $getter!(
            /// A custom emoji by id.
            emoji(id: EmojiId) -> Option<Emoji>, Query::Emoji(id), Emoji
        );
        $getter!(
            /// A guild's emojis, by id.
            guild_emojis(guild_id: GuildId) -> Vec<Emoji>, Query::GuildEmojis(guild_id), Emojis
        );
        $getter!(
            /// A sticker by id.
            sticker(id: StickerId) -> Option<Sticker>, Query::Sticker(id), Sticker
        );
        $getter!(
            /// A guild's stickers, by id.
            guild_stickers(guild_id: GuildId) -> Vec<Sticker>, Query::GuildStickers(guild_id), Stickers
        );
        $getter!(
            /// A user's voice state in a guild.
            voice_state(guild_id: GuildId, user_id: UserId) -> Option<VoiceState>, Query::VoiceState(guild_id, user_id), VoiceState
        );
        $getter!(
            /// A guild's voice states, by user id.
            guild_voice_states(guild_id: GuildId) -> Vec<VoiceState>, Query::GuildVoiceStates(guild_id), VoiceStates
        );
        $getter!(
            /// A user's presence in a guild.
            presence(guild_id: GuildId, user_id: UserId) -> Option<Presence>, Query::Presence(guild_id, user_id), Presence
        );
        $getter!(
            /// A guild's presences, by user id.
            guild_presences(guild_id: GuildId) -> Vec<Presence>, Query::GuildPresences(guild_id), Presences
        );
        $getter!(
            /// A stage instance by id.
            stage_instance(id: StageInstanceId) -> Option<StageInstance>, Query::StageInstance(id), StageInstance
        );
        $getter!(
            /// A guild's stage instances, by id.
            guild_stage_instances(guild_id: GuildId) -> Vec<StageInstance>, Query::GuildStageInstances(guild_id), StageInstances
        );
        $getter!(
            /// A scheduled event by id.
            scheduled_event(id: ScheduledEventId) -> Option<ScheduledEvent>, Query::ScheduledEvent(id), ScheduledEvent
        );
        $getter!(
            /// A guild's scheduled events, by id.
            guild_scheduled_events(guild_id: GuildId) -> Vec<ScheduledEvent>, Query::GuildScheduledEvents(guild_id), ScheduledEvents
        );
        $getter!(
            /// A user's membership of a thread.
            thread_member(thread_id: ChannelId, user_id: UserId) -> Option<ThreadMember>, Query::ThreadMember(thread_id, user_id), ThreadMember
        );
        $getter!(
            /// A thread's members, by user id.
            thread_members(thread_id: ChannelId) -> Vec<ThreadMember>, Query::ThreadMembers(thread_id), ThreadMembers
        );
    };
}
pub(crate) use memory_getters;

/// Typed reads. [`Cache`](crate::Cache) implements it (seeing queued
/// writes), and so does every [`Store`] (seeing committed data only).
///
/// ```
/// use persist_core::{MemoryStore, Migrations, ReadApi, GuildId};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::open(&Migrations::new()).await?;
/// assert!(store.guild(GuildId::new(1)).await?.is_none());
/// assert!(store.guild_members(GuildId::new(1), None, 100).await?.is_empty());
/// # Ok::<(), persist_core::Error>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait ReadApi: Sync {
    /// Answers one query; every getter is a call of this.
    async fn query(&self, query: &Query) -> Result<Answer>;

    getter!(
        /// Every cached guild's id, ascending.
        guild_ids() -> Vec<GuildId>, Query::GuildIds, GuildIds
    );
    getter!(
        /// A message by id.
        message(id: MessageId) -> Option<Message>, Query::Message(id), Message
    );
    getter!(
        /// A page of a channel's messages, newest first (like `GET /channels/{id}/messages`).
        channel_messages(channel_id: ChannelId, page: MessagePage, limit: usize) -> Vec<Message>,
        Query::ChannelMessages { channel_id, page, limit }, Messages
    );
    getter!(
        /// A page of a guild's members by ascending user id (like `GET /guilds/{id}/members`).
        guild_members(guild_id: GuildId, after: Option<UserId>, limit: usize) -> Vec<Member>,
        Query::GuildMembers { guild_id, after, limit }, Members
    );
    getter!(
        /// The guilds a user shares with the bot, ascending.
        user_guilds(user_id: UserId) -> Vec<GuildId>, Query::UserGuilds(user_id), GuildIds
    );
    getter!(
        /// How many objects of each kind are stored (a cache waits for queued writes first).
        counts() -> Counts, Query::Counts, Counts
    );
    memory_getters!(getter);
}

#[async_trait]
impl<S: Store + ?Sized> ReadApi for S {
    async fn query(&self, query: &Query) -> Result<Answer> {
        self.read(query).await
    }
}
