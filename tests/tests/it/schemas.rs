//! Entities in a schema of their own (`#[sea_orm(schema_name = "sd_tenant")]`, see
//! `entities::tenant`), beside tables of the same names in the connection's default schema
//! (`entities::decoy`) that hold rows with the same keys in the opposite state: every path an
//! operation can take (bulk by keys and by condition, one record through the entity, an active
//! model, the manager and the service, cascade, purge with and without archive, hooks, the log
//! and undo, stats and explain) changes exactly the schema's rows, and never a row of the other
//! table. On the backend `DATABASE_URL` names.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use soft_delete_core::migration::create_archive_table;
use soft_delete_core::operation_log::{self, DEFAULT_TABLE};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{decoy, tenant};
use soft_delete_tests::fixtures::logged;
use soft_delete_tests::{SchemaGuard, TestContext, test_context};

/// The schema, its tables and their twins, empty, with archives for the lines and orders in
/// both schemas and the operation log in the default one.
async fn world(ctx: &TestContext) -> SchemaGuard {
    let guard = ctx.schema(tenant::SCHEMA).await;
    ctx.create_table::<tenant::customer::Entity>().await;
    ctx.create_table::<tenant::order::Entity>().await;
    ctx.create_table::<tenant::line::Entity>().await;
    ctx.create_table::<decoy::customer::Entity>().await;
    ctx.create_table::<decoy::order::Entity>().await;
    ctx.create_table::<decoy::line::Entity>().await;
    for statement in [
        create_archive_table::<tenant::line::Entity>(ctx.backend, "lines_archive"),
        create_archive_table::<tenant::order::Entity>(ctx.backend, "orders_archive"),
        create_archive_table::<decoy::line::Entity>(ctx.backend, "lines_archive"),
        create_archive_table::<decoy::order::Entity>(ctx.backend, "orders_archive"),
        operation_log::create_table(ctx.backend, DEFAULT_TABLE),
    ] {
        ctx.db.execute(&statement).await.expect("create a table");
    }
    guard
}

