//! The operation log, undo, and purge with a cascade, on the backend `DATABASE_URL` names:
//! accounts → projects (composite key) → tasks, three levels.

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use soft_delete_core::operation_log;
use soft_delete_core::prelude::*;
use soft_delete_core::{BulkConnection, OperationRecord, OperationStatus};
use soft_delete_tests::entities::{account, project, task, user};
use soft_delete_tests::faulty::{FaultyDb, Injected};
use soft_delete_tests::fixtures::{create_log, logged};
use soft_delete_tests::test_context;
use soft_delete_tests::tree::{deleted, expect, seed};

async fn record<C: BulkConnection>(
    manager: &SoftDeleteManager<'_, C>,
    op: OperationId,
) -> OperationRecord {
    manager
        .operation(op)
        .await
        .expect("read the log")
        .expect("the operation is logged")
}

fn rows(record: &OperationRecord) -> Vec<(&str, u64)> {
    record
        .rows_by_table
        .iter()
        .map(|(table, rows)| (table.as_str(), *rows))
        .collect()
}

#[tokio::test]
async fn the_log_records_each_operation_with_its_rows_per_table() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    create_log(&ctx, false).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());

    let report = manager
        .bulk_soft_delete::<account::Entity, _>([1i64, 2])
        .deleted_by("admin")
        .reason("closed")
        .batch_size(1)
        .await
        .unwrap();
    let logged = record(&manager, report.id).await;
    assert_eq!(logged.kind, OperationKind::SoftDelete);
    assert_eq!(logged.table, "accounts");
    assert_eq!(logged.status, OperationStatus::Completed);
    assert_eq!(
        rows(&logged),
        [("accounts", 2), ("projects", 3), ("tasks", 4)]
    );
    assert_eq!(logged.rows_changed(), report.affected + report.cascaded);
    assert_eq!((logged.requested, logged.batches), (2, 2));
    assert_eq!(logged.actor.as_deref(), Some("admin"));
    assert_eq!(logged.reason.as_deref(), Some("closed"));
    assert_eq!(logged.selection, "keys");
    assert!(
        logged
            .finished_at
            .is_some_and(|end| end >= logged.started_at)
    );
    assert_eq!(logged.reverses, None);

    // A restore by operation says what it reversed; a purge and a walk say their condition.
    let restored = manager
        .restore_operation::<account::Entity>(report.id)
        .unwrap()
        .await
        .unwrap();
    let logged_restore = record(&manager, restored.id).await;
    assert_eq!(logged_restore.kind, OperationKind::Restore);
    assert_eq!(logged_restore.reverses, Some(report.id));
    // The condition's shape, without its values: the log outlives the rows.
    assert!(
        logged_restore.selection.starts_with("condition: ")
            && logged_restore.selection.contains("deletion_op")
            && !logged_restore.selection.contains(&report.id.to_string()),
        "{}",
        logged_restore.selection
    );
    assert_eq!(
        rows(&logged_restore),
        [("accounts", 2), ("projects", 3), ("tasks", 4)]
    );

    let listed = manager
        .operations()
        .entity::<account::Entity>()
        .await
        .unwrap();
    let ids: Vec<OperationId> = listed.iter().map(|op| op.id).collect();
    assert_eq!(ids, [restored.id, report.id], "newest first");
    let only_restores = manager
        .operations()
        .kind(OperationKind::Restore)
        .await
        .unwrap();
    assert_eq!(only_restores.len(), 1);
    // Any limit is taken, the largest too (it used to panic in the binder).
    assert_eq!(manager.operations().limit(u64::MAX).await.unwrap().len(), 2);
    assert_eq!(manager.operations().limit(1).await.unwrap().len(), 1);
    assert!(
        manager
            .operations()
            .table("tasks")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_logged_condition_keeps_its_values_only_when_the_configuration_asks() {
    use sea_orm::ColumnTrait;
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    create_log(&ctx, false).await;
    for values in [false, true] {
        let config = SoftDeleteConfig {
            log_condition_values: values,
            ..logged()
        };
        let manager = SoftDeleteManager::with_config(&ctx.db, config);
        let report = manager
            .bulk_soft_delete_where::<user::Entity>(user::Column::Email.eq("ada@example.com"))
            .await
            .unwrap();
        let selection = record(&manager, report.id).await.selection;
        assert!(selection.contains("email"), "{selection}");
        assert_eq!(
            selection.contains("ada@example.com"),
            values,
            "log_condition_values = {values}: {selection}"
        );
    }
}

#[tokio::test]
async fn an_actor_longer_than_the_log_keeps_is_refused_before_anything_is_written() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    create_log(&ctx, false).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let long = "a".repeat(256);
    let error = manager
        .bulk_soft_delete::<account::Entity, _>([1i64])
        .deleted_by(long.clone())
        .await
        .expect_err("too long for the log");
    assert!(
        matches!(error, Error::InvalidArgument { name: "actor", .. }),
        "{error}"
    );
    let error = manager
        .soft_delete_by_id::<account::Entity, _>(1i64)
        .deleted_by(long)
        .await
        .expect_err("the one-record path refuses it too");
    assert!(
        matches!(error, Error::InvalidArgument { name: "actor", .. }),
        "{error}"
    );
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));
    assert!(
        manager.operations().await.unwrap().is_empty(),
        "nothing logged"
    );
    // 255 characters, multi-byte ones too, fit.
    manager
        .bulk_soft_delete::<account::Entity, _>([1i64])
        .deleted_by("é".repeat(255))
        .await
        .expect("255 characters fit");
}

