//! The statements that carry a batch's change to its cascade (see [`crate::cascade`] for what
//! a cascade does), and the order they run in beside the batch's own statements.

use sea_orm::sea_query::IntoIden;
use sea_orm::sea_query::{
    Condition, DynIden, Expr, ExprTrait, JoinType, Query, SelectStatement, TableRef,
    UpdateStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement};

use super::Tally;
use crate::cascade::CascadeChild;
use crate::change::Change;
use crate::entity::SoftDelete;
use crate::sql::{Table, alias, keys_condition};

use crate::time::bind_timestamps;

/// What a batch does to the rows of a cascade: writes a change, or purges them.
#[derive(Clone, Copy)]
enum Walk<'c> {
    Change(&'c Change),
    Purge,
}

/// The rows of one table that a batch's operation reaches: the root's rows by the batch's
/// condition, a child's through its parent's.
enum Level<'a> {
    Root {
        table: Table,
        op_column: Option<DynIden>,
        /// The batch's rows of the root, already restricted to the operation's.
        condition: Condition,
    },
    Child {
        child: &'a CascadeChild,
        parent: &'a Level<'a>,
    },
}

impl Level<'_> {
    fn table(&self) -> &Table {
        match self {
            Level::Root { table, .. } => table,
            Level::Child { child, .. } => &child.table,
        }
    }

    fn op_column(&self) -> Option<DynIden> {
        match self {
            Level::Root { op_column, .. } => op_column.clone(),
            Level::Child { child, .. } => child.columns.deletion_op.clone().map(|c| c.iden),
        }
    }

    /// `SELECT columns FROM table WHERE <these rows>`.
    fn select(&self, columns: &[DynIden], walk: Walk<'_>) -> SelectStatement {
        self.select_as(columns, walk, false)
    }

    /// [`select`](Self::select), its columns named `soft_delete_p0`, `soft_delete_p1`, … when
    /// `aliased`: the derived table MySQL joins, whose columns must not share a name with a
    /// column the statement sets (sea-query qualifies `SET` columns only for tables without a
    /// schema, and `deletion_op` is in both).
    fn select_as(&self, columns: &[DynIden], walk: Walk<'_>, aliased: bool) -> SelectStatement {
        let table = self.table();
        let mut select = Query::select();
        for (i, column) in columns.iter().enumerate() {
            match aliased {
                true => select.expr_as(table.col(column.clone()), parent_alias(i)),
                false => select.column(table.column(column.clone())),
            };
        }
        select
            .from(table.table_ref())
            .cond_where(self.condition(walk));
        select
    }

    fn condition(&self, walk: Walk<'_>) -> Condition {
        match self {
            Level::Root { condition, .. } => condition.clone(),
            Level::Child { child, parent } => {
                let (parent_columns, child_columns) = keys(child, parent, walk);
                let rows = Condition::all().add(
                    columns(&child.table, &child_columns)
                        .in_subquery(parent.select(&parent_columns, walk)),
                );
                match walk {
                    // The children this operation stamped, not those deleted before.
                    Walk::Change(Change::SoftDelete { op, .. }) => {
                        rows.add(child.table.col(child.op_column()).eq(*op))
                    }
                    Walk::Change(Change::Restore { .. }) => rows.add(deleted(child)),
                    // Every row under a purged parent goes with it.
                    Walk::Purge => rows,
                }
            }
        }
    }
}

/// "The child row is live", its columns qualified by its table.
fn live(child: &CascadeChild) -> Expr {
    child
        .columns
        .marker
        .live_in(|column| child.table.col(column))
}

/// "The child row is soft-deleted", its columns qualified by its table.
fn deleted(child: &CascadeChild) -> Expr {
    child
        .columns
        .marker
        .deleted_in(|column| child.table.col(column))
}

/// The keys that tie a child row to the parent rows `parent`: the parent's columns and the
/// child's that must equal them.
fn keys(child: &CascadeChild, parent: &Level<'_>, walk: Walk<'_>) -> (Vec<DynIden>, Vec<DynIden>) {
    let mut parent_columns = child.parent_columns.clone();
    let mut child_columns = child.child_columns.clone();
    // For a restore, the parents are still deleted and carry the id of the operation that
    // deleted them: their children are the rows under them deleted by that same operation. For
    // a soft delete the parents were stamped first, in the same transaction (and a purge's are
    // about to go): their children are the rows under them.
    if let Walk::Change(Change::Restore { .. }) = walk {
        parent_columns.extend(parent.op_column());
        child_columns.push(child.op_column());
    }
    (parent_columns, child_columns)
}

