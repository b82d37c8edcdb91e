//! What opening a server store checks, and how it reads its hooks: the
//! same for every server backend.

use persist_core::{AppliedHook, ConfigError, Error, Result, Timestamp};

/// Refuses a read pool of no connections or of more than 64.
pub fn check_readers(readers: u32) -> Result<()> {
    if readers == 0 || readers > 64 {
        return Err(ConfigError::OutOfRange {
            setting: "readers",
            min: 1,
            max: 64,
            value: u64::from(readers),
        }
        .into());
    }
    Ok(())
}

/// A read-only process opens only a schema of this code's version: it
/// cannot migrate, and a newer one is refused untouched.
pub fn check_read_only_schema(backend: &'static str, found: u32, supported: u32) -> Result<()> {
    if found > supported {
        return Err(Error::SchemaTooNew { found, supported });
    }
    if found < supported {
        return Err(Error::backend(
            backend,
            "opening read-only",
            format!(
                "the database's schema is version {found}, this code's is {supported}: \
                 a writing process of this version creates or upgrades it"
            ),
        ));
    }
    Ok(())
}

/// A row of `persist_hooks` (`version, name, applied_at`) as the hook it
/// records.
pub fn applied_hook(version: i32, name: String, applied_at: i64) -> AppliedHook {
    AppliedHook {
        version: u32::try_from(version).unwrap_or(0),
        name,
        applied_at: Timestamp::from_unix_micros(applied_at),
    }
}

/// The statement reading `persist_hooks`, in every dialect.
pub const APPLIED_HOOKS: &str =
    "SELECT version, name, applied_at FROM persist_hooks ORDER BY version";
