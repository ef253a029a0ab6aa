//! [`SoftDeleteManager`]: batched bulk soft delete, restore, purge and deletion statistics.
//!
//! Every operation is a builder: set options with chained methods, then `.await` it.
//!
//! ```no_run
//! # mod user {
//! #     use sea_orm::entity::prelude::*;
//! #     #[soft_delete_core::soft_delete]
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//! #     #[sea_orm(table_name = "users")]
//! #     pub struct Model {
//! #         #[sea_orm(primary_key)]
//! #         pub id: i64,
//! #     }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! # }
//! use std::time::Duration;
//! use soft_delete_core::SoftDeleteManager;
//!
//! # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
//! let manager = SoftDeleteManager::new(db);
//!
//! // Ids are consumed lazily, one batch at a time: a range of a million never sits in memory.
//! let report = manager
//!     .bulk_soft_delete::<user::Entity, _>(1..=1_000_000i64)
//!     .deleted_by("admin")
//!     .reason("Bulk cleanup")
//!     .batch_size(5000)
//!     .on_progress(|p| println!("{} rows, {:.0}/s", p.affected, p.rate()))
//!     .await?;
//! println!("{report}");
//!
//! manager.bulk_restore::<user::Entity, _>(vec![1i64, 2, 3]).await?;
//!
//! // Purge rows soft-deleted more than 90 days ago, 500 at a time, for at most a minute.
//! let cutoff = chrono::Utc::now() - chrono::Duration::days(90);
//! let purged = manager
//!     .hard_delete_before::<user::Entity>(cutoff)
//!     .batch_size(500)
//!     .pause_between_batches(Duration::from_millis(10))
//!     .max_duration(Duration::from_secs(60))
//!     .await?;
//!
//! let stats = manager.get_deletion_stats::<user::Entity>().await?;
//! println!("{} active, {} deleted ({:.1}%)", stats.active, stats.deleted, stats.deletion_ratio * 100.0);
//! # Ok(()) }
//! ```
//!
//! # Semantics
//!
//! * Soft delete touches only active rows and restore only deleted ones: duplicates, unknown ids
//!   and rows already in the target state are not counted, and re-running an operation finishes
//!   what a failed run left and counts only what it changed. One operation stamps every row with
//!   the same `deleted_at`.
//! * Each batch is its own transaction: committed batches stay committed when a later one fails,
//!   and the error ([`Error::Bulk`]) carries `partial_count`, the rows those batches changed, and
//!   the number of the batch that failed. `.atomic()` runs every batch in one transaction
//!   instead: all or nothing.
//! * Transient errors (deadlock, serialization failure, lock wait timeout, dropped connection,
//!   database busy) are retried per batch, with backoff; other errors fail at once. Each batch has
//!   `query_timeout_seconds` to finish.
//! * Cancel safety: dropping an operation's future part-way never leaves half a batch. The
//!   batch in flight runs in a transaction that is rolled back when its future is dropped (sqlx
//!   rolls back a dropped transaction before the connection is used again); batches that
//!   committed before stay committed, and in atomic mode nothing is kept. A drop that lands
//!   while a `COMMIT` is on the wire cannot know whether the server applied it; that one batch
//!   is whole either way, and the progress callback has not counted it.
//! * Operations that reach `bulk_operation_alert_threshold` rows raise one [`BulkAlert`] each
//!   through the manager's [`AlertSink`] (a `tracing` warning by default).
//! * It works on a `DatabaseConnection` or inside your own `DatabaseTransaction` (batches then
//!   become savepoints).
//!
//! [`BulkAlert`]: crate::BulkAlert

use std::fmt;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use sea_orm::sea_query::{Condition, IntoCondition};
use sea_orm::{ConnectionTrait, EntityTrait, PrimaryKeyTrait, TransactionTrait};

use crate::batch::{self, IdSource, KeysetAction, KeysetSource, Plan, ProgressFn};
use crate::config::{SoftDeleteConfig, check_required};
use crate::dialect;
use crate::entity::Change;
use crate::entity::{BoxFuture, SoftDelete, Timestamp, now};
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::report::{AlertSink, BulkReport, Progress, TracingAlertSink};

/// The primary-key value type of an entity: `i64`, `Uuid`, `(i32, i64)`, …
pub type PrimaryKeyValue<E> = <<E as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType;

