//! The hand-written side: every operation as sqlx statements, in each statement shape the bench
//! knows. [`library_shape`] names the shape the library sends, which is what the "raw" column
//! times; `--probe` times the others too, on the same table in the same run.

use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbBackend};
use serde::Serialize;
use sqlx::{MySqlPool, PgPool, SqlitePool};

use crate::args::Op;
use crate::table::now_micros;
use crate::{BoxError, Sample, stats_repeats};

/// A way of writing an operation's statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// `UPDATE … WHERE id IN (?, …) AND deleted_at IS NULL`.
    InList,
    /// The same with the guard no index can serve: `+deleted_at IS NULL` on SQLite,
    /// `(deleted_at IS NULL) IS TRUE` on MySQL/MariaDB.
    InListGuarded,
    /// SQLite: `WHERE id IN (SELECT value FROM json_each(?)) AND +deleted_at IS NULL`.
    JsonEach,
    /// PostgreSQL: `WHERE id = ANY($4) AND deleted_at IS NULL`, one array parameter.
    Any,
    /// PostgreSQL: the same with the guard `(deleted_at IS NULL) IS TRUE`.
    AnyGuarded,
    /// MySQL/MariaDB: `UPDATE users JOIN JSON_TABLE(?, …) …`.
    JsonTable,
    /// MySQL/MariaDB: the batch's ids into a temporary table, then `UPDATE … JOIN`.
    TempTable,
    /// The IN list, every batch in one transaction.
    InListOneTransaction,
    /// Purge by keyset with `COALESCE(deleted_at, cutoff) < cutoff`.
    KeysetCoalesce,
    /// Purge by keyset with `deleted_at < cutoff`.
    KeysetPlain,
    /// Purge with archive, as the library moves rows on each backend (see `archive`).
    Archive,
    /// `INSERT … VALUES (?, ?), …`.
    MultiRow,
    /// SQLite: `INSERT … SELECT value->>0, value->>1 FROM json_each(?)`.
    JsonEachInsert,
    /// SQLite: `INSERT … VALUES ('…', '…'), …` with the values written into the SQL.
    Literal,
    /// PostgreSQL: `INSERT … SELECT * FROM unnest($1::text[], $2::text[])`.
    Unnest,
    /// PostgreSQL: `COPY users (name, email) FROM STDIN`.
    Copy,
    /// `SELECT COUNT(*), COUNT(deleted_at) FROM users`.
    Count,
    /// The cascade's statements: the folders' `UPDATE` (the library's shape), then one `UPDATE`
    /// of the files per 1000 folders, `WHERE folder_id IN (SELECT id … AND deletion_op = ?)`
    /// (on MySQL/MariaDB, `UPDATE files JOIN (SELECT id …) …`).
    Cascade,
}

/// The shape the library sends for `op` on `backend`.
pub fn library_shape(backend: DbBackend, op: Op) -> Shape {
    match (op, backend) {
        (Op::BulkSoftDelete | Op::HookedSoftDelete | Op::BulkRestore, DbBackend::Postgres) => {
            Shape::AnyGuarded
        }
        (Op::BulkSoftDelete | Op::HookedSoftDelete | Op::BulkRestore, _) => Shape::InListGuarded,
        (
            Op::FlagSoftDelete | Op::PairedSoftDelete | Op::ActiveSoftDelete | Op::EpochSoftDelete,
            DbBackend::Postgres,
        ) => Shape::AnyGuarded,
        (
            Op::FlagSoftDelete | Op::PairedSoftDelete | Op::ActiveSoftDelete | Op::EpochSoftDelete,
            _,
        ) => Shape::InListGuarded,
        (Op::Purge | Op::GuardedPurge, _) => Shape::KeysetCoalesce,
        (Op::ArchivePurge | Op::GuardedArchivePurge, _) => Shape::Archive,
        (Op::BulkCreate | Op::BulkInsert, _) => Shape::MultiRow,
        (Op::Stats, _) => Shape::Count,
        (Op::CascadeSoftDelete | Op::CascadePurge, _) => Shape::Cascade,
    }
}

