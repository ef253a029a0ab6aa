//! Query scopes: filters that hide or pick soft-deleted rows, composable with every SeaORM filter.
//!
//! [`SoftDeleteQueryExt`] adds `.active()`, `.only_deleted()`, `.deleted_before(t)`,
//! `.deleted_after(t)` and `.deleted_by(who)` to `Select`, `SelectTwo`, `SelectTwoMany`,
//! `UpdateMany` and `DeleteMany` of a soft-delete entity. [`ActiveRelatedExt`] joins related
//! soft-delete entities without leaking their deleted rows: the `deleted_at IS NULL` condition
//! goes into the `ON` clause of the left join, so parents whose children are all deleted still
//! come back (with no child), which a `WHERE` filter would drop.
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

use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoCondition};
use sea_orm::{
    ColumnTrait, DeleteMany, EntityTrait, QueryFilter, Related, RelationDef, Select, SelectTwo,
    SelectTwoMany, UpdateMany,
};
use sea_orm::{JoinType, QuerySelect};

use crate::entity::{SoftDelete, Timestamp, ceil_micros, timestamp_value};

/// Soft-delete filters for queries on a soft-delete entity.
///
/// Each method adds one condition with `AND`, so the scopes compose with each other and with
/// every other SeaORM filter, in any order. Implemented for `Select<E>`, `SelectTwo<E, F>`,
/// `SelectTwoMany<E, F>`, `UpdateMany<E>` and `DeleteMany<E>`, filtering on `E`.
pub trait SoftDeleteQueryExt: QueryFilter + Sized {
    /// The soft-delete entity whose rows the scopes filter.
    type Entity: SoftDelete;

    /// Keeps the rows that are not soft-deleted (`deleted_at IS NULL`).
    fn active(self) -> Self {
        self.filter(<Self::Entity as SoftDelete>::deleted_at_column().is_null())
    }

    /// Keeps only the soft-deleted rows (`deleted_at IS NOT NULL`).
    fn only_deleted(self) -> Self {
        self.filter(<Self::Entity as SoftDelete>::deleted_at_column().is_not_null())
    }

    /// Keeps every row; the query unchanged, written so that the intent shows.
    fn with_deleted(self) -> Self {
        self
    }

    /// Keeps the rows soft-deleted strictly before `cutoff` (`deleted_at < cutoff`); active rows
    /// never match.
    fn deleted_before(self, cutoff: Timestamp) -> Self {
        self.filter(
            <Self::Entity as SoftDelete>::deleted_at_column()
                .lt(timestamp_value(ceil_micros(cutoff))),
        )
    }

    /// Keeps the rows soft-deleted at or after `since` (`deleted_at >= since`); active rows never
    /// match.
    fn deleted_after(self, since: Timestamp) -> Self {
        self.filter(
            <Self::Entity as SoftDelete>::deleted_at_column()
                .gte(timestamp_value(ceil_micros(since))),
        )
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

/// Joins related soft-delete entities without leaking their deleted rows.
///
/// The parent entity `E` need not be a soft-delete entity itself; the related one must be.
///
/// # Examples
///
/// ```
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
/// #     pub enum Relation {
/// #         #[sea_orm(has_many = "super::post::Entity")]
/// #         Post,
/// #     }
/// #     impl Related<super::post::Entity> for Entity {
/// #         fn to() -> RelationDef { Relation::Post.def() }
/// #     }
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// # mod post {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete]
/// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
/// #     #[sea_orm(table_name = "posts")]
/// #     pub struct Model {
/// #         #[sea_orm(primary_key)]
/// #         pub id: i64,
/// #         pub user_id: i64,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {
/// #         #[sea_orm(belongs_to = "super::user::Entity", from = "Column::UserId", to = "super::user::Column::Id")]
/// #         User,
/// #     }
/// #     impl Related<super::user::Entity> for Entity {
/// #         fn to() -> RelationDef { Relation::User.def() }
/// #     }
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use sea_orm::{DbBackend, EntityTrait, QuerySelect, QueryTrait};
/// use soft_delete_core::prelude::*;
///
/// # fn main() {
/// let query = user::Entity::find()
///     .active()
///     .left_join_active(post::Entity)
///     .select_only()
///     .column(user::Column::Id)
///     .column(post::Column::Id);
/// assert_eq!(
///     query.build(DbBackend::Postgres).to_string(),
///     r#"SELECT "users"."id", "posts"."id" FROM "users" LEFT JOIN "posts" ON "users"."id" = "posts"."user_id" AND "posts"."deleted_at" IS NULL WHERE "users"."deleted_at" IS NULL"#
/// );
/// # }
/// ```
pub trait ActiveRelatedExt<E: EntityTrait>: Sized {
    /// Left-joins `R`, keeping only its active rows in the join (`ON … AND deleted_at IS NULL`).
    fn left_join_active<R>(self, r: R) -> Self
    where
        R: SoftDelete,
        E: Related<R>;

    /// Like SeaORM's `find_also_related`, but a related row that is soft-deleted comes back as
    /// `None` instead of leaking.
    fn find_also_active_related<R>(self, r: R) -> SelectTwo<E, R>
    where
        R: SoftDelete,
        E: Related<R>;

    /// Like SeaORM's `find_with_related`, but without the soft-deleted related rows; parents
    /// whose related rows are all deleted come back with an empty list.
    fn find_with_active_related<R>(self, r: R) -> SelectTwoMany<E, R>
    where
        R: SoftDelete,
        E: Related<R>;
}

impl<E: EntityTrait> ActiveRelatedExt<E> for Select<E> {
    fn left_join_active<R>(self, _: R) -> Self
    where
        R: SoftDelete,
        E: Related<R>,
    {
        let to = only_active::<R>(E::to());
        match E::via() {
            Some(via) => self
                .join(JoinType::LeftJoin, via)
                .join(JoinType::LeftJoin, to),
            None => self.join(JoinType::LeftJoin, to),
        }
    }

    fn find_also_active_related<R>(self, r: R) -> SelectTwo<E, R>
    where
        R: SoftDelete,
        E: Related<R>,
    {
        self.left_join_active(r).select_also(r)
    }

    fn find_with_active_related<R>(self, r: R) -> SelectTwoMany<E, R>
    where
        R: SoftDelete,
        E: Related<R>,
    {
        self.left_join_active(r).select_with(r)
    }
}

/// Adds `deleted_at IS NULL` for the relation's target table to the relation's `ON` condition,
/// keeping any condition it already had. Use it with `join` for joins the helpers above do not
/// cover, e.g. `.join(JoinType::LeftJoin, only_active::<post::Entity>(user::Relation::Post.def()))`.
pub fn only_active<R: SoftDelete>(rel: RelationDef) -> RelationDef {
    let previous = rel.on_condition.clone();
    let column = R::deleted_at_column();
    rel.on_condition(move |left, right| {
        let active = Expr::col((right.clone(), column))
            .is_null()
            .into_condition();
        match &previous {
            Some(previous) => Condition::all().add(previous(left, right)).add(active),
            None => active,
        }
    })
}
