//! `SoftDeleteManager` on the backend `DATABASE_URL` names: batching, idempotency, failures
//! part-way, atomic mode, retries, timeouts, alerts, progress, purge and statistics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use soft_delete_core::prelude::*;
use soft_delete_core::{AlertSink, BulkAlert, Progress};
use soft_delete_tests::entities::{graded, membership, typed, user};
use soft_delete_tests::fixtures::{
    Fault, HeldLock, deleted_user_ids, fail_users_row, heal_users_row, ids_where, insert_users,
    seed_users, user_names,
};
use soft_delete_tests::{TestContext, test_context};

#[derive(Debug, Default)]
struct Alerts(Mutex<Vec<BulkAlert>>);

impl AlertSink for Alerts {
    fn alert(&self, alert: &BulkAlert) {
        self.0.lock().expect("alerts lock").push(alert.clone());
    }
}

impl Alerts {
    fn taken(&self) -> Vec<BulkAlert> {
        std::mem::take(&mut *self.0.lock().expect("alerts lock"))
    }
}

async fn count_deleted(ctx: &TestContext) -> u64 {
    user::Entity::find_deleted()
        .count(&ctx.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn soft_deletes_in_batches_and_reports() {
    let ctx = test_context!().await;
    seed_users(&ctx, 2500).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=2000i64)
        .deleted_by("admin")
        .reason("Bulk cleanup")
        .batch_size(500)
        .await
        .expect("bulk soft delete");
    assert_eq!(report.operation, OperationKind::SoftDelete);
    assert_eq!(report.table, "users");
    assert_eq!(report.requested, 2000);
    assert_eq!(report.affected, 2000);
    assert_eq!(report.batches, 4);
    assert_eq!(report.retries, 0);
    assert!(report.rate() > 0.0);
    assert!(!report.stopped_early && !report.dry_run);
    assert_eq!(deleted_user_ids(&ctx).await, (1..=2000).collect::<Vec<_>>());

    // One operation, one stamp, and who/why on every row.
    let rows = user::Entity::find_deleted().all(&ctx.db).await.unwrap();
    let first = rows[0].deleted_at.expect("stamped");
    assert!(rows.iter().all(|r| r.deleted_at == Some(first)));
    assert!(
        rows.iter()
            .all(|r| r.deleted_by.as_deref() == Some("admin"))
    );
    assert!(
        rows.iter()
            .all(|r| r.deletion_reason.as_deref() == Some("Bulk cleanup"))
    );

    let stats = manager.get_deletion_stats::<user::Entity>().await.unwrap();
    assert_eq!(
        (stats.total, stats.active, stats.deleted),
        (2500, 500, 2000)
    );
    assert!((stats.deletion_ratio - 0.8).abs() < 1e-12);
}

#[tokio::test]
async fn without_a_batch_size_every_operation_takes_batches_of_1000() {
    // The seed's contract: 1000 rows per batch unless the call or the configuration says.
    let ctx = test_context!().await;
    seed_users(&ctx, 2500).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let by_ids = manager
        .bulk_soft_delete::<user::Entity, _>(1..=2500i64)
        .await
        .unwrap();
    assert_eq!((by_ids.affected, by_ids.batches), (2500, 3));
    let walk = manager
        .bulk_restore_where::<user::Entity>(user::Column::Id.lte(2001))
        .await
        .unwrap();
    // 2001 rows: two full batches and a last one of a single row.
    assert_eq!((walk.affected, walk.batches), (2001, 3));
    let purge = manager
        .purge_where::<user::Entity>(user::Column::Id.gt(0))
        .await
        .unwrap();
    assert_eq!((purge.affected, purge.batches), (499, 1));
    let created = manager
        .bulk_insert_stream::<user::Entity, _>(futures::stream::iter((3001..=5500i64).map(|id| {
            user::ActiveModel {
                id: sea_orm::Set(id),
                name: sea_orm::Set(format!("user-{id}")),
                email: sea_orm::Set(format!("user-{id}@example.com")),
                ..Default::default()
            }
        })))
        .await
        .unwrap();
    assert_eq!((created.affected, created.batches), (2500, 3));
    // The configuration's size, when the call gives none.
    let config = SoftDeleteConfig {
        bulk_operation_batch_size: 700,
        ..SoftDeleteConfig::default()
    };
    let sized = SoftDeleteManager::with_config(&ctx.db, config)
        .bulk_soft_delete::<user::Entity, _>(3001..=5500i64)
        .await
        .unwrap();
    assert_eq!((sized.affected, sized.batches), (2500, 4));
}

#[tokio::test]
async fn empty_ids_send_nothing() {
    let ctx = test_context!().await;
    seed_users(&ctx, 3).await;
    let db = ctx.db.clone();
    db.clone().close().await.expect("close");
    let manager = SoftDeleteManager::new(&db);
    // On a closed connection, any statement (even BEGIN) would fail: these succeed only because
    // nothing is sent.
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(Vec::<i64>::new())
        .await
        .expect("empty soft delete sends nothing");
    assert_eq!(
        (report.requested, report.affected, report.batches),
        (0, 0, 0)
    );
    let report = manager
        .bulk_restore::<user::Entity, _>(Vec::<i64>::new())
        .atomic()
        .await
        .expect("empty atomic restore sends nothing");
    assert_eq!(report.batches, 0);
    // The same call with one id does reach the (closed) database.
    assert!(
        manager
            .bulk_soft_delete::<user::Entity, _>([1i64])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn duplicates_unknown_and_already_deleted_ids_are_not_counted() {
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let report = manager
        .bulk_soft_delete::<user::Entity, _>([1i64, 1, 2, 2, 2, 999, -5, 3])
        .batch_size(3)
        .await
        .unwrap();
    assert_eq!(report.requested, 8);
    assert_eq!(report.affected, 3);
    assert_eq!(report.batches, 3);

    let again = manager
        .bulk_soft_delete::<user::Entity, _>(1..=5i64)
        .await
        .unwrap();
    assert_eq!(again.affected, 2, "only 4 and 5 were still active");
    assert_eq!(deleted_user_ids(&ctx).await, [1, 2, 3, 4, 5]);

    // Restore counts only deleted rows: 6..=10 are active.
    let restored = manager
        .bulk_restore::<user::Entity, _>(vec![4i64, 5, 6, 7, 4])
        .await
        .unwrap();
    assert_eq!((restored.requested, restored.affected), (5, 2));
    assert_eq!(deleted_user_ids(&ctx).await, [1, 2, 3]);
    let cleared = user::Entity::find_by_id(4)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            cleared.deleted_at,
            cleared.deleted_by,
            cleared.deletion_reason
        ),
        (None, None, None)
    );
}

#[tokio::test]
async fn ids_from_a_stream_and_composite_keys() {
    let ctx = test_context!().await;
    seed_users(&ctx, 100).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let ids = futures::stream::iter((1..=100i64).filter(|id| id % 2 == 0));
    let report = manager
        .bulk_soft_delete_stream::<user::Entity, _>(ids)
        .batch_size(7)
        .await
        .unwrap();
    assert_eq!((report.affected, report.batches), (50, 8));
    assert_eq!(
        deleted_user_ids(&ctx).await,
        (1..=100).filter(|id| id % 2 == 0).collect::<Vec<_>>()
    );

    ctx.create_table::<membership::Entity>().await;
    let rows: Vec<membership::ActiveModel> = (1..=3)
        .flat_map(|org| {
            (1..=4).map(move |user| membership::ActiveModel {
                org_id: sea_orm::Set(org),
                user_id: sea_orm::Set(user),
                role: sea_orm::Set("member".into()),
                ..Default::default()
            })
        })
        .collect();
    membership::Entity::insert_many(rows)
        .exec_without_returning(&ctx.db)
        .await
        .unwrap();
    let report = manager
        .bulk_soft_delete::<membership::Entity, _>([(1, 1i64), (2, 2), (3, 3), (3, 3), (9, 9)])
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!(report.affected, 3);
    let restored = manager
        .bulk_restore::<membership::Entity, _>([(2, 2i64)])
        .await
        .unwrap();
    assert_eq!(restored.affected, 1);
    assert_eq!(
        membership::Entity::find_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn a_failed_batch_reports_exactly_what_was_committed_and_a_rerun_finishes() {
    let ctx = test_context!().await;
    seed_users(&ctx, 1000).await;
    // Batches of 100 over 1..=1000: id 350 sits in batch 4.
    fail_users_row(&ctx, 350, Fault::Update).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let error = manager
        .bulk_soft_delete::<user::Entity, _>(1..=1000i64)
        .batch_size(100)
        .await
        .expect_err("batch 4 fails");
    match &error {
        Error::Bulk {
            operation,
            failed_batch,
            partial_count,
            attempts,
            ..
        } => {
            assert_eq!(*operation, OperationKind::SoftDelete);
            assert_eq!(*failed_batch, 4);
            assert_eq!(*partial_count, 300);
            assert_eq!(*attempts, 1, "a trigger error is not transient");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(error.partial_count(), Some(300));
    assert!(error.to_string().contains("batch 4"), "{error}");
    assert!(error.to_string().contains("injected failure"), "{error}");
    // Exactly the committed batches are deleted: nothing of batch 4.
    assert_eq!(deleted_user_ids(&ctx).await, (1..=300).collect::<Vec<_>>());

    heal_users_row(&ctx, 350).await;
    let rerun = manager
        .bulk_soft_delete::<user::Entity, _>(1..=1000i64)
        .batch_size(100)
        .await
        .unwrap();
    assert_eq!(rerun.affected, 700, "the rerun counts only what it changed");
    assert_eq!(count_deleted(&ctx).await, 1000);
}

#[tokio::test]
async fn atomic_runs_all_or_nothing() {
    let ctx = test_context!().await;
    seed_users(&ctx, 500).await;
    fail_users_row(&ctx, 450, Fault::Update).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let error = manager
        .bulk_soft_delete::<user::Entity, _>(1..=500i64)
        .batch_size(100)
        .atomic()
        .await
        .expect_err("the last batch fails");
    assert_eq!(error.partial_count(), Some(0));
    assert!(
        matches!(
            error,
            Error::Bulk {
                failed_batch: 5,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(count_deleted(&ctx).await, 0, "everything was rolled back");

    heal_users_row(&ctx, 450).await;
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=500i64)
        .batch_size(100)
        .atomic()
        .await
        .unwrap();
    assert_eq!((report.affected, report.batches), (500, 5));
    assert_eq!(count_deleted(&ctx).await, 500);
}

#[tokio::test]
async fn works_inside_the_callers_transaction() {
    let ctx = test_context!().await;
    seed_users(&ctx, 50).await;
    let txn = ctx.db.begin().await.unwrap();
    let report = SoftDeleteManager::new(&txn)
        .bulk_soft_delete::<user::Entity, _>(1..=50i64)
        .batch_size(10)
        .await
        .unwrap();
    assert_eq!(report.affected, 50);
    assert_eq!(user::Entity::find_deleted().count(&txn).await.unwrap(), 50);
    txn.rollback().await.unwrap();
    assert_eq!(count_deleted(&ctx).await, 0, "the caller's rollback wins");

    let txn = ctx.db.begin().await.unwrap();
    SoftDeleteManager::new(&txn)
        .bulk_soft_delete::<user::Entity, _>(1..=20i64)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(count_deleted(&ctx).await, 20);
}

#[tokio::test]
async fn required_who_and_why_are_checked_before_anything_is_written() {
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let config = SoftDeleteConfig {
        require_deleted_by: true,
        require_deletion_reason: true,
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&ctx.db, config);
    let missing_who = manager
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .reason("spam")
        .await
        .unwrap_err();
    assert!(
        matches!(
            missing_who,
            Error::MissingRequired {
                field: "deleted_by",
                ..
            }
        ),
        "{missing_who:?}"
    );
    let blank_who = manager
        .bulk_soft_delete_where::<user::Entity>(user::Column::Id.lte(5))
        .deleted_by("   ")
        .reason("spam")
        .await
        .unwrap_err();
    assert!(matches!(
        blank_who,
        Error::MissingRequired {
            field: "deleted_by",
            ..
        }
    ));
    let missing_why = manager
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .deleted_by("admin")
        .await
        .unwrap_err();
    assert!(
        matches!(
            missing_why,
            Error::MissingRequired {
                setting: "require_deletion_reason",
                ..
            }
        ),
        "{missing_why:?}"
    );
    assert_eq!(count_deleted(&ctx).await, 0);

    let ok = manager
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .deleted_by("admin")
        .reason("spam")
        .await
        .unwrap();
    assert_eq!(ok.affected, 10);
}

#[tokio::test]
async fn bad_batch_sizes_are_rejected_before_anything_is_written() {
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let error = manager
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .batch_size(0)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidArgument {
                name: "batch_size",
                ..
            }
        ),
        "{error:?}"
    );
    let zero_config = SoftDeleteConfig {
        bulk_operation_batch_size: 0,
        ..SoftDeleteConfig::default()
    };
    let error = SoftDeleteManager::with_config(&ctx.db, zero_config)
        .hard_delete_before::<user::Entity>(Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Config { .. }), "{error:?}");
    assert_eq!(count_deleted(&ctx).await, 0);
}

#[tokio::test]
async fn alerts_fire_once_at_the_threshold_and_not_below() {
    let ctx = test_context!().await;
    seed_users(&ctx, 300).await;
    let alerts = Arc::new(Alerts::default());
    let config = SoftDeleteConfig {
        bulk_operation_alert_threshold: 100,
        ..SoftDeleteConfig::default()
    };
    let manager =
        SoftDeleteManager::with_config(&ctx.db, config.clone()).with_alert_sink(alerts.clone());

    // Below the threshold: nothing.
    manager
        .bulk_soft_delete::<user::Entity, _>(1..=99i64)
        .batch_size(10)
        .await
        .unwrap();
    assert_eq!(alerts.taken(), []);

    // Size known up front and at the threshold: one alert before the work.
    manager
        .bulk_restore::<user::Entity, _>(1..=100i64)
        .batch_size(10)
        .await
        .unwrap();
    assert_eq!(
        alerts.taken(),
        [BulkAlert {
            operation: OperationKind::Restore,
            table: "users".into(),
            rows: 100,
            threshold: 100,
            known_up_front: true,
        }]
    );

    // Size unknown (a filtered iterator): one alert when crossed, none after.
    manager
        .bulk_soft_delete::<user::Entity, _>((1..=300i64).filter(|_| true))
        .batch_size(30)
        .await
        .unwrap();
    let crossed = alerts.taken();
    assert_eq!(crossed.len(), 1, "{crossed:?}");
    assert!(!crossed[0].known_up_front);
    assert_eq!(
        crossed[0].rows, 120,
        "the first batch boundary at or past 100"
    );

    // Turned off: nothing.
    let quiet = SoftDeleteManager::with_config(
        &ctx.db,
        SoftDeleteConfig {
            alert_on_bulk_operations: false,
            ..config
        },
    )
    .with_alert_sink(alerts.clone());
    quiet
        .bulk_restore::<user::Entity, _>(1..=300i64)
        .await
        .unwrap();
    assert_eq!(alerts.taken(), []);
}

#[tokio::test]
async fn progress_is_reported_once_per_batch() {
    let ctx = test_context!().await;
    seed_users(&ctx, 250).await;
    let seen: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(1..=250i64)
        .batch_size(100)
        .on_progress(|p| seen.lock().unwrap().push(p.clone()))
        .await
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.len() as u64, report.batches);
    assert_eq!(
        seen.iter()
            .map(|p| (p.batches, p.processed, p.affected))
            .collect::<Vec<_>>(),
        [(1, 100, 100), (2, 200, 200), (3, 250, 250)]
    );
    assert!(
        seen.iter()
            .all(|p| p.total == Some(250) && p.operation == OperationKind::SoftDelete)
    );
}

#[tokio::test]
async fn soft_delete_and_restore_by_condition_walk_the_table() {
    let ctx = test_context!().await;
    seed_users(&ctx, 1000).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let report = manager
        .bulk_soft_delete_where::<user::Entity>(
            user::Column::Id.gt(100).and(user::Column::Id.lte(800)),
        )
        .deleted_by("sweeper")
        .batch_size(64)
        .await
        .unwrap();
    assert_eq!(report.affected, 700);
    assert_eq!(report.batches, 11, "ceil(700 / 64)");
    assert_eq!(report.operation, OperationKind::SoftDelete);
    assert_eq!(
        deleted_user_ids(&ctx).await,
        (101..=800).collect::<Vec<_>>()
    );

    // Already deleted rows are skipped: only 801..=900 change.
    let more = manager
        .bulk_soft_delete_where::<user::Entity>(
            user::Column::Id.gt(700).and(user::Column::Id.lte(900)),
        )
        .batch_size(64)
        .await
        .unwrap();
    assert_eq!(more.affected, 100);

    let restored = manager
        .bulk_restore_where::<user::Entity>(user::Column::Name.like("user-1%"))
        .batch_size(50)
        .await
        .unwrap();
    // user-1xx (101..=199), user-1000 is active, user-1 and user-1x were never deleted.
    assert_eq!(restored.affected, 99);
    assert_eq!(count_deleted(&ctx).await, 800 - 99);
}

#[tokio::test]
async fn purge_removes_only_rows_deleted_before_the_cutoff() {
    let ctx = test_context!().await;
    seed_users(&ctx, 1000).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let old = Utc::now() - chrono::Duration::days(40);
    let recent = Utc::now() - chrono::Duration::days(1);
    // Old deletions on even ids below 700, recent ones on odd ids below 300; the rest active.
    manager
        .bulk_soft_delete::<user::Entity, _>((2..700i64).step_by(2))
        .at(old)
        .await
        .unwrap();
    manager
        .bulk_soft_delete::<user::Entity, _>((1..300i64).step_by(2))
        .at(recent)
        .await
        .unwrap();

    let cutoff = Utc::now() - chrono::Duration::days(30);
    let preview = manager
        .hard_delete_before::<user::Entity>(cutoff)
        .dry_run()
        .await
        .unwrap();
    assert!(preview.dry_run);
    assert_eq!(preview.affected, 349);
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        1000,
        "a dry run deletes nothing"
    );

    let report = manager
        .hard_delete_before::<user::Entity>(cutoff)
        .batch_size(40)
        .await
        .unwrap();
    assert_eq!(report.affected, 349);
    assert_eq!(report.batches, 9, "ceil(349 / 40)");
    assert_eq!(report.operation, OperationKind::Purge);
    assert!(ids_where(&ctx, "id < 700 AND id % 2 = 0").await.is_empty());
    assert_eq!(ids_where(&ctx, "deleted_at IS NOT NULL").await.len(), 150);

    // A cutoff in the future still never touches an active row.
    let everything = manager
        .hard_delete_before::<user::Entity>(Utc::now() + chrono::Duration::days(3650))
        .batch_size(33)
        .await
        .unwrap();
    assert_eq!(everything.affected, 150);
    let left = user::Entity::find_with_deleted()
        .count(&ctx.db)
        .await
        .unwrap();
    assert_eq!(left, 1000 - 349 - 150);
    assert_eq!(
        user::Entity::find_active().count(&ctx.db).await.unwrap(),
        left
    );
}

#[tokio::test]
async fn purge_with_a_filter_and_at_sub_second_cutoffs() {
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    // Whole microseconds, as every backend stores them, so that id 4 is exactly at the cutoff.
    let t0 = chrono::DateTime::from_timestamp_micros(
        (Utc::now() - chrono::Duration::hours(1)).timestamp_micros(),
    )
    .unwrap();
    for (id, micros) in [
        (1i64, 0),
        (2, 250_000),
        (3, 500_000),
        (4, 500_001),
        (5, 999_999),
    ] {
        manager
            .bulk_soft_delete::<user::Entity, _>([id])
            .at(t0 + chrono::Duration::microseconds(micros))
            .await
            .unwrap();
    }
    let cutoff = t0 + chrono::Duration::microseconds(500_001);
    let report = manager
        .hard_delete_before::<user::Entity>(cutoff)
        .filter(user::Column::Id.ne(2))
        .batch_size(1)
        .await
        .unwrap();
    assert_eq!(
        report.affected, 2,
        "ids 1 and 3; 2 is filtered out, 4 is at the cutoff"
    );
    assert_eq!(ids_where(&ctx, "id <= 5").await, [2, 4, 5]);
}

#[tokio::test]
async fn max_duration_stops_between_batches_and_reports_what_is_left() {
    let ctx = test_context!().await;
    seed_users(&ctx, 200).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_soft_delete::<user::Entity, _>(1..=200i64)
        .await
        .unwrap();
    let report = manager
        .hard_delete_before::<user::Entity>(Utc::now() + chrono::Duration::seconds(1))
        .batch_size(10)
        .pause_between_batches(Duration::from_millis(60))
        .max_duration(Duration::from_millis(150))
        .await
        .unwrap();
    assert!(report.stopped_early);
    assert!(report.batches >= 1 && report.batches < 20, "{report}");
    assert_eq!(report.affected, report.batches * 10, "whole batches only");
    assert_eq!(report.remaining, Some(200 - report.affected));
    let left = user::Entity::find_with_deleted()
        .count(&ctx.db)
        .await
        .unwrap();
    assert_eq!(left, 200 - report.affected);

    let rest = manager
        .hard_delete_before::<user::Entity>(Utc::now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    assert!(!rest.stopped_early);
    assert_eq!(rest.affected + report.affected, 200);
}

#[tokio::test]
async fn stats_of_an_empty_table_are_zero_not_nan() {
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    let stats = SoftDeleteManager::new(&ctx.db)
        .get_deletion_stats::<user::Entity>()
        .await
        .unwrap();
    assert_eq!((stats.total, stats.active, stats.deleted), (0, 0, 0));
    assert_eq!(stats.deletion_ratio, 0.0);
    assert!(!stats.deletion_ratio.is_nan());
}

#[tokio::test]
async fn dropping_the_future_keeps_whole_batches_only() {
    let ctx = test_context!().await;
    seed_users(&ctx, 1000).await;
    let batches = AtomicU64::new(0);
    let manager = SoftDeleteManager::new(&ctx.db);
    let operation = manager
        .bulk_soft_delete::<user::Entity, _>(1..=1000i64)
        .batch_size(50)
        .pause_between_batches(Duration::from_millis(40))
        .on_progress(|p| batches.store(p.batches, Ordering::SeqCst));
    // Drop the future once two batches have been reported: during the pause or the third
    // batch, however slow the machine is (a wall-clock timeout could fire inside batch one).
    let two_batches_reported = async {
        while batches.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    tokio::select! {
        report = operation.into_future() => panic!("the operation was not cancelled: {report:?}"),
        () = two_batches_reported => {}
    }
    let deleted = count_deleted(&ctx).await;
    assert!(deleted > 0 && deleted < 1000, "{deleted}");
    assert_eq!(deleted % 50, 0, "no half batch: {deleted}");
    assert_eq!(deleted / 50, batches.load(Ordering::SeqCst));
    // The connection is usable afterwards and a rerun finishes the job.
    let rest = manager
        .bulk_soft_delete::<user::Entity, _>(1..=1000i64)
        .batch_size(50)
        .await
        .unwrap();
    assert_eq!(rest.affected + deleted, 1000);
}

#[tokio::test]
async fn transient_lock_errors_are_retried() {
    let ctx = test_context!(shared).await;
    seed_users(&ctx, 100).await;
    // Without a time limit of the operation's own, a lock held longer than the connection
    // waits is a transient error: SQLite's busy (the pool's 100 ms busy timeout), PostgreSQL's
    // lock_not_available (a 100 ms lock_timeout on the connection) and MariaDB's lock wait
    // timeout (1 s, its shortest). One connection, so that the setting holds for every batch.
    let db = soft_delete_tests::context::connect(ctx.url.clone(), 1).await;
    let hold = match ctx.backend {
        sea_orm::DbBackend::Postgres => {
            ctx_exec(&db, "SET lock_timeout = '100ms'").await;
            Duration::from_millis(600)
        }
        sea_orm::DbBackend::MySql => {
            ctx_exec(&db, "SET SESSION innodb_lock_wait_timeout = 1").await;
            Duration::from_millis(2500)
        }
        _ => Duration::from_millis(400),
    };
    let lock = HeldLock::take(&ctx, 60).await;
    let release = lock.release_after(hold);
    let config = SoftDeleteConfig {
        retry_attempts: 10,
        retry_delay: Duration::from_millis(50),
        query_timeout: None,
        ..SoftDeleteConfig::default()
    };
    let report = SoftDeleteManager::with_config(&db, config)
        .bulk_soft_delete::<user::Entity, _>(1..=100i64)
        .batch_size(25)
        .await
        .expect("retried until the lock was released");
    release.await.unwrap();
    assert_eq!(report.affected, 100);
    assert!(
        report.retries >= 1,
        "the held lock failed a batch, which was retried: {report:?}"
    );
}

/// Runs a statement that must succeed on `db`.
async fn ctx_exec(db: &sea_orm::DatabaseConnection, sql: &str) {
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(sql).await.unwrap();
}

#[tokio::test]
async fn a_lock_held_within_the_time_limit_is_waited_for() {
    // With a time limit, every backend waits for a lock up to it (SQLite through its busy
    // timeout, which each batch sets to the limit), whatever the connection's own setting.
    let ctx = test_context!(shared).await;
    seed_users(&ctx, 100).await;
    let lock = HeldLock::take(&ctx, 60).await;
    let release = lock.release_after(Duration::from_millis(400));
    let config = SoftDeleteConfig {
        retry_attempts: 0,
        query_timeout: Some(Duration::from_secs(20)),
        ..SoftDeleteConfig::default()
    };
    let report = SoftDeleteManager::with_config(&ctx.db, config)
        .bulk_soft_delete::<user::Entity, _>(1..=100i64)
        .batch_size(25)
        .await
        .expect("waited for the lock");
    release.await.unwrap();
    assert_eq!((report.affected, report.retries), (100, 0));
}

#[tokio::test]
async fn a_batch_that_outlives_the_timeout_is_rolled_back() {
    let ctx = test_context!(shared).await;
    seed_users(&ctx, 100).await;
    let lock = HeldLock::take(&ctx, 60).await;
    // A connection that waits for locks longer than the batch may run, so that the batch is
    // stopped by the timeout rather than by a lock error.
    let patient = soft_delete_tests::context::connect_with_busy_timeout(
        ctx.url.clone(),
        2,
        Duration::from_secs(10),
    )
    .await;
    let config = SoftDeleteConfig {
        query_timeout: Some(Duration::from_secs(1)),
        ..SoftDeleteConfig::default()
    };
    let started = std::time::Instant::now();
    let error = SoftDeleteManager::with_config(&patient, config)
        .bulk_soft_delete::<user::Entity, _>(1..=100i64)
        .batch_size(25)
        .await
        .expect_err("a batch waits on the lock past the timeout");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // PostgreSQL locks the row, so batch 3 (ids 51..=75) waits; SQLite locks the whole
    // database, so batch 1 does. InnoDB locks the rows an UPDATE scans, which on a table this
    // small may be all of them: any batch up to the third may be the one that waits.
    let (failed, committed) = match &error {
        Error::Bulk {
            failed_batch,
            partial_count,
            attempts,
            source,
            ..
        } => {
            assert_eq!(*attempts, 1, "a timeout is not retried");
            assert!(matches!(**source, Error::Timeout(_)), "{source:?}");
            (*failed_batch, *partial_count)
        }
        other => panic!("unexpected {other:?}"),
    };
    match ctx.backend {
        sea_orm::DbBackend::Sqlite => assert_eq!(failed, 1),
        sea_orm::DbBackend::Postgres => assert_eq!(failed, 3),
        _ => assert!((1..=3).contains(&failed), "{failed}"),
    }
    assert_eq!(
        committed,
        (failed - 1) * 25,
        "exactly the batches before it"
    );
    lock.release_after(Duration::ZERO).await.unwrap();
    assert_eq!(
        deleted_user_ids(&ctx).await,
        (1..=committed as i64).collect::<Vec<_>>()
    );
    // The timed-out batch left nothing behind, and the connection still works.
    let rest = SoftDeleteManager::new(&patient)
        .bulk_soft_delete::<user::Entity, _>(1..=100i64)
        .await
        .unwrap();
    assert_eq!(rest.affected, 100 - committed);
}

#[tokio::test]
async fn purge_failure_part_way_keeps_committed_batches() {
    let ctx = test_context!().await;
    seed_users(&ctx, 300).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_soft_delete::<user::Entity, _>(1..=300i64)
        .at(Utc::now() - chrono::Duration::days(10))
        .await
        .unwrap();
    fail_users_row(&ctx, 150, Fault::Delete).await;
    let cutoff = Utc::now() - chrono::Duration::days(5);
    let error = manager
        .hard_delete_before::<user::Entity>(cutoff)
        .batch_size(50)
        .await
        .unwrap_err();
    assert_eq!(error.partial_count(), Some(100));
    assert!(
        matches!(
            error,
            Error::Bulk {
                failed_batch: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        ids_where(&ctx, "1 = 1").await,
        (101..=300).collect::<Vec<_>>()
    );
    heal_users_row(&ctx, 150).await;
    let rest = manager
        .hard_delete_before::<user::Entity>(cutoff)
        .batch_size(50)
        .await
        .unwrap();
    assert_eq!(rest.affected, 200);
}

#[tokio::test]
async fn large_batches_and_ids_beyond_the_bind_limit() {
    let ctx = test_context!().await;
    seed_users(&ctx, 70_000).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    // One batch of 70 000 ids: more binds than any backend takes in one statement.
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=70_000i64)
        .batch_size(70_000)
        .await
        .unwrap();
    assert_eq!((report.affected, report.batches), (70_000, 1));
    let report = manager
        .bulk_restore::<user::Entity, _>(1..=70_000i64)
        .batch_size(70_000)
        .await
        .unwrap();
    assert_eq!(report.affected, 70_000);
    let without_any = SoftDeleteManager::with_config(
        &ctx.db,
        SoftDeleteConfig {
            enable_query_optimization: false,
            ..SoftDeleteConfig::default()
        },
    );
    let report = without_any
        .bulk_soft_delete::<user::Entity, _>(1..=70_000i64)
        .batch_size(70_000)
        .await
        .unwrap();
    assert_eq!(report.affected, 70_000);
    assert_eq!(
        user::Entity::find_deleted()
            .filter(user::Column::DeletedBy.is_null())
            .count(&ctx.db)
            .await
            .unwrap(),
        70_000
    );
}

#[test]
fn operation_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let _ = |db: &sea_orm::DatabaseConnection| {
        let manager = SoftDeleteManager::new(db);
        assert_send(
            &manager
                .bulk_soft_delete::<user::Entity, _>(1..=10i64)
                .into_future(),
        );
        assert_send(
            &manager
                .bulk_restore::<user::Entity, _>(vec![1i64])
                .into_future(),
        );
        assert_send(
            &manager
                .bulk_soft_delete_where::<user::Entity>(user::Column::Id.gt(1))
                .into_future(),
        );
        assert_send(
            &manager
                .hard_delete_before::<user::Entity>(Utc::now())
                .into_future(),
        );
        assert_send(&manager.get_deletion_stats::<user::Entity>());
    };
}

#[tokio::test]
async fn insert_helper_keeps_ids() {
    // The fixture the other tests rely on: explicit ids, all active.
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    insert_users(&ctx, [5, 7, 9]).await;
    assert_eq!(ids_where(&ctx, "deleted_at IS NULL").await, [5, 7, 9]);
}

/// A row of `typed_rows` for `i`: every third leaves the nullable columns NULL.
fn typed_row(i: i64, id: Option<i64>) -> typed::ActiveModel {
    use sea_orm::ActiveValue::{NotSet, Set};
    let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(i as u64);
    let at = day.and_hms_opt(12, (i % 60) as u32, 7).unwrap();
    let some = i % 3 != 0;
    typed::ActiveModel {
        id: id.map_or(NotSet, Set),
        flag: Set(i % 2 == 0),
        small: Set((i % 300) as i16 - 150),
        count: Set(i as i32 * 7),
        ratio: Set(i as f64 / 4.0),
        label: Set(format!("label {i} — ünïcode")),
        blob: Set(vec![(i % 256) as u8, 0, 255]),
        day: Set(day),
        at: Set(at),
        maybe_count: Set(some.then_some(i as i32)),
        maybe_label: Set(some.then(|| format!("maybe {i}"))),
        maybe_day: Set(some.then_some(day)),
        maybe_at: Set(some.then(|| at.and_utc())),
        ..Default::default()
    }
}

#[tokio::test]
async fn bulk_create_returns_each_model_as_seaorm_reads_it_back() {
    // The created models are read from the rows the database returns by position (not through
    // SeaORM's `FromQueryResult`): every type, NULL and not, must come back as SeaORM reads it.
    let ctx = test_context!().await;
    ctx.create_table::<typed::Entity>().await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let generated = manager
        .bulk_create::<typed::Entity, _>((0..300).map(|i| typed_row(i, None)))
        .batch_size(128)
        .await
        .expect("bulk create with generated keys");
    let given = manager
        .bulk_create::<typed::Entity, _>((1000..1050).map(|i| typed_row(i, Some(i))))
        .batch_size(32)
        .await
        .expect("bulk create with given keys");
    assert_eq!(generated.len(), 300);
    assert_eq!(given.len(), 50);
    assert!(generated.iter().any(|m| m.maybe_at.is_none()));
    assert!(generated.iter().any(|m| m.maybe_at.is_some()));
    let created: Vec<typed::Model> = generated.iter().chain(given.iter()).cloned().collect();
    let stored = typed::Entity::find()
        .order_by_asc(typed::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    assert_eq!(created, stored);
}

#[tokio::test]
async fn bulk_create_returns_the_rows_of_a_table_with_a_native_enum() {
    // A native enum column is read and written through casts, so its rows come back through
    // SeaORM's statements; batches that leave it unset in every row, set it in some, or give
    // their keys must all return what the table holds, through the manager and the service.
    use sea_orm::ActiveValue::{NotSet, Set};
    // Given keys far above the generated ones: Galera steps them by its node count.
    let ctx = test_context!().await;
    if let Some(grade) =
        sea_orm::Schema::new(ctx.backend).create_enum_from_active_enum::<graded::Grade>()
    {
        sea_orm::ConnectionTrait::execute(&ctx.db, &grade)
            .await
            .expect("create type grade");
    }
    ctx.create_table::<graded::Entity>().await;
    let row = |i: i64, id: Option<i64>, grade: Option<Option<graded::Grade>>| graded::ActiveModel {
        id: id.map_or(NotSet, Set),
        name: Set(format!("row {i}")),
        grade: grade.map_or(NotSet, Set),
        ..Default::default()
    };
    let manager = SoftDeleteManager::new(&ctx.db);
    let mut created = manager
        .bulk_create::<graded::Entity, _>((0..20).map(|i| row(i, None, None)))
        .batch_size(8)
        .await
        .expect("bulk create leaving the enum unset")
        .models;
    assert_eq!(created.len(), 20);
    assert!(created.iter().all(|m| m.grade.is_none()));
    let grade = |i: i64| match i % 3 {
        0 => None,
        1 => Some(Some(graded::Grade::High)),
        _ => Some(Some(graded::Grade::Low)),
    };
    created.extend(
        manager
            .bulk_create::<graded::Entity, _>((20..40).map(|i| row(i, None, grade(i))))
            .batch_size(8)
            .await
            .expect("bulk create setting the enum in some rows")
            .models,
    );
    let service = BaseService::<graded::Entity, _>::new(&ctx.db);
    created.extend(
        service
            .bulk_create((10_000..10_010).map(|i| row(i, Some(i), None)))
            .batch_size(4)
            .await
            .expect("bulk create with given keys through the service")
            .models,
    );
    assert_eq!(created.len(), 50);
    assert!(created.iter().any(|m| m.grade == Some(graded::Grade::High)));
    let stored = graded::Entity::find()
        .order_by_asc(graded::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    assert_eq!(created, stored);
    // A bulk insert (nothing read back) of rows that set the enum in some rows only.
    let inserted = manager
        .bulk_insert_stream::<graded::Entity, _>(futures::stream::iter(
            (20_000..20_030).map(|i| row(i, Some(i), grade(i))),
        ))
        .batch_size(16)
        .await
        .expect("bulk insert setting the enum in some rows");
    assert_eq!(inserted.affected, 30);
    let stored = graded::Entity::find()
        .filter(graded::Column::Id.gte(20_000))
        .order_by_asc(graded::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    let grades: Vec<(i64, Option<graded::Grade>)> =
        stored.iter().map(|m| (m.id, m.grade)).collect();
    let wanted: Vec<(i64, Option<graded::Grade>)> =
        (20_000..20_030).map(|i| (i, grade(i).flatten())).collect();
    assert_eq!(grades, wanted);
}

#[tokio::test]
async fn bulk_insert_reads_its_stream_at_most_one_batch_ahead() {
    // While a batch runs, the next one's rows are read from the stream and its values taken.
    // Batches sized by time change size after each batch, so the values taken ahead are then for
    // a size the next batch no longer has: they must be left, and the rows still go in once.
    use std::sync::atomic::AtomicUsize;
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    let pulled = Arc::new(AtomicUsize::new(0));
    let rows = {
        let pulled = Arc::clone(&pulled);
        futures::stream::iter((0..2000).map(move |i| {
            pulled.fetch_add(1, Ordering::SeqCst);
            user::ActiveModel {
                name: sea_orm::Set(format!("n{i}")),
                email: sea_orm::Set(format!("n{i}@example.com")),
                ..Default::default()
            }
        }))
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let report = {
        let seen = Arc::clone(&seen);
        let pulled = Arc::clone(&pulled);
        SoftDeleteManager::new(&ctx.db)
            .bulk_insert_stream::<user::Entity, _>(rows)
            .batch_size(400)
            .target_batch_time(Duration::from_millis(1))
            .on_progress(move |p: &Progress| {
                seen.lock()
                    .unwrap()
                    .push((p.processed, pulled.load(Ordering::SeqCst)));
            })
            .await
            .unwrap()
    };
    assert_eq!(report.affected, 2000);
    let seen = seen.lock().unwrap().clone();
    let mut before = 0;
    let mut sizes = Vec::new();
    for &(processed, pulled) in &seen {
        let size = processed - before;
        before = processed;
        sizes.push(size);
        assert!(
            pulled as u64 <= processed + size + 1,
            "{pulled} rows read from the stream after {processed} inserted in batches of {size}"
        );
    }
    // The last batch is what is left; the ones before it were sized by their time.
    assert!(
        sizes[..sizes.len() - 1].windows(2).any(|w| w[0] != w[1]),
        "sizes {sizes:?}"
    );
    let names = user_names(user::Entity::find(), &ctx).await;
    assert_eq!(
        names,
        (0..2000).map(|i| format!("n{i}")).collect::<Vec<_>>()
    );
    // bulk_create through the same sizes: every model once, in input order.
    let created = SoftDeleteManager::new(&ctx.db)
        .bulk_create::<user::Entity, _>((0..1000).map(|i| user::ActiveModel {
            name: sea_orm::Set(format!("c{i}")),
            email: sea_orm::Set(format!("c{i}@example.com")),
            ..Default::default()
        }))
        .batch_size(400)
        .target_batch_time(Duration::from_millis(1))
        .await
        .unwrap();
    let names: Vec<String> = created.iter().map(|u| u.name.clone()).collect();
    assert_eq!(
        names,
        (0..1000).map(|i| format!("c{i}")).collect::<Vec<_>>()
    );
    assert!(created.windows(2).all(|w| w[0].id < w[1].id));
}
