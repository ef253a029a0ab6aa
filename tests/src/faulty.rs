//! A connection that injects faults into the transactions bulk operations run through it, at
//! chosen transactions: a failing statement, a lost connection before `COMMIT`, and the two ways
//! a `COMMIT` can be lost (applied with its reply lost, or never applied).
//!
//! The engine opens one transaction per attempt at a batch, so the n-th `begin` is the n-th
//! attempt; [`FaultyDb::log`] tells which attempts met which fault.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    ExecResult, IsolationLevel, QueryResult, RuntimeErr, Statement, TransactionError,
    TransactionOptions, TransactionSession, TransactionTrait,
};
use soft_delete_core::BulkConnection;

/// A fault, injected into one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Injected {
    /// The transaction's first `INSERT`, `UPDATE` or `DELETE` fails with an error that is not
    /// transient; nothing of the transaction is kept.
    StatementError,
    /// The same statement fails with a lost connection, which is transient.
    ConnectionLost,
    /// `COMMIT` is applied, then its reply is lost: the client sees a connection error.
    ReplyLost,
    /// The transaction is rolled back instead of committed, and the client sees a connection
    /// error, as when the connection breaks before the server applies `COMMIT`.
    CommitLost,
}

/// A `DatabaseConnection` whose transactions meet the faults planned for them.
#[derive(Clone, Debug)]
pub struct FaultyDb {
    /// The real connection.
    pub db: DatabaseConnection,
    planned: Arc<Mutex<HashMap<u64, Injected>>>,
    log: Arc<Mutex<Vec<(u64, Injected)>>>,
    begun: Arc<AtomicU64>,
    after_lost_reply: Option<AfterLostReply>,
}

/// What runs between a [`Injected::ReplyLost`] commit and the error the client sees; it is
/// given the server session (PostgreSQL's backend pid) the commit ran in.
#[derive(Clone)]
pub struct AfterLostReply(pub Arc<dyn Fn(Option<i64>) -> Pending + Send + Sync>);

/// The other work of an [`AfterLostReply`].
pub type Pending = Pin<Box<dyn Future<Output = ()> + Send>>;

impl std::fmt::Debug for AfterLostReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterLostReply")
    }
}

impl FaultyDb {
    /// Wraps `db`, with no fault planned.
    pub fn new(db: DatabaseConnection) -> FaultyDb {
        FaultyDb {
            db,
            planned: Arc::default(),
            log: Arc::default(),
            begun: Arc::default(),
            after_lost_reply: None,
        }
    }

    /// Runs `then` after each commit whose reply is lost, before the client sees the loss:
    /// another client's work at the moment the connection broke.
    pub fn after_lost_reply(mut self, then: AfterLostReply) -> FaultyDb {
        self.after_lost_reply = Some(then);
        self
    }

    /// Plans `fault` for the transaction begun `after` more transactions from now (0: the
    /// next one).
    pub fn inject(&self, after: u64, fault: Injected) {
        let at = self.begun.load(Ordering::SeqCst) + after + 1;
        self.planned.lock().expect("plan lock").insert(at, fault);
    }

    /// Forgets every planned fault that has not happened.
    pub fn clear(&self) {
        self.planned.lock().expect("plan lock").clear();
    }

    /// The faults injected so far, with the number of the transaction each met.
    pub fn log(&self) -> Vec<(u64, Injected)> {
        self.log.lock().expect("log lock").clone()
    }

    fn next(&self) -> Option<Injected> {
        let n = self.begun.fetch_add(1, Ordering::SeqCst) + 1;
        let fault = self.planned.lock().expect("plan lock").remove(&n);
        if let Some(fault) = fault {
            self.log.lock().expect("log lock").push((n, fault));
        }
        fault
    }

    fn wrap(&self, inner: DatabaseTransaction) -> FaultyTxn {
        FaultyTxn {
            inner,
            fault: self.next(),
            struck: AtomicU64::new(0),
            after_lost_reply: self.after_lost_reply.clone(),
        }
    }
}

/// A lost connection, as sqlx reports it.
pub fn connection_lost() -> DbErr {
    DbErr::Conn(RuntimeErr::SqlxError(Arc::new(sea_orm::sqlx::Error::Io(
        std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected: connection lost",
        ),
    ))))
}

/// One transaction of a [`FaultyDb`].
#[derive(Debug)]
pub struct FaultyTxn {
    inner: DatabaseTransaction,
    fault: Option<Injected>,
    struck: AtomicU64,
    after_lost_reply: Option<AfterLostReply>,
}

