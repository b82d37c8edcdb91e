//! The writer connection: SQLite in-thread (rusqlite over the same bundled
//! libsqlite3 as sqlx), so a batch's statements are function calls, not
//! round trips to a worker thread.

use persist_core::{AppliedHook, Error, Mutation, Result};
use persist_sql::SqlEngine;
use rusqlite::{Connection, OpenFlags};

use crate::committed::{Committed, engine_error};
use crate::config::SqliteConfig;

/// The one connection that writes.
#[derive(Debug)]
pub(crate) struct Writer {
    conn: Connection,
}

impl Writer {
    /// Opens (creating if missing) the file for writing; a file this
    /// process cannot write is refused here, not at the first commit.
    pub(crate) fn open(config: &SqliteConfig, path: &str) -> Result<Self> {
        let conn = Connection::open_with_flags(
            &config.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(engine_error(format!("opening {path}")))?;
        // SQLite opens a file it may not write read-only, silently.
        if conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(engine_error(format!("opening {path}")))?
        {
            return Err(Error::Unwritable {
                backend: "sqlite",
                path: path.to_owned(),
                reason: "the file (or its directory) is read-only for this process".into(),
            });
        }
        // A file that is not a database fails here, before anything is written.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ReadOnly) => Self::unwritable(path)(e),
                _ => Error::backend(
                    "sqlite",
                    format!("reading {path} (is it a SQLite database?)"),
                    e,
                ),
            })?;
        conn.busy_timeout(config.busy_timeout)
            .map_err(engine_error(format!("setting busy_timeout on {path}")))?;
        for (name, value) in config.pragmas() {
            conn.pragma_update(None, name, value)
                .map_err(Self::unwritable(path))?;
        }
        // SQLite keeps the old journal mode, silently, where WAL is not possible.
        let journal: String = conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .map_err(Self::unwritable(path))?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(Error::Unwritable {
                backend: "sqlite",
                path: path.to_owned(),
                reason: format!("the WAL journal could not be enabled (journal_mode is {journal})"),
            });
        }
        conn.set_prepared_statement_cache_capacity(64);
        let writer = Self { conn };
        // A file can be writable and its directory not (no room for the
        // WAL): taking the write lock once proves both.
        // A lock held elsewhere is no proof either way: the commits wait
        // for it (busy_timeout) and say so.
        match writer.conn.execute_batch("BEGIN IMMEDIATE; COMMIT;") {
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {
                tracing::warn!(path, "the database is locked by another connection at open");
            }
            probe => probe.map_err(Self::unwritable(path))?,
        }
        Ok(writer)
    }

    fn unwritable(path: &str) -> impl FnOnce(rusqlite::Error) -> Error + '_ {
        move |e| match e.sqlite_error_code() {
            Some(
                rusqlite::ErrorCode::ReadOnly
                | rusqlite::ErrorCode::CannotOpen
                | rusqlite::ErrorCode::PermissionDenied,
            ) => Error::Unwritable {
                backend: "sqlite",
                path: path.to_owned(),
                reason: e.to_string(),
            },
            _ => Error::backend("sqlite", format!("opening {path}"), e),
        }
    }

    /// Applies a batch in one `BEGIN IMMEDIATE ... COMMIT`: the cache's
    /// semantics plan the changes over the committed rows, then they are
    /// written per table. Runs to its end once started (synchronous), so no
    /// dropped future can leave the transaction open.
    pub(crate) fn apply(&mut self, batch: &[Mutation]) -> Result<()> {
        self.leave_transaction()?;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(engine_error(
                "starting a batch (is the database locked by another process?)",
            ))?;
        let written = persist_core::write::plan(&mut SqlEngine(Committed(&self.conn)), batch)
            .and_then(|changes| crate::write::write_changes(&self.conn, &changes));
        let outcome = written.and_then(|()| {
            self.conn
                .execute_batch("COMMIT")
                .map_err(engine_error("committing a batch"))
        });
        if outcome.is_err() {
            self.roll_back();
        }
        outcome
    }

    /// Records an application migration hook as run.
    pub(crate) fn record_hook(&mut self, hook: &AppliedHook) -> Result<()> {
        self.leave_transaction()?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO persist_hooks (version, name, applied_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![i64::from(hook.version), hook.name, hook.applied_at.unix_micros()],
            )
            .map_err(engine_error("recording a migration hook"))?;
        Ok(())
    }

    /// SQLite's `PRAGMA integrity_check` report (`["ok"]` when sound).
    pub(crate) fn integrity_check(&mut self) -> Result<Vec<String>> {
        let mut statement = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(engine_error("running integrity_check"))?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(engine_error("running integrity_check"))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(engine_error("running integrity_check"))
    }

    /// Closes the connection; the last one to close checkpoints the WAL.
    pub(crate) fn close(self) -> Result<()> {
        self.conn
            .close()
            .map_err(|(_, e)| Error::backend("sqlite", "closing the writer", e))
    }

    /// Rolls back a failed batch. A rollback that fails is reported, and
    /// tried again before the next batch (see `leave_transaction`).
    fn roll_back(&mut self) {
        if self.conn.is_autocommit() {
            // SQLite already rolled back (a failed COMMIT may do so).
            return;
        }
        if let Err(error) = self.conn.execute_batch("ROLLBACK") {
            tracing::error!(%error, "rolling back a failed batch failed; retried before the next batch");
        }
    }

    /// Makes sure no transaction is left open by an earlier failure.
    fn leave_transaction(&mut self) -> Result<()> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn.execute_batch("ROLLBACK").map_err(engine_error(
            "rolling back a transaction an earlier batch left open",
        ))
    }
}