/// Runs batched bulk operations on soft-delete entities; see the [module documentation](self).
///
/// `C` is any connection that can run statements and open transactions: a
/// `DatabaseConnection`, or a `DatabaseTransaction` when the work must join yours.
#[derive(Clone)]
pub struct SoftDeleteManager<'c, C> {
    db: &'c C,
    config: SoftDeleteConfig,
    alerts: Arc<dyn AlertSink>,
}

impl<C> fmt::Debug for SoftDeleteManager<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftDeleteManager")
            .field("config", &self.config)
            .field("alerts", &self.alerts)
            .finish_non_exhaustive()
    }
}

/// Row counts of a soft-delete table, from one query.
#[derive(Clone, Debug, PartialEq)]
pub struct DeletionStats {
    /// The table counted.
    pub table: String,
    /// All rows.
    pub total: u64,
    /// Rows that are not soft-deleted.
    pub active: u64,
    /// Soft-deleted rows.
    pub deleted: u64,
    /// `deleted / total`; 0 for an empty table, never NaN.
    pub deletion_ratio: f64,
}

impl DeletionStats {
    pub(crate) fn new(table: String, total: u64, deleted: u64) -> Self {
        let deleted = deleted.min(total);
        DeletionStats {
            table,
            total,
            active: total - deleted,
            deleted,
            deletion_ratio: if total == 0 {
                0.0
            } else {
                deleted as f64 / total as f64
            },
        }
    }
}

impl<'c, C> SoftDeleteManager<'c, C>
where
    C: ConnectionTrait + TransactionTrait,
{
    /// A manager with the default [`SoftDeleteConfig`].
    pub fn new(db: &'c C) -> Self {
        Self::with_config(db, SoftDeleteConfig::default())
    }

    /// A manager with `config`.
    pub fn with_config(db: &'c C, config: SoftDeleteConfig) -> Self {
        SoftDeleteManager {
            db,
            config,
            alerts: Arc::new(TracingAlertSink),
        }
    }

    /// Sends alerts to `sink` instead of logging them.
    pub fn with_alert_sink(mut self, sink: Arc<dyn AlertSink>) -> Self {
        self.alerts = sink;
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &SoftDeleteConfig {
        &self.config
    }

    /// The connection in use.
    pub fn connection(&self) -> &'c C {
        self.db
    }

    /// Soft-deletes the active rows among `ids`, consuming them lazily in batches.
    ///
    /// # Errors
    ///
    /// [`Error::MissingRequired`] when the configuration requires `deleted_by` or a reason that
    /// was not given; [`Error::InvalidArgument`] for a batch size of 0; [`Error::Bulk`] when a
    /// batch fails.
    pub fn bulk_soft_delete<E, I>(
        &self,
        ids: I,
    ) -> BulkSoftDelete<'_, E, C, IdList<futures::stream::Iter<I::IntoIter>>>
    where
        E: SoftDelete,
        I: IntoIterator,
        I::Item: Into<PrimaryKeyValue<E>>,
    {
        Bulk::new(
            self,
            IdList(futures::stream::iter(ids)),
            SoftDeleteAction::default(),
        )
    }

    /// [`bulk_soft_delete`](Self::bulk_soft_delete) with ids from a stream.
    pub fn bulk_soft_delete_stream<E, S>(&self, ids: S) -> BulkSoftDelete<'_, E, C, IdList<S>>
    where
        E: SoftDelete,
        S: Stream,
        S::Item: Into<PrimaryKeyValue<E>>,
    {
        Bulk::new(self, IdList(ids), SoftDeleteAction::default())
    }

    /// Soft-deletes the active rows matching `condition`, walking the table by primary key in
    /// batches, with no id list at all.
    pub fn bulk_soft_delete_where<E>(
        &self,
        condition: impl IntoCondition,
    ) -> BulkSoftDelete<'_, E, C, Filter>
    where
        E: SoftDelete,
    {
        Bulk::new(
            self,
            Filter(condition.into_condition()),
            SoftDeleteAction::default(),
        )
    }

    /// Restores the soft-deleted rows among `ids`, consuming them lazily in batches.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a batch size of 0; [`Error::Bulk`] when a batch fails.
    pub fn bulk_restore<E, I>(
        &self,
        ids: I,
    ) -> BulkRestore<'_, E, C, IdList<futures::stream::Iter<I::IntoIter>>>
    where
        E: SoftDelete,
        I: IntoIterator,
        I::Item: Into<PrimaryKeyValue<E>>,
    {
        Bulk::new(
            self,
            IdList(futures::stream::iter(ids)),
            RestoreAction::default(),
        )
    }

    /// [`bulk_restore`](Self::bulk_restore) with ids from a stream.
    pub fn bulk_restore_stream<E, S>(&self, ids: S) -> BulkRestore<'_, E, C, IdList<S>>
    where
        E: SoftDelete,
        S: Stream,
        S::Item: Into<PrimaryKeyValue<E>>,
    {
        Bulk::new(self, IdList(ids), RestoreAction::default())
    }

    /// Restores the soft-deleted rows matching `condition`, walking the table by primary key.
    pub fn bulk_restore_where<E>(
        &self,
        condition: impl IntoCondition,
    ) -> BulkRestore<'_, E, C, Filter>
    where
        E: SoftDelete,
    {
        Bulk::new(
            self,
            Filter(condition.into_condition()),
            RestoreAction::default(),
        )
    }

    /// Deletes for good the rows soft-deleted strictly before `cutoff`, walking forward by
    /// primary key. Active rows are never touched, whatever the cutoff.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a batch size of 0; [`Error::Bulk`] when a batch fails.
    pub fn hard_delete_before<E>(&self, cutoff: Timestamp) -> Purge<'_, E, C>
    where
        E: SoftDelete,
    {
        Bulk::new(
            self,
            Filter(Condition::all()),
            PurgeAction {
                cutoff,
                dry_run: false,
            },
        )
    }

    /// [`hard_delete_before`](Self::hard_delete_before) with the cutoff `retention_days` ago.
    pub fn purge_expired<E>(&self) -> Purge<'_, E, C>
    where
        E: SoftDelete,
    {
        let cutoff = now() - chrono::Duration::days(i64::from(self.config.retention_days));
        self.hard_delete_before::<E>(cutoff)
    }

    /// Counts total, active and deleted rows in one query.
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the query fails.
    pub async fn get_deletion_stats<E>(&self) -> Result<DeletionStats>
    where
        E: SoftDelete,
    {
        let row = self
            .db
            .query_one(&dialect::deletion_counts::<E>())
            .await?
            .ok_or_else(|| sea_orm::DbErr::Custom("COUNT(*) returned no row".to_owned()))?;
        let total: i64 = row.try_get_by_index(0)?;
        let deleted: i64 = row.try_get_by_index(1)?;
        Ok(DeletionStats::new(
            E::default().table_name().to_owned(),
            total.max(0) as u64,
            deleted.max(0) as u64,
        ))
    }
}

