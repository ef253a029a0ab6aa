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
//!   one-record operations (`soft_delete_by_id`, `restore_by_id`, `force_delete_by_id` and the
//!   model extensions), in the row's transaction. A `before_*` hook that returns an error
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

use sea_orm::sea_query::{Condition, LockType, Query, SelectStatement, ValueTuple};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, Iterable, PrimaryKeyToColumn,
    QueryResult, Statement, TryGetableMany,
};

use crate::bulk::PrimaryKeyValue;
use crate::cascade::{Step, Tally};
use crate::error::{Error, Result};
use crate::operation::{OperationId, OperationKind};

/// What a hook returns: `Err` vetoes (in a `before_*` hook) or fails the operation.
pub type HookResult = std::result::Result<(), HookError>;

/// A hook's error: any error type, or a message (`Err("why".into())`).
pub type HookError = Box<dyn std::error::Error + Send + Sync + 'static>;

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

/// Which of a record's hooks runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Moment {
    Before,
    After,
}

/// Calls the per-record hook of `cx.kind` at `moment`, turning its error into the crate's.
pub(crate) async fn record<E: SoftDeleteHooks, C: ConnectionTrait>(
    conn: &C,
    model: &E::Model,
    cx: &HookContext<'_>,
    moment: Moment,
) -> Result<()> {
    use Moment::*;
    use OperationKind::*;
    let conn = &Watched::new(conn);
    let (hook, result) = match (cx.kind, moment) {
        (SoftDelete, Before) => (
            "before_soft_delete",
            E::before_soft_delete(conn, model, cx).await,
        ),
        (SoftDelete, After) => (
            "after_soft_delete",
            E::after_soft_delete(conn, model, cx).await,
        ),
        (Restore, Before) => ("before_restore", E::before_restore(conn, model, cx).await),
        (Restore, After) => ("after_restore", E::after_restore(conn, model, cx).await),
        (Purge, Before) => (
            "before_force_delete",
            E::before_force_delete(conn, model, cx).await,
        ),
        (Purge, After) => (
            "after_force_delete",
            E::after_force_delete(conn, model, cx).await,
        ),
        (Create, _) => return Ok(()),
    };
    conn.verdict(result, hook, cx.table, moment)
}

/// Calls `after_batch`.
async fn after_batch<E: SoftDeleteHooks, C: ConnectionTrait>(
    conn: &C,
    batch: Batch<'_, E>,
) -> Result<()> {
    let conn = &Watched::new(conn);
    let result = E::after_batch(conn, &batch).await;
    conn.verdict(result, "after_batch", batch.context.table, Moment::After)
}

/// The connection hooks are given: the operation's, remembering whether one of the hook's
/// statements failed. A hook that catches such an error and goes on would otherwise let the
/// change commit on a transaction the database has already rolled back (MySQL/MariaDB after a
/// deadlock) or will refuse to commit (PostgreSQL after any error).
struct Watched<'a, C> {
    inner: &'a C,
    failed: std::sync::Mutex<Option<String>>,
}

impl<'a, C: ConnectionTrait> Watched<'a, C> {
    fn new(inner: &'a C) -> Self {
        Watched {
            inner,
            failed: std::sync::Mutex::new(None),
        }
    }

    fn watch<T>(&self, result: std::result::Result<T, DbErr>) -> std::result::Result<T, DbErr> {
        if let Err(error) = &result
            && let Ok(mut failed) = self.failed.lock()
        {
            failed.get_or_insert_with(|| error.to_string());
        }
        result
    }

