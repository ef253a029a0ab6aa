//! Bulk operations with several workers (`parallel`), on the backend `DATABASE_URL` names: every
//! row changed once by one operation, a failing batch in one worker stopping the others with an
//! exact count, a lost `COMMIT` in one worker, the stop signal and a throttle seen by every
//! worker, and the operation log (with its parts table) and events agreeing with the data. On
//! SQLite (one writer at a time) the same operations run one worker, and the same assertions
//! hold.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, PaginatorTrait};
use soft_delete_core::events::Events;
use soft_delete_core::operation_log::{self, DEFAULT_TABLE};
use soft_delete_core::prelude::*;
use soft_delete_core::throttle::{Check, Throttle};
use soft_delete_core::{Error, OperationStatus, Progress, StopSignal};
use soft_delete_tests::entities::user;
use soft_delete_tests::faulty::{FaultyDb, Injected};
use soft_delete_tests::fixtures::{
    Fault, create_log, deleted_user_ids, deleted_users_with_log, fail_users_row, logged, seed_users,
};
use soft_delete_tests::{TestContext, test_context};

/// The workers an operation asking for `n` runs on the test's backend.
fn workers(ctx: &TestContext, n: usize) -> usize {
    match ctx.backend {
        DbBackend::Sqlite => 1,
        _ => n,
    }
}

async fn deleted(ctx: &TestContext) -> u64 {
    user::Entity::find_deleted()
        .count(&ctx.db)
        .await
        .expect("count deleted users")
}

async fn users(ctx: &TestContext) -> u64 {
    user::Entity::find_with_deleted()
        .count(&ctx.db)
        .await
        .expect("count users")
}

/// Every progress a callback saw.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<Progress>>>);

impl Seen {
    fn push(&self, progress: &Progress) {
        self.0.lock().expect("progress lock").push(progress.clone());
    }

    fn taken(&self) -> Vec<Progress> {
        std::mem::take(&mut *self.0.lock().expect("progress lock"))
    }
}

/// The events of operation `op` waiting in `receiver`: (batch number, rows).
fn events_of(
    receiver: &mut tokio::sync::broadcast::Receiver<Arc<soft_delete_core::events::Event>>,
    op: OperationId,
) -> Vec<(u64, u64)> {
    let mut seen = Vec::new();
    while let Ok(event) = receiver.try_recv() {
        if event.operation == op {
            seen.push((event.batch, event.rows));
        }
    }
    seen
}

