//! The step: one batch of one operation, whoever drives it.
//!
//! Every change the crate makes goes through [`Step::run`], inside the batch's transaction: a
//! batch of ids, a range of a keyset walk, and a one-record operation (a batch of one key) alike.
//! The step builds the operation's own statements from the entity's one table reference (its
//! schema included), adds the cascade, calls the hooks around them and checks that the hooks
//! left the transaction open; the engine (`bulk::engine`) writes the batch's counts into the
//! operation log in the same transaction ([`log`]) and announces it after the `COMMIT`
//! ([`announce`]). So a cascade, a hook, a log row or an event behaves the same from every entry
//! point: there is no second road.
//!
//! A purge deletes by key only rows still in the state it may take (its cutoff, or a force
//! delete's any state), whatever told it the keys.

pub(crate) mod announce;
pub(crate) mod archive;
pub(crate) mod cascade;
pub(crate) mod hooks;
pub(crate) mod log;
pub(crate) mod statements;

use std::marker::PhantomData;

use sea_orm::sea_query::{Condition, ValueTuple};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use crate::change::{Change, Mark, Verdict};
use crate::entity::{SoftDelete, col, columns};
use crate::error::Error;
use crate::hooks::HookContext;
use crate::operation::{OperationId, OperationKind};
use crate::sql::{
    Table, count, count_keys, count_where, delete_where, format_key, in_range, key_at_start,
    keys_condition, lock, select_rows,
};
pub(crate) use hooks::{HookPlan, Interrupt};
use hooks::{Named, Readback, Statements};
use statements::{KeyedUpdate, keyset_update, state_guard};

/// Rows changed per table (`tenant.orders`), in the order the tables were first met.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally(pub(crate) Vec<(String, u64)>);

impl Tally {
    /// Removes `table`'s count and returns it (0 when it has none).
    pub(crate) fn take(&mut self, table: &str) -> u64 {
        match self.0.iter().position(|(name, _)| name == table) {
            Some(at) => self.0.remove(at).1,
            None => 0,
        }
    }

    pub(crate) fn add(&mut self, table: &str, rows: u64) {
        match self.0.iter_mut().find(|(name, _)| name == table) {
            Some((_, count)) => *count += rows,
            None => self.0.push((table.to_owned(), rows)),
        }
    }

    pub(crate) fn merge(&mut self, other: &Tally) {
        for (table, rows) in &other.0 {
            self.add(table, *rows);
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.0.iter().map(|(_, rows)| rows).sum()
    }
}

/// What a batch does to its rows.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// A soft delete or a restore.
    Change(Change),
    /// A removal for good, of rows also in `state` (a purge's cutoff, or any state for a force
    /// delete), copying them into `archive` first when one is given.
    Purge {
        state: Condition,
        archive: Option<archive::ArchiveTo>,
    },
}

/// Which rows one batch reaches.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target<'a> {
    /// Rows named by key: a batch of ids, or the one key of a one-record operation.
    Keys(&'a [ValueTuple]),
    /// The rows of the walk's condition in the key range `cursor < key <= bound`.
    Range {
        cursor: Option<&'a ValueTuple>,
        bound: Option<&'a ValueTuple>,
    },
}

/// What one batch did.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ran {
    /// Rows of the operation's own table changed.
    pub(crate) affected: u64,
    /// Rows of related tables changed with them by a cascade, per table.
    pub(crate) cascaded: Tally,
    /// Rows a purge with an archive copied into it.
    pub(crate) archived: u64,
    /// The keys changed, for a one-record operation's event; empty for batches.
    pub(crate) keys: Vec<ValueTuple>,
}

