//! The read API as data: one [`Query`] per getter, one [`Answer`] per shape.

use serde::{Deserialize, Serialize};

use crate::model::{
    Channel, CurrentUser, Emoji, Guild, Member, Message, Presence, Role, ScheduledEvent,
    StageInstance, Sticker, ThreadMember, User, VoiceState,
};
use crate::{
    ChannelId, EmojiId, GuildId, MessageId, RoleId, ScheduledEventId, StageInstanceId, StickerId,
    UserId,
};

/// Which page of a channel's messages to read. Answers are newest first, as
/// Discord's REST API returns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessagePage {
    /// The newest messages.
    Latest,
    /// The newest messages older than this one.
    Before(MessageId),
    /// The oldest messages newer than this one (still returned newest first).
    After(MessageId),
    /// The messages around this one, as Discord's REST does: at most
    /// `limit / 2` newer ones, and at most `limit - limit / 2` of this one
    /// (if stored) and older ones. Near either end the page is shorter;
    /// it is not filled from the other side.
    Around(MessageId),
}

/// One read. Each `Cache` getter is one of these.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Query {
    CurrentUser,
    Guild(GuildId),
    /// Every cached guild's id, ascending.
    GuildIds,
    Channel(ChannelId),
    /// The guild's channels that are not threads, by id.
    GuildChannels(GuildId),
    /// The guild's threads, by id.
    GuildThreads(GuildId),
    Message(MessageId),
    ChannelMessages {
        channel_id: ChannelId,
        page: MessagePage,
        limit: usize,
    },
    User(UserId),
    Member(GuildId, UserId),
    /// Members by ascending user id, starting after `after`.
    GuildMembers {
        guild_id: GuildId,
        after: Option<UserId>,
        limit: usize,
    },
    /// The guilds a user shares with the bot (where they are a cached member), ascending.
    UserGuilds(UserId),
    Role(RoleId),
    GuildRoles(GuildId),
    Emoji(EmojiId),
    GuildEmojis(GuildId),
    Sticker(StickerId),
    GuildStickers(GuildId),
    VoiceState(GuildId, UserId),
    GuildVoiceStates(GuildId),
    Presence(GuildId, UserId),
    GuildPresences(GuildId),
    StageInstance(StageInstanceId),
    GuildStageInstances(GuildId),
    ScheduledEvent(ScheduledEventId),
    GuildScheduledEvents(GuildId),
    ThreadMember(ChannelId, UserId),
    ThreadMembers(ChannelId),
    /// How many objects of each kind are stored.
    Counts,
}

impl Query {
    /// A short name for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::CurrentUser => "CurrentUser",
            Self::Guild(_) => "Guild",
            Self::GuildIds => "GuildIds",
            Self::Channel(_) => "Channel",
            Self::GuildChannels(_) => "GuildChannels",
            Self::GuildThreads(_) => "GuildThreads",
            Self::Message(_) => "Message",
            Self::ChannelMessages { .. } => "ChannelMessages",
            Self::User(_) => "User",
            Self::Member(..) => "Member",
            Self::GuildMembers { .. } => "GuildMembers",
            Self::UserGuilds(_) => "UserGuilds",
            Self::Role(_) => "Role",
            Self::GuildRoles(_) => "GuildRoles",
            Self::Emoji(_) => "Emoji",
            Self::GuildEmojis(_) => "GuildEmojis",
            Self::Sticker(_) => "Sticker",
            Self::GuildStickers(_) => "GuildStickers",
            Self::VoiceState(..) => "VoiceState",
            Self::GuildVoiceStates(_) => "GuildVoiceStates",
            Self::Presence(..) => "Presence",
            Self::GuildPresences(_) => "GuildPresences",
            Self::StageInstance(_) => "StageInstance",
            Self::GuildStageInstances(_) => "GuildStageInstances",
            Self::ScheduledEvent(_) => "ScheduledEvent",
            Self::GuildScheduledEvents(_) => "GuildScheduledEvents",
            Self::ThreadMember(..) => "ThreadMember",
            Self::ThreadMembers(_) => "ThreadMembers",
            Self::Counts => "Counts",
        }
    }
}

/// How many objects of each kind a store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Counts {
    pub guilds: u64,
    /// Channels that are not threads.
    pub channels: u64,
    pub threads: u64,
    pub messages: u64,
    pub users: u64,
    pub members: u64,
    pub roles: u64,
    pub emojis: u64,
    pub stickers: u64,
    pub voice_states: u64,
    pub presences: u64,
    pub stage_instances: u64,
    pub scheduled_events: u64,
    pub thread_members: u64,
}

