//! How the step calls an entity's hooks around a batch's statements (see [`crate::hooks`] for
//! what the hooks are): which rows they are given, how they are read, the connection they get,
//! and the check that a hook left the batch's transaction open.

use sea_orm::sea_query::{Condition, ValueTuple};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, ExecResult, FromQueryResult, QueryResult,
    Statement,
};

use super::Tally;
use super::cascade::{TableStatement, execute};
use crate::error::{Error, HookError, Result};
use crate::hooks::{Batch, BulkHooks, HookContext, HookResult, SoftDeleteHooks};
use crate::operation::OperationKind;
use crate::sql::{PrimaryKeyValue, key_names, key_of, keys_condition, lock, quote, select_rows};

/// Why a batch did not finish: the engine's typed signals.
#[derive(Debug)]
pub(crate) enum Interrupt {
    /// The batch failed: it is rolled back, then retried (a transient error) or reported.
    Failed(Error),
    /// The batch is rolled back and run again at once, reading its rows first: its named keys
    /// did not tell which rows it changed. Not a failure, and not counted as a retry.
    Again,
    /// A hook ended the batch's transaction (`COMMIT`, `ROLLBACK`, or DDL on MySQL/MariaDB),
    /// after the batch's own statements changed `rows` rows (and its cascade `cascaded`). The
    /// engine stops, and checks from another connection what became of them.
    Ended {
        hook: &'static str,
        rows: u64,
        cascaded: Tally,
        cause: Option<HookError>,
    },
}

impl From<Error> for Interrupt {
    fn from(error: Error) -> Self {
        Interrupt::Failed(error)
    }
}

impl From<DbErr> for Interrupt {
    fn from(error: DbErr) -> Self {
        Interrupt::Failed(Error::Db(error))
    }
}

/// Which of an entity's hooks a batch calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HookPlan {
    /// The per-record `before_*` / `after_*` hooks, for every row.
    records: bool,
    /// `after_batch`, with the keys (and the rows, for [`BulkHooks::Rows`] and
    /// [`BulkHooks::Records`]).
    batch: Option<BulkHooks>,
}

impl HookPlan {
    /// What a batch of a bulk operation calls: as the entity's [`SoftDeleteHooks::BULK`] says.
    pub(crate) fn bulk<E: SoftDeleteHooks>() -> Self {
        match (E::HOOKS, E::BULK) {
            (false, _) | (_, BulkHooks::Off) => HookPlan {
                records: false,
                batch: None,
            },
            (_, BulkHooks::Records) => HookPlan {
                records: true,
                batch: Some(BulkHooks::Records),
            },
            (_, bulk) => HookPlan {
                records: false,
                batch: Some(bulk),
            },
        }
    }

    /// What a one-record operation (a batch of one key) calls: the per-record hooks.
    pub(crate) fn record<E: SoftDeleteHooks>() -> Self {
        HookPlan {
            records: E::HOOKS,
            batch: None,
        }
    }

    /// No hook at all: a quiet operation's batches.
    pub(crate) fn quiet() -> Self {
        HookPlan {
            records: false,
            batch: None,
        }
    }

    /// True when no hook runs: the batch sends its statements and nothing else.
    pub(crate) fn none(self) -> bool {
        !self.records && self.batch.is_none()
    }

    /// True when only `after_batch` runs, with keys: what the batch's named keys can tell
    /// without reading a row.
    pub(crate) fn keys_only(self) -> bool {
        !self.records && self.batch == Some(BulkHooks::Keys)
    }

    /// What the batch's own statements return for the hooks on `backend`.
    pub(crate) fn readback(self, backend: DbBackend) -> Readback {
        match (self.none(), backend) {
            (true, _) | (_, DbBackend::MySql) => Readback::Nothing,
            _ if self.keys_only() => Readback::Keys,
            _ => Readback::Rows,
        }
    }
}

/// What a batch's own statements return for the hooks: a `RETURNING` clause, where the backend
/// has one for an `UPDATE`/`DELETE` (PostgreSQL, SQLite).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Readback {
    /// Nothing: no hook needs it, or the backend has no `RETURNING` for the statement.
    Nothing,
    /// The primary key.
    Keys,
    /// Every column.
    Rows,
}

