//! [`SoftDeleteManager`]: batched bulk soft delete, restore, purge and deletion statistics.
//!
//! The manager is the entry point for bulk work. Every operation is a [`Bulk`] builder: set
//! options with chained methods (the same [`BatchOptions`] for every operation), then `.await`
//! it.
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
//!   the same `deleted_at`, to the microsecond, and no other operation of the process gets the
//!   same stamp unless it is given one with `.at(..)`.
//! * Each batch is its own transaction: committed batches stay committed when a later one fails,
//!   and the error ([`Error::Bulk`]) carries `partial_count`, the rows those batches changed, and
//!   the number of the batch that failed. `.atomic()` runs every batch in one transaction
//!   instead: all or nothing.
//! * Transient errors (deadlock, serialization failure, lock wait timeout, dropped connection,
//!   database busy) are retried per batch, with backoff; other errors fail at once.
//! * Each batch has the configuration's `query_timeout` to finish, enforced by the database
//!   itself (PostgreSQL `statement_timeout` and `lock_timeout`, MariaDB `max_statement_time` and
//!   `innodb_lock_wait_timeout` per statement, SQLite `busy_timeout`), so that a batch past it is
//!   stopped on the server and lets go of its locks; [`Error::Timeout`]. A backstop on the client,
//!   2 s later, cancels the server's statement if the server did not.
//! * A `COMMIT` is never timed out. If the connection fails while one is on its way, the batch's
//!   session is ended on the server and its rows are checked from another connection: a batch
//!   found committed is counted, one found rolled back is retried, and one that cannot be checked
//!   fails the operation with [`Error::CommitUnknown`], whose rows
//!   ([`Error::uncertain_count`]) are neither counted nor denied.
//! * Cancel safety: dropping an operation's future part-way never leaves half a batch. The
//!   batch in flight runs in a transaction that is rolled back when its future is dropped (sqlx
//!   rolls back a dropped transaction before the connection is used again); batches that
//!   committed before stay committed, and in atomic mode nothing is kept. A drop that lands
//!   while a `COMMIT` is on the wire cannot know whether the server applied it; that one batch
//!   is whole either way, and the progress callback has not counted it.
//! * Operations that reach `bulk_operation_alert_threshold` rows raise one [`BulkAlert`] each
//!   through the manager's [`AlertSink`] (a `tracing` warning by default).
//! * It works on a `DatabaseConnection` or inside your own `DatabaseTransaction` (batches then
//!   become savepoints; see [`BulkConnection`] for what needs a connection
//!   of its own).
//! * Every time the crate writes or compares is one the backend stores exactly (MySQL/MariaDB
//!   `DATETIME` from year 1000 to 9999, SQLite's text for years 0 to 9999, PostgreSQL's
//!   `timestamptz`); others are refused with [`Error::InvalidArgument`] before anything is
//!   written.
//!
//! [`BulkAlert`]: crate::BulkAlert

use std::fmt;
use std::sync::Arc;

use futures::Stream;
use sea_orm::sea_query::{Condition, IntoCondition};

use futures::future::BoxFuture;

use crate::bulk::BatchOptions;
use crate::bulk::{
    Bulk, BulkConnection, BulkCreate, BulkInsert, BulkRestore, BulkSoftDelete, CreateAction,
    Filter, ForceDeleteOne, FromIter, Ids, PrimaryKeyValue, Purge, PurgeAction, RestoreAction,
    RestoreOne, Rows, SoftDeleteAction, SoftDeleteOne,
};
use crate::config::SoftDeleteConfig;
use crate::entity::SoftDelete;
use crate::error::{Error, Result};
use crate::ext::SoftDeleteEntityExt;
use crate::marker::TimedMarker;
use crate::operation::{OperationId, OperationKind, OperationStatus};
use crate::operation_log::{self, OperationRecord, Operations};
use crate::report::{AlertSink, BulkReport, TracingAlertSink};
use crate::sql::Table;
use crate::time::Timestamp;

