//! [`PersistConfig`]: the cache's settings as a bot's configuration file or
//! environment gives them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use persist_core::{CacheConfig, ConfigError, ContentMode, GuildId, ResourceKind, Result, Ruleset};
use serde::Deserialize;

use crate::persist_builder::{PersistBuilder, StoreChoice};

/// Every setting of a cache, read with serde: a `[persist]` table in the
/// bot's TOML file ([`PersistConfig::from_toml`], [`PersistConfig::from_file`]),
/// or `PERSIST_*` environment variables ([`PersistConfig::from_env`]).
/// Durations are written as people write them (`"50ms"`, `"30days"`);
/// settings left out keep their defaults; unknown settings are refused, so
/// a typo is not silently ignored. Values are checked as
/// [`PersistBuilder`]'s are, when the cache opens.
///
/// ```
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// use persist_serenity::prelude::*;
/// let config = PersistConfig::from_toml(r#"
///     [bot]
///     prefix = "!"
///
///     [persist]
///     store = "memory"
///
///     [persist.rules]
///     resources = "GUILDS | CHANNELS | MESSAGES | MEMBERS | USERS | ROLES | PRESENCES"
///     message_cap = 200
///     message_max_age = "30days"
///
///     [persist.cache]
///     batch_delay = "20ms"
/// "#)?;
/// let persist = Persist::builder().config(config)?.open().await?;
/// assert_eq!(persist.cache().rules().message_cap(), 200);
/// assert_eq!(persist.cache().config().batch_delay, std::time::Duration::from_millis(20));
/// # Ok::<(), persist_serenity::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistConfig {
    /// `"sqlite"`, `"redb"`, `"sled"`, `"memory"`, `"postgres"` or `"mysql"`.
    pub store: Option<String>,
    /// The file (sqlite, redb) or directory (sled).
    pub path: Option<PathBuf>,
    /// The database URL (postgres, mysql).
    pub url: Option<String>,
    /// The shards this process runs and writes (postgres, mysql); none:
    /// read-only.
    pub shards: Option<Vec<u32>>,
    /// The bot's shard count (postgres, mysql; with `shards`).
    pub shard_count: Option<u32>,
    /// SQLite's own settings.
    pub sqlite: SqliteSettings,
    /// The page cache of redb or sled, in bytes (64 MiB by default).
    pub page_cache_bytes: Option<usize>,
    /// What is cached.
    pub rules: RulesSettings,
    /// Batching, retries and memory ([`CacheConfig`]'s fields).
    pub cache: Option<CacheConfig>,
}

/// SQLite's settings in a [`PersistConfig`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteSettings {
    /// Read connections (1-64).
    pub readers: Option<u32>,
    /// How long a write waits for another process's lock.
    #[serde(with = "humantime_serde")]
    pub busy_timeout: Option<Duration>,
    /// `"process-crash"` (the default) or `"power-loss"`.
    pub durability: Option<String>,
}

/// A [`Ruleset`]'s settings in a [`PersistConfig`].
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesSettings {
    /// The kinds cached, as `"GUILDS | CHANNELS | ..."`.
    pub resources: Option<ResourceKind>,
    /// Only these guilds are cached.
    pub allow_guilds: Option<Vec<u64>>,
    /// These guilds are never cached.
    pub deny_guilds: Vec<u64>,
    /// Messages kept per channel.
    pub message_cap: Option<u32>,
    /// Messages older than this are dropped.
    #[serde(with = "humantime_serde")]
    pub message_max_age: Option<Duration>,
    /// `"keep"` (the default) or `"off"` (metadata only).
    pub content: Option<String>,
}

fn invalid(setting: &'static str, reason: impl Into<String>) -> persist_core::Error {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
    .into()
}

impl PersistConfig {
    /// Reads the `[persist]` table of a TOML document (the whole document
    /// when it has no such table).
    pub fn from_toml(text: &str) -> Result<Self> {
        let mut document: toml::Table =
            toml::from_str(text).map_err(|e| invalid("persist configuration", e.to_string()))?;
        let table = match document.remove("persist") {
            Some(toml::Value::Table(table)) => table,
            Some(_) => return Err(invalid("persist", "must be a table ([persist])")),
            None => document,
        };
        Self::deserialize(table).map_err(|e| invalid("persist configuration", e.to_string()))
    }

