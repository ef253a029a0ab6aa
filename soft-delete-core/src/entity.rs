//! The [`SoftDelete`] trait that the macros implement, and the one-record operations built on it.
//!
//! `#[soft_delete]` (or `#[derive(SoftDelete)]`) implements [`SoftDelete`] for an entity. The
//! trait's provided methods are the entity-level API:
//!
//! | call | SQL it sends |
//! |---|---|
//! | `Entity::find_active()` | `SELECT … WHERE deleted_at IS NULL` |
//! | `Entity::find_deleted()` | `SELECT … WHERE deleted_at IS NOT NULL` |
//! | `Entity::find_with_deleted()` | `SELECT …` (no filter) |
//! | `Entity::find()` with `default_scope` | `SELECT … WHERE deleted_at IS NULL` |
//! | `Entity::soft_delete_by_id(db, id)` | `UPDATE … SET deleted_at = ?, … WHERE pk = ? AND deleted_at IS NULL` |
//! | `Entity::restore_by_id(db, id)` | `UPDATE … SET deleted_at = NULL, … WHERE pk = ? AND deleted_at IS NOT NULL` |
//! | `Entity::force_delete_by_id(db, id)` | `DELETE … WHERE pk = ?` |
//!
//! Soft delete touches only active rows and restore only deleted ones, so both are idempotent:
//! repeating them changes nothing and returns `0`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, IntoValueTuple, ValueTuple};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, Iterable, ModelTrait,
    PrimaryKeyToColumn, PrimaryKeyTrait, QueryFilter, QueryTrait, Select, TransactionSession,
    TransactionTrait, Value,
};

use crate::error::{Error, Result};
use crate::hooks;
use crate::marker::Marker;
use crate::operation::OperationId;
use crate::scope::{DefaultScope, Scope, Scoped};

/// A point in time, in UTC, as SeaORM's `DateTimeUtc`.
pub type Timestamp = DateTime<Utc>;

/// An entity whose rows are soft-deleted: deleting one stamps `deleted_at` (and `deleted_by`,
/// `deletion_reason`) instead of removing the row.
///
/// Implemented by `#[soft_delete]` and `#[derive(SoftDelete)]`; there is rarely a reason to
/// implement it by hand. The provided methods are the entity-level API (see the
/// [module documentation](self)).
///
/// # Examples
///
/// ```
/// use sea_orm::entity::prelude::*;
/// use sea_orm::{DbBackend, QueryTrait};
/// use soft_delete_core::prelude::*;
///
/// mod user {
///     use sea_orm::entity::prelude::*;
///     use soft_delete_core::soft_delete;
///
///     #[soft_delete]
///     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
///     #[sea_orm(table_name = "users")]
///     pub struct Model {
///         #[sea_orm(primary_key)]
///         pub id: i64,
///         pub name: String,
///     }
///
///     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
///     pub enum Relation {}
///
///     impl ActiveModelBehavior for ActiveModel {}
/// }
///
/// assert_eq!(
///     user::Entity::find_active().build(DbBackend::Postgres).to_string(),
///     r#"SELECT "users"."id", "users"."name", "users"."deleted_at", "users"."deleted_by", "users"."deletion_reason" FROM "users" WHERE "users"."deleted_at" IS NULL"#
/// );
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a soft-delete entity",
    label = "this entity has no soft-delete columns",
    note = "add `#[soft_delete]` above `#[derive(DeriveEntityModel)]` on the entity's `Model`, or \
            `#[derive(SoftDelete)]` if the model declares `deleted_at`, `deleted_by` and \
            `deletion_reason` itself"
)]
pub trait SoftDelete: EntityTrait + hooks::SoftDeleteHooks {
    /// How a row says it is soft-deleted: `deleted_at` (the default), a flag, a reversed flag
    /// or an epoch; see [`crate::marker`].
    fn marker() -> Marker<Self::Column>;

    /// The column that holds who soft-deleted a row.
    fn deleted_by_column() -> Self::Column;

    /// The column that holds why a row was soft-deleted.
    fn deletion_reason_column() -> Self::Column;

    /// The column that holds the id of the operation that soft-deleted a row, for entities
    /// declared with `#[soft_delete(operation_id)]`; `None` otherwise.
    fn deletion_op_column() -> Option<Self::Column> {
        None
    }

    /// The related entities whose rows follow this entity's soft delete and restore, for
    /// entities declared with `cascade(…)`; none otherwise. See [`crate::cascade`].
    fn cascade() -> Vec<crate::cascade::CascadeChild> {
        Vec::new()
    }

    /// The audit columns, for entities declared with `audit`; `None` otherwise.
    ///
    /// The macros return [`AuditColumns::of`] when the entity implements [`Audit`].
    fn audit_columns() -> Option<AuditColumns<Self::Column>> {
        None
    }

    /// What `Entity::find()` returns for this entity: [`DefaultScope::Off`] unless the entity
    /// is declared with `#[soft_delete(default_scope)]` or `default_scope = "strict"`.
    fn default_scope() -> DefaultScope {
        DefaultScope::Off
    }

    /// Selects the rows that are not soft-deleted. The scope can be changed later:
    /// `find_active().with_deleted()` sees every row (see [`Scoped`]).
    fn find_active() -> Scoped<Select<Self>> {
        Scoped::new(<Self as EntityTrait>::find(), Scope::Active)
    }

