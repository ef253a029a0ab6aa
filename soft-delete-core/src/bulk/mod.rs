//! Bulk operations: one builder ([`Bulk`]), one set of options ([`BatchOptions`]), one engine.
//!
//! Every bulk operation (soft delete, restore, purge, insert, create) is a [`Bulk`] builder made
//! by [`SoftDeleteManager`](crate::SoftDeleteManager) (or a service), set up with chained
//! methods and run by awaiting it. The options every operation takes (batch size, atomic,
//! pause between batches, maximum duration, progress callback, alert sink) are one
//! [`BatchOptions`] value, resolved against the [`SoftDeleteConfig`] in one place, and every
//! operation runs through the same loop.
//!
//! What differs between operations is where rows come from, the *source*:
//!
//! | source | built by | rows |
//! |---|---|---|
//! | [`Ids`] | `bulk_soft_delete`, `bulk_restore` (and `_stream`) | named by primary key, taken lazily |
//! | [`Filter`] | `bulk_soft_delete_where`, `bulk_restore_where`, `hard_delete_before` | matching a condition, walked by key |
//! | [`Rows`] | `bulk_create`, `bulk_insert_stream` | new rows, taken lazily |
//!
//! and what happens to them, the *action* ([`SoftDeleteAction`], [`RestoreAction`],
//! [`PurgeAction`], [`CreateAction`]), which carries the operation's own options such as
//! `deleted_by` or `dry_run`.
//!
//! One-record operations are a batch of one key through the same engine ([`One`], module
//! [`one`]).
//!
//! Inside, the module keeps each concept in a file of its own: `engine` (the loop: transactions,
//! retries, timeouts, pacing, progress, alerts, the report), `ids` and `keyset` (the two ways of
//! selecting existing rows, each batch run by the step, `crate::step`), `one` (a batch of one
//! key), `insert` (new rows), `session` (the batch's session and its limits) and `transient`
//! (which errors are retried).

mod control;
mod direct;
mod engine;
mod explain;
mod ids;
mod insert;
mod keyset;
pub mod one;
mod session;
pub(crate) use session::HARD_DELETE;
mod transient;

pub use control::{BatchSize, StopSignal};
pub use one::{ForceDeleteAction, ForceDeleteOne, One, OneAction, RestoreOne, SoftDeleteOne};

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::Stream;
use futures::future::BoxFuture;
use sea_orm::sea_query::{Condition, IntoCondition};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseExecutor, DatabaseTransaction, EntityTrait,
    IntoActiveModel, TransactionTrait, TryIntoModel,
};

use engine::{BatchSource, Plan, ProgressFn};
pub use explain::{Explain, ExplainedStatement, explain};
use ids::IdSource;
use insert::InsertSource;
use keyset::KeysetSource;

use crate::change::Change;
use crate::config::{SoftDeleteConfig, check_batch_size, check_duration, check_required};
use crate::entity::{Audit, SoftDelete, check_cascade, check_change};
use crate::error::{Error, Result};
use crate::operation::{OperationId, OperationKind, Selection};
use crate::report::{AlertSink, BulkReport, Created, Progress};
pub use crate::sql::PrimaryKeyValue;
use crate::sql::{Table, count, count_where, describe_condition};
use crate::step::archive::ArchiveTo;
use crate::step::log::LogRow;
use crate::step::statements::{deleted_before, deleted_before_for_keyset};
use crate::step::{Action, Step, StepOptions};
use crate::time::{
    Timestamp, ceil_micros, check_timestamp, now, operation_stamp, retention_cutoff, to_micros,
};

/// A connection bulk operations run on: a `DatabaseConnection` (each batch its own transaction),
/// a `DatabaseTransaction` (each batch a savepoint of the caller's transaction), or a
/// `DatabaseExecutor` holding either.
///
/// Beyond running statements, the engine sometimes needs a session of its own: to cancel a
/// batch's statement that outlived the server's limit, and to check a batch whose `COMMIT` was
/// lost. A pool has one to give; a transaction has not, so inside one those two fall back to
/// dropping the batch's future and to reporting [`Error::CommitUnknown`].
pub trait BulkConnection: ConnectionTrait + TransactionTrait + Sync {
    /// A connection independent of the batches' sessions, if there is one.
    fn control(&self) -> Option<&DatabaseConnection>;

    /// The pool whose connections batches may run on directly through sqlx, when the
    /// connection is one: its statements then bind their values without SeaORM's copy of them
    /// (and without SeaORM's statement logging, spans and metric callback; the library's own
    /// spans and metrics cover every batch). `None` (the default) runs every batch through
    /// [`TransactionTrait::begin`], as a wrapper that must see each transaction needs.
    fn batch_pool(&self) -> Option<&DatabaseConnection> {
        None
    }
}

impl BulkConnection for DatabaseConnection {
    fn control(&self) -> Option<&DatabaseConnection> {
        Some(self)
    }

    fn batch_pool(&self) -> Option<&DatabaseConnection> {
        Some(self)
    }
}

impl BulkConnection for DatabaseTransaction {
    fn control(&self) -> Option<&DatabaseConnection> {
        None
    }
}

impl BulkConnection for DatabaseExecutor<'_> {
    fn control(&self) -> Option<&DatabaseConnection> {
        match self {
            DatabaseExecutor::Connection(db) => Some(db),
            _ => None,
        }
    }

    fn batch_pool(&self) -> Option<&DatabaseConnection> {
        self.control()
    }
}

