//! Schema migrations: refinery's embedded `V{n}__*.sql` files, run through
//! a sqlx connection (persist-sql's refinery driver) under an advisory
//! lock, so processes opening the database at once migrate it once.

use persist_core::Error;
use persist_sql::migrate::History;
use sqlx::{PgConnection, Postgres};

mod embedded {
    refinery::embed_migrations!("migrations");
}

const HISTORY: History = History {
    exists: "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = 'refinery_schema_history'",
    newest: "SELECT MAX(version)::bigint FROM refinery_schema_history",
};

/// The advisory lock key migrations hold ("persist" in ASCII).
const MIGRATION_LOCK: i64 = 0x0070_6572_7369_7374;

/// The newest schema version this code knows.
pub fn code_schema_version() -> u32 {
    persist_sql::migrate::newest_version(&embedded::migrations::runner())
}

/// The schema version recorded in the database (0 for a new one).
pub(crate) async fn stored_schema_version(conn: &mut PgConnection) -> Result<u32, Error> {
    persist_sql::migrate::stored_version::<Postgres>("postgres", conn, HISTORY).await
}

/// Creates `schema` when given and missing, then brings it up to `target`
/// (the newest when `None`), refusing a database newer than the code
/// before touching it. Under the lock: processes opening at once would
/// race on both.
pub(crate) async fn migrate(
    conn: &mut PgConnection,
    schema: Option<&str>,
    target: Option<u32>,
) -> Result<(), Error> {
    let locking = |e| Error::backend("postgres", "locking the schema for migration", e);
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(locking)?;
    let migrated = match schema {
        // The name was checked to need no quoting.
        Some(schema) => sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}"
        )))
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| Error::backend("postgres", format!("creating the schema {schema}"), e)),
        None => Ok(()),
    };
    let migrated = match migrated {
        Ok(()) => {
            persist_sql::migrate::migrate::<Postgres>(
                "postgres",
                conn,
                embedded::migrations::runner(),
                HISTORY,
                target,
            )
            .await
        }
        failed => failed,
    };
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(locking);
    migrated.and(unlocked)
}
