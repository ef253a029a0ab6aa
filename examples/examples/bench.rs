//! The library against hand-written SQL and a row-by-row loop, in the same run.
//!
//! ```text
//! cargo run --release -p soft-delete-examples --example bench -- --backend sqlite --rows 1000000
//! DATABASE_URL=postgres://… cargo run --release -p soft-delete-examples --example bench -- --backend postgres --rows 1000000 --json
//! cargo run --release -p soft-delete-examples --example bench -- --memory
//! ```
//!
//! For each operation (bulk soft delete, bulk restore, purge, bulk create returning models, bulk
//! insert counting rows, statistics) every
//! round loads identical fresh tables and times (a) the library and (b) the same statements
//! written by hand with sqlx, alternating which goes first; (c) a row-by-row loop through SeaORM
//! runs once on a smaller table. It prints medians, or with `--json` one JSON object.
//!
//! `--memory` runs the library soft-deleting 100k, 1M and 10M streamed ids on SQLite, each in a
//! fresh process, and prints each peak RSS and the ratio 10M/1M.
//!
//! Options: `--backend sqlite|postgres|mysql` (default sqlite), `--rows N` (default 100000),
//! `--rounds R` (default 3), `--batch B` (default 5000; 2000 on MySQL), `--loop-rows M`
//! (default min(N, 2000)), `--ops a,b` (a subset of the operations), `--json`. The servers come from `DATABASE_URL`; SQLite uses a WAL
//! file database in the temp folder unless `DATABASE_URL` names another SQLite database.

use std::error::Error;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Set, TransactionTrait};
use soft_delete_core::migration;
use soft_delete_core::prelude::*;
use soft_delete_examples::{per_second, user};

type BoxError = Box<dyn Error + Send + Sync>;

#[derive(Clone, Debug)]
struct Options {
    backend: DbBackend,
    url: String,
    rows: i64,
    rounds: usize,
    batch: usize,
    loop_rows: i64,
    json: bool,
    ops: Vec<&'static str>,
}

const OPERATIONS: [&str; 6] = [
    "bulk_soft_delete",
    "bulk_restore",
    "purge",
    "bulk_create",
    "bulk_insert",
    "stats",
];

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(position) = args.iter().position(|a| a == "--memory-child") {
        let ids: u64 = args
            .get(position + 1)
            .ok_or("--memory-child needs an id count")?
            .parse()?;
        return memory_child(ids).await;
    }
    if args.iter().any(|a| a == "--memory") {
        return memory_mode().await;
    }
    let options = parse(&args)?;
    run(options).await
}

fn parse(args: &[String]) -> Result<Options, BoxError> {
    let value = |flag: &str| -> Option<&str> {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let backend = match value("--backend").unwrap_or("sqlite") {
        "sqlite" => DbBackend::Sqlite,
        "postgres" | "postgresql" => DbBackend::Postgres,
        "mysql" | "mariadb" => DbBackend::MySql,
        other => {
            return Err(
                format!("unknown --backend `{other}`: expected sqlite, postgres or mysql").into(),
            );
        }
    };
    let env_url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
    let url = match backend {
        DbBackend::Sqlite => match env_url {
            Some(url) if url.starts_with("sqlite:") => url,
            _ => {
                let path = std::env::temp_dir()
                    .join(format!("soft-delete-bench-{}.db", std::process::id()));
                format!("sqlite://{}?mode=rwc", path.display())
            }
        },
        _ => env_url.ok_or("--backend postgres|mysql needs DATABASE_URL")?,
    };
    let number = |flag: &str, default: u64| -> Result<u64, BoxError> {
        match value(flag) {
            Some(v) => v
                .parse()
                .map_err(|_| format!("{flag} expects a number, got `{v}`").into()),
            None => Ok(default),
        }
    };
    let rows = number("--rows", 100_000)? as i64;
    if rows < 1 {
        return Err("--rows must be at least 1".into());
    }
    let default_batch = if backend == DbBackend::MySql {
        2000
    } else {
        5000
    };
    Ok(Options {
        backend,
        url,
        rows,
        rounds: number("--rounds", 3)?.max(1) as usize,
        batch: number("--batch", default_batch)?.max(1) as usize,
        loop_rows: number("--loop-rows", rows.min(2000) as u64)?.max(1) as i64,
        json: args.iter().any(|a| a == "--json"),
        ops: match value("--ops") {
            None => OPERATIONS.to_vec(),
            Some(list) => {
                let mut ops = Vec::new();
                for name in list.split(',') {
                    let op = OPERATIONS.iter().find(|op| **op == name).ok_or_else(|| {
                        format!("unknown operation `{name}` in --ops: expected {OPERATIONS:?}")
                    })?;
                    ops.push(*op);
                }
                ops
            }
        },
    })
}

async fn connect(options: &Options) -> Result<DatabaseConnection, BoxError> {
    let mut connect = sea_orm::ConnectOptions::new(options.url.clone());
    connect
        .sqlx_logging(false)
        .max_connections(2)
        .min_connections(1)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        });
    Ok(sea_orm::Database::connect(connect).await?)
}