/// The options every bulk operation takes.
///
/// Each [`Bulk`] builder has the same setters, which write into its `BatchOptions`; build one
/// yourself to share a set of options between operations, and hand it over with
/// [`Bulk::with_options`]. Options left unset take the configuration's values when the
/// operation starts.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use soft_delete_core::BatchOptions;
///
/// let gentle = BatchOptions::new()
///     .batch_size(500)
///     .pause_between_batches(Duration::from_millis(20))
///     .max_duration(Duration::from_secs(60))
///     .on_progress(|p| eprintln!("{} rows", p.affected));
/// let another = gentle.clone(); // cheap: the callback is shared
/// # let _ = another;
/// ```
#[derive(Clone, Default)]
pub struct BatchOptions<'a> {
    batch_size: Option<BatchSize>,
    sleep_coefficient: f64,
    throttle: Option<Arc<dyn crate::throttle::Throttle>>,
    max_throttle_wait: Option<Duration>,
    atomic: bool,
    pause: Option<Duration>,
    max_duration: Option<Duration>,
    progress: Option<Arc<ProgressFn<'a>>>,
    alerts: Option<Arc<dyn AlertSink>>,
    stop: Option<StopSignal>,
    quiet: bool,
    parallel: Option<usize>,
    target_batch_time: Option<Duration>,
}

impl fmt::Debug for BatchOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchOptions")
            .field("batch_size", &self.batch_size)
            .field("sleep_coefficient", &self.sleep_coefficient)
            .field("throttle", &self.throttle)
            .field("max_throttle_wait", &self.max_throttle_wait)
            .field("atomic", &self.atomic)
            .field("pause", &self.pause)
            .field("max_duration", &self.max_duration)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .field("alerts", &self.alerts)
            .field("stop", &self.stop)
            .field("quiet", &self.quiet)
            .field("parallel", &self.parallel)
            .field("target_batch_time", &self.target_batch_time)
            .finish()
    }
}

