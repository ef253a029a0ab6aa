//! The one error type of this crate.

use std::time::Duration;

use sea_orm::DbErr;

use crate::operation::OperationKind;

/// A hook's error: any error type, or a message (`Err("why".into())`).
pub type HookError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in soft-delete.
///
/// Bulk operations report failures as [`Error::Bulk`], which says how many rows were committed
/// before the failure ([`Error::partial_count`]) and which batch failed; every other variant means
/// that nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database returned an error outside of a batched operation.
    #[error(transparent)]
    Db(#[from] DbErr),

    /// A configuration value is missing its expected shape, e.g. a `SOFT_DELETE_*` variable that
    /// is not a number.
    #[error("invalid value `{value}` for {setting}: expected {expected}")]
    Config {
        /// The setting or environment variable, e.g. `SOFT_DELETE_BULK_OPERATION_BATCH_SIZE`.
        setting: String,
        /// The value as it was given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },

    /// An argument was rejected before anything was sent to the database.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument or option, e.g. `batch_size`.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// The configuration requires a value the call did not give (`require_deleted_by`,
    /// `require_deletion_reason`). Nothing was written.
    #[error("`{field}` is required by `SoftDeleteConfig::{setting}` but was not given")]
    MissingRequired {
        /// The missing value, e.g. `deleted_by`.
        field: &'static str,
        /// The setting that requires it, e.g. `require_deleted_by`.
        setting: &'static str,
    },

    /// No row matched where one was required (e.g. updating through the service).
    #[error("no {state} row in `{table}` with primary key {key}")]
    NotFound {
        /// The table that was searched.
        table: String,
        /// The primary key, formatted for humans.
        key: String,
        /// Which rows were searched.
        state: RowState,
    },

    /// One batch of a bulk operation did not finish within the configured `query_timeout`. The
    /// server stopped its statement (or the client's backstop cancelled it) and its transaction
    /// was rolled back.
    #[error("batch did not finish within {0:?} and was rolled back")]
    Timeout(Duration),

    /// A bulk operation's [`Throttle`](crate::throttle::Throttle) held its next batch back for
    /// the operation's whole `max_throttle_wait`, and the operation gave up before running it.
    /// The batches before it stay committed; the enclosing [`Error::Bulk`] counts their rows.
    #[error(
        "the throttle held the next batch back for {waited:?}, the most `max_throttle_wait` \
         allows: {reason}"
    )]
    Throttled {
        /// How long the batch was held back.
        waited: Duration,
        /// The throttle's last reason, e.g. `replica … is 42.0 s behind (at most 1s)`.
        reason: String,
    },

    /// A Galera cluster refused a transaction whose write set was over one of its limits
    /// (`wsrep_max_ws_rows`, `wsrep_max_ws_size`), and rolled all of it back: for an atomic
    /// operation, nothing was changed; otherwise the batch was, and the batches before it stay
    /// committed. Smaller transactions are the way through: run per batch (not atomic), with a
    /// `batch_size` well below the limit (each batch's operation-log row and cascaded rows
    /// count too), or raise the limit.
    #[error(
        "the transaction's write set is over Galera's `{limit}`{}, so the cluster rolled it \
         back: {}",
        value.map(|v| format!(" = {v}")).unwrap_or_default(),
        if *atomic {
            "run the operation per batch (without `atomic`, and not inside a transaction of \
             yours) with a batch_size well below the limit, or raise the limit"
        } else {
            "lower batch_size well below the limit, or raise the limit"
        }
    )]
    WriteSetTooLarge {
        /// The limit: `wsrep_max_ws_rows` or `wsrep_max_ws_size`.
        limit: &'static str,
        /// Its value on the node, when it could be read.
        value: Option<u64>,
        /// Whether all the operation's batches were one transaction: an atomic operation, or
        /// one run inside the caller's transaction.
        atomic: bool,
        /// The node's error.
        #[source]
        source: DbErr,
    },

    /// The connection failed while a batch's `COMMIT` was on its way, and whether the server
    /// applied it could not be established. The batch's rows are not counted in the enclosing
    /// [`Error::Bulk`]'s `partial_count`; they may or may not be in the database.
    ///
    /// The engine first ends the batch's session on the server and checks the batch from
    /// another connection: by the count of batches in the operation log, which each batch
    /// writes in its own transaction, when the log is on; otherwise by its rows (a soft
    /// delete's carry its exact `deleted_at`). A batch found committed is counted and one found
    /// rolled back is retried, so this error is left for what cannot be checked: with the log
    /// off, a restore of an entity without `deletion_op` or `updated_at`, a count-only insert
    /// and an atomic operation (whose one `COMMIT` the log's count checks for all its batches);
    /// and a batch run inside the caller's transaction.
    #[error(
        "the connection failed during COMMIT; whether its {rows} rows were written is unknown: \
         {source}"
    )]
    CommitUnknown {
        /// Rows the batch changed before its `COMMIT`.
        rows: u64,
        /// The connection error.
        #[source]
        source: DbErr,
    },

    /// A `before_*` hook refused the change (see [`crate::hooks`]). Nothing was changed; in a
    /// bulk operation (with [`BulkHooks::Records`](crate::hooks::BulkHooks::Records)) the
    /// batch was rolled back and this error is the source of the [`Error::Bulk`].
    #[error("`{hook}` on `{table}` refused the change: {source}")]
    Vetoed {
        /// The hook, e.g. `before_soft_delete`.
        hook: &'static str,
        /// The entity's table.
        table: String,
        /// The hook's error.
        #[source]
        source: HookError,
    },

    /// An `after_*` or `after_batch` hook failed (see [`crate::hooks`]); the change it followed
    /// was rolled back with its transaction.
    #[error("`{hook}` on `{table}` failed, so the change was rolled back: {source}")]
    Hook {
        /// The hook, e.g. `after_batch`.
        hook: &'static str,
        /// The entity's table.
        table: String,
        /// The hook's error.
        #[source]
        source: HookError,
    },

    /// A hook ended the transaction its batch ran in: it sent `COMMIT` or `ROLLBACK`, or on
    /// MySQL/MariaDB a statement that commits implicitly (DDL such as `CREATE TABLE`). The
    /// operation stops at once, before it sends anything more, and the batch's rows are checked
    /// from another connection as after a lost `COMMIT`: `committed` says what became of them.
    /// Rows found committed are counted in the enclosing [`Error::Bulk`]'s `partial_count`; rows
    /// whose fate could not be told are its [`uncertain_count`](Error::uncertain_count).
    #[error(
        "`{hook}` on `{table}` ended the transaction of its batch ({}); the operation stopped. \
         A hook's statements run inside the operation's transaction: write, never commit or roll \
         back there, and run DDL elsewhere",
        match committed {
            Some(true) => format!("its {rows} rows were committed"),
            Some(false) => format!("its {rows} rows were rolled back"),
            None => format!("whether its {rows} rows were committed is unknown"),
        }
    )]
    TransactionEnded {
        /// The hook, e.g. `after_batch`.
        hook: &'static str,
        /// The entity's table.
        table: String,
        /// Rows the batch changed before the hook ended its transaction.
        rows: u64,
        /// `Some(true)` when those rows were found committed, `Some(false)` when they were
        /// found rolled back, `None` when it could not be told.
        committed: Option<bool>,
        /// The hook's own error, when it returned one after ending the transaction.
        #[source]
        source: Option<HookError>,
    },

    /// A force delete of a row was refused: rows of a table that cascades from it are still kept
    /// (active, or with active rows under them), and a purge never takes a parent from under a
    /// kept row. Nothing was deleted. Soft-delete (or purge) those rows first.
    #[error(
        "`{table}` row {key} was not deleted: rows of `{kept_in}` under it are still kept \
         (active, or with active rows under them); soft-delete or purge them first"
    )]
    Kept {
        /// The table of the row.
        table: String,
        /// Its primary key, formatted for humans.
        key: String,
        /// The table of a cascade whose rows keep it.
        kept_in: String,
    },

    /// A bulk operation failed part-way. Batches before `failed_batch` stay committed (unless the
    /// operation was atomic, in which case `partial_count` is 0 and nothing was kept).
    #[error(
        "{operation} on `{table}` failed in batch {failed_batch} after {partial_count} rows were \
         committed: {source}"
    )]
    Bulk {
        /// What the operation did.
        operation: OperationKind,
        /// The table it ran on.
        table: String,
        /// The 1-based number of the batch that failed.
        failed_batch: u64,
        /// Rows changed by the batches that were committed before the failure.
        partial_count: u64,
        /// Attempts made for the failed batch (1 when it was not retried, 0 when it never ran,
        /// as after [`Error::Throttled`]).
        attempts: u32,
        /// What went wrong in the failed batch.
        #[source]
        source: Box<Error>,
    },
}

