//! Bulk work while the database under it fails over: a PostgreSQL HA cluster (etcd, two Patroni
//! nodes in synchronous mode, HAProxy routing to the leader; `scripts/pg-ha.sh`) whose leader is
//! killed with `SIGKILL` or switched over with `patronictl` in the middle of a bulk soft delete,
//! a restore, a purge with archive, a purge with cascade and a `Pruner` run; and a Galera
//! cluster behind HAProxy (`scripts/galera.sh`, `scripts/galera-proxy.sh`) whose active node is
//! killed in the middle of a soft delete and of a purge with archive, then rejoins.
//!
//! Every operation runs with `reconnect_for` set, so it goes on by itself on the new primary.
//! What each test checks is the truth in the database afterwards: the report's counts equal the
//! rows the operation changed (found by its stamp), no row is changed twice or lost, every
//! purged row is in the archive, and the operation log agrees with the data. The time from the
//! kill to the next committed batch, and the rows per second before and after, are printed
//! (`--nocapture`) for the README.
//!
//! Built only with the `failover` feature (`cargo test -p soft-delete-tests --features failover
//! --test failover`), which says the clusters are there: without `SOFT_DELETE_TEST_PG_HA_URL`
//! and `SOFT_DELETE_TEST_GALERA_PROXY_URL` (and their folders) every test fails.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use soft_delete_core::archive::create_archive_table;
use soft_delete_core::prelude::*;
use soft_delete_core::prune::{Policy, Pruner};
use soft_delete_tests::TestContext;
use soft_delete_tests::entities::{account, post, project, task, user};

/// One cluster, one failover at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The library's warnings (a lost `COMMIT` and how it was checked, a reconnect) on stderr, which
/// `--nocapture` puts in the log: what a failed run is read from. `RUST_LOG` overrides.
fn trace() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("soft_delete_core=warn"));
    // Once per process; a later call finds it set.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Rows per operation: `SOFT_DELETE_FAILOVER_ROWS`, 200,000 by default.
