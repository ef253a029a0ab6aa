//! The `users` table every operation starts from, and the connection.

use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, Set,
    TransactionTrait,
};
use soft_delete_core::SoftDelete;
use soft_delete_core::migration::{self, DeletedAtIndex};
use soft_delete_examples::user;

use crate::BoxError;
use crate::args::IndexMode;

/// Where the bench runs.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: String,
    pub index: IndexMode,
}

impl Target {
    pub fn new(backend: DbBackend, index: IndexMode) -> Result<Target, BoxError> {
        if backend == DbBackend::MySql && index == IndexMode::Deleted {
            return Err(
                "--index deleted needs a partial index, which MySQL/MariaDB do not have; \
                        use plain or none"
                    .into(),
            );
        }
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
        Ok(Target { url, index })
    }

    /// The SQLite file this bench made, if it made one (removed at the end).
    pub fn own_sqlite_file(&self) -> Option<&str> {
        self.url
            .strip_prefix("sqlite://")
            .and_then(|p| p.split('?').next())
            .filter(|p| p.contains("soft-delete-bench-") || p.contains("soft-delete-memory-"))
    }
}

/// Two connections (the library and the raw side share the pool); SQLite in WAL mode with
/// `synchronous = NORMAL`.
/// A pool of `connections` (at least 2): one per worker and one for the engine's checks.
pub async fn connect(target: &Target, connections: u32) -> Result<DatabaseConnection, BoxError> {
    let mut connect = sea_orm::ConnectOptions::new(bench_database(&target.url).await?);
    connect
        .sqlx_logging(false)
        .max_connections(connections.max(2))
        .min_connections(1)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        });
    Ok(sea_orm::Database::connect(connect).await?)
}

/// The URL to bench on. MySQL/MariaDB refuse triggers (the guarded operations) on tables of
/// their system databases, where a URL such as the test servers' `…/mysql` points: the bench
/// then works in `soft_delete_bench` on the same server, made when missing.
async fn bench_database(url: &str) -> Result<String, BoxError> {
    use sea_orm::ConnectionTrait;
    let Some(rest) = url.strip_prefix("mysql://") else {
        return Ok(url.to_owned());
    };
    let authority_end = rest.rfind('@').map_or(0, |at| at + 1);
    let (authority, path) = match rest[authority_end..].find('/') {
        Some(slash) => rest.split_at(authority_end + slash),
        None => (rest, ""),
    };
    let (database, query) = match path.trim_start_matches('/').split_once('?') {
        Some((database, query)) => (database, format!("?{query}")),
        None => (path.trim_start_matches('/'), String::new()),
    };
    if !matches!(
        database,
        "" | "mysql" | "sys" | "information_schema" | "performance_schema"
    ) {
        return Ok(url.to_owned());
    }
    let admin = sea_orm::Database::connect(url).await?;
    admin
        .execute_unprepared("CREATE DATABASE IF NOT EXISTS soft_delete_bench")
        .await?;
    admin.close().await?;
    Ok(format!("mysql://{authority}/soft_delete_bench{query}"))
}

/// Creates `E`'s table (as SeaORM's `create_table_from_entity` does) with the index on
/// `deleted_at` that `target` asks for, in the DDL transaction `ddl`.
pub async fn create_table<E: SoftDelete>(
    ddl: &DatabaseTransaction,
    target: &Target,
) -> Result<(), BoxError> {
    let backend = ddl.get_database_backend();
    ddl.execute(&migration::create_table_from_entity::<E>(backend))
        .await?;
    let index = match target.index {
        IndexMode::Plain => DeletedAtIndex::Plain,
        IndexMode::Deleted => DeletedAtIndex::DeletedRows,
        IndexMode::None => DeletedAtIndex::None,
    };
    if let Some(statement) = index.statement::<E>(backend) {
        ddl.execute(&statement).await?;
    }
    Ok(())
}

/// Drops and recreates `users` with the library's column types and the chosen index on
/// `deleted_at`, and loads `rows` rows, all soft-deleted a year ago when `deleted`. Not timed.
pub async fn fresh(
    db: &DatabaseConnection,
    target: &Target,
    rows: i64,
    deleted: bool,
) -> Result<(), BoxError> {
    let backend = db.get_database_backend();
    // The DDL runs on one connection, in one transaction. Spread over the pool, a SQLite
    // connection whose cached schema predates the DROP rejected the new index as "already
    // exists" (about one smoke run in fifteen).
    let ddl = db.begin().await?;
    ddl.execute_unprepared("DROP TABLE IF EXISTS users").await?;
    create_table::<user::Entity>(&ddl, target).await?;
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
    match backend {
        DbBackend::Postgres => {
            db.execute_unprepared("SELECT setval(pg_get_serial_sequence('users', 'id'), 1, false)")
                .await?;
            db.execute_unprepared("ANALYZE users").await?;
        }
        DbBackend::Sqlite => {
            // Write the load's pages into the database file now, so that the timed operation
            // does not pay for checkpointing them.
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Drops the table, and the SQLite file if this bench made it.
pub async fn clean_up(db: DatabaseConnection, target: &Target) -> Result<(), BoxError> {
    db.execute_unprepared("DROP TABLE IF EXISTS users").await?;
    drop(db);
    if let Some(path) = target.own_sqlite_file() {
        for suffix in ["", "-wal", "-shm"] {
            let _ignored_missing_file = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    Ok(())
}

/// The current time at the precision the library stamps (microseconds), so that the raw
/// statements write rows of the same size.
pub fn now_micros() -> chrono::DateTime<Utc> {
    let now = Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
