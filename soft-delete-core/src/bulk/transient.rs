//! What a database error means for a batch, by each backend's codes: worth retrying (deadlocks,
//! serialization failures, lock wait timeouts, busy databases, lost connections), the server's
//! own time limit (the batch's `query_timeout`), or a lost connection (which during `COMMIT`
//! leaves the outcome unknown).

use sea_orm::DbErr;

use crate::error::Error;

/// Deadlocks, serialization failures, lock wait timeouts, busy or locked databases and dropped
/// connections: errors after which the same batch may well succeed.
pub(crate) fn is_transient(error: &Error) -> bool {
    connection_lost(error)
        || matches!(error, Error::Db(DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e)) if runtime_busy(e))
}

/// The database cannot be reached, or stopped serving this client: a connection that broke or
/// cannot be opened (refused, reset, a proxy that accepts while no server is behind it and
/// answers nothing sensible), a pool that found no connection in time, a server shutting down,
/// starting up or in recovery, or no longer (or not yet) the primary, a Galera node outside
/// the primary component. What a failover looks like from the client: worth trying again for
/// as long as `reconnect_for` allows.
pub(crate) fn connection_lost(error: &Error) -> bool {
    matches!(error, Error::Db(error) if database_gone(error))
}

/// [`connection_lost`], for a database error.
pub(crate) fn database_gone(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => runtime_lost(e),
        _ => false,
    }
}

#[cfg(any(
    feature = "sqlx-sqlite",
    feature = "sqlx-postgres",
    feature = "sqlx-mysql"
))]
fn runtime_lost(error: &sea_orm::RuntimeErr) -> bool {
    use sea_orm::sqlx;
    match error {
        sea_orm::RuntimeErr::SqlxError(error) => match error.as_ref() {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => meaning(db.as_ref()).lost,
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
fn runtime_lost(_error: &sea_orm::RuntimeErr) -> bool {
    false
}

/// What each backend's error codes mean for a batch.
#[cfg(any(
    feature = "sqlx-sqlite",
    feature = "sqlx-postgres",
    feature = "sqlx-mysql"
))]
mod codes {
    /// What a database's answer means for a batch, by its backend's codes.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub(super) struct Meaning {
        /// The server is not serving this client now
        /// ([`connection_lost`](super::connection_lost)).
        pub(super) lost: bool,
        /// It could not do the work now, and may well do it on another try (a deadlock, a lock, a
        /// busy file).
        pub(super) busy: bool,
        /// It stopped the statement at the limit the batch set
        /// ([`server_timeout`](super::server_timeout)).
        pub(super) limit: bool,
    }

    impl Meaning {
        const NONE: Meaning = Meaning {
            lost: false,
            busy: false,
            limit: false,
        };
        const LOST: Meaning = Meaning {
            lost: true,
            ..Meaning::NONE
        };
        const BUSY: Meaning = Meaning {
            busy: true,
            ..Meaning::NONE
        };
        const LIMIT: Meaning = Meaning {
            limit: true,
            ..Meaning::NONE
        };
        /// A lock wait that ran out: the batch's own limit, and worth another try.
        const BUSY_AT_LIMIT: Meaning = Meaning {
            busy: true,
            limit: true,
            ..Meaning::NONE
        };
    }

    /// Every code this module knows, per backend, in one place:
    ///
    /// * **Not serving you now** (`lost`): PostgreSQL's connection exceptions (class 08),
    ///   `admin_shutdown` (57P01), `crash_shutdown` (57P02), `cannot_connect_now` (57P03, starting
    ///   up or in recovery) and `read_only_sql_transaction` (25006, a primary demoted under the
    ///   session); MySQL/MariaDB's `ER_UNKNOWN_COM_ERROR` (1047, a Galera node outside the primary
    ///   component), `ER_SERVER_SHUTDOWN` (1053), `ER_CONNECTION_KILLED` (1927),
    ///   `ER_CON_COUNT_ERROR` (1040) and the client's lost-connection codes (2002, 2003, 2006,
    ///   2013).
    /// * **Busy** (`busy`): PostgreSQL `serialization_failure` (40001), `deadlock_detected` (40P01)
    ///   and `lock_not_available` (55P03); MySQL/MariaDB `ER_LOCK_DEADLOCK` (1213) and
    ///   `ER_LOCK_WAIT_TIMEOUT` (1205); SQLite `SQLITE_BUSY` (5) and `SQLITE_LOCKED` (6) with their
    ///   extended codes, such as `SQLITE_BUSY_SNAPSHOT` (517).
    /// * **At the batch's limit** (`limit`): PostgreSQL `query_canceled` (57014) and
    ///   `lock_not_available` (55P03); MariaDB `max_statement_time` (1969), MySQL
    ///   `MAX_EXECUTION_TIME` (3024), a killed query (1317) and a lock wait timeout (1205); SQLite
    ///   busy after its busy timeout (5, but not `SQLITE_BUSY_SNAPSHOT`, 517, which no wait can
    ///   clear).
    pub(super) fn meaning(error: &dyn sea_orm::sqlx::error::DatabaseError) -> Meaning {
        #[cfg(feature = "sqlx-mysql")]
        if let Some(mysql) = error.try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>() {
            return match mysql.number() {
                1047 | 1053 | 1927 | 1040 | 2002 | 2003 | 2006 | 2013 => Meaning::LOST,
                1213 => Meaning::BUSY,
                1205 => Meaning::BUSY_AT_LIMIT,
                1969 | 3024 | 1317 => Meaning::LIMIT,
                _ => Meaning::NONE,
            };
        }
        #[cfg(feature = "sqlx-sqlite")]
        if error
            .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
            .is_some()
        {
            let code = error
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .unwrap_or(0);
            return Meaning {
                lost: false,
                busy: matches!(code & 0xff, 5 | 6),
                limit: code & 0xff == 5 && code != 517,
            };
        }
        match error.code().as_deref() {
            Some("57P01" | "57P02" | "57P03" | "25006") => Meaning::LOST,
            Some("40001" | "40P01") => Meaning::BUSY,
            Some("55P03") => Meaning::BUSY_AT_LIMIT,
            Some("57014") => Meaning::LIMIT,
            Some(code) if code.starts_with("08") => Meaning::LOST,
            _ => Meaning::NONE,
        }
    }
}

