//! Retention: which soft-deleted rows of each entity may go, and a [`Pruner`] that removes them
//! across entities, as Laravel's `model:prune` does over `Prunable` models, with an optional
//! archive before the delete (see [`crate::archive`]).
//!
//! * A [`Policy`] per entity says which soft-deleted rows go: by default those deleted more than
//!   the retention ago ([`Policy::retention`]: the configuration's `retention`, from
//!   `SOFT_DELETE_RETENTION_DAYS`, or the table's own `SOFT_DELETE_RETENTION_DAYS_<TABLE>`,
//!   unless [`Policy::older_than`] overrides it for the entity in code);
//!   or the entity's own [`Prunable::prunable`] condition ([`Policy::prunable`]); or any
//!   condition ([`Policy::matching`]). Live rows never match any policy.
//! * [`Pruner`] runs a set of policies: children before parents where a foreign key ties them,
//!   and a row stays while any row of a table with a foreign key to it (its `has_many` /
//!   `has_one` relations) still points to it,
//!   each as one purge (batched, paced, resumable as every bulk operation), with a dry run
//!   that counts, a maximum duration for the whole run, progress, and one [`EntityReport`] per
//!   entity. [`Pruner::run_every`] repeats it until a shutdown future resolves, and then stops
//!   after the batch that is running.
//!
//! `examples/prune.rs` is the operator's command built on it.
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
//! use soft_delete_core::prelude::*;
//! use soft_delete_core::prune::{Policy, Pruner};
//!
//! # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
//! let manager = SoftDeleteManager::new(db);
//! let report = Pruner::new(&manager)
//!     .policy(Policy::<user::Entity>::retention().older_than(Duration::from_secs(90 * 86_400)).archive())
//!     .max_duration(Duration::from_secs(600))
//!     .run()
//!     .await?;
//! for entity in &report.entities {
//!     println!("{entity}");
//! }
//! assert!(report.is_complete());
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Condition, IntoCondition};
use sea_orm::{Iterable, RelationTrait};

use futures::future::BoxFuture;

use crate::bulk::{BatchOptions, BulkConnection, StopSignal};
use crate::entity::SoftDelete;
use crate::error::{Error, Result};
use crate::manager::SoftDeleteManager;
use crate::marker::TimedMarker;
use crate::report::{BulkReport, Progress};
use crate::sql::{Table, table_exists_apart};
use crate::time::Timestamp;

/// The table a relation names (with its schema), if it names one.
fn relation_table(table: &sea_orm::sea_query::TableRef) -> Option<Table> {
    match table {
        sea_orm::sea_query::TableRef::Table(name, _) => Some(Table::parse(&match &name.0 {
            Some(schema) => format!("{}.{}", schema.1, name.1),
            None => name.1.to_string(),
        })),
        _ => None,
    }
}

/// An entity whose soft-deleted rows a prune removes by its own condition (Laravel's
/// `Prunable::prunable()`), used by [`Policy::prunable`].
///
/// ```
/// # mod session {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete(flag = "is_deleted")]
/// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
/// #     #[sea_orm(table_name = "sessions")]
/// #     pub struct Model {
/// #         #[sea_orm(primary_key)]
/// #         pub id: i64,
/// #         pub kind: String,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use sea_orm::sea_query::Condition;
/// use sea_orm::ColumnTrait;
/// use soft_delete_core::prune::Prunable;
///
/// // A flag alone keeps no time: this entity's deleted guest sessions may go at any time.
/// impl Prunable for session::Entity {
///     fn prunable() -> Condition {
///         Condition::all().add(session::Column::Kind.eq("guest"))
///     }
/// }
/// ```
pub trait Prunable: SoftDelete {
    /// The soft-deleted rows that may be removed (the prune adds "soft-deleted" itself).
    fn prunable() -> Condition;
}