/// Customers 1, 2; orders 1..=6 (odd ones of customer 1); lines 1..=6, in both schemas, all
/// live; notes say whose.
async fn seed(ctx: &TestContext) {
    for id in 1..=2i64 {
        tenant::customer::ActiveModel {
            id: Set(id),
            note: Set(format!("{}-{id}", tenant::MARK)),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
        decoy::customer::ActiveModel {
            id: Set(id),
            note: Set(format!("decoy-{id}")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
    }
    for id in 1..=6i64 {
        let customer_id = 2 - id % 2;
        tenant::order::ActiveModel {
            id: Set(id),
            customer_id: Set(customer_id),
            note: Set(format!("{}-{id}", tenant::MARK)),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
        decoy::order::ActiveModel {
            id: Set(id),
            customer_id: Set(customer_id),
            note: Set(format!("decoy-{id}")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
        tenant::line::ActiveModel {
            id: Set(id),
            note: Set(format!("{}-{id}", tenant::MARK)),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
        decoy::line::ActiveModel {
            id: Set(id),
            note: Set(format!("decoy-{id}")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
    }
}

/// Every row of the default schema's tables and archives, as text: what no operation on the
/// tenant's entities may change.
async fn decoys(ctx: &TestContext) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    rows.extend(
        decoy::customer::Entity::find()
            .all(&ctx.db)
            .await
            .unwrap()
            .iter()
            .map(|m| format!("{m:?}")),
    );
    rows.extend(
        decoy::order::Entity::find()
            .all(&ctx.db)
            .await
            .unwrap()
            .iter()
            .map(|m| format!("{m:?}")),
    );
    rows.extend(
        decoy::line::Entity::find()
            .all(&ctx.db)
            .await
            .unwrap()
            .iter()
            .map(|m| format!("{m:?}")),
    );
    for archive in ["lines_archive", "orders_archive"] {
        rows.push(format!(
            "{archive}: {}",
            ctx.scalar_i64(&format!("SELECT COUNT(*) FROM {archive}"))
                .await
        ));
    }
    rows.sort();
    rows
}

/// The ids of the tenant's deleted lines, orders and customers.
async fn deleted(ctx: &TestContext) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    let mut lines: Vec<i64> = tenant::line::Entity::find_deleted()
        .all(&ctx.db)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    let mut orders: Vec<i64> = tenant::order::Entity::find_deleted()
        .all(&ctx.db)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    let mut customers: Vec<i64> = tenant::customer::Entity::find_deleted()
        .all(&ctx.db)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    lines.sort();
    orders.sort();
    customers.sort();
    (lines, orders, customers)
}

#[tokio::test]
async fn soft_delete_and_restore_by_every_entry_point_change_only_the_schemas_rows() {
    let ctx = test_context!().await;
    let _schema = world(&ctx).await;
    seed(&ctx).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let service = BaseService::<tenant::line::Entity, _>::with_config(&ctx.db, logged());
    // The twins in the opposite state: deleted, while the tenant's rows are live.
    manager
        .bulk_soft_delete::<decoy::line::Entity, _>(1..=6i64)
        .await
        .unwrap();
    let before = decoys(&ctx).await;

    let bulk = manager
        .bulk_soft_delete::<tenant::line::Entity, _>([1i64, 2])
        .await
        .unwrap();
    assert_eq!(bulk.affected, 2);
    assert_eq!(bulk.table, "sd_tenant.lines");
    let walk = manager
        .bulk_soft_delete_where::<tenant::line::Entity>(tenant::line::Column::Id.between(3, 4))
        .batch_size(1)
        .await
        .unwrap();
    assert_eq!(walk.affected, 2);
    assert_eq!(
        tenant::line::Entity::soft_delete_by_id(&ctx.db, 5i64)
            .await
            .unwrap(),
        1
    );
    let six = tenant::line::Entity::find_by_id(6i64)
        .one(&ctx.db)
        .await
        .unwrap()
        .expect("line 6");
    let mut six = six.into_active_model();
    six.note = Set(format!("{}-6, changed", tenant::MARK));
    assert_eq!(six.soft_delete(&ctx.db).await.unwrap(), 1);
    assert_eq!(deleted(&ctx).await.0, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(decoys(&ctx).await, before);

    // Now the twins live, the tenant's rows deleted.
    manager
        .bulk_restore::<decoy::line::Entity, _>(1..=6i64)
        .await
        .unwrap();
    let before = decoys(&ctx).await;
    assert_eq!(
        manager
            .bulk_restore::<tenant::line::Entity, _>([1i64])
            .await
            .unwrap()
            .affected,
        1
    );
    assert_eq!(
        manager
            .bulk_restore_where::<tenant::line::Entity>(tenant::line::Column::Id.eq(2))
            .await
            .unwrap()
            .affected,
        1
    );
    assert_eq!(
        tenant::line::Entity::restore_by_id(&ctx.db, 3i64)
            .await
            .unwrap(),
        1
    );
    assert!(service.restore(4i64).await.unwrap());
    assert_eq!(
        manager
            .restore_by_id::<tenant::line::Entity, _>(5i64)
            .await
            .unwrap(),
        1
    );
    assert!(!service.restore(5i64).await.unwrap(), "already live");
    assert!(service.soft_delete(1i64).reason("again").await.unwrap());
    assert_eq!(deleted(&ctx).await.0, vec![1, 6]);
    assert_eq!(decoys(&ctx).await, before);
}

#[tokio::test]
async fn purges_and_archives_take_only_the_schemas_rows() {
    let ctx = test_context!().await;
    let _schema = world(&ctx).await;
    seed(&ctx).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let long_ago = Utc::now() - Duration::days(90);
    let cutoff = Utc::now() - Duration::days(30);
    // The twins were soft-deleted long ago; the tenant's rows with the same keys are live.
    for decoyed in [
        manager
            .bulk_soft_delete::<decoy::order::Entity, _>(1..=6i64)
            .at(long_ago)
            .await,
        manager
            .bulk_soft_delete::<decoy::line::Entity, _>(1..=6i64)
            .at(long_ago)
            .await,
    ] {
        assert_eq!(decoyed.unwrap().affected, 6);
    }
    let before = decoys(&ctx).await;
    // Orders have hooks (keys read first), lines none (the range itself): both archive.
    let orders = manager
        .hard_delete_before::<tenant::order::Entity>(cutoff)
        .archive()
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!((orders.affected, orders.archived), (0, 0));
    let lines = manager
        .hard_delete_before::<tenant::line::Entity>(cutoff)
        .archive()
        .await
        .unwrap();
    assert_eq!((lines.affected, lines.archived), (0, 0));
    let dry = manager
        .hard_delete_before::<tenant::line::Entity>(cutoff)
        .dry_run()
        .await
        .unwrap();
    assert_eq!(dry.affected, 0);
    assert_eq!(
        tenant::order::Entity::find()
            .all(&ctx.db)
            .await
            .unwrap()
            .len(),
        6,
        "no live row of the schema's table is purged"
    );
    assert_eq!(decoys(&ctx).await, before);

    // Now the tenant's rows deleted long ago, the twins live again.
    manager
        .bulk_restore::<decoy::order::Entity, _>(1..=6i64)
        .await
        .unwrap();
    manager
        .bulk_restore::<decoy::line::Entity, _>(1..=6i64)
        .await
        .unwrap();
    manager
        .bulk_soft_delete::<tenant::order::Entity, _>([1i64, 2, 3])
        .at(long_ago)
        .await
        .unwrap();
    manager
        .bulk_soft_delete::<tenant::line::Entity, _>([1i64, 2, 3, 4])
        .at(long_ago)
        .await
        .unwrap();
    let before = decoys(&ctx).await;
    let orders = manager
        .hard_delete_before::<tenant::order::Entity>(cutoff)
        .archive()
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!((orders.affected, orders.archived), (3, 3));
    let lines = manager
        .hard_delete_before::<tenant::line::Entity>(cutoff)
        .archive()
        .batch_size(3)
        .await
        .unwrap();
    assert_eq!((lines.affected, lines.archived), (4, 4));
    let archived = |table: &'static str| {
        let ctx = &ctx;
        async move {
            ctx.scalar_i64(&format!(
                "SELECT COUNT(*) FROM {}",
                match ctx.backend {
                    sea_orm::DbBackend::MySql => format!("`sd_tenant`.`{table}`"),
                    _ => format!(r#""sd_tenant"."{table}""#),
                }
            ))
            .await
        }
    };
    assert_eq!(archived("orders_archive").await, 3);
    assert_eq!(archived("lines_archive").await, 4);
    assert_eq!(
        tenant::line::Entity::force_delete_by_id(&ctx.db, 5i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tenant::order::Entity::force_delete_by_id(&ctx.db, 4i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tenant::line::Entity::find()
            .all(&ctx.db)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        tenant::order::Entity::find()
            .all(&ctx.db)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(decoys(&ctx).await, before);
}

#[tokio::test]
async fn cascades_and_their_purge_stay_in_the_schema() {
    let ctx = test_context!().await;
    let _schema = world(&ctx).await;
    seed(&ctx).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    // The twins of customer 1's orders are deleted; the tenant's are live.
    manager
        .bulk_soft_delete::<decoy::order::Entity, _>([1i64, 3, 5])
        .await
        .unwrap();
    let before = decoys(&ctx).await;

    // One record: customer 1 and its orders 1, 3, 5 (whose hooks refuse any row but theirs).
    assert_eq!(
        manager
            .soft_delete_by_id::<tenant::customer::Entity, _>(1i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(deleted(&ctx).await, (vec![], vec![1, 3, 5], vec![1]));
    assert_eq!(
        tenant::customer::Entity::restore_by_id(&ctx.db, 1i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(deleted(&ctx).await, (vec![], vec![], vec![]));
    // In bulk.
    let report = manager
        .bulk_soft_delete::<tenant::customer::Entity, _>([2i64])
        .await
        .unwrap();
    assert_eq!((report.affected, report.cascaded), (1, 3));
    assert_eq!(deleted(&ctx).await, (vec![], vec![2, 4, 6], vec![2]));
    assert_eq!(decoys(&ctx).await, before);

    // A force delete of customer 1, whose orders are live, is refused; customer 2 goes with its
    // orders, first; so does a purge.
    let error = manager
        .force_delete_by_id::<tenant::customer::Entity, _>(1i64)
        .await
        .expect_err("kept by its orders");
    assert!(
        matches!(&error, Error::Kept { table, kept_in, .. }
            if table == "sd_tenant.customers" && kept_in == "sd_tenant.orders"),
        "{error:?}"
    );
    let purged = manager
        .purge_where::<tenant::customer::Entity>(tenant::customer::Column::Id.eq(2))
        .await
        .unwrap();
    assert_eq!((purged.affected, purged.cascaded), (1, 3));
    assert_eq!(
        tenant::order::Entity::find()
            .all(&ctx.db)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        tenant::order::Entity::find()
            .filter(tenant::order::Column::CustomerId.eq(2))
            .all(&ctx.db)
            .await
            .unwrap()
            .len(),
        0,
        "no orphan"
    );
    assert_eq!(decoys(&ctx).await, before);
}

#[tokio::test]
async fn the_log_undo_stats_and_explain_name_the_schemas_table() {
    let ctx = test_context!().await;
    let _schema = world(&ctx).await;
    seed(&ctx).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    manager
        .bulk_soft_delete::<decoy::line::Entity, _>([4i64, 5, 6])
        .await
        .unwrap();
    let before = decoys(&ctx).await;
    let report = manager
        .bulk_soft_delete::<tenant::line::Entity, _>([1i64, 2, 3])
        .await
        .unwrap();
    let record = manager.operation(report.id).await.unwrap().expect("logged");
    assert_eq!(record.table, "sd_tenant.lines");
    assert_eq!(record.rows_by_table, [("sd_tenant.lines".to_owned(), 3)]);
    let listed = manager
        .operations()
        .entity::<tenant::line::Entity>()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        manager
            .operations()
            .entity::<decoy::line::Entity>()
            .await
            .unwrap()
            .iter()
            .all(|op| op.id != report.id)
    );

    // Undo through the twin is refused: the operation ran on another table.
    let error = manager
        .undo::<decoy::line::Entity>(report.id)
        .await
        .expect_err("another table");
    assert!(error.to_string().contains("sd_tenant.lines"), "{error}");
    let undone = manager
        .undo::<tenant::line::Entity>(report.id)
        .await
        .unwrap();
    assert_eq!(undone.affected, 3);
    assert_eq!(deleted(&ctx).await.0, Vec::<i64>::new());

    let stats = manager
        .get_deletion_stats::<tenant::line::Entity>()
        .await
        .unwrap();
    assert_eq!((stats.total, stats.deleted), (6, 0));
    assert_eq!(stats.table, "sd_tenant.lines");
    let explained = manager
        .bulk_soft_delete::<tenant::line::Entity, _>([1i64])
        .explain()
        .await
        .unwrap();
    assert!(
        explained
            .statements
            .iter()
            .all(|s| s.sql.contains("sd_tenant")),
        "{explained}"
    );
    assert_eq!(decoys(&ctx).await, before);
}

#[tokio::test]
async fn live_views_are_made_in_the_entitys_schema_from_its_own_rows() {
    use sea_orm_migration::{MigrationTrait, SchemaManager};
    use soft_delete_core::outside::CreateLiveView;
    let ctx = test_context!().await;
    let _schema = world(&ctx).await;
    seed(&ctx).await;
    let schema = SchemaManager::new(&ctx.db);
    CreateLiveView::<tenant::order::Entity>::new()
        .with_deleted_view()
        .up(&schema)
        .await
        .expect("the tenant's views");
    CreateLiveView::<decoy::order::Entity>::new()
        .up(&schema)
        .await
        .expect("the default schema's view");
    SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<tenant::order::Entity, _>([1i64, 3])
        .await
        .unwrap();
    let ids = |view: &'static str| {
        let ctx = &ctx;
        async move {
            ctx.db
                .query_all_raw(sea_orm::Statement::from_string(
                    ctx.backend,
                    format!("SELECT id FROM {view} ORDER BY id"),
                ))
                .await
                .unwrap_or_else(|e| panic!("{view}: {e}"))
                .iter()
                .map(|row| row.try_get_by_index::<i64>(0).unwrap())
                .collect::<Vec<i64>>()
        }
    };
    assert_eq!(ids("sd_tenant.orders_live").await, [2, 4, 5, 6]);
    assert_eq!(ids("sd_tenant.orders_deleted").await, [1, 3]);
    // The same-named table of the default schema: its own rows, all live.
    assert_eq!(ids("orders_live").await, [1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn the_delete_guard_covers_the_schemas_table_and_not_its_twin() {
    use sea_orm::PaginatorTrait;
    use sea_orm_migration::{MigrationTrait, SchemaManager};
    use soft_delete_core::outside::{GUARD_MESSAGE, GuardHardDelete};
    let ctx = test_context!().await;
    let _schema = world(&ctx).await;
    seed(&ctx).await;
    let schema = SchemaManager::new(&ctx.db);
    let guard = GuardHardDelete::<tenant::line::Entity>::new();
    if ctx.backend == sea_orm::DbBackend::Sqlite {
        let refused = guard.up(&schema).await.expect_err("an attached database");
        assert!(refused.to_string().contains("main database"), "{refused}");
        return;
    }
    guard.up(&schema).await.expect("guard the tenant's lines");
    // `lines` is a keyword on MySQL/MariaDB: quoted as each backend quotes.
    let q = |name: &str| match ctx.backend {
        sea_orm::DbBackend::MySql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    };
    let raw = |sql: String| sea_orm::Statement::from_string(ctx.backend, sql);
    let refused = ctx
        .db
        .execute_raw(raw(format!(
            "DELETE FROM {}.{} WHERE id = 1",
            q("sd_tenant"),
            q("lines")
        )))
        .await
        .expect_err("the tenant's lines are guarded");
    assert!(refused.to_string().contains(GUARD_MESSAGE), "{refused}");
    // The same-named table of the default schema is not.
    let twin = ctx
        .db
        .execute_raw(raw(format!("DELETE FROM {} WHERE id = 1", q("lines"))))
        .await
        .expect("the twin is not guarded");
    assert_eq!(twin.rows_affected(), 1);
    assert_eq!(
        tenant::line::Entity::force_delete_by_id(&ctx.db, 1i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tenant::line::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        5
    );
}

#[tokio::test]
async fn parallel_workers_on_a_schema_table_change_only_its_rows() {
    let ctx = test_context!().await;
    let _schema = world(&ctx).await;
    seed(&ctx).await;
    ctx.db
        .execute(&operation_log::create_parts_table(DEFAULT_TABLE))
        .await
        .expect("create the log's parts table");
    let before = decoys(&ctx).await;
    let workers = match ctx.backend {
        sea_orm::DbBackend::Sqlite => 1,
        _ => 2,
    };
    // Through a service whose configuration asks for two workers: its bulk operations take
    // them without saying so.
    let config = SoftDeleteConfig {
        parallelism: 2,
        ..logged()
    };
    let service = BaseService::<tenant::line::Entity, _>::with_config(&ctx.db, config);
    let walk = service
        .manager()
        .bulk_soft_delete_where::<tenant::line::Entity>(tenant::line::Column::Id.gt(0))
        .batch_size(1)
        .await
        .unwrap();
    assert_eq!((walk.workers, walk.affected), (workers, 6));
    assert_eq!(deleted(&ctx).await.0, (1..=6).collect::<Vec<_>>());
    let record = service
        .manager()
        .operation(walk.id)
        .await
        .unwrap()
        .expect("logged");
    assert_eq!(record.rows_in("sd_tenant.lines"), 6);
    // A one-record operation stays a batch of one, whatever the configuration says.
    assert!(service.restore(1i64).await.unwrap());
    // By ids, and a purge, through the manager.
    let manager = SoftDeleteManager::with_config(&ctx.db, logged());
    let restore = manager
        .bulk_restore::<tenant::line::Entity, _>(2..=6i64)
        .batch_size(1)
        .parallel(2)
        .await
        .unwrap();
    assert_eq!((restore.workers, restore.affected), (workers, 5));
    manager
        .bulk_soft_delete::<tenant::line::Entity, _>(1..=6i64)
        .await
        .unwrap();
    let purge = manager
        .hard_delete_before::<tenant::line::Entity>(Utc::now() + Duration::days(1))
        .batch_size(1)
        .parallel(2)
        .await
        .unwrap();
    assert_eq!((purge.workers, purge.affected), (workers, 6));
    assert!(
        tenant::line::Entity::find_with_deleted()
            .all(&ctx.db)
            .await
            .unwrap()
            .is_empty()
    );
    // The twins in the default schema never moved.
    assert_eq!(decoys(&ctx).await, before);
}

#[tokio::test]
async fn bulk_create_through_the_manager_and_the_service_returns_the_schemas_rows() {
    // The created models are read back from the schema's table (by `RETURNING`, or on
    // MySQL/MariaDB by a `SELECT` of their keys), never from its twin in the default schema.
    let ctx = test_context!().await;
    let _schema = world(&ctx).await;
    seed(&ctx).await;
    let before = decoys(&ctx).await;
    let row = |id: i64| tenant::line::ActiveModel {
        id: Set(id),
        note: Set(format!("new line {id}")),
        ..Default::default()
    };
    let by_manager = SoftDeleteManager::new(&ctx.db)
        .bulk_create::<tenant::line::Entity, _>((7..=9).map(row))
        .batch_size(2)
        .await
        .unwrap();
    let service = BaseService::<tenant::line::Entity, _>::new(&ctx.db);
    let by_service = service.bulk_create((10..=11).map(row)).await.unwrap();
    let created: Vec<tenant::line::Model> = by_manager
        .iter()
        .chain(by_service.iter())
        .cloned()
        .collect();
    let stored = tenant::line::Entity::find()
        .filter(tenant::line::Column::Id.gte(7))
        .order_by_asc(tenant::line::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    assert_eq!(created, stored);
    assert_eq!(
        created.iter().map(|l| l.note.as_str()).collect::<Vec<_>>(),
        (7..=11)
            .map(|id| format!("new line {id}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(decoys(&ctx).await, before, "the twin table is untouched");
}