impl<'a> BatchOptions<'a> {
    /// No option set: every one comes from the configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows per batch (and per transaction); the configuration's `bulk_operation_batch_size`
    /// by default. 1 ..= [`SoftDeleteConfig::MAX_BATCH_SIZE`]; other values fail the operation
    /// with [`Error::InvalidArgument`] before anything is sent.
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = Some(BatchSize::unchecked(rows));
        self
    }

    /// Takes each batch's size from `size`, which may change while the operation runs: the
    /// next batch takes the value set last. See [`BatchSize`].
    pub fn batch_size_from(mut self, size: BatchSize) -> Self {
        self.batch_size = Some(size);
        self
    }

    /// After each batch, pauses `coefficient` times as long as the batch took (pt-archiver's
    /// `--sleep-coef`), on top of [`pause_between_batches`](Self::pause_between_batches): a
    /// pace that follows the database's load. 0 (the default) ..= 100; other values fail the
    /// operation with [`Error::InvalidArgument`] before anything is sent.
    pub fn sleep_coefficient(mut self, coefficient: f64) -> Self {
        self.sleep_coefficient = coefficient;
        self
    }

    /// Asks `throttle` before every batch whether it may run now, and waits while it says no:
    /// see [`crate::throttle`] for replica lag and Galera flow control. An atomic operation asks
    /// once, before its first batch.
    pub fn throttle(mut self, throttle: Arc<dyn crate::throttle::Throttle>) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// The longest a throttle may hold one batch back before the operation fails with
    /// [`Error::Throttled`] (inside [`Error::Bulk`], with the rows committed before): 5 minutes
    /// by default, at most [`SoftDeleteConfig::MAX_TIMEOUT`].
    pub fn max_throttle_wait(mut self, limit: Duration) -> Self {
        self.max_throttle_wait = Some(limit);
        self
    }

    /// Runs every batch in one transaction: all or nothing. Transient errors are then not
    /// retried, and a failure reports a `partial_count` of 0.
    pub fn atomic(mut self) -> Self {
        self.atomic = true;
        self
    }

    /// Waits this long between batches; the configuration's `pause_between_batches` by
    /// default. At most [`SoftDeleteConfig::MAX_PAUSE`].
    pub fn pause_between_batches(mut self, pause: Duration) -> Self {
        self.pause = Some(pause);
        self
    }

    /// Starts no new batch once this much time has passed; the report then says
    /// `stopped_early` and, where it can tell, how many rows are left.
    pub fn max_duration(mut self, limit: Duration) -> Self {
        self.max_duration = Some(limit);
        self
    }

    /// Starts no new batch once `signal` is stopped; the report then says `stopped_early`, as
    /// for [`max_duration`](Self::max_duration). See [`StopSignal`].
    pub fn stop_on(mut self, signal: StopSignal) -> Self {
        self.stop = Some(signal);
        self
    }

    /// Calls `callback` after every committed batch with the operation's [`Progress`].
    pub fn on_progress<F>(mut self, callback: F) -> Self
    where
        F: Fn(&Progress) + Send + Sync + 'a,
    {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// Sends this operation's alerts to `sink` instead of the manager's.
    pub fn alert_sink(mut self, sink: Arc<dyn AlertSink>) -> Self {
        self.alerts = Some(sink);
        self
    }

    /// Runs the operation quietly, as Laravel's `deleteQuietly`: no hook is called (per-record
    /// or per-batch) and no event is sent; the operation log records it as quiet
    /// ([`OperationRecord::quiet`](crate::OperationRecord::quiet)). Metrics and spans stay:
    /// they are the operator's, not the application's.
    pub fn quietly(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Runs the operation with `workers` workers; the configuration's
    /// [`parallelism`](SoftDeleteConfig::parallelism) (1 unless set) by default. Each worker
    /// takes its own connection from the pool and runs its own batches, each in its own
    /// transaction, over rows no other worker touches: a walk by condition (and a purge) splits
    /// the key range into parts of about as many rows, and ids are handed out batch by batch, so
    /// memory stays flat however many come in. Everything said of batches holds for each
    /// worker's: retries, the check of a lost `COMMIT`, the throttle (asked before every batch
    /// of every worker), the pause and sleep coefficient (per worker), hooks, cascade, events
    /// and progress per batch, one operation id. The stop signal, the maximum duration and a
    /// batch that fails stop every worker before its next batch; the error's `partial_count`
    /// then counts the committed batches of all of them. With the operation log on, each
    /// worker writes its counts into its own row of the log's parts table
    /// ([`create_parts_table`](crate::operation_log::create_parts_table)), so that no row is
    /// written by every batch; the operation's row sums them at its end.
    ///
    /// An atomic operation, one inside the caller's transaction, every operation on SQLite
    /// (one writer at a time) and bulk inserts (whose rows come in one stream, in order) run
    /// one worker, as does a walk with too few rows for a batch per worker;
    /// [`BulkReport::workers`] says how many ran.
    /// 1 ..= [`SoftDeleteConfig::MAX_PARALLELISM`]; other values fail the operation with
    /// [`Error::InvalidArgument`] before anything is sent. Give the pool a connection per
    /// worker and one more.
    ///
    /// # Examples
    ///
    /// ```
    /// use soft_delete_core::BatchOptions;
    ///
    /// let options = BatchOptions::new().batch_size(5_000).parallel(4);
    /// # let _ = options;
    /// ```
    pub fn parallel(mut self, workers: usize) -> Self {
        self.parallel = Some(workers);
        self
    }

    /// Sizes each batch so that it takes about `target` (GitLab's batched background
    /// migrations and gh-ost size their chunks this way): after every batch the next one's size
    /// is the last one's scaled by `target` over the time the batch took (its statements and
    /// `COMMIT`, not the throttle's hold or the pause), by at most half or double at a step,
    /// and kept within a tenth and ten times the starting [`batch_size`](Self::batch_size)
    /// (and [`SoftDeleteConfig::MAX_BATCH_SIZE`]). The size is written into the operation's
    /// [`BatchSize`] (a handle given with [`batch_size_from`](Self::batch_size_from) shows it)
    /// and reported in every [`Progress::batch_size`]. With [`parallel`](Self::parallel)
    /// workers every worker's batches steer the one size. 1 ms ..=
    /// [`SoftDeleteConfig::MAX_PAUSE`]; other values fail the operation with
    /// [`Error::InvalidArgument`] before anything is sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use soft_delete_core::BatchOptions;
    ///
    /// // Start at 1,000 rows, then about 200 ms per batch, between 100 and 10,000 rows.
    /// let options = BatchOptions::new()
    ///     .batch_size(1_000)
    ///     .target_batch_time(Duration::from_millis(200));
    /// # let _ = options;
    /// ```
    pub fn target_batch_time(mut self, target: Duration) -> Self {
        self.target_batch_time = Some(target);
        self
    }

    /// Resolves the options against `config`, checking both: the one place where an operation's
    /// settings are decided.
    fn into_plan(
        self,
        kind: OperationKind,
        id: OperationId,
        table: String,
        mut config: SoftDeleteConfig,
        alerts: Arc<dyn AlertSink>,
    ) -> Result<Plan<'a>> {
        config.validate()?;
        if self.quiet {
            config.events = None;
        }
        let batch_size = match self.batch_size {
            Some(size) => size,
            None => BatchSize::unchecked(config.bulk_operation_batch_size),
        };
        let rows = batch_size.get();
        check_batch_size(rows).map_err(|expected| Error::InvalidArgument {
            name: "batch_size",
            reason: format!("expected {expected}, got {rows}"),
        })?;
        let sizing = match self.target_batch_time {
            None => None,
            Some(target) => {
                check_duration(
                    target,
                    Duration::from_millis(1),
                    SoftDeleteConfig::MAX_PAUSE,
                )
                .map_err(|expected| Error::InvalidArgument {
                    name: "target_batch_time",
                    reason: format!("expected {expected}, got {target:?}"),
                })?;
                Some(engine::Sizing::new(target, rows))
            }
        };
        let workers = self.parallel.unwrap_or(config.parallelism);
        if !(1..=SoftDeleteConfig::MAX_PARALLELISM).contains(&workers) {
            return Err(Error::InvalidArgument {
                name: "parallel",
                reason: format!(
                    "expected 1 ..= {} workers, got {workers}",
                    SoftDeleteConfig::MAX_PARALLELISM
                ),
            });
        }
        let coefficient = self.sleep_coefficient;
        if !(0.0..=MAX_SLEEP_COEFFICIENT).contains(&coefficient) {
            return Err(Error::InvalidArgument {
                name: "sleep_coefficient",
                reason: format!(
                    "expected a number from 0 to {MAX_SLEEP_COEFFICIENT}, got {coefficient}"
                ),
            });
        }
        let max_throttle_wait = self.max_throttle_wait.unwrap_or(DEFAULT_MAX_THROTTLE_WAIT);
        check_duration(
            max_throttle_wait,
            Duration::ZERO,
            SoftDeleteConfig::MAX_TIMEOUT,
        )
        .map_err(|expected| Error::InvalidArgument {
            name: "max_throttle_wait",
            reason: format!("expected {expected}, got {max_throttle_wait:?}"),
        })?;
        let pause = self.pause.unwrap_or(config.pause_between_batches);
        check_duration(pause, Duration::ZERO, SoftDeleteConfig::MAX_PAUSE).map_err(|expected| {
            Error::InvalidArgument {
                name: "pause_between_batches",
                reason: format!("expected {expected}, got {pause:?}"),
            }
        })?;
        let log = config.operation_log.as_deref().map(|log| LogRow {
            log: Table::parse(log),
            id,
            kind,
            table: table.clone(),
            actor: None,
            reason: None,
            selection: String::new(),
            reverses: None,
            quiet: self.quiet,
        });
        Ok(Plan {
            id,
            kind,
            table,
            config,
            workers,
            sizing,
            alerts: self.alerts.unwrap_or(alerts),
            batch_size,
            atomic: self.atomic,
            pause,
            sleep_coefficient: coefficient,
            throttle: self.throttle,
            max_throttle_wait,
            max_duration: self.max_duration,
            stop: self.stop,
            progress: self.progress,
            log,
            actor: None,
            reason: None,
            quiet: self.quiet,
        })
    }
}

