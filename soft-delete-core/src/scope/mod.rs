//! Query scopes: which rows of a soft-delete entity a query sees.
//!
//! Two kinds of query carry a scope:
//!
//! - [`Scoped`], what `Entity::find_active()`, `find_deleted()` and `find_with_deleted()` return
//!   (and `Entity::find()` for entities declared with `default_scope`), holds **one** scope, and
//!   the last choice wins: `find_active().with_deleted()` sees every row, `find_active()
//!   .only_deleted()` only the deleted ones. The filters, orders, joins and selections added to
//!   it are kept when the scope changes; the scope's single condition is added when the query
//!   runs or is built. It reads like SeaORM's `Select`: `filter`, `order_by_*`, `select_only`,
//!   `join`, `find_also_related`, `all`, `one`, `count`, `paginate`, `cursor_by`, `build`.
//! - [`SoftDeleteQueryExt`] adds `.active()`, `.only_deleted()` and the `deleted_*` filters to
//!   SeaORM's own `Select`, `SelectTwo`, `SelectTwoMany`, `UpdateMany` and `DeleteMany`, for
//!   queries built with SeaORM's API. There each call **adds** a condition with `AND`: it cannot
//!   take back one added before. Prefer [`Scoped`] where the scope may change.
//!
//! Relations follow the related entity's default scope (see the table below); for an entity
//! without one, [`ActiveRelatedExt`] joins related soft-delete entities without leaking their
//! deleted rows:
//! the `deleted_at IS NULL` condition goes into the `ON` clause of the left join, so parents
//! whose children are all deleted still come back (with no child), which a `WHERE` filter would
//! drop. [`only_active`] puts the same condition into a relation definition, for `Related` impls.
//!
//! # The default scope
//!
//! `#[soft_delete(default_scope)]` makes `Entity::find()` and `Entity::find_by_id(..)` return a
//! [`Scoped`] query on the active rows, as Laravel, Rails' paranoia and django-safedelete do;
//! `#[soft_delete(default_scope = "strict")]` makes them return an [`Unscoped`] query that does
//! not compile until it picks a scope. The macro writes them as inherent associated functions of
//! `Entity`, which Rust prefers to the `EntityTrait` methods of the same name wherever the entity
//! is named. Where code reaches SeaORM's trait methods instead, the default scope cannot apply:
//!
//! | entry point | default scope applies? |
//! |---|---|
//! | `Entity::find()`, `Entity::find_by_id(..)` | yes |
//! | `Entity::find_active()` / `find_deleted()` / `find_with_deleted()` | their own scope |
//! | `model.find_related(R)`, `active_model.find_related(R)` on a soft-delete entity | yes, `R`'s: a [`Scoped`] query on `R`'s live rows, through live rows of a junction with a default scope (see [`related`]) |
//! | `Entity::find().find_also_related(R)`, `.find_with_related(R)` | yes, `E`'s in `WHERE` and `R`'s (and a junction's) in the join's `ON` |
//! | `models.load_many(R::find(), db)` (and `load_one`, `load_many_to_many`) | yes for `R`: a [`Scoped`] query is a loader's query; a `load_many_to_many` junction's deleted rows are not left out |
//! | `models.load_many(R, db)`: the entity value | no: SeaORM's `EntityOrSelect` for an entity calls `EntityTrait::find()` |
//! | `model.find_related(R)` on an entity without `#[soft_delete]`, `ModelTrait::find_related(&model, R)` | no: the trait function is SeaORM's |
//! | `Entity::delete_by_id`, `delete`, `delete_many`, `ActiveModel::delete`, `Model::delete` | soft, unless `delete = "hard"` (see [`crate::delete`]) |
//! | `<E as EntityTrait>::find()`, generic code over `E: EntityTrait` | no: trait methods are not shadowed |
//! | `Entity::load()` and `find_by_<unique>` of `#[sea_orm::model]` entities | not offered: the macro refuses `default_scope` there, because that generated code needs `find()` to be a `Select` |
//! | SeaORM's re-read after `ActiveModel::insert` / `update` | no: it reads the row it just wrote |
//!
//! SeaORM 2.0 has no hook that adds a condition to every `SELECT` of an entity: `find()` is a
//! provided trait method, `ActiveModelBehavior` has no select hook, a connection wrapper sees
//! only built SQL (`ConnectionTrait::query_all` takes any `StatementBuilder`, which it can only
//! build into text), and the loaders ignore a relation's `on_condition`. Shadowing is the one
//! mechanism that needs no string rewriting: the macro writes inherent functions on `Entity`,
//! `Model` and `ActiveModel`, and registers every entity with a default scope (see
//! [`crate::registry`]) so that a relation can find its target's scope from the target's type
//! or its junction's table. The entry points it cannot reach are listed above; write
//! `R::find()` (scoped) where SeaORM takes an entity value.
//!
//! # Examples
//!
//! The SQL each scope sends, on each backend:
//!
//! ```
//! # mod user {
//! #     use sea_orm::entity::prelude::*;
//! #     #[soft_delete_core::soft_delete]
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//! #     #[sea_orm(table_name = "users")]
//! #     pub struct Model {
//! #         #[sea_orm(primary_key)]
//! #         pub id: i64,
//! #         pub name: String,
//! #     }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! # }
//! use chrono::{TimeZone, Utc};
//! use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
//! use soft_delete_core::prelude::*;
//!
//! // Select only the key, to keep the SQL short.
//! let sql = |query: sea_orm::Select<user::Entity>, backend| {
//!     query.select_only().column(user::Column::Id).build(backend).to_string()
//! };
//!
//! let active = user::Entity::find().active().filter(user::Column::Name.starts_with("a"));
//! assert_eq!(
//!     sql(active.clone(), DbBackend::Postgres),
//!     r#"SELECT "users"."id" FROM "users" WHERE "users"."deleted_at" IS NULL AND "users"."name" LIKE 'a%'"#
//! );
//! assert_eq!(
//!     sql(active.clone(), DbBackend::MySql),
//!     "SELECT `users`.`id` FROM `users` WHERE `users`.`deleted_at` IS NULL AND `users`.`name` LIKE 'a%'"
//! );
//! assert_eq!(
//!     sql(active, DbBackend::Sqlite),
//!     r#"SELECT "users"."id" FROM "users" WHERE "users"."deleted_at" IS NULL AND "users"."name" LIKE 'a%'"#
//! );
//!
//! let deleted = user::Entity::find().only_deleted().deleted_by("admin");
//! assert_eq!(
//!     sql(deleted.clone(), DbBackend::Postgres),
//!     r#"SELECT "users"."id" FROM "users" WHERE "users"."deleted_at" IS NOT NULL AND "users"."deleted_by" = 'admin'"#
//! );
//! assert_eq!(
//!     sql(deleted.clone(), DbBackend::MySql),
//!     "SELECT `users`.`id` FROM `users` WHERE `users`.`deleted_at` IS NOT NULL AND `users`.`deleted_by` = 'admin'"
//! );
//! assert_eq!(
//!     sql(deleted, DbBackend::Sqlite),
//!     r#"SELECT "users"."id" FROM "users" WHERE "users"."deleted_at" IS NOT NULL AND "users"."deleted_by" = 'admin'"#
//! );
//!
//! let cutoff = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
//! let old = user::Entity::find().deleted_before(cutoff);
//! assert_eq!(
//!     sql(old.clone(), DbBackend::Postgres),
//!     r#"SELECT "users"."id" FROM "users" WHERE "users"."deleted_at" < '2026-01-01 00:00:00.000000 +00:00'"#
//! );
//! assert_eq!(
//!     sql(old.clone(), DbBackend::MySql),
//!     "SELECT `users`.`id` FROM `users` WHERE `users`.`deleted_at` < '2026-01-01 00:00:00.000000 +00:00'"
//! );
//! assert_eq!(
//!     sql(old, DbBackend::Sqlite),
//!     r#"SELECT "users"."id" FROM "users" WHERE "users"."deleted_at" < '2026-01-01 00:00:00.000000 +00:00'"#
//! );
//! ```
//!
//! (The inlined timestamps are only how `to_string` prints values; the statements sent to the
//! database bind them as parameters.)

