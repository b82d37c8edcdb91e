//! The one line on serenity's `ClientBuilder`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use serenity::Client;
use serenity::client::ClientBuilder;
use serenity::prelude::TypeMapKey;

use crate::Persist;
use crate::hand_over::HandOver;

/// Plugs a [`Persist`] cache into a serenity client.
pub trait ClientBuilderExt {
    /// Applies every gateway event to the cache, in the order the shard
    /// received it, before the bot's handlers see it. Call it last, in place
    /// of awaiting the builder; the bot's `EventHandler` stays as it is.
    ///
    /// The cache registers itself as the client's voice manager (to hook the
    /// start of each session) and forwards every call to the voice manager
    /// set before this call, such as songbird's. It is also put in the
    /// client's data under [`PersistKey`].
    ///
    /// ```no_run
    /// use persist_serenity::{ClientBuilderExt, Migrations, Persist};
    /// use serenity::prelude::*;
    /// # struct Handler;
    /// # impl EventHandler for Handler {}
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let persist = Persist::open_sqlite("bot-cache.db", &Migrations::new()).await?;
    /// let mut client = Client::builder("token", GatewayIntents::non_privileged())
    ///     .event_handler(Handler)
    ///     .persist(&persist)
    ///     .await?;
    /// client.start().await?;
    /// # Ok(()) }
    /// ```
    fn persist(self, persist: &Persist) -> PersistedClientBuilder;
}

impl ClientBuilderExt for ClientBuilder {
    fn persist(self, persist: &Persist) -> PersistedClientBuilder {
        let hand_over = Arc::new(HandOver::new(persist.tap(), self.get_voice_manager()));
        let builder = self
            .voice_manager_arc(Arc::clone(&hand_over) as _)
            .type_map_insert::<PersistKey>(persist.clone());
        PersistedClientBuilder { builder, hand_over }
    }
}

/// A `ClientBuilder` with the cache plugged in; await it for the `Client`.
#[must_use = "await it to build the client"]
pub struct PersistedClientBuilder {
    builder: ClientBuilder,
    hand_over: Arc<HandOver>,
}

impl IntoFuture for PersistedClientBuilder {
    type Output = serenity::Result<Client>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let client = self.builder.await?;
            self.hand_over.attach(&client.shard_manager);
            Ok(client)
        })
    }
}

/// The key of the [`Persist`] cache in a client's data
/// (`ctx.data.read().await.get::<PersistKey>()`).
pub struct PersistKey;

impl TypeMapKey for PersistKey {
    type Value = Persist;
}
