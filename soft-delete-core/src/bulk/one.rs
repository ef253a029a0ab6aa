//! One-record operations: a batch of one key, run by the same engine and step as every bulk
//! operation.
//!
//! `soft_delete_by_id`, `restore_by_id`, `force_delete_by_id`, the active-model extensions, the
//! manager's and the service's one-record calls all build a [`One`]. Awaited, it runs as an
//! operation whose one batch names one key: the same statements, cascade, hooks (the per-record
//! `before_*`/`after_*` ones), operation log, events, retries, timeouts and lost-`COMMIT` check
//! as a bulk operation, with the configuration it was given. It resolves to the number of rows
//! changed (0 or 1) and fails with the step's own error, not wrapped in
//! [`Error::Bulk`].

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::sea_query::{Condition, ValueTuple};
use sea_orm::{EntityTrait, IdenStatic, PrimaryKeyTrait, Value};

use super::engine;
use super::ids::IdSource;
use super::{BatchOptions, BatchSize, BulkConnection, RestoreAction, SoftDeleteAction, sealed};
use crate::config::SoftDeleteConfig;
use crate::entity::{SoftDelete, check_cascade, check_change, columns, missing_key};
use crate::error::{Error, Result};
use crate::operation::{OperationId, OperationKind, Selection};
use crate::report::TracingAlertSink;
use crate::sql::Table;
use crate::step::{Action, Step, StepOptions};
use crate::time::{Timestamp, to_micros};

/// What a force delete writes: nothing into the row (it is gone), who and why into the log and
/// the event. Part of builder types.
#[derive(Clone, Debug, Default)]
pub struct ForceDeleteAction {
    by: Option<String>,
    reason: Option<String>,
}

/// One record's operation: a batch of one key; see the [module documentation](self). Await it
/// to run it. Made by [`SoftDeleteEntityExt`](crate::SoftDeleteEntityExt),
/// [`SoftDeleteActiveModelExt`](crate::SoftDeleteActiveModelExt), the manager and the service.
#[must_use = "a one-record operation does nothing until it is awaited"]
pub struct One<'a, E: EntityTrait, C, A> {
    db: &'a C,
    config: SoftDeleteConfig,
    key: Option<ValueTuple>,
    /// The other changes of the active model it was called on, written in the same `UPDATE`.
    pending: Vec<(E::Column, Value)>,
    op: OperationId,
    action: A,
    quiet: bool,
    _entity: PhantomData<fn() -> E>,
}

/// Soft-deletes one row; see [`SoftDeleteEntityExt::soft_delete_by_id`](crate::SoftDeleteEntityExt::soft_delete_by_id).
pub type SoftDeleteOne<'a, E, C> = One<'a, E, C, SoftDeleteAction>;
/// Restores one row; see [`SoftDeleteEntityExt::restore_by_id`](crate::SoftDeleteEntityExt::restore_by_id).
pub type RestoreOne<'a, E, C> = One<'a, E, C, RestoreAction>;
/// Deletes one row for good; see [`SoftDeleteEntityExt::force_delete_by_id`](crate::SoftDeleteEntityExt::force_delete_by_id).
pub type ForceDeleteOne<'a, E, C> = One<'a, E, C, ForceDeleteAction>;

impl<E: EntityTrait, C, A: fmt::Debug> fmt::Debug for One<'_, E, C, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("One")
            .field("entity", &std::any::type_name::<E>())
            .field("key", &self.key)
            .field("pending", &self.pending)
            .field("op", &self.op)
            .field("action", &self.action)
            .field("quiet", &self.quiet)
            .finish_non_exhaustive()
    }
}

impl<'a, E: EntityTrait, C, A: Default> One<'a, E, C, A> {
    /// The operation on the row `key` (`None`: an active model without its key, refused when
    /// awaited), with the default configuration.
    pub(crate) fn new(db: &'a C, key: Option<ValueTuple>) -> Self {
        One {
            db,
            config: SoftDeleteConfig::default(),
            key,
            pending: Vec::new(),
            op: OperationId::new(),
            action: A::default(),
            quiet: false,
            _entity: PhantomData,
        }
    }

    /// The same with the other changes an active model carries.
    pub(crate) fn with_pending(mut self, pending: Vec<(E::Column, Value)>) -> Self {
        self.pending = pending;
        self
    }
}