mod related;
mod scoped;

pub use related::{ActiveRelatedExt, only_active, related};
pub use scoped::{Scoped, Unscoped};

use sea_orm::{
    ColumnTrait, DeleteMany, EntityTrait, QueryFilter, Select, SelectTwo, SelectTwoMany, UpdateMany,
};

pub use crate::entity::DefaultScope;
use crate::entity::SoftDelete;
use crate::marker::TimedMarker;
use crate::time::Timestamp;

/// Which rows of a soft-delete entity a query sees. A [`Scoped`] query holds exactly one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The rows that are not soft-deleted (`deleted_at IS NULL`).
    #[default]
    Active,
    /// Only the soft-deleted rows (`deleted_at IS NOT NULL`).
    OnlyDeleted,
    /// Every row, deleted or not (no condition).
    WithDeleted,
}

/// Soft-delete filters for queries on a soft-delete entity.
///
/// Each method adds one condition with `AND`, so the scopes compose with each other and with
/// every other SeaORM filter, in any order. Implemented for `Select<E>`, `SelectTwo<E, F>`,
/// `SelectTwoMany<E, F>`, `UpdateMany<E>` and `DeleteMany<E>`, filtering on `E`.
pub trait SoftDeleteQueryExt: QueryFilter + Sized {
    /// The soft-delete entity whose rows the scopes filter.
    type Entity: SoftDelete;