fn rows() -> i64 {
    std::env::var("SOFT_DELETE_FAILOVER_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

fn env(name: &str, how: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{name} is not set: {how}"))
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name)
}

/// Runs a cluster script; its stdout, trimmed. Panics with its output when it fails.
async fn run_script(name: &str, args: Vec<String>) -> String {
    let shown = format!("{name} {}", args.join(" "));
    try_script(name, args)
        .await
        .unwrap_or_else(|error| panic!("{shown} failed: {error}"))
}

/// Runs a cluster script: its stdout, trimmed, or its status and output when it fails.
async fn try_script(name: &str, args: Vec<String>) -> Result<String, String> {
    let path = script(name);
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg(path)
            .args(args)
            .output()
    })
    .await
    .expect("the script's thread")
    .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match output.status.success() {
        true => Ok(stdout),
        false => Err(format!(
            "{}:\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

/// How the primary goes away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loss {
    /// `SIGKILL` to the primary (Patroni and its postmaster; the Galera node's `mariadbd`).
    Kill,
    /// A planned switchover (`patronictl switchover`).
    Switchover,
}

/// A cluster behind HAProxy, and how to fail it over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ha {
    Patroni,
    Galera,
}

impl Ha {
    fn url(self) -> String {
        match self {
            Ha::Patroni => env(
                "SOFT_DELETE_TEST_PG_HA_URL",
                "start the cluster with scripts/pg-ha.sh start and source its env file",
            ),
            Ha::Galera => env(
                "SOFT_DELETE_TEST_GALERA_PROXY_URL",
                "start scripts/galera.sh, then scripts/galera-proxy.sh, and source their env files",
            ),
        }
    }

    /// A test's database on the cluster, once the cluster is whole (a test that failed may
    /// have left a node down).
    async fn context(self, test: &str) -> TestContext {
        trace();
        if self == Ha::Patroni {
            let dir = env(
                "SOFT_DELETE_PG_HA_DIR",
                "source scripts/pg-ha.sh's env file",
            );
            for node in ["1", "2"] {
                // Refused, and harmless, for a node that runs.
                let _ = try_script(
                    "pg-ha.sh",
                    vec!["restart-node".into(), dir.clone(), node.into()],
                )
                .await;
            }
            run_script("pg-ha.sh", vec!["wait-healthy".into(), dir, "180".into()]).await;
        } else {
            let dir = env(
                "SOFT_DELETE_GALERA_PROXY_DIR",
                "source scripts/galera-proxy.sh's env file",
            );
            for node in ["1", "2", "3"] {
                // Starts a node that is down; for one that runs, waits until it is synced
                // and the proxy sees it up.
                run_script(
                    "galera-proxy.sh",
                    vec!["restart-node".into(), dir.clone(), node.into()],
                )
                .await;
            }
        }
        match self {
            Ha::Patroni => TestContext::on_postgres(&self.url(), test).await,
            Ha::Galera => TestContext::on_mysql(&self.url(), test).await,
        }
    }

    /// Takes the primary away; returns the node to bring back (none after a switchover).
    async fn lose_primary(self, loss: Loss) -> String {
        match (self, loss) {
            (Ha::Patroni, Loss::Kill) => {
                let dir = env(
                    "SOFT_DELETE_PG_HA_DIR",
                    "source scripts/pg-ha.sh's env file",
                );
                run_script("pg-ha.sh", vec!["kill-leader".into(), dir]).await
            }
            (Ha::Patroni, Loss::Switchover) => {
                let dir = env(
                    "SOFT_DELETE_PG_HA_DIR",
                    "source scripts/pg-ha.sh's env file",
                );
                run_script("pg-ha.sh", vec!["switchover".into(), dir]).await;
                // The old leader goes on as the standby: nothing to bring back.
                String::new()
            }
            (Ha::Galera, Loss::Kill) => {
                let dir = env(
                    "SOFT_DELETE_GALERA_PROXY_DIR",
                    "source scripts/galera-proxy.sh's env file",
                );
                run_script("galera-proxy.sh", vec!["kill-active".into(), dir]).await
            }
            (Ha::Galera, Loss::Switchover) => unreachable!("Galera has no switchover"),
        }
    }

    /// Brings the lost node back and waits until the cluster is whole again.
    async fn heal(self, node: &str) {
        match self {
            Ha::Patroni => {
                let dir = env(
                    "SOFT_DELETE_PG_HA_DIR",
                    "source scripts/pg-ha.sh's env file",
                );
                if !node.is_empty() {
                    run_script(
                        "pg-ha.sh",
                        vec!["restart-node".into(), dir.clone(), node.into()],
                    )
                    .await;
                }
                run_script("pg-ha.sh", vec!["wait-healthy".into(), dir, "180".into()]).await;
            }
            Ha::Galera => {
                let dir = env(
                    "SOFT_DELETE_GALERA_PROXY_DIR",
                    "source scripts/galera-proxy.sh's env file",
                );
                run_script(
                    "galera-proxy.sh",
                    vec!["restart-node".into(), dir, node.into()],
                )
                .await;
            }
        }
    }
}

/// When each batch committed, as the operation's progress told.
#[derive(Clone, Default)]
struct Timeline(Arc<Mutex<Vec<(Instant, u64)>>>);

impl Timeline {
    fn record(&self, rows: u64) {
        self.0.lock().unwrap().push((Instant::now(), rows));
    }

    fn rows(&self) -> u64 {
        self.0.lock().unwrap().last().map_or(0, |(_, rows)| *rows)
    }

    /// The figures of a run whose primary was lost at `lost` (when the script that took it
    /// away returned): the longest time between two committed batches from then on (what the
    /// failover cost the operation), how long after `lost` the batch that ended it committed,
    /// and rows per second before the loss and after that batch.
    fn figures(&self, started: Instant, lost: Instant) -> String {
        let points = self.0.lock().unwrap().clone();
        let Some(first) = points.iter().position(|(t, _)| *t >= lost) else {
            return format!("{} batches, all before the loss", points.len());
        };
        // The gap: from the last batch before `lost` (or the first after it) on.
        let from = first.saturating_sub(1);
        let (gap, resumed) = points[from..]
            .windows(2)
            .map(|w| (w[1].0 - w[0].0, from + 1))
            .enumerate()
            .map(|(i, (gap, base))| (gap, base + i))
            .max_by_key(|(gap, _)| *gap)
            .unwrap_or((Duration::ZERO, first));
        let (resumed_at, resumed_rows) = points[resumed];
        let (before_at, before_rows) = points[resumed - 1];
        let (end_at, end_rows) = *points.last().expect("points");
        let rate = |rows: u64, time: Duration| match time.as_secs_f64() {
            t if t > 0.0 => format!("{:.0}", rows as f64 / t),
            _ => "-".to_owned(),
        };
        format!(
            "no batch committed for {:.1} s; the next one {:.1} s after the primary went; \
             {} rows/s before, {} rows/s after",
            gap.as_secs_f64(),
            resumed_at.saturating_duration_since(lost).as_secs_f64(),
            rate(before_rows, before_at - started),
            rate(end_rows - resumed_rows, end_at - resumed_at),
        )
    }
}

/// A configuration that rides out a failover.
fn config() -> SoftDeleteConfig {
    SoftDeleteConfig {
        reconnect_for: Duration::from_secs(120),
        retry_delay: Duration::from_millis(100),
        operation_log: Some("soft_delete_operations".to_owned()),
        ..SoftDeleteConfig::default()
    }
}

/// Runs `operation` (given its progress callback) and loses the primary once a quarter of
/// `total` rows is done. Returns its result, which node was lost, and the figures.
async fn with_failover<F, Fut>(
    ha: Ha,
    loss: Loss,
    total: u64,
    operation: F,
) -> (soft_delete_core::Result<BulkReport>, String, String)
where
    F: FnOnce(Timeline) -> Fut,
    Fut: std::future::IntoFuture<Output = soft_delete_core::Result<BulkReport>>,
{
    let timeline = Timeline::default();
    let started = Instant::now();
    let watch = timeline.clone();
    let lose = async move {
        while watch.rows() < total / 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let before = Instant::now();
        let node = ha.lose_primary(loss).await;
        // A kill is done when its script returns; a switchover starts when its script does.
        let lost = match loss {
            Loss::Kill => Instant::now(),
            Loss::Switchover => before,
        };
        (lost, node)
    };
    let (result, (lost, node)) = tokio::join!(operation(timeline.clone()), lose);
    let figures = timeline.figures(started, lost);
    (result, node, figures)
}

/// Asserts that the operation went on by itself through the loss and that its counts are the
/// truth: `changed` rows changed by it, found in the database afterwards.
fn assert_went_on(
    what: &str,
    result: soft_delete_core::Result<BulkReport>,
    changed: u64,
) -> BulkReport {
    let report = result.unwrap_or_else(|error| {
        panic!(
            "{what}: stopped instead of going on after the failover: {error} \
             (partial {:?}, uncertain {})",
            error.partial_count(),
            error.uncertain_count()
        )
    });
    assert_eq!(report.affected, changed, "{what}: {report:?}");
    assert!(!report.stopped_early, "{what}: {report:?}");
    report
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get_by_index::<i64>(0).expect("a count")
}

/// Inserts `users` 1..=n, deleted `days` ago (or live), in chunks the cluster takes at once.
async fn seed_users(ctx: &TestContext, n: i64, deleted_days_ago: Option<i64>) {
    ctx.create_table::<user::Entity>().await;
    let deleted = match (deleted_days_ago, ctx.backend) {
        (None, _) => "NULL".to_owned(),
        (Some(days), DbBackend::Postgres) => format!("now() - interval '{days} days'"),
        (Some(days), _) => format!("NOW(6) - INTERVAL {days} DAY"),
    };
    let chunk = 50_000;
    let mut from = 1;
    while from <= n {
        let to = (from + chunk - 1).min(n);
        let sql = match ctx.backend {
            DbBackend::Postgres => format!(
                "INSERT INTO users (id, name, email, deleted_at) \
                 SELECT g, 'user ' || g, 'u' || g || '@example.com', {deleted} \
                 FROM generate_series({from}, {to}) g"
            ),
            _ => format!(
                "INSERT INTO users (id, name, email, deleted_at) \
                 SELECT seq, CONCAT('user ', seq), CONCAT('u', seq, '@example.com'), {deleted} \
                 FROM seq_{from}_to_{to}"
            ),
        };
        ctx.exec(&sql).await;
        from = to + 1;
    }
    if ctx.backend == DbBackend::Postgres {
        ctx.exec("ANALYZE users").await;
    }
}

async fn operation_log(ctx: &TestContext) {
    ctx.db
        .execute(&soft_delete_core::operation_log::create_table(
            ctx.backend,
            "soft_delete_operations",
        ))
        .await
        .expect("create the operation log");
}

/// What the operation log says `op` changed in `table`, once it says the operation completed.
async fn logged_rows(ctx: &TestContext, op: OperationId, table: &str) -> u64 {
    let record = SoftDeleteManager::with_config(&ctx.db, config())
        .operation(op)
        .await
        .expect("read the log")
        .expect("the operation is logged");
    assert_eq!(record.status, OperationStatus::Completed, "{record:?}");
    record.rows_in(table)
}

async fn soft_delete_through_a_failover(ha: Ha, loss: Loss) {
    let _serial = SERIAL.lock().await;
    let ctx = ha.context(&format!("failover_soft_delete_{ha:?}")).await;
    let n = rows();
    seed_users(&ctx, n, None).await;
    operation_log(&ctx).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, config());
    let (result, node, figures) = with_failover(ha, loss, n as u64, |timeline| {
        manager
            .bulk_soft_delete_where::<user::Entity>(sea_orm::Condition::all())
            .batch_size(1000)
            .pause_between_batches(Duration::from_millis(2))
            .on_progress(move |p| timeline.record(p.affected))
    })
    .await;
    eprintln!("{ha:?} {loss:?} soft delete of {n} rows: {figures}");
    let changed = scalar(
        &ctx.db,
        "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL",
    )
    .await;
    let report = assert_went_on("soft delete", result, changed as u64);
    assert_eq!(report.affected, n as u64, "every row deleted once");
    assert_eq!(
        logged_rows(&ctx, report.id, "users").await,
        n as u64,
        "the log agrees"
    );
    ha.heal(&node).await;
}

