//! [`BaseService`]: a ready-made service over any soft-delete entity, and the
//! [`SoftDeleteService`] trait to write your own with extra methods beside the provided ones.
//!
//! # One line
//!
//! ```no_run
//! # mod user {
//! #     use sea_orm::entity::prelude::*;
//! #     #[soft_delete_core::soft_delete(audit)]
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//! #     #[sea_orm(table_name = "users")]
//! #     pub struct Model {
//! #         #[sea_orm(primary_key)]
//! #         pub id: i64,
//! #         pub email: String,
//! #     }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! # }
//! use sea_orm::Set;
//! use soft_delete_core::service::{BaseService, SoftDeleteService};
//!
//! # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
//! let users = BaseService::<user::Entity, _>::new(db);
//!
//! let rows = (0..10_000).map(|i| user::ActiveModel {
//!     email: Set(format!("user{i}@example.com")),
//!     ..Default::default()
//! });
//! let created = users.bulk_create(rows).created_by("importer").batch_size(2000).await?;
//! let first = users.get(created[0].id).await?;
//! users.soft_delete(created[0].id).deleted_by("admin").reason("spam").await?;
//! let stats = users.get_statistics().await?;
//! # Ok(()) }
//! ```
//!
//! # Your own service
//!
//! Implement [`SoftDeleteService`] (three lines) and add methods; every provided method comes
//! with it, like `class UserService(BaseService): model = User` elsewhere:
//!
//! ```no_run
//! # mod user {
//! #     use sea_orm::entity::prelude::*;
//! #     #[soft_delete_core::soft_delete(audit)]
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//! #     #[sea_orm(table_name = "users")]
//! #     pub struct Model {
//! #         #[sea_orm(primary_key)]
//! #         pub id: i64,
//! #         pub email: String,
//! #     }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! # }
//! use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
//! use soft_delete_core::prelude::*;
//! use soft_delete_core::service::SoftDeleteService;
//!
//! struct UserService {
//!     db: DatabaseConnection,
//! }
//!
//! impl SoftDeleteService for UserService {
//!     type Entity = user::Entity;
//!     type Connection = DatabaseConnection;
//!     fn connection(&self) -> &DatabaseConnection {
//!         &self.db
//!     }
//! }
//!
//! impl UserService {
//!     /// An extra method, beside the provided ones.
//!     async fn find_by_email(&self, email: &str) -> soft_delete_core::Result<Option<user::Model>> {
//!         Ok(user::Entity::find_active()
//!             .filter(user::Column::Email.eq(email))
//!             .one(&self.db)
//!             .await?)
//!     }
//! }
//!
//! # async fn run(service: UserService) -> soft_delete_core::Result<()> {
//! let ada = service.find_by_email("ada@example.com").await?;
//! let active = service.count().await?; // provided
//! # Ok(()) }
//! ```
//!
//! # Audit columns
//!
//! For entities declared with `#[soft_delete(audit)]`, every insert path here sets `created_at`
//! (and `created_by` when given) unless the row already sets them, and every update path sets
//! `updated_at` (and `updated_by` when given). `.created_by(..)` only compiles for such
//! entities.
//!
//! # Bulk inserts and `RETURNING`
//!
//! [`bulk_create`](SoftDeleteService::bulk_create) goes through the same batch engine as the
//! manager (one transaction per batch, retries, partial counts, `.atomic()`), and splits each
//! batch into `INSERT`s that stay under the backend's bind-parameter limit, whatever the batch
//! size. It returns the created models in input order:
//!
//! * PostgreSQL and SQLite: `INSERT … RETURNING`.
//! * MySQL/MariaDB, which have no `INSERT … RETURNING`: rows that carry their keys are read
//!   back by key after the insert; rows that leave an auto-increment key to the database are
//!   inserted by one multi-row `INSERT` (a "simple insert", whose keys InnoDB allocates
//!   consecutively in every `innodb_autoinc_lock_mode`), and read back as `LAST_INSERT_ID()`,
//!   `LAST_INSERT_ID() + @@auto_increment_increment`, …; the count read back is checked, and a
//!   mismatch fails the batch. Rows that mix both are inserted one by one.
//!
//! SeaORM's `ActiveModelBehavior` hooks are not called by the bulk paths; `create` calls them.

use std::collections::HashMap;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use futures::{Stream, StreamExt};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, IntoValueTuple, Value, ValueTuple};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr,
    EntityTrait, FromQueryResult, IntoActiveModel, Iterable, ModelTrait, PrimaryKeyTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
};

