//! `ops list | show | undo` and `restore-op`: the operation log.

use serde_json::{Value, json};

use super::args::{ListArgs, ReverseArgs};
use super::{Failure, Session};
use crate::manager::SoftDeleteManager;
use crate::operation::{OperationId, OperationKind};
use crate::operation_log::OperationRecord;
use crate::report::BulkReport;
use sea_orm::DatabaseConnection;

impl Session {
    /// The log's table, or the error saying how to turn it on.
    pub(super) fn require_log(
        &self,
        manager: &SoftDeleteManager<'_, DatabaseConnection>,
    ) -> Result<(), Failure> {
        match manager.config().operation_log {
            Some(_) => Ok(()),
            None => Err(Failure::usage(
                "the operation log is off: set SOFT_DELETE_OPERATION_LOG=true (or the log's \
                 table), as the application that wrote it does",
            )),
        }
    }

    pub(super) async fn list(
        &self,
        manager: &SoftDeleteManager<'_, DatabaseConnection>,
        args: &ListArgs,
    ) -> Result<u8, Failure> {
        self.require_log(manager)?;
        let mut listing = manager.operations().limit(args.limit);
        if let Some(table) = &args.entity {
            listing = listing.table(table.clone());
        }
        if let Some(kind) = args.kind {
            listing = listing.kind(kind);
        }
        let records = listing.await.map_err(|e| Failure::error(e.to_string()))?;
        for record in &records {
            self.out.line(format!(
                "{}  {:<11} {:<10} {:<20} {:>10} rows  {}  {}",
                record.id,
                record.kind.as_str(),
                record.status.to_string(),
                record.table,
                record.rows_changed(),
                record.started_at.to_rfc3339(),
                by_table(record)
            ));
        }
        if records.is_empty() {
            self.out.line("no operation in the log matches");
        }
        self.out.document(&json!({
            "command": "ops list",
            "exit_code": 0,
            "operations": records.iter().map(record_json).collect::<Vec<_>>(),
        }));
        Ok(0)
    }

    pub(super) async fn find(
        &self,
        manager: &SoftDeleteManager<'_, DatabaseConnection>,
        id: OperationId,
    ) -> Result<OperationRecord, Failure> {
        self.require_log(manager)?;
        manager
            .operation(id)
            .await
            .map_err(|e| Failure::error(e.to_string()))?
            .ok_or_else(|| Failure::error(format!("no operation {id} in the operation log")))
    }

    pub(super) async fn show(
        &self,
        manager: &SoftDeleteManager<'_, DatabaseConnection>,
        id: OperationId,
    ) -> Result<u8, Failure> {
        let record = self.find(manager, id).await?;
        let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
        for (label, value) in [
            ("id", record.id.to_string()),
            ("kind", record.kind.as_str().to_owned()),
            ("table", record.table.clone()),
            ("status", record.status.to_string()),
            ("rows changed", record.rows_changed().to_string()),
            ("rows by table", by_table(&record)),
            ("requested", record.requested.to_string()),
            ("batches", record.batches.to_string()),
            ("actor", optional(&record.actor)),
            ("reason", optional(&record.reason)),
            ("selection", record.selection.clone()),
            ("error", optional(&record.error)),
            ("started at", record.started_at.to_rfc3339()),
            (
                "finished at",
                record
                    .finished_at
                    .map_or_else(|| "-".to_owned(), |t| t.to_rfc3339()),
            ),
            (
                "reverses",
                record
                    .reverses
                    .map_or_else(|| "-".to_owned(), |id| id.to_string()),
            ),
            ("quiet", record.quiet.to_string()),
        ] {
            self.out.line(format!("{label:>14}: {value}"));
        }
        self.out.document(&json!({
            "command": "ops show",
            "exit_code": 0,
            "operation": record_json(&record),
        }));
        Ok(0)
    }

    /// `ops undo` (`undo`) or `restore-op`.
    pub(super) async fn reverse(
        &self,
        manager: &SoftDeleteManager<'_, DatabaseConnection>,
        args: &ReverseArgs,
        undo: bool,
    ) -> Result<u8, Failure> {
        let record = self.find(manager, args.id).await?;
        let entry = self.registry.entry(&record.table).ok_or_else(|| {
            Failure::error(format!(
                "operation {} ran on {}, which this command does not register (it has {})",
                record.id,
                record.table,
                self.registry.tables().join(", ")
            ))
        })?;
        let reverse = if undo { entry.undo } else { entry.restore };
        let report = reverse(manager.clone(), args.id, args.by.clone())
            .await
            .map_err(|e| Failure::error(e.to_string()))?;
        self.out.line(format!(
            "{} {}: {} rows {} on {}{} (operation {})",
            if undo {
                "undid"
            } else {
                "restored the rows of"
            },
            args.id,
            report.affected,
            match report.operation {
                OperationKind::SoftDelete => "soft-deleted again",
                _ => "restored",
            },
            report.table,
            if report.cascaded > 0 {
                format!(", {} with them by cascade", report.cascaded)
            } else {
                String::new()
            },
            report.id
        ));
        self.out.document(&json!({
            "command": self.command_name(),
            "exit_code": 0,
            "reversed": args.id.to_string(),
            "operation": report_json(&report),
        }));
        Ok(0)
    }
}

/// `orders=1500, order_lines=7200`.
fn by_table(record: &OperationRecord) -> String {
    record
        .rows_by_table
        .iter()
        .map(|(table, rows)| format!("{table}={rows}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn record_json(record: &OperationRecord) -> Value {
    let by_table: serde_json::Map<String, Value> = record
        .rows_by_table
        .iter()
        .map(|(table, rows)| (table.clone(), json!(rows)))
        .collect();
    json!({
        "id": record.id.to_string(),
        "kind": record.kind.as_str(),
        "table": record.table,
        "status": record.status.to_string(),
        "rows_changed": record.rows_changed(),
        "rows_by_table": by_table,
        "requested": record.requested,
        "batches": record.batches,
        "actor": record.actor,
        "reason": record.reason,
        "selection": record.selection,
        "error": record.error,
        "started_at": record.started_at.to_rfc3339(),
        "finished_at": record.finished_at.map(|t| t.to_rfc3339()),
        "reverses": record.reverses.map(|id| id.to_string()),
        "quiet": record.quiet,
    })
}

fn report_json(report: &BulkReport) -> Value {
    json!({
        "id": report.id.to_string(),
        "kind": report.operation.as_str(),
        "table": report.table,
        "affected": report.affected,
        "cascaded": report.cascaded,
        "batches": report.batches,
        "retries": report.retries,
        "elapsed_seconds": report.elapsed.as_secs_f64(),
    })
}