async fn restore_through_a_failover(ha: Ha, loss: Loss) {
    let _serial = SERIAL.lock().await;
    let ctx = ha.context(&format!("failover_restore_{ha:?}")).await;
    let n = rows();
    seed_users(&ctx, n, Some(1)).await;
    operation_log(&ctx).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, config());
    let (result, node, figures) = with_failover(ha, loss, n as u64, |timeline| {
        manager
            .bulk_restore_where::<user::Entity>(sea_orm::Condition::all())
            .batch_size(1000)
            .pause_between_batches(Duration::from_millis(2))
            .on_progress(move |p| timeline.record(p.affected))
    })
    .await;
    eprintln!("{ha:?} {loss:?} restore of {n} rows: {figures}");
    let restored = scalar(
        &ctx.db,
        "SELECT COUNT(*) FROM users WHERE deleted_at IS NULL",
    )
    .await;
    let report = assert_went_on("restore", result, restored as u64);
    assert_eq!(report.affected, n as u64, "every row restored once");
    assert_eq!(
        logged_rows(&ctx, report.id, "users").await,
        n as u64,
        "the log agrees"
    );
    ha.heal(&node).await;
}

async fn purge_with_archive_through_a_failover(ha: Ha, loss: Loss) {
    let _serial = SERIAL.lock().await;
    let ctx = ha.context(&format!("failover_archive_{ha:?}")).await;
    let n = rows();
    seed_users(&ctx, n, Some(90)).await;
    operation_log(&ctx).await;
    ctx.db
        .execute(&create_archive_table::<user::Entity>(
            ctx.backend,
            "users_archive",
        ))
        .await
        .expect("create users_archive");
    let manager = SoftDeleteManager::with_config(&ctx.db, config());
    let cutoff = Utc::now() - chrono::Duration::days(30);
    let (result, node, figures) = with_failover(ha, loss, n as u64, |timeline| {
        manager
            .hard_delete_before::<user::Entity>(cutoff)
            .archive()
            .batch_size(1000)
            .pause_between_batches(Duration::from_millis(2))
            .on_progress(move |p| timeline.record(p.affected))
    })
    .await;
    eprintln!("{ha:?} {loss:?} archive and purge of {n} rows: {figures}");
    let purged = n - scalar(&ctx.db, "SELECT COUNT(*) FROM users").await;
    let report = assert_went_on("purge with archive", result, purged as u64);
    assert_eq!(report.archived, report.affected, "{report:?}");
    assert_eq!(report.affected, n as u64, "every row purged once");
    assert_eq!(
        logged_rows(&ctx, report.id, "users").await,
        n as u64,
        "the log agrees"
    );
    // Nothing lost from the archive, nothing in it twice.
    assert_eq!(
        scalar(&ctx.db, "SELECT COUNT(DISTINCT id) FROM users_archive").await,
        n
    );
    assert_eq!(
        scalar(&ctx.db, "SELECT COUNT(*) FROM users_archive").await,
        n
    );
    ha.heal(&node).await;
}

