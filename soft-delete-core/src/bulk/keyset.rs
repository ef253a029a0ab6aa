//! Rows chosen by a condition: a walk forward by primary key, for bulk operations `..._where`
//! and purges.

use sea_orm::sea_query::{Condition, IntoValueTuple, ValueTuple};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, PrimaryKeyTrait, Statement, TryGetableMany};

use super::engine::{BatchSource, Outcome, Verified, count};
use super::sql;
use crate::entity::{Change, SoftDelete};
use crate::hooks::{HookContext, Returning};
use crate::operation::{OperationId, OperationKind};

/// What a keyset walk does to each range of rows.
#[derive(Clone, Debug)]
pub(crate) enum KeysetAction {
    /// Soft delete or restore.
    Update(Change),
    /// Remove for good, copying the rows into an archive table first when one is given.
    Delete(Option<crate::archive::ArchiveTo>),
}

/// Batches of rows chosen by a condition, walked forward by primary key.
pub(crate) struct KeysetSource<E> {
    condition: Condition,
    action: KeysetAction,
    batch_size: super::BatchSize,
    backend: DbBackend,
    operation: OperationId,
    cursor: Option<ValueTuple>,
    done: bool,
    _entity: std::marker::PhantomData<fn() -> E>,
}

impl<E: SoftDelete> KeysetSource<E> {
    /// The cascade of the batch between `cursor` and `bound`, and whether it runs first.
    fn cascade(
        &self,
        cursor: Option<&ValueTuple>,
        bound: Option<&ValueTuple>,
    ) -> (bool, Vec<crate::cascade::Step>) {
        let range = sql::in_range::<E>(&self.condition, cursor, bound);
        match &self.action {
            // After the parents' `UPDATE`, the caller's condition may no longer hold for them
            // (it may name the columns the soft delete sets: `undo` selects by `deletion_op`);
            // the range and the operation's id find exactly the rows it stamped.
            KeysetAction::Update(change @ Change::SoftDelete { .. }) => (
                false,
                crate::cascade::statements::<E>(
                    self.backend,
                    change,
                    sql::in_range::<E>(&Condition::all(), cursor, bound),
                ),
            ),
            KeysetAction::Update(change) => (
                crate::cascade::cascade_first(change),
                crate::cascade::statements::<E>(self.backend, change, range),
            ),
            KeysetAction::Delete(_) => (
                true,
                crate::cascade::purge_statements::<E>(self.backend, range),
            ),
        }
    }

    /// Walks the rows matching `condition` (the action adds its own guard: active rows for a
    /// soft delete, deleted rows for a restore).
    pub(crate) fn new(
        condition: Condition,
        action: KeysetAction,
        batch_size: super::BatchSize,
        backend: DbBackend,
        operation: OperationId,
    ) -> Self {
        KeysetSource {
            // Nested, so that the walk's own terms (cursor, bound, state guard) are ANDed with
            // the caller's condition even when it is an `any` or a negated condition.
            condition: Condition::all().add(condition),
            action,
            batch_size,
            backend,
            operation,
            cursor: None,
            done: false,
            _entity: std::marker::PhantomData,
        }
    }
}

impl<E: SoftDelete> KeysetSource<E> {
    /// Phase one: the key of the batch's last row, or `None` when fewer rows than a batch are
    /// left.
    async fn bound<C: ConnectionTrait>(
        &self,
        conn: &C,
        cursor: Option<&ValueTuple>,
    ) -> Result<Option<ValueTuple>, DbErr> {
        let query = self.bound_statement(cursor);
        match conn.query_one_raw(query).await? {
            Some(row) => Ok(Some(
                <<E::PrimaryKey as PrimaryKeyTrait>::ValueType as TryGetableMany>::try_get_many_by_index(&row)?
                    .into_value_tuple(),
            )),
            None => Ok(None),
        }
    }

    /// The statement of phase one.
    fn bound_statement(&self, cursor: Option<&ValueTuple>) -> Statement {
        let query = sql::keyset_bound::<E>(&self.condition, cursor, self.batch_size.get());
        self.backend.build(&query)
    }

