//! The soft-delete tour: a `users` table on embedded SQLite (or `DATABASE_URL`), bulk soft
//! delete, statistics, bulk restore, scopes, a purge, and a million streamed ids with a progress
//! bar.
//!
//! ```text
//! cargo run --release -p soft-delete-examples --example bulk_operations
//! ```

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use soft_delete_core::migration;
use soft_delete_core::prelude::*;
use soft_delete_core::{AlertSink, BulkAlert};
use soft_delete_examples::{connect, database_url, per_second, user};

/// Prints alerts instead of logging them through `tracing`.
#[derive(Debug)]
struct PrintAlerts;

impl AlertSink for PrintAlerts {
    fn alert(&self, alert: &BulkAlert) {
        println!(
            "  ! alert: {} on `{}` reached {} rows (threshold {})",
            alert.operation, alert.table, alert.rows, alert.threshold
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = database_url();
    let db = connect(&url).await?;
    println!("database: {url} ({:?})", db.get_database_backend());

    let backend = db.get_database_backend();
    db.execute_unprepared("DROP TABLE IF EXISTS users").await?;
    db.execute(&migration::create_table_from_entity::<user::Entity>(
        backend,
    ))
    .await?;
    if let Some(index) =
        migration::DeletedAtIndex::recommended(backend).statement::<user::Entity>(backend)
    {
        db.execute(&index).await?;
    }

    // 1. Seed 5,000 users.
    let started = Instant::now();
    insert_users(&db, 1..=5_000, None).await?;
    step("created users", 5_000, started);

    let manager = SoftDeleteManager::new(&db).with_alert_sink(Arc::new(PrintAlerts));

    // 2. Soft delete 2,000 of them, 500 per batch.
    let report = manager
        .bulk_soft_delete::<user::Entity, _>(1..=2_000i64)
        .deleted_by("admin")
        .reason("Bulk cleanup")
        .batch_size(500)
        .await?;
    println!("soft deleted: {report}");

    // 3. Statistics, in one query.
    print_stats(&manager).await?;

    // 4. Restore 1,000.
    let report = manager
        .bulk_restore::<user::Entity, _>(1..=1_000i64)
        .batch_size(500)
        .await?;
    println!("restored:     {report}");

    // Scopes: one per query, and the last one chosen wins; filters stay.
    let ids_1000_to_1999 = Condition::all()
        .add(user::Column::Id.gte(1_000))
        .add(user::Column::Id.lt(2_000));
    let active = user::Entity::find_active()
        .filter(ids_1000_to_1999.clone())
        .count(&db)
        .await?;
    let everyone = user::Entity::find_active()
        .filter(ids_1000_to_1999)
        .with_deleted()
        .count(&db)
        .await?;
    println!("scopes:       ids 1000..2000: {active} active, {everyone} with the deleted ones");

    // 5. Purge what was deleted before the cutoff: preview first, then for real.
    let cutoff = Utc::now();
    let preview = manager
        .hard_delete_before::<user::Entity>(cutoff)
        .dry_run()
        .await?;
    println!(
        "purge preview: {} rows deleted before {cutoff}",
        preview.affected
    );
    let report = manager
        .hard_delete_before::<user::Entity>(cutoff)
        .batch_size(500)
        .await?;
    println!("purged:       {report}");
    print_stats(&manager).await?;

    // 6. A million streamed ids, with a progress bar.
    const MILLION: i64 = 1_000_000;
    let first = 10_001i64;
    let last = first + MILLION - 1;
    let started = Instant::now();
    let bar = progress_bar(MILLION as u64, "seeding");
    insert_users(&db, first..=last, Some(&bar)).await?;
    bar.finish_and_clear();
    step("created users", MILLION as u64, started);

    let bar = progress_bar(MILLION as u64, "soft deleting");
    let ids = futures::stream::iter(first..=last);
    let report = manager
        .bulk_soft_delete_stream::<user::Entity, _>(ids)
        .deleted_by("retention-job")
        .batch_size(5_000)
        .on_progress(|p| bar.set_position(p.processed))
        .await?;
    bar.finish_and_clear();
    println!("soft deleted: {report}");
    print_stats(&manager).await?;
    Ok(())
}

async fn insert_users(
    db: &sea_orm::DatabaseConnection,
    ids: std::ops::RangeInclusive<i64>,
    bar: Option<&ProgressBar>,
) -> Result<(), sea_orm::DbErr> {
    // 1,000 rows per INSERT stays below every backend's bind limit (3 columns each).
    let ids: Vec<i64> = ids.collect();
    for chunk in ids.chunks(1_000) {
        let rows = chunk.iter().map(|&id| user::ActiveModel {
            id: Set(id),
            name: Set(format!("user {id}")),
            email: Set(format!("user{id}@example.com")),
            ..Default::default()
        });
        user::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
        if let Some(bar) = bar {
            bar.inc(chunk.len() as u64);
        }
    }
    Ok(())
}

async fn print_stats<C>(manager: &SoftDeleteManager<'_, C>) -> Result<(), Box<dyn Error>>
where
    C: soft_delete_core::BulkConnection,
{
    let started = Instant::now();
    let stats = manager.get_deletion_stats::<user::Entity>().await?;
    println!(
        "stats:        {} total, {} active, {} deleted ({:.1}% deleted) in {:.1} ms",
        stats.total,
        stats.active,
        stats.deleted,
        stats.deletion_ratio * 100.0,
        started.elapsed().as_secs_f64() * 1000.0
    );
    let active = user::Entity::find_active()
        .count(manager.connection())
        .await?;
    assert_eq!(active, stats.active, "the scopes and the statistics agree");
    Ok(())
}

fn step(what: &str, rows: u64, started: Instant) {
    let elapsed = started.elapsed();
    println!(
        "{what}: {rows} rows in {:.3}s ({:.0} rows/s)",
        elapsed.as_secs_f64(),
        per_second(rows, elapsed)
    );
}

fn progress_bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_message(message);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
