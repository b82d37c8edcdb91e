//! sled storage backend for serenity-persist.
//!
//! This crate will hold a pure-Rust embedded store on sled 0.34 with range-scan
//! key layouts. Until it lands, use [`persist_core::MemoryStore`].
#![warn(missing_docs)]
