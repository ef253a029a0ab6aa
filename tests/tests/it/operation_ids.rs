//! Operation ids: every soft delete stamps its id into `deletion_op` (for entities declared with
//! `operation_id`), and `restore_operation` restores exactly that operation's rows. On the
//! backend `DATABASE_URL` names.

use chrono::{TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use soft_delete_core::migration::AddSoftDeleteColumns;
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{invoice, user};
use soft_delete_tests::faulty::{FaultyDb, Injected};
use soft_delete_tests::{TestContext, test_context};

/// Invoices `1..=n`, all active. The ids are given: a Galera cluster would interleave
/// AUTO_INCREMENT ids across its nodes.
async fn invoices(ctx: &TestContext, n: i64) {
    ctx.create_table::<invoice::Entity>().await;
    for i in 1..=n {
        invoice::ActiveModel {
            id: Set(i),
            number: Set(format!("INV-{i:04}")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .expect("insert invoice");
    }
}

/// `(id, deletion_op)` of the deleted invoices, by id.
async fn deleted(ctx: &TestContext) -> Vec<(i64, Option<String>)> {
    invoice::Entity::find_deleted()
        .order_by_asc(invoice::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.id, row.deletion_op))
        .collect()
}

fn ids(rows: &[(i64, Option<String>)]) -> Vec<i64> {
    rows.iter().map(|(id, _)| *id).collect()
}

#[tokio::test]
async fn every_soft_delete_stamps_its_operation_id() {
    let ctx = test_context!().await;
    invoices(&ctx, 10).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let bulk = manager
        .bulk_soft_delete::<invoice::Entity, _>(1..=6i64)
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!((bulk.affected, bulk.batches), (6, 3));
    let one = invoice::Entity::soft_delete_by_id(&ctx.db, 9);
    let one_op = one.operation_id();
    assert_ne!(one_op, bulk.id);
    assert_eq!(one.await.unwrap(), 1);

    let rows = deleted(&ctx).await;
    assert_eq!(ids(&rows), [1, 2, 3, 4, 5, 6, 9]);
    // One operation, one id on all its rows, across its batches.
    for (id, op) in &rows[..6] {
        assert_eq!(
            op.as_deref(),
            Some(bulk.id.to_string().as_str()),
            "row {id}"
        );
    }
    assert_eq!(rows[6].1.as_deref(), Some(one_op.to_string().as_str()));

    // Restoring stamps the restore's own id (so that it can be undone exactly); a later soft
    // delete stamps its own.
    let restore = invoice::Entity::restore_by_id(&ctx.db, 9);
    let restore_op = restore.operation_id();
    assert_eq!(restore.await.unwrap(), 1);
    let row = invoice::Entity::find_by_id(9)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.deleted_at, None);
    assert_eq!(row.deletion_op, Some(restore_op.to_string()));
}

#[tokio::test]
async fn restore_operation_restores_exactly_its_rows_even_at_the_same_stamp() {
    let ctx = test_context!().await;
    invoices(&ctx, 12).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    // Two operations stamped in the same microsecond: only their ids tell them apart.
    let at = Utc.with_ymd_and_hms(2026, 5, 4, 3, 2, 1).unwrap();
    let first = manager
        .bulk_soft_delete::<invoice::Entity, _>(1..=4i64)
        .at(at)
        .await
        .unwrap();
    let second = manager
        .bulk_soft_delete::<invoice::Entity, _>(5..=8i64)
        .at(at)
        .await
        .unwrap();
    // A one-record soft delete joined to the first operation.
    invoice::Entity::soft_delete_by_id(&ctx.db, 10)
        .in_operation(first.id)
        .at(at)
        .await
        .unwrap();
    // Row 3 is restored by hand and deleted again by a third operation: no longer the first's.
    invoice::Entity::restore_by_id(&ctx.db, 3).await.unwrap();
    let third = manager
        .bulk_soft_delete::<invoice::Entity, _>([3i64])
        .at(at)
        .await
        .unwrap();
    assert_eq!(third.affected, 1);

    let restored = manager
        .restore_operation::<invoice::Entity>(first.id)
        .unwrap()
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!(restored.affected, 4, "rows 1, 2, 4 and 10");
    assert_eq!(ids(&deleted(&ctx).await), [3, 5, 6, 7, 8]);
    // Nothing of the first operation is left to restore.
    let again = manager
        .restore_operation::<invoice::Entity>(first.id)
        .unwrap()
        .await
        .unwrap();
    assert_eq!(again.affected, 0);

    let restored = manager
        .restore_operation::<invoice::Entity>(second.id)
        .unwrap()
        .await
        .unwrap();
    assert_eq!(restored.affected, 4);
    assert_eq!(ids(&deleted(&ctx).await), [3]);

    // An id no operation had restores nothing.
    let unknown = manager
        .restore_operation::<invoice::Entity>(OperationId::new())
        .unwrap()
        .await
        .unwrap();
    assert_eq!(unknown.affected, 0);
    assert_eq!(ids(&deleted(&ctx).await), [3]);
}

#[tokio::test]
async fn restore_operation_needs_the_operation_column() {
    let ctx = test_context!().await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let error = manager
        .restore_operation::<user::Entity>(OperationId::new())
        .expect_err("users have no operation column");
    assert!(matches!(error, Error::InvalidArgument { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("`users`"), "{message}");
    assert!(message.contains("operation_id"), "{message}");
}

#[tokio::test]
async fn a_lost_commit_at_a_given_stamp_is_checked_by_the_operation_id() {
    // Without an operation column, a caller-given stamp may be shared and a lost COMMIT of a
    // batch whose rows carry it is unknown (faults.rs). With one, the id decides.
    let ctx = test_context!().await;
    invoices(&ctx, 20).await;
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<invoice::Entity, _>(1..=10i64)
        .at(at)
        .await
        .unwrap();
    let db = FaultyDb::new(ctx.db.clone());
    // Applied, reply lost: the batch's rows carry this operation's id, so it is counted.
    db.inject(0, Injected::ReplyLost);
    let report = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<invoice::Entity, _>(9..=15i64)
        .at(at)
        .await
        .expect("the operation id tells the batch's rows apart");
    assert_eq!((report.affected, report.retries), (5, 0));
    // Not applied: rolled back and retried, although rows 1..=10 share the stamp.
    db.inject(0, Injected::CommitLost);
    let report = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<invoice::Entity, _>(5..=20i64)
        .at(at)
        .await
        .expect("nothing carries this operation's id: retried");
    assert_eq!((report.affected, report.retries), (5, 1));
    assert_eq!(ids(&deleted(&ctx).await), (1..=20).collect::<Vec<_>>());
    let by_op = invoice::Entity::find_deleted()
        .filter(invoice::Column::DeletionOp.eq(report.id.to_string()))
        .count(&ctx.db)
        .await
        .unwrap();
    assert_eq!(by_op, 5);
}

#[tokio::test]
async fn the_migration_adds_the_operation_column_idempotently() {
    let ctx = test_context!().await;
    ctx.exec("CREATE TABLE invoices (id BIGINT PRIMARY KEY, number VARCHAR(32) NOT NULL)")
        .await;
    ctx.exec("INSERT INTO invoices (id, number) VALUES (1, 'INV-0001'), (2, 'INV-0002')")
        .await;
    let manager = SchemaManager::new(&ctx.db);
    let migration = AddSoftDeleteColumns::<invoice::Entity>::new();
    migration.up(&manager).await.expect("first up");
    migration
        .up(&manager)
        .await
        .expect("second up changes nothing");
    assert!(manager.has_column("invoices", "deletion_op").await.unwrap());
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<invoice::Entity, _>([1i64])
        .await
        .unwrap();
    let restored = SoftDeleteManager::new(&ctx.db)
        .restore_operation::<invoice::Entity>(report.id)
        .unwrap()
        .await
        .unwrap();
    assert_eq!(restored.affected, 1);
    migration.down(&manager).await.expect("down");
    assert!(!manager.has_column("invoices", "deletion_op").await.unwrap());
}