/// One operation's step: its action, built once, run for every batch.
pub(crate) struct Step<E> {
    action: Action,
    /// The rows the operation may reach besides its target: the walk's condition for ranges
    /// (the caller's filter, a purge's state and what keeps parents); for keys, a purge's state
    /// and what keeps parents.
    condition: Condition,
    hooks: HookPlan,
    backend: DbBackend,
    table: Table,
    table_name: String,
    operation: OperationId,
    actor: Option<String>,
    reason: Option<String>,
    /// The `UPDATE` of rows named by key, built once (changes only).
    keyed: Option<KeyedUpdate>,
    /// What that `UPDATE` returns: keys named up front need no `RETURNING` when hooks want
    /// keys only.
    keyed_readback: Readback,
    mark: Option<Mark>,
    atomic: bool,
    /// Set when a batch must run again reading its rows first (`Interrupt::Again`).
    read_first: bool,
    /// One-record operations: report the keys changed (for the event), and refuse a force
    /// delete of a row that a cascade keeps.
    one_record: bool,
    _entity: PhantomData<fn() -> E>,
}

/// How a step is set up.
pub(crate) struct StepOptions {
    pub(crate) backend: DbBackend,
    pub(crate) operation: OperationId,
    pub(crate) actor: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) atomic: bool,
    pub(crate) optimize: bool,
    pub(crate) one_record: bool,
    /// A quiet operation: no hook runs.
    pub(crate) quiet: bool,
}

// By hand: a derive would ask `E: Clone`, which entities need not be.
impl<E> Clone for Step<E> {
    fn clone(&self) -> Self {
        Step {
            action: self.action.clone(),
            condition: self.condition.clone(),
            hooks: self.hooks,
            backend: self.backend,
            table: self.table.clone(),
            table_name: self.table_name.clone(),
            operation: self.operation,
            actor: self.actor.clone(),
            reason: self.reason.clone(),
            keyed: self.keyed.clone(),
            keyed_readback: self.keyed_readback,
            mark: self.mark.clone(),
            atomic: self.atomic,
            read_first: self.read_first,
            one_record: self.one_record,
            _entity: PhantomData,
        }
    }
}

impl<E: SoftDelete> Step<E> {
    /// The same step for one worker's part of a walk: its rows also match `part`.
    pub(crate) fn narrowed(&self, part: impl sea_orm::sea_query::IntoCondition) -> Self {
        let mut step = self.clone();
        step.condition = step.condition.add(part);
        step
    }

    /// The step of an operation that does `action` to rows that also match `condition`, with
    /// `extra` assignments (an active model's other changes) beside a change's own.
    pub(crate) fn new(
        action: Action,
        condition: Condition,
        extra: Vec<(E::Column, sea_orm::Value)>,
        options: StepOptions,
    ) -> Self {
        let table = Table::of::<E>();
        let hooks = match (options.quiet, options.one_record) {
            (true, _) => HookPlan::quiet(),
            (false, true) => HookPlan::record::<E>(),
            (false, false) => HookPlan::bulk::<E>(),
        };
        let keyed_readback = match hooks.keys_only() {
            true => Readback::Nothing,
            false => hooks.readback(options.backend),
        };
        let (keyed, mark) = match &action {
            Action::Change(change) => {
                let mut keyed =
                    KeyedUpdate::new::<E>(options.backend, change, extra, options.optimize);
                keyed.returning(keyed_readback.clause::<E>(options.backend));
                (Some(keyed), change.mark(&columns::<E>(), col::<E>(&table)))
            }
            Action::Purge { .. } => (None, None),
        };
        Step {
            action,
            // Nested, so that the walk's own terms (cursor, bound, state guard) are ANDed with
            // the caller's condition even when it is an `any` or a negated condition.
            condition: Condition::all().add(condition),
            hooks,
            backend: options.backend,
            table_name: table.to_string(),
            table,
            operation: options.operation,
            actor: options.actor,
            reason: options.reason,
            keyed,
            keyed_readback,
            mark,
            atomic: options.atomic,
            read_first: false,
            one_record: options.one_record,
            _entity: PhantomData,
        }
    }

    /// The condition the walk reads its ranges with (for a keyset source's bound and what is
    /// left).
    pub(crate) fn condition(&self) -> &Condition {
        &self.condition
    }

    /// What the operation's rows are: for a change, the range's rows in the state it applies
    /// to.
    pub(crate) fn remaining(&self, cursor: Option<&ValueTuple>) -> Condition {
        let condition = crate::sql::remaining::<E>(&self.condition, cursor);
        match &self.action {
            Action::Change(change) => condition.add(state_guard::<E>(change, self.backend)),
            Action::Purge { .. } => condition,
        }
    }

