//! SeaORM's own deletes, made soft.
//!
//! On an entity declared with `default_scope` (or `delete = "soft"`), the macro gives `Entity`,
//! `ActiveModel` and `Model` inherent functions named like SeaORM's deletes. Rust prefers an
//! inherent function to a trait's wherever the type is named, so the calls an application
//! already makes soft-delete instead of deleting, through the same operation as
//! [`soft_delete_by_id`](crate::SoftDeleteEntityExt::soft_delete_by_id) and
//! [`bulk_soft_delete_where`](crate::SoftDeleteManager::bulk_soft_delete_where): cascade, hooks,
//! operation log and events included. They return what SeaORM's return, a `DeleteResult` whose
//! `rows_affected` counts the rows soft-deleted, with errors as `DbErr`.
//!
//! | call | with `default_scope` | `delete = "hard"` | `default_scope = "strict"` |
//! |---|---|---|---|
//! | `Entity::delete_by_id(id).exec(db)` | soft delete of one row | SeaORM's | say `.soft()` first |
//! | `Entity::delete(active_model).exec(db)` | soft delete of its row | SeaORM's | say `.soft()` first |
//! | `Entity::delete_many().filter(..).exec(db)` | soft delete of the active rows matching, in batches | SeaORM's | say `.soft()` first |
//! | `active_model.delete(db)` | soft delete of its row, between `before_delete` and `after_delete` | SeaORM's | does not compile: call `.soft_delete(db)` or `.force_delete(db)` |
//! | `model.delete(db)` | the same | SeaORM's | does not compile, as above |
//! | `<Entity as EntityTrait>::delete_by_id`, generic code over `E: EntityTrait`, `ActiveModelTrait::delete(am, db)` | SeaORM's: trait functions are not shadowed | SeaORM's | SeaORM's |
//! | `Entity::force_delete_by_id(db, id)`, purges | permanent, always explicit | | |
//!
//! `delete = "hard"` keeps SeaORM's deletes permanent on an entity with a default scope;
//! `delete = "soft"` makes them soft on an entity without one.
//!
//! # Examples
//!
//! ```no_run
//! mod user {
//!     use sea_orm::entity::prelude::*;
//!
//!     #[soft_delete_core::soft_delete(default_scope)]
//!     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "users")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         pub name: String,
//!     }
//!
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!
//!     impl ActiveModelBehavior for ActiveModel {}
//! }
//!
//! use sea_orm::{ColumnTrait, DatabaseConnection, DbErr};
//!
//! async fn run(db: &DatabaseConnection) -> Result<(), DbErr> {
//!     // The code of an application written for SeaORM, unchanged: every row stays, soft-deleted.
//!     let one = user::Entity::delete_by_id(7).exec(db).await?;
//!     assert_eq!(one.rows_affected, 1);
//!     user::Entity::delete_many()
//!         .filter(user::Column::Name.starts_with("test-"))
//!         .exec(db)
//!         .await?;
//!     if let Some(model) = user::Entity::find_by_id(8).one(db).await? {
//!         model.delete(db).await?;
//!     }
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::marker::PhantomData;

use sea_orm::sea_query::{Condition, IntoCondition, ValueTuple};
use sea_orm::{ActiveModelBehavior, ActiveModelTrait, DbErr, DeleteResult, IntoActiveModel};

use crate::bulk::{BulkConnection, One, SoftDeleteAction};
use crate::entity::SoftDelete;
use crate::manager::SoftDeleteManager;
use crate::sql::key_condition;

/// Which rows a soft delete through SeaORM's API reaches.
#[derive(Clone, Debug)]
enum Which {
    /// One row by key (`None`: an active model without its key, refused when run).
    Key(Option<ValueTuple>),
    /// The active rows matching a condition.
    Filter(Condition),
}

