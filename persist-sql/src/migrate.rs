//! Schema migrations: refinery's `V{n}__*.sql` files (each backend embeds
//! its own), run through a sqlx connection of any driver. refinery has no
//! sqlx driver, so [`RefineryConnection`] is one.

use persist_core::Error;
use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use refinery_core::{Migration, Runner};
use sqlx::{AssertSqlSafe, Connection as _, Database, Decode, Executor, Row, Type};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The table refinery records applied migrations in.
pub const HISTORY: &str = "refinery_schema_history";

/// The newest schema version of these migrations.
pub fn newest_version(runner: &Runner) -> u32 {
    runner
        .get_migrations()
        .iter()
        .map(|m| u32::try_from(m.version()).unwrap_or(0))
        .max()
        .unwrap_or(0)
}

/// A sqlx connection driving refinery.
pub struct RefineryConnection<'c, DB: Database>(pub &'c mut DB::Connection);

impl<DB> AsyncTransaction for RefineryConnection<'_, DB>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
{
    type Error = sqlx::Error;

    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
        &'a mut self,
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

impl<DB> AsyncQuery<Vec<Migration>> for RefineryConnection<'_, DB>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'r> i32: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn query<'a>(&'a mut self, query: &'a str) -> Result<Vec<Migration>, Self::Error> {
        let rows = sqlx::raw_sql(AssertSqlSafe(query.to_owned()))
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

impl<DB> AsyncMigrate for RefineryConnection<'_, DB>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'r> i32: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
}

/// How a dialect reads refinery's history table.
#[derive(Clone, Copy, Debug)]
pub struct History {
    /// Whether the table exists: one row when it does.
    pub exists: &'static str,
    /// The newest version recorded, as a 64-bit integer (NULL when none).
    pub newest: &'static str,
}

/// The schema version recorded in the database (0 for a new one).
pub async fn stored_version<DB>(
    backend: &'static str,
    conn: &mut DB::Connection,
    history: History,
) -> Result<u32, Error>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let failed = |e| Error::backend(backend, "reading the schema version", e);
    let exists = sqlx::query(history.exists)
        .fetch_optional(&mut *conn)
        .await
        .map_err(failed)?;
    if exists.is_none() {
        return Ok(0);
    }
    let row = sqlx::query(history.newest)
        .fetch_one(&mut *conn)
        .await
        .map_err(failed)?;
    let version: Option<i64> = row.try_get(0).map_err(failed)?;
    Ok(version.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

/// Brings the schema up to `target` (the newest when `None`), refusing a
/// database newer than the code before touching it.
pub async fn migrate<DB>(
    backend: &'static str,
    conn: &mut DB::Connection,
    runner: Runner,
    history: History,
    target: Option<u32>,
) -> Result<(), Error>
where
    DB: Database,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    for<'r> i32: Decode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    <DB as Database>::Arguments: sqlx::IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    let found = stored_version::<DB>(backend, conn, history).await?;
    let supported = newest_version(&runner);
    if found > supported {
        return Err(Error::SchemaTooNew { found, supported });
    }
    let mut runner = runner.set_abort_divergent(true).set_abort_missing(true);
    if let Some(version) = target {
        runner = runner.set_target(refinery_core::Target::Version(
            i32::try_from(version).unwrap_or(i32::MAX),
        ));
    }
    let report = runner
        .run_async(&mut RefineryConnection::<DB>(conn))
        .await
        .map_err(|e| Error::backend(backend, "running schema migrations", e))?;
    for migration in report.applied_migrations() {
        tracing::info!(
            backend,
            version = migration.version(),
            name = migration.name(),
            "applied schema migration"
        );
    }
    Ok(())
}
