//! The operator's command for the application's own entities (feature `cli`): prune, stats and
//! the operation log, mounted in the application's own `main`, as `sea_orm_migration::cli`
//! mounts its migrations.
//!
//! ```no_run
//! # mod order {
//! #     use sea_orm::entity::prelude::*;
//! #     #[soft_delete_core::soft_delete]
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//! #     #[sea_orm(table_name = "orders")]
//! #     pub struct Model {
//! #         #[sea_orm(primary_key)]
//! #         pub id: i64,
//! #     }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! # }
//! use soft_delete_core::cli::{self, Registry};
//! use soft_delete_core::prune::Policy;
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> std::process::ExitCode {
//!     cli::run(Registry::new().entity::<order::Entity>(Policy::retention().archive())).await
//! }
//! ```
//!
//! That program is then the whole command, with the application's tables and nothing else:
//!
//! ```text
//! shop-ops prune --dry-run                          # what would go, per table
//! shop-ops prune --entity orders --max-duration 10m --archive
//! shop-ops stats                                    # active, deleted, purgeable now, archived
//! shop-ops ops list --entity orders                 # the operation log, newest first
//! shop-ops ops show 0193…  |  shop-ops ops undo 0193…  |  shop-ops restore-op 0193…
//! ```
//!
//! and in a crontab:
//!
//! ```text
//! 15 3 * * *  DATABASE_URL=postgres://ops@db/shop shop-ops prune --max-duration 50m --metrics-textfile /var/lib/node_exporter/shop_prune.prom
//! ```
//!
//! # Failing closed
//!
//! - The database is `--database-url` or `DATABASE_URL`; without either the command exits 2 and
//!   says how to set it. It never creates or fills a table unless asked with `--demo` (only a
//!   command that registered [`Registry::demo`] has it).
//! - Every `SOFT_DELETE_RETENTION_DAYS_<TABLE>` must name a registered table (its name without
//!   the schema): a misspelt one is an error listing the tables it could have meant, not a
//!   retention silently ignored. So is every other `SOFT_DELETE_*` value that
//!   [`SoftDeleteConfig::from_env`](crate::SoftDeleteConfig::from_env) refuses.
//! - A prune with `--older-than` under one day, or with a table's configured retention under one
//!   day (`SOFT_DELETE_RETENTION_DAYS[_<TABLE>]=0`), needs `--force`. A dry run does not. A
//!   retention the application sets in code ([`Policy::older_than`](crate::prune::Policy::older_than)) is its own decision and
//!   is taken as it is.
//!
//! # Secrets
//!
//! Nothing the command prints (text, `--json`, errors, SeaORM's and sqlx's messages quoted in
//! them) carries a password: every URL it was given registers its password, and every printed
//! text has those, and the password of any `scheme://user:password@` in it, replaced by `***`.
//! Replicas for `--max-replica-lag` can be given in `SOFT_DELETE_REPLICA_URLS` (separated by
//! commas or spaces) rather than with `--replica`, which every user of the machine sees in the
//! process list (as `--database-url`). `mariadb://` URLs are read as `mysql://` ones.
//!
//! # Exit status
//!
//! | status | when |
//! |---|---|
//! | 0 | done: every entity pruned to the end (or counted, for a dry run); the listing or change made |
//! | 1 | an error: an entity's purge failed, the database could not be reached, the operation was not found, metrics could not be written |
//! | 2 | a bad command line or configuration: unknown option, no database URL, a misspelt retention variable, a retention under a day without `--force` |
//! | 3 | stopped before finishing: `--max-duration`, `--stop-file`, Ctrl-C or SIGTERM (the batch in flight finishes first) |
//!
//! # `--json`
//!
//! Every subcommand with `--json` prints exactly one JSON object on standard output (messages
//! still go to standard error). Fields are only ever added, never renamed or removed, within a
//! 0.x release line. Every document has `command` and `exit_code`; a failure before the work
//! (bad configuration, no database) is `{"command", "exit_code", "error"}`.
//!
//! - `prune`: `status` (`finished`, `stopped`, `failed`), `dry_run`, `archive`,
//!   `elapsed_seconds`, `rows` (removed, or counted by a dry run) and `entities`, in the order
//!   they ran, each `{table, outcome: "done"|"failed"|"not_run", complete, rows, archived,
//!   archive_table, cascaded, batches, workers, retries, stopped_early, remaining,
//!   throttled_seconds, operation_id, error}`.
//! - `stats`: `entities`, each `{table, total, active, deleted, purgeable, archive_table,
//!   archived, error}` (`purgeable` is what a prune would remove now; `archived` is null when
//!   the archive table does not exist).
//! - `ops list`: `operations`; `ops show`: `operation`. An operation is `{id, kind, table,
//!   status, rows_changed, rows_by_table: {table: rows}, requested, batches, actor, reason,
//!   selection, error, started_at, finished_at, reverses, quiet}`, times in RFC 3339.
//! - `ops undo` and `restore-op`: `reversed` (the id given) and `operation`, the new
//!   operation's report `{id, kind, table, affected, cascaded, batches, retries,
//!   elapsed_seconds}`.
//!
//! # Metrics for cron jobs
//!
//! `--metrics-textfile PATH` writes the run's metrics in Prometheus' text format for
//! node_exporter's textfile collector (whole or not at all), and `--pushgateway URL` (or
//! `SOFT_DELETE_PUSHGATEWAY_URL`) pushes them to a Pushgateway under the job `--metrics-job`
//! (the command's name by default). They hold what the library records through the `metrics`
//! facade (see [`crate::events`]: OpenTelemetry's `db.client.operation.duration` with
//! `db.collection.name` and `db.operation.name`, rows, batches, retries), and the run's own
//! `soft_delete_cli_*` gauges. They are written after the run, also when it failed.

mod args;
mod metrics;
mod ops;
mod pruning;
mod registry;
mod secret;
mod stats;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::builder::PossibleValuesParser;
use clap::{CommandFactory, FromArgMatches};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use serde_json::{Value, json};

use args::{Cli, Command, OpsCommand};
use registry::Entry;
pub use registry::{DemoSeed, Registry};
use secret::Secrets;

use crate::config::SoftDeleteConfig;
use crate::manager::SoftDeleteManager;

const DAY: Duration = Duration::from_secs(86_400);
const RETENTION_PREFIX: &str = "SOFT_DELETE_RETENTION_DAYS_";
/// Runs the command on the process's arguments and environment, and returns its exit status.
/// Call it from the application's `main`; see the [module documentation](self).
pub async fn run(registry: Registry) -> ExitCode {
    run_from(registry, std::env::args_os()).await
}

/// Runs the command on `args` (the first is the program's name) and the process's environment.
pub async fn run_from<I, T>(registry: Registry, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let name = registry.name.clone().unwrap_or_else(|| {
        args.first()
            .map(PathBuf::from)
            .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "soft-delete".to_owned())
    });
    let matches = match command(&registry, &name).try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(2);
        }
    };
    ExitCode::from(Session::new(registry, name, cli).run().await)
}

