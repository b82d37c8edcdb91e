//! Rulesets: what is cached, for which guilds, how long, how many messages per
//! channel and which fields. Rules are applied before anything is queued.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::entity::{EntityKey, Record};
use crate::model::Message;
use crate::{ConfigError, GuildId, MessageId, Mutation, ResourceKind};

/// Whether message content is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContentMode {
    /// Keep everything.
    #[default]
    Keep,
    /// Keep message metadata (ids, author, timestamps, reactions, flags, ...)
    /// but drop content, embeds, attachments, polls, forwarded snapshots and
    /// the content of replied-to messages.
    Off,
}

/// Fields of a message that content-off mode drops.
const CONTENT_FIELDS: &[&str] = &[
    "content",
    "embeds",
    "attachments",
    "poll",
    "message_snapshots",
    "referenced_message",
];

type GuildPredicate = Arc<dyn Fn(GuildId) -> bool + Send + Sync>;

/// What a cache keeps. Build one with [`Ruleset::builder`]; the default keeps
/// everything but presences, at most 1,000 messages per channel, forever.
///
/// ```
/// use std::time::Duration;
/// use persist_core::{Ruleset, ResourceKind, ContentMode, GuildId};
/// let rules = Ruleset::builder()
///     .resources(ResourceKind::default() | ResourceKind::PRESENCES)
///     .deny_guild(GuildId::new(13))
///     .message_cap(200)
///     .message_max_age(Duration::from_secs(7 * 24 * 3600))
///     .content(ContentMode::Off)
///     .build()
///     .unwrap();
/// assert!(!rules.allows_guild(GuildId::new(13)));
/// ```
#[derive(Clone)]
pub struct Ruleset {
    resources: ResourceKind,
    allow: Option<BTreeSet<GuildId>>,
    deny: BTreeSet<GuildId>,
    predicate: Option<GuildPredicate>,
    message_cap: u32,
    message_max_age: Option<Duration>,
    content: ContentMode,
}

impl fmt::Debug for Ruleset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ruleset")
            .field("resources", &self.resources)
            .field("allow", &self.allow)
            .field("deny", &self.deny)
            .field("predicate", &self.predicate.is_some())
            .field("message_cap", &self.message_cap)
            .field("message_max_age", &self.message_max_age)
            .field("content", &self.content)
            .finish()
    }
}

impl Default for Ruleset {
    fn default() -> Self {
        Self {
            resources: ResourceKind::default(),
            allow: None,
            deny: BTreeSet::new(),
            predicate: None,
            message_cap: DEFAULT_MESSAGE_CAP,
            message_max_age: None,
            content: ContentMode::Keep,
        }
    }
}

/// The longest [`RulesetBuilder::message_max_age`]: 100 years.
pub const MAX_MESSAGE_AGE: Duration = Duration::from_secs(3_155_760_000);

/// Messages kept per channel unless configured otherwise.
pub const DEFAULT_MESSAGE_CAP: u32 = 1000;

impl Ruleset {
    /// Starts from the default ruleset.
    pub fn builder() -> RulesetBuilder {
        RulesetBuilder {
            rules: Self::default(),
        }
    }

    /// The resource kinds cached.
    pub fn resources(&self) -> ResourceKind {
        self.resources
    }

    /// Whether any of `kinds` is cached.
    pub fn wants(&self, kinds: ResourceKind) -> bool {
        self.resources.intersects(kinds)
    }

    /// Messages kept per channel (0 = none).
    pub fn message_cap(&self) -> u32 {
        self.message_cap
    }

    /// How long messages are kept.
    pub fn message_max_age(&self) -> Option<Duration> {
        self.message_max_age
    }

    /// The content mode.
    pub fn content(&self) -> ContentMode {
        self.content
    }

    /// Whether messages are cached at all.
    pub fn caches_messages(&self) -> bool {
        self.message_cap > 0 && self.resources.contains(ResourceKind::MESSAGES)
    }

    /// Whether objects of this guild are cached.
    pub fn allows_guild(&self, guild_id: GuildId) -> bool {
        if self.deny.contains(&guild_id) {
            return false;
        }
        if let Some(allow) = &self.allow
            && !allow.contains(&guild_id)
        {
            return false;
        }
        self.predicate.as_ref().is_none_or(|p| p(guild_id))
    }

