//! The operator's command (`soft_delete_core::cli`), as the demo mounts it in
//! `examples/prune.rs`, run as an operator runs it: a separate process against the test's
//! database, checked by its exit status, its output (text and `--json`) and the rows it leaves.
//!
//! The binary is the debug build of the example, `target/debug/examples/prune`, which `cargo
//! test --workspace` builds; `.ci/run` builds it before the server suites. Without it (or with
//! one older than its sources) the tests fail and say how to build it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sea_orm::{ColumnTrait, DbBackend, PaginatorTrait, QueryFilter};
use serde_json::Value;
use soft_delete_core::operation_log::DEFAULT_TABLE;
use soft_delete_core::prelude::*;
use soft_delete_examples::{customer, demo, order};
use soft_delete_tests::{TestContext, test_context};

/// `target/debug/examples/prune`, built from the current sources.
fn binary() -> PathBuf {
    soft_delete_tests::fixtures::built_example(
        "debug",
        "prune",
        &[
            "examples/examples/prune.rs",
            "examples/src",
            "soft-delete-core/src",
        ],
    )
    .unwrap_or_else(|why| panic!("{why}"))
}

/// What one run of the command did.
#[derive(Debug)]
struct Run {
    code: i32,
    out: String,
    err: String,
}

impl Run {
    /// Standard output as the one JSON document `--json` prints.
    fn json(&self) -> Value {
        serde_json::from_str(self.out.trim())
            .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}{}", self.out, self.err))
    }

    fn both(&self) -> String {
        format!("{}{}", self.out, self.err)
    }
}

/// The command against `url`, in `dir`, with no `SOFT_DELETE_*` variable of the test's own.
fn command(url: Option<&str>, dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(dir).env_remove("DATABASE_URL");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SOFT_DELETE_") {
            command.env_remove(name);
        }
    }
    if let Some(url) = url {
        command.env("DATABASE_URL", url);
    }
    command
}

