//! Migration helpers on the backend `DATABASE_URL` names: new tables, columns added to existing
//! ones (idempotent, with `down`), and uniqueness among active rows.

use sea_orm::sea_query::{Alias, ColumnDef, Table};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait, SchemaManager};
use soft_delete_core::migration::{
    AddSoftDeleteColumns, DeletedAtIndex, SoftDeleteTableExt, create_unique_among_active,
    deleted_at_index_name, deleted_at_index_on, deleted_rows_index_name, drop_unique_among_active,
    unique_among_active_name,
};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{audited, post, user};
use soft_delete_tests::{TestContext, test_context};

/// `users` as a legacy schema had it: no soft-delete columns.
async fn legacy_users_table(ctx: &TestContext) {
    let manager = SchemaManager::new(&ctx.db);
    manager
        .create_table(
            Table::create()
                .table(Alias::new("users"))
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Alias::new("name")).string().not_null())
                .col(ColumnDef::new(Alias::new("email")).string().not_null())
                .to_owned(),
        )
        .await
        .expect("create the legacy table");
    ctx.exec("INSERT INTO users (name, email) VALUES ('ann', 'ann@example.com'), ('bob', 'bob@example.com')")
        .await;
}

async fn columns_present(manager: &SchemaManager<'_>, table: &str, columns: &[&str]) -> Vec<bool> {
    let mut present = Vec::new();
    for column in columns {
        present.push(
            manager
                .has_column(table, *column)
                .await
                .expect("has_column"),
        );
    }
    present
}

const SOFT_DELETE_COLUMNS: [&str; 3] = ["deleted_at", "deleted_by", "deletion_reason"];

#[tokio::test]
async fn add_columns_is_idempotent_and_reversible() {
    let ctx = test_context!().await;
    legacy_users_table(&ctx).await;
    let manager = SchemaManager::new(&ctx.db);
    let migration = AddSoftDeleteColumns::<user::Entity>::new();
    assert_eq!(migration.name(), "m_soft_delete_add_columns_users");
    assert_eq!(
        columns_present(&manager, "users", &SOFT_DELETE_COLUMNS).await,
        [false; 3]
    );

    migration.up(&manager).await.expect("first up");
    migration
        .up(&manager)
        .await
        .expect("second up changes nothing");
    assert_eq!(
        columns_present(&manager, "users", &SOFT_DELETE_COLUMNS).await,
        [true; 3]
    );
    let index = DeletedAtIndex::recommended(ctx.backend);
    if let Some(name) = index.name::<user::Entity>() {
        assert!(manager.has_index("users", &name).await.unwrap(), "{name}");
    }

    // Existing rows are active, and the entity works on the migrated table.
    assert_eq!(user::Entity::find_active().count(&ctx.db).await.unwrap(), 2);
    assert_eq!(
        user::Entity::soft_delete_by_id(&ctx.db, 1)
            .deleted_by("ops")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        user::Entity::find_deleted().count(&ctx.db).await.unwrap(),
        1
    );

    migration.down(&manager).await.expect("down");
    assert_eq!(
        columns_present(&manager, "users", &SOFT_DELETE_COLUMNS).await,
        [false; 3]
    );
    for name in [
        deleted_at_index_name::<user::Entity>(),
        deleted_rows_index_name::<user::Entity>(),
    ] {
        assert!(!manager.has_index("users", &name).await.unwrap(), "{name}");
    }
    migration
        .down(&manager)
        .await
        .expect("down twice changes nothing");
    let rows = ctx.scalar_i64("SELECT COUNT(*) FROM users").await;
    assert_eq!(rows, 2, "down drops columns, not rows");

    migration.up(&manager).await.expect("up again");
    assert_eq!(
        columns_present(&manager, "users", &SOFT_DELETE_COLUMNS).await,
        [true; 3]
    );
}

#[tokio::test]
async fn add_columns_keeps_the_columns_a_table_already_has() {
    let ctx = test_context!().await;
    legacy_users_table(&ctx).await;
    ctx.exec("ALTER TABLE users ADD COLUMN deleted_by VARCHAR(100) NULL")
        .await;
    // By name: a Galera cluster interleaves AUTO_INCREMENT ids across its nodes.
    ctx.exec("UPDATE users SET deleted_by = 'kept' WHERE name = 'bob'")
        .await;
    let manager = SchemaManager::new(&ctx.db);
    AddSoftDeleteColumns::<user::Entity>::new()
        .up(&manager)
        .await
        .expect("up adds only what is missing");
    assert_eq!(
        columns_present(&manager, "users", &SOFT_DELETE_COLUMNS).await,
        [true; 3]
    );
    let bob = user::Entity::find()
        .filter(user::Column::Name.eq("bob"))
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.deleted_by.as_deref(), Some("kept"));
}

