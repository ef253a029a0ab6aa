//! The operation log: one row per operation, written in the same transactions as its rows.
//!
//! Enable it with [`SoftDeleteConfig::operation_log`](crate::SoftDeleteConfig::operation_log)
//! (or `SOFT_DELETE_OPERATION_LOG`) and create its table with [`create_table`] (or the
//! `CreateOperationLog` migration, feature `migration`). Every bulk operation a
//! [`SoftDeleteManager`](crate::SoftDeleteManager) or a service runs then leaves one row:
//!
//! | column | holds |
//! |---|---|
//! | `id` | the operation's [`OperationId`] (the id stamped into `deletion_op`) |
//! | `kind` | `soft delete`, `restore`, `purge` or `create` |
//! | `table_name` | the table the operation ran on |
//! | `rows_changed` | rows changed, on every table |
//! | `rows_by_table` | the same per table, as a JSON object: `{"accounts":2,"projects":5}` |
//! | `requested` | ids consumed (or rows matched) |
//! | `batches` | batches committed |
//! | `actor`, `reason` | who and why, as given to the operation |
//! | `selection` | what chose the rows: `keys`, `rows`, or `condition: <SQL>` |
//! | `status` | `running`, `completed`, `stopped` (at its maximum duration) or `failed` |
//! | `error` | why it failed |
//! | `started_at`, `finished_at` | when |
//! | `reverses` | for a restore or an undo: the operation it reversed |
//!
//! # Never out of step with the data
//!
//! The row is inserted when the operation starts, and each batch updates its counts inside the
//! batch's own transaction: a batch that rolls back (or is retried) rolls back its counts with
//! it, and after a failure in batch k the log shows exactly the rows of the batches that
//! committed. The final status is written after the last batch; a process that dies part-way
//! leaves `running`, with counts that are still exact.
//!
//! # Reading it, undoing an operation
//!
//! [`SoftDeleteManager::operations`](crate::SoftDeleteManager::operations) lists the log,
//! newest first; [`SoftDeleteManager::undo`](crate::SoftDeleteManager::undo) reverses a soft
//! delete or a restore, as a new logged operation.

use std::fmt;
use std::future::IntoFuture;
use std::str::FromStr;

use sea_orm::sea_query::{
    Alias, ColumnDef, Expr, ExprTrait, Index, IndexCreateStatement, Order, Query, Table,
    TableCreateStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};

use crate::cascade::Tally;
use crate::entity::{BoxFuture, Timestamp, bind_timestamps, now, timestamp_value};
use crate::error::{Error, Result};
use crate::operation::{OperationId, OperationKind};

/// The log's table name when none is given.
pub const DEFAULT_TABLE: &str = "soft_delete_operations";

/// Where an operation stands, as the log records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationStatus {
    /// Started and not finished: still running, or its process stopped before it could say.
    Running,
    /// Finished: every row it selected was done.
    Completed,
    /// Stopped at its maximum duration; the rows done so far stay done.
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
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [
            OperationStatus::Running,
            OperationStatus::Completed,
            OperationStatus::Stopped,
            OperationStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or_else(|| invalid_log(format!("unknown status `{s}`")))
    }
}

fn kind_from_str(s: &str) -> Result<OperationKind> {
    [
        OperationKind::SoftDelete,
        OperationKind::Restore,
        OperationKind::Purge,
        OperationKind::Create,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == s)
    .ok_or_else(|| invalid_log(format!("unknown operation kind `{s}`")))
}

fn invalid_log(reason: String) -> Error {
    Error::InvalidArgument {
        name: "operation log",
        reason,
    }
}

/// One operation, as the log records it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OperationRecord {
    /// The operation's id.
    pub id: OperationId,
    /// What it did.
    pub kind: OperationKind,
    /// The table it ran on.
    pub table: String,
    /// Rows changed per table, its own table first, then those its cascade reached.
    pub rows_by_table: Vec<(String, u64)>,
    /// Ids consumed, or rows matched.
    pub requested: u64,
    /// Batches committed.
    pub batches: u64,
    /// Who ran it (`deleted_by`, `restored_by`, `created_by`).
    pub actor: Option<String>,
    /// Why (`reason`).
    pub reason: Option<String>,
    /// What chose the rows: `keys`, `rows`, or `condition: <SQL>`.
    pub selection: String,
    /// Where it stands.
    pub status: OperationStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished (or failed, or stopped).
    pub finished_at: Option<Timestamp>,
    /// The operation it reversed: set by `restore_operation` and `undo`.
    pub reverses: Option<OperationId>,
}

