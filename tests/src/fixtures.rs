//! Data and faults for the tests: seeded rows, failures injected by trigger, and locks held from
//! a second connection.

use std::path::PathBuf;
use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, NotSet, QueryOrder, Set, TransactionTrait,
};

use crate::context::TestContext;
use crate::entities::user;

/// Creates the `users` table and inserts users with ids `1..=n` (names `user-<id>`).
pub async fn seed_users(ctx: &TestContext, n: i64) {
    ctx.create_table::<user::Entity>().await;
    insert_users(ctx, 1..=n).await;
}

/// Inserts users with the given ids, 500 per statement.
pub async fn insert_users(ctx: &TestContext, ids: impl IntoIterator<Item = i64>) {
    let models: Vec<user::ActiveModel> = ids
        .into_iter()
        .map(|id| user::ActiveModel {
            id: Set(id),
            name: Set(format!("user-{id}")),
            email: Set(format!("user-{id}@example.com")),
            ..Default::default()
        })
        .collect();
    for chunk in models.chunks(500) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&ctx.db)
            .await
            .expect("insert users");
    }
    if ctx.backend == DbBackend::Postgres {
        // Keep the serial sequence ahead of the explicit ids.
        ctx.exec("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT COALESCE(MAX(id), 1) FROM users))")
            .await;
    }
}

/// The ids of soft-deleted users, ascending.
pub async fn deleted_user_ids(ctx: &TestContext) -> Vec<i64> {
    ids_where(ctx, "deleted_at IS NOT NULL").await
}

