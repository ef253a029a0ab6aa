//! One isolated database per test.
//!
//! The backend comes from `DATABASE_URL` (default `sqlite::memory:`):
//!
//! * SQLite: a fresh in-memory database per test (or a fresh file, for [`TestContext::sqlite_file`]).
//! * PostgreSQL / MySQL / MariaDB: `DATABASE_URL` names a server and a login that may create
//!   databases; each test drops and creates its own database, named after the test, so tests run
//!   in parallel and never see each other's rows.
//!
//! `TEST_BACKEND=postgres|mysql` says a server run is intended: without a matching `DATABASE_URL`
//! every test fails instead of quietly running on SQLite.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, ExecResult, Statement,
};
use soft_delete_core::SoftDelete;
use soft_delete_core::migration;

/// Creates a [`TestContext`] named after the calling module and line;
/// `test_context!(shared)` for one that other connections can reach.
#[macro_export]
macro_rules! test_context {
    () => {
        $crate::TestContext::new(concat!(module_path!(), "_", line!()))
    };
    (shared) => {
        $crate::TestContext::shared(concat!(module_path!(), "_", line!()))
    };
}

/// A database of its own for one test.
#[derive(Debug)]
pub struct TestContext {
    /// The connection to the test's database.
    pub db: DatabaseConnection,
    /// Which backend it is.
    pub backend: DbBackend,
    /// The database (or file) name.
    pub name: String,
    /// The URL of the test's database, for opening more connections to it.
    pub url: String,
    file: Option<PathBuf>,
}

/// Holds a schema made by [`TestContext::schema`] for its test; see there.
#[derive(Debug)]
pub struct SchemaGuard(#[allow(dead_code)] Option<tokio::sync::MutexGuard<'static, ()>>);

/// The backend a test run targets, from `DATABASE_URL` and `TEST_BACKEND`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// SQLite; the URL as given (`sqlite::memory:` by default).
    Sqlite(String),
    /// A PostgreSQL server: the admin URL.
    Postgres(String),
    /// A MySQL or MariaDB server: the admin URL.
    MySql(String),
}

impl Target {
    /// Reads the environment. Panics with an explanation when `TEST_BACKEND` asks for a server
    /// that `DATABASE_URL` does not name.
    pub fn from_env() -> Target {
        let url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
        let wanted = std::env::var("TEST_BACKEND").ok().filter(|b| !b.is_empty());
        let target = match url {
            None => Target::Sqlite("sqlite::memory:".to_owned()),
            Some(url) if url.starts_with("sqlite:") => Target::Sqlite(url),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Target::Postgres(url)
            }
            Some(url) if url.starts_with("mysql://") || url.starts_with("mariadb://") => {
                Target::MySql(url.replacen("mariadb://", "mysql://", 1))
            }
            Some(url) => panic!("DATABASE_URL={url} names no backend these tests know"),
        };
        if let Some(wanted) = wanted {
            let matches = matches!(
                (wanted.as_str(), &target),
                ("sqlite", Target::Sqlite(_))
                    | ("postgres", Target::Postgres(_))
                    | ("mysql" | "mariadb", Target::MySql(_))
            );
            assert!(
                matches,
                "TEST_BACKEND={wanted} but DATABASE_URL does not name a {wanted} server \
                 (it resolves to {target:?}); start one with scripts/db-servers.sh"
            );
        }
        target
    }

    /// The SeaORM backend.
    pub fn backend(&self) -> DbBackend {
        match self {
            Target::Sqlite(_) => DbBackend::Sqlite,
            Target::Postgres(_) => DbBackend::Postgres,
            Target::MySql(_) => DbBackend::MySql,
        }
    }
}

impl TestContext {
    /// A fresh, empty database named after `test`.
    pub async fn new(test: &str) -> TestContext {
        let target = Target::from_env();
        let name = database_name(test);
        match &target {
            Target::Sqlite(url) if is_memory(url) => TestContext {
                db: connect(url.clone(), 1).await,
                backend: DbBackend::Sqlite,
                name,
                url: url.clone(),
                file: None,
            },
            Target::Sqlite(url) => {
                let base = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let base = base.split('?').next().unwrap_or(base);
                let path = PathBuf::from(format!("{base}-{name}.db"));
                Self::fresh_sqlite_file(path, name, 4).await
            }
            Target::Postgres(admin) => Self::on_postgres(admin, test).await,
            Target::MySql(admin) => Self::on_mysql(admin, test).await,
        }
    }

