//! Soft delete and fast, batched bulk operations for [SeaORM](https://www.sea-ql.org/SeaORM/) 2.0
//! entities.
//!
//! SeaORM has no soft delete of its own. This crate adds it with one attribute on an entity's
//! `Model`, and keeps it out of the way of everything SeaORM already does.
//!
//! # The entity
//!
//! Write `#[soft_delete]` **above** `#[derive(DeriveEntityModel)]`:
//!
//! ```
//! mod user {
//!     use sea_orm::entity::prelude::*;
//!     use soft_delete_core::soft_delete;
//!
//!     #[soft_delete]
//!     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "users")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         pub name: String,
//!         pub email: String,
//!     }
//!
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!
//!     impl ActiveModelBehavior for ActiveModel {}
//! }
//!
//! // The attribute added three nullable columns ...
//! let model = user::Model {
//!     id: 1,
//!     name: "Ada".into(),
//!     email: "ada@example.com".into(),
//!     deleted_at: None,
//!     deleted_by: None,
//!     deletion_reason: None,
//! };
//! // ... and implemented `SoftDelete` for `user::Entity`.
//! use soft_delete_core::prelude::*;
//! use soft_delete_core::Marker;
//! assert!(!model.is_deleted());
//! assert!(matches!(user::Entity::marker(), Marker::Timestamp(user::Column::DeletedAt)));
//! ```
//!
//! * Columns the model already declares are kept, not duplicated. Other names fit existing
//!   schemas: `#[soft_delete(deleted_at = "removed_at", deletion_reason = "reason")]`.
//! * Tables that mark deletions otherwise take a [`Marker`] option: a boolean
//!   (`flag = "is_deleted"`, alone or with `deleted_at` kept in step), a reversed flag
//!   (`active = "is_active"`) or an integer epoch (`epoch = "deleted_epoch"`, 0 while live); see
//!   [`marker`].
//! * `#[soft_delete(audit)]` adds `created_at`, `created_by`, `updated_at` and `updated_by`
//!   (`audit = "created"` only the first two) and implements [`Audit`].
//! * `#[soft_delete(operation_id)]` adds `deletion_op`, where every soft delete and restore
//!   writes the [`OperationId`] of its operation (a bulk operation's [`BulkReport::id`], a
//!   one-record one's [`One::operation_id`](bulk::One::operation_id)); [`SoftDeleteManager::restore_operation`]
//!   restores exactly the rows one operation deleted, and a batch whose `COMMIT` was lost is
//!   checked by it.
//! * `#[soft_delete(operation_id, cascade(super::post::Entity))]` makes the related entities'
//!   rows follow this one's: soft delete cascades to active children (recursively, in the same
//!   transaction, with the same operation id), restore brings back exactly the children that
//!   the parent's own operation deleted, and a purge removes the rows under the parents it
//!   removes (see [`cascade`]).
//! * With [`SoftDeleteConfig::operation_log`] set, every bulk operation records itself in the
//!   [`operation_log`], in the same transactions as its rows; [`SoftDeleteManager::undo`]
//!   reverses a logged soft delete or restore.
//! * `#[soft_delete(hooks)]` lets the entity implement [`SoftDeleteHooks`]: per-record
//!   `before_*`/`after_*` hooks (a `before_*` error vetoes) and `after_batch`, called in every
//!   batch's transaction with the keys it changed (see [`hooks`]). [`SoftDeleteConfig::events`]
//!   announces each committed batch or record, and every operation reports through the
//!   `metrics` facade and `tracing` spans (see [`events`]).
//! * [`prune`] removes soft-deleted rows past their retention, entity by entity (a [`prune::Policy`]
//!   each, run by a [`prune::Pruner`], children first), optionally copying them into an
//!   [`archive`] table in the same transaction.
//! * `#[soft_delete(default_scope)]` makes `Entity::find()` and `Entity::find_by_id(..)` hide
//!   deleted rows unless the query says `.with_deleted()` or `.only_deleted()`;
//!   `default_scope = "strict"` makes a query that chooses none a compile error (see [`scope`]).
//! * `#[derive(SoftDelete)]` serves models that declare the columns themselves; its options go in
//!   `#[soft_delete_columns(...)]`.
//! * Written below the derive, the attribute fails to compile with a message that says to move
//!   it. Using the soft-delete API with an entity that lacks it fails to compile too.
//!
//! # Reading
//!
//! ```no_run
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
//! use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
//! use soft_delete_core::prelude::*;
//!
//! # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
//! let live = user::Entity::find_active().all(db).await?;
//! let gone = user::Entity::find_deleted().all(db).await?;
//! let everyone = user::Entity::find_with_deleted().all(db).await?;
//! let by_admin = user::Entity::find_deleted()
//!     .deleted_by("admin")
//!     .filter(user::Column::Name.contains("spam"))
//!     .all(db)
//!     .await?;
//! // One scope per query, and the last one wins: this sees every row named like "a%".
//! let named_a = user::Entity::find_active()
//!     .filter(user::Column::Name.starts_with("a"))
//!     .with_deleted()
//!     .all(db)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Those queries are [`Scoped`]: SeaORM's `Select` with one scope kept apart, added when the
//! query runs. `#[soft_delete(default_scope)]` makes `Entity::find()` one too, hiding deleted
//! rows unless the query asks for them. On SeaORM's own queries, [`SoftDeleteQueryExt`] adds
//! the scope conditions; related rows are joined without leaking deleted ones through
//! [`ActiveRelatedExt`]. See [`scope`] for the SQL each backend receives and for what the
//! default scope covers.
//!
//! # Writing one record
//!
//! ```no_run
//! # mod user {
//! #     use sea_orm::entity::prelude::*;
//! #     #[soft_delete_core::soft_delete]
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//! #     #[sea_orm(table_name = "users")]
//! #     pub struct Model {
//! #         #[sea_orm(primary_key)]
//! #         pub id: i64,
//! #     }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! # }
//! use soft_delete_core::prelude::*;
//!
//! # async fn run(db: &sea_orm::DatabaseConnection) -> soft_delete_core::Result<()> {
//! let changed = user::Entity::soft_delete_by_id(db, 7).deleted_by("admin").reason("spam").await?;
//! assert_eq!(changed, 1);
//! // Idempotent: the row is already deleted, so nothing changes.
//! assert_eq!(user::Entity::soft_delete_by_id(db, 7).await?, 0);
//! user::Entity::restore_by_id(db, 7).restored_by("support").reason("appeal").await?;
//! user::Entity::force_delete_by_id(db, 7).reason("erasure request").await?;
//! # Ok(()) }
//! ```
//!
//! Each is a batch of one key through the same engine as a bulk operation (see
//! [`SoftDeleteEntityExt`]): cascade, hooks, retries and the batch's time limit included. With
//! the default configuration it keeps no log and sends no event;
//! [`SoftDeleteManager::soft_delete_by_id`] and the service's `soft_delete` (and their restore
//! and force delete) run with theirs, or give one with
//! [`with_config`](bulk::One::with_config).
//!
//! # Backends
//!
//! SQLite, PostgreSQL and MySQL/MariaDB, through SeaORM's sqlx drivers. Enable the same features
//! as on `sea-orm`: `sqlx-sqlite`, `sqlx-postgres`, `sqlx-mysql` and a runtime such as
//! `runtime-tokio-rustls`. Your crate must depend on `sea-orm` under the name `sea_orm`, as
//! SeaORM's own derives require. Entities in a schema (`#[sea_orm(schema_name = "tenant")]`: a
//! PostgreSQL schema, a MySQL/MariaDB database, an attached SQLite database) are named with it
//! in every statement the crate sends.
//!
//! # Architecture
//!
//! The crate is built in floors; every module imports only from the floors below its own, so
//! there is no import circle, and a change has one road whatever calls it:
//!
//! | floor | modules | what lives there |
//! |---|---|---|
//! | face | [`manager`], [`service`], [`ext`], [`delete`] (SeaORM's deletes, soft), [`scope`], [`prune`], `cli` (the operator's command, feature `cli`), [`migration`], [`outside`] (views, row security and a guard for other clients), [`archive`], [`operation_log`] | what users call; thin, no SQL of their own beyond reading |
//! | drivers | [`bulk`] (engine, ids, keyset walk, one record, inserts, sessions), [`throttle`] | the sources that feed the step, and the engine that runs batches: transactions, retries, timeouts, lost `COMMIT`s, pacing |
//! | step | `step` (own statements, [`cascade`] statements, [`hooks`] calls, the log row, [`events`] announced) | one batch of one operation, in one transaction |
//! | model | [`entity`], [`marker`], [`registry`] (the entities with a default scope, for relations), [`config`], [`cascade`] and [`hooks`] descriptions, [`events`] types, `change`, `columns` | what an entity and a change are |
//! | ground | `sql` (the one table reference with its schema, quoting, keys, placeholders), `time`, `storage` (how a column holds a flag, an epoch or a timestamp, from its declaration), [`error`], [`operation`] (ids, kinds, statuses) | SQL text, time and the vocabulary of operations, knowing nothing of soft delete |
//!
//! A one-record operation (`soft_delete_by_id`, an active model's `soft_delete`, the manager's
//! and the service's) is a batch of one key through the same engine and step as a bulk
//! operation: the same cascade, hooks, log, events and configuration. The derive crate stands
//! apart: it generates code and knows no database.