    /// Selects only the soft-deleted rows.
    fn find_deleted() -> Scoped<Select<Self>> {
        Scoped::new(<Self as EntityTrait>::find(), Scope::OnlyDeleted)
    }

    /// Selects every row, deleted or not.
    fn find_with_deleted() -> Scoped<Select<Self>> {
        Scoped::new(<Self as EntityTrait>::find(), Scope::WithDeleted)
    }

    /// Soft-deletes the row with this primary key, if it is active. Await the returned builder;
    /// it resolves to the number of rows changed (0 when the row is missing or already deleted).
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the statement fails.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use soft_delete_core::prelude::*;
    /// # async fn run<E: SoftDelete>(db: &sea_orm::DatabaseConnection, id: <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType) -> soft_delete_core::Result<()> {
    /// let changed = E::soft_delete_by_id(db, id)
    ///     .deleted_by("admin")
    ///     .reason("spam")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn soft_delete_by_id<'a, C, I>(db: &'a C, id: I) -> SoftDeleteOne<'a, Self, C>
    where
        C: ConnectionTrait,
        I: Into<<Self::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        SoftDeleteOne::new(db, Some(id.into().into_value_tuple()))
    }

    /// Restores the row with this primary key, if it is soft-deleted, clearing `deleted_at`,
    /// `deleted_by` and `deletion_reason`. Resolves to the number of rows changed.
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the statement fails.
    fn restore_by_id<'a, C, I>(db: &'a C, id: I) -> RestoreOne<'a, Self, C>
    where
        C: ConnectionTrait,
        I: Into<<Self::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        RestoreOne::new(db, Some(id.into().into_value_tuple()))
    }

    /// Deletes the row with this primary key for good, whether it is soft-deleted or not.
    /// Resolves to the number of rows removed.
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the statement fails.
    fn force_delete_by_id<'a, C, I>(db: &'a C, id: I) -> ForceDeleteOne<'a, Self, C>
    where
        C: ConnectionTrait,
        I: Into<<Self::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        ForceDeleteOne::new(db, Some(id.into().into_value_tuple()))
    }
}

/// An entity with audit columns: `created_at` and `created_by`, and optionally `updated_at` and
/// `updated_by`. Implemented by the macros for entities declared with `audit`.
///
/// Insert paths of this crate set `created_at` (and `created_by` when given); update paths set
/// `updated_at` and `updated_by`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no audit columns",
    label = "this entity was declared without `audit`",
    note = "write `#[soft_delete(audit)]` on the entity's `Model` to add `created_at`, \
            `created_by`, `updated_at` and `updated_by`"
)]
pub trait Audit: SoftDelete {
    /// The column that holds when a row was created.
    fn created_at_column() -> Self::Column;
    /// The column that holds who created a row.
    fn created_by_column() -> Self::Column;
    /// The column that holds when a row was last updated, if the entity has one.
    fn updated_at_column() -> Option<Self::Column>;
    /// The column that holds who last updated a row, if the entity has one.
    fn updated_by_column() -> Option<Self::Column>;
}

/// The audit columns of an entity, as [`SoftDelete::audit_columns`] returns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditColumns<C> {
    /// When a row was created.
    pub created_at: C,
    /// Who created a row.
    pub created_by: C,
    /// When a row was last updated, if tracked.
    pub updated_at: Option<C>,
    /// Who last updated a row, if tracked.
    pub updated_by: Option<C>,
}

impl<C: ColumnTrait> AuditColumns<C> {
    /// The audit columns of an [`Audit`] entity.
    pub fn of<E>() -> Self
    where
        E: Audit<Column = C>,
    {
        AuditColumns {
            created_at: E::created_at_column(),
            created_by: E::created_by_column(),
            updated_at: E::updated_at_column(),
            updated_by: E::updated_by_column(),
        }
    }
}

/// The current time, truncated to microseconds: the precision PostgreSQL and MySQL `DATETIME(6)`
/// keep, so that the value a call reports is the value the database stores.
pub(crate) fn now() -> Timestamp {
    to_micros(Utc::now())
}

/// The stamp of a new operation: the current time in microseconds, and later than every stamp
/// this process handed out before, so that no two operations of the process share one (a
/// batch whose `COMMIT` was lost is found by its operation's stamp).
pub(crate) fn operation_stamp() -> Timestamp {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(i64::MIN);
    let wanted = Utc::now().timestamp_micros();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = wanted.max(last.saturating_add(1));
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return DateTime::from_timestamp_micros(next).unwrap_or_else(now),
            Err(seen) => last = seen,
        }
    }
}

