//! Bulk work through PgBouncer (`scripts/pgbouncer.sh`) in transaction pooling, where a client's
//! connection and the server's session are not the same thing: every bulk operation counts
//! exactly, and a lost `COMMIT` ends no other client's session (the engine finds the pooler by
//! the server's port and waits for the batch's transaction instead of ending the server session
//! it last ran in, which PgBouncer may have handed to another client by then).
//!
//! The whole integration suite runs through PgBouncer in session pooling as well (`.ci/run`,
//! step `pgbouncer-session`).
//!
//! Built only with the `poolers` feature (`cargo test -p soft-delete-tests --features poolers
//! --test pooler`), which says PgBouncer is there: without `SOFT_DELETE_TEST_PGBOUNCER_TX_URL`
//! every test fails.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, PaginatorTrait, Statement,
    TransactionTrait,
};
use soft_delete_core::archive::create_archive_table;
use soft_delete_core::prelude::*;
use soft_delete_tests::TestContext;
use soft_delete_tests::context::{connect, with_database};
use soft_delete_tests::entities::{account, project, task, user};
use soft_delete_tests::faulty::{AfterLostReply, FaultyDb, Injected};

fn env(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: start PostgreSQL with scripts/db-servers.sh and PgBouncer in \
                 front of it with scripts/pgbouncer.sh, and source their env files"
            )
        })
}

/// A test's database, made and checked on the server directly (`ctx`), and a pool of 4
/// connections to it through PgBouncer in transaction pooling (`pooled`), which the library's
/// operations use.
async fn context(test: &str) -> (TestContext, DatabaseConnection) {
    let ctx = TestContext::on_postgres(&env("SOFT_DELETE_TEST_POSTGRES_URL"), test).await;
    let url = with_database(&env("SOFT_DELETE_TEST_PGBOUNCER_TX_URL"), &ctx.name);
    let pooled = connect(url, 4).await;
    (ctx, pooled)
}

async fn count(ctx: &TestContext, sql: &str) -> i64 {
    ctx.scalar_i64(sql).await
}

/// `users` 1..=n, live, inserted in one statement (no bound value).
async fn users(ctx: &TestContext, n: i64) {
    ctx.create_table::<user::Entity>().await;
    ctx.exec(&format!(
        "INSERT INTO users (id, name, email) \
         SELECT g, 'user ' || g, 'u' || g || '@example.com' FROM generate_series(1, {n}) g"
    ))
    .await;
}

fn config() -> SoftDeleteConfig {
    SoftDeleteConfig {
        operation_log: Some("soft_delete_operations".to_owned()),
        ..SoftDeleteConfig::default()
    }
}

#[tokio::test]
async fn every_bulk_operation_counts_exactly_in_transaction_pooling() {
    let (ctx, pooled) = context("pooler_bulk").await;
    users(&ctx, 20_000).await;
    ctx.db
        .execute(&soft_delete_core::operation_log::create_table(
            DbBackend::Postgres,
            "soft_delete_operations",
        ))
        .await
        .expect("create the operation log");
    ctx.db
        .execute(&create_archive_table::<user::Entity>(
            DbBackend::Postgres,
            "users_archive",
        ))
        .await
        .expect("create users_archive");
    let manager = SoftDeleteManager::with_config(&pooled, config());

    // By ids, by condition and a restore, each batch in its own transaction on whichever
    // server session PgBouncer hands out.
    let by_ids = manager
        .bulk_soft_delete::<user::Entity, _>(1..=5_000i64)
        .batch_size(700)
        .await
        .expect("soft delete by ids");
    assert_eq!(by_ids.affected, 5_000);
    let by_condition = manager
        .bulk_soft_delete_where::<user::Entity>(sea_orm::Condition::all())
        .batch_size(900)
        .await
        .expect("soft delete by condition");
    assert_eq!(by_condition.affected, 15_000);
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM users WHERE deleted_at IS NULL").await,
        0
    );
    let restored = manager
        .bulk_restore::<user::Entity, _>(5_001..=20_000i64)
        .batch_size(800)
        .await
        .expect("restore by ids");
    assert_eq!(restored.affected, 15_000);
    // A read outside any transaction would not reach one server session for sure (see the
    // README, "Connection poolers"): in a transaction, it does.
    let txn = pooled.begin().await.expect("begin");
    let record = SoftDeleteManager::with_config(&txn, config())
        .operation(by_ids.id)
        .await
        .expect("read the log")
        .expect("logged");
    txn.commit().await.expect("commit");
    assert_eq!(record.rows_in("users"), 5_000);
    assert_eq!(record.status, OperationStatus::Completed);

    // A purge with archive of the 5,000 deleted rows.
    let purged = manager
        .hard_delete_before::<user::Entity>(Utc::now() + chrono::Duration::seconds(1))
        .archive()
        .batch_size(600)
        .await
        .expect("purge with archive");
    assert_eq!((purged.affected, purged.archived), (5_000, 5_000));
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM users").await, 15_000);
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM users_archive").await,
        5_000
    );

    // A bulk insert and create (bound values, returned keys).
    let created = manager
        .bulk_create::<user::Entity, _>((0..1_000).map(|i| user::ActiveModel {
            name: sea_orm::Set(format!("new {i}")),
            email: sea_orm::Set(format!("new{i}@example.com")),
            ..Default::default()
        }))
        .batch_size(300)
        .await
        .expect("bulk create");
    assert_eq!(created.len(), 1_000);
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .expect("count"),
        16_000
    );
}

