//! Plugs serenity-persist into a serenity 0.12 bot.
//!
//! This crate will hold the one-line `ClientBuilder` integration that applies
//! every gateway event to the store before the bot's own handler sees it.
//! Until it lands, drive a [`persist_core::Cache`] by hand.
#![warn(missing_docs)]