/// Which rows a policy removes.
#[derive(Clone, Debug)]
enum Rule {
    /// Soft-deleted more than the retention ago.
    Retention,
    /// Soft-deleted and matching the condition.
    Matching(Condition),
}

/// Which soft-deleted rows of `E` may be removed, and whether they are archived first; see the
/// [module documentation](self).
pub struct Policy<E> {
    rule: Rule,
    older_than: Option<Duration>,
    archive: Option<String>,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for Policy<E> {
    fn clone(&self) -> Self {
        Policy {
            rule: self.rule.clone(),
            older_than: self.older_than,
            archive: self.archive.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E> fmt::Debug for Policy<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("entity", &std::any::type_name::<E>())
            .field("rule", &self.rule)
            .field("older_than", &self.older_than)
            .field("archive", &self.archive)
            .finish()
    }
}

impl<E: SoftDelete + TimedMarker> Policy<E> {
    /// The rows soft-deleted more than the retention ago: [`older_than`](Self::older_than) for
    /// this entity if set, else the configuration's retention for its table
    /// ([`SoftDeleteConfig::retention_for`](crate::SoftDeleteConfig::retention_for)).
    /// Needs a marker that keeps the time ([`TimedMarker`]).
    pub fn retention() -> Self {
        Policy {
            rule: Rule::Retention,
            older_than: None,
            archive: None,
            _entity: PhantomData,
        }
    }

    /// Overrides the configuration's retention for this entity.
    pub fn older_than(mut self, retention: Duration) -> Self {
        self.older_than = Some(retention);
        self
    }
}

impl<E: Prunable> Policy<E> {
    /// The rows [`E::prunable`](Prunable::prunable) selects among the soft-deleted ones.
    pub fn prunable() -> Self {
        Self::matching(E::prunable())
    }
}

impl<E: SoftDelete> Policy<E> {
    /// The soft-deleted rows that match `condition`, whenever they were deleted.
    pub fn matching(condition: impl IntoCondition) -> Self {
        Policy {
            rule: Rule::Matching(condition.into_condition()),
            older_than: None,
            archive: None,
            _entity: PhantomData,
        }
    }

    /// Copies the rows into the entity's archive table, `<table>_archive` in the entity's
    /// schema, before deleting them (see [`crate::archive`]).
    pub fn archive(self) -> Self {
        let table = format!("{}_archive", Table::of::<E>().name());
        self.archive_into(table)
    }

    /// Copies the rows into the archive table `table` before deleting them.
    pub fn archive_into(mut self, table: impl Into<String>) -> Self {
        self.archive = Some(table.into());
        self
    }

    /// True for a policy by age ([`retention`](Self::retention)).
    #[cfg(feature = "cli")]
    pub(crate) fn by_age(&self) -> bool {
        matches!(self.rule, Rule::Retention)
    }

    /// The retention set on this policy with [`older_than`](Policy::older_than), if any.
    #[cfg(feature = "cli")]
    pub(crate) fn own_retention(&self) -> Option<Duration> {
        self.older_than
    }

    /// The archive table this policy copies rows into, as given (unqualified names are in the
    /// entity's schema).
    #[cfg(feature = "cli")]
    pub(crate) fn archive_table(&self) -> Option<&str> {
        self.archive.as_deref()
    }

    /// The tables `E` holds a foreign key to (its `belongs_to` relations): a prune removes
    /// `E`'s rows before theirs.
    fn parents() -> Vec<String> {
        let own = Table::of::<E>();
        // SeaORM builds `belongs_to` with `is_owner: false`; `has_many`/`has_one` are those
        // reversed.
        Self::own_relations()
            .filter(|def| !def.is_owner)
            .filter_map(|def| relation_table(&def.to_tbl))
            .filter(|parent| *parent != own)
            .map(|parent| parent.to_string())
            .collect()
    }

    /// The relations declared on `E` whose `from` side is `E`'s own table.
    fn own_relations() -> impl Iterator<Item = sea_orm::RelationDef> {
        let own = Table::of::<E>();
        <E::Relation as Iterable>::iter()
            .map(|relation| relation.def())
            .filter(move |def| relation_table(&def.from_tbl).is_some_and(|from| from == own))
    }
}

impl<E: SoftDelete> Policy<E> {
    /// For every table that holds a foreign key to `E` (its `has_many`/`has_one` relations):
    /// the table, and `NOT EXISTS (SELECT 1 FROM child WHERE child.fk = parent.key)`. A row is
    /// kept while any row, deleted or not, still points to it. Without it one such row would
    /// fail its whole batch with the foreign key's error on every run, and the rows after it
    /// would never go.
    fn unreferenced() -> Vec<(Table, Condition)> {
        use sea_orm::sea_query::{Expr, ExprTrait, Query};
        let parent = Table::of::<E>();
        Self::own_relations()
            .filter(|def| def.is_owner)
            .filter_map(|def| {
                let child = relation_table(&def.to_tbl)?;
                let mut referencing = Query::select();
                referencing.expr(Expr::val(1)).from(child.table_ref());
                for (key, foreign) in def.from_col.iter().zip(def.to_col.iter()) {
                    referencing.and_where(
                        child
                            .col(foreign.clone())
                            .equals(parent.column(key.clone())),
                    );
                }
                Some((child, Condition::all().add(Expr::exists(referencing).not())))
            })
            .collect()
    }
}

/// What one run asks of a policy.
#[derive(Clone)]
struct RunArgs<'c> {
    options: BatchOptions<'c>,
    dry_run: bool,
    /// The retention for every timed policy, overriding theirs (an operator's `--older-than`).
    older_than: Option<Duration>,
    /// When the run started: retention cutoffs count back from it.
    now: Timestamp,
}

/// A progress callback given the entity's table.
type EntityProgress<'c> = dyn Fn(&str, &Progress) + Send + Sync + 'c;

type Runner<'c, C> = Box<
    dyn Fn(SoftDeleteManager<'c, C>, RunArgs<'c>) -> BoxFuture<'c, Result<BulkReport>>
        + Send
        + Sync
        + 'c,
>;

/// One entity's policy, ready to run.
struct Registered<'c, C> {
    table: String,
    parents: Vec<String>,
    archive: bool,
    run: Runner<'c, C>,
}