impl<E: EntityTrait, C, A> One<'_, E, C, A> {
    /// The id of this operation: in its log row and event, and stamped into the row's
    /// `deletion_op` column for entities declared with `#[soft_delete(operation_id)]` (what
    /// [`restore_operation`](crate::SoftDeleteManager::restore_operation) and
    /// [`undo`](crate::SoftDeleteManager::undo) take).
    pub fn operation_id(&self) -> OperationId {
        self.op
    }

    /// Runs with `config`: its operation log (the row is recorded in the same transaction),
    /// its events (announced after the `COMMIT`), its required `deleted_by` and reason, its
    /// retries and time limit. What the manager's and the service's one-record calls do with
    /// theirs.
    pub fn with_config(mut self, config: &SoftDeleteConfig) -> Self {
        self.config = config.clone();
        self
    }

    /// Runs without hooks and events, logged as quiet, as Laravel's `restoreQuietly` and
    /// `forceDeleteQuietly` (see [`BatchOptions::quietly`]).
    pub fn quietly(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Makes the change part of an operation that already has an id (another soft delete
    /// whose rows should be restored together with this one), instead of a new one.
    pub fn in_operation(mut self, op: OperationId) -> Self {
        self.op = op;
        self
    }
}

impl<E: EntityTrait, C> One<'_, E, C, SoftDeleteAction> {
    /// Records who deleted the row.
    pub fn deleted_by(mut self, who: impl Into<String>) -> Self {
        self.action.by = Some(who.into());
        self
    }

    /// Records why the row was deleted.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.action.reason = Some(why.into());
        self
    }

    /// Uses this time as `deleted_at` instead of the current time, truncated to microseconds
    /// (what every backend stores). A time the backend cannot store exactly is refused with
    /// [`Error::InvalidArgument`] before anything is sent.
    pub fn at(mut self, when: Timestamp) -> Self {
        self.action.at = Some(to_micros(when));
        self
    }
}

impl<E: EntityTrait, C> One<'_, E, C, RestoreAction> {
    /// Records who restored the row in `updated_by`, for entities with audit columns (the
    /// soft-delete columns are cleared on restore, so they cannot hold it), and in the log and
    /// the event.
    pub fn restored_by(mut self, who: impl Into<String>) -> Self {
        self.action.by = Some(who.into());
        self
    }

    /// Records why the row was restored, in the log and the event.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.action.reason = Some(why.into());
        self
    }
}

impl<E: EntityTrait, C> One<'_, E, C, ForceDeleteAction> {
    /// Records who deleted the row, in the log and the event.
    pub fn deleted_by(mut self, who: impl Into<String>) -> Self {
        self.action.by = Some(who.into());
        self
    }

    /// Records why the row was deleted, in the log and the event.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.action.reason = Some(why.into());
        self
    }
}

mod private {
    use super::*;

    /// What a one-record action becomes: the step's action, and who and why; opaque outside
    /// this crate.
    #[derive(Debug)]
    pub struct Planned {
        pub(crate) action: Action,
        pub(crate) actor: Option<String>,
        pub(crate) reason: Option<String>,
    }

    /// What [`OneAction`](super::OneAction) hides.
    pub trait Sealed: Send + Sized + fmt::Debug {
        /// The operation the action is.
        const KIND: OperationKind;

        /// Checks the configuration's rules, and returns the step's action.
        fn plan(self, config: &SoftDeleteConfig, op: OperationId) -> Result<Planned>;
    }

    /// A soft delete's or a restore's change, as the step's action.
    fn change<T: sealed::Sealed>(
        action: T,
        config: &SoftDeleteConfig,
        op: OperationId,
    ) -> Result<Planned> {
        let change = action.into_change(config, op, None)?.0;
        Ok(Planned {
            actor: change.actor().map(str::to_owned),
            reason: change.reason().map(str::to_owned),
            action: Action::Change(change),
        })
    }

    impl Sealed for SoftDeleteAction {
        const KIND: OperationKind = OperationKind::SoftDelete;

        fn plan(self, config: &SoftDeleteConfig, op: OperationId) -> Result<Planned> {
            change(self, config, op)
        }
    }

    impl Sealed for RestoreAction {
        const KIND: OperationKind = OperationKind::Restore;

