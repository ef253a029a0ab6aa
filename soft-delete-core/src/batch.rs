//! The one mechanism every bulk operation goes through.
//!
//! A bulk operation is a `BatchSource` (where the next batch comes from and what it does) run
//! by `run`, which owns everything else: lazy chunking stops at the source, and the engine adds
//! one transaction per batch (or one for all, when atomic), retries of transient errors with
//! backoff, the per-batch timeout, pacing, the time limit, progress callbacks, alerts, tracing,
//! and the final report or the error that says how much was committed.
//!
//! # Cancel safety
//!
//! Dropping an operation's future part-way never leaves half a batch: the batch in flight runs
//! in a transaction that is rolled back when its future is dropped (sqlx rolls back a dropped
//! transaction before the connection is used again). Batches that committed before stay
//! committed; in atomic mode nothing is kept.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use sea_orm::sea_query::{Condition, IntoValueTuple, ValueTuple};
use sea_orm::{
    ConnectionTrait, DbErr, PrimaryKeyTrait, TransactionSession, TransactionTrait, TryGetableMany,
};
use tracing::Instrument;

use crate::config::SoftDeleteConfig;
use crate::dialect::{self, KeyedUpdate};
use crate::entity::Change;
use crate::entity::SoftDelete;
use crate::error::{Error, Result};
use crate::report::{AlertSink, BulkAlert, BulkReport, Progress};

/// A progress callback, called after every batch.
pub(crate) type ProgressFn<'a> = dyn Fn(&Progress) + Send + Sync + 'a;

/// What one batch did.
pub(crate) struct Outcome<N> {
    /// Rows changed.
    pub(crate) affected: u64,
    /// Ids (or rows) consumed.
    pub(crate) processed: u64,
    /// What the source needs to move on.
    pub(crate) next: N,
}

/// Where batches come from and what each one does.
pub(crate) trait BatchSource: Send {
    /// The input of one batch, kept until the batch commits so that it can be retried.
    type Unit: Send + Sync;
    /// What a committed batch hands back to the source.
    type Next: Send;

    /// The total number of ids, when known before the first batch.
    fn total(&self) -> Option<u64>;

    /// The next batch's input; `None` when there is nothing left. Sends no statement.
    fn next_unit(&mut self) -> impl Future<Output = Option<Self::Unit>> + Send;

    /// Runs one batch on `conn` (a transaction). Called again with the same unit for a retry, so
    /// it must not change what the next call does.
    fn execute<'a, T: ConnectionTrait>(
        &'a mut self,
        conn: &'a T,
        unit: &'a Self::Unit,
    ) -> impl Future<Output = Result<Outcome<Self::Next>, DbErr>> + Send + 'a;

    /// Moves past a committed batch.
    fn advance(&mut self, next: Self::Next);

    /// True when the last batch finished the work.
    fn is_done(&self) -> bool;

    /// Rows still to do after an early stop, if the source can tell.
    fn remaining<'a, T: ConnectionTrait>(
        &'a self,
        conn: &'a T,
        processed: u64,
    ) -> impl Future<Output = Result<Option<u64>, DbErr>> + Send + 'a;
}

/// How to run one operation.
pub(crate) struct Plan<'a> {
    pub(crate) operation: &'static str,
    pub(crate) table: String,
    pub(crate) config: &'a SoftDeleteConfig,
    pub(crate) alerts: &'a dyn AlertSink,
    pub(crate) atomic: bool,
    pub(crate) pause: Duration,
    pub(crate) max_duration: Option<Duration>,
    pub(crate) progress: Option<&'a ProgressFn<'a>>,
}

/// Runs `source` batch by batch on `db`.
///
/// # Errors
///
/// [`Error::Bulk`] when a batch fails (after its retries), carrying the rows committed before it.
pub(crate) async fn run<C, S>(db: &C, plan: Plan<'_>, source: &mut S) -> Result<BulkReport>
where
    C: ConnectionTrait + TransactionTrait,
    S: BatchSource,
{
    let span = tracing::info_span!(
        "soft_delete.bulk",
        operation = plan.operation,
        table = %plan.table,
        atomic = plan.atomic,
    );
    Engine::new(plan, source.total())
        .drive(db, source)
        .instrument(span)
        .await
}

struct Engine<'a> {
    plan: Plan<'a>,
    start: Instant,
    total: Option<u64>,
    batches: u64,
    processed: u64,
    affected: u64,
    retries: u64,
    alerted: bool,
}

