//! The one mechanism every bulk operation goes through.
//!
//! A bulk operation is a `BatchSource` (where the next batch comes from and what it does) run
//! by `run`, which owns everything else: lazy chunking stops at the source, and the engine adds
//! one transaction per batch (or one for all, when atomic), the batch's session with its
//! server-side time limit (`session`), retries of transient errors with backoff, the check of a
//! batch whose `COMMIT` was lost, pacing, the time limit, progress callbacks, alerts, tracing,
//! and the final report or the error that says how much was committed.
//!
//! # A lost COMMIT
//!
//! When the connection fails while a batch's `COMMIT` is on its way, the client cannot know
//! whether the server applied it. The engine then ends the batch's session on the server,
//! waits until the server no longer lists it (from then on the outcome is settled), and asks
//! the source to check, on another connection, whether the batch's changes are there (every
//! row of a soft delete carries the operation's exact `deleted_at`). A batch found committed is
//! counted, one found rolled back is retried like any batch that failed on a lost connection,
//! and one the source cannot check fails the operation with [`Error::CommitUnknown`]. The
//! client's timeout never wraps a `COMMIT`: a slow one is waited for.
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

use super::BulkConnection;
use super::direct::BatchTxn;
use super::session::{self, Dialed, End, HardDelete, Learned, Limited, Session, Settled};
use super::transient::{
    connection_lost, database_gone, is_transient, outcome_unknown, server_timeout,
};
use crate::change::Verdict;
use crate::config::SoftDeleteConfig;
use crate::error::{Error, Result};
use crate::operation::{OperationKind, OperationStatus};
use crate::report::{AlertSink, BulkAlert, BulkReport, Progress};
use crate::step::log::{LogRow, Totals};
use crate::step::{Interrupt, Ran, Tally, announce};

/// A progress callback, called after every batch.
pub(crate) type ProgressFn<'a> = dyn Fn(&Progress) + Send + Sync + 'a;

/// What one batch did: what the step did to the rows, and what the source consumed.
pub(crate) struct Done<N> {
    /// The step's account of the batch.
    pub(crate) ran: Ran,
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
    ) -> impl Future<Output = Result<Done<Self::Next>, Interrupt>> + Send + 'a;

    /// The statements the next batch would send, for `EXPLAIN`: changes nothing, but may run
    /// the read-only queries those statements depend on. Consumes the next batch's input.
    fn preview<'a, T: ConnectionTrait>(
        &'a mut self,
        conn: &'a T,
    ) -> impl Future<Output = Result<Vec<Statement>, DbErr>> + Send + 'a;

    /// After the `COMMIT` of a batch that ran `unit` and did `ran` was lost (or a hook ended its
    /// transaction), and its session has ended: whether the batch's changes are in the
    /// database, checked on `conn`, another session. [`Verdict::Unknown`] when the source cannot
    /// tell.
    fn verify<'a, T: ConnectionTrait>(
        &'a mut self,
        conn: &'a T,
        unit: &'a Self::Unit,
        ran: &'a Ran,
    ) -> impl Future<Output = Result<Verdict, DbErr>> + Send + 'a;

    /// Moves past a committed batch.
    fn advance(&mut self, next: Self::Next);

    /// Takes back the input of a committed batch. The default drops it at once; a source whose
    /// input is large may keep it to drop beside its next batch, where freeing it costs the
    /// batches no time.
    fn recycle(&mut self, unit: Self::Unit) {
        drop(unit);
    }

    /// True when the last batch finished the work.
    fn is_done(&self) -> bool;

    /// Rows still to do after an early stop, if the source can tell. `processed` counts every
    /// worker's; with several workers the engine sums what each part can tell (a part that
    /// cannot says `None`).
    fn remaining<'a, T: ConnectionTrait>(
        &'a self,
        conn: &'a T,
        processed: u64,
    ) -> impl Future<Output = Result<Option<u64>, DbErr>> + Send + 'a;

    /// Whether (and how) `split` shares the work: an operation whose source does not split
    /// never pays for asking.
    const SPLIT: Split = Split::No;

    /// For `workers` workers: narrows this source to the first part of the work and returns the
    /// other parts, over rows no other part reaches (fewer when there is too little work to
    /// share). Reads what it needs on `conn` (a transaction of its own when `SPLIT` says it
    /// reads); changes nothing. The default keeps the work in one part.
    fn split<'a, T: ConnectionTrait>(
        &'a mut self,
        conn: &'a T,
        workers: usize,
    ) -> impl Future<Output = Result<Vec<Self>, DbErr>> + Send + 'a
    where
        Self: Sized,
    {
        let _ = (conn, workers);
        std::future::ready(Ok(Vec::new()))
    }
}

/// How a source shares its work between workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Split {
    /// One part: one worker.
    No,
    /// Parts handed out as the workers ask, without reading anything first.
    Free,
    /// Parts read from the database before the first batch.
    Reads,
}

/// How to run one operation: its options, resolved against the configuration and checked
/// (see `BatchOptions::into_plan`).
pub(crate) struct Plan<'a> {
    /// The operation's id, in its report and span (and its rows, for soft deletes).
    pub(crate) id: crate::operation::OperationId,
    pub(crate) kind: OperationKind,
    pub(crate) table: String,
    pub(crate) config: SoftDeleteConfig,
    /// The workers asked for (1 ..= `MAX_PARALLELISM`); see `workers_on`.
    pub(crate) workers: usize,
    /// Batches sized by their time, when asked for.
    pub(crate) sizing: Option<Sizing>,
    pub(crate) alerts: Arc<dyn AlertSink>,
    /// Rows per batch, read again before every batch.
    pub(crate) batch_size: super::BatchSize,
    pub(crate) atomic: bool,
    pub(crate) pause: Duration,
    /// Extra pause after each batch, as a multiple of the batch's own time.
    pub(crate) sleep_coefficient: f64,
    /// Asked before every batch (before the first only, when atomic) whether it may run.
    pub(crate) throttle: Option<Arc<dyn crate::throttle::Throttle>>,
    /// The longest the throttle may hold one batch back.
    pub(crate) max_throttle_wait: Duration,
    pub(crate) max_duration: Option<Duration>,
    /// Stops the operation before its next batch once given.
    pub(crate) stop: Option<super::StopSignal>,
    pub(crate) progress: Option<Arc<ProgressFn<'a>>>,
    /// The operation's row in the operation log, when the configuration keeps one.
    pub(crate) log: Option<LogRow>,
    /// Who runs the operation and why, for events.
    pub(crate) actor: Option<String>,
    pub(crate) reason: Option<String>,
    /// A quiet operation: no hook and no event (its configuration has no events).
    pub(crate) quiet: bool,
}