#[tokio::test]
async fn parallel_operations_change_every_row_once_as_one_logged_operation() {
    let ctx = test_context!().await;
    seed_users(&ctx, 6000).await;
    create_log(&ctx, true).await;
    let events = Events::new(4096);
    let mut receiver = events.subscribe();
    let config = SoftDeleteConfig {
        events: Some(events.clone()),
        ..logged()
    };
    let manager = SoftDeleteManager::with_config(&ctx.db, config);

    // By ids: handed out batch by batch to three workers.
    let seen = Seen::default();
    let progress = seen.clone();
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=3000i64)
        .deleted_by("ops")
        .batch_size(250)
        .parallel(3)
        .on_progress(move |p| progress.push(p))
        .await
        .expect("parallel soft delete by ids");
    assert_eq!(report.workers, workers(&ctx, 3));
    assert_eq!((report.requested, report.affected), (3000, 3000));
    assert_eq!(report.batches, 12);
    assert_eq!(deleted_user_ids(&ctx).await, (1..=3000).collect::<Vec<_>>());
    // One operation: one stamp on every row.
    let stamps: std::collections::BTreeSet<_> = user::Entity::find_deleted()
        .all(&ctx.db)
        .await
        .expect("read the rows")
        .into_iter()
        .map(|row| row.deleted_at)
        .collect();
    assert_eq!(stamps.len(), 1, "{stamps:?}");
    // A progress and an event per batch, numbered once each, adding up to the rows.
    let progress = seen.taken();
    assert_eq!(progress.len(), 12);
    assert_eq!(progress.iter().map(|p| p.affected).max(), Some(3000));
    assert!(progress.iter().all(|p| p.workers == report.workers));
    let batches = events_of(&mut receiver, report.id);
    assert_eq!(batches.iter().map(|(_, rows)| rows).sum::<u64>(), 3000);
    let numbers: std::collections::BTreeSet<_> = batches.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, (1..=12).collect());
    let record = manager.operation(report.id).await.unwrap().expect("logged");
    assert_eq!(record.status, OperationStatus::Completed);
    assert_eq!(
        (record.rows_changed(), record.requested, record.batches),
        (3000, 3000, 12)
    );

    // By condition: the key range split between the workers.
    let report = manager
        .bulk_soft_delete_where::<user::Entity>(user::Column::Id.gt(3000))
        .batch_size(250)
        .parallel(3)
        .await
        .expect("parallel soft delete by condition");
    assert_eq!(report.workers, workers(&ctx, 3));
    assert_eq!(report.affected, 3000);
    assert_eq!(deleted(&ctx).await, 6000);
    let record = manager.operation(report.id).await.unwrap().expect("logged");
    assert_eq!(
        (record.rows_changed(), record.batches),
        (3000, report.batches)
    );
    // (A walk's last batch may find no row: it announces nothing.)
    let batches = events_of(&mut receiver, report.id);
    let numbers: std::collections::BTreeSet<_> = batches.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers.len(), batches.len());
    assert!(batches.len() as u64 <= report.batches);
    assert_eq!(batches.iter().map(|(_, rows)| rows).sum::<u64>(), 3000);

    // Restore and purge, split the same way.
    let restore = manager
        .bulk_restore_where::<user::Entity>(user::Column::Id.lte(4000))
        .batch_size(300)
        .parallel(2)
        .await
        .expect("parallel restore");
    assert_eq!(
        (restore.workers, restore.affected),
        (workers(&ctx, 2), 4000)
    );
    assert_eq!(deleted(&ctx).await, 2000);
    let purge = manager
        .hard_delete_before::<user::Entity>(chrono::Utc::now() + chrono::Duration::days(1))
        .batch_size(300)
        .parallel(2)
        .await
        .expect("parallel purge");
    assert_eq!((purge.workers, purge.affected), (workers(&ctx, 2), 2000));
    assert_eq!((users(&ctx).await, deleted(&ctx).await), (4000, 0));
    let record = manager.operation(purge.id).await.unwrap().expect("logged");
    assert_eq!(record.rows_changed(), 2000);
    assert_eq!(record.status, OperationStatus::Completed);
}

#[tokio::test]
async fn a_failing_batch_in_one_worker_stops_the_others_with_an_exact_count() {
    let ctx = test_context!().await;
    seed_users(&ctx, 20_000).await;
    create_log(&ctx, true).await;
    // The second batch of the second worker's half (ids 10,001 ..= 20,000) fails for good.
    fail_users_row(&ctx, 10_501, Fault::Update).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    // Paced, so that the first worker's half takes half a second at least however long the
    // second worker's connection takes to open (through a pooler, a new server session).
    let error = manager
        .bulk_soft_delete_where::<user::Entity>(user::Column::Id.gt(0))
        .batch_size(500)
        .pause_between_batches(Duration::from_millis(25))
        .parallel(2)
        .await
        .expect_err("the batch with 10,501 fails");
    let partial = error.partial_count().expect("a bulk failure");
    assert_eq!(partial, deleted(&ctx).await, "{error}");
    let ids = deleted_user_ids(&ctx).await;
    assert!(!ids.contains(&10_501));
    match ctx.backend {
        // One worker walks up to the failing batch.
        DbBackend::Sqlite => assert_eq!(partial, 10_500),
        // The second worker's first batch, and the first worker's batches until it heard of
        // the failure: it stopped long before the end of its half.
        _ => {
            assert!(ids.contains(&10_500), "{ids:?}");
            assert!(partial < 10_000, "the first worker went on: {partial}");
        }
    }
    let record = manager
        .operations()
        .await
        .expect("list the log")
        .pop()
        .expect("logged");
    assert_eq!(record.status, OperationStatus::Failed);
    assert_eq!(record.rows_changed(), partial);

    // By ids, handed out batch by batch: the other worker stops soon after the failure, long
    // before the end. (Its batches begun before the failure was known run to their end: on a
    // loaded server it ran at least two batches past the failing one. Paced, so that running on to the
    // end would take 0.4 s more.)
    let ctx = test_context!().await;
    seed_users(&ctx, 20_000).await;
    fail_users_row(&ctx, 10_501, Fault::Update).await;
    let error = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=20_000i64)
        .batch_size(500)
        .pause_between_batches(Duration::from_millis(25))
        .parallel(2)
        .await
        .expect_err("the batch with 10,501 fails");
    let partial = error.partial_count().expect("a bulk failure");
    assert_eq!(partial, deleted(&ctx).await, "{error}");
    let ids = deleted_user_ids(&ctx).await;
    assert!(!ids.contains(&10_501));
    assert!(
        ids.iter().all(|&id| id <= 14_000),
        "ran on after the failure: {partial} rows"
    );
    assert!(partial >= 10_000, "{partial}");
}

