//! Bulk work across the nodes of a 3-node MariaDB Galera cluster (`scripts/galera.sh`): a bulk
//! soft delete on node 1 while node 2 updates and soft-deletes overlapping rows (certification
//! conflicts retried per batch, counts exact, every row deleted once, node 3 reads the result),
//! an atomic operation over `wsrep_max_ws_rows` (refused naming the limit, nothing changed),
//! and the Galera flow-control throttle holding batches while a node falls behind.
//!
//! Built only with the `galera` feature (`cargo test -p soft-delete-tests --features galera
//! --test cluster`), which says a cluster is there: without `SOFT_DELETE_TEST_GALERA_URLS` every
//! test fails.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, PaginatorTrait, Statement};
use soft_delete_core::prelude::*;
use soft_delete_core::throttle::GaleraFlowControl;
use soft_delete_tests::TestContext;
use soft_delete_tests::context::{connect, with_database};
use soft_delete_tests::entities::user;
use soft_delete_tests::fixtures::{Recording, seed_users};

/// The tests change global settings of the cluster (`wsrep_max_ws_rows`, `wsrep_max_ws_size`)
/// and load it: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A test's database on the cluster: created on node 1, with a connection to it on each node.
struct Cluster {
    ctx: TestContext,
    nodes: Vec<DatabaseConnection>,
    urls: Vec<String>,
}

