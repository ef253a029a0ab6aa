//! Lifecycle hooks: code of yours that runs inside the transaction of every soft delete,
//! restore and purge, for one record and in bulk.
//!
//! SeaORM's `ActiveModelBehavior::before_delete` runs for `ActiveModel::delete` only, never for
//! `delete_many`; bulk operations of most ORMs skip model events altogether. Here an entity
//! declared with `#[soft_delete(hooks)]` implements [`SoftDeleteHooks`], whose methods all
//! default to doing nothing:
//!
//! - **Per record**: `before_soft_delete` / `after_soft_delete`, `before_restore` /
//!   `after_restore`, `before_force_delete` / `after_force_delete`, each given the connection
//!   of the operation's transaction, the model and a [`HookContext`]. They run for the
//!   one-record operations (`soft_delete_by_id`, `restore_by_id`, `force_delete_by_id`, the
//!   model extensions, and the manager's and the service's one-record calls: each a batch of
//!   one key through the same step as a bulk operation), in the row's transaction. A `before_*`
//!   hook that returns an error
//!   *vetoes* the operation: the caller gets [`Error::Vetoed`](crate::Error::Vetoed) and the row
//!   is unchanged. An `after_*` hook's error rolls the change back and reaches the caller as
//!   [`Error::Hook`](crate::Error::Hook).
//! - **Per batch**: [`after_batch`](SoftDeleteHooks::after_batch) runs once per batch of every
//!   bulk soft delete, restore and purge (by keys or by condition), inside the batch's
//!   transaction, after its statements, with the keys the batch changed (and the rows, when
//!   [`BULK`](SoftDeleteHooks::BULK) asks for them). What the hook writes commits or rolls back
//!   with the batch; a hook error fails its batch like a statement error, so the operation's
//!   [`Error::Bulk`](crate::Error::Bulk) says exactly how many rows the batches before it
//!   committed.
//! - **Per record in bulk**, only when asked for with [`BulkHooks::Records`]: bulk operations
//!   then also call the per-record hooks for every row (a veto fails the batch).
//!
//! # What it costs
//!
//! Nothing for entities without hooks: the macro marks them ([`SoftDeleteHooks::HOOKS`] is
//! `false`) and no statement is added. With hooks:
//!
//! - one-record operations read the row (`SELECT … FOR UPDATE`, which locks it on PostgreSQL and
//!   MySQL/MariaDB) before the change and again after it, to hand the models to the hooks; a row
//!   not in the state the change applies to when read is left alone;
//! - a batch named by key ([`BulkHooks::Keys`]) runs its statements after a `SAVEPOINT`: when
//!   they change as many rows as the batch names, those are its keys and nothing is read. When
//!   they change fewer (rows already in the target state, a key named twice), the batch goes
//!   back to the savepoint and runs again after reading and locking its rows;
//! - walks by condition, purges, and [`BulkHooks::Rows`] learn keys or rows from the
//!   statement's own `RETURNING` on PostgreSQL and SQLite, and from a `SELECT … FOR UPDATE`
//!   before it on MySQL/MariaDB, which have no `UPDATE … RETURNING` (rows are read again after
//!   the change there);
//! - [`BulkHooks::Records`] reads and locks whole rows before each batch and calls each hook
//!   once per row: the per-record cost, with set-based statements still.
//!
//! The rows a cascade changes in related tables are counted, not handed to the related
//! entities' hooks. Bulk inserts and creates call no hook.
//!
//! # Hooks and the transaction
//!
//! - A batch that fails with a transient error (deadlock, lost connection) is rolled back and
//!   run again, hooks included: `after_batch` may run more than once for one batch, each time in
//!   a transaction of its own of which only the last commits. Work outside the database (a
//!   cache, a search index, a message) belongs in [`events`](crate::events), sent after the
//!   `COMMIT`.
//! - A hook's own statements run in the operation's transaction. If one fails, return its
//!   error: a hook that swallows it and returns `Ok` fails the operation all the same
//!   ([`Error::Hook`](crate::Error::Hook)), because the database may already have rolled the
//!   transaction back (MySQL/MariaDB after a deadlock) or will refuse to commit it
//!   (PostgreSQL). Errors inside hooks are not retried.
//! - A hook must not end the transaction: no `COMMIT`, no `ROLLBACK`, and on MySQL/MariaDB no
//!   DDL (which commits implicitly). The hooks of each phase run after a savepoint; when it can
//!   no longer be released, a hook ended the transaction, and the operation stops at once,
//!   sending nothing more. The batch's rows are then checked from another connection, as after
//!   a lost `COMMIT`, and the error ([`Error::TransactionEnded`](crate::Error::TransactionEnded),
//!   inside [`Error::Bulk`](crate::Error::Bulk) for a bulk operation) says whether they were
//!   committed (and counted in `partial_count`), rolled back, or could not be told (its
//!   `uncertain_count`). The savepoint costs two statements per batch with hooks.

//! # Example
//!
//! ```
//! mod user {
//!     use sea_orm::entity::prelude::*;
//!     use soft_delete_core::hooks::{Batch, HookContext, HookResult, SoftDeleteHooks};
//!
//!     #[soft_delete_core::soft_delete(hooks)]
//!     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "users")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         pub admin: bool,
//!     }
//!
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!
//!     impl ActiveModelBehavior for ActiveModel {}
//!
//!     impl SoftDeleteHooks for Entity {
//!         async fn before_soft_delete<C: ConnectionTrait>(
//!             _conn: &C,
//!             model: &Model,
//!             _cx: &HookContext<'_>,
//!         ) -> HookResult {
//!             if model.admin {
//!                 return Err("admins are never deleted".into());
//!             }
//!             Ok(())
//!         }
//!
//!         async fn after_batch<C: ConnectionTrait>(conn: &C, batch: &Batch<'_, Self>) -> HookResult {
//!             // Runs in the batch's transaction: an audit row written here commits with it.
//!             let _ = (conn, batch.keys.len(), batch.context.operation);
//!             Ok(())
//!         }
//!     }
//! }
//! ```