impl Readback {
    /// The `RETURNING` clause for `E`, with a leading space; empty for [`Readback::Nothing`].
    pub(crate) fn clause<E: EntityTrait>(self, backend: DbBackend) -> String {
        match self {
            Readback::Nothing => String::new(),
            Readback::Rows => " RETURNING *".to_owned(),
            Readback::Keys => {
                let names: Vec<String> = key_names::<E>()
                    .iter()
                    .map(|name| quote(backend, name))
                    .collect();
                format!(" RETURNING {}", names.join(", "))
            }
        }
    }
}

/// Which of a record's hooks runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Moment {
    Before,
    After,
}

/// Calls the per-record hook of `cx.kind` at `moment` on the watched connection.
async fn record<E: SoftDeleteHooks, C: ConnectionTrait>(
    conn: &Watched<'_, C>,
    model: &E::Model,
    cx: &HookContext<'_>,
    moment: Moment,
) -> (&'static str, HookResult) {
    use Moment::*;
    use OperationKind::*;
    match (cx.kind, moment) {
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
        (Create, _) => ("", Ok(())),
    }
}

/// The savepoint a phase of hooks runs after: if a hook ends the transaction, releasing it
/// fails, on every backend (no transaction, or no such savepoint).
const GUARD: &str = "soft_delete_hook_guard";

/// Hooks of one phase, run on a connection that watches their statements, and checked after:
/// the hooks' own error, a statement of theirs that failed while they returned `Ok`, or the
/// batch's transaction ended under them.
struct Phase<'a, C> {
    conn: &'a C,
    watched: Watched<'a, C>,
    moment: Moment,
    table: &'a str,
    /// The first hook that failed, with its error.
    failed: Option<(&'static str, HookError)>,
    /// The hook that ran last.
    last: &'static str,
}

impl<'a, C: ConnectionTrait> Phase<'a, C> {
    async fn open(conn: &'a C, moment: Moment, table: &'a str) -> Result<Phase<'a, C>, DbErr> {
        conn.execute_unprepared(&format!("SAVEPOINT {GUARD}"))
            .await?;
        Ok(Phase {
            conn,
            watched: Watched::new(conn),
            moment,
            table,
            failed: None,
            last: "",
        })
    }

    /// Notes one hook's result; true when the phase may go on.
    fn note(&mut self, hook: &'static str, result: HookResult) -> bool {
        self.last = hook;
        let swallowed = self.watched.take_failure();
        let error = match (result, swallowed) {
            (Err(source), _) => source,
            (Ok(()), Some(statement)) => format!(
                "one of its statements failed ({statement}) and the hook went on; the \
                 transaction cannot be trusted, so the change is rolled back"
            )
            .into(),
            (Ok(()), None) => return true,
        };
        self.failed = Some((hook, error));
        false
    }

    /// Ends the phase: the first hook error, or [`Interrupt::Ended`] when a hook ended the
    /// transaction (`rows` and `cascaded` are what the batch had changed by then).
    async fn close(self, rows: u64, cascaded: &Tally) -> Result<(), Interrupt> {
        // Released, or (PostgreSQL after a failed statement, which aborts the transaction but
        // keeps it open) rolled back to: either way the savepoint, and so the transaction, is
        // still there. Neither works once the transaction has ended.
        let open = self
            .conn
            .execute_unprepared(&format!("RELEASE SAVEPOINT {GUARD}"))
            .await
            .is_ok()
            || self
                .conn
                .execute_unprepared(&format!("ROLLBACK TO SAVEPOINT {GUARD}"))
                .await
                .is_ok();
        match (open, self.failed) {
            (true, None) => Ok(()),
            (true, Some((hook, source))) => Err(Interrupt::Failed(hook_error(
                hook,
                self.table,
                self.moment,
                source,
            ))),
            (false, failed) => {
                let (hook, cause) = match failed {
                    Some((hook, source)) => (hook, Some(source)),
                    None => (self.last, None),
                };
                Err(Interrupt::Ended {
                    hook,
                    rows,
                    cascaded: cascaded.clone(),
                    cause,
                })
            }
        }
    }
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

    fn take_failure(&self) -> Option<String> {
        self.failed.lock().ok().and_then(|mut failed| failed.take())
    }
}