/// The command line, completed at run time with the registry's tables.
fn command(registry: &Registry, name: &str) -> clap::Command {
    let tables = registry.tables();
    let about = registry.about.clone().unwrap_or_else(|| {
        format!(
            "Soft-deleted rows of {}: prune, stats and the operation log.",
            tables.join(", ")
        )
    });
    let entity = |arg: clap::Arg| arg.value_parser(PossibleValuesParser::new(tables.clone()));
    let mut command = Cli::command()
        .name(name.to_owned())
        .bin_name(name.to_owned())
        .about(about)
        .mut_subcommand("prune", |sub| sub.mut_arg("entities", entity))
        .mut_subcommand("stats", |sub| sub.mut_arg("entities", entity))
        .mut_subcommand("ops", |ops| {
            ops.mut_subcommand("list", |list| list.mut_arg("entity", entity))
        });
    if registry.demo.is_some() {
        command = command.mut_arg("demo", |arg| arg.hide(false));
    }
    command
}

/// Why the command stops: its exit status and what it says.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// A bad command line or configuration: exit 2.
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// An error while working: exit 1.
    fn error(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }
}

/// Everything printed goes through here, with passwords masked.
struct Out {
    name: String,
    json: bool,
    secrets: Secrets,
}

impl Out {
    /// A line of the text output (nothing with `--json`).
    fn line(&self, text: impl AsRef<str>) {
        if !self.json {
            println!("{}", self.secrets.redact(text.as_ref()));
        }
    }

    /// A message on standard error.
    fn note(&self, text: impl AsRef<str>) {
        eprintln!("{}: {}", self.name, self.secrets.redact(text.as_ref()));
    }

    /// The `--json` document (nothing without `--json`).
    fn document(&self, value: &Value) {
        if self.json {
            println!("{}", self.secrets.redact(&value.to_string()));
        }
    }
}

/// One run of the command.
struct Session {
    registry: Registry,
    cli: Cli,
    out: Out,
}

impl Session {
    fn new(registry: Registry, name: String, cli: Cli) -> Self {
        let out = Out {
            name,
            json: cli.json,
            secrets: Secrets::default(),
        };
        Session { registry, cli, out }
    }

