//! The bot the README shows (`examples/bot.rs`, the README's code block is
//! checked to be its text) runs against the fake Discord: it reads the cache
//! with serenity's ids, answers with serenity's models, and its shutdown
//! leaves a closed, complete store.

#[path = "../examples/bot.rs"]
#[allow(dead_code)]
mod bot;

mod common;

use std::time::Duration;

use common::{WAIT, guild_create, guild_spec, id};
use fake_discord::FakeDiscord;
use fake_discord::payload as p;
use persist_serenity::Persist;
use persist_serenity::serenity::all::{ChannelId, GatewayIntents, GuildId, UserId};

/// Waits for `ready`, failing with `what` after `WAIT`.
async fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !ready() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn the_readme_shows_the_example_bot_verbatim() {
    let example = include_str!("../examples/bot.rs");
    let readme = include_str!("../../README.md");
    let start = example.find("// README: bot\n").expect("start marker") + "// README: bot\n".len();
    let end = example.find("// README: end").expect("end marker");
    let shown = &example[start..end];
    assert!(
        readme.contains(shown.trim()),
        "README.md must show examples/bot.rs between its markers, verbatim"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_bot_answers_from_the_cache_in_serenity_types() {
    let discord = FakeDiscord::start().await.unwrap();
    let spec = guild_spec(1, 2, 3);
    let (guild, channel, author) = (spec.id, spec.channels[0], spec.members[1]);
    discord.set_ready_guilds([guild]);
    discord.set_after_ready(vec![guild_create(&spec)]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot-cache.db");
    let path_text = path.to_str().unwrap().to_owned();
    let builder = discord.client_builder(GatewayIntents::all());
    let bot = tokio::spawn(async move { bot::run_bot(builder, &path_text).await });
    wait_until("the bot identified", || !discord.shards().is_empty()).await;
    for (n, content) in ["!whois", "!recent"].into_iter().enumerate() {
        let message = p::message_create(id(700_000 + n as u64), channel, guild, author, content);
        discord.dispatch("MESSAGE_CREATE", message).unwrap();
    }
    wait_until("both replies", || discord.sent_messages().len() >= 2).await;
    // serenity runs each handler call in a task of its own: the replies
    // come in either order, each answering from what arrived before it.
    let replies = discord.sent_messages();
    assert!(replies.iter().all(|(to, _)| *to == channel), "{replies:?}");
    // Ids in, serenity's `Member` out: its display name and mention.
    let whois_prefix = format!("User {author} (<@{author}>), 0 roles, joined ");
    let whois = replies
        .iter()
        .find(|(_, text)| text.starts_with(&whois_prefix))
        .unwrap_or_else(|| panic!("no !whois answer in {replies:?}"));
    assert!(!whois.1.ends_with("joined ?"), "{replies:?}");
    let recent = format!("User {author}: !recent\nUser {author}: !whois");
    assert!(
        replies.iter().any(|(_, text)| *text == recent),
        "no !recent answer in {replies:?}"
    );
    // Stopping the bot from outside drops `run_bot`: its guard shuts the
    // cache down, committing and closing the store.
    bot.abort();
    let _ = bot.await;
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["bot-cache.db"], "no -wal or -shm after shutdown");
    let reopened = Persist::builder().sqlite(&path).open().await.unwrap();
    let stored = reopened
        .message(ChannelId::new(channel), id(700_000))
        .await
        .unwrap()
        .expect("the first message");
    assert_eq!(stored.content, "!whois");
    assert_eq!(stored.author.id, UserId::new(author));
    let guild = reopened.guild(GuildId::new(guild)).await.unwrap().unwrap();
    assert_eq!(guild.channels.len(), 2);
    assert_eq!(guild.roles.len(), 3);
    reopened.shutdown().await.unwrap();
}
