//! What soft-delete entities and their active models can do: scopes and one-record operations,
//! as extension traits implemented for every [`SoftDelete`] entity (the `futures::StreamExt`
//! pattern: the trait describes, the extension acts). Both are in the
//! [prelude](crate::prelude).
//!
//! | call | SQL it sends |
//! |---|---|
//! | `Entity::find_active()` | `SELECT … WHERE deleted_at IS NULL` |
//! | `Entity::find_deleted()` | `SELECT … WHERE deleted_at IS NOT NULL` |
//! | `Entity::find_with_deleted()` | `SELECT …` (no filter) |
//! | `Entity::find()` with `default_scope` | `SELECT … WHERE deleted_at IS NULL` |
//! | `Entity::soft_delete_by_id(db, id)` | `UPDATE … SET deleted_at = ?, … WHERE pk IN (?) AND deleted_at IS NULL` |
//! | `Entity::restore_by_id(db, id)` | `UPDATE … SET deleted_at = NULL, … WHERE pk IN (?) AND deleted_at IS NOT NULL` |
//! | `Entity::force_delete_by_id(db, id)` | `DELETE … WHERE pk IN (?)` |
//!
//! A one-record operation is a bulk operation's batch of one key: the same statements (on
//! PostgreSQL `pk = ANY($n)`), the same cascade, hooks, operation log and events, in one
//! transaction, with retries and the batch's time limit (see [`One`]). Soft delete touches only
//! active rows and restore only deleted ones, so both are idempotent: repeating them changes
//! nothing and returns `0`. A force delete of a row whose cascade still keeps rows under it is
//! refused with [`Error::Kept`](crate::Error::Kept), as a purge would leave it.

use sea_orm::sea_query::IntoValueTuple;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, EntityTrait, IdenStatic, Iterable,
    PrimaryKeyToColumn, PrimaryKeyTrait, Select, Value,
};

use crate::bulk::{ForceDeleteOne, One, RestoreOne, SoftDeleteOne};
use crate::entity::SoftDelete;
use crate::scope::{Scope, Scoped};

/// Scopes and one-record operations of a soft-delete entity; implemented for every
/// [`SoftDelete`] entity. See the [module documentation](self).
///
/// # Examples
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
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use soft_delete_core::prelude::*;
///
/// # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
/// let live = user::Entity::find_active().all(db).await?;
/// let changed = user::Entity::soft_delete_by_id(db, 7)
///     .deleted_by("admin")
///     .reason("spam")
///     .await?;
/// assert_eq!(changed, 1);
/// // Idempotent: the row is already deleted, so nothing changes.
/// assert_eq!(user::Entity::soft_delete_by_id(db, 7).await?, 0);
/// user::Entity::restore_by_id(db, 7).restored_by("admin").await?;
/// user::Entity::force_delete_by_id(db, 7).reason("GDPR request").await?;
/// # Ok(()) }
/// ```
pub trait SoftDeleteEntityExt: SoftDelete {
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

    /// Soft-deletes the row with this primary key, if it is active, with its cascade. Await the
    /// returned builder; it resolves to the number of rows changed (0 when the row is missing
    /// or already deleted). Runs with the default configuration; the manager's and the
    /// service's `soft_delete` run with theirs (or set one with
    /// [`with_config`](One::with_config)).
    ///
    /// # Errors
    ///
    /// [`Error::Vetoed`](crate::Error::Vetoed) when a `before_soft_delete` hook refuses;
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a time the backend cannot
    /// store; [`Error::Db`](crate::Error::Db) when a statement fails.
    fn soft_delete_by_id<'a, C, I>(db: &'a C, id: I) -> SoftDeleteOne<'a, Self, C>
    where
        C: ConnectionTrait,
        I: Into<<Self::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        One::new(db, Some(id.into().into_value_tuple()))
    }

    /// Restores the row with this primary key, if it is soft-deleted, clearing its deletion
    /// columns, with the rows its own soft delete cascaded to. Resolves to the number of rows
    /// changed.
    ///
    /// # Errors
    ///
    /// As for [`soft_delete_by_id`](Self::soft_delete_by_id).
    fn restore_by_id<'a, C, I>(db: &'a C, id: I) -> RestoreOne<'a, Self, C>
    where
        C: ConnectionTrait,
        I: Into<<Self::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        One::new(db, Some(id.into().into_value_tuple()))
    }

    /// Deletes the row with this primary key for good, whether it is soft-deleted or not, after
    /// the rows under it in its cascade (a purge of one key). Resolves to the number of rows
    /// removed.
    ///
    /// # Errors
    ///
    /// [`Error::Kept`](crate::Error::Kept) when rows under it are still kept (active), with
    /// nothing deleted; otherwise as for [`soft_delete_by_id`](Self::soft_delete_by_id).
    fn force_delete_by_id<'a, C, I>(db: &'a C, id: I) -> ForceDeleteOne<'a, Self, C>
    where
        C: ConnectionTrait,
        I: Into<<Self::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        One::new(db, Some(id.into().into_value_tuple()))
    }
}