/// Every shape the probe tries for `op` on `backend`.
pub fn shapes(backend: DbBackend, op: Op) -> Vec<Shape> {
    use Shape::*;
    match (op, backend) {
        (Op::BulkSoftDelete | Op::HookedSoftDelete | Op::BulkRestore, DbBackend::Sqlite) => {
            vec![InListGuarded, InList, JsonEach]
        }
        (Op::BulkSoftDelete | Op::HookedSoftDelete | Op::BulkRestore, DbBackend::Postgres) => {
            vec![AnyGuarded, Any, InList]
        }
        (Op::BulkSoftDelete | Op::HookedSoftDelete | Op::BulkRestore, _) => {
            vec![
                InListGuarded,
                InList,
                JsonTable,
                TempTable,
                InListOneTransaction,
            ]
        }
        (Op::Purge | Op::GuardedPurge, _) => vec![KeysetCoalesce, KeysetPlain],
        (Op::ArchivePurge | Op::GuardedArchivePurge, _) => vec![Archive],
        (Op::BulkInsert, DbBackend::Sqlite) => vec![MultiRow, JsonEachInsert, Literal],
        (Op::BulkInsert, DbBackend::Postgres) => vec![MultiRow, Unnest, Copy],
        (Op::BulkInsert | Op::BulkCreate, _) => vec![MultiRow],
        (Op::Stats, _) => vec![Count],
        (Op::CascadeSoftDelete | Op::CascadePurge, _) => vec![Cascade],
        // One shape: the library's, written for the marker (see `markers`).
        (
            Op::FlagSoftDelete | Op::PairedSoftDelete | Op::ActiveSoftDelete | Op::EpochSoftDelete,
            _,
        ) => vec![library_shape(backend, op)],
    }
}

/// One timed run of `op` in `shape`.
pub async fn run(
    db: &DatabaseConnection,
    op: Op,
    shape: Shape,
    rows: i64,
    batch: usize,
    workers: usize,
) -> Result<Sample, BoxError> {
    if op == Op::CascadeSoftDelete {
        return crate::cascade::raw(db, rows, batch).await;
    }
    if op == Op::CascadePurge {
        return crate::cascade::raw_purge(db, rows, batch).await;
    }
    if let Some(kind) = crate::markers::Kind::of(op) {
        return crate::markers::raw(db, kind, rows, batch).await;
    }
    if matches!(op, Op::ArchivePurge | Op::GuardedArchivePurge) {
        return crate::archive::raw(db, batch).await;
    }
    let op = op.raw_equivalent();
    // One session per worker the library runs, each over its own contiguous part of the ids.
    let sessions = match (op, db.get_database_backend()) {
        (_, DbBackend::Sqlite) => 1,
        (Op::BulkSoftDelete | Op::BulkRestore | Op::Purge, _) => workers.max(1) as i64,
        _ => 1,
    };
    let spans: Vec<Span> = (0..sessions)
        .map(|k| Span {
            first: rows * k / sessions + 1,
            last: rows * (k + 1) / sessions,
            open: k == sessions - 1,
        })
        .collect();
    let started = Instant::now();
    let done = futures::future::try_join_all(spans.into_iter().map(|span| async move {
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                sqlite(db.get_sqlite_connection_pool(), op, shape, span, batch).await
            }
            DbBackend::Postgres => {
                postgres(db.get_postgres_connection_pool(), op, shape, span, batch).await
            }
            _ => mysql(db.get_mysql_connection_pool(), op, shape, span, batch).await,
        }
    }))
    .await?
    .into_iter()
    .sum();
    Ok(Sample::new(done, started.elapsed()))
}

/// One session's part of the ids: `first ..= last`; a keyset walk's last part (`open`) goes on
/// past `last`, as the library's does.
#[derive(Clone, Copy, Debug)]
struct Span {
    first: i64,
    last: i64,
    open: bool,
}

impl Span {
    /// The walk's upper bound.
    fn upper(self) -> i64 {
        if self.open { i64::MAX } else { self.last }
    }
}

fn unsupported(op: Op, shape: Shape) -> BoxError {
    format!("no {shape:?} shape for {}", op.name()).into()
}

