//! Schema migrations: refinery's embedded `V{n}__*.sql` files, run through
//! a sqlx connection (persist-sql's refinery driver) under a named lock, so
//! processes opening the database at once migrate it once. MySQL commits
//! each DDL statement on its own, so every statement of a migration is
//! written to be run again (`IF NOT EXISTS`).

use persist_core::Error;
use persist_sql::migrate::History;
use sqlx::{MySql, MySqlConnection};

mod embedded {
    refinery::embed_migrations!("migrations");
}

const HISTORY: History = History {
    exists: "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = 'refinery_schema_history'",
    newest: "SELECT CAST(MAX(version) AS SIGNED) FROM refinery_schema_history",
};

/// The newest schema version this code knows.
pub fn code_schema_version() -> u32 {
    persist_sql::migrate::newest_version(&embedded::migrations::runner())
}

/// The schema version recorded in the database (0 for a new one).
pub(crate) async fn stored_schema_version(conn: &mut MySqlConnection) -> Result<u32, Error> {
    persist_sql::migrate::stored_version::<MySql>("mysql", conn, HISTORY).await
}

/// Brings the schema up to `target` (the newest when `None`), refusing a
/// database newer than the code before touching it.
pub(crate) async fn migrate(conn: &mut MySqlConnection, target: Option<u32>) -> Result<(), Error> {
    let locking = |e| Error::backend("mysql", "locking the schema for migration", e);
    // Named locks are per server: the database's name keeps them apart.
    let got: Option<i64> =
        sqlx::query_scalar("SELECT GET_LOCK(CONCAT('persist_migrate.', DATABASE()), 60)")
            .fetch_one(&mut *conn)
            .await
            .map_err(locking)?;
    if got != Some(1) {
        return Err(Error::backend(
            "mysql",
            "locking the schema for migration",
            "another process held the migration lock for 60 s",
        ));
    }
    let migrated = persist_sql::migrate::migrate::<MySql>(
        "mysql",
        conn,
        embedded::migrations::runner(),
        HISTORY,
        target,
    )
    .await;
    let unlocked = sqlx::query("SELECT RELEASE_LOCK(CONCAT('persist_migrate.', DATABASE()))")
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(locking);
    migrated.and(unlocked)
}