#[tokio::test]
async fn audited_entities_get_their_audit_columns_too() {
    let ctx = test_context!().await;
    let manager = SchemaManager::new(&ctx.db);
    manager
        .create_table(
            Table::create()
                .table(Alias::new("audited_notes"))
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Alias::new("body")).string().not_null())
                .to_owned(),
        )
        .await
        .unwrap();
    let migration = AddSoftDeleteColumns::<audited::Entity>::new();
    migration.up(&manager).await.unwrap();
    let all = [
        "deleted_at",
        "deleted_by",
        "deletion_reason",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ];
    assert_eq!(
        columns_present(&manager, "audited_notes", &all).await,
        [true; 7]
    );
    let note = audited::ActiveModel {
        body: Set("hello".into()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    assert_eq!(
        audited::Entity::soft_delete_by_id(&ctx.db, note.id)
            .await
            .unwrap(),
        1
    );
    migration.down(&manager).await.unwrap();
    assert_eq!(
        columns_present(&manager, "audited_notes", &all).await,
        [false; 7]
    );
}

mod migrator {
    use super::*;

    pub struct Migrator;

    impl MigratorTrait for Migrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![
                Box::new(AddSoftDeleteColumns::<user::Entity>::new()),
                Box::new(AddSoftDeleteColumns::<post::Entity>::new()),
            ]
        }
    }
}

#[tokio::test]
async fn a_migrator_lists_them_like_any_other_migration() {
    let ctx = test_context!().await;
    legacy_users_table(&ctx).await;
    let manager = SchemaManager::new(&ctx.db);
    manager
        .create_table(
            Table::create()
                .table(Alias::new("posts"))
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Alias::new("user_id"))
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Alias::new("title")).string().not_null())
                .to_owned(),
        )
        .await
        .unwrap();
    migrator::Migrator::up(&ctx.db, None)
        .await
        .expect("migrate up");
    assert_eq!(
        columns_present(&manager, "posts", &SOFT_DELETE_COLUMNS).await,
        [true; 3]
    );
    assert_eq!(
        columns_present(&manager, "users", &SOFT_DELETE_COLUMNS).await,
        [true; 3]
    );
    let applied = migrator::Migrator::get_applied_migrations(&ctx.db)
        .await
        .unwrap();
    let names: Vec<String> = applied.iter().map(|m| m.name().to_owned()).collect();
    assert_eq!(
        names,
        [
            "m_soft_delete_add_columns_users",
            "m_soft_delete_add_columns_posts"
        ]
    );
    migrator::Migrator::down(&ctx.db, None)
        .await
        .expect("migrate down");
    assert_eq!(
        columns_present(&manager, "posts", &SOFT_DELETE_COLUMNS).await,
        [false; 3]
    );
    assert_eq!(
        columns_present(&manager, "users", &SOFT_DELETE_COLUMNS).await,
        [false; 3]
    );
    migrator::Migrator::up(&ctx.db, None)
        .await
        .expect("migrate up again");
    assert_eq!(
        columns_present(&manager, "users", &SOFT_DELETE_COLUMNS).await,
        [true; 3]
    );
}

#[tokio::test]
async fn table_create_extension_makes_working_columns() {
    let ctx = test_context!().await;
    let manager = SchemaManager::new(&ctx.db);
    let backend = ctx.backend;
    manager
        .create_table(
            Table::create()
                .table(Alias::new("users"))
                .col(
                    ColumnDef::new(Alias::new("id"))
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Alias::new("name")).string().not_null())
                .col(ColumnDef::new(Alias::new("email")).string().not_null())
                .soft_delete_columns(backend)
                .to_owned(),
        )
        .await
        .expect("create with the extension");
    manager
        .create_index(deleted_at_index_on("users", "deleted_at"))
        .await
        .unwrap();
    assert!(
        manager
            .has_index("users", "idx_users_deleted_at")
            .await
            .unwrap()
    );
    let ann = user::ActiveModel {
        name: Set("ann".into()),
        email: Set("ann@example.com".into()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    // Microseconds survive on every backend (MySQL's plain TIMESTAMP would drop them).
    let at = chrono::Utc::now() - chrono::Duration::days(1);
    let at = chrono::DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap();
    user::Entity::soft_delete_by_id(&ctx.db, ann.id)
        .at(at)
        .reason("long reason ".repeat(40))
        .await
        .unwrap();
    let stored = user::Entity::find_by_id(ann.id)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.deleted_at, Some(at));
    assert_eq!(stored.deletion_reason.map(|r| r.len()), Some(480));

    let entity_table = Table::create()
        .table(Alias::new("posts"))
        .col(
            ColumnDef::new(Alias::new("id"))
                .big_integer()
                .not_null()
                .auto_increment()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Alias::new("user_id"))
                .big_integer()
                .not_null(),
        )
        .col(ColumnDef::new(Alias::new("title")).string().not_null())
        .soft_delete_columns_of::<post::Entity>(backend)
        .to_owned();
    manager.create_table(entity_table).await.unwrap();
    assert_eq!(
        columns_present(&manager, "posts", &SOFT_DELETE_COLUMNS).await,
        [true; 3]
    );
}

