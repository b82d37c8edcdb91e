//! The key spaces (redb tables, sled trees) of the layout.

/// One key space. Objects are stored once, under their id; index spaces map
/// a scope and an id to nothing, so every list read is one range scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    /// Layout version and other metadata: name -> value.
    Meta,
    /// Application migration hooks: version -> hook.
    Hooks,
    /// The bot's own user: key 0 -> user.
    CurrentUser,
    /// guild id -> guild.
    Guilds,
    /// channel id -> channel (threads too).
    Channels,
    /// (guild, channel) -> ().
    GuildChannels,
    /// (parent, thread) -> ().
    ThreadParents,
    /// message id -> message.
    Messages,
    /// (channel, message) -> ().
    ChannelMessages,
    /// channel -> number of its messages (u64).
    ChannelCounts,
    /// (guild, channel) -> () for every channel that holds messages of the
    /// guild, cached channel or not (so leaving a guild finds them).
    GuildMessageChannels,
    /// user id -> user.
    Users,
    /// (guild, user) -> member.
    Members,
    /// (user, guild) -> () (layout 2 on).
    UserGuilds,
    /// role id -> role.
    Roles,
    /// (guild, role) -> ().
    GuildRoles,
    /// emoji id -> emoji.
    Emojis,
    /// (guild, emoji) -> ().
    GuildEmojis,
    /// sticker id -> sticker.
    Stickers,
    /// (guild, sticker) -> ().
    GuildStickers,
    /// (guild, user) -> voice state.
    VoiceStates,
    /// (guild, user) -> presence.
    Presences,
    /// stage instance id -> stage instance.
    StageInstances,
    /// (guild, stage instance) -> ().
    GuildStageInstances,
    /// scheduled event id -> scheduled event.
    ScheduledEvents,
    /// (guild, scheduled event) -> ().
    GuildScheduledEvents,
    /// (thread, user) -> thread member.
    ThreadMembers,
}

impl Space {
    /// Every space.
    pub const ALL: [Space; 27] = [
        Space::Meta,
        Space::Hooks,
        Space::CurrentUser,
        Space::Guilds,
        Space::Channels,
        Space::GuildChannels,
        Space::ThreadParents,
        Space::Messages,
        Space::ChannelMessages,
        Space::ChannelCounts,
        Space::GuildMessageChannels,
        Space::Users,
        Space::Members,
        Space::UserGuilds,
        Space::Roles,
        Space::GuildRoles,
        Space::Emojis,
        Space::GuildEmojis,
        Space::Stickers,
        Space::GuildStickers,
        Space::VoiceStates,
        Space::Presences,
        Space::StageInstances,
        Space::GuildStageInstances,
        Space::ScheduledEvents,
        Space::GuildScheduledEvents,
        Space::ThreadMembers,
    ];

    /// The spaces that hold objects (the rest are indexes, counts and metadata).
    pub const OBJECTS: [Space; 14] = [
        Space::CurrentUser,
        Space::Guilds,
        Space::Channels,
        Space::Messages,
        Space::Users,
        Space::Members,
        Space::Roles,
        Space::Emojis,
        Space::Stickers,
        Space::VoiceStates,
        Space::Presences,
        Space::StageInstances,
        Space::ScheduledEvents,
        Space::ThreadMembers,
    ];

    /// The table or tree name.
    pub fn name(self) -> &'static str {
        match self {
            Space::Meta => "meta",
            Space::Hooks => "hooks",
            Space::CurrentUser => "current_user",
            Space::Guilds => "guilds",
            Space::Channels => "channels",
            Space::GuildChannels => "guild_channels",
            Space::ThreadParents => "thread_parents",
            Space::Messages => "messages",
            Space::ChannelMessages => "channel_messages",
            Space::ChannelCounts => "channel_counts",
            Space::GuildMessageChannels => "guild_message_channels",
            Space::Users => "users",
            Space::Members => "members",
            Space::UserGuilds => "user_guilds",
            Space::Roles => "roles",
            Space::GuildRoles => "guild_roles",
            Space::Emojis => "emojis",
            Space::GuildEmojis => "guild_emojis",
            Space::Stickers => "stickers",
            Space::GuildStickers => "guild_stickers",
            Space::VoiceStates => "voice_states",
            Space::Presences => "presences",
            Space::StageInstances => "stage_instances",
            Space::GuildStageInstances => "guild_stage_instances",
            Space::ScheduledEvents => "scheduled_events",
            Space::GuildScheduledEvents => "guild_scheduled_events",
            Space::ThreadMembers => "thread_members",
        }
    }
}