    fn kind(&self) -> OperationKind {
        match &self.action {
            Action::Change(change) => change.kind(),
            Action::Purge { .. } => OperationKind::Purge,
        }
    }

    fn context(&self) -> HookContext<'_> {
        HookContext {
            operation: self.operation,
            kind: self.kind(),
            table: &self.table_name,
            actor: self.actor.as_deref(),
            reason: self.reason.as_deref(),
        }
    }

    /// Runs one batch on `conn`, the batch's transaction.
    pub(crate) async fn run<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        target: Target<'_>,
    ) -> Result<Ran, Interrupt> {
        let (statements, moved) = self.plan(conn, target, true).await?;
        let named = match (target, self.read_first) {
            (Target::Keys(keys), false) => Some(Named {
                keys,
                release: self.atomic,
                mark: match &self.mark {
                    Some(mark) if mark.unique && !self.atomic => Some(&mark.condition),
                    _ => None,
                },
            }),
            _ => None,
        };
        self.read_first = false;
        let cx = self.context();
        let result = hooks::run::<E, C>(conn, &cx, self.hooks, named, statements).await;
        let (affected, mut cascaded) = match result {
            Ok(done) => done,
            Err(Interrupt::Again) => {
                self.read_first = true;
                return Err(Interrupt::Again);
            }
            Err(other) => return Err(other),
        };
        // The archive's rows are counted apart from a cascade's: they are copies, not rows of
        // related tables the purge removed.
        let mut archived = 0;
        if let Action::Purge {
            archive: Some(archive),
            ..
        } = &self.action
        {
            archived = match moved {
                true => affected,
                false => cascaded.take(&archive.table.to_string()),
            };
            archive.check(archived, affected)?;
        }
        if let (true, Target::Keys(keys), Action::Purge { .. }) =
            (self.one_record, target, &self.action)
            && affected < keys.len() as u64
        {
            self.refuse_kept(conn, keys).await?;
        }
        let keys = match (self.one_record, target) {
            (true, Target::Keys(keys)) if affected > 0 => keys.to_vec(),
            _ => Vec::new(),
        };
        Ok(Ran {
            affected,
            cascaded,
            archived,
            keys,
        })
    }

    /// The statements of the batch on `target`, for `EXPLAIN`: changes nothing, but runs the
    /// read-only queries they depend on.
    pub(crate) async fn preview<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        target: Target<'_>,
    ) -> Result<Vec<Statement>, DbErr> {
        let (statements, _) = match self.plan(conn, target, false).await {
            Ok(planned) => planned,
            Err(Interrupt::Failed(Error::Db(error))) => return Err(error),
            Err(other) => return Err(DbErr::Custom(format!("{other:?}"))),
        };
        Ok(cascade::in_order(
            statements.cascade_first,
            statements.own,
            statements.cascade,
        ))
    }

    /// After the `COMMIT` of a batch that ran on `target` and did `ran` was lost (or a hook ended
    /// its transaction), and its session has ended: whether the batch's changes are in the
    /// database, checked on `conn`, another session.
    pub(crate) async fn verify<C: ConnectionTrait>(
        &self,
        conn: &C,
        target: Target<'_>,
        ran: &Ran,
    ) -> Result<Verdict, DbErr> {
        match (&self.action, target) {
            (Action::Change(_), Target::Keys(keys)) => {
                let Some(mark) = &self.mark else {
                    return Ok(Verdict::Unknown);
                };
                let mut found = 0;
                for query in count_keys::<E>(self.backend, keys, &mark.condition) {
                    found += count(conn, &query).await?;
                }
                Ok(mark.verdict(found, ran.affected))
            }
            (Action::Change(change), Target::Range { cursor, bound }) => {
                let Some(mark) = &self.mark else {
                    return Ok(Verdict::Unknown);
                };
                // A committed soft delete may have changed what the caller's condition reads
                // (`undo` selects by `deletion_op`); its operation's id alone tells its rows.
                let condition = match change {
                    Change::SoftDelete { .. } if E::deletion_op_column().is_some() => {
                        Condition::all()
                    }
                    _ => self.condition.clone(),
                };
                let range = in_range::<E>(&condition, cursor, bound);
                let found =
                    count(conn, &count_where::<E>(&range.add(mark.condition.clone()))).await?;
                Ok(mark.verdict(found, ran.affected))
            }
            (Action::Purge { state, .. }, target) => {
                // A purge leaves no mark: its rows are gone (committed) or all still there.
                let left = match target {
                    Target::Keys(keys) => {
                        let mut left = 0;
                        for query in count_keys::<E>(self.backend, keys, state) {
                            left += count(conn, &query).await?;
                        }
                        left
                    }
                    Target::Range { cursor, bound } => {
                        count(
                            conn,
                            &count_where::<E>(&in_range::<E>(&self.condition, cursor, bound)),
                        )
                        .await?
                    }
                };
                Ok(match left {
                    0 => Verdict::Committed,
                    left if left == ran.affected => Verdict::RolledBack,
                    _ => Verdict::Unknown,
                })
            }
        }
    }

    /// The statements of one batch. A purge of parents with a cascade, or with an archive,
    /// first reads (and locks) the keys of the rows it will remove, and then sends every
    /// statement by those keys and its state. With the condition that keeps parents with kept
    /// rows (`NOT EXISTS …`) inside a `DELETE`, MariaDB 10.11 took 41 s for 2,000 parents whose
    /// children the same transaction had just deleted (the same condition in a `SELECT`: 14 ms).
    /// An archive's copy and the delete must see the same rows, which the locked keys guarantee
    /// and the range's condition, read twice, would not. Also returns whether the own
    /// statements archive the rows they delete themselves (PostgreSQL's move).
    async fn plan<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        target: Target<'_>,
        running: bool,
    ) -> Result<(Statements, bool), Interrupt> {
        let backend = self.backend;
        let readback = match running {
            true => self.hooks.readback(backend),
            false => Readback::Nothing,
        };
        let clause = readback.clause::<E>(backend);
        match (&self.action, target) {
            (Action::Change(change), Target::Keys(keys)) => {
                let keyed = self.keyed.as_mut().expect("a change has its keyed update");
                let own = keyed.statements(keys);
                let table = &self.table;
                // Only hooks read the rows: without them, no copy of the batch's keys is made.
                let target = match self.hooks.none() {
                    true => Vec::new(),
                    false => keys
                        .chunks(KEYS_PER_READ)
                        .map(|chunk| {
                            keys_condition::<E>(chunk)
                                .add(change.guard(&E::marker(), col::<E>(table)))
                        })
                        .collect(),
                };
                Ok((
                    Statements {
                        cascade_first: change.restores(),
                        own,
                        cascade: cascade::for_keys::<E>(backend, change, keys),
                        target,
                        // What the keyed update carries, chosen once.
                        readback: self.keyed_readback,
                    },
                    false,
                ))
            }
            (Action::Change(change), Target::Range { cursor, bound }) => {
                let range = in_range::<E>(&self.condition, cursor, bound);
                let mut statement = backend.build(&keyset_update::<E>(
                    change,
                    backend,
                    &self.condition,
                    cursor,
                    bound,
                ));
                statement.sql.push_str(&clause);
                let cascade = match change {
                    // After the parents' `UPDATE`, the caller's condition may no longer hold
                    // for them (it may name the columns the soft delete sets: `undo` selects by
                    // `deletion_op`); the range and the operation's id find exactly the rows it
                    // stamped.
                    Change::SoftDelete { .. } => cascade::statements::<E>(
                        backend,
                        change,
                        in_range::<E>(&Condition::all(), cursor, bound),
                    ),
                    Change::Restore { .. } => {
                        cascade::statements::<E>(backend, change, range.clone())
                    }
                };
                Ok((
                    Statements {
                        cascade_first: change.restores(),
                        own: vec![statement],
                        cascade,
                        target: vec![range.add(state_guard::<E>(change, backend))],
                        readback,
                    },
                    false,
                ))
            }
            (Action::Purge { state, archive }, target) => {
                let rows = match target {
                    Target::Range { cursor, bound } => {
                        in_range::<E>(&self.condition, cursor, bound)
                    }
                    Target::Keys(keys) => keys_condition::<E>(keys).add(self.condition.clone()),
                };
                if let (Some(archive), Target::Range { .. }, true, true) =
                    (archive, target, self.hooks.none(), E::cascade().is_empty())
                {
                    let delete = backend.build(&delete_where::<E>(rows.clone()));
                    match backend {
                        DbBackend::Postgres => {
                            return Ok((
                                Statements {
                                    cascade_first: true,
                                    own: vec![archive.move_rows::<E>(delete)],
                                    cascade: Vec::new(),
                                    target: vec![rows],
                                    readback: Readback::Nothing,
                                },
                                true,
                            ));
                        }
                        DbBackend::Sqlite => {
                            // Both run under the batch's write lock (taken by the first, held
                            // to `COMMIT`), so no other connection changes a row in between.
                            return Ok((
                                Statements {
                                    cascade_first: true,
                                    own: vec![delete],
                                    cascade: vec![cascade::TableStatement {
                                        table: archive.table.to_string(),
                                        statement: archive.copy::<E>(backend, rows.clone()),
                                    }],
                                    target: vec![rows],
                                    readback: Readback::Nothing,
                                },
                                false,
                            ));
                        }
                        // MySQL/MariaDB: under `READ COMMITTED` a row of the range can change
                        // between two statements that do not lock it first.
                        _ => {}
                    }
                }
                if archive.is_none() && E::cascade().is_empty() {
                    let mut statement = backend.build(&delete_where::<E>(rows.clone()));
                    statement.sql.push_str(&clause);
                    return Ok((
                        Statements {
                            cascade_first: true,
                            own: vec![statement],
                            cascade: Vec::new(),
                            target: vec![rows],
                            readback,
                        },
                        false,
                    ));
                }
                let select = lock(select_rows::<E>(rows, false), backend);
                let mut keys = Vec::new();
                for row in conn.query_all_raw(backend.build(&select)).await? {
                    keys.push(key_at_start::<E>(&row)?);
                }
                let mut planned = Statements {
                    cascade_first: true,
                    own: Vec::new(),
                    cascade: Vec::new(),
                    target: Vec::new(),
                    readback,
                };
                for chunk in keys.chunks(cascade::KEYS_PER_STATEMENT) {
                    let parents = keys_condition::<E>(chunk);
                    planned
                        .cascade
                        .extend(cascade::purge_statements::<E>(backend, parents.clone()));
                    // By key, and only while still in the purgeable state: defence in depth
                    // against a key read from the wrong place.
                    let rows = parents.add(state.clone());
                    if let Some(archive) = archive {
                        planned.cascade.push(cascade::TableStatement {
                            table: archive.table.to_string(),
                            statement: archive.copy::<E>(backend, rows.clone()),
                        });
                    }
                    let mut statement = backend.build(&delete_where::<E>(rows.clone()));
                    statement.sql.push_str(&clause);
                    planned.own.push(statement);
                    planned.target.push(rows);
                }
                Ok((planned, false))
            }
        }
    }

    /// After a one-record force delete removed fewer rows than it named: a named row that still
    /// exists is kept by its cascade (a purge never takes a parent from under a kept row), and
    /// the operation fails with [`Error::Kept`], naming the table that keeps it.
    async fn refuse_kept<C: ConnectionTrait>(
        &self,
        conn: &C,
        keys: &[ValueTuple],
    ) -> Result<(), Interrupt> {
        for key in keys {
            let one = std::slice::from_ref(key);
            for (kept_in, kept) in cascade::kept_by_table::<E>() {
                let rows = keys_condition::<E>(one).add(kept);
                if count(conn, &count_where::<E>(&rows)).await? > 0 {
                    return Err(Interrupt::Failed(Error::Kept {
                        table: self.table_name.clone(),
                        key: format_key(key),
                        kept_in,
                    }));
                }
            }
        }
        Ok(())
    }
}

/// Keys per statement of a hook's read of a batch's rows.
const KEYS_PER_READ: usize = 1000;
