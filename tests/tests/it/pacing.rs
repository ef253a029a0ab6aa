//! Bulk work that paces itself, on the backend `DATABASE_URL` names: a throttle consulted before
//! every batch (held batches wait, a throttle that never lets go fails the operation with the
//! rows committed before it, a stop signal ends the wait), the sleep coefficient, a batch size
//! changed while the operation runs, and the built-in throttles' queries on a server that is
//! not a replica.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use sea_orm::{DbBackend, EntityTrait, PaginatorTrait};
use soft_delete_core::prelude::*;
use soft_delete_core::throttle::{
    Check, GaleraFlowControl, MySqlReplicaLag, PostgresReplicaLag, Throttle,
};
use soft_delete_core::{BatchSize, StopSignal};
use soft_delete_tests::context::is_galera;
use soft_delete_tests::entities::user;
use soft_delete_tests::fixtures::{deleted_user_ids, seed_users};
use soft_delete_tests::test_context;

/// Holds every batch from the `from`-th check on, `holds` times (`u64::MAX`: for good),
/// counting its checks.
#[derive(Debug)]
struct Scripted {
    from: u64,
    holds: u64,
    checks: AtomicU64,
    held: AtomicU64,
}

impl Scripted {
    fn new(from: u64, holds: u64) -> Arc<Self> {
        Arc::new(Scripted {
            from,
            holds,
            checks: AtomicU64::new(0),
            held: AtomicU64::new(0),
        })
    }
}

impl Throttle for Scripted {
    fn check(&self) -> BoxFuture<'_, Result<Check, sea_orm::DbErr>> {
        Box::pin(async move {
            let n = self.checks.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= self.from && self.held.load(Ordering::SeqCst) < self.holds {
                self.held.fetch_add(1, Ordering::SeqCst);
                return Ok(Check::hold("the test says wait", Duration::from_millis(20)));
            }
            Ok(Check::Go)
        })
    }
}

async fn deleted(ctx: &soft_delete_tests::TestContext) -> u64 {
    user::Entity::find_deleted()
        .count(&ctx.db)
        .await
        .expect("count deleted users")
}

#[tokio::test]
async fn a_held_batch_waits_and_the_operation_finishes_with_exact_counts() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    // Batches 1 and 2 run; batch 3 is held for 10 checks of 20 ms, then everything runs.
    let throttle = Scripted::new(3, 10);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let progress = Arc::clone(&seen);
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=100_i64)
        .batch_size(20)
        .throttle(throttle.clone())
        .on_progress(move |p| {
            progress
                .lock()
                .expect("progress lock")
                .push((p.batches, p.throttled))
        })
        .await
        .expect("the throttled soft delete");
    assert_eq!((report.affected, report.batches), (100, 5));
    assert_eq!(throttle.held.load(Ordering::SeqCst), 10);
    // One check per batch, plus the ten that held batch 3.
    assert_eq!(throttle.checks.load(Ordering::SeqCst), 15);
    assert!(
        report.throttled >= Duration::from_millis(190) && report.throttled <= report.elapsed,
        "throttled {:?} of {:?}",
        report.throttled,
        report.elapsed
    );
    let seen = seen.lock().expect("progress lock").clone();
    assert_eq!(seen[1], (2, Duration::ZERO), "nothing held before batch 3");
    assert!(
        seen[2].1 >= Duration::from_millis(190),
        "progress shows the hold: {seen:?}"
    );
    assert_eq!(deleted(&ctx).await, 100);
}

#[tokio::test]
async fn a_throttle_that_never_lets_go_fails_with_the_rows_committed_before() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let throttle = Scripted::new(3, u64::MAX);
    let error = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=100_i64)
        .batch_size(20)
        .throttle(throttle)
        .max_throttle_wait(Duration::from_millis(300))
        .await
        .expect_err("the throttle never lets batch 3 run");
    let Error::Bulk {
        partial_count,
        failed_batch,
        attempts,
        source,
        ..
    } = &error
    else {
        panic!("expected Error::Bulk, got {error:?}");
    };
    assert_eq!((*partial_count, *failed_batch, *attempts), (40, 3, 0));
    match source.as_ref() {
        Error::Throttled { waited, reason } => {
            assert!(*waited >= Duration::from_millis(300), "waited {waited:?}");
            assert_eq!(reason, "the test says wait");
        }
        other => panic!("expected Error::Throttled, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("after 40 rows were committed") && message.contains("max_throttle_wait"),
        "{message}"
    );
    assert_eq!(deleted_user_ids(&ctx).await, (1..=40).collect::<Vec<_>>());
}