/// The ids of users matching a SQL condition, ascending.
pub async fn ids_where(ctx: &TestContext, condition: &str) -> Vec<i64> {
    let sql = format!("SELECT id FROM users WHERE {condition} ORDER BY id");
    let rows = ctx
        .db
        .query_all_raw(sea_orm::Statement::from_string(ctx.backend, sql.clone()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter()
        .map(|row| row.try_get_by_index::<i64>(0).expect("id"))
        .collect()
}

/// Which statement a trigger fails.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Any `UPDATE` of the row.
    Update,
    /// Any `DELETE` of the row.
    Delete,
}

/// Makes every `UPDATE` (or `DELETE`) of `users.id = id` fail with an error that is not
/// transient, through a trigger, on every backend.
pub async fn fail_users_row(ctx: &TestContext, id: i64, fault: Fault) {
    let (event, row) = match fault {
        Fault::Update => ("UPDATE", "NEW"),
        Fault::Delete => ("DELETE", "OLD"),
    };
    match ctx.backend {
        DbBackend::Sqlite => {
            ctx.exec(&format!(
                "CREATE TRIGGER fail_users_{id} BEFORE {event} ON users \
                 WHEN {row}.id = {id} BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            ))
            .await;
        }
        DbBackend::Postgres => {
            ctx.exec(&format!(
                "CREATE FUNCTION fail_users_{id}() RETURNS trigger AS $$ BEGIN \
                 IF {row}.id = {id} THEN RAISE EXCEPTION 'injected failure'; END IF; \
                 RETURN {row}; END $$ LANGUAGE plpgsql"
            ))
            .await;
            ctx.exec(&format!(
                "CREATE TRIGGER fail_users_{id} BEFORE {event} ON users FOR EACH ROW \
                 EXECUTE FUNCTION fail_users_{id}()"
            ))
            .await;
        }
        DbBackend::MySql => {
            ctx.exec(&format!(
                "CREATE TRIGGER fail_users_{id} BEFORE {event} ON users FOR EACH ROW \
                 BEGIN IF {row}.id = {id} THEN \
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'; END IF; END"
            ))
            .await;
        }
        other => panic!("no trigger recipe for {other:?}"),
    }
}

/// Removes the trigger [`fail_users_row`] installed.
pub async fn heal_users_row(ctx: &TestContext, id: i64) {
    match ctx.backend {
        DbBackend::Postgres => {
            ctx.exec(&format!("DROP TRIGGER fail_users_{id} ON users"))
                .await;
        }
        _ => {
            ctx.exec(&format!("DROP TRIGGER fail_users_{id}")).await;
        }
    }
}

/// A lock on a users row (or, on SQLite, the whole database) held by another connection until
/// it is released or dropped.
pub struct HeldLock {
    txn: Option<DatabaseTransaction>,
    _conn: DatabaseConnection,
}

impl HeldLock {
    /// Takes the lock. On SQLite the context must be a file database ([`TestContext::shared`]).
    pub async fn take(ctx: &TestContext, id: i64) -> HeldLock {
        let conn = crate::context::connect(ctx.url.clone(), 1).await;
        let txn = conn.begin().await.expect("begin the locking transaction");
        match ctx.backend {
            DbBackend::Sqlite => {
                // A write takes SQLite's write lock until the transaction ends.
                txn.execute_unprepared(&format!("UPDATE users SET name = name WHERE id = {id}"))
                    .await
                    .expect("take the SQLite write lock");
            }
            _ => {
                txn.execute_unprepared(&format!("SELECT id FROM users WHERE id = {id} FOR UPDATE"))
                    .await
                    .expect("lock the row");
            }
        }
        HeldLock {
            txn: Some(txn),
            _conn: conn,
        }
    }

    /// Releases the lock after `delay`, in the background.
    pub fn release_after(mut self, delay: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(txn) = self.txn.take() {
                txn.rollback().await.expect("release the lock");
            }
        })
    }
}

/// A throttle that records the reasons `inner` gives for holding.
#[derive(Debug)]
pub struct Recording<T> {
    /// The throttle asked.
    pub inner: T,
    /// Every reason it gave for holding, in order.
    pub reasons: std::sync::Mutex<Vec<String>>,
}

impl<T> Recording<T> {
    /// Records `inner`'s holds.
    pub fn new(inner: T) -> Self {
        Recording {
            inner,
            reasons: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The reasons given so far.
    pub fn reasons(&self) -> Vec<String> {
        self.reasons.lock().expect("the reasons' lock").clone()
    }
}

impl<T: soft_delete_core::throttle::Throttle> soft_delete_core::throttle::Throttle
    for Recording<T>
{
    fn check(
        &self,
    ) -> futures::future::BoxFuture<'_, Result<soft_delete_core::throttle::Check, sea_orm::DbErr>>
    {
        Box::pin(async move {
            let check = self.inner.check().await;
            let reason = match &check {
                Ok(soft_delete_core::throttle::Check::Hold { reason, .. }) => reason.clone(),
                Ok(soft_delete_core::throttle::Check::Go) => return check,
                Err(error) => format!("error: {error}"),
            };
            self.reasons.lock().expect("the reasons' lock").push(reason);
            check
        })
    }
}

/// Creates `users` with one user per name (email `<name>@example.com`); their ids.
pub async fn named_users(ctx: &TestContext, names: &[&str]) -> Vec<i64> {
    ctx.create_table::<user::Entity>().await;
    let mut ids = Vec::new();
    for name in names {
        let model = user::ActiveModel {
            id: NotSet,
            name: Set((*name).to_owned()),
            email: Set(format!("{name}@example.com")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .expect("insert user");
        ids.push(model.id);
    }
    ids
}

/// The names of the users `query` selects, in key order.
pub async fn user_names(query: sea_orm::Select<user::Entity>, ctx: &TestContext) -> Vec<String> {
    query
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await
        .expect("select users")
        .into_iter()
        .map(|u| u.name)
        .collect()
}

/// An example of this workspace, built in `profile` (`debug` or `release`): its path, if it is
/// there and newer than every file under `sources` (paths from the workspace's root); else why
/// not, with the command that builds it.
pub fn built_example(profile: &str, name: &str, sources: &[&str]) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("the test binary's path: {e}"))?;
    let target = exe
        .parent()
        .and_then(|deps| deps.parent())
        .and_then(|profile_dir| profile_dir.parent())
        .ok_or("the test binary is not in target/<profile>/deps")?;
    let path = target
        .join(profile)
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let release = if profile == "release" {
        " --release"
    } else {
        ""
    };
    let build = format!("cargo build{release} -p soft-delete-examples --example {name}");
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .map_err(|_| format!("{} is missing: build it with `{build}`", path.display()))?;
    // A binary older than its sources would test old code.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let newest = sources
        .iter()
        .filter_map(|dir| newest_file(&root.join(dir)))
        .max();
    if newest.is_some_and(|newest| built < newest) {
        return Err(format!(
            "{} is older than its sources: rebuild it with `{build}`",
            path.display()
        ));
    }
    Ok(path)
}

/// The latest modification time of a file at or under `path`.
fn newest_file(path: &std::path::Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| newest_file(&entry.path()))
        .max()
}

/// The configuration with the operation log on, in its default table.
pub fn logged() -> soft_delete_core::SoftDeleteConfig {
    soft_delete_core::SoftDeleteConfig {
        operation_log: Some(soft_delete_core::operation_log::DEFAULT_TABLE.to_owned()),
        ..soft_delete_core::SoftDeleteConfig::default()
    }
}

/// `n` users, the first `deleted` of them soft-deleted, and the operation log's table (with
/// `parts`, its parts table too): where a test of a logged restore starts.
pub async fn deleted_users_with_log(ctx: &TestContext, n: i64, deleted: i64, parts: bool) {
    seed_users(ctx, n).await;
    create_log(ctx, parts).await;
    soft_delete_core::SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=deleted)
        .await
        .expect("soft delete the users");
}

/// Creates the operation log's default table, and with `parts` the table where the workers of a
/// parallel operation keep their counts.
pub async fn create_log(ctx: &TestContext, parts: bool) {
    use soft_delete_core::operation_log::{self, DEFAULT_TABLE};
    ctx.db
        .execute(&operation_log::create_table(ctx.backend, DEFAULT_TABLE))
        .await
        .expect("create the log");
    if parts {
        ctx.db
            .execute(&operation_log::create_parts_table(DEFAULT_TABLE))
            .await
            .expect("create the log's parts table");
    }
}
