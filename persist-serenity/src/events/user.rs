//! Users and the bot's own user.

use persist_core::model::{CurrentUser, Extra, User};
use persist_core::{Mutation, UserId, UserPatch};
use serenity::model::gateway::PresenceUser;
use serenity::model::user as s;

use super::{ConvertFailure, keep};

/// The profile fields a user (full or partial) carries that we keep in
/// `extra`, when set.
fn profile_extras(
    extra: &mut Extra,
    member: Option<&serenity::model::guild::PartialMember>,
    primary_guild: Option<&s::PrimaryGuild>,
    decoration: Option<&s::AvatarDecorationData>,
    collectibles: Option<&s::Collectibles>,
) -> Result<(), ConvertFailure> {
    keep(extra, "member", member)?;
    keep(extra, "primary_guild", primary_guild)?;
    keep(extra, "avatar_decoration_data", decoration)?;
    keep(extra, "collectibles", collectibles)
}

/// A serenity user as ours. Fields serenity models and we do not are kept
/// in `extra` when they are set (serenity's defaults are not written).
pub(crate) fn user(u: &s::User) -> Result<User, ConvertFailure> {
    let mut extra = Extra::new();
    if u.mfa_enabled {
        extra.insert("mfa_enabled".into(), true.into());
    }
    keep(&mut extra, "locale", u.locale.as_ref())?;
    keep(&mut extra, "verified", u.verified.as_ref())?;
    keep(&mut extra, "email", u.email.as_ref())?;
    if !u.flags.is_empty() {
        extra.insert("flags".into(), u.flags.bits().into());
    }
    if u.premium_type != s::PremiumType::None {
        extra.insert("premium_type".into(), u8::from(u.premium_type).into());
    }
    profile_extras(
        &mut extra,
        u.member.as_deref(),
        u.primary_guild.as_ref(),
        u.avatar_decoration_data.as_ref(),
        u.collectibles.as_ref(),
    )?;
    Ok(User {
        id: UserId::new(u.id.get()),
        username: u.name.clone(),
        global_name: u.global_name.clone(),
        discriminator: u.discriminator.map(|d| format!("{d:04}")),
        avatar: u.avatar.map(|h| h.to_string()),
        bot: u.bot,
        system: u.system,
        banner: u.banner.map(|h| h.to_string()),
        accent_color: u.accent_colour.map(|c| c.0),
        public_flags: u.public_flags.map(|f| u64::from(f.bits())),
        extra,
    })
}

/// What a presence's partial user carries besides its id, as a patch;
/// `None` when it carries nothing else.
pub(crate) fn partial_user(u: &PresenceUser) -> Result<Option<UserPatch>, ConvertFailure> {
    let mut extra = Extra::new();
    keep(&mut extra, "mfa_enabled", u.mfa_enabled.as_ref())?;
    keep(&mut extra, "locale", u.locale.as_ref())?;
    keep(&mut extra, "verified", u.verified.as_ref())?;
    keep(&mut extra, "email", u.email.as_ref())?;
    keep(&mut extra, "flags", u.flags.map(|f| f.bits()).as_ref())?;
    keep(
        &mut extra,
        "premium_type",
        u.premium_type.map(u8::from).as_ref(),
    )?;
    profile_extras(
        &mut extra,
        u.member.as_deref(),
        u.primary_guild.as_ref(),
        u.avatar_decoration_data.as_ref(),
        u.collectibles.as_ref(),
    )?;
    let patch = UserPatch {
        username: u.name.clone(),
        global_name: u.global_name.clone().map(Some),
        discriminator: u.discriminator.map(|d| Some(format!("{d:04}"))),
        avatar: u.avatar.map(|h| Some(h.to_string())),
        bot: u.bot,
        system: u.system,
        banner: u.banner.map(|h| Some(h.to_string())),
        accent_color: u.accent_colour.map(|c| Some(c.0)),
        public_flags: u.public_flags.map(|f| Some(u64::from(f.bits()))),
        extra,
    };
    Ok((patch != UserPatch::default()).then_some(patch))
}

/// USER_UPDATE: the bot's own user, and the same user as a user.
pub(crate) fn current_user_update(u: &s::CurrentUser) -> Result<Vec<Mutation>, ConvertFailure> {
    let as_user = user(u)?;
    let mut extra = Extra::new();
    for name in ["primary_guild", "avatar_decoration_data", "collectibles"] {
        if let Some(v) = as_user.extra.get(name) {
            extra.insert(name.into(), v.clone());
        }
    }
    let current = CurrentUser {
        id: as_user.id,
        username: as_user.username.clone(),
        global_name: as_user.global_name.clone(),
        discriminator: as_user.discriminator.clone(),
        avatar: as_user.avatar.clone(),
        bot: as_user.bot,
        verified: u.verified,
        email: u.email.clone(),
        mfa_enabled: u.mfa_enabled,
        locale: u.locale.clone(),
        flags: Some(u64::from(u.flags.bits())),
        public_flags: as_user.public_flags,
        premium_type: Some(u8::from(u.premium_type)),
        banner: as_user.banner.clone(),
        accent_color: as_user.accent_color,
        extra,
    };
    Ok(vec![Mutation::upsert(current), Mutation::upsert(as_user)])
}