    /// Phase two: the statement that changes the range `cursor < key <= bound`.
    fn change_statement(
        &self,
        cursor: Option<&ValueTuple>,
        bound: Option<&ValueTuple>,
    ) -> Statement {
        match &self.action {
            KeysetAction::Update(change) => self.backend.build(&sql::keyset_update::<E>(
                change,
                self.backend,
                &self.condition,
                cursor,
                bound,
            )),
            KeysetAction::Delete(_) => {
                self.backend
                    .build(&sql::keyset_delete::<E>(&self.condition, cursor, bound))
            }
        }
    }
}

/// What one batch sends: its own statements, its cascade (and whether that runs first), and
/// the conditions that select the rows its own statements change, for hooks that read them.
struct Planned {
    first: bool,
    own: Vec<Statement>,
    cascade: Vec<crate::cascade::Step>,
    target: Vec<Condition>,
    /// True when the own statements also archive the rows they delete (PostgreSQL's
    /// `WITH … DELETE … RETURNING` into the archive).
    moved: bool,
}

impl<E: SoftDelete> KeysetSource<E> {
    /// The statements of the batch between `cursor` and `bound`. A purge of parents with a
    /// cascade, or with an archive, first reads (and locks) the keys of the rows it will
    /// remove, and then sends every statement by those keys. With the condition that keeps
    /// parents with kept rows (`NOT EXISTS …`) inside a `DELETE`, MariaDB 10.11 took 41 s for
    /// 2,000 parents whose children the same transaction had just deleted (the same condition
    /// in a `SELECT`: 14 ms). An archive's copy and the delete must see the same rows, which
    /// the locked keys guarantee and the range's condition, read twice, would not.
    async fn plan<C: ConnectionTrait>(
        &self,
        conn: &C,
        cursor: Option<&ValueTuple>,
        bound: Option<&ValueTuple>,
        returning: Returning,
    ) -> Result<Planned, DbErr> {
        let backend = self.backend;
        let range = sql::in_range::<E>(&self.condition, cursor, bound);
        if let KeysetAction::Delete(Some(archive)) = &self.action
            && let Some(planned) = self.plan_archive_by_range(archive, cursor, bound, range.clone())
        {
            return Ok(planned);
        }
        if let KeysetAction::Delete(archive) = &self.action
            && (archive.is_some() || !E::cascade().is_empty())
        {
            let select = crate::hooks::lock(crate::hooks::select_rows::<E>(range, false), backend);
            let mut keys = Vec::new();
            for row in conn.query_all_raw(backend.build(&select)).await? {
                keys.push(
                    <<E::PrimaryKey as PrimaryKeyTrait>::ValueType as TryGetableMany>::try_get_many_by_index(&row)?
                        .into_value_tuple(),
                );
            }
            let mut planned = Planned {
                first: true,
                own: Vec::new(),
                cascade: Vec::new(),
                target: Vec::new(),
                moved: false,
            };
            for chunk in keys.chunks(crate::cascade::KEYS_PER_STATEMENT) {
                let parents = crate::cascade::keys_condition::<E>(chunk);
                planned
                    .cascade
                    .extend(crate::cascade::purge_statements::<E>(
                        backend,
                        parents.clone(),
                    ));
                if let Some(archive) = archive {
                    planned.cascade.push(crate::cascade::Step {
                        table: archive.table.clone(),
                        statement: archive.copy::<E>(backend, parents.clone()),
                    });
                }
                let mut delete = sea_orm::sea_query::Query::delete();
                delete
                    .from_table(E::default().table_ref())
                    .cond_where(parents.clone());
                let mut statement = backend.build(&delete);
                statement.sql.push_str(&returning.clause::<E>(backend));
                planned.own.push(statement);
                planned.target.push(parents);
            }
            return Ok(planned);
        }
        let mut statement = self.change_statement(cursor, bound);
        statement.sql.push_str(&returning.clause::<E>(backend));
        let (first, cascade) = self.cascade(cursor, bound);
        let target = match &self.action {
            KeysetAction::Update(change) => range.add(sql::state_guard::<E>(change, backend)),
            KeysetAction::Delete(_) => range,
        };
        Ok(Planned {
            first,
            own: vec![statement],
            cascade,
            target: vec![target],
            moved: false,
        })
    }

