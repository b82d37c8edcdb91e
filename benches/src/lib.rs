//! Benchmarks of serenity-persist. The criterion benches live in `benches/`;
//! see `BENCHMARKS.md` at the repository root for what they measure.
#![warn(missing_docs)]
