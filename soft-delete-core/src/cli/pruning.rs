//! `prune`: the checks before it connects, the run, its report, and what stops it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DbBackend};
use serde_json::{Value, json};

use super::args::PruneArgs;
use super::{DAY, Failure, RETENTION_PREFIX, Session, connect, describe};
use crate::bulk::StopSignal;
use crate::config::SoftDeleteConfig;
use crate::manager::SoftDeleteManager;
use crate::prune::{EntityReport, Outcome, PruneReport, Pruner};
use crate::throttle::{MySqlReplicaLag, PostgresReplicaLag, Throttle};

impl Session {
    /// What a prune refuses before connecting.
    pub(super) fn check_prune(
        &self,
        args: &PruneArgs,
        url: &str,
        replicas: &[String],
        config: &SoftDeleteConfig,
    ) -> Result<(), Failure> {
        if args.max_replica_lag.is_some() {
            if url.starts_with("sqlite:") {
                return Err(Failure::usage(
                    "--max-replica-lag needs a PostgreSQL or MySQL/MariaDB database",
                ));
            }
            if url.starts_with("mysql:") && replicas.is_empty() {
                return Err(Failure::usage(
                    "--max-replica-lag on MySQL/MariaDB needs the replicas: \
                     SOFT_DELETE_REPLICA_URLS or --replica URL",
                ));
            }
        }
        if args.dry_run || args.force {
            return Ok(());
        }
        if let Some(age) = args.older_than
            && age < DAY
        {
            return Err(Failure::usage(format!(
                "--older-than {} is under one day: it would remove rows soft-deleted moments \
                 ago. Pass --force if that is what you mean (try --dry-run first)",
                describe(age)
            )));
        }
        if args.older_than.is_none() {
            for entry in self.selected(&args.entities) {
                if !entry.by_age || entry.own_retention.is_some() {
                    continue;
                }
                let name = entry.table.name();
                let retention = config.retention_for(name);
                if retention < DAY {
                    let variable = if config.retention_by_table.contains_key(&name.to_lowercase()) {
                        format!("{RETENTION_PREFIX}{}", name.to_uppercase())
                    } else {
                        "SOFT_DELETE_RETENTION_DAYS".to_owned()
                    };
                    return Err(Failure::usage(format!(
                        "{}: the retention is {} ({variable}), under one day: every soft-deleted \
                         row would go. Pass --force if that is what you mean",
                        entry.table,
                        describe(retention)
                    )));
                }
            }
        }
        Ok(())
    }