    /// The archive and the delete of a batch over its key range, where the backend lets both
    /// see the same rows without reading the keys first; `None` elsewhere (then the batch reads
    /// and locks its keys, see [`plan`](Self::plan)).
    ///
    /// * PostgreSQL: one statement, `WITH moved AS (DELETE … RETURNING …) INSERT INTO <archive>
    ///   SELECT … FROM moved`: the rows it archives are the rows it deleted, by construction.
    /// * SQLite: `INSERT … SELECT` then `DELETE` over the range. Both run under the batch's
    ///   write lock (taken by the first, held to `COMMIT`), so no other connection changes a
    ///   row in between.
    /// * MySQL/MariaDB: `None`. Under `READ COMMITTED` a row of the range can change between two
    ///   statements that do not lock it first.
    ///
    /// Entities with a cascade or with bulk hooks take the keyed plan too.
    fn plan_archive_by_range(
        &self,
        archive: &crate::archive::ArchiveTo,
        cursor: Option<&ValueTuple>,
        bound: Option<&ValueTuple>,
        range: Condition,
    ) -> Option<Planned> {
        let hooks = E::HOOKS && E::BULK != crate::hooks::BulkHooks::Off;
        if hooks || !E::cascade().is_empty() {
            return None;
        }
        let backend = self.backend;
        let delete = self.change_statement(cursor, bound);
        match backend {
            DbBackend::Postgres => Some(Planned {
                first: true,
                own: vec![archive.move_rows::<E>(delete)],
                cascade: Vec::new(),
                target: vec![range],
                moved: true,
            }),
            DbBackend::Sqlite => Some(Planned {
                first: true,
                own: vec![delete],
                cascade: vec![crate::cascade::Step {
                    table: archive.table.clone(),
                    statement: archive.copy::<E>(backend, range.clone()),
                }],
                target: vec![range],
                moved: false,
            }),
            _ => None,
        }
    }
}

impl<E: SoftDelete> BatchSource for KeysetSource<E> {
    type Unit = Option<ValueTuple>;
    type Next = Option<ValueTuple>;

    fn total(&self) -> Option<u64> {
        None
    }

    async fn next_unit(&mut self) -> Option<Option<ValueTuple>> {
        (!self.done).then(|| self.cursor.clone())
    }