use crate::batch::{self, BatchSource, Outcome, Plan};
use crate::config::{SoftDeleteConfig, check_required};
use crate::dialect::{RowInsert, bind_limit, count_where, key_columns};
use crate::entity::{
    BoxFuture, ForceDeleteOne, RestoreOne, SoftDelete, SoftDeleteOne, Timestamp, format_key,
    key_condition, missing_key, now,
};
use crate::error::{Error, Result};
use crate::manager::{PrimaryKeyValue, SoftDeleteManager};
use crate::report::{BulkReport, TracingAlertSink};

/// The model type of an entity.
pub type ModelOf<E> = <E as EntityTrait>::Model;
/// The active model type of an entity.
pub type ActiveModelOf<E> = <E as EntityTrait>::ActiveModel;

/// Counts for a service's entity.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceStatistics {
    /// The table counted.
    pub table: String,
    /// All rows.
    pub total_count: u64,
    /// Rows that are not soft-deleted.
    pub active_count: u64,
    /// Soft-deleted rows.
    pub deleted_count: u64,
    /// `deleted_count / total_count`; 0 for an empty table.
    pub deletion_ratio: f64,
    /// Rows created in the last 24 hours, for entities with audit columns.
    pub created_last_24h: Option<u64>,
}

/// CRUD over active rows, bulk creation and statistics for one soft-delete entity.
///
/// Implement the three required items and every other method is provided; see the
/// [module documentation](self).
pub trait SoftDeleteService: Sync {
    /// The entity the service manages.
    type Entity: SoftDelete;
    /// The connection it runs on: a `DatabaseConnection`, or a `DatabaseTransaction`.
    type Connection: ConnectionTrait + TransactionTrait;

    /// The connection.
    fn connection(&self) -> &Self::Connection;

    /// The configuration for bulk work and required fields; the default unless overridden.
    fn config(&self) -> &SoftDeleteConfig {
        &SoftDeleteConfig::DEFAULT
    }

