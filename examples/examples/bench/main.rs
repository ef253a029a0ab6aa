//! The library against hand-written SQL and a row-by-row loop, in the same run.
//!
//! ```text
//! cargo run --release -p soft-delete-examples --example bench -- --backend sqlite --rows 1000000
//! DATABASE_URL=postgres://… cargo run --release -p soft-delete-examples --example bench -- --backend postgres --rows 1000000 --json
//! cargo run --release -p soft-delete-examples --example bench -- --memory --max-growth 0.1
//! cargo run --release -p soft-delete-examples --example bench -- --help
//! ```
//!
//! For each operation (bulk soft delete, bulk restore, purge, bulk create returning models, bulk
//! insert counting rows, statistics) every round loads identical fresh tables and times (a) the
//! library and (b) the same statements written by hand with sqlx, alternating which goes first;
//! (c) a row-by-row loop through SeaORM runs once on a smaller table. `cascade_soft_delete` soft-
//! deletes folders whose files follow them (`cascade.rs`), counting every row changed. With `--probe`, every
//! other statement shape the bench knows for the operation (`raw.rs`) is timed in each round too.
//! It prints medians, or with `--json` one JSON object that also records the git commit and the
//! load average before and after the run.
//!
//! The modules: `args` (the command line), `table` (the table and its index), `library` (the
//! library's side and the row loop), `raw` (the hand-written side and the probe's shapes),
//! `memory` (`--memory`) and `report` (medians and output).

mod archive;
mod args;
mod cascade;
mod library;
mod markers;
mod memory;
mod raw;
mod report;
mod table;

use std::time::Duration;

use clap::Parser;
use soft_delete_examples::per_second;

use crate::args::{Args, Op};
use crate::report::{OpResult, Report};
use crate::table::Target;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One timed run: rows handled and how long.
pub struct Sample {
    rows: u64,
    elapsed: Duration,
}

impl Sample {
    fn new(rows: u64, elapsed: Duration) -> Self {
        Sample { rows, elapsed }
    }

    fn rate(&self) -> f64 {
        per_second(self.rows, self.elapsed)
    }
}

/// How often `stats` repeats its count, so that one sample takes measurable time.
fn stats_repeats(rows: i64) -> u64 {
    (2_000_000 / rows.max(1)).clamp(1, 200) as u64
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    if let Some(spec) = &args.memory_child {
        return memory::child(spec, args.backend).await;
    }
    if args.memory {
        return memory::run(args.max_growth, args.backend, args.parallel);
    }
    bench(args).await
}

async fn bench(args: Args) -> Result<(), BoxError> {
    let backend = args.backend.db();
    let target = Target::new(backend, args.index())?;
    let mut report = Report::start(&args, target.index);
    let db = table::connect(&target, args.parallel as u32 + 1).await?;
    let batch = args.batch();
    for op in args.ops() {
        let raw_shape = raw::library_shape(backend, op);
        let mut shapes = vec![raw_shape];
        if args.probe {
            shapes.extend(
                raw::shapes(backend, op)
                    .into_iter()
                    .filter(|s| *s != raw_shape),
            );
        }
        let expected = match op {
            Op::Stats => args.rows as u64 * stats_repeats(args.rows),
            Op::CascadeSoftDelete | Op::CascadePurge => cascade::rows_changed(args.rows),
            _ => args.rows as u64,
        };
        let workers = args.workers(op);
        let mut result = OpResult::new(op, raw_shape);
        result.workers = workers;
        for round in 0..args.rounds as usize {
            // The library, then each shape (and with several workers the library with one);
            // the order rotates every round.
            let single = usize::from(workers > 1);
            let turns = shapes.len() + 1 + single;
            for turn in 0..turns {
                let which = (round + turn) % turns;
                prepare(&db, &target, op, args.rows).await?;
                let (label, sample) = match which {
                    0 => (
                        "library",
                        library::run(&db, op, args.rows, batch, workers).await?,
                    ),
                    n if n > shapes.len() => (
                        "library, one worker",
                        library::run(&db, op, args.rows, batch, 1).await?,
                    ),
                    n => {
                        let shape = shapes[n - 1];
                        (
                            "raw",
                            raw::run(&db, op, shape, args.rows, batch, workers).await?,
                        )
                    }
                };
                if sample.rows != expected {
                    return Err(format!(
                        "{} ({label}) handled {} rows, expected {expected}",
                        op.name(),
                        sample.rows
                    )
                    .into());
                }
                match which {
                    0 => result.library.push(sample.rate()),
                    n if n > shapes.len() => result.single.push(sample.rate()),
                    n => result.shape(shapes[n - 1]).push(sample.rate()),
                }
            }
        }
        let loop_rows = args.loop_rows();
        prepare(&db, &target, op, loop_rows).await?;
        result.row_loop = library::row_by_row(&db, op, loop_rows).await?.rate();
        report.operations.push(result);
    }
    cascade::clean_up(&db).await?;
    markers::clean_up(&db).await?;
    archive::clean_up(&db).await?;
    table::clean_up(db, &target).await?;
    report.finish();
    if args.json {
        println!("{}", report.json()?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// Puts the table in the state `op` starts from.
async fn prepare(
    db: &sea_orm::DatabaseConnection,
    target: &Target,
    op: Op,
    rows: i64,
) -> Result<(), BoxError> {
    match op {
        Op::BulkSoftDelete | Op::HookedSoftDelete | Op::Stats => {
            table::fresh(db, target, rows, false).await
        }
        Op::BulkRestore | Op::Purge | Op::GuardedPurge => {
            table::fresh(db, target, rows, true).await
        }
        Op::BulkCreate | Op::BulkInsert => table::fresh(db, target, 0, false).await,
        Op::CascadeSoftDelete => cascade::fresh(db, target, rows, false).await,
        Op::CascadePurge => cascade::fresh(db, target, rows, true).await,
        Op::FlagSoftDelete | Op::PairedSoftDelete | Op::ActiveSoftDelete | Op::EpochSoftDelete => {
            let kind = markers::Kind::of(op).ok_or("a marker operation")?;
            markers::fresh(db, target, kind, rows).await
        }
        Op::ArchivePurge | Op::GuardedArchivePurge => archive::fresh(db, target, rows).await,
    }
}