    async fn execute<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        cursor: &Option<ValueTuple>,
    ) -> crate::error::Result<Outcome<Option<ValueTuple>>> {
        let cursor = cursor.as_ref();
        let bound = self.bound(conn, cursor).await?;
        let returning = Returning::of::<E>(self.backend);
        let Planned {
            first,
            own,
            cascade,
            target,
            moved,
        } = self.plan(conn, cursor, bound.as_ref(), returning).await?;
        let cx = match &self.action {
            KeysetAction::Update(change) => change.hook_context::<E>(),
            KeysetAction::Delete(_) => HookContext {
                operation: self.operation,
                kind: OperationKind::Purge,
                table: E::default().table_name(),
                actor: None,
                reason: None,
            },
        };
        let (affected, cascaded) = crate::hooks::run_batch::<E, _>(
            conn,
            &cx,
            || target,
            None,
            first,
            own,
            returning,
            cascade,
        )
        .await?;
        // The archive's rows are counted apart from a cascade's: they are copies, not rows of
        // related tables the purge removed.
        let mut cascaded = cascaded;
        let mut archived = 0;
        if let KeysetAction::Delete(Some(archive)) = &self.action {
            archived = match moved {
                true => affected,
                false => cascaded.take(&archive.table),
            };
            archive.check(archived, affected)?;
        }
        Ok(Outcome {
            affected,
            cascaded,
            archived,
            processed: affected,
            next: bound,
        })
    }

    async fn preview<C: ConnectionTrait>(&mut self, conn: &C) -> Result<Vec<Statement>, DbErr> {
        let cursor = self.cursor.clone();
        let bound = self.bound(conn, cursor.as_ref()).await?;
        let planned = self
            .plan(conn, cursor.as_ref(), bound.as_ref(), Returning::Nothing)
            .await?;
        let mut statements = vec![self.bound_statement(cursor.as_ref())];
        statements.extend(crate::cascade::in_order(
            planned.first,
            planned.own,
            planned.cascade,
        ));
        Ok(statements)
    }

    async fn verify<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        cursor: &Option<ValueTuple>,
        outcome: &Outcome<Option<ValueTuple>>,
    ) -> Result<Verified, DbErr> {
        let range = sql::in_range::<E>(&self.condition, cursor.as_ref(), outcome.next.as_ref());
        match &self.action {
            KeysetAction::Update(change) => {
                // As for the cascade: a committed soft delete may have changed what the
                // caller's condition reads; its operation's id alone tells its rows.
                let range = match change {
                    Change::SoftDelete { .. } if E::deletion_op_column().is_some() => {
                        sql::in_range::<E>(
                            &Condition::all(),
                            cursor.as_ref(),
                            outcome.next.as_ref(),
                        )
                    }
                    _ => range,
                };
                let Some(mark) = change.mark::<E>() else {
                    return Ok(Verified::Unknown);
                };
                let found = count(
                    conn,
                    &sql::count_where::<E>(&range.add(mark.condition.clone())),
                )
                .await?;
                Ok(mark.verdict(found, outcome.affected))
            }
            KeysetAction::Delete(_) => {
                // A purge leaves no mark: its rows are gone (committed) or all still there.
                let left = count(conn, &sql::count_where::<E>(&range)).await?;
                Ok(match left {
                    0 => Verified::Committed,
                    left if left == outcome.affected => Verified::RolledBack,
                    _ => Verified::Unknown,
                })
            }
        }
    }

    fn advance(&mut self, next: Option<ValueTuple>) {
        match next {
            Some(bound) => self.cursor = Some(bound),
            None => self.done = true,
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }

    async fn remaining<C: ConnectionTrait>(
        &self,
        conn: &C,
        _processed: u64,
    ) -> Result<Option<u64>, DbErr> {
        let mut condition = sql::remaining::<E>(&self.condition, self.cursor.as_ref());
        if let KeysetAction::Update(change) = &self.action {
            condition = condition.add(sql::state_guard::<E>(change, self.backend));
        }
        count(conn, &sql::count_where::<E>(&condition))
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::IntoValueTuple;
    use sea_orm::{ColumnTrait, DbBackend};

    use super::*;
    use crate::test_entities::user;

    #[test]
    fn a_callers_any_condition_stays_one_term_of_the_walk() {
        let any = Condition::any()
            .add(user::Column::Id.between(1, 5))
            .add(user::Column::Name.eq("x"));
        let source = KeysetSource::<user::Entity>::new(
            any,
            KeysetAction::Delete(None),
            crate::BatchSize::unchecked(10),
            DbBackend::Sqlite,
            OperationId::new(),
        );
        let cursor = 3i64.into_value_tuple();
        let bound = sql::keyset_bound::<user::Entity>(&source.condition, Some(&cursor), 10);
        assert_eq!(
            DbBackend::Sqlite.build(&bound).to_string(),
            r#"SELECT "id" FROM "users" WHERE (("users"."id" BETWEEN 1 AND 5) OR "users"."name" = 'x') AND "id" > 3 ORDER BY "id" ASC LIMIT 1 OFFSET 9"#
        );
        let negated = Condition::all().add(user::Column::Id.eq(2)).not();
        let source = KeysetSource::<user::Entity>::new(
            negated,
            KeysetAction::Delete(None),
            crate::BatchSize::unchecked(10),
            DbBackend::Sqlite,
            OperationId::new(),
        );
        let delete = sql::keyset_delete::<user::Entity>(&source.condition, Some(&cursor), None);
        assert_eq!(
            DbBackend::Sqlite.build(&delete).to_string(),
            r#"DELETE FROM "users" WHERE (NOT "users"."id" = 2) AND "id" > 3"#
        );
    }
}