use std::future::Future;

use sea_orm::{ConnectionTrait, EntityTrait};

pub use crate::error::HookError;
use crate::operation::{OperationId, OperationKind};
use crate::sql::PrimaryKeyValue;

/// What a hook returns: `Err` vetoes (in a `before_*` hook) or fails the operation.
pub type HookResult = std::result::Result<(), HookError>;

/// The operation a hook runs in.
#[derive(Clone, Copy, Debug)]
pub struct HookContext<'a> {
    /// The operation's id (the one stamped into `deletion_op`, logged and carried by events).
    pub operation: OperationId,
    /// What the operation does.
    pub kind: OperationKind,
    /// The entity's table.
    pub table: &'a str,
    /// Who runs it (`deleted_by` of a soft delete, `restored_by` of a restore), when given.
    pub actor: Option<&'a str>,
    /// Why (a soft delete's reason), when given.
    pub reason: Option<&'a str>,
}

/// One committed-to-be batch of a bulk operation, as [`SoftDeleteHooks::after_batch`] sees it.
#[derive(Debug)]
pub struct Batch<'a, E: EntityTrait> {
    /// The operation the batch belongs to.
    pub context: &'a HookContext<'a>,
    /// The primary keys of the rows the batch changed (for a purge: deleted), and no others.
    pub keys: Vec<PrimaryKeyValue<E>>,
    /// The rows themselves, as they are after the change (for a purge: as they were), when
    /// [`SoftDeleteHooks::BULK`] is [`BulkHooks::Rows`] or [`BulkHooks::Records`]; empty
    /// otherwise.
    pub rows: Vec<E::Model>,
}

/// What bulk operations give an entity's hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BulkHooks {
    /// Bulk operations call none of the entity's hooks.
    Off,
    /// [`after_batch`](SoftDeleteHooks::after_batch) with the keys each batch changed.
    Keys,
    /// `after_batch` with the keys and the rows.
    Rows,
    /// `after_batch` with the keys and rows, and the per-record hooks for every row of every
    /// batch (see the [module documentation](self) for the cost).
    Records,
}

/// An entity's lifecycle hooks. Declare the entity with `#[soft_delete(hooks)]` and implement
/// this trait for its `Entity`, overriding the hooks you need; without `hooks`, the macros
/// implement it with every hook a no-op (and [`HOOKS`](Self::HOOKS) `false`, so that nothing is
/// read for them). See the [module documentation](self).
///
/// Every hook gets the connection of the operation's transaction: what it writes there commits
/// or rolls back with the change.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `SoftDeleteHooks` impl",
    label = "declared with `#[soft_delete(hooks)]`, so it must implement `SoftDeleteHooks`",
    note = "add `impl soft_delete_core::SoftDeleteHooks for Entity {{}}` with the hooks you need, \
            or remove `hooks` from `#[soft_delete(…)]`"
)]
pub trait SoftDeleteHooks: EntityTrait<Model: Sync> {
    /// Whether the entity has hooks. Leave it to the macros: `false` when the entity is not
    /// declared with `hooks`.
    const HOOKS: bool = true;

    /// What bulk operations hand to the hooks: keys by default.
    const BULK: BulkHooks = BulkHooks::Keys;

    /// Before a row is soft-deleted. An error vetoes: the row is not changed.
    fn before_soft_delete<C: ConnectionTrait>(
        conn: &C,
        model: &Self::Model,
        cx: &HookContext<'_>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (conn, model, cx);
        async { Ok(()) }
    }

    /// After a row was soft-deleted, with the row as it is now, before the transaction commits.
    fn after_soft_delete<C: ConnectionTrait>(
        conn: &C,
        model: &Self::Model,
        cx: &HookContext<'_>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (conn, model, cx);
        async { Ok(()) }
    }

    /// Before a row is restored. An error vetoes: the row stays deleted.
    fn before_restore<C: ConnectionTrait>(
        conn: &C,
        model: &Self::Model,
        cx: &HookContext<'_>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (conn, model, cx);
        async { Ok(()) }
    }

    /// After a row was restored, with the row as it is now.
    fn after_restore<C: ConnectionTrait>(
        conn: &C,
        model: &Self::Model,
        cx: &HookContext<'_>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (conn, model, cx);
        async { Ok(()) }
    }

    /// Before a row is deleted for good (`force_delete_by_id`, and purges with
    /// [`BulkHooks::Records`]). An error vetoes: the row stays.
    fn before_force_delete<C: ConnectionTrait>(
        conn: &C,
        model: &Self::Model,
        cx: &HookContext<'_>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (conn, model, cx);
        async { Ok(()) }
    }

    /// After a row was deleted for good, with the row as it was.
    fn after_force_delete<C: ConnectionTrait>(
        conn: &C,
        model: &Self::Model,
        cx: &HookContext<'_>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (conn, model, cx);
        async { Ok(()) }
    }

    /// Once per batch of a bulk soft delete, restore or purge, in the batch's transaction, after
    /// its statements. An error fails the batch (it is rolled back, and the operation stops with
    /// the rows committed before it).
    fn after_batch<C: ConnectionTrait>(
        conn: &C,
        batch: &Batch<'_, Self>,
    ) -> impl Future<Output = HookResult> + Send {
        let _ = (conn, batch);
        async { Ok(()) }
    }
}
