//! The database session a batch runs in: the limit the server itself puts on the batch's
//! statements, who the session is on the server, and how to stop it from outside.
//!
//! * **Server-side limits.** With `query_timeout` set, every statement of a batch carries the
//!   database's own limit, so that the server stops the work (and lets go of its locks) itself:
//!   PostgreSQL `SET LOCAL statement_timeout` and `lock_timeout` (one query at the start of the
//!   batch, which also returns the backend's pid); MariaDB `SET STATEMENT
//!   max_statement_time=…, innodb_lock_wait_timeout=… FOR` in front of each statement; MySQL a
//!   `MAX_EXECUTION_TIME` hint on `SELECT`s (MySQL has no per-statement limit for `UPDATE` and
//!   `DELETE`); SQLite the connection's `busy_timeout`, put back before `COMMIT`.
//! * **The backstop.** The client still times each batch's statements, a little longer than the
//!   server's limit. When that fires, the server's statement is cancelled from another
//!   connection (`pg_cancel_backend`, `KILL QUERY`) and the batch waits for the statement to
//!   end, so that no connection is returned to the pool in an unknown state.
//! * **A lost COMMIT.** When the connection fails during `COMMIT`, the session is ended on the
//!   server (`pg_terminate_backend`, `KILL CONNECTION`) and the engine waits until the server no
//!   longer lists it: from then on, the batch's outcome is settled and can be checked.
//!
//! Stopping a session needs a connection of its own: that of a `DatabaseConnection` pool. Inside
//! a caller's transaction there is none; the server-side limits still apply.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

/// Which server a backend is: MariaDB and MySQL limit statements differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Sqlite,
    Postgres,
    MariaDb,
    MySql,
}

impl Flavor {
    /// What `backend` says without asking the server; MySQL-protocol servers are told apart by
    /// their version, which the first session reads.
    fn of(backend: DbBackend) -> Flavor {
        match backend {
            DbBackend::Sqlite => Flavor::Sqlite,
            DbBackend::MySql => Flavor::MySql,
            _ => Flavor::Postgres,
        }
    }

    fn backend(self) -> DbBackend {
        match self {
            Flavor::Sqlite => DbBackend::Sqlite,
            Flavor::Postgres => DbBackend::Postgres,
            Flavor::MariaDb | Flavor::MySql => DbBackend::MySql,
        }
    }
}

/// One batch's session.
#[derive(Debug)]
pub(crate) struct Session {
    flavor: Flavor,
    /// PostgreSQL's backend pid, MySQL's connection id.
    id: Option<u64>,
    limit: Option<Duration>,
    /// SQLite: the connection's busy timeout before the batch.
    busy_before: Option<i64>,
    /// The batch marked its transaction as the library's hard delete (see [`HARD_DELETE`]),
    /// and must take the mark back before `COMMIT` or `ROLLBACK` (MySQL/MariaDB, SQLite).
    marked: bool,
}

/// How a batch that removes rows (a purge, an archive, a force delete) tells a
/// `GuardHardDelete` trigger that the `DELETE` is the library's own: PostgreSQL's
/// transaction-local setting `soft_delete.hard_delete`, MySQL/MariaDB's session variable
/// `@soft_delete_hard_delete` (cleared before the batch's `COMMIT` or `ROLLBACK`), SQLite's row
/// in the table `soft_delete_hard_delete` (inserted and deleted inside the batch's
/// transaction, so never committed; only where the guard made that table).
pub(crate) const HARD_DELETE: &str = "soft_delete_hard_delete";

/// Whether a batch removes rows, and where its transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HardDelete {
    /// It changes rows but removes none.
    No,
    /// It removes rows in a transaction of its own.
    Own,
    /// It removes rows in a savepoint of the caller's transaction.
    InCallersTransaction,
}

