//! [`Scoped`]: a SeaORM query that holds exactly one scope, and [`Unscoped`]: one that must
//! choose it before it can run.

use sea_orm::sea_query::{Condition, IntoCondition, SelectStatement};
use sea_orm::{
    ConnectionTrait, Cursor, DbBackend, DbErr, EntityOrSelect, EntityTrait, FromQueryResult,
    IdentityOf, IntoIdentity, Paginator, PaginatorTrait, PartialModelTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Related, Select, SelectModel, SelectTwo, SelectTwoMany,
    SelectTwoModel, Selector, Statement, TryGetableMany,
};

use super::{ActiveRelatedExt, Scope, SoftDeleteQueryExt};
use crate::entity::SoftDelete;
use crate::marker::TimedMarker;
use crate::time::Timestamp;

/// A SeaORM query on a soft-delete entity that holds exactly one [`Scope`].
///
/// The scope is kept apart from the query's conditions and added, as one condition, when the
/// query runs or is built. So the last scope chosen wins, and changing it keeps every filter,
/// order, join and selection added before, OR groups included:
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
/// #         pub name: String,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use sea_orm::sea_query::Condition;
/// use sea_orm::{ColumnTrait, DbBackend, QueryFilter, QuerySelect};
/// use soft_delete_core::prelude::*;
///
/// let query = user::Entity::find_active()
///     .filter(
///         Condition::any()
///             .add(user::Column::Name.eq("ada"))
///             .add(user::Column::Name.eq("bob")),
///     )
///     .select_only()
///     .column(user::Column::Id);
/// assert_eq!(
///     query.build(DbBackend::Postgres).to_string(),
///     r#"SELECT "users"."id" FROM "users" WHERE ("users"."name" = 'ada' OR "users"."name" = 'bob') AND "users"."deleted_at" IS NULL"#
/// );
///
/// // The scope is replaced, the OR group kept.
/// let query = query.only_deleted();
/// assert_eq!(
///     query.build(DbBackend::Postgres).to_string(),
///     r#"SELECT "users"."id" FROM "users" WHERE ("users"."name" = 'ada' OR "users"."name" = 'bob') AND "users"."deleted_at" IS NOT NULL"#
/// );
///
/// // Every row: no scope condition at all.
/// assert_eq!(
///     query.with_deleted().build(DbBackend::Postgres).to_string(),
///     r#"SELECT "users"."id" FROM "users" WHERE "users"."name" = 'ada' OR "users"."name" = 'bob'"#
/// );
/// ```
///
/// It implements SeaORM's `QueryFilter`, `QuerySelect`, `QueryOrder` and `PaginatorTrait`
/// (`count`, `paginate`) and is a loader query (`EntityOrSelect`); `all`, `one`, `into_model`,
/// `into_partial_model`, `into_tuple`, `cursor_by`, the joins, `find_also_related` and
/// `find_with_related` are its own methods, with SeaORM's signatures. It does not implement
/// `QueryTrait`, whose `as_query` would hand out the statement without its scope: use
/// [`build`](Scoped::build), [`into_query`](Scoped::into_query) or
/// [`into_inner`](Scoped::into_inner).
///
/// Write the filters with `filter` (or `filter_mut`): the scope is added the same way, and
/// sea-query refuses to mix that with `and_where` on the same statement.
#[must_use = "a query does nothing until it is run"]
#[derive(Clone, Debug)]
pub struct Scoped<Q> {
    query: Q,
    scope: Scope,
    /// The condition of [`Scope::Active`]: the entity's live test (and a junction's, for a
    /// relation through one); `None` for an entity without soft delete (every row is live).
    live: Option<Condition>,
    /// The condition of [`Scope::OnlyDeleted`]; `None` likewise.
    deleted: Option<Condition>,
}

impl<Q: SoftDeleteQueryExt> Scoped<Q> {
    /// Wraps a SeaORM query that has no scope condition of its own, with `scope`.
    pub fn new(query: Q, scope: Scope) -> Self {
        let marker = <Q::Entity as SoftDelete>::marker();
        Scoped {
            query,
            scope,
            live: Some(marker.live().into_condition()),
            deleted: Some(marker.deleted().into_condition()),
        }
    }
}

impl<Q> Scoped<Q> {
    /// A query whose scopes are the conditions given: a relation's, whose target may have no
    /// soft delete (`None`: every row) and whose junction's live rows count too.
    pub(crate) fn with_conditions(
        query: Q,
        scope: Scope,
        live: Option<Condition>,
        deleted: Option<Condition>,
    ) -> Self {
        Scoped {
            query,
            scope,
            live,
            deleted,
        }
    }