/// Drops and recreates `users` (with the library's column types and `deleted_at` index) and
/// loads `rows` rows, `deleted` ones soft-deleted long ago. Not timed.
async fn fresh_table(db: &DatabaseConnection, rows: i64, deleted: bool) -> Result<(), BoxError> {
    // The DDL runs on one connection, in one transaction. Spread over the pool, a SQLite
    // connection whose cached schema predates the DROP rejected the new index as "already
    // exists" (about one smoke run in fifteen).
    let ddl = db.begin().await?;
    ddl.execute_unprepared("DROP TABLE IF EXISTS users").await?;
    ddl.execute(&migration::create_table_from_entity::<user::Entity>(
        db.get_database_backend(),
    ))
    .await?;
    ddl.execute(&migration::deleted_at_index::<user::Entity>())
        .await?;
    ddl.commit().await?;
    let old = Utc::now() - chrono::Duration::days(365);
    let ids: Vec<i64> = (1..=rows).collect();
    for chunk in ids.chunks(5000) {
        let models = chunk.iter().map(|&id| user::ActiveModel {
            id: Set(id),
            name: Set(format!("user {id}")),
            email: Set(format!("user{id}@example.com")),
            deleted_at: Set(deleted.then_some(old)),
            deleted_by: Set(deleted.then(|| "seed".to_owned())),
            deletion_reason: Set(None),
        });
        user::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("SELECT setval(pg_get_serial_sequence('users', 'id'), 1, false)")
            .await?;
        db.execute_unprepared("ANALYZE users").await?;
    }
    Ok(())
}

/// The current time at the precision the library stamps (microseconds), so that the raw
/// statements write rows of the same size.
fn now_micros() -> chrono::DateTime<Utc> {
    let now = Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// One timed run: rows handled and how long.
struct Sample {
    rows: u64,
    elapsed: Duration,
}

impl Sample {
    fn rate(&self) -> f64 {
        per_second(self.rows, self.elapsed)
    }
}

async fn library(db: &DatabaseConnection, op: &str, o: &Options) -> Result<Sample, BoxError> {
    let manager = SoftDeleteManager::new(db);
    let started = Instant::now();
    let rows = match op {
        "bulk_soft_delete" => {
            manager
                .bulk_soft_delete::<user::Entity, _>(1..=o.rows)
                .deleted_by("bench")
                .batch_size(o.batch)
                .await?
                .affected
        }
        "bulk_restore" => {
            manager
                .bulk_restore::<user::Entity, _>(1..=o.rows)
                .batch_size(o.batch)
                .await?
                .affected
        }
        "purge" => {
            manager
                .hard_delete_before::<user::Entity>(Utc::now())
                .batch_size(o.batch)
                .await?
                .affected
        }
        "bulk_create" => {
            let service = BaseService::<user::Entity, _>::new(db);
            let models = service
                .bulk_create((1..=o.rows).map(new_user))
                .batch_size(o.batch)
                .await?;
            models.len() as u64
        }
        "bulk_insert" => {
            let service = BaseService::<user::Entity, _>::new(db);
            service
                .bulk_insert_stream(futures::stream::iter((1..=o.rows).map(new_user)))
                .batch_size(o.batch)
                .await?
                .affected
        }
        "stats" => {
            let repeats = stats_repeats(o.rows);
            for _ in 0..repeats {
                let stats = manager.get_deletion_stats::<user::Entity>().await?;
                assert_eq!(stats.total, o.rows as u64);
            }
            o.rows as u64 * repeats
        }
        other => unreachable!("{other}"),
    };
    Ok(Sample {
        rows,
        elapsed: started.elapsed(),
    })
}

fn new_user(i: i64) -> user::ActiveModel {
    user::ActiveModel {
        name: Set(format!("user {i}")),
        email: Set(format!("user{i}@example.com")),
        ..Default::default()
    }
}

fn stats_repeats(rows: i64) -> u64 {
    (2_000_000 / rows.max(1)).clamp(1, 200) as u64
}

/// The same statements, written by hand with sqlx.
async fn raw(db: &DatabaseConnection, op: &str, o: &Options) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let rows = match db.get_database_backend() {
        DbBackend::Sqlite => raw_sqlite(db.get_sqlite_connection_pool(), op, o).await?,
        DbBackend::Postgres => raw_postgres(db.get_postgres_connection_pool(), op, o).await?,
        _ => raw_mysql(db.get_mysql_connection_pool(), op, o).await?,
    };
    Ok(Sample {
        rows,
        elapsed: started.elapsed(),
    })
}