fn run_in(command: &mut Command, args: &[&str]) -> Run {
    let output = command.args(args).output().expect("run the command");
    Run {
        code: output.status.code().expect("it exited, not killed"),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the command on the test's database with `env` added.
fn run(ctx: &TestContext, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = command(Some(&ctx.url), &std::env::temp_dir());
    command.envs(env.iter().copied());
    run_in(&mut command, args)
}

/// The demo's tables, filled: 5,000 orders (2,000 soft-deleted: 1,500 past 30 days) and 1,000
/// customers (300 soft-deleted: 200 past 30 days, all still referenced by their orders).
async fn seeded(ctx: &TestContext) {
    assert!(demo::seed(&ctx.db).await.expect("seed the demo"));
}

async fn orders(ctx: &TestContext) -> (u64, u64) {
    (
        order::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        order::Entity::find_deleted().count(&ctx.db).await.unwrap(),
    )
}

/// A directory of its own, empty.
fn empty_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("soft-delete-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

#[tokio::test]
async fn every_subcommand_has_help_and_a_bad_command_line_exits_2() {
    let ctx = test_context!(shared).await;
    for (args, wanted) in [
        (vec!["--help"], "--demo"),
        (vec!["prune", "--help"], "--older-than"),
        (vec!["stats", "--help"], "purgeable"),
        (vec!["ops", "--help"], "SOFT_DELETE_OPERATION_LOG"),
        (vec!["ops", "list", "--help"], "--kind"),
        (vec!["ops", "show", "--help"], "operation's id"),
        (vec!["ops", "undo", "--help"], "--by"),
        (vec!["restore-op", "--help"], "--by"),
    ] {
        let run = run(&ctx, &[], &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.both());
        assert!(run.out.contains(wanted), "{args:?}: {}", run.out);
        assert!(
            run.out.contains("Examples:") || args.len() == 1,
            "{args:?}: {}",
            run.out
        );
        assert!(
            run.out.contains("Exit status") || args.len() > 1,
            "{}",
            run.out
        );
    }
    for (args, wanted) in [
        (vec!["prune", "--older-than", "5x"], "unknown unit `x`"),
        (vec!["prune", "--entity", "nope"], "orders"),
        (vec!["stats", "--entity", "order"], "customers"),
        (vec!["prune", "--parallel", "0"], "1..=64"),
        (
            vec!["prune", "--sleep-coef", "101"],
            "not a number from 0 to 100",
        ),
        (vec!["ops", "show", "not-an-id"], "not-an-id"),
        (
            vec!["ops", "list", "--kind", "erase"],
            "soft-delete, restore, purge or create",
        ),
        (vec!["frobnicate"], "frobnicate"),
        (vec![], "Usage"),
    ] {
        let run = run(&ctx, &[], &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.both());
        assert!(run.err.contains(wanted), "{args:?}: {}", run.err);
    }
}

#[tokio::test]
async fn without_a_database_url_it_exits_2_and_creates_nothing() {
    let dir = empty_dir("no-url");
    for url in [None, Some(""), Some("  ")] {
        for args in [vec!["prune"], vec!["stats"], vec!["ops", "list"]] {
            let run = run_in(&mut command(url, &dir), &args);
            assert_eq!(run.code, 2, "{url:?} {args:?}: {}", run.both());
            assert!(run.err.contains("set DATABASE_URL"), "{}", run.err);
            assert!(run.out.is_empty(), "{}", run.out);
        }
        let run = run_in(&mut command(url, &dir), &["--json", "prune", "--dry-run"]);
        assert_eq!(run.code, 2);
        let document = run.json();
        assert_eq!(document["command"], "prune");
        assert_eq!(document["exit_code"], 2);
        assert!(
            document["error"].as_str().unwrap().contains("DATABASE_URL"),
            "{document}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "nothing is created: {left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `url` with its password replaced by `password`, written as it is (not percent-encoded).
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let at = rest.rfind('@').unwrap();
    let user = rest[..at].split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{}", &rest[at + 1..])
}

#[tokio::test]
async fn no_password_appears_in_any_output() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;
    let wrong = "Wr0ng#pa/ss?x";
    let unreachable = match ctx.backend {
        // SQLite has no password: a server URL that cannot be reached stands in.
        DbBackend::Sqlite => format!("mariadb://app:{wrong}@127.0.0.1:1/shop"),
        _ => with_password(&ctx.url, wrong),
    };
    for args in [
        vec!["prune"],
        vec!["--json", "stats"],
        vec!["--json", "ops", "list"],
    ] {
        let mut command = command(Some(&unreachable), &std::env::temp_dir());
        command.env("SOFT_DELETE_OPERATION_LOG", "true");
        let run = run_in(&mut command, &args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.both());
        assert!(run.err.contains("cannot connect"), "{}", run.err);
        assert!(
            run.err.contains(":***@"),
            "the URL is named, masked: {}",
            run.err
        );
        for secret in ["Wr0ng", "pa/ss", "ss?x"] {
            assert!(
                !run.both().contains(secret),
                "{secret} printed: {}",
                run.both()
            );
        }
        if args[0] == "--json" {
            assert_eq!(run.json()["exit_code"], 1);
        }
    }
    if ctx.backend == DbBackend::Sqlite {
        return;
    }
    // The right password: the demo's message names the URL, masked.
    let password = password_in(&ctx.url);
    let dir = empty_dir(&ctx.name);
    let mut fresh = command(Some(&ctx.url), &dir);
    let stats = run_in(&mut fresh, &["--demo", "--json", "stats"]);
    assert_eq!(stats.code, 0, "{}", stats.both());
    assert!(!stats.both().contains(&password), "{}", stats.both());
    // A replica given by variable, with a password: never printed either.
    let replicas = format!("{},{}", ctx.url, ctx.url);
    let lagged = run(
        &ctx,
        &[("SOFT_DELETE_REPLICA_URLS", replicas.as_str())],
        &[
            "prune",
            "--max-replica-lag",
            "1s",
            "--max-lag-wait",
            "300ms",
            "--entity",
            "orders",
        ],
    );
    assert_eq!(lagged.code, 1, "{}", lagged.both());
    assert!(lagged.out.contains("not a replica"), "{}", lagged.both());
    assert!(!lagged.both().contains(&password), "{}", lagged.both());
    // A MariaDB URL is read as a MySQL one.
    if ctx.backend == DbBackend::MySql {
        let mariadb = ctx.url.replacen("mysql://", "mariadb://", 1);
        let counted = run_in(&mut command(Some(&mariadb), &dir), &["stats"]);
        assert_eq!(counted.code, 0, "{}", counted.both());
        assert!(!counted.both().contains(&password), "{}", counted.both());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn password_in(url: &str) -> String {
    let (_, rest) = url.split_once("://").unwrap();
    let user_info = &rest[..rest.rfind('@').expect("a server URL with a user")];
    let password = user_info.split_once(':').expect("a password").1.to_owned();
    assert!(password.len() >= 6, "a password long enough to search for");
    password
}

#[tokio::test]
async fn a_misspelt_retention_variable_is_refused_and_changes_nothing() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;
    for args in [vec!["prune"], vec!["prune", "--dry-run"], vec!["stats"]] {
        let run = run(&ctx, &[("SOFT_DELETE_RETENTION_DAYS_ORDER", "3650")], &args);
        assert_eq!(run.code, 2, "{}", run.both());
        assert!(
            run.err
                .contains("SOFT_DELETE_RETENTION_DAYS_ORDER names no table")
                && run
                    .err
                    .contains("did you mean SOFT_DELETE_RETENTION_DAYS_ORDERS"),
            "{}",
            run.err
        );
    }
    assert_eq!(orders(&ctx).await, (5000, 2000));
    // Spelt right, it is the orders' retention: ten years keeps every row.
    let run = run(
        &ctx,
        &[("SOFT_DELETE_RETENTION_DAYS_ORDERS", "3650")],
        &["prune", "--entity", "orders"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.out.contains("orders: 0 rows removed"), "{}", run.out);
    assert_eq!(orders(&ctx).await, (5000, 2000));
}

#[tokio::test]
async fn a_retention_under_a_day_needs_force() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;
    let run1 = run(&ctx, &[], &["prune", "--older-than", "0s"]);
    assert_eq!(run1.code, 2, "{}", run1.both());
    assert!(
        run1.err.contains("--older-than 0s is under one day"),
        "{}",
        run1.err
    );
    let run2 = run(
        &ctx,
        &[("SOFT_DELETE_RETENTION_DAYS_ORDERS", "0")],
        &["prune", "--entity", "orders"],
    );
    assert_eq!(run2.code, 2, "{}", run2.both());
    assert!(
        run2.err
            .contains("orders: the retention is 0s (SOFT_DELETE_RETENTION_DAYS_ORDERS)"),
        "{}",
        run2.err
    );
    let run3 = run(&ctx, &[("SOFT_DELETE_RETENTION_DAYS", "0")], &["prune"]);
    assert_eq!(run3.code, 2, "{}", run3.both());
    assert!(
        run3.err.contains("(SOFT_DELETE_RETENTION_DAYS)"),
        "{}",
        run3.err
    );
    assert_eq!(orders(&ctx).await, (5000, 2000));
    // A dry run may count with it; --force runs it.
    let dry = run(
        &ctx,
        &[],
        &[
            "prune",
            "--older-than",
            "0s",
            "--dry-run",
            "--entity",
            "orders",
        ],
    );
    assert_eq!(dry.code, 0, "{}", dry.both());
    assert!(
        dry.out.contains("orders: 2000 rows would be removed"),
        "{}",
        dry.out
    );
    let forced = run(
        &ctx,
        &[],
        &[
            "prune",
            "--older-than",
            "0s",
            "--force",
            "--entity",
            "orders",
        ],
    );
    assert_eq!(forced.code, 0, "{}", forced.both());
    assert!(
        forced.out.contains("orders: 2000 rows removed"),
        "{}",
        forced.out
    );
    assert_eq!(orders(&ctx).await, (3000, 0));
}

#[tokio::test]
async fn prune_with_workers_removes_the_same_rows() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;
    let run = run(
        &ctx,
        &[],
        &["--json", "prune", "--batch-size", "400", "--parallel", "2"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let document = run.json();
    assert_eq!(document["rows"], 1700);
    assert_eq!(document["entities"][0]["table"], "orders");
    assert_eq!(document["entities"][0]["rows"], 1500);
    // Two workers on a server; SQLite writes with one.
    let workers = match ctx.backend {
        sea_orm::DbBackend::Sqlite => 1,
        _ => 2,
    };
    assert_eq!(document["entities"][0]["workers"], workers);
    assert_eq!(document["entities"][1]["rows"], 200);
    assert_eq!(orders(&ctx).await, (3500, 500));
}

#[tokio::test]
async fn prune_and_stats_report_exactly_what_the_tables_hold() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;

    // A dry run counts and changes nothing: 1,500 orders are past 30 days; customers are
    // counted as they stand, every old one still referenced by its orders.
    let dry = run(&ctx, &[], &["--json", "prune", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.both());
    let document = dry.json();
    assert_eq!(document["status"], "finished");
    assert_eq!(document["dry_run"], true);
    assert_eq!(document["rows"], 1500);
    assert_eq!(document["entities"][0]["table"], "orders");
    assert_eq!(document["entities"][0]["rows"], 1500);
    assert_eq!(document["entities"][1]["table"], "customers");
    assert_eq!(document["entities"][1]["rows"], 0);
    assert_eq!(orders(&ctx).await, (5000, 2000));

    let stats = run(&ctx, &[], &["--json", "stats"]).json();
    assert_eq!(stats["exit_code"], 0);
    let orders_row = &stats["entities"][0];
    assert_eq!(orders_row["table"], "orders");
    assert_eq!(
        (
            &orders_row["total"],
            &orders_row["active"],
            &orders_row["deleted"],
            &orders_row["purgeable"],
            &orders_row["archived"]
        ),
        (
            &5000.into(),
            &3000.into(),
            &2000.into(),
            &1500.into(),
            &0.into()
        )
    );
    assert_eq!(stats["entities"][1]["deleted"], 300);
    assert_eq!(stats["entities"][1]["purgeable"], 0);

    // The real run, archived, in batches of 400; the text report says it.
    let real = run(
        &ctx,
        &[],
        &[
            "prune",
            "--archive",
            "--batch-size",
            "400",
            "--sleep-coef",
            "0.5",
            "--quiet",
        ],
    );
    assert_eq!(real.code, 0, "{}", real.both());
    assert!(
        real.out
            .contains("pruning with archive in order: orders, customers"),
        "{}",
        real.out
    );
    assert!(
        real.out
            .contains("orders: 1500 rows removed (1500 archived) in 4 batches"),
        "{}",
        real.out
    );
    assert!(
        real.out
            .contains("customers: 200 rows removed (200 archived) in 1 batches"),
        "{}",
        real.out
    );
    assert!(
        real.out.contains("finished: 1700 rows removed"),
        "{}",
        real.out
    );
    assert_eq!(orders(&ctx).await, (3500, 500));
    assert_eq!(
        ctx.scalar_i64("SELECT COUNT(*) FROM orders_archive").await,
        1500
    );

    // Stats, as text, agree with the tables.
    let text = run(&ctx, &[], &["stats"]);
    assert_eq!(text.code, 0, "{}", text.both());
    let line = text.out.lines().find(|l| l.starts_with("orders ")).unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells,
        ["orders", "3500", "3000", "500", "0", "1500"],
        "{line}"
    );
    let line = text
        .out
        .lines()
        .find(|l| l.starts_with("customers "))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells,
        ["customers", "800", "700", "100", "0", "200"],
        "{line}"
    );

    // Younger, orders only: the 500 orders of the customers deleted 10 days ago.
    let younger = run(
        &ctx,
        &[],
        &["prune", "--older-than", "5d", "--entity", "orders"],
    );
    assert_eq!(younger.code, 0, "{}", younger.both());
    assert!(
        younger.out.contains("orders: 500 rows removed"),
        "{}",
        younger.out
    );
    assert!(!younger.out.contains("customers:"), "{}", younger.out);
    assert_eq!(
        customer::Entity::find_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        100
    );

    // An entity whose purge fails (its archive is gone) makes the run exit 1, and says why.
    ctx.exec("DROP TABLE customers_archive").await;
    let failed = run(
        &ctx,
        &[],
        &["--json", "prune", "--archive", "--older-than", "5d"],
    );
    assert_eq!(failed.code, 1, "{}", failed.both());
    let document = failed.json();
    assert_eq!(document["status"], "failed");
    let customers = &document["entities"][1];
    assert_eq!(customers["outcome"], "failed");
    assert!(
        customers["error"]
            .as_str()
            .unwrap()
            .contains("customers_archive"),
        "{document}"
    );
    assert_eq!(
        customer::Entity::find_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        100
    );
}

#[tokio::test]
async fn a_run_stopped_early_exits_3_with_exact_counts() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;

    // No time at all, or a stop file already there: nothing runs.
    let run1 = run(&ctx, &[], &["prune", "--max-duration", "0s"]);
    assert_eq!(run1.code, 3, "{}", run1.both());
    assert!(run1.out.contains("orders: not run"), "{}", run1.out);
    assert!(
        run1.out.contains("stopped before finishing"),
        "{}",
        run1.out
    );
    let stop_file = std::env::temp_dir().join(format!("{}-stop", ctx.name));
    std::fs::write(&stop_file, b"").expect("the stop file");
    let stop = stop_file.to_str().unwrap();
    let run2 = run(&ctx, &[], &["--json", "prune", "--stop-file", stop]);
    std::fs::remove_file(&stop_file).unwrap();
    assert_eq!(run2.code, 3, "{}", run2.both());
    assert_eq!(run2.json()["status"], "stopped");
    assert_eq!(run2.json()["entities"][0]["outcome"], "not_run");
    assert_eq!(orders(&ctx).await, (5000, 2000));

    // Ctrl-C mid-batch: the batch in flight finishes, then it stops, and says how many went.
    let mut child = command(Some(&ctx.url), &std::env::temp_dir())
        .args(["prune", "--batch-size", "50", "--pause", "300ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut progress = String::new();
    while !progress.contains("rows removed so far") {
        progress.clear();
        assert!(
            stderr.read_line(&mut progress).unwrap() > 0,
            "no progress line before the end"
        );
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(3), "{out}{rest}");
    assert!(rest.contains("stopping after the current batch"), "{rest}");
    let line = out.lines().find(|l| l.starts_with("orders: ")).unwrap();
    assert!(line.contains("stopped early"), "{line}");
    let removed: u64 = line["orders: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        removed > 0 && removed < 1500 && removed.is_multiple_of(50),
        "{line}"
    );
    assert!(out.contains("customers: not run"), "{out}");
    assert_eq!(orders(&ctx).await, (5000 - removed, 2000 - removed));
}

#[tokio::test]
async fn the_operation_log_is_listed_shown_undone_and_restored() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;
    let config = SoftDeleteConfig {
        operation_log: Some(DEFAULT_TABLE.to_owned()),
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&ctx.db, config);
    let first = manager
        .bulk_soft_delete::<order::Entity, _>(3001..=3100i64)
        .deleted_by("clerk")
        .await
        .unwrap();
    let second = manager
        .bulk_soft_delete::<order::Entity, _>(3101..=3150i64)
        .await
        .unwrap();
    // The seed deleted every sixth order past 2,000 long ago: those stay deleted throughout.
    let live = |ids: std::ops::RangeInclusive<i64>| ids.filter(|id| id % 6 != 0).count() as u64;
    assert_eq!(
        (first.affected, second.affected),
        (live(3001..=3100), live(3101..=3150))
    );
    let log = [("SOFT_DELETE_OPERATION_LOG", "true")];

    let listed = run(&ctx, &log, &["--json", "ops", "list", "--entity", "orders"]);
    assert_eq!(listed.code, 0, "{}", listed.both());
    let operations = listed.json()["operations"].as_array().unwrap().clone();
    assert_eq!(operations.len(), 2);
    assert_eq!(operations[0]["id"], second.id.to_string());
    assert_eq!(operations[1]["id"], first.id.to_string());
    assert_eq!(operations[1]["rows_by_table"]["orders"], first.affected);
    assert_eq!(operations[1]["actor"], "clerk");
    assert_eq!(operations[1]["kind"], "soft delete");
    let id = first.id.to_string();
    let shown = run(&ctx, &log, &["ops", "show", &id]);
    assert_eq!(shown.code, 0, "{}", shown.both());
    let changed = first.affected;
    assert!(
        shown.out.contains(&format!("rows changed: {changed}")),
        "{}",
        shown.out
    );
    assert!(
        shown
            .out
            .contains(&format!("rows by table: orders={changed}")),
        "{}",
        shown.out
    );

    // Undo the first, restore the second's rows by their stamp.
    let undone = run(&ctx, &log, &["--json", "ops", "undo", &id, "--by", "alice"]);
    assert_eq!(undone.code, 0, "{}", undone.both());
    let document = undone.json();
    assert_eq!(document["reversed"], id);
    assert_eq!(document["operation"]["affected"], first.affected);
    assert_eq!(document["operation"]["kind"], "restore");
    let restored = run(&ctx, &log, &["restore-op", &second.id.to_string()]);
    assert_eq!(restored.code, 0, "{}", restored.both());
    let restored_rows = format!("{} rows restored on orders", second.affected);
    assert!(restored.out.contains(&restored_rows), "{}", restored.out);
    // Exactly the rows the two operations deleted came back; the seed's stayed deleted.
    assert_eq!(
        order::Entity::find_deleted()
            .filter(order::Column::Id.between(3001, 3150))
            .count(&ctx.db)
            .await
            .unwrap(),
        150 - live(3001..=3150)
    );
    let restores = run(&ctx, &log, &["--json", "ops", "list", "--kind", "restore"]).json();
    let restores = restores["operations"].as_array().unwrap();
    assert_eq!(restores.len(), 2, "{restores:?}");
    assert!(
        restores
            .iter()
            .any(|op| op["reverses"] == id.as_str() && op["actor"] == "alice")
    );

    // Undone twice: nothing changes the second time.
    let again = run(&ctx, &log, &["--json", "ops", "undo", &id]);
    assert_eq!(again.code, 0, "{}", again.both());
    assert_eq!(again.json()["operation"]["affected"], 0);

    // An id not in the log: 1. The log off: 2, saying how to turn it on.
    let unknown = "00000000-0000-7000-8000-000000000000";
    let missing = run(&ctx, &log, &["ops", "undo", unknown]);
    assert_eq!(missing.code, 1, "{}", missing.both());
    assert!(
        missing.err.contains(&format!("no operation {unknown}")),
        "{}",
        missing.err
    );
    let off = run(&ctx, &[], &["ops", "list"]);
    assert_eq!(off.code, 2, "{}", off.both());
    assert!(off.err.contains("SOFT_DELETE_OPERATION_LOG"), "{}", off.err);
}

/// A Pushgateway stand-in: answers one request with `status` and hands the request back.
fn gateway(status: &'static str) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut request = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            let n = stream.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&request).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .map_or(0, |n| n.trim().parse().unwrap());
                if request.len() >= end + 4 + length {
                    break;
                }
            }
        }
        write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    (format!("127.0.0.1:{}", address.port()), handle)
}

#[tokio::test]
async fn a_runs_metrics_go_to_a_textfile_and_a_pushgateway() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;
    let dir = empty_dir(&format!("metrics-{}", ctx.name));
    let file = dir.join("prune.prom");
    let (address, request) = gateway("200 OK");
    let pushgateway = format!("http://ops:Pushp4ss@{address}");
    let run1 = run(
        &ctx,
        &[],
        &[
            "prune",
            "--batch-size",
            "1000",
            "--metrics-textfile",
            file.to_str().unwrap(),
            "--pushgateway",
            &pushgateway,
            "--metrics-job",
            "shop prune",
        ],
    );
    assert_eq!(run1.code, 0, "{}", run1.both());
    assert!(!run1.both().contains("Pushp4ss"), "{}", run1.both());
    let text = std::fs::read_to_string(&file).unwrap();
    for wanted in [
        "soft_delete_rows_total{db_operation_name=\"purge\",db_collection_name=\"orders\"} 1500",
        "soft_delete_batches_total{db_operation_name=\"purge\",db_collection_name=\"orders\"} 2",
        "db_client_operation_duration_count{db_operation_name=\"purge\",db_collection_name=\"orders\"} 2",
        "soft_delete_cli_prune_rows{db_collection_name=\"orders\",dry_run=\"false\"} 1500",
        "soft_delete_cli_exit_code{command=\"prune\"} 0",
        "soft_delete_cli_last_run_timestamp_seconds{command=\"prune\"}",
    ] {
        assert!(text.contains(wanted), "{wanted} not in:\n{text}");
    }
    let request = request.join().unwrap();
    assert!(
        request.starts_with("PUT /metrics/job/shop%20prune HTTP/1.1"),
        "{request}"
    );
    // ops:Pushp4ss, as Basic credentials.
    assert!(
        request.contains("Authorization: Basic b3BzOlB1c2hwNHNz"),
        "{request}"
    );
    assert!(request.contains("soft_delete_rows_total{"), "{request}");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["prune.prom"], "no temporary file is left");

    // A gateway that refuses makes the run exit 1, though the prune itself finished.
    let (address, request) = gateway("500 Internal Server Error");
    let run2 = run(
        &ctx,
        &[("SOFT_DELETE_PUSHGATEWAY_URL", &format!("http://{address}"))],
        &["prune", "--dry-run"],
    );
    request.join().unwrap();
    assert_eq!(run2.code, 1, "{}", run2.both());
    assert!(
        run2.err.contains("500 Internal Server Error"),
        "{}",
        run2.err
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn replica_lag_needs_a_server_with_replicas() {
    let ctx = test_context!(shared).await;
    seeded(&ctx).await;
    let lag = [
        "prune",
        "--max-replica-lag",
        "1s",
        "--max-lag-wait",
        "300ms",
        "--entity",
        "orders",
    ];
    let run1 = run(&ctx, &[], &lag);
    match ctx.backend {
        DbBackend::Sqlite => {
            assert_eq!(run1.code, 2, "{}", run1.both());
            assert!(
                run1.err.contains("needs a PostgreSQL or MySQL/MariaDB"),
                "{}",
                run1.err
            );
        }
        DbBackend::MySql => {
            assert_eq!(run1.code, 2, "{}", run1.both());
            assert!(run1.err.contains("needs the replicas"), "{}", run1.err);
        }
        _ => {
            // PostgreSQL, on the primary: no standby streams, so every batch is held until the wait ends.
            assert_eq!(run1.code, 1, "{}", run1.both());
            assert!(run1.out.contains("0 standby(s) streaming"), "{}", run1.out);
        }
    }
    assert_eq!(orders(&ctx).await, (5000, 2000));
}
