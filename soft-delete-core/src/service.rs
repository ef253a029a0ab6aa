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
//! [`bulk_create`](SoftDeleteService::bulk_create) is the manager's
//! [`bulk_create`](crate::SoftDeleteManager::bulk_create): the same builder, options and batch
//! engine as every other bulk operation (one transaction per batch, retries, partial counts,
//! progress, pauses, time limit, alerts, `.atomic()`). It splits each batch into `INSERT`s that
//! stay under the backend's bind-parameter limit, whatever the batch size, and returns the
//! created models in input order:
//!
//! * PostgreSQL and SQLite: `INSERT … RETURNING`.
//! * MySQL/MariaDB, which have no `INSERT … RETURNING`: rows that carry their keys are read
//!   back by key after the insert; rows that leave an auto-increment key to the database are
//!   inserted by one multi-row `INSERT` (a "simple insert", whose keys InnoDB allocates
//!   consecutively in every `innodb_autoinc_lock_mode`), and read back as `LAST_INSERT_ID()`,
//!   `LAST_INSERT_ID() + @@auto_increment_increment`, … (one key range when the increment is
//!   1); the count read back is checked, and a mismatch fails the batch. Rows that mix both are
//!   inserted one by one.
//!
//! While a batch runs on the server, the rows of the next one are read from the input and the
//! values of its statements taken, so that producing the rows (the caller's work) and preparing
//! them overlap the database's work instead of adding to it. The input is therefore read at
//! most one batch (and one row) ahead of the batches committed: when an operation fails or stops
//! early, up to that many rows have been taken from the input without being inserted (the
//! report's counts say how many were). Memory holds the rows of at most three batches (the one
//! running, the next, and the last committed until it is freed beside the next), whatever the
//! input's size.
//!
//! SeaORM's `ActiveModelBehavior` hooks are not called by the bulk paths; `create` calls them.

use std::fmt;
use std::future::IntoFuture;

use futures::Stream;
use futures::future::BoxFuture;
use sea_orm::sea_query::{Condition, IntoValueTuple, Value, ValueTuple};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, IdenStatic, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

use crate::bulk::{
    BulkConnection, BulkCreate, BulkInsert, ForceDeleteAction, FromIter, One, OneAction,
    PrimaryKeyValue, RestoreAction, SoftDeleteAction,
};
use crate::change::{insert_defaults, model_defaults, stamp_insert};
use crate::config::SoftDeleteConfig;
use crate::entity::{SoftDelete, columns, missing_key};
use crate::error::{Error, Result, RowState};
use crate::ext::SoftDeleteEntityExt;
use crate::manager::SoftDeleteManager;
use crate::sql::{Table, count, count_where, format_key, key_columns, key_condition};
use crate::storage::Stored;
use crate::time::{Timestamp, now};

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
    type Connection: BulkConnection;

    /// The connection.
    fn connection(&self) -> &Self::Connection;

    /// The configuration for bulk work and required fields; the default unless overridden.
    fn config(&self) -> &SoftDeleteConfig {
        static DEFAULT: SoftDeleteConfig = SoftDeleteConfig::DEFAULT;
        &DEFAULT
    }

    /// A [`SoftDeleteManager`] on the same connection and configuration; bulk operations go
    /// through it. Override it to give them another alert sink.
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
        let query = Self::Entity::find_by_id(id.into()).filter(Self::Entity::marker().live());
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
        let query = Self::Entity::find_by_id(id.into()).filter(Self::Entity::marker().deleted());
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
        let active = Condition::all().add(Self::Entity::marker().live());
        Box::pin(async move {
            Ok(count(self.connection(), &count_where::<Self::Entity>(&active)).await?)
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

    /// Soft-deletes one row, with its cascade, through the same step as every operation and
    /// with the service's configuration (operation log, events, required `deleted_by` and
    /// reason). Resolves to `true` when it was deleted now, `false` when it was already
    /// deleted.
    ///
    /// # Errors
    ///
    /// [`Error::MissingRequired`], [`Error::NotFound`] when no row has the key, and the errors of
    /// [`SoftDeleteEntityExt::soft_delete_by_id`].
    fn soft_delete(
        &self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> ServiceOne<'_, Self::Entity, Self::Connection, SoftDeleteAction> {
        ServiceOne::new(
            self.connection(),
            self.config(),
            id.into().into_value_tuple(),
        )
    }

    /// Restores one row, with what its soft delete cascaded to, with the service's
    /// configuration. Resolves to `true` when it was restored now, `false` when it was already
    /// active.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no row has the key, and the errors of
    /// [`SoftDeleteEntityExt::restore_by_id`].
    fn restore(
        &self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> ServiceOne<'_, Self::Entity, Self::Connection, RestoreAction> {
        ServiceOne::new(
            self.connection(),
            self.config(),
            id.into().into_value_tuple(),
        )
    }

    /// Deletes one row for good, whatever its state, after the rows under it in its cascade,
    /// with the service's configuration. Resolves to `true`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when no row has the key, [`Error::Kept`] when rows under it are
    /// still kept, and the errors of [`SoftDeleteEntityExt::force_delete_by_id`].
    fn hard_delete(
        &self,
        id: impl Into<PrimaryKeyValue<Self::Entity>>,
    ) -> ServiceOne<'_, Self::Entity, Self::Connection, ForceDeleteAction> {
        ServiceOne::new(
            self.connection(),
            self.config(),
            id.into().into_value_tuple(),
        )
    }

    /// Inserts many rows in batches and returns the created models in input order, with the
    /// operation's report ([`Created`](crate::report::Created)); see the
    /// [module documentation](self#bulk-inserts-and-returning). An empty input sends nothing.
    ///
    /// # Errors
    ///
    /// [`Error::Bulk`] when a batch fails (earlier batches stay committed unless `.atomic()`);
    /// [`Error::InvalidArgument`] for a batch size of 0.
    fn bulk_create<I>(
        &self,
        rows: I,
    ) -> BulkCreate<'_, Self::Entity, Self::Connection, FromIter<I::IntoIter>>
    where
        I: IntoIterator<Item = ActiveModelOf<Self::Entity>>,
    {
        self.manager().bulk_create(rows)
    }

    /// Inserts rows from a stream and returns only how many, for loads too large to hold: the
    /// rows are consumed one batch at a time, so memory does not grow with their number.
    ///
    /// # Errors
    ///
    /// As for [`bulk_create`](Self::bulk_create).
    fn bulk_insert_stream<S>(&self, rows: S) -> BulkInsert<'_, Self::Entity, Self::Connection, S>
    where
        S: Stream<Item = ActiveModelOf<Self::Entity>>,
    {
        self.manager().bulk_insert_stream(rows)
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
                    Some(count(self.connection(), &count_where::<Self::Entity>(&recent)).await?)
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
    manager: SoftDeleteManager<'c, C>,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E, C> fmt::Debug for BaseService<'_, E, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseService")
            .field("entity", &std::any::type_name::<E>())
            .field("manager", &self.manager)
            .finish()
    }
}