#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    clippy::unwrap_used
)]

// The macros refer to this crate by name; the crate's own unit tests use them too.
#[cfg(test)]
extern crate self as soft_delete_core;
#[cfg(test)]
mod test_entities;

pub mod archive;
pub mod bulk;
pub mod cascade;
mod change;
#[cfg(feature = "cli")]
pub mod cli;
mod columns;
pub mod config;
pub mod delete;
pub mod entity;
pub mod error;
pub mod events;
pub mod ext;
pub mod hooks;
pub mod manager;
pub mod marker;
pub mod migration;
pub mod operation;
pub mod operation_log;
pub mod outside;
pub mod prune;
pub mod registry;
pub mod report;
pub mod scope;
pub mod service;
mod sql;
mod step;
mod storage;
pub mod throttle;
mod time;

pub use bulk::{BatchOptions, BatchSize, BulkConnection, PrimaryKeyValue, StopSignal};
pub use config::SoftDeleteConfig;
pub use entity::{Audit, DefaultScope, SoftDelete, SoftDeleteModelExt};
pub use error::{Error, Result, RowState};
pub use ext::{SoftDeleteActiveModelExt, SoftDeleteEntityExt};
pub use hooks::{Batch, BulkHooks, HookContext, HookResult, SoftDeleteHooks};
pub use manager::{DeletionStats, SoftDeleteManager};
pub use marker::{EpochUnit, Marker, TimedMarker};
pub use operation::{OperationId, OperationKind, OperationStatus};
pub use operation_log::OperationRecord;
pub use report::{AlertSink, BulkAlert, BulkReport, Progress, TracingAlertSink};
pub use scope::{ActiveRelatedExt, Scope, Scoped, SoftDeleteQueryExt, only_active};
pub use service::{BaseService, ServiceStatistics, SoftDeleteService};
pub use time::Timestamp;