impl<'a> Engine<'a> {
    fn new(plan: Plan<'a>, total: Option<u64>) -> Self {
        Engine {
            plan,
            start: Instant::now(),
            total,
            batches: 0,
            processed: 0,
            affected: 0,
            retries: 0,
            alerted: false,
        }
    }

    async fn drive<C, S>(mut self, db: &C, source: &mut S) -> Result<BulkReport>
    where
        C: ConnectionTrait + TransactionTrait,
        S: BatchSource,
    {
        if let Some(total) = self.total {
            self.maybe_alert(total, true);
        }
        let mut atomic: Option<C::Transaction> = None;
        let mut stopped_early = false;
        loop {
            if let Some(max) = self.plan.max_duration
                && self.start.elapsed() >= max
            {
                stopped_early = true;
                break;
            }
            let Some(unit) = source.next_unit().await else {
                break;
            };
            self.batches += 1;
            let batch_start = Instant::now();
            let (outcome, attempts) = if self.plan.atomic {
                let txn = match atomic.take() {
                    Some(txn) => txn,
                    None => db.begin().await.map_err(|e| self.fail(e.into(), 1))?,
                };
                let result = with_timeout(
                    self.plan.config.query_timeout(),
                    source.execute(&txn, &unit),
                )
                .await;
                match result {
                    Ok(outcome) => {
                        atomic = Some(txn);
                        (outcome, 1)
                    }
                    Err(error) => {
                        rollback(txn).await;
                        return Err(self.fail(error, 1));
                    }
                }
            } else {
                match self.batch_with_retries(db, source, &unit).await {
                    Ok(done) => done,
                    Err((error, attempts)) => return Err(self.fail(error, attempts)),
                }
            };
            self.affected += outcome.affected;
            self.processed += outcome.processed;
            self.retries += u64::from(attempts - 1);
            source.advance(outcome.next);
            tracing::debug!(
                batch = self.batches,
                affected = outcome.affected,
                processed = outcome.processed,
                attempts,
                elapsed_ms = batch_start.elapsed().as_millis() as u64,
                "batch done"
            );
            if let Some(progress) = self.plan.progress {
                progress(&Progress {
                    operation: self.plan.operation,
                    batches: self.batches,
                    processed: self.processed,
                    affected: self.affected,
                    total: self.total,
                    elapsed: self.start.elapsed(),
                });
            }
            self.maybe_alert(self.processed, false);
            if source.is_done() {
                break;
            }
            if !self.plan.pause.is_zero() {
                tokio::time::sleep(self.plan.pause).await;
            }
        }
        if let Some(txn) = atomic {
            txn.commit().await.map_err(|e| self.fail(e.into(), 1))?;
        }
        let remaining = if stopped_early {
            source.remaining(db, self.processed).await?
        } else {
            None
        };
        let report = BulkReport {
            operation: self.plan.operation,
            table: self.plan.table.clone(),
            requested: self.processed,
            affected: self.affected,
            batches: self.batches,
            retries: self.retries,
            elapsed: self.start.elapsed(),
            dry_run: false,
            stopped_early,
            remaining,
        };
        tracing::info!(
            affected = report.affected,
            requested = report.requested,
            batches = report.batches,
            retries = report.retries,
            elapsed_ms = report.elapsed.as_millis() as u64,
            stopped_early,
            "bulk operation finished"
        );
        Ok(report)
    }