/// SeaORM's `delete_by_id`, `delete` and `delete_many`, soft: what they return on an entity
/// whose deletes are soft (see the [module documentation](self)). Run it with
/// [`exec`](Self::exec), as SeaORM's.
#[must_use = "a delete does nothing until `exec` runs it"]
pub struct SoftDeletes<E> {
    which: Which,
    by: Option<String>,
    reason: Option<String>,
    quiet: bool,
    _entity: PhantomData<fn() -> E>,
}

impl<E> fmt::Debug for SoftDeletes<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftDeletes")
            .field("entity", &std::any::type_name::<E>())
            .field("which", &self.which)
            .field("by", &self.by)
            .field("reason", &self.reason)
            .field("quiet", &self.quiet)
            .finish()
    }
}

impl<E: SoftDelete> SoftDeletes<E> {
    fn new(which: Which) -> Self {
        SoftDeletes {
            which,
            by: None,
            reason: None,
            quiet: false,
            _entity: PhantomData,
        }
    }

    /// The row with this primary key: `Entity::delete_by_id`.
    pub fn by_id<T>(values: T) -> Self
    where
        T: Into<<E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType>,
    {
        use sea_orm::sea_query::IntoValueTuple;
        Self::new(Which::Key(Some(values.into().into_value_tuple())))
    }

    /// The row an active model's primary key names: `Entity::delete(active_model)`.
    pub fn of_model<A: ActiveModelTrait<Entity = E>>(model: &A) -> Self {
        Self::new(Which::Key(model.get_primary_key_value()))
    }

    /// Every active row, until filtered: `Entity::delete_many()`.
    pub fn many() -> Self {
        Self::new(Which::Filter(Condition::all()))
    }

    /// Soft-deletes only the rows that also match `condition`, as SeaORM's `filter`.
    pub fn filter(mut self, condition: impl IntoCondition) -> Self {
        let condition = condition.into_condition();
        self.which = match self.which {
            Which::Filter(all) => Which::Filter(all.add(condition)),
            Which::Key(Some(key)) => {
                Which::Filter(Condition::all().add(key_condition::<E>(key)).add(condition))
            }
            // Refused when run, whatever the filter.
            Which::Key(None) => Which::Key(None),
        };
        self
    }

    /// Records who deleted the rows (`deleted_by`), as `soft_delete_by_id(..).deleted_by(..)`.
    pub fn deleted_by(mut self, who: impl Into<String>) -> Self {
        self.by = Some(who.into());
        self
    }

    /// Records why (`deletion_reason`).
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.reason = Some(why.into());
        self
    }

    /// Runs without hooks or events, logged as quiet (see
    /// [`One::quietly`](crate::bulk::One::quietly)).
    pub fn quietly(mut self) -> Self {
        self.quiet = true;
        self
    }

    /// Soft-deletes the rows: one row as a one-record operation, a filter in batches of the
    /// configured size. `rows_affected` counts the rows soft-deleted (those already deleted
    /// are not counted again).
    ///
    /// # Errors
    ///
    /// The database's error as it is; this crate's others (a hook's veto, an active model
    /// without its key, a batch that failed after its retries) as `DbErr::Custom` with their
    /// message. [`soft_delete_by_id`](crate::SoftDeleteEntityExt::soft_delete_by_id) and the
    /// manager return them whole.
    pub async fn exec<C: BulkConnection>(self, db: &C) -> Result<DeleteResult, DbErr> {
        let rows = match self.which {
            Which::Key(key) => {
                let mut one = One::<E, C, SoftDeleteAction>::new(db, key);
                if let Some(by) = self.by {
                    one = one.deleted_by(by);
                }
                if let Some(reason) = self.reason {
                    one = one.reason(reason);
                }
                if self.quiet {
                    one = one.quietly();
                }
                one.await?
            }
            Which::Filter(condition) => {
                let mut bulk = SoftDeleteManager::new(db).bulk_soft_delete_where::<E>(condition);
                if let Some(by) = self.by {
                    bulk = bulk.deleted_by(by);
                }
                if let Some(reason) = self.reason {
                    bulk = bulk.reason(reason);
                }
                if self.quiet {
                    bulk = bulk.quietly();
                }
                bulk.await?.affected
            }
        };
        Ok(deleted(rows))
    }
}