/// `t` truncated to microseconds, the precision every backend stores.
pub(crate) fn to_micros(t: Timestamp) -> Timestamp {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The first whole microsecond at or after `t`. Stored timestamps are whole microseconds, so
/// `stored < t` exactly when `stored < ceil_micros(t)` (and likewise for `>=`): a cutoff with
/// nanoseconds compares the same on every backend, although PostgreSQL and MySQL round such a
/// parameter and SQLite compares its text.
pub(crate) fn ceil_micros(t: Timestamp) -> Timestamp {
    let down = to_micros(t);
    if down == t {
        t
    } else {
        down.checked_add_signed(chrono::Duration::microseconds(1))
            .unwrap_or(down)
    }
}

/// A timestamp as a comparison value that every backend compares exactly: a
/// `DateTime<FixedOffset>` at UTC.
///
/// sqlx-mysql sends a `DateTime<Utc>` as a `TIMESTAMP` parameter, which MySQL and MariaDB can
/// only hold from 1970 to 2038: outside it the value silently became NULL (an `UPDATE` reported
/// its row changed and left `deleted_at` NULL; a purge's dry run counted nothing). sea-query-sqlx
/// sends this variant to them as its UTC text, which the server reads as a `DATETIME` over that
/// type's whole range. PostgreSQL and SQLite receive exactly what they would for a
/// `DateTime<Utc>` (`timestamptz`, and the same RFC 3339 text with `+00:00`).
pub(crate) fn timestamp_value(t: Timestamp) -> Value {
    Value::from(t.fixed_offset())
}

/// Rewrites the `DateTime<Utc>` values of a statement for MySQL/MariaDB as
/// [`timestamp_value`] does; other backends' statements are returned as they are. Every
/// statement this crate sends goes through it, so a timestamp set on a model (typed
/// `DateTimeUtc`) is bound the same way as one the crate stamps.
pub(crate) fn bind_timestamps(mut statement: sea_orm::Statement) -> sea_orm::Statement {
    if statement.db_backend != DbBackend::MySql {
        return statement;
    }
    if let Some(values) = statement.values.as_mut() {
        for value in values.0.iter_mut() {
            bind_timestamp(statement.db_backend, value);
        }
    }
    statement
}

/// [`bind_timestamps`] for one value.
pub(crate) fn bind_timestamp(backend: DbBackend, value: &mut Value) {
    if backend == DbBackend::MySql
        && let Value::ChronoDateTimeUtc(Some(t)) = value
    {
        *value = timestamp_value(*t);
    }
}

/// The timestamps `backend` stores and compares exactly, as text for messages and bounds.
pub(crate) fn timestamp_range(backend: DbBackend) -> (Timestamp, Timestamp, &'static str) {
    let at = |y, mo, d, h, mi, s, us| {
        chrono::NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_micro_opt(h, mi, s, us))
            .map(|naive| naive.and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    match backend {
        // DATETIME(6): the documented range.
        DbBackend::MySql => (
            at(1000, 1, 1, 0, 0, 0, 0),
            at(9999, 12, 31, 23, 59, 59, 999_999),
            "MySQL/MariaDB DATETIME holds 1000-01-01 00:00:00 to 9999-12-31 23:59:59.999999",
        ),
        // RFC 3339 text, compared as text: only four-digit years sort as time does.
        DbBackend::Sqlite => (
            at(0, 1, 1, 0, 0, 0, 0),
            at(9999, 12, 31, 23, 59, 59, 999_999),
            "SQLite stores timestamps as text, which compares correctly for years 0000 to 9999",
        ),
        // timestamptz: 4713 BC (year -4712) to 294276 AD, beyond chrono's own maximum.
        _ => (
            at(-4712, 1, 1, 0, 0, 0, 0),
            DateTime::<Utc>::MAX_UTC,
            "PostgreSQL timestamptz holds 4713 BC to 294276 AD",
        ),
    }
}

/// Refuses a timestamp `backend` cannot store or compare exactly, naming the argument.
pub(crate) fn check_timestamp(backend: DbBackend, name: &'static str, t: Timestamp) -> Result<()> {
    let (min, max, range) = timestamp_range(backend);
    if t < min || t > max {
        return Err(Error::InvalidArgument {
            name,
            reason: format!("{t} is out of range: {range}"),
        });
    }
    Ok(())
}

/// `pk = v` for each key column (`a = ? AND b = ?` for composite keys).
pub(crate) fn key_condition<E: EntityTrait>(key: ValueTuple) -> Condition {
    E::PrimaryKey::iter()
        .zip(key)
        .fold(Condition::all(), |cond, (pk, value)| {
            cond.add(pk.into_column().eq(value))
        })
}

/// Formats a key for error messages as SQL literals: `42`, `'ada'`, `(1, 'a')`.
pub(crate) fn format_key(key: &ValueTuple) -> String {
    use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder};
    let parts: Vec<String> = key
        .clone()
        .into_iter()
        .map(|value| PostgresQueryBuilder.value_to_string(&value))
        .collect();
    match parts.as_slice() {
        [one] => one.clone(),
        many => format!("({})", many.join(", ")),
    }
}

/// What marks the rows one change wrote; see [`Change::mark`].
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    pub(crate) condition: Condition,
    pub(crate) unique: bool,
}

impl Mark {
    /// The verdict on a batch whose `COMMIT` was lost, from the rows of the batch that carry
    /// the mark (`found`) against the rows it changed. A shared mark cannot tell this batch's
    /// rows from another operation's: found rows leave the outcome unknown.
    pub(crate) fn verdict(&self, found: u64, changed: u64) -> crate::bulk::Verdict {
        use crate::bulk::Verdict;
        if found == 0 {
            Verdict::RolledBack
        } else if self.unique && found == changed {
            Verdict::Committed
        } else {
            Verdict::Unknown
        }
    }
}

/// What a soft delete or a restore writes into each row.
#[derive(Clone, Debug)]
pub(crate) enum Change {
    /// Stamp `deleted_at`, `deleted_by`, `deletion_reason` on active rows.
    SoftDelete {
        /// The operation the change belongs to, stamped into `deletion_op` where there is one.
        op: OperationId,
        at: Timestamp,
        by: Option<String>,
        reason: Option<String>,
        /// True when `at` was taken by [`operation_stamp`]: no other operation of this process
        /// carries it. False for a stamp the caller gave, which others may share.
        unique: bool,
        /// When set, the change reverses that restore: rows of a cascade follow only where they
        /// carry its id (the rows it restored), not every active row under a parent.
        reverses: Option<OperationId>,
    },
    /// Clear them on deleted rows, and stamp the restore's id into `deletion_op` where there is
    /// one (so that the rows one restore brought back can be told apart too).
    Restore {
        op: OperationId,
        at: Timestamp,
        by: Option<String>,
    },
}