    /// A [`SoftDeleteManager`] on the same connection and configuration.
    fn manager(&self) -> SoftDeleteManager<'_, Self::Connection> {
        SoftDeleteManager::with_config(self.connection(), self.config().clone())
    }

    /// The active row with this key, or `None` (also when it is soft-deleted).
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the query fails.
    fn get<'a>(
        &'a self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> BoxFuture<'a, Result<Option<ModelOf<Self::Entity>>>> {
        let query =
            Self::Entity::find_by_id(id.into()).filter(Self::Entity::deleted_at_column().is_null());
        Box::pin(async move { Ok(query.one(self.connection()).await?) })
    }

    /// The soft-deleted row with this key, or `None` (also when it is active).
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the query fails.
    fn get_deleted<'a>(
        &'a self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> BoxFuture<'a, Result<Option<ModelOf<Self::Entity>>>> {
        let query = Self::Entity::find_by_id(id.into())
            .filter(Self::Entity::deleted_at_column().is_not_null());
        Box::pin(async move { Ok(query.one(self.connection()).await?) })
    }

    /// The row with this key, deleted or not.
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the query fails.
    fn get_with_deleted<'a>(
        &'a self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> BoxFuture<'a, Result<Option<ModelOf<Self::Entity>>>> {
        let query = Self::Entity::find_by_id(id.into());
        Box::pin(async move { Ok(query.one(self.connection()).await?) })
    }

    /// One page of active rows, in primary-key order (stable across calls). Pages count from 0.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for `per_page == 0`; [`Error::Db`] when the query fails.
    fn list(&self, page: u64, per_page: u64) -> BoxFuture<'_, Result<Vec<ModelOf<Self::Entity>>>> {
        Box::pin(async move {
            if per_page == 0 {
                return Err(Error::InvalidArgument {
                    name: "per_page",
                    reason: "must be at least 1, got 0".to_owned(),
                });
            }
            let mut query = Self::Entity::find_active();
            for column in key_columns::<Self::Entity>() {
                query = query.order_by_asc(column);
            }
            Ok(query
                .offset(page.saturating_mul(per_page))
                .limit(per_page)
                .all(self.connection())
                .await?)
        })
    }

    /// The number of active rows.
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the query fails.
    fn count(&self) -> BoxFuture<'_, Result<u64>> {
        let active = Condition::all().add(Self::Entity::deleted_at_column().is_null());
        Box::pin(async move {
            Ok(batch::count(self.connection(), &count_where::<Self::Entity>(&active)).await?)
        })
    }

    /// Inserts one row (calling SeaORM's `ActiveModelBehavior` hooks) and returns it; sets
    /// `created_at` for audited entities.
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when the insert fails.
    fn create(
        &self,
        row: ActiveModelOf<Self::Entity>,
    ) -> Create<'_, Self::Entity, Self::Connection> {
        Create {
            db: self.connection(),
            row,
            creator: None,
        }
    }

    /// Updates one active row from `row` (its key names the row) and returns it; sets
    /// `updated_at` for audited entities. A soft-deleted row is refused with
    /// [`Error::NotFound`] unless `.include_deleted()` is set.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no (active) row has the key; [`Error::Db`] when the update fails.
    fn update(
        &self,
        row: ActiveModelOf<Self::Entity>,
    ) -> Update<'_, Self::Entity, Self::Connection> {
        Update {
            db: self.connection(),
            row,
            updater: None,
            include_deleted: false,
        }
    }

    /// Soft-deletes one row. Resolves to `true` when it was deleted now, `false` when it was
    /// already deleted. Honors `require_deleted_by` and `require_deletion_reason`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingRequired`], [`Error::NotFound`] when no row has the key, [`Error::Db`].
    fn soft_delete(
        &self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> ServiceSoftDelete<'_, Self::Entity, Self::Connection> {
        ServiceSoftDelete {
            db: self.connection(),
            config: self.config(),
            key: id.into().into_value_tuple(),
            by: None,
            reason: None,
            _entity: std::marker::PhantomData,
        }
    }

    /// Restores one row. Resolves to `true` when it was restored now, `false` when it was
    /// already active.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no row has the key; [`Error::Db`] when the update fails.
    fn restore<'a>(
        &'a self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> BoxFuture<'a, Result<bool>> {
        let key = id.into().into_value_tuple();
        Box::pin(async move {
            let db = self.connection();
            let changed = RestoreOne::<Self::Entity, _>::new(db, Some(key.clone())).await?;
            changed_or_missing::<Self::Entity, _>(db, changed, key).await
        })
    }

    /// Deletes one row for good, whatever its state.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no row has the key; [`Error::Db`] when the delete fails.
    fn hard_delete<'a>(
        &'a self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> BoxFuture<'a, Result<()>> {
        let key = id.into().into_value_tuple();
        Box::pin(async move {
            let db = self.connection();
            let removed = ForceDeleteOne::<Self::Entity, _>::new(db, Some(key.clone())).await?;
            if removed == 0 {
                return Err(not_found::<Self::Entity>(&key, "any"));
            }
            Ok(())
        })
    }

    /// Inserts many rows in batches and returns the created models in input order; see the
    /// [module documentation](self#bulk-inserts-and-returning). An empty input sends nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Bulk`] when a batch fails (earlier batches stay committed unless `.atomic()`);
    /// [`Error::InvalidArgument`] for a batch size of 0.
    fn bulk_create<I>(
        &self,
        rows: I,
    ) -> BulkCreate<'_, Self::Entity, Self::Connection, futures::stream::Iter<I::IntoIter>, Returning>
    where
        I: IntoIterator<Item = ActiveModelOf<Self::Entity>>,
    {
        BulkCreate::new(
            self.connection(),
            self.config(),
            futures::stream::iter(rows),
        )
    }

    /// Inserts rows from a stream and returns only how many, for loads too large to hold: the
    /// rows are consumed one batch at a time, so memory does not grow with their number.
    ///
    /// # Errors
    ///
    /// As for [`bulk_create`](Self::bulk_create).
    fn bulk_insert_stream<S>(
        &self,
        rows: S,
    ) -> BulkCreate<'_, Self::Entity, Self::Connection, S, CountOnly>
    where
        S: Stream<Item = ActiveModelOf<Self::Entity>>,
    {
        BulkCreate::new(self.connection(), self.config(), rows)
    }

    /// Total, active and deleted counts (and rows created in the last 24 hours, for audited
    /// entities).
    ///
    /// # Errors
    ///
    /// [`Error::Db`] when a query fails.
    fn get_statistics(&self) -> BoxFuture<'_, Result<ServiceStatistics>> {
        Box::pin(async move {
            let stats = self.manager().get_deletion_stats::<Self::Entity>().await?;
            let created_last_24h = match Self::Entity::audit_columns() {
                Some(audit) => {
                    let since = now() - chrono::Duration::hours(24);
                    let recent = Condition::all().add(audit.created_at.gte(since));
                    Some(
                        batch::count(self.connection(), &count_where::<Self::Entity>(&recent))
                            .await?,
                    )
                }
                None => None,
            };
            Ok(ServiceStatistics {
                table: stats.table,
                total_count: stats.total,
                active_count: stats.active,
                deleted_count: stats.deleted,
                deletion_ratio: stats.deletion_ratio,
                created_last_24h,
            })
        })
    }
}