async fn purge_with_cascade_through_a_failover(ha: Ha, loss: Loss) {
    let _serial = SERIAL.lock().await;
    let ctx = ha.context(&format!("failover_cascade_{ha:?}")).await;
    // Accounts, each with a project and a task, all deleted 90 days ago.
    let n = rows() / 3;
    ctx.create_table::<account::Entity>().await;
    ctx.create_table::<project::Entity>().await;
    ctx.create_table::<task::Entity>().await;
    operation_log(&ctx).await;
    let (series, long_ago) = match ctx.backend {
        DbBackend::Postgres => (
            format!("generate_series(1, {n}) g(seq)"),
            "now() - interval '90 days'",
        ),
        _ => (format!("seq_1_to_{n}"), "NOW(6) - INTERVAL 90 DAY"),
    };
    ctx.exec(&format!(
        "INSERT INTO accounts (id, name, deleted_at) SELECT seq, 'a', {long_ago} FROM {series}"
    ))
    .await;
    ctx.exec(&format!(
        "INSERT INTO projects (account_id, code, name, deleted_at) \
         SELECT seq, 'p1', 'p', {long_ago} FROM {series}"
    ))
    .await;
    ctx.exec(&format!(
        "INSERT INTO tasks (id, account_id, project_code, title, deleted_at) \
         SELECT seq, seq, 'p1', 't', {long_ago} FROM {series}"
    ))
    .await;
    // The index a cascade needs on a child's foreign key (the projects' is their key's prefix).
    ctx.exec("CREATE INDEX tasks_project ON tasks (account_id, project_code)")
        .await;
    let manager = SoftDeleteManager::with_config(&ctx.db, config());
    let cutoff = Utc::now() - chrono::Duration::days(30);
    let (result, node, figures) = with_failover(ha, loss, n as u64, |timeline| {
        manager
            .hard_delete_before::<account::Entity>(cutoff)
            .batch_size(500)
            .pause_between_batches(Duration::from_millis(2))
            .on_progress(move |p| timeline.record(p.affected))
    })
    .await;
    eprintln!(
        "{ha:?} {loss:?} purge with cascade of {} rows: {figures}",
        3 * n
    );
    let purged = n - scalar(&ctx.db, "SELECT COUNT(*) FROM accounts").await;
    let report = assert_went_on("purge with cascade", result, purged as u64);
    assert_eq!(report.affected, n as u64, "every account purged once");
    assert_eq!(report.cascaded, 2 * n as u64, "{report:?}");
    assert_eq!(
        logged_rows(&ctx, report.id, "projects").await,
        n as u64,
        "the log agrees"
    );
    for table in ["accounts", "projects", "tasks"] {
        assert_eq!(
            scalar(&ctx.db, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    ha.heal(&node).await;
}

async fn prune_through_a_failover(ha: Ha, loss: Loss) {
    let _serial = SERIAL.lock().await;
    let ctx = ha.context(&format!("failover_prune_{ha:?}")).await;
    let n = rows();
    seed_users(&ctx, n, Some(90)).await;
    ctx.create_table::<post::Entity>().await;
    operation_log(&ctx).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, config());
    let timeline = Timeline::default();
    let recorder = timeline.clone();
    let pruner = Pruner::new(&manager)
        .policy(Policy::<post::Entity>::retention())
        .policy(Policy::<user::Entity>::retention())
        .batch_size(1000)
        .pause_between_batches(Duration::from_millis(2))
        .on_progress(move |_table, p| recorder.record(p.affected));
    let started = Instant::now();
    let watch = timeline.clone();
    let lose = async move {
        while watch.rows() < n as u64 / 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let node = ha.lose_primary(loss).await;
        (Instant::now(), node)
    };
    let (report, (lost, node)) = tokio::join!(pruner.run(), lose);
    eprintln!(
        "{ha:?} {loss:?} prune of {n} rows: {}",
        timeline.figures(started, lost)
    );
    let report = report.expect("the prune run");
    assert!(
        report.is_complete(),
        "went on after the failover: {report:?}"
    );
    assert_eq!(report.purged(), n as u64, "{report:?}");
    assert_eq!(scalar(&ctx.db, "SELECT COUNT(*) FROM users").await, 0);
    ha.heal(&node).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patroni_soft_delete_goes_on_after_the_leader_is_killed() {
    soft_delete_through_a_failover(Ha::Patroni, Loss::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patroni_restore_goes_on_through_a_switchover() {
    restore_through_a_failover(Ha::Patroni, Loss::Switchover).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patroni_purge_with_archive_goes_on_after_the_leader_is_killed() {
    purge_with_archive_through_a_failover(Ha::Patroni, Loss::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patroni_purge_with_cascade_goes_on_through_a_switchover() {
    purge_with_cascade_through_a_failover(Ha::Patroni, Loss::Switchover).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patroni_prune_goes_on_after_the_leader_is_killed() {
    prune_through_a_failover(Ha::Patroni, Loss::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn galera_soft_delete_goes_on_after_its_node_is_killed() {
    soft_delete_through_a_failover(Ha::Galera, Loss::Kill).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn galera_purge_with_archive_goes_on_after_its_node_is_killed() {
    purge_with_archive_through_a_failover(Ha::Galera, Loss::Kill).await;
}
