//! The queue of mutations not yet committed, with coalescing.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crate::entity::{EntityKey, Record};
use crate::{ChannelId, Mutation};

/// Everything enqueued but not yet durable.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Mutations waiting for the next batch, in order.
    pub open: Vec<Mutation>,
    // Invariant: index[k] is the position in `open` of the last single-object
    // mutation of k, and no multi-object mutation comes after it.
    index: HashMap<EntityKey, usize>,
    /// When the oldest mutation in `open` arrived.
    pub open_since: Option<Instant>,
    /// The batch being committed, if any.
    pub in_flight: Option<Arc<Vec<Mutation>>>,
    /// Mutations accepted so far (a sequence number).
    pub enqueued: u64,
    /// `enqueued` as of the last batch taken.
    pub taken: u64,
    /// A `flush()` is waiting: commit now rather than after the delay.
    pub flush_requested: bool,
    /// `shutdown()` was called.
    pub closed: bool,
}

/// Folds `next` into `slot` (an earlier write of the same object) if the
/// result is the same as applying both in order; gives `next` back otherwise.
fn coalesce(slot: &mut Mutation, next: Mutation) -> Result<(), Mutation> {
    match (slot, next) {
        (slot, next @ (Mutation::Upsert(_) | Mutation::Delete(_))) => {
            *slot = next;
            Ok(())
        }
        (Mutation::Upsert(record), Mutation::Patch(patch)) => {
            match patch.apply_record(Some((**record).clone())) {
                Ok(merged) => {
                    **record = merged;
                    Ok(())
                }
                Err(_) => Err(Mutation::Patch(patch)),
            }
        }
        (Mutation::Patch(earlier), Mutation::Patch(later)) => {
            earlier.merge(later);
            Ok(())
        }
        (Mutation::Upsert(record), next) => {
            if let (
                Record::ScheduledEvent(event),
                Mutation::CountScheduledEventUser { added, .. },
            ) = (&mut **record, &next)
            {
                event.count_user(*added);
                return Ok(());
            }
            let Record::Message(message) = &mut **record else {
                return Err(next);
            };
            match &next {
                Mutation::AddReaction(r) => {
                    message.add_reaction(&r.emoji, r.burst, r.by_current_user)
                }
                Mutation::RemoveReaction(r) => {
                    message.remove_reaction(&r.emoji, r.burst, r.by_current_user)
                }
                Mutation::RemoveAllReactions { .. } => message.reactions.clear(),
                Mutation::RemoveEmojiReactions { emoji, .. } => {
                    message.remove_emoji_reactions(emoji)
                }
                _ => return Err(next),
            }
            Ok(())
        }
        (_, next) => Err(next),
    }
}

/// Whether a mutation can add a message to a channel (so the cap applies).
fn adds_messages(mutation: &Mutation) -> bool {
    match mutation {
        Mutation::Upsert(record) => matches!(**record, Record::Message(_)),
        Mutation::Patch(patch) => matches!(patch.key(), EntityKey::Message(_)),
        _ => false,
    }
}

impl Pending {
    /// Queues a mutation; returns whether it was folded into a queued one.
    pub fn push(&mut self, mutation: Mutation, now: Instant) -> bool {
        self.enqueued += 1;
        let Some(key) = mutation.object_key() else {
            // Touches many objects: later writes must not move before it.
            self.index.clear();
            self.append(mutation, now);
            return false;
        };
        let leftover = match self.index.get(&key) {
            Some(&at) => match coalesce(&mut self.open[at], mutation) {
                Ok(()) => return true,
                Err(leftover) => leftover,
            },
            None => mutation,
        };
        self.index.insert(key, self.open.len());
        self.append(leftover, now);
        false
    }

    fn append(&mut self, mutation: Mutation, now: Instant) {
        if self.open.is_empty() {
            self.open_since = Some(now);
        }
        self.open.push(mutation);
    }