    /// A fresh, empty database named after `test` on the PostgreSQL server (or primary) `admin`
    /// names, which must be a login that may create databases.
    pub async fn on_postgres(admin: &str, test: &str) -> TestContext {
        let name = database_name(test);
        let admin_db = connect(admin.to_owned(), 1).await;
        exec(
            &admin_db,
            &format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#),
        )
        .await;
        exec(&admin_db, &format!(r#"CREATE DATABASE "{name}""#)).await;
        admin_db.close().await.expect("close the admin connection");
        let url = with_database(admin, &name);
        TestContext {
            db: connect(url.clone(), 5).await,
            backend: DbBackend::Postgres,
            name,
            url,
            file: None,
        }
    }

    /// A fresh, empty database named after `test` on the MySQL or MariaDB server (or Galera
    /// node) `admin` names, which must be a login that may create databases.
    pub async fn on_mysql(admin: &str, test: &str) -> TestContext {
        let name = database_name(test);
        let admin_db = connect(admin.to_owned(), 1).await;
        exec(&admin_db, &format!("DROP DATABASE IF EXISTS `{name}`")).await;
        exec(&admin_db, &format!("CREATE DATABASE `{name}`")).await;
        admin_db.close().await.expect("close the admin connection");
        let url = with_database(admin, &name);
        TestContext {
            db: connect(url.clone(), 5).await,
            backend: DbBackend::MySql,
            name,
            url,
            file: None,
        }
    }

    /// Like [`new`](Self::new), but on SQLite a file database (WAL mode, several connections),
    /// for tests that need a second connection to the same database.
    pub async fn shared(test: &str) -> TestContext {
        match Target::from_env() {
            Target::Sqlite(_) => Self::sqlite_file(test, 4).await,
            _ => Self::new(test).await,
        }
    }

    /// A fresh SQLite database in a file (WAL mode, `connections` connections), whatever the
    /// target; for tests that need several connections to one SQLite database.
    pub async fn sqlite_file(test: &str, connections: u32) -> TestContext {
        let name = database_name(test);
        let dir = std::env::temp_dir().join("soft-delete-tests");
        std::fs::create_dir_all(&dir).expect("create the temp folder for SQLite files");
        let path = dir.join(format!("{name}-{}.db", std::process::id()));
        Self::fresh_sqlite_file(path, name, connections).await
    }

    async fn fresh_sqlite_file(path: PathBuf, name: String, connections: u32) -> TestContext {
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("remove {}: {e}", file.display()),
            }
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = connect(url.clone(), connections).await;
        exec(&db, "PRAGMA journal_mode = WAL").await;
        TestContext {
            db,
            backend: DbBackend::Sqlite,
            name,
            url,
            file: Some(path),
        }
    }

    /// Creates the table of a soft-delete entity (with the library's column types) and the
    /// index on `deleted_at` the library recommends for the backend.
    pub async fn create_table<E: SoftDelete>(&self) {
        let table = migration::create_table_from_entity::<E>(self.backend);
        self.db
            .execute(&table)
            .await
            .unwrap_or_else(|e| panic!("create table for {}: {e}", E::default().table_name()));
        // sea-query cannot write an index on a table of an attached SQLite database (it panics:
        // the schema belongs on the index's name there); such tables go without one.
        let attached = self.backend == DbBackend::Sqlite && E::default().schema_name().is_some();
        if let Some(index) = migration::DeletedAtIndex::recommended(self.backend)
            .statement::<E>(self.backend)
            .filter(|_| !attached)
        {
            self.db
                .execute(&index)
                .await
                .unwrap_or_else(|e| panic!("create index for {}: {e}", E::default().table_name()));
        }
    }

    /// A schema named `name` for tables of the test's own (see `entities::tenant`), created
    /// empty: a schema of the test's database on PostgreSQL, a database attached to the test's
    /// one connection on SQLite (in memory), and a database of the whole server on
    /// MySQL/MariaDB, which this test holds alone (other tests wanting it wait) until the guard
    /// drops.
    pub async fn schema(&self, name: &str) -> SchemaGuard {
        static MYSQL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        match self.backend {
            DbBackend::Postgres => {
                self.exec(&format!(r#"CREATE SCHEMA "{name}""#)).await;
                SchemaGuard(None)
            }
            DbBackend::MySql => {
                let held = MYSQL.lock().await;
                self.exec(&format!("DROP DATABASE IF EXISTS `{name}`"))
                    .await;
                self.exec(&format!("CREATE DATABASE `{name}`")).await;
                SchemaGuard(Some(held))
            }
            _ => {
                assert!(
                    self.file.is_none(),
                    "a schema is attached to one connection: use an in-memory context"
                );
                self.exec(&format!("ATTACH DATABASE ':memory:' AS \"{name}\""))
                    .await;
                SchemaGuard(None)
            }
        }
    }

    /// Runs SQL that must succeed.
    pub async fn exec(&self, sql: &str) -> ExecResult {
        exec(&self.db, sql).await
    }

    /// The value of a single-row, single-column `i64` query.
    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.backend, sql.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .unwrap_or_else(|| panic!("{sql}: no row"));
        row.try_get_by_index::<i64>(0)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

impl Drop for TestContext {
    fn drop(&mut self) {
        if let Some(path) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ignored_cleanup_of_temp_file =
                    std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// Connects with statement logging off, panicking with the URL's scheme on failure. SQLite
/// connections wait at most 100 ms for a lock, so that contention shows as `SQLITE_BUSY`.
pub async fn connect(url: String, max_connections: u32) -> DatabaseConnection {
    connect_with_busy_timeout(url, max_connections, std::time::Duration::from_millis(100)).await
}

/// [`connect`], with SQLite waiting up to `busy_timeout` for locks.
pub async fn connect_with_busy_timeout(
    url: String,
    max_connections: u32,
    busy_timeout: std::time::Duration,
) -> DatabaseConnection {
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(max_connections)
        .min_connections(0)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts| opts.busy_timeout(busy_timeout));
    Database::connect(options).await.unwrap_or_else(|e| {
        let scheme = url.split("://").next().unwrap_or("?");
        panic!("cannot connect to the {scheme} test database: {e}")
    })
}

async fn exec(db: &DatabaseConnection, sql: &str) -> ExecResult {
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// `sd_<test name>_<hash>`, lower case, at most 63 characters: valid on every backend.
fn database_name(test: &str) -> String {
    let mut hasher = DefaultHasher::new();
    test.hash(&mut hasher);
    let hash = hasher.finish();
    let mut clean: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    clean.truncate(40);
    format!("sd_{clean}_{:08x}", hash as u32)
}

/// The server URL `url` with its database (path) replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(slash) => &head[..scheme_end + slash],
        None => head,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// True when `db` is a node of a Galera cluster (MariaDB with `wsrep_on`).
pub async fn is_galera(db: &DatabaseConnection) -> bool {
    if db.get_database_backend() != DbBackend::MySql {
        return false;
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::MySql,
            "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'".to_owned(),
        ))
        .await
        .expect("SHOW GLOBAL VARIABLES");
    row.and_then(|r| r.try_get_by_index::<String>(1).ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("ON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_only_the_path() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5433/postgres", "sd_x"),
            "postgres://u:p@127.0.0.1:5433/sd_x"
        );
        assert_eq!(
            with_database("mysql://u:p@127.0.0.1:3307/mysql?ssl-mode=disabled", "sd_x"),
            "mysql://u:p@127.0.0.1:3307/sd_x?ssl-mode=disabled"
        );
        assert_eq!(with_database("mysql://u@h:1", "sd_x"), "mysql://u@h:1/sd_x");
    }

    #[test]
    fn database_names_are_short_distinct_and_safe() {
        let a = database_name("scopes_12");
        let b = database_name("scopes_13");
        assert_ne!(a, b);
        let long = database_name(&"x".repeat(200));
        assert!(long.len() <= 63, "{long}");
        assert!(
            long.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
    }
}