/// The ready-made service: `BaseService::<user::Entity, _>::new(&db)`.
pub struct BaseService<'c, E, C> {
    db: &'c C,
    config: SoftDeleteConfig,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E, C> fmt::Debug for BaseService<'_, E, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseService")
            .field("entity", &std::any::type_name::<E>())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<'c, E, C> BaseService<'c, E, C>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    /// A service with the default configuration.
    pub fn new(db: &'c C) -> Self {
        Self::with_config(db, SoftDeleteConfig::default())
    }

    /// A service with `config`.
    pub fn with_config(db: &'c C, config: SoftDeleteConfig) -> Self {
        BaseService {
            db,
            config,
            _entity: std::marker::PhantomData,
        }
    }
}

impl<E, C> SoftDeleteService for BaseService<'_, E, C>
where
    E: SoftDelete,
    C: ConnectionTrait + TransactionTrait,
{
    type Entity = E;
    type Connection = C;

    fn connection(&self) -> &C {
        self.db
    }

    fn config(&self) -> &SoftDeleteConfig {
        &self.config
    }
}

fn not_found<E: EntityTrait>(key: &ValueTuple, state: &'static str) -> Error {
    Error::NotFound {
        table: E::default().table_name().to_owned(),
        key: format_key(key),
        state,
    }
}

/// `Ok(true)` when a row changed; otherwise `Ok(false)` if the row exists, `NotFound` if not.
async fn changed_or_missing<E: SoftDelete, C: ConnectionTrait>(
    db: &C,
    changed: u64,
    key: ValueTuple,
) -> Result<bool> {
    if changed > 0 {
        return Ok(true);
    }
    let matching = Condition::all().add(key_condition::<E>(key.clone()));
    let exists = batch::count(db, &count_where::<E>(&matching)).await? > 0;
    if exists {
        Ok(false)
    } else {
        Err(not_found::<E>(&key, "any"))
    }
}

/// The audit values an insert writes where a row leaves them unset: `created_at`, and
/// `created_by` when someone is named. Empty for entities without audit columns.
fn insert_defaults<E: SoftDelete>(at: Timestamp, by: Option<&str>) -> Vec<(E::Column, Value)> {
    let Some(audit) = E::audit_columns() else {
        return Vec::new();
    };
    let mut defaults = vec![(audit.created_at, Value::from(at))];
    if let Some(by) = by {
        defaults.push((audit.created_by, Value::from(by.to_owned())));
    }
    defaults
}

/// Sets `defaults` (from [`insert_defaults`]) on `row` where it leaves them unset.
fn stamp_insert<E: SoftDelete>(
    row: &mut ActiveModelOf<E>,
    defaults: &[(E::Column, Value)],
) -> std::result::Result<(), DbErr> {
    for (column, value) in defaults {
        if row.is_not_set(*column) {
            row.try_set(*column, value.clone())?;
        }
    }
    Ok(())
}

/// Inserts one row; created by [`SoftDeleteService::create`]. Await it to run it.
#[must_use = "an insert does nothing until it is awaited"]
pub struct Create<'a, E: EntityTrait, C> {
    db: &'a C,
    row: ActiveModelOf<E>,
    creator: Option<String>,
}

impl<E: EntityTrait, C> fmt::Debug for Create<'_, E, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Create")
            .field("row", &self.row)
            .field("creator", &self.creator)
            .finish_non_exhaustive()
    }
}

impl<E: crate::entity::Audit, C> Create<'_, E, C> {
    /// Records who created the row.
    pub fn created_by(mut self, who: impl Into<String>) -> Self {
        self.creator = Some(who.into());
        self
    }
}

impl<'a, E, C> IntoFuture for Create<'a, E, C>
where
    E: SoftDelete,
    E::ActiveModel: ActiveModelBehavior + Send + Sync,
    E::Model: IntoActiveModel<E::ActiveModel>,
    C: ConnectionTrait,
{
    type Output = Result<ModelOf<E>>;
    type IntoFuture = BoxFuture<'a, Result<ModelOf<E>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut row = self.row;
            stamp_insert::<E>(
                &mut row,
                &insert_defaults::<E>(now(), self.creator.as_deref()),
            )?;
            Ok(row.insert(self.db).await?)
        })
    }
}

