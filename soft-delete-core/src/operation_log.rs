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
//! leaves `running`, with counts that are still exact. The same count settles a batch whose
//! `COMMIT` was lost: one more batch in the row than the engine had counted means the batch is in
//! the database, whatever its rows carry.
//!
//! # Reading it, undoing an operation
//!
//! [`SoftDeleteManager::operations`](crate::SoftDeleteManager::operations) lists the log,
//! newest first; [`SoftDeleteManager::undo`](crate::SoftDeleteManager::undo) reverses a soft
//! delete or a restore, as a new logged operation.

use std::future::IntoFuture;

use futures::future::BoxFuture;
use sea_orm::sea_query::{
    Alias, ColumnDef, Expr, ExprTrait, Index, IndexCreateStatement, Order, Query, Table as Create,
    TableAlterStatement, TableCreateStatement,
};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};

use crate::error::{Error, Result};
pub use crate::operation::OperationStatus;
use crate::operation::{OperationId, OperationKind};
use crate::sql::Table;
use crate::time::Timestamp;

/// The log's table name when none is given.
pub const DEFAULT_TABLE: &str = crate::config::DEFAULT_OPERATION_LOG;

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
    /// Run quietly ([`BatchOptions::quietly`](crate::BatchOptions::quietly)): no hook ran and no
    /// event was sent. False in a log made before the `quiet` column (see
    /// [`add_quiet_column`]).
    pub quiet: bool,
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
            kind: text("kind")?.parse()?,
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
            // A log made before the column has none; its operations were not quiet.
            quiet: row
                .try_get::<Option<bool>>("", "quiet")
                .ok()
                .flatten()
                .unwrap_or(false),
        })
    }
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
    let timestamp = crate::time::timestamp_type(backend);
    let id = |name: &str| {
        let mut def = ColumnDef::new(Alias::new(name));
        def.string_len(36);
        def
    };
    Create::create()
        .table(Table::parse(table).table_name())
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
        .col(
            ColumnDef::new(Alias::new("quiet"))
                .boolean()
                .not_null()
                .default(false),
        )
        .to_owned()
}

/// The name of the table where the workers of a
/// [parallel](crate::BatchOptions::parallel) operation keep their counts: `<log>_parts`, in
/// the log's schema.
///
/// # Examples
///
/// ```
/// use soft_delete_core::operation_log::parts_table_name;
///
/// assert_eq!(parts_table_name("soft_delete_operations"), "soft_delete_operations_parts");
/// assert_eq!(parts_table_name("audit.ops"), "audit.ops_parts");
/// ```
pub fn parts_table_name(table: &str) -> String {
    crate::step::log::parts_table(&Table::parse(table)).to_string()
}

/// `CREATE TABLE IF NOT EXISTS` for the parts table of the log named `table`
/// ([`parts_table_name`]): one row per worker of a [parallel](crate::BatchOptions::parallel)
/// operation, which that worker's batches update in their own transactions (so that no row is
/// written by every batch of every worker). The operation's row in the log sums them when it
/// ends; while it runs (or after its process died), reading the operation sums them.
/// Operations with one worker never touch it; a parallel one with the log on refuses to start
/// without it. The `CreateOperationLog` migration creates it with the log.
///
/// # Examples
///
/// ```
/// use sea_orm::sea_query::PostgresQueryBuilder;
/// use soft_delete_core::operation_log::{DEFAULT_TABLE, create_parts_table};
///
/// let sql = create_parts_table(DEFAULT_TABLE).to_string(PostgresQueryBuilder);
/// assert!(sql.starts_with(r#"CREATE TABLE IF NOT EXISTS "soft_delete_operations_parts""#), "{sql}");
/// assert!(sql.contains(r#"PRIMARY KEY ("operation_id", "worker")"#), "{sql}");
/// ```
pub fn create_parts_table(table: &str) -> TableCreateStatement {
    let parts = crate::step::log::parts_table(&Table::parse(table));
    let count = |name: &str| {
        let mut def = ColumnDef::new(Alias::new(name));
        def.big_integer().not_null();
        def
    };
    Create::create()
        .table(parts.table_name())
        .if_not_exists()
        .col(
            ColumnDef::new(Alias::new("operation_id"))
                .string_len(36)
                .not_null(),
        )
        .col(ColumnDef::new(Alias::new("worker")).integer().not_null())
        .col(count("rows_changed"))
        .col(
            ColumnDef::new(Alias::new("rows_by_table"))
                .text()
                .not_null(),
        )
        .col(count("requested"))
        .col(count("batches"))
        .primary_key(
            Index::create()
                .col(Alias::new("operation_id"))
                .col(Alias::new("worker")),
        )
        .to_owned()
}

