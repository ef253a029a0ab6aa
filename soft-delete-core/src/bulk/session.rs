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
//! * **A lost COMMIT.** When the connection fails during `COMMIT`, the engine waits, from
//!   another connection, until the batch's transaction is over: from then on its outcome is
//!   settled and can be checked. Each batch reads who it is on the server when it opens (the
//!   server, the session and, on PostgreSQL, the transaction's start), so the wait is for that
//!   transaction and nothing else. A session is ended (`pg_terminate_backend`,
//!   `KILL CONNECTION`) only when it is provably the batch's own: the pool dials the server
//!   itself (the port the server reports is the one the pool connects to, and the
//!   configuration does not say `behind_pooler`), the control connection reaches the same
//!   server, and, on PostgreSQL, the session is still in the batch's transaction. Behind a
//!   pooler or a proxy the server's session may serve another client by then: the engine only
//!   waits. After a failover the control connection reaches another server, where the batch's
//!   transaction cannot be running: its outcome is what that server holds.
//!
//! Stopping a session needs a connection of its own: that of a `DatabaseConnection` pool. Inside
//! a caller's transaction there is none; the server-side limits still apply.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};

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

/// What an operation learns of its server with its first batches, and keeps for the others.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Learned {
    /// Which server it is (MariaDB and MySQL are told apart by the first session).
    pub(crate) flavor: Option<Flavor>,
    /// Whether a `GuardHardDelete` may be waiting for the library's mark, learned by the first
    /// batch that removes rows (see [`guarded`]).
    pub(crate) guarded: Option<bool>,
}

/// Whether a batch that removes rows must mark itself for a `GuardHardDelete`: on MySQL and
/// MariaDB when a `DELETE` trigger of the server reads the mark, on SQLite when a guard made the
/// mark's table. Asked once per operation: the mark costs a statement per batch there
/// (clearing the session variable, inserting and deleting the row), and most databases have no
/// guard. On PostgreSQL the mark rides in the query that opens every batch, at no cost: always.
/// A guard made while an operation runs is seen by the next one (meanwhile the guard refuses
/// the operation's `DELETE`s, with its message: nothing is removed unseen).
pub(crate) async fn guarded<T: ConnectionTrait>(conn: &T) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::MySql => format!(
            "SELECT COUNT(*) FROM information_schema.TRIGGERS \
             WHERE EVENT_MANIPULATION = 'DELETE' AND ACTION_STATEMENT LIKE '%@{HARD_DELETE}%'"
        ),
        DbBackend::Sqlite => format!(
            "SELECT COUNT(*) FROM main.sqlite_master WHERE type = 'table' AND name = '{HARD_DELETE}'"
        ),
        _ => return Ok(true),
    };
    let count = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    Ok(count > 0)
}

/// One batch's session.
#[derive(Debug)]
pub(crate) struct Session {
    flavor: Flavor,
    /// PostgreSQL's backend pid, MySQL's connection id.
    id: Option<u64>,
    /// Which server the session is on: PostgreSQL's postmaster start (µs since the epoch),
    /// MySQL's `hostname:port`.
    server: Option<String>,
    /// PostgreSQL: the start of the batch's transaction (µs since the epoch), which
    /// `pg_stat_activity` lists as the session's `xact_start` while it lasts.
    xact: Option<i64>,
    /// The pool dials this server itself (no pooler or proxy between): a session it lists
    /// under the batch's id is the batch's own.
    direct: bool,
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

/// How the pool reaches its server: the TCP port it dials, or a Unix socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(
    not(any(feature = "sqlx-postgres", feature = "sqlx-mysql")),
    allow(dead_code)
)]
pub(crate) enum Dialed {
    Port(u16),
    Socket,
}

impl Dialed {
    /// What `conn`'s pool dials, when it is a server's pool.
    pub(crate) fn of(conn: &DatabaseConnection) -> Option<Dialed> {
        #[cfg(feature = "sqlx-postgres")]
        if conn.get_database_backend() == DbBackend::Postgres {
            let options = conn.get_postgres_connection_pool().connect_options();
            return Some(match options.get_socket() {
                Some(_) => Dialed::Socket,
                None if options.get_host().starts_with('/') => Dialed::Socket,
                None => Dialed::Port(options.get_port()),
            });
        }
        #[cfg(feature = "sqlx-mysql")]
        if conn.get_database_backend() == DbBackend::MySql {
            let options = conn.get_mysql_connection_pool().connect_options();
            return Some(match options.get_socket() {
                Some(_) => Dialed::Socket,
                None => Dialed::Port(options.get_port()),
            });
        }
        let _ = conn;
        None
    }

