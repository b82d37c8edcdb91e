//! Members, presences and voice states.

use persist_core::model::{Extra, Member, Presence, VoiceState};
use persist_core::{
    ChannelId, EntityKey, GuildId, MemberPatch, Mutation, Patch, Permissions, Record, ResourceKind,
    RoleId, Ruleset, UserId,
};
use serenity::model::event as e;
use serenity::model::gateway as g;
use serenity::model::guild as s;

use super::user::{partial_user, user};
use super::{ConvertFailure, json, keep, timestamp};

/// The member fields serenity models and we keep in `extra`, when set.
pub(crate) fn member_extras(
    unusual_dm_activity_until: Option<&serenity::model::Timestamp>,
    decoration: Option<&serenity::model::user::AvatarDecorationData>,
) -> Result<Extra, ConvertFailure> {
    let mut extra = Extra::new();
    keep(
        &mut extra,
        "unusual_dm_activity_until",
        unusual_dm_activity_until,
    )?;
    keep(&mut extra, "avatar_decoration_data", decoration)?;
    Ok(extra)
}

/// A serenity member as our user and member.
pub(crate) fn member_records(
    m: &s::Member,
    guild_id: GuildId,
) -> Result<[Record; 2], ConvertFailure> {
    let user = user(&m.user)?;
    let extra = member_extras(
        m.unusual_dm_activity_until.as_ref(),
        m.avatar_decoration_data.as_ref(),
    )?;
    let member = Member {
        guild_id,
        user_id: user.id,
        nick: m.nick.clone(),
        avatar: m.avatar.map(|h| h.to_string()),
        banner: m.banner.map(|h| h.to_string()),
        roles: m.roles.iter().map(|r| RoleId::new(r.get())).collect(),
        joined_at: m.joined_at.as_ref().map(timestamp),
        premium_since: m.premium_since.as_ref().map(timestamp),
        deaf: m.deaf,
        mute: m.mute,
        flags: u64::from(m.flags.bits()),
        pending: m.pending,
        permissions: m.permissions.map(|p| Permissions::new(p.bits())),
        communication_disabled_until: m.communication_disabled_until.as_ref().map(timestamp),
        extra,
    };
    Ok([Record::User(user), Record::Member(member)])
}

pub(crate) fn add(m: &s::Member) -> Result<Vec<Mutation>, ConvertFailure> {
    let records = member_records(m, GuildId::new(m.guild_id.get()))?;
    Ok(vec![Mutation::UpsertMany(records.into())])
}

/// GUILD_MEMBER_UPDATE: Discord sends the member whole, so an empty
/// nickname, avatar, boost or timeout clears it; fields serenity cannot tell
/// absent from their default (`flags`, `deaf`, `mute`) are kept unless set.
pub(crate) fn update(u: &e::GuildMemberUpdateEvent) -> Result<Vec<Mutation>, ConvertFailure> {
    let user = user(&u.user)?;
    let extra = member_extras(
        u.unusual_dm_activity_until.as_ref(),
        u.avatar_decoration_data.as_ref(),
    )?;
    let patch = MemberPatch {
        nick: Some(u.nick.clone()),
        avatar: Some(u.avatar.map(|h| h.to_string())),
        banner: u.banner.map(|h| Some(h.to_string())),
        roles: Some(u.roles.iter().map(|r| RoleId::new(r.get())).collect()),
        joined_at: Some(Some(timestamp(&u.joined_at))),
        premium_since: Some(u.premium_since.as_ref().map(timestamp)),
        deaf: u.deaf.then_some(true),
        mute: u.mute.then_some(true),
        flags: u.flags.map(|f| u64::from(f.bits())),
        pending: Some(u.pending),
        permissions: None,
        communication_disabled_until: Some(u.communication_disabled_until.as_ref().map(timestamp)),
        extra,
    };
    let member = Patch::from_member(GuildId::new(u.guild_id.get()), user.id, patch);
    Ok(vec![Mutation::upsert(user), Mutation::Patch(member)])
}

