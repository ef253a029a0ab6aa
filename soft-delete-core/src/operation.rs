//! Operations: what one call that changes rows is, whatever path it takes.
//!
//! Every bulk call and every one-record call is one operation of one [`OperationKind`], with
//! one [`OperationId`]. Reports, progress, alerts and errors name the kind, so that a log line or
//! a metric can be grouped by it without parsing strings. Entities declared with
//! `#[soft_delete(operation_id)]` carry the id of the operation that soft-deleted each row in a
//! `deletion_op` column, which is what [`restore_operation`](crate::SoftDeleteManager::restore_operation)
//! selects on.
//!
//! Ids, kinds and statuses go into statements as SeaORM values (`Value::from(id)`), never as
//! text formatted on the way: the log's columns and `deletion_op` hold the same text
//! everywhere.

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
/// // Bound as the same text wherever it goes into a statement.
/// assert_eq!(sea_orm::Value::from(a), sea_orm::Value::from(a.to_string()));
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

/// Text that names no operation id, kind or status; converts into
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What the text should have named: `operation id`, `operation kind` or `operation status`.
    pub what: &'static str,
    /// The text.
    pub text: String,
    /// What would have been accepted.
    pub expected: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not an {}: expected {}",
            self.text, self.what, self.expected
        )
    }
}

impl std::error::Error for ParseError {}

impl FromStr for OperationId {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s)
            .map(OperationId)
            .map_err(|e| ParseError {
                what: "operation id",
                text: s.to_owned(),
                expected: format!("a UUID ({e})"),
            })
    }
}

impl From<OperationId> for sea_orm::Value {
    /// The id's hyphenated text, as `deletion_op` columns and the operation log store it.
    fn from(id: OperationId) -> Self {
        sea_orm::Value::String(Some(id.to_string()))
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
/// assert_eq!("restore".parse::<OperationKind>().ok(), Some(OperationKind::Restore));
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

impl FromStr for OperationKind {
    type Err = ParseError;

    /// The kind [`as_str`](Self::as_str) names.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            OperationKind::SoftDelete,
            OperationKind::Restore,
            OperationKind::Purge,
            OperationKind::Create,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == s)
        .ok_or_else(|| ParseError {
            what: "operation kind",
            text: s.to_owned(),
            expected: "`soft delete`, `restore`, `purge` or `create`".to_owned(),
        })
    }
}

impl From<OperationKind> for sea_orm::Value {
    /// The kind's name, as the operation log stores it.
    fn from(kind: OperationKind) -> Self {
        sea_orm::Value::from(kind.as_str())
    }
}

/// Where an operation stands, as the operation log records it.
///
/// # Examples
///
/// ```
/// use soft_delete_core::OperationStatus;
///
/// assert_eq!(OperationStatus::Stopped.as_str(), "stopped");
/// assert_eq!("failed".parse::<OperationStatus>().ok(), Some(OperationStatus::Failed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationStatus {
    /// Started and not finished: still running, or its process stopped before it could say.
    Running,
    /// Finished: every row it selected was done.
    Completed,
    /// Stopped at its maximum duration, or by its stop signal; the rows done so far stay done.
    Stopped,
    /// Failed; the rows of the batches that committed before stay done, and are counted.
    Failed,
}

impl OperationStatus {
    /// The name stored in the log: `running`, `completed`, `stopped`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationStatus::Running => "running",
            OperationStatus::Completed => "completed",
            OperationStatus::Stopped => "stopped",
            OperationStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for OperationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OperationStatus {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            OperationStatus::Running,
            OperationStatus::Completed,
            OperationStatus::Stopped,
            OperationStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or_else(|| ParseError {
            what: "operation status",
            text: s.to_owned(),
            expected: "`running`, `completed`, `stopped` or `failed`".to_owned(),
        })
    }
}

impl From<OperationStatus> for sea_orm::Value {
    /// The status's name, as the operation log stores it.
    fn from(status: OperationStatus) -> Self {
        sea_orm::Value::from(status.as_str())
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
