//! Loads: reads of the store admitted into the hot tier, with what was
//! queued while they read.

use crate::entity::Record;
use crate::{Answer, ChannelId, MessageId, MessagePage, Mutation, Query};

use super::lru::Victim;
use super::whole::{MEMBERS_LOADED_WHOLE, Window};
use super::{HeldWindow, HotTier, Pin, Whole};

/// A read of the store in progress, and the mutations queued meanwhile that
/// could change each of its queries' answers.
#[derive(Debug)]
pub(super) struct Load {
    pub(super) id: u64,
    pub(super) queries: Vec<Query>,
    pub(super) logs: Vec<Vec<Mutation>>,
    /// Something it may have read was forgotten meanwhile (shed, rejected,
    /// or cleared): what it read must not be admitted.
    pub(super) spoiled: bool,
}

/// A load's handle.
#[derive(Clone, Copy, Debug)]
pub(in crate::cache) struct LoadTicket {
    id: u64,
}

impl HotTier {
    /// Starts noting, for each query, the mutations queued from now on that
    /// could change its answer. The caller snapshots the queue while it
    /// still holds the hot tier's lock.
    pub(in crate::cache) fn begin_load(&mut self, queries: &[Query]) -> LoadTicket {
        self.next_load += 1;
        self.loads.push(Load {
            id: self.next_load,
            queries: queries.to_vec(),
            logs: vec![Vec::new(); queries.len()],
            spoiled: false,
        });
        LoadTicket { id: self.next_load }
    }

    /// Ends a load: the mutations noted for each query, or `None` if what it
    /// read must not be admitted (something held was forgotten meanwhile).
    pub(in crate::cache) fn finish_load(
        &mut self,
        ticket: LoadTicket,
    ) -> Option<Vec<Vec<Mutation>>> {
        let at = self.loads.iter().position(|l| l.id == ticket.id)?;
        let load = self.loads.swap_remove(at);
        (!load.spoiled).then_some(load.logs)
    }

    /// Admits what one load read, every query or none: the store's answers
    /// with the queued mutations applied.
    pub(in crate::cache) fn admit_all(&mut self, queries: &[Query], answers: &[Answer]) {
        for (query, answer) in queries.iter().zip(answers) {
            self.admit(query, answer);
        }
    }

    /// Admits what a read returned: objects not held yet, and the set or
    /// window the query read whole.
    pub(super) fn admit(&mut self, query: &Query, answer: &Answer) {
        match (query, answer) {
            (
                Query::ChannelMessages {
                    channel_id,
                    page: MessagePage::Latest,
                    limit,
                },
                Answer::Messages(messages),
            ) if *limit == self.window_size && self.window_size > 0 => {
                let bottom = (messages.len() >= *limit)
                    .then(|| messages.iter().map(|m| m.id).min())
                    .flatten();
                self.admit_window(*channel_id, bottom, messages.clone());
            }
            (Query::ChannelMessages { .. }, _) => {}
            (
                Query::GuildMembers {
                    after: None, limit, ..
                },
                Answer::Members(members),
            ) if *limit == MEMBERS_LOADED_WHOLE && members.len() < *limit => {
                self.admit_whole(query, answer);
            }
            (Query::GuildMembers { .. }, _) => {}
            _ if Whole::read_by(query).is_some() => self.admit_whole(query, answer),
            _ => {
                if let Some(record) = answer.clone().into_records().into_iter().next() {
                    self.put_new(record);
                }
            }
        }
    }

    /// Holds a channel's window: every message at or above `bottom` (`None`:
    /// every message of the channel), as the store and the queue have them.
    pub(in crate::cache) fn admit_window(
        &mut self,
        channel_id: ChannelId,
        bottom: Option<MessageId>,
        messages: Vec<crate::model::Message>,
    ) {
        if self.window_size == 0 || self.windows.contains_key(&channel_id) {
            return;
        }
        let tick = if self.pins.contains(&Pin::ChannelMessages(channel_id)) {
            0
        } else {
            self.lru.touch(Victim::Window(channel_id), 0)
        };
        self.windows.insert(
            channel_id,
            HeldWindow {
                window: Window { bottom },
                tick,
            },
        );
        for message in messages {
            self.put_new(Record::Message(message));
        }
    }

    /// Messages a window holds at most.
    pub(in crate::cache) fn window_size(&self) -> usize {
        self.window_size
    }

    pub(super) fn admit_whole(&mut self, query: &Query, answer: &Answer) {
        let Some(whole) = Whole::read_by(query) else {
            return;
        };
        for record in answer.clone().into_records() {
            self.put_new(record);
        }
        // Channels and threads are one set read by two queries, admitted
        // together or not at all (see `admit_all`).
        self.wholes.insert(whole);
    }

    /// Holds a record read from the store, unless a newer one is held.
    pub(super) fn put_new(&mut self, record: Record) {
        let key = record.key();
        if !self.held.contains_key(&key)
            && (self.admits(&record) || !matches!(record, Record::Message(_)))
        {
            self.put(record);
        }
    }
}
