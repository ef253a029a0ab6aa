//! `stats`: rows per entity, what a prune would remove now, and the archive's size.

use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{Failure, Session};
use crate::manager::SoftDeleteManager;
use crate::prune::{Outcome, Pruner};

impl Session {
    pub(super) async fn stats(
        &self,
        manager: &SoftDeleteManager<'_, DatabaseConnection>,
        tables: &[String],
    ) -> Result<u8, Failure> {
        let entries = self.selected(tables);
        // What a prune would remove now: a dry run of every selected policy.
        let mut pruner = Pruner::new(manager).dry_run();
        for entry in &entries {
            pruner = (entry.add)(pruner, false);
        }
        let purgeable = pruner
            .run()
            .await
            .map_err(|e| Failure::error(e.to_string()))?;
        let db = manager.connection();
        let mut code = 0;
        let mut rows = Vec::new();
        self.out.line(format!(
            "{:<24} {:>12} {:>12} {:>12} {:>12} {:>12}",
            "table", "total", "active", "deleted", "purgeable", "archived"
        ));
        for entry in entries {
            let table = entry.table.to_string();
            let counted = (entry.stats)(manager.clone()).await;
            let pruned = purgeable.entities.iter().find(|e| e.table == table);
            let archive = entry.archive_in(false).unwrap_or(&entry.default_archive);
            let archived = archive_rows(db, archive).await;
            let mut errors = Vec::new();
            let stats = counted.map_err(|e| errors.push(e.to_string())).ok();
            let purgeable = match pruned.map(|e| &e.outcome) {
                Some(Outcome::Done(report)) => Some(report.affected),
                Some(Outcome::Failed(error)) => {
                    errors.push(error.to_string());
                    None
                }
                _ => None,
            };
            let archived = archived.map_err(|e| errors.push(e)).ok().flatten();
            if !errors.is_empty() {
                code = 1;
                self.out.note(format!("{table}: {}", errors.join("; ")));
            }
            let cell = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
            self.out.line(format!(
                "{:<24} {:>12} {:>12} {:>12} {:>12} {:>12}",
                table,
                cell(stats.as_ref().map(|s| s.total)),
                cell(stats.as_ref().map(|s| s.active)),
                cell(stats.as_ref().map(|s| s.deleted)),
                cell(purgeable),
                cell(archived),
            ));
            rows.push(json!({
                "table": table,
                "total": stats.as_ref().map(|s| s.total),
                "active": stats.as_ref().map(|s| s.active),
                "deleted": stats.as_ref().map(|s| s.deleted),
                "purgeable": purgeable,
                "archive_table": archive.to_string(),
                "archived": archived,
                "error": (!errors.is_empty()).then(|| errors.join("; ")),
            }));
        }
        self.out.document(&json!({
            "command": "stats",
            "exit_code": code,
            "entities": rows,
        }));
        Ok(code)
    }
}

/// The rows in `archive`, or `None` when it does not exist.
async fn archive_rows(
    db: &DatabaseConnection,
    archive: &crate::sql::Table,
) -> Result<Option<u64>, String> {
    let exists = crate::sql::table_exists(db, archive)
        .await
        .map_err(|e| format!("{archive}: {e}"))?;
    if !exists {
        return Ok(None);
    }
    let mut rows = sea_orm::sea_query::Query::select();
    rows.expr(sea_orm::sea_query::Expr::cust("COUNT(*)"))
        .from(archive.table_ref());
    crate::sql::count(db, &rows)
        .await
        .map(Some)
        .map_err(|e| format!("{archive}: {e}"))
}