    /// The scope the query will run with.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Replaces the scope.
    pub fn in_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Sees only the active rows, replacing the scope chosen before.
    pub fn active(self) -> Self {
        self.in_scope(Scope::Active)
    }

    /// Sees only the soft-deleted rows, replacing the scope chosen before.
    pub fn only_deleted(self) -> Self {
        self.in_scope(Scope::OnlyDeleted)
    }

    /// Sees every row, deleted or not, replacing the scope chosen before.
    pub fn with_deleted(self) -> Self {
        self.in_scope(Scope::WithDeleted)
    }

    /// Applies `if_some` when `value` is `Some`, as SeaORM's `QueryTrait::apply_if`.
    pub fn apply_if<T, F>(self, value: Option<T>, if_some: F) -> Self
    where
        F: FnOnce(Self, T) -> Self,
    {
        match value {
            Some(value) => if_some(self, value),
            None => self,
        }
    }

    fn map<P>(self, f: impl FnOnce(Q) -> P) -> Scoped<P> {
        Scoped {
            query: f(self.query),
            scope: self.scope,
            live: self.live,
            deleted: self.deleted,
        }
    }
}

impl<Q: SoftDeleteQueryExt> Scoped<Q> {
    /// Keeps the rows soft-deleted strictly before `cutoff`. Only deleted rows match, so an
    /// active scope becomes [`Scope::OnlyDeleted`] rather than contradict the filter.
    pub fn deleted_before(self, cutoff: Timestamp) -> Self
    where
        Q::Entity: TimedMarker,
    {
        self.deleted_filter(|query| query.deleted_before(cutoff))
    }

    /// Keeps the rows soft-deleted at or after `since`; an active scope becomes
    /// [`Scope::OnlyDeleted`], as for [`deleted_before`](Scoped::deleted_before).
    pub fn deleted_after(self, since: Timestamp) -> Self
    where
        Q::Entity: TimedMarker,
    {
        self.deleted_filter(|query| query.deleted_after(since))
    }

    /// Keeps the rows soft-deleted by `who`; an active scope becomes [`Scope::OnlyDeleted`],
    /// as for [`deleted_before`](Scoped::deleted_before).
    pub fn deleted_by(self, who: impl Into<String>) -> Self {
        let who = who.into();
        self.deleted_filter(|query| query.deleted_by(who))
    }

    fn deleted_filter(self, filter: impl FnOnce(Q) -> Q) -> Self {
        let scope = match self.scope {
            Scope::Active => Scope::OnlyDeleted,
            other => other,
        };
        Scoped {
            query: filter(self.query),
            scope,
            live: self.live,
            deleted: self.deleted,
        }
    }
}

impl<Q: QueryFilter> Scoped<Q> {
    /// The SeaORM query with its one scope condition: what runs.
    pub fn into_inner(self) -> Q {
        let condition = match self.scope {
            Scope::Active => self.live,
            Scope::OnlyDeleted => self.deleted,
            Scope::WithDeleted => None,
        };
        match condition {
            Some(condition) => self.query.filter(condition),
            None => self.query,
        }
    }

    /// The statement, with the scope condition.
    pub fn into_query(self) -> <Q as QueryTrait>::QueryStatement
    where
        Q: QueryTrait,
    {
        self.into_inner().into_query()
    }

    /// Builds the statement for `backend`, with the scope condition.
    pub fn build(&self, backend: DbBackend) -> Statement
    where
        Q: QueryTrait + Clone,
    {
        self.clone().into_inner().build(backend)
    }
}

/// SeaORM's query-building traits for a wrapper, by delegation to the query it holds: filters,
/// orders and selections go into that query; the scope stays apart.
macro_rules! delegate_query_traits {
    ($wrapper:ident) => {
        impl<Q: QueryFilter> QueryFilter for $wrapper<Q> {
            type QueryStatement = Q::QueryStatement;

            fn query(&mut self) -> &mut Self::QueryStatement {
                self.query.query()
            }
        }

        impl<Q: QuerySelect> QuerySelect for $wrapper<Q> {
            type QueryStatement = Q::QueryStatement;

            fn query(&mut self) -> &mut SelectStatement {
                self.query.query()
            }
        }

        impl<Q: QueryOrder> QueryOrder for $wrapper<Q> {
            type QueryStatement = Q::QueryStatement;

            fn query(&mut self) -> &mut SelectStatement {
                self.query.query()
            }
        }
    };
}

delegate_query_traits!(Scoped);

