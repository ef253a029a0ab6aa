//! The fault-injection suite, on the backend `DATABASE_URL` names: lost `COMMIT`s (applied with
//! their reply lost, or never applied), failing statements and lost connections injected at a
//! chosen batch through [`FaultyDb`]; a killed session, a statement past the time limit, a slow
//! `COMMIT`, a deadlock and eight concurrent operations on the real servers.
//!
//! What every test checks is the crate's promise: the counts it reports are exactly the rows it
//! changed, no row is changed twice or lost, and what it cannot know it says.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Set};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{audited, user};
use soft_delete_tests::faulty::{FaultyDb, Injected};
use soft_delete_tests::fixtures::{
    HeldLock, create_log, deleted_user_ids, deleted_users_with_log, logged, seed_users, user_names,
};
use soft_delete_tests::{TestContext, test_context};

/// Soft-deletes `1..=n` in batches of 25 through `db`.
async fn soft_delete_all(db: &FaultyDb, n: i64) -> soft_delete_core::Result<BulkReport> {
    SoftDeleteManager::new(db)
        .bulk_soft_delete::<user::Entity, _>(1..=n)
        .deleted_by("faults")
        .batch_size(25)
        .await
}

/// `n` new users to insert, named `prefix0`, `prefix1`, ….
fn new_users(
    prefix: &'static str,
    n: usize,
) -> impl futures::Stream<Item = user::ActiveModel> + Send {
    futures::stream::iter((0..n).map(move |i| user::ActiveModel {
        name: Set(format!("{prefix}{i}")),
        email: Set(format!("{prefix}{i}@example.com")),
        ..Default::default()
    }))
}

async fn active_users(ctx: &TestContext) -> u64 {
    user::Entity::find_active().count(&ctx.db).await.unwrap()
}

#[tokio::test]
async fn a_commit_whose_reply_is_lost_is_checked_and_counted() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let db = FaultyDb::new(ctx.db.clone());
    db.inject(1, Injected::ReplyLost);
    let report = soft_delete_all(&db, 100)
        .await
        .expect("the lost reply is checked");
    assert_eq!(db.log(), [(2, Injected::ReplyLost)]);
    assert_eq!((report.affected, report.batches), (100, 4));
    assert_eq!(report.retries, 0, "batch 2 was found committed, not redone");
    assert_eq!(deleted_user_ids(&ctx).await, (1..=100).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_commit_lost_before_it_applied_is_retried() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let db = FaultyDb::new(ctx.db.clone());
    db.inject(2, Injected::CommitLost);
    let report = soft_delete_all(&db, 100).await.expect("retried");
    assert_eq!(db.log(), [(3, Injected::CommitLost)]);
    assert_eq!((report.affected, report.retries), (100, 1));
    assert_eq!(active_users(&ctx).await, 0);
}

#[tokio::test]
async fn a_lost_connection_before_commit_is_retried() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let db = FaultyDb::new(ctx.db.clone());
    db.inject(1, Injected::ConnectionLost);
    let report = soft_delete_all(&db, 100).await.expect("retried");
    assert_eq!((report.affected, report.retries), (100, 1));
    assert_eq!(active_users(&ctx).await, 0);
}