#[tokio::test]
async fn after_a_failure_in_batch_k_the_log_counts_exactly_the_committed_rows_and_undo_reverses_them()
 {
    let ctx = test_context!().await;
    seed(&ctx).await;
    create_log(&ctx, false).await;
    let db = FaultyDb::new(ctx.db.clone());
    // The log's start row is written in a transaction of its own (the first); batch 1
    // (account 1) commits, batch 2 (account 2) fails.
    db.inject(2, Injected::StatementError);
    let manager = SoftDeleteManager::with_config(&db, logged());
    let error = manager
        .bulk_soft_delete::<account::Entity, _>([1i64, 2, 3])
        .batch_size(1)
        .await
        .expect_err("batch 2 fails");
    assert_eq!(error.partial_count(), Some(1));
    let failed = manager
        .operations()
        .limit(1)
        .await
        .unwrap()
        .pop()
        .expect("logged");
    assert_eq!(failed.status, OperationStatus::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .is_some_and(|e| e.contains("injected")),
        "{failed:?}"
    );
    // The data: account 1's tree, nothing of account 2's.
    assert_eq!(
        deleted(&ctx).await,
        expect(&[1], &[(1, "p1"), (1, "p2")], &[1, 2, 3])
    );
    // The log agrees with it, table by table.
    assert_eq!(
        rows(&failed),
        [("accounts", 1), ("projects", 2), ("tasks", 3)]
    );
    assert_eq!(failed.batches, 1);

    // Before the undo, task 5 is deleted by another operation: the undo leaves it deleted.
    task::Entity::soft_delete_by_id(&ctx.db, 5).await.unwrap();
    let undone = manager
        .undo::<account::Entity>(failed.id)
        .by("ops")
        .await
        .unwrap();
    assert_eq!((undone.affected, undone.cascaded), (1, 5));
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[5]));
    let logged_undo = record(&manager, undone.id).await;
    assert_eq!(
        (
            logged_undo.kind,
            logged_undo.reverses,
            logged_undo.actor.as_deref()
        ),
        (OperationKind::Restore, Some(failed.id), Some("ops"))
    );
    // Undoing twice changes nothing.
    let again = manager.undo::<account::Entity>(failed.id).await.unwrap();
    assert_eq!((again.affected, again.cascaded), (0, 0));
}