/// Ids from a stream (iterators are wrapped in one). Part of builder types; not built directly.
#[derive(Debug)]
pub struct IdList<S>(S);

/// Rows chosen by a condition. Part of builder types; not built directly.
#[derive(Debug)]
pub struct Filter(Condition);

/// Options of a bulk soft delete. Part of builder types.
#[derive(Clone, Debug, Default)]
pub struct SoftDeleteAction {
    by: Option<String>,
    reason: Option<String>,
    at: Option<Timestamp>,
}

/// Options of a bulk restore. Part of builder types.
#[derive(Clone, Debug, Default)]
pub struct RestoreAction {
    by: Option<String>,
}

/// Options of a purge. Part of builder types.
#[derive(Clone, Debug)]
pub struct PurgeAction {
    cutoff: Timestamp,
    dry_run: bool,
}

/// A bulk operation being set up. Await it to run it.
///
/// The type parameters say which entity, connection, source of rows and action it is; use the
/// aliases [`BulkSoftDelete`], [`BulkRestore`] and [`Purge`] when you need to name one.
#[must_use = "a bulk operation does nothing until it is awaited"]
pub struct Bulk<'a, E, C, Src, Act> {
    manager: &'a SoftDeleteManager<'a, C>,
    source: Src,
    action: Act,
    batch_size: Option<usize>,
    atomic: bool,
    pause: Option<Duration>,
    max_duration: Option<Duration>,
    progress: Option<Box<ProgressFn<'a>>>,
    _entity: std::marker::PhantomData<fn() -> E>,
}

