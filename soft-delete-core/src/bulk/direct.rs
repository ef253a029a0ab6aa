//! A batch's transaction on a pool the library owns, run through sqlx directly.
//!
//! SeaORM's driver clones every bound value of a statement before it binds it
//! (`sea-orm-2.0.4/src/driver/sqlx_postgres.rs`, `sqlx_query`): a bulk insert's strings, a soft
//! delete's array of keys, every one copied once more on its way to the server. Where the
//! batch's connection is the library's own (the operation runs on a `DatabaseConnection`), the
//! engine opens the batch's transaction on the pool itself and executes each statement with its
//! values moved into sqlx: the statements, the session's limits, the hooks (which see the same
//! `ConnectionTrait`), the log and the `COMMIT` are the same; only the copy is gone. Inside a
//! caller's transaction, or through a connection the library does not know (a wrapper), the
//! batch runs on SeaORM's transaction as before.
//!
//! What the direct path does not do is what SeaORM adds around a statement: its statement
//! logging (`sqlx_logging`), its `sea_orm.execute` spans and its metric callback. The engine's
//! own spans and metrics cover every batch either way.

#[cfg(any(
    feature = "sqlx-postgres",
    feature = "sqlx-mysql",
    feature = "sqlx-sqlite"
))]
use errors::{acquire_error, exec_error, parts, query_error};
#[cfg(any(
    feature = "sqlx-postgres",
    feature = "sqlx-mysql",
    feature = "sqlx-sqlite"
))]
use futures::lock::Mutex;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement, TransactionSession,
};

/// The transaction one batch (or an atomic operation) runs in.
pub(crate) enum BatchTxn<T> {
    /// SeaORM's transaction: inside a caller's transaction, or on a connection the library does
    /// not own.
    Orm(T),
    /// A transaction on the pool's own connection, run through sqlx.
    Direct(Direct),
}

/// A sqlx transaction of one backend.
pub(crate) enum Direct {
    #[cfg(feature = "sqlx-postgres")]
    Postgres(Mutex<sea_orm::sqlx::Transaction<'static, sea_orm::sqlx::Postgres>>),
    #[cfg(feature = "sqlx-mysql")]
    MySql(Mutex<sea_orm::sqlx::Transaction<'static, sea_orm::sqlx::MySql>>),
    #[cfg(feature = "sqlx-sqlite")]
    Sqlite(Mutex<sea_orm::sqlx::Transaction<'static, sea_orm::sqlx::Sqlite>>),
    /// Without any sqlx backend there is no direct transaction.
    #[allow(dead_code)]
    Never(std::convert::Infallible),
}

impl<T> std::fmt::Debug for BatchTxn<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchTxn::Orm(_) => f.write_str("BatchTxn::Orm"),
            BatchTxn::Direct(_) => f.write_str("BatchTxn::Direct"),
        }
    }
}

/// Begins a transaction on `db`'s own pool, when sqlx can be reached for its backend.
pub(crate) async fn begin(db: &sea_orm::DatabaseConnection) -> Option<Result<Direct, DbErr>> {
    match db.get_database_backend() {
        #[cfg(feature = "sqlx-postgres")]
        DbBackend::Postgres => Some(
            db.get_postgres_connection_pool()
                .begin()
                .await
                .map(|txn| Direct::Postgres(Mutex::new(txn)))
                .map_err(acquire_error),
        ),
        #[cfg(feature = "sqlx-mysql")]
        DbBackend::MySql => Some(
            db.get_mysql_connection_pool()
                .begin()
                .await
                .map(|txn| Direct::MySql(Mutex::new(txn)))
                .map_err(acquire_error),
        ),
        #[cfg(feature = "sqlx-sqlite")]
        DbBackend::Sqlite => Some(
            db.get_sqlite_connection_pool()
                .begin()
                .await
                .map(|txn| Direct::Sqlite(Mutex::new(txn)))
                .map_err(acquire_error),
        ),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// sqlx's errors as SeaORM reports them, so that they are classified alike.
#[cfg(any(
    feature = "sqlx-postgres",
    feature = "sqlx-mysql",
    feature = "sqlx-sqlite"
))]
mod errors {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, Statement};

    /// `BEGIN`'s error: the pool's own failures as `ConnectionAcquire`.
    pub(super) fn acquire_error(error: sea_orm::sqlx::Error) -> DbErr {
        match error {
            sea_orm::sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            sea_orm::sqlx::Error::PoolClosed => {
                DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
            }
            other => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(other))),
        }
    }

    pub(super) fn exec_error(error: sea_orm::sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
    }

    pub(super) fn query_error(error: sea_orm::sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
    }

    /// The statement's text and its values, moved out of it.
    pub(super) fn parts(stmt: Statement) -> (String, sea_orm::sea_query::Values) {
        let values = stmt
            .values
            .unwrap_or_else(|| sea_orm::sea_query::Values(Vec::new()));
        (stmt.sql, values)
    }
}