#[tokio::test]
async fn a_lost_commit_in_one_worker_is_settled_and_counted_once() {
    let ctx = test_context!().await;
    seed_users(&ctx, 4000).await;
    let db = FaultyDb::new(ctx.db.clone());
    // The faults meet the 4th and the 6th batch, whichever worker runs them.
    db.inject(3, Injected::ReplyLost);
    db.inject(5, Injected::CommitLost);
    let report = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<user::Entity, _>(1..=4000i64)
        .batch_size(500)
        .parallel(2)
        .await
        .expect("the lost commits are settled");
    assert_eq!(db.log().len(), 2, "{:?}", db.log());
    assert_eq!((report.affected, report.batches), (4000, 8));
    // The batch whose COMMIT never applied ran again; the one applied was not (the counts
    // are exact). Two workers may also meet a transient error (Galera ran one more retry).
    assert!(report.retries >= 1, "{report:?}");
    assert_eq!(deleted(&ctx).await, 4000);
}

#[tokio::test]
async fn a_lost_commit_of_a_restore_in_one_worker_is_settled_by_the_log() {
    // A restore of `users` by condition leaves no mark on its rows: what settles a lost COMMIT
    // is the count of batches in the worker's own row of the log's parts table, written in the
    // batch's transaction.
    let ctx = test_context!().await;
    deleted_users_with_log(&ctx, 4000, 4000, true).await;
    let db = FaultyDb::new(ctx.db.clone());
    let manager = SoftDeleteManager::with_config(&db, logged());
    db.inject(3, Injected::ReplyLost);
    db.inject(5, Injected::CommitLost);
    let report = manager
        .bulk_restore_where::<user::Entity>(user::Column::Id.lte(4000))
        .batch_size(500)
        .parallel(2)
        .await
        .expect("the lost commits are settled by the log");
    assert_eq!(db.log().len(), 2, "{:?}", db.log());
    assert_eq!(report.affected, 4000);
    assert!(report.retries >= 1, "{report:?}");
    assert_eq!(deleted(&ctx).await, 0);
    let logged = manager.operation(report.id).await.unwrap().expect("logged");
    assert_eq!(
        (logged.rows_changed(), logged.batches),
        (4000, report.batches)
    );
}

/// Holds every batch until `until`, counting the holds.
#[derive(Debug)]
struct HoldUntil {
    until: Instant,
    holds: AtomicU64,
}

impl Throttle for HoldUntil {
    fn check(&self) -> BoxFuture<'_, Result<Check, sea_orm::DbErr>> {
        Box::pin(async move {
            if Instant::now() < self.until {
                self.holds.fetch_add(1, Ordering::SeqCst);
                return Ok(Check::hold("the test says wait", Duration::from_millis(20)));
            }
            Ok(Check::Go)
        })
    }
}

#[tokio::test]
async fn a_throttle_hold_and_a_stop_signal_reach_every_worker() {
    let ctx = test_context!().await;
    seed_users(&ctx, 4000).await;
    let hold = Duration::from_millis(300);
    let started = Instant::now();
    let throttle = Arc::new(HoldUntil {
        until: started + hold,
        holds: AtomicU64::new(0),
    });
    let stop = StopSignal::new();
    let signal = stop.clone();
    let seen = Seen::default();
    let progress = seen.clone();
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=4000i64)
        .batch_size(250)
        .parallel(2)
        .throttle(throttle.clone())
        .stop_on(stop)
        .on_progress(move |p| {
            progress.push(p);
            if p.batches >= 4 {
                signal.stop();
            }
        })
        .await
        .expect("stopped, not failed");
    let n = workers(&ctx, 2);
    assert_eq!(report.workers, n);
    // No batch of any worker ran before the hold ended, and each worker was held for it.
    let progress = seen.taken();
    assert!(!progress.is_empty());
    assert!(
        progress
            .iter()
            .all(|p| p.elapsed + Duration::from_millis(50) >= hold),
        "{progress:?}"
    );
    assert!(
        report.throttled >= (hold - Duration::from_millis(50)) * n as u32,
        "{:?} for {n} workers",
        report.throttled
    );
    // Stopped at the signal: after the fourth batch, and any other worker's batch in flight.
    assert!(report.stopped_early);
    assert!(
        (4..=4 + n as u64 - 1).contains(&report.batches),
        "{} batches",
        report.batches
    );
    assert_eq!(report.affected, deleted(&ctx).await);
    assert_eq!(report.remaining, Some(4000 - report.affected));
}