/// `?, ?, …` (`count` of them).
fn marks(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// `$first, $first+1, …` (`count` of them).
fn dollars(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SET clause's values: the soft-delete stamp, or NULLs for a restore.
fn stamp(soft: bool, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, Option<&'static str>) {
    if soft {
        (Some(now), Some("bench"))
    } else {
        (None, None)
    }
}

const SET: &str = "deleted_at = ?, deleted_by = ?, deletion_reason = ?";
const SET_PG: &str = "deleted_at = $1, deleted_by = $2, deletion_reason = $3";
const COLUMNS: &str = "id, name, email, deleted_at, deleted_by, deletion_reason";

type UserRow = (
    i64,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
);

fn name(i: i64) -> String {
    format!("user {i}")
}

fn email(i: i64) -> String {
    format!("user{i}@example.com")
}

/// Rows per INSERT: the batch, capped by the bind limit for two columns.
fn insert_rows(backend: DbBackend, batch: usize) -> usize {
    let limit = if backend == DbBackend::Sqlite {
        32_766
    } else {
        65_535
    };
    (limit / 2).min(batch)
}

async fn sqlite(
    pool: &SqlitePool,
    op: Op,
    shape: Shape,
    span: Span,
    batch: usize,
) -> Result<u64, BoxError> {
    let now = now_micros();
    let rows = span.last - span.first + 1;
    let ids: Vec<i64> = (span.first..=span.last).collect();
    let mut total = 0u64;
    match (op, shape) {
        (Op::BulkSoftDelete | Op::BulkRestore, Shape::InList | Shape::InListGuarded) => {
            let soft = op == Op::BulkSoftDelete;
            let plus = if shape == Shape::InListGuarded {
                "+"
            } else {
                ""
            };
            let guard = if soft { "IS NULL" } else { "IS NOT NULL" };
            let (at, by) = stamp(soft, now);
            for chunk in ids.chunks(batch) {
                let sql = format!(
                    "UPDATE users SET {SET} WHERE id IN ({}) AND {plus}deleted_at {guard}",
                    marks(chunk.len())
                );
                let mut tx = pool.begin().await?;
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(at)
                    .bind(by)
                    .bind(None::<String>);
                for id in chunk {
                    query = query.bind(*id);
                }
                total += query.execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
            }
        }
        (Op::BulkSoftDelete | Op::BulkRestore, Shape::JsonEach) => {
            let soft = op == Op::BulkSoftDelete;
            let guard = if soft { "IS NULL" } else { "IS NOT NULL" };
            let (at, by) = stamp(soft, now);
            let sql = format!(
                "UPDATE users SET {SET} WHERE id IN (SELECT value FROM json_each(?)) \
                 AND +deleted_at {guard}"
            );
            for chunk in ids.chunks(batch) {
                let json = format!(
                    "[{}]",
                    chunk
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let mut tx = pool.begin().await?;
                total += sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(at)
                    .bind(by)
                    .bind(None::<String>)
                    .bind(json)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
            }
        }
        (Op::Purge, Shape::KeysetCoalesce | Shape::KeysetPlain) => {
            let predicate = if shape == Shape::KeysetCoalesce {
                "COALESCE(deleted_at, ?1) < ?1"
            } else {
                "deleted_at < ?1"
            };
            let mut cursor = span.first - 1;
            loop {
                let mut tx = pool.begin().await?;
                let bound: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM users WHERE {predicate} AND id > ?2 AND id <= ?4 \
                     ORDER BY id LIMIT 1 OFFSET ?3"
                )))
                .bind(now)
                .bind(cursor)
                .bind(batch as i64 - 1)
                .bind(span.upper())
                .fetch_optional(&mut *tx)
                .await?;
                let upto = bound.map_or(span.upper(), |(id,)| id);
                total += sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM users WHERE {predicate} AND id > ?2 AND id <= ?3"
                )))
                .bind(now)
                .bind(cursor)
                .bind(upto)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                match bound {
                    Some((id,)) => cursor = id,
                    None => break,
                }
            }
        }
        (Op::BulkInsert | Op::BulkCreate, Shape::MultiRow) => {
            let returning = op == Op::BulkCreate;
            let per = insert_rows(DbBackend::Sqlite, batch);
            for chunk in ids.chunks(batch) {
                let mut tx = pool.begin().await?;
                for part in chunk.chunks(per) {
                    let mut sql = format!(
                        "INSERT INTO users (name, email) VALUES {}",
                        vec!["(?, ?)"; part.len()].join(", ")
                    );
                    if returning {
                        sql.push_str(" RETURNING ");
                        sql.push_str(COLUMNS);
                        let mut query = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql));
                        for i in part {
                            query = query.bind(name(*i)).bind(email(*i));
                        }
                        total += query.fetch_all(&mut *tx).await?.len() as u64;
                    } else {
                        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for i in part {
                            query = query.bind(name(*i)).bind(email(*i));
                        }
                        total += query.execute(&mut *tx).await?.rows_affected();
                    }
                }
                tx.commit().await?;
            }
        }
        (Op::BulkInsert, Shape::JsonEachInsert) => {
            for chunk in ids.chunks(batch) {
                let json = serde_json::to_string(
                    &chunk
                        .iter()
                        .map(|i| [name(*i), email(*i)])
                        .collect::<Vec<_>>(),
                )?;
                let mut tx = pool.begin().await?;
                total += sqlx::query(
                    "INSERT INTO users (name, email) \
                     SELECT value->>0, value->>1 FROM json_each(?)",
                )
                .bind(json)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
            }
        }
        (Op::BulkInsert, Shape::Literal) => {
            let quote = |s: String| format!("'{}'", s.replace('\'', "''"));
            for chunk in ids.chunks(batch) {
                let values: Vec<String> = chunk
                    .iter()
                    .map(|i| format!("({}, {})", quote(name(*i)), quote(email(*i))))
                    .collect();
                let sql = format!(
                    "INSERT INTO users (name, email) VALUES {}",
                    values.join(", ")
                );
                let mut tx = pool.begin().await?;
                total += sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
            }
        }
        (Op::Stats, Shape::Count) => {
            for _ in 0..stats_repeats(rows) {
                let (all, _deleted): (i64, i64) =
                    sqlx::query_as("SELECT COUNT(*), COUNT(deleted_at) FROM users")
                        .fetch_one(pool)
                        .await?;
                total += all as u64;
            }
        }
        _ => return Err(unsupported(op, shape)),
    }
    Ok(total)
}