    /// True when the server's own port (`None`: the session came over a Unix socket) is the
    /// one dialed.
    fn reaches(self, server_port: Option<i64>) -> bool {
        match (self, server_port) {
            (Dialed::Port(dialed), Some(port)) => i64::from(dialed) == port,
            (Dialed::Socket, None) => true,
            _ => false,
        }
    }
}

/// What the engine found of a batch's transaction from another connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Settled {
    /// The transaction is over on the batch's server: its outcome is there to check.
    Over,
    /// The control connection reaches another server (a failover, a proxy that moved): the
    /// batch's transaction cannot run there, and its outcome is what this server holds.
    Elsewhere,
    /// The transaction still ran when the wait ended.
    Running,
}

impl Session {
    /// Starts the batch's session on `conn` (its transaction): sets the server-side limit and
    /// learns who the session is, and (the first time, `flavor` being `None`) which server it
    /// is, in the same query. `dialed` is what the pool dials (`None` inside a caller's
    /// transaction, where nothing is checked from outside); `behind_pooler` is the
    /// configuration's word that something shares server sessions between clients; `guarded`
    /// whether a batch that removes rows marks itself for a guard ([`guarded`]).
    pub(crate) async fn open<T: ConnectionTrait>(
        conn: &T,
        flavor: Option<Flavor>,
        limit: Option<Duration>,
        hard_delete: HardDelete,
        dialed: Option<Dialed>,
        behind_pooler: bool,
        guarded: bool,
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
            server: None,
            xact: None,
            direct: false,
            limit,
            busy_before: None,
            marked: false,
        };
        match flavor {
            Flavor::Postgres => {
                // Who the session is: the backend, the start of its transaction (`now()` is
                // `xact_start`), the server (its postmaster's start) and the port it answers on.
                let mut sql = "SELECT pg_backend_pid()::int8, \
                     (extract(epoch FROM now()) * 1000000)::int8, \
                     ((extract(epoch FROM pg_postmaster_start_time()) * 1000000)::int8)::text, \
                     inet_server_port()::int8"
                    .to_owned();
                if let Some(ms) = millis {
                    sql.push_str(&format!(
                        ", set_config('statement_timeout', '{ms}', true), \
                         set_config('lock_timeout', '{ms}', true)"
                    ));
                }
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
                if let Some(row) = row {
                    session.id = Some(row.try_get_by_index::<i64>(0)? as u64);
                    session.xact = Some(row.try_get_by_index::<i64>(1)?);
                    session.server = Some(row.try_get_by_index::<String>(2)?);
                    let port = row.try_get_by_index::<Option<i64>>(3)?;
                    session.direct = !behind_pooler && dialed.is_some_and(|d| d.reaches(port));
                }
            }
            Flavor::MariaDb | Flavor::MySql => {
                let mut sql = match known {
                    true => "SELECT CONNECTION_ID(), CAST(@@port AS SIGNED), @@hostname",
                    false => {
                        "SELECT CONNECTION_ID(), CAST(@@port AS SIGNED), @@hostname, VERSION()"
                    }
                }
                .to_owned();
                if hard_delete && guarded {
                    sql.push_str(&format!(", @{HARD_DELETE} := 1"));
                    session.marked = true;
                }
                let row = conn
                    .query_one_raw(Statement::from_string(DbBackend::MySql, sql))
                    .await?;
                if let Some(row) = row {
                    session.id = Some(row.try_get_by_index::<u64>(0)?);
                    let port = row.try_get_by_index::<i64>(1)?;
                    let host = row.try_get_by_index::<String>(2)?;
                    session.server = Some(format!("{host}:{port}"));
                    // A session that came over a Unix socket still reports the TCP port.
                    session.direct = !behind_pooler
                        && dialed.is_some_and(|d| d == Dialed::Socket || d.reaches(Some(port)));
                    if !known && row.try_get_by_index::<String>(3)?.contains("MariaDB") {
                        session.flavor = Flavor::MariaDb;
                    }
                }
            }
            Flavor::Sqlite => {
                if hard_delete && guarded {
                    conn.execute_unprepared(&format!(
                        "INSERT INTO main.{HARD_DELETE} (mark) VALUES (1)"
                    ))
                    .await?;
                    session.marked = true;
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

    /// Looks, from `control`, for the batch's transaction on its server, ends it when `end`
    /// allows and the session is provably the batch's own, and waits, up to `wait`, until it is
    /// over.
    ///
    /// `End::Always` is for a batch whose transaction the engine still holds open (the
    /// backstop): its session cannot serve anyone else, even behind a pooler, as long as the
    /// control connection reaches the same server. `End::IfDirect` is for a lost `COMMIT`,
    /// after which a pooler may have handed the server's session to another client: it is
    /// ended only when the pool dials the server itself.
    pub(crate) async fn settle(
        &self,
        control: &DatabaseConnection,
        wait: Duration,
        end: End,
    ) -> Result<Settled, DbErr> {
        let (Some(id), Some(server)) = (self.id, self.server.as_deref()) else {
            return Ok(Settled::Over);
        };
        let may_end = match end {
            End::Always => true,
            End::IfDirect => self.direct,
        };
        let (look, kill) = match self.flavor {
            Flavor::Postgres => {
                let xact = self.xact.unwrap_or_default();
                let ours = format!(
                    "FROM pg_stat_activity WHERE pid = {id} \
                     AND (extract(epoch FROM xact_start) * 1000000)::int8 = {xact}"
                );
                (
                    format!(
                        "SELECT ((extract(epoch FROM pg_postmaster_start_time()) * 1000000)::int8)::text, \
                         (SELECT COUNT(*) {ours})"
                    ),
                    format!("SELECT pg_terminate_backend(pid) {ours}"),
                )
            }
            Flavor::MariaDb | Flavor::MySql => {
                // A session the pool dials itself is the batch's until it is gone; behind a
                // pooler only its transaction is, so it is the transaction that is waited for.
                let listed = match self.direct {
                    true => format!("information_schema.PROCESSLIST WHERE ID = {id}"),
                    false => {
                        format!("information_schema.INNODB_TRX WHERE trx_mysql_thread_id = {id}")
                    }
                };
                (
                    format!(
                        "SELECT CONCAT(@@hostname, ':', CAST(@@port AS SIGNED)), \
                         (SELECT COUNT(*) FROM {listed})"
                    ),
                    format!("KILL CONNECTION {id}"),
                )
            }
            Flavor::Sqlite => return Ok(Settled::Over),
        };
        let deadline = Instant::now() + wait;
        let mut ended = false;
        let mut nap = Duration::from_millis(20);
        loop {
            // Each look in a transaction of its own: behind a pooler in transaction pooling,
            // a prepared statement is only sure to reach one server session inside one, and
            // PostgreSQL keeps one snapshot of `pg_stat_activity` per transaction.
            let txn = control.begin().await?;
            let row = txn
                .query_one_raw(Statement::from_string(self.flavor.backend(), look.clone()))
                .await;
            txn.rollback().await?;
            let Some(row) = row? else {
                return Ok(Settled::Over);
            };
            if row.try_get_by_index::<String>(0)? != server {
                return Ok(Settled::Elsewhere);
            }
            if row.try_get_by_index::<i64>(1)? == 0 {
                return Ok(Settled::Over);
            }
            if may_end && !ended {
                // A session that is already gone makes KILL fail ("Unknown thread id"): that
                // is the outcome wanted.
                if let Err(error) = control.execute_unprepared(&kill).await {
                    tracing::debug!(%error, session = id, "ending the batch's session");
                }
                ended = true;
                continue;
            }
            if Instant::now() >= deadline {
                return Ok(Settled::Running);
            }
            tokio::time::sleep(nap).await;
            nap = (nap * 2).min(Duration::from_millis(200));
        }
    }

    /// After a failover to another Galera node: waits until that node has applied every write
    /// set the cluster had ordered (`wsrep_sync_wait`), so that a check of the batch's rows sees
    /// a write set its first node sent before it was lost. Nothing to do elsewhere; best
    /// effort.
    pub(crate) async fn catch_up(&self, control: &DatabaseConnection) {
        if self.flavor != Flavor::MariaDb {
            return;
        }
        let sql = "SET STATEMENT wsrep_sync_wait = 1 FOR SELECT 1";
        if let Err(error) = control.execute_unprepared(sql).await {
            tracing::debug!(%error, "waiting for the node to apply the cluster's write sets");
        }
    }
}

/// Whether [`Session::settle`] may end the batch's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The engine still holds the batch's transaction open.
    Always,
    /// Only when the pool dials the server itself.
    IfDirect,
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