/// A store's answer to a [`Query`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Answer {
    CurrentUser(Option<CurrentUser>),
    Guild(Option<Guild>),
    GuildIds(Vec<GuildId>),
    Channel(Option<Channel>),
    Channels(Vec<Channel>),
    Message(Option<Message>),
    Messages(Vec<Message>),
    User(Option<User>),
    Member(Option<Member>),
    Members(Vec<Member>),
    Role(Option<Role>),
    Roles(Vec<Role>),
    Emoji(Option<Emoji>),
    Emojis(Vec<Emoji>),
    Sticker(Option<Sticker>),
    Stickers(Vec<Sticker>),
    VoiceState(Option<VoiceState>),
    VoiceStates(Vec<VoiceState>),
    Presence(Option<Presence>),
    Presences(Vec<Presence>),
    StageInstance(Option<StageInstance>),
    StageInstances(Vec<StageInstance>),
    ScheduledEvent(Option<ScheduledEvent>),
    ScheduledEvents(Vec<ScheduledEvent>),
    ThreadMember(Option<ThreadMember>),
    ThreadMembers(Vec<ThreadMember>),
    Counts(Counts),
}

impl Answer {
    /// The objects the answer carries (none for ids and counts).
    pub(crate) fn into_records(self) -> Vec<crate::entity::Record> {
        use crate::entity::Record;
        fn all<T>(v: Vec<T>, f: fn(T) -> Record) -> Vec<Record> {
            v.into_iter().map(f).collect()
        }
        fn one<T>(v: Option<T>, f: fn(T) -> Record) -> Vec<Record> {
            v.into_iter().map(f).collect()
        }
        match self {
            Self::CurrentUser(v) => one(v, Record::CurrentUser),
            Self::Guild(v) => one(v, Record::Guild),
            Self::GuildIds(_) | Self::Counts(_) => Vec::new(),
            Self::Channel(v) => one(v, Record::Channel),
            Self::Channels(v) => all(v, Record::Channel),
            Self::Message(v) => one(v, Record::Message),
            Self::Messages(v) => all(v, Record::Message),
            Self::User(v) => one(v, Record::User),
            Self::Member(v) => one(v, Record::Member),
            Self::Members(v) => all(v, Record::Member),
            Self::Role(v) => one(v, Record::Role),
            Self::Roles(v) => all(v, Record::Role),
            Self::Emoji(v) => one(v, Record::Emoji),
            Self::Emojis(v) => all(v, Record::Emoji),
            Self::Sticker(v) => one(v, Record::Sticker),
            Self::Stickers(v) => all(v, Record::Sticker),
            Self::VoiceState(v) => one(v, Record::VoiceState),
            Self::VoiceStates(v) => all(v, Record::VoiceState),
            Self::Presence(v) => one(v, Record::Presence),
            Self::Presences(v) => all(v, Record::Presence),
            Self::StageInstance(v) => one(v, Record::StageInstance),
            Self::StageInstances(v) => all(v, Record::StageInstance),
            Self::ScheduledEvent(v) => one(v, Record::ScheduledEvent),
            Self::ScheduledEvents(v) => all(v, Record::ScheduledEvent),
            Self::ThreadMember(v) => one(v, Record::ThreadMember),
            Self::ThreadMembers(v) => all(v, Record::ThreadMember),
        }
    }

    /// A short name for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::CurrentUser(_) => "CurrentUser",
            Self::Guild(_) => "Guild",
            Self::GuildIds(_) => "GuildIds",
            Self::Channel(_) => "Channel",
            Self::Channels(_) => "Channels",
            Self::Message(_) => "Message",
            Self::Messages(_) => "Messages",
            Self::User(_) => "User",
            Self::Member(_) => "Member",
            Self::Members(_) => "Members",
            Self::Role(_) => "Role",
            Self::Roles(_) => "Roles",
            Self::Emoji(_) => "Emoji",
            Self::Emojis(_) => "Emojis",
            Self::Sticker(_) => "Sticker",
            Self::Stickers(_) => "Stickers",
            Self::VoiceState(_) => "VoiceState",
            Self::VoiceStates(_) => "VoiceStates",
            Self::Presence(_) => "Presence",
            Self::Presences(_) => "Presences",
            Self::StageInstance(_) => "StageInstance",
            Self::StageInstances(_) => "StageInstances",
            Self::ScheduledEvent(_) => "ScheduledEvent",
            Self::ScheduledEvents(_) => "ScheduledEvents",
            Self::ThreadMember(_) => "ThreadMember",
            Self::ThreadMembers(_) => "ThreadMembers",
            Self::Counts(_) => "Counts",
        }
    }
}

/// One item of a list read (a page, a guild's members): a stored object
/// that cannot be decoded ([`Error::Corrupt`](crate::Error::Corrupt)) is
/// left out and logged with its key, so one bad row never makes a channel
/// or a guild unreadable; any other error fails the read. A point read of
/// that object still returns the error.
///
/// ```
/// use persist_core::{Error, listed};
/// let bad: persist_core::Result<u32> = Err(Error::Corrupt { key: "messages/1".into(), reason: "bad".into() });
/// assert_eq!(listed("sqlite", bad)?, None);
/// assert_eq!(listed("sqlite", Ok(5))?, Some(5));
/// # Ok::<(), Error>(())
/// ```
pub fn listed<T>(backend: &'static str, item: crate::Result<T>) -> crate::Result<Option<T>> {
    match item {
        Ok(item) => Ok(Some(item)),
        Err(crate::Error::Corrupt { key, reason }) => {
            tracing::error!(
                backend,
                key,
                reason,
                "a stored object could not be decoded; left out of a list read"
            );
            Ok(None)
        }
        Err(other) => Err(other),
    }
}
