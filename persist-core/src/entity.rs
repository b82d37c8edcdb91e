//! What every cached object has in common: a key, a resource kind and a guild.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{
    Channel, CurrentUser, Emoji, Guild, Member, Message, Presence, Role, ScheduledEvent,
    StageInstance, Sticker, ThreadMember, User, VoiceState,
};
use crate::{
    ChannelId, EmojiId, GuildId, MessageId, ResourceKind, RoleId, ScheduledEventId,
    StageInstanceId, StickerId, UserId,
};

/// The identity of one cached object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EntityKey {
    /// The bot's own user.
    CurrentUser,
    /// A guild.
    Guild(GuildId),
    /// A channel or thread.
    Channel(ChannelId),
    /// A message.
    Message(MessageId),
    /// A user.
    User(UserId),
    /// A member of a guild.
    Member(GuildId, UserId),
    /// A role.
    Role(RoleId),
    /// A custom emoji.
    Emoji(EmojiId),
    /// A sticker.
    Sticker(StickerId),
    /// A user's voice state in a guild.
    VoiceState(GuildId, UserId),
    /// A user's presence in a guild.
    Presence(GuildId, UserId),
    /// A stage instance.
    StageInstance(StageInstanceId),
    /// A scheduled event.
    ScheduledEvent(ScheduledEventId),
    /// A user's membership of a thread.
    ThreadMember(ChannelId, UserId),
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CurrentUser => write!(f, "current_user"),
            Self::Guild(id) => write!(f, "guild/{id}"),
            Self::Channel(id) => write!(f, "channel/{id}"),
            Self::Message(id) => write!(f, "message/{id}"),
            Self::User(id) => write!(f, "user/{id}"),
            Self::Member(g, u) => write!(f, "member/{g}/{u}"),
            Self::Role(id) => write!(f, "role/{id}"),
            Self::Emoji(id) => write!(f, "emoji/{id}"),
            Self::Sticker(id) => write!(f, "sticker/{id}"),
            Self::VoiceState(g, u) => write!(f, "voice_state/{g}/{u}"),
            Self::Presence(g, u) => write!(f, "presence/{g}/{u}"),
            Self::StageInstance(id) => write!(f, "stage_instance/{id}"),
            Self::ScheduledEvent(id) => write!(f, "scheduled_event/{id}"),
            Self::ThreadMember(t, u) => write!(f, "thread_member/{t}/{u}"),
        }
    }
}

impl EntityKey {
    /// The resource kind of the object. Channels and threads share a key
    /// space; a channel key reports `CHANNELS | THREADS`.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::CurrentUser => ResourceKind::CURRENT_USER,
            Self::Guild(_) => ResourceKind::GUILDS,
            Self::Channel(_) => ResourceKind::CHANNELS | ResourceKind::THREADS,
            Self::Message(_) => ResourceKind::MESSAGES,
            Self::User(_) => ResourceKind::USERS,
            Self::Member(..) => ResourceKind::MEMBERS,
            Self::Role(_) => ResourceKind::ROLES,
            Self::Emoji(_) => ResourceKind::EMOJIS,
            Self::Sticker(_) => ResourceKind::STICKERS,
            Self::VoiceState(..) => ResourceKind::VOICE_STATES,
            Self::Presence(..) => ResourceKind::PRESENCES,
            Self::StageInstance(_) => ResourceKind::STAGE_INSTANCES,
            Self::ScheduledEvent(_) => ResourceKind::SCHEDULED_EVENTS,
            Self::ThreadMember(..) => ResourceKind::THREAD_MEMBERS,
        }
    }

    /// The guild the key itself names, if it names one.
    pub fn guild_id(&self) -> Option<GuildId> {
        match self {
            Self::Guild(g) | Self::Member(g, _) | Self::VoiceState(g, _) | Self::Presence(g, _) => {
                Some(*g)
            }
            _ => None,
        }
    }

    /// Whether one of the key's ids is 0, which no Discord object has (a
    /// payload missing its id reads as 0).
    pub fn has_zero_id(&self) -> bool {
        match *self {
            Self::CurrentUser => false,
            Self::Guild(id) => id.get() == 0,
            Self::Channel(id) => id.get() == 0,
            Self::Message(id) => id.get() == 0,
            Self::User(id) => id.get() == 0,
            Self::Role(id) => id.get() == 0,
            Self::Emoji(id) => id.get() == 0,
            Self::Sticker(id) => id.get() == 0,
            Self::StageInstance(id) => id.get() == 0,
            Self::ScheduledEvent(id) => id.get() == 0,
            Self::Member(g, u) | Self::VoiceState(g, u) | Self::Presence(g, u) => {
                g.get() == 0 || u.get() == 0
            }
            Self::ThreadMember(t, u) => t.get() == 0 || u.get() == 0,
        }
    }

    /// The fields that identify the object inside its serialized form.
    pub(crate) fn id_fields(&self) -> Vec<(&'static str, serde_json::Value)> {
        fn s(v: impl ToString) -> serde_json::Value {
            serde_json::Value::String(v.to_string())
        }
        match self {
            Self::CurrentUser => vec![],
            Self::Guild(id) => vec![("id", s(id))],
            Self::Channel(id) => vec![("id", s(id))],
            Self::Message(id) => vec![("id", s(id))],
            Self::User(id) => vec![("id", s(id))],
            Self::Role(id) => vec![("id", s(id))],
            Self::Emoji(id) => vec![("id", s(id))],
            Self::Sticker(id) => vec![("id", s(id))],
            Self::StageInstance(id) => vec![("id", s(id))],
            Self::ScheduledEvent(id) => vec![("id", s(id))],
            Self::Member(g, u) | Self::VoiceState(g, u) | Self::Presence(g, u) => {
                vec![("guild_id", s(g)), ("user_id", s(u))]
            }
            Self::ThreadMember(t, u) => vec![("id", s(t)), ("user_id", s(u))],
        }
    }
}