    /// One batch in its own transaction, retried after transient errors.
    async fn batch_with_retries<C, S>(
        &self,
        db: &C,
        source: &mut S,
        unit: &S::Unit,
    ) -> Result<(Outcome<S::Next>, u32), (Error, u32)>
    where
        C: ConnectionTrait + TransactionTrait,
        S: BatchSource,
    {
        let config = self.plan.config;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let result = with_timeout(config.query_timeout(), async {
                let txn = db.begin().await?;
                match source.execute(&txn, unit).await {
                    Ok(outcome) => {
                        txn.commit().await?;
                        Ok(outcome)
                    }
                    Err(error) => {
                        // Never commit after an error: PostgreSQL and MariaDB may report a
                        // later commit as successful while the work was rolled back, or commit
                        // the rest of the batch.
                        rollback(txn).await;
                        Err(error)
                    }
                }
            })
            .await;
            match result {
                Ok(outcome) => return Ok((outcome, attempt)),
                Err(error) if attempt <= config.retry_attempts && is_transient(&error) => {
                    let delay = config.retry_delay(attempt);
                    tracing::warn!(
                        batch = self.batches,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        %error,
                        "transient error; retrying the batch"
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(error) => return Err((error, attempt)),
            }
        }
    }

    fn maybe_alert(&mut self, rows: u64, known_up_front: bool) {
        let config = self.plan.config;
        if self.alerted
            || !config.alert_on_bulk_operations
            || rows < config.bulk_operation_alert_threshold
        {
            return;
        }
        self.alerted = true;
        self.plan.alerts.alert(&BulkAlert {
            operation: self.plan.operation,
            table: self.plan.table.clone(),
            rows,
            threshold: config.bulk_operation_alert_threshold,
            known_up_front,
        });
    }

    fn fail(&self, error: Error, attempts: u32) -> Error {
        let partial_count = if self.plan.atomic { 0 } else { self.affected };
        tracing::error!(
            batch = self.batches,
            partial_count,
            attempts,
            %error,
            "bulk operation failed"
        );
        Error::Bulk {
            operation: self.plan.operation,
            table: self.plan.table.clone(),
            failed_batch: self.batches.max(1),
            partial_count,
            attempts,
            source: Box::new(error),
        }
    }
}

async fn rollback<T: TransactionSession>(txn: T) {
    if let Err(error) = txn.rollback().await {
        // The connection is unusable; the pool discards it, and the server rolls back when it
        // closes. The batch's own error is what the caller needs to see.
        tracing::warn!(%error, "rollback after a failed batch failed");
    }
}

async fn with_timeout<T>(
    limit: Option<Duration>,
    work: impl Future<Output = std::result::Result<T, DbErr>>,
) -> Result<T> {
    match limit {
        None => work.await.map_err(Error::from),
        Some(limit) => match tokio::time::timeout(limit, work).await {
            Ok(result) => result.map_err(Error::from),
            Err(_elapsed) => Err(Error::Timeout(limit)),
        },
    }
}

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

/// Batches of ids from a stream: bulk soft delete and restore of rows named by key.
pub(crate) struct IdSource<E, S> {
    ids: std::pin::Pin<Box<S>>,
    batch_size: usize,
    update: KeyedUpdate,
    total: Option<u64>,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E, S, T> IdSource<E, S>
where
    E: SoftDelete,
    S: Stream<Item = T> + Send,
    T: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    pub(crate) fn new(
        ids: S,
        batch_size: usize,
        backend: sea_orm::DbBackend,
        change: &Change,
        optimize: bool,
    ) -> Self {
        let total = match ids.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(lower as u64),
            _ => None,
        };
        IdSource {
            ids: Box::pin(ids),
            batch_size,
            update: KeyedUpdate::new::<E>(backend, change, optimize),
            total,
            _entity: std::marker::PhantomData,
        }
    }
}

impl<E, S, T> BatchSource for IdSource<E, S>
where
    E: SoftDelete,
    S: Stream<Item = T> + Send,
    T: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    type Unit = Vec<ValueTuple>;
    type Next = ();

    fn total(&self) -> Option<u64> {
        self.total
    }

    async fn next_unit(&mut self) -> Option<Vec<ValueTuple>> {
        let mut unit = Vec::with_capacity(self.batch_size);
        while unit.len() < self.batch_size {
            match self.ids.next().await {
                Some(id) => unit.push(id.into().into_value_tuple()),
                None => break,
            }
        }
        (!unit.is_empty()).then_some(unit)
    }

    fn execute<'a, C: ConnectionTrait>(
        &'a mut self,
        conn: &'a C,
        unit: &'a Vec<ValueTuple>,
    ) -> impl Future<Output = Result<Outcome<()>, DbErr>> + Send + 'a {
        let statements = self.update.statements(unit);
        async move {
            let mut affected = 0;
            for statement in statements {
                affected += conn.execute_raw(statement).await?.rows_affected();
            }
            Ok(Outcome {
                affected,
                processed: unit.len() as u64,
                next: (),
            })
        }
    }

    fn advance(&mut self, _next: ()) {}

    fn is_done(&self) -> bool {
        false
    }

    fn remaining<'a, C: ConnectionTrait>(
        &'a self,
        _conn: &'a C,
        processed: u64,
    ) -> impl Future<Output = Result<Option<u64>, DbErr>> + Send + 'a {
        std::future::ready(Ok(self.total.map(|total| total.saturating_sub(processed))))
    }
}

/// What a keyset walk does to each range of rows.
#[derive(Clone, Debug)]
pub(crate) enum KeysetAction {
    /// Soft delete or restore.
    Update(Change),
    /// Remove for good.
    Delete,
}