    /// The hook's outcome: its own error, or the error of a statement it swallowed.
    fn verdict(
        &self,
        result: HookResult,
        hook: &'static str,
        table: &str,
        moment: Moment,
    ) -> Result<()> {
        let swallowed = self.failed.lock().ok().and_then(|mut failed| failed.take());
        match (result, swallowed) {
            (Err(source), _) => Err(hook_error(hook, table, moment, source)),
            (Ok(()), Some(statement)) => Err(hook_error(
                hook,
                table,
                moment,
                format!(
                    "one of its statements failed ({statement}) and the hook went on; the \
                     transaction cannot be trusted, so the change is rolled back"
                )
                .into(),
            )),
            (Ok(()), None) => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl<C: ConnectionTrait> ConnectionTrait for Watched<'_, C> {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<sea_orm::ExecResult, DbErr> {
        self.watch(self.inner.execute_raw(stmt).await)
    }

    async fn execute_unprepared(
        &self,
        sql: &str,
    ) -> std::result::Result<sea_orm::ExecResult, DbErr> {
        self.watch(self.inner.execute_unprepared(sql).await)
    }

    async fn query_one_raw(
        &self,
        stmt: Statement,
    ) -> std::result::Result<Option<QueryResult>, DbErr> {
        self.watch(self.inner.query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> std::result::Result<Vec<QueryResult>, DbErr> {
        self.watch(self.inner.query_all_raw(stmt).await)
    }

    fn support_returning(&self) -> bool {
        self.inner.support_returning()
    }

    fn is_mock_connection(&self) -> bool {
        self.inner.is_mock_connection()
    }
}

pub(crate) fn hook_error(
    hook: &'static str,
    table: &str,
    moment: Moment,
    source: HookError,
) -> Error {
    match moment {
        Moment::Before => Error::Vetoed {
            hook,
            table: table.to_owned(),
            source,
        },
        Moment::After => Error::Hook {
            hook,
            table: table.to_owned(),
            source,
        },
    }
}

/// The keys a batch of rows named by key was given: when its statements change as many rows,
/// they are exactly the keys it changed, with nothing to read back (see `run_batch`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Known<'a> {
    pub(crate) keys: &'a [ValueTuple],
    /// Whether the batch's savepoint must be released when it is not needed: in an atomic
    /// operation, whose batches share one transaction (PostgreSQL would keep every savepoint
    /// until its end). Otherwise the batch's COMMIT releases it, a statement fewer per batch.
    pub(crate) release: bool,
    /// The change's mark, when only this operation's rows can carry it and the batch has a
    /// transaction of its own (not atomic): then no savepoint is needed (see `run_batch`).
    pub(crate) mark: Option<&'a Condition>,
}

impl<'a> Known<'a> {
    /// For `E`'s batches named by `keys`, when its hooks want keys only.
    pub(crate) fn of<E: crate::SoftDelete>(
        keys: &'a [ValueTuple],
        atomic: bool,
        mark: Option<&'a crate::entity::Mark>,
    ) -> Option<Self> {
        Self::applies::<E>().then_some(Known {
            keys,
            release: atomic,
            mark: match mark {
                Some(mark) if mark.unique && !atomic => Some(&mark.condition),
                _ => None,
            },
        })
    }

    /// Whether [`Known::of`] gives one for `E`.
    pub(crate) fn applies<E: crate::SoftDelete>() -> bool {
        E::HOOKS && E::BULK == BulkHooks::Keys
    }
}

/// What a batch's own statements return for the hooks, on `backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Returning {
    /// Nothing: no hook needs it, or the backend has no `RETURNING` for the statement.
    Nothing,
    /// The primary key.
    Keys,
    /// Every column.
    Rows,
}

impl Returning {
    /// What `E`'s batches return on `backend`: keys or rows where hooks need them and the
    /// backend returns them from an `UPDATE`/`DELETE` (PostgreSQL, SQLite).
    pub(crate) fn of<E: crate::SoftDelete>(backend: DbBackend) -> Returning {
        match (E::HOOKS, E::BULK, backend) {
            (false, _, _) | (_, BulkHooks::Off, _) | (_, _, DbBackend::MySql) => Returning::Nothing,
            (_, BulkHooks::Keys, _) => Returning::Keys,
            _ => Returning::Rows,
        }
    }

