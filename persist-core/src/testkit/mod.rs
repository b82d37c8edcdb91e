//! The conformance kit: the behaviour suite every [`Store`] must pass.
//!
//! A backend crate implements [`StoreFactory`] and calls [`run_conformance`]
//! from one test. The suite covers every mutation, cascade, partial update,
//! paging edge, ruleset (through a [`Cache`](crate::Cache) over the store),
//! migration hook and schema check; each check runs on a store of its own and
//! every failure is reported by name. [`run_model_check`] then compares the
//! store with a reference [`Model`] of the semantics on random sequences of
//! batches (proptest; failures shrink and are kept in a regressions file).
//!
//! ```
//! use persist_core::testkit::{run_conformance, MemoryFactory};
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! run_conformance(&MemoryFactory::default()).await;
//! # });
//! ```

mod cache_checks;
mod checks;
pub mod crash;
pub mod fixtures;
mod model;
mod model_check;
mod write_checks;

pub use model::Model;
pub use model_check::{
    huge_hot_tier, run_cache_model_check, run_hot_tier_model_checks, run_model_check, tiny_hot_tier,
};

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::{BoxFuture, Error, MemoryStore, Migrations, Store};

/// Opens stores for the suite.
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// Opens the store called `name` with these hooks (its own migrations
    /// first). The first open of a name makes an empty store; later opens of
    /// the same name open the same data, as a restarted process would.
    async fn open(&self, name: &str, migrations: &Migrations) -> crate::Result<Arc<dyn Store>>;

    /// Makes the store called `name` look as if newer code had written it
    /// (its schema version above what this code supports). Every handle the
    /// suite opened on it has been dropped by then.
    async fn make_schema_newer(&self, name: &str) -> crate::Result<()>;
}

/// A [`StoreFactory`] of [`MemoryStore`]s, kept by name for the run.
#[derive(Debug, Default)]
pub struct MemoryFactory {
    stores: Mutex<HashMap<String, MemoryStore>>,
}

#[async_trait]
impl StoreFactory for MemoryFactory {
    async fn open(&self, name: &str, migrations: &Migrations) -> crate::Result<Arc<dyn Store>> {
        let existing = self
            .stores
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_owned())
            .or_default()
            .clone();
        Ok(Arc::new(existing.reopen(migrations).await?))
    }

    async fn make_schema_newer(&self, name: &str) -> crate::Result<()> {
        let stores = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(store) = stores.get(name) {
            store.set_schema_version(crate::MEMORY_SCHEMA_VERSION + 1);
        }
        Ok(())
    }
}

/// Why a check failed.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self(format!("unexpected error: {error}"))
    }
}

impl From<crate::ConfigError> for Failure {
    fn from(error: crate::ConfigError) -> Self {
        Self(format!("unexpected configuration error: {error}"))
    }
}

/// What a check returns.
pub type Outcome = Result<(), Failure>;

type Check = for<'a> fn(&'a dyn StoreFactory, &'a str) -> BoxFuture<'a, Outcome>;

/// Fails the check unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::testkit::Failure(format!(
                "{}:{}: {}", file!(), line!(), format!($($fmt)+)
            )));
        }
    };
}

/// Fails the check unless both sides are equal.
macro_rules! ensure_eq {
    ($left:expr, $right:expr $(,)?) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err($crate::testkit::Failure(format!(
                "{}:{}: `{}` == `{}` failed\n  left: {:?}\n right: {:?}",
                file!(),
                line!(),
                stringify!($left),
                stringify!($right),
                left,
                right
            )));
        }
    }};
}

pub(crate) use {ensure, ensure_eq};

/// The names of every check, in the order they run.
pub fn check_names() -> Vec<&'static str> {
    all_checks().iter().map(|(name, _)| *name).collect()
}

fn all_checks() -> Vec<(&'static str, Check)> {
    let mut all = checks::CHECKS.to_vec();
    all.extend_from_slice(cache_checks::CHECKS);
    all.extend_from_slice(write_checks::CHECKS);
    all
}

/// Runs the whole suite against stores from `factory` and panics with the
/// list of failed checks, if any.
pub async fn run_conformance(factory: &dyn StoreFactory) {
    let failures = run_conformance_report(factory).await;
    if !failures.is_empty() {
        let report: Vec<String> = failures
            .iter()
            .map(|(name, failure)| format!("- {name}: {failure}"))
            .collect();
        panic!(
            "{} of {} conformance checks failed:\n{}",
            failures.len(),
            all_checks().len(),
            report.join("\n")
        );
    }
}

/// Runs the whole suite and returns the failed checks with why.
pub async fn run_conformance_report(factory: &dyn StoreFactory) -> Vec<(&'static str, Failure)> {
    let mut failures = Vec::new();
    for (name, check) in all_checks() {
        let store_name = format!("conformance-{name}");
        if let Err(failure) = check(factory, &store_name).await {
            failures.push((name, failure));
        }
    }
    failures
}
