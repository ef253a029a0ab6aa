//! The operation's row in the operation log (see [`crate::operation_log`]): inserted when the
//! operation starts, its counts written by every batch in the batch's own transaction, its end
//! written after the last batch.

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, TableRef};
use sea_orm::{DbBackend, Statement};

use super::Tally;
use crate::operation::{OperationId, OperationKind, OperationStatus};
use crate::sql::Table;
use crate::time::{bind_timestamps, now, timestamp_value};

/// The most characters the log keeps of an operation's actor: its `actor` column is
/// `varchar(255)`, which PostgreSQL and strict MySQL would refuse to overflow.
pub(crate) const MAX_ACTOR: usize = 255;

/// What the engine records about an operation it runs, when the configuration keeps a log.
#[derive(Clone, Debug)]
pub(crate) struct LogRow {
    /// The log's table.
    pub(crate) log: Table,
    pub(crate) id: OperationId,
    pub(crate) kind: OperationKind,
    /// The operation's table (`tenant.orders`).
    pub(crate) table: String,
    pub(crate) actor: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) selection: String,
    pub(crate) reverses: Option<OperationId>,
    /// Run without hooks and events: written only when true, so that a log table made before
    /// the `quiet` column existed keeps working for every other operation.
    pub(crate) quiet: bool,
}

/// The parts table of the log `log`: `<log>_parts`, in the log's schema.
pub(crate) fn parts_table(log: &Table) -> Table {
    log.sibling(&format!("{}_parts", log.name()))
}

/// What the log holds of an operation so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Totals {
    pub(crate) rows: Tally,
    pub(crate) requested: u64,
    pub(crate) batches: u64,
}

/// The rows changed per table as the log stores them: a JSON object.
pub(crate) fn rows_json(tally: &Tally) -> String {
    let map: serde_json::Map<String, serde_json::Value> = tally
        .0
        .iter()
        .map(|(table, rows)| (table.clone(), serde_json::Value::from(*rows)))
        .collect();
    serde_json::Value::Object(map).to_string()
}

impl LogRow {
    /// The row, inserted when the operation starts.
    pub(crate) fn start(&self, backend: DbBackend) -> Statement {
        let mut rows = Tally::default();
        rows.add(&self.table, 0);
        let mut columns = vec![
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
        ];
        let mut values = vec![
            Expr::val(self.id),
            Expr::val(self.kind),
            Expr::val(self.table.clone()),
            Expr::val(0i64),
            Expr::val(rows_json(&rows)),
            Expr::val(0i64),
            Expr::val(0i64),
            Expr::val(self.actor.clone()),
            Expr::val(self.reason.clone()),
            Expr::val(self.selection.clone()),
            Expr::val(OperationStatus::Running),
            Expr::val(timestamp_value(now())),
            Expr::val(sea_orm::Value::String(
                self.reverses.map(|op| op.to_string()),
            )),
        ];
        if self.quiet {
            // Only a quiet operation names the column: a log made before it keeps working.
            columns.push("quiet");
            values.push(Expr::val(true));
        }
        let insert = Query::insert()
            .into_table(self.log.table_ref())
            .columns(columns.into_iter().map(Alias::new))
            .values_panic(values)
            .to_owned();
        bind_timestamps(backend.build(&insert))
    }

    /// The table where the workers of a parallel operation keep their counts.
    pub(crate) fn parts_table(&self) -> Table {
        parts_table(&self.log)
    }

    /// One row per worker of a parallel operation, inserted with the operation's own.
    pub(crate) fn parts_start(&self, backend: DbBackend, workers: usize) -> Vec<Statement> {
        let mut insert = Query::insert();
        insert.into_table(self.parts_table().table_ref()).columns(
            [
                "operation_id",
                "worker",
                "rows_changed",
                "rows_by_table",
                "requested",
                "batches",
            ]
            .into_iter()
            .map(Alias::new),
        );
        let mut rows = Tally::default();
        rows.add(&self.table, 0);
        for worker in 0..workers {
            insert.values_panic([
                Expr::val(self.id),
                Expr::val(worker as i32),
                Expr::val(0i64),
                Expr::val(rows_json(&rows)),
                Expr::val(0i64),
                Expr::val(0i64),
            ]);
        }
        vec![backend.build(&insert)]
    }

    /// The counts after a batch, written in the batch's transaction: absolute values, so that a
    /// retried batch writes the same. Into the operation's row, or with several workers into
    /// the batch's worker's row (`part`), so that no row is written by every batch.
    pub(crate) fn progress(
        &self,
        backend: DbBackend,
        part: Option<usize>,
        totals: &Totals,
    ) -> Statement {
        let mut update = Query::update();
        update
            .value(Alias::new("rows_changed"), totals.rows.total() as i64)
            .value(Alias::new("rows_by_table"), rows_json(&totals.rows))
            .value(Alias::new("requested"), totals.requested as i64)
            .value(Alias::new("batches"), totals.batches as i64);
        let (table, row) = self.row(part);
        update.table(table).cond_where(row);
        backend.build(&update)
    }

    /// Reads the batches a worker's row counts (the operation's row, or the worker's `part`):
    /// since every batch writes that count in its own transaction, it tells whether a batch
    /// whose `COMMIT` was lost is in the database.
    pub(crate) fn batches(&self, backend: DbBackend, part: Option<usize>) -> Statement {
        let (table, row) = self.row(part);
        let select = Query::select()
            .column(Alias::new("batches"))
            .from(table)
            .cond_where(row)
            .to_owned();
        backend.build(&select)
    }

    /// The table and the condition of the row that holds a worker's counts: the operation's
    /// own, or the worker's `part` in the parts table.
    fn row(&self, part: Option<usize>) -> (TableRef, Condition) {
        match part {
            None => (
                self.log.table_ref(),
                Condition::all().add(Expr::col(Alias::new("id")).eq(self.id)),
            ),
            Some(worker) => (
                self.parts_table().table_ref(),
                Condition::all()
                    .add(Expr::col(Alias::new("operation_id")).eq(self.id))
                    .add(Expr::col(Alias::new("worker")).eq(worker as i32)),
            ),
        }
    }

    /// The final status, with the operation's totals when its workers kept them in their own
    /// rows.
    pub(crate) fn finish(
        &self,
        backend: DbBackend,
        status: OperationStatus,
        error: Option<String>,
        totals: Option<&Totals>,
    ) -> Statement {
        let mut update = Query::update();
        update
            .table(self.log.table_ref())
            .value(Alias::new("status"), status)
            .value(Alias::new("error"), error)
            .value(Alias::new("finished_at"), timestamp_value(now()));
        if let Some(totals) = totals {
            update
                .value(Alias::new("rows_changed"), totals.rows.total() as i64)
                .value(Alias::new("rows_by_table"), rows_json(&totals.rows))
                .value(Alias::new("requested"), totals.requested as i64)
                .value(Alias::new("batches"), totals.batches as i64);
        }
        update.and_where(Expr::col(Alias::new("id")).eq(self.id));
        bind_timestamps(backend.build(&update))
    }
}
