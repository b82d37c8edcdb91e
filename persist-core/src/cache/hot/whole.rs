//! What the hot tier knows it holds all of: a guild's objects of one kind
//! ([`Whole`]) and the newest messages of a channel ([`Window`]). Only these
//! let it answer a list read, or say an object is absent, without the store.

use std::ops::Bound;

use crate::entity::{EntityKey, Record};
use crate::memory_store::ChannelMessages;
use crate::{ChannelId, GuildId, MessageId, MessagePage, Query};

/// A set of objects the hot tier holds every one of (as the store and the
/// queue have them together).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(in crate::cache) enum Whole {
    /// A guild's channels and threads.
    Channels(GuildId),
    Roles(GuildId),
    Emojis(GuildId),
    Stickers(GuildId),
    VoiceStates(GuildId),
    Presences(GuildId),
    StageInstances(GuildId),
    ScheduledEvents(GuildId),
    Members(GuildId),
    ThreadMembers(ChannelId),
}

impl Whole {
    /// The set a list query reads, if the hot tier can hold it whole.
    pub(in crate::cache) fn read_by(query: &Query) -> Option<Self> {
        Some(match *query {
            Query::GuildChannels(g) | Query::GuildThreads(g) => Self::Channels(g),
            Query::GuildRoles(g) => Self::Roles(g),
            Query::GuildEmojis(g) => Self::Emojis(g),
            Query::GuildStickers(g) => Self::Stickers(g),
            Query::GuildVoiceStates(g) => Self::VoiceStates(g),
            Query::GuildPresences(g) => Self::Presences(g),
            Query::GuildStageInstances(g) => Self::StageInstances(g),
            Query::GuildScheduledEvents(g) => Self::ScheduledEvents(g),
            Query::GuildMembers { guild_id, .. } => Self::Members(guild_id),
            Query::ThreadMembers(t) => Self::ThreadMembers(t),
            _ => return None,
        })
    }

    /// The store reads that load the set whole.
    pub(in crate::cache) fn loads(self) -> Vec<Query> {
        match self {
            Self::Channels(g) => vec![Query::GuildChannels(g), Query::GuildThreads(g)],
            Self::Roles(g) => vec![Query::GuildRoles(g)],
            Self::Emojis(g) => vec![Query::GuildEmojis(g)],
            Self::Stickers(g) => vec![Query::GuildStickers(g)],
            Self::VoiceStates(g) => vec![Query::GuildVoiceStates(g)],
            Self::Presences(g) => vec![Query::GuildPresences(g)],
            Self::StageInstances(g) => vec![Query::GuildStageInstances(g)],
            Self::ScheduledEvents(g) => vec![Query::GuildScheduledEvents(g)],
            // A guild's members are held whole only when one page had them all.
            Self::Members(g) => vec![Query::GuildMembers {
                guild_id: g,
                after: None,
                limit: MEMBERS_LOADED_WHOLE,
            }],
            Self::ThreadMembers(t) => vec![Query::ThreadMembers(t)],
        }
    }

    /// The set a record belongs to, if it belongs to one.
    pub(super) fn of_record(record: &Record) -> Option<Self> {
        Some(match record {
            Record::Channel(c) => Self::Channels(c.guild_id?),
            Record::Role(r) => Self::Roles(r.guild_id),
            Record::Emoji(e) => Self::Emojis(e.guild_id),
            Record::Sticker(s) => Self::Stickers(s.guild_id?),
            Record::VoiceState(v) => Self::VoiceStates(v.guild_id),
            Record::Presence(p) => Self::Presences(p.guild_id),
            Record::StageInstance(s) => Self::StageInstances(s.guild_id),
            Record::ScheduledEvent(e) => Self::ScheduledEvents(e.guild_id),
            Record::Member(m) => Self::Members(m.guild_id),
            Record::ThreadMember(m) => Self::ThreadMembers(m.thread_id),
            _ => return None,
        })
    }

    /// The set a key belongs to, when the key alone names it: if that set
    /// is held whole, a key missing from it is absent.
    pub(super) fn of_key(key: &EntityKey) -> Option<Self> {
        Some(match *key {
            EntityKey::Member(g, _) => Self::Members(g),
            EntityKey::VoiceState(g, _) => Self::VoiceStates(g),
            EntityKey::Presence(g, _) => Self::Presences(g),
            EntityKey::ThreadMember(t, _) => Self::ThreadMembers(t),
            _ => return None,
        })
    }
}

/// A guild with at most this many members is held whole once its first
/// page is read (a page this long that comes back shorter is all of them).
pub(super) const MEMBERS_LOADED_WHOLE: usize = 1_000;

/// The newest messages of a channel, held in the hot tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Window {
    /// Every message of the channel with an id at or above this one is
    /// held; `None`: every message of the channel is.
    // Invariant: no message below `bottom` is held.
    pub(super) bottom: Option<MessageId>,
}

impl Window {
    /// Whether a message with this id belongs in the window.
    pub(super) fn covers(&self, id: MessageId) -> bool {
        self.bottom.is_none_or(|bottom| id >= bottom)
    }

    /// Whether the held messages `ids` answer a page read exactly as the
    /// store (with the queue applied) would.
    pub(super) fn answers(&self, ids: &ChannelMessages, page: MessagePage, limit: usize) -> bool {
        let Some(bottom) = self.bottom else {
            return true;
        };
        // Every held id is at or above `bottom`; an answer reaching below it
        // needs messages that are not held.
        let held_up_to =
            |end: Bound<MessageId>| ids.range((Bound::Unbounded, end)).take(limit).count();
        match page {
            MessagePage::Latest => ids.len() >= limit,
            MessagePage::Before(id) => held_up_to(Bound::Excluded(id)) >= limit,
            MessagePage::After(id) => id >= bottom,
            MessagePage::Around(id) => {
                let newer = limit / 2;
                (newer == 0 || id >= bottom) && held_up_to(Bound::Included(id)) >= limit - newer
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::Range<u64>) -> ChannelMessages {
        range
            .map(|id| (MessageId::new(id), std::sync::Arc::default()))
            .collect()
    }

    #[test]
    fn a_whole_channel_answers_every_page() {
        let window = Window { bottom: None };
        let held = ids(10..12);
        for page in [
            MessagePage::Latest,
            MessagePage::Before(MessageId::new(5)),
            MessagePage::After(MessageId::new(1)),
            MessagePage::Around(MessageId::new(3)),
        ] {
            assert!(window.answers(&held, page, 50));
        }
    }

    #[test]
    fn a_window_answers_only_pages_inside_it() {
        let window = Window {
            bottom: Some(MessageId::new(10)),
        };
        let held = ids(10..20);
        assert!(window.answers(&held, MessagePage::Latest, 10));
        assert!(!window.answers(&held, MessagePage::Latest, 11));
        assert!(window.answers(&held, MessagePage::Before(MessageId::new(15)), 5));
        assert!(!window.answers(&held, MessagePage::Before(MessageId::new(15)), 6));
        assert!(window.answers(&held, MessagePage::After(MessageId::new(10)), 50));
        assert!(!window.answers(&held, MessagePage::After(MessageId::new(9)), 50));
        assert!(window.answers(&held, MessagePage::Around(MessageId::new(14)), 10));
        assert!(!window.answers(&held, MessagePage::Around(MessageId::new(13)), 10));
        assert!(!window.answers(&held, MessagePage::Around(MessageId::new(9)), 2));
        assert!(window.covers(MessageId::new(10)) && !window.covers(MessageId::new(9)));
    }
}