#[tokio::test]
async fn a_parallel_operation_needs_the_logs_parts_table_and_reads_its_workers_counts() {
    let ctx = test_context!().await;
    seed_users(&ctx, 1000).await;
    create_log(&ctx, false).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let result = manager
        .bulk_soft_delete_where::<user::Entity>(user::Column::Id.gt(0))
        .batch_size(100)
        .parallel(2)
        .await;
    match ctx.backend {
        // One worker: the operation's own row, no parts table needed.
        DbBackend::Sqlite => {
            assert_eq!(result.expect("one worker").affected, 1000);
        }
        _ => {
            let error = result.expect_err("refused before any batch");
            let text = error.to_string();
            assert!(
                matches!(
                    error,
                    Error::Bulk {
                        partial_count: 0,
                        ..
                    }
                ),
                "{error:?}"
            );
            assert!(
                text.contains("soft_delete_operations_parts")
                    && text.contains("create_parts_table"),
                "{text}"
            );
            assert_eq!(deleted(&ctx).await, 0);
            assert!(manager.operations().await.expect("list").is_empty());
        }
    }

    // A parallel operation whose process died: its own row says running, with the counts
    // only in its workers' rows; reading it sums them.
    ctx.db
        .execute(&operation_log::create_parts_table(DEFAULT_TABLE))
        .await
        .expect("create the parts table");
    let op = OperationId::new();
    let started = match ctx.backend {
        DbBackend::Sqlite => "'2026-01-01 00:00:00.000000 +00:00'",
        DbBackend::Postgres => "'2026-01-01 00:00:00+00'",
        _ => "'2026-01-01 00:00:00'",
    };
    ctx.exec(&format!(
        "INSERT INTO soft_delete_operations (id, kind, table_name, rows_changed, rows_by_table, \
         requested, batches, selection, status, started_at) VALUES ('{op}', 'soft delete', \
         'users', 0, '{{\"users\":0}}', 0, 0, 'keys', 'running', {started})"
    ))
    .await;
    for (worker, rows) in [(0, 300), (1, 200)] {
        ctx.exec(&format!(
            "INSERT INTO soft_delete_operations_parts (operation_id, worker, rows_changed, \
             rows_by_table, requested, batches) VALUES ('{op}', {worker}, {rows}, \
             '{{\"users\":{rows}}}', {rows}, 2)"
        ))
        .await;
    }
    let record = manager.operation(op).await.unwrap().expect("logged");
    assert_eq!(record.status, OperationStatus::Running);
    assert_eq!(
        (record.rows_changed(), record.requested, record.batches),
        (500, 500, 4)
    );
    let listed = manager.operations().await.expect("list");
    let listed = listed.iter().find(|r| r.id == op).expect("listed");
    assert_eq!(listed.rows_changed(), 500);
}

#[tokio::test]
async fn parallel_is_checked_and_atomic_runs_one_worker() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    for bad in [0, 65] {
        let error = manager
            .bulk_soft_delete::<user::Entity, _>(1..=10i64)
            .parallel(bad)
            .await
            .expect_err("out of range");
        assert!(
            matches!(
                &error,
                Error::InvalidArgument {
                    name: "parallel",
                    ..
                }
            ),
            "{error:?}"
        );
    }
    assert_eq!(deleted(&ctx).await, 0);
    let report = manager
        .bulk_soft_delete_where::<user::Entity>(user::Column::Id.gt(0))
        .batch_size(10)
        .parallel(4)
        .atomic()
        .await
        .expect("atomic");
    assert_eq!((report.workers, report.affected), (1, 100));
    // Too few rows for a batch per worker: as many workers as there are batches.
    let report = manager
        .bulk_restore_where::<user::Entity>(user::Column::Id.gt(0))
        .batch_size(40)
        .parallel(4)
        .await
        .expect("restore");
    assert_eq!((report.workers, report.affected), (workers(&ctx, 2), 100));
}