/// Which of the rows under the parents a step changes: the active ones for a soft delete (only
/// those the reversed restore brought back, for an undo of one), the deleted ones for a
/// restore, all of them for a purge.
fn own_rows(child: &CascadeChild, walk: Walk<'_>) -> Condition {
    match walk {
        Walk::Change(Change::SoftDelete { reverses, .. }) => {
            let rows = Condition::all().add(live(child));
            match reverses {
                Some(restore) => rows.add(child.table.col(child.op_column()).eq(*restore)),
                None => rows,
            }
        }
        Walk::Change(Change::Restore { .. }) => Condition::all().add(deleted(child)),
        Walk::Purge => Condition::all(),
    }
}

/// The name the joined parents go by in MySQL's multi-table statements.
const PARENTS: &str = "soft_delete_parents";

/// The name of the derived table's `i`-th column (see `Level::select_as`).
fn parent_alias(i: usize) -> DynIden {
    alias(&format!("soft_delete_p{i}"))
}

/// `child.a = soft_delete_parents.soft_delete_p0 AND …`: the join of a multi-table statement.
fn joined(child: &CascadeChild, child_columns: &[DynIden]) -> Condition {
    let parents = alias(PARENTS);
    child_columns
        .iter()
        .enumerate()
        .fold(Condition::all(), |all, (i, child_column)| {
            all.add(
                child
                    .table
                    .col(child_column.clone())
                    .equals((parents.clone(), parent_alias(i))),
            )
        })
}

/// One step's statement. Everywhere but MySQL/MariaDB the children are selected with
/// `(child keys) IN (SELECT parent keys …)`, which PostgreSQL and SQLite turn into index
/// lookups. MariaDB (before 11.1) and MySQL do not: a single-table `UPDATE`/`DELETE` with an
/// `IN` subquery reads the whole child table for every statement (measured on MariaDB 10.11:
/// 12k rows/s for a cascade of 100k folders with 1M files). There the parents are joined as a
/// derived table instead (`UPDATE child JOIN (SELECT …) AS soft_delete_parents ON … SET …`,
/// `DELETE child FROM child JOIN …`), and the child table is reached through its index on the
/// foreign key. A cascade has no cycle (`cascade::check`), so the derived table never reads the
/// table the statement changes (which MySQL would refuse).
fn statement(
    child: &CascadeChild,
    parent: &Level<'_>,
    walk: Walk<'_>,
    backend: DbBackend,
) -> Statement {
    let (parent_columns, child_columns) = keys(child, parent, walk);
    let mysql = backend == DbBackend::MySql;
    let parents = parent.select_as(&parent_columns, walk, mysql);
    let own = own_rows(child, walk);
    let rows = match mysql {
        true => joined(child, &child_columns).add(own),
        false => own.add(columns(&child.table, &child_columns).in_subquery(parents.clone())),
    };
    let parents_ref = || TableRef::SubQuery(Box::new(parents.clone()), alias(PARENTS));
    match walk {
        Walk::Change(change) => {
            let mut update: UpdateStatement = Query::update();
            update.table(child.table.table_ref());
            if mysql {
                // MySQL's builder writes the condition as the join's `ON`.
                update.from(parents_ref());
            }
            for (column, value) in change.assignments(&child.columns) {
                update.value(column, Expr::val(value));
            }
            update.cond_where(rows);
            bind_timestamps(backend.build(&update))
        }
        Walk::Purge if mysql => {
            // sea-query has no multi-table DELETE: the same join as a SELECT, given DELETE's head.
            let mut select = Query::select();
            select
                .expr(Expr::cust("1"))
                .from(child.table.table_ref())
                .join(JoinType::InnerJoin, parents_ref(), rows);
            let mut statement = backend.build(&select);
            let tail = statement
                .sql
                .strip_prefix("SELECT 1 ")
                .expect("a SELECT of a literal starts with it");
            statement.sql = format!("DELETE {} {tail}", child.table.sql(backend));
            statement
        }
        Walk::Purge => {
            let mut delete = Query::delete();
            delete.from_table(child.table.table_ref()).cond_where(rows);
            backend.build(&delete)
        }
    }
}

