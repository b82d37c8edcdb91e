//! What opening a server store checks, and how it reads its hooks: the
//! same for every server backend.

use std::time::Duration;

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

/// Refuses a schema or database name SQL would need quoted (it is put
/// into `CREATE SCHEMA` / `CREATE DATABASE` as it is): 1 to `max` lowercase
/// letters, digits and `_`, not starting with a digit.
pub fn check_plain_name(setting: &'static str, name: &str, max: usize) -> Result<()> {
    let plain = !name.is_empty()
        && name.len() <= max
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        setting,
        reason: format!(
            "{name:?}: use 1 to {max} lowercase letters, digits and _, not starting with a digit"
        ),
    }
    .into())
}

/// Connects within `timeout`, saying where to (`place`: host, port and
/// database, never the password).
pub async fn connect_within<O>(
    backend: &'static str,
    options: &O,
    place: String,
    timeout: Duration,
) -> Result<O::Connection>
where
    O: sqlx::ConnectOptions,
    O::Connection: Sized,
{
    match tokio::time::timeout(timeout, options.connect()).await {
        Ok(conn) => conn.map_err(|e| Error::backend(backend, format!("connecting to {place}"), e)),
        Err(_) => Err(Error::backend(
            backend,
            format!("connecting to {place}"),
            format!("no answer within {timeout:?} (connect_timeout)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_sql_takes_unquoted_pass() {
        check_plain_name("schema", "bot_cache_2", 63).unwrap();
        for bad in [
            "",
            "2bots",
            "Bot",
            "a-b",
            "x; DROP TABLE y",
            &"a".repeat(64),
        ] {
            assert!(check_plain_name("schema", bad, 63).is_err(), "{bad:?}");
        }
    }
}