fn placeholders(count: usize, per_row: usize, dollar_from: Option<usize>) -> String {
    let mut sql = String::with_capacity(count * (per_row * 6 + 4));
    let mut n = dollar_from.unwrap_or(0);
    for i in 0..count {
        if i > 0 {
            sql.push_str(", ");
        }
        if per_row > 1 {
            sql.push('(');
        }
        for j in 0..per_row {
            if j > 0 {
                sql.push_str(", ");
            }
            match dollar_from {
                Some(_) => {
                    let _ = write!(sql, "${n}");
                    n += 1;
                }
                None => sql.push('?'),
            }
        }
        if per_row > 1 {
            sql.push(')');
        }
    }
    sql
}

/// Rows per INSERT: the batch, capped by the bind limit for the table's six columns.
fn insert_rows_per_statement(backend: DbBackend, batch: usize) -> usize {
    let limit = if backend == DbBackend::Sqlite {
        32_766
    } else {
        65_535
    };
    (limit / 6).min(batch)
}

/// `INSERT INTO users (…) VALUES (…), …` for `rows` rows, with `$n` placeholders from
/// `dollar_from` (PostgreSQL) or `?`, and `RETURNING` every column when asked.
fn insert_sql(rows: usize, dollar_from: Option<usize>, returning: bool) -> String {
    let mut sql = format!(
        "INSERT INTO users {INSERT_COLUMNS} VALUES {}",
        placeholders(rows, 5, dollar_from)
    );
    if returning {
        sql.push_str(" RETURNING ");
        sql.push_str(USER_COLUMNS);
    }
    sql
}

/// Binds the five inserted values of user `i` for every `i` in `numbers`.
macro_rules! bind_users {
    ($query:expr, $numbers:expr) => {{
        let mut query = $query;
        for i in $numbers {
            query = query
                .bind(format!("user {i}"))
                .bind(format!("user{i}@example.com"))
                .bind(None::<chrono::DateTime<Utc>>)
                .bind(None::<String>)
                .bind(None::<String>);
        }
        query
    }};
}

/// Multi-row `INSERT`s, batches of `--batch` rows per transaction; with `$returning` the rows
/// come back (`RETURNING`) and are decoded. Evaluates to the number of rows inserted.
macro_rules! insert_rows {
    ($pool:expr, $o:expr, $backend:expr, $dollar:expr, $returning:expr) => {{
        let pool = $pool;
        let o: &Options = $o;
        let per_statement = insert_rows_per_statement($backend, o.batch);
        let numbers: Vec<i64> = (1..=o.rows).collect();
        let mut total = 0u64;
        for batch in numbers.chunks(o.batch) {
            let mut tx = pool.begin().await?;
            for chunk in batch.chunks(per_statement) {
                let sql = insert_sql(chunk.len(), $dollar, $returning);
                total += if $returning {
                    let query = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql));
                    bind_users!(query, chunk).fetch_all(&mut *tx).await?.len() as u64
                } else {
                    let query = sqlx::query(sqlx::AssertSqlSafe(sql));
                    bind_users!(query, chunk)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                };
            }
            tx.commit().await?;
        }
        total
    }};
}

