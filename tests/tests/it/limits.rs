//! Inputs at and past the edges, on the backend `DATABASE_URL` names: timestamps every backend
//! must store and compare exactly or refuse, batch sizes and durations that must be refused with
//! an error naming them (never a panic or an abort), and the data left as it was.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{DbBackend, EntityTrait, PaginatorTrait, Set};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::user;
use soft_delete_tests::fixtures::{deleted_user_ids, seed_users};
use soft_delete_tests::test_context;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid")
        + chrono::Duration::microseconds(i64::from(micros))
}

/// Whether `backend` stores `t` exactly (the ranges `timestamp_range` documents).
fn storable(backend: DbBackend, t: DateTime<Utc>) -> bool {
    match backend {
        DbBackend::MySql => t >= at(1000, 1, 1, 0, 0, 0, 0) && t < at(10000, 1, 1, 0, 0, 0, 0),
        DbBackend::Sqlite => t >= at(0, 1, 1, 0, 0, 0, 0) && t < at(10000, 1, 1, 0, 0, 0, 0),
        _ => t >= at(-4712, 1, 1, 0, 0, 0, 0),
    }
}

fn is_invalid(error: &Error, argument: &str) -> bool {
    matches!(error, Error::InvalidArgument { name, .. } if *name == argument)
}

#[tokio::test]
async fn far_timestamps_are_stored_and_compared_exactly_or_refused() {
    let ctx = test_context!().await;
    seed_users(&ctx, 20).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let stamps = [
        at(1969, 12, 31, 23, 59, 59, 999_999),
        at(1970, 1, 1, 0, 0, 0, 0),
        at(2038, 1, 19, 3, 14, 8, 0),
        at(2038, 1, 20, 0, 0, 0, 123_456),
        at(2040, 1, 1, 0, 0, 0, 0),
        at(9999, 12, 31, 23, 59, 59, 999_999),
        at(1000, 1, 1, 0, 0, 0, 0),
        at(999, 12, 31, 23, 59, 59, 0),
        at(1, 1, 1, 0, 0, 0, 0),
        at(10000, 1, 1, 0, 0, 0, 0),
        DateTime::<Utc>::MAX_UTC,
        DateTime::<Utc>::MIN_UTC,
    ];
    for (i, stamp) in stamps.into_iter().enumerate() {
        let id = i as i64 + 1;
        // Whole microseconds: MAX_UTC has nanoseconds the crate truncates.
        let stored = DateTime::from_timestamp_micros(stamp.timestamp_micros()).unwrap_or(stamp);
        let result = manager
            .bulk_soft_delete::<user::Entity, _>([id])
            .at(stamp)
            .await;
        if !storable(ctx.backend, stored) {
            let error = result.expect_err(&format!("{stamp} is refused"));
            assert!(is_invalid(&error, "at"), "{stamp}: {error}");
            assert!(error.to_string().contains("out of range"), "{error}");
            let row = user::Entity::find_by_id(id)
                .one(&ctx.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.deleted_at, None, "{stamp}: nothing written");
            continue;
        }
        assert_eq!(result.expect("stored").affected, 1, "{stamp}");
        let row = user::Entity::find_by_id(id)
            .one(&ctx.db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.deleted_at, Some(stored), "{stamp} is stored exactly");
        // Compared exactly: before it excludes the row, a microsecond later includes it.
        let by_scope = |cutoff| {
            user::Entity::find_by_id(id)
                .deleted_before(cutoff)
                .count(&ctx.db)
        };
        assert_eq!(by_scope(stored).await.unwrap(), 0, "{stamp}");
        if let Some(later) = stored.checked_add_signed(chrono::Duration::microseconds(1))
            && storable(ctx.backend, later)
        {
            assert_eq!(by_scope(later).await.unwrap(), 1, "{stamp}");
        }
    }
    // The one-record path refuses the same way.
    let error = user::Entity::soft_delete_by_id(&ctx.db, 20)
        .at(DateTime::<Utc>::MIN_UTC)
        .await
        .expect_err("refused");
    assert!(is_invalid(&error, "at"), "{error}");
}