impl<'c, E, C> BaseService<'c, E, C>
where
    E: SoftDelete,
    C: BulkConnection,
{
    /// A service with the default configuration.
    pub fn new(db: &'c C) -> Self {
        Self::with_config(db, SoftDeleteConfig::default())
    }

    /// A service with `config`.
    pub fn with_config(db: &'c C, config: SoftDeleteConfig) -> Self {
        BaseService {
            manager: SoftDeleteManager::with_config(db, config),
            _entity: std::marker::PhantomData,
        }
    }

    /// Sends the alerts of bulk operations to `sink` instead of logging them.
    pub fn with_alert_sink(mut self, sink: std::sync::Arc<dyn crate::report::AlertSink>) -> Self {
        self.manager = self.manager.with_alert_sink(sink);
        self
    }
}

impl<E, C> SoftDeleteService for BaseService<'_, E, C>
where
    E: SoftDelete,
    C: BulkConnection,
{
    type Entity = E;
    type Connection = C;

    fn connection(&self) -> &C {
        self.manager.connection()
    }

    fn config(&self) -> &SoftDeleteConfig {
        self.manager.config()
    }

    fn manager(&self) -> SoftDeleteManager<'_, C> {
        self.manager.clone()
    }
}

fn not_found<E: EntityTrait>(key: &ValueTuple, state: RowState) -> Error {
    Error::NotFound {
        table: Table::of::<E>().to_string(),
        key: format_key(key),
        state,
    }
}