        fn plan(self, config: &SoftDeleteConfig, op: OperationId) -> Result<Planned> {
            change(self, config, op)
        }
    }

    impl Sealed for ForceDeleteAction {
        const KIND: OperationKind = OperationKind::Purge;

        fn plan(self, _config: &SoftDeleteConfig, _op: OperationId) -> Result<Planned> {
            // A force delete takes the row in any state.
            Ok(Planned {
                action: Action::Purge {
                    state: Condition::all(),
                    archive: None,
                },
                actor: self.by,
                reason: self.reason,
            })
        }
    }
}

/// What a one-record operation does: [`SoftDeleteAction`], [`RestoreAction`] or
/// [`ForceDeleteAction`]. Sealed: implemented by this crate only.
pub trait OneAction: private::Sealed {}

impl<T: private::Sealed> OneAction for T {}

impl<'a, E, C, A> IntoFuture for One<'a, E, C, A>
where
    E: SoftDelete,
    C: BulkConnection,
    A: OneAction + 'a,
{
    type Output = Result<u64>;
    type IntoFuture = BoxFuture<'a, Result<u64>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let One {
                db,
                config,
                key,
                pending,
                op,
                action,
                quiet,
                ..
            } = self;
            let key = key.ok_or_else(missing_key::<E>)?;
            let backend = db.get_database_backend();
            check_cascade::<E>()?;
            let private::Planned {
                action,
                actor,
                reason,
            } = action.plan(&config, op)?;
            let condition = match &action {
                Action::Change(change) => {
                    check_change::<E>(change, backend)?;
                    check_pending::<E>(&pending, change)?;
                    Condition::all()
                }
                // A row kept by its cascade stays, as a purge decides.
                Action::Purge { .. } => match crate::step::cascade::purgeable::<E>() {
                    Some(purgeable) => Condition::all().add(purgeable),
                    None => Condition::all(),
                },
            };
            let options = BatchOptions::new().batch_size(1);
            let options = match quiet {
                true => options.quietly(),
                false => options,
            };
            let mut plan = options.into_plan(
                A::KIND,
                op,
                Table::of::<E>().to_string(),
                config,
                Arc::new(TracingAlertSink),
            )?;
            plan.describe(actor.as_deref(), reason.as_deref(), || {
                Selection::Keys.to_string()
            })?;
            let step = Step::<E>::new(
                action,
                condition,
                pending,
                StepOptions {
                    backend,
                    operation: op,
                    actor,
                    reason,
                    atomic: false,
                    optimize: plan.config.enable_query_optimization,
                    one_record: true,
                    quiet,
                },
            );
            let key = <<E::PrimaryKey as PrimaryKeyTrait>::ValueType as sea_orm::sea_query::FromValueTuple>::from_value_tuple(key);
            let mut source =
                IdSource::<E, _>::new(futures::stream::iter([key]), BatchSize::unchecked(1), step);
            match engine::run(db, plan, &mut source).await {
                Ok(report) => Ok(report.affected),
                // One batch: nothing was committed before it, so the batch's own error says all.
                Err(Error::Bulk { source, .. }) => Err(*source),
                Err(other) => Err(other),
            }
        })
    }
}

/// Refuses pending changes to the columns the change itself writes: which value would win is
/// not obvious, so neither is written.
fn check_pending<E: SoftDelete>(
    pending: &[(E::Column, Value)],
    change: &crate::change::Change,
) -> Result<()> {
    let assignments = change.assignments(&columns::<E>());
    let clashes: Vec<&str> = pending
        .iter()
        .map(|(column, _)| column.as_str())
        .filter(|name| {
            assignments
                .iter()
                .any(|(written, _)| written.as_str() == *name)
        })
        .collect();
    if clashes.is_empty() {
        return Ok(());
    }
    let operation = match change.restores() {
        false => "soft_delete",
        true => "restore",
    };
    Err(Error::InvalidArgument {
        name: "active model",
        reason: format!(
            "the active model of `{}` sets {}, which {operation} writes itself; nothing was \
             written. Use the builder's `.at(..)`, `.deleted_by(..)`, `.reason(..)` or \
             `.restored_by(..)` instead, or save those changes first",
            Table::of::<E>(),
            clashes
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    })
}
