//! Watching bulk work with no code in the operation itself: a hook that sees each batch's keys
//! in its transaction, after-commit events, `tracing` spans per operation and per batch printed
//! as they close, and the `metrics` facade rendered by a Prometheus exporter. Embedded SQLite
//! (or `DATABASE_URL`).
//!
//! ```text
//! cargo run -p soft-delete-examples --example observe
//! ```

use std::error::Error;
use std::io::IsTerminal;
use std::sync::atomic::Ordering;

use metrics_exporter_prometheus::PrometheusBuilder;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use soft_delete_core::events::Events;
use soft_delete_core::migration;
use soft_delete_core::prelude::*;
use soft_delete_examples::{connect, database_url, hooked_user};
use tracing_subscriber::fmt::format::FmtSpan;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Spans print when they close, with their fields (operation id, table, batch) and timings.
    tracing_subscriber::fmt()
        .with_env_filter("soft_delete_core=info")
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    // Every counter and histogram of the crate lands here (no HTTP listener in this example:
    // `render` prints what Prometheus would scrape).
    let prometheus = PrometheusBuilder::new().install_recorder()?;

    let url = database_url();
    let db = connect(&url).await?;
    let backend = db.get_database_backend();
    db.execute_unprepared("DROP TABLE IF EXISTS users").await?;
    db.execute(&migration::create_table_from_entity::<hooked_user::Entity>(
        backend,
    ))
    .await?;
    let rows = 10_000i64;
    for chunk in (1..=rows).collect::<Vec<_>>().chunks(2_000) {
        hooked_user::Entity::insert_many(chunk.iter().map(|&id| hooked_user::ActiveModel {
            id: Set(id),
            name: Set(format!("user {id}")),
            email: Set(format!("user{id}@example.com")),
            ..Default::default()
        }))
        .exec_without_returning(&db)
        .await?;
    }

    // After-commit events, received by a task of their own.
    let events = Events::new(1024);
    let mut received = events.subscribe();
    let listener = tokio::spawn(async move {
        let (mut batches, mut rows) = (0u64, 0u64);
        while let Ok(event) = received.recv().await {
            batches += 1;
            rows += event.rows;
        }
        (batches, rows)
    });

    let config = SoftDeleteConfig {
        events: Some(events),
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&db, config);
    let report = manager
        .bulk_soft_delete::<hooked_user::Entity, _>(1..=rows)
        .deleted_by("ops")
        .reason("observed")
        .batch_size(2_500)
        .await?;
    println!("soft deleted: {report}");
    // The last sender goes with the manager's configuration: the listener's loop ends.
    drop(manager);
    let (batches, delivered) = listener.await?;
    println!("events: {batches} batches, {delivered} rows, after their COMMITs");
    println!(
        "the hook saw {} keys, in the batches' transactions",
        hooked_user::KEYS_SEEN.load(Ordering::Relaxed)
    );
    println!(
        "\nmetrics, as Prometheus scrapes them:\n{}",
        prometheus.render()
    );
    Ok(())
}
