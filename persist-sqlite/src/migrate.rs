//! Schema migrations: refinery's embedded `V{n}__*.sql` files, run through a
//! sqlx connection (persist-sql's refinery driver).

use persist_core::Error;
use persist_sql::migrate::History;
use sqlx::{Sqlite, SqliteConnection};

mod embedded {
    refinery::embed_migrations!("migrations");
}

const HISTORY: History = History {
    exists: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
    newest: "SELECT MAX(version) FROM refinery_schema_history",
};

/// The newest schema version this code knows.
pub fn code_schema_version() -> u32 {
    persist_sql::migrate::newest_version(&embedded::migrations::runner())
}

/// The schema version recorded in the database (0 for a new one).
pub(crate) async fn stored_schema_version(conn: &mut SqliteConnection) -> Result<u32, Error> {
    persist_sql::migrate::stored_version::<Sqlite>("sqlite", conn, HISTORY).await
}

/// Brings the schema up to `target` (the newest when `None`), refusing a
/// database newer than the code before touching it.
pub(crate) async fn migrate(conn: &mut SqliteConnection, target: Option<u32>) -> Result<(), Error> {
    persist_sql::migrate::migrate::<Sqlite>(
        "sqlite",
        conn,
        embedded::migrations::runner(),
        HISTORY,
        target,
    )
    .await
}
