//! Roles.

use persist_core::model::{Extra, Role};
use persist_core::{GuildId, Mutation, Permissions, RoleId};
use serenity::model::guild as s;

use super::{ConvertFailure, json};

/// A serenity role as ours (its guild is the event's).
pub(crate) fn role(r: &s::Role) -> Result<Role, ConvertFailure> {
    let mut extra = Extra::new();
    extra.insert("colors".into(), json(&r.colours)?);
    Ok(Role {
        id: RoleId::new(r.id.get()),
        guild_id: GuildId::new(r.guild_id.get()),
        name: r.name.clone(),
        color: r.colour.0,
        hoist: r.hoist,
        icon: r.icon.map(|h| h.to_string()),
        unicode_emoji: r.unicode_emoji.clone(),
        position: i64::from(r.position),
        permissions: Permissions::new(r.permissions.bits()),
        managed: r.managed,
        mentionable: r.mentionable,
        tags: (r.tags != s::RoleTags::default())
            .then(|| json(&r.tags))
            .transpose()?,
        flags: 0,
        extra,
    })
}

/// GUILD_ROLE_CREATE and GUILD_ROLE_UPDATE.
pub(crate) fn role_upsert(r: &s::Role) -> Result<Vec<Mutation>, ConvertFailure> {
    Ok(vec![Mutation::upsert(role(r)?)])
}
