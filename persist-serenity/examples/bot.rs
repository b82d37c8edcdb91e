//! The bot the README shows: the cache plugged in with one line, and read
//! in a handler with serenity's own ids and models.
//!
//! ```text
//! DISCORD_TOKEN=... cargo run -p persist-serenity --example bot
//! ```
//!
//! In a channel the bot can read (with the Message Content intent enabled
//! for the bot), `!whois` answers with who you are in that server and
//! `!recent` with the channel's last messages, read from the cache, not
//! from Discord. Stop it with Ctrl-C; the cache in `bot-cache.db` is kept
//! for next time. `RUST_LOG=persist=debug` shows what the cache does.
//! (`tests/readme_bot.rs` runs this very file against the fake Discord.)

// The shard allocates for each event and the cache's writer frees it on
// another thread: glibc's malloc would make the shard wait now and then.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// README: bot
use persist_serenity::prelude::*;
use serenity::all::*;

struct Handler {
    persist: Persist,
}

#[async_trait]
impl EventHandler for Handler {
    async fn message(&self, ctx: Context, msg: Message) {
        let reply = match msg.content.as_str() {
            // Your membership, read from the cache with serenity's ids,
            // answered as serenity's `Member`.
            "!whois" => match msg.guild_id {
                Some(guild_id) => match self.persist.member(guild_id, msg.author.id).await {
                    Ok(Some(member)) => format!(
                        "{} ({}), {} roles, joined {}",
                        member.display_name(),
                        member.user.mention(),
                        member.roles.len(),
                        member.joined_at.map_or("?".into(), |t| t.to_string()),
                    ),
                    Ok(None) => "I do not know you yet".into(),
                    Err(e) => format!("cache error: {e}"),
                },
                None => return,
            },
            // This very message is already in the cache: it was applied
            // before serenity called this handler.
            "!recent" => match self.persist.channel_messages(msg.channel_id, None, 5).await {
                Ok(messages) => messages
                    .iter()
                    .map(|m| format!("{}: {}", m.author.display_name(), m.content))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Err(e) => format!("cache error: {e}"),
            },
            _ => return,
        };
        if let Err(e) = msg.channel_id.say(&ctx.http, reply).await {
            tracing::warn!("cannot reply: {e}");
        }
    }
}

/// Opens the cache, runs the client, and shuts the cache down however the
/// client ended (it commits what is queued and closes the store).
pub async fn run_bot(
    client: ClientBuilder,
    cache_path: &str,
) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let persist = Persist::builder().sqlite(cache_path).open().await?;
    // Shuts down on an early return (`?`) too.
    let _guard = persist.shutdown_on_drop();
    let mut client = client
        .event_handler(Handler {
            persist: persist.clone(),
        })
        .persist(&persist) // the one line
        .await?;
    let manager = client.shard_manager.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            manager.shutdown_all().await;
        }
    });
    let ended = client.start().await;
    persist.shutdown().await?;
    Ok(ended?)
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Logs: RUST_LOG=info by default; RUST_LOG=persist=debug for every batch.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let token = std::env::var("DISCORD_TOKEN").map_err(|_| {
        "DISCORD_TOKEN is not set. Create a bot at https://discord.com/developers/applications, \
         enable the Message Content intent, invite it to a server, then run \
         DISCORD_TOKEN=your-token cargo run -p persist-serenity --example bot \
         (to see the cache without a token: cargo run --release -p persist-serenity --example demo)"
    })?;
    let intents = GatewayIntents::non_privileged() | GatewayIntents::MESSAGE_CONTENT;
    run_bot(Client::builder(token, intents), "bot-cache.db").await
}
// README: end