impl Change {
    /// `(column, value)` pairs of the `SET` clause, in order. `updated_at`/`updated_by` are set
    /// for audited entities (the latter only when someone is named).
    pub(crate) fn assignments<E: SoftDelete>(&self) -> Vec<(E::Column, Value)> {
        let audit = E::audit_columns();
        let updated_at = audit.and_then(|a| a.updated_at);
        let updated_by = audit.and_then(|a| a.updated_by);
        let (mut set, at, by) = match self {
            Change::SoftDelete {
                op, at, by, reason, ..
            } => {
                let mut set = E::marker().stamp(*at);
                set.push((E::deleted_by_column(), Value::from(by.clone())));
                set.push((E::deletion_reason_column(), Value::from(reason.clone())));
                if let Some(column) = E::deletion_op_column() {
                    set.push((column, Value::from(op.to_string())));
                }
                (set, at, by)
            }
            Change::Restore { op, at, by } => (
                E::marker()
                    .clear()
                    .into_iter()
                    .chain([
                        (E::deleted_by_column(), Value::from(Option::<String>::None)),
                        (
                            E::deletion_reason_column(),
                            Value::from(Option::<String>::None),
                        ),
                    ])
                    .chain(
                        E::deletion_op_column().map(|column| (column, Value::from(op.to_string()))),
                    )
                    .collect(),
                at,
                by,
            ),
        };
        if let Some(column) = updated_at {
            set.push((column, Value::from(*at)));
        }
        if let (Some(column), Some(by)) = (updated_by, by) {
            set.push((column, Value::from(by.clone())));
        }
        set
    }

    /// Refuses a stamp `backend` cannot store exactly (see [`check_timestamp`]). The stamp the
    /// crate takes itself (`now`) always fits; one given with `.at(..)` may not.
    pub(crate) fn check<E: SoftDelete>(&self, backend: DbBackend) -> Result<()> {
        match self {
            Change::SoftDelete { at, .. } => {
                check_timestamp(backend, "at", *at)?;
                crate::marker::check_stamp::<E>(*at)
            }
            Change::Restore { at, .. } => check_timestamp(backend, "at", *at),
        }
    }

    /// What marks a row as written by this change, for checking a batch whose `COMMIT` was
    /// lost, and whether only this change can have written it: the operation's id, for entities
    /// with an operation column; otherwise a soft delete's exact `deleted_at` (unique when the
    /// crate took it, shared perhaps when the caller gave it) and a restore's `updated_at` on an
    /// active row, for entities that have one. `None` when no column tells.
    pub(crate) fn mark<E: SoftDelete>(&self) -> Option<Mark> {
        match self {
            // The operation's id tells its rows from every other operation's, whatever the
            // stamp.
            Change::SoftDelete { op, at, unique, .. } => {
                let (stamped, exact) =
                    E::marker().stamped_in(*at, |c| Expr::col(c.as_column_ref()));
                Some(match E::deletion_op_column() {
                    Some(column) => Mark {
                        condition: stamped.add(column.eq(Value::from(op.to_string()))),
                        unique: true,
                    },
                    None => Mark {
                        condition: stamped,
                        unique: *unique && exact,
                    },
                })
            }
            Change::Restore { op, at, .. } => {
                if let Some(column) = E::deletion_op_column() {
                    return Some(Mark {
                        condition: Condition::all()
                            .add(E::marker().live())
                            .add(column.eq(Value::from(op.to_string()))),
                        unique: true,
                    });
                }
                let updated_at = E::audit_columns()?.updated_at?;
                Some(Mark {
                    condition: Condition::all()
                        .add(E::marker().live())
                        .add(updated_at.eq(Value::from(*at))),
                    unique: true,
                })
            }
        }
    }

    /// The operation the change belongs to.
    pub(crate) fn op(&self) -> OperationId {
        match self {
            Change::SoftDelete { op, .. } | Change::Restore { op, .. } => *op,
        }
    }

    /// What kind of operation it is.
    pub(crate) fn kind(&self) -> crate::operation::OperationKind {
        match self {
            Change::SoftDelete { .. } => crate::operation::OperationKind::SoftDelete,
            Change::Restore { .. } => crate::operation::OperationKind::Restore,
        }
    }

    /// What `E`'s hooks are told about the operation.
    pub(crate) fn hook_context<E: EntityTrait>(&self) -> crate::hooks::HookContext<'_> {
        crate::hooks::HookContext {
            operation: self.op(),
            kind: self.kind(),
            table: E::default().table_name(),
            actor: self.actor(),
            reason: self.reason(),
        }
    }

    /// Who the change names: `deleted_by` or `restored_by`.
    pub(crate) fn actor(&self) -> Option<&str> {
        match self {
            Change::SoftDelete { by, .. } | Change::Restore { by, .. } => by.as_deref(),
        }
    }

    /// Why: a soft delete's reason.
    pub(crate) fn reason(&self) -> Option<&str> {
        match self {
            Change::SoftDelete { reason, .. } => reason.as_deref(),
            Change::Restore { .. } => None,
        }
    }

    /// Which rows the change applies to: soft delete only active rows, restore only deleted ones.
    pub(crate) fn guard<E: SoftDelete>(&self) -> Expr {
        match self {
            Change::SoftDelete { .. } => E::marker().live(),
            Change::Restore { .. } => E::marker().deleted(),
        }
    }
}