/// Runs `$body` with `$query` (the statement bound by move) and `$conn` (the transaction's
/// connection) for whichever backend the transaction is on.
macro_rules! on_backend {
    ($direct:expr, $stmt:expr, |$query:ident, $conn:ident| $body:expr) => {{
        let stmt = $stmt;
        match $direct {
            #[cfg(feature = "sqlx-postgres")]
            Direct::Postgres(txn) => {
                let (sql, values) = parts(stmt);
                let mut guard = txn.lock().await;
                let $conn = &mut **guard;
                let $query = sea_orm::sqlx::query_with(
                    sea_orm::sqlx::AssertSqlSafe(sql),
                    sea_query_sqlx::SqlxValues(values),
                );
                $body
            }
            #[cfg(feature = "sqlx-mysql")]
            Direct::MySql(txn) => {
                let (sql, values) = parts(stmt);
                let mut guard = txn.lock().await;
                let $conn = &mut **guard;
                let $query = sea_orm::sqlx::query_with(
                    sea_orm::sqlx::AssertSqlSafe(sql),
                    sea_query_sqlx::SqlxValues(values),
                );
                $body
            }
            #[cfg(feature = "sqlx-sqlite")]
            Direct::Sqlite(txn) => {
                let (sql, values) = parts(stmt);
                let mut guard = txn.lock().await;
                let $conn = &mut **guard;
                let $query = sea_orm::sqlx::query_with(
                    sea_orm::sqlx::AssertSqlSafe(sql),
                    sea_query_sqlx::SqlxValues(values),
                );
                $body
            }
            Direct::Never(never) => {
                let _ = stmt;
                match *never {}
            }
        }
    }};
}

impl Direct {
    fn backend(&self) -> DbBackend {
        match *self {
            #[cfg(feature = "sqlx-postgres")]
            Direct::Postgres(_) => DbBackend::Postgres,
            #[cfg(feature = "sqlx-mysql")]
            Direct::MySql(_) => DbBackend::MySql,
            #[cfg(feature = "sqlx-sqlite")]
            Direct::Sqlite(_) => DbBackend::Sqlite,
            Direct::Never(never) => match never {},
        }
    }

