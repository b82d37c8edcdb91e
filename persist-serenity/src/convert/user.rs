//! Users, the bot's own user and members.

use persist_core::Result;
use persist_core::model as core;
use serenity::model as s;

use super::{ToSerenity, failed, from_extra, id, image_hash, narrow, timestamps};

type SUser = s::user::User;
type S = SUser;

impl ToSerenity for core::User {
    type Serenity = SUser;

    fn to_serenity(&self) -> Result<SUser> {
        let mut u = SUser::default();
        u.id = id::<S, _>(self.id.get())?;
        u.name.clone_from(&self.username);
        u.discriminator = match self.discriminator.as_deref() {
            None | Some("0") => None,
            Some(d) => Some(
                d.parse::<std::num::NonZeroU16>()
                    .map_err(|e| failed::<SUser>(format!("discriminator {d:?}: {e}")))?,
            ),
        };
        u.global_name.clone_from(&self.global_name);
        u.avatar = image_hash::<SUser>(self.avatar.as_ref())?;
        u.bot = self.bot;
        u.system = self.system;
        u.banner = image_hash::<SUser>(self.banner.as_ref())?;
        u.accent_colour = self.accent_color.map(s::Colour::new);
        u.public_flags = self
            .public_flags
            .map(|f| narrow::<SUser, u32, _>("public_flags", f))
            .transpose()?
            .map(s::user::UserPublicFlags::from_bits_retain);
        let extra = &self.extra;
        u.mfa_enabled = from_extra::<SUser, bool>(extra, "mfa_enabled")?.unwrap_or(false);
        u.locale = from_extra::<SUser, _>(extra, "locale")?;
        u.verified = from_extra::<SUser, _>(extra, "verified")?;
        u.email = from_extra::<SUser, _>(extra, "email")?;
        if let Some(flags) = from_extra::<SUser, u32>(extra, "flags")? {
            u.flags = s::user::UserPublicFlags::from_bits_retain(flags);
        }
        if let Some(premium) = from_extra::<SUser, u8>(extra, "premium_type")? {
            u.premium_type = s::user::PremiumType::from(premium);
        }
        u.member = from_extra::<SUser, _>(extra, "member")?;
        u.primary_guild = from_extra::<SUser, _>(extra, "primary_guild")?;
        u.avatar_decoration_data = from_extra::<SUser, _>(extra, "avatar_decoration_data")?;
        u.collectibles = from_extra::<SUser, _>(extra, "collectibles")?;
        Ok(u)
    }
}

impl ToSerenity for core::CurrentUser {
    type Serenity = s::user::CurrentUser;

    fn to_serenity(&self) -> Result<s::user::CurrentUser> {
        type S = s::user::CurrentUser;
        // The fields a user has too, converted as a user's.
        let user = core::User {
            id: self.id,
            username: self.username.clone(),
            global_name: self.global_name.clone(),
            discriminator: self.discriminator.clone(),
            avatar: self.avatar.clone(),
            bot: self.bot,
            banner: self.banner.clone(),
            accent_color: self.accent_color,
            public_flags: self.public_flags,
            ..Default::default()
        };
        let mut u = S::default();
        *u = user.to_serenity()?;
        u.verified = self.verified;
        u.email.clone_from(&self.email);
        u.mfa_enabled = self.mfa_enabled;
        u.locale.clone_from(&self.locale);
        if let Some(flags) = self.flags {
            u.flags =
                s::user::UserPublicFlags::from_bits_retain(narrow::<S, u32, _>("flags", flags)?);
        }
        if let Some(premium) = self.premium_type {
            u.premium_type = s::user::PremiumType::from(premium);
        }
        Ok(u)
    }
}

/// A member and its user (stored apart, as Discord's ids join them) as
/// serenity's member, which nests the user.
///
/// ```
/// use persist_serenity::convert::member_to_serenity;
/// use persist_serenity::persist_core::{model, GuildId, UserId};
/// let user = model::User { id: UserId::new(5), username: "ferris".into(), ..Default::default() };
/// let member = model::Member {
///     guild_id: GuildId::new(7),
///     user_id: UserId::new(5),
///     nick: Some("crab".into()),
///     ..Default::default()
/// };
/// let member = member_to_serenity(&member, &user)?;
/// assert_eq!(member.display_name(), "crab");
/// # Ok::<(), persist_serenity::Error>(())
/// ```
pub fn member_to_serenity(member: &core::Member, user: &core::User) -> Result<s::guild::Member> {
    type S = s::guild::Member;
    if member.user_id != user.id {
        return Err(failed::<S>(format!(
            "member {} joined with user {}",
            member.user_id, user.id
        )));
    }
    let mut m = S::default();
    m.user = user.to_serenity()?;
    m.nick.clone_from(&member.nick);
    m.avatar = image_hash::<S>(member.avatar.as_ref())?;
    m.banner = image_hash::<S>(member.banner.as_ref())?;
    m.roles = member
        .roles
        .iter()
        .map(|r| id::<S, _>(r.get()))
        .collect::<Result<_>>()?;
    m.joined_at = timestamps::<S>(member.joined_at)?;
    m.premium_since = timestamps::<S>(member.premium_since)?;
    m.deaf = member.deaf;
    m.mute = member.mute;
    m.flags =
        s::guild::GuildMemberFlags::from_bits_retain(narrow::<S, u32, _>("flags", member.flags)?);
    m.pending = member.pending;
    m.permissions = member
        .permissions
        .map(|p| s::Permissions::from_bits_retain(p.bits()));
    m.communication_disabled_until = timestamps::<S>(member.communication_disabled_until)?;
    m.guild_id = id::<S, _>(member.guild_id.get())?;
    m.unusual_dm_activity_until = from_extra::<S, _>(&member.extra, "unusual_dm_activity_until")?;
    m.avatar_decoration_data = from_extra::<S, _>(&member.extra, "avatar_decoration_data")?;
    Ok(m)
}