impl From<crate::operation::ParseError> for Error {
    fn from(error: crate::operation::ParseError) -> Self {
        Error::InvalidArgument {
            name: error.what,
            reason: error.to_string(),
        }
    }
}

/// The error SeaORM's own API returns, for the calls this crate makes soft in its place
/// (`Entity::delete_by_id(..).exec(db)`, `ActiveModel::delete`, `Model::delete`): a database
/// error as it is, anything else as [`DbErr::Custom`] with this error's message.
impl From<Error> for DbErr {
    fn from(error: Error) -> Self {
        match error {
            Error::Db(error) => error,
            other => DbErr::Custom(other.to_string()),
        }
    }
}

impl Error {
    /// Rows committed before a bulk operation failed, for [`Error::Bulk`]; `None` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use soft_delete_core::{Error, OperationKind};
    ///
    /// let error = Error::Bulk {
    ///     operation: OperationKind::SoftDelete,
    ///     table: "users".into(),
    ///     failed_batch: 3,
    ///     partial_count: 2000,
    ///     attempts: 1,
    ///     source: Box::new(sea_orm::DbErr::Custom("boom".into()).into()),
    /// };
    /// assert_eq!(error.partial_count(), Some(2000));
    /// ```
    pub fn partial_count(&self) -> Option<u64> {
        match self {
            Error::Bulk { partial_count, .. } => Some(*partial_count),
            _ => None,
        }
    }