/// `t.a` or `(t.a, t.b)`.
fn columns(table: &Table, columns: &[DynIden]) -> Expr {
    let mut exprs: Vec<Expr> = columns
        .iter()
        .map(|column| table.col(column.clone()))
        .collect();
    if exprs.len() == 1 {
        exprs.remove(0)
    } else {
        Expr::tuple(exprs)
    }
}

/// One statement of a cascade, with the table it changes (`tenant.posts`).
#[derive(Clone, Debug)]
pub(crate) struct TableStatement {
    pub(crate) table: String,
    pub(crate) statement: Statement,
}

/// The statements that carry `change` from a batch of `E`'s rows to its cascade: for a soft
/// delete, to run after the parents' statement (each level after the one above); for a restore,
/// before it (the deepest level first, while the parents still hold their operation id).
/// `batch` selects the batch's rows of `E`, as the parents' own statement does.
pub(crate) fn statements<E: SoftDelete>(
    backend: DbBackend,
    change: &Change,
    batch: Condition,
) -> Vec<TableStatement> {
    let children = E::cascade();
    if children.is_empty() {
        return Vec::new();
    }
    let table = Table::of::<E>();
    let op_column = E::deletion_op_column().map(IntoIden::into_iden);
    let condition = match (change, &op_column) {
        (Change::SoftDelete { op, .. }, Some(column)) => {
            batch.add(table.col(column.clone()).eq(*op))
        }
        _ => batch.add(E::marker().deleted_in(|column| table.col(column))),
    };
    let root = Level::Root {
        table,
        op_column,
        condition,
    };
    let mut steps = Vec::new();
    collect(&children, &root, Walk::Change(change), backend, &mut steps);
    if change.restores() {
        steps.reverse();
    }
    steps
}

/// The statements that purge the cascade of a batch of `E`'s rows, the deepest level first, to
/// run before the parents' own `DELETE`: every row under the batch's parents. `batch` selects
/// the batch's rows of `E` and includes [`purgeable`], so no parent whose cascade keeps a row
/// is reached.
pub(crate) fn purge_statements<E: SoftDelete>(
    backend: DbBackend,
    batch: Condition,
) -> Vec<TableStatement> {
    let children = E::cascade();
    if children.is_empty() {
        return Vec::new();
    }
    let root = Level::Root {
        table: Table::of::<E>(),
        op_column: None,
        condition: batch,
    };
    let mut steps = Vec::new();
    collect(&children, &root, Walk::Purge, backend, &mut steps);
    steps.reverse();
    steps
}

/// What a purge of `E`'s rows with a cascade adds to its condition: no row under the parent is
/// kept. A row is kept when it is active, or when a row under it is kept; so a parent with an
/// active child, or with a deleted child that has an active one, stays (soft-deleted) until
/// those are deleted too. `None` for entities without a cascade.
pub(crate) fn purgeable<E: SoftDelete>() -> Option<Condition> {
    let children = E::cascade();
    if children.is_empty() {
        return None;
    }
    let table = Table::of::<E>();
    Some(children.iter().fold(Condition::all(), |all, child| {
        all.add(Expr::exists(kept_under(&table, child)).not())
    }))
}

/// For each table of `E`'s cascade, the condition "a row of it under this row of `E` is kept":
/// why a purge leaves a row (see [`purgeable`]), to name in an error.
pub(crate) fn kept_by_table<E: SoftDelete>() -> Vec<(String, Condition)> {
    let table = Table::of::<E>();
    E::cascade()
        .iter()
        .map(|child| {
            (
                child.table.to_string(),
                Condition::all().add(Expr::exists(kept_under(&table, child))),
            )
        })
        .collect()
}