/// Runs a set of [`Policy`]s across entities; see the [module documentation](self).
pub struct Pruner<'c, C> {
    manager: SoftDeleteManager<'c, C>,
    entries: Vec<Registered<'c, C>>,
    dry_run: bool,
    older_than: Option<Duration>,
    max_duration: Option<Duration>,
    /// What every entity's purge starts from: batch size, pacing, throttle. The run adds its
    /// stop signal, the time left and the progress callback.
    options: BatchOptions<'c>,
    progress: Option<Arc<EntityProgress<'c>>>,
    stop: StopSignal,
}

impl<C> fmt::Debug for Pruner<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pruner")
            .field(
                "entities",
                &self.entries.iter().map(|e| &e.table).collect::<Vec<_>>(),
            )
            .field("dry_run", &self.dry_run)
            .field("older_than", &self.older_than)
            .field("max_duration", &self.max_duration)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<'c, C: BulkConnection> Pruner<'c, C> {
    /// A pruner with no policy, running on `manager`'s connection and configuration.
    pub fn new(manager: &SoftDeleteManager<'c, C>) -> Self {
        Pruner {
            manager: manager.clone(),
            entries: Vec::new(),
            dry_run: false,
            older_than: None,
            max_duration: None,
            options: BatchOptions::new(),
            progress: None,
            stop: StopSignal::new(),
        }
    }

    /// Adds `E`'s policy. A second policy for the same table replaces the first.
    pub fn policy<E>(mut self, policy: Policy<E>) -> Self
    where
        E: SoftDelete,
    {
        let table = Table::of::<E>().to_string();
        let parents = Policy::<E>::parents();
        let archive = policy.archive.is_some();
        let run: Runner<'c, C> = Box::new(move |manager, args| {
            let policy = policy.clone();
            Box::pin(async move {
                let mut filter = match &policy.rule {
                    Rule::Retention => Condition::all(),
                    Rule::Matching(condition) => condition.clone(),
                };
                for (child, unreferenced) in Policy::<E>::unreferenced() {
                    // A declared relation to a table that does not exist references nothing.
                    if table_exists_apart(manager.connection(), &child).await? {
                        filter = filter.add(unreferenced);
                    }
                }
                let purge = match policy.rule {
                    Rule::Retention => manager.purge_older_than::<E>(
                        filter,
                        args.older_than.or(policy.older_than),
                        args.now,
                    ),
                    Rule::Matching(_) => manager.purge_where::<E>(filter),
                };
                let mut purge = purge.with_options(args.options);
                if let Some(table) = policy.archive {
                    purge = purge.archive_into(table);
                }
                if args.dry_run {
                    purge = purge.dry_run();
                }
                purge.await
            })
        });
        self.entries.retain(|entry| entry.table != table);
        self.entries.push(Registered {
            table,
            parents,
            archive,
            run,
        });
        self
    }

    /// Counts what each policy would remove, and removes nothing. Each entity is counted as
    /// its table stands: a parent still referenced by child rows that the same run would
    /// remove first is counted as kept.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Uses this retention for every policy by age (an operator's `--older-than`), instead of
    /// theirs and the configuration's.
    pub fn older_than(mut self, retention: Duration) -> Self {
        self.older_than = Some(retention);
        self
    }

    /// Starts no new batch, and no new entity, once this much time has passed since the run
    /// began; the report then says what is left.
    pub fn max_duration(mut self, limit: Duration) -> Self {
        self.max_duration = Some(limit);
        self
    }

    /// Waits this long between batches (the configuration's `pause_between_batches` by
    /// default).
    pub fn pause_between_batches(mut self, pause: Duration) -> Self {
        self.options = self.options.pause_between_batches(pause);
        self
    }

    /// Rows per batch (the configuration's batch size by default).
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.options = self.options.batch_size(rows);
        self
    }

    /// Runs each entity's purge with `workers` workers side by side (see
    /// [`BatchOptions::parallel`]); the configuration's `parallelism` by default. Entities are
    /// still pruned one after the other.
    pub fn parallel(mut self, workers: usize) -> Self {
        self.options = self.options.parallel(workers);
        self
    }

    /// After each batch, pauses `coefficient` times as long as the batch took (see
    /// [`BatchOptions::sleep_coefficient`]).
    pub fn sleep_coefficient(mut self, coefficient: f64) -> Self {
        self.options = self.options.sleep_coefficient(coefficient);
        self
    }

    /// Asks `throttle` before every batch of every entity (see [`crate::throttle`]).
    pub fn throttle(mut self, throttle: Arc<dyn crate::throttle::Throttle>) -> Self {
        self.options = self.options.throttle(throttle);
        self
    }

    /// The longest the throttle may hold one batch back (see
    /// [`BatchOptions::max_throttle_wait`]); the entity then fails with
    /// [`Error::Throttled`] and the run goes on with the next.
    pub fn max_throttle_wait(mut self, limit: Duration) -> Self {
        self.options = self.options.max_throttle_wait(limit);
        self
    }

    /// Calls `callback` with the entity's table and its [`Progress`] after every committed
    /// batch.
    pub fn on_progress<F>(mut self, callback: F) -> Self
    where
        F: Fn(&str, &Progress) + Send + Sync + 'c,
    {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// Stops the run after its current batch once `signal` is stopped (the run's entities not
    /// started yet are reported as not run).
    pub fn stop_on(mut self, signal: StopSignal) -> Self {
        self.stop = signal;
        self
    }

    /// The tables in the order a run takes them: every entity after the entities that hold a
    /// foreign key to it (children first), otherwise in the order the policies were added.
    pub fn order(&self) -> Vec<&str> {
        self.ordered()
            .into_iter()
            .map(|e| e.table.as_str())
            .collect()
    }

    fn ordered(&self) -> Vec<&Registered<'c, C>> {
        let mut left: Vec<&Registered<'c, C>> = self.entries.iter().collect();
        let mut ordered = Vec::with_capacity(left.len());
        while !left.is_empty() {
            // The first entity no remaining entity points to; on a cycle, the first left.
            let next = left
                .iter()
                .position(|entry| {
                    !left
                        .iter()
                        .any(|other| other.parents.contains(&entry.table))
                })
                .unwrap_or(0);
            ordered.push(left.remove(next));
        }
        ordered
    }

    /// Runs every policy once, in [`order`](Self::order), and reports on each entity. An
    /// entity whose purge fails is reported with its error (and the rows its committed batches
    /// removed); the others still run.
    ///
    /// # Errors
    ///
    /// None of its own: each entity's error is in its [`EntityReport`].
    pub async fn run(&self) -> Result<PruneReport> {
        let started = Instant::now();
        let now = crate::time::now();
        let mut entities = Vec::new();
        for entry in self.ordered() {
            let left = match self.max_duration {
                Some(max) => match max.checked_sub(started.elapsed()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => None,
                },
                None => Some(Duration::MAX),
            };
            let (Some(left), false) = (left, self.stop.is_stopped()) else {
                entities.push(EntityReport {
                    table: entry.table.clone(),
                    archive: entry.archive,
                    outcome: Outcome::NotRun,
                });
                continue;
            };
            let mut options = self.options.clone().stop_on(self.stop.clone());
            if left != Duration::MAX {
                options = options.max_duration(left);
            }
            if let Some(progress) = &self.progress {
                let progress = Arc::clone(progress);
                let table = entry.table.clone();
                options = options.on_progress(move |p| progress(&table, p));
            }
            let args = RunArgs {
                options,
                dry_run: self.dry_run,
                older_than: self.older_than,
                now,
            };
            let outcome = match (entry.run)(self.manager.clone(), args).await {
                Ok(report) => Outcome::Done(report),
                Err(error) => Outcome::Failed(error),
            };
            entities.push(EntityReport {
                table: entry.table.clone(),
                archive: entry.archive,
                outcome,
            });
        }
        Ok(PruneReport {
            entities,
            dry_run: self.dry_run,
            elapsed: started.elapsed(),
        })
    }

    /// Runs every `interval` (the first run at once) until `shutdown` resolves (or the
    /// [`stop_on`](Self::stop_on) signal is given): a run in progress then stops after its
    /// current batch (and the pause after it, when one is set), and no other starts. Returns
    /// the last run's report; when `shutdown` had resolved before the first run, that run
    /// starts no batch and reports every entity as not run.
    ///
    /// # Errors
    ///
    /// As for [`run`](Self::run).
    pub async fn run_every<F>(&self, interval: Duration, shutdown: F) -> Result<Option<PruneReport>>
    where
        F: Future<Output = ()> + Send,
    {
        use futures::FutureExt;
        let shutdown = shutdown.fuse();
        futures::pin_mut!(shutdown);
        let mut last = None;
        loop {
            if self.stop.is_stopped() {
                return Ok(last);
            }
            let run = self.run().fuse();
            futures::pin_mut!(run);
            let finished = futures::select_biased! {
                () = shutdown => None,
                report = run => Some(report),
            };
            let report = match finished {
                Some(report) => report?,
                // Shut down during the run: it stops after the batch in flight.
                None => {
                    self.stop.stop();
                    run.await?
                }
            };
            last = Some(report);
            if self.stop.is_stopped() {
                return Ok(last);
            }
            // The wait ends early when the pruner's own stop signal is given.
            let wait = async {
                self.stop.sleep(interval).await;
            }
            .fuse();
            futures::pin_mut!(wait);
            let shut = futures::select_biased! {
                () = shutdown => true,
                () = wait => false,
            };
            if shut {
                self.stop.stop();
                return Ok(last);
            }
        }
    }
}