/// A record of an operation that is still `running` (or whose process died) with its workers'
/// counts, when it ran several: its own row learns them only at its end.
async fn with_parts<C: ConnectionTrait>(
    conn: &C,
    log: &str,
    mut record: OperationRecord,
) -> Result<OperationRecord> {
    if record.status != OperationStatus::Running {
        return Ok(record);
    }
    let parts = crate::step::log::parts_table(&Table::parse(log));
    if !crate::sql::table_exists(conn, &parts).await? {
        return Ok(record);
    }
    let select = Query::select()
        .columns(["rows_by_table", "requested", "batches"].map(Alias::new))
        .from(parts.table_ref())
        .and_where(Expr::col(Alias::new("operation_id")).eq(record.id))
        .to_owned();
    let rows = conn
        .query_all_raw(conn.get_database_backend().build(&select))
        .await?;
    if rows.is_empty() {
        return Ok(record);
    }
    let mut tally = crate::step::Tally::default();
    tally.add(&record.table, 0);
    let (mut requested, mut batches) = (0, 0);
    for row in &rows {
        for (table, count) in parse_rows(&row.try_get::<String>("", "rows_by_table")?)? {
            tally.add(&table, count);
        }
        requested += Ord::max(row.try_get::<i64>("", "requested")?, 0) as u64;
        batches += Ord::max(row.try_get::<i64>("", "batches")?, 0) as u64;
    }
    record.rows_by_table = tally.0;
    record.requested = requested;
    record.batches = batches;
    Ok(record)
}

/// `ALTER TABLE … ADD COLUMN quiet` for a log made by an earlier version, before quiet
/// operations: without it every operation but a quiet one is logged as before, and a quiet one
/// fails naming the missing column.
///
/// # Examples
///
/// ```
/// use sea_orm::sea_query::PostgresQueryBuilder;
/// use soft_delete_core::operation_log::{DEFAULT_TABLE, add_quiet_column};
///
/// let sql = add_quiet_column(DEFAULT_TABLE).to_string(PostgresQueryBuilder);
/// assert!(sql.contains(r#"ADD COLUMN "quiet" bool NOT NULL DEFAULT FALSE"#), "{sql}");
/// ```
pub fn add_quiet_column(table: &str) -> TableAlterStatement {
    Create::alter()
        .table(Table::parse(table).table_name())
        .add_column(
            ColumnDef::new(Alias::new("quiet"))
                .boolean()
                .not_null()
                .default(false),
        )
        .to_owned()
}

/// The name of the index [`index`] creates (without the log's schema, if it has one).
pub fn index_name(table: &str) -> String {
    format!("idx_{}_table_name", Table::parse(table).name())
}

/// The index on the log's `table_name`, for listing one table's operations.
pub fn index(table: &str) -> IndexCreateStatement {
    Index::create()
        .name(index_name(table))
        .table(Table::parse(table).table_name())
        .col(Alias::new("table_name"))
        .to_owned()
}

/// Reads one operation from the log `table`.
pub(crate) async fn find<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    id: OperationId,
) -> Result<Option<OperationRecord>> {
    let select = Query::select()
        .expr(Expr::cust("*"))
        .from(Table::parse(table).table_ref())
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let statement = conn.get_database_backend().build(&select);
    match conn.query_one_raw(statement).await? {
        Some(row) => Ok(Some(
            with_parts(conn, table, OperationRecord::from_row(&row)?).await?,
        )),
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
    /// The most operations one listing returns: every backend binds a limit up to this.
    pub const MAX_LIMIT: u64 = i64::MAX as u64;

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

    /// Only operations on `E`'s table (in `E`'s schema, as the log names it: `tenant.orders`).
    pub fn entity<E: sea_orm::EntityTrait>(self) -> Self {
        self.table(Table::of::<E>().to_string())
    }

    /// Only operations of this kind.
    pub fn kind(mut self, kind: OperationKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// At most `n` operations (100 by default; any `n` above [`Operations::MAX_LIMIT`] lists
    /// that many).
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Ord::min(n, Self::MAX_LIMIT);
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
                .from(Table::parse(&log).table_ref())
                .order_by(Alias::new("id"), Order::Desc)
                .limit(self.limit);
            if let Some(table) = self.table {
                select.and_where(Expr::col(Alias::new("table_name")).eq(table));
            }
            if let Some(kind) = self.kind {
                select.and_where(Expr::col(Alias::new("kind")).eq(kind));
            }
            let statement = self.db.get_database_backend().build(&select);
            let rows = self.db.query_all_raw(statement).await?;
            let mut records = Vec::with_capacity(rows.len());
            for row in &rows {
                records.push(with_parts(self.db, &log, OperationRecord::from_row(row)?).await?);
            }
            Ok(records)
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
    use crate::step::Tally;
    use crate::step::log::rows_json;

    #[test]
    fn rows_by_table_round_trips_as_a_json_object() {
        let mut tally = Tally::default();
        tally.add("accounts", 2);
        tally.add("tenant.projects", 5);
        let text = rows_json(&tally);
        assert_eq!(text, r#"{"accounts":2,"tenant.projects":5}"#);
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
            "soft delete".parse::<OperationKind>().ok(),
            Some(OperationKind::SoftDelete)
        );
        assert!("delete".parse::<OperationKind>().is_err());
        assert!("done".parse::<OperationStatus>().is_err());
    }

    #[test]
    fn a_log_in_another_schema_is_named_with_it() {
        use sea_orm::sea_query::PostgresQueryBuilder;
        let sql = create_table(DbBackend::Postgres, "audit.ops").to_string(PostgresQueryBuilder);
        assert!(
            sql.starts_with(r#"CREATE TABLE IF NOT EXISTS "audit"."ops""#),
            "{sql}"
        );
        assert_eq!(index_name("audit.ops"), "idx_ops_table_name");
    }
}
