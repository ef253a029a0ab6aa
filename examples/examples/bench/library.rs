//! The library's side: each operation through `SoftDeleteManager`, and the row-by-row SeaORM
//! loop that bulk operations replace.

use std::time::Instant;

use chrono::Utc;
use sea_orm::{DatabaseConnection, EntityTrait, Set};
use soft_delete_core::prelude::*;
use soft_delete_examples::{hooked_user, user};

use crate::args::Op;
use crate::{BoxError, Sample, stats_repeats};

/// The row the insert operations create, number `i`.
pub fn new_user(i: i64) -> user::ActiveModel {
    user::ActiveModel {
        name: Set(format!("user {i}")),
        email: Set(format!("user{i}@example.com")),
        ..Default::default()
    }
}

/// One timed run of `op` through the library on a table of `rows` rows; soft delete, restore
/// and purge with `workers` workers (see `BatchOptions::parallel`).
pub async fn run(
    db: &DatabaseConnection,
    op: Op,
    rows: i64,
    batch: usize,
    workers: usize,
) -> Result<Sample, BoxError> {
    let manager = SoftDeleteManager::new(db);
    let started = Instant::now();
    let done = match op {
        Op::CascadeSoftDelete => return crate::cascade::library(db, rows, batch).await,
        Op::CascadePurge => return crate::cascade::library_purge(db, rows, batch).await,
        Op::FlagSoftDelete | Op::PairedSoftDelete | Op::ActiveSoftDelete | Op::EpochSoftDelete => {
            let kind = crate::markers::Kind::of(op).ok_or("a marker operation")?;
            return crate::markers::library(db, kind, rows, batch).await;
        }
        Op::ArchivePurge => return crate::archive::library(db, batch).await,
        Op::GuardedArchivePurge => {
            guard(db).await?;
            return crate::archive::library(db, batch).await;
        }
        Op::GuardedPurge => {
            guard(db).await?;
            let started = Instant::now();
            let purged = manager
                .hard_delete_before::<user::Entity>(Utc::now())
                .batch_size(batch)
                .await?
                .affected;
            return Ok(Sample::new(purged, started.elapsed()));
        }
        Op::BulkSoftDelete => {
            manager
                .bulk_soft_delete::<user::Entity, _>(1..=rows)
                .deleted_by("bench")
                .batch_size(batch)
                .parallel(workers)
                .await?
                .affected
        }
        Op::HookedSoftDelete => {
            let seen = hooked_user::KEYS_SEEN.load(std::sync::atomic::Ordering::Relaxed);
            let affected = manager
                .bulk_soft_delete::<hooked_user::Entity, _>(1..=rows)
                .deleted_by("bench")
                .batch_size(batch)
                .await?
                .affected;
            let keys = hooked_user::KEYS_SEEN.load(std::sync::atomic::Ordering::Relaxed) - seen;
            if keys != affected {
                return Err(format!("the hook saw {keys} keys for {affected} rows").into());
            }
            affected
        }
        Op::BulkRestore => {
            manager
                .bulk_restore::<user::Entity, _>(1..=rows)
                .batch_size(batch)
                .parallel(workers)
                .await?
                .affected
        }
        Op::Purge => {
            manager
                .hard_delete_before::<user::Entity>(Utc::now())
                .batch_size(batch)
                .parallel(workers)
                .await?
                .affected
        }
        Op::BulkCreate => {
            let models = manager
                .bulk_create::<user::Entity, _>((1..=rows).map(new_user))
                .batch_size(batch)
                .await?;
            models.len() as u64
        }
        Op::BulkInsert => {
            manager
                .bulk_insert_stream::<user::Entity, _>(futures::stream::iter(
                    (1..=rows).map(new_user),
                ))
                .batch_size(batch)
                .await?
                .affected
        }
        Op::Stats => {
            let repeats = stats_repeats(rows);
            for _ in 0..repeats {
                let stats = manager.get_deletion_stats::<user::Entity>().await?;
                if stats.total != rows as u64 {
                    return Err(format!("stats counted {} rows, not {rows}", stats.total).into());
                }
            }
            rows as u64 * repeats
        }
    };
    Ok(Sample::new(done, started.elapsed()))
}

/// Installs the guard against a raw `DELETE` on `users` (not timed; the table is made afresh,
/// without it, before every run).
async fn guard(db: &DatabaseConnection) -> Result<(), BoxError> {
    use sea_orm::ConnectionTrait;
    let statements =
        soft_delete_core::outside::guard_hard_delete::<user::Entity>(db.get_database_backend())?;
    for statement in statements {
        db.execute_raw(statement).await?;
    }
    Ok(())
}

/// The same work one row at a time through SeaORM.
pub async fn row_by_row(db: &DatabaseConnection, op: Op, rows: i64) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let mut done = 0u64;
    match op {
        Op::CascadeSoftDelete => return crate::cascade::row_by_row(db, rows).await,
        Op::CascadePurge => return crate::cascade::row_by_row_purge(db, rows).await,
        Op::FlagSoftDelete | Op::PairedSoftDelete | Op::ActiveSoftDelete | Op::EpochSoftDelete => {
            let kind = crate::markers::Kind::of(op).ok_or("a marker operation")?;
            return crate::markers::row_by_row(db, kind, rows).await;
        }
        // One row per transaction: its copy and its delete.
        Op::ArchivePurge | Op::GuardedArchivePurge => return crate::archive::raw(db, 1).await,
        Op::BulkSoftDelete => {
            for id in 1..=rows {
                done += user::Entity::soft_delete_by_id(db, id)
                    .deleted_by("bench")
                    .await?;
            }
        }
        Op::HookedSoftDelete => {
            for id in 1..=rows {
                done += hooked_user::Entity::soft_delete_by_id(db, id)
                    .deleted_by("bench")
                    .await?;
            }
        }
        Op::BulkRestore => {
            for id in 1..=rows {
                done += user::Entity::restore_by_id(db, id).await?;
            }
        }
        Op::Purge | Op::GuardedPurge => {
            for id in 1..=rows {
                done += user::Entity::force_delete_by_id(db, id).await?;
            }
        }
        Op::BulkCreate | Op::BulkInsert => {
            for i in 1..=rows {
                sea_orm::ActiveModelTrait::insert(new_user(i), db).await?;
                done += 1;
            }
        }
        Op::Stats => {
            // Load every row and count in the application.
            let all = user::Entity::find().all(db).await?;
            let deleted = all.iter().filter(|u| u.is_deleted()).count();
            if deleted > all.len() {
                return Err("more deleted rows than rows".into());
            }
            done = all.len() as u64;
        }
    }
    Ok(Sample::new(done, started.elapsed()))
}
