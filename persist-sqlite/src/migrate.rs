//! Schema migrations: refinery's embedded `V{n}__*.sql` files, run through a
//! sqlx connection (refinery has no sqlx driver, so this is one).

use persist_core::Error;
use refinery_core::Migration;
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use sqlx::{AssertSqlSafe, Connection as _, Row, SqliteConnection};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The table refinery records applied migrations in.
const HISTORY: &str = "refinery_schema_history";

/// The newest schema version this code knows.
pub fn code_schema_version() -> u32 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| u32::try_from(m.version()).unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// A sqlx SQLite connection driving refinery.
pub(crate) struct RefineryConnection<'c>(pub &'c mut SqliteConnection);

impl AsyncTransaction for RefineryConnection<'_> {
    type Error = sqlx::Error;

    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
        &mut self,
        queries: T,
    ) -> Result<usize, Self::Error> {
        let mut tx = self.0.begin().await?;
        let mut count = 0;
        for query in queries {
            // Migration files hold several statements: run them as a script.
            sqlx::raw_sql(AssertSqlSafe(query.to_owned()))
                .execute(&mut *tx)
                .await?;
            count += 1;
        }
        tx.commit().await?;
        Ok(count)
    }
}

impl AsyncQuery<Vec<Migration>> for RefineryConnection<'_> {
    async fn query(&mut self, query: &str) -> Result<Vec<Migration>, Self::Error> {
        let rows = sqlx::query(AssertSqlSafe(query.to_owned()))
            .fetch_all(&mut *self.0)
            .await?;
        let mut applied = Vec::with_capacity(rows.len());
        for row in rows {
            let version: i32 = row.try_get(0)?;
            let name: String = row.try_get(1)?;
            let applied_on: String = row.try_get(2)?;
            let checksum: String = row.try_get(3)?;
            let decode = |what: &str| {
                sqlx::Error::Decode(format!("{HISTORY}: bad {what} of migration {version}").into())
            };
            let applied_on =
                OffsetDateTime::parse(&applied_on, &Rfc3339).map_err(|_| decode("date"))?;
            let checksum = checksum.parse::<u64>().map_err(|_| decode("checksum"))?;
            applied.push(Migration::applied(version, name, applied_on, checksum));
        }
        Ok(applied)
    }
}

impl AsyncMigrate for RefineryConnection<'_> {}

/// The schema version recorded in the database (0 for a new one).
pub(crate) async fn stored_schema_version(conn: &mut SqliteConnection) -> Result<u32, Error> {
    let exists: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
    )
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| Error::backend("sqlite", "reading the schema version", e))?;
    if exists.is_none() {
        return Ok(0);
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM refinery_schema_history")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| Error::backend("sqlite", "reading the schema version", e))?;
    Ok(version.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

/// Brings the schema up to `target` (the newest when `None`), refusing a
/// database newer than the code before touching it.
pub(crate) async fn migrate(conn: &mut SqliteConnection, target: Option<u32>) -> Result<(), Error> {
    let found = stored_schema_version(conn).await?;
    let supported = code_schema_version();
    if found > supported {
        return Err(Error::SchemaTooNew { found, supported });
    }
    let mut runner = embedded::migrations::runner()
        .set_abort_divergent(true)
        .set_abort_missing(true);
    if let Some(version) = target {
        runner = runner.set_target(refinery_core::Target::Version(
            i32::try_from(version).unwrap_or(i32::MAX),
        ));
    }
    let report = runner
        .run_async(&mut RefineryConnection(conn))
        .await
        .map_err(|e| Error::backend("sqlite", "running schema migrations", e))?;
    for migration in report.applied_migrations() {
        tracing::info!(
            version = migration.version(),
            name = migration.name(),
            "applied schema migration"
        );
    }
    Ok(())
}
