//! Replica lag, for real.
//!
//! * A PostgreSQL primary with a streaming replica (`scripts/pg-replica.sh`): replay is paused on
//!   the replica (`pg_wal_replay_pause()`) while a bulk soft delete runs on the primary with a
//!   replica-lag throttle; the operation holds its batches once the replica is more than
//!   `max_lag` behind, and finishes with exact counts once replay resumes.
//! * A MariaDB source with a replica (`scripts/mariadb-replica.sh`): a replica whose SQL thread
//!   is stopped holds the operation until it applies again; a replica delayed by
//!   `MASTER_DELAY` holds each batch while `Seconds_Behind_Master` is over `max_lag`.
//!
//! Built only with the `replicas` feature (`cargo test -p soft-delete-tests --features replicas
//! --test replica`), which says the pairs are there: without their URLs
//! (`SOFT_DELETE_TEST_PG_PRIMARY_URL`, `SOFT_DELETE_TEST_PG_REPLICA_URL`,
//! `SOFT_DELETE_TEST_MYSQL_SOURCE_URL`, `SOFT_DELETE_TEST_MYSQL_REPLICA_URL`) every test fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use soft_delete_core::prelude::*;
use soft_delete_core::throttle::{MySqlReplicaLag, PostgresReplicaLag, Throttle};
use soft_delete_tests::TestContext;
use soft_delete_tests::context::{connect, with_database};
use soft_delete_tests::entities::user;
use soft_delete_tests::fixtures::{Recording, seed_users};

/// Pausing replay (or applying) pauses it for every test: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ROWS: i64 = 6_000;

fn url(variable: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{variable} is not set: start the pairs with scripts/pg-replica.sh start and \
                 scripts/mariadb-replica.sh start and source their env files"
            )
        })
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get_by_index::<i64>(0).expect("an integer")
}