macro_rules! raw_in_list_backend {
    ($name:ident, $db:ty, $backend:expr, $create:ident) => {
        async fn $name(pool: &sqlx::Pool<$db>, op: &str, o: &Options) -> Result<u64, BoxError> {
            let now = now_micros();
            let ids: Vec<i64> = (1..=o.rows).collect();
            let mut total = 0u64;
            match op {
                "bulk_soft_delete" | "bulk_restore" => {
                    let soft = op == "bulk_soft_delete";
                    let guard = if soft { "IS NULL" } else { "IS NOT NULL" };
                    let mut cached: Option<(usize, String)> = None;
                    for chunk in ids.chunks(o.batch) {
                        let sql = match &cached {
                            Some((len, sql)) if *len == chunk.len() => sql.clone(),
                            _ => {
                                let sql = format!(
                                    "UPDATE users SET deleted_at = ?, deleted_by = ?, deletion_reason = ? \
                                     WHERE id IN ({}) AND deleted_at {guard}",
                                    placeholders(chunk.len(), 1, None)
                                );
                                cached = Some((chunk.len(), sql.clone()));
                                sql
                            }
                        };
                        let mut tx = pool.begin().await?;
                        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                        query = if soft {
                            query.bind(Some(now)).bind(Some("bench")).bind(None::<String>)
                        } else {
                            query.bind(None::<chrono::DateTime<Utc>>).bind(None::<String>).bind(None::<String>)
                        };
                        for id in chunk {
                            query = query.bind(*id);
                        }
                        total += query.execute(&mut *tx).await?.rows_affected();
                        tx.commit().await?;
                    }
                }
                "purge" => {
                    let mut cursor: Option<i64> = None;
                    loop {
                        let mut tx = pool.begin().await?;
                        let bound: Option<(i64,)> = match cursor {
                            None => sqlx::query_as(
                                "SELECT id FROM users WHERE COALESCE(deleted_at, ?) < ? \
                                 ORDER BY id ASC LIMIT 1 OFFSET ?",
                            )
                            .bind(now)
                            .bind(now)
                            .bind(o.batch as i64 - 1)
                            .fetch_optional(&mut *tx)
                            .await?,
                            Some(after) => sqlx::query_as(
                                "SELECT id FROM users WHERE COALESCE(deleted_at, ?) < ? \
                                 AND id > ? ORDER BY id ASC LIMIT 1 OFFSET ?",
                            )
                            .bind(now)
                            .bind(now)
                            .bind(after)
                            .bind(o.batch as i64 - 1)
                            .fetch_optional(&mut *tx)
                            .await?,
                        };
                        let bound = bound.map(|(id,)| id);
                        let deleted = match (cursor, bound) {
                            (None, Some(upto)) => sqlx::query("DELETE FROM users WHERE COALESCE(deleted_at, ?) < ? AND id <= ?").bind(now).bind(now).bind(upto).execute(&mut *tx).await?,
                            (None, None) => sqlx::query("DELETE FROM users WHERE COALESCE(deleted_at, ?) < ?").bind(now).bind(now).execute(&mut *tx).await?,
                            (Some(after), Some(upto)) => sqlx::query("DELETE FROM users WHERE COALESCE(deleted_at, ?) < ? AND id > ? AND id <= ?").bind(now).bind(now).bind(after).bind(upto).execute(&mut *tx).await?,
                            (Some(after), None) => sqlx::query("DELETE FROM users WHERE COALESCE(deleted_at, ?) < ? AND id > ?").bind(now).bind(now).bind(after).execute(&mut *tx).await?,
                        };
                        total += deleted.rows_affected();
                        tx.commit().await?;
                        match bound {
                            Some(upto) => cursor = Some(upto),
                            None => break,
                        }
                    }
                }
                "bulk_create" => total = $create(pool, o).await?,
                "bulk_insert" => total = insert_rows!(pool, o, $backend, None, false),
                "stats" => {
                    for _ in 0..stats_repeats(o.rows) {
                        let (all, deleted): (i64, i64) =
                            sqlx::query_as("SELECT COUNT(*), COUNT(deleted_at) FROM users")
                                .fetch_one(pool)
                                .await?;
                        assert_eq!(all, o.rows);
                        let _ = deleted;
                        total += o.rows as u64;
                    }
                }
                other => unreachable!("{other}"),
            }
            Ok(total)
        }
    };
}

type UserRow = (
    i64,
    String,
    String,
    Option<chrono::DateTime<Utc>>,
    Option<String>,
    Option<String>,
);

raw_in_list_backend!(raw_sqlite, sqlx::Sqlite, DbBackend::Sqlite, create_sqlite);
raw_in_list_backend!(raw_mysql, sqlx::MySql, DbBackend::MySql, create_mysql);

