//! The command line: subcommands, options, their help and how their values are read.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::operation::{OperationId, OperationKind};

pub(super) const EXIT_STATUS: &str = "\
Exit status: 0 done, 1 error, 2 bad command line or configuration, 3 stopped before finishing \
(--max-duration, --stop-file, Ctrl-C or SIGTERM).

The database is DATABASE_URL (or --database-url, which other users see in the process list).";

pub(super) const PRUNE_EXAMPLES: &str = "\
Examples:
  prune --dry-run                               count what would go, per table
  prune --older-than 90d --archive              copy into <table>_archive, then remove
  prune --entity orders --max-duration 10m      at most ten minutes, then exit 3
  prune --max-replica-lag 2s --stop-file /run/stop-prune --metrics-textfile prune.prom

Retention, first to last: --older-than, the policy's own, SOFT_DELETE_RETENTION_DAYS_<TABLE>,
SOFT_DELETE_RETENTION_DAYS (30 days). Under one day needs --force.";

pub(super) const OPS_EXAMPLES: &str = "\
Examples:
  ops list --entity orders --kind purge --limit 20
  ops show 0193a6c4-…
  ops undo 0193a6c4-… --by alice

Needs the operation log: SOFT_DELETE_OPERATION_LOG=true (or the log's table).";

#[derive(Debug, Parser)]
#[command(version, after_long_help = EXIT_STATUS, propagate_version = true)]
pub(super) struct Cli {
    /// The database's URL [default: DATABASE_URL]. Prefer the variable: a command line is
    /// visible to every user of the machine.
    #[arg(long, global = true, value_name = "URL")]
    pub(super) database_url: Option<String>,

    /// Print one JSON object on standard output instead of text (its shape is documented and
    /// stable).
    #[arg(long, global = true)]
    pub(super) json: bool,

    /// No progress output (bars on a terminal, a line every 10 seconds otherwise).
    #[arg(long, global = true)]
    pub(super) quiet: bool,

    /// Create and fill the demo tables first when the database has none of them; without a
    /// database URL, in a SQLite file in the current directory.
    #[arg(long, global = true, hide = true)]
    pub(super) demo: bool,

    /// Write the run's metrics to this file in Prometheus' text format (for node_exporter's
    /// textfile collector), whole or not at all.
    #[arg(long, global = true, value_name = "PATH")]
    pub(super) metrics_textfile: Option<PathBuf>,

    /// Push the run's metrics to this Pushgateway (http://host:9091)
    /// [default: SOFT_DELETE_PUSHGATEWAY_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub(super) pushgateway: Option<String>,

    /// The job the metrics are pushed under [default: the command's name].
    #[arg(long, global = true, value_name = "NAME")]
    pub(super) metrics_job: Option<String>,

    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Removes soft-deleted rows past their retention, entity by entity (children before their
    /// parents), in batches, optionally copying them into <table>_archive first.
    #[command(after_long_help = PRUNE_EXAMPLES)]
    Prune(PruneArgs),
    /// Rows per entity: total, active, soft-deleted, purgeable now, archived.
    #[command(after_long_help = "Examples:\n  stats\n  stats --entity orders --json")]
    Stats(StatsArgs),
    /// The operation log: list operations, show one, undo one.
    #[command(subcommand, after_long_help = OPS_EXAMPLES)]
    Ops(OpsCommand),
    /// Restores the rows an operation soft-deleted that are still deleted (found by the
    /// operation's id stamped on them), as a new logged operation.
    #[command(after_long_help = "Examples:\n  restore-op 0193a6c4-… --by alice")]
    RestoreOp(ReverseArgs),
}

#[derive(Debug, Subcommand)]
pub(super) enum OpsCommand {
    /// Lists operations, newest first, with the rows each changed per table.
    #[command(
        after_long_help = "Examples:\n  ops list\n  ops list --entity orders --kind soft-delete --limit 50 --json"
    )]
    List(ListArgs),
    /// Shows one operation.
    #[command(after_long_help = "Examples:\n  ops show 0193a6c4-…\n  ops show 0193a6c4-… --json")]
    Show {
        /// The operation's id.
        #[arg(value_parser = parse_operation)]
        id: OperationId,
    },
    /// Reverses a soft delete or a restore (and its cascade), as a new logged operation.
    #[command(after_long_help = "Examples:\n  ops undo 0193a6c4-… --by alice")]
    Undo(ReverseArgs),
}