/// Updates one row; created by [`SoftDeleteService::update`]. Await it to run it.
#[must_use = "an update does nothing until it is awaited"]
pub struct Update<'a, E: EntityTrait, C> {
    db: &'a C,
    row: ActiveModelOf<E>,
    updater: Option<String>,
    include_deleted: bool,
}

impl<E: EntityTrait, C> fmt::Debug for Update<'_, E, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update")
            .field("row", &self.row)
            .field("updater", &self.updater)
            .field("include_deleted", &self.include_deleted)
            .finish_non_exhaustive()
    }
}

impl<E: EntityTrait, C> Update<'_, E, C> {
    /// Allows updating a soft-deleted row.
    pub fn include_deleted(mut self) -> Self {
        self.include_deleted = true;
        self
    }
}

impl<E: crate::entity::Audit, C> Update<'_, E, C> {
    /// Records who updated the row in `updated_by`.
    pub fn updated_by(mut self, who: impl Into<String>) -> Self {
        self.updater = Some(who.into());
        self
    }
}

impl<'a, E, C> IntoFuture for Update<'a, E, C>
where
    E: SoftDelete,
    E::ActiveModel: ActiveModelBehavior + Send + Sync,
    E::Model: IntoActiveModel<E::ActiveModel>,
    C: ConnectionTrait,
{
    type Output = Result<ModelOf<E>>;
    type IntoFuture = BoxFuture<'a, Result<ModelOf<E>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let mut row = self.row;
            let key = row.get_primary_key_value().ok_or_else(missing_key::<E>)?;
            if let Some(audit) = E::audit_columns() {
                if let Some(updated_at) = audit.updated_at {
                    row.try_set(updated_at, Value::from(now()))?;
                }
                if let (Some(updated_by), Some(by)) = (audit.updated_by, self.updater) {
                    row.try_set(updated_by, Value::from(by))?;
                }
            }
            let mut update = E::update(row).validate()?;
            if !self.include_deleted {
                update = update.filter(E::deleted_at_column().is_null());
            }
            match update.exec(self.db).await {
                Ok(model) => Ok(model),
                Err(DbErr::RecordNotUpdated) => Err(not_found::<E>(
                    &key,
                    if self.include_deleted {
                        "any"
                    } else {
                        "active"
                    },
                )),
                Err(other) => Err(other.into()),
            }
        })
    }
}

/// Soft-deletes one row; created by [`SoftDeleteService::soft_delete`]. Await it to run it.
#[must_use = "a soft delete does nothing until it is awaited"]
#[derive(Debug)]
pub struct ServiceSoftDelete<'a, E, C> {
    db: &'a C,
    config: &'a SoftDeleteConfig,
    key: ValueTuple,
    by: Option<String>,
    reason: Option<String>,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E, C> ServiceSoftDelete<'_, E, C> {
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
}

impl<'a, E, C> IntoFuture for ServiceSoftDelete<'a, E, C>
where
    E: SoftDelete,
    C: ConnectionTrait,
{
    type Output = Result<bool>;
    type IntoFuture = BoxFuture<'a, Result<bool>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            check_required(self.config, self.by.as_deref(), self.reason.as_deref())?;
            let mut delete = SoftDeleteOne::<E, C>::new(self.db, Some(self.key.clone()));
            if let Some(by) = self.by {
                delete = delete.deleted_by(by);
            }
            if let Some(reason) = self.reason {
                delete = delete.reason(reason);
            }
            let changed = delete.await?;
            changed_or_missing::<E, _>(self.db, changed, self.key).await
        })
    }
}

/// Marks a [`BulkCreate`] that returns the created models.
#[derive(Clone, Copy, Debug, Default)]
pub struct Returning;

/// Marks a [`BulkCreate`] that returns only a count.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountOnly;

/// A bulk insert being set up; created by [`SoftDeleteService::bulk_create`] or
/// [`SoftDeleteService::bulk_insert_stream`]. Await it to run it.
#[must_use = "a bulk insert does nothing until it is awaited"]
pub struct BulkCreate<'a, E, C, S, Mode> {
    db: &'a C,
    config: &'a SoftDeleteConfig,
    rows: S,
    batch_size: Option<usize>,
    creator: Option<String>,
    atomic: bool,
    _marker: std::marker::PhantomData<fn() -> (E, Mode)>,
}

impl<E, C, S, Mode> fmt::Debug for BulkCreate<'_, E, C, S, Mode> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkCreate")
            .field("batch_size", &self.batch_size)
            .field("creator", &self.creator)
            .field("atomic", &self.atomic)
            .finish_non_exhaustive()
    }
}