impl Session {
    /// Starts the batch's session on `conn` (its transaction): sets the server-side limit and
    /// learns who the session is, and (the first time, `flavor` being `None`) which server it
    /// is, in the same query.
    pub(crate) async fn open<T: ConnectionTrait>(
        conn: &T,
        flavor: Option<Flavor>,
        limit: Option<Duration>,
        hard_delete: HardDelete,
    ) -> Result<Session, DbErr> {
        let (hard_delete, nested) = match hard_delete {
            HardDelete::No => (false, false),
            HardDelete::Own => (true, false),
            HardDelete::InCallersTransaction => (true, true),
        };
        let millis = limit.map(|limit| limit.as_millis().max(1));
        let known = flavor.is_some();
        let flavor = flavor.unwrap_or_else(|| Flavor::of(conn.get_database_backend()));
        let mut session = Session {
            flavor,
            id: None,
            limit,
            busy_before: None,
            marked: false,
        };
        match flavor {
            Flavor::Postgres => {
                let mut sql = match millis {
                    Some(ms) => format!(
                        "SELECT pg_backend_pid()::int8, set_config('statement_timeout', '{ms}', true), \
                         set_config('lock_timeout', '{ms}', true)"
                    ),
                    None => "SELECT pg_backend_pid()::int8".to_owned(),
                };
                // Transaction-local: gone with the batch's COMMIT or ROLLBACK. Inside a caller's
                // transaction the batch is a savepoint, whose release keeps the setting until
                // the caller's COMMIT: `close` takes it back.
                if hard_delete {
                    sql.push_str(", set_config('soft_delete.hard_delete', 'on', true)");
                    session.marked = nested;
                }
                let row = conn
                    .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
                    .await?;
                session.id = match row {
                    Some(row) => Some(row.try_get_by_index::<i64>(0)? as u64),
                    None => None,
                };
            }
            Flavor::MariaDb | Flavor::MySql => {
                let mut sql = match known {
                    true => "SELECT CONNECTION_ID()",
                    false => "SELECT CONNECTION_ID(), VERSION()",
                }
                .to_owned();
                if hard_delete {
                    sql.push_str(&format!(", @{HARD_DELETE} := 1"));
                    session.marked = true;
                }
                let row = conn
                    .query_one_raw(Statement::from_string(DbBackend::MySql, sql))
                    .await?;
                if let Some(row) = row {
                    session.id = Some(row.try_get_by_index::<u64>(0)?);
                    if !known && row.try_get_by_index::<String>(1)?.contains("MariaDB") {
                        session.flavor = Flavor::MariaDb;
                    }
                }
            }
            Flavor::Sqlite => {
                if hard_delete {
                    let guarded = conn
                        .query_one_raw(Statement::from_string(
                            DbBackend::Sqlite,
                            format!(
                                "SELECT COUNT(*) FROM main.sqlite_master \
                                 WHERE type = 'table' AND name = '{HARD_DELETE}'"
                            ),
                        ))
                        .await?
                        .map(|row| row.try_get_by_index::<i64>(0))
                        .transpose()?
                        .unwrap_or(0)
                        > 0;
                    if guarded {
                        conn.execute_unprepared(&format!(
                            "INSERT INTO main.{HARD_DELETE} (mark) VALUES (1)"
                        ))
                        .await?;
                        session.marked = true;
                    }
                }
                if let Some(ms) = millis {
                    let row = conn
                        .query_one_raw(Statement::from_string(
                            DbBackend::Sqlite,
                            "PRAGMA busy_timeout",
                        ))
                        .await?;
                    session.busy_before = match row {
                        Some(row) => Some(row.try_get_by_index::<i64>(0)?),
                        None => None,
                    };
                    conn.execute_unprepared(&format!("PRAGMA busy_timeout = {ms}"))
                        .await?;
                }
            }
        }
        Ok(session)
    }

    /// Which server the session is on.
    pub(crate) fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The limit the server enforces, if any.
    pub(crate) fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// `statement` as this session sends it: on MariaDB and MySQL with the limit attached.
    pub(crate) fn limited(&self, mut statement: Statement) -> Statement {
        let Some(limit) = self.limit else {
            return statement;
        };
        match self.flavor {
            Flavor::MariaDb => {
                // Seconds, to the microsecond; the lock wait in whole seconds, at least one.
                let seconds = limit.as_secs_f64();
                let lock = limit.as_secs().max(1);
                statement.sql = format!(
                    "SET STATEMENT max_statement_time={seconds:.6}, innodb_lock_wait_timeout={lock} FOR {}",
                    statement.sql
                );
            }
            Flavor::MySql => {
                if let Some(rest) = statement.sql.strip_prefix("SELECT ") {
                    let ms = limit.as_millis().max(1);
                    statement.sql = format!("SELECT /*+ MAX_EXECUTION_TIME({ms}) */ {rest}");
                }
            }
            Flavor::Sqlite | Flavor::Postgres => {}
        }
        statement
    }