    fn command_name(&self) -> &'static str {
        match &self.cli.command {
            Command::Prune(_) => "prune",
            Command::Stats(_) => "stats",
            Command::Ops(OpsCommand::List(_)) => "ops list",
            Command::Ops(OpsCommand::Show { .. }) => "ops show",
            Command::Ops(OpsCommand::Undo(_)) => "ops undo",
            Command::RestoreOp(_) => "restore-op",
        }
    }

    async fn run(mut self) -> u8 {
        let started = Instant::now();
        let pushgateway = self
            .cli
            .pushgateway
            .clone()
            .or_else(|| non_empty_var("SOFT_DELETE_PUSHGATEWAY_URL"));
        if let Some(url) = &pushgateway {
            self.out.secrets.add_url(url);
        }
        let recorder = if self.cli.metrics_textfile.is_some() || pushgateway.is_some() {
            match metrics::install() {
                Ok(handle) => Some(handle),
                Err(message) => return self.fail(Failure::usage(message)),
            }
        } else {
            None
        };
        let code = match self.work().await {
            Ok(code) => code,
            Err(failure) => self.fail(failure),
        };
        let Some(recorder) = recorder else {
            return code;
        };
        let command = self.command_name();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        ::metrics::gauge!("soft_delete_cli_last_run_timestamp_seconds", "command" => command)
            .set(now.as_secs_f64());
        ::metrics::gauge!("soft_delete_cli_run_duration_seconds", "command" => command)
            .set(started.elapsed().as_secs_f64());
        ::metrics::gauge!("soft_delete_cli_exit_code", "command" => command).set(f64::from(code));
        let text = recorder.render();
        let mut code = code;
        if let Some(path) = &self.cli.metrics_textfile
            && let Err(message) = metrics::write_textfile(path, &text)
        {
            self.out.note(message);
            code = 1;
        }
        if let Some(url) = &pushgateway {
            let job = self
                .cli
                .metrics_job
                .clone()
                .unwrap_or_else(|| self.out.name.clone());
            if let Err(message) = metrics::push(url, &job, &text).await {
                self.out.note(message);
                code = 1;
            }
        }
        code
    }

    /// Says why the command stops, and returns its exit status.
    fn fail(&self, failure: Failure) -> u8 {
        self.out.note(&failure.message);
        self.out.document(&json!({
            "command": self.command_name(),
            "exit_code": failure.code,
            "error": failure.message,
        }));
        failure.code
    }

    async fn work(&mut self) -> Result<u8, Failure> {
        if self.cli.demo && self.registry.demo.is_none() {
            return Err(Failure::usage(
                "this command has no demo data: --demo is only for a command whose registry \
                 has Registry::demo",
            ));
        }
        let url = match self
            .cli
            .database_url
            .clone()
            .filter(|u| !u.trim().is_empty())
        {
            Some(url) => url,
            None => match non_empty_var("DATABASE_URL") {
                Some(url) => url,
                None if self.cli.demo => format!("sqlite://{}-demo.db?mode=rwc", self.out.name),
                None => {
                    return Err(Failure::usage(
                        "no database: set DATABASE_URL (for example \
                         DATABASE_URL=postgres://user:password@host/db) or pass --database-url",
                    ));
                }
            },
        };
        self.out.secrets.add_url(&url);
        let url = secret::normalise_scheme(url.trim());
        let replicas = self.replica_urls();
        for replica in &replicas {
            self.out.secrets.add_url(replica);
        }
        let config = self.configuration()?;
        if let Command::Prune(args) = &self.cli.command {
            self.check_prune(args, &url, &replicas, &config)?;
        }
        // A connection per worker and one for the engine's checks, at least the usual four.
        let workers = match &self.cli.command {
            Command::Prune(args) => args.parallel.map_or(config.parallelism, |n| n as usize),
            _ => 1,
        };
        let db = connect(&url, (workers as u32 + 1).max(4))
            .await
            .map_err(|e| Failure::error(format!("cannot connect to the database at {url}: {e}")))?;
        if self.cli.demo
            && let Some(seed) = self.registry.demo
        {
            let seeded = seed(&db)
                .await
                .map_err(|e| Failure::error(format!("seeding the demo data: {e}")))?;
            if seeded {
                self.out.note(format!("seeded demo data into {url}"));
            }
        }
        let manager = SoftDeleteManager::with_config(&db, config);
        match &self.cli.command {
            Command::Prune(args) => self.prune(&manager, args, &replicas).await,
            Command::Stats(args) => self.stats(&manager, &args.entities).await,
            Command::Ops(OpsCommand::List(args)) => self.list(&manager, args).await,
            Command::Ops(OpsCommand::Show { id }) => self.show(&manager, *id).await,
            Command::Ops(OpsCommand::Undo(args)) => self.reverse(&manager, args, true).await,
            Command::RestoreOp(args) => self.reverse(&manager, args, false).await,
        }
    }

    /// `--replica` and `SOFT_DELETE_REPLICA_URLS`, normalised.
    fn replica_urls(&self) -> Vec<String> {
        let mut urls = match &self.cli.command {
            Command::Prune(args) => args.replicas.clone(),
            _ => Vec::new(),
        };
        if let Some(listed) = non_empty_var("SOFT_DELETE_REPLICA_URLS") {
            urls.extend(
                listed
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|url| !url.is_empty())
                    .map(str::to_owned),
            );
        }
        urls.iter()
            .map(|url| secret::normalise_scheme(url))
            .collect()
    }

    /// `SOFT_DELETE_*`, with every per-table retention naming a registered table.
    fn configuration(&self) -> Result<SoftDeleteConfig, Failure> {
        check_retention_variables(
            &self.registry,
            std::env::vars_os().map(|(name, _)| name.to_string_lossy().into_owned()),
        )?;
        SoftDeleteConfig::from_env().map_err(|e| Failure::usage(format!("configuration: {e}")))
    }

    /// The registry's entries named in `tables`, or all of them.
    fn selected(&self, tables: &[String]) -> Vec<&Entry> {
        self.registry
            .entries
            .iter()
            .filter(|e| tables.is_empty() || tables.iter().any(|t| *t == e.table.to_string()))
            .collect()
    }
}

