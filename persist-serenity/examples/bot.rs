//! A real bot with the cache plugged in: one line on the `ClientBuilder`,
//! and reads from the store inside a handler.
//!
//! ```text
//! DISCORD_TOKEN=... cargo run -p persist-serenity --example bot
//! ```
//!
//! In a channel the bot can read (with the Message Content intent enabled
//! for the bot), `!cache` answers with what the cache holds and `!recent`
//! with the channel's last messages, read from the store, not from Discord.
//! Stop it with Ctrl-C; the cache in `bot-cache.db` is kept for next time.

use std::sync::Arc;

// The shard allocates for each event and the cache's writer frees it on
// another thread: glibc's malloc would make the shard wait now and then.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use persist_serenity::convert::IntoCore;
use persist_serenity::serenity::all::{
    ClientBuilder, Context, EventHandler, GatewayIntents, Message, Ready,
};
use persist_serenity::serenity::async_trait;
use persist_serenity::{ClientBuilderExt, MessagePage, Migrations, Persist, PersistKey, ReadApi};

struct Handler;

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        // The cache is also in the client's data.
        let Some(persist) = ctx.data.read().await.get::<PersistKey>().cloned() else {
            return;
        };
        match persist.counts().await {
            Ok(c) => println!(
                "{} is connected; the cache holds {} guilds, {} members, {} messages",
                ready.user.name, c.guilds, c.members, c.messages
            ),
            Err(e) => eprintln!("cannot read the cache: {e}"),
        }
    }

    async fn message(&self, ctx: Context, msg: Message) {
        let Some(persist) = ctx.data.read().await.get::<PersistKey>().cloned() else {
            return;
        };
        let reply = match msg.content.as_str() {
            "!cache" => match persist.counts().await {
                Ok(c) => format!(
                    "I remember {} guilds, {} channels, {} members and {} messages ({} events this run).",
                    c.guilds,
                    c.channels,
                    c.members,
                    c.messages,
                    persist.stats().gateway.events
                ),
                Err(e) => format!("cache error: {e}"),
            },
            "!recent" => {
                // This very message is already in the store: the cache applied
                // it before serenity called this handler.
                match persist
                    .channel_messages(msg.channel_id.into_core(), MessagePage::Latest, 5)
                    .await
                {
                    Ok(messages) => messages
                        .iter()
                        .map(|m| format!("{}: {}", m.author.username, m.content))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    Err(e) => format!("cache error: {e}"),
                }
            }
            _ => return,
        };
        if let Err(e) = msg.channel_id.say(&ctx.http, reply).await {
            eprintln!("cannot reply: {e}");
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(token) = std::env::var("DISCORD_TOKEN") else {
        eprintln!(
            "DISCORD_TOKEN is not set.\n\
             Create a bot at https://discord.com/developers/applications, enable the Message \
             Content intent, invite it to a server, then run:\n  \
             DISCORD_TOKEN=your-token cargo run -p persist-serenity --example bot\n\
             (To see the cache without a token: cargo run --release -p persist-serenity --example demo)"
        );
        std::process::exit(2);
    };
    let persist = Persist::open_sqlite("bot-cache.db", &Migrations::new()).await?;
    let intents = GatewayIntents::non_privileged() | GatewayIntents::MESSAGE_CONTENT;
    let mut client = ClientBuilder::new(token, intents)
        .event_handler(Handler)
        .persist(&persist) // the one line
        .await?;
    let manager = Arc::clone(&client.shard_manager);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            manager.shutdown_all().await;
        }
    });
    if let Err(e) = client.start().await {
        eprintln!("the client stopped: {e}");
    }
    persist.shutdown().await?;
    Ok(())
}