const INSERT_COLUMNS: &str = "(name, email, deleted_at, deleted_by, deletion_reason)";
const USER_COLUMNS: &str = "id, name, email, deleted_at, deleted_by, deletion_reason";

/// SQLite: multi-row `INSERT … RETURNING`, batches of `--batch` rows per transaction.
async fn create_sqlite(pool: &sqlx::SqlitePool, o: &Options) -> Result<u64, BoxError> {
    Ok(insert_rows!(pool, o, DbBackend::Sqlite, None, true))
}

/// MySQL/MariaDB: multi-row `INSERT`, then the rows read back by `LAST_INSERT_ID()` onwards.
async fn create_mysql(pool: &sqlx::MySqlPool, o: &Options) -> Result<u64, BoxError> {
    let per_statement = insert_rows_per_statement(DbBackend::MySql, o.batch);
    let numbers: Vec<i64> = (1..=o.rows).collect();
    let mut total = 0;
    for batch in numbers.chunks(o.batch) {
        let mut tx = pool.begin().await?;
        for chunk in batch.chunks(per_statement) {
            let query = sqlx::query(sqlx::AssertSqlSafe(insert_sql(chunk.len(), None, false)));
            let first = bind_users!(query, chunk)
                .execute(&mut *tx)
                .await?
                .last_insert_id() as i64;
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users WHERE id IN ({})",
                placeholders(chunk.len(), 1, None)
            );
            let mut select = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql));
            for id in first..first + chunk.len() as i64 {
                select = select.bind(id);
            }
            total += select.fetch_all(&mut *tx).await?.len() as u64;
        }
        tx.commit().await?;
    }
    Ok(total)
}

/// PostgreSQL: the same, with `id = ANY($4)` and `$n` placeholders.
async fn raw_postgres(pool: &sqlx::PgPool, op: &str, o: &Options) -> Result<u64, BoxError> {
    let now = now_micros();
    let ids: Vec<i64> = (1..=o.rows).collect();
    let mut total = 0u64;
    match op {
        "bulk_soft_delete" | "bulk_restore" => {
            let soft = op == "bulk_soft_delete";
            let sql = if soft {
                "UPDATE users SET deleted_at = $1, deleted_by = $2, deletion_reason = $3 WHERE id = ANY($4) AND deleted_at IS NULL"
            } else {
                "UPDATE users SET deleted_at = $1, deleted_by = $2, deletion_reason = $3 WHERE id = ANY($4) AND deleted_at IS NOT NULL"
            };
            for chunk in ids.chunks(o.batch) {
                let mut tx = pool.begin().await?;
                let query = sqlx::query(sql);
                let query = if soft {
                    query
                        .bind(Some(now))
                        .bind(Some("bench"))
                        .bind(None::<String>)
                } else {
                    query
                        .bind(None::<chrono::DateTime<Utc>>)
                        .bind(None::<String>)
                        .bind(None::<String>)
                };
                total += query.bind(chunk).execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
            }
        }
        "purge" => {
            let mut cursor: Option<i64> = None;
            loop {
                let mut tx = pool.begin().await?;
                let bound: Option<(i64,)> = match cursor {
                    None => {
                        sqlx::query_as(
                            "SELECT id FROM users WHERE COALESCE(deleted_at, $1) < $2 \
                         ORDER BY id ASC LIMIT 1 OFFSET $3",
                        )
                        .bind(now)
                        .bind(now)
                        .bind(o.batch as i64 - 1)
                        .fetch_optional(&mut *tx)
                        .await?
                    }
                    Some(after) => {
                        sqlx::query_as(
                            "SELECT id FROM users WHERE COALESCE(deleted_at, $1) < $2 \
                         AND id > $3 ORDER BY id ASC LIMIT 1 OFFSET $4",
                        )
                        .bind(now)
                        .bind(now)
                        .bind(after)
                        .bind(o.batch as i64 - 1)
                        .fetch_optional(&mut *tx)
                        .await?
                    }
                };
                let bound = bound.map(|(id,)| id);
                let head = "DELETE FROM users WHERE COALESCE(deleted_at, $1) < $2";
                let deleted = match (cursor, bound) {
                    (None, Some(upto)) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!("{head} AND id <= $3")))
                            .bind(now)
                            .bind(now)
                            .bind(upto)
                            .execute(&mut *tx)
                            .await?
                    }
                    (None, None) => {
                        sqlx::query(head)
                            .bind(now)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?
                    }
                    (Some(after), Some(upto)) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "{head} AND id > $3 AND id <= $4"
                        )))
                        .bind(now)
                        .bind(now)
                        .bind(after)
                        .bind(upto)
                        .execute(&mut *tx)
                        .await?
                    }
                    (Some(after), None) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!("{head} AND id > $3")))
                            .bind(now)
                            .bind(now)
                            .bind(after)
                            .execute(&mut *tx)
                            .await?
                    }
                };
                total += deleted.rows_affected();
                tx.commit().await?;
                match bound {
                    Some(upto) => cursor = Some(upto),
                    None => break,
                }
            }
        }
        "bulk_create" => total = insert_rows!(pool, o, DbBackend::Postgres, Some(1), true),
        "bulk_insert" => total = insert_rows!(pool, o, DbBackend::Postgres, Some(1), false),
        "stats" => {
            for _ in 0..stats_repeats(o.rows) {
                let (all, _deleted): (i64, i64) =
                    sqlx::query_as("SELECT COUNT(*), COUNT(deleted_at) FROM users")
                        .fetch_one(pool)
                        .await?;
                assert_eq!(all, o.rows);
                total += o.rows as u64;
            }
        }
        other => unreachable!("{other}"),
    }
    Ok(total)
}