    /// The oldest message id still within the age limit, at `now`.
    pub fn oldest_kept_message(&self, now: SystemTime) -> Option<MessageId> {
        let age = self.message_max_age?;
        Some(MessageId::first_at(
            now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH),
        ))
    }

    fn allows_scope(&self, guild_id: Option<GuildId>) -> bool {
        guild_id.is_none_or(|g| self.allows_guild(g))
    }

    /// Applies the rules to one mutation: `None` when nothing of it is
    /// cached, otherwise the mutation with what the rules drop removed.
    /// Deletes always pass, so data cached under older rules can still go.
    pub fn filter(&self, mutation: Mutation, now: SystemTime) -> Option<Mutation> {
        match mutation {
            // Records are trimmed in place: no unboxing and reboxing.
            Mutation::Upsert(mut record) => self
                .keep_record(&mut record, now)
                .then_some(Mutation::Upsert(record)),
            Mutation::UpsertMany(mut records) => {
                records.retain_mut(|r| self.keep_record(r, now));
                (!records.is_empty()).then_some(Mutation::UpsertMany(records))
            }
            Mutation::Patch(mut patch) => {
                let key = patch.key();
                if !self.wants(key.kind()) || !self.allows_scope(patch.guild_id()) {
                    return None;
                }
                if let EntityKey::Message(id) = key {
                    if !self.caches_messages() || self.too_old(id, now) {
                        return None;
                    }
                    if self.content == ContentMode::Off {
                        patch.remove_fields(CONTENT_FIELDS);
                    }
                }
                Some(Mutation::Patch(patch))
            }
            Mutation::Delete(_)
            | Mutation::BulkDeleteMessages { .. }
            | Mutation::TrimChannelMessages { .. }
            | Mutation::PruneMessages { .. }
            | Mutation::RetainGuildChannels { .. }
            | Mutation::RetainGuildRoles { .. }
            | Mutation::RetainGuildMembers { .. }
            | Mutation::RetainShardGuilds { .. } => Some(mutation),
            Mutation::ReplaceGuildEmojis { guild_id, .. } => (self.wants(ResourceKind::EMOJIS)
                && self.allows_guild(guild_id))
            .then_some(mutation),
            Mutation::ReplaceGuildStickers { guild_id, .. } => (self.wants(ResourceKind::STICKERS)
                && self.allows_guild(guild_id))
            .then_some(mutation),
            Mutation::CountScheduledEventUser { guild_id, .. } => {
                (self.wants(ResourceKind::SCHEDULED_EVENTS) && self.allows_guild(guild_id))
                    .then_some(mutation)
            }
            Mutation::AddReaction(ref r) | Mutation::RemoveReaction(ref r) => {
                let keep = self.caches_messages()
                    && self.wants(ResourceKind::REACTIONS)
                    && self.allows_scope(r.guild_id);
                keep.then_some(mutation)
            }
            Mutation::RemoveAllReactions { .. } | Mutation::RemoveEmojiReactions { .. } => {
                (self.caches_messages() && self.wants(ResourceKind::REACTIONS)).then_some(mutation)
            }
        }
    }

    fn too_old(&self, id: MessageId, now: SystemTime) -> bool {
        self.oldest_kept_message(now)
            .is_some_and(|oldest| id < oldest)
    }

    /// Whether a record is cached, trimming what the rules drop from it.
    fn keep_record(&self, record: &mut Record, now: SystemTime) -> bool {
        if !self.wants(record.kind()) || !self.allows_scope(record.guild_id()) {
            return false;
        }
        if let Record::Message(message) = record {
            if !self.caches_messages() || self.too_old(message.id, now) {
                return false;
            }
            if self.content == ContentMode::Off {
                strip_content(message);
            }
            if !self.wants(ResourceKind::REACTIONS) {
                message.reactions.clear();
            }
        }
        true
    }
}

/// Drops what content-off mode does not keep, nested replies included.
fn strip_content(message: &mut Message) {
    message.content.clear();
    message.embeds.clear();
    message.attachments.clear();
    for field in CONTENT_FIELDS {
        message.extra.remove(*field);
    }
    if let Some(reply) = message.referenced_message.as_deref_mut() {
        strip_content(reply);
    }
}

/// Builds a [`Ruleset`]; [`RulesetBuilder::build`] checks it.
#[derive(Clone, Debug)]
pub struct RulesetBuilder {
    rules: Ruleset,
}

impl RulesetBuilder {
    /// The resource kinds to cache.
    pub fn resources(mut self, kinds: ResourceKind) -> Self {
        self.rules.resources = kinds;
        self
    }

    /// Caches only guilds on the allow list (can be called repeatedly).
    pub fn allow_guild(mut self, guild_id: GuildId) -> Self {
        self.rules
            .allow
            .get_or_insert_with(BTreeSet::new)
            .insert(guild_id);
        self
    }

    /// Caches only these guilds; an empty list is an error at build time.
    pub fn allow_guilds(mut self, guilds: impl IntoIterator<Item = GuildId>) -> Self {
        self.rules
            .allow
            .get_or_insert_with(BTreeSet::new)
            .extend(guilds);
        self
    }

    /// Never caches this guild.
    pub fn deny_guild(mut self, guild_id: GuildId) -> Self {
        self.rules.deny.insert(guild_id);
        self
    }

    /// Caches a guild only when the predicate says so (after allow and deny lists).
    pub fn guild_filter(
        mut self,
        predicate: impl Fn(GuildId) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.rules.predicate = Some(Arc::new(predicate));
        self
    }

    /// Messages kept per channel; 0 keeps no messages.
    pub fn message_cap(mut self, cap: u32) -> Self {
        self.rules.message_cap = cap;
        self
    }