impl OperationRecord {
    /// Rows changed on every table.
    pub fn rows_changed(&self) -> u64 {
        self.rows_by_table.iter().map(|(_, rows)| rows).sum()
    }

    /// Rows changed on `table` (0 when it was not touched).
    pub fn rows_in(&self, table: &str) -> u64 {
        self.rows_by_table
            .iter()
            .find(|(name, _)| name == table)
            .map_or(0, |(_, rows)| *rows)
    }

    fn from_row(row: &QueryResult) -> Result<Self> {
        let text = |column: &str| -> Result<String> { Ok(row.try_get::<String>("", column)?) };
        let optional = |column: &str| -> Result<Option<String>> {
            Ok(row.try_get::<Option<String>>("", column)?)
        };
        let count = |column: &str| -> Result<u64> {
            Ok(Ord::max(row.try_get::<i64>("", column)?, 0) as u64)
        };
        let table = text("table_name")?;
        let mut rows_by_table = parse_rows(&text("rows_by_table")?)?;
        // The object's keys come back sorted: the operation's own table goes first.
        rows_by_table.sort_by_key(|(name, _)| *name != table);
        Ok(OperationRecord {
            id: text("id")?.parse()?,
            kind: kind_from_str(&text("kind")?)?,
            table,
            rows_by_table,
            requested: count("requested")?,
            batches: count("batches")?,
            actor: optional("actor")?,
            reason: optional("reason")?,
            selection: text("selection")?,
            status: text("status")?.parse()?,
            error: optional("error")?,
            started_at: row.try_get::<Timestamp>("", "started_at")?,
            finished_at: row.try_get::<Option<Timestamp>>("", "finished_at")?,
            reverses: optional("reverses")?.map(|id| id.parse()).transpose()?,
        })
    }
}

fn rows_json(tally: &Tally) -> String {
    let map: serde_json::Map<String, serde_json::Value> = tally
        .0
        .iter()
        .map(|(table, rows)| (table.clone(), serde_json::Value::from(*rows)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn parse_rows(text: &str) -> Result<Vec<(String, u64)>> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| invalid_log(format!("rows_by_table `{text}` is not JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| invalid_log(format!("rows_by_table `{text}` is not an object")))?;
    object
        .iter()
        .map(|(table, rows)| {
            rows.as_u64()
                .map(|rows| (table.clone(), rows))
                .ok_or_else(|| {
                    invalid_log(format!("rows_by_table `{text}`: `{table}` is not a count"))
                })
        })
        .collect()
}

/// `CREATE TABLE IF NOT EXISTS` for the log, named `table`. Add [`index`] for listings by
/// table; the `CreateOperationLog` migration (feature `migration`) does both.
///
/// # Examples
///
/// ```
/// use sea_orm::DbBackend;
/// use sea_orm::sea_query::PostgresQueryBuilder;
/// use soft_delete_core::operation_log::{DEFAULT_TABLE, create_table};
///
/// let sql = create_table(DbBackend::Postgres, DEFAULT_TABLE).to_string(PostgresQueryBuilder);
/// assert!(sql.contains(r#""rows_by_table" text NOT NULL"#), "{sql}");
/// ```
pub fn create_table(backend: DbBackend, table: &str) -> TableCreateStatement {
    let timestamp = crate::migration::timestamp_type(backend);
    let id = |name: &str| {
        let mut def = ColumnDef::new(Alias::new(name));
        def.string_len(36);
        def
    };
    Table::create()
        .table(Alias::new(table))
        .if_not_exists()
        .col(id("id").not_null().primary_key())
        .col(ColumnDef::new(Alias::new("kind")).string_len(16).not_null())
        .col(
            ColumnDef::new(Alias::new("table_name"))
                .string_len(255)
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("rows_changed"))
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("rows_by_table"))
                .text()
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("requested"))
                .big_integer()
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("batches"))
                .big_integer()
                .not_null(),
        )
        .col(ColumnDef::new(Alias::new("actor")).string_len(255).null())
        .col(ColumnDef::new(Alias::new("reason")).text().null())
        .col(ColumnDef::new(Alias::new("selection")).text().not_null())
        .col(
            ColumnDef::new(Alias::new("status"))
                .string_len(16)
                .not_null(),
        )
        .col(ColumnDef::new(Alias::new("error")).text().null())
        .col(ColumnDef::new_with_type(Alias::new("started_at"), timestamp.clone()).not_null())
        .col(ColumnDef::new_with_type(Alias::new("finished_at"), timestamp).null())
        .col(id("reverses").null())
        .to_owned()
}