/// What a run did to one entity.
#[derive(Debug)]
pub enum Outcome {
    /// The purge ran: its report (which says `stopped_early` when the run's time ran out or it
    /// was stopped).
    Done(BulkReport),
    /// The purge failed: the error says which batch and how many rows were removed before it.
    Failed(Error),
    /// The run's time ran out, or it was stopped, before this entity's turn.
    NotRun,
}

/// One entity's part of a [`PruneReport`].
#[derive(Debug)]
pub struct EntityReport {
    /// The entity's table.
    pub table: String,
    /// True when its policy archives the rows it removes.
    pub archive: bool,
    /// What happened.
    pub outcome: Outcome,
}

impl EntityReport {
    /// Rows removed (or, for a dry run, that would be): those of the committed batches when
    /// the purge failed, 0 when it did not run.
    pub fn purged(&self) -> u64 {
        match &self.outcome {
            Outcome::Done(report) => report.affected,
            Outcome::Failed(error) => error.partial_count().unwrap_or(0),
            Outcome::NotRun => 0,
        }
    }

    /// Rows copied into the archive before they were removed.
    pub fn archived(&self) -> u64 {
        match &self.outcome {
            Outcome::Done(report) => report.archived,
            // A failed purge's committed batches archived what they removed.
            Outcome::Failed(_) if self.archive => self.purged(),
            Outcome::Failed(_) => 0,
            Outcome::NotRun => 0,
        }
    }

