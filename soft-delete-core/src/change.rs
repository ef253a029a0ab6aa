//! What one operation writes into the rows it changes, and how those rows are told apart from
//! every other row afterwards.

use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, Value};

use crate::columns::Columns;
use crate::marker::Marker;
use crate::operation::{OperationId, OperationKind};
use crate::storage::{Stored, fitted};
use crate::time::Timestamp;

/// What a soft delete or a restore writes into each row.
#[derive(Clone, Debug)]
pub(crate) enum Change {
    /// Stamp the marker, `deleted_by`, `deletion_reason` on active rows.
    SoftDelete {
        /// The operation the change belongs to, stamped into `deletion_op` where there is one.
        op: OperationId,
        at: Timestamp,
        by: Option<String>,
        reason: Option<String>,
        /// True when `at` was taken by `operation_stamp`: no other operation of this process
        /// carries it. False for a stamp the caller gave, which others may share.
        unique: bool,
        /// When set, the change reverses that restore: rows of a cascade follow only where they
        /// carry its id (the rows it restored), not every active row under a parent.
        reverses: Option<OperationId>,
    },
    /// Clear them on deleted rows, and stamp the restore's id into `deletion_op` where there is
    /// one (so that the rows one restore brought back can be told apart too).
    Restore {
        op: OperationId,
        at: Timestamp,
        by: Option<String>,
        /// Why: for the log and events (the row's own `deletion_reason` is cleared).
        reason: Option<String>,
    },
}

/// What the check of a batch whose `COMMIT` was lost (or whose transaction a hook ended) found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every change of the batch is in the database.
    Committed,
    /// None is.
    RolledBack,
    /// It cannot be told, or some but not all are.
    Unknown,
}

/// What marks the rows one change wrote; see [`Change::mark`].
#[derive(Clone, Debug)]
pub(crate) struct Mark {
    pub(crate) condition: Condition,
    pub(crate) unique: bool,
}

impl Mark {
    /// The verdict on a batch whose `COMMIT` was lost, from the rows of the batch that carry
    /// the mark (`found`) against the rows it changed. A shared mark cannot tell this batch's
    /// rows from another operation's: found rows leave the outcome unknown.
    pub(crate) fn verdict(&self, found: u64, changed: u64) -> Verdict {
        if found == 0 {
            Verdict::RolledBack
        } else if self.unique && found == changed {
            Verdict::Committed
        } else {
            Verdict::Unknown
        }
    }
}

impl Change {
    /// `(column, value)` pairs of the `SET` clause, in order. `updated_at`/`updated_by` are set
    /// for audited entities (the latter only when someone is named).
    pub(crate) fn assignments<C: Stored>(&self, columns: &Columns<C>) -> Vec<(C, Value)> {
        let audit = columns.audit.clone();
        let updated_at = audit.clone().and_then(|a| a.updated_at);
        let updated_by = audit.and_then(|a| a.updated_by);
        let (mut set, at, by) = match self {
            Change::SoftDelete {
                op, at, by, reason, ..
            } => {
                let mut set = columns.marker.stamp(*at);
                set.push((columns.deleted_by.clone(), Value::from(by.clone())));
                set.push((columns.deletion_reason.clone(), Value::from(reason.clone())));
                if let Some(column) = &columns.deletion_op {
                    set.push((column.clone(), Value::from(*op)));
                }
                (set, at, by)
            }
            Change::Restore { op, at, by, .. } => {
                let mut set = columns.marker.clear();
                set.push((columns.deleted_by.clone(), Value::String(None)));
                set.push((columns.deletion_reason.clone(), Value::String(None)));
                if let Some(column) = &columns.deletion_op {
                    set.push((column.clone(), Value::from(*op)));
                }
                (set, at, by)
            }
        };
        if let Some(column) = updated_at {
            let value = column.storage().time(*at);
            set.push((column, value));
        }
        if let (Some(column), Some(by)) = (updated_by, by) {
            set.push((column, Value::from(by.clone())));
        }
        set
    }