impl FaultyTxn {
    /// The fault a statement meets, once per transaction, on its first write.
    fn strike(&self, statement: &Statement) -> Result<(), DbErr> {
        // MariaDB's statements carry the batch's limit in front: `SET STATEMENT … FOR UPDATE …`.
        let sql = match statement.sql.strip_prefix("SET STATEMENT ") {
            Some(rest) => rest.split_once(" FOR ").map_or(rest, |(_, sql)| sql),
            None => statement.sql.trim_start(),
        };
        let write = ["INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|verb| sql.starts_with(verb));
        if !write || self.struck.fetch_add(1, Ordering::SeqCst) > 0 {
            return Ok(());
        }
        match self.fault {
            Some(Injected::StatementError) => Err(DbErr::Custom(
                "injected: a statement error that is not transient".to_owned(),
            )),
            Some(Injected::ConnectionLost) => Err(connection_lost()),
            _ => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for FaultyTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.strike(&stmt)?;
        self.inner.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.strike(&stmt)?;
        self.inner.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.strike(&stmt)?;
        self.inner.query_all_raw(stmt).await
    }
}

#[async_trait::async_trait]
impl TransactionSession for FaultyTxn {
    async fn commit(self) -> Result<(), DbErr> {
        match self.fault {
            Some(Injected::ReplyLost) => {
                let Some(then) = self.after_lost_reply else {
                    self.inner.commit().await?;
                    return Err(connection_lost());
                };
                let pid = match self.inner.get_database_backend() {
                    DbBackend::Postgres => self
                        .inner
                        .query_one_raw(Statement::from_string(
                            DbBackend::Postgres,
                            "SELECT pg_backend_pid()::int8",
                        ))
                        .await?
                        .map(|row| row.try_get_by_index::<i64>(0))
                        .transpose()?,
                    _ => None,
                };
                self.inner.commit().await?;
                (then.0)(pid).await;
                Err(connection_lost())
            }
            Some(Injected::CommitLost) => {
                self.inner.rollback().await?;
                Err(connection_lost())
            }
            _ => self.inner.commit().await,
        }
    }

    async fn rollback(self) -> Result<(), DbErr> {
        self.inner.rollback().await
    }
}

#[async_trait::async_trait]
impl TransactionTrait for FaultyTxn {
    type Transaction = FaultyTxn;

    async fn begin(&self) -> Result<FaultyTxn, DbErr> {
        Ok(FaultyTxn {
            inner: self.inner.begin().await?,
            fault: None,
            struck: AtomicU64::new(0),
            after_lost_reply: None,
        })
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<FaultyTxn, DbErr> {
        Ok(FaultyTxn {
            inner: self
                .inner
                .begin_with_config(isolation_level, access_mode)
                .await?,
            fault: None,
            struck: AtomicU64::new(0),
            after_lost_reply: None,
        })
    }

    async fn begin_with_options(&self, options: TransactionOptions) -> Result<FaultyTxn, DbErr> {
        Ok(FaultyTxn {
            inner: self.inner.begin_with_options(options).await?,
            fault: None,
            struck: AtomicU64::new(0),
            after_lost_reply: None,
        })
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(&'c FaultyTxn) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let txn = self.begin().await.map_err(TransactionError::Connection)?;
        let result = callback(&txn).await;
        finish(txn, result).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        _isolation_level: Option<IsolationLevel>,
        _access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(&'c FaultyTxn) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.transaction(callback).await
    }
}

/// Commits `txn` after `Ok`, rolls it back after `Err`.
async fn finish<T, E>(txn: FaultyTxn, result: Result<T, E>) -> Result<T, TransactionError<E>> {
    match result {
        Ok(value) => {
            txn.commit().await.map_err(TransactionError::Connection)?;
            Ok(value)
        }
        Err(error) => {
            txn.rollback().await.map_err(TransactionError::Connection)?;
            Err(TransactionError::Transaction(error))
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for FaultyDb {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.db.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.db.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.db.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.db.query_all_raw(stmt).await
    }
}

#[async_trait::async_trait]
impl TransactionTrait for FaultyDb {
    type Transaction = FaultyTxn;

    async fn begin(&self) -> Result<FaultyTxn, DbErr> {
        Ok(self.wrap(self.db.begin().await?))
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<FaultyTxn, DbErr> {
        Ok(self.wrap(
            self.db
                .begin_with_config(isolation_level, access_mode)
                .await?,
        ))
    }

    async fn begin_with_options(&self, options: TransactionOptions) -> Result<FaultyTxn, DbErr> {
        Ok(self.wrap(self.db.begin_with_options(options).await?))
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(&'c FaultyTxn) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        let txn = self.begin().await.map_err(TransactionError::Connection)?;
        let result = callback(&txn).await;
        finish(txn, result).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        _isolation_level: Option<IsolationLevel>,
        _access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(&'c FaultyTxn) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.transaction(callback).await
    }
}

impl BulkConnection for FaultyDb {
    fn control(&self) -> Option<&DatabaseConnection> {
        Some(&self.db)
    }
}