#[tokio::test]
async fn purge_cutoffs_far_in_the_future_and_the_past() {
    let ctx = test_context!().await;
    seed_users(&ctx, 30).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .at(Utc::now() - chrono::Duration::days(1))
        .await
        .unwrap();
    // Out of range: refused, dry run and purge alike, and nothing is deleted.
    let max = DateTime::<Utc>::MAX_UTC;
    if !storable(ctx.backend, max) {
        for dry in [true, false] {
            let mut purge = manager.hard_delete_before::<user::Entity>(max);
            if dry {
                purge = purge.dry_run();
            }
            let error = purge.await.expect_err("refused");
            assert!(is_invalid(&error, "cutoff"), "{error}");
        }
    }
    // 1970: nothing was deleted before it; one batch finds that out.
    let report = manager
        .hard_delete_before::<user::Entity>(at(1970, 1, 1, 0, 0, 0, 0))
        .batch_size(5)
        .await
        .unwrap();
    assert_eq!((report.affected, report.batches), (0, 1));
    // The last time every backend stores: everything deleted goes, nothing active does; the
    // dry run says so first.
    let last = at(9999, 12, 31, 23, 59, 59, 999_999);
    let dry = manager
        .hard_delete_before::<user::Entity>(last)
        .dry_run()
        .await
        .unwrap();
    assert_eq!(dry.affected, 10);
    let report = manager
        .hard_delete_before::<user::Entity>(last)
        .batch_size(3)
        .await
        .unwrap();
    assert_eq!(report.affected, 10);
    assert_eq!(user::Entity::find().count(&ctx.db).await.unwrap(), 20);
}

#[tokio::test]
async fn extreme_batch_sizes_are_refused_not_a_panic() {
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    for size in [0, usize::MAX, 1 << 40, i64::MAX as usize + 1, 1_000_001] {
        let refused = |error: Error| {
            assert!(is_invalid(&error, "batch_size"), "{size}: {error}");
        };
        refused(
            manager
                .bulk_soft_delete::<user::Entity, _>(1..=10i64)
                .batch_size(size)
                .await
                .unwrap_err(),
        );
        refused(
            manager
                .bulk_restore_where::<user::Entity>(sea_orm::sea_query::Condition::all())
                .batch_size(size)
                .await
                .unwrap_err(),
        );
        refused(
            manager
                .hard_delete_before::<user::Entity>(Utc::now())
                .batch_size(size)
                .await
                .unwrap_err(),
        );
        refused(
            manager
                .bulk_create::<user::Entity, _>([user::ActiveModel {
                    name: Set("x".into()),
                    email: Set("x@example.com".into()),
                    ..Default::default()
                }])
                .batch_size(size)
                .await
                .unwrap_err(),
        );
    }
    // The largest allowed size runs (and allocates only what the input needs).
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .batch_size(SoftDeleteConfig::MAX_BATCH_SIZE)
        .await
        .unwrap();
    assert_eq!(report.affected, 10);
    assert_eq!(user::Entity::find().count(&ctx.db).await.unwrap(), 10);
}

#[tokio::test]
async fn configurations_out_of_range_are_refused_before_anything_is_sent() {
    let ctx = test_context!().await;
    seed_users(&ctx, 10).await;
    let cases = [
        (
            "bulk_operation_batch_size",
            SoftDeleteConfig {
                bulk_operation_batch_size: usize::MAX,
                ..SoftDeleteConfig::default()
            },
        ),
        (
            "retention",
            SoftDeleteConfig {
                retention: Duration::from_secs(100_000_000 * 86_400),
                ..SoftDeleteConfig::default()
            },
        ),
        (
            "query_timeout",
            SoftDeleteConfig {
                query_timeout: Some(Duration::MAX),
                ..SoftDeleteConfig::default()
            },
        ),
    ];
    for (field, config) in cases {
        let manager = SoftDeleteManager::with_config(&ctx.db, config);
        for error in [
            manager
                .bulk_soft_delete::<user::Entity, _>(1..=10i64)
                .await
                .unwrap_err(),
            manager.purge_expired::<user::Entity>().await.unwrap_err(),
        ] {
            assert!(
                matches!(&error, Error::Config { setting, .. } if setting == field),
                "{field}: {error}"
            );
        }
    }
    assert!(deleted_user_ids(&ctx).await.is_empty());
    // From the environment, the same values name their variable.
    let error = SoftDeleteConfig::from_lookup(|name| {
        (name == "SOFT_DELETE_RETENTION_DAYS").then(|| "100000000".to_owned())
    })
    .unwrap_err();
    assert!(
        error.to_string().contains("SOFT_DELETE_RETENTION_DAYS"),
        "{error}"
    );
}