impl<'db, C, Q> PaginatorTrait<'db, C> for Scoped<Q>
where
    C: ConnectionTrait,
    Q: QueryFilter + PaginatorTrait<'db, C>,
{
    type Selector = Q::Selector;

    fn paginate(self, db: &'db C, page_size: u64) -> Paginator<'db, C, Self::Selector> {
        self.into_inner().paginate(db, page_size)
    }
}

impl<E: EntityTrait> EntityOrSelect<E> for Scoped<Select<E>> {
    fn select(self) -> Select<E> {
        self.into_inner()
    }
}

impl<E: EntityTrait> Scoped<Select<E>> {
    /// All rows the query selects, as SeaORM's `Select::all`.
    ///
    /// # Errors
    ///
    /// SeaORM's, when the statement fails.
    pub async fn all<C: ConnectionTrait>(self, db: &C) -> Result<Vec<E::Model>, DbErr> {
        self.into_inner().all(db).await
    }

    /// The first row the query selects, as SeaORM's `Select::one`.
    ///
    /// # Errors
    ///
    /// SeaORM's, when the statement fails.
    pub async fn one<C: ConnectionTrait>(self, db: &C) -> Result<Option<E::Model>, DbErr> {
        self.into_inner().one(db).await
    }

    /// The rows as a stream, as SeaORM's `Select::stream` (with the `stream` feature).
    ///
    /// # Errors
    ///
    /// SeaORM's, when the statement fails.
    #[cfg(feature = "stream")]
    pub async fn stream<'a: 'b, 'b, C>(
        self,
        db: &'a C,
    ) -> Result<impl futures::Stream<Item = Result<E::Model, DbErr>> + 'b + Send, DbErr>
    where
        C: ConnectionTrait + sea_orm::StreamTrait + Send,
    {
        self.into_inner().stream(db).await
    }

    /// Reads the rows into another model, as SeaORM's `Select::into_model`.
    pub fn into_model<M: FromQueryResult>(self) -> Selector<SelectModel<M>> {
        self.into_inner().into_model()
    }

    /// Selects and reads the columns of a partial model, as SeaORM's
    /// `Select::into_partial_model`.
    pub fn into_partial_model<M: PartialModelTrait>(self) -> Selector<SelectModel<M>> {
        self.into_inner().into_partial_model()
    }

    /// Reads the selected columns as tuples, as SeaORM's `Select::into_tuple`.
    pub fn into_tuple<T: TryGetableMany>(self) -> Selector<sea_orm::SelectGetableTuple<T>> {
        self.into_inner().into_tuple()
    }

    /// A cursor over the rows, as SeaORM's `Select::cursor_by`.
    pub fn cursor_by<I: IntoIdentity>(self, order_columns: I) -> Cursor<SelectModel<E::Model>>
    where
        E::Model: Send + Sync,
    {
        self.into_inner().cursor_by(order_columns)
    }

    /// Left-joins `R` through the relation, as SeaORM's `Select::left_join`.
    pub fn left_join<R: EntityTrait>(self, r: R) -> Self
    where
        E: Related<R>,
    {
        self.map(|query| query.left_join(r))
    }

    /// Inner-joins `R` through the relation, as SeaORM's `Select::inner_join`.
    pub fn inner_join<R: EntityTrait>(self, r: R) -> Self
    where
        E: Related<R>,
    {
        self.map(|query| query.inner_join(r))
    }

    /// Inner-joins `R` through its relation to `E`, as SeaORM's `Select::reverse_join`.
    pub fn reverse_join<R: EntityTrait + Related<E>>(self, r: R) -> Self {
        self.map(|query| query.reverse_join(r))
    }

    /// Left-joins `R` keeping only its active rows in the join; see
    /// [`ActiveRelatedExt::left_join_active`].
    pub fn left_join_active<R: SoftDelete>(self, r: R) -> Self
    where
        E: Related<R>,
    {
        self.map(|query| query.left_join_active(r))
    }

    /// Each row with its related `R` row, as SeaORM's `find_also_related`. The scope stays on
    /// `E`; where `R` (or a junction it is reached through) is declared with a default scope,
    /// its soft-deleted rows stay out of the join, as if missing. SeaORM's own, through
    /// `.into_inner()`, joins them all.
    pub fn find_also_related<R: EntityTrait>(self, r: R) -> Scoped<SelectTwo<E, R>>
    where
        E: Related<R>,
    {
        self.map(|query| super::related::left_join_following::<E, R>(query).select_also(r))
    }

    /// Each row with its related `R` rows, as SeaORM's `find_with_related`. The scope stays on
    /// `E`; `R`'s soft-deleted rows stay out where it has a default scope, as for
    /// [`find_also_related`](Self::find_also_related).
    pub fn find_with_related<R: EntityTrait>(self, r: R) -> Scoped<SelectTwoMany<E, R>>
    where
        E: Related<R>,
    {
        self.map(|query| super::related::left_join_following::<E, R>(query).select_with(r))
    }

    /// Each row with its related `R` row, or `None` where it is missing or soft-deleted; see
    /// [`ActiveRelatedExt::find_also_active_related`].
    pub fn find_also_active_related<R: SoftDelete>(self, r: R) -> Scoped<SelectTwo<E, R>>
    where
        E: Related<R>,
    {
        self.map(|query| query.find_also_active_related(r))
    }

    /// Each row with its active related `R` rows; see
    /// [`ActiveRelatedExt::find_with_active_related`].
    pub fn find_with_active_related<R: SoftDelete>(self, r: R) -> Scoped<SelectTwoMany<E, R>>
    where
        E: Related<R>,
    {
        self.map(|query| query.find_with_active_related(r))
    }
}

