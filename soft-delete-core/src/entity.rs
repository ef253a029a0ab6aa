//! The [`SoftDelete`] trait that the macros implement: how an entity's rows record their
//! deletion. It describes; what an entity can *do* (its scopes and one-record operations) is
//! [`SoftDeleteEntityExt`](crate::SoftDeleteEntityExt), implemented for every `SoftDelete`
//! entity.

use sea_orm::sea_query::TableRef;
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, ModelTrait, Related};

use crate::cascade::CascadeChild;
use crate::change::Change;
pub use crate::columns::AuditColumns;
use crate::columns::Columns;
use crate::error::{Error, Result};
use crate::hooks::SoftDeleteHooks;
use crate::marker::{Marker, read_state, value_to};
use crate::sql::Table;
use crate::storage::StoredIden;
use crate::time::{Timestamp, check_timestamp};

/// An entity whose rows are soft-deleted: deleting one stamps `deleted_at` (and `deleted_by`,
/// `deletion_reason`) instead of removing the row.
///
/// Implemented by `#[soft_delete]` and `#[derive(SoftDelete)]`; there is rarely a reason to
/// implement it by hand. The trait describes the entity's columns; the scopes and one-record
/// operations are methods of [`SoftDeleteEntityExt`](crate::SoftDeleteEntityExt), in the
/// prelude.
///
/// # Examples
///
/// ```
/// use sea_orm::{DbBackend, QueryTrait};
/// use soft_delete_core::prelude::*;
/// use soft_delete_core::Marker;
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
/// assert!(matches!(user::Entity::marker(), Marker::Timestamp(user::Column::DeletedAt)));
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
pub trait SoftDelete: EntityTrait + SoftDeleteHooks {
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
    fn cascade() -> Vec<CascadeChild> {
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
}

/// What `Entity::find()` and `Entity::find_by_id(..)` return for an entity, chosen with
/// `#[soft_delete(default_scope)]` or `#[soft_delete(default_scope = "strict")]`; see
/// [`crate::scope`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DefaultScope {
    /// SeaORM's own `find()`: a plain `Select` that sees every row, deleted or not. The default.
    #[default]
    Off,
    /// `find()` returns a [`Scoped`](crate::Scoped) query on the active rows;
    /// `.with_deleted()` or `.only_deleted()` replace that scope.
    Active,
    /// `find()` returns an [`Unscoped`](crate::scope::Unscoped) query that cannot run until it
    /// says which rows it wants: `.active()`, `.only_deleted()` or `.with_deleted()`.
    /// Forgetting is a compile error.
    Strict,
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

/// Every column a soft delete or restore of `E` writes.
pub(crate) fn columns<E: SoftDelete>() -> Columns<E::Column> {
    Columns {
        marker: E::marker(),
        deleted_by: E::deleted_by_column(),
        deletion_reason: E::deletion_reason_column(),
        deletion_op: E::deletion_op_column(),
        audit: E::audit_columns(),
    }
}

/// `E`'s column as an expression qualified by its table (and schema).
pub(crate) fn col<E: EntityTrait>(table: &Table) -> impl Fn(E::Column) -> sea_orm::sea_query::Expr {
    let table = table.clone();
    move |column| table.col(column)
}

/// Refuses what `E`'s declaration makes impossible before anything is sent: a cascade that
/// cannot be exact (see [`crate::cascade`]).
pub(crate) fn check_cascade<E: SoftDelete>() -> Result<()> {
    crate::cascade::check(
        &Table::of::<E>(),
        E::deletion_op_column().is_some(),
        E::cascade(),
    )
}

/// Refuses a stamp `backend` cannot store exactly (see `check_timestamp`), or that `E`'s marker
/// or the marker of an entity its cascade reaches cannot hold (an epoch holds times after
/// 1970-01-01 00:00:00 UTC, 0 meaning live, and an `i32` one times before 2038). The stamp the
/// crate takes itself fits every marker but an `i32` epoch after 2038; one given with `.at(..)`
/// may not.
pub(crate) fn check_change<E: SoftDelete>(change: &Change, backend: DbBackend) -> Result<()> {
    let at = change.at();
    check_timestamp(backend, "at", at)?;
    if let Change::Restore { .. } = change {
        return Ok(());
    }
    let refused = match E::marker().refuses_stamp(at) {
        Some(why) => Some((Table::of::<E>(), why)),
        None => crate::cascade::refusing_stamp(E::cascade(), at),
    };
    match refused {
        Some((table, why)) => Err(Error::InvalidArgument {
            name: "at",
            reason: format!("`{table}` marks deletions with an epoch, and {why}"),
        }),
        None => Ok(()),
    }
}

/// The error for an active model whose primary key is not set.
pub(crate) fn missing_key<E: EntityTrait>() -> Error {
    Error::InvalidArgument {
        name: "primary key",
        reason: format!(
            "the active model of `{}` has no primary key value set",
            Table::of::<E>()
        ),
    }
}

impl CascadeChild {
    /// `C`'s rows follow `P`'s through the relation `<P as Related<C>>::to()`.
    pub fn of<P, C>() -> Self
    where
        P: SoftDelete + Related<C>,
        C: SoftDelete,
    {
        let relation = <P as Related<C>>::to();
        let parent = Table::of::<P>();
        let table = Table::of::<C>();
        let named = |table: &TableRef, name: &str| {
            Table::from_ref(table).is_some_and(|table| table.name() == name)
        };
        let mut problem = None;
        if <P as Related<C>>::via().is_some() {
            problem = Some(format!(
                "`{parent}` cascades to `{table}` through another table; only direct relations \
                 (the child holds the foreign key) can cascade"
            ));
        } else if !named(&relation.to_tbl, table.name())
            || !named(&relation.from_tbl, parent.name())
        {
            problem = Some(format!(
                "`{parent}` cascades to `{table}`, but `Related<{table}>` for `{parent}` is not a \
                 relation from `{parent}` to `{table}`"
            ));
        }
        CascadeChild {
            table,
            parent,
            parent_columns: relation.from_col.iter().cloned().collect(),
            child_columns: relation.to_col.iter().cloned().collect(),
            columns: columns::<C>().map(StoredIden::of),
            children: C::cascade,
            problem,
        }
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
        read_state(&<M::Entity as SoftDelete>::marker(), |c| self.get(c)).0
    }

    fn deleted_at(&self) -> Option<Timestamp> {
        read_state(&<M::Entity as SoftDelete>::marker(), |c| self.get(c)).1
    }

    fn deleted_by(&self) -> Option<String> {
        value_to(self.get(<M::Entity as SoftDelete>::deleted_by_column()))
    }

    fn deletion_reason(&self) -> Option<String> {
        value_to(self.get(<M::Entity as SoftDelete>::deletion_reason_column()))
    }
}
