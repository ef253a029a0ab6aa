//! `archive_purge`: the purge of every row (all soft-deleted a year ago) with `.archive()`, to
//! compare with the plain `purge` in the same run. The raw side writes the library's statements
//! by hand, per batch in one transaction after the keyset bound:
//!
//! * PostgreSQL: `WITH moved AS (DELETE … WHERE <range> RETURNING …) INSERT INTO users_archive
//!   … SELECT … FROM moved`;
//! * SQLite: `INSERT INTO users_archive … SELECT … WHERE <range>`, then `DELETE … WHERE <range>`;
//! * MySQL/MariaDB: the batch's keys read with `FOR UPDATE`, then per 1000 keys `INSERT …
//!   SELECT … WHERE id IN (…)` and `DELETE … WHERE id IN (…)`.

use std::time::Instant;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use soft_delete_core::archive::create_archive_table;
use soft_delete_core::prelude::*;
use soft_delete_examples::user;

use crate::table::{Target, now_micros};
use crate::{BoxError, Sample};

/// Keys per `INSERT … SELECT` and `DELETE`, as the library sends them.
const KEYS_PER_STATEMENT: usize = 1000;

const COLUMNS: &str = "id, name, email, deleted_at, deleted_by, deletion_reason";

/// `users` with every row soft-deleted a year ago, and an empty `users_archive`. Not timed.
pub async fn fresh(db: &DatabaseConnection, target: &Target, rows: i64) -> Result<(), BoxError> {
    crate::table::fresh(db, target, rows, true).await?;
    let backend = db.get_database_backend();
    db.execute_unprepared("DROP TABLE IF EXISTS users_archive")
        .await?;
    db.execute(&create_archive_table::<user::Entity>(
        backend,
        "users_archive",
    ))
    .await?;
    Ok(())
}

/// Drops the archive.
pub async fn clean_up(db: &DatabaseConnection) -> Result<(), BoxError> {
    db.execute_unprepared("DROP TABLE IF EXISTS users_archive")
        .await?;
    Ok(())
}

/// The library: one purge of every row, with archive.
pub async fn library(db: &DatabaseConnection, batch: usize) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let report = SoftDeleteManager::new(db)
        .hard_delete_before::<user::Entity>(chrono::Utc::now())
        .archive()
        .batch_size(batch)
        .await?;
    if report.archived != report.affected {
        return Err(format!(
            "archived {} rows but purged {}",
            report.archived, report.affected
        )
        .into());
    }
    Ok(Sample::new(report.affected, started.elapsed()))
}

/// The same statements, written by hand.
pub async fn raw(db: &DatabaseConnection, batch: usize) -> Result<Sample, BoxError> {
    let backend = db.get_database_backend();
    let started = Instant::now();
    let now = now_micros();
    let mark = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let cutoff = |n: usize| match backend {
        DbBackend::MySql => format!("CAST({} AS DATETIME(6))", mark(n)),
        _ => mark(n),
    };
    let at = match backend {
        DbBackend::MySql => Value::from(now.fixed_offset()),
        _ => Value::from(now),
    };
    let predicate = format!("COALESCE(deleted_at, {}) < {}", cutoff(1), cutoff(2));
    let lock = match backend {
        DbBackend::Sqlite => "",
        _ => " FOR UPDATE",
    };
    let mut cursor = 0i64;
    let mut done = 0u64;
    loop {
        let txn = db.begin().await?;
        let bound_sql = format!(
            "SELECT id FROM users WHERE {predicate} AND id > {} ORDER BY id LIMIT 1 OFFSET {}",
            mark(3),
            batch - 1
        );
        let bound: Option<i64> = txn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                bound_sql,
                [at.clone(), at.clone(), cursor.into()],
            ))
            .await?
            .map(|row| row.try_get_by_index::<i64>(0))
            .transpose()?;
        let (range, mut values): (String, Vec<Value>) = match bound {
            Some(upto) => (
                format!("id > {} AND id <= {}", mark(3), mark(4)),
                vec![at.clone(), at.clone(), cursor.into(), upto.into()],
            ),
            None => (
                format!("id > {}", mark(3)),
                vec![at.clone(), at.clone(), cursor.into()],
            ),
        };
        if backend != DbBackend::MySql {
            let next = values.len() + 1;
            let (sql, count_once) = match backend {
                DbBackend::Postgres => (
                    format!(
                        "WITH moved AS (DELETE FROM users WHERE {predicate} AND {range} \
                         RETURNING {COLUMNS}) INSERT INTO users_archive ({COLUMNS}, archived_at) \
                         SELECT {COLUMNS}, {} FROM moved",
                        mark(next)
                    ),
                    true,
                ),
                _ => (
                    format!(
                        "INSERT INTO users_archive ({COLUMNS}, archived_at) SELECT {COLUMNS}, {} \
                         FROM users WHERE {predicate} AND {range}",
                        mark(next)
                    ),
                    false,
                ),
            };
            // `$n` is numbered on PostgreSQL; SQLite's `?` in the SELECT list comes first.
            let binds: Vec<Value> = match backend {
                DbBackend::Postgres => values.iter().cloned().chain([at.clone()]).collect(),
                _ => std::iter::once(at.clone())
                    .chain(values.iter().cloned())
                    .collect(),
            };
            let copied = txn
                .execute_raw(Statement::from_sql_and_values(backend, sql, binds))
                .await?
                .rows_affected();
            let deleted = if count_once {
                copied
            } else {
                txn.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("DELETE FROM users WHERE {predicate} AND {range}"),
                    values,
                ))
                .await?
                .rows_affected()
            };
            if copied != deleted {
                return Err(format!("copied {copied} rows but deleted {deleted}").into());
            }
            done += deleted;
            txn.commit().await?;
            match bound {
                Some(upto) => cursor = upto,
                None => break,
            }
            continue;
        }
        let keys_sql = format!("SELECT id FROM users WHERE {predicate} AND {range}{lock}");
        let keys: Vec<i64> = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                keys_sql,
                std::mem::take(&mut values),
            ))
            .await?
            .iter()
            .map(|row| row.try_get_by_index::<i64>(0))
            .collect::<Result<_, _>>()?;
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let list = |first: usize| {
                (first..first + chunk.len())
                    .map(mark)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let ids = chunk.iter().map(|&id| Value::from(id));
            let copy = format!(
                "INSERT INTO users_archive ({COLUMNS}, archived_at) SELECT {COLUMNS}, {} \
                 FROM users WHERE id IN ({})",
                mark(1),
                list(2)
            );
            let copied = txn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    copy,
                    std::iter::once(at.clone()).chain(ids.clone()),
                ))
                .await?
                .rows_affected();
            let deleted = txn
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("DELETE FROM users WHERE id IN ({})", list(1)),
                    ids,
                ))
                .await?
                .rows_affected();
            if copied != deleted {
                return Err(format!("copied {copied} rows but deleted {deleted}").into());
            }
            done += deleted;
        }
        txn.commit().await?;
        match bound {
            Some(upto) => cursor = upto,
            None => break,
        }
    }
    Ok(Sample::new(done, started.elapsed()))
}