/// `SELECT 1 FROM child WHERE <under the parent row> AND <kept>`, correlated with `parent`.
fn kept_under(parent: &Table, child: &CascadeChild) -> SelectStatement {
    let mut kept = Condition::any().add(live(child));
    for grandchild in child.children() {
        kept = kept.add(Expr::exists(kept_under(&child.table, &grandchild)));
    }
    let under = child.parent_columns.iter().zip(&child.child_columns).fold(
        Condition::all(),
        |all, (parent_column, child_column)| {
            all.add(
                child
                    .table
                    .col(child_column.clone())
                    .equals(parent.column(parent_column.clone())),
            )
        },
    );
    let mut select = Query::select();
    select
        .expr(Expr::val(1))
        .from(child.table.table_ref())
        .cond_where(under.add(kept));
    select
}

/// One statement per child, each followed by its own children's (pre-order).
fn collect(
    children: &[CascadeChild],
    parent: &Level<'_>,
    walk: Walk<'_>,
    backend: DbBackend,
    steps: &mut Vec<TableStatement>,
) {
    for child in children {
        steps.push(TableStatement {
            table: child.table.to_string(),
            statement: statement(child, parent, walk, backend),
        });
        let grandchildren = child.children();
        if !grandchildren.is_empty() {
            collect(
                &grandchildren,
                &Level::Child { child, parent },
                walk,
                backend,
                steps,
            );
        }
    }
}

/// Keys per cascade statement: far below every backend's bind limit, whatever the depth.
pub(crate) const KEYS_PER_STATEMENT: usize = 1000;

/// Runs a batch's own statements with its cascade: before them when `cascade_first` (a restore,
/// which finds the children through the parents' operation ids before those are replaced, and
/// a purge, whose children go before the rows they refer to), after them otherwise (a soft
/// delete, whose children are found through the parents it stamped). Returns the rows the own
/// statements changed, the rows the cascade changed per table, and what the own statements
/// returned (when `returns` is set, their SQL carries `RETURNING`).
pub(crate) async fn execute<C: ConnectionTrait>(
    conn: &C,
    cascade_first: bool,
    own: Vec<Statement>,
    returns: bool,
    cascade: Vec<TableStatement>,
) -> Result<(u64, Tally, Vec<QueryResult>), DbErr> {
    let (before, after) = match cascade_first {
        true => (cascade, Vec::new()),
        false => (Vec::new(), cascade),
    };
    let mut cascaded = Tally::default();
    for step in before {
        let rows = conn.execute_raw(step.statement).await?.rows_affected();
        cascaded.add(&step.table, rows);
    }
    let mut affected = 0;
    let mut returned = Vec::new();
    for statement in own {
        if returns {
            let rows = conn.query_all_raw(statement).await?;
            affected += rows.len() as u64;
            returned.extend(rows);
        } else {
            affected += conn.execute_raw(statement).await?.rows_affected();
        }
    }
    for step in after {
        let rows = conn.execute_raw(step.statement).await?.rows_affected();
        cascaded.add(&step.table, rows);
    }
    Ok((affected, cascaded, returned))
}

/// The statements [`execute`] sends, in the order it sends them: what `explain()` shows.
pub(crate) fn in_order(
    cascade_first: bool,
    own: Vec<Statement>,
    cascade: Vec<TableStatement>,
) -> Vec<Statement> {
    let cascade = cascade.into_iter().map(|step| step.statement);
    match cascade_first {
        true => cascade.chain(own).collect(),
        false => own.into_iter().chain(cascade).collect(),
    }
}

/// [`statements`] for a batch of `E`'s rows named by key.
pub(crate) fn for_keys<E: SoftDelete>(
    backend: DbBackend,
    change: &Change,
    keys: &[sea_orm::sea_query::ValueTuple],
) -> Vec<TableStatement> {
    if E::cascade().is_empty() {
        return Vec::new();
    }
    keys.chunks(KEYS_PER_STATEMENT)
        .flat_map(|chunk| statements::<E>(backend, change, keys_condition::<E>(chunk)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::OperationId;
    use crate::test_entities::user;

    #[test]
    fn entities_without_a_cascade_send_nothing_more() {
        let change = Change::Restore {
            op: OperationId::new(),
            at: chrono::Utc::now(),
            by: None,
            reason: None,
        };
        assert!(for_keys::<user::Entity>(DbBackend::Sqlite, &change, &[]).is_empty());
        assert!(purgeable::<user::Entity>().is_none());
        assert!(crate::entity::check_cascade::<user::Entity>().is_ok());
    }
}
