//! `prune`: removes soft-deleted rows past their retention, as an operator runs it from cron.
//!
//! ```text
//! cargo run -p soft-delete-examples --example prune -- --help
//! cargo run -p soft-delete-examples --example prune -- --older-than 30d --dry-run
//! cargo run -p soft-delete-examples --example prune -- --entity orders --archive --max-duration 10m
//! cargo run -p soft-delete-examples --example prune -- --max-replica-lag 2s --stop-file /tmp/stop-prune
//! ```
//!
//! It runs against `DATABASE_URL`, by default the embedded SQLite file `prune-demo.db` in the
//! current directory. A database without `customers` and `orders` tables gets them, seeded with
//! demo data; one that has either is never changed but by the prune itself. Exit status: 0 when every entity was pruned to the end (or counted, for a dry
//! run), 3 when the run stopped before that (`--max-duration`, `--stop-file`, or Ctrl-C: the batch
//! in flight finishes first), 1 on an error (an entity's purge failed, or the database could not be
//! reached), 2 for a bad command line.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, Set,
    TransactionTrait,
};
use soft_delete_core::StopSignal;
use soft_delete_core::archive::{archive_key_index, create_archive_table};
use soft_delete_core::migration;
use soft_delete_core::prelude::*;
use soft_delete_core::prune::{Policy, PruneReport, Pruner};
use soft_delete_core::throttle::{MySqlReplicaLag, PostgresReplicaLag, Throttle};
use soft_delete_examples::{connect, customer, order};

/// The entities this command knows, by table name, children before parents.
const ENTITIES: [&str; 2] = ["orders", "customers"];

/// Removes soft-deleted rows past their retention, entity by entity (children before their
/// parents), in batches, optionally copying them into `<table>_archive` first.
///
/// Runs against DATABASE_URL; without it, against the SQLite file prune-demo.db in the current
/// directory, seeded with demo customers and orders when it has no tables.
///
/// Exit status: 0 finished, 1 error, 2 bad arguments, 3 stopped before finishing
/// (--max-duration, --stop-file or Ctrl-C).
#[derive(Debug, Parser)]
#[command(name = "prune", version, about, long_about)]
struct Args {
    /// Remove rows soft-deleted longer ago than this: 30d, 12h, 90m, 45s (default: the
    /// configuration's retention, SOFT_DELETE_RETENTION_DAYS or 30 days).
    #[arg(long, value_name = "AGE", value_parser = parse_duration)]
    older_than: Option<Duration>,

    /// Prune only this entity (its table name); repeat for more. Default: all of them.
    #[arg(long = "entity", value_name = "TABLE", value_parser = clap::builder::PossibleValuesParser::new(ENTITIES))]
    entities: Vec<String>,

    /// Count what would be removed, and remove nothing.
    #[arg(long)]
    dry_run: bool,

    /// Copy each row into <table>_archive before removing it, in the same transaction.
    #[arg(long)]
    archive: bool,

    /// Start no new batch after this long (10m, 1h, …); the exit status is then 3.
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    max_duration: Option<Duration>,

    /// Rows per batch (and per transaction).
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    batch_size: Option<u64>,

    /// Wait this long between batches, to leave the database room (100ms, 1s, …).
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pause: Option<Duration>,

    /// After each batch, wait this many times as long as the batch took (0.5, 1, …;
    /// pt-archiver's --sleep-coef).
    #[arg(long, value_name = "FACTOR", value_parser = parse_coefficient)]
    sleep_coef: Option<f64>,

    /// Hold each batch while a replica is further behind than this (2s, 500ms, …). On
    /// PostgreSQL the lag is read on the primary's pg_stat_replication, or on each --replica;
    /// on MySQL/MariaDB on each --replica (SHOW REPLICA STATUS), which is then required.
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    max_replica_lag: Option<Duration>,

    /// A replica's URL, for --max-replica-lag; repeat for more.
    #[arg(long = "replica", value_name = "URL", requires = "max_replica_lag")]
    replicas: Vec<String>,

    /// Give up on an entity after its batch was held this long by --max-replica-lag
    /// [default: 5m].
    #[arg(long, value_name = "TIME", value_parser = parse_duration, requires = "max_replica_lag")]
    max_lag_wait: Option<Duration>,