    /// Takes everything open as the next batch, with the per-channel cap
    /// appended for every channel that gained messages.
    pub fn take(&mut self, message_cap: Option<u32>) -> (Arc<Vec<Mutation>>, usize) {
        let mut batch = std::mem::take(&mut self.open);
        let slots = batch.len();
        self.index.clear();
        self.open_since = None;
        self.taken = self.enqueued;
        if let Some(keep) = message_cap {
            let channels: BTreeSet<ChannelId> = batch
                .iter()
                .filter(|m| adds_messages(m))
                .filter_map(Mutation::channel_id)
                .chain(batch.iter().flat_map(|m| {
                    match m {
                        Mutation::UpsertMany(records) => records
                            .iter()
                            .filter_map(|r| match r {
                                Record::Message(m) => Some(m.channel_id),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    }
                }))
                .collect();
            batch.extend(
                channels
                    .into_iter()
                    .map(|channel_id| Mutation::TrimChannelMessages { channel_id, keep }),
            );
        }
        let batch = Arc::new(batch);
        self.in_flight = Some(Arc::clone(&batch));
        (batch, slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Member, Message};
    use crate::{GuildId, MessageId, Patch, ReactionEmoji, UserId};
    use serde_json::json;

    fn message(id: u64, content: &str) -> Mutation {
        Mutation::upsert(Message {
            id: MessageId::new(id),
            channel_id: ChannelId::new(1),
            content: content.into(),
            ..Default::default()
        })
    }

    #[test]
    fn repeated_writes_to_one_object_coalesce() {
        let now = Instant::now();
        let mut p = Pending::default();
        assert!(!p.push(message(1, "a"), now));
        assert!(!p.push(message(2, "b"), now));
        assert!(p.push(message(1, "c"), now));
        let patch = Patch::message(
            ChannelId::new(1),
            MessageId::new(1),
            json!({"pinned": true}),
        )
        .unwrap();
        assert!(p.push(Mutation::Patch(patch), now));
        let reaction = Mutation::AddReaction(crate::ReactionChange {
            channel_id: ChannelId::new(1),
            message_id: MessageId::new(1),
            guild_id: None,
            user_id: UserId::new(5),
            emoji: ReactionEmoji::unicode("x"),
            burst: false,
            by_current_user: false,
        });
        assert!(p.push(reaction, now));
        assert_eq!(p.open.len(), 2);
        let Mutation::Upsert(record) = &p.open[0] else {
            panic!()
        };
        let Record::Message(m) = &**record else {
            panic!()
        };
        assert_eq!(
            (m.content.as_str(), m.pinned, m.reactions.len()),
            ("c", true, 1)
        );
        assert_eq!(p.enqueued, 5);
    }

    #[test]
    fn multi_object_mutations_are_barriers() {
        let now = Instant::now();
        let mut p = Pending::default();
        let member = |roles: Vec<u64>| {
            Mutation::upsert(Member {
                guild_id: GuildId::new(1),
                user_id: UserId::new(2),
                roles: roles.into_iter().map(crate::RoleId::new).collect(),
                ..Default::default()
            })
        };
        p.push(member(vec![]), now);
        p.push(
            Mutation::Delete(EntityKey::Role(crate::RoleId::new(9))),
            now,
        );
        // Must stay after the role delete, or the delete would strip role 9.
        assert!(!p.push(member(vec![9]), now));
        assert_eq!(p.open.len(), 3);
    }

    #[test]
    fn take_appends_the_channel_cap() {
        let now = Instant::now();
        let mut p = Pending::default();
        p.push(message(1, "a"), now);
        let (batch, slots) = p.take(Some(10));
        assert_eq!(slots, 1);
        assert_eq!(
            batch.last(),
            Some(&Mutation::TrimChannelMessages {
                channel_id: ChannelId::new(1),
                keep: 10
            })
        );
        assert!(p.open.is_empty() && p.in_flight.is_some());
    }
}