/// The values an insert writes where a row leaves them unset: a live marker for entities whose
/// marker is a flag or an epoch (a table without a default for it would refuse the row), and
/// the audit values `created_at`, and `created_by` when someone is named.
pub(crate) fn insert_defaults<E: SoftDelete>(
    at: Timestamp,
    by: Option<&str>,
) -> Vec<(E::Column, Value)> {
    let marker = E::marker();
    let mut defaults = match marker {
        Marker::Timestamp(_) => Vec::new(),
        _ => marker.clear(),
    };
    let Some(audit) = E::audit_columns() else {
        return defaults;
    };
    defaults.push((audit.created_at, Value::from(at)));
    if let Some(by) = by {
        defaults.push((audit.created_by, Value::from(by.to_owned())));
    }
    defaults
}

/// Sets `defaults` (from [`insert_defaults`]) on `row` where it leaves them unset.
pub(crate) fn stamp_insert<E: SoftDelete>(
    row: &mut E::ActiveModel,
    defaults: &[(E::Column, Value)],
) -> std::result::Result<(), sea_orm::DbErr> {
    for (column, value) in defaults {
        if row.is_not_set(*column) {
            row.try_set(*column, value.clone())?;
        }
    }
    Ok(())
}

/// A boxed, `Send` future, as the builders of this crate return from `into_future`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Soft-deletes one row; created by [`SoftDelete::soft_delete_by_id`] or
/// [`SoftDeleteActiveModelExt::soft_delete`]. Await it to run it.
#[must_use = "a soft delete does nothing until it is awaited"]
#[derive(Debug)]
pub struct SoftDeleteOne<'a, E: EntityTrait, C> {
    db: &'a C,
    key: Option<ValueTuple>,
    pending: Vec<(E::Column, Value)>,
    op: OperationId,
    at: Option<Timestamp>,
    by: Option<String>,
    reason: Option<String>,
    observers: Observers,
    _entity: std::marker::PhantomData<E>,
}

impl<'a, E: EntityTrait, C> SoftDeleteOne<'a, E, C> {
    pub(crate) fn new(db: &'a C, key: Option<ValueTuple>) -> Self {
        SoftDeleteOne {
            db,
            key,
            pending: Vec::new(),
            op: OperationId::new(),
            at: None,
            by: None,
            reason: None,
            observers: Observers::default(),
            _entity: std::marker::PhantomData,
        }
    }

    /// The id of this operation: stamped into the row's `deletion_op` column for entities
    /// declared with `#[soft_delete(operation_id)]`, and what
    /// [`restore_operation`](crate::SoftDeleteManager::restore_operation) takes.
    pub fn operation_id(&self) -> OperationId {
        self.op
    }

    /// Records the soft delete in `config`'s operation log (in its transaction) and announces
    /// it on `config`'s events after its `COMMIT`; what
    /// [`SoftDeleteManager::soft_delete_by_id`](crate::SoftDeleteManager::soft_delete_by_id)
    /// does with its configuration.
    pub fn with_config(mut self, config: &crate::SoftDeleteConfig) -> Self {
        self.observers = Observers::of(config);
        self
    }

    /// Sends no event: the operation runs inside the caller's transaction, whose `COMMIT` it
    /// cannot see.
    pub(crate) fn without_events(mut self) -> Self {
        self.observers.events = None;
        self
    }

    /// Makes the soft delete part of an operation that already has an id (another soft delete
    /// whose rows should be restored together with this one), instead of a new one.
    pub fn in_operation(mut self, op: OperationId) -> Self {
        self.op = op;
        self
    }

    /// Records who deleted the row.
    pub fn deleted_by(mut self, who: impl Into<String>) -> Self {
        self.by = Some(who.into());
        self
    }

    /// Records why the row was deleted.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.reason = Some(why.into());
        self
    }

    /// Uses this time as `deleted_at` instead of the current time, truncated to microseconds
    /// (what every backend stores). A time the backend cannot store exactly is refused with
    /// [`Error::InvalidArgument`] before anything is sent.
    pub fn at(mut self, when: Timestamp) -> Self {
        self.at = Some(to_micros(when));
        self
    }
}

impl<'a, E, C> IntoFuture for SoftDeleteOne<'a, E, C>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    type Output = Result<u64>;
    type IntoFuture = BoxFuture<'a, Result<u64>>;

    fn into_future(self) -> Self::IntoFuture {
        let change = Change::SoftDelete {
            op: self.op,
            unique: self.at.is_none(),
            at: self.at.unwrap_or_else(operation_stamp),
            by: self.by,
            reason: self.reason,
            reverses: None,
        };
        Box::pin(apply_to_key::<E, C>(
            self.db,
            self.key,
            self.pending,
            change,
            self.observers,
        ))
    }
}

