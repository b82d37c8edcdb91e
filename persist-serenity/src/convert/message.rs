//! Messages.

use persist_core::Result;
use persist_core::model as core;
use serde_json::{Value, json};
use serenity::model as s;

use super::{ToSerenity, filled, from_extra, id, leaf, leaves, timestamps};

type S = s::channel::Message;

impl ToSerenity for core::Message {
    type Serenity = S;

    /// The message as Discord sent it, edits and reactions applied. The
    /// sender's `member` is not part of it (the store keeps members apart:
    /// read it with `Persist::member`).
    fn to_serenity(&self) -> Result<S> {
        let mut m = S::default();
        m.id = id::<S, _>(self.id.get())?;
        m.channel_id = id::<S, _>(self.channel_id.get())?;
        m.guild_id = self.guild_id.map(|g| id::<S, _>(g.get())).transpose()?;
        m.author = self.author.to_serenity()?;
        m.content.clone_from(&self.content);
        // A message stored before its create (a reaction came first) has
        // no timestamp: its id says when it was made.
        m.timestamp = match timestamps::<S>(self.timestamp)? {
            Some(at) => at,
            None => m.id.created_at(),
        };
        m.edited_timestamp = timestamps::<S>(self.edited_timestamp)?;
        m.tts = self.tts;
        m.mention_everyone = self.mention_everyone;
        m.mentions = self
            .mentions
            .iter()
            .map(ToSerenity::to_serenity)
            .collect::<Result<_>>()?;
        m.mention_roles = self
            .mention_roles
            .iter()
            .map(|r| id::<S, _>(r.get()))
            .collect::<Result<_>>()?;
        m.attachments = self
            .attachments
            .iter()
            .map(|a| {
                filled::<S, _>(
                    a,
                    &[
                        ("filename", json!("")),
                        ("size", json!(0)),
                        ("url", json!("")),
                        ("proxy_url", json!("")),
                    ],
                )
            })
            .collect::<Result<_>>()?;
        m.embeds = leaves::<S, _>(&self.embeds)?;
        m.reactions = self
            .reactions
            .iter()
            .map(|r| {
                leaf::<S, _>(&json!({
                    "count": r.count,
                    "count_details": {"burst": r.count_details.burst, "normal": r.count_details.normal},
                    "me": r.me,
                    "me_burst": r.me_burst,
                    "emoji": r.emoji,
                    "burst_colors": r.burst_colors,
                }))
            })
            .collect::<Result<_>>()?;
        m.pinned = self.pinned;
        m.webhook_id = self.webhook_id.map(|w| id::<S, _>(w.get())).transpose()?;
        m.kind = s::channel::MessageType::from(self.kind);
        m.application_id = self
            .application_id
            .map(|a| id::<S, _>(a.get()))
            .transpose()?;
        m.message_reference = self
            .message_reference
            .as_ref()
            .map(leaf::<S, _>)
            .transpose()?;
        m.flags = Some(s::channel::MessageFlags::from_bits_retain(self.flags));
        m.referenced_message = self
            .referenced_message
            .as_deref()
            .map(|r| r.to_serenity().map(Box::new))
            .transpose()?;
        m.sticker_items = self
            .sticker_items
            .iter()
            .map(|item| {
                leaf::<S, _>(&serde_json::json!({
                    "id": item.id, "name": item.name, "format_type": item.format_type,
                }))
            })
            .collect::<Result<_>>()?;
        m.components = leaves::<S, _>(&self.components)?;
        let extra = &self.extra;
        m.mention_channels = from_extra::<S, _>(extra, "mention_channels")?.unwrap_or_default();
        // Discord wraps each snapshot in `message`; serenity reads it bare.
        m.message_snapshots = match extra.get("message_snapshots") {
            Some(Value::Array(snapshots)) => snapshots
                .iter()
                .map(|s| leaf::<S, _>(s.get("message").unwrap_or(s)))
                .collect::<Result<_>>()?,
            _ => Vec::new(),
        };
        m.nonce = from_extra::<S, _>(extra, "nonce")?;
        m.activity = from_extra::<S, _>(extra, "activity")?;
        m.application = from_extra::<S, _>(extra, "application")?;
        #[allow(deprecated)]
        {
            m.interaction = from_extra::<S, _>(extra, "interaction")?;
        }
        m.interaction_metadata = from_extra::<S, _>(extra, "interaction_metadata")?;
        m.thread = from_extra::<S, _>(extra, "thread")?;
        m.position = from_extra::<S, _>(extra, "position")?;
        m.role_subscription_data = from_extra::<S, _>(extra, "role_subscription_data")?;
        m.poll = from_extra::<S, _>(extra, "poll")?;
        Ok(m)
    }
}