/// A bulk soft delete; see [`SoftDeleteManager::bulk_soft_delete`].
pub type BulkSoftDelete<'a, E, C, Src> = Bulk<'a, E, C, Src, SoftDeleteAction>;
/// A bulk restore; see [`SoftDeleteManager::bulk_restore`].
pub type BulkRestore<'a, E, C, Src> = Bulk<'a, E, C, Src, RestoreAction>;
/// A purge; see [`SoftDeleteManager::hard_delete_before`].
pub type Purge<'a, E, C> = Bulk<'a, E, C, Filter, PurgeAction>;

impl<E, C, Src: fmt::Debug, Act: fmt::Debug> fmt::Debug for Bulk<'_, E, C, Src, Act> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulk")
            .field("source", &self.source)
            .field("action", &self.action)
            .field("batch_size", &self.batch_size)
            .field("atomic", &self.atomic)
            .field("pause", &self.pause)
            .field("max_duration", &self.max_duration)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish_non_exhaustive()
    }
}

impl<'a, E, C, Src, Act> Bulk<'a, E, C, Src, Act> {
    fn new(manager: &'a SoftDeleteManager<'a, C>, source: Src, action: Act) -> Self {
        Bulk {
            manager,
            source,
            action,
            batch_size: None,
            atomic: false,
            pause: None,
            max_duration: None,
            progress: None,
            _entity: std::marker::PhantomData,
        }
    }

    /// Rows per batch (and per transaction); the configuration's `bulk_operation_batch_size`
    /// by default. Must be at least 1.
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = Some(rows);
        self
    }

    /// Runs every batch in one transaction: all or nothing. Transient errors are then not
    /// retried, and a failure reports a `partial_count` of 0.
    pub fn atomic(mut self) -> Self {
        self.atomic = true;
        self
    }

    /// Waits this long between batches; the configuration's `pause_between_batches_ms` by
    /// default.
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

    /// Calls `callback` after every batch with the operation's [`Progress`].
    pub fn on_progress<F>(mut self, callback: F) -> Self
    where
        F: Fn(&Progress) + Send + Sync + 'a,
    {
        self.progress = Some(Box::new(callback));
        self
    }
}

impl<'a, E, C, Src> Bulk<'a, E, C, Src, SoftDeleteAction> {
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

    /// Stamps `deleted_at` with this time instead of the time the operation starts.
    pub fn at(mut self, when: Timestamp) -> Self {
        self.action.at = Some(when);
        self
    }
}

impl<'a, E, C, Src> Bulk<'a, E, C, Src, RestoreAction> {
    /// Records who restored the rows in `updated_by`, for entities with audit columns.
    pub fn restored_by(mut self, who: impl Into<String>) -> Self {
        self.action.by = Some(who.into());
        self
    }
}

impl<'a, E, C> Bulk<'a, E, C, Filter, PurgeAction> {
    /// Counts the rows the purge would delete, and deletes nothing. The report's `affected`
    /// holds the count.
    pub fn dry_run(mut self) -> Self {
        self.action.dry_run = true;
        self
    }

    /// Purges only the rows that also match `condition`.
    pub fn filter(mut self, condition: impl IntoCondition) -> Self {
        self.source = Filter(self.source.0.add(condition.into_condition()));
        self
    }
}

/// The parts of a builder that the engine needs, after validation.
struct Prepared<'a, C> {
    db: &'a C,
    config: &'a SoftDeleteConfig,
    alerts: &'a dyn AlertSink,
    batch_size: usize,
    atomic: bool,
    pause: Duration,
    max_duration: Option<Duration>,
    progress: Option<Box<ProgressFn<'a>>>,
}

impl<'a, E, C, Src, Act> Bulk<'a, E, C, Src, Act>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    fn prepare(self) -> Result<(Prepared<'a, C>, Src, Act)> {
        let manager = self.manager;
        let batch_size = manager.config.batch_size_for(self.batch_size)?;
        let prepared = Prepared {
            db: manager.db,
            config: &manager.config,
            alerts: manager.alerts.as_ref(),
            batch_size,
            atomic: self.atomic,
            pause: self.pause.unwrap_or(Duration::from_millis(
                manager.config.pause_between_batches_ms,
            )),
            max_duration: self.max_duration,
            progress: self.progress,
        };
        Ok((prepared, self.source, self.action))
    }
}

