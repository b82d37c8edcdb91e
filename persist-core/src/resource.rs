//! Which kinds of object a cache keeps: one flag per kind.

use bitflags::bitflags;

bitflags! {
    /// A set of resource kinds; a single flag names one kind.
    ///
    /// The default set is everything but presences, which are by far the
    /// noisiest kind and rarely read back.
    ///
    /// ```
    /// use persist_core::ResourceKind;
    /// let kinds = ResourceKind::default();
    /// assert!(kinds.contains(ResourceKind::MESSAGES));
    /// assert!(!kinds.contains(ResourceKind::PRESENCES));
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    pub struct ResourceKind: u32 {
        /// Guilds themselves.
        const GUILDS = 1 << 0;
        /// Guild channels of every kind (text, voice, category, announcement, stage, forum, media) and DM channels.
        const CHANNELS = 1 << 1;
        /// Threads (public, private, announcement threads).
        const THREADS = 1 << 2;
        /// Members of threads.
        const THREAD_MEMBERS = 1 << 3;
        /// Messages.
        const MESSAGES = 1 << 4;
        /// Reactions on cached messages.
        const REACTIONS = 1 << 5;
        /// Guild members.
        const MEMBERS = 1 << 6;
        /// Users.
        const USERS = 1 << 7;
        /// Roles.
        const ROLES = 1 << 8;
        /// Custom emojis.
        const EMOJIS = 1 << 9;
        /// Stickers.
        const STICKERS = 1 << 10;
        /// Voice states.
        const VOICE_STATES = 1 << 11;
        /// Presences (off by default).
        const PRESENCES = 1 << 12;
        /// Stage instances.
        const STAGE_INSTANCES = 1 << 13;
        /// Guild scheduled events.
        const SCHEDULED_EVENTS = 1 << 14;
        /// The bot's own user.
        const CURRENT_USER = 1 << 15;
    }
}

impl Default for ResourceKind {
    fn default() -> Self {
        Self::all().difference(Self::PRESENCES)
    }
}
