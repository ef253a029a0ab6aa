//! `cascade_soft_delete`: folders soft-deleted by id, each with [`CHILDREN`] files that follow
//! it. Rates count every row changed (folders and files), so they compare with the flat
//! `bulk_soft_delete` per row. The raw side sends the statements the library sends, written by
//! hand: per batch, one `UPDATE` of the folders and one `UPDATE` of their files per 1000 folders,
//! in one transaction (`WHERE folder_id IN (SELECT …)`; on MySQL/MariaDB a join of the folders as
//! a derived table, which MariaDB reaches the files through their index with).

use std::time::Instant;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Set, Statement,
    TransactionTrait, Value,
};
use soft_delete_core::prelude::*;
use soft_delete_examples::{file, folder};

use crate::table::{Target, create_table, now_micros};
use crate::{BoxError, Sample};

/// Files per folder.
pub const CHILDREN: i64 = 10;

/// Folders the library cascades through per statement (its `KEYS_PER_STATEMENT`).
const KEYS_PER_STATEMENT: usize = 1000;

/// Folders for a run of `rows` rows: folders and their files add up to about `rows`.
pub fn folders(rows: i64) -> i64 {
    (rows / (1 + CHILDREN)).max(1)
}

/// Rows a soft delete of every folder changes.
pub fn rows_changed(rows: i64) -> u64 {
    (folders(rows) * (1 + CHILDREN)) as u64
}