/// The largest [`BatchOptions::sleep_coefficient`].
const MAX_SLEEP_COEFFICIENT: f64 = 100.0;

/// How long a throttle may hold a batch back unless [`BatchOptions::max_throttle_wait`] says.
const DEFAULT_MAX_THROTTLE_WAIT: Duration = Duration::from_secs(5 * 60);

/// Keys taken lazily from a stream. Part of builder types; made by the manager.
#[derive(Debug)]
pub struct Ids<S>(pub(crate) S);

/// Rows chosen by a condition. Part of builder types; made by the manager.
#[derive(Debug)]
pub struct Filter(pub(crate) Condition);

/// New rows taken lazily from a stream. Part of builder types; made by the manager.
#[derive(Debug)]
pub struct Rows<S>(pub(crate) S);

/// An iterator's items as a [`Stream`] that never waits: how the builders take ids and rows
/// given as an `IntoIterator`.
#[derive(Debug)]
pub struct FromIter<I>(I);

impl<I> FromIter<I> {
    pub(crate) fn new<T: IntoIterator<IntoIter = I>>(items: T) -> Self {
        FromIter(items.into_iter())
    }
}

// The iterator is never pinned: it is only ever moved as a whole or called through `&mut`.
impl<I> Unpin for FromIter<I> {}

impl<I: Iterator> Stream for FromIter<I> {
    type Item = I::Item;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        Poll::Ready(self.get_mut().0.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

/// What a bulk soft delete writes. Part of builder types.
#[derive(Clone, Debug, Default)]
pub struct SoftDeleteAction {
    by: Option<String>,
    reason: Option<String>,
    at: Option<Timestamp>,
}

/// What a bulk restore writes. Part of builder types.
#[derive(Clone, Debug, Default)]
pub struct RestoreAction {
    by: Option<String>,
    reason: Option<String>,
}

/// Which rows a purge removes. Part of builder types.
#[derive(Clone, Debug)]
pub struct PurgeAction {
    cutoff: Cutoff,
    dry_run: bool,
    /// The archive table each batch copies its rows into first, if any.
    archive: Option<String>,
}

/// Which soft-deleted rows are old enough to purge.
#[derive(Clone, Copy, Debug)]
enum Cutoff {
    /// Deleted strictly before this time.
    At(Timestamp),
    /// Deleted more than a retention before `now` (the operation's start unless given): the
    /// one given, else the configuration's for the entity's table
    /// ([`SoftDeleteConfig::retention_for`]).
    Retention {
        older_than: Option<Duration>,
        now: Option<Timestamp>,
    },
    /// Every soft-deleted row (that the purge's condition selects).
    Any,
}

impl PurgeAction {
    pub(crate) fn new(cutoff: Timestamp) -> Self {
        PurgeAction {
            cutoff: Cutoff::At(cutoff),
            dry_run: false,
            archive: None,
        }
    }

    /// The rows deleted more than `older_than` (the configuration's retention for the table,
    /// when `None`) before `now` (the operation's start, when `None`).
    pub(crate) fn expired(older_than: Option<Duration>, now: Option<Timestamp>) -> Self {
        PurgeAction {
            cutoff: Cutoff::Retention { older_than, now },
            dry_run: false,
            archive: None,
        }
    }

    pub(crate) fn any() -> Self {
        PurgeAction {
            cutoff: Cutoff::Any,
            dry_run: false,
            archive: None,
        }
    }

    /// The cutoff of `table`'s purge: the one given, a retention ago, or none.
    fn cutoff(&self, config: &SoftDeleteConfig, table: &Table) -> Result<Option<Timestamp>> {
        match self.cutoff {
            Cutoff::At(cutoff) => Ok(Some(ceil_micros(cutoff))),
            Cutoff::Any => Ok(None),
            Cutoff::Retention {
                older_than,
                now: at,
            } => {
                let retention = older_than.unwrap_or_else(|| config.retention_for(table.name()));
                retention_cutoff(at.unwrap_or_else(now), retention).map(Some)
            }
        }
    }
}

/// What a bulk insert stamps, and whether it returns the models (`M` is [`Models`] or
/// [`CountOnly`]). Part of builder types.
#[derive(Clone, Debug, Default)]
pub struct CreateAction<M> {
    by: Option<String>,
    _mode: PhantomData<M>,
}

/// Marks a [`BulkCreate`] that returns the created models.
#[derive(Clone, Copy, Debug, Default)]
pub struct Models;

/// Marks a [`BulkInsert`] that returns only a report.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountOnly;

/// A bulk operation being set up. Await it to run it.
///
/// The type parameters say which entity, connection, source of rows and action it is; use the
/// aliases [`BulkSoftDelete`], [`BulkRestore`], [`Purge`], [`BulkCreate`] and [`BulkInsert`]
/// when you need to name one. The setters every operation shares are those of
/// [`BatchOptions`].
#[must_use = "a bulk operation does nothing until it is awaited"]
pub struct Bulk<'a, E, C, Src, Act> {
    db: &'a C,
    config: SoftDeleteConfig,
    alerts: Arc<dyn AlertSink>,
    source: Src,
    action: Act,
    options: BatchOptions<'a>,
    /// The operation this one reverses (`restore_operation`, `undo`), for the log.
    reverses: Option<OperationId>,
    _entity: PhantomData<fn() -> E>,
}

/// A bulk soft delete; see [`SoftDeleteManager::bulk_soft_delete`](crate::SoftDeleteManager::bulk_soft_delete).
pub type BulkSoftDelete<'a, E, C, Src> = Bulk<'a, E, C, Src, SoftDeleteAction>;
/// A bulk restore; see [`SoftDeleteManager::bulk_restore`](crate::SoftDeleteManager::bulk_restore).
pub type BulkRestore<'a, E, C, Src> = Bulk<'a, E, C, Src, RestoreAction>;
/// A purge; see [`SoftDeleteManager::hard_delete_before`](crate::SoftDeleteManager::hard_delete_before).
pub type Purge<'a, E, C> = Bulk<'a, E, C, Filter, PurgeAction>;
/// A bulk insert that returns the created models; see
/// [`SoftDeleteManager::bulk_create`](crate::SoftDeleteManager::bulk_create).
pub type BulkCreate<'a, E, C, S> = Bulk<'a, E, C, Rows<S>, CreateAction<Models>>;
/// A bulk insert that returns a report; see
/// [`SoftDeleteManager::bulk_insert_stream`](crate::SoftDeleteManager::bulk_insert_stream).
pub type BulkInsert<'a, E, C, S> = Bulk<'a, E, C, Rows<S>, CreateAction<CountOnly>>;

impl<E, C, Src: fmt::Debug, Act: fmt::Debug> fmt::Debug for Bulk<'_, E, C, Src, Act> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulk")
            .field("entity", &std::any::type_name::<E>())
            .field("source", &self.source)
            .field("action", &self.action)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<'a, E, C, Src, Act> Bulk<'a, E, C, Src, Act> {
    pub(crate) fn new(
        db: &'a C,
        config: SoftDeleteConfig,
        alerts: Arc<dyn AlertSink>,
        source: Src,
        action: Act,
    ) -> Self {
        Bulk {
            db,
            config,
            alerts,
            source,
            action,
            options: BatchOptions::default(),
            reverses: None,
            _entity: PhantomData,
        }
    }

    /// Records in the log that this operation reverses `op`.
    pub(crate) fn reversing(mut self, op: OperationId) -> Self {
        self.reverses = Some(op);
        self
    }

    /// Replaces every option with `options`.
    pub fn with_options(mut self, options: BatchOptions<'a>) -> Self {
        self.options = options;
        self
    }

    /// See [`BatchOptions::batch_size`].
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.options = self.options.batch_size(rows);
        self
    }

