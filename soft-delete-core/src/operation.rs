//! Operations: what one call that changes rows is, whatever path it takes.
//!
//! Every bulk call and every one-record call is one operation of one [`OperationKind`], with
//! one [`OperationId`]. Reports, progress, alerts and errors name the kind, so that a log line or
//! a metric can be grouped by it without parsing strings. Entities declared with
//! `#[soft_delete(operation_id)]` carry the id of the operation that soft-deleted each row in a
//! `deletion_op` column, which is what [`restore_operation`](crate::SoftDeleteManager::restore_operation)
//! selects on.

use std::fmt;
use std::str::FromStr;

/// The id of one operation: a UUID version 7 (time-ordered, random in its low bits), so ids
/// from different processes and machines never collide and sort roughly by start time.
///
/// Stored as its 36-character hyphenated text in `deletion_op` columns.
///
/// # Examples
///
/// ```
/// use soft_delete_core::OperationId;
///
/// let a = OperationId::new();
/// let b = OperationId::new();
/// assert_ne!(a, b);
/// assert_eq!(a.to_string().len(), 36);
/// assert_eq!(a.to_string().parse::<OperationId>().unwrap(), a);
/// assert!("not an id".parse::<OperationId>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationId(uuid::Uuid);

impl OperationId {
    /// A new, unique id.
    pub fn new() -> Self {
        OperationId(uuid::Uuid::now_v7())
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl Default for OperationId {
    fn default() -> Self {
        OperationId::new()
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for OperationId {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s)
            .map(OperationId)
            .map_err(|e| crate::Error::InvalidArgument {
                name: "operation id",
                reason: format!("`{s}` is not an operation id (a UUID): {e}"),
            })
    }
}

impl From<uuid::Uuid> for OperationId {
    fn from(id: uuid::Uuid) -> Self {
        OperationId(id)
    }
}

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