    /// The `RETURNING` clause for `E`, with a leading space; empty for [`Returning::Nothing`].
    pub(crate) fn clause<E: EntityTrait>(self, backend: DbBackend) -> String {
        match self {
            Returning::Nothing => String::new(),
            Returning::Rows => " RETURNING *".to_owned(),
            Returning::Keys => {
                let names: Vec<String> = key_names::<E>()
                    .iter()
                    .map(|name| crate::bulk::sql::quote(backend, name))
                    .collect();
                format!(" RETURNING {}", names.join(", "))
            }
        }
    }
}

fn key_names<E: EntityTrait>() -> Vec<String> {
    use sea_orm::IdenStatic;
    E::PrimaryKey::iter()
        .map(|key| key.into_column().as_str().to_owned())
        .collect()
}

/// One batch's own statements and cascade, with `E`'s hooks around them when it has any:
/// the statements' keys or rows (from their `RETURNING`, or a locking `SELECT` of `target`
/// first where there is none), the per-record hooks when asked for, and `after_batch`.
/// `target` selects exactly the rows the own statements change (their condition and guard), in
/// as many conditions as keep each statement below the bind limit.
/// Returns the rows the own statements changed and the cascade's tally.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_batch<E, C>(
    conn: &C,
    cx: &HookContext<'_>,
    target: impl FnOnce() -> Vec<Condition>,
    known: Option<Known<'_>>,
    cascade_first: bool,
    own: Vec<Statement>,
    returning: Returning,
    cascade: Vec<Step>,
) -> Result<(u64, Tally)>
where
    E: crate::SoftDelete,
    C: ConnectionTrait,
{
    let bulk = E::BULK;
    if !E::HOOKS || bulk == BulkHooks::Off {
        let (affected, tally, _) =
            crate::cascade::execute(conn, cascade_first, own, Returning::Nothing, cascade).await?;
        return Ok((affected, tally));
    }
    let backend = conn.get_database_backend();
    if let (
        BulkHooks::Keys,
        Some(
            known @ Known {
                mark: Some(mark), ..
            },
        ),
    ) = (bulk, known)
    {
        // Usually every key named changes: then they are the batch's keys, with nothing to
        // read. When some do not (rows not in the state the change applies to), the rows of
        // the batch that carry the operation's unique mark are its keys, unless more carry it
        // than the batch changed: a key named in an earlier batch too. Then the batch is rolled
        // back and run again reading its rows first (`RERUN`).
        let (affected, tally, _) =
            crate::cascade::execute(conn, cascade_first, own, Returning::Nothing, cascade).await?;
        let keys = if affected == known.keys.len() as u64 {
            named_keys::<E>(known.keys)
        } else {
            let names = key_names::<E>();
            let mut keys = Vec::with_capacity(affected as usize);
            for chunk in known.keys.chunks(KEYS_PER_READ) {
                let select = select_rows::<E>(
                    crate::cascade::keys_condition::<E>(chunk).add(mark.clone()),
                    false,
                );
                for row in conn.query_all_raw(backend.build(&select)).await? {
                    keys.push(key_of::<E>(&row, &names)?);
                }
            }
            if keys.len() as u64 != affected {
                return Err(Error::Db(DbErr::Custom(RERUN.to_owned())));
            }
            keys
        };
        after_batch_with_keys::<E, C>(conn, cx, keys).await?;
        return Ok((affected, tally));
    }
    if let (BulkHooks::Keys, Some(known)) = (bulk, known) {
        // Without a unique mark, or inside an atomic operation: the same after a savepoint,
        // to which a batch that changed fewer rows than it names goes back, to run again below
        // reading its rows as it locks them.
        conn.execute_unprepared(&format!("SAVEPOINT {SAVEPOINT}"))
            .await?;
        let (affected, tally, _) = crate::cascade::execute(
            conn,
            cascade_first,
            own.clone(),
            Returning::Nothing,
            cascade.clone(),
        )
        .await?;
        if affected == known.keys.len() as u64 {
            if known.release {
                conn.execute_unprepared(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                    .await?;
            }
            after_batch_with_keys::<E, C>(conn, cx, named_keys::<E>(known.keys)).await?;
            return Ok((affected, tally));
        }
        conn.execute_unprepared(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
            .await?;
        conn.execute_unprepared(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
            .await?;
    }
    let records = bulk == BulkHooks::Records;
    // The rows before the change, locked, where the statements cannot return them or the
    // per-record `before_*` hooks need them.
    let mut before = Vec::new();
    let read_first = records || returning == Returning::Nothing;
    if read_first {
        for target in target() {
            let select = lock(select_rows::<E>(target, bulk != BulkHooks::Keys), backend);
            before.extend(conn.query_all_raw(backend.build(&select)).await?);
        }
    }
    if records {
        for row in &before {
            let model = E::Model::from_query_result(row, "")?;
            record::<E, C>(conn, &model, cx, Moment::Before).await?;
        }
    }
    let (affected, tally, returned) =
        crate::cascade::execute(conn, cascade_first, own, returning, cascade).await?;
    if read_first && affected != before.len() as u64 {
        // Another session changed one of the rows between the read and the write (PostgreSQL
        // does not lock a row the read did not match): the hooks would miss it.
        return Err(hook_error(
            "after_batch",
            cx.table,
            Moment::After,
            format!(
                "the batch changed {affected} rows but {} were read for its hooks: rows \
                 changed concurrently; the batch is rolled back",
                before.len()
            )
            .into(),
        ));
    }
    let deleted = cx.kind == OperationKind::Purge;
    let names = key_names::<E>();
    let after = match returning {
        Returning::Nothing => match (bulk, deleted) {
            (BulkHooks::Keys, _) | (_, true) => before,
            // MySQL/MariaDB: the changed rows, read again by key.
            _ => {
                let keys = before
                    .iter()
                    .map(|row| {
                        key_of::<E>(row, &names)
                            .map(sea_orm::sea_query::IntoValueTuple::into_value_tuple)
                    })
                    .collect::<std::result::Result<Vec<ValueTuple>, _>>()?;
                // Locked already, by the `SELECT … FOR UPDATE` above.
                let mut rows = Vec::with_capacity(keys.len());
                for chunk in keys.chunks(KEYS_PER_READ) {
                    let select = select_rows::<E>(crate::cascade::keys_condition::<E>(chunk), true);
                    rows.extend(conn.query_all_raw(backend.build(&select)).await?);
                }
                rows
            }
        },
        _ => returned,
    };
    let mut keys = Vec::with_capacity(after.len());
    let mut rows = Vec::new();
    for row in &after {
        keys.push(key_of::<E>(row, &names)?);
        if bulk != BulkHooks::Keys {
            rows.push(E::Model::from_query_result(row, "")?);
        }
    }
    if records {
        for model in &rows {
            record::<E, C>(conn, model, cx, Moment::After).await?;
        }
    }
    let batch = Batch {
        context: cx,
        keys,
        rows,
    };
    after_batch::<E, C>(conn, batch).await?;
    Ok((affected, tally))
}

/// What a batch by key fails with when its keys must be read before its change: the engine
/// runs it again at once (not counted as a retry), and the source reads its rows first.
pub(crate) const RERUN: &str = "soft-delete: the batch runs again, reading its rows first";

/// Whether `error` asks for the batch to run again (see [`RERUN`]).
pub(crate) fn is_rerun(error: &Error) -> bool {
    matches!(error, Error::Db(DbErr::Custom(message)) if message == RERUN)
}

/// The savepoint a batch by key returns to when its keys must be read after all.
const SAVEPOINT: &str = "soft_delete_hooks";

/// The row with `key` that `guard` (when given) holds for, locked for the rest of the
/// transaction where `lock` and the backend locks rows.
pub(crate) async fn read_one<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    key: &ValueTuple,
    guard: Option<sea_orm::sea_query::Expr>,
    locked: bool,
) -> Result<Option<E::Model>> {
    let mut target = crate::entity::key_condition::<E>(key.clone());
    if let Some(guard) = guard {
        target = target.add(guard);
    }
    let backend = conn.get_database_backend();
    let mut select = select_rows::<E>(target, true);
    if locked {
        select = lock(select, backend);
    }
    match conn.query_one_raw(backend.build(&select)).await? {
        Some(row) => Ok(Some(E::Model::from_query_result(&row, "")?)),
        None => Ok(None),
    }
}

/// The keys a batch named, as `E`'s key values.
fn named_keys<E: EntityTrait>(keys: &[ValueTuple]) -> Vec<PrimaryKeyValue<E>> {
    keys.iter()
        .map(|key| {
            <PrimaryKeyValue<E> as sea_orm::sea_query::FromValueTuple>::from_value_tuple(
                key.clone(),
            )
        })
        .collect()
}

/// `after_batch` for a batch whose hooks want its keys only.
async fn after_batch_with_keys<E: SoftDeleteHooks, C: ConnectionTrait>(
    conn: &C,
    cx: &HookContext<'_>,
    keys: Vec<PrimaryKeyValue<E>>,
) -> Result<()> {
    let batch = Batch {
        context: cx,
        keys,
        rows: Vec::new(),
    };
    after_batch::<E, C>(conn, batch).await
}

/// Keys per re-read of changed rows: far below every backend's bind limit.
const KEYS_PER_READ: usize = 1000;

/// `SELECT <key or *> FROM t WHERE target`.
pub(crate) fn select_rows<E: EntityTrait>(target: Condition, all_columns: bool) -> SelectStatement {
    let mut select = Query::select();
    if all_columns {
        for column in E::Column::iter() {
            select.column((E::default(), column));
        }
    } else {
        for key in E::PrimaryKey::iter() {
            select.column((E::default(), key.into_column()));
        }
    }
    select.from(E::default()).cond_where(target);
    select
}

/// `… FOR UPDATE` where the backend locks rows (SQLite's write lock covers the transaction).
pub(crate) fn lock(mut select: SelectStatement, backend: DbBackend) -> SelectStatement {
    if backend != DbBackend::Sqlite {
        select.lock(LockType::Update);
    }
    select
}

/// The primary key of `row`, whose key columns are `names`.
fn key_of<E: EntityTrait>(
    row: &QueryResult,
    names: &[String],
) -> std::result::Result<PrimaryKeyValue<E>, sea_orm::DbErr> {
    <PrimaryKeyValue<E> as TryGetableMany>::try_get_many(row, "", names).map_err(Into::into)
}
