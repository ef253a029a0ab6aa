//! Operations: what one call that changes rows is, whatever path it takes.
//!
//! Every bulk call (and, as the crate grows, every one-record call) is one operation of one
//! [`OperationKind`]. Reports, progress, alerts and errors name the kind, so that a log line or a
//! metric can be grouped by it without parsing strings.

use std::fmt;

/// What an operation does to the rows it selects.
///
/// # Examples
///
/// ```
/// use soft_delete_core::OperationKind;
///
/// assert_eq!(OperationKind::SoftDelete.to_string(), "soft delete");
/// assert_eq!(OperationKind::Purge.as_str(), "purge");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationKind {
    /// Stamps `deleted_at` (and `deleted_by`, `deletion_reason`) on active rows.
    SoftDelete,
    /// Clears them on soft-deleted rows.
    Restore,
    /// Removes soft-deleted rows for good.
    Purge,
    /// Inserts new rows (`bulk_create`, `bulk_insert_stream`).
    Create,
}

impl OperationKind {
    /// A short lower-case name: `soft delete`, `restore`, `purge`, `create`.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::SoftDelete => "soft delete",
            OperationKind::Restore => "restore",
            OperationKind::Purge => "purge",
            OperationKind::Create => "create",
        }
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an operation chose its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Selection {
    /// Rows named by primary key (an iterator or a stream of keys).
    Keys,
    /// Rows matching a condition, walked forward by primary key.
    Condition,
    /// New rows given one by one (inserts).
    Rows,
}

impl Selection {
    /// A short lower-case name: `keys`, `condition`, `rows`.
    pub fn as_str(self) -> &'static str {
        match self {
            Selection::Keys => "keys",
            Selection::Condition => "condition",
            Selection::Rows => "rows",
        }
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