/// Restores one row; created by [`SoftDelete::restore_by_id`] or
/// [`SoftDeleteActiveModelExt::restore`]. Await it to run it.
#[must_use = "a restore does nothing until it is awaited"]
#[derive(Debug)]
pub struct RestoreOne<'a, E: EntityTrait, C> {
    db: &'a C,
    key: Option<ValueTuple>,
    pending: Vec<(E::Column, Value)>,
    op: OperationId,
    restored_by: Option<String>,
    observers: Observers,
    _entity: std::marker::PhantomData<E>,
}

impl<'a, E: EntityTrait, C> RestoreOne<'a, E, C> {
    pub(crate) fn new(db: &'a C, key: Option<ValueTuple>) -> Self {
        RestoreOne {
            db,
            key,
            pending: Vec::new(),
            op: OperationId::new(),
            restored_by: None,
            observers: Observers::default(),
            _entity: std::marker::PhantomData,
        }
    }

    /// The id of this operation: stamped into the row's `deletion_op` column (and its
    /// cascade's) for entities declared with `#[soft_delete(operation_id)]`, so that the restore
    /// can be undone exactly.
    pub fn operation_id(&self) -> OperationId {
        self.op
    }

    /// Records the restore in `config`'s operation log (in its transaction) and announces it on
    /// `config`'s events after its `COMMIT`; what
    /// [`SoftDeleteManager::restore_by_id`](crate::SoftDeleteManager::restore_by_id) does with
    /// its configuration.
    pub fn with_config(mut self, config: &crate::SoftDeleteConfig) -> Self {
        self.observers = Observers::of(config);
        self
    }

    /// Sends no event: the operation runs inside the caller's transaction, whose `COMMIT` it
    /// cannot see.
    pub(crate) fn without_events(mut self) -> Self {
        self.observers.events = None;
        self
    }

    /// Records who restored the row in `updated_by`, for entities with audit columns. (The
    /// soft-delete columns are cleared on restore, so they cannot hold it.)
    pub fn restored_by(mut self, who: impl Into<String>) -> Self {
        self.restored_by = Some(who.into());
        self
    }
}

impl<'a, E, C> IntoFuture for RestoreOne<'a, E, C>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    type Output = Result<u64>;
    type IntoFuture = BoxFuture<'a, Result<u64>>;

    fn into_future(self) -> Self::IntoFuture {
        let change = Change::Restore {
            op: self.op,
            at: operation_stamp(),
            by: self.restored_by,
        };
        Box::pin(apply_to_key::<E, C>(
            self.db,
            self.key,
            self.pending,
            change,
            self.observers,
        ))
    }
}

/// Where a one-record operation is recorded and announced: the configuration's operation log
/// and events.
#[derive(Clone, Debug, Default)]
struct Observers {
    log: Option<String>,
    events: Option<crate::events::Events>,
}

impl Observers {
    fn of(config: &crate::SoftDeleteConfig) -> Self {
        Observers {
            log: config.operation_log.clone(),
            events: config.events.clone(),
        }
    }
}

/// Writes `change` into the row with `key`, if the row is in the state the change applies to,
/// together with the `pending` changes of the active model it was called on.
///
/// With a cascade or an operation log, the row, its related rows and its log entry change in one
/// transaction (nested in the caller's, when `db` is one): a one-record operation that fails
/// leaves no entry, as it leaves no change.
async fn apply_to_key<E: SoftDelete, C: ConnectionTrait + TransactionTrait>(
    db: &C,
    key: Option<ValueTuple>,
    pending: Vec<(E::Column, Value)>,
    change: Change,
    observers: Observers,
) -> Result<u64> {
    let Observers { log, events } = observers;
    let started = std::time::Instant::now();
    use crate::operation_log::{Entry, OperationStatus, Totals};
    let key = key.ok_or_else(missing_key::<E>)?;
    let backend = db.get_database_backend();
    change.check::<E>(backend)?;
    crate::cascade::check::<E>()?;
    let assignments = change.assignments::<E>();
    check_pending::<E>(&pending, &assignments, &change)?;
    let mut update = E::update_many();
    for (column, value) in assignments.into_iter().chain(pending) {
        update = update.col_expr(column, Expr::value(value));
    }
    let update = update
        .filter(key_condition::<E>(key.clone()))
        .filter(change.guard::<E>())
        .into_query();
    let statement = bind_timestamps(backend.build(&update));
    let cascade = crate::cascade::for_keys::<E>(backend, &change, std::slice::from_ref(&key));
    let announce = |changed: u64, cascaded: crate::cascade::Tally| {
        if changed > 0 {
            let committed = crate::events::Committed {
                operation: change.op(),
                kind: change.kind(),
                table: E::default().table_name(),
                batch: 1,
                rows: changed,
                cascaded,
                keys: vec![key.clone()],
                actor: change.actor(),
                reason: change.reason(),
                retries: 0,
                elapsed: started.elapsed(),
            }
            .pending();
            crate::events::announce(committed, events.as_ref());
        }
    };
    if cascade.is_empty() && log.is_none() && !E::HOOKS {
        let changed = db.execute_raw(statement).await?.rows_affected();
        announce(changed, crate::cascade::Tally::default());
        return Ok(changed);
    }
    let table = E::default().table_name().to_owned();
    let entry = log.map(|log| Entry {
        log,
        id: change.op(),
        kind: change.kind(),
        table: table.clone(),
        actor: change.actor().map(str::to_owned),
        reason: change.reason().map(str::to_owned),
        selection: crate::operation::Selection::Keys.to_string(),
        reverses: None,
    });
    let txn = db.begin().await?;
    let cx = change.hook_context::<E>();
    // The row as the `before_*` hook sees it, locked until the change commits; none when it is
    // not in the state the change applies to (then nothing changes and no hook runs).
    let before = match E::HOOKS {
        true => hooks::read_one::<E, _>(&txn, &key, Some(change.guard::<E>()), true).await?,
        false => None,
    };
    if let Some(model) = &before {
        hooks::record::<E, _>(&txn, model, &cx, hooks::Moment::Before).await?;
    }
    if let Some(entry) = &entry {
        txn.execute_raw(entry.start(backend)).await?;
    }
    let first = crate::cascade::cascade_first(&change);
    let (changed, cascaded) = if E::HOOKS && before.is_none() {
        // Not in the state the change applies to when read and locked: changing it now (had
        // another session changed it since) would skip its hooks.
        (0, crate::cascade::Tally::default())
    } else {
        let (changed, cascaded, _) = crate::cascade::execute(
            &txn,
            first,
            vec![statement],
            hooks::Returning::Nothing,
            cascade,
        )
        .await?;
        (changed, cascaded)
    };
    if before.is_some() && changed > 0 {
        let after = hooks::read_one::<E, _>(&txn, &key, None, false)
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("{table} row {key:?}")))?;
        hooks::record::<E, _>(&txn, &after, &cx, hooks::Moment::After).await?;
    }
    if let Some(entry) = &entry {
        let mut rows = crate::cascade::Tally::default();
        rows.add(&table, changed);
        rows.merge(&cascaded);
        let totals = Totals {
            rows,
            requested: 1,
            batches: 1,
        };
        txn.execute_raw(entry.progress(backend, &totals)).await?;
        txn.execute_raw(entry.finish(backend, OperationStatus::Completed, None))
            .await?;
    }
    txn.commit().await?;
    announce(changed, cascaded);
    Ok(changed)
}

