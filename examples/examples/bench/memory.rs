//! `--memory`: peak memory of soft-deleting 100k, 1M and 10M streamed ids, each count in a
//! fresh process, on SQLite.

use std::time::Instant;

use soft_delete_core::SoftDeleteManager;
use soft_delete_examples::user;

use crate::BoxError;
use crate::args::IndexMode;
use crate::table::{self, Target};

/// Peak resident memory of this process, from /proc (VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The child: soft-deletes `ids` streamed ids on a SQLite file whose table holds the first
/// million of them, and prints its peak RSS, measured after the table was loaded.
pub async fn child(ids: u64) -> Result<(), BoxError> {
    let path = std::env::temp_dir().join(format!("soft-delete-memory-{}.db", std::process::id()));
    let target = Target {
        url: format!("sqlite://{}?mode=rwc", path.display()),
        index: IndexMode::recommended(sea_orm::DbBackend::Sqlite),
    };
    let rows = 1_000_000.min(ids as i64);
    let db = table::connect(&target).await?;
    table::fresh(&db, &target, rows, false).await?;
    let before = peak_rss_kib().unwrap_or(0);
    // Reset the high-water mark, so that only the operation itself is measured.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let started = Instant::now();
    let report = SoftDeleteManager::new(&db)
        .bulk_soft_delete_stream::<user::Entity, _>(futures::stream::iter(1..=ids as i64))
        .batch_size(5000)
        .await?;
    let elapsed = started.elapsed();
    let peak = peak_rss_kib().ok_or("no VmHWM in /proc/self/status")?;
    table::clean_up(db, &target).await?;
    println!(
        "ids={ids} requested={} affected={} elapsed_s={:.2} peak_rss_kib={peak} seeding_peak_kib={before} reset={reset}",
        report.requested,
        report.affected,
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// Runs a child per count and prints each line and the ratio 10M/1M.
pub fn run() -> Result<(), BoxError> {
    let exe = std::env::current_exe()?;
    let mut peaks = Vec::new();
    for ids in [100_000u64, 1_000_000, 10_000_000] {
        let output = std::process::Command::new(&exe)
            .args(["--memory-child", &ids.to_string()])
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "memory child for {ids} ids failed: {}",
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let line = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        println!("{line}");
        let peak: u64 = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("peak_rss_kib="))
            .ok_or("child printed no peak")?
            .parse()?;
        peaks.push(peak);
    }
    println!(
        "peak RSS: 100k ids {} KiB, 1M ids {} KiB, 10M ids {} KiB; ratio 10M/1M = {:.3}",
        peaks[0],
        peaks[1],
        peaks[2],
        peaks[2] as f64 / peaks[1] as f64
    );
    Ok(())
}