async fn postgres(
    pool: &PgPool,
    op: Op,
    shape: Shape,
    span: Span,
    batch: usize,
) -> Result<u64, BoxError> {
    let now = now_micros();
    let rows = span.last - span.first + 1;
    let ids: Vec<i64> = (span.first..=span.last).collect();
    let mut total = 0u64;
    match (op, shape) {
        (Op::BulkSoftDelete | Op::BulkRestore, Shape::Any | Shape::AnyGuarded | Shape::InList) => {
            let soft = op == Op::BulkSoftDelete;
            let test = if soft { "IS NULL" } else { "IS NOT NULL" };
            let guard = match shape {
                Shape::AnyGuarded => format!("(deleted_at {test}) IS TRUE"),
                _ => format!("deleted_at {test}"),
            };
            let (at, by) = stamp(soft, now);
            for chunk in ids.chunks(batch) {
                let mut tx = pool.begin().await?;
                let affected = if shape != Shape::InList {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE users SET {SET_PG} WHERE id = ANY($4) AND {guard}"
                    )))
                    .bind(at)
                    .bind(by)
                    .bind(None::<String>)
                    .bind(chunk)
                    .execute(&mut *tx)
                    .await?
                } else {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE users SET {SET_PG} WHERE id IN ({}) AND {guard}",
                        dollars(4, chunk.len())
                    )))
                    .bind(at)
                    .bind(by)
                    .bind(None::<String>);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    query.execute(&mut *tx).await?
                };
                total += affected.rows_affected();
                tx.commit().await?;
            }
        }
        (Op::Purge, Shape::KeysetCoalesce | Shape::KeysetPlain) => {
            let predicate = if shape == Shape::KeysetCoalesce {
                "COALESCE(deleted_at, $1) < $1"
            } else {
                "deleted_at < $1"
            };
            let mut cursor = span.first - 1;
            loop {
                let mut tx = pool.begin().await?;
                let bound: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM users WHERE {predicate} AND id > $2 AND id <= $4 \
                     ORDER BY id LIMIT 1 OFFSET $3"
                )))
                .bind(now)
                .bind(cursor)
                .bind(batch as i64 - 1)
                .bind(span.upper())
                .fetch_optional(&mut *tx)
                .await?;
                let upto = bound.map_or(span.upper(), |(id,)| id);
                total += sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM users WHERE {predicate} AND id > $2 AND id <= $3"
                )))
                .bind(now)
                .bind(cursor)
                .bind(upto)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                match bound {
                    Some((id,)) => cursor = id,
                    None => break,
                }
            }
        }
        (Op::BulkInsert | Op::BulkCreate, Shape::MultiRow) => {
            let returning = op == Op::BulkCreate;
            let per = insert_rows(DbBackend::Postgres, batch);
            for chunk in ids.chunks(batch) {
                let mut tx = pool.begin().await?;
                for part in chunk.chunks(per) {
                    let values: Vec<String> = (0..part.len())
                        .map(|r| format!("(${}, ${})", 2 * r + 1, 2 * r + 2))
                        .collect();
                    let mut sql = format!(
                        "INSERT INTO users (name, email) VALUES {}",
                        values.join(", ")
                    );
                    if returning {
                        sql.push_str(" RETURNING ");
                        sql.push_str(COLUMNS);
                        let mut query = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql));
                        for i in part {
                            query = query.bind(name(*i)).bind(email(*i));
                        }
                        total += query.fetch_all(&mut *tx).await?.len() as u64;
                    } else {
                        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for i in part {
                            query = query.bind(name(*i)).bind(email(*i));
                        }
                        total += query.execute(&mut *tx).await?.rows_affected();
                    }
                }
                tx.commit().await?;
            }
        }
        (Op::BulkInsert, Shape::Unnest) => {
            for chunk in ids.chunks(batch) {
                let names: Vec<String> = chunk.iter().map(|i| name(*i)).collect();
                let emails: Vec<String> = chunk.iter().map(|i| email(*i)).collect();
                let mut tx = pool.begin().await?;
                total += sqlx::query(
                    "INSERT INTO users (name, email) \
                     SELECT * FROM unnest($1::text[], $2::text[])",
                )
                .bind(names)
                .bind(emails)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
            }
        }
        (Op::BulkInsert, Shape::Copy) => {
            for chunk in ids.chunks(batch) {
                let mut data = String::with_capacity(chunk.len() * 40);
                for i in chunk {
                    // COPY's text format: tab-separated, one row per line (no value here needs
                    // escaping).
                    data.push_str(&name(*i));
                    data.push('\t');
                    data.push_str(&email(*i));
                    data.push('\n');
                }
                let mut tx = pool.begin().await?;
                let mut copy = tx
                    .copy_in_raw("COPY users (name, email) FROM STDIN")
                    .await?;
                copy.send(data.into_bytes()).await?;
                total += copy.finish().await?;
                tx.commit().await?;
            }
        }
        (Op::Stats, Shape::Count) => {
            for _ in 0..stats_repeats(rows) {
                let (all, _deleted): (i64, i64) =
                    sqlx::query_as("SELECT COUNT(*), COUNT(deleted_at) FROM users")
                        .fetch_one(pool)
                        .await?;
                total += all as u64;
            }
        }
        _ => return Err(unsupported(op, shape)),
    }
    Ok(total)
}