/// A model that can be cached: it knows its key and its kind.
pub trait Entity:
    Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static
{
    /// The key of this object.
    fn key(&self) -> EntityKey;
    /// Wraps the object as a [`Record`].
    fn into_record(self) -> Record;
    /// Unwraps a [`Record`] of this type.
    fn from_record(record: Record) -> Option<Self>;
}

/// One cached object of any kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Record {
    CurrentUser(CurrentUser),
    Guild(Guild),
    Channel(Channel),
    Message(Message),
    User(User),
    Member(Member),
    Role(Role),
    Emoji(Emoji),
    Sticker(Sticker),
    VoiceState(VoiceState),
    Presence(Presence),
    StageInstance(StageInstance),
    ScheduledEvent(ScheduledEvent),
    ThreadMember(ThreadMember),
}

macro_rules! entities {
    ($($variant:ident => |$v:ident| $key:expr;)*) => {
        $(
            impl Entity for $variant {
                fn key(&self) -> EntityKey {
                    let $v = self;
                    $key
                }

                fn into_record(self) -> Record {
                    Record::$variant(self)
                }

                fn from_record(record: Record) -> Option<Self> {
                    match record {
                        Record::$variant(v) => Some(v),
                        _ => None,
                    }
                }
            }
        )*

        impl Record {
            /// The object's key.
            pub fn key(&self) -> EntityKey {
                match self {
                    $(Self::$variant(v) => v.key(),)*
                }
            }
        }
    };
}

entities! {
    CurrentUser => |v| { let _ = v; EntityKey::CurrentUser };
    Guild => |v| EntityKey::Guild(v.id);
    Channel => |v| EntityKey::Channel(v.id);
    Message => |v| EntityKey::Message(v.id);
    User => |v| EntityKey::User(v.id);
    Member => |v| EntityKey::Member(v.guild_id, v.user_id);
    Role => |v| EntityKey::Role(v.id);
    Emoji => |v| EntityKey::Emoji(v.id);
    Sticker => |v| EntityKey::Sticker(v.id);
    VoiceState => |v| EntityKey::VoiceState(v.guild_id, v.user_id);
    Presence => |v| EntityKey::Presence(v.guild_id, v.user_id);
    StageInstance => |v| EntityKey::StageInstance(v.id);
    ScheduledEvent => |v| EntityKey::ScheduledEvent(v.id);
    ThreadMember => |v| EntityKey::ThreadMember(v.thread_id, v.user_id);
}

impl Record {
    /// The object's resource kind (a thread reports `THREADS`, other channels `CHANNELS`).
    pub fn kind(&self) -> ResourceKind {
        match self {
            Self::Channel(c) if c.is_thread() => ResourceKind::THREADS,
            Self::Channel(_) => ResourceKind::CHANNELS,
            other => other.key().kind(),
        }
    }

    /// The guild the object belongs to, if any.
    pub fn guild_id(&self) -> Option<GuildId> {
        match self {
            Self::CurrentUser(_) | Self::User(_) | Self::ThreadMember(_) => None,
            Self::Guild(v) => Some(v.id),
            Self::Channel(v) => v.guild_id,
            Self::Message(v) => v.guild_id,
            Self::Member(v) => Some(v.guild_id),
            Self::Role(v) => Some(v.guild_id),
            Self::Emoji(v) => Some(v.guild_id),
            Self::Sticker(v) => v.guild_id,
            Self::VoiceState(v) => Some(v.guild_id),
            Self::Presence(v) => Some(v.guild_id),
            Self::StageInstance(v) => Some(v.guild_id),
            Self::ScheduledEvent(v) => Some(v.guild_id),
        }
    }
}
