//! Cascading soft delete and exact restore: related rows that follow their parent.
//!
//! An entity declared with `#[soft_delete(operation_id, cascade(super::post::Entity, …))]` names
//! the related soft-delete entities whose rows follow its own. Soft-deleting a parent
//! soft-deletes its active children, recursively, in the same transaction as the parent (the
//! same batch transaction for bulk operations; a one-record operation is a batch of one) and
//! stamped with the same operation id. Restoring a parent (one record, in bulk, or by operation)
//! restores exactly the children that the parent's own soft delete deleted: those carrying the
//! parent's operation id. Children deleted before, by another operation, stay deleted.
//!
//! Every entity in a cascade, parent and children, needs the operation column
//! (`operation_id`): it is what tells the rows one operation deleted from all others. The
//! relation is the parent's `Related<Child>` (a `has_many` or `has_one` whose `to` side is the
//! child's foreign key; composite keys work). Statements are set-based: one `UPDATE` per child
//! table per batch, selecting the children through their parents, never a query per row. Index
//! the children's foreign key columns: every statement looks the children up by them. Every
//! table is named with its schema, when the entity has one.
//!
//! ```text
//! UPDATE posts SET deleted_at = ?, …, deletion_op = ?
//!  WHERE (posts.user_id) IN (SELECT users.id FROM users WHERE users.deletion_op = ? AND <batch>)
//!    AND posts.deleted_at IS NULL
//! ```
//!
//! On MySQL/MariaDB, which read the whole child table for that form, the parents are joined as a
//! derived table instead:
//!
//! ```text
//! UPDATE posts JOIN (SELECT users.id FROM users WHERE …) AS soft_delete_parents
//!     ON posts.user_id = soft_delete_parents.id AND posts.deleted_at IS NULL
//!    SET posts.deleted_at = ?, …
//! ```
//!
//! # Purges and force deletes
//!
//! A purge of a parent (`hard_delete_before`, `purge_expired`, `purge_where`, and
//! `force_delete_by_id`, a purge of one key) purges the rows under the parents it removes first,
//! the deepest level first, in the same batch transaction: no orphan is left and no foreign key
//! is broken, whatever `ON DELETE` rule the schema declares (none is needed). The rows under a
//! purged parent go with it whatever their own state. A parent under which a row is still
//! *kept* (active, or with a kept row under it) is not purged: a purge leaves it soft-deleted
//! until its cascade is deleted too, and reports it neither as purged nor as an error; a
//! `force_delete_by_id` of it fails with [`Error::Kept`], which names the
//! table whose rows keep it. The report's `cascaded` counts the rows purged under the parents.
//! Each batch first reads (and locks) the keys of the parents it removes, then deletes the rows
//! under them and the parents by those keys: the condition that keeps parents with kept rows
//! stays in the `SELECT`, where every backend evaluates it by index (inside a `DELETE`, MariaDB
//! 10.11 took 41 s for 2,000 parents).

use sea_orm::sea_query::DynIden;

use crate::columns::Columns;
use crate::error::{Error, Result};
use crate::sql::Table;
use crate::storage::StoredIden;
use crate::time::Timestamp;

/// How deep a cascade may go: deeper declarations are taken for a cycle.
pub(crate) const MAX_DEPTH: usize = 8;

/// One related soft-delete entity whose rows follow a parent's; made by
/// [`CascadeChild::of`](CascadeChild::of), which the `cascade(…)` option of the macros calls.
#[derive(Clone)]
pub struct CascadeChild {
    /// The child's table.
    pub(crate) table: Table,
    /// The parent's table.
    pub(crate) parent: Table,
    pub(crate) parent_columns: Vec<DynIden>,
    pub(crate) child_columns: Vec<DynIden>,
    /// The child's soft-delete columns, each with how it holds its values.
    pub(crate) columns: Columns<StoredIden>,
    pub(crate) children: fn() -> Vec<CascadeChild>,
    /// What makes the declaration unusable, found when it was made.
    pub(crate) problem: Option<String>,
}

impl std::fmt::Debug for CascadeChild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CascadeChild")
            .field("parent", &self.parent.to_string())
            .field("table", &self.table.to_string())
            .finish_non_exhaustive()
    }
}

impl CascadeChild {
    /// The child's table, with its schema when it has one (`tenant.posts`).
    pub fn table_name(&self) -> String {
        self.table.to_string()
    }

    /// The child's own children.
    pub fn children(&self) -> Vec<CascadeChild> {
        (self.children)()
    }

    /// The operation column; [`check`] made sure there is one.
    pub(crate) fn op_column(&self) -> DynIden {
        self.columns
            .deletion_op
            .clone()
            .unwrap_or_else(|| self.columns.marker.state_column().clone())
            .iden
    }
}

/// Refuses a cascade that cannot be exact: an entity in it without the operation column, a
/// relation that is not direct, or a cycle. `table` is the root's, `has_op` whether it has the
/// operation column.
pub(crate) fn check(table: &Table, has_op: bool, children: Vec<CascadeChild>) -> Result<()> {
    if children.is_empty() {
        return Ok(());
    }
    if !has_op {
        return Err(cascade_error(format!(
            "`{table}` cascades, so it needs the operation column: declare it with \
             `#[soft_delete(operation_id, cascade(…))]`"
        )));
    }
    check_children(children, 1)
}

fn check_children(children: Vec<CascadeChild>, depth: usize) -> Result<()> {
    for child in children {
        if let Some(problem) = &child.problem {
            return Err(cascade_error(problem.clone()));
        }
        if child.columns.deletion_op.is_none() {
            return Err(cascade_error(format!(
                "`{}` follows `{}` in a cascade, so it needs the operation column: declare it \
                 with `#[soft_delete(operation_id)]`",
                child.table, child.parent
            )));
        }
        let grandchildren = child.children();
        if !grandchildren.is_empty() {
            if depth >= MAX_DEPTH {
                return Err(cascade_error(format!(
                    "the cascade through `{}` is deeper than {MAX_DEPTH} levels: is it a cycle?",
                    child.table
                )));
            }
            check_children(grandchildren, depth + 1)?;
        }
    }
    Ok(())
}

/// The first table of a cascade whose marker cannot hold a soft delete at `at` (an epoch before
/// 1970), if any. The depth is bounded by [`check`]; this walk stops at the same depth.
pub(crate) fn refusing_stamp(
    children: Vec<CascadeChild>,
    at: Timestamp,
) -> Option<(Table, String)> {
    let mut level = children;
    for _ in 0..MAX_DEPTH {
        if level.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for child in level {
            if let Some(why) = child.columns.marker.refuses_stamp(at) {
                return Some((child.table, why));
            }
            next.extend(child.children());
        }
        level = next;
    }
    None
}

fn cascade_error(reason: String) -> Error {
    Error::InvalidArgument {
        name: "cascade",
        reason,
    }
}