#[cfg(any(
    feature = "sqlx-sqlite",
    feature = "sqlx-postgres",
    feature = "sqlx-mysql"
))]
use codes::meaning;

/// The database answered that it could not do the work now (a deadlock, a lock, a busy file).
#[cfg(any(
    feature = "sqlx-sqlite",
    feature = "sqlx-postgres",
    feature = "sqlx-mysql"
))]
fn runtime_busy(error: &sea_orm::RuntimeErr) -> bool {
    match error {
        sea_orm::RuntimeErr::SqlxError(error) => match error.as_ref() {
            sea_orm::sqlx::Error::Database(db) => meaning(db.as_ref()).busy,
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
fn runtime_busy(_error: &sea_orm::RuntimeErr) -> bool {
    false
}

/// The root runtime error of a `DbErr`, if it has one.
fn runtime(error: &DbErr) -> Option<&sea_orm::RuntimeErr> {
    match error {
        DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e) => Some(e),
        _ => None,
    }
}

/// True when the connection failed (I/O, protocol, a crashed worker) rather than the database
/// answering with an error: during `COMMIT`, the client cannot know whether the server applied
/// it.
pub(crate) fn outcome_unknown(error: &DbErr) -> bool {
    #[cfg(any(
        feature = "sqlx-sqlite",
        feature = "sqlx-postgres",
        feature = "sqlx-mysql"
    ))]
    if let Some(sea_orm::RuntimeErr::SqlxError(error)) = runtime(error) {
        use sea_orm::sqlx;
        return matches!(
            error.as_ref(),
            sqlx::Error::Io(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed
        );
    }
    let _ = runtime(error);
    false
}

/// True when the server stopped a statement at the limit the batch set (or because the batch's
/// backstop cancelled it); the codes are `codes::meaning`'s.
pub(crate) fn server_timeout(error: &DbErr) -> bool {
    #[cfg(any(
        feature = "sqlx-sqlite",
        feature = "sqlx-postgres",
        feature = "sqlx-mysql"
    ))]
    if let Some(sea_orm::RuntimeErr::SqlxError(error)) = runtime(error)
        && let sea_orm::sqlx::Error::Database(db) = error.as_ref()
    {
        return meaning(db.as_ref()).limit;
    }
    let _ = runtime(error);
    false
}

/// The Galera write-set limit a MariaDB error reports, if any: `wsrep_max_ws_rows` (error 1180,
/// "wsrep_max_ws_rows exceeded", raised by the statement that crosses it) or
/// `wsrep_max_ws_size` (1105 "Maximum writeset size exceeded" from wsrep-lib, or 1180 with
/// "Message too long" from older providers). Either way the node rolled the whole transaction
/// back.
pub(crate) fn write_set_limit(error: &Error) -> Option<&'static str> {
    let Error::Db(DbErr::Conn(e) | DbErr::Exec(e) | DbErr::Query(e)) = error else {
        return None;
    };
    #[cfg(feature = "sqlx-mysql")]
    if let sea_orm::RuntimeErr::SqlxError(error) = e
        && let sea_orm::sqlx::Error::Database(db) = error.as_ref()
        && let Some(mysql) = db.try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>()
        && matches!(mysql.number(), 1180 | 1105)
    {
        let message = mysql.message();
        if message.contains("wsrep_max_ws_rows") {
            return Some("wsrep_max_ws_rows");
        }
        if message.contains("wsrep_max_ws_size")
            || message.contains("Maximum writeset size")
            || message.contains("Message too long")
        {
            return Some("wsrep_max_ws_size");
        }
    }
    let _ = e;
    None
}

#[cfg(all(test, feature = "sqlx-postgres"))]
mod tests {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr, sqlx};

    use super::{connection_lost, is_transient};
    use crate::error::Error;

    fn sqlx_error(error: sqlx::Error) -> Error {
        Error::Db(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error))))
    }

    #[test]
    fn a_failover_is_a_lost_connection_and_transient() {
        // What the issue saw through HAProxy while no node was primary yet, a refused or reset
        // connection, a pool that found no connection in time.
        let lost = [
            sqlx_error(sqlx::Error::Protocol(
                "unexpected response from SSLRequest: 0x00".to_owned(),
            )),
            sqlx_error(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "refused",
            ))),
            sqlx_error(sqlx::Error::PoolTimedOut),
            Error::Db(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
        ];
        for error in &lost {
            assert!(connection_lost(error), "{error}");
            assert!(is_transient(error), "{error}");
        }
    }

    #[test]
    fn an_answer_of_the_database_is_not_a_lost_connection() {
        let answered = [
            Error::Db(DbErr::Custom("boom".to_owned())),
            sqlx_error(sqlx::Error::RowNotFound),
            sqlx_error(sqlx::Error::ColumnNotFound("x".to_owned())),
            Error::Timeout(std::time::Duration::from_secs(1)),
        ];
        for error in &answered {
            assert!(!connection_lost(error), "{error}");
        }
    }
}