impl<C> Prepared<'_, C>
where
    C: ConnectionTrait + TransactionTrait,
{
    async fn run<E: SoftDelete, S: batch::BatchSource>(
        self,
        operation: &'static str,
        mut source: S,
    ) -> Result<BulkReport> {
        let plan = Plan {
            operation,
            table: E::default().table_name().to_owned(),
            config: self.config,
            alerts: self.alerts,
            atomic: self.atomic,
            pause: self.pause,
            max_duration: self.max_duration,
            progress: self.progress.as_deref(),
        };
        batch::run(self.db, plan, &mut source).await
    }
}

impl SoftDeleteAction {
    /// Checks the configuration's rules before anything is written.
    fn into_change(self, config: &SoftDeleteConfig) -> Result<Change> {
        check_required(config, self.by.as_deref(), self.reason.as_deref())?;
        Ok(Change::SoftDelete {
            at: self.at.unwrap_or_else(now),
            by: self.by,
            reason: self.reason,
        })
    }
}

impl RestoreAction {
    fn into_change(self) -> Change {
        Change::Restore {
            at: now(),
            by: self.by,
        }
    }
}

impl<'a, E, C, S, T> IntoFuture for Bulk<'a, E, C, IdList<S>, SoftDeleteAction>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
    S: Stream<Item = T> + Send + 'a,
    T: Into<PrimaryKeyValue<E>> + Send + 'a,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (prepared, IdList(ids), action) = self.prepare()?;
            let change = action.into_change(prepared.config)?;
            let source = IdSource::<E, S>::new(
                ids,
                prepared.batch_size,
                prepared.db.get_database_backend(),
                &change,
                prepared.config.enable_query_optimization,
            );
            prepared.run::<E, _>("bulk_soft_delete", source).await
        })
    }
}

impl<'a, E, C> IntoFuture for Bulk<'a, E, C, Filter, SoftDeleteAction>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (prepared, Filter(condition), action) = self.prepare()?;
            let change = action.into_change(prepared.config)?;
            let source = KeysetSource::<E>::new(
                condition,
                KeysetAction::Update(change),
                prepared.batch_size,
            );
            prepared.run::<E, _>("bulk_soft_delete_where", source).await
        })
    }
}

impl<'a, E, C, S, T> IntoFuture for Bulk<'a, E, C, IdList<S>, RestoreAction>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
    S: Stream<Item = T> + Send + 'a,
    T: Into<PrimaryKeyValue<E>> + Send + 'a,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (prepared, IdList(ids), action) = self.prepare()?;
            let source = IdSource::<E, S>::new(
                ids,
                prepared.batch_size,
                prepared.db.get_database_backend(),
                &action.into_change(),
                prepared.config.enable_query_optimization,
            );
            prepared.run::<E, _>("bulk_restore", source).await
        })
    }
}

impl<'a, E, C> IntoFuture for Bulk<'a, E, C, Filter, RestoreAction>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (prepared, Filter(condition), action) = self.prepare()?;
            let source = KeysetSource::<E>::new(
                condition,
                KeysetAction::Update(action.into_change()),
                prepared.batch_size,
            );
            prepared.run::<E, _>("bulk_restore_where", source).await
        })
    }
}

impl<'a, E, C> IntoFuture for Bulk<'a, E, C, Filter, PurgeAction>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (prepared, Filter(filter), action) = self.prepare()?;
            if action.dry_run {
                let condition = filter.add(dialect::deleted_before::<E>(action.cutoff));
                let start = std::time::Instant::now();
                let matching =
                    batch::count(prepared.db, &dialect::count_where::<E>(&condition)).await?;
                return Ok(BulkReport {
                    operation: "hard_delete_before",
                    table: E::default().table_name().to_owned(),
                    requested: matching,
                    affected: matching,
                    batches: 0,
                    retries: 0,
                    elapsed: start.elapsed(),
                    dry_run: true,
                    stopped_early: false,
                    remaining: None,
                });
            }
            let condition = filter.add(dialect::deleted_before_for_keyset::<E>(action.cutoff));
            let source =
                KeysetSource::<E>::new(condition, KeysetAction::Delete, prepared.batch_size);
            prepared.run::<E, _>("hard_delete_before", source).await
        })
    }
}