#[tokio::test]
async fn a_failing_statement_reports_exactly_the_batches_before_it() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let db = FaultyDb::new(ctx.db.clone());
    db.inject(2, Injected::StatementError);
    let error = soft_delete_all(&db, 100).await.expect_err("not transient");
    match &error {
        Error::Bulk {
            failed_batch,
            partial_count,
            attempts,
            ..
        } => assert_eq!((*failed_batch, *partial_count, *attempts), (3, 50, 1)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(error.uncertain_count(), 0);
    assert_eq!(deleted_user_ids(&ctx).await, (1..=50).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_restore_with_no_column_to_check_says_its_outcome_is_unknown() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=100i64)
        .await
        .unwrap();
    let db = FaultyDb::new(ctx.db.clone());
    db.inject(1, Injected::ReplyLost);
    let error = SoftDeleteManager::new(&db)
        .bulk_restore::<user::Entity, _>(1..=100i64)
        .batch_size(25)
        .await
        .expect_err("a restore of `users` leaves no mark to check");
    match &error {
        Error::Bulk {
            failed_batch,
            partial_count,
            source,
            ..
        } => {
            assert_eq!((*failed_batch, *partial_count), (2, 25));
            assert!(
                matches!(**source, Error::CommitUnknown { rows: 25, .. }),
                "{source:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(error.uncertain_count(), 25);
    // What happened lies between the reported count and that plus the uncertain rows: here the
    // lost COMMIT had applied.
    assert_eq!(active_users(&ctx).await, 50);
}

#[tokio::test]
async fn with_the_operation_log_a_lost_commit_is_checked_by_the_log() {
    // A restore of `users` leaves no mark and a count-only insert learns no keys; with the log
    // on, the count of batches in the operation's row, which each batch writes in its own
    // transaction, settles both.
    let ctx = test_context!().await;
    deleted_users_with_log(&ctx, 100, 100, false).await;
    let db = FaultyDb::new(ctx.db.clone());
    let manager = SoftDeleteManager::with_config(&db, logged());
    // The first transaction writes the log's row; then batch 1's COMMIT applies with its reply
    // lost, and batch 3's never applies.
    db.inject(1, Injected::ReplyLost);
    db.inject(3, Injected::CommitLost);
    let report = manager
        .bulk_restore::<user::Entity, _>(1..=100i64)
        .batch_size(25)
        .await
        .expect("both settled by the log");
    assert_eq!(
        db.log(),
        [(2, Injected::ReplyLost), (4, Injected::CommitLost)]
    );
    assert_eq!((report.affected, report.batches), (100, 4));
    assert_eq!(
        report.retries, 1,
        "only the batch that never applied ran again"
    );
    assert_eq!(active_users(&ctx).await, 100);
    let logged = manager.operation(report.id).await.unwrap().expect("logged");
    assert_eq!((logged.rows_changed(), logged.batches), (100, 4));

    db.inject(1, Injected::ReplyLost);
    let report = manager
        .bulk_insert_stream::<user::Entity, _>(new_users("m", 10))
        .await
        .expect("settled by the log");
    assert_eq!((report.affected, report.retries), (10, 0));
    assert_eq!(user::Entity::find().count(&ctx.db).await.unwrap(), 110);
}

#[tokio::test]
async fn a_one_record_restore_through_the_service_is_checked_by_the_log() {
    // A one-record operation is a batch of one: its lost COMMIT is settled the same way.
    let ctx = test_context!().await;
    deleted_users_with_log(&ctx, 10, 3, false).await;
    let db = FaultyDb::new(ctx.db.clone());
    let service = BaseService::<user::Entity, _>::with_config(&db, logged());
    // The first transaction writes the log's row, the second is the record's.
    db.inject(1, Injected::ReplyLost);
    assert!(service.restore(1i64).await.expect("found committed"));
    db.inject(1, Injected::CommitLost);
    assert!(
        service
            .restore(2i64)
            .await
            .expect("found rolled back, run again")
    );
    assert_eq!(db.log().len(), 2, "{:?}", db.log());
    assert_eq!(active_users(&ctx).await, 9);
    // Without the log nothing tells.
    db.inject(0, Injected::ReplyLost);
    let error = BaseService::<user::Entity, _>::new(&db)
        .restore(3i64)
        .await
        .expect_err("unknown");
    assert_eq!(error.uncertain_count(), 1, "{error}");
}

#[tokio::test]
async fn an_atomic_operations_lost_commit_is_checked_by_the_log() {
    // All of an atomic operation's batches ride on one COMMIT; the log's count of batches,
    // written in that transaction, says whether all of them are in the database or none.
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    create_log(&ctx, false).await;
    let db = FaultyDb::new(ctx.db.clone());
    let manager = SoftDeleteManager::with_config(&db, logged());
    // The first transaction writes the log's row, the second is the operation's.
    db.inject(1, Injected::ReplyLost);
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=50i64)
        .batch_size(10)
        .atomic()
        .await
        .expect("found committed");
    assert_eq!((report.affected, report.batches), (50, 5));
    assert_eq!(active_users(&ctx).await, 50);
    let logged = manager.operation(report.id).await.unwrap().expect("logged");
    assert_eq!(logged.status, OperationStatus::Completed);

    db.inject(1, Injected::CommitLost);
    let error = manager
        .bulk_restore::<user::Entity, _>(1..=50i64)
        .batch_size(10)
        .atomic()
        .await
        .expect_err("found rolled back");
    assert_eq!(error.partial_count(), Some(0), "{error}");
    assert_eq!(error.uncertain_count(), 0, "{error}");
    assert_eq!(active_users(&ctx).await, 50);

    // Without the log nothing tells: the rows at stake are reported.
    db.inject(0, Injected::ReplyLost);
    let error = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<user::Entity, _>(51..=60i64)
        .atomic()
        .await
        .expect_err("unknown");
    assert_eq!(error.uncertain_count(), 10, "{error}");
    assert_eq!(active_users(&ctx).await, 40);
}

#[tokio::test]
async fn an_audited_restore_is_checked_by_its_updated_at() {
    let ctx = test_context!().await;
    ctx.create_table::<audited::Entity>().await;
    let notes = BaseService::<audited::Entity, _>::new(&ctx.db);
    let created = notes
        .bulk_create((0..100).map(|i| audited::ActiveModel {
            body: Set(format!("note {i}")),
            ..Default::default()
        }))
        .await
        .unwrap();
    let ids: Vec<i64> = created.iter().map(|n| n.id).collect();
    SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<audited::Entity, _>(ids.clone())
        .await
        .unwrap();
    let db = FaultyDb::new(ctx.db.clone());
    db.inject(1, Injected::ReplyLost);
    let report = SoftDeleteManager::new(&db)
        .bulk_restore::<audited::Entity, _>(ids)
        .batch_size(25)
        .await
        .expect("checked through updated_at");
    assert_eq!((report.affected, report.retries), (100, 0));
    assert_eq!(
        audited::Entity::find_active().count(&ctx.db).await.unwrap(),
        100
    );
}

#[tokio::test]
async fn by_condition_and_purge_a_lost_reply_is_checked() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let db = FaultyDb::new(ctx.db.clone());
    let manager = SoftDeleteManager::new(&db);
    db.inject(1, Injected::ReplyLost);
    let report = manager
        .bulk_soft_delete_where::<user::Entity>(user::Column::Id.lte(80))
        .batch_size(20)
        .await
        .expect("the range's rows carry the operation's deleted_at");
    assert_eq!((report.affected, report.retries), (80, 0));
    let later = Utc::now() + chrono::Duration::seconds(1);
    db.inject(0, Injected::CommitLost);
    db.inject(3, Injected::ReplyLost);
    let report = manager
        .hard_delete_before::<user::Entity>(later)
        .batch_size(20)
        .await
        .expect("a range still there is retried, a purged one is empty");
    assert_eq!((report.affected, report.retries), (80, 1));
    assert_eq!(user::Entity::find().count(&ctx.db).await.unwrap(), 20);
}

#[tokio::test]
async fn a_stamp_given_by_the_caller_may_be_shared_so_its_lost_commit_is_unknown() {
    // Rows 1..=10 already carry the stamp the second operation is given: its rows cannot be
    // told from theirs.
    let ctx = test_context!().await;
    seed_users(&ctx, 20).await;
    let stamp = Utc::now() - chrono::Duration::days(3);
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .at(stamp)
        .await
        .unwrap();
    let db = FaultyDb::new(ctx.db.clone());
    // Lost before it applied, with nothing of the batch carrying the stamp: retried.
    db.inject(0, Injected::CommitLost);
    let report = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<user::Entity, _>(11..=15i64)
        .at(stamp)
        .await
        .expect("no row of the batch carries the stamp: rolled back, retried");
    assert_eq!((report.affected, report.retries), (5, 1));
    // Lost before it applied, while rows of the batch carry the stamp already: unknown.
    db.inject(0, Injected::CommitLost);
    let error = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<user::Entity, _>(9..=20i64)
        .at(stamp)
        .await
        .expect_err("rows 9 and 10 carry the stamp");
    assert_eq!(error.uncertain_count(), 5);
    assert_eq!(deleted_user_ids(&ctx).await, (1..=15).collect::<Vec<_>>());
}

#[tokio::test]
async fn bulk_create_with_a_lost_reply_returns_every_model_once() {
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    let db = FaultyDb::new(ctx.db.clone());
    db.inject(1, Injected::ReplyLost);
    let rows = (0..100).map(|i| user::ActiveModel {
        name: Set(format!("n{i}")),
        email: Set(format!("e{i}@example.com")),
        ..Default::default()
    });
    let created = SoftDeleteManager::new(&db)
        .bulk_create::<user::Entity, _>(rows)
        .batch_size(25)
        .await
        .expect("the inserted keys are checked");
    assert_eq!(created.len(), 100);
    assert_eq!(user::Entity::find().count(&ctx.db).await.unwrap(), 100);
    // A count-only insert never learns its keys: a lost reply cannot be checked.
    db.inject(0, Injected::ReplyLost);
    let error = SoftDeleteManager::new(&db)
        .bulk_insert_stream::<user::Entity, _>(new_users("m", 10))
        .await
        .expect_err("unknown");
    assert_eq!(error.uncertain_count(), 10);
}

#[tokio::test]
async fn inside_the_callers_transaction_nothing_is_checked_from_outside() {
    // Batches are savepoints of the caller's transaction: a lost connection there loses the
    // whole transaction, and the engine has no session of its own to check from.
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let txn = sea_orm::TransactionTrait::begin(&ctx.db).await.unwrap();
    assert!(soft_delete_core::BulkConnection::control(&txn).is_none());
    let report = SoftDeleteManager::new(&txn)
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .batch_size(3)
        .await
        .unwrap();
    assert_eq!(report.affected, 10);
    sea_orm::TransactionTrait::begin(&txn)
        .await
        .unwrap()
        .rollback()
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(active_users(&ctx).await, 10);
}

/// The statements of ours the server is still running, other than the asking one.
async fn our_running_updates(ctx: &TestContext) -> i64 {
    let sql = match ctx.backend {
        DbBackend::Postgres => {
            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
             AND datname = current_database() AND state = 'active' \
             AND query LIKE 'UPDATE \"users\"%'"
        }
        _ => {
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() \
             AND DB = DATABASE() AND INFO LIKE '%UPDATE `users`%'"
        }
    };
    ctx.scalar_i64(sql).await
}

#[tokio::test]
async fn a_statement_past_the_time_limit_is_stopped_on_the_server() {
    let ctx = test_context!(shared).await;
    if ctx.backend == DbBackend::Sqlite {
        // SQLite runs in the process: its busy timeout is the limit (see the bulk tests).
        soft_delete_tests::skip(
            "SQLite has no server to stop a statement; its busy timeout is the limit",
        );
        return;
    }
    seed_users(&ctx, 100).await;
    let lock = HeldLock::take(&ctx, 60).await;
    let config = SoftDeleteConfig {
        query_timeout: Some(Duration::from_secs(1)),
        retry_attempts: 0,
        ..SoftDeleteConfig::default()
    };
    let started = std::time::Instant::now();
    let error = SoftDeleteManager::with_config(&ctx.db, config)
        .bulk_soft_delete::<user::Entity, _>(1..=100i64)
        .batch_size(25)
        .await
        .expect_err("the batch waits on the lock past the limit");
    assert!(
        started.elapsed() < Duration::from_millis(2900),
        "the server stopped it, before the client's backstop: {:?}",
        started.elapsed()
    );
    match &error {
        Error::Bulk { source, .. } => assert!(matches!(**source, Error::Timeout(_)), "{source:?}"),
        other => panic!("unexpected {other:?}"),
    }
    // While the lock is still held, no statement of the operation is left waiting for it.
    assert_eq!(our_running_updates(&ctx).await, 0);
    lock.release_after(Duration::ZERO).await.unwrap();
}

#[tokio::test]
async fn a_killed_session_is_retried_and_counted_once() {
    let ctx = test_context!(shared).await;
    if ctx.backend == DbBackend::Sqlite {
        soft_delete_tests::skip("SQLite has no server session to kill");
        return;
    }
    seed_users(&ctx, 100).await;
    // Row 60's update sleeps, so that its batch can be caught running and killed.
    match ctx.backend {
        DbBackend::Postgres => {
            ctx.exec(
                "CREATE FUNCTION slow_60() RETURNS trigger AS $$ BEGIN \
                 IF NEW.id = 60 AND NEW.deleted_at IS NOT NULL THEN PERFORM pg_sleep(1); END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql",
            )
            .await;
            ctx.exec(
                "CREATE TRIGGER slow_60 BEFORE UPDATE ON users FOR EACH ROW \
                 EXECUTE FUNCTION slow_60()",
            )
            .await;
        }
        _ => {
            ctx.exec(
                "CREATE TRIGGER slow_60 BEFORE UPDATE ON users FOR EACH ROW \
                 BEGIN IF NEW.id = 60 AND NEW.deleted_at IS NOT NULL THEN DO SLEEP(1); END IF; END",
            )
            .await;
        }
    }
    let killer = {
        let url = ctx.url.clone();
        let backend = ctx.backend;
        tokio::spawn(async move {
            let admin = soft_delete_tests::context::connect(url, 1).await;
            let find = match backend {
                DbBackend::Postgres => {
                    "SELECT pid::int8 FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                     AND datname = current_database() AND state = 'active' \
                     AND query LIKE 'UPDATE \"users\"%'"
                }
                _ => {
                    // A trigger's statement shows as the session's current one.
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() \
                     AND DB = DATABASE() AND INFO LIKE 'DO SLEEP%'"
                }
            };
            for _ in 0..200 {
                let row = admin
                    .query_one_raw(sea_orm::Statement::from_string(backend, find))
                    .await
                    .unwrap();
                if let Some(row) = row {
                    let id: i64 = row.try_get_by_index(0).unwrap();
                    let kill = match backend {
                        DbBackend::Postgres => format!("SELECT pg_terminate_backend({id})"),
                        _ => format!("KILL CONNECTION {id}"),
                    };
                    admin.execute_unprepared(&kill).await.unwrap();
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            false
        })
    };
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=100i64)
        .batch_size(25)
        .await
        .expect("the killed batch is retried");
    assert!(killer.await.unwrap(), "the batch was caught running");
    assert_eq!(report.affected, 100);
    assert!(report.retries >= 1, "{report:?}");
    assert_eq!(deleted_user_ids(&ctx).await, (1..=100).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_slow_commit_is_waited_for_not_reported_rolled_back() {
    let ctx = test_context!(shared).await;
    if ctx.backend == DbBackend::Sqlite {
        // In rollback-journal mode a reader's SHARED lock holds COMMIT back (in WAL mode it
        // does not). Switched while the pool holds one connection.
        ctx.exec("PRAGMA journal_mode = DELETE").await;
    }
    seed_users(&ctx, 200).await;
    let config = SoftDeleteConfig {
        query_timeout: Some(Duration::from_secs(1)),
        retry_attempts: 0,
        ..SoftDeleteConfig::default()
    };
    match ctx.backend {
        DbBackend::Postgres => {
            // A deferred constraint trigger runs at COMMIT: batch 4's (rows 151..=200) takes
            // two seconds, twice the batch's limit.
            ctx.exec(
                "CREATE FUNCTION slow_commit() RETURNS trigger AS $$ BEGIN \
                 IF NEW.id = 151 THEN PERFORM pg_sleep(2); END IF; RETURN NULL; END $$ \
                 LANGUAGE plpgsql",
            )
            .await;
            ctx.exec(
                "CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON users \
                 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()",
            )
            .await;
            let report = SoftDeleteManager::with_config(&ctx.db, config)
                .bulk_soft_delete::<user::Entity, _>(1..=200i64)
                .batch_size(50)
                .await
                .expect("the slow COMMIT is waited for");
            assert_eq!(report.affected, 200);
        }
        DbBackend::Sqlite => {
            // This pool waits up to 5 s for locks, the batch's statements only 1 s.
            let db = soft_delete_tests::context::connect_with_busy_timeout(
                ctx.url.clone(),
                2,
                Duration::from_secs(5),
            )
            .await;
            let reader = soft_delete_tests::context::connect(ctx.url.clone(), 1).await;
            let read = sea_orm::TransactionTrait::begin(&reader).await.unwrap();
            read.execute_unprepared("SELECT COUNT(*) FROM users")
                .await
                .unwrap();
            let release = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(2)).await;
                read.rollback().await.unwrap();
                reader
            });
            let report = SoftDeleteManager::with_config(&db, config)
                .bulk_soft_delete::<user::Entity, _>(1..=200i64)
                .batch_size(50)
                .await
                .expect("the slow COMMIT is waited for");
            release.await.unwrap();
            assert_eq!(report.affected, 200);
        }
        // MySQL/MariaDB have no deferred triggers, and InnoDB's COMMIT takes no lock a reader
        // holds: there is no slow COMMIT to provoke.
        _ => return,
    }
    assert_eq!(deleted_user_ids(&ctx).await, (1..=200).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_deadlock_with_another_transaction_is_retried() {
    let ctx = test_context!(shared).await;
    if ctx.backend == DbBackend::Sqlite {
        // One writer at a time: SQLite has no deadlocks, only busy (see the bulk tests).
        soft_delete_tests::skip("SQLite has no deadlocks, only busy databases");
        return;
    }
    seed_users(&ctx, 10).await;
    ctx.exec("CREATE TABLE ballast (id INTEGER NOT NULL)").await;
    // The other transaction holds row 2, the batch locks row 1 and waits for row 2, then the
    // other transaction asks for row 1: a deadlock, and the batch must be its victim.
    // PostgreSQL: the batch has waited longest, so its deadlock check (after deadlock_timeout,
    // 1 s) runs first and cancels it. MariaDB picks the transaction that changed fewer rows:
    // the other one writes 200 rows of ballast first.
    let other = soft_delete_tests::context::connect(ctx.url.clone(), 1).await;
    let txn = sea_orm::TransactionTrait::begin(&other).await.unwrap();
    let ballast: Vec<String> = (0..200).map(|i| format!("({i})")).collect();
    txn.execute_unprepared(&format!(
        "INSERT INTO ballast VALUES {}",
        ballast.join(", ")
    ))
    .await
    .unwrap();
    txn.execute_unprepared("SELECT id FROM users WHERE id = 2 FOR UPDATE")
        .await
        .unwrap();
    let config = SoftDeleteConfig {
        retry_attempts: 5,
        retry_delay: Duration::from_millis(50),
        ..SoftDeleteConfig::default()
    };
    let db = ctx.db.clone();
    let bulk = tokio::spawn(async move {
        SoftDeleteManager::with_config(&db, config)
            .bulk_soft_delete::<user::Entity, _>([1i64, 2])
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    txn.execute_unprepared("UPDATE users SET name = 'other' WHERE id = 1")
        .await
        .expect("the other transaction is not the victim");
    txn.commit().await.unwrap();
    let report = bulk.await.unwrap().expect("the bulk side completes");
    assert!(
        report.retries >= 1,
        "the batch was the deadlock's victim and was retried: {report:?}"
    );
    assert_eq!((report.affected, report.batches), (2, 1));
    assert_eq!(deleted_user_ids(&ctx).await, [1, 2]);
}

#[tokio::test]
async fn eight_concurrent_operations_count_every_transition_once() {
    let ctx = test_context!(shared).await;
    seed_users(&ctx, 400).await;
    // A trigger counts every real transition: active to deleted, and back.
    ctx.exec("CREATE TABLE transitions (deleted INTEGER NOT NULL, restored INTEGER NOT NULL)")
        .await;
    ctx.exec("INSERT INTO transitions VALUES (0, 0)").await;
    match ctx.backend {
        DbBackend::Sqlite => {
            ctx.exec(
                "CREATE TRIGGER count_transitions AFTER UPDATE OF deleted_at ON users BEGIN \
                 UPDATE transitions SET \
                 deleted = deleted + (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL), \
                 restored = restored + (OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL); END",
            )
            .await;
        }
        DbBackend::Postgres => {
            ctx.exec(
                "CREATE FUNCTION count_transitions() RETURNS trigger AS $$ BEGIN \
                 UPDATE transitions SET \
                 deleted = deleted + (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)::int, \
                 restored = restored + (OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL)::int; \
                 RETURN NEW; END $$ LANGUAGE plpgsql",
            )
            .await;
            ctx.exec(
                "CREATE TRIGGER count_transitions AFTER UPDATE ON users FOR EACH ROW \
                 EXECUTE FUNCTION count_transitions()",
            )
            .await;
        }
        _ => {
            ctx.exec(
                "CREATE TRIGGER count_transitions AFTER UPDATE ON users FOR EACH ROW \
                 UPDATE transitions SET \
                 deleted = deleted + (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL), \
                 restored = restored + (OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL)",
            )
            .await;
        }
    }
    let config = SoftDeleteConfig {
        retry_attempts: 50,
        retry_delay: Duration::from_millis(10),
        query_timeout: Some(Duration::from_secs(30)),
        ..SoftDeleteConfig::default()
    };
    let mut tasks = Vec::new();
    for worker in 0..8i64 {
        let db = ctx.db.clone();
        let config = config.clone();
        tasks.push(tokio::spawn(async move {
            // Overlapping windows of 200 ids, in both directions; half soft delete, half restore.
            let start = worker * 25 + 1;
            let mut ids: Vec<i64> = (start..start + 200).collect();
            if worker % 2 == 1 {
                ids.reverse();
            }
            let manager = SoftDeleteManager::with_config(&db, config);
            let report = if worker % 4 < 2 {
                manager
                    .bulk_soft_delete::<user::Entity, _>(ids)
                    .batch_size(30)
                    .await
            } else {
                manager
                    .bulk_restore::<user::Entity, _>(ids)
                    .batch_size(30)
                    .await
            };
            (worker % 4 < 2, report.expect("every operation completes"))
        }));
    }
    let (mut deleted, mut restored) = (0u64, 0u64);
    for task in tasks {
        let (soft, report) = task.await.unwrap();
        if soft {
            deleted += report.affected;
        } else {
            restored += report.affected;
        }
    }
    let counted = |column| format!("SELECT CAST({column} AS BIGINT) FROM transitions");
    let (counted_deleted, counted_restored) = match ctx.backend {
        // MySQL casts to SIGNED, not BIGINT.
        DbBackend::MySql => (
            ctx.scalar_i64("SELECT CAST(deleted AS SIGNED) FROM transitions")
                .await,
            ctx.scalar_i64("SELECT CAST(restored AS SIGNED) FROM transitions")
                .await,
        ),
        _ => (
            ctx.scalar_i64(&counted("deleted")).await,
            ctx.scalar_i64(&counted("restored")).await,
        ),
    };
    assert_eq!(
        (deleted as i64, restored as i64),
        (counted_deleted, counted_restored),
        "the counts reported are the transitions the trigger saw"
    );
    assert_eq!(
        deleted_user_ids(&ctx).await.len() as i64,
        counted_deleted - counted_restored
    );
}

// ---------------------------------------------------------------------------------------------
// Random operations with random faults, against an in-memory model
// ---------------------------------------------------------------------------------------------

mod model {
    use std::collections::BTreeMap;

    use chrono::{DateTime, TimeZone, Utc};
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryOrder};
    use soft_delete_core::prelude::*;
    use soft_delete_tests::TestContext;
    use soft_delete_tests::context::Target;
    use soft_delete_tests::entities::user;
    use soft_delete_tests::faulty::{FaultyDb, Injected};
    use soft_delete_tests::fixtures::insert_users;

    const ROWS: i64 = 30;

    #[derive(Clone, Copy, Debug)]
    enum Kind {
        SoftDelete,
        Restore,
        SoftDeleteWhere,
        RestoreWhere,
        Purge,
    }

    #[derive(Clone, Debug)]
    struct Step {
        kind: Kind,
        /// Ids for the keyed operations (duplicates and unknown ids included); `lo..=hi` for
        /// the others, and the purge's cutoff as seconds after `base`.
        ids: Vec<i64>,
        lo: i64,
        hi: i64,
        at: i64,
        batch: usize,
        /// The fault and the batch (0-based) whose first attempt meets it.
        fault: Option<(usize, Injected)>,
    }

    fn base() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
            .single()
            .expect("valid")
    }

    fn fault_strategy() -> impl Strategy<Value = Option<(usize, Injected)>> {
        let kind = prop::sample::select(vec![
            Injected::StatementError,
            Injected::ConnectionLost,
            Injected::ReplyLost,
            Injected::CommitLost,
        ]);
        prop::option::weighted(0.7, (0usize..6, kind))
    }

    fn step_strategy() -> impl Strategy<Value = Step> {
        (
            prop::sample::select(vec![
                Kind::SoftDelete,
                Kind::Restore,
                Kind::SoftDeleteWhere,
                Kind::RestoreWhere,
                Kind::Purge,
            ]),
            vec(0..=ROWS + 2, 0..16),
            0..=ROWS,
            0..=ROWS,
            0i64..5,
            1usize..=6,
            fault_strategy(),
        )
            .prop_map(|(kind, ids, a, b, at, batch, fault)| Step {
                kind,
                ids,
                lo: a.min(b),
                hi: a.max(b),
                at,
                batch,
                fault,
            })
    }

    /// Id → `None` (active) or `Some(deleted_at)`; missing ids are purged or never existed.
    type Model = BTreeMap<i64, Option<DateTime<Utc>>>;

    /// One batch as the model sees it: the rows it changes, and the rows of its keys (or
    /// range) that carry the step's stamp before it runs.
    struct Batch {
        changes: Vec<i64>,
        stamped_before: usize,
    }

    /// The batches of `step` on `model`, in order.
    fn batches(model: &Model, step: &Step) -> Vec<Batch> {
        let stamp = base() + chrono::Duration::seconds(step.at);
        match step.kind {
            Kind::SoftDelete | Kind::Restore => {
                let deleting = matches!(step.kind, Kind::SoftDelete);
                let mut state = model.clone();
                step.ids
                    .chunks(step.batch)
                    .map(|chunk| {
                        let mut keys = chunk.to_vec();
                        keys.sort_unstable();
                        keys.dedup();
                        let stamped_before = keys
                            .iter()
                            .filter(|id| state.get(id) == Some(&Some(stamp)))
                            .count();
                        let mut changes = Vec::new();
                        for id in chunk {
                            let Some(row) = state.get_mut(id) else {
                                continue;
                            };
                            if deleting && row.is_none() {
                                *row = Some(stamp);
                                changes.push(*id);
                            } else if !deleting && row.is_some() {
                                *row = None;
                                changes.push(*id);
                            }
                        }
                        Batch {
                            changes,
                            stamped_before,
                        }
                    })
                    .collect()
            }
            Kind::SoftDeleteWhere | Kind::RestoreWhere | Kind::Purge => {
                // A keyset walk: the rows matching, in key order, a batch's worth at a time,
                // then the rest (possibly none) in a last batch.
                let matching: Vec<(i64, Option<DateTime<Utc>>)> = model
                    .iter()
                    .filter(|(id, at)| match step.kind {
                        Kind::Purge => at.is_some_and(|at| at < stamp),
                        _ => (step.lo..=step.hi).contains(*id),
                    })
                    .map(|(id, at)| (*id, *at))
                    .collect();
                let full = matching.len() / step.batch;
                let mut batches = Vec::new();
                for i in 0..=full {
                    let end = ((i + 1) * step.batch).min(matching.len());
                    let range = &matching[(i * step.batch).min(end)..end];
                    batches.push(Batch {
                        changes: range
                            .iter()
                            .filter(|(_, at)| match step.kind {
                                Kind::SoftDeleteWhere => at.is_none(),
                                Kind::RestoreWhere => at.is_some(),
                                _ => true,
                            })
                            .map(|(id, _)| *id)
                            .collect(),
                        stamped_before: range.iter().filter(|(_, at)| *at == Some(stamp)).count(),
                    });
                }
                batches
            }
        }
    }

    fn apply_batch(model: &mut Model, step: &Step, ids: &[i64]) {
        let stamp = base() + chrono::Duration::seconds(step.at);
        for id in ids {
            match step.kind {
                Kind::SoftDelete | Kind::SoftDeleteWhere => {
                    model.insert(*id, Some(stamp));
                }
                Kind::Restore | Kind::RestoreWhere => {
                    model.insert(*id, None);
                }
                Kind::Purge => {
                    model.remove(id);
                }
            }
        }
    }

    fn fail(what: impl std::fmt::Display) -> TestCaseError {
        TestCaseError::fail(what.to_string())
    }

    async fn run(db: &FaultyDb, step: &Step) -> soft_delete_core::Result<BulkReport> {
        let config = SoftDeleteConfig {
            retry_delay: std::time::Duration::from_millis(1),
            ..SoftDeleteConfig::default()
        };
        let manager = SoftDeleteManager::with_config(db, config);
        let stamp = base() + chrono::Duration::seconds(step.at);
        let range = user::Column::Id.between(step.lo, step.hi);
        match step.kind {
            Kind::SoftDelete => {
                manager
                    .bulk_soft_delete::<user::Entity, _>(step.ids.clone())
                    .at(stamp)
                    .batch_size(step.batch)
                    .await
            }
            Kind::Restore => {
                manager
                    .bulk_restore::<user::Entity, _>(step.ids.clone())
                    .batch_size(step.batch)
                    .await
            }
            Kind::SoftDeleteWhere => {
                manager
                    .bulk_soft_delete_where::<user::Entity>(range)
                    .at(stamp)
                    .batch_size(step.batch)
                    .await
            }
            Kind::RestoreWhere => {
                manager
                    .bulk_restore_where::<user::Entity>(range)
                    .batch_size(step.batch)
                    .await
            }
            Kind::Purge => {
                manager
                    .hard_delete_before::<user::Entity>(stamp)
                    .batch_size(step.batch)
                    .await
            }
        }
    }

    /// What a lost COMMIT of a batch turns into, from what the engine can find afterwards.
    #[derive(Debug, PartialEq)]
    enum Lost {
        /// Found committed (or nothing rode on it): counted.
        Counted,
        /// Found rolled back: retried.
        Retried,
        /// Neither can be established: the operation fails with the batch's rows uncertain.
        Unknown,
    }

    fn lost(step: &Step, batch: &Batch, applied: bool) -> Lost {
        if batch.changes.is_empty() {
            return Lost::Counted;
        }
        match step.kind {
            // A purge's range is empty after it, or still holds every row it deleted.
            Kind::Purge if applied => Lost::Counted,
            Kind::Purge => Lost::Retried,
            // A restore of `users` leaves no mark.
            Kind::Restore | Kind::RestoreWhere => Lost::Unknown,
            // Soft deletes here are stamped by the caller (`.at`): a stamp others may share, so
            // only "none of the batch's rows carries it" is conclusive.
            Kind::SoftDelete | Kind::SoftDeleteWhere => {
                let found = batch.stamped_before + if applied { batch.changes.len() } else { 0 };
                if found == 0 {
                    Lost::Retried
                } else {
                    Lost::Unknown
                }
            }
        }
    }

    /// Runs `step` with its fault and checks what it reports against the model; updates the
    /// model with what the step did.
    async fn check_step(
        db: &FaultyDb,
        model: &mut Model,
        step: &Step,
    ) -> Result<(), TestCaseError> {
        let batches = batches(model, step);
        if let Some((k, fault)) = step.fault {
            db.inject(k as u64, fault);
        }
        let result = run(db, step).await;
        db.clear();
        let count = |batches: &[Batch]| batches.iter().map(|b| b.changes.len() as u64).sum::<u64>();
        // The batch that met the fault, if the operation ran that far.
        let struck = step.fault.filter(|(k, _)| *k < batches.len());
        // How the operation ends: (batches applied, error expected: (failed batch, uncertain)).
        let (applied, failure, retries) = match struck {
            None | Some((_, Injected::ConnectionLost)) => {
                (batches.len(), None, u64::from(struck.is_some()))
            }
            Some((k, Injected::StatementError)) => (k, Some((k, 0)), 0),
            Some((k, fault)) => {
                let reply_lost = fault == Injected::ReplyLost;
                match lost(step, &batches[k], reply_lost) {
                    Lost::Counted => (batches.len(), None, 0),
                    Lost::Retried => (batches.len(), None, 1),
                    Lost::Unknown => (
                        k + usize::from(reply_lost),
                        Some((k, batches[k].changes.len() as u64)),
                        0,
                    ),
                }
            }
        };
        match (failure, result) {
            (None, Ok(report)) => {
                prop_assert_eq!(report.affected, count(&batches), "affected");
                prop_assert_eq!(report.batches, batches.len() as u64, "batches");
                prop_assert_eq!(report.retries, retries, "retries");
            }
            (Some((k, uncertain)), Err(error)) => {
                match &error {
                    Error::Bulk { failed_batch, .. } => {
                        prop_assert_eq!(*failed_batch, k as u64 + 1, "failed batch")
                    }
                    other => return Err(fail(format!("unexpected {other:?}"))),
                }
                prop_assert_eq!(error.partial_count(), Some(count(&batches[..k])), "partial");
                prop_assert_eq!(error.uncertain_count(), uncertain, "uncertain rows");
            }
            (expected, got) => {
                return Err(fail(format!("expected failure {expected:?}, got {got:?}")));
            }
        }
        for batch in &batches[..applied] {
            apply_batch(model, step, &batch.changes);
        }
        Ok(())
    }

    async fn compare(ctx: &TestContext, model: &Model, when: &str) -> Result<(), TestCaseError> {
        let rows: Vec<(i64, Option<DateTime<Utc>>)> = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(&ctx.db)
            .await
            .map_err(fail)?
            .into_iter()
            .map(|row| (row.id, row.deleted_at))
            .collect();
        let expected: Vec<(i64, Option<DateTime<Utc>>)> =
            model.iter().map(|(id, at)| (*id, *at)).collect();
        prop_assert_eq!(rows, expected, "{}", when);
        Ok(())
    }

    async fn run_case(n: usize, steps: &[Step]) -> Result<(), TestCaseError> {
        let ctx = TestContext::new(&format!("faults_model_{}_{n}", std::process::id())).await;
        ctx.create_table::<user::Entity>().await;
        insert_users(&ctx, 1..=ROWS).await;
        let mut model: Model = (1..=ROWS).map(|id| (id, None)).collect();
        let db = FaultyDb::new(ctx.db.clone());
        let mut result = Ok(());
        for (i, step) in steps.iter().enumerate() {
            result = check_step(&db, &mut model, step).await;
            if result.is_ok() {
                result = compare(&ctx, &model, &format!("after step {i}: {step:?}")).await;
            }
            if result.is_err() {
                break;
            }
        }
        let name = ctx.name.clone();
        ctx.db.clone().close().await.expect("close");
        let drop = match Target::from_env() {
            Target::Postgres(url) => Some((
                url,
                format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#),
            )),
            Target::MySql(url) => Some((url, format!("DROP DATABASE IF EXISTS `{name}`"))),
            Target::Sqlite(_) => None,
        };
        if let Some((url, sql)) = drop {
            let admin = soft_delete_tests::context::connect(url, 1).await;
            admin
                .execute_unprepared(&sql)
                .await
                .expect("drop the case's database");
            admin.close().await.expect("close the admin connection");
        }
        result
    }

    /// Cases per backend; `FAULT_CASES` overrides.
    const DEFAULT_CASES: u32 = 48;

    #[test]
    fn random_operations_with_faults_match_the_model() {
        let cases = std::env::var("FAULT_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_CASES);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            max_shrink_time: 120_000,
            ..Config::default()
        });
        let counter = std::sync::atomic::AtomicUsize::new(0);
        let started = std::time::Instant::now();
        let result = runner.run(&vec(step_strategy(), 1..12), |steps| {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            runtime.block_on(run_case(n, &steps))
        });
        match result {
            Ok(()) => eprintln!(
                "faults model: {cases} cases on {:?} in {:.1?}",
                Target::from_env().backend(),
                started.elapsed()
            ),
            Err(TestError::Fail(reason, steps)) => {
                panic!("the library and the model disagree:\n{reason}\nminimal case:\n{steps:#?}")
            }
            Err(TestError::Abort(reason)) => panic!("proptest aborted: {reason}"),
        }
    }
}

#[tokio::test]
async fn a_retried_insert_batch_takes_its_values_from_its_rows() {
    // Each batch's values are taken while the batch before it runs; the first attempt uses
    // them, a retry takes them again from the batch's rows. The second batch's INSERT loses its
    // connection: every row must still be written once, with its own values.
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    let db = FaultyDb::new(ctx.db.clone());
    db.inject(1, Injected::ConnectionLost);
    let report = SoftDeleteManager::new(&db)
        .bulk_insert_stream::<user::Entity, _>(new_users("i", 100))
        .batch_size(25)
        .await
        .expect("a lost connection before COMMIT is retried");
    assert_eq!((report.affected, report.retries), (100, 1));
    let names = user_names(user::Entity::find(), &ctx).await;
    assert_eq!(names, (0..100).map(|i| format!("i{i}")).collect::<Vec<_>>());
    // The same through bulk_create, whose models come back in input order.
    db.inject(2, Injected::ConnectionLost);
    let created = SoftDeleteManager::new(&db)
        .bulk_create::<user::Entity, _>((0..100).map(|i| user::ActiveModel {
            name: Set(format!("c{i}")),
            email: Set(format!("c{i}@example.com")),
            ..Default::default()
        }))
        .batch_size(25)
        .await
        .expect("retried");
    let names: Vec<String> = created.iter().map(|u| u.name.clone()).collect();
    assert_eq!(names, (0..100).map(|i| format!("c{i}")).collect::<Vec<_>>());
    assert_eq!(user::Entity::find().count(&ctx.db).await.unwrap(), 200);
}
