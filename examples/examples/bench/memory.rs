//! `--memory`: peak memory of the two operations that take unbounded input, each at 1M and 10M
//! (and 100k) items, each count in a fresh process, on SQLite (or with `--backend`, the server
//! DATABASE_URL names): a soft delete of streamed ids (on a table holding the first million of
//! them; with `--parallel N`, N workers taking batches of ids from the one stream) and, with one
//! worker, a streaming insert of new rows. `--max-growth 0.1` fails the run when a peak grows
//! more than 10% from 1M to 10M.

use std::time::Instant;

use futures::StreamExt;
use sea_orm::Set;
use soft_delete_core::SoftDeleteManager;
use soft_delete_examples::user;

use crate::BoxError;
use crate::args::{Backend, IndexMode};
use crate::table::{self, Target};

/// What a memory child runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `bulk_soft_delete_stream` of this many ids.
    SoftDelete,
    /// `bulk_insert_stream` of this many new rows.
    Insert,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::SoftDelete => "soft_delete",
            Workload::Insert => "insert",
        }
    }

    fn parse(text: &str) -> Result<Workload, BoxError> {
        match text {
            "soft_delete" => Ok(Workload::SoftDelete),
            "insert" => Ok(Workload::Insert),
            other => Err(format!("unknown memory workload `{other}`").into()),
        }
    }
}

/// Peak resident memory of this process, from /proc (VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The child, given `<workload>:<count>:<workers>`: runs the workload on a fresh SQLite file
/// (or a fresh table on `backend`'s server) and prints its peak RSS, measured after the table
/// was loaded.
pub async fn child(spec: &str, backend: Backend) -> Result<(), BoxError> {
    let mut parts = spec.split(':');
    let (Some(workload), Some(count), Some(workers), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected <workload>:<count>:<workers>".into());
    };
    let workload = Workload::parse(workload)?;
    let count: u64 = count.parse()?;
    let workers: usize = workers.parse()?;
    let target = match backend {
        Backend::Sqlite => {
            let path =
                std::env::temp_dir().join(format!("soft-delete-memory-{}.db", std::process::id()));
            Target {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                index: IndexMode::recommended(sea_orm::DbBackend::Sqlite),
            }
        }
        server => Target::new(server.db(), IndexMode::recommended(server.db()))?,
    };
    let rows = match workload {
        Workload::SoftDelete => 1_000_000.min(count as i64),
        Workload::Insert => 0,
    };
    let db = table::connect(&target, workers as u32 + 1).await?;
    table::fresh(&db, &target, rows, false).await?;
    let before = peak_rss_kib().unwrap_or(0);
    // Reset the high-water mark, so that only the operation itself is measured.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let started = Instant::now();
    let manager = SoftDeleteManager::new(&db);
    let report = match workload {
        Workload::SoftDelete => {
            manager
                .bulk_soft_delete_stream::<user::Entity, _>(futures::stream::iter(1..=count as i64))
                .batch_size(5000)
                .parallel(workers)
                .await?
        }
        Workload::Insert => {
            let rows = futures::stream::iter(1..=count as i64).map(|id| user::ActiveModel {
                id: Set(id),
                name: Set(format!("user {id}")),
                email: Set(format!("user{id}@example.com")),
                ..Default::default()
            });
            manager
                .bulk_insert_stream::<user::Entity, _>(rows)
                .batch_size(5000)
                .await?
        }
    };
    let elapsed = started.elapsed();
    let peak = peak_rss_kib().ok_or("no VmHWM in /proc/self/status")?;
    table::clean_up(db, &target).await?;
    println!(
        "workload={} count={count} workers={} requested={} affected={} elapsed_s={:.2} \
         peak_rss_kib={peak} seeding_peak_kib={before} reset={reset}",
        workload.name(),
        report.workers,
        report.requested,
        report.affected,
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// Runs a child per workload and count, prints each line and the ratio 10M/1M of each
/// workload, and fails when `max_growth` is given and a ratio is over `1 + max_growth`, or the
/// high-water mark could not be reset (then the figure is not the operation's alone).
pub fn run(max_growth: Option<f64>, backend: Backend, workers: u64) -> Result<(), BoxError> {
    let exe = std::env::current_exe()?;
    let mut failures = Vec::new();
    // Inserts run one worker whatever `--parallel` says: with several workers only the soft
    // delete is measured (the run without covers the insert).
    let workloads: &[Workload] = match workers {
        1 => &[Workload::SoftDelete, Workload::Insert],
        _ => &[Workload::SoftDelete],
    };
    for &workload in workloads {
        let mut peaks = Vec::new();
        for count in [100_000u64, 1_000_000, 10_000_000] {
            let spec = format!("{}:{count}:{workers}", workload.name());
            let output = std::process::Command::new(&exe)
                .args(["--memory-child", &spec, "--backend", backend.name()])
                .output()?;
            if !output.status.success() {
                return Err(format!(
                    "memory child {spec} failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                )
                .into());
            }
            let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            println!("{line}");
            let field = |name: &str| {
                line.split_whitespace()
                    .find_map(|f| f.strip_prefix(name).map(str::to_owned))
                    .ok_or_else(|| format!("the child printed no {name}"))
            };
            let affected: u64 = field("affected=")?.parse()?;
            let expected = match workload {
                Workload::SoftDelete => count.min(1_000_000),
                Workload::Insert => count,
            };
            if affected != expected {
                failures.push(format!("{spec}: {affected} rows changed, not {expected}"));
            }
            if field("reset=")? != "true" {
                failures.push(format!("{spec}: the high-water mark could not be reset"));
            }
            peaks.push(field("peak_rss_kib=")?.parse::<u64>()?);
        }
        let ratio = peaks[2] as f64 / peaks[1] as f64;
        println!(
            "{}: peak RSS 100k {} KiB, 1M {} KiB, 10M {} KiB; ratio 10M/1M = {ratio:.3}",
            workload.name(),
            peaks[0],
            peaks[1],
            peaks[2]
        );
        if let Some(max) = max_growth
            && ratio > 1.0 + max
        {
            failures.push(format!(
                "{}: peak RSS grew {:.1}% from 1M to 10M (at most {:.1}%)",
                workload.name(),
                (ratio - 1.0) * 100.0,
                max * 100.0
            ));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; ").into())
    }
}