    /// See [`BatchOptions::batch_size_from`].
    pub fn batch_size_from(mut self, size: BatchSize) -> Self {
        self.options = self.options.batch_size_from(size);
        self
    }

    /// See [`BatchOptions::sleep_coefficient`].
    pub fn sleep_coefficient(mut self, coefficient: f64) -> Self {
        self.options = self.options.sleep_coefficient(coefficient);
        self
    }

    /// See [`BatchOptions::throttle`].
    pub fn throttle(mut self, throttle: Arc<dyn crate::throttle::Throttle>) -> Self {
        self.options = self.options.throttle(throttle);
        self
    }

    /// See [`BatchOptions::max_throttle_wait`].
    pub fn max_throttle_wait(mut self, limit: Duration) -> Self {
        self.options = self.options.max_throttle_wait(limit);
        self
    }

    /// See [`BatchOptions::atomic`].
    pub fn atomic(mut self) -> Self {
        self.options = self.options.atomic();
        self
    }

    /// See [`BatchOptions::quietly`].
    pub fn quietly(mut self) -> Self {
        self.options = self.options.quietly();
        self
    }

    /// See [`BatchOptions::parallel`].
    pub fn parallel(mut self, workers: usize) -> Self {
        self.options = self.options.parallel(workers);
        self
    }

    /// See [`BatchOptions::target_batch_time`].
    pub fn target_batch_time(mut self, target: Duration) -> Self {
        self.options = self.options.target_batch_time(target);
        self
    }

    /// See [`BatchOptions::pause_between_batches`].
    pub fn pause_between_batches(mut self, pause: Duration) -> Self {
        self.options = self.options.pause_between_batches(pause);
        self
    }

    /// See [`BatchOptions::max_duration`].
    pub fn max_duration(mut self, limit: Duration) -> Self {
        self.options = self.options.max_duration(limit);
        self
    }

    /// See [`BatchOptions::stop_on`].
    pub fn stop_on(mut self, signal: StopSignal) -> Self {
        self.options = self.options.stop_on(signal);
        self
    }

    /// See [`BatchOptions::on_progress`].
    pub fn on_progress<F>(mut self, callback: F) -> Self
    where
        F: Fn(&Progress) + Send + Sync + 'a,
    {
        self.options = self.options.on_progress(callback);
        self
    }

    /// See [`BatchOptions::alert_sink`].
    pub fn alert_sink(mut self, sink: Arc<dyn AlertSink>) -> Self {
        self.options = self.options.alert_sink(sink);
        self
    }
}