    /// Puts back what the session changed on the connection (SQLite's busy timeout, the mark of
    /// a hard delete), before `COMMIT` or `ROLLBACK`.
    pub(crate) async fn close<T: ConnectionTrait>(&self, conn: &T) -> Result<(), DbErr> {
        if self.marked {
            let sql = match self.flavor {
                Flavor::MariaDb | Flavor::MySql => format!("SET @{HARD_DELETE} = NULL"),
                Flavor::Postgres => {
                    "SELECT set_config('soft_delete.hard_delete', 'off', true)".to_owned()
                }
                Flavor::Sqlite => format!("DELETE FROM main.{HARD_DELETE}"),
            };
            conn.execute_unprepared(&sql).await?;
        }
        if let Some(before) = self.busy_before {
            conn.execute_unprepared(&format!("PRAGMA busy_timeout = {before}"))
                .await?;
        }
        Ok(())
    }

    /// Cancels the session's running statement from `control`. Best effort: the caller goes on
    /// waiting for the statement to end either way.
    pub(crate) async fn cancel(&self, control: &DatabaseConnection) {
        let Some(id) = self.id else {
            return;
        };
        let sql = match self.flavor {
            Flavor::Postgres => format!("SELECT pg_cancel_backend({id})"),
            Flavor::MariaDb | Flavor::MySql => format!("KILL QUERY {id}"),
            Flavor::Sqlite => return,
        };
        if let Err(error) = control.execute_unprepared(&sql).await {
            tracing::warn!(%error, session = id, "cancelling the batch's statement failed");
        }
    }

    /// Ends the session on the server from `control` and waits, up to `wait`, until the server
    /// no longer lists it. `Ok(true)` once it is gone (or there was nothing to end).
    pub(crate) async fn end(
        &self,
        control: &DatabaseConnection,
        wait: Duration,
    ) -> Result<bool, DbErr> {
        let Some(id) = self.id else {
            return Ok(true);
        };
        let (kill, listed) = match self.flavor {
            Flavor::Postgres => (
                format!("SELECT pg_terminate_backend({id})"),
                format!("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = {id}"),
            ),
            Flavor::MariaDb | Flavor::MySql => (
                format!("KILL CONNECTION {id}"),
                format!("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {id}"),
            ),
            Flavor::Sqlite => return Ok(true),
        };
        // A session that is already gone makes KILL fail ("Unknown thread id"): that is the
        // outcome wanted.
        if let Err(error) = control.execute_unprepared(&kill).await {
            tracing::debug!(%error, session = id, "ending the batch's session");
        }
        let deadline = Instant::now() + wait;
        loop {
            let row = control
                .query_one_raw(Statement::from_string(
                    self.flavor.backend(),
                    listed.clone(),
                ))
                .await?;
            let listed: i64 = match row {
                Some(row) => row.try_get_by_index(0)?,
                None => 0,
            };
            if listed == 0 {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The connection a batch's statements go through: the batch's transaction, with every
/// statement limited by the session's limit and its timestamps bound as every backend stores
/// them (`bind_timestamps`).
pub(crate) struct Limited<'a, T> {
    inner: &'a T,
    session: &'a Session,
}

impl<'a, T> Limited<'a, T> {
    pub(crate) fn new(inner: &'a T, session: &'a Session) -> Self {
        Limited { inner, session }
    }

    fn prepare(&self, statement: Statement) -> Statement {
        self.session
            .limited(crate::time::bind_timestamps(statement))
    }
}

impl<T> std::fmt::Debug for Limited<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limited")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl<T: ConnectionTrait> ConnectionTrait for Limited<'_, T> {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<sea_orm::ExecResult, DbErr> {
        self.inner.execute_raw(self.prepare(stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        self.inner.query_one_raw(self.prepare(stmt)).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        self.inner.query_all_raw(self.prepare(stmt)).await
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.inner.is_mock_connection()
    }
}