impl<'a, E, C, S, Mode> BulkCreate<'a, E, C, S, Mode> {
    fn new(db: &'a C, config: &'a SoftDeleteConfig, rows: S) -> Self {
        BulkCreate {
            db,
            config,
            rows,
            batch_size: None,
            creator: None,
            atomic: false,
            _marker: std::marker::PhantomData,
        }
    }

    /// Rows per batch (and per transaction); the configuration's `bulk_operation_batch_size`
    /// by default. Each batch is further split into `INSERT`s under the bind-parameter limit.
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = Some(rows);
        self
    }

    /// All batches in one transaction: all or nothing.
    pub fn atomic(mut self) -> Self {
        self.atomic = true;
        self
    }
}

impl<E: crate::entity::Audit, C, S, Mode> BulkCreate<'_, E, C, S, Mode> {
    /// Records who created the rows (rows that set `created_by` themselves keep theirs).
    pub fn created_by(mut self, who: impl Into<String>) -> Self {
        self.creator = Some(who.into());
        self
    }
}

impl<'a, E, C, S, Mode> BulkCreate<'a, E, C, S, Mode>
where
    E: SoftDelete,
    E::ActiveModel: Send + Sync,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    C: ConnectionTrait + TransactionTrait,
    S: Stream<Item = ActiveModelOf<E>> + Send + 'a,
{
    async fn run(self, returning: bool) -> Result<(BulkReport, Vec<ModelOf<E>>)> {
        let batch_size = self.config.batch_size_for(self.batch_size)?;
        let backend = self.db.get_database_backend();
        let mut source =
            InsertSource::<E, S>::new(self.rows, batch_size, backend, self.creator, returning);
        let alerts = TracingAlertSink;
        let plan = Plan {
            operation: if returning {
                "bulk_create"
            } else {
                "bulk_insert"
            },
            table: E::default().table_name().to_owned(),
            config: self.config,
            alerts: &alerts,
            atomic: self.atomic,
            pause: std::time::Duration::from_millis(self.config.pause_between_batches_ms),
            max_duration: None,
            progress: None,
        };
        let report = batch::run(self.db, plan, &mut source).await?;
        Ok((report, source.collected))
    }
}

impl<'a, E, C, S> IntoFuture for BulkCreate<'a, E, C, S, Returning>
where
    E: SoftDelete,
    E::ActiveModel: Send + Sync,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    C: ConnectionTrait + TransactionTrait,
    S: Stream<Item = ActiveModelOf<E>> + Send + 'a,
{
    type Output = Result<Vec<ModelOf<E>>>;
    type IntoFuture = BoxFuture<'a, Result<Vec<ModelOf<E>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { Ok(self.run(true).await?.1) })
    }
}

impl<'a, E, C, S> IntoFuture for BulkCreate<'a, E, C, S, CountOnly>
where
    E: SoftDelete,
    E::ActiveModel: Send + Sync,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    C: ConnectionTrait + TransactionTrait,
    S: Stream<Item = ActiveModelOf<E>> + Send + 'a,
{
    type Output = Result<BulkReport>;
    type IntoFuture = BoxFuture<'a, Result<BulkReport>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { Ok(self.run(false).await?.0) })
    }
}

/// Batches of rows to insert.
struct InsertSource<E: EntityTrait, S> {
    rows: Pin<Box<S>>,
    batch_size: usize,
    rows_per_statement: usize,
    backend: DbBackend,
    /// The audit values every row gets where it leaves them unset.
    defaults: Vec<(E::Column, Value)>,
    returning: bool,
    insert: RowInsert,
    collected: Vec<ModelOf<E>>,
    /// `@@auto_increment_increment`, read once, on MySQL/MariaDB.
    increment: Option<i128>,
}

impl<E: SoftDelete, S> InsertSource<E, S> {
    fn new(
        rows: S,
        batch_size: usize,
        backend: DbBackend,
        by: Option<String>,
        returning: bool,
    ) -> Self {
        let columns = <E::Column as Iterable>::iter().count().max(1);
        InsertSource {
            rows: Box::pin(rows),
            batch_size,
            rows_per_statement: (bind_limit(backend) / columns).clamp(1, batch_size),
            backend,
            defaults: insert_defaults::<E>(now(), by.as_deref()),
            returning,
            insert: RowInsert::new::<E>(backend, returning),
            collected: Vec::new(),
            increment: None,
        }
    }