impl Cluster {
    async fn new(test: &str) -> Cluster {
        let urls: Vec<String> = std::env::var("SOFT_DELETE_TEST_GALERA_URLS")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            urls.len(),
            3,
            "SOFT_DELETE_TEST_GALERA_URLS must name the 3 nodes of a cluster (start one with \
             scripts/galera.sh start and source its env file); got {urls:?}"
        );
        let ctx = TestContext::on_mysql(&urls[0], test).await;
        let mut nodes = vec![ctx.db.clone()];
        let urls: Vec<String> = urls
            .iter()
            .map(|url| with_database(url, &ctx.name))
            .collect();
        for url in &urls[1..] {
            // Node 1 answers the CREATE DATABASE once it applied it; the others apply it in
            // the same order, a moment later.
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            loop {
                match sea_orm::Database::connect(url.clone()).await {
                    Ok(probe) => {
                        probe.close().await.expect("close the probe connection");
                        break;
                    }
                    Err(error) => {
                        assert!(
                            std::time::Instant::now() < deadline,
                            "{} never appeared on {url}: {error}",
                            ctx.name
                        );
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            nodes.push(connect(url.clone(), 8).await);
        }
        for node in &nodes {
            assert!(
                soft_delete_tests::context::is_galera(node).await,
                "{} is not a Galera node",
                ctx.name
            );
        }
        Cluster { ctx, nodes, urls }
    }

    /// A single-row, single-column integer on `node`, read after the node has applied every
    /// write set committed before (`wsrep_sync_wait`).
    async fn synced_i64(&self, node: usize, sql: &str) -> i64 {
        // Its own session, outside a transaction: MariaDB skips the causality wait inside one.
        let db = connect(self.urls[node].clone(), 1).await;
        db.execute_unprepared("SET SESSION wsrep_sync_wait = 1")
            .await
            .expect("wsrep_sync_wait");
        let row = db
            .query_one_raw(Statement::from_string(DbBackend::MySql, sql.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .unwrap_or_else(|| panic!("{sql}: no row"));
        let value = row.try_get_by_index::<i64>(0).expect("an integer");
        db.close().await.expect("close");
        value
    }
}

/// A small deterministic generator, so that a failing run can be replayed.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn patient() -> SoftDeleteConfig {
    SoftDeleteConfig {
        retry_attempts: 50,
        retry_delay: Duration::from_millis(5),
        ..SoftDeleteConfig::default()
    }
}

fn is_conflict(error: &sea_orm::DbErr) -> bool {
    let text = error.to_string();
    text.contains("1213") || text.contains("Deadlock")
}

#[tokio::test]
async fn overlapping_writes_on_two_nodes_are_retried_and_every_row_is_deleted_once() {
    let _serial = SERIAL.lock().await;
    let cluster = Cluster::new(concat!(module_path!(), "_conflicts")).await;
    const N: i64 = 20_000;
    seed_users(&cluster.ctx, N).await;
    assert_eq!(cluster.synced_i64(1, "SELECT COUNT(*) FROM users").await, N);

    let done = AtomicBool::new(false);
    let node1 = async {
        let manager = SoftDeleteManager::with_config(&cluster.nodes[0], patient());
        let report = manager
            .bulk_soft_delete::<user::Entity, _>(1..=N)
            .batch_size(500)
            .deleted_by("node-1")
            .await
            .expect("the bulk soft delete on node 1");
        done.store(true, Ordering::SeqCst);
        report
    };
    let node2 = async {
        let manager = SoftDeleteManager::with_config(&cluster.nodes[1], patient());
        let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
        let (mut deleted, mut retries, mut lost_updates, mut updates) =
            (0_u64, 0_u64, 0_u64, 0_u64);
        let mut round = 0_u64;
        while !done.load(Ordering::SeqCst) {
            round += 1;
            let ids: Vec<i64> = (0..40).map(|_| random.below(N as u64) as i64 + 1).collect();
            if round.is_multiple_of(4) {
                let report = manager
                    .bulk_soft_delete::<user::Entity, _>(ids)
                    .batch_size(40)
                    .deleted_by("node-2")
                    .await
                    .expect("a bulk soft delete on node 2");
                deleted += report.affected;
                retries += report.retries;
            } else {
                let list = ids
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let update =
                    format!("UPDATE users SET name = CONCAT('n2-', id) WHERE id IN ({list})");
                match cluster.nodes[1].execute_unprepared(&update).await {
                    Ok(_) => updates += 1,
                    Err(error) if is_conflict(&error) => lost_updates += 1,
                    Err(error) => panic!("update on node 2: {error}"),
                }
            }
        }
        (deleted, retries, lost_updates, updates)
    };
    let (report, (deleted2, retries2, lost_updates, updates)) = tokio::join!(node1, node2);
    eprintln!(
        "node 1: {} rows in {} batches, {} retries, {:?}; node 2: {deleted2} rows deleted, \
         {retries2} retries, {updates} updates committed, {lost_updates} lost to conflicts",
        report.affected, report.batches, report.retries, report.elapsed
    );
    assert!(
        report.retries + retries2 > 0,
        "the nodes' writes overlapped but no batch was retried after a certification conflict \
         ({lost_updates} plain updates lost to one): the test did not test what it is for"
    );
    // Every row deleted exactly once, by one node or the other, and each node's count is the
    // rows that carry its name.
    assert_eq!(report.requested, N as u64);
    assert_eq!(report.affected + deleted2, N as u64);
    for (node, expected) in [(0, report.affected), (1, deleted2), (2, report.affected)] {
        let by = if node == 1 { "node-2" } else { "node-1" };
        assert_eq!(
            cluster
                .synced_i64(
                    node,
                    &format!("SELECT COUNT(*) FROM users WHERE deleted_by = '{by}'")
                )
                .await as u64,
            expected,
            "rows deleted by {by}, read on node {}",
            node + 1
        );
    }
    assert_eq!(
        cluster
            .synced_i64(2, "SELECT COUNT(*) FROM users WHERE deleted_at IS NULL")
            .await,
        0,
        "node 3 sees every row deleted"
    );
}

/// Runs `body` with the cluster's global `variable` at `value`, and puts it back to `default`
/// afterwards, also when `body` panics.
async fn with_global<F>(db: &DatabaseConnection, variable: &str, value: u64, default: u64, body: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    db.execute_unprepared(&format!("SET GLOBAL {variable} = {value}"))
        .await
        .unwrap_or_else(|e| panic!("set {variable}: {e}"));
    let result = tokio::spawn(body).await;
    db.execute_unprepared(&format!("SET GLOBAL {variable} = {default}"))
        .await
        .unwrap_or_else(|e| panic!("reset {variable}: {e}"));
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}

/// `error` is an atomic operation's refusal for Galera's `limit`, at `value`, with nothing kept.
fn assert_refused(error: &Error, limit: &str, value: u64) {
    assert!(
        matches!(
            error,
            Error::Bulk { partial_count: 0, source, .. }
                if matches!(
                    source.as_ref(),
                    Error::WriteSetTooLarge { limit: l, value: Some(v), atomic: true, .. }
                        if *l == limit && *v == value
                )
        ),
        "{error:?}"
    );
}

/// All `rows` users on `node` are still active.
async fn assert_unchanged(node: &DatabaseConnection, rows: u64) {
    let active = user::Entity::find_active()
        .count(node)
        .await
        .expect("count");
    assert_eq!(active, rows, "nothing was changed");
}

#[tokio::test]
async fn an_atomic_operation_over_the_write_set_limit_is_refused_naming_it_and_changes_nothing() {
    let _serial = SERIAL.lock().await;
    let cluster = Cluster::new(concat!(module_path!(), "_ws_rows")).await;
    seed_users(&cluster.ctx, 3_000).await;
    let node1 = cluster.nodes[0].clone();
    let admin = cluster.nodes[0].clone();
    // 0 is unlimited, the default.
    with_global(&admin, "wsrep_max_ws_rows", 1_000, 0, async move {
        let manager = SoftDeleteManager::new(&node1);
        let error = manager
            .bulk_soft_delete::<user::Entity, _>(1..=3_000_i64)
            .batch_size(500)
            .atomic()
            .await
            .expect_err("3,000 rows in one transaction are over wsrep_max_ws_rows = 1000");
        let message = error.to_string();
        assert_refused(&error, "wsrep_max_ws_rows", 1_000);
        assert!(
            message.contains("wsrep_max_ws_rows` = 1000") && message.contains("without `atomic`"),
            "{message}"
        );
        assert_unchanged(&node1, 3_000).await;

        // What the error suggests works: per batch, each transaction under the limit.
        let report = manager
            .bulk_soft_delete::<user::Entity, _>(1..=3_000_i64)
            .batch_size(500)
            .await
            .expect("per batch, under the limit");
        assert_eq!((report.affected, report.batches), (3_000, 6));
    })
    .await;
}

#[tokio::test]
async fn a_write_set_over_its_size_limit_is_refused_naming_it_and_changes_nothing() {
    let _serial = SERIAL.lock().await;
    let cluster = Cluster::new(concat!(module_path!(), "_ws_size")).await;
    seed_users(&cluster.ctx, 3_000).await;
    let node1 = cluster.nodes[0].clone();
    let admin = cluster.nodes[0].clone();
    // 64 KiB: a few hundred updated rows. 2 GiB (2147483647) is the default.
    with_global(
        &admin,
        "wsrep_max_ws_size",
        65_536,
        2_147_483_647,
        async move {
            let manager = SoftDeleteManager::new(&node1);
            let error = manager
                .bulk_soft_delete::<user::Entity, _>(1..=3_000_i64)
                .batch_size(1_000)
                .atomic()
                .await
                .expect_err("3,000 updated rows are over 64 KiB");
            let message = error.to_string();
            assert_refused(&error, "wsrep_max_ws_size", 65_536);
            assert!(message.contains("wsrep_max_ws_size` = 65536"), "{message}");
            assert_unchanged(&node1, 3_000).await;

            // Per batch, a batch over the limit is refused with the advice for per-batch mode, and
            // the batches before it stay.
            let error = manager
                .bulk_soft_delete::<user::Entity, _>(1..=3_000_i64)
                .batch_size(1_000)
                .await
                .expect_err("1,000 updated rows are over 64 KiB");
            assert!(
                matches!(
                    &error,
                    Error::Bulk { partial_count: 0, failed_batch: 1, source, .. }
                        if matches!(source.as_ref(), Error::WriteSetTooLarge { atomic: false, .. })
                ),
                "{error:?}"
            );
            assert!(error.to_string().contains("lower batch_size"), "{error}");
            let report = manager
                .bulk_soft_delete::<user::Entity, _>(1..=3_000_i64)
                .batch_size(50)
                .await
                .expect("small batches fit");
            assert_eq!(report.affected, 3_000);
        },
    )
    .await;
}

#[tokio::test]
async fn the_flow_control_throttle_holds_batches_while_a_node_falls_behind() {
    let _serial = SERIAL.lock().await;
    let cluster = Cluster::new(concat!(module_path!(), "_flow")).await;
    seed_users(&cluster.ctx, 2_000).await;
    assert_eq!(
        cluster.synced_i64(1, "SELECT COUNT(*) FROM users").await,
        2_000
    );
    // Node 2 stops applying write sets while a session holds the global read lock: its
    // receive queue grows with every batch node 1 commits.
    let node2 = connect(cluster.urls[1].clone(), 1).await;
    node2
        .execute_unprepared("FLUSH TABLES WITH READ LOCK")
        .await
        .expect("lock node 2");
    let throttle = Arc::new(Recording::new(
        GaleraFlowControl::new(cluster.nodes.clone()).max_recv_queue(2),
    ));
    let release = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        node2
            .execute_unprepared("UNLOCK TABLES")
            .await
            .expect("unlock node 2");
    };
    let run = SoftDeleteManager::new(&cluster.nodes[0])
        .bulk_soft_delete::<user::Entity, _>(1..=2_000_i64)
        .batch_size(100)
        .throttle(throttle.clone())
        .max_throttle_wait(Duration::from_secs(60));
    let (report, ()) = tokio::join!(run, release);
    let report = report.expect("the throttled soft delete");
    eprintln!(
        "flow control: {} rows in {} batches, {:?} throttled of {:?}",
        report.affected, report.batches, report.throttled, report.elapsed
    );
    assert_eq!(report.affected, 2_000);
    let reasons = throttle.reasons();
    eprintln!(
        "first reason: {:?}; {} holds",
        reasons.first(),
        reasons.len()
    );
    assert!(
        reasons.iter().any(|r| r.starts_with("Galera node 2 has")),
        "held for node 2's queue: {reasons:?}"
    );
    assert!(
        report.throttled >= Duration::from_secs(1),
        "held while node 2 was locked: {:?}",
        report.throttled
    );
    assert_eq!(
        cluster
            .synced_i64(1, "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL")
            .await,
        2_000
    );
}