/// Deletes one row for good; created by [`SoftDelete::force_delete_by_id`]. Await it to run it.
#[must_use = "a delete does nothing until it is awaited"]
#[derive(Debug)]
pub struct ForceDeleteOne<'a, E, C> {
    db: &'a C,
    key: Option<ValueTuple>,
    _entity: std::marker::PhantomData<E>,
}

impl<'a, E, C> ForceDeleteOne<'a, E, C> {
    pub(crate) fn new(db: &'a C, key: Option<ValueTuple>) -> Self {
        ForceDeleteOne {
            db,
            key,
            _entity: std::marker::PhantomData,
        }
    }
}

impl<'a, E, C> IntoFuture for ForceDeleteOne<'a, E, C>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    type Output = Result<u64>;
    type IntoFuture = BoxFuture<'a, Result<u64>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let key = self.key.ok_or_else(missing_key::<E>)?;
            let started = std::time::Instant::now();
            let operation = OperationId::new();
            let announce = |deleted: u64| {
                if deleted > 0 {
                    let committed = crate::events::Committed {
                        operation,
                        kind: crate::operation::OperationKind::Purge,
                        table: E::default().table_name(),
                        batch: 1,
                        rows: deleted,
                        cascaded: crate::cascade::Tally::default(),
                        keys: vec![key.clone()],
                        actor: None,
                        reason: None,
                        retries: 0,
                        elapsed: started.elapsed(),
                    }
                    .pending();
                    crate::events::announce(committed, None);
                }
            };
            let delete = E::delete_many().filter(key_condition::<E>(key.clone()));
            if !E::HOOKS {
                let deleted = delete.exec(self.db).await?.rows_affected;
                announce(deleted);
                return Ok(deleted);
            }
            let cx = hooks::HookContext {
                operation,
                kind: crate::operation::OperationKind::Purge,
                table: E::default().table_name(),
                actor: None,
                reason: None,
            };
            let txn = self.db.begin().await?;
            let Some(model) = hooks::read_one::<E, _>(&txn, &key, None, true).await? else {
                return Ok(0);
            };
            hooks::record::<E, _>(&txn, &model, &cx, hooks::Moment::Before).await?;
            let deleted = delete.exec(&txn).await?.rows_affected;
            hooks::record::<E, _>(&txn, &model, &cx, hooks::Moment::After).await?;
            txn.commit().await?;
            announce(deleted);
            Ok(deleted)
        })
    }
}