impl<E: SoftDelete> SoftDeleteEntityExt for E {}

/// Soft delete and restore on an `ActiveModel`, by its primary key.
///
/// Implemented for the `ActiveModel` of every [`SoftDelete`] entity. The other changes the
/// active model carries (columns set with `Set(..)`, the primary key aside) are written in the
/// same `UPDATE` as the soft-delete columns, as Laravel's `restore()` saves the model: nothing
/// set on it is dropped. When the row is not in the state the operation applies to (already
/// deleted, or not deleted, or missing), the statement changes nothing, those changes included,
/// and resolves to `0`. Setting a column the operation writes itself (`deleted_at`,
/// `deleted_by`, `deletion_reason`, and `updated_at`/`updated_by` on audited entities) is
/// refused with [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming it, before
/// anything is sent. `ActiveModelBehavior::before_save` is not called. The active model itself
/// is not changed; reload it to see the new state.
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
    /// [`SoftDeleteEntityExt::soft_delete_by_id`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the primary key is not
    /// set; otherwise as for [`SoftDeleteEntityExt::soft_delete_by_id`].
    fn soft_delete<'a, C: ConnectionTrait>(&self, db: &'a C) -> SoftDeleteOne<'a, Self::Entity, C>;

    /// Restores the row this active model's primary key names; see
    /// [`SoftDeleteEntityExt::restore_by_id`].
    ///
    /// # Errors
    ///
    /// As for [`soft_delete`](Self::soft_delete).
    fn restore<'a, C: ConnectionTrait>(&self, db: &'a C) -> RestoreOne<'a, Self::Entity, C>;

    /// Deletes the row this active model's primary key names for good; see
    /// [`SoftDeleteEntityExt::force_delete_by_id`]. The other changes the active model carries
    /// are not written (the row is gone).
    ///
    /// # Errors
    ///
    /// As for [`SoftDeleteEntityExt::force_delete_by_id`], and
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) when the primary key is not
    /// set.
    fn force_delete<'a, C: ConnectionTrait>(
        &self,
        db: &'a C,
    ) -> ForceDeleteOne<'a, Self::Entity, C>;
}

impl<A> SoftDeleteActiveModelExt for A
where
    A: ActiveModelTrait,
    A::Entity: SoftDelete,
{
    fn soft_delete<'a, C: ConnectionTrait>(&self, db: &'a C) -> SoftDeleteOne<'a, A::Entity, C> {
        One::new(db, self.get_primary_key_value()).with_pending(pending_changes(self))
    }

    fn restore<'a, C: ConnectionTrait>(&self, db: &'a C) -> RestoreOne<'a, A::Entity, C> {
        One::new(db, self.get_primary_key_value()).with_pending(pending_changes(self))
    }

    fn force_delete<'a, C: ConnectionTrait>(&self, db: &'a C) -> ForceDeleteOne<'a, A::Entity, C> {
        One::new(db, self.get_primary_key_value())
    }
}

/// The columns an active model sets (`ActiveValue::Set`), its primary key aside: the changes
/// [`SoftDeleteActiveModelExt`] writes with the soft delete or restore.
pub(crate) fn pending_changes<A: ActiveModelTrait>(
    model: &A,
) -> Vec<(<A::Entity as EntityTrait>::Column, Value)> {
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
