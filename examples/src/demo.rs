//! The prune command's demo data: customers and their orders, some soft-deleted long ago.

use futures::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, Set,
    TransactionTrait,
};
use soft_delete_core::archive::{archive_key_index, create_archive_table};
use soft_delete_core::{migration, operation_log};

use crate::{customer, order};

/// Creates and fills the demo tables when the database has none of `customers` and `orders`
/// (a database that has either is never touched), in one transaction where the backend has
/// transactional DDL (SQLite, PostgreSQL). Returns whether it did. The command's `--demo` runs
/// it (see `soft_delete_core::cli::Registry::demo`).
pub fn seed(db: &DatabaseConnection) -> BoxFuture<'_, Result<bool, DbErr>> {
    Box::pin(async move {
        let schema = sea_orm_migration::SchemaManager::new(db);
        if schema.has_table("customers").await? || schema.has_table("orders").await? {
            return Ok(false);
        }
        let txn = db.begin().await?;
        fill(&txn).await?;
        txn.commit().await?;
        Ok(true)
    })
}

async fn fill(db: &DatabaseTransaction) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute(&migration::create_table_from_entity::<customer::Entity>(
        backend,
    ))
    .await?;
    db.execute(&migration::create_table_from_entity::<order::Entity>(
        backend,
    ))
    .await?;
    for (statement, index) in [
        (
            create_archive_table::<customer::Entity>(backend, "customers_archive"),
            archive_key_index::<customer::Entity>("customers_archive"),
        ),
        (
            create_archive_table::<order::Entity>(backend, "orders_archive"),
            archive_key_index::<order::Entity>("orders_archive"),
        ),
    ] {
        db.execute(&statement).await?;
        db.execute(&index).await?;
    }
    // The operation log, for `ops` (with SOFT_DELETE_OPERATION_LOG=true), unless there is one.
    let log = operation_log::DEFAULT_TABLE;
    if !sea_orm_migration::SchemaManager::new(db)
        .has_table(log)
        .await?
    {
        db.execute(&operation_log::create_table(backend, log))
            .await?;
        db.execute(&operation_log::index(log)).await?;
    }
    // 1,000 customers: 200 soft-deleted 90 days ago, 100 ten days ago. Each has 5 orders;
    // a deleted customer's orders were deleted with it, and 500 more orders were deleted 60
    // days ago on their own.
    let now = chrono::Utc::now();
    let deleted_at = |id: i64| match id {
        1..=200 => Some(now - chrono::Duration::days(90)),
        201..=300 => Some(now - chrono::Duration::days(10)),
        _ => None,
    };
    let customers: Vec<customer::ActiveModel> = (1..=1_000)
        .map(|id| customer::ActiveModel {
            id: Set(id),
            name: Set(format!("customer {id}")),
            deleted_at: Set(deleted_at(id)),
            deleted_by: Set(deleted_at(id).map(|_| "seed".to_owned())),
            deletion_reason: Set(None),
            deletion_op: Set(None),
        })
        .collect();
    for chunk in customers.chunks(500) {
        customer::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    let orders: Vec<order::ActiveModel> = (1..=5_000)
        .map(|id| {
            let customer_id = (id - 1) / 5 + 1;
            let own = (id > 2_000 && id % 6 == 0).then(|| now - chrono::Duration::days(60));
            let at = deleted_at(customer_id).or(own);
            order::ActiveModel {
                id: Set(id),
                customer_id: Set(customer_id),
                total_cents: Set(id * 100),
                deleted_at: Set(at),
                deleted_by: Set(at.map(|_| "seed".to_owned())),
                deletion_reason: Set(None),
                deletion_op: Set(None),
            }
        })
        .collect();
    for chunk in orders.chunks(500) {
        order::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