/// Refuses an update that sets a column only the crate's operations write: the marker,
/// `deleted_by`, `deletion_reason`, `deletion_op`, `created_at` and `created_by`. Written by an
/// update, they would bypass what a soft delete or restore does (its hooks, a `before_*` veto,
/// its cascade and log).
fn refuse_managed<E: SoftDelete>(row: &E::ActiveModel) -> Result<()> {
    let columns = columns::<E>();
    let mut managed: Vec<E::Column> = columns.marker.columns().into_iter().copied().collect();
    managed.push(columns.deleted_by);
    managed.push(columns.deletion_reason);
    managed.extend(columns.deletion_op);
    if let Some(audit) = columns.audit {
        managed.push(audit.created_at);
        managed.push(audit.created_by);
    }
    let set: Vec<&str> = managed
        .iter()
        .filter(|column| matches!(row.get(**column), ActiveValue::Set(_)))
        .map(|column| column.as_str())
        .collect();
    if set.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        name: "active model",
        reason: format!(
            "the update of `{}` sets {}, which only soft delete, restore and insert write; \
             nothing was written. Use `soft_delete` or `restore` to change a row's state",
            Table::of::<E>(),
            set.iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
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
    let exists = count(db, &count_where::<E>(&matching)).await? > 0;
    if exists {
        Ok(false)
    } else {
        Err(not_found::<E>(&key, RowState::Any))
    }
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
            let defaults = insert_defaults(&columns::<E>(), now(), self.creator.as_deref());
            stamp_insert(&mut row, &model_defaults::<E::ActiveModel>(defaults))?;
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
            refuse_managed::<E>(&row)?;
            if let Some(audit) = E::audit_columns() {
                if let Some(updated_at) = audit.updated_at {
                    let stamp = updated_at.storage().time(now());
                    crate::storage::set_column(&mut row, updated_at, stamp)?;
                }
                if let (Some(updated_by), Some(by)) = (audit.updated_by, self.updater) {
                    row.try_set(updated_by, Value::from(by))?;
                }
            }
            let mut update = E::update(row).validate()?;
            if !self.include_deleted {
                update = update.filter(E::marker().live());
            }
            match update.exec(self.db).await {
                Ok(model) => Ok(model),
                Err(DbErr::RecordNotUpdated) => Err(not_found::<E>(
                    &key,
                    if self.include_deleted {
                        RowState::Any
                    } else {
                        RowState::Active
                    },
                )),
                Err(other) => Err(other.into()),
            }
        })
    }
}

/// A one-record operation of a service: the entity's [`One`] with the service's configuration,
/// resolved to whether the row changed and refusing a key that names no row; made by
/// [`SoftDeleteService::soft_delete`], [`restore`](SoftDeleteService::restore) and
/// [`hard_delete`](SoftDeleteService::hard_delete). It takes the same options as the [`One`]
/// it wraps. Await it to run it.
#[must_use = "a one-record operation does nothing until it is awaited"]
pub struct ServiceOne<'a, E: EntityTrait, C, A> {
    db: &'a C,
    key: ValueTuple,
    one: One<'a, E, C, A>,
}

impl<E: EntityTrait, C, A: fmt::Debug> fmt::Debug for ServiceOne<'_, E, C, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceOne")
            .field("one", &self.one)
            .finish_non_exhaustive()
    }
}

impl<'a, E: EntityTrait, C, A: Default> ServiceOne<'a, E, C, A> {
    /// The operation on the row `key`, with `config`.
    fn new(db: &'a C, config: &SoftDeleteConfig, key: ValueTuple) -> Self {
        ServiceOne {
            db,
            one: One::new(db, Some(key.clone())).with_config(config),
            key,
        }
    }
}

impl<E: EntityTrait, C, A> ServiceOne<'_, E, C, A> {
    /// The operation's id (see [`One::operation_id`]).
    pub fn operation_id(&self) -> crate::operation::OperationId {
        self.one.operation_id()
    }

    /// Runs without hooks and events, logged as quiet (see [`One::quietly`]).
    pub fn quietly(mut self) -> Self {
        self.one = self.one.quietly();
        self
    }
}

impl<E: EntityTrait, C> ServiceOne<'_, E, C, SoftDeleteAction> {
    /// Records who deleted the row.
    pub fn deleted_by(mut self, who: impl Into<String>) -> Self {
        self.one = self.one.deleted_by(who);
        self
    }

    /// Records why the row was deleted.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.one = self.one.reason(why);
        self
    }

    /// Uses this time as `deleted_at` (see [`One::at`]).
    pub fn at(mut self, when: Timestamp) -> Self {
        self.one = self.one.at(when);
        self
    }
}

impl<E: EntityTrait, C> ServiceOne<'_, E, C, RestoreAction> {
    /// Records who restored the row (see [`One::restored_by`]).
    pub fn restored_by(mut self, who: impl Into<String>) -> Self {
        self.one = self.one.restored_by(who);
        self
    }

    /// Records why the row was restored, in the log and the event.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.one = self.one.reason(why);
        self
    }
}

impl<E: EntityTrait, C> ServiceOne<'_, E, C, ForceDeleteAction> {
    /// Records who deleted the row, in the log and the event.
    pub fn deleted_by(mut self, who: impl Into<String>) -> Self {
        self.one = self.one.deleted_by(who);
        self
    }

    /// Records why the row was deleted, in the log and the event.
    pub fn reason(mut self, why: impl Into<String>) -> Self {
        self.one = self.one.reason(why);
        self
    }
}

impl<'a, E, C, A> IntoFuture for ServiceOne<'a, E, C, A>
where
    E: SoftDelete,
    C: BulkConnection,
    A: OneAction + 'a,
{
    type Output = Result<bool>;
    type IntoFuture = BoxFuture<'a, Result<bool>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let changed = self.one.await?;
            changed_or_missing::<E, _>(self.db, changed, self.key).await
        })
    }
}