/// The row-by-row loop through SeaORM that bulk operations replace.
async fn row_by_row(db: &DatabaseConnection, op: &str, rows: i64) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let mut done = 0u64;
    match op {
        "bulk_soft_delete" => {
            for id in 1..=rows {
                done += user::Entity::soft_delete_by_id(db, id)
                    .deleted_by("bench")
                    .await?;
            }
        }
        "bulk_restore" => {
            for id in 1..=rows {
                done += user::Entity::restore_by_id(db, id).await?;
            }
        }
        "purge" => {
            for id in 1..=rows {
                done += user::Entity::force_delete_by_id(db, id).await?;
            }
        }
        "bulk_create" | "bulk_insert" => {
            for i in 1..=rows {
                sea_orm::ActiveModelTrait::insert(new_user(i), db).await?;
                done += 1;
            }
        }
        "stats" => {
            // Load every row and count in the application.
            let all = user::Entity::find().all(db).await?;
            let deleted = all.iter().filter(|u| u.is_deleted()).count();
            assert!(deleted <= all.len());
            done = all.len() as u64;
        }
        other => unreachable!("{other}"),
    }
    Ok(Sample {
        rows: done,
        elapsed: started.elapsed(),
    })
}

/// Puts the table in the state an operation starts from.
async fn prepare(db: &DatabaseConnection, op: &str, rows: i64) -> Result<(), BoxError> {
    match op {
        "bulk_soft_delete" | "stats" => fresh_table(db, rows, false).await,
        "bulk_restore" | "purge" => fresh_table(db, rows, true).await,
        "bulk_create" | "bulk_insert" => fresh_table(db, 0, false).await,
        other => unreachable!("{other}"),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

struct Result3 {
    library: f64,
    raw: f64,
    looped: f64,
}

async fn run(o: Options) -> Result<(), BoxError> {
    let db = connect(&o).await?;
    let mut results = Vec::new();
    for op in o.ops.clone() {
        let mut lib_rates = Vec::new();
        let mut raw_rates = Vec::new();
        for round in 0..o.rounds {
            for turn in 0..2 {
                let library_turn = (round + turn) % 2 == 0;
                prepare(&db, op, o.rows).await?;
                let sample = if library_turn {
                    library(&db, op, &o).await?
                } else {
                    raw(&db, op, &o).await?
                };
                let expected = if op == "stats" {
                    o.rows as u64 * stats_repeats(o.rows)
                } else {
                    o.rows as u64
                };
                if sample.rows != expected {
                    return Err(format!(
                        "{op} ({}) handled {} rows, expected {expected}",
                        if library_turn { "library" } else { "raw" },
                        sample.rows
                    )
                    .into());
                }
                if library_turn {
                    lib_rates.push(sample.rate());
                } else {
                    raw_rates.push(sample.rate());
                }
            }
        }
        prepare(&db, op, o.loop_rows).await?;
        let looped = row_by_row(&db, op, o.loop_rows).await?.rate();
        results.push((
            op,
            Result3 {
                library: median(lib_rates),
                raw: median(raw_rates),
                looped,
            },
        ));
    }
    db.execute_unprepared("DROP TABLE IF EXISTS users").await?;
    if o.backend == DbBackend::Sqlite
        && let Some(path) = o
            .url
            .strip_prefix("sqlite://")
            .and_then(|p| p.split('?').next())
        && path.contains("soft-delete-bench-")
    {
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            let _ignored_missing_file = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    let backend = match o.backend {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "mysql",
    };
    if o.json {
        let mut json = format!(
            "{{\"backend\":\"{backend}\",\"rows\":{},\"rounds\":{},\"batch\":{},\"loop_rows\":{},\"operations\":{{",
            o.rows, o.rounds, o.batch, o.loop_rows
        );
        for (i, (op, r)) in results.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            let _ = write!(
                json,
                "\"{op}\":{{\"library_rows_per_s\":{:.0},\"raw_rows_per_s\":{:.0},\"loop_rows_per_s\":{:.0},\"library_over_raw\":{:.3},\"library_over_loop\":{:.1}}}",
                r.library,
                r.raw,
                r.looped,
                r.library / r.raw,
                r.library / r.looped
            );
        }
        json.push_str("}}");
        println!("{json}");
    } else {
        println!(
            "backend {backend}, {} rows, {} rounds (medians), batch {}, loop on {} rows",
            o.rows, o.rounds, o.batch, o.loop_rows
        );
        println!(
            "{:<18} {:>14} {:>14} {:>14} {:>10} {:>10}",
            "operation", "library/s", "raw sqlx/s", "row loop/s", "lib/raw", "lib/loop"
        );
        for (op, r) in &results {
            println!(
                "{op:<18} {:>14.0} {:>14.0} {:>14.0} {:>10.3} {:>10.1}",
                r.library,
                r.raw,
                r.looped,
                r.library / r.raw,
                r.library / r.looped
            );
        }
    }
    Ok(())
}

/// Peak resident memory of this process, from /proc (VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Child process of `--memory`: soft-deletes `ids` streamed ids on a SQLite file database
/// whose table holds the first million of them, and prints its peak RSS.
async fn memory_child(ids: u64) -> Result<(), BoxError> {
    let path = std::env::temp_dir().join(format!("soft-delete-memory-{}.db", std::process::id()));
    let o = Options {
        backend: DbBackend::Sqlite,
        url: format!("sqlite://{}?mode=rwc", path.display()),
        rows: 1_000_000.min(ids as i64),
        rounds: 1,
        batch: 5000,
        loop_rows: 1,
        json: false,
        ops: Vec::new(),
    };
    let db = connect(&o).await?;
    fresh_table(&db, o.rows, false).await?;
    let before = peak_rss_kib().unwrap_or(0);
    // Reset the high-water mark, so that only the operation itself is measured.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let started = Instant::now();
    let report = SoftDeleteManager::new(&db)
        .bulk_soft_delete_stream::<user::Entity, _>(futures::stream::iter(1..=ids as i64))
        .batch_size(o.batch)
        .await?;
    let elapsed = started.elapsed();
    let peak = peak_rss_kib().ok_or("no VmHWM in /proc/self/status")?;
    drop(db);
    for suffix in ["", "-wal", "-shm"] {
        let _ignored_missing_file = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    println!(
        "ids={ids} requested={} affected={} elapsed_s={:.2} peak_rss_kib={peak} seeding_peak_kib={before} reset={reset}",
        report.requested,
        report.affected,
        elapsed.as_secs_f64()
    );
    Ok(())
}

async fn memory_mode() -> Result<(), BoxError> {
    let exe = std::env::current_exe()?;
    let mut peaks = Vec::new();
    for ids in [100_000u64, 1_000_000, 10_000_000] {
        let output = std::process::Command::new(&exe)
            .args(["--memory-child", &ids.to_string()])
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "memory child for {ids} ids failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        println!("{line}");
        let peak: u64 = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("peak_rss_kib="))
            .ok_or("child printed no peak")?
            .parse()?;
        peaks.push((ids, peak));
    }
    let one_m = peaks[1].1 as f64;
    let ten_m = peaks[2].1 as f64;
    println!(
        "peak RSS: 100k ids {} KiB, 1M ids {} KiB, 10M ids {} KiB; ratio 10M/1M = {:.3}",
        peaks[0].1,
        peaks[1].1,
        peaks[2].1,
        ten_m / one_m
    );
    Ok(())
}
