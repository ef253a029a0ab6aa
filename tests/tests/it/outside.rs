//! Outside the ORM (`soft_delete_core::outside`): what another client sees, reading the live
//! view, after the library's own operations, for every marker.

use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryOrder, Set, Statement};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use soft_delete_core::outside::{self, CreateLiveView};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::marked::{
    enabled, enabled_at, epoch_ms, epoch_s, flagged, folder, paired,
};
use soft_delete_tests::{TestContext, test_context};

/// The ids a plain SQL client reads from `view`, in order.
async fn ids_in(ctx: &TestContext, view: &str) -> Vec<i64> {
    let rows = ctx
        .db
        .query_all_raw(Statement::from_string(
            ctx.backend,
            format!("SELECT id FROM {view} ORDER BY id"),
        ))
        .await
        .unwrap_or_else(|e| panic!("read {view}: {e}"));
    rows.iter()
        .map(|row| row.try_get_by_index::<i64>(0).unwrap())
        .collect()
}

/// Folders 1 and 2, with users 1..=3 in folder 1 and 4..=6 in folder 2 (`epoch_ms`, whose rows
/// follow their folder's soft delete and restore).
async fn folders_with_users<C: soft_delete_core::BulkConnection>(
    manager: &SoftDeleteManager<'_, C>,
) {
    manager
        .bulk_create::<folder::Entity, _>((1..=2).map(|id| folder::ActiveModel {
            id: Set(id),
            name: Set(format!("folder {id}")),
            ..Default::default()
        }))
        .await
        .unwrap();
    manager
        .bulk_create::<epoch_ms::Entity, _>((1..=6).map(|id| epoch_ms::ActiveModel {
            id: Set(id),
            email: Set(format!("u{id}@example.com")),
            folder_id: Set(Some(1 + (id - 1) / 3)),
            ..Default::default()
        }))
        .await
        .unwrap();
}

/// Every live view is exactly the library's live rows, and the deleted view its deleted ones,
/// after soft deletes one at a time, in batches and by condition, restores, and a cascade.
macro_rules! views_follow_the_marker {
    ($test:ident, $module:ident) => {
        #[tokio::test]
        async fn $test() {
            use $module as m;
            let ctx = test_context!().await;
            ctx.create_table::<folder::Entity>().await;
            ctx.create_table::<m::Entity>().await;
            let schema = SchemaManager::new(&ctx.db);
            let views = CreateLiveView::<m::Entity>::new().with_deleted_view();
            // Idempotent: twice.
            views.up(&schema).await.expect("create the views");
            views.up(&schema).await.expect("create the views again");
            let [live, deleted] = [
                outside::live_view_name::<m::Entity>(),
                outside::deleted_view_name::<m::Entity>(),
            ];
            let manager = SoftDeleteManager::new(&ctx.db);
            manager
                .bulk_create::<m::Entity, _>((1..=20).map(|id| m::ActiveModel {
                    id: Set(id),
                    email: Set(format!("u{id}@example.com")),
                    folder_id: Set(None),
                    ..Default::default()
                }))
                .await
                .unwrap();
            assert_eq!(ids_in(&ctx, &live).await, (1..=20).collect::<Vec<_>>());
            assert!(ids_in(&ctx, &deleted).await.is_empty());

            m::Entity::soft_delete_by_id(&ctx.db, 1i64).await.unwrap();
            manager
                .bulk_soft_delete::<m::Entity, _>(2..=8i64)
                .batch_size(3)
                .await
                .unwrap();
            manager
                .bulk_soft_delete_where::<m::Entity>(m::Column::Id.gte(19))
                .await
                .unwrap();
            manager
                .bulk_restore::<m::Entity, _>([2i64, 3])
                .await
                .unwrap();
            let library = |rows: Vec<m::Model>| rows.iter().map(|r| r.id).collect::<Vec<_>>();
            let active = m::Entity::find_active()
                .order_by_asc(m::Column::Id)
                .all(&ctx.db)
                .await
                .unwrap();
            let gone = m::Entity::find_deleted()
                .order_by_asc(m::Column::Id)
                .all(&ctx.db)
                .await
                .unwrap();
            assert_eq!(library(gone.clone()), [1, 4, 5, 6, 7, 8, 19, 20]);
            assert_eq!(ids_in(&ctx, &live).await, library(active));
            assert_eq!(ids_in(&ctx, &deleted).await, library(gone));

            views.down(&schema).await.expect("drop the views");
            views.down(&schema).await.expect("drop the views again");
            let read = ctx
                .db
                .query_all_raw(Statement::from_string(
                    ctx.backend,
                    format!("SELECT id FROM {live}"),
                ))
                .await;
            assert!(read.is_err(), "the view is gone");
        }
    };
}