async fn insert_user(
    ctx: &TestContext,
    name: &str,
    email: &str,
) -> Result<user::Model, sea_orm::DbErr> {
    user::ActiveModel {
        name: Set(name.into()),
        email: Set(email.into()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
}

#[tokio::test]
async fn unique_among_active_rows() {
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    let manager = SchemaManager::new(&ctx.db);
    let email = [user::Column::Email];
    create_unique_among_active::<user::Entity>(&manager, &email)
        .await
        .expect("create");
    create_unique_among_active::<user::Entity>(&manager, &email)
        .await
        .expect("create twice changes nothing");
    assert!(
        manager
            .has_index("users", unique_among_active_name::<user::Entity>(&email))
            .await
            .unwrap()
    );

    let first = insert_user(&ctx, "ann", "a@example.com").await.unwrap();
    insert_user(&ctx, "ann again", "a@example.com")
        .await
        .expect_err("two active rows may not share the email");

    // Once the first is deleted, the email can be used again, even twice over.
    user::Entity::soft_delete_by_id(&ctx.db, first.id)
        .await
        .unwrap();
    let second = insert_user(&ctx, "ann 2", "a@example.com")
        .await
        .expect("reuse after delete");
    user::Entity::soft_delete_by_id(&ctx.db, second.id)
        .await
        .unwrap();
    let third = insert_user(&ctx, "ann 3", "a@example.com")
        .await
        .expect("reuse again");

    // Restoring into a conflict is rejected, and changes nothing.
    user::Entity::restore_by_id(&ctx.db, first.id)
        .await
        .expect_err("restoring a duplicate of an active row");
    assert!(
        user::Entity::find_by_id(first.id)
            .one(&ctx.db)
            .await
            .unwrap()
            .unwrap()
            .is_deleted()
    );
    user::Entity::soft_delete_by_id(&ctx.db, third.id)
        .await
        .unwrap();
    assert_eq!(
        user::Entity::restore_by_id(&ctx.db, first.id)
            .await
            .unwrap(),
        1
    );
    // The model does not declare the MySQL helper column, and still reads and writes.
    assert_eq!(user::Entity::find_active().count(&ctx.db).await.unwrap(), 1);

    drop_unique_among_active::<user::Entity>(&manager, &email)
        .await
        .expect("drop");
    drop_unique_among_active::<user::Entity>(&manager, &email)
        .await
        .expect("drop twice changes nothing");
    insert_user(&ctx, "dup", "a@example.com")
        .await
        .expect("no constraint any more");
    if ctx.backend == sea_orm::DbBackend::MySql {
        assert!(
            !manager
                .has_column("users", "soft_delete_active")
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn unique_among_active_over_several_columns_and_indexes() {
    let ctx = test_context!().await;
    ctx.create_table::<user::Entity>().await;
    let manager = SchemaManager::new(&ctx.db);
    let pair = [user::Column::Name, user::Column::Email];
    let email = [user::Column::Email];
    create_unique_among_active::<user::Entity>(&manager, &pair)
        .await
        .unwrap();
    create_unique_among_active::<user::Entity>(&manager, &email)
        .await
        .unwrap();
    let a = insert_user(&ctx, "a", "x@example.com").await.unwrap();
    insert_user(&ctx, "b", "x@example.com")
        .await
        .expect_err("email index");
    user::Entity::soft_delete_by_id(&ctx.db, a.id)
        .await
        .unwrap();
    insert_user(&ctx, "a", "x@example.com")
        .await
        .expect("both indexes allow it now");
    // Dropping one index keeps the other (and, on MySQL, the shared helper column).
    drop_unique_among_active::<user::Entity>(&manager, &pair)
        .await
        .unwrap();
    insert_user(&ctx, "c", "x@example.com")
        .await
        .expect_err("the email index still holds");
    assert!(ctx.db.execute_unprepared("SELECT 1").await.is_ok());
}