impl Plan<'_> {
    /// The workers the operation runs on `db`: one for an atomic operation (one transaction),
    /// inside the caller's transaction (one connection) and on SQLite (one writer at a time).
    pub(crate) fn workers_on<C: BulkConnection>(&self, db: &C) -> usize {
        let single = self.atomic
            || db.control().is_none()
            || db.get_database_backend() == sea_orm::DbBackend::Sqlite;
        match single {
            true => 1,
            false => self.workers,
        }
    }

    /// Says who runs the operation, why, and what chose its rows, for the log and events.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] naming the actor when the log keeps one and it is longer than
    /// the log's `actor` column holds: refused before the first batch, not by the database in
    /// the middle of the operation.
    pub(crate) fn describe(
        &mut self,
        actor: Option<&str>,
        reason: Option<&str>,
        selection: impl FnOnce() -> String,
    ) -> Result<()> {
        self.actor = actor.map(str::to_owned);
        self.reason = reason.map(str::to_owned);
        if let Some(row) = &mut self.log {
            if let Some(actor) = actor
                && actor.chars().count() > crate::step::log::MAX_ACTOR
            {
                return Err(Error::InvalidArgument {
                    name: "actor",
                    reason: format!(
                        "`{}…` has {} characters; the operation log keeps at most {}",
                        actor.chars().take(20).collect::<String>(),
                        actor.chars().count(),
                        crate::step::log::MAX_ACTOR
                    ),
                });
            }
            row.actor = self.actor.clone();
            row.reason = self.reason.clone();
            row.selection = selection();
        }
        Ok(())
    }
}

/// Runs `source` batch by batch on `db`.
///
/// # Errors
///
/// [`Error::Bulk`] when a batch fails (after its retries), carrying the rows committed before it.
pub(crate) async fn run<C, S>(db: &C, plan: Plan<'_>, source: &mut S) -> Result<BulkReport>
where
    C: BulkConnection,
    S: BatchSource,
{
    let span = tracing::info_span!(
        "soft_delete.bulk",
        operation = %plan.kind,
        operation_id = %plan.id,
        table = %plan.table,
        atomic = plan.atomic,
    );
    let mut engine = Engine::new(plan, source.total());
    async move {
        // Split before anything is written: a split that fails changes nothing.
        let mut rest = match (engine.plan.workers_on(db), S::SPLIT) {
            (1, _) | (_, Split::No) => Vec::new(),
            (workers, Split::Free) => source
                .split(db, workers)
                .await
                .map_err(|error| engine.fail(error.into(), 1, 0))?,
            (workers, Split::Reads) => {
                let split = async {
                    // In a transaction, like every statement with bound values the engine
                    // sends outside a batch (see `execute_reaching`).
                    let txn = db.begin().await?;
                    let parts = source.split(&txn, workers).await;
                    rollback(txn).await;
                    parts
                };
                split
                    .await
                    .map_err(|error| engine.fail(error.into(), 1, 0))?
            }
        };
        engine.workers = 1 + rest.len();
        if let Some(row) = &engine.plan.log {
            let backend = db.get_database_backend();
            let mut statements = vec![row.start(backend)];
            if engine.workers > 1 {
                let parts = row.parts_table();
                let exists = crate::sql::table_exists_apart(db, &parts)
                    .await
                    .map_err(|error| engine.fail(error, 1, 0))?;
                if !exists {
                    let error = Error::InvalidArgument {
                        name: "parallel",
                        reason: format!(
                            "{} workers keep their counts in the operation log's table `{parts}`, \
                             which does not exist: create it with \
                             `operation_log::create_parts_table` (or the `CreateOperationLog` \
                             migration), or run the operation with one worker",
                            engine.workers
                        ),
                    };
                    return Err(engine.fail(error, 0, 0));
                }
                statements.extend(row.parts_start(backend, engine.workers));
            }
            if let Err(error) = engine.execute_reaching(db, &statements).await {
                return Err(engine.fail(error.into(), 1, 0));
            }
        }
        let result = engine.drive(db, source, &mut rest).await;
        let status = match &result {
            Ok(report) if report.stopped_early => "stopped",
            Ok(_) => "completed",
            Err(_) => "failed",
        };
        announce::ended(engine.plan.kind, &engine.plan.table, status);
        if let (Err(error), Some(row)) = (&result, &engine.plan.log) {
            // Best effort: the counts are already exact (in the workers' rows when there are
            // several); only the status would be stale.
            let failed = row.finish(
                db.get_database_backend(),
                OperationStatus::Failed,
                Some(error.to_string()),
                engine.summed_totals().as_ref(),
            );
            if let Err(log_error) = engine.execute_reaching(db, &[failed]).await {
                tracing::warn!(%log_error, "recording the failure in the operation log failed");
            }
        }
        result
    }
    .instrument(span)
    .await
}

/// What tells whether a lost `COMMIT` is in the database ([`Engine::check_lost`]).
enum LostCheck<'x, S: BatchSource> {
    /// One batch: the operation log's count of batches, else the source's check of its rows.
    Batch {
        source: &'x mut S,
        unit: &'x S::Unit,
        ran: &'x Ran,
    },
    /// An atomic operation's one `COMMIT`: the operation log's count of batches, all or none.
    All,
}

/// Why a batch did not commit, as one attempt at it ends.
enum Stop {
    /// Rolled back: retried when transient, reported otherwise.
    Failed(Error),
    /// The batch's transaction could not be opened: the database was not reached (or the pool
    /// found no connection within the batch's time limit). Nothing of the batch ran.
    Unreachable(Error),
    /// Rolled back, to run again at once reading its rows first.
    Again,
    /// A hook ended the batch's transaction: never retried. `committed` is what the check
    /// found committed anyway, to count.
    Ended {
        error: Error,
        committed: Option<Ran>,
    },
}

impl Stop {
    /// The error of a batch that could not be opened (the only stops `open` returns).
    fn into_error(self) -> Error {
        match self {
            Stop::Failed(error) | Stop::Unreachable(error) | Stop::Ended { error, .. } => error,
            Stop::Again => Error::Db(DbErr::Custom("a batch asked to run again".to_owned())),
        }
    }
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Stop::Failed(error)
    }
}

impl From<DbErr> for Stop {
    fn from(error: DbErr) -> Self {
        Stop::Failed(error.into())
    }
}

/// A batch that failed for good: the error, the attempts made, and the rows it committed all
/// the same (a hook's `COMMIT`).
struct Failure {
    error: Error,
    attempts: u32,
    committed: Option<Ran>,
}

/// Batches sized by time (`BatchOptions::target_batch_time`): the target, and the sizes the
/// next batch may take.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizing {
    target: Duration,
    min: usize,
    max: usize,
}

impl Sizing {
    /// About `target` per batch, from a starting size of `start` rows: within a tenth and ten
    /// times of it.
    pub(crate) fn new(target: Duration, start: usize) -> Self {
        Sizing {
            target,
            min: (start / 10).max(1),
            max: start
                .saturating_mul(10)
                .min(SoftDeleteConfig::MAX_BATCH_SIZE),
        }
    }

    /// The next size after a batch of `size` rows took `took`: scaled by the target over the
    /// time, by at most half or double, within the bounds.
    pub(crate) fn next(&self, size: usize, took: Duration) -> usize {
        let took = took.as_secs_f64().max(1e-6);
        let factor = (self.target.as_secs_f64() / took).clamp(0.5, 2.0);
        ((size as f64 * factor).round() as usize).clamp(self.min, self.max)
    }
}