views_follow_the_marker!(views_of_a_flag, flagged);
views_follow_the_marker!(views_of_a_flag_with_its_time, paired);
views_follow_the_marker!(views_of_a_reversed_flag, enabled);
views_follow_the_marker!(views_of_a_reversed_flag_with_its_time, enabled_at);
views_follow_the_marker!(views_of_an_epoch_in_seconds, epoch_s);
views_follow_the_marker!(views_of_an_epoch_in_milliseconds, epoch_ms);

#[tokio::test]
async fn the_live_view_follows_a_cascade() {
    let ctx = test_context!().await;
    ctx.create_table::<folder::Entity>().await;
    ctx.create_table::<epoch_ms::Entity>().await;
    let schema = SchemaManager::new(&ctx.db);
    CreateLiveView::<epoch_ms::Entity>::new()
        .up(&schema)
        .await
        .unwrap();
    let manager = SoftDeleteManager::new(&ctx.db);
    folders_with_users(&manager).await;
    let report = manager
        .bulk_soft_delete::<folder::Entity, _>([1i64])
        .await
        .unwrap();
    assert_eq!(report.cascaded, 3);
    assert_eq!(ids_in(&ctx, "epoch_ms_users_live").await, [4, 5, 6]);
    manager
        .bulk_restore::<folder::Entity, _>([1i64])
        .await
        .unwrap();
    assert_eq!(
        ids_in(&ctx, "epoch_ms_users_live").await,
        [1, 2, 3, 4, 5, 6]
    );
}

#[tokio::test]
async fn the_live_view_of_a_timestamp_is_updatable_where_the_backend_allows() {
    use soft_delete_tests::entities::user;
    let ctx = test_context!().await;
    soft_delete_tests::fixtures::seed_users(&ctx, 6).await;
    let schema = SchemaManager::new(&ctx.db);
    for views in [
        CreateLiveView::<user::Entity>::new(),
        CreateLiveView::<user::Entity>::named("people").with_deleted_view(),
    ] {
        views.up(&schema).await.unwrap();
    }
    SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>([1i64, 2])
        .await
        .unwrap();
    assert_eq!(ids_in(&ctx, "users_live").await, [3, 4, 5, 6]);
    assert_eq!(ids_in(&ctx, "people").await, [3, 4, 5, 6]);
    assert_eq!(ids_in(&ctx, "users_deleted").await, [1, 2]);

    // An update through the view reaches live rows only; SQLite's views are read-only.
    let update = |id: i64| {
        Statement::from_string(
            ctx.backend,
            format!("UPDATE users_live SET name = 'renamed' WHERE id = {id}"),
        )
    };
    match ctx.backend {
        DbBackend::Sqlite => {
            let refused = ctx.db.execute_raw(update(3)).await.expect_err("read-only");
            assert!(refused.to_string().contains("view"), "{refused}");
        }
        _ => {
            assert_eq!(
                ctx.db.execute_raw(update(1)).await.unwrap().rows_affected(),
                0
            );
            assert_eq!(
                ctx.db.execute_raw(update(3)).await.unwrap().rows_affected(),
                1
            );
            let renamed = user::Entity::find_by_id(3i64)
                .one(&ctx.db)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(renamed.name, "renamed");
        }
    }
}

/// `url` logging in as `role` with `password`.
fn url_as(url: &str, role: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let at = rest.rfind('@').unwrap();
    format!("{scheme}://{role}:{password}@{}", &rest[at + 1..])
}