    /// What marks a row as written by this change, for checking a batch whose `COMMIT` was
    /// lost, and whether only this change can have written it: the operation's id, for entities
    /// with an operation column; otherwise a soft delete's exact `deleted_at` (unique when the
    /// crate took it, shared perhaps when the caller gave it) and a restore's `updated_at` on an
    /// active row, for entities that have one. `None` when no column tells. Each column is
    /// written by `col`.
    pub(crate) fn mark<C: Stored>(
        &self,
        columns: &Columns<C>,
        col: impl Fn(C) -> Expr,
    ) -> Option<Mark> {
        match self {
            // The operation's id tells its rows from every other operation's, whatever the
            // stamp.
            Change::SoftDelete { op, at, unique, .. } => {
                let (stamped, exact) = columns.marker.stamped_in(*at, &col);
                Some(match &columns.deletion_op {
                    Some(column) => Mark {
                        condition: stamped.add(col(column.clone()).eq(Value::from(*op))),
                        unique: true,
                    },
                    None => Mark {
                        condition: stamped,
                        unique: *unique && exact,
                    },
                })
            }
            Change::Restore { op, at, .. } => {
                let live = columns.marker.live_in(&col);
                if let Some(column) = &columns.deletion_op {
                    return Some(Mark {
                        condition: Condition::all()
                            .add(live)
                            .add(col(column.clone()).eq(Value::from(*op))),
                        unique: true,
                    });
                }
                let updated_at = columns.audit.clone()?.updated_at?;
                let stamp = updated_at.storage().time_param(*at);
                Some(Mark {
                    condition: Condition::all().add(live).add(col(updated_at).eq(stamp)),
                    unique: true,
                })
            }
        }
    }

    /// The rows the change applies to: soft delete only live rows, restore only deleted ones.
    pub(crate) fn guard<C: Stored>(&self, marker: &Marker<C>, col: impl Fn(C) -> Expr) -> Expr {
        match self {
            Change::SoftDelete { .. } => marker.live_in(col),
            Change::Restore { .. } => marker.deleted_in(col),
        }
    }

    /// True for a restore: its guard selects deleted rows.
    pub(crate) fn restores(&self) -> bool {
        matches!(self, Change::Restore { .. })
    }

    /// The change's stamp.
    pub(crate) fn at(&self) -> Timestamp {
        match self {
            Change::SoftDelete { at, .. } | Change::Restore { at, .. } => *at,
        }
    }

    /// What kind of operation it is.
    pub(crate) fn kind(&self) -> OperationKind {
        match self {
            Change::SoftDelete { .. } => OperationKind::SoftDelete,
            Change::Restore { .. } => OperationKind::Restore,
        }
    }

    /// Who the change names: `deleted_by` or `restored_by`.
    pub(crate) fn actor(&self) -> Option<&str> {
        match self {
            Change::SoftDelete { by, .. } | Change::Restore { by, .. } => by.as_deref(),
        }
    }

    /// Why.
    pub(crate) fn reason(&self) -> Option<&str> {
        match self {
            Change::SoftDelete { reason, .. } | Change::Restore { reason, .. } => reason.as_deref(),
        }
    }
}

/// The values an insert writes where a row leaves them unset: a live marker for entities whose
/// marker is a flag or an epoch (a table without a default for it would refuse the row), and
/// the audit values `created_at`, and `created_by` when someone is named.
pub(crate) fn insert_defaults<C: Stored>(
    columns: &Columns<C>,
    at: Timestamp,
    by: Option<&str>,
) -> Vec<(C, Value)> {
    let mut defaults = match columns.marker {
        Marker::Timestamp(_) => Vec::new(),
        _ => columns.marker.clear(),
    };
    let Some(audit) = columns.audit.clone() else {
        return defaults;
    };
    let created = audit.created_at.storage().time(at);
    defaults.push((audit.created_at, created));
    if let Some(by) = by {
        defaults.push((audit.created_by, Value::from(by.to_owned())));
    }
    defaults
}

/// [`insert_defaults`] for `A`'s rows, each value converted once to the type its field is
/// declared with (see [`fitted`]), so that [`stamp_insert`] sets it on every row as it is.
pub(crate) fn model_defaults<A: ActiveModelTrait>(
    defaults: Vec<(<A::Entity as sea_orm::EntityTrait>::Column, Value)>,
) -> Vec<(<A::Entity as sea_orm::EntityTrait>::Column, Value)> {
    defaults
        .into_iter()
        .map(|(column, value)| (column, fitted::<A>(column, value)))
        .collect()
}

/// Sets `defaults` (from [`model_defaults`]) on `row` where it leaves them unset.
pub(crate) fn stamp_insert<A: ActiveModelTrait>(
    row: &mut A,
    defaults: &[(<A::Entity as sea_orm::EntityTrait>::Column, Value)],
) -> std::result::Result<(), sea_orm::DbErr> {
    for (column, value) in defaults {
        if row.is_not_set(*column) {
            row.try_set(*column, value.clone())?;
        }
    }
    Ok(())
}