/// Waits (up to 30 s) until `sql` answers `expected` on the replica.
async fn eventually(replica: &DatabaseConnection, sql: &str, expected: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = match replica
            .query_one_raw(Statement::from_string(
                replica.get_database_backend(),
                sql.to_owned(),
            ))
            .await
        {
            Ok(Some(row)) => row.try_get_by_index::<i64>(0).ok(),
            _ => None,
        };
        if value == Some(expected) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replica still answers {value:?} to `{sql}`, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The test's database on the primary, seeded and replayed on the replica; the replica's
/// connection to it, and an admin connection to the replica.
async fn seeded(test: &str) -> (TestContext, DatabaseConnection, DatabaseConnection) {
    let primary = url("SOFT_DELETE_TEST_PG_PRIMARY_URL");
    let replica_url = url("SOFT_DELETE_TEST_PG_REPLICA_URL");
    let ctx = TestContext::on_postgres(&primary, test).await;
    seed_users(&ctx, ROWS).await;
    let admin = connect(replica_url.clone(), 2).await;
    assert_eq!(
        scalar(&admin, "SELECT pg_is_in_recovery()::int::int8").await,
        1,
        "SOFT_DELETE_TEST_PG_REPLICA_URL does not name a replica"
    );
    // A test that failed part-way may have left replay paused.
    admin
        .execute_unprepared("SELECT pg_wal_replay_resume()")
        .await
        .expect("resume replay");
    // The database appears on the replica once its CREATE DATABASE is replayed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let replica = loop {
        match sea_orm::Database::connect(with_database(&replica_url, &ctx.name)).await {
            Ok(db) => break db,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "the replica never had {}: {error}",
                    ctx.name
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    eventually(&replica, "SELECT COUNT(*) FROM users", ROWS).await;
    (ctx, replica, admin)
}

/// Pauses replay, runs a bulk soft delete throttled by `throttle` on the primary, checks after
/// `hold` that it is held with the replica behind, resumes replay, and checks it finishes with
/// exact counts. Returns the time it was throttled.
async fn held_until_replay_resumes(
    ctx: &TestContext,
    replica: &DatabaseConnection,
    admin: &DatabaseConnection,
    throttle: Arc<dyn Throttle>,
) -> Duration {
    admin
        .execute_unprepared("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause replay");
    let affected = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    let seen = &affected;
    let run = async {
        let report = SoftDeleteManager::new(&ctx.db)
            .bulk_soft_delete::<user::Entity, _>(1..=ROWS)
            // About 3 s unthrottled: 24 batches and their pauses.
            .batch_size(250)
            .pause_between_batches(Duration::from_millis(120))
            .throttle(throttle)
            .max_throttle_wait(Duration::from_secs(120))
            .on_progress(move |p| seen.store(p.affected, Ordering::SeqCst))
            .await;
        finished.store(true, Ordering::SeqCst);
        report
    };
    let operator = async {
        // Long enough for the replica to fall past max_lag (0.5 s) and the throttle to notice
        // (the primary hears from the replica every second), and for the operation to have
        // finished had it not been held.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let so_far = affected.load(Ordering::SeqCst);
        assert!(
            !finished.load(Ordering::SeqCst) && so_far < ROWS as u64,
            "the operation did not wait for the paused replica ({so_far} rows done)"
        );
        assert_eq!(
            scalar(
                replica,
                "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL"
            )
            .await,
            0,
            "replay is paused: the replica has none of the deletions"
        );
        admin
            .execute_unprepared("SELECT pg_wal_replay_resume()")
            .await
            .expect("resume replay");
        so_far
    };
    let (report, held_at) = tokio::join!(run, operator);
    let report = report.expect("the throttled soft delete finishes once replay resumes");
    eprintln!(
        "held at {held_at} rows; {} rows in {} batches, throttled {:?} of {:?}",
        report.affected, report.batches, report.throttled, report.elapsed
    );
    assert_eq!(
        (report.requested, report.affected),
        (ROWS as u64, ROWS as u64)
    );
    assert!(
        report.throttled >= Duration::from_secs(2),
        "throttled only {:?}",
        report.throttled
    );
    eventually(
        replica,
        "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL",
        ROWS,
    )
    .await;
    assert_eq!(
        scalar(
            &ctx.db,
            "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL"
        )
        .await,
        ROWS
    );
    report.throttled
}

#[tokio::test]
async fn the_lag_measured_on_the_replica_holds_the_operation_while_replay_is_paused() {
    let _serial = SERIAL.lock().await;
    let (ctx, replica, admin) = seeded(concat!(module_path!(), "_on_replica")).await;
    let throttle = PostgresReplicaLag::on_replicas(vec![admin.clone()], Duration::from_millis(500));
    held_until_replay_resumes(&ctx, &replica, &admin, Arc::new(throttle)).await;
}

#[tokio::test]
async fn the_lag_measured_on_the_primary_holds_the_operation_while_replay_is_paused() {
    let _serial = SERIAL.lock().await;
    let (ctx, replica, admin) = seeded(concat!(module_path!(), "_on_primary")).await;
    let throttle = PostgresReplicaLag::on_primary(ctx.db.clone(), Duration::from_millis(500));
    held_until_replay_resumes(&ctx, &replica, &admin, Arc::new(throttle)).await;
}

/// The MariaDB source and replica (`scripts/mariadb-replica.sh`): the test's database on the
/// source, seeded and applied on the replica, and an admin connection to the replica.
async fn seeded_mysql(test: &str) -> (TestContext, DatabaseConnection) {
    let source = url("SOFT_DELETE_TEST_MYSQL_SOURCE_URL");
    let replica_url = url("SOFT_DELETE_TEST_MYSQL_REPLICA_URL");
    let admin = connect(replica_url, 1).await;
    // A test that failed part-way may have left the replica stopped or delayed.
    for sql in [
        "STOP SLAVE",
        "CHANGE MASTER TO MASTER_DELAY = 0",
        "START SLAVE",
    ] {
        admin
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let ctx = TestContext::on_mysql(&source, test).await;
    seed_users(&ctx, ROWS).await;
    let counted = format!("SELECT COUNT(*) FROM `{}`.users", ctx.name);
    eventually(&admin, &counted, ROWS).await;
    (ctx, admin)
}

#[tokio::test]
async fn a_stopped_mariadb_replica_holds_the_operation_until_it_applies_again() {
    let _serial = SERIAL.lock().await;
    let (ctx, admin) = seeded_mysql(concat!(module_path!(), "_mysql_stopped")).await;
    admin
        .execute_unprepared("STOP SLAVE SQL_THREAD")
        .await
        .expect("stop applying");
    let throttle = Arc::new(Recording::new(MySqlReplicaLag::new(
        vec![admin.clone()],
        Duration::from_secs(1),
    )));
    let run = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=ROWS)
        .batch_size(1_000)
        .throttle(throttle.clone())
        .max_throttle_wait(Duration::from_secs(60));
    let operator = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        admin
            .execute_unprepared("START SLAVE SQL_THREAD")
            .await
            .expect("apply again");
    };
    let (report, ()) = tokio::join!(run, operator);
    let report = report.expect("the throttled soft delete finishes once the replica applies");
    eprintln!(
        "stopped replica: {} rows in {} batches, throttled {:?} of {:?}",
        report.affected, report.batches, report.throttled, report.elapsed
    );
    assert_eq!(report.affected, ROWS as u64);
    assert!(
        report.throttled >= Duration::from_millis(1_500),
        "{:?}",
        report.throttled
    );
    let reasons = throttle.reasons();
    // Held for the stopped thread, then (while the replica catches up) perhaps for its lag.
    assert!(
        reasons
            .first()
            .is_some_and(|r| r.contains("replication is not running"))
            && reasons
                .iter()
                .all(|r| r.contains("replication is not running") || r.contains("s behind")),
        "{reasons:?}"
    );
    let deleted = format!(
        "SELECT COUNT(*) FROM `{}`.users WHERE deleted_at IS NOT NULL",
        ctx.name
    );
    eventually(&admin, &deleted, ROWS).await;
}

#[tokio::test]
async fn a_delayed_mariadb_replica_holds_each_batch_while_it_is_behind() {
    let _serial = SERIAL.lock().await;
    let (ctx, admin) = seeded_mysql(concat!(module_path!(), "_mysql_delayed")).await;
    // Every event waits 3 s on the replica, and Seconds_Behind_Master counts its age (whole
    // seconds) while it waits, then drops to 0. A batch commits, the pause lets its event age
    // past max_lag, and the throttle then holds until the replica applied it.
    for sql in [
        "STOP SLAVE",
        "CHANGE MASTER TO MASTER_DELAY = 3",
        "START SLAVE",
    ] {
        admin
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let throttle = Arc::new(Recording::new(MySqlReplicaLag::new(
        vec![admin.clone()],
        Duration::from_millis(500),
    )));
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=ROWS)
        .batch_size(2_000)
        .pause_between_batches(Duration::from_millis(1_200))
        .throttle(throttle.clone())
        .max_throttle_wait(Duration::from_secs(60))
        .await;
    for sql in [
        "STOP SLAVE",
        "CHANGE MASTER TO MASTER_DELAY = 0",
        "START SLAVE",
    ] {
        admin
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let report = report.expect("the throttled soft delete");
    eprintln!(
        "delayed replica: {} rows in {} batches, throttled {:?} of {:?}",
        report.affected, report.batches, report.throttled, report.elapsed
    );
    assert_eq!((report.affected, report.batches), (ROWS as u64, 3));
    let reasons = throttle.reasons();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("s behind (at most 500ms)")),
        "held for the lag: {reasons:?}"
    );
    // Two holds (before batches 2 and 3) of about 1.8 s each.
    assert!(
        report.throttled >= Duration::from_secs(2),
        "{:?}",
        report.throttled
    );
    let deleted = format!(
        "SELECT COUNT(*) FROM `{}`.users WHERE deleted_at IS NOT NULL",
        ctx.name
    );
    eventually(&admin, &deleted, ROWS).await;
}