    /// Messages older than this are not cached and are pruned.
    pub fn message_max_age(mut self, age: Duration) -> Self {
        self.rules.message_max_age = Some(age);
        self
    }

    /// Whether message content is kept.
    pub fn content(mut self, mode: ContentMode) -> Self {
        self.rules.content = mode;
        self
    }

    /// Checks the rules.
    pub fn build(self) -> Result<Ruleset, ConfigError> {
        let rules = self.rules;
        if let Some(allow) = &rules.allow {
            if allow.is_empty() {
                return Err(ConfigError::EmptyAllowList);
            }
            if let Some(both) = allow.intersection(&rules.deny).next() {
                return Err(ConfigError::GuildAllowedAndDenied(*both));
            }
        }
        if let Some(age) = rules.message_max_age {
            crate::cache::config::duration_in_range(
                "message_max_age",
                age,
                Duration::from_secs(1),
                MAX_MESSAGE_AGE,
            )?;
        }
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChannelId, Patch, UserId};

    fn message(id: u64, guild: Option<u64>) -> Message {
        Message {
            id: MessageId::new(id),
            channel_id: ChannelId::new(1),
            guild_id: guild.map(GuildId::new),
            content: "secret".into(),
            ..Default::default()
        }
    }

    #[test]
    fn invalid_rulesets_are_typed_errors() {
        let err = Ruleset::builder()
            .allow_guild(GuildId::new(1))
            .deny_guild(GuildId::new(1))
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::GuildAllowedAndDenied(GuildId::new(1)));
        let err = Ruleset::builder().allow_guilds([]).build().unwrap_err();
        assert_eq!(err, ConfigError::EmptyAllowList);
        let err = Ruleset::builder()
            .message_max_age(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::DurationOutOfRange { .. }));
    }

    #[test]
    fn guild_lists_and_predicate() {
        let rules = Ruleset::builder()
            .allow_guilds([GuildId::new(1), GuildId::new(2), GuildId::new(4)])
            .deny_guild(GuildId::new(3))
            .guild_filter(|g| g.get() != 4)
            .build()
            .unwrap();
        assert!(rules.allows_guild(GuildId::new(1)));
        assert!(!rules.allows_guild(GuildId::new(3)));
        assert!(!rules.allows_guild(GuildId::new(4)));
        assert!(!rules.allows_guild(GuildId::new(5)));
        let now = SystemTime::now();
        let dm = Mutation::upsert(message(1 << 40, None));
        assert!(
            rules.filter(dm, now).is_some(),
            "DMs have no guild to filter on"
        );
        let denied = Mutation::upsert(message(1 << 40, Some(3)));
        assert!(rules.filter(denied, now).is_none());
    }

    #[test]
    fn content_off_strips_records_and_patches() {
        let rules = Ruleset::builder()
            .content(ContentMode::Off)
            .build()
            .unwrap();
        let mut m = message(1 << 40, Some(1));
        m.referenced_message = Some(Box::new(message(1 << 39, Some(1))));
        let Some(Mutation::Upsert(kept)) = rules.filter(Mutation::upsert(m), SystemTime::now())
        else {
            panic!("message dropped");
        };
        let Record::Message(kept) = *kept else {
            panic!("not a message")
        };
        assert!(kept.content.is_empty());
        assert!(kept.referenced_message.unwrap().content.is_empty());
        let patch = Patch::message(
            ChannelId::new(1),
            MessageId::new(1 << 40),
            serde_json::json!({"content": "x", "pinned": true}),
        )
        .unwrap();
        let Some(Mutation::Patch(p)) = rules.filter(Mutation::Patch(patch), SystemTime::now())
        else {
            panic!("patch dropped");
        };
        assert!(!p.fields().contains_key("content"));
        assert!(p.fields().contains_key("pinned"));
    }

    #[test]
    fn resource_kinds_cap_zero_and_age() {
        let now = SystemTime::now();
        let rules = Ruleset::builder().message_cap(0).build().unwrap();
        assert!(
            rules
                .filter(Mutation::upsert(message(1 << 40, None)), now)
                .is_none()
        );
        let presence = Mutation::upsert(crate::model::Presence {
            guild_id: GuildId::new(1),
            user_id: UserId::new(2),
            ..Default::default()
        });
        assert!(Ruleset::default().filter(presence.clone(), now).is_none());
        let with_presences = Ruleset::builder()
            .resources(ResourceKind::all())
            .build()
            .unwrap();
        assert!(with_presences.filter(presence, now).is_some());

        let aged = Ruleset::builder()
            .message_max_age(Duration::from_secs(3600))
            .build()
            .unwrap();
        let old = MessageId::first_at(now - Duration::from_secs(7200));
        let fresh = MessageId::first_at(now - Duration::from_secs(60));
        assert!(
            aged.filter(Mutation::upsert(message(old.get(), None)), now)
                .is_none()
        );
        assert!(
            aged.filter(Mutation::upsert(message(fresh.get(), None)), now)
                .is_some()
        );
    }
}