/// The name of the index [`index`] creates.
pub fn index_name(table: &str) -> String {
    format!("idx_{table}_table_name")
}

/// The index on the log's `table_name`, for listing one table's operations.
pub fn index(table: &str) -> IndexCreateStatement {
    Index::create()
        .name(index_name(table))
        .table(Alias::new(table))
        .col(Alias::new("table_name"))
        .to_owned()
}

/// What the engine records about an operation it runs, when the log is on.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) log: String,
    pub(crate) id: OperationId,
    pub(crate) kind: OperationKind,
    pub(crate) table: String,
    pub(crate) actor: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) selection: String,
    pub(crate) reverses: Option<OperationId>,
}

/// What the log holds of an operation so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Totals {
    pub(crate) rows: Tally,
    pub(crate) requested: u64,
    pub(crate) batches: u64,
}

impl Entry {
    /// The row, inserted when the operation starts.
    pub(crate) fn start(&self, backend: DbBackend) -> Statement {
        let mut rows = Tally::default();
        rows.add(&self.table, 0);
        let insert = Query::insert()
            .into_table(Alias::new(&self.log))
            .columns(
                [
                    "id",
                    "kind",
                    "table_name",
                    "rows_changed",
                    "rows_by_table",
                    "requested",
                    "batches",
                    "actor",
                    "reason",
                    "selection",
                    "status",
                    "started_at",
                    "reverses",
                ]
                .map(Alias::new),
            )
            .values_panic([
                Expr::val(self.id.to_string()),
                Expr::val(self.kind.as_str()),
                Expr::val(self.table.clone()),
                Expr::val(0i64),
                Expr::val(rows_json(&rows)),
                Expr::val(0i64),
                Expr::val(0i64),
                Expr::val(self.actor.clone()),
                Expr::val(self.reason.clone()),
                Expr::val(self.selection.clone()),
                Expr::val(OperationStatus::Running.as_str()),
                Expr::val(timestamp_value(now())),
                Expr::val(self.reverses.map(|op| op.to_string())),
            ])
            .to_owned();
        bind_timestamps(backend.build(&insert))
    }

    /// The counts after a batch, written in the batch's transaction: absolute values, so that a
    /// retried batch writes the same.
    pub(crate) fn progress(&self, backend: DbBackend, totals: &Totals) -> Statement {
        let update = Query::update()
            .table(Alias::new(&self.log))
            .value(Alias::new("rows_changed"), totals.rows.total() as i64)
            .value(Alias::new("rows_by_table"), rows_json(&totals.rows))
            .value(Alias::new("requested"), totals.requested as i64)
            .value(Alias::new("batches"), totals.batches as i64)
            .and_where(Expr::col(Alias::new("id")).eq(self.id.to_string()))
            .to_owned();
        backend.build(&update)
    }

    /// The final status.
    pub(crate) fn finish(
        &self,
        backend: DbBackend,
        status: OperationStatus,
        error: Option<String>,
    ) -> Statement {
        let update = Query::update()
            .table(Alias::new(&self.log))
            .value(Alias::new("status"), status.as_str())
            .value(Alias::new("error"), error)
            .value(Alias::new("finished_at"), timestamp_value(now()))
            .and_where(Expr::col(Alias::new("id")).eq(self.id.to_string()))
            .to_owned();
        bind_timestamps(backend.build(&update))
    }
}