impl<E: EntityTrait, F: EntityTrait> Scoped<SelectTwo<E, F>> {
    /// All row pairs, as SeaORM's `SelectTwo::all`.
    ///
    /// # Errors
    ///
    /// SeaORM's, when the statement fails.
    pub async fn all<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> Result<Vec<(E::Model, Option<F::Model>)>, DbErr> {
        self.into_inner().all(db).await
    }

    /// The first row pair, as SeaORM's `SelectTwo::one`.
    ///
    /// # Errors
    ///
    /// SeaORM's, when the statement fails.
    pub async fn one<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> Result<Option<(E::Model, Option<F::Model>)>, DbErr> {
        self.into_inner().one(db).await
    }

    /// Reads the row pairs into other models, as SeaORM's `SelectTwo::into_model`.
    pub fn into_model<M, N>(self) -> Selector<SelectTwoModel<M, N>>
    where
        M: FromQueryResult,
        N: FromQueryResult,
    {
        self.into_inner().into_model()
    }

    /// A cursor over the row pairs by columns of `E`, as SeaORM's `SelectTwo::cursor_by`.
    pub fn cursor_by<I: IdentityOf<E>>(
        self,
        order_columns: I,
    ) -> Cursor<SelectTwoModel<E::Model, F::Model>>
    where
        E::Model: Send + Sync,
        F::Model: Send + Sync,
    {
        self.into_inner().cursor_by(order_columns)
    }
}

impl<E: EntityTrait, F: EntityTrait> Scoped<SelectTwoMany<E, F>> {
    /// Each row with its related rows, as SeaORM's `SelectTwoMany::all`.
    ///
    /// # Errors
    ///
    /// SeaORM's, when the statement fails.
    pub async fn all<C: ConnectionTrait>(
        self,
        db: &C,
    ) -> Result<Vec<(E::Model, Vec<F::Model>)>, DbErr> {
        self.into_inner().all(db).await
    }
}

/// A query on an entity declared with `#[soft_delete(default_scope = "strict")]` that has not
/// said which rows it wants, so it cannot run.
///
/// Filters, orders and selections can be added as on a SeaORM `Select`; choosing a scope with
/// [`active`](Unscoped::active), [`only_deleted`](Unscoped::only_deleted) or
/// [`with_deleted`](Unscoped::with_deleted) turns it into a [`Scoped`] query that runs. It has
/// no `all`, `one`, `count` or `build`: forgetting the choice is a compile error, not a leak of
/// deleted rows.
///
/// ```compile_fail
/// # mod user {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete(default_scope = "strict")]
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
/// # async fn run(db: &sea_orm::DatabaseConnection) -> Result<(), sea_orm::DbErr> {
/// let users = user::Entity::find().all(db).await?; // error: no method `all` on `Unscoped`
/// # Ok(()) }
/// ```
#[must_use = "a query does nothing until it chooses a scope and runs"]
#[derive(Clone, Debug)]
pub struct Unscoped<Q> {
    query: Q,
}

impl<Q: SoftDeleteQueryExt> Unscoped<Q> {
    /// Wraps a SeaORM query that has no scope condition of its own.
    pub fn new(query: Q) -> Self {
        Unscoped { query }
    }

    /// Chooses the active rows.
    pub fn active(self) -> Scoped<Q> {
        Scoped::new(self.query, Scope::Active)
    }

    /// Chooses only the soft-deleted rows.
    pub fn only_deleted(self) -> Scoped<Q> {
        Scoped::new(self.query, Scope::OnlyDeleted)
    }

    /// Chooses every row, deleted or not.
    pub fn with_deleted(self) -> Scoped<Q> {
        Scoped::new(self.query, Scope::WithDeleted)
    }

    /// Chooses `scope`.
    pub fn in_scope(self, scope: Scope) -> Scoped<Q> {
        Scoped::new(self.query, scope)
    }
}

delegate_query_traits!(Unscoped);