/// A `DeleteResult` of `rows` rows. SeaORM's is `non_exhaustive`; its `empty()` is public,
/// though hidden from its docs, and its one field is public.
fn deleted(rows: u64) -> DeleteResult {
    let mut result = DeleteResult::empty();
    result.rows_affected = rows;
    result
}

/// What SeaORM's deletes return on an entity declared `default_scope = "strict"`: a delete that
/// must say which it is before it runs. [`soft`](Self::soft) soft-deletes; a permanent delete is
/// [`force_delete_by_id`](crate::SoftDeleteEntityExt::force_delete_by_id) or a purge.
#[must_use = "a delete does nothing until it says which it is and runs"]
pub struct ChooseDelete<E>(SoftDeletes<E>);

impl<E> fmt::Debug for ChooseDelete<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ChooseDelete").field(&self.0).finish()
    }
}

impl<E: SoftDelete> ChooseDelete<E> {
    /// Wraps the soft delete a strict entity's caller must choose.
    pub fn new(delete: SoftDeletes<E>) -> Self {
        ChooseDelete(delete)
    }

    /// The soft delete.
    pub fn soft(self) -> SoftDeletes<E> {
        self.0
    }

    /// Does not compile: an entity declared `default_scope = "strict"` says which delete it
    /// wants. Write `.soft().exec(db)`, or `force_delete_by_id` for a permanent delete.
    pub async fn exec<C: SaysWhichDelete>(self, db: &C) -> Result<DeleteResult, DbErr> {
        let _ = (self, db);
        unreachable!("`SaysWhichDelete` has no implementation")
    }

    /// Soft-deletes only the rows that also match `condition`; still to be chosen.
    pub fn filter(self, condition: impl IntoCondition) -> Self {
        ChooseDelete(self.0.filter(condition))
    }
}

/// Implemented by no type: the bound of the deletes an entity declared
/// `default_scope = "strict"` refuses to run until they say which delete they are.
#[diagnostic::on_unimplemented(
    message = "this delete must say whether it is soft or permanent",
    label = "the entity is declared `default_scope = \"strict\"`",
    note = "soft-delete with `.soft()` (`Entity::delete_by_id(id).soft().exec(db)`) or \
            `active_model.soft_delete(db)`; delete for good with `Entity::force_delete_by_id(db, id)` \
            or `active_model.force_delete(db)`"
)]
pub trait SaysWhichDelete: sealed::Sealed {}

mod sealed {
    pub trait Sealed {}
}

/// `ActiveModel::delete` of an entity whose deletes are soft: `before_delete`, the soft delete
/// of the row its key names, `after_delete`, as SeaORM's calls them around its `DELETE`.
///
/// # Errors
///
/// As [`SoftDeletes::exec`], and the errors of the behaviour's hooks.
pub async fn delete_active_model<A, C>(model: A, db: &C) -> Result<DeleteResult, DbErr>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    A::Entity: SoftDelete,
    C: BulkConnection,
{
    let model = model.before_delete(db).await?;
    let result = SoftDeletes::<A::Entity>::of_model(&model).exec(db).await?;
    model.after_delete(db).await?;
    Ok(result)
}

/// `Model::delete` of an entity whose deletes are soft: [`delete_active_model`] of its active
/// model.
///
/// # Errors
///
/// As [`delete_active_model`].
pub async fn delete_model<M, A, C>(model: M, db: &C) -> Result<DeleteResult, DbErr>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    A::Entity: SoftDelete,
    C: BulkConnection,
{
    delete_active_model(model.into_active_model(), db).await
}