#[tokio::test]
async fn an_atomic_operation_asks_its_throttle_once_and_changes_nothing_when_held() {
    let ctx = test_context!().await;
    seed_users(&ctx, 60).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let held = Scripted::new(1, u64::MAX);
    let error = manager
        .bulk_soft_delete::<user::Entity, _>(1..=60_i64)
        .batch_size(20)
        .atomic()
        .throttle(held)
        .max_throttle_wait(Duration::from_millis(100))
        .await
        .expect_err("held before the first batch");
    assert_eq!(error.partial_count(), Some(0));
    assert_eq!(deleted(&ctx).await, 0);

    let counting = Scripted::new(u64::MAX, 0);
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=60_i64)
        .batch_size(20)
        .atomic()
        .throttle(counting.clone())
        .await
        .expect("atomic soft delete");
    assert_eq!((report.affected, report.batches), (60, 3));
    assert_eq!(counting.checks.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stop_while_held_ends_the_operation_with_a_report() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    // Batch 1 runs; batch 2 is held, and the third hold gives the stop signal.
    let stop = StopSignal::new();
    let throttle = Arc::new(StopOnHold {
        inner: Scripted::new(2, u64::MAX),
        stop: stop.clone(),
        after: 3,
    });
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete_where::<user::Entity>(sea_orm::sea_query::Condition::all())
        .batch_size(30)
        .throttle(throttle.clone())
        .max_throttle_wait(Duration::from_secs(60))
        .stop_on(stop)
        .await
        .expect("stopped, not failed");
    assert!(report.stopped_early);
    assert_eq!((report.affected, report.batches), (30, 1));
    assert_eq!(report.remaining, Some(70));
    assert_eq!(throttle.inner.held.load(Ordering::SeqCst), 3);
    // Two waits of 20 ms before the third hold; the stop is seen at once after it.
    assert!(
        report.throttled >= Duration::from_millis(40) && report.throttled < Duration::from_secs(5),
        "{:?}",
        report.throttled
    );
    assert_eq!(deleted(&ctx).await, 30);
}

/// Gives `stop` on the `after`-th hold of `inner`.
#[derive(Debug)]
struct StopOnHold {
    inner: Arc<Scripted>,
    stop: StopSignal,
    after: u64,
}

impl Throttle for StopOnHold {
    fn check(&self) -> BoxFuture<'_, Result<Check, sea_orm::DbErr>> {
        Box::pin(async move {
            let check = self.inner.check().await;
            if self.inner.held.load(Ordering::SeqCst) >= self.after {
                self.stop.stop();
            }
            check
        })
    }
}

#[tokio::test]
async fn a_hold_ends_at_the_operations_maximum_duration() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=100_i64)
        .batch_size(30)
        .throttle(Scripted::new(2, u64::MAX))
        .max_throttle_wait(Duration::from_secs(60))
        .max_duration(Duration::from_millis(300))
        .await
        .expect("stopped at the time limit, not failed");
    assert!(report.stopped_early);
    assert_eq!((report.affected, report.batches), (30, 1));
    assert!(
        report.throttled > Duration::ZERO && report.elapsed < Duration::from_secs(5),
        "held {:?} of {:?}",
        report.throttled,
        report.elapsed
    );
    assert_eq!(deleted(&ctx).await, 30);
}

#[tokio::test]
async fn the_batch_size_can_change_while_the_operation_runs() {
    let ctx = test_context!().await;
    seed_users(&ctx, 200).await;
    let size = BatchSize::new(10).expect("a valid size");
    let handle = size.clone();
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&sizes);
    let last = Arc::new(AtomicUsize::new(0));
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete_where::<user::Entity>(sea_orm::sea_query::Condition::all())
        .batch_size_from(size)
        .on_progress(move |p| {
            let before = last.swap(p.affected as usize, Ordering::SeqCst);
            seen.lock()
                .expect("sizes lock")
                .push(p.affected as usize - before);
            if p.batches == 2 {
                handle.set(60).expect("a valid size");
            }
        })
        .await
        .expect("soft delete");
    assert_eq!(report.affected, 200);
    // (The walk's last, empty batch finds that nothing is left.)
    let sizes: Vec<usize> = sizes
        .lock()
        .expect("sizes lock")
        .iter()
        .copied()
        .filter(|&n| n > 0)
        .collect();
    assert_eq!(sizes, vec![10, 10, 60, 60, 60]);
    assert!(matches!(
        BatchSize::new(0),
        Err(Error::InvalidArgument {
            name: "batch_size",
            ..
        })
    ));
    assert_eq!(deleted(&ctx).await, 200);

    // The same by ids, which are taken from the input as each batch starts.
    let size = BatchSize::new(10).expect("a valid size");
    let handle = size.clone();
    let batches = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&batches);
    let last = AtomicUsize::new(0);
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_restore::<user::Entity, _>(1..=200_i64)
        .batch_size_from(size)
        .on_progress(move |p| {
            let before = last.swap(p.affected as usize, Ordering::SeqCst);
            seen.lock()
                .expect("sizes lock")
                .push(p.affected as usize - before);
            if p.batches == 2 {
                handle.set(60).expect("a valid size");
            }
        })
        .await
        .expect("restore");
    assert_eq!(report.affected, 200);
    assert_eq!(
        *batches.lock().expect("sizes lock"),
        vec![10, 10, 60, 60, 60]
    );
    assert_eq!(deleted(&ctx).await, 0);
}