/// Refuses pending changes to the columns the change itself writes: which value would win is
/// not obvious, so neither is written.
fn check_pending<E: SoftDelete>(
    pending: &[(E::Column, Value)],
    assignments: &[(E::Column, Value)],
    change: &Change,
) -> Result<()> {
    use sea_orm::IdenStatic;
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
    let operation = match change {
        Change::SoftDelete { .. } => "soft_delete",
        Change::Restore { .. } => "restore",
    };
    Err(Error::InvalidArgument {
        name: "active model",
        reason: format!(
            "the active model of `{}` sets {}, which {operation} writes itself; nothing was \
             written. Use the builder's `.at(..)`, `.deleted_by(..)`, `.reason(..)` or \
             `.restored_by(..)` instead, or save those changes first",
            E::default().table_name(),
            clashes
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    })
}

/// The columns an active model sets (`ActiveValue::Set`), its primary key aside: the changes
/// [`SoftDeleteActiveModelExt`] writes with the soft delete or restore.
fn pending_changes<A: ActiveModelTrait>(
    model: &A,
) -> Vec<(<A::Entity as EntityTrait>::Column, Value)> {
    use sea_orm::{ActiveValue, IdenStatic};
    let keys: Vec<&'static str> = <<A::Entity as EntityTrait>::PrimaryKey as Iterable>::iter()
        .map(|key| key.into_column().as_str())
        .collect();
    <<A::Entity as EntityTrait>::Column as Iterable>::iter()
        .filter(|column| !keys.contains(&column.as_str()))
        .filter_map(|column| match model.get(column) {
            ActiveValue::Set(value) => Some((column, value)),
            _ => None,
        })
        .collect()
}

/// The error for an active model whose primary key is not set.
pub(crate) fn missing_key<E: EntityTrait>() -> Error {
    Error::InvalidArgument {
        name: "primary key",
        reason: format!(
            "the active model of `{}` has no primary key value set",
            E::default().table_name()
        ),
    }
}

/// Soft-delete state of a loaded model.
///
/// Implemented for the `Model` of every [`SoftDelete`] entity.
pub trait SoftDeleteModelExt: ModelTrait {
    /// True when the row was soft-deleted.
    fn is_deleted(&self) -> bool;
    /// When the row was soft-deleted, where its marker records it (`None` for a flag alone;
    /// an epoch's second or millisecond).
    fn deleted_at(&self) -> Option<Timestamp>;
    /// Who soft-deleted the row.
    fn deleted_by(&self) -> Option<String>;
    /// Why the row was soft-deleted.
    fn deletion_reason(&self) -> Option<String>;
}

impl<M> SoftDeleteModelExt for M
where
    M: ModelTrait,
    M::Entity: SoftDelete,
{
    fn is_deleted(&self) -> bool {
        crate::marker::read_state(&<M::Entity as SoftDelete>::marker(), |c| self.get(c)).0
    }

    fn deleted_at(&self) -> Option<Timestamp> {
        crate::marker::read_state(&<M::Entity as SoftDelete>::marker(), |c| self.get(c)).1
    }

    fn deleted_by(&self) -> Option<String> {
        value_to(self.get(<M::Entity as SoftDelete>::deleted_by_column()))
    }

    fn deletion_reason(&self) -> Option<String> {
        value_to(self.get(<M::Entity as SoftDelete>::deletion_reason_column()))
    }
}

pub(crate) fn value_to<T>(value: Value) -> Option<T>
where
    T: sea_orm::sea_query::ValueType + sea_orm::sea_query::Nullable,
{
    <Option<T> as sea_orm::sea_query::ValueType>::try_from(value)
        .ok()
        .flatten()
}

/// Soft delete and restore on an `ActiveModel`, by its primary key.
///
/// Implemented for the `ActiveModel` of every [`SoftDelete`] entity. The other changes the
/// active model carries (columns set with `Set(..)`, the primary key aside) are written in the
/// same `UPDATE` as the soft-delete columns, as Laravel's `restore()` saves the model: nothing
/// set on it is dropped. When the row is not in the state the operation applies to (already
/// deleted, or not deleted, or missing), the statement changes nothing, those changes included,
/// and resolves to `0`. Setting a column the operation writes itself (`deleted_at`,
/// `deleted_by`, `deletion_reason`, and `updated_at`/`updated_by` on audited entities) is
/// refused with [`Error::InvalidArgument`] naming it, before anything is sent.
/// `ActiveModelBehavior::before_save` is not called. The active model itself is not changed;
/// reload it to see the new state.
///
/// ```no_run
/// # mod user {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete]
/// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
/// #     #[sea_orm(table_name = "users")]
/// #     pub struct Model {
/// #         #[sea_orm(primary_key)]
/// #         pub id: i64,
/// #         pub email: String,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use sea_orm::{IntoActiveModel, Set};
/// use soft_delete_core::prelude::*;
///
/// # async fn run(db: &sea_orm::DatabaseConnection, model: user::Model) -> soft_delete_core::Result<()> {
/// let mut active = model.into_active_model();
/// active.email = Set("restored@example.com".to_owned());
/// // One UPDATE: deleted_at = NULL, …, email = 'restored@example.com'.
/// active.restore(db).await?;
/// # Ok(()) }
/// ```
pub trait SoftDeleteActiveModelExt: ActiveModelTrait {
    /// Soft-deletes the row this active model's primary key names; see
    /// [`SoftDelete::soft_delete_by_id`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when the primary key is not set; [`Error::Db`] when the
    /// statement fails.
    fn soft_delete<'a, C: ConnectionTrait>(&self, db: &'a C) -> SoftDeleteOne<'a, Self::Entity, C>;

    /// Restores the row this active model's primary key names; see [`SoftDelete::restore_by_id`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when the primary key is not set; [`Error::Db`] when the
    /// statement fails.
    fn restore<'a, C: ConnectionTrait>(&self, db: &'a C) -> RestoreOne<'a, Self::Entity, C>;
}

impl<A> SoftDeleteActiveModelExt for A
where
    A: ActiveModelTrait,
    A::Entity: SoftDelete,
{
    fn soft_delete<'a, C: ConnectionTrait>(&self, db: &'a C) -> SoftDeleteOne<'a, A::Entity, C> {
        let mut one = SoftDeleteOne::new(db, self.get_primary_key_value());
        one.pending = pending_changes(self);
        one
    }

    fn restore<'a, C: ConnectionTrait>(&self, db: &'a C) -> RestoreOne<'a, A::Entity, C> {
        let mut one = RestoreOne::new(db, self.get_primary_key_value());
        one.pending = pending_changes(self);
        one
    }
}