    async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        on_backend!(self, stmt, |query, conn| query
            .execute(conn)
            .await
            .map(Into::into)
            .map_err(exec_error))
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            #[cfg(feature = "sqlx-postgres")]
            Direct::Postgres(txn) => {
                let mut guard = txn.lock().await;
                sea_orm::sqlx::Executor::execute(
                    &mut **guard,
                    sea_orm::sqlx::AssertSqlSafe(sql.to_owned()),
                )
                .await
                .map(Into::into)
                .map_err(exec_error)
            }
            #[cfg(feature = "sqlx-mysql")]
            Direct::MySql(txn) => {
                let mut guard = txn.lock().await;
                sea_orm::sqlx::Executor::execute(
                    &mut **guard,
                    sea_orm::sqlx::AssertSqlSafe(sql.to_owned()),
                )
                .await
                .map(Into::into)
                .map_err(exec_error)
            }
            #[cfg(feature = "sqlx-sqlite")]
            Direct::Sqlite(txn) => {
                let mut guard = txn.lock().await;
                sea_orm::sqlx::Executor::execute(
                    &mut **guard,
                    sea_orm::sqlx::AssertSqlSafe(sql.to_owned()),
                )
                .await
                .map(Into::into)
                .map_err(exec_error)
            }
            Direct::Never(never) => {
                let _ = sql;
                match *never {}
            }
        }
    }

    async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        on_backend!(self, stmt, |query, conn| query
            .fetch_optional(conn)
            .await
            .map(|row| row.map(Into::into))
            .map_err(query_error))
    }

    async fn query_all(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        on_backend!(self, stmt, |query, conn| query
            .fetch_all(conn)
            .await
            .map(|rows| rows.into_iter().map(Into::into).collect())
            .map_err(query_error))
    }

    async fn commit(self) -> Result<(), DbErr> {
        match self {
            #[cfg(feature = "sqlx-postgres")]
            Direct::Postgres(txn) => txn.into_inner().commit().await.map_err(query_error),
            #[cfg(feature = "sqlx-mysql")]
            Direct::MySql(txn) => txn.into_inner().commit().await.map_err(query_error),
            #[cfg(feature = "sqlx-sqlite")]
            Direct::Sqlite(txn) => txn.into_inner().commit().await.map_err(query_error),
            Direct::Never(never) => match never {},
        }
    }

    async fn rollback(self) -> Result<(), DbErr> {
        match self {
            #[cfg(feature = "sqlx-postgres")]
            Direct::Postgres(txn) => txn.into_inner().rollback().await.map_err(query_error),
            #[cfg(feature = "sqlx-mysql")]
            Direct::MySql(txn) => txn.into_inner().rollback().await.map_err(query_error),
            #[cfg(feature = "sqlx-sqlite")]
            Direct::Sqlite(txn) => txn.into_inner().rollback().await.map_err(query_error),
            Direct::Never(never) => match never {},
        }
    }
}

#[async_trait::async_trait]
impl<T: ConnectionTrait + Send + Sync> ConnectionTrait for BatchTxn<T> {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            BatchTxn::Orm(txn) => txn.get_database_backend(),
            BatchTxn::Direct(direct) => direct.backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            BatchTxn::Orm(txn) => txn.execute_raw(stmt).await,
            BatchTxn::Direct(direct) => direct.execute(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            BatchTxn::Orm(txn) => txn.execute_unprepared(sql).await,
            BatchTxn::Direct(direct) => direct.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            BatchTxn::Orm(txn) => txn.query_one_raw(stmt).await,
            BatchTxn::Direct(direct) => direct.query_one(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            BatchTxn::Orm(txn) => txn.query_all_raw(stmt).await,
            BatchTxn::Direct(direct) => direct.query_all(stmt).await,
        }
    }

    fn support_returning(&self) -> bool {
        match self {
            BatchTxn::Orm(txn) => txn.support_returning(),
            BatchTxn::Direct(direct) => direct.backend().support_returning(),
        }
    }
}

#[async_trait::async_trait]
impl<T: TransactionSession + Send> TransactionSession for BatchTxn<T> {
    async fn commit(self) -> Result<(), DbErr> {
        match self {
            BatchTxn::Orm(txn) => txn.commit().await,
            BatchTxn::Direct(direct) => direct.commit().await,
        }
    }

    async fn rollback(self) -> Result<(), DbErr> {
        match self {
            BatchTxn::Orm(txn) => txn.rollback().await,
            BatchTxn::Direct(direct) => direct.rollback().await,
        }
    }
}

#[cfg(all(test, feature = "sqlx-sqlite"))]
mod tests {
    use super::errors::{acquire_error, exec_error};
    use crate::bulk::transient::{connection_lost, is_transient};
    use crate::error::Error;
    use sea_orm::{ConnAcquireErr, DbErr};

    #[test]
    fn sqlx_errors_are_classified_as_seaorms_are() {
        let timeout = acquire_error(sea_orm::sqlx::Error::PoolTimedOut);
        assert!(matches!(
            timeout,
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)
        ));
        assert!(is_transient(&Error::Db(timeout)));
        let io = || {
            sea_orm::sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset",
            ))
        };
        assert!(connection_lost(&Error::Db(acquire_error(io()))));
        assert!(connection_lost(&Error::Db(exec_error(io()))));
        assert!(!is_transient(&Error::Db(exec_error(
            sea_orm::sqlx::Error::RowNotFound
        ))));
    }
}