#[tokio::test]
async fn the_sleep_coefficient_pauses_in_proportion_to_each_batch() {
    let ctx = test_context!().await;
    seed_users(&ctx, 3000).await;
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=3000_i64)
        .batch_size(500)
        .sleep_coefficient(2.0)
        .await
        .expect("soft delete");
    assert_eq!(report.affected, 3000);
    // Five pauses of twice their batch's time: about 10/16 of the whole.
    assert!(
        report.paused > report.elapsed / 3 && report.paused < report.elapsed,
        "paused {:?} of {:?}",
        report.paused,
        report.elapsed
    );
    let plain = SoftDeleteManager::new(&ctx.db)
        .bulk_restore::<user::Entity, _>(1..=3000_i64)
        .batch_size(500)
        .await
        .expect("restore");
    assert_eq!((plain.affected, plain.paused), (3000, Duration::ZERO));
}

#[tokio::test]
async fn pacing_options_out_of_range_are_refused_before_anything_is_sent() {
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    for coefficient in [-0.5, f64::NAN, f64::INFINITY, 101.0] {
        let error = manager
            .bulk_soft_delete::<user::Entity, _>(1..=10_i64)
            .sleep_coefficient(coefficient)
            .await
            .expect_err("refused");
        assert!(
            matches!(
                error,
                Error::InvalidArgument {
                    name: "sleep_coefficient",
                    ..
                }
            ),
            "{coefficient}: {error:?}"
        );
    }
    let error = manager
        .bulk_soft_delete::<user::Entity, _>(1..=10_i64)
        .max_throttle_wait(Duration::from_secs(2 * 24 * 60 * 60))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            error,
            Error::InvalidArgument {
                name: "max_throttle_wait",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(deleted(&ctx).await, 0);
}

/// The built-in throttles' queries run on the server `DATABASE_URL` names, which is not a
/// replica: each holds with a reason that says so, and the operation fails naming it with
/// nothing changed.
#[tokio::test]
async fn the_built_in_throttles_hold_on_a_server_that_is_not_a_replica() {
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let galera = is_galera(&ctx.db).await;
    let throttles: Vec<(Arc<dyn Throttle>, &str)> = match ctx.backend {
        DbBackend::Postgres => vec![
            (
                Arc::new(PostgresReplicaLag::on_primary(
                    ctx.db.clone(),
                    Duration::from_secs(1),
                )),
                "0 standby(s) streaming",
            ),
            (
                Arc::new(PostgresReplicaLag::on_replicas(
                    vec![ctx.db.clone()],
                    Duration::from_secs(1),
                )),
                "it is not a replica",
            ),
        ],
        DbBackend::MySql => vec![(
            Arc::new(MySqlReplicaLag::new(
                vec![ctx.db.clone()],
                Duration::from_secs(1),
            )) as Arc<dyn Throttle>,
            "it is not a replica",
        )]
        .into_iter()
        // On a cluster node the Galera throttle lets batches go (tests/tests/cluster.rs).
        .chain((!galera).then(|| {
            (
                Arc::new(GaleraFlowControl::new(vec![ctx.db.clone()])) as Arc<dyn Throttle>,
                "is not a Galera node",
            )
        }))
        .collect(),
        _ => return, // SQLite has no replicas; the throttles above are server-only.
    };
    for (throttle, expected) in throttles {
        let error = SoftDeleteManager::new(&ctx.db)
            .bulk_soft_delete::<user::Entity, _>(1..=10_i64)
            .throttle(throttle)
            .max_throttle_wait(Duration::from_millis(300))
            .await
            .expect_err("held for good");
        assert!(
            error.to_string().contains(expected),
            "expected `{expected}` in: {error}"
        );
        assert_eq!(error.partial_count(), Some(0));
    }
    assert_eq!(deleted(&ctx).await, 0);
}

/// Sizes seen by the progress callback of a soft delete of `paced_rows` `ids`, which starts at
/// `start` rows a batch and aims at `target` a batch, with `workers` workers.
async fn paced_sizes(
    ctx: &soft_delete_tests::TestContext,
    ids: std::ops::RangeInclusive<i64>,
    start: usize,
    target: Duration,
    workers: usize,
) -> (Vec<usize>, soft_delete_core::BulkReport) {
    use soft_delete_tests::entities::paced;
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let seen = sizes.clone();
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<paced::Entity, _>(ids)
        .batch_size(start)
        .target_batch_time(target)
        .parallel(workers)
        .on_progress(move |p| seen.lock().expect("sizes lock").push(p.batch_size))
        .await
        .expect("paced soft delete");
    let sizes = sizes.lock().expect("sizes lock").clone();
    (sizes, report)
}

/// Asserts that the `count` sizes before the last (the last batch holds what is left) are near
/// where batches of `report`'s run settle for `target`. At most half again the rows whose hook
/// time alone fills the target; at least half the rows whose hook time fills what the target
/// leaves after the statements' own time per batch in that run (the report's time, every
/// worker's, less the hook's sleep, over its batches: an average that the first, larger batches
/// raise). On a loaded server (a Galera node under the rest of the suite) the statements take a
/// good part of a 50 ms batch, and the sizes settle below the 500 rows of the hook alone.
fn assert_settled(
    sizes: &[usize],
    count: usize,
    report: &soft_delete_core::BulkReport,
    target: Duration,
) {
    use soft_delete_tests::entities::paced;
    let slept = paced::PER_ROW * report.affected as u32;
    let busy =
        (report.elapsed * report.workers as u32).saturating_sub(report.paused + report.throttled);
    let own = busy.saturating_sub(slept) / report.batches.max(1) as u32;
    let rows = |time: Duration| (time.as_micros() / paced::PER_ROW.as_micros()) as usize;
    let (hook_alone, settled) = (rows(target), rows(target.saturating_sub(own)));
    let near = settled / 2..=hook_alone + hook_alone / 2;
    let ended = &sizes[sizes.len() - 1 - count..sizes.len() - 1];
    assert!(
        ended.iter().all(|s| near.contains(s)),
        "ended at {ended:?} rows, not in {near:?} ({own:?} a batch in statements): {sizes:?}"
    );
}

#[tokio::test]
async fn batches_sized_by_time_grow_and_shrink_toward_the_target() {
    use soft_delete_tests::entities::paced;
    let ctx = test_context!().await;
    ctx.create_table::<paced::Entity>().await;
    let rows = 40_000i64;
    let insert = |first: i64| {
        (first..first + 1000).map(|id| paced::ActiveModel {
            id: sea_orm::Set(id),
            ..Default::default()
        })
    };
    for first in (1..=rows).step_by(1000) {
        paced::Entity::insert_many(insert(first))
            .exec(&ctx.db)
            .await
            .expect("insert paced rows");
    }
    // 50 ms a batch at 100 µs a row: about 500 rows, less the statements' own time.
    let target = Duration::from_millis(50);

    // From 100 rows a batch: doubled while far below the target, then near it.
    let (sizes, report) = paced_sizes(&ctx, 1..=10_000, 100, target, 1).await;
    assert_eq!(report.affected, 10_000);
    // Grown from the first batch on, never more than doubled at a step (the statements' own
    // time, and a loaded machine's, slow the growth below double).
    assert!((101..=200).contains(&sizes[0]), "{sizes:?}");
    assert!(sizes[1] > sizes[0], "{sizes:?}");
    let mut before = 100;
    for &size in &sizes {
        assert!(size <= 2 * before, "more than doubled: {sizes:?}");
        before = size;
    }
    assert_settled(&sizes, 1, &report, target);

    // From 5,000 rows a batch (half a second): halved until near the target.
    let (sizes, report) = paced_sizes(&ctx, 10_001..=30_000, 5000, target, 1).await;
    assert_eq!(report.affected, 20_000);
    assert_eq!(sizes[..3], [2500, 1250, 625], "{sizes:?}");
    assert_settled(&sizes, 3, &report, target);

    // With workers: every batch of every worker steers the one size.
    let (sizes, report) = paced_sizes(&ctx, 30_001..=rows, 100, target, 2).await;
    assert_eq!(report.affected, 10_000);
    let expected = match ctx.backend {
        DbBackend::Sqlite => 1,
        _ => 2,
    };
    assert_eq!(report.workers, expected);
    assert_settled(&sizes, 1, &report, target);

    // Out of range: refused before anything is sent.
    let error = SoftDeleteManager::new(&ctx.db)
        .bulk_restore::<paced::Entity, _>(1..=rows)
        .target_batch_time(Duration::ZERO)
        .await
        .expect_err("zero");
    assert!(
        matches!(
            &error,
            soft_delete_core::Error::InvalidArgument {
                name: "target_batch_time",
                ..
            }
        ),
        "{error:?}"
    );
}
