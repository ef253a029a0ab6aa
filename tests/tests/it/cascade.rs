//! Cascading soft delete and exact restore, three levels deep (accounts → projects → tasks, the
//! projects keyed by `(account_id, code)`), on the backend `DATABASE_URL` names.

use chrono::{TimeZone, Utc};
use sea_orm::EntityTrait;
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{account, project, task};
use soft_delete_tests::faulty::{FaultyDb, Injected};
use soft_delete_tests::test_context;
use soft_delete_tests::tree::{deleted, expect, seed};

#[tokio::test]
async fn bulk_soft_delete_cascades_three_levels_and_restore_brings_back_exactly_those() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    // Task 2 was deleted before, by another operation: it must stay deleted.
    task::Entity::soft_delete_by_id(&ctx.db, 2).await.unwrap();
    let manager = SoftDeleteManager::new(&ctx.db);

    let report = manager
        .bulk_soft_delete::<account::Entity, _>([1i64])
        .deleted_by("admin")
        .await
        .unwrap();
    assert_eq!((report.affected, report.cascaded), (1, 4));
    assert_eq!(
        deleted(&ctx).await,
        expect(&[1], &[(1, "p1"), (1, "p2")], &[1, 2, 3])
    );
    // The children carry the parent's operation, who and why.
    let child = task::Entity::find_by_id(3)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(child.deletion_op, Some(report.id.to_string()));
    assert_eq!(child.deleted_by.as_deref(), Some("admin"));
    let earlier = task::Entity::find_by_id(2)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(earlier.deletion_op, Some(report.id.to_string()));

    // Restoring the parent by key restores its operation's children, not task 2.
    let restored = manager
        .bulk_restore::<account::Entity, _>([1i64])
        .await
        .unwrap();
    assert_eq!((restored.affected, restored.cascaded), (1, 4));
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[2]));
}

#[tokio::test]
async fn one_record_cascade_and_restore_by_operation() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    let one = account::Entity::soft_delete_by_id(&ctx.db, 2);
    let op = one.operation_id();
    assert_eq!(one.await.unwrap(), 1);
    assert_eq!(deleted(&ctx).await, expect(&[2], &[(2, "p1")], &[4]));
    // Account 1's project "p1" shares the code: untouched.

    let manager = SoftDeleteManager::new(&ctx.db);
    let restored = manager
        .restore_operation::<account::Entity>(op)
        .unwrap()
        .await
        .unwrap();
    assert_eq!((restored.affected, restored.cascaded), (1, 2));
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));

    // One-record restore of a cascaded delete.
    account::Entity::soft_delete_by_id(&ctx.db, 3)
        .await
        .unwrap();
    assert_eq!(deleted(&ctx).await, expect(&[3], &[(3, "p1")], &[5]));
    assert_eq!(account::Entity::restore_by_id(&ctx.db, 3).await.unwrap(), 1);
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));
}

#[tokio::test]
async fn children_deleted_by_another_operation_in_the_same_microsecond_stay_deleted() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let at = Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6).unwrap();
    // Operation X deletes project (1, "p1") and, by cascade, tasks 1 and 2.
    let x = manager
        .bulk_soft_delete::<project::Entity, _>([(1i64, "p1".to_owned())])
        .at(at)
        .await
        .unwrap();
    assert_eq!((x.affected, x.cascaded), (1, 2));
    // Operation Y, at the same instant, deletes account 1: the rest of its tree.
    let y = manager
        .bulk_soft_delete::<account::Entity, _>([1i64])
        .at(at)
        .await
        .unwrap();
    assert_eq!((y.affected, y.cascaded), (1, 2));
    assert_eq!(
        deleted(&ctx).await,
        expect(&[1], &[(1, "p1"), (1, "p2")], &[1, 2, 3])
    );
    // Undoing Y brings back only Y's rows.
    let restored = manager
        .restore_operation::<account::Entity>(y.id)
        .unwrap()
        .await
        .unwrap();
    assert_eq!((restored.affected, restored.cascaded), (1, 2));
    assert_eq!(deleted(&ctx).await, expect(&[], &[(1, "p1")], &[1, 2]));
    // And X's by X.
    let restored = manager
        .restore_operation::<project::Entity>(x.id)
        .unwrap()
        .await
        .unwrap();
    assert_eq!((restored.affected, restored.cascaded), (1, 2));
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));
}

#[tokio::test]
async fn a_failed_batch_rolls_back_its_children_with_it() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    let db = FaultyDb::new(ctx.db.clone());
    // Batch 1 (account 2) fails: its rows and its children's stay as they were.
    db.inject(1, Injected::StatementError);
    let error = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<account::Entity, _>([1i64, 2, 3])
        .batch_size(1)
        .await
        .expect_err("batch 1 fails");
    assert_eq!(error.partial_count(), Some(1));
    assert_eq!(
        deleted(&ctx).await,
        expect(&[1], &[(1, "p1"), (1, "p2")], &[1, 2, 3])
    );
}