    /// True when every matching row was removed (or counted).
    pub fn is_complete(&self) -> bool {
        matches!(&self.outcome, Outcome::Done(report) if !report.stopped_early)
    }
}

impl fmt::Display for EntityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Done(report) if report.dry_run => {
                write!(
                    f,
                    "{}: {} rows would be removed",
                    self.table, report.affected
                )
            }
            Outcome::Done(report) => {
                write!(f, "{}: {} rows removed", self.table, report.affected)?;
                if report.archived > 0 {
                    write!(f, " ({} archived)", report.archived)?;
                }
                if report.cascaded > 0 {
                    write!(f, ", {} with them by cascade", report.cascaded)?;
                }
                write!(f, " in {} batches", report.batches)?;
                if !report.throttled.is_zero() {
                    write!(
                        f,
                        ", held {:.1}s by the throttle",
                        report.throttled.as_secs_f64()
                    )?;
                }
                if report.stopped_early {
                    match report.remaining {
                        Some(left) => write!(f, "; stopped early, {left} left")?,
                        None => f.write_str("; stopped early")?,
                    }
                }
                Ok(())
            }
            Outcome::Failed(error) => write!(f, "{}: failed: {error}", self.table),
            Outcome::NotRun => write!(f, "{}: not run (time ran out or stopped)", self.table),
        }
    }
}

/// What one [`Pruner::run`] did, entity by entity, in the order it took them.
#[derive(Debug)]
pub struct PruneReport {
    /// One report per entity.
    pub entities: Vec<EntityReport>,
    /// True when nothing was removed because the run was a dry run.
    pub dry_run: bool,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl PruneReport {
    /// True when every entity's purge ran to the end without error.
    pub fn is_complete(&self) -> bool {
        self.entities.iter().all(EntityReport::is_complete)
    }

    /// Rows removed (or counted) over every entity.
    pub fn purged(&self) -> u64 {
        self.entities.iter().map(EntityReport::purged).sum()
    }

    /// The entities whose purge failed.
    pub fn failures(&self) -> impl Iterator<Item = &EntityReport> {
        self.entities
            .iter()
            .filter(|entity| matches!(entity.outcome, Outcome::Failed(_)))
    }
}