    pub(super) async fn prune(
        &self,
        manager: &SoftDeleteManager<'_, DatabaseConnection>,
        args: &PruneArgs,
        replicas: &[String],
    ) -> Result<u8, Failure> {
        let entries = self.selected(&args.entities);
        let mut pruner = Pruner::new(manager);
        for entry in &entries {
            pruner = (entry.add)(pruner, args.archive);
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
        if let Some(workers) = args.parallel {
            pruner = pruner.parallel(workers as usize);
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
            let mut connections = Vec::new();
            for replica in replicas {
                connections.push(connect(replica, 4).await.map_err(|e| {
                    Failure::error(format!("cannot connect to the replica at {replica}: {e}"))
                })?);
            }
            let db = manager.connection();
            let throttle: Arc<dyn Throttle> = match db.get_database_backend() {
                DbBackend::Postgres if connections.is_empty() => {
                    Arc::new(PostgresReplicaLag::on_primary(db.clone(), max_lag))
                }
                DbBackend::Postgres => {
                    Arc::new(PostgresReplicaLag::on_replicas(connections, max_lag))
                }
                _ => Arc::new(MySqlReplicaLag::new(connections, max_lag)),
            };
            pruner = pruner.throttle(throttle);
            if let Some(limit) = args.max_lag_wait {
                pruner = pruner.max_throttle_wait(limit);
            }
        }

        let stop = StopSignal::new();
        pruner = pruner.stop_on(stop.clone());
        let watchers = self.watch_for_stop(&stop, args.stop_file.clone());
        let progress = (!self.cli.quiet && !args.dry_run).then(|| Progress::new(&pruner.order()));
        if let Some(progress) = &progress {
            let progress = Arc::clone(progress);
            pruner = pruner.on_progress(move |table, p| progress.update(table, p));
        }

        self.out.line(format!(
            "{}{} in order: {}",
            if args.dry_run { "counting" } else { "pruning" },
            if args.archive { " with archive" } else { "" },
            pruner.order().join(", ")
        ));
        let report = pruner.run().await;
        stop.stop();
        for watcher in watchers {
            watcher.abort();
        }
        if let Some(progress) = &progress {
            progress.finish();
        }
        let report = report.map_err(|e| Failure::error(e.to_string()))?;
        let code = exit_code(&report);
        for entity in &report.entities {
            self.out.line(entity.to_string());
            ::metrics::gauge!(
                "soft_delete_cli_prune_rows",
                crate::step::announce::COLLECTION => entity.table.clone(),
                "dry_run" => if args.dry_run { "true" } else { "false" }
            )
            .set(entity.purged() as f64);
        }
        let status = match code {
            0 => "finished",
            1 => "failed",
            _ => "stopped",
        };
        self.out.line(format!(
            "{}: {} rows {} in {:.2}s",
            match code {
                0 => "finished",
                1 => "failed",
                _ => "stopped before finishing",
            },
            report.purged(),
            if args.dry_run {
                "would be removed"
            } else {
                "removed"
            },
            report.elapsed.as_secs_f64()
        ));
        let entities: Vec<Value> = report
            .entities
            .iter()
            .map(|entity| {
                let archive_table = self
                    .registry
                    .entry(&entity.table)
                    .and_then(|e| e.archive_in(args.archive))
                    .filter(|_| entity.archive)
                    .map(ToString::to_string);
                entity_json(entity, archive_table)
            })
            .collect();
        self.out.document(&json!({
            "command": "prune",
            "exit_code": code,
            "status": status,
            "dry_run": report.dry_run,
            "archive": args.archive,
            "elapsed_seconds": report.elapsed.as_secs_f64(),
            "rows": report.purged(),
            "entities": entities,
        }));
        Ok(code)
    }

    /// Stops `stop` on Ctrl-C or SIGTERM, and once `stop_file` exists (looked for before the
    /// first batch and twice a second).
    pub(super) fn watch_for_stop(
        &self,
        stop: &StopSignal,
        stop_file: Option<PathBuf>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut watchers = Vec::new();
        let name = self.out.name.clone();
        watchers.push(tokio::spawn({
            let stop = stop.clone();
            async move {
                shutdown_requested().await;
                eprintln!("{name}: stopping after the current batch");
                stop.stop();
            }
        }));
        if let Some(path) = stop_file {
            if path.exists() {
                stop.stop();
            }
            let name = self.out.name.clone();
            watchers.push(tokio::spawn({
                let stop = stop.clone();
                async move {
                    while !stop.is_stopped() {
                        if path.exists() {
                            eprintln!(
                                "{name}: {} exists: stopping after the current batch",
                                path.display()
                            );
                            stop.stop();
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }));
        }
        watchers
    }
}

/// The exit status a prune's report calls for.
fn exit_code(report: &PruneReport) -> u8 {
    if report.is_complete() {
        0
    } else if report.failures().next().is_some() {
        1
    } else {
        3
    }
}

fn entity_json(entity: &EntityReport, archive_table: Option<String>) -> Value {
    let done = match &entity.outcome {
        Outcome::Done(report) => Some(report),
        _ => None,
    };
    json!({
        "table": entity.table,
        "outcome": match entity.outcome {
            Outcome::Done(_) => "done",
            Outcome::Failed(_) => "failed",
            Outcome::NotRun => "not_run",
        },
        "complete": entity.is_complete(),
        "rows": entity.purged(),
        "archived": entity.archived(),
        "archive_table": archive_table,
        "cascaded": done.map_or(0, |r| r.cascaded),
        "batches": done.map_or(0, |r| r.batches),
        "workers": done.map_or(0, |r| r.workers),
        "retries": done.map_or(0, |r| r.retries),
        "stopped_early": done.is_some_and(|r| r.stopped_early),
        "remaining": done.and_then(|r| r.remaining),
        "throttled_seconds": done.map_or(0.0, |r| r.throttled.as_secs_f64()),
        "operation_id": done.map(|r| r.id.to_string()),
        "error": match &entity.outcome {
            Outcome::Failed(error) => Some(error.to_string()),
            _ => None,
        },
    })
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

/// A prune's progress on standard error: a counter per entity on a terminal, otherwise a plain
/// line per entity at most every 10 seconds (for a job's log).
struct Progress {
    bars: Vec<(String, indicatif::ProgressBar)>,
    last_line: Mutex<Option<Instant>>,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(10);

    fn new(tables: &[&str]) -> Arc<Self> {
        let mut bars = Vec::new();
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            let multi = indicatif::MultiProgress::new();
            let style = indicatif::ProgressStyle::with_template(
                "{prefix:>16} {spinner} {pos} rows removed ({per_sec})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
            for table in tables {
                let bar = multi.add(indicatif::ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix((*table).to_owned());
                bars.push(((*table).to_owned(), bar));
            }
        }
        Arc::new(Progress {
            bars,
            last_line: Mutex::new(None),
        })
    }

    fn update(&self, table: &str, progress: &crate::report::Progress) {
        if !self.bars.is_empty() {
            if let Some((_, bar)) = self.bars.iter().find(|(name, _)| name == table) {
                bar.set_position(progress.affected);
            }
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= Self::EVERY) {
            *last = Some(Instant::now());
            eprintln!(
                "{table}: {} rows removed so far in {} batches ({:.1}s)",
                progress.affected,
                progress.batches,
                progress.elapsed.as_secs_f64()
            );
        }
    }

    fn finish(&self) {
        for (_, bar) in &self.bars {
            bar.finish_and_clear();
        }
    }
}