    /// Stop after the current batch once this file exists (pt-archiver's --sentinel); the exit
    /// status is then 3.
    #[arg(long, value_name = "PATH")]
    stop_file: Option<std::path::PathBuf>,

    /// No progress bars (they are also off when the output is not a terminal).
    #[arg(long)]
    quiet: bool,
}

/// `30d`, `12h`, `10m`, `45s`, `250ms`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` has no unit: write 30d, 12h, 10m, 45s or 250ms"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a whole number"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(number)),
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use d, h, m, s or ms"
            ));
        }
    };
    number
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

/// A factor from 0 to 100.
fn parse_coefficient(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(factor) if (0.0..=100.0).contains(&factor) => Ok(factor),
        _ => Err(format!("`{text}` is not a number from 0 to 100")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "sqlite://prune-demo.db?mode=rwc".to_owned());
    if args.max_replica_lag.is_some() {
        let problem = if url.starts_with("sqlite:") {
            Some("--max-replica-lag needs a PostgreSQL or MySQL/MariaDB DATABASE_URL")
        } else if (url.starts_with("mysql:") || url.starts_with("mariadb:"))
            && args.replicas.is_empty()
        {
            Some("--max-replica-lag on MySQL/MariaDB needs the replicas: --replica URL")
        } else {
            None
        };
        if let Some(problem) = problem {
            eprintln!("prune: {problem}");
            return ExitCode::from(2);
        }
    }
    match run(args, url).await {
        Ok(report) if report.is_complete() => ExitCode::SUCCESS,
        Ok(report) if report.failures().next().is_some() => ExitCode::from(1),
        Ok(_) => ExitCode::from(3),
        Err(error) => {
            eprintln!("prune: {error}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args, url: String) -> Result<PruneReport, Box<dyn std::error::Error>> {
    let db = connect(&url).await?;
    if seed_if_empty(&db).await? {
        println!("seeded demo data into {url}");
    }
    let config = SoftDeleteConfig::from_env()?;
    let manager = SoftDeleteManager::with_config(&db, config);

    let wanted = |table: &str| args.entities.is_empty() || args.entities.iter().any(|e| e == table);
    let mut pruner = Pruner::new(&manager);
    if wanted("orders") {
        let mut policy = Policy::<order::Entity>::retention();
        if args.archive {
            policy = policy.archive();
        }
        pruner = pruner.policy(policy);
    }
    if wanted("customers") {
        let mut policy = Policy::<customer::Entity>::retention();
        if args.archive {
            policy = policy.archive();
        }
        pruner = pruner.policy(policy);
    }
    if let Some(age) = args.older_than {
        pruner = pruner.older_than(age);
    }
    if let Some(limit) = args.max_duration {
        pruner = pruner.max_duration(limit);
    }
    if let Some(rows) = args.batch_size {
        pruner = pruner.batch_size(rows as usize);
    }
    if let Some(pause) = args.pause {
        pruner = pruner.pause_between_batches(pause);
    }
    if let Some(factor) = args.sleep_coef {
        pruner = pruner.sleep_coefficient(factor);
    }
    if args.dry_run {
        pruner = pruner.dry_run();
    }
    if let Some(max_lag) = args.max_replica_lag {
        let mut replicas = Vec::new();
        for replica in &args.replicas {
            replicas.push(connect(replica).await?);
        }
        let throttle: Arc<dyn Throttle> = match db.get_database_backend() {
            DbBackend::Postgres if replicas.is_empty() => {
                Arc::new(PostgresReplicaLag::on_primary(db.clone(), max_lag))
            }
            DbBackend::Postgres => Arc::new(PostgresReplicaLag::on_replicas(replicas, max_lag)),
            _ => Arc::new(MySqlReplicaLag::new(replicas, max_lag)),
        };
        pruner = pruner.throttle(throttle);
        if let Some(limit) = args.max_lag_wait {
            pruner = pruner.max_throttle_wait(limit);
        }
    }

    // Ctrl-C (or SIGTERM, as cron and systemd send) stops the run after the batch in flight.
    let stop = StopSignal::new();
    pruner = pruner.stop_on(stop.clone());
    tokio::spawn({
        let stop = stop.clone();
        async move {
            shutdown_requested().await;
            eprintln!("prune: stopping after the current batch");
            stop.stop();
        }
    });
    // So does the stop file, looked for twice a second (and before the first batch).
    if let Some(path) = args.stop_file.clone() {
        if path.exists() {
            stop.stop();
        }
        tokio::spawn({
            let stop = stop.clone();
            async move {
                while !stop.is_stopped() {
                    if path.exists() {
                        eprintln!(
                            "prune: {} exists: stopping after the current batch",
                            path.display()
                        );
                        stop.stop();
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        });
    }

    let show_bars =
        !args.quiet && !args.dry_run && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let bars = Arc::new(if show_bars {
        progress_bars(&pruner)?
    } else {
        Vec::new()
    });
    if show_bars {
        let bars = Arc::clone(&bars);
        pruner = pruner.on_progress(move |table, progress| {
            if let Some((_, bar)) = bars.iter().find(|(name, _)| name == table) {
                bar.set_position(progress.affected);
            }
        });
    }

    println!(
        "{} {} in order: {}",
        if args.dry_run { "counting" } else { "pruning" },
        if args.archive {
            "with archive"
        } else {
            "without archive"
        },
        pruner.order().join(", ")
    );
    let report = pruner.run().await?;
    // The counters give way to the report.
    for (_, bar) in bars.iter() {
        bar.finish_and_clear();
    }
    for entity in &report.entities {
        println!("{entity}");
    }
    let verdict = if report.is_complete() {
        "finished"
    } else if report.failures().next().is_some() {
        "failed"
    } else {
        "stopped before finishing"
    };
    println!(
        "{verdict}: {} rows {} in {:.2}s",
        report.purged(),
        if args.dry_run {
            "would be removed"
        } else {
            "removed"
        },
        report.elapsed.as_secs_f64()
    );
    Ok(report)
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn shutdown_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// One counter per entity, in the order the pruner takes them.
fn progress_bars(
    pruner: &Pruner<'_, DatabaseConnection>,
) -> Result<Vec<(String, ProgressBar)>, Box<dyn std::error::Error>> {
    let multi = MultiProgress::new();
    let style =
        ProgressStyle::with_template("{prefix:>10} {spinner} {pos} rows removed ({per_sec})")?;
    let mut bars = Vec::new();
    for table in pruner.order() {
        let bar = multi.add(ProgressBar::new_spinner());
        bar.set_style(style.clone());
        bar.set_prefix(table.to_owned());
        bars.push((table.to_owned(), bar));
    }
    Ok(bars)
}

/// Creates and fills the demo tables when the database has neither of them (a database that
/// has its own `customers` or `orders` is never touched), in one transaction where the backend
/// has transactional DDL (SQLite, PostgreSQL). Returns whether it did.
async fn seed_if_empty(db: &DatabaseConnection) -> Result<bool, Box<dyn std::error::Error>> {
    let schema = sea_orm_migration::SchemaManager::new(db);
    if schema.has_table("customers").await? || schema.has_table("orders").await? {
        return Ok(false);
    }
    let txn = db.begin().await?;
    seed(&txn).await?;
    txn.commit().await?;
    Ok(true)
}

async fn seed(db: &DatabaseTransaction) -> Result<(), Box<dyn std::error::Error>> {
    let backend = db.get_database_backend();
    db.execute(&migration::create_table_from_entity::<customer::Entity>(
        backend,
    ))
    .await?;
    db.execute(&migration::create_table_from_entity::<order::Entity>(
        backend,
    ))
    .await?;
    for (table, statement, index) in [
        (
            "customers_archive",
            create_archive_table::<customer::Entity>(backend, "customers_archive"),
            archive_key_index::<customer::Entity>("customers_archive"),
        ),
        (
            "orders_archive",
            create_archive_table::<order::Entity>(backend, "orders_archive"),
            archive_key_index::<order::Entity>("orders_archive"),
        ),
    ] {
        db.execute(&statement).await?;
        db.execute(&index)
            .await
            .map_err(|e| format!("index on {table}: {e}"))?;
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
