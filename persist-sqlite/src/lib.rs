//! SQLite storage backend for serenity-persist.
//!
//! This crate will hold the embedded default store: sqlx on a bundled SQLite,
//! refinery migrations and an inspectable relational schema. Until it lands,
//! use [`persist_core::MemoryStore`].
#![warn(missing_docs)]
