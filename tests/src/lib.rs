//! Cross-crate integration tests of serenity-persist live in `tests/`.
#![warn(missing_docs)]