async fn mysql(
    pool: &MySqlPool,
    op: Op,
    shape: Shape,
    span: Span,
    batch: usize,
) -> Result<u64, BoxError> {
    let now = now_micros();
    let rows = span.last - span.first + 1;
    let ids: Vec<i64> = (span.first..=span.last).collect();
    let mut total = 0u64;
    match (op, shape) {
        (
            Op::BulkSoftDelete | Op::BulkRestore,
            Shape::InList | Shape::InListGuarded | Shape::InListOneTransaction,
        ) => {
            let soft = op == Op::BulkSoftDelete;
            let test = if soft { "IS NULL" } else { "IS NOT NULL" };
            let guard = match shape {
                Shape::InList => format!("deleted_at {test}"),
                _ => format!("(deleted_at {test}) IS TRUE"),
            };
            let (at, by) = stamp(soft, now);
            let mut outer = match shape {
                Shape::InListOneTransaction => Some(pool.begin().await?),
                _ => None,
            };
            for chunk in ids.chunks(batch) {
                let sql = format!(
                    "UPDATE users SET {SET} WHERE id IN ({}) AND {guard}",
                    marks(chunk.len())
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(at)
                    .bind(by)
                    .bind(None::<String>);
                for id in chunk {
                    query = query.bind(*id);
                }
                total += match outer.as_mut() {
                    Some(tx) => query.execute(&mut **tx).await?.rows_affected(),
                    None => {
                        let mut tx = pool.begin().await?;
                        let done = query.execute(&mut *tx).await?.rows_affected();
                        tx.commit().await?;
                        done
                    }
                };
            }
            if let Some(tx) = outer {
                tx.commit().await?;
            }
        }
        (Op::BulkSoftDelete | Op::BulkRestore, Shape::JsonTable) => {
            let soft = op == Op::BulkSoftDelete;
            let guard = if soft { "IS NULL" } else { "IS NOT NULL" };
            let (at, by) = stamp(soft, now);
            let sql = format!(
                "UPDATE users JOIN JSON_TABLE(?, '$[*]' COLUMNS (k BIGINT PATH '$')) AS j \
                 ON users.id = j.k SET users.deleted_at = ?, users.deleted_by = ?, \
                 users.deletion_reason = ? WHERE users.deleted_at {guard}"
            );
            for chunk in ids.chunks(batch) {
                let json = serde_json::to_string(chunk)?;
                let mut tx = pool.begin().await?;
                total += sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(json)
                    .bind(at)
                    .bind(by)
                    .bind(None::<String>)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
            }
        }
        (Op::BulkSoftDelete | Op::BulkRestore, Shape::TempTable) => {
            let soft = op == Op::BulkSoftDelete;
            let guard = if soft { "IS NULL" } else { "IS NOT NULL" };
            let (at, by) = stamp(soft, now);
            let mut conn = pool.acquire().await?;
            sqlx::query("CREATE TEMPORARY TABLE IF NOT EXISTS bench_ids (k BIGINT PRIMARY KEY)")
                .execute(&mut *conn)
                .await?;
            for chunk in ids.chunks(batch) {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::query("DELETE FROM bench_ids")
                    .execute(&mut *tx)
                    .await?;
                let mut insert = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO bench_ids (k) VALUES {}",
                    vec!["(?)"; chunk.len()].join(", ")
                )));
                for id in chunk {
                    insert = insert.bind(*id);
                }
                insert.execute(&mut *tx).await?;
                total += sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE users JOIN bench_ids ON users.id = bench_ids.k SET \
                     users.deleted_at = ?, users.deleted_by = ?, users.deletion_reason = ? \
                     WHERE users.deleted_at {guard}"
                )))
                .bind(at)
                .bind(by)
                .bind(None::<String>)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
            }
            sqlx::query("DROP TEMPORARY TABLE bench_ids")
                .execute(&mut *conn)
                .await?;
        }
        (Op::Purge, Shape::KeysetCoalesce | Shape::KeysetPlain) => {
            let (predicate, binds) = if shape == Shape::KeysetCoalesce {
                ("COALESCE(deleted_at, ?) < ?", 2)
            } else {
                ("deleted_at < ?", 1)
            };
            let mut cursor = span.first - 1;
            loop {
                let mut tx = pool.begin().await?;
                let mut select = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM users WHERE {predicate} AND id > ? AND id <= ? \
                     ORDER BY id LIMIT 1 OFFSET ?"
                )));
                for _ in 0..binds {
                    select = select.bind(now);
                }
                let bound = select
                    .bind(cursor)
                    .bind(span.upper())
                    .bind(batch as i64 - 1)
                    .fetch_optional(&mut *tx)
                    .await?;
                let upto = bound.map_or(span.upper(), |(id,)| id);
                let mut delete = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM users WHERE {predicate} AND id > ? AND id <= ?"
                )));
                for _ in 0..binds {
                    delete = delete.bind(now);
                }
                total += delete
                    .bind(cursor)
                    .bind(upto)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                match bound {
                    Some((id,)) => cursor = id,
                    None => break,
                }
            }
        }
        (Op::BulkInsert | Op::BulkCreate, Shape::MultiRow) => {
            let returning = op == Op::BulkCreate;
            let per = insert_rows(DbBackend::MySql, batch);
            for chunk in ids.chunks(batch) {
                let mut tx = pool.begin().await?;
                for part in chunk.chunks(per) {
                    let mut insert = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO users (name, email) VALUES {}",
                        vec!["(?, ?)"; part.len()].join(", ")
                    )));
                    for i in part {
                        insert = insert.bind(name(*i)).bind(email(*i));
                    }
                    let done = insert.execute(&mut *tx).await?;
                    if !returning {
                        total += done.rows_affected();
                        continue;
                    }
                    // No RETURNING: read the rows back from the first generated key on, as
                    // the library does: the keys of one multi-row INSERT are consecutive.
                    let first = done.last_insert_id() as i64;
                    let last = first + part.len() as i64 - 1;
                    let select = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(format!(
                        "SELECT {COLUMNS} FROM users WHERE id BETWEEN ? AND ?"
                    )))
                    .bind(first)
                    .bind(last);
                    total += select.fetch_all(&mut *tx).await?.len() as u64;
                }
                tx.commit().await?;
            }
        }
        (Op::Stats, Shape::Count) => {
            for _ in 0..stats_repeats(rows) {
                let (all, _deleted): (i64, i64) =
                    sqlx::query_as("SELECT COUNT(*), COUNT(deleted_at) FROM users")
                        .fetch_one(pool)
                        .await?;
                total += all as u64;
            }
        }
        _ => return Err(unsupported(op, shape)),
    }
    Ok(total)
}