#[tokio::test]
async fn by_condition_the_walk_cascades_per_batch() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let report = manager
        .bulk_soft_delete_where::<account::Entity>(sea_orm::sea_query::Condition::all())
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!((report.affected, report.cascaded), (3, 9));
    assert_eq!(
        deleted(&ctx).await,
        expect(
            &[1, 2, 3],
            &[(1, "p1"), (1, "p2"), (2, "p1"), (3, "p1")],
            &[1, 2, 3, 4, 5]
        )
    );
    let restored = manager
        .restore_operation::<account::Entity>(report.id)
        .unwrap()
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!((restored.affected, restored.cascaded), (3, 9));
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));
}

/// Rows left in each table: accounts, projects, tasks.
async fn counts(ctx: &soft_delete_tests::TestContext) -> (u64, u64, u64) {
    use sea_orm::PaginatorTrait;
    (
        account::Entity::find().count(&ctx.db).await.unwrap(),
        project::Entity::find().count(&ctx.db).await.unwrap(),
        task::Entity::find().count(&ctx.db).await.unwrap(),
    )
}

#[tokio::test]
async fn force_delete_of_a_parent_purges_its_rows_first_or_is_refused_while_one_is_kept() {
    use sea_orm::ConnectionTrait;
    use soft_delete_core::operation_log::{self, DEFAULT_TABLE};
    use soft_delete_core::service::{BaseService, SoftDeleteService};
    let ctx = test_context!().await;
    seed(&ctx).await;
    ctx.db
        .execute(&operation_log::create_table(ctx.backend, DEFAULT_TABLE))
        .await
        .unwrap();
    let config = SoftDeleteConfig {
        operation_log: Some(DEFAULT_TABLE.to_owned()),
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&ctx.db, config.clone());
    let kept = |error: Error| match error {
        Error::Kept {
            table,
            key,
            kept_in,
        } => (table, key, kept_in),
        other => panic!("expected Kept, got {other:?}"),
    };

    // Account 1's projects and tasks are active: a purge would keep it, and so does every
    // one-record path, deleting nothing.
    let error = manager
        .force_delete_by_id::<account::Entity, _>(1i64)
        .await
        .expect_err("kept by its projects");
    assert_eq!(
        kept(error),
        ("accounts".to_owned(), "1".to_owned(), "projects".to_owned())
    );
    let error = account::Entity::force_delete_by_id(&ctx.db, 1i64)
        .await
        .expect_err("the entity's own call decides the same");
    assert!(matches!(error, Error::Kept { .. }), "{error:?}");
    let service = BaseService::<account::Entity, _>::with_config(&ctx.db, config);
    let error = service
        .hard_delete(1i64)
        .await
        .expect_err("and the service's");
    assert!(matches!(error, Error::Kept { .. }), "{error:?}");
    assert_eq!(counts(&ctx).await, (3, 4, 5));

    // Soft-deleted with its cascade, it goes with every row under it: children first, in the
    // same transaction, logged per table.
    assert_eq!(
        manager
            .soft_delete_by_id::<account::Entity, _>(1i64)
            .await
            .unwrap(),
        1
    );
    let one = manager.force_delete_by_id::<account::Entity, _>(1i64);
    let op = one.operation_id();
    assert_eq!(one.await.unwrap(), 1);
    assert_eq!(counts(&ctx).await, (2, 2, 2));
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));
    let logged = manager.operation(op).await.unwrap().expect("logged");
    assert_eq!(logged.kind, OperationKind::Purge);
    assert_eq!(logged.status, OperationStatus::Completed);
    assert_eq!(
        logged.rows_by_table,
        [
            ("accounts".to_owned(), 1),
            ("projects".to_owned(), 2),
            ("tasks".to_owned(), 3)
        ]
    );
    let refusals = manager
        .operations()
        .kind(OperationKind::Purge)
        .await
        .unwrap()
        .into_iter()
        .filter(|op| op.status == OperationStatus::Failed)
        .count();
    // The manager's and the service's refusals, which run with the logging configuration (the
    // entity's own call runs with the default one, which keeps no log).
    assert_eq!(refusals, 2, "each refusal is logged as failed");

    // A force delete ignores the parent's own state: an active account whose rows are all
    // soft-deleted goes with them.
    manager
        .bulk_soft_delete::<task::Entity, _>([4i64])
        .await
        .unwrap();
    manager
        .bulk_soft_delete_where::<project::Entity>(sea_orm::ColumnTrait::eq(
            &project::Column::AccountId,
            2,
        ))
        .await
        .unwrap();
    assert!(service.hard_delete(2i64).await.unwrap());
    assert_eq!(counts(&ctx).await, (1, 1, 1));
    let error = service.hard_delete(2i64).await.expect_err("gone");
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}