/// Batches of rows chosen by a condition, walked forward by primary key.
pub(crate) struct KeysetSource<E> {
    condition: Condition,
    action: KeysetAction,
    batch_size: usize,
    cursor: Option<ValueTuple>,
    done: bool,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E: SoftDelete> KeysetSource<E> {
    /// Walks the rows matching `condition` (the action adds its own guard: active rows for a
    /// soft delete, deleted rows for a restore).
    pub(crate) fn new(condition: Condition, action: KeysetAction, batch_size: usize) -> Self {
        KeysetSource {
            // Nested, so that the walk's own terms (cursor, bound, state guard) are ANDed with
            // the caller's condition even when it is an `any` or a negated condition.
            condition: Condition::all().add(condition),
            action,
            batch_size,
            cursor: None,
            done: false,
            _entity: std::marker::PhantomData,
        }
    }
}

impl<E: SoftDelete> BatchSource for KeysetSource<E> {
    type Unit = Option<ValueTuple>;
    type Next = Option<ValueTuple>;

    fn total(&self) -> Option<u64> {
        None
    }

    async fn next_unit(&mut self) -> Option<Option<ValueTuple>> {
        (!self.done).then(|| self.cursor.clone())
    }

    async fn execute<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        cursor: &Option<ValueTuple>,
    ) -> Result<Outcome<Option<ValueTuple>>, DbErr> {
        let cursor = cursor.as_ref();
        let bound_query = dialect::keyset_bound::<E>(&self.condition, cursor, self.batch_size);
        let bound = match conn.query_one(&bound_query).await? {
            Some(row) => Some(
                <<E::PrimaryKey as PrimaryKeyTrait>::ValueType as TryGetableMany>::try_get_many_by_index(&row)?
                    .into_value_tuple(),
            ),
            None => None,
        };
        let affected = match &self.action {
            KeysetAction::Update(change) => {
                let update =
                    dialect::keyset_update::<E>(change, &self.condition, cursor, bound.as_ref());
                conn.execute(&update).await?.rows_affected()
            }
            KeysetAction::Delete => {
                let delete = dialect::keyset_delete::<E>(&self.condition, cursor, bound.as_ref());
                conn.execute(&delete).await?.rows_affected()
            }
        };
        Ok(Outcome {
            affected,
            processed: affected,
            next: bound,
        })
    }

    fn advance(&mut self, next: Option<ValueTuple>) {
        match next {
            Some(bound) => self.cursor = Some(bound),
            None => self.done = true,
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    async fn remaining<C: ConnectionTrait>(
        &self,
        conn: &C,
        _processed: u64,
    ) -> Result<Option<u64>, DbErr> {
        let mut condition = dialect::remaining::<E>(&self.condition, self.cursor.as_ref());
        if let KeysetAction::Update(change) = &self.action {
            condition = condition.add(change.guard::<E>());
        }
        count(conn, &dialect::count_where::<E>(&condition))
            .await
            .map(Some)
    }
}

/// Runs a `SELECT COUNT(*) …` and reads the count.
pub(crate) async fn count<C: ConnectionTrait>(
    conn: &C,
    query: &sea_orm::sea_query::SelectStatement,
) -> Result<u64, DbErr> {
    let row = conn
        .query_one(query)
        .await?
        .ok_or_else(|| DbErr::Custom("COUNT(*) returned no row".to_owned()))?;
    let count: i64 = row.try_get_by_index(0)?;
    Ok(count.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::IntoValueTuple;
    use sea_orm::{ColumnTrait, DbBackend};

    use super::*;
    use crate::test_entities::user;

    #[test]
    fn a_callers_any_condition_stays_one_term_of_the_walk() {
        let any = Condition::any()
            .add(user::Column::Id.between(1, 5))
            .add(user::Column::Name.eq("x"));
        let source = KeysetSource::<user::Entity>::new(any, KeysetAction::Delete, 10);
        let cursor = 3i64.into_value_tuple();
        let bound = dialect::keyset_bound::<user::Entity>(&source.condition, Some(&cursor), 10);
        assert_eq!(
            DbBackend::Sqlite.build(&bound).to_string(),
            r#"SELECT "id" FROM "users" WHERE (("users"."id" BETWEEN 1 AND 5) OR "users"."name" = 'x') AND "id" > 3 ORDER BY "id" ASC LIMIT 1 OFFSET 9"#
        );
        let negated = Condition::all().add(user::Column::Id.eq(2)).not();
        let source = KeysetSource::<user::Entity>::new(negated, KeysetAction::Delete, 10);
        let delete = dialect::keyset_delete::<user::Entity>(&source.condition, Some(&cursor), None);
        assert_eq!(
            DbBackend::Sqlite.build(&delete).to_string(),
            r#"DELETE FROM "users" WHERE (NOT "users"."id" = 2) AND "id" > 3"#
        );
    }
}