#[tokio::test]
async fn row_security_shows_other_roles_live_rows_only() {
    use sea_orm::{Database, PaginatorTrait};
    use soft_delete_core::archive::create_archive_table;
    use soft_delete_core::operation_log::{self, DEFAULT_TABLE};
    use soft_delete_core::outside::EnableLiveRowSecurity;
    use soft_delete_tests::entities::user;
    let ctx = test_context!().await;
    soft_delete_tests::fixtures::seed_users(&ctx, 10).await;
    let schema = SchemaManager::new(&ctx.db);
    let security = EnableLiveRowSecurity::<user::Entity>::for_roles([format!(
        "sd_app_{}",
        std::process::id()
    )]);
    if ctx.backend != DbBackend::Postgres {
        let refused = security
            .up(&schema)
            .await
            .expect_err("no row security here");
        assert!(
            refused
                .to_string()
                .contains("row-level security is PostgreSQL's"),
            "{refused}"
        );
        return;
    }
    // The application's role (neither the owner nor a superuser) and a reader's.
    let (app, reader) = (
        format!("sd_app_{}", std::process::id()),
        format!("sd_reader_{}", std::process::id()),
    );
    for role in [&app, &reader] {
        let _ = ctx
            .db
            .execute_unprepared(&format!(r#"DROP OWNED BY "{role}""#))
            .await;
        let _ = ctx
            .db
            .execute_unprepared(&format!(r#"DROP ROLE IF EXISTS "{role}""#))
            .await;
        ctx.exec(&format!(
            r#"CREATE ROLE "{role}" LOGIN PASSWORD 'pw-{role}'"#
        ))
        .await;
        ctx.exec(&format!(
            r#"GRANT CONNECT ON DATABASE "{}" TO "{role}""#,
            ctx.name
        ))
        .await;
        ctx.exec(&format!(r#"GRANT USAGE ON SCHEMA public TO "{role}""#))
            .await;
    }
    for statement in [
        create_archive_table::<user::Entity>(ctx.backend, "users_archive"),
        operation_log::create_table(ctx.backend, DEFAULT_TABLE),
    ] {
        ctx.db.execute(&statement).await.unwrap();
    }
    ctx.exec(&format!(
        r#"GRANT SELECT, INSERT, UPDATE, DELETE ON users, users_archive, {DEFAULT_TABLE} TO "{app}""#
    ))
    .await;
    ctx.exec(&format!(
        r#"GRANT SELECT, UPDATE, DELETE ON users TO "{reader}""#
    ))
    .await;
    security.up(&schema).await.expect("turn row security on");
    security.up(&schema).await.expect("idempotent");

    let app_db = Database::connect(url_as(&ctx.url, &app, &format!("pw-{app}")))
        .await
        .expect("connect as the application");
    let reader_db = Database::connect(url_as(&ctx.url, &reader, &format!("pw-{reader}")))
        .await
        .expect("connect as the reader");
    let seen = |db: &'static str| {
        let db = if db == "app" { &app_db } else { &reader_db };
        async move {
            db.query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT id FROM users ORDER BY id",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<i64>(0).unwrap())
            .collect::<Vec<i64>>()
        }
    };

    // The application soft-deletes, reads every scope, restores, purges with archive, and logs.
    let config = SoftDeleteConfig {
        operation_log: Some(DEFAULT_TABLE.to_owned()),
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&app_db, config);
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=4i64)
        .batch_size(3)
        .await
        .unwrap();
    assert_eq!(report.affected, 4);
    assert_eq!(seen("reader").await, [5, 6, 7, 8, 9, 10]);
    assert_eq!(seen("app").await, (1..=10).collect::<Vec<_>>());
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&app_db)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        user::Entity::find_deleted().count(&app_db).await.unwrap(),
        4
    );
    assert_eq!(
        user::Entity::find_active().count(&reader_db).await.unwrap(),
        6
    );
    assert_eq!(
        user::Entity::find_deleted()
            .count(&reader_db)
            .await
            .unwrap(),
        0
    );
    manager
        .bulk_restore::<user::Entity, _>([1i64])
        .await
        .unwrap();
    assert_eq!(seen("reader").await, [1, 5, 6, 7, 8, 9, 10]);
    let purged = manager
        .purge_where::<user::Entity>(user::Column::Id.eq(2))
        .archive()
        .await
        .unwrap();
    assert_eq!((purged.affected, purged.archived), (1, 1));
    let logged = manager.operations().await.unwrap();
    assert_eq!(logged.len(), 3);

    // The reader changes live rows, but cannot soft-delete one: PostgreSQL checks that an
    // UPDATE's new row stays visible under the SELECT policy when the UPDATE reads the table (any
    // WHERE does). Nor can it restore or remove a deleted row, which it does not see.
    let raw = |sql: &str| Statement::from_string(DbBackend::Postgres, sql.to_owned());
    let renamed = reader_db
        .execute_raw(raw("UPDATE users SET name = 'renamed' WHERE id = 5"))
        .await
        .expect("another role updates a live row");
    assert_eq!(renamed.rows_affected(), 1);
    let refused = reader_db
        .execute_raw(raw("UPDATE users SET deleted_at = now() WHERE id = 5"))
        .await
        .expect_err("a soft delete by another role");
    assert!(
        refused
            .to_string()
            .contains("new row violates row-level security policy"),
        "{refused}"
    );
    assert_eq!(seen("reader").await, [1, 5, 6, 7, 8, 9, 10]);
    for sql in [
        "UPDATE users SET deleted_at = NULL WHERE id = 3",
        "DELETE FROM users WHERE id = 3",
    ] {
        assert_eq!(
            reader_db
                .execute_raw(raw(sql))
                .await
                .unwrap()
                .rows_affected(),
            0,
            "{sql}"
        );
    }
    assert_eq!(
        user::Entity::find_deleted().count(&app_db).await.unwrap(),
        2
    );

    // With the guard on as well: the reader's raw DELETE of a live row is refused outright,
    // and the application's purge and force delete still go through, counted exactly.
    use soft_delete_core::outside::{GUARD_MESSAGE, GuardHardDelete};
    GuardHardDelete::<user::Entity>::new()
        .up(&schema)
        .await
        .expect("install the guard");
    let refused = reader_db
        .execute_raw(raw("DELETE FROM users WHERE id = 6"))
        .await
        .expect_err("the guard refuses the reader's DELETE");
    assert!(refused.to_string().contains(GUARD_MESSAGE), "{refused}");
    let purged = manager
        .purge_where::<user::Entity>(user::Column::Id.eq(3))
        .await
        .unwrap();
    assert_eq!(purged.affected, 1);
    assert_eq!(
        manager
            .force_delete_by_id::<user::Entity, _>(6i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(seen("reader").await, [1, 5, 7, 8, 9, 10]);
    assert_eq!(seen("app").await, [1, 4, 5, 7, 8, 9, 10]);

    // A cascade under row security: the application soft-deletes a folder, its users follow,
    // and the reader sees exactly the live ones, before and after the restore.
    ctx.create_table::<folder::Entity>().await;
    ctx.create_table::<epoch_ms::Entity>().await;
    ctx.exec(&format!(
        r#"GRANT SELECT, INSERT, UPDATE, DELETE ON marked_folders, epoch_ms_users TO "{app}""#
    ))
    .await;
    ctx.exec(&format!(
        r#"GRANT SELECT ON marked_folders, epoch_ms_users TO "{reader}""#
    ))
    .await;
    for statements in [
        soft_delete_core::outside::enable_live_row_security::<folder::Entity>(&[&app]),
        soft_delete_core::outside::enable_live_row_security::<epoch_ms::Entity>(&[&app]),
    ] {
        for statement in statements {
            ctx.db.execute_raw(statement).await.unwrap();
        }
    }
    folders_with_users(&manager).await;
    let folder_users = |db: &sea_orm::DatabaseConnection| {
        let db = db.clone();
        async move {
            db.query_all_raw(raw("SELECT id FROM epoch_ms_users ORDER BY id"))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get_by_index::<i64>(0).unwrap())
                .collect::<Vec<i64>>()
        }
    };
    let cascade = manager
        .bulk_soft_delete::<folder::Entity, _>([1i64])
        .await
        .unwrap();
    assert_eq!(cascade.cascaded, 3);
    assert_eq!(folder_users(&reader_db).await, [4, 5, 6]);
    assert_eq!(folder_users(&app_db).await, [1, 2, 3, 4, 5, 6]);
    manager
        .bulk_restore::<folder::Entity, _>([1i64])
        .await
        .unwrap();
    assert_eq!(folder_users(&reader_db).await, [1, 2, 3, 4, 5, 6]);

    // Off again: the reader sees every row.
    security.down(&schema).await.expect("turn row security off");
    assert_eq!(seen("reader").await.len(), 7);
    drop((app_db, reader_db));
    for role in [&app, &reader] {
        ctx.exec(&format!(r#"DROP OWNED BY "{role}""#)).await;
        ctx.exec(&format!(r#"DROP ROLE "{role}""#)).await;
    }
}

/// A raw `DELETE` as another client sends it: refused by the guard, or how many rows it removed.
async fn raw_delete<C: ConnectionTrait>(db: &C, sql: &str) -> Result<u64, String> {
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .map(|done| done.rows_affected())
    .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_guard_refuses_a_raw_delete_and_lets_the_librarys_own_through() {
    use sea_orm::{ConnectOptions, Database, PaginatorTrait, TransactionTrait};
    use soft_delete_core::archive::create_archive_table;
    use soft_delete_core::outside::{GUARD_MESSAGE, GuardHardDelete};
    use soft_delete_tests::entities::user;
    let ctx = test_context!().await;
    soft_delete_tests::fixtures::seed_users(&ctx, 10).await;
    ctx.db
        .execute(&create_archive_table::<user::Entity>(
            ctx.backend,
            "users_archive",
        ))
        .await
        .unwrap();
    let schema = SchemaManager::new(&ctx.db);
    let guard = GuardHardDelete::<user::Entity>::new();
    guard.up(&schema).await.expect("install the guard");
    guard.up(&schema).await.expect("idempotent");
    // One connection for everything on a server: MySQL's mark lives on the session, so the
    // raw statements below run on the very session the library's batches ran on.
    let db = match ctx.backend {
        DbBackend::Sqlite => ctx.db.clone(),
        _ => {
            let mut options = ConnectOptions::new(ctx.url.clone());
            options.max_connections(1).sqlx_logging(false);
            Database::connect(options).await.unwrap()
        }
    };
    let users = || user::Entity::find_with_deleted().count(&db);
    let manager = SoftDeleteManager::new(&db);
    manager
        .bulk_soft_delete::<user::Entity, _>(1..=8i64)
        .await
        .unwrap();

    let refused = raw_delete(&db, "DELETE FROM users WHERE id = 1")
        .await
        .expect_err("a raw DELETE is refused");
    assert!(refused.contains(GUARD_MESSAGE), "{refused}");
    assert_eq!(users().await.unwrap(), 10);

    // The library's purge, archive and force delete go through, counted exactly.
    let purged = manager
        .purge_where::<user::Entity>(user::Column::Id.lte(2))
        .batch_size(1)
        .await
        .unwrap();
    assert_eq!(purged.affected, 2);
    assert!(purged.batches >= 2, "{purged:?}");
    let archived = manager
        .purge_where::<user::Entity>(user::Column::Id.between(3, 4))
        .archive()
        .await
        .unwrap();
    assert_eq!((archived.affected, archived.archived), (2, 2));
    assert_eq!(
        manager
            .force_delete_by_id::<user::Entity, _>(9i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(users().await.unwrap(), 5);
    // A purge that fails part-way takes its mark back too: a batch of a hook-free purge fails
    // when its archive is gone.
    ctx.exec("DROP TABLE users_archive").await;
    manager
        .purge_where::<user::Entity>(user::Column::Id.eq(5))
        .archive()
        .await
        .expect_err("no archive");

    // After all of it, on the same session, a raw DELETE is still refused; TRUNCATE too on
    // PostgreSQL.
    for sql in ["DELETE FROM users WHERE id = 6", "DELETE FROM users"] {
        let refused = raw_delete(&db, sql).await.expect_err(sql);
        assert!(refused.contains(GUARD_MESSAGE), "{sql}: {refused}");
    }
    if ctx.backend == DbBackend::Postgres {
        let refused = raw_delete(&db, "TRUNCATE users")
            .await
            .expect_err("truncate");
        assert!(refused.contains(GUARD_MESSAGE), "{refused}");
    }
    assert_eq!(users().await.unwrap(), 5);

    // Inside the caller's own transaction, a force delete's mark ends with its batch: a raw
    // DELETE later in the same transaction is refused.
    let txn = db.begin().await.unwrap();
    assert_eq!(
        user::Entity::force_delete_by_id(&txn, 7i64).await.unwrap(),
        1
    );
    let refused = raw_delete(&txn, "DELETE FROM users WHERE id = 8")
        .await
        .expect_err("refused in the caller's transaction too");
    assert!(refused.contains(GUARD_MESSAGE), "{refused}");
    // (PostgreSQL aborts the transaction on the refusal; the others keep it.)
    drop(txn);
    assert_eq!(users().await.unwrap(), 5);

    // Removed, the table takes raw deletes again.
    guard.down(&schema).await.expect("remove the guard");
    assert_eq!(
        raw_delete(&db, "DELETE FROM users WHERE id = 6").await,
        Ok(1)
    );
}

#[tokio::test]
async fn a_guarded_purge_with_a_lost_commit_and_a_cascade_counts_exactly() {
    use sea_orm::PaginatorTrait;
    use soft_delete_core::outside::GuardHardDelete;
    use soft_delete_tests::entities::user;
    use soft_delete_tests::faulty::{FaultyDb, Injected};
    let ctx = test_context!().await;
    soft_delete_tests::fixtures::seed_users(&ctx, 100).await;
    ctx.create_table::<folder::Entity>().await;
    ctx.create_table::<epoch_ms::Entity>().await;
    let schema = SchemaManager::new(&ctx.db);
    GuardHardDelete::<user::Entity>::new()
        .up(&schema)
        .await
        .unwrap();
    GuardHardDelete::<folder::Entity>::new()
        .up(&schema)
        .await
        .unwrap();
    GuardHardDelete::<epoch_ms::Entity>::new()
        .up(&schema)
        .await
        .unwrap();

    // A lost COMMIT, applied or not, of a guarded purge: checked, retried, counted once.
    let db = FaultyDb::new(ctx.db.clone());
    let manager = SoftDeleteManager::new(&db);
    manager
        .bulk_soft_delete_where::<user::Entity>(user::Column::Id.lte(80))
        .await
        .unwrap();
    let later = chrono::Utc::now() + chrono::Duration::seconds(1);
    db.inject(0, Injected::CommitLost);
    db.inject(3, Injected::ReplyLost);
    let report = manager
        .hard_delete_before::<user::Entity>(later)
        .batch_size(20)
        .await
        .expect("a range still there is retried, a purged one is empty");
    assert_eq!((report.affected, report.retries), (80, 1));
    assert_eq!(user::Entity::find().count(&ctx.db).await.unwrap(), 20);

    // A purge whose cascade removes the children of a guarded table.
    let manager = SoftDeleteManager::new(&ctx.db);
    folders_with_users(&manager).await;
    manager
        .bulk_soft_delete::<folder::Entity, _>([1i64])
        .await
        .unwrap();
    let purged = manager
        .purge_where::<folder::Entity>(folder::Column::Id.eq(1))
        .await
        .unwrap();
    assert_eq!((purged.affected, purged.cascaded), (1, 3));
    assert_eq!(
        epoch_ms::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        3
    );
    let refused = raw_delete(&ctx.db, "DELETE FROM epoch_ms_users").await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn every_hard_delete_entry_point_passes_the_guard_and_seaorms_own_delete_does_not() {
    use sea_orm::{ActiveModelTrait, PaginatorTrait};
    use soft_delete_core::outside::{GUARD_MESSAGE, GuardHardDelete};
    use soft_delete_core::prune::{Policy, Pruner};
    use soft_delete_tests::entities::{draft, user};
    let ctx = test_context!().await;
    soft_delete_tests::fixtures::seed_users(&ctx, 10).await;
    ctx.create_table::<draft::Entity>().await;
    let schema = SchemaManager::new(&ctx.db);
    GuardHardDelete::<user::Entity>::new()
        .up(&schema)
        .await
        .unwrap();
    GuardHardDelete::<draft::Entity>::new()
        .up(&schema)
        .await
        .unwrap();
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_soft_delete::<user::Entity, _>(1..=6i64)
        .await
        .unwrap();

    // The service's one-record hard delete.
    let service = BaseService::<user::Entity, _>::new(&ctx.db);
    assert!(service.hard_delete(1i64).await.unwrap());
    // A prune run.
    let report = Pruner::new(&manager)
        .policy(Policy::<user::Entity>::matching(user::Column::Id.lte(3)))
        .run()
        .await
        .unwrap();
    assert!(report.is_complete(), "{:?}", report.entities);
    assert_eq!(report.purged(), 2);
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        7
    );

    // `delete = "hard"` leaves SeaORM's delete SeaORM's: a plain DELETE, which the guard
    // refuses; the library's force delete of the same row goes through.
    draft::ActiveModel {
        id: Set(1),
        body: Set("draft".to_owned()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    let refused = draft::Entity::delete_by_id(1i64)
        .exec(&ctx.db)
        .await
        .expect_err("SeaORM's own DELETE is refused");
    assert!(refused.to_string().contains(GUARD_MESSAGE), "{refused}");
    assert_eq!(
        draft::Entity::force_delete_by_id(&ctx.db, 1i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        draft::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        0
    );
}