/// What the operation has done so far, across its workers: what its progress, report and
/// alerts say.
struct Counts {
    /// Batches begun: the next batch's number is one more.
    begun: u64,
    /// Batches committed.
    batches: u64,
    processed: u64,
    affected: u64,
    /// Rows copied into a purge's archive.
    archived: u64,
    /// Rows changed per table, the operation's own first.
    tally: Tally,
    retries: u64,
    /// Time the throttle held batches back, summed over the workers.
    throttled: Duration,
    /// Time paused between batches, summed over the workers.
    paused: Duration,
    alerted: bool,
}

/// One worker's own account: what its row in the log holds (the operation's row, when it is
/// the only worker).
struct Worker {
    /// 0 for the first worker.
    index: usize,
    /// Rows changed per table by this worker's committed batches, the operation's table first.
    tally: Tally,
    processed: u64,
    batches: u64,
    /// What the first batch learned of the server, for the next ones.
    learned: Learned,
}

impl Worker {
    fn new(index: usize, table: &str) -> Self {
        // The operation's own table first, even when it changes no row.
        let mut tally = Tally::default();
        tally.add(table, 0);
        Worker {
            index,
            tally,
            processed: 0,
            batches: 0,
            learned: Learned::default(),
        }
    }

    /// The log's totals after a batch that did `ran` and consumed `processed`, on top of the
    /// worker's batches committed before.
    fn totals_with(&self, table: &str, ran: &Ran, processed: u64) -> Totals {
        let mut rows = self.tally.clone();
        rows.add(table, ran.affected);
        rows.merge(&ran.cascaded);
        Totals {
            rows,
            requested: self.processed + processed,
            batches: self.batches + 1,
        }
    }

    fn add(&mut self, table: &str, ran: &Ran, processed: u64) {
        self.tally.add(table, ran.affected);
        self.tally.merge(&ran.cascaded);
        self.processed += processed;
        self.batches += 1;
    }
}

/// How one worker ended: `Ok(true)` when it stopped early (its time limit or the stop signal).
type WorkerEnd = std::result::Result<bool, Failed>;

/// A worker's failure, made into the operation's error once every worker has stopped.
struct Failed {
    error: Error,
    attempts: u32,
    /// The failing batch's number.
    batch: u64,
}

struct Engine<'a> {
    plan: Plan<'a>,
    start: Instant,
    total: Option<u64>,
    /// How many workers run the operation.
    workers: usize,
    counts: std::sync::Mutex<Counts>,
    /// Set by the first worker that fails: the others stop before their next batch.
    halted: std::sync::atomic::AtomicBool,
}