#[tokio::test]
async fn a_cascade_counts_exactly_in_transaction_pooling() {
    let (ctx, pooled) = context("pooler_cascade").await;
    ctx.create_table::<account::Entity>().await;
    ctx.create_table::<project::Entity>().await;
    ctx.create_table::<task::Entity>().await;
    ctx.exec("INSERT INTO accounts (id, name) SELECT g, 'a' FROM generate_series(1, 3000) g")
        .await;
    ctx.exec(
        "INSERT INTO projects (account_id, code, name) SELECT g, 'p1', 'p' FROM generate_series(1, 3000) g",
    )
    .await;
    ctx.exec(
        "INSERT INTO tasks (id, account_id, project_code, title) \
         SELECT g, g, 'p1', 't' FROM generate_series(1, 3000) g",
    )
    .await;
    let manager = SoftDeleteManager::new(&pooled);
    let report = manager
        .bulk_soft_delete_where::<account::Entity>(sea_orm::Condition::all())
        .batch_size(400)
        .await
        .expect("cascade");
    assert_eq!((report.affected, report.cascaded), (3_000, 6_000));
    let purged = manager
        .hard_delete_before::<account::Entity>(Utc::now() + chrono::Duration::seconds(1))
        .batch_size(400)
        .await
        .expect("purge with cascade");
    assert_eq!((purged.affected, purged.cascaded), (3_000, 6_000));
    for table in ["accounts", "projects", "tasks"] {
        assert_eq!(
            count(&ctx, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
}

/// Another client's transaction, begun on the server session a lost `COMMIT` ran in.
#[derive(Default)]
struct Bystander {
    txn: Option<DatabaseTransaction>,
    pid: Option<i64>,
    batch_pid: Option<i64>,
}

#[tokio::test]
async fn a_lost_commit_behind_the_pooler_ends_no_other_clients_session() {
    let (ctx, pooled) = context("pooler_lost_commit").await;
    users(&ctx, 2_000).await;
    ctx.exec("CREATE TABLE bystander (note text)").await;
    // The other client: its own pool, through the same PgBouncer.
    let other = connect(
        with_database(&env("SOFT_DELETE_TEST_PGBOUNCER_TX_URL"), &ctx.name),
        1,
    )
    .await;
    let bystander = Arc::new(tokio::sync::Mutex::new(Bystander::default()));
    let hook = {
        let bystander = bystander.clone();
        let other = other.clone();
        AfterLostReply(Arc::new(move |batch_pid| {
            let bystander = bystander.clone();
            let other = other.clone();
            Box::pin(async move {
                // The batch's COMMIT went through and its server session went back to the
                // pool: the next transaction to begin gets it (PgBouncer hands out the
                // session released last).
                let txn = other.begin().await.expect("the other client begins");
                txn.execute_unprepared("INSERT INTO bystander (note) VALUES ('mine')")
                    .await
                    .expect("the other client writes");
                let pid = txn
                    .query_one_raw(Statement::from_string(
                        DbBackend::Postgres,
                        "SELECT pg_backend_pid()::int8",
                    ))
                    .await
                    .expect("its pid")
                    .map(|row| row.try_get_by_index::<i64>(0).expect("an int8"));
                let mut held = bystander.lock().await;
                held.txn = Some(txn);
                held.pid = pid;
                held.batch_pid = batch_pid;
            })
        }))
    };
    let faulty = FaultyDb::new(pooled.clone()).after_lost_reply(hook);
    // The second batch's COMMIT is applied and its reply lost.
    faulty.inject(1, Injected::ReplyLost);
    let report = SoftDeleteManager::new(&faulty)
        .bulk_soft_delete::<user::Entity, _>(1..=2_000i64)
        .batch_size(500)
        .await
        .expect("the lost reply is checked by the batch's stamp");
    assert_eq!(report.affected, 2_000, "{report:?}");
    assert_eq!(
        count(
            &ctx,
            "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL"
        )
        .await,
        2_000
    );
    assert_eq!(faulty.log().len(), 1, "the fault happened");

    let mut held = bystander.lock().await;
    assert!(
        held.batch_pid.is_some(),
        "the batch's server session is known"
    );
    assert_eq!(
        held.pid, held.batch_pid,
        "the other client's transaction runs in the server session the lost COMMIT ran in"
    );
    let txn = held.txn.take().expect("the other client's transaction");
    // Still alive: it answers, and its COMMIT keeps its row.
    tokio::time::timeout(Duration::from_secs(10), async {
        txn.execute_unprepared("INSERT INTO bystander (note) VALUES ('still mine')")
            .await
            .expect("the other client's session was not ended");
        txn.commit().await.expect("the other client commits");
    })
    .await
    .expect("the other client's transaction answers");
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM bystander").await, 2);
}