    /// Keeps the rows that are not soft-deleted (`deleted_at IS NULL`, or the test of the
    /// entity's [marker](crate::marker)).
    fn active(self) -> Self {
        self.filter(<Self::Entity as SoftDelete>::marker().live())
    }

    /// Keeps only the soft-deleted rows (`deleted_at IS NOT NULL`, or the test of the entity's
    /// marker).
    fn only_deleted(self) -> Self {
        self.filter(<Self::Entity as SoftDelete>::marker().deleted())
    }

    /// Keeps every row; the query unchanged, written so that the intent shows.
    fn with_deleted(self) -> Self {
        self
    }

    /// Keeps the rows soft-deleted strictly before `cutoff` (`deleted_at < cutoff`); active rows
    /// never match. Needs a marker that records the time ([`TimedMarker`]).
    fn deleted_before(self, cutoff: Timestamp) -> Self
    where
        Self::Entity: TimedMarker,
    {
        match <Self::Entity as SoftDelete>::marker().deleted_before(cutoff) {
            Some(condition) => self.filter(condition),
            // `TimedMarker` is implemented only for markers with a time.
            None => self.filter(<Self::Entity as SoftDelete>::marker().deleted()),
        }
    }

    /// Keeps the rows soft-deleted at or after `since` (`deleted_at >= since`); active rows never
    /// match. Needs a marker that records the time ([`TimedMarker`]).
    fn deleted_after(self, since: Timestamp) -> Self
    where
        Self::Entity: TimedMarker,
    {
        match <Self::Entity as SoftDelete>::marker().deleted_since(since) {
            Some(condition) => self.filter(condition),
            None => self.filter(<Self::Entity as SoftDelete>::marker().deleted()),
        }
    }

    /// Keeps the rows soft-deleted by `who` (`deleted_by = who`).
    fn deleted_by(self, who: impl Into<String>) -> Self {
        self.filter(<Self::Entity as SoftDelete>::deleted_by_column().eq(who.into()))
    }
}

impl<E: SoftDelete> SoftDeleteQueryExt for Select<E> {
    type Entity = E;
}

impl<E: SoftDelete, F: EntityTrait> SoftDeleteQueryExt for SelectTwo<E, F> {
    type Entity = E;
}

impl<E: SoftDelete, F: EntityTrait> SoftDeleteQueryExt for SelectTwoMany<E, F> {
    type Entity = E;
}

impl<E: SoftDelete> SoftDeleteQueryExt for UpdateMany<E> {
    type Entity = E;
}

impl<E: SoftDelete> SoftDeleteQueryExt for DeleteMany<E> {
    type Entity = E;
}