    /// The database error at the root of this error, if there is one.
    pub fn db_err(&self) -> Option<&DbErr> {
        match self {
            Error::Db(err)
            | Error::CommitUnknown { source: err, .. }
            | Error::WriteSetTooLarge { source: err, .. } => Some(err),
            Error::Bulk { source, .. } => source.db_err(),
            _ => None,
        }
    }

    /// Rows whose fate is unknown because a `COMMIT` was lost ([`Error::CommitUnknown`]) or a
    /// hook ended the transaction and the rows could not be checked
    /// ([`Error::TransactionEnded`]), also inside [`Error::Bulk`]; 0 for every other error.
    pub fn uncertain_count(&self) -> u64 {
        match self {
            Error::CommitUnknown { rows, .. } => *rows,
            Error::TransactionEnded {
                rows,
                committed: None,
                ..
            } => *rows,
            Error::Bulk { source, .. } => source.uncertain_count(),
            _ => 0,
        }
    }
}

/// Which rows a lookup considered, for [`Error::NotFound`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RowState {
    /// Rows that are not soft-deleted.
    Active,
    /// Soft-deleted rows.
    Deleted,
    /// Every row.
    Any,
}

impl RowState {
    /// `active`, `deleted` or `any`.
    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Active => "active",
            RowState::Deleted => "deleted",
            RowState::Any => "any",
        }
    }
}

impl std::fmt::Display for RowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