    /// The `INSERT` for one chunk, and whether it returns the rows: hand-built where it can be,
    /// otherwise SeaORM's (which adds the casts some column types need).
    fn statement(
        &mut self,
        chunk: &[ActiveModelOf<E>],
    ) -> std::result::Result<(sea_orm::Statement, bool), DbErr> {
        if let Some(statement) = self.insert.statement::<E>(chunk, &self.defaults) {
            return Ok((statement, self.insert.returns_rows()));
        }
        let mut rows = chunk.to_vec();
        for row in &mut rows {
            stamp_insert::<E>(row, &self.defaults)?;
        }
        let mut query = E::insert_many(rows).into_query();
        let returns = self.returning && self.backend != DbBackend::MySql;
        if returns {
            query.returning(
                sea_orm::sea_query::Query::returning().exprs(
                    <E::Column as Iterable>::iter()
                        .map(|c| c.select_as(c.into_returning_expr(self.backend))),
                ),
            );
        }
        Ok((self.backend.build(&query), returns))
    }
}

impl<E, S> BatchSource for InsertSource<E, S>
where
    E: SoftDelete,
    E::ActiveModel: Send + Sync,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    S: Stream<Item = ActiveModelOf<E>> + Send,
{
    type Unit = Vec<ActiveModelOf<E>>;
    type Next = (Vec<ModelOf<E>>, Option<i128>);

    fn total(&self) -> Option<u64> {
        match self.rows.size_hint() {
            (lower, Some(upper)) if lower == upper => Some(lower as u64),
            _ => None,
        }
    }

    async fn next_unit(&mut self) -> Option<Vec<ActiveModelOf<E>>> {
        let mut unit = Vec::with_capacity(self.batch_size.min(65_536));
        while unit.len() < self.batch_size {
            match self.rows.next().await {
                Some(row) => unit.push(row),
                None => break,
            }
        }
        (!unit.is_empty()).then_some(unit)
    }

    async fn execute<T: ConnectionTrait>(
        &mut self,
        conn: &T,
        unit: &Vec<ActiveModelOf<E>>,
    ) -> std::result::Result<Outcome<Self::Next>, DbErr> {
        let mut models = Vec::new();
        let mut increment = self.increment;
        for chunk in unit.chunks(self.rows_per_statement) {
            let keys: Vec<Option<ValueTuple>> = if self.returning {
                chunk
                    .iter()
                    .map(|row| row.get_primary_key_value())
                    .collect()
            } else {
                Vec::new()
            };
            let mixed_keys = keys.iter().any(Option::is_some) && keys.iter().any(Option::is_none);
            if self.returning && self.backend == DbBackend::MySql && mixed_keys {
                // No single multi-row INSERT can be read back: one at a time.
                for row in chunk {
                    let mut row = row.clone();
                    stamp_insert::<E>(&mut row, &self.defaults)?;
                    models.push(E::insert(row).exec_with_returning(conn).await?);
                }
                continue;
            }
            let (statement, returns_rows) = self.statement(chunk)?;
            if !self.returning {
                conn.execute_raw(statement).await?;
            } else if returns_rows {
                let returned = conn
                    .query_all_raw(statement)
                    .await?
                    .iter()
                    .map(|row| <ModelOf<E> as FromQueryResult>::from_query_result(row, ""))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                models.extend(in_input_order::<E>(&keys, returned)?);
            } else {
                let done = conn.execute_raw(statement).await?;
                models.extend(
                    read_back::<E, T>(conn, &keys, done.last_insert_id(), &mut increment).await?,
                );
            }
        }
        Ok(Outcome {
            affected: unit.len() as u64,
            processed: unit.len() as u64,
            next: (models, increment),
        })
    }

    fn advance(&mut self, (models, increment): Self::Next) {
        self.collected.extend(models);
        self.increment = increment;
    }

    fn is_done(&self) -> bool {
        false
    }

    fn remaining<'a, T: ConnectionTrait>(
        &'a self,
        _conn: &'a T,
        _processed: u64,
    ) -> impl Future<Output = std::result::Result<Option<u64>, DbErr>> + Send + 'a {
        std::future::ready(Ok(None))
    }
}