#[tokio::test]
async fn undoing_a_restore_deletes_again_exactly_the_rows_it_restored() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    create_log(&ctx, false).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let deleted_op = manager
        .bulk_soft_delete::<account::Entity, _>([1i64])
        .await
        .unwrap();
    assert_eq!(
        deleted(&ctx).await,
        expect(&[1], &[(1, "p1"), (1, "p2")], &[1, 2, 3])
    );
    let restore = manager
        .undo::<account::Entity>(deleted_op.id)
        .await
        .unwrap();
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));
    // After the restore, a new task is created under project (1, "p1"): the restore did not
    // bring it back, so undoing the restore leaves it alone.
    task::ActiveModel {
        id: Set(6),
        account_id: Set(1),
        project_code: Set("p1".to_owned()),
        title: Set("task 6".to_owned()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();

    let redo = manager
        .undo::<account::Entity>(restore.id)
        .by("ops")
        .await
        .unwrap();
    // Account 1, its two projects and tasks 1 to 3; not task 6.
    assert_eq!((redo.affected, redo.cascaded), (1, 5));
    assert_eq!(
        deleted(&ctx).await,
        expect(&[1], &[(1, "p1"), (1, "p2")], &[1, 2, 3])
    );
    let row = task::Entity::find_by_id(3)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.deletion_op, Some(redo.id.to_string()));
    assert_eq!(row.deleted_by.as_deref(), Some("ops"));
    assert_eq!(row.deletion_reason, Some(format!("undo of {}", restore.id)));
    // …and the redo is an operation like any other: undoing it restores the same rows.
    let back = manager.undo::<account::Entity>(redo.id).await.unwrap();
    assert_eq!((back.affected, back.cascaded), (1, 5));
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));
}

#[tokio::test]
async fn what_cannot_be_undone_says_why_and_changes_nothing() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    create_log(&ctx, false).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let op = manager
        .bulk_soft_delete::<project::Entity, _>([(3i64, "p1".to_owned())])
        .await
        .unwrap();
    let before = deleted(&ctx).await;

    let message = |error: Error| error.to_string();
    let wrong_table = manager.undo::<account::Entity>(op.id).await.unwrap_err();
    assert!(
        message(wrong_table).contains("ran on `projects`, not on `accounts`"),
        "names both tables"
    );
    let unknown = manager
        .undo::<project::Entity>(OperationId::new())
        .await
        .unwrap_err();
    assert!(message(unknown).contains("is not in the operation log"));
    let purge = manager
        .hard_delete_before::<task::Entity>(Utc::now() + Duration::days(1))
        .await
        .unwrap();
    let purge_error = manager.undo::<task::Entity>(purge.id).await.unwrap_err();
    assert!(
        message(purge_error).contains("is a purge, which cannot be undone"),
        "says a purge cannot be undone"
    );
    let unlogged = SoftDeleteManager::new(&ctx.db)
        .undo::<project::Entity>(op.id)
        .await
        .unwrap_err();
    assert!(matches!(unlogged, Error::Config { ref setting, .. } if setting == "operation_log"));
    // A purge deleted task 5 for good (it was deleted by the cascade); nothing else changed.
    assert_eq!(before.tasks, [5]);
    assert_eq!(deleted(&ctx).await, expect(&[], &[(3, "p1")], &[]));
}