/// Runs batched bulk operations on soft-delete entities; see the [module documentation](self).
///
/// `C` is any connection that can run statements and open transactions: a
/// `DatabaseConnection`, or a `DatabaseTransaction` when the work must join yours. Cloning a
/// manager is cheap.
pub struct SoftDeleteManager<'c, C> {
    db: &'c C,
    config: SoftDeleteConfig,
    alerts: Arc<dyn AlertSink>,
}

impl<C> Clone for SoftDeleteManager<'_, C> {
    fn clone(&self) -> Self {
        SoftDeleteManager {
            db: self.db,
            config: self.config.clone(),
            alerts: Arc::clone(&self.alerts),
        }
    }
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
    C: BulkConnection,
{
    /// A manager with the default [`SoftDeleteConfig`].
    pub fn new(db: &'c C) -> Self {
        Self::with_config(db, SoftDeleteConfig::default())
    }

    /// A manager with `config`. The configuration is checked when an operation starts
    /// ([`SoftDeleteConfig::validate`]).
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

    fn bulk<E, Src, Act>(&self, source: Src, action: Act) -> Bulk<'c, E, C, Src, Act> {
        Bulk::new(
            self.db,
            self.config.clone(),
            Arc::clone(&self.alerts),
            source,
            action,
        )
    }

    /// Soft-deletes the active rows among `ids`, consuming them lazily in batches.
    ///
    /// # Errors
    ///
    /// [`Error::MissingRequired`] when the configuration requires `deleted_by` or a reason that
    /// was not given; [`Error::InvalidArgument`] or [`Error::Config`] for options out of range;
    /// [`Error::Bulk`] when a batch fails.
    pub fn bulk_soft_delete<E, I>(
        &self,
        ids: I,
    ) -> BulkSoftDelete<'c, E, C, Ids<FromIter<I::IntoIter>>>
    where
        E: SoftDelete,
        I: IntoIterator,
        I::Item: Into<PrimaryKeyValue<E>>,
    {
        self.bulk(Ids(FromIter::new(ids)), SoftDeleteAction::default())
    }

    /// [`bulk_soft_delete`](Self::bulk_soft_delete) with ids from a stream.
    pub fn bulk_soft_delete_stream<E, S>(&self, ids: S) -> BulkSoftDelete<'c, E, C, Ids<S>>
    where
        E: SoftDelete,
        S: Stream,
        S::Item: Into<PrimaryKeyValue<E>>,
    {
        self.bulk(Ids(ids), SoftDeleteAction::default())
    }

    /// Soft-deletes the active rows matching `condition`, walking the table by primary key in
    /// batches, with no id list at all.
    pub fn bulk_soft_delete_where<E>(
        &self,
        condition: impl IntoCondition,
    ) -> BulkSoftDelete<'c, E, C, Filter>
    where
        E: SoftDelete,
    {
        self.bulk(
            Filter(condition.into_condition()),
            SoftDeleteAction::default(),
        )
    }

    /// Restores the soft-deleted rows among `ids`, consuming them lazily in batches.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] or [`Error::Config`] for options out of range;
    /// [`Error::Bulk`] when a batch fails.
    pub fn bulk_restore<E, I>(&self, ids: I) -> BulkRestore<'c, E, C, Ids<FromIter<I::IntoIter>>>
    where
        E: SoftDelete,
        I: IntoIterator,
        I::Item: Into<PrimaryKeyValue<E>>,
    {
        self.bulk(Ids(FromIter::new(ids)), RestoreAction::default())
    }

    /// [`bulk_restore`](Self::bulk_restore) with ids from a stream.
    pub fn bulk_restore_stream<E, S>(&self, ids: S) -> BulkRestore<'c, E, C, Ids<S>>
    where
        E: SoftDelete,
        S: Stream,
        S::Item: Into<PrimaryKeyValue<E>>,
    {
        self.bulk(Ids(ids), RestoreAction::default())
    }

    /// Restores the soft-deleted rows matching `condition`, walking the table by primary key.
    pub fn bulk_restore_where<E>(
        &self,
        condition: impl IntoCondition,
    ) -> BulkRestore<'c, E, C, Filter>
    where
        E: SoftDelete,
    {
        self.bulk(Filter(condition.into_condition()), RestoreAction::default())
    }

    /// Restores exactly the rows that the soft delete `op` deleted and that are still deleted:
    /// the rows whose `deletion_op` column holds `op`. Rows deleted by any other operation stay
    /// deleted, even one stamped with the same `deleted_at`. Walks the table by primary key, as
    /// [`bulk_restore_where`](Self::bulk_restore_where) does, with the same options.
    ///
    /// `op` is the [`BulkReport::id`](crate::BulkReport::id) of a bulk soft delete, or the
    /// [`operation_id`](crate::bulk::One::operation_id) of a one-record one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] at once when `E` has no operation column (declare it with
    /// `#[soft_delete(operation_id)]`); then, when awaited, the errors of a bulk restore.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # mod user {
    /// #     use sea_orm::entity::prelude::*;
    /// #     #[soft_delete_core::soft_delete(operation_id)]
    /// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    /// #     #[sea_orm(table_name = "users")]
    /// #     pub struct Model {
    /// #         #[sea_orm(primary_key)]
    /// #         pub id: i64,
    /// #     }
    /// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    /// #     pub enum Relation {}
    /// #     impl ActiveModelBehavior for ActiveModel {}
    /// # }
    /// use soft_delete_core::prelude::*;
    ///
    /// # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
    /// let manager = SoftDeleteManager::new(db);
    /// let deleted = manager.bulk_soft_delete::<user::Entity, _>(1..=100i64).await?;
    /// // … later, undo exactly that:
    /// let restored = manager.restore_operation::<user::Entity>(deleted.id)?.await?;
    /// assert!(restored.affected <= deleted.affected);
    /// # Ok(()) }
    /// ```
    pub fn restore_operation<E>(&self, op: OperationId) -> Result<BulkRestore<'c, E, C, Filter>>
    where
        E: SoftDelete,
    {
        use sea_orm::ColumnTrait;
        let column = E::deletion_op_column().ok_or_else(|| Error::InvalidArgument {
            name: "operation",
            reason: format!(
                "`{}` has no operation column, so the rows an operation deleted cannot be told \
                 apart: declare the entity with `#[soft_delete(operation_id)]` and add the \
                 column (`AddSoftDeleteColumns` does)",
                Table::of::<E>()
            ),
        })?;
        Ok(self.bulk_restore_where::<E>(column.eq(op)).reversing(op))
    }

    /// Soft-deletes the row of `E` with this key, as
    /// [`SoftDeleteEntityExt::soft_delete_by_id`] does, with the manager's configuration: its
    /// operation log (in the same transaction), events, required fields, retries and limits.
    /// Inside a transaction of yours it sends no event (see [`crate::events`]).
    pub fn soft_delete_by_id<E, I>(&self, id: I) -> SoftDeleteOne<'c, E, C>
    where
        E: SoftDelete,
        I: Into<PrimaryKeyValue<E>>,
    {
        E::soft_delete_by_id(self.db, id).with_config(&self.config)
    }

    /// Restores the row of `E` with this key, as [`SoftDeleteEntityExt::restore_by_id`] does,
    /// with the manager's configuration.
    pub fn restore_by_id<E, I>(&self, id: I) -> RestoreOne<'c, E, C>
    where
        E: SoftDelete,
        I: Into<PrimaryKeyValue<E>>,
    {
        E::restore_by_id(self.db, id).with_config(&self.config)
    }

    /// Deletes the row of `E` with this key for good, after the rows under it in its cascade,
    /// as [`SoftDeleteEntityExt::force_delete_by_id`] does, with the manager's configuration.
    pub fn force_delete_by_id<E, I>(&self, id: I) -> ForceDeleteOne<'c, E, C>
    where
        E: SoftDelete,
        I: Into<PrimaryKeyValue<E>>,
    {
        E::force_delete_by_id(self.db, id).with_config(&self.config)
    }

    /// The [operation log](crate::operation_log), newest first: set filters and a limit on the
    /// listing, then await it.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the configuration keeps no log; [`Error::Db`] when the query
    /// fails (for example, the log's table was not created).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # mod user {
    /// #     use sea_orm::entity::prelude::*;
    /// #     #[soft_delete_core::soft_delete(operation_id)]
    /// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    /// #     #[sea_orm(table_name = "users")]
    /// #     pub struct Model {
    /// #         #[sea_orm(primary_key)]
    /// #         pub id: i64,
    /// #     }
    /// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    /// #     pub enum Relation {}
    /// #     impl ActiveModelBehavior for ActiveModel {}
    /// # }
    /// use soft_delete_core::prelude::*;
    /// use soft_delete_core::operation_log::{self, DEFAULT_TABLE};
    /// use sea_orm::ConnectionTrait;
    ///
    /// # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
    /// let backend = db.get_database_backend();
    /// db.execute(&operation_log::create_table(backend, DEFAULT_TABLE)).await?;
    /// let config = SoftDeleteConfig {
    ///     operation_log: Some(DEFAULT_TABLE.to_owned()),
    ///     ..SoftDeleteConfig::default()
    /// };
    /// let manager = SoftDeleteManager::with_config(db, config);
    /// let deleted = manager
    ///     .bulk_soft_delete::<user::Entity, _>(1..=100i64)
    ///     .deleted_by("ops")
    ///     .await?;
    /// for op in manager.operations().entity::<user::Entity>().limit(10).await? {
    ///     println!("{} {} {} rows, {}", op.id, op.kind, op.rows_changed(), op.status);
    /// }
    /// // Changed our mind: put back exactly what that operation deleted.
    /// let undone = manager.undo::<user::Entity>(deleted.id).await?;
    /// assert_eq!(undone.affected, deleted.affected);
    /// # Ok(()) }
    /// ```
    pub fn operations(&self) -> Operations<'c, C> {
        Operations::new(self.db, self.config.operation_log.clone())
    }

    /// One operation from the log, or `None` when the log has no such operation.
    ///
    /// # Errors
    ///
    /// As for [`operations`](Self::operations).
    pub async fn operation(&self, op: OperationId) -> Result<Option<OperationRecord>> {
        let log = self
            .config
            .operation_log
            .as_deref()
            .ok_or_else(operation_log::log_disabled)?;
        operation_log::find(self.db, log, op).await
    }

    /// Reverses the soft delete or restore `op` of `E`'s table (and its cascade), as a new
    /// operation that the log records with `reverses` set to `op`:
    ///
    /// * a soft delete is undone by restoring exactly the rows it deleted that are still deleted
    ///   ([`restore_operation`](Self::restore_operation));
    /// * a restore is undone by soft-deleting again exactly the rows it restored that are still
    ///   active and were not changed by a later operation since, with their cascade's rows that
    ///   it restored. The rows get the undo's own stamp, id and reason (`undo of <op>`): the
    ///   restore cleared the deletion they had before, so that is not brought back.
    ///
    /// An operation that failed part-way is undone for the rows its committed batches changed.
    /// Undoing twice changes nothing the second time. Needs the operation log and the
    /// operation column (`#[soft_delete(operation_id)]`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] naming what is wrong when `op` is not in the log, ran on
    /// another table, is still running, or is a purge or a create (a purge's rows are gone;
    /// a create is reversed by soft-deleting what it made); [`Error::Config`] without a log;
    /// then the errors of the bulk operation that undoes it.
    pub fn undo<E: SoftDelete>(&self, op: OperationId) -> Undo<'c, E, C> {
        Undo {
            manager: self.clone(),
            op,
            by: None,
            options: BatchOptions::default(),
            _entity: std::marker::PhantomData,
        }
    }

    /// Deletes for good the rows soft-deleted strictly before `cutoff`, walking forward by
    /// primary key. Active rows are never touched, whatever the cutoff.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] or [`Error::Config`] for options out of range;
    /// [`Error::Bulk`] when a batch fails.
    pub fn hard_delete_before<E>(&self, cutoff: Timestamp) -> Purge<'c, E, C>
    where
        E: SoftDelete + TimedMarker,
    {
        self.purge_with(Condition::all(), Some(cutoff))
    }

    /// [`hard_delete_before`](Self::hard_delete_before) with the cutoff the configuration's
    /// retention for `E`'s table ([`SoftDeleteConfig::retention_for`]) before the operation
    /// starts.
    pub fn purge_expired<E>(&self) -> Purge<'c, E, C>
    where
        E: SoftDelete + TimedMarker,
    {
        self.bulk(Filter(Condition::all()), PurgeAction::expired(None, None))
    }

    /// A purge of the rows matching `filter` deleted more than `older_than` (the
    /// configuration's retention for the table, when `None`) before `now`: what a prune policy
    /// by age runs.
    pub(crate) fn purge_older_than<E>(
        &self,
        filter: Condition,
        older_than: Option<std::time::Duration>,
        now: Timestamp,
    ) -> Purge<'c, E, C>
    where
        E: SoftDelete,
    {
        self.bulk(Filter(filter), PurgeAction::expired(older_than, Some(now)))
    }

    /// Deletes for good the soft-deleted rows that match `condition`, whenever they were
    /// deleted, walking forward by primary key as [`hard_delete_before`](Self::hard_delete_before)
    /// does. Live rows are never touched, whatever the condition. The purge for entities whose
    /// marker records no time (a flag alone, see [`crate::marker`]), and for any entity whose
    /// rows are purged by something other than their age.
    ///
    /// # Errors
    ///
    /// As for [`hard_delete_before`](Self::hard_delete_before).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # mod user {
    /// #     use sea_orm::entity::prelude::*;
    /// #     #[soft_delete_core::soft_delete(flag = "is_deleted")]
    /// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    /// #     #[sea_orm(table_name = "users")]
    /// #     pub struct Model {
    /// #         #[sea_orm(primary_key)]
    /// #         pub id: i64,
    /// #         pub tenant: i64,
    /// #     }
    /// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    /// #     pub enum Relation {}
    /// #     impl ActiveModelBehavior for ActiveModel {}
    /// # }
    /// use sea_orm::ColumnTrait;
    /// use soft_delete_core::prelude::*;
    ///
    /// # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
    /// let manager = SoftDeleteManager::new(db);
    /// // `user` marks deletions with `is_deleted` alone: no time to compare with a cutoff.
    /// let report = manager
    ///     .purge_where::<user::Entity>(user::Column::Tenant.eq(7))
    ///     .await?;
    /// println!("purged {} rows", report.affected);
    /// # Ok(()) }
    /// ```
    pub fn purge_where<E>(&self, condition: impl IntoCondition) -> Purge<'c, E, C>
    where
        E: SoftDelete,
    {
        self.purge_with(condition.into_condition(), None)
    }

    /// A purge of the soft-deleted rows matching `filter` and, with a cutoff, deleted before
    /// it.
    fn purge_with<E>(&self, filter: Condition, cutoff: Option<Timestamp>) -> Purge<'c, E, C>
    where
        E: SoftDelete,
    {
        let action = match cutoff {
            Some(cutoff) => PurgeAction::new(cutoff),
            None => PurgeAction::any(),
        };
        self.bulk(Filter(filter), action)
    }

    /// Inserts `rows` in batches and returns the created models in input order, with the
    /// operation's report ([`Created`](crate::report::Created)); see the
    /// [service documentation](crate::service#bulk-inserts-and-returning). An empty input sends
    /// nothing. `.created_by(..)` stamps the audit column of entities that have one.
    ///
    /// # Errors
    ///
    /// [`Error::Bulk`] when a batch fails (earlier batches stay committed unless `.atomic()`);
    /// [`Error::InvalidArgument`] or [`Error::Config`] for options out of range.
    pub fn bulk_create<E, I>(&self, rows: I) -> BulkCreate<'c, E, C, FromIter<I::IntoIter>>
    where
        E: SoftDelete,
        I: IntoIterator<Item = E::ActiveModel>,
    {
        self.bulk(Rows(FromIter::new(rows)), CreateAction::default())
    }

    /// Inserts rows from a stream and reports how many, for loads too large to hold: the rows
    /// are consumed one batch at a time, the next batch's read while the current one runs (see
    /// the [service documentation](crate::service#bulk-inserts-and-returning)), so memory does
    /// not grow with their number.
    ///
    /// # Errors
    ///
    /// As for [`bulk_create`](Self::bulk_create).
    pub fn bulk_insert_stream<E, S>(&self, rows: S) -> BulkInsert<'c, E, C, S>
    where
        E: SoftDelete,
        S: Stream<Item = E::ActiveModel>,
    {
        self.bulk(Rows(rows), CreateAction::default())
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
            .query_one(&crate::step::statements::deletion_counts::<E>())
            .await?
            .ok_or_else(|| sea_orm::DbErr::Custom("COUNT(*) returned no row".to_owned()))?;
        let total: i64 = row.try_get_by_index(0)?;
        let deleted: i64 = row.try_get_by_index(1)?;
        Ok(DeletionStats::new(
            Table::of::<E>().to_string(),
            total.max(0) as u64,
            deleted.max(0) as u64,
        ))
    }
}