impl<E, C, Src> Bulk<'_, E, C, Src, SoftDeleteAction> {
    /// Records who deleted the rows.
    pub fn deleted_by(mut self, who: impl Into<String>) -> Self {
        self.action.by = Some(who.into());
        self
    }

    /// Records why the rows were deleted.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.action.reason = Some(why.into());
        self
    }

    /// Stamps `deleted_at` with this time instead of the time the operation starts, truncated
    /// to microseconds (what every backend stores). A time the backend cannot store exactly is
    /// refused with [`Error::InvalidArgument`] before anything is sent.
    pub fn at(mut self, when: Timestamp) -> Self {
        self.action.at = Some(to_micros(when));
        self
    }
}

impl<E, C, Src> Bulk<'_, E, C, Src, RestoreAction> {
    /// Records who restored the rows in `updated_by`, for entities with audit columns, and in
    /// the log and events.
    pub fn restored_by(mut self, who: impl Into<String>) -> Self {
        self.action.by = Some(who.into());
        self
    }

    /// Records why the rows were restored, in the log and events.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.action.reason = Some(why.into());
        self
    }
}

impl<E, C> Bulk<'_, E, C, Filter, PurgeAction> {
    /// Counts the rows the purge would delete, and deletes nothing. The report's `affected`
    /// holds the count: the entity's own rows (for a cascading entity, the parents that would go;
    /// the rows under them are not counted).
    pub fn dry_run(mut self) -> Self {
        self.action.dry_run = true;
        self
    }

    /// Purges only the rows that also match `condition`.
    pub fn filter(mut self, condition: impl IntoCondition) -> Self {
        self.source = Filter(self.source.0.add(condition.into_condition()));
        self
    }

    /// Copies each batch's rows into the archive table `table` before deleting them, in the
    /// batch's transaction: every row ends in exactly one of the two tables (see
    /// [`crate::archive`]). A bare name is a table in the entity's schema; `schema.table` names
    /// another. The report's `archived` counts them.
    pub fn archive_into(mut self, table: impl Into<String>) -> Self {
        self.action.archive = Some(table.into());
        self
    }
}

impl<E: EntityTrait, C> Bulk<'_, E, C, Filter, PurgeAction> {
    /// [`archive_into`](Self::archive_into) the entity's default archive, `<table>_archive` in
    /// the entity's schema (made by [`create_archive_table`](crate::archive::create_archive_table)
    /// or the `CreateArchiveTable` migration).
    pub fn archive(self) -> Self {
        let table = format!("{}_archive", Table::of::<E>().name());
        self.archive_into(table)
    }
}

impl<E: Audit, C, S, M> Bulk<'_, E, C, Rows<S>, CreateAction<M>> {
    /// Records who created the rows (rows that set `created_by` themselves keep theirs).
    pub fn created_by(mut self, who: impl Into<String>) -> Self {
        self.action.by = Some(who.into());
        self
    }
}

impl<'a, E, C, Src, Act> Bulk<'a, E, C, Src, Act>
where
    E: SoftDelete,
    C: BulkConnection,
{
    /// Checks the options, then hands the pieces to the operation's own `into_future`.
    fn prepare(self, kind: OperationKind) -> Result<(&'a C, Plan<'a>, Src, Act)> {
        let (db, plan, source, action, _) = self.prepare_reversing(kind)?;
        Ok((db, plan, source, action))
    }

    /// [`prepare`](Self::prepare), with the operation this one reverses, if any.
    #[allow(clippy::type_complexity)]
    fn prepare_reversing(
        self,
        kind: OperationKind,
    ) -> Result<(&'a C, Plan<'a>, Src, Act, Option<OperationId>)> {
        let table = Table::of::<E>().to_string();
        let mut plan =
            self.options
                .into_plan(kind, OperationId::new(), table, self.config, self.alerts)?;
        if let Some(entry) = &mut plan.log {
            entry.reverses = self.reverses;
        }
        Ok((self.db, plan, self.source, self.action, self.reverses))
    }
}

pub(crate) mod sealed {
    use super::*;

    /// What a [`ChangeAction`](super::ChangeAction) writes; opaque outside this crate.
    #[derive(Debug)]
    pub struct Written(pub(crate) Change);

    /// What [`ChangeAction`](super::ChangeAction) hides: the change an action writes.
    pub trait Sealed: Send + Sized {
        /// The operation the action is.
        const KIND: OperationKind;

        /// Checks the configuration's rules before anything is written, and returns what every
        /// changed row gets.
        fn into_change(
            self,
            config: &SoftDeleteConfig,
            op: OperationId,
            reverses: Option<OperationId>,
        ) -> Result<Written>;
    }

    impl Sealed for SoftDeleteAction {
        const KIND: OperationKind = OperationKind::SoftDelete;

        fn into_change(
            self,
            config: &SoftDeleteConfig,
            op: OperationId,
            reverses: Option<OperationId>,
        ) -> Result<Written> {
            check_required(config, self.by.as_deref(), self.reason.as_deref())?;
            Ok(Written(Change::SoftDelete {
                op,
                unique: self.at.is_none(),
                at: self.at.unwrap_or_else(operation_stamp),
                by: self.by,
                reason: self.reason,
                reverses,
            }))
        }
    }

    impl Sealed for RestoreAction {
        const KIND: OperationKind = OperationKind::Restore;

        fn into_change(
            self,
            _config: &SoftDeleteConfig,
            op: OperationId,
            _reverses: Option<OperationId>,
        ) -> Result<Written> {
            Ok(Written(Change::Restore {
                op,
                at: operation_stamp(),
                by: self.by,
                reason: self.reason,
            }))
        }
    }
}