    /// Reads a TOML file, like [`PersistConfig::from_toml`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            invalid(
                "persist configuration",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            persist_core::Error::Config(ConfigError::Invalid { setting, reason }) => {
                invalid(setting, format!("{}: {reason}", path.display()))
            }
            other => other,
        })
    }

    /// Reads `PERSIST_*` environment variables: `PERSIST_STORE=sqlite`,
    /// `PERSIST_PATH=bot-cache.db`, a double underscore for a nested
    /// setting (`PERSIST_CACHE__BATCH_DELAY=20ms`,
    /// `PERSIST_RULES__MESSAGE_CAP=200`). Values are read as TOML values
    /// when they are one (`[0, 1]`, `200`), else as text.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(std::env::vars())
    }

    /// [`PersistConfig::from_env`] over given variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let mut root = toml::Table::new();
        for (name, raw) in vars {
            let Some(key) = name.strip_prefix("PERSIST_") else {
                continue;
            };
            // The test suite's own variables (PERSIST_POSTGRES_URL, ...) are not settings.
            if key.ends_with("_URL") && key != "URL" {
                continue;
            }
            let path: Vec<String> = key.split("__").map(str::to_lowercase).collect();
            let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(raw));
            let (last, parents) = path.split_last().unwrap_or((&path[0], &[]));
            let mut table = &mut root;
            for parent in parents {
                let entry = table
                    .entry(parent.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                table = match entry {
                    toml::Value::Table(t) => t,
                    _ => {
                        return Err(invalid(
                            "environment",
                            format!("{name} nests under a value"),
                        ));
                    }
                };
            }
            table.insert(last.clone(), value);
        }
        Self::deserialize(root).map_err(|e| invalid("PERSIST_* environment", e.to_string()))
    }

    /// Applies these settings to a builder.
    pub(crate) fn apply(self, mut builder: PersistBuilder) -> Result<PersistBuilder> {
        let rules = self.rules.ruleset()?;
        let store = self.store_choice()?;
        if let Some(store) = store {
            builder = builder.store(store);
        }
        if let Some(rules) = rules {
            builder = builder.ruleset(rules);
        }
        if let Some(cache) = self.cache {
            builder = builder.cache_config(cache);
        }
        Ok(builder)
    }

    fn store_choice(&self) -> Result<Option<StoreChoice>> {
        let Some(store) = self.store.as_deref() else {
            return Ok(None);
        };
        let path = || {
            self.path
                .clone()
                .ok_or_else(|| invalid("path", format!("store = \"{store}\" needs a path")))
        };
        #[allow(unused_variables)]
        let page_cache = self.page_cache_bytes.unwrap_or(64 << 20);
        // A setting the chosen store does not read is a mistake, not a no-op.
        let given = [
            ("path", self.path.is_some()),
            ("url", self.url.is_some()),
            (
                "shards",
                self.shards.is_some() || self.shard_count.is_some(),
            ),
            ("page_cache_bytes", self.page_cache_bytes.is_some()),
            (
                "sqlite",
                self.sqlite.readers.is_some()
                    || self.sqlite.busy_timeout.is_some()
                    || self.sqlite.durability.is_some(),
            ),
        ];
        let reads: &[&str] = match store {
            "sqlite" => &["path", "sqlite"],
            "redb" | "sled" => &["path", "page_cache_bytes"],
            "postgres" | "mysql" => &["url", "shards"],
            _ => &[],
        };
        let misplaced = given.map(|(setting, set)| (setting, set && !reads.contains(&setting)));
        if let Some((setting, _)) = misplaced.iter().find(|(_, set)| *set) {
            return Err(invalid(
                "store",
                format!("store = \"{store}\" does not read `{setting}`"),
            ));
        }
        Ok(Some(match store {
            "memory" => StoreChoice::Memory,
            #[cfg(feature = "sqlite")]
            "sqlite" => {
                let mut config = persist_sqlite::SqliteConfig::new(path()?);
                if let Some(readers) = self.sqlite.readers {
                    config.readers = readers;
                }
                if let Some(timeout) = self.sqlite.busy_timeout {
                    config.busy_timeout = timeout;
                }
                config.durability = match self.sqlite.durability.as_deref() {
                    None | Some("process-crash") => persist_sqlite::Durability::ProcessCrash,
                    Some("power-loss") => persist_sqlite::Durability::PowerLoss,
                    Some(other) => {
                        return Err(invalid(
                            "sqlite.durability",
                            format!("\"{other}\": expected \"process-crash\" or \"power-loss\""),
                        ));
                    }
                };
                StoreChoice::Sqlite(config)
            }
            #[cfg(feature = "redb")]
            "redb" => StoreChoice::Redb {
                path: path()?,
                cache_bytes: page_cache,
            },
            #[cfg(feature = "sled")]
            "sled" => StoreChoice::Sled {
                path: path()?,
                cache_bytes: page_cache,
            },
            #[cfg(feature = "postgres")]
            "postgres" => {
                let url = self.server_url(store)?;
                match self.leases()? {
                    Some(leases) => {
                        StoreChoice::Postgres(persist_postgres::PostgresConfig::new(url, leases))
                    }
                    None => StoreChoice::Postgres(persist_postgres::PostgresConfig::read_only(url)),
                }
            }
            #[cfg(feature = "mysql")]
            "mysql" => {
                let url = self.server_url(store)?;
                match self.leases()? {
                    Some(leases) => {
                        StoreChoice::MySql(persist_mysql::MySqlConfig::new(url, leases))
                    }
                    None => StoreChoice::MySql(persist_mysql::MySqlConfig::read_only(url)),
                }
            }
            other => {
                return Err(invalid(
                    "store",
                    format!(
                        "\"{other}\": expected one of {} (other stores need their Cargo feature)",
                        compiled_stores().join(", ")
                    ),
                ));
            }
        }))
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    fn server_url(&self, store: &str) -> Result<String> {
        self.url
            .clone()
            .ok_or_else(|| invalid("url", format!("store = \"{store}\" needs a url")))
    }

    #[cfg(any(feature = "postgres", feature = "mysql"))]
    fn leases(&self) -> Result<Option<persist_sql::lease::LeaseConfig>> {
        match (&self.shards, self.shard_count) {
            (None, None) => Ok(None),
            (Some(shards), Some(count)) => Ok(Some(persist_sql::lease::LeaseConfig::new(
                shards.iter().copied(),
                count,
            ))),
            _ => Err(invalid(
                "shards",
                "give both shards and shard_count (or neither, to open read-only)",
            )),
        }
    }
}