/// Every `SOFT_DELETE_RETENTION_DAYS_<X>` among `names` must have an `<X>` that is a registered
/// table's name (without its schema, in any case).
fn check_retention_variables(
    registry: &Registry,
    names: impl Iterator<Item = String>,
) -> Result<(), Failure> {
    let tables: Vec<&str> = registry.entries.iter().map(|e| e.table.name()).collect();
    let mut unknown: Vec<String> = names
        .filter(|name| {
            name.strip_prefix(RETENTION_PREFIX)
                .filter(|table| !table.is_empty())
                .is_some_and(|table| !tables.iter().any(|t| t.eq_ignore_ascii_case(table)))
        })
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    let variable = &unknown[0];
    let asked = variable[RETENTION_PREFIX.len()..].to_lowercase();
    let mut candidates: Vec<(usize, String)> = tables
        .iter()
        .map(|table| {
            (
                edit_distance(&asked, &table.to_lowercase()),
                format!("{RETENTION_PREFIX}{}", table.to_uppercase()),
            )
        })
        .collect();
    candidates.sort();
    let listed: Vec<String> = candidates.into_iter().map(|(_, name)| name).collect();
    Err(Failure::usage(format!(
        "{variable} names no table this command prunes{}; did you mean {}?",
        if unknown.len() > 1 {
            format!(" (nor do {})", unknown[1..].join(", "))
        } else {
            String::new()
        },
        if listed.is_empty() {
            "none: no entity is registered".to_owned()
        } else {
            listed.join(" or ")
        }
    )))
}

/// Levenshtein's distance, for suggesting the table a misspelt variable meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// `90d`, `12h`, `15m`, `30s` or `250ms`: the largest unit that divides it.
fn describe(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if duration.subsec_nanos() != 0 {
        return format!("{}ms", duration.as_millis());
    }
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds >= size && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// A connection pool for the command: `connections` connections, no statement logging.
async fn connect(url: &str, connections: u32) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(connections)
        .connect_timeout(Duration::from_secs(30))
        .acquire_timeout(Duration::from_secs(30));
    Database::connect(options).await
}

#[cfg(test)]
mod tests {
    use super::args::{parse_duration, parse_kind};
    use super::*;
    use crate::operation::OperationKind;

    #[test]
    fn durations_read_and_print_in_their_units() {
        assert_eq!(parse_duration("30d"), Ok(DAY * 30));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(
            parse_duration("5x")
                .expect_err("refused")
                .contains("unknown unit `x`")
        );
        assert!(
            parse_duration("12")
                .expect_err("refused")
                .contains("no unit")
        );
        assert_eq!(describe(DAY * 90), "90d");
        assert_eq!(describe(Duration::from_secs(90)), "90s");
        assert_eq!(describe(Duration::from_secs(7_200)), "2h");
        assert_eq!(describe(Duration::ZERO), "0s");
    }

    #[test]
    fn operation_kinds_read_with_dashes_underscores_or_spaces() {
        for text in ["soft-delete", "soft_delete", "soft delete"] {
            assert_eq!(parse_kind(text), Ok(OperationKind::SoftDelete));
        }
        assert!(
            parse_kind("erase")
                .expect_err("refused")
                .contains("`erase`")
        );
    }

    #[test]
    fn edit_distance_counts_single_changes() {
        assert_eq!(edit_distance("order", "orders"), 1);
        assert_eq!(edit_distance("orders", "orders"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