/// The entity attribute: injects the soft-delete columns and implements [`SoftDelete`].
///
/// See the [crate documentation](crate#the-entity).
pub use soft_delete_derive::soft_delete;

/// Implements [`SoftDelete`] for a model that declares the soft-delete columns itself.
///
/// ```
/// mod user {
///     use sea_orm::entity::prelude::*;
///     use soft_delete_core::SoftDelete;
///
///     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, SoftDelete)]
///     #[sea_orm(table_name = "users")]
///     #[soft_delete_columns(deleted_at = "removed_at", deletion_reason = "reason")]
///     pub struct Model {
///         #[sea_orm(primary_key)]
///         pub id: i32,
///         pub removed_at: Option<DateTimeUtc>,
///         pub deleted_by: Option<String>,
///         pub reason: Option<String>,
///     }
///
///     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
///     pub enum Relation {}
///
///     impl ActiveModelBehavior for ActiveModel {}
/// }
///
/// use soft_delete_core::SoftDelete;
/// assert!(matches!(
///     user::Entity::marker(),
///     soft_delete_core::Marker::Timestamp(user::Column::RemovedAt)
/// ));
/// ```
pub use soft_delete_derive::SoftDelete;

/// Everything a user of this crate usually needs, for `use soft_delete_core::prelude::*;`.
pub mod prelude {
    pub use crate::bulk::BatchOptions;
    pub use crate::config::SoftDeleteConfig;
    pub use crate::entity::{Audit, SoftDelete, SoftDeleteModelExt};
    pub use crate::error::{Error, Result};
    pub use crate::ext::{SoftDeleteActiveModelExt, SoftDeleteEntityExt};
    pub use crate::hooks::{Batch, BulkHooks, HookContext, HookResult, SoftDeleteHooks};
    pub use crate::manager::{DeletionStats, SoftDeleteManager};
    pub use crate::operation::{OperationId, OperationKind, OperationStatus};
    pub use crate::report::BulkReport;
    pub use crate::scope::{ActiveRelatedExt, Scope, Scoped, SoftDeleteQueryExt};
    pub use crate::service::{BaseService, SoftDeleteService};
    pub use crate::time::Timestamp;
}

/// Items the macros' generated code refers to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bulk::BulkConnection;
    pub use crate::cascade::CascadeChild;
    pub use crate::columns::AuditColumns;
    pub use crate::delete::{
        ChooseDelete, SaysWhichDelete, SoftDeletes, delete_active_model, delete_model,
    };
    pub use crate::entity::{Audit, DefaultScope, SoftDelete};
    pub use crate::hooks::{BulkHooks, SoftDeleteHooks};
    pub use crate::marker::{EpochUnit, Marker, TimedMarker};
    pub use crate::registry::Registered;
    pub use crate::scope::{Scope, Scoped, Unscoped, related};
    pub use inventory;
    pub use sea_orm::prelude::DateTimeUtc;
    pub use sea_orm::{ActiveModelTrait, DbErr, DeleteResult, IntoActiveModel};
    pub use sea_orm::{EntityTrait, ModelTrait, PrimaryKeyTrait, Related, Select};
}