/// The store names this build accepts.
fn compiled_stores() -> Vec<&'static str> {
    [
        Some("\"memory\""),
        cfg!(feature = "sqlite").then_some("\"sqlite\""),
        cfg!(feature = "redb").then_some("\"redb\""),
        cfg!(feature = "sled").then_some("\"sled\""),
        cfg!(feature = "postgres").then_some("\"postgres\""),
        cfg!(feature = "mysql").then_some("\"mysql\""),
    ]
    .into_iter()
    .flatten()
    .collect()
}

impl RulesSettings {
    /// The ruleset these settings describe; `None` when they set nothing.
    fn ruleset(&self) -> Result<Option<Ruleset>> {
        let set = self.resources.is_some()
            || self.allow_guilds.is_some()
            || !self.deny_guilds.is_empty()
            || self.message_cap.is_some()
            || self.message_max_age.is_some()
            || self.content.is_some();
        if !set {
            return Ok(None);
        }
        let mut builder = Ruleset::builder();
        if let Some(resources) = self.resources {
            builder = builder.resources(resources);
        }
        if let Some(allow) = &self.allow_guilds {
            builder = builder.allow_guilds(allow.iter().map(|g| GuildId::new(*g)));
        }
        for guild in &self.deny_guilds {
            builder = builder.deny_guild(GuildId::new(*guild));
        }
        if let Some(cap) = self.message_cap {
            builder = builder.message_cap(cap);
        }
        if let Some(age) = self.message_max_age {
            builder = builder.message_max_age(age);
        }
        builder = builder.content(match self.content.as_deref() {
            None | Some("keep") => ContentMode::Keep,
            Some("off") => ContentMode::Off,
            Some(other) => {
                return Err(invalid(
                    "rules.content",
                    format!("\"{other}\": expected \"keep\" or \"off\""),
                ));
            }
        });
        Ok(Some(builder.build()?))
    }
}
