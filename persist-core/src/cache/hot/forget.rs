//! Forgetting what the store will not have (a shed or rejected mutation)
//! and what a cascade reaches past what the hot tier can list.

use crate::entity::{EntityKey, Record};
use crate::{GuildId, Mutation, RoleId};

use super::super::relevance::relevant_part;
use super::{HotTier, Whole};

/// Which held objects a cascade may remove that the hot tier cannot list.
#[derive(Debug)]
pub(super) enum Reach {
    /// None: it lists everything the cascade reaches.
    Exact,
    /// Anything of these guilds.
    Guilds(Vec<GuildId>),
    /// Anything.
    Unknown,
}

impl HotTier {
    /// How far a cascade reaches past what the hot tier can list exactly:
    /// a cascade from a parent it does not hold whole (a guild's channels,
    /// roles, or guilds themselves) can remove held objects it cannot find.
    pub(super) fn cascade_reach(&self, mutation: &Mutation) -> Reach {
        let whole_or_guild = |whole: Whole, guild: GuildId| {
            if self.wholes.contains(&whole) {
                Reach::Exact
            } else {
                Reach::Guilds(vec![guild])
            }
        };
        match *mutation {
            Mutation::Delete(EntityKey::Guild(g))
            | Mutation::RetainGuildChannels { guild_id: g, .. } => {
                whole_or_guild(Whole::Channels(g), g)
            }
            Mutation::RetainGuildRoles { guild_id: g, .. } => whole_or_guild(Whole::Roles(g), g),
            Mutation::Delete(EntityKey::Channel(c)) => {
                match self.objects.get(&EntityKey::Channel(c)) {
                    Some(Record::Channel(channel)) => match channel.guild_id {
                        Some(g) => whole_or_guild(Whole::Channels(g), g),
                        None => Reach::Exact,
                    },
                    _ => Reach::Unknown,
                }
            }
            Mutation::RetainShardGuilds {
                shard_id,
                shard_count,
                ref keep,
            } => Reach::Guilds(
                self.tally
                    .guilds()
                    .filter(|g| crate::shard_of(*g, shard_count) == shard_id && !keep.contains(g))
                    .collect(),
            ),
            _ => Reach::Exact,
        }
    }

    /// Forgets the held members that have a role.
    pub(super) fn forget_members_with_role(&mut self, role: RoleId) {
        let keys: Vec<EntityKey> = self
            .held
            .keys()
            .filter(|key| {
                matches!(key, EntityKey::Member(..))
                    && matches!(self.objects.get(key), Some(Record::Member(m)) if m.roles.contains(&role))
            })
            .copied()
            .collect();
        if keys.is_empty() {
            return;
        }
        self.spoil_loads();
        for key in keys {
            if let Some(whole) = Whole::of_key(&key) {
                self.wholes.remove(&whole);
            }
            self.remove(&key);
        }
    }

    /// Forgets everything held of a guild (and every thread member, whose
    /// guild is not known), and the sets of it held whole.
    pub(super) fn forget_guild(&mut self, guild: GuildId) {
        self.spoil_loads();
        let keys: Vec<EntityKey> = self
            .held
            .iter()
            .filter(|(key, held)| {
                held.guild == Some(guild) || matches!(key, EntityKey::ThreadMember(..))
            })
            .map(|(key, _)| *key)
            .collect();
        for key in keys {
            if let EntityKey::Message(id) = key
                && let Some(m) = self.objects.shared_message(id)
            {
                self.drop_window(m.channel_id);
            }
            self.remove(&key);
        }
        self.wholes.retain(|whole| match *whole {
            Whole::Channels(g)
            | Whole::Roles(g)
            | Whole::Emojis(g)
            | Whole::Stickers(g)
            | Whole::VoiceStates(g)
            | Whole::Presences(g)
            | Whole::StageInstances(g)
            | Whole::ScheduledEvents(g)
            | Whole::Members(g) => g != guild,
            Whole::ThreadMembers(_) => false,
        });
    }

    /// Forgets what a mutation that will never reach the store (shed or
    /// rejected) changed here, so the hot tier again agrees with the store.
    pub(in crate::cache) fn forget(&mut self, mutation: &Mutation) {
        for load in &mut self.loads {
            load.spoiled |= load
                .queries
                .iter()
                .any(|q| relevant_part(mutation, q).is_some());
        }
        let records: Vec<&Record> = match mutation {
            Mutation::Upsert(record) => vec![record],
            Mutation::UpsertMany(records) => records.iter().collect(),
            Mutation::Patch(_)
            | Mutation::AddReaction(_)
            | Mutation::RemoveReaction(_)
            | Mutation::RemoveAllReactions { .. }
            | Mutation::RemoveEmojiReactions { .. }
            | Mutation::CountScheduledEventUser { .. } => {
                if let Some(key) = mutation.object_key()
                    && let Some(record) = self.objects.get(&key)
                {
                    self.forget_record(&record);
                }
                return;
            }
            // Removals and cascades: what they removed is not known here.
            _ => {
                self.clear();
                return;
            }
        };
        for record in records {
            self.forget_record(record);
        }
    }

    pub(super) fn forget_record(&mut self, record: &Record) {
        self.unwhole(record);
        self.remove(&record.key());
    }

    pub(super) fn spoil_loads(&mut self) {
        for load in &mut self.loads {
            load.spoiled = true;
        }
    }

    /// Forgets everything but the pins.
    pub(super) fn clear(&mut self) {
        self.spoil_loads();
        *self = Self {
            pins: std::mem::take(&mut self.pins),
            loads: std::mem::take(&mut self.loads),
            next_load: self.next_load,
            bot_user: self.bot_user,
            tally: self.tally.emptied(),
            ..Self::new(self.pinned_kinds, self.window_size)
        };
    }
}
