//! Messages held in memory, by id and by channel. Each message is shared
//! (`Arc`) between the two maps and with readers, so a page read from memory
//! is one ordered scan of its channel and copies no message.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use crate::model::Message;
use crate::{ChannelId, MessageId, MessagePage};

/// One channel's messages, ascending by id.
pub(crate) type ChannelMessages = BTreeMap<MessageId, Arc<Message>>;

/// Messages by id and by channel.
#[derive(Clone, Debug, Default)]
pub(crate) struct Messages {
    by_id: BTreeMap<MessageId, Arc<Message>>,
    // Invariant: by_channel[c] holds exactly the messages of by_id whose
    // channel is c (the same `Arc`s); no empty maps.
    by_channel: BTreeMap<ChannelId, ChannelMessages>,
}

impl Messages {
    /// Stores a message, replacing the one with its id.
    pub(crate) fn insert(&mut self, message: Message) {
        let message = Arc::new(message);
        let (id, channel) = (message.id, message.channel_id);
        if let Some(old) = self.by_id.insert(id, Arc::clone(&message))
            && old.channel_id != channel
        {
            self.unindex(old.channel_id, id);
        }
        self.by_channel
            .entry(channel)
            .or_default()
            .insert(id, message);
    }

    fn unindex(&mut self, channel: ChannelId, id: MessageId) {
        if let Some(messages) = self.by_channel.get_mut(&channel) {
            messages.remove(&id);
            if messages.is_empty() {
                self.by_channel.remove(&channel);
            }
        }
    }

    pub(crate) fn get(&self, id: &MessageId) -> Option<&Arc<Message>> {
        self.by_id.get(id)
    }

    pub(crate) fn remove(&mut self, id: &MessageId) -> Option<Arc<Message>> {
        let message = self.by_id.remove(id)?;
        self.unindex(message.channel_id, *id);
        Some(message)
    }

    /// A channel's messages, ascending by id.
    pub(crate) fn in_channel(&self, channel: &ChannelId) -> Option<&ChannelMessages> {
        self.by_channel.get(channel)
    }

    /// The ids of a channel's messages, ascending.
    pub(crate) fn ids_in(&self, channel: &ChannelId) -> Vec<MessageId> {
        self.in_channel(channel)
            .map(|messages| messages.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Every message, ascending by id.
    pub(crate) fn all(&self) -> impl DoubleEndedIterator<Item = (&MessageId, &Arc<Message>)> {
        self.by_id.iter()
    }

    /// The messages older than `before`, ascending by id.
    pub(crate) fn older_than(&self, before: MessageId) -> impl Iterator<Item = &MessageId> {
        self.by_id.range(..before).map(|(id, _)| id)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// A page of a channel's messages, newest first.
    pub(crate) fn page(
        &self,
        channel: ChannelId,
        page: MessagePage,
        limit: usize,
    ) -> Vec<Arc<Message>> {
        let Some(messages) = self.by_channel.get(&channel) else {
            return Vec::new();
        };
        let shared = |(_, m): (&MessageId, &Arc<Message>)| Arc::clone(m);
        match page {
            MessagePage::Latest => messages.iter().rev().take(limit).map(shared).collect(),
            MessagePage::Before(before) => messages
                .range(..before)
                .rev()
                .take(limit)
                .map(shared)
                .collect(),
            MessagePage::After(after) => {
                let mut page: Vec<Arc<Message>> = messages
                    .range((Bound::Excluded(after), Bound::Unbounded))
                    .take(limit)
                    .map(shared)
                    .collect();
                page.reverse();
                page
            }
            MessagePage::Around(around) => {
                let newer = limit / 2;
                let mut page: Vec<Arc<Message>> = messages
                    .range((Bound::Excluded(around), Bound::Unbounded))
                    .take(newer)
                    .map(shared)
                    .collect();
                page.reverse();
                let older = limit - newer;
                page.extend(messages.range(..=around).rev().take(older).map(shared));
                page
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: u64, channel: u64) -> Message {
        Message {
            id: MessageId::new(id),
            channel_id: ChannelId::new(channel),
            ..Default::default()
        }
    }

    #[test]
    fn a_message_moved_to_another_channel_leaves_the_first() {
        let mut messages = Messages::default();
        messages.insert(message(1, 10));
        messages.insert(message(2, 10));
        messages.insert(message(1, 20));
        assert_eq!(
            messages.ids_in(&ChannelId::new(10)),
            vec![MessageId::new(2)]
        );
        assert_eq!(
            messages.ids_in(&ChannelId::new(20)),
            vec![MessageId::new(1)]
        );
        messages.remove(&MessageId::new(2));
        assert!(messages.in_channel(&ChannelId::new(10)).is_none());
        assert_eq!(messages.len(), 1);
    }

    #[test]
    fn pages_are_newest_first() {
        let mut messages = Messages::default();
        for id in 1..=9 {
            messages.insert(message(id, 10));
        }
        let ids = |page, limit| -> Vec<u64> {
            messages
                .page(ChannelId::new(10), page, limit)
                .iter()
                .map(|m| m.id.get())
                .collect()
        };
        assert_eq!(ids(MessagePage::Latest, 3), [9, 8, 7]);
        assert_eq!(ids(MessagePage::Before(MessageId::new(5)), 2), [4, 3]);
        assert_eq!(ids(MessagePage::After(MessageId::new(5)), 2), [7, 6]);
        assert_eq!(ids(MessagePage::Around(MessageId::new(5)), 4), [7, 6, 5, 4]);
    }
}
