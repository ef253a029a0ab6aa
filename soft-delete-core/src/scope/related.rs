//! Joins and relations that keep the related side's deleted rows out.

use sea_orm::sea_query::{Condition, DynIden, Expr, IntoCondition, TableRef};
use sea_orm::{
    EntityTrait, JoinType, QuerySelect, Related, RelationDef, Select, SelectTwo, SelectTwoMany,
};

use super::{Scope, Scoped};
use crate::entity::{DefaultScope, SoftDelete};
use crate::registry::{self, Registered};
use crate::sql::Table;

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

/// `rel` with the live test of `target` added to its `ON` condition, when the target is an
/// entity declared with a default scope (see [`crate::registry`]); `rel` as it is otherwise.
/// What the relation entry points join with, so that a relation follows the default scope of
/// the entity it reaches.
fn following(rel: RelationDef, target: Option<&'static Registered>) -> RelationDef {
    match target.map(|registered| registered.live()) {
        Some(live) => and_on(rel, move |_| live.clone()),
        None => rel,
    }
}

/// `rel` with `extra` (given the joined table's name or alias) added to its `ON` condition,
/// keeping any condition it already had.
fn and_on(
    rel: RelationDef,
    extra: impl Fn(DynIden) -> Condition + Send + Sync + 'static,
) -> RelationDef {
    let previous = rel.on_condition.clone();
    rel.on_condition(move |left, right| match &previous {
        Some(previous) => Condition::all()
            .add(previous(left, right.clone()))
            .add(extra(right)),
        None => extra(right),
    })
}

/// The registration of the entity whose table `table` is, when it has a default scope: how a
/// junction, which a relation names only by its table, is found.
fn scoped_table(table: &TableRef) -> Option<&'static Registered> {
    let table = Table::from_ref(table)?;
    registry::of_table(&table.to_string()).filter(|r| r.scope() != DefaultScope::Off)
}

/// `R`'s registration, when it is declared with a default scope.
fn scoped_entity<R: EntityTrait>() -> Option<&'static Registered> {
    registry::of::<R>().filter(|r| r.scope() != DefaultScope::Off)
}

/// The rows of `R` related to a row of `E`, `select` as SeaORM's `find_related` built it,
/// scoped as `R`'s default scope says: its live rows, through live rows of a junction with a
/// default scope; `.with_deleted()` and `.only_deleted()` replace that scope. Unchanged for an
/// `R` and a junction without one. What `model.find_related(R)` returns on a soft-delete
/// entity.
pub fn related<E, R>(select: Select<R>) -> Scoped<Select<R>>
where
    E: Related<R>,
    R: EntityTrait,
{
    let target = scoped_entity::<R>();
    let junction = E::via().and_then(|via| scoped_table(&via.to_tbl));
    let live = match (target, junction) {
        (None, None) => None,
        (target, junction) => Some(
            target
                .into_iter()
                .chain(junction)
                .fold(Condition::all(), |all, registered| {
                    all.add(registered.live())
                }),
        ),
    };
    let deleted = target.map(|registered| registered.deleted());
    Scoped::with_conditions(select, Scope::Active, live, deleted)
}

/// `E`'s query joined (left) with `R` as SeaORM's `left_join` joins it, each joined table
/// that has a default scope (`R`, and a junction) keeping only its live rows in the `ON`
/// clause.
pub(crate) fn left_join_following<E, R>(select: Select<E>) -> Select<E>
where
    E: EntityTrait + Related<R>,
    R: EntityTrait,
{
    let to = following(E::to(), scoped_entity::<R>());
    match E::via() {
        Some(via) => {
            let junction = scoped_table(&via.to_tbl);
            select
                .join(JoinType::LeftJoin, following(via, junction))
                .join(JoinType::LeftJoin, to)
        }
        None => select.join(JoinType::LeftJoin, to),
    }
}

/// Adds `deleted_at IS NULL` (the live test of the target's [marker](crate::marker)) for the relation's target table to the relation's `ON` condition,
/// keeping any condition it already had. Use it with `join` for joins the helpers above do not
/// cover, e.g. `.join(JoinType::LeftJoin, only_active::<post::Entity>(user::Relation::Post.def()))`.
pub fn only_active<R: SoftDelete>(rel: RelationDef) -> RelationDef {
    let marker = R::marker();
    and_on(rel, move |right| {
        marker
            .live_in(|column| Expr::col((right.clone(), column)))
            .into_condition()
    })
}