/// The actions that change `deleted_at` on existing rows: [`SoftDeleteAction`] and
/// [`RestoreAction`]. Sealed: implemented by this crate only, so that bulk soft delete and bulk
/// restore share one implementation of selecting, running and explaining.
pub trait ChangeAction: sealed::Sealed {}

impl<T: sealed::Sealed> ChangeAction for T {}

/// An operation checked and ready: the connection, the plan and the batch source.
struct Started<'a, C, S> {
    db: &'a C,
    plan: Plan<'a>,
    source: S,
}

impl<'a, C, S> Started<'a, C, S>
where
    C: BulkConnection,
    S: BatchSource,
{
    async fn run(mut self) -> Result<BulkReport> {
        engine::run(self.db, self.plan, &mut self.source).await
    }

    async fn explain(mut self) -> Result<Explain> {
        let statements = self.source.preview(self.db).await?;
        Ok(explain::explain(self.db, statements).await?)
    }
}

impl<'a, E, C, S, T, A> Bulk<'a, E, C, Ids<S>, A>
where
    E: SoftDelete,
    C: BulkConnection,
    S: Stream<Item = T> + Send + 'a,
    T: Into<PrimaryKeyValue<E>> + Send + 'a,
    A: ChangeAction,
{
    fn start(self) -> Result<Started<'a, C, IdSource<E, S>>> {
        let (db, mut plan, Ids(ids), action, reverses) = self.prepare_reversing(A::KIND)?;
        let backend = db.get_database_backend();
        check_cascade::<E>()?;
        let change = action.into_change(&plan.config, plan.id, reverses)?.0;
        check_change::<E>(&change, backend)?;
        plan.describe(change.actor(), change.reason(), || {
            Selection::Keys.to_string()
        })?;
        let step = change_step::<E>(&plan, backend, change);
        let source = IdSource::new(ids, plan.batch_size.clone(), step);
        Ok(Started { db, plan, source })
    }

    /// The statement of the first batch and the plan the database chose for it; changes
    /// nothing. See [`Explain`].
    ///
    /// # Errors
    ///
    /// As for running the operation, before its first batch.
    pub async fn explain(self) -> Result<Explain> {
        self.start()?.explain().await
    }
}

impl<'a, E, C, S, T, A> IntoFuture for Bulk<'a, E, C, Ids<S>, A>
where
    E: SoftDelete,
    C: BulkConnection,
    S: Stream<Item = T> + Send + 'a,
    T: Into<PrimaryKeyValue<E>> + Send + 'a,
    A: ChangeAction + 'a,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.start()?.run().await })
    }
}

impl<'a, E, C, A> Bulk<'a, E, C, Filter, A>
where
    E: SoftDelete,
    C: BulkConnection,
    A: ChangeAction,
{
    fn start(self) -> Result<Started<'a, C, KeysetSource<E>>> {
        let (db, mut plan, Filter(condition), action, reverses) =
            self.prepare_reversing(A::KIND)?;
        let backend = db.get_database_backend();
        check_cascade::<E>()?;
        let change = action.into_change(&plan.config, plan.id, reverses)?.0;
        check_change::<E>(&change, backend)?;
        let values = plan.config.log_condition_values;
        plan.describe(change.actor(), change.reason(), || {
            describe_condition::<E>(backend, &condition, values)
        })?;
        let step = Step::new(
            Action::Change(change),
            condition,
            Vec::new(),
            step_options(&plan, backend),
        );
        let source = KeysetSource::new(step, plan.batch_size.clone(), backend);
        Ok(Started { db, plan, source })
    }

    /// The statements of the first batch (the range `SELECT` and the `UPDATE`) and the plans
    /// the database chose for them; changes nothing. See [`Explain`].
    ///
    /// # Errors
    ///
    /// As for running the operation, before its first batch.
    pub async fn explain(self) -> Result<Explain> {
        self.start()?.explain().await
    }
}

impl<'a, E, C, A> IntoFuture for Bulk<'a, E, C, Filter, A>
where
    E: SoftDelete,
    C: BulkConnection,
    A: ChangeAction + 'a,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.start()?.run().await })
    }
}

/// How the step of a bulk operation planned as `plan` is set up.
fn step_options(plan: &Plan<'_>, backend: sea_orm::DbBackend) -> StepOptions {
    StepOptions {
        backend,
        operation: plan.id,
        actor: plan.actor.clone(),
        reason: plan.reason.clone(),
        atomic: plan.atomic,
        optimize: plan.config.enable_query_optimization,
        one_record: false,
        quiet: plan.quiet,
    }
}

/// The step of a bulk soft delete or restore of rows named by key.
fn change_step<E: SoftDelete>(
    plan: &Plan<'_>,
    backend: sea_orm::DbBackend,
    change: Change,
) -> Step<E> {
    Step::new(
        Action::Change(change),
        Condition::all(),
        Vec::new(),
        step_options(plan, backend),
    )
}

/// A purge, ready: a walk, or for a dry run the count to take.
// Built once per call and matched at once: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum PurgeStart<'a, C, E> {
    Walk(Started<'a, C, KeysetSource<E>>),
    DryRun {
        db: &'a C,
        plan: Plan<'a>,
        count: sea_orm::sea_query::SelectStatement,
    },
}

