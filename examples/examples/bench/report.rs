//! Medians, the run's context (commit, load average) and the output: a table or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::BoxError;
use crate::args::{Args, IndexMode, Op};
use crate::raw::Shape;

/// What one operation measured, rates in rows per second per round.
pub struct OpResult {
    op: Op,
    raw_shape: Shape,
    pub library: Vec<f64>,
    shapes: Vec<(Shape, Vec<f64>)>,
    pub row_loop: f64,
    /// The library's workers for this operation.
    pub workers: usize,
    /// With several workers: the library's rates with one, in the same rounds.
    pub single: Vec<f64>,
}

impl OpResult {
    pub fn new(op: Op, raw_shape: Shape) -> Self {
        OpResult {
            op,
            raw_shape,
            library: Vec::new(),
            shapes: Vec::new(),
            row_loop: 0.0,
            workers: 1,
            single: Vec::new(),
        }
    }

    /// The rates of `shape`.
    pub fn shape(&mut self, shape: Shape) -> &mut Vec<f64> {
        let index = match self.shapes.iter().position(|(s, _)| *s == shape) {
            Some(index) => index,
            None => {
                self.shapes.push((shape, Vec::new()));
                self.shapes.len() - 1
            }
        };
        &mut self.shapes[index].1
    }

    fn raw(&self) -> f64 {
        self.shapes
            .iter()
            .find(|(s, _)| *s == self.raw_shape)
            .map_or(0.0, |(_, rates)| median(rates))
    }
}

fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[mid],
        _ => (values[mid - 1] + values[mid]) / 2.0,
    }
}

/// The whole run.
pub struct Report {
    backend: &'static str,
    rows: i64,
    rounds: u32,
    batch: usize,
    loop_rows: i64,
    index: IndexMode,
    commit: String,
    load_before: String,
    load_after: String,
    pub operations: Vec<OpResult>,
}

impl Report {
    pub fn start(args: &Args, index: IndexMode) -> Report {
        Report {
            backend: args.backend.name(),
            rows: args.rows,
            rounds: args.rounds,
            batch: args.batch(),
            loop_rows: args.loop_rows(),
            index,
            commit: commit(),
            load_before: load_average(),
            load_after: String::new(),
            operations: Vec::new(),
        }
    }

    pub fn finish(&mut self) {
        self.load_after = load_average();
    }

    pub fn json(&self) -> Result<String, BoxError> {
        #[derive(Serialize)]
        struct Json<'a> {
            backend: &'a str,
            rows: i64,
            rounds: u32,
            batch: usize,
            loop_rows: i64,
            index: &'a str,
            commit: &'a str,
            load_average_before: &'a str,
            load_average_after: &'a str,
            operations: BTreeMap<&'a str, OpJson>,
        }
        #[derive(Serialize)]
        struct OpJson {
            library_rows_per_s: u64,
            raw_rows_per_s: u64,
            loop_rows_per_s: u64,
            library_over_raw: f64,
            library_over_loop: f64,
            raw_shape: Shape,
            workers: usize,
            #[serde(skip_serializing_if = "Option::is_none")]
            one_worker_rows_per_s: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            parallel_over_one_worker: Option<f64>,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            probe_rows_per_s: BTreeMap<String, u64>,
        }
        let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
        let operations = self
            .operations
            .iter()
            .map(|r| {
                let library = median(&r.library);
                let raw = r.raw();
                let probe = if r.shapes.len() > 1 {
                    r.shapes
                        .iter()
                        .map(|(shape, rates)| (shape_name(*shape), median(rates).round() as u64))
                        .collect()
                } else {
                    BTreeMap::new()
                };
                (
                    r.op.name(),
                    OpJson {
                        library_rows_per_s: library.round() as u64,
                        raw_rows_per_s: raw.round() as u64,
                        loop_rows_per_s: r.row_loop.round() as u64,
                        library_over_raw: round3(library / raw),
                        library_over_loop: (library / r.row_loop * 10.0).round() / 10.0,
                        raw_shape: r.raw_shape,
                        workers: r.workers,
                        one_worker_rows_per_s: (!r.single.is_empty())
                            .then(|| median(&r.single).round() as u64),
                        parallel_over_one_worker: (!r.single.is_empty())
                            .then(|| round3(library / median(&r.single))),
                        probe_rows_per_s: probe,
                    },
                )
            })
            .collect();
        Ok(serde_json::to_string(&Json {
            backend: self.backend,
            rows: self.rows,
            rounds: self.rounds,
            batch: self.batch,
            loop_rows: self.loop_rows,
            index: self.index.name(),
            commit: &self.commit,
            load_average_before: &self.load_before,
            load_average_after: &self.load_after,
            operations,
        })?)
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "backend {}, {} rows, {} rounds (medians), batch {}, loop on {} rows, index {}, \
             commit {}, load {} -> {}",
            self.backend,
            self.rows,
            self.rounds,
            self.batch,
            self.loop_rows,
            self.index.name(),
            self.commit,
            self.load_before,
            self.load_after
        );
        let _ = writeln!(
            out,
            "{:<18} {:>12} {:>12} {:>12} {:>8} {:>9}  raw shape",
            "operation", "library/s", "raw sqlx/s", "row loop/s", "lib/raw", "lib/loop"
        );
        for r in &self.operations {
            let library = median(&r.library);
            let raw = r.raw();
            let _ = writeln!(
                out,
                "{:<18} {:>12.0} {:>12.0} {:>12.0} {:>8.3} {:>9.1}  {}",
                r.op.name(),
                library,
                raw,
                r.row_loop,
                library / raw,
                library / r.row_loop,
                shape_name(r.raw_shape)
            );
            if !r.single.is_empty() {
                let single = median(&r.single);
                let _ = writeln!(
                    out,
                    "  {} workers over one worker: {:.3} (one worker {:.0} rows/s)",
                    r.workers,
                    library / single,
                    single
                );
            }
            if r.shapes.len() > 1 {
                for (shape, rates) in &r.shapes {
                    let rate = median(rates);
                    let _ = writeln!(
                        out,
                        "  probe {:<24} {:>12.0} rows/s  ({:.3} of the library)",
                        shape_name(*shape),
                        rate,
                        rate / library
                    );
                }
            }
        }
        out
    }
}

fn shape_name(shape: Shape) -> String {
    serde_json::to_value(shape)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{shape:?}"))
}

/// The checked-out commit, with `-dirty` when the work tree has changes; `unknown` outside git.
fn commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(hash) => match git(&["status", "--porcelain", "--untracked-files=no"]) {
            Some(changes) if !changes.is_empty() => format!("{hash}-dirty"),
            _ => hash,
        },
        None => "unknown".to_owned(),
    }
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}