/// Drops and recreates `folders` and `files` (with the chosen index on `deleted_at` for both,
/// and an index on `files.folder_id`, which the cascade's statement looks up), and loads the
/// folders for `rows` with their files, all active, or all soft-deleted a year ago. Not timed.
pub async fn fresh(
    db: &DatabaseConnection,
    target: &Target,
    rows: i64,
    deleted: bool,
) -> Result<(), BoxError> {
    let old = deleted.then(|| chrono::Utc::now() - chrono::Duration::days(365));
    let backend = db.get_database_backend();
    let ddl = db.begin().await?;
    ddl.execute_unprepared("DROP TABLE IF EXISTS files").await?;
    ddl.execute_unprepared("DROP TABLE IF EXISTS folders")
        .await?;
    create_table::<folder::Entity>(&ddl, target).await?;
    create_table::<file::Entity>(&ddl, target).await?;
    ddl.execute_unprepared("CREATE INDEX idx_files_folder_id ON files (folder_id)")
        .await?;
    ddl.commit().await?;
    let ids: Vec<i64> = (1..=folders(rows)).collect();
    for chunk in ids.chunks(5000) {
        folder::Entity::insert_many(chunk.iter().map(|&id| folder::ActiveModel {
            id: Set(id),
            name: Set(format!("folder {id}")),
            deleted_at: Set(old),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await?;
    }
    let files: Vec<(i64, i64)> = ids
        .iter()
        .flat_map(|&folder| (0..CHILDREN).map(move |k| ((folder - 1) * CHILDREN + k + 1, folder)))
        .collect();
    for chunk in files.chunks(5000) {
        file::Entity::insert_many(chunk.iter().map(|&(id, folder_id)| file::ActiveModel {
            id: Set(id),
            folder_id: Set(folder_id),
            name: Set(format!("file {id}")),
            deleted_at: Set(old),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await?;
    }
    match backend {
        DbBackend::Postgres => {
            db.execute_unprepared("ANALYZE folders").await?;
            db.execute_unprepared("ANALYZE files").await?;
        }
        DbBackend::Sqlite => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Drops the two tables.
pub async fn clean_up(db: &DatabaseConnection) -> Result<(), BoxError> {
    db.execute_unprepared("DROP TABLE IF EXISTS files").await?;
    db.execute_unprepared("DROP TABLE IF EXISTS folders")
        .await?;
    Ok(())
}

/// The library: one bulk soft delete of every folder, by id.
pub async fn library(db: &DatabaseConnection, rows: i64, batch: usize) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let report = SoftDeleteManager::new(db)
        .bulk_soft_delete::<folder::Entity, _>(1..=folders(rows))
        .deleted_by("bench")
        .batch_size(batch)
        .await?;
    Ok(Sample::new(
        report.affected + report.cascaded,
        started.elapsed(),
    ))
}

/// The same statements, written by hand.
pub async fn raw(db: &DatabaseConnection, rows: i64, batch: usize) -> Result<Sample, BoxError> {
    let backend = db.get_database_backend();
    let started = Instant::now();
    let ids: Vec<i64> = (1..=folders(rows)).collect();
    let mut done = 0;
    for chunk in ids.chunks(batch) {
        let op = OperationId::new().to_string();
        let now = now_micros();
        let stamp = || {
            vec![
                Value::from(now),
                Value::from("bench"),
                Value::from(Option::<String>::None),
                Value::from(op.clone()),
            ]
        };
        let txn = db.begin().await?;
        let (sql, values): (String, Vec<Value>) = match backend {
            DbBackend::Postgres => (
                "UPDATE folders SET deleted_at = $1, deleted_by = $2, deletion_reason = $3, \
                 deletion_op = $4 WHERE id = ANY($5) AND (deleted_at IS NULL) IS TRUE"
                    .to_owned(),
                stamp()
                    .into_iter()
                    .chain([Value::from(chunk.to_vec())])
                    .collect(),
            ),
            _ => {
                let guard = match backend {
                    DbBackend::Sqlite => "+deleted_at IS NULL",
                    _ => "(deleted_at IS NULL) IS TRUE",
                };
                (
                    format!(
                        "UPDATE folders SET deleted_at = ?, deleted_by = ?, deletion_reason = ?, \
                         deletion_op = ? WHERE id IN ({}) AND {guard}",
                        placeholders(backend, 5, chunk.len())
                    ),
                    stamp()
                        .into_iter()
                        .chain(chunk.iter().map(|&id| Value::from(id)))
                        .collect(),
                )
            }
        };
        done += txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?
            .rows_affected();
        for parents in chunk.chunks(KEYS_PER_STATEMENT) {
            let folders = format!(
                "SELECT folders.id FROM folders WHERE folders.id IN ({}) AND folders.deletion_op = {}",
                placeholders(backend, 5, parents.len()),
                placeholders(backend, 5 + parents.len(), 1),
            );
            let (sql, values) = match backend {
                // The folders joined as a derived table, as the library does on MySQL/MariaDB.
                DbBackend::MySql => (
                    format!(
                        "UPDATE files JOIN ({folders}) AS parents ON files.folder_id = parents.id \
                         AND files.deleted_at IS NULL SET files.deleted_at = ?, \
                         files.deleted_by = ?, files.deletion_reason = ?, files.deletion_op = ?"
                    ),
                    parents
                        .iter()
                        .map(|&id| Value::from(id))
                        .chain([Value::from(op.clone())])
                        .chain(stamp())
                        .collect::<Vec<_>>(),
                ),
                _ => (
                    format!(
                        "UPDATE files SET deleted_at = {}, deleted_by = {}, deletion_reason = {}, \
                         deletion_op = {} WHERE files.folder_id IN ({folders}) \
                         AND files.deleted_at IS NULL",
                        placeholders(backend, 1, 1),
                        placeholders(backend, 2, 1),
                        placeholders(backend, 3, 1),
                        placeholders(backend, 4, 1),
                    ),
                    stamp()
                        .into_iter()
                        .chain(parents.iter().map(|&id| Value::from(id)))
                        .chain([Value::from(op.clone())])
                        .collect(),
                ),
            };
            done += txn
                .execute_raw(Statement::from_sql_and_values(backend, sql, values))
                .await?
                .rows_affected();
        }
        txn.commit().await?;
    }
    Ok(Sample::new(done, started.elapsed()))
}

/// One folder at a time, each with its files in its own transaction.
pub async fn row_by_row(db: &DatabaseConnection, rows: i64) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let mut done = 0;
    for id in 1..=folders(rows) {
        done += folder::Entity::soft_delete_by_id(db, id)
            .deleted_by("bench")
            .await?;
    }
    let elapsed = started.elapsed();
    let files = SoftDeleteManager::new(db)
        .get_deletion_stats::<file::Entity>()
        .await?
        .deleted;
    Ok(Sample::new(done + files, elapsed))
}

/// `count` placeholders numbered from `first`: `$5, $6, …` on PostgreSQL, `?, ?, …` elsewhere.
fn placeholders(backend: DbBackend, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `cascade_purge`, the library: a purge of every folder (soft-deleted a year ago), whose files
/// go first.
pub async fn library_purge(
    db: &DatabaseConnection,
    rows: i64,
    batch: usize,
) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let report = SoftDeleteManager::new(db)
        .hard_delete_before::<folder::Entity>(chrono::Utc::now())
        .batch_size(batch)
        .await?;
    let _ = rows;
    Ok(Sample::new(
        report.affected + report.cascaded,
        started.elapsed(),
    ))
}

/// `cascade_purge`, by hand, the library's statements: per batch, the walk's bound (the
/// `batch`-th purgeable folder after the cursor: deleted before the cutoff, no active file
/// under it), the keys of the purgeable folders up to it (locked), then one `DELETE` of their
/// files and one of the folders per 1000 keys, in one transaction.
pub async fn raw_purge(
    db: &DatabaseConnection,
    rows: i64,
    batch: usize,
) -> Result<Sample, BoxError> {
    let backend = db.get_database_backend();
    let started = Instant::now();
    let cutoff = now_micros();
    let p = |n: usize| placeholders(backend, n, 1);
    let purgeable = format!(
        "NOT EXISTS(SELECT 1 FROM files WHERE files.folder_id = folders.id AND files.deleted_at IS NULL) \
         AND COALESCE(folders.deleted_at, {}) < {}",
        p(1),
        p(2)
    );
    let lock = match backend {
        DbBackend::Sqlite => "",
        _ => " FOR UPDATE",
    };
    let mut cursor: i64 = 0;
    let mut done = 0;
    loop {
        let txn = db.begin().await?;
        let times = || vec![Value::from(cutoff), Value::from(cutoff)];
        let bound_sql = format!(
            "SELECT folders.id FROM folders WHERE {purgeable} AND folders.id > {} \
             ORDER BY folders.id LIMIT 1 OFFSET {}",
            p(3),
            batch - 1
        );
        let bound = txn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                bound_sql,
                times()
                    .into_iter()
                    .chain([Value::from(cursor)])
                    .collect::<Vec<_>>(),
            ))
            .await?
            .map(|row| row.try_get_by_index::<i64>(0))
            .transpose()?;
        let (upper, last) = match bound {
            Some(bound) => (format!(" AND folders.id <= {}", p(4)), bound),
            None => (String::new(), i64::MAX),
        };
        let mut values = times();
        values.push(Value::from(cursor));
        if bound.is_some() {
            values.push(Value::from(last));
        }
        let keys_sql = format!(
            "SELECT folders.id FROM folders WHERE {purgeable} AND folders.id > {}{upper}{lock}",
            p(3)
        );
        let keys: Vec<i64> = txn
            .query_all_raw(Statement::from_sql_and_values(backend, keys_sql, values))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<i64>(0))
            .collect::<Result<_, _>>()?;
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let list = placeholders(backend, 1, chunk.len());
            let files = match backend {
                DbBackend::MySql => format!(
                    "DELETE files FROM files JOIN (SELECT folders.id FROM folders WHERE folders.id IN ({list})) \
                     AS parents ON files.folder_id = parents.id"
                ),
                _ => format!(
                    "DELETE FROM files WHERE files.folder_id IN (SELECT folders.id FROM folders \
                     WHERE folders.id IN ({list}))"
                ),
            };
            let ids = || chunk.iter().map(|&id| Value::from(id)).collect::<Vec<_>>();
            done += txn
                .execute_raw(Statement::from_sql_and_values(backend, files, ids()))
                .await?
                .rows_affected();
            done += txn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("DELETE FROM folders WHERE folders.id IN ({list})"),
                    ids(),
                ))
                .await?
                .rows_affected();
        }
        txn.commit().await?;
        match bound {
            Some(bound) => cursor = bound,
            None => break,
        }
    }
    let _ = rows;
    Ok(Sample::new(done, started.elapsed()))
}

/// `cascade_purge`, one folder at a time: its files, then the folder, in one transaction.
pub async fn row_by_row_purge(db: &DatabaseConnection, rows: i64) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let mut done = 0;
    for id in 1..=folders(rows) {
        let txn = db.begin().await?;
        done += file::Entity::delete_many()
            .filter(sea_orm::ColumnTrait::eq(&file::Column::FolderId, id))
            .exec(&txn)
            .await?
            .rows_affected;
        done += folder::Entity::force_delete_by_id(&txn, id).await?;
        txn.commit().await?;
    }
    Ok(Sample::new(done, started.elapsed()))
}