#[async_trait::async_trait]
impl<C: ConnectionTrait> ConnectionTrait for Watched<'_, C> {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> std::result::Result<ExecResult, DbErr> {
        self.watch(self.inner.execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> std::result::Result<ExecResult, DbErr> {
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

fn hook_error(hook: &'static str, table: &str, moment: Moment, source: HookError) -> Error {
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

/// The keys a batch named (ids, or the one key of a one-record operation): when its statements
/// change as many rows, they are exactly the keys it changed, with nothing to read back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Named<'a> {
    pub(crate) keys: &'a [ValueTuple],
    /// Whether the batch's savepoint must be released when it is not needed: in an atomic
    /// operation, whose batches share one transaction (PostgreSQL would keep every savepoint
    /// until its end). Otherwise the batch's COMMIT releases it, a statement fewer per batch.
    pub(crate) release: bool,
    /// The change's mark, when only this operation's rows can carry it and the batch has a
    /// transaction of its own (not atomic): then no savepoint is needed (see [`run`]).
    pub(crate) mark: Option<&'a Condition>,
}

/// What one batch sends: its own statements (with the `RETURNING` clause its readback needs),
/// its cascade and whether that runs first, and the conditions that select exactly the rows
/// its own statements change (under each backend's bind limit), for hooks that read them.
pub(crate) struct Statements {
    pub(crate) cascade_first: bool,
    pub(crate) own: Vec<Statement>,
    pub(crate) cascade: Vec<TableStatement>,
    pub(crate) target: Vec<Condition>,
    pub(crate) readback: Readback,
}

/// One batch's own statements and cascade, with `E`'s hooks around them as `plan` says: the
/// statements' keys or rows (from their `RETURNING`, or a locking `SELECT` of the target first
/// where there is none), the per-record hooks, and `after_batch`. Returns the rows the own
/// statements changed and the cascade's tally.
pub(crate) async fn run<E, C>(
    conn: &C,
    cx: &HookContext<'_>,
    plan: HookPlan,
    named: Option<Named<'_>>,
    statements: Statements,
) -> Result<(u64, Tally), Interrupt>
where
    E: crate::entity::SoftDelete,
    C: ConnectionTrait,
{
    let Statements {
        cascade_first,
        own,
        cascade,
        target,
        readback,
    } = statements;
    let returns = readback != Readback::Nothing;
    if plan.none() {
        let (affected, tally, _) = execute(conn, cascade_first, own, false, cascade).await?;
        return Ok((affected, tally));
    }
    let backend = conn.get_database_backend();
    if let Some(
        known @ Named {
            mark: Some(mark), ..
        },
    ) = named.filter(|_| plan.keys_only())
    {
        // Usually every key named changes: then they are the batch's keys, with nothing to
        // read. When some do not (rows not in the state the change applies to), the rows of
        // the batch that carry the operation's unique mark are its keys, unless more carry it
        // than the batch changed: a key named in an earlier batch too. Then the batch is rolled
        // back and run again reading its rows first (`Interrupt::Again`).
        let (affected, tally, _) = execute(conn, cascade_first, own, false, cascade).await?;
        let keys = if affected == known.keys.len() as u64 {
            named_keys::<E>(known.keys)
        } else {
            let names = key_names::<E>();
            let mut keys = Vec::with_capacity(affected as usize);
            for chunk in known.keys.chunks(KEYS_PER_READ) {
                let select = select_rows::<E>(keys_condition::<E>(chunk).add(mark.clone()), false);
                for row in conn.query_all_raw(backend.build(&select)).await? {
                    keys.push(key_of::<E>(&row, &names)?);
                }
            }
            if keys.len() as u64 != affected {
                return Err(Interrupt::Again);
            }
            keys
        };
        after_batch::<E, C>(conn, cx, keys, Vec::new(), affected, &tally).await?;
        return Ok((affected, tally));
    }
    if let Some(known) = named.filter(|_| plan.keys_only()) {
        // Without a unique mark, or inside an atomic operation: the same after a savepoint,
        // to which a batch that changed fewer rows than it names goes back, to run again below
        // reading its rows as it locks them.
        conn.execute_unprepared(&format!("SAVEPOINT {SAVEPOINT}"))
            .await?;
        let (affected, tally, _) =
            execute(conn, cascade_first, own.clone(), false, cascade.clone()).await?;
        if affected == known.keys.len() as u64 {
            if known.release {
                conn.execute_unprepared(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
                    .await?;
            }
            let keys = named_keys::<E>(known.keys);
            after_batch::<E, C>(conn, cx, keys, Vec::new(), affected, &tally).await?;
            return Ok((affected, tally));
        }
        conn.execute_unprepared(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
            .await?;
        conn.execute_unprepared(&format!("RELEASE SAVEPOINT {SAVEPOINT}"))
            .await?;
    }
    let rows_wanted = plan.records || plan.batch.is_some_and(|bulk| bulk != BulkHooks::Keys);
    // The rows before the change, locked, where the statements cannot return them or the
    // per-record `before_*` hooks need them.
    let read_first = plan.records || !returns;
    let mut before = Vec::new();
    if read_first {
        for target in target {
            let select = lock(select_rows::<E>(target, rows_wanted), backend);
            before.extend(conn.query_all_raw(backend.build(&select)).await?);
        }
        if before.is_empty() {
            // Nothing in the state the change applies to (a one-record operation on a row that
            // is missing or already changed): no statement to send, no hook to call.
            return Ok((0, Tally::default()));
        }
    }
    if plan.records {
        let mut phase = Phase::open(conn, Moment::Before, cx.table).await?;
        for row in &before {
            let model = E::Model::from_query_result(row, "")?;
            let (hook, result) = record::<E, C>(&phase.watched, &model, cx, Moment::Before).await;
            if !phase.note(hook, result) {
                break;
            }
        }
        phase.close(0, &Tally::default()).await?;
    }
    let (affected, tally, returned) = execute(conn, cascade_first, own, returns, cascade).await?;
    if read_first && affected != before.len() as u64 {
        // Another session changed one of the rows between the read and the write (PostgreSQL
        // does not lock a row the read did not match): the hooks would miss it.
        return Err(Interrupt::Failed(hook_error(
            "after_batch",
            cx.table,
            Moment::After,
            format!(
                "the batch changed {affected} rows but {} were read for its hooks: rows \
                 changed concurrently; the batch is rolled back",
                before.len()
            )
            .into(),
        )));
    }
    let deleted = cx.kind == OperationKind::Purge;
    let names = key_names::<E>();
    let after = match readback {
        Readback::Nothing => match (rows_wanted, deleted) {
            (false, _) | (_, true) => before,
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
                    let select = select_rows::<E>(keys_condition::<E>(chunk), true);
                    rows.extend(conn.query_all_raw(backend.build(&select)).await?);
                }
                rows
            }
        },
        _ => returned,
    };
    let mut keys = Vec::with_capacity(after.len());
    let mut models = Vec::new();
    for row in &after {
        keys.push(key_of::<E>(row, &names)?);
        if rows_wanted {
            models.push(E::Model::from_query_result(row, "")?);
        }
    }
    let mut phase = Phase::open(conn, Moment::After, cx.table).await?;
    let mut going = true;
    if plan.records {
        for model in &models {
            let (hook, result) = record::<E, C>(&phase.watched, model, cx, Moment::After).await;
            going = phase.note(hook, result);
            if !going {
                break;
            }
        }
    }
    if going && plan.batch.is_some() {
        let rows = match plan.batch {
            Some(BulkHooks::Keys) => Vec::new(),
            _ => models,
        };
        let batch = Batch {
            context: cx,
            keys,
            rows,
        };
        let result = E::after_batch(&phase.watched, &batch).await;
        phase.note("after_batch", result);
    }
    phase.close(affected, &tally).await?;
    Ok((affected, tally))
}

/// `after_batch` in a phase of its own.
async fn after_batch<E: SoftDeleteHooks, C: ConnectionTrait>(
    conn: &C,
    cx: &HookContext<'_>,
    keys: Vec<PrimaryKeyValue<E>>,
    rows: Vec<E::Model>,
    affected: u64,
    tally: &Tally,
) -> Result<(), Interrupt> {
    let mut phase = Phase::open(conn, Moment::After, cx.table).await?;
    let batch = Batch {
        context: cx,
        keys,
        rows,
    };
    let result = E::after_batch(&phase.watched, &batch).await;
    phase.note("after_batch", result);
    phase.close(affected, tally).await
}

/// The savepoint a batch by key returns to when its keys must be read after all.
const SAVEPOINT: &str = "soft_delete_hooks";

/// Keys per re-read of changed rows: far below every backend's bind limit.
const KEYS_PER_READ: usize = 1000;

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