impl<'a, E, C> Bulk<'a, E, C, Filter, PurgeAction>
where
    E: SoftDelete,
    C: BulkConnection,
{
    fn start(self) -> Result<PurgeStart<'a, C, E>> {
        let dry_run = self.action.dry_run;
        let (db, mut plan, Filter(filter), action) = self.prepare(OperationKind::Purge)?;
        let table = Table::of::<E>();
        // An epoch's unit around the cutoff may hold rows deleted after it: never take them.
        let cutoff = action
            .cutoff(&plan.config, &table)?
            .map(|cutoff| E::marker().purge_cutoff(cutoff));
        let backend = db.get_database_backend();
        if let Some(cutoff) = cutoff {
            check_timestamp(backend, "cutoff", cutoff)?;
        }
        check_cascade::<E>()?;
        let archive = match action.archive {
            Some(name) if name.trim().is_empty() => {
                return Err(Error::InvalidArgument {
                    name: "archive",
                    reason: "the archive table's name is empty".to_owned(),
                });
            }
            Some(_) if !E::cascade().is_empty() => {
                return Err(Error::InvalidArgument {
                    name: "archive",
                    reason: format!(
                        "`{table}` cascades to other tables, whose rows a purge deletes with it; \
                         archiving only the parents would lose the children. Purge (and \
                         archive) the children first by their own policies, or purge without \
                         an archive"
                    ),
                });
            }
            // In the entity's schema unless the name says another.
            Some(name) => Some(ArchiveTo {
                table: table.sibling(&name),
                at: operation_stamp(),
            }),
            None => None,
        };
        // A parent under which a row is kept stays; see `cascade`.
        let filter = match crate::step::cascade::purgeable::<E>() {
            Some(purgeable) => filter.add(purgeable),
            None => filter,
        };
        let values = plan.config.log_condition_values;
        plan.describe(None, None, || {
            describe_condition::<E>(
                backend,
                &filter.clone().add(deleted_before::<E>(cutoff)),
                values,
            )
        })?;
        if dry_run {
            // The count can use an index on `deleted_at`, unlike the walk's form.
            let count = count_where::<E>(&filter.add(deleted_before::<E>(cutoff)));
            return Ok(PurgeStart::DryRun { db, plan, count });
        }
        let state = deleted_before_for_keyset::<E>(cutoff, backend);
        let step = Step::new(
            Action::Purge {
                state: state.clone(),
                archive,
            },
            filter.add(state),
            Vec::new(),
            step_options(&plan, backend),
        );
        let source = KeysetSource::new(step, plan.batch_size.clone(), backend);
        Ok(PurgeStart::Walk(Started { db, plan, source }))
    }

    /// The statements of the first batch (the range `SELECT` and the `DELETE`; for a dry run,
    /// the `COUNT`) and the plans the database chose for them; changes nothing. See
    /// [`Explain`].
    ///
    /// # Errors
    ///
    /// As for running the operation, before its first batch.
    pub async fn explain(self) -> Result<Explain> {
        match self.start()? {
            PurgeStart::Walk(started) => started.explain().await,
            PurgeStart::DryRun { db, count, .. } => {
                let statement = db.get_database_backend().build(&count);
                Ok(explain::explain(db, vec![statement]).await?)
            }
        }
    }
}

impl<'a, E, C> IntoFuture for Bulk<'a, E, C, Filter, PurgeAction>
where
    E: SoftDelete,
    C: BulkConnection,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let archive = self
                .action
                .archive
                .as_deref()
                .map(|name| Table::of::<E>().sibling(name));
            let db = self.db;
            let start = self.start()?;
            // A missing or unreadable archive is refused before the first batch, and by a dry
            // run too, which would otherwise promise a purge that cannot run.
            if let Some(table) = archive {
                ArchiveTo { table, at: now() }.probe(db).await?;
            }
            match start {
                PurgeStart::Walk(started) => started.run().await,
                PurgeStart::DryRun {
                    db,
                    plan,
                    count: query,
                } => {
                    let start = Instant::now();
                    let matching = count(db, &query).await?;
                    Ok(BulkReport {
                        id: plan.id,
                        operation: plan.kind,
                        table: plan.table,
                        requested: matching,
                        affected: matching,
                        cascaded: 0,
                        archived: 0,
                        batches: 0,
                        retries: 0,
                        elapsed: start.elapsed(),
                        throttled: Duration::ZERO,
                        paused: Duration::ZERO,
                        dry_run: true,
                        stopped_early: false,
                        remaining: None,
                        workers: 1,
                    })
                }
            }
        })
    }
}

impl<'a, E, C, S> IntoFuture for BulkCreate<'a, E, C, S>
where
    E: SoftDelete,
    E::ActiveModel: Send + Sync + TryIntoModel<E::Model>,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    C: BulkConnection,
    S: Stream<Item = E::ActiveModel> + Send + 'a,
{
    type Output = Result<Created<E::Model>>;
    type IntoFuture = BoxFuture<'a, Result<Created<E::Model>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (db, mut plan, Rows(rows), action) = self.prepare(OperationKind::Create)?;
            plan.describe(action.by.as_deref(), None, || Selection::Rows.to_string())?;
            let backend = db.get_database_backend();
            let mut source = InsertSource::<E, S>::new(rows, &plan, backend, action.by, true);
            let report = engine::run(db, plan, &mut source).await?;
            Ok(Created::new(source.collected, report))
        })
    }
}

impl<'a, E, C, S> IntoFuture for BulkInsert<'a, E, C, S>
where
    E: SoftDelete,
    E::ActiveModel: Send + Sync + TryIntoModel<E::Model>,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    C: BulkConnection,
    S: Stream<Item = E::ActiveModel> + Send + 'a,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (db, mut plan, Rows(rows), action) = self.prepare(OperationKind::Create)?;
            plan.describe(action.by.as_deref(), None, || Selection::Rows.to_string())?;
            let backend = db.get_database_backend();
            let source = InsertSource::<E, S>::new(rows, &plan, backend, action.by, false);
            Started { db, plan, source }.run().await
        })
    }
}