#[derive(Debug, clap::Args)]
pub(super) struct ListArgs {
    /// Only operations on this table.
    #[arg(long, value_name = "TABLE")]
    pub(super) entity: Option<String>,
    /// Only operations of this kind: soft-delete, restore, purge, create.
    #[arg(long, value_parser = parse_kind)]
    pub(super) kind: Option<OperationKind>,
    /// At most this many.
    #[arg(long, default_value_t = 20)]
    pub(super) limit: u64,
}

#[derive(Debug, clap::Args)]
pub(super) struct ReverseArgs {
    /// The operation's id.
    #[arg(value_parser = parse_operation)]
    pub(super) id: OperationId,
    /// Who does it (recorded as the new operation's actor).
    #[arg(long, value_name = "WHO")]
    pub(super) by: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(super) struct StatsArgs {
    /// Only this entity (its table); repeat for more. Default: all of them.
    #[arg(long = "entity", value_name = "TABLE")]
    pub(super) entities: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub(super) struct PruneArgs {
    /// Remove rows soft-deleted longer ago than this: 30d, 12h, 90m, 45s (default: each
    /// policy's retention). Under one day needs --force.
    #[arg(long, value_name = "AGE", value_parser = parse_duration)]
    pub(super) older_than: Option<Duration>,

    /// Prune only this entity (its table); repeat for more. Default: all of them.
    #[arg(long = "entity", value_name = "TABLE")]
    pub(super) entities: Vec<String>,

    /// Count what would be removed, and remove nothing.
    #[arg(long)]
    pub(super) dry_run: bool,

    /// Copy each row into <table>_archive before removing it, in the same transaction (for
    /// every entity; a policy with .archive() always does).
    #[arg(long)]
    pub(super) archive: bool,

    /// Allow a retention under one day (a purge of every soft-deleted row).
    #[arg(long)]
    pub(super) force: bool,

    /// Start no new batch after this long (10m, 1h, …); the exit status is then 3.
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub(super) max_duration: Option<Duration>,

    /// Rows per batch (and per transaction).
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub(super) batch_size: Option<u64>,

    /// Workers per entity, each with its own connection and batches over its own part of the
    /// rows (SOFT_DELETE_PARALLELISM by default; one on SQLite).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub(super) parallel: Option<u64>,

    /// Wait this long between batches, to leave the database room (100ms, 1s, …).
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub(super) pause: Option<Duration>,

    /// After each batch, wait this many times as long as the batch took (0.5, 1, …;
    /// pt-archiver's --sleep-coef).
    #[arg(long, value_name = "FACTOR", value_parser = parse_coefficient)]
    pub(super) sleep_coef: Option<f64>,

    /// Hold each batch while a replica is further behind than this (2s, 500ms, …). On
    /// PostgreSQL the lag is read on the primary's pg_stat_replication, or on each replica;
    /// on MySQL/MariaDB on each replica (SHOW REPLICA STATUS), which are then required.
    #[arg(long, value_name = "TIME", value_parser = parse_duration)]
    pub(super) max_replica_lag: Option<Duration>,

    /// A replica's URL, for --max-replica-lag; repeat for more. Prefer
    /// SOFT_DELETE_REPLICA_URLS (comma-separated): a command line is visible to every user.
    #[arg(long = "replica", value_name = "URL", requires = "max_replica_lag")]
    pub(super) replicas: Vec<String>,

    /// Give up on an entity after its batch was held this long by --max-replica-lag
    /// [default: 5m].
    #[arg(long, value_name = "TIME", value_parser = parse_duration, requires = "max_replica_lag")]
    pub(super) max_lag_wait: Option<Duration>,

    /// Stop after the current batch once this file exists (pt-archiver's --sentinel); the exit
    /// status is then 3.
    #[arg(long, value_name = "PATH")]
    pub(super) stop_file: Option<PathBuf>,
}

/// `30d`, `12h`, `10m`, `45s`, `250ms`.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
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
pub(super) fn parse_coefficient(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(factor) if (0.0..=100.0).contains(&factor) => Ok(factor),
        _ => Err(format!("`{text}` is not a number from 0 to 100")),
    }
}

pub(super) fn parse_operation(text: &str) -> Result<OperationId, String> {
    text.trim().parse().map_err(|e| format!("{e}"))
}

/// `soft-delete`, `soft_delete` or `soft delete`; `restore`, `purge`, `create`.
pub(super) fn parse_kind(text: &str) -> Result<OperationKind, String> {
    text.trim()
        .replace(['-', '_'], " ")
        .parse()
        .map_err(|_| format!("`{text}` is not soft-delete, restore, purge or create"))
}
