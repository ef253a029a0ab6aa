//! Which errors are worth retrying: each backend's codes for deadlocks, serialization failures,
//! lock wait timeouts, busy databases and lost connections.

use sea_orm::DbErr;

use crate::error::Error;

/// Deadlocks, serialization failures, lock wait timeouts, busy or locked databases and dropped
/// connections: errors after which the same batch may well succeed.
pub(crate) fn is_transient(error: &Error) -> bool {
    match error {
        Error::Db(DbErr::ConnectionAcquire(_)) => true,
        Error::Db(DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e)) => runtime_transient(e),
        _ => false,
    }
}

#[cfg(any(
    feature = "sqlx-sqlite",
    feature = "sqlx-postgres",
    feature = "sqlx-mysql"
))]
fn runtime_transient(error: &sea_orm::RuntimeErr) -> bool {
    use sea_orm::sqlx;
    match error {
        sea_orm::RuntimeErr::SqlxError(error) => match error.as_ref() {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => database_transient(db.as_ref()),
            _ => false,
        },
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

#[cfg(not(any(
    feature = "sqlx-sqlite",
    feature = "sqlx-postgres",
    feature = "sqlx-mysql"
)))]
fn runtime_transient(_error: &sea_orm::RuntimeErr) -> bool {
    false
}

#[cfg(any(
    feature = "sqlx-sqlite",
    feature = "sqlx-postgres",
    feature = "sqlx-mysql"
))]
fn database_transient(error: &dyn sea_orm::sqlx::error::DatabaseError) -> bool {
    #[cfg(feature = "sqlx-mysql")]
    if let Some(mysql) = error.try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>() {
        // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
        return matches!(mysql.number(), 1213 | 1205);
    }
    #[cfg(feature = "sqlx-sqlite")]
    if error
        .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
    {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes such as
        // SQLITE_BUSY_SNAPSHOT (517).
        let code = error
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .unwrap_or(0);
        return matches!(code & 0xff, 5 | 6);
    }
    match error.code().as_deref() {
        // serialization_failure, deadlock_detected, lock_not_available, admin_shutdown
        Some("40001" | "40P01" | "55P03" | "57P01") => true,
        // connection_exception class
        Some(code) => code.starts_with("08"),
        None => false,
    }
}