impl<'a> Engine<'a> {
    fn new(plan: Plan<'a>, total: Option<u64>) -> Self {
        let mut tally = Tally::default();
        tally.add(&plan.table, 0);
        Engine {
            plan,
            start: Instant::now(),
            total,
            workers: 1,
            counts: std::sync::Mutex::new(Counts {
                begun: 0,
                batches: 0,
                processed: 0,
                affected: 0,
                archived: 0,
                tally,
                retries: 0,
                throttled: Duration::ZERO,
                paused: Duration::ZERO,
                alerted: false,
            }),
            halted: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A poisoned lock means a progress callback panicked in another worker; the counts
        // themselves are whole (every update is one short block).
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The worker's row in the log: the operation's own when it runs alone.
    fn part(&self, worker: &Worker) -> Option<usize> {
        (self.workers > 1).then_some(worker.index)
    }

    /// A batch's step, then (with the log on) its worker's counts in the log, on `conn`: the
    /// batch's transaction.
    async fn execute_batch<T, S>(
        &self,
        conn: &T,
        worker: &Worker,
        source: &mut S,
        unit: &S::Unit,
    ) -> Result<Done<S::Next>, Interrupt>
    where
        T: ConnectionTrait,
        S: BatchSource,
    {
        let done = source.execute(conn, unit).await?;
        if let Some(row) = &self.plan.log {
            let totals = worker.totals_with(&self.plan.table, &done.ran, done.processed);
            conn.execute_raw(row.progress(conn.get_database_backend(), self.part(worker), &totals))
                .await?;
        }
        Ok(done)
    }

    /// Counts a committed batch, and announces it now or (`pending`, atomic) after the
    /// operation's `COMMIT`. Returns the progress after it.
    #[allow(clippy::too_many_arguments)]
    fn count(
        &self,
        worker: &mut Worker,
        batch: u64,
        ran: &Ran,
        processed: u64,
        attempts: u32,
        elapsed: Duration,
        events: Option<&crate::events::Events>,
        pending: Option<&mut Vec<announce::Pending>>,
    ) -> Progress {
        worker.add(&self.plan.table, ran, processed);
        let progress = {
            let mut counts = self.counts();
            counts.batches += 1;
            counts.processed += processed;
            counts.affected += ran.affected;
            counts.archived += ran.archived;
            counts.tally.add(&self.plan.table, ran.affected);
            counts.tally.merge(&ran.cascaded);
            counts.retries += u64::from(attempts.saturating_sub(1));
            Progress {
                operation: self.plan.kind,
                batches: counts.batches,
                processed: counts.processed,
                affected: counts.affected,
                total: self.total,
                elapsed: self.start.elapsed(),
                throttled: counts.throttled,
                paused: counts.paused,
                workers: self.workers,
                batch_size: self.plan.batch_size.get(),
            }
        };
        let committed = announce::Committed {
            operation: self.plan.id,
            kind: self.plan.kind,
            table: &self.plan.table,
            batch,
            rows: ran.affected,
            cascaded: ran.cascaded.clone(),
            keys: ran.keys.clone(),
            actor: self.plan.actor.as_deref(),
            reason: self.plan.reason.as_deref(),
            retries: attempts.saturating_sub(1),
            elapsed,
        }
        .pending();
        match pending {
            Some(pending) => pending.push(committed),
            None => announce::announce(committed, events),
        }
        progress
    }

    /// Runs the workers, one per source, and makes their ends into the operation's report or
    /// error.
    async fn drive<C, S>(&self, db: &C, first: &mut S, rest: &mut [S]) -> Result<BulkReport>
    where
        C: BulkConnection,
        S: BatchSource,
    {
        if let Some(total) = self.total {
            self.maybe_alert(total, true);
        }
        // Inside the caller's transaction a batch's COMMIT only releases a savepoint: whether
        // its rows are kept is the caller's to decide, so no event is sent (metrics are kept).
        let events = match db.control() {
            Some(_) => self.plan.config.events.clone(),
            None => None,
        };
        let events = events.as_ref();
        let sources = std::iter::once(&mut *first).chain(rest.iter_mut());
        let ends =
            futures::future::join_all(sources.enumerate().map(|(index, source)| async move {
                let end = self.work(db, index, source, events).await;
                if end.is_err() {
                    // The first failure stops every other worker before its next batch.
                    self.halt();
                }
                end
            }))
            .await;
        // The first failure is the operation's: the others stopped because of it, or failed
        // after it with their batch in flight.
        let mut failure: Option<Failed> = None;
        let mut stopped_early = false;
        for end in ends {
            match end {
                Ok(stopped) => stopped_early |= stopped,
                Err(failed) => match &failure {
                    None => failure = Some(failed),
                    Some(first) => tracing::warn!(
                        batch = failed.batch,
                        first = first.batch,
                        error = %failed.error,
                        "another worker's batch failed too after the operation's failure"
                    ),
                },
            }
        }
        if let Some(Failed {
            error,
            attempts,
            batch,
        }) = failure
        {
            return Err(self.fail(error, attempts, batch));
        }
        let status = match stopped_early {
            true => OperationStatus::Stopped,
            false => OperationStatus::Completed,
        };
        if !self.plan.atomic
            && let Some(row) = &self.plan.log
        {
            let finish = row.finish(
                db.get_database_backend(),
                status,
                None,
                self.summed_totals().as_ref(),
            );
            if let Err(error) = self.execute_reaching(db, &[finish]).await {
                // The batches and their counts are committed; only the status is stale.
                tracing::warn!(%error, "recording the end in the operation log failed");
            }
        }
        let remaining = if stopped_early {
            let processed = self.counts().processed;
            // Through `&mut`: a shared reference to a source held across an await would ask
            // the source to be `Sync`.
            let mut sum = first.remaining(db, processed).await?;
            for part in rest.iter_mut() {
                if let Some(left) = part.remaining(db, processed).await? {
                    sum = Some(sum.unwrap_or(0) + left);
                }
            }
            sum
        } else {
            None
        };
        let counts = self.counts();
        let report = BulkReport {
            id: self.plan.id,
            operation: self.plan.kind,
            table: self.plan.table.clone(),
            requested: counts.processed,
            affected: counts.affected,
            cascaded: counts.tally.total() - counts.affected,
            archived: counts.archived,
            batches: counts.batches,
            retries: counts.retries,
            elapsed: self.start.elapsed(),
            throttled: counts.throttled,
            paused: counts.paused,
            dry_run: false,
            stopped_early,
            remaining,
            workers: self.workers,
        };
        drop(counts);
        tracing::info!(
            affected = report.affected,
            requested = report.requested,
            batches = report.batches,
            retries = report.retries,
            workers = report.workers,
            elapsed_ms = report.elapsed.as_millis() as u64,
            throttled_ms = report.throttled.as_millis() as u64,
            stopped_early,
            "bulk operation finished"
        );
        Ok(report)
    }

    /// The operation's totals for its row in the log, when its workers kept their own rows
    /// (the operation's row then learns them at its end).
    fn summed_totals(&self) -> Option<Totals> {
        (self.workers > 1).then(|| {
            let counts = self.counts();
            Totals {
                rows: counts.tally.clone(),
                requested: counts.processed,
                batches: counts.batches,
            }
        })
    }

    /// Marks the operation failed: every other worker stops before its next batch.
    fn halt(&self) {
        self.halted.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// One worker: batches from `source` until it is done, the operation stops, or a batch
    /// fails. With one worker, the whole operation (and an atomic one's single transaction).
    async fn work<C, S>(
        &self,
        db: &C,
        index: usize,
        source: &mut S,
        events: Option<&crate::events::Events>,
    ) -> WorkerEnd
    where
        C: BulkConnection,
        S: BatchSource,
    {
        // What the server is, asked with the first batch's session, not before: an operation
        // with nothing to do sends nothing at all.
        let mut worker = Worker::new(index, &self.plan.table);
        let mut atomic: Option<(BatchTxn<C::Transaction>, Session)> = None;
        // An atomic operation's batches, announced after its one COMMIT.
        let mut pending: Vec<announce::Pending> = Vec::new();
        let mut stopped_early = false;
        let mut last = 0;
        loop {
            if let Some(max) = self.plan.max_duration
                && self.start.elapsed() >= max
            {
                stopped_early = true;
                break;
            }
            if self.stopped() {
                stopped_early = true;
                break;
            }
            let Some(unit) = source.next_unit().await else {
                break;
            };
            let batch = {
                let mut counts = self.counts();
                counts.begun += 1;
                counts.begun
            };
            last = batch;
            // Held once the batch's input is taken: an operation with nothing (more) to do is
            // never held. (So a batch size set during the hold applies from the next batch on,
            // but for the keyset walk, which sizes its batch as it runs it.)
            if self.plan.throttle.is_some() && (!self.plan.atomic || worker.batches == 0) {
                match self.hold_while_throttled(batch).await {
                    Ok(true) => {}
                    Ok(false) => {
                        // Stopped while held: the batch never ran.
                        stopped_early = true;
                        break;
                    }
                    Err(error) => {
                        return Err(Failed {
                            error,
                            attempts: 0,
                            batch,
                        });
                    }
                }
            }
            let batch_start = Instant::now();
            let batch_span = tracing::info_span!(
                "soft_delete.batch",
                batch,
                worker = index,
                operation_id = %self.plan.id,
                table = %self.plan.table,
            );
            let failed = |error, attempts| Failed {
                error,
                attempts,
                batch,
            };
            let (done, attempts) = if self.plan.atomic {
                let (txn, session) = match atomic.take() {
                    Some(open) => open,
                    None => self
                        .open(db, &mut worker.learned)
                        .await
                        .map_err(|stop| failed(stop.into_error(), 1))?,
                };
                let result = self
                    .guarded(
                        db,
                        &session,
                        self.execute_batch(&Limited::new(&txn, &session), &worker, source, &unit),
                    )
                    .instrument(batch_span)
                    .await;
                match result {
                    Ok(done) => {
                        atomic = Some((txn, session));
                        (done, 1)
                    }
                    Err(interrupt) => {
                        close_and_roll_back(txn, &session).await;
                        let error = match interrupt {
                            // Every batch of the operation rode on the transaction the hook
                            // ended: none of them can be checked one by one.
                            Interrupt::Ended {
                                hook, rows, cause, ..
                            } => Error::TransactionEnded {
                                hook,
                                table: self.plan.table.clone(),
                                rows: self.counts().affected + rows,
                                committed: None,
                                source: cause,
                            },
                            Interrupt::Failed(error) => self.name_limit(db, error).await,
                            Interrupt::Again => Error::Db(DbErr::Custom(
                                "an atomic batch asked to run again".to_owned(),
                            )),
                        };
                        return Err(failed(error, 1));
                    }
                }
            } else {
                match self
                    .batch_with_retries(db, &mut worker, source, &unit)
                    .instrument(batch_span)
                    .await
                {
                    Ok(done) => done,
                    Err(Failure {
                        error,
                        attempts,
                        committed,
                    }) => {
                        if let Some(ran) = committed {
                            self.count_committed_failure(
                                db,
                                &mut worker,
                                batch,
                                &ran,
                                attempts,
                                batch_start,
                                events,
                            )
                            .await;
                        }
                        let error = self.name_limit(db, error).await;
                        return Err(failed(error, attempts));
                    }
                }
            };
            // The batch's own time (statements and COMMIT, retries included): what the sleep
            // coefficient scales.
            let took = batch_start.elapsed();
            let Done {
                ran,
                processed,
                next,
            } = done;
            // The next batch's size, from this one's time (the last batch, often short, says
            // nothing of the size).
            if let Some(sizing) = &self.plan.sizing
                && !source.is_done()
            {
                let size = self.plan.batch_size.get();
                self.plan.batch_size.set_unchecked(sizing.next(size, took));
            }
            let pending_batches = self.plan.atomic.then_some(&mut pending);
            let progress = self.count(
                &mut worker,
                batch,
                &ran,
                processed,
                attempts,
                took,
                events,
                pending_batches,
            );
            source.advance(next);
            source.recycle(unit);
            tracing::debug!(
                batch,
                worker = index,
                affected = ran.affected,
                processed,
                attempts,
                elapsed_ms = took.as_millis() as u64,
                "batch done"
            );
            if let Some(callback) = &self.plan.progress {
                callback(&progress);
            }
            self.maybe_alert(progress.processed, false);
            if source.is_done() {
                break;
            }
            let pause = self.pause_after(took);
            if !pause.is_zero() {
                // A stop signal ends the pause early; the loop then stops before the next batch.
                let paused = self.sleep(pause).await;
                self.counts().paused += paused;
                announce::paused(self.plan.kind, &self.plan.table, paused);
            }
        }
        if let Some((txn, session)) = atomic {
            let failed = |error| Failed {
                error,
                attempts: 1,
                batch: last,
            };
            let status = match stopped_early {
                true => OperationStatus::Stopped,
                false => OperationStatus::Completed,
            };
            if let Some(row) = &self.plan.log {
                let finish = row.finish(txn.get_database_backend(), status, None, None);
                if let Err(error) = txn.execute_raw(finish).await {
                    close_and_roll_back(txn, &session).await;
                    return Err(failed(error.into()));
                }
            }
            session.close(&txn).await.map_err(|e| failed(e.into()))?;
            if let Err(error) = txn.commit().await {
                let error = if outcome_unknown(&error) {
                    // Every batch's rows rode on this COMMIT; none of them can be checked one
                    // by one any more, but the log's count of batches, written in the same
                    // transaction, tells all of them or none.
                    let verdict = match (&self.plan.log, worker.batches) {
                        (Some(_), 1..) => {
                            let check = LostCheck::<S>::All;
                            self.check_lost(db, &session, &worker, &error, check).await
                        }
                        _ => Verdict::Unknown,
                    };
                    match verdict {
                        Verdict::Committed => None,
                        Verdict::RolledBack => Some(Error::from(error)),
                        Verdict::Unknown => Some(Error::CommitUnknown {
                            rows: self.counts().affected,
                            source: error,
                        }),
                    }
                } else {
                    Some(self.name_limit(db, error.into()).await)
                };
                if let Some(error) = error {
                    return Err(failed(error));
                }
            }
            for committed in pending {
                announce::announce(committed, events);
            }
        }
        Ok(stopped_early)
    }

    /// Counts the rows of a batch that failed but was found committed (a hook's `COMMIT`), and
    /// brings the log's counts up to them (best effort: the batch's own write of them was in
    /// the transaction the hook ended).
    #[allow(clippy::too_many_arguments)]
    async fn count_committed_failure<C: BulkConnection>(
        &self,
        db: &C,
        worker: &mut Worker,
        batch: u64,
        ran: &Ran,
        attempts: u32,
        batch_start: Instant,
        events: Option<&crate::events::Events>,
    ) {
        self.count(
            worker,
            batch,
            ran,
            ran.affected,
            attempts,
            batch_start.elapsed(),
            events,
            None,
        );
        if let Some(row) = &self.plan.log {
            let totals = Totals {
                rows: worker.tally.clone(),
                requested: worker.processed,
                batches: worker.batches,
            };
            let progress = row.progress(db.get_database_backend(), self.part(worker), &totals);
            if let Err(error) = self.execute_reaching(db, &[progress]).await {
                tracing::warn!(%error, "recording a committed batch in the operation log failed");
            }
        }
    }

    /// Runs `statement` on `db` outside any batch (the operation log's start and end), in a
    /// transaction of its own, trying again within `reconnect_for` while the database is not
    /// reachable. In a transaction because behind a pooler in transaction pooling a statement
    /// with bound values is only sure to reach one server session inside one.
    async fn execute_reaching<C: BulkConnection>(
        &self,
        db: &C,
        statements: &[Statement],
    ) -> Result<(), DbErr> {
        let config = &self.plan.config;
        let started = Instant::now();
        let mut tries = 0;
        loop {
            let error = match in_transaction(db, statements).await {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            let left = config.reconnect_for.saturating_sub(started.elapsed());
            if left.is_zero() || self.stopped() || !database_gone(&error) {
                return Err(error);
            }
            tries += 1;
            let delay = config.reconnect_delay(tries).min(left);
            tracing::warn!(%error, delay_ms = delay.as_millis() as u64, "the database is not reachable; trying again");
            self.sleep(delay).await;
        }
    }

    /// One batch in its own transaction, retried after transient errors.
    async fn batch_with_retries<C, S>(
        &self,
        db: &C,
        worker: &mut Worker,
        source: &mut S,
        unit: &S::Unit,
    ) -> Result<(Done<S::Next>, u32), Failure>
    where
        C: BulkConnection,
        S: BatchSource,
    {
        let config = &self.plan.config;
        let mut attempt: u32 = 0;
        let mut again = false;
        // When the batch first found the database gone, and how many tries since.
        let mut lost: Option<(Instant, u32)> = None;
        loop {
            attempt += 1;
            let (error, unreachable) = match self.attempt(db, worker, source, unit).await {
                Ok(done) => {
                    if let Some((since, tries)) = lost {
                        tracing::info!(
                            tries,
                            after_ms = since.elapsed().as_millis() as u64,
                            "the database answers again; the batch committed"
                        );
                    }
                    return Ok((done, attempt));
                }
                Err(Stop::Again) if !again => {
                    // Not a failure: the step asked to run the batch again another way.
                    again = true;
                    attempt -= 1;
                    tracing::debug!("running the batch again for its hooks");
                    continue;
                }
                Err(Stop::Again) => {
                    return Err(Failure {
                        error: Error::Db(DbErr::Custom(
                            "a batch asked twice to run again reading its rows first".to_owned(),
                        )),
                        attempts: attempt,
                        committed: None,
                    });
                }
                Err(Stop::Ended { error, committed }) => {
                    return Err(Failure {
                        error,
                        attempts: attempt,
                        committed,
                    });
                }
                Err(Stop::Unreachable(error)) => (error, true),
                Err(Stop::Failed(error)) => {
                    let lost = connection_lost(&error);
                    (error, lost)
                }
            };
            // A database that is gone (a failover, a restart) is waited for within
            // `reconnect_for`, whatever `retry_attempts` says.
            if unreachable && !config.reconnect_for.is_zero() {
                let (since, tries) = lost.get_or_insert((Instant::now(), 0));
                let left = config.reconnect_for.saturating_sub(since.elapsed());
                if !left.is_zero() && !self.stopped() {
                    *tries += 1;
                    let delay = config.reconnect_delay(*tries).min(left);
                    tracing::warn!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        left_ms = left.as_millis() as u64,
                        %error,
                        "the database is not reachable; trying again"
                    );
                    self.sleep(delay).await;
                    if !self.stopped() {
                        continue;
                    }
                }
                return Err(Failure {
                    error,
                    attempts: attempt,
                    committed: None,
                });
            }
            if attempt <= config.retry_attempts && is_transient(&error) {
                let delay = config.retry_delay(attempt);
                tracing::warn!(
                    attempt,
                    delay_ms = delay.as_millis() as u64,
                    %error,
                    "transient error; retrying the batch"
                );
                tokio::time::sleep(delay).await;
                continue;
            }
            return Err(Failure {
                error,
                attempts: attempt,
                committed: None,
            });
        }
    }

    /// Opens a batch's transaction and session, learning the server's flavor with the first,
    /// and whether a guard waits for the mark with the first that removes rows.
    /// The pool's wait for a connection counts against the batch's time limit.
    async fn open<C: BulkConnection>(
        &self,
        db: &C,
        learned: &mut Learned,
    ) -> Result<(BatchTxn<C::Transaction>, Session), Stop> {
        let config = &self.plan.config;
        let limit = config.query_timeout;
        let begun = match limit {
            None => begin_batch(db).await,
            Some(limit) => match tokio::time::timeout(limit, begin_batch(db)).await {
                Ok(begun) => begun,
                Err(_elapsed) => return Err(Stop::Unreachable(Error::Timeout(limit))),
            },
        };
        let txn = match begun {
            Ok(txn) => txn,
            Err(error) => {
                let error = Error::from(error);
                return Err(match connection_lost(&error) {
                    true => Stop::Unreachable(error),
                    false => Stop::Failed(error),
                });
            }
        };
        let hard_delete = match (self.plan.kind, db.control()) {
            (OperationKind::Purge, Some(_)) => HardDelete::Own,
            (OperationKind::Purge, None) => HardDelete::InCallersTransaction,
            _ => HardDelete::No,
        };
        if hard_delete != HardDelete::No && learned.guarded.is_none() {
            match session::guarded(&txn).await {
                Ok(guarded) => learned.guarded = Some(guarded),
                Err(error) => {
                    rollback(txn).await;
                    return Err(Stop::Failed(error.into()));
                }
            }
        }
        let dialed = db.control().and_then(Dialed::of);
        match Session::open(
            &txn,
            learned.flavor,
            limit,
            hard_delete,
            dialed,
            config.behind_pooler,
            learned.guarded.unwrap_or(true),
        )
        .await
        {
            Ok(session) => {
                learned.flavor = Some(session.flavor());
                Ok((txn, session))
            }
            Err(error) => {
                rollback(txn).await;
                Err(Stop::Failed(error.into()))
            }
        }
    }

    /// One attempt at one batch: its statements under the session's limit, then `COMMIT`,
    /// and the check of a `COMMIT` whose outcome was lost (or of a batch whose transaction a
    /// hook ended).
    async fn attempt<C, S>(
        &self,
        db: &C,
        worker: &mut Worker,
        source: &mut S,
        unit: &S::Unit,
    ) -> Result<Done<S::Next>, Stop>
    where
        C: BulkConnection,
        S: BatchSource,
    {
        let (txn, session) = self.open(db, &mut worker.learned).await?;
        let executed = self
            .guarded(
                db,
                &session,
                self.execute_batch(&Limited::new(&txn, &session), worker, source, unit),
            )
            .await;
        let done = match executed {
            Ok(done) => done,
            Err(interrupt) => {
                // Never commit after an error: PostgreSQL and MariaDB may report a later
                // commit as successful while the work was rolled back, or commit the rest of
                // the batch.
                close_and_roll_back(txn, &session).await;
                return Err(match interrupt {
                    Interrupt::Failed(error) => Stop::Failed(error),
                    Interrupt::Again => Stop::Again,
                    Interrupt::Ended {
                        hook,
                        rows,
                        cascaded,
                        cause,
                    } => {
                        self.ended(db, source, unit, hook, rows, cascaded, cause)
                            .await
                    }
                });
            }
        };
        if let Err(error) = session.close(&txn).await {
            rollback(txn).await;
            return Err(Stop::Failed(error.into()));
        }
        match txn.commit().await {
            Ok(()) => Ok(done),
            Err(error) if outcome_unknown(&error) => self
                .settle(db, &session, worker, source, unit, done, error)
                .await
                .map_err(Stop::Failed),
            Err(error) => Err(Stop::Failed(error.into())),
        }
    }

    /// A batch whose transaction a hook ended: what became of its rows, checked from another
    /// connection as after a lost `COMMIT`, and the error that stops the operation.
    #[allow(clippy::too_many_arguments)]
    async fn ended<C, S>(
        &self,
        db: &C,
        source: &mut S,
        unit: &S::Unit,
        hook: &'static str,
        rows: u64,
        cascaded: Tally,
        cause: Option<crate::error::HookError>,
    ) -> Stop
    where
        C: BulkConnection,
        S: BatchSource,
    {
        let ran = Ran {
            affected: rows,
            cascaded,
            ..Ran::default()
        };
        let verdict = match (rows, db.control()) {
            (0, _) => Verdict::RolledBack,
            (_, None) => Verdict::Unknown,
            (_, Some(control)) => match source.verify(control, unit, &ran).await {
                Ok(verdict) => verdict,
                Err(error) => {
                    tracing::warn!(%error, "checking a batch whose transaction a hook ended failed");
                    Verdict::Unknown
                }
            },
        };
        tracing::error!(
            hook,
            ?verdict,
            "a hook ended the batch's transaction; the operation stops"
        );
        let committed = match verdict {
            Verdict::Committed => Some(true),
            Verdict::RolledBack => Some(false),
            Verdict::Unknown => None,
        };
        let cause = match (verdict, cause) {
            // The database ended the transaction under the hook (MySQL/MariaDB roll back a
            // deadlocked one): the hook's failure is the story, and nothing was kept.
            (Verdict::RolledBack, Some(source)) => {
                return Stop::Failed(Error::Hook {
                    hook,
                    table: self.plan.table.clone(),
                    source,
                });
            }
            (_, cause) => cause,
        };
        Stop::Ended {
            error: Error::TransactionEnded {
                hook,
                table: self.plan.table.clone(),
                rows,
                committed,
                source: cause,
            },
            committed: (verdict == Verdict::Committed).then_some(ran),
        }
    }

    /// A batch's statements under the client's backstop: a little longer than the limit the
    /// server enforces itself. When it fires, the server's statement is cancelled from another
    /// connection and the batch waits for it to end; only when nothing can stop it (no other
    /// connection, or the server does not answer) is the batch's future dropped.
    async fn guarded<C, T>(
        &self,
        db: &C,
        session: &Session,
        work: impl Future<Output = Result<T, Interrupt>>,
    ) -> Result<T, Interrupt>
    where
        C: BulkConnection,
    {
        let Some(limit) = session.limit() else {
            return work.await;
        };
        let mut work = std::pin::pin!(work);
        let backstop = limit + BACKSTOP_MARGIN;
        let result = match tokio::time::timeout(backstop, work.as_mut()).await {
            Ok(result) => result,
            Err(_elapsed) => {
                let Some(control) = db.control() else {
                    return Err(Error::Timeout(limit).into());
                };
                session.cancel(control).await;
                match tokio::time::timeout(BACKSTOP_MARGIN, work.as_mut()).await {
                    Ok(result) => result,
                    Err(_elapsed) => {
                        // The statement outlived its cancellation: end the session, so that the
                        // connection is not handed out again in an unknown state.
                        if let Err(error) =
                            session.settle(control, BACKSTOP_MARGIN, End::Always).await
                        {
                            tracing::warn!(%error, "ending a batch's session failed");
                        }
                        return Err(Error::Timeout(limit).into());
                    }
                }
            }
        };
        result.map_err(|interrupt| match interrupt {
            Interrupt::Failed(Error::Db(db)) if server_timeout(&db) => {
                Interrupt::Failed(Error::Timeout(limit))
            }
            other => other,
        })
    }

    /// Settles a batch whose `COMMIT` was lost ([`check_lost`](Self::check_lost)): by the
    /// worker's count of batches in the operation log, which the batch wrote in its
    /// transaction, when the log is on; otherwise (or when that count is neither) by the
    /// source's own check of the rows.
    #[allow(clippy::too_many_arguments)]
    async fn settle<C, S>(
        &self,
        db: &C,
        session: &Session,
        worker: &Worker,
        source: &mut S,
        unit: &S::Unit,
        done: Done<S::Next>,
        lost: DbErr,
    ) -> Result<Done<S::Next>>
    where
        C: BulkConnection,
        S: BatchSource,
    {
        if done.ran.affected == 0 {
            // Nothing rode on this COMMIT: whichever way it went, nothing is lost or doubled.
            return Ok(done);
        }
        let unknown = |source| Error::CommitUnknown {
            rows: done.ran.affected,
            source,
        };
        let check = LostCheck::Batch {
            source,
            unit,
            ran: &done.ran,
        };
        let verdict = self.check_lost(db, session, worker, &lost, check).await;
        match verdict {
            Verdict::Committed => Ok(done),
            // A lost connection: retried like any batch that never reached its COMMIT.
            Verdict::RolledBack => Err(lost.into()),
            Verdict::Unknown => Err(unknown(lost)),
        }
    }

    /// Checks what became of a transaction whose `COMMIT` was `lost`: waits until it is over
    /// on the server (ending its session where that is provably the batch's own), then runs
    /// `check` in a transaction on the control connection. Within `reconnect_for` a control
    /// connection that fails too (the server is failing over) is tried again until one answers:
    /// the check is then made on the server that does. [`Verdict::Unknown`] without a control
    /// connection, while the transaction still runs, or when the check fails.
    async fn check_lost<C, S>(
        &self,
        db: &C,
        session: &Session,
        worker: &Worker,
        lost: &DbErr,
        mut check: LostCheck<'_, S>,
    ) -> Verdict
    where
        C: BulkConnection,
        S: BatchSource,
    {
        let Some(control) = db.control() else {
            return Verdict::Unknown;
        };
        let config = &self.plan.config;
        let started = Instant::now();
        let mut tries = 0;
        loop {
            let checked = async {
                let settled = session.settle(control, SETTLE_WAIT, End::IfDirect).await?;
                if settled == Settled::Running {
                    return Ok((settled, Verdict::Unknown));
                }
                if settled == Settled::Elsewhere {
                    session.catch_up(control).await;
                }
                // In a transaction, like every statement with bound values the engine sends
                // outside a batch (see `execute_reaching`).
                let txn = control.begin().await?;
                let verdict = match &mut check {
                    LostCheck::Batch { source, unit, ran } => {
                        let (before, after) = (worker.batches, worker.batches + 1);
                        match self.logged(&txn, worker, before, after).await {
                            Ok(Some(verdict)) => Ok(verdict),
                            Ok(None) => source.verify(&txn, unit, ran).await,
                            Err(error) => Err(error),
                        }
                    }
                    LostCheck::All => self
                        .logged(&txn, worker, 0, worker.batches)
                        .await
                        .map(|logged| logged.unwrap_or(Verdict::Unknown)),
                };
                rollback(txn).await;
                Ok::<_, DbErr>((settled, verdict?))
            }
            .await;
            match checked {
                Ok((settled, verdict)) => {
                    tracing::warn!(
                        ?settled,
                        ?verdict,
                        error = %lost,
                        "the connection failed during COMMIT; checked the batch"
                    );
                    return verdict;
                }
                Err(error) => {
                    let error = Error::from(error);
                    let left = config.reconnect_for.saturating_sub(started.elapsed());
                    if connection_lost(&error) && !left.is_zero() && !self.stopped() {
                        tries += 1;
                        let delay = config.reconnect_delay(tries).min(left);
                        tracing::warn!(
                            %error,
                            delay_ms = delay.as_millis() as u64,
                            "checking a lost COMMIT: the database is not reachable; trying again"
                        );
                        self.sleep(delay).await;
                        continue;
                    }
                    tracing::warn!(%error, "checking a lost COMMIT failed");
                    return Verdict::Unknown;
                }
            }
        }
    }

    /// Whether a lost `COMMIT` is in the database, by the count of batches the worker's row in
    /// the operation log holds (each batch writes it in its own transaction): `after` when it
    /// committed, `before` when it did not. For one batch they are the batches the worker had
    /// counted and one more; for an atomic operation, none and all of them. `None` without a
    /// log, or when the row holds neither (then the rows themselves are checked).
    async fn logged<T: ConnectionTrait>(
        &self,
        conn: &T,
        worker: &Worker,
        before: u64,
        after: u64,
    ) -> std::result::Result<Option<Verdict>, DbErr> {
        let Some(row) = &self.plan.log else {
            return Ok(None);
        };
        let read = row.batches(conn.get_database_backend(), self.part(worker));
        let Some(found) = conn.query_one_raw(read).await? else {
            return Ok(None);
        };
        let batches = found.try_get_by_index::<i64>(0)?;
        Ok(match u64::try_from(batches) {
            Ok(n) if n == after => Some(Verdict::Committed),
            Ok(n) if n == before => Some(Verdict::RolledBack),
            _ => None,
        })
    }

    /// A Galera write-set limit error as [`Error::WriteSetTooLarge`], with the limit's value
    /// read from the node (on the control connection; the batch's own was rolled back); any
    /// other error as it is.
    async fn name_limit<C: BulkConnection>(&self, db: &C, error: Error) -> Error {
        let Some(limit) = super::transient::write_set_limit(&error) else {
            return error;
        };
        let value = match db.control() {
            Some(control) => control
                .query_one_raw(Statement::from_string(
                    control.get_database_backend(),
                    format!("SELECT CAST(@@global.{limit} AS SIGNED)"),
                ))
                .await
                .ok()
                .flatten()
                .and_then(|row| row.try_get_by_index::<i64>(0).ok())
                .map(|v| v.max(0) as u64),
            None => None,
        };
        let Error::Db(source) = error else {
            return error;
        };
        Error::WriteSetTooLarge {
            limit,
            value,
            // Inside the caller's transaction every batch is a savepoint of its one write set.
            atomic: self.plan.atomic || db.control().is_none(),
            source,
        }
    }

    /// Sleeps `duration`, or less when the stop signal comes (or another worker fails)
    /// meanwhile, seen within 50 ms; returns how long.
    async fn sleep(&self, duration: Duration) -> Duration {
        if self.plan.stop.is_none() && self.workers == 1 {
            tokio::time::sleep(duration).await;
            return duration;
        }
        super::control::sleep_unless(duration, || self.stopped()).await
    }

    /// True once the operation's stop signal was given, or another worker failed.
    fn stopped(&self) -> bool {
        self.halted.load(std::sync::atomic::Ordering::SeqCst)
            || self
                .plan
                .stop
                .as_ref()
                .is_some_and(|stop| stop.is_stopped())
    }

    /// The pause after a batch that took `batch`: the fixed pause, plus the batch's time times
    /// the sleep coefficient; at most `MAX_PAUSE`.
    fn pause_after(&self, batch: Duration) -> Duration {
        let proportional = batch.mul_f64(self.plan.sleep_coefficient);
        (self.plan.pause + proportional).min(crate::config::SoftDeleteConfig::MAX_PAUSE)
    }

    /// Waits while the throttle holds the next batch back, asking again when it says. `true`
    /// when the batch may run, `false` when the operation must stop instead: its stop signal
    /// came, or its `max_duration` ran out, during the hold.
    ///
    /// Each check may take at most what is left of `max_throttle_wait` (and [`CHECK_LIMIT`]): a
    /// replica that does not answer holds the batch like one that is behind.
    ///
    /// # Errors
    ///
    /// [`Error::Throttled`] once the throttle has held the batch for `max_throttle_wait`.
    async fn hold_while_throttled(&self, batch: u64) -> Result<bool> {
        let Some(throttle) = self.plan.throttle.clone() else {
            return Ok(true);
        };
        let max = self.plan.max_throttle_wait;
        let started = Instant::now();
        let mut warned = false;
        let result = loop {
            let limit = max
                .saturating_sub(started.elapsed())
                .clamp(MIN_NAP, CHECK_LIMIT);
            let (reason, recheck) = match tokio::time::timeout(limit, throttle.check()).await {
                Ok(Ok(crate::throttle::Check::Go)) => break Ok(true),
                Ok(Ok(crate::throttle::Check::Hold { reason, recheck })) => (reason, recheck),
                Ok(Err(error)) => (
                    format!("the throttle's check failed: {error}"),
                    Duration::from_secs(1),
                ),
                Err(_elapsed) => (
                    format!("the throttle's check did not answer within {limit:?}"),
                    Duration::ZERO,
                ),
            };
            let waited = started.elapsed();
            if waited >= max {
                break Err(Error::Throttled { waited, reason });
            }
            if !warned {
                warned = true;
                tracing::info!(batch, %reason, "throttled: holding the batch");
            }
            let mut nap = recheck.max(MIN_NAP).min(max - waited);
            if let Some(limit) = self.plan.max_duration {
                match limit.checked_sub(self.start.elapsed()) {
                    Some(left) if !left.is_zero() => nap = nap.min(left),
                    _ => break Ok(false),
                }
            }
            self.sleep(nap).await;
            if self.stopped() {
                break Ok(false);
            }
        };
        let held = started.elapsed();
        if warned {
            self.counts().throttled += held;
            announce::throttled(self.plan.kind, &self.plan.table, held);
            tracing::info!(
                batch,
                held_ms = held.as_millis() as u64,
                "throttle released"
            );
        }
        result
    }

    fn maybe_alert(&self, rows: u64, known_up_front: bool) {
        let config = &self.plan.config;
        if !config.alert_on_bulk_operations || rows < config.bulk_operation_alert_threshold {
            return;
        }
        if std::mem::replace(&mut self.counts().alerted, true) {
            return;
        }
        self.plan.alerts.alert(&BulkAlert {
            operation: self.plan.kind,
            table: self.plan.table.clone(),
            rows,
            threshold: config.bulk_operation_alert_threshold,
            known_up_front,
        });
    }

    /// The operation's error after batch `batch` failed for good (0: before any batch).
    fn fail(&self, error: Error, attempts: u32, batch: u64) -> Error {
        let partial_count = if self.plan.atomic {
            0
        } else {
            self.counts().affected
        };
        tracing::error!(
            batch,
            partial_count,
            attempts,
            %error,
            "bulk operation failed"
        );
        Error::Bulk {
            operation: self.plan.kind,
            table: self.plan.table.clone(),
            failed_batch: batch.max(1),
            partial_count,
            attempts,
            source: Box::new(error),
        }
    }
}

/// How much longer than the server's limit the client waits for a batch's statements, and then
/// for a cancelled statement to end.
const BACKSTOP_MARGIN: Duration = Duration::from_secs(2);

/// The longest one throttle check may take before it counts as a hold.
const CHECK_LIMIT: Duration = Duration::from_secs(10);

/// The shortest wait between two throttle checks.
const MIN_NAP: Duration = Duration::from_millis(10);

/// How long the engine waits for the transaction of a lost `COMMIT` to end on its server.
const SETTLE_WAIT: Duration = Duration::from_secs(10);

/// A batch's transaction: on the pool directly where the connection is the library's own (see
/// `direct`), else SeaORM's.
async fn begin_batch<C: BulkConnection>(db: &C) -> Result<BatchTxn<C::Transaction>, DbErr> {
    if let Some(pool) = db.batch_pool()
        && let Some(begun) = super::direct::begin(pool).await
    {
        return begun.map(BatchTxn::Direct);
    }
    db.begin().await.map(BatchTxn::Orm)
}

/// `statements` in a transaction of their own on `db`.
async fn in_transaction<C: BulkConnection>(db: &C, statements: &[Statement]) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    for statement in statements {
        if let Err(error) = txn.execute_raw(statement.clone()).await {
            rollback(txn).await;
            return Err(error);
        }
    }
    txn.commit().await
}

async fn rollback<T: TransactionSession>(txn: T) {
    if let Err(error) = txn.rollback().await {
        // The connection is unusable; the pool discards it, and the server rolls back when it
        // closes. The batch's own error is what the caller needs to see.
        tracing::warn!(%error, "rollback after a failed batch failed");
    }
}

/// Puts back what the session changed on the connection, then rolls back.
async fn close_and_roll_back<T: TransactionSession + ConnectionTrait>(txn: T, session: &Session) {
    if let Err(error) = session.close(&txn).await {
        tracing::debug!(%error, "restoring the connection's settings after a failed batch");
    }
    rollback(txn).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_sized_by_time_move_toward_the_target_within_bounds() {
        let ms = Duration::from_millis;
        let sizing = Sizing::new(ms(100), 1000);
        // On target: unchanged; twice as slow: halved; far too slow: halved, not more.
        assert_eq!(sizing.next(1000, ms(100)), 1000);
        assert_eq!(sizing.next(1000, ms(200)), 500);
        assert_eq!(sizing.next(1000, ms(10_000)), 500);
        // Faster: grown by the ratio, at most doubled.
        assert_eq!(sizing.next(1000, ms(80)), 1250);
        assert_eq!(sizing.next(1000, Duration::ZERO), 2000);
        // Within a tenth and ten times the start.
        assert_eq!(sizing.next(120, ms(10_000)), 100);
        assert_eq!(sizing.next(9000, ms(1)), 10_000);
        // Never below one row, never above the largest batch.
        assert_eq!(Sizing::new(ms(1), 5).next(1, ms(100)), 1);
        let large = Sizing::new(ms(100), SoftDeleteConfig::MAX_BATCH_SIZE);
        assert_eq!(
            large.next(SoftDeleteConfig::MAX_BATCH_SIZE, ms(1)),
            SoftDeleteConfig::MAX_BATCH_SIZE
        );
    }
}
