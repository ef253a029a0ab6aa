//! Joins and relations that keep the related side's deleted rows out.

use sea_orm::sea_query::{Condition, Expr, IntoCondition};
use sea_orm::{
    EntityTrait, JoinType, QuerySelect, Related, RelationDef, Select, SelectTwo, SelectTwoMany,
};

use crate::entity::SoftDelete;

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

/// Adds `deleted_at IS NULL` (the live test of the target's [marker](crate::marker)) for the relation's target table to the relation's `ON` condition,
/// keeping any condition it already had. Use it with `join` for joins the helpers above do not
/// cover, e.g. `.join(JoinType::LeftJoin, only_active::<post::Entity>(user::Relation::Post.def()))`.
pub fn only_active<R: SoftDelete>(rel: RelationDef) -> RelationDef {
    let previous = rel.on_condition.clone();
    let marker = R::marker();
    rel.on_condition(move |left, right| {
        let active = marker
            .live_in(|column| Expr::col((right.clone(), column)))
            .into_condition();
        match &previous {
            Some(previous) => Condition::all().add(previous(left, right)).add(active),
            None => active,
        }
    })
}