pub(crate) fn remove(r: &e::GuildMemberRemoveEvent) -> Vec<Mutation> {
    vec![Mutation::Delete(EntityKey::Member(
        GuildId::new(r.guild_id.get()),
        UserId::new(r.user.id.get()),
    ))]
}

/// PRESENCE_UPDATE: the presence (only built when presences are cached) and
/// what the partial user carries.
pub(crate) fn presence(p: &g::Presence, rules: &Ruleset) -> Result<Vec<Mutation>, ConvertFailure> {
    let Some(guild_id) = p.guild_id.map(|g| GuildId::new(g.get())) else {
        // Presences outside guilds (friends of user accounts) are not cached.
        return Ok(Vec::new());
    };
    let user_id = UserId::new(p.user.id.get());
    let mut mutations = Vec::new();
    if rules.wants(ResourceKind::PRESENCES) {
        mutations.push(Mutation::upsert(presence_record(p, guild_id)?));
    }
    if let Some(patch) = partial_user(&p.user)? {
        mutations.push(Mutation::Patch(Patch::from_user(user_id, patch)));
    }
    Ok(mutations)
}

/// A serenity presence as ours, in `guild_id`.
fn presence_record(p: &g::Presence, guild_id: GuildId) -> Result<Presence, ConvertFailure> {
    Ok(Presence {
        guild_id,
        user_id: UserId::new(p.user.id.get()),
        status: p.status.name().to_owned(),
        activities: super::each_via_json(&p.activities)?,
        client_status: p.client_status.as_ref().map(json).transpose()?,
        extra: Extra::new(),
    })
}

/// GUILD_MEMBERS_CHUNK: every member with its user, and the presences when
/// they are cached (the answer to a member request; pruning the members it
/// did not list is the tap's, once every chunk arrived).
pub(crate) fn members_chunk(
    c: &e::GuildMembersChunkEvent,
    rules: &Ruleset,
) -> Result<Vec<Mutation>, ConvertFailure> {
    let guild_id = GuildId::new(c.guild_id.get());
    let presences = match &c.presences {
        Some(presences) if rules.wants(ResourceKind::PRESENCES) => presences.as_slice(),
        _ => &[],
    };
    let mut records = Vec::with_capacity(c.members.len() * 2 + presences.len());
    for member in c.members.values() {
        records.extend(member_records(member, guild_id)?);
    }
    for p in presences {
        records.push(Record::Presence(presence_record(p, guild_id)?));
    }
    Ok(vec![Mutation::UpsertMany(records)])
}

pub(crate) fn voice_state(
    v: &serenity::model::voice::VoiceState,
) -> Result<Vec<Mutation>, ConvertFailure> {
    let Some(guild_id) = v.guild_id.map(|g| GuildId::new(g.get())) else {
        // Voice in DMs (calls) is not cached.
        return Ok(Vec::new());
    };
    let user_id = UserId::new(v.user_id.get());
    let mut mutations = Vec::new();
    if let Some(member) = &v.member {
        mutations.push(Mutation::UpsertMany(
            member_records(member, guild_id)?.into(),
        ));
    }
    match v.channel_id {
        None => mutations.push(Mutation::Delete(EntityKey::VoiceState(guild_id, user_id))),
        Some(channel_id) => mutations.push(Mutation::upsert(VoiceState {
            guild_id,
            user_id,
            channel_id: Some(ChannelId::new(channel_id.get())),
            session_id: v.session_id.clone(),
            deaf: v.deaf,
            mute: v.mute,
            self_deaf: v.self_deaf,
            self_mute: v.self_mute,
            self_stream: v.self_stream.unwrap_or(false),
            self_video: v.self_video,
            suppress: v.suppress,
            request_to_speak_timestamp: v.request_to_speak_timestamp.as_ref().map(timestamp),
            extra: Extra::new(),
        })),
    }
    Ok(mutations)
}
