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
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbErr, Statement, TransactionSession, TransactionTrait};
use tracing::Instrument;

use super::transient::is_transient;
use crate::config::SoftDeleteConfig;
use crate::error::{Error, Result};
use crate::operation::OperationKind;
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

    /// The statements the next batch would send, for `EXPLAIN`: changes nothing, but may run
    /// the read-only queries those statements depend on. Consumes the next batch's input.
    fn preview<'a, T: ConnectionTrait>(
        &'a mut self,
        conn: &'a T,
    ) -> impl Future<Output = Result<Vec<Statement>, DbErr>> + Send + 'a;

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

/// How to run one operation: its options, resolved against the configuration and checked
/// (see `BatchOptions::into_plan`).
pub(crate) struct Plan<'a> {
    pub(crate) kind: OperationKind,
    pub(crate) table: String,
    pub(crate) config: SoftDeleteConfig,
    pub(crate) alerts: Arc<dyn AlertSink>,
    pub(crate) batch_size: usize,
    pub(crate) atomic: bool,
    pub(crate) pause: Duration,
    pub(crate) max_duration: Option<Duration>,
    pub(crate) progress: Option<Arc<ProgressFn<'a>>>,
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
        operation = %plan.kind,
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
                let result =
                    with_timeout(self.plan.config.query_timeout, source.execute(&txn, &unit)).await;
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
            if let Some(progress) = &self.plan.progress {
                progress(&Progress {
                    operation: self.plan.kind,
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
            operation: self.plan.kind,
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
        let config = &self.plan.config;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let result = with_timeout(config.query_timeout, async {
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
        let config = &self.plan.config;
        if self.alerted
            || !config.alert_on_bulk_operations
            || rows < config.bulk_operation_alert_threshold
        {
            return;
        }
        self.alerted = true;
        self.plan.alerts.alert(&BulkAlert {
            operation: self.plan.kind,
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
            operation: self.plan.kind,
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
