//! Coalescing: repeated writes of one object in a batch become one.

use std::collections::BTreeSet;

use crate::entity::{EntityKey, Record};
use crate::{ChannelId, Mutation};

/// Builds the writer's batch: mutations in arrival order, repeated writes
/// of one object folded together.
#[derive(Debug, Default)]
pub(crate) struct Coalescer {
    pub batch: Vec<Mutation>,
    // Invariant: index[k] is the position in `batch` of the last single-object
    // mutation of k, and no multi-object mutation comes after it.
    index: rustc_hash::FxHashMap<EntityKey, usize>,
    /// How many mutations were folded into an earlier one.
    pub coalesced: u64,
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
            patch.apply_in_place(record).map_err(Mutation::Patch)
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

impl Coalescer {
    /// Adds a mutation at the end of the batch, folding it into an earlier
    /// write of the same object where that gives the same result.
    pub fn push(&mut self, mutation: Mutation) {
        let Some(key) = mutation.object_key() else {
            // Touches many objects: later writes must not move before it.
            self.index.clear();
            self.batch.push(mutation);
            return;
        };
        let leftover = match self.index.get(&key) {
            Some(&at) => match coalesce(&mut self.batch[at], mutation) {
                Ok(()) => {
                    self.coalesced += 1;
                    return;
                }
                Err(leftover) => leftover,
            },
            None => mutation,
        };
        self.index.insert(key, self.batch.len());
        self.batch.push(leftover);
    }

    /// The batch, with the per-channel cap appended for every channel that
    /// gained messages.
    pub fn finish(mut self, message_cap: Option<u32>) -> Vec<Mutation> {
        if let Some(keep) = message_cap {
            let channels: BTreeSet<ChannelId> = self
                .batch
                .iter()
                .flat_map(|m| match m {
                    Mutation::UpsertMany(records) => records
                        .iter()
                        .filter_map(|r| match r {
                            Record::Message(m) => Some(m.channel_id),
                            _ => None,
                        })
                        .collect(),
                    m if adds_messages(m) => m.channel_id().into_iter().collect(),
                    _ => Vec::new(),
                })
                .collect();
            self.batch.extend(
                channels
                    .into_iter()
                    .map(|channel_id| Mutation::TrimChannelMessages { channel_id, keep }),
            );
        }
        self.batch
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
        let mut p = Coalescer::default();
        p.push(message(1, "a"));
        p.push(message(2, "b"));
        p.push(message(1, "c"));
        let patch = Patch::message(
            ChannelId::new(1),
            MessageId::new(1),
            json!({"pinned": true}),
        )
        .unwrap();
        p.push(Mutation::Patch(patch));
        let reaction = Mutation::AddReaction(crate::ReactionChange {
            channel_id: ChannelId::new(1),
            message_id: MessageId::new(1),
            guild_id: None,
            user_id: UserId::new(5),
            emoji: ReactionEmoji::unicode("x"),
            burst: false,
            by_current_user: false,
        });
        p.push(reaction);
        assert_eq!(p.batch.len(), 2);
        assert_eq!(p.coalesced, 3);
        let Mutation::Upsert(record) = &p.batch[0] else {
            panic!()
        };
        let Record::Message(m) = &**record else {
            panic!()
        };
        assert_eq!(
            (m.content.as_str(), m.pinned, m.reactions.len()),
            ("c", true, 1)
        );
    }

    #[test]
    fn multi_object_mutations_are_barriers() {
        let mut p = Coalescer::default();
        let member = |roles: Vec<u64>| {
            Mutation::upsert(Member {
                guild_id: GuildId::new(1),
                user_id: UserId::new(2),
                roles: roles.into_iter().map(crate::RoleId::new).collect(),
                ..Default::default()
            })
        };
        p.push(member(vec![]));
        p.push(Mutation::Delete(EntityKey::Role(crate::RoleId::new(9))));
        // Must stay after the role delete, or the delete would strip role 9.
        p.push(member(vec![9]));
        assert_eq!(p.batch.len(), 3);
    }

    #[test]
    fn take_appends_the_channel_cap() {
        let mut p = Coalescer::default();
        p.push(message(1, "a"));
        let batch = p.finish(Some(10));
        assert_eq!(
            batch.last(),
            Some(&Mutation::TrimChannelMessages {
                channel_id: ChannelId::new(1),
                keep: 10
            })
        );
    }
}
