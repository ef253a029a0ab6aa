//! Migrations with soft-delete: a `Migrator` that creates one table from its entity, adds the
//! soft-delete columns to an existing table, and makes emails unique among active users; run up,
//! down and up again, printing the schema after each step.
//!
//! ```text
//! cargo run -p soft-delete-examples --example migration
//! DATABASE_URL=postgres://user:pass@127.0.0.1:5432/db cargo run -p soft-delete-examples --example migration
//! ```

use std::error::Error;

use sea_orm::sea_query::{Alias, ColumnDef, Table};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use sea_orm_migration::prelude::*;
use soft_delete_core::migration::{
    AddSoftDeleteColumns, DeletedAtIndex, create_table_from_entity, create_unique_among_active,
    drop_unique_among_active,
};
use soft_delete_examples::{connect, database_url, post, user};

/// Creates `posts` from its entity, with the `deleted_at` index.
struct CreatePosts;

impl MigrationName for CreatePosts {
    fn name(&self) -> &str {
        "m001_create_posts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreatePosts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(create_table_from_entity::<post::Entity>(backend))
            .await?;
        // The index on `deleted_at` this crate recommends for the backend (deleted rows only,
        // where the backend has partial indexes).
        match DeletedAtIndex::recommended(backend).statement::<post::Entity>(backend) {
            Some(index) => manager.create_index(index).await,
            None => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("posts")).to_owned())
            .await
    }
}

/// Makes `users.email` unique among users that are not soft-deleted.
struct UniqueActiveEmail;

impl MigrationName for UniqueActiveEmail {
    fn name(&self) -> &str {
        "m003_unique_active_email"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UniqueActiveEmail {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_unique_among_active::<user::Entity>(manager, &[user::Column::Email]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_unique_among_active::<user::Entity>(manager, &[user::Column::Email]).await
    }
}

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreatePosts),
            // m002: the existing `users` table gains its soft-delete columns and index.
            Box::new(AddSoftDeleteColumns::<user::Entity>::new()),
            Box::new(UniqueActiveEmail),
        ]
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = database_url();
    let db = connect(&url).await?;
    println!("database: {url}");

    // Start from an application that already has a `users` table, without soft delete.
    db.execute_unprepared("DROP TABLE IF EXISTS posts").await?;
    db.execute_unprepared("DROP TABLE IF EXISTS users").await?;
    db.execute_unprepared("DROP TABLE IF EXISTS seaql_migrations")
        .await?;
    let manager = SchemaManager::new(&db);
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
        .await?;
    db.execute_unprepared(
        "INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com'), ('Grace', 'grace@example.com')",
    )
    .await?;
    print_schema(&db, "before migrating").await?;

    Migrator::up(&db, None).await?;
    print_schema(&db, "after up").await?;

    Migrator::down(&db, None).await?;
    print_schema(&db, "after down").await?;

    Migrator::up(&db, None).await?;
    print_schema(&db, "after up again").await?;
    Ok(())
}

async fn print_schema(db: &DatabaseConnection, step: &str) -> Result<(), DbErr> {
    println!("\n== schema {step} ==");
    let backend = db.get_database_backend();
    let query = match backend {
        DbBackend::Sqlite => {
            "SELECT sql FROM sqlite_master WHERE name IN ('users', 'posts') \
             OR tbl_name IN ('users', 'posts') AND type = 'index' AND sql IS NOT NULL ORDER BY type DESC, name"
                .to_owned()
        }
        DbBackend::Postgres => "SELECT table_name || '.' || column_name || ' ' || data_type || \
             CASE WHEN is_nullable = 'YES' THEN ' NULL' ELSE ' NOT NULL' END \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name IN ('users', 'posts') \
             UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename IN ('users', 'posts')"
            .to_owned(),
        _ => "SELECT CONCAT(table_name, '.', column_name, ' ', column_type, \
             IF(is_nullable = 'YES', ' NULL', ' NOT NULL'), ' ', extra) \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name IN ('users', 'posts') \
             UNION ALL SELECT DISTINCT CONCAT('index ', table_name, '.', index_name) \
             FROM information_schema.statistics WHERE table_schema = DATABASE() \
             AND table_name IN ('users', 'posts')"
            .to_owned(),
    };
    for row in db
        .query_all_raw(Statement::from_string(backend, query))
        .await?
    {
        let line: String = row.try_get_by_index(0)?;
        println!("  {line}");
    }
    Ok(())
}