/// Reads one operation from the log `table`.
pub(crate) async fn find<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    id: OperationId,
) -> Result<Option<OperationRecord>> {
    let select = Query::select()
        .expr(Expr::cust("*"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("id")).eq(id.to_string()))
        .to_owned();
    let statement = conn.get_database_backend().build(&select);
    match conn.query_one_raw(statement).await? {
        Some(row) => OperationRecord::from_row(&row).map(Some),
        None => Ok(None),
    }
}

/// A listing of the operation log, newest first; made by
/// [`SoftDeleteManager::operations`](crate::SoftDeleteManager::operations). Await it.
#[must_use = "a listing does nothing until it is awaited"]
#[derive(Debug)]
pub struct Operations<'a, C> {
    db: &'a C,
    log: Option<String>,
    table: Option<String>,
    kind: Option<OperationKind>,
    limit: u64,
}

impl<'a, C> Operations<'a, C> {
    pub(crate) fn new(db: &'a C, log: Option<String>) -> Self {
        Operations {
            db,
            log,
            table: None,
            kind: None,
            limit: 100,
        }
    }

    /// Only operations on `table`.
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = Some(table.into());
        self
    }

    /// Only operations on `E`'s table.
    pub fn entity<E: sea_orm::EntityTrait>(self) -> Self {
        let table = sea_orm::EntityName::table_name(&E::default()).to_owned();
        self.table(table)
    }

    /// Only operations of this kind.
    pub fn kind(mut self, kind: OperationKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// At most `n` operations (100 by default).
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = n;
        self
    }
}

impl<'a, C: ConnectionTrait + Sync> IntoFuture for Operations<'a, C> {
    type Output = Result<Vec<OperationRecord>>;
    type IntoFuture = BoxFuture<'a, Result<Vec<OperationRecord>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let log = self.log.ok_or_else(log_disabled)?;
            let mut select = Query::select();
            select
                .expr(Expr::cust("*"))
                .from(Alias::new(&log))
                .order_by(Alias::new("id"), Order::Desc)
                .limit(self.limit);
            if let Some(table) = self.table {
                select.and_where(Expr::col(Alias::new("table_name")).eq(table));
            }
            if let Some(kind) = self.kind {
                select.and_where(Expr::col(Alias::new("kind")).eq(kind.as_str()));
            }
            let statement = self.db.get_database_backend().build(&select);
            let rows = self.db.query_all_raw(statement).await?;
            rows.iter().map(OperationRecord::from_row).collect()
        })
    }
}

/// The error for reading a log that is not enabled.
pub(crate) fn log_disabled() -> Error {
    Error::Config {
        setting: "operation_log".to_owned(),
        value: "None".to_owned(),
        expected: "the log's table name (SoftDeleteConfig::operation_log or \
                   SOFT_DELETE_OPERATION_LOG), and the table (operation_log::create_table)"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_by_table_round_trips_as_a_json_object() {
        let mut tally = Tally::default();
        tally.add("accounts", 2);
        tally.add("projects", 5);
        let text = rows_json(&tally);
        assert_eq!(text, r#"{"accounts":2,"projects":5}"#);
        assert_eq!(parse_rows(&text).expect("parses"), tally.0);
        assert!(parse_rows("[1]").is_err());
        assert!(parse_rows(r#"{"a":-1}"#).is_err());
    }

    #[test]
    fn statuses_and_kinds_parse_what_they_print() {
        for status in [
            OperationStatus::Running,
            OperationStatus::Completed,
            OperationStatus::Stopped,
            OperationStatus::Failed,
        ] {
            assert_eq!(
                status.to_string().parse::<OperationStatus>().ok(),
                Some(status)
            );
        }
        assert_eq!(
            kind_from_str("soft delete").ok(),
            Some(OperationKind::SoftDelete)
        );
        assert!(kind_from_str("delete").is_err());
        assert!("done".parse::<OperationStatus>().is_err());
    }
}