/// The undo of one operation; made by [`SoftDeleteManager::undo`]. Await it.
#[must_use = "an undo does nothing until it is awaited"]
pub struct Undo<'c, E, C> {
    manager: SoftDeleteManager<'c, C>,
    op: OperationId,
    by: Option<String>,
    options: BatchOptions<'c>,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E, C> fmt::Debug for Undo<'_, E, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Undo")
            .field("entity", &std::any::type_name::<E>())
            .field("op", &self.op)
            .field("by", &self.by)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<'c, E, C> Undo<'c, E, C> {
    /// Records who undid the operation (`deleted_by` or `restored_by`, and the log's actor).
    pub fn by(mut self, who: impl Into<String>) -> Self {
        self.by = Some(who.into());
        self
    }

    /// Runs the undo with these batch options.
    pub fn with_options(mut self, options: BatchOptions<'c>) -> Self {
        self.options = options;
        self
    }
}

impl<'c, E, C> std::future::IntoFuture for Undo<'c, E, C>
where
    E: SoftDelete,
    C: BulkConnection,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'c, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            use sea_orm::ColumnTrait;
            let Undo {
                manager,
                op,
                by,
                options,
                ..
            } = self;
            let table = Table::of::<E>().to_string();
            let refuse = |reason: String| Error::InvalidArgument {
                name: "operation",
                reason,
            };
            let Some(column) = E::deletion_op_column() else {
                return Err(refuse(format!(
                    "`{table}` has no operation column, so the rows of operation {op} cannot be \
                     told apart: declare the entity with `#[soft_delete(operation_id)]`"
                )));
            };
            let Some(record) = manager.operation(op).await? else {
                return Err(refuse(format!(
                    "operation {op} is not in the operation log"
                )));
            };
            if record.table != table {
                return Err(refuse(format!(
                    "operation {op} ran on `{}`, not on `{table}`: undo it through `{}`'s entity",
                    record.table, record.table
                )));
            }
            if record.status == OperationStatus::Running {
                return Err(refuse(format!(
                    "operation {op} is still running (or its process stopped before it could \
                     finish): undo it once it has ended; the rows it changed can be restored \
                     with restore_operation meanwhile"
                )));
            }
            let selected = column.eq(op);
            match record.kind {
                OperationKind::SoftDelete => {
                    let mut restore = manager
                        .bulk_restore_where::<E>(selected)
                        .reversing(op)
                        .with_options(options);
                    if let Some(by) = by {
                        restore = restore.restored_by(by);
                    }
                    restore.await
                }
                OperationKind::Restore => {
                    let mut delete = manager
                        .bulk_soft_delete_where::<E>(selected)
                        .reversing(op)
                        .with_options(options)
                        .reason(format!("undo of {op}"));
                    if let Some(by) = by {
                        delete = delete.deleted_by(by);
                    }
                    delete.await
                }
                OperationKind::Purge => Err(refuse(format!(
                    "operation {op} is a purge, which cannot be undone: its rows are deleted for \
                     good"
                ))),
                other => Err(refuse(format!(
                    "operation {op} is a {other}, which cannot be undone here: soft-delete the \
                     rows it created instead"
                ))),
            }
        })
    }
}