/// The models `INSERT … RETURNING` gave, put in the order of the rows inserted: rows that named
/// their key get the model with that key; the rest get the remaining models in ascending key
/// order, which is the order the database allocated their keys in.
fn in_input_order<E: EntityTrait>(
    keys: &[Option<ValueTuple>],
    returned: Vec<ModelOf<E>>,
) -> std::result::Result<Vec<ModelOf<E>>, DbErr> {
    if returned.len() != keys.len() {
        return Err(DbErr::Custom(format!(
            "INSERT … RETURNING gave {} rows for {} inserted",
            returned.len(),
            keys.len()
        )));
    }
    if keys.iter().all(Option::is_none) {
        let mut models = returned;
        models.sort_by_key(|m| integer_key(&m.get_primary_key_value()));
        return Ok(models);
    }
    let mut slots: Vec<Option<ModelOf<E>>> = (0..keys.len()).map(|_| None).collect();
    let positions: HashMap<String, usize> = keys
        .iter()
        .enumerate()
        .filter_map(|(i, key)| key.as_ref().map(|k| (format!("{k:?}"), i)))
        .collect();
    let mut generated = Vec::new();
    for model in returned {
        match positions.get(&format!("{:?}", model.get_primary_key_value())) {
            Some(&i) if slots[i].is_none() => slots[i] = Some(model),
            _ => generated.push(model),
        }
    }
    generated.sort_by_key(|m| integer_key(&m.get_primary_key_value()));
    let mut generated = generated.into_iter();
    for (slot, key) in slots.iter_mut().zip(keys) {
        if key.is_none() {
            *slot = generated.next();
        }
    }
    slots
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| DbErr::Custom("INSERT … RETURNING gave rows that match no input".to_owned()))
}

/// A single integer key, for ordering generated keys; `None` sorts first.
fn integer_key(key: &ValueTuple) -> Option<i128> {
    match key {
        ValueTuple::One(value) => value_as_i128(value),
        _ => None,
    }
}

fn value_as_i128(value: &Value) -> Option<i128> {
    Some(match value {
        Value::TinyInt(Some(v)) => i128::from(*v),
        Value::SmallInt(Some(v)) => i128::from(*v),
        Value::Int(Some(v)) => i128::from(*v),
        Value::BigInt(Some(v)) => i128::from(*v),
        Value::TinyUnsigned(Some(v)) => i128::from(*v),
        Value::SmallUnsigned(Some(v)) => i128::from(*v),
        Value::Unsigned(Some(v)) => i128::from(*v),
        Value::BigUnsigned(Some(v)) => i128::from(*v),
        _ => return None,
    })
}

/// MySQL/MariaDB, after a multi-row `INSERT` without `RETURNING`: read the rows back (see the
/// module docs), by their given keys or from the first generated key on.
async fn read_back<E, C>(
    conn: &C,
    keys: &[Option<ValueTuple>],
    first_generated: u64,
    increment: &mut Option<i128>,
) -> std::result::Result<Vec<ModelOf<E>>, DbErr>
where
    E: SoftDelete,
    C: ConnectionTrait,
{
    let count = keys.len();
    if keys.iter().all(Option::is_some) {
        let matching = keys.iter().flatten().fold(Condition::any(), |any, key| {
            any.add(key_condition::<E>(key.clone()))
        });
        let found = E::find().filter(matching).all(conn).await?;
        return in_input_order::<E>(keys, found);
    }
    let single_auto_key = <E::PrimaryKey as PrimaryKeyTrait>::auto_increment()
        && <E::PrimaryKey as Iterable>::iter().count() == 1;
    if !single_auto_key {
        return Err(DbErr::Custom(format!(
            "cannot read back rows inserted into `{}` without their keys: the key is not a \
             single auto-increment column",
            E::default().table_name()
        )));
    }
    let step = match *increment {
        Some(step) => step,
        None => {
            let row = conn
                .query_one_raw(sea_orm::Statement::from_string(
                    DbBackend::MySql,
                    "SELECT @@auto_increment_increment",
                ))
                .await?
                .ok_or_else(|| DbErr::Custom("no @@auto_increment_increment".to_owned()))?;
            // BIGINT UNSIGNED on MariaDB and MySQL.
            let step = i128::from(row.try_get_by_index::<u64>(0)?);
            *increment = Some(step);
            step
        }
    };
    let first = i128::from(first_generated);
    let ids: Vec<i64> = (0..count as i128)
        .map(|i| i64::try_from(first + i * step))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| DbErr::Custom("generated keys out of range".to_owned()))?;
    let key = key_columns::<E>()[0];
    let mut found = E::find()
        .filter(Expr::col(key).is_in(ids))
        .all(conn)
        .await?;
    if found.len() != count {
        return Err(DbErr::Custom(format!(
            "read back {} of {count} inserted rows by their generated keys; the keys were not \
             allocated as one run",
            found.len()
        )));
    }
    found.sort_by_key(|m| integer_key(&m.get_primary_key_value()));
    Ok(found)
}