#[tokio::test]
async fn a_purge_of_parents_purges_their_cascade_first_and_keeps_parents_with_kept_rows() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    create_log(&ctx, false).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let long_ago = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    manager
        .bulk_soft_delete::<account::Entity, _>([1i64, 2, 3])
        .at(long_ago)
        .await
        .unwrap();
    // Account 2's task 4 is restored on its own: a kept row under account 2 (two levels down),
    // so account 2 and its project stay.
    task::Entity::restore_by_id(&ctx.db, 4).await.unwrap();

    let dry = manager
        .hard_delete_before::<account::Entity>(Utc::now())
        .dry_run()
        .await
        .unwrap();
    assert_eq!(dry.affected, 2);
    let purged = manager
        .hard_delete_before::<account::Entity>(Utc::now())
        .batch_size(1)
        .await
        .unwrap();
    // Accounts 1 and 3, with their 3 projects and 4 tasks; the children went first, so no
    // foreign key was broken on any backend.
    assert_eq!((purged.affected, purged.cascaded), (2, 7));
    assert_eq!(account::Entity::find().count(&ctx.db).await.unwrap(), 1);
    assert_eq!(project::Entity::find().count(&ctx.db).await.unwrap(), 1);
    assert_eq!(task::Entity::find().count(&ctx.db).await.unwrap(), 1);
    assert_eq!(deleted(&ctx).await, expect(&[2], &[(2, "p1")], &[]));
    let orphans = ctx
        .scalar_i64(
            "SELECT COUNT(*) FROM tasks WHERE NOT EXISTS (SELECT 1 FROM projects \
             WHERE projects.account_id = tasks.account_id AND projects.code = tasks.project_code)",
        )
        .await;
    assert_eq!(orphans, 0);
    let logged = record(&manager, purged.id).await;
    assert_eq!(
        rows(&logged),
        [("accounts", 2), ("projects", 3), ("tasks", 4)]
    );

    // Once task 4 is deleted again, account 2 goes too.
    task::Entity::soft_delete_by_id(&ctx.db, 4).await.unwrap();
    let rest = manager
        .hard_delete_before::<account::Entity>(Utc::now())
        .await
        .unwrap();
    assert_eq!((rest.affected, rest.cascaded), (1, 2));
    assert_eq!(task::Entity::find().count(&ctx.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_purge_failing_in_batch_k_keeps_each_parent_whole_with_its_cascade() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    create_log(&ctx, false).await;
    let long_ago = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<account::Entity, _>([1i64, 2, 3])
        .at(long_ago)
        .await
        .unwrap();
    let db = FaultyDb::new(ctx.db.clone());
    // After the log's start row (a transaction of its own) and batch 1.
    db.inject(2, Injected::StatementError);
    let manager = SoftDeleteManager::with_config(&db, logged());
    let error = manager
        .hard_delete_before::<account::Entity>(Utc::now())
        .batch_size(1)
        .await
        .expect_err("batch 2 fails");
    assert_eq!(error.partial_count(), Some(1));
    // Account 1's tree is gone; accounts 2 and 3 are whole.
    assert_eq!(
        deleted(&ctx).await,
        expect(&[2, 3], &[(2, "p1"), (3, "p1")], &[4, 5])
    );
    let failed = manager.operations().limit(1).await.unwrap().pop().unwrap();
    assert_eq!(failed.status, OperationStatus::Failed);
    assert_eq!(
        rows(&failed),
        [("accounts", 1), ("projects", 2), ("tasks", 3)]
    );
}

#[tokio::test]
async fn an_atomic_operation_that_fails_logs_no_rows() {
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    soft_delete_tests::fixtures::insert_users(&ctx, 1..=6).await;
    create_log(&ctx, false).await;
    let db = FaultyDb::new(ctx.db.clone());
    // After the log's start row, in a transaction of its own: the atomic operation's one.
    db.inject(1, Injected::StatementError);
    let manager = SoftDeleteManager::with_config(&db, logged());
    manager
        .bulk_soft_delete::<user::Entity, _>(1..=6i64)
        .batch_size(2)
        .atomic()
        .await
        .expect_err("fails");
    let failed = manager.operations().limit(1).await.unwrap().pop().unwrap();
    assert_eq!(failed.status, OperationStatus::Failed);
    assert_eq!(failed.rows_changed(), 0);
    assert!(
        soft_delete_tests::fixtures::deleted_user_ids(&ctx)
            .await
            .is_empty()
    );

    // A bulk create is logged as a create, with its actor.
    let log_rows_before = manager.operations().await.unwrap().len();
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let report = manager
        .bulk_insert_stream::<user::Entity, _>(futures::stream::iter((7..=9).map(|id| {
            user::ActiveModel {
                id: Set(id),
                name: Set(format!("user-{id}")),
                email: Set(format!("user-{id}@example.com")),
                ..Default::default()
            }
        })))
        .await
        .unwrap();
    let created = record(&manager, report.id).await;
    assert_eq!(
        (
            created.kind,
            created.rows_changed(),
            created.selection.as_str()
        ),
        (OperationKind::Create, 3, "rows")
    );
    assert_eq!(
        manager.operations().await.unwrap().len(),
        log_rows_before + 1
    );
}

#[tokio::test]
async fn the_migration_creates_the_log_idempotently_and_down_drops_it() {
    use sea_orm_migration::{MigrationTrait, SchemaManager};
    use soft_delete_core::migration::CreateOperationLog;

    let ctx = test_context!().await;
    seed(&ctx).await;
    let schema = SchemaManager::new(&ctx.db);
    let migration = CreateOperationLog::named("ops_log");
    migration.up(&schema).await.expect("first up");
    migration
        .up(&schema)
        .await
        .expect("second up changes nothing");
    assert!(schema.has_table("ops_log").await.unwrap());
    assert!(
        schema
            .has_index("ops_log", &operation_log::index_name("ops_log"))
            .await
            .unwrap()
    );
    let config = SoftDeleteConfig {
        operation_log: Some("ops_log".to_owned()),
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&ctx.db, config);
    let report = manager
        .bulk_soft_delete::<task::Entity, _>([1i64])
        .await
        .unwrap();
    assert_eq!(record(&manager, report.id).await.rows_changed(), 1);
    migration.down(&schema).await.expect("down");
    assert!(!schema.has_table("ops_log").await.unwrap());
    // With its table gone, an operation fails before it changes anything.
    let error = manager
        .bulk_soft_delete::<task::Entity, _>([2i64])
        .await
        .expect_err("no log table");
    assert_eq!(error.partial_count(), Some(0));
    assert_eq!(deleted(&ctx).await.tasks, [1]);
}

#[tokio::test]
async fn one_record_operations_through_the_manager_are_logged_and_undone_like_bulk_ones() {
    let ctx = test_context!().await;
    seed(&ctx).await;
    create_log(&ctx, false).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let one = manager
        .soft_delete_by_id::<account::Entity, _>(3i64)
        .deleted_by("desk");
    let op = one.operation_id();
    assert_eq!(one.await.unwrap(), 1);
    let logged = record(&manager, op).await;
    assert_eq!(
        rows(&logged),
        [("accounts", 1), ("projects", 1), ("tasks", 1)]
    );
    assert_eq!(
        (logged.kind, logged.status, logged.actor.as_deref()),
        (
            OperationKind::SoftDelete,
            OperationStatus::Completed,
            Some("desk")
        )
    );
    let undone = manager.undo::<account::Entity>(op).await.unwrap();
    assert_eq!((undone.affected, undone.cascaded), (1, 2));
    assert_eq!(deleted(&ctx).await, expect(&[], &[], &[]));

    manager
        .soft_delete_by_id::<task::Entity, _>(1i64)
        .await
        .unwrap();
    let restore = manager.restore_by_id::<task::Entity, _>(1i64);
    let restore_op = restore.operation_id();
    assert_eq!(restore.await.unwrap(), 1);
    assert_eq!(
        record(&manager, restore_op).await.kind,
        OperationKind::Restore
    );
    let redo = manager.undo::<task::Entity>(restore_op).await.unwrap();
    assert_eq!(redo.affected, 1);
    assert_eq!(deleted(&ctx).await.tasks, [1]);

    // Outside the manager a one-record operation is not logged.
    let before = manager.operations().await.unwrap().len();
    task::Entity::soft_delete_by_id(&ctx.db, 2).await.unwrap();
    assert_eq!(manager.operations().await.unwrap().len(), before);
}
