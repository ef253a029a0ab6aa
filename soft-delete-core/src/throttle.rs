//! Bulk work that paces itself for replicas and clusters.
//!
//! A large bulk operation writes as fast as its primary allows, and that is exactly what hurts
//! a replica (it falls behind, and reads from it go stale) or a Galera cluster (flow control
//! stalls every node while the slowest one catches up). A [`Throttle`], given to an operation
//! with [`BatchOptions::throttle`](crate::BatchOptions::throttle), is asked before every batch
//! whether the batch may run now; while it says [`Check::Hold`] the operation waits, up to
//! [`BatchOptions::max_throttle_wait`](crate::BatchOptions::max_throttle_wait), and then fails
//! with [`Error::Throttled`](crate::Error::Throttled) inside an
//! [`Error::Bulk`](crate::Error::Bulk) that counts the rows already committed. Time held back
//! is reported in [`Progress::throttled`](crate::Progress::throttled) and
//! [`BulkReport::throttled`](crate::BulkReport::throttled).
//!
//! The throttles that come with the crate:
//!
//! | throttle | measures | on |
//! |---|---|---|
//! | [`PostgresReplicaLag::on_primary`] | `replay_lag` of every standby in `pg_stat_replication` | the primary |
//! | [`PostgresReplicaLag::on_replicas`] | `now() - pg_last_xact_replay_timestamp()` | each replica given |
//! | [`MySqlReplicaLag`] | `Seconds_Behind_Master` of `SHOW REPLICA STATUS` | each replica given |
//! | [`GaleraFlowControl`] | `wsrep_flow_control_paused_ns`, `wsrep_local_recv_queue` | each node given |
//!
//! A check that fails (a replica that does not answer) holds the batch too, with the error as
//! its reason: a replica that cannot be asked is not known to keep up.
//!
//! The other pacing tools are options of every operation:
//! [`pause_between_batches`](crate::BatchOptions::pause_between_batches),
//! [`sleep_coefficient`](crate::BatchOptions::sleep_coefficient) (pt-archiver's
//! `--sleep-coef`), [`batch_size_from`](crate::BatchOptions::batch_size_from) (a size changed
//! while the operation runs) and [`stop_on`](crate::BatchOptions::stop_on) (stop after the
//! current batch, pt-archiver's `--sentinel`).
//!
//! An atomic operation asks its throttle once, before its first batch: its rows reach the
//! replicas only with its one `COMMIT`, so holding back between its batches would only keep its
//! locks longer.
//!
//! # Examples
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use soft_delete_core::throttle::PostgresReplicaLag;
//! use soft_delete_core::BatchOptions;
//!
//! # async fn run(primary: sea_orm::DatabaseConnection) {
//! let lag = PostgresReplicaLag::on_primary(primary, Duration::from_secs(2));
//! let options = BatchOptions::new()
//!     .throttle(Arc::new(lag))
//!     .max_throttle_wait(Duration::from_secs(600))
//!     .sleep_coefficient(0.5);
//! # let _ = options;
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement};

use futures::future::BoxFuture;

/// Decides whether the next batch of a bulk operation may run now.
///
/// Implement it for a signal of your own (a load balancer's health, a queue's depth, business
/// hours); the built-in ones are listed in the [module documentation](self).
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
/// use soft_delete_core::throttle::{Check, Throttle};
/// use futures::future::BoxFuture;
///
/// /// Holds every batch while a maintenance flag is up.
/// #[derive(Debug, Default)]
/// struct Maintenance(AtomicBool);
///
/// impl Throttle for Maintenance {
///     fn check(&self) -> BoxFuture<'_, Result<Check, sea_orm::DbErr>> {
///         Box::pin(async move {
///             Ok(match self.0.load(Ordering::Relaxed) {
///                 true => Check::hold("maintenance window", Duration::from_secs(5)),
///                 false => Check::Go,
///             })
///         })
///     }
/// }
/// ```
pub trait Throttle: Send + Sync + fmt::Debug {
    /// Whether the next batch may run now. An error holds the batch as [`Check::Hold`] would,
    /// with the error as the reason, and the check is asked again a second later.
    fn check(&self) -> BoxFuture<'_, Result<Check, DbErr>>;
}

/// What a [`Throttle`] answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Run the next batch now.
    Go,
    /// Hold the next batch back.
    Hold {
        /// What is over its limit, for the log and for [`Error::Throttled`](crate::Error::Throttled),
        /// e.g. `replica 127.0.0.1:5433 is 4.2 s behind (at most 1s)`.
        reason: String,
        /// When to ask again.
        recheck: Duration,
    },
}

impl Check {
    /// [`Check::Hold`] with `reason`, to be asked again after `recheck`.
    pub fn hold(reason: impl Into<String>, recheck: Duration) -> Check {
        Check::Hold {
            reason: reason.into(),
            recheck,
        }
    }
}

/// How often a built-in throttle asks again while it holds.
const RECHECK: Duration = Duration::from_millis(250);

/// Holds batches while a PostgreSQL streaming replica is further behind than `max_lag`.
///
/// * [`on_primary`](Self::on_primary) asks the primary's `pg_stat_replication`, which lists
///   every standby: the lag is its `replay_lag` (how long ago the primary flushed WAL the
///   standby has just replayed; PostgreSQL lets it grow while replay is stuck). A standby that
///   has replayed everything sent to it is not behind whatever its last `replay_lag` said.
///   Fewer standbys streaming than [`expect_replicas`](Self::expect_replicas) (1 by default)
///   holds too: a standby that dropped out will be far behind when it returns. Standbys report
///   every `wal_receiver_status_interval` (10 s by default); set it to 1 s on them for a
///   throttle that reacts within a second.
/// * [`on_replicas`](Self::on_replicas) asks each replica given: `now() -
///   pg_last_xact_replay_timestamp()` while it has WAL received but not replayed, 0 when it has
///   replayed all it received. That is the age of the last transaction it replayed, so after
///   the primary sat idle the first batch reads as far behind (until it is replayed). It needs
///   a connection per replica, and sees a replica the primary cannot (behind a cascade, or one
///   whose connection to the primary is down).
///
/// A standby listed as anything but `streaming` (catching up, starting) holds, and so does a
/// role that cannot read the standbys' state (it needs `pg_monitor`).
#[derive(Debug)]
pub struct PostgresReplicaLag {
    source: LagSource,
    max_lag: Duration,
    expect: usize,
}

#[derive(Debug)]
enum LagSource {
    Primary(DatabaseConnection),
    Replicas(Vec<DatabaseConnection>),
}

impl PostgresReplicaLag {
    /// Measures every standby's lag on `primary`'s `pg_stat_replication`.
    pub fn on_primary(primary: DatabaseConnection, max_lag: Duration) -> Self {
        PostgresReplicaLag {
            source: LagSource::Primary(primary),
            max_lag,
            expect: 1,
        }
    }

    /// Measures the lag on each of `replicas`, by their replay timestamps.
    pub fn on_replicas(replicas: Vec<DatabaseConnection>, max_lag: Duration) -> Self {
        PostgresReplicaLag {
            source: LagSource::Replicas(replicas),
            max_lag,
            expect: 0,
        }
    }

    /// With [`on_primary`](Self::on_primary): holds while fewer than `n` standbys stream.
    pub fn expect_replicas(mut self, n: usize) -> Self {
        self.expect = n;
        self
    }

    async fn check_primary(&self, primary: &DatabaseConnection) -> Result<Check, DbErr> {
        let rows = primary
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT COALESCE(application_name, '') || '@' || COALESCE(host(client_addr), 'local'), \
                        state, \
                        CASE WHEN replay_lsn IS NOT NULL AND replay_lsn >= sent_lsn THEN 0 \
                             ELSE COALESCE(EXTRACT(EPOCH FROM replay_lag), 0) END::float8 \
                 FROM pg_stat_replication",
            ))
            .await?;
        let mut streaming = 0;
        let mut worst: Option<(String, f64)> = None;
        for row in &rows {
            let name: String = row.try_get_by_index(0)?;
            // NULL to a role without pg_monitor (or superuser).
            let Some(state) = row.try_get_by_index::<Option<String>>(1)? else {
                return Ok(Check::hold(
                    format!(
                        "cannot read the state of standby {name} in pg_stat_replication: the \
                         role needs pg_monitor"
                    ),
                    RECHECK,
                ));
            };
            if state != "streaming" {
                // Catching up or starting: how far behind it is, replay_lag does not say.
                return Ok(Check::hold(
                    format!("standby {name} is not streaming (state {state})"),
                    RECHECK,
                ));
            }
            streaming += 1;
            let lag: f64 = row.try_get_by_index(2)?;
            keep_worst(&mut worst, name, lag);
        }
        if streaming < self.expect {
            return Ok(Check::hold(
                format!(
                    "{streaming} standby(s) streaming in pg_stat_replication, expected at least {}",
                    self.expect
                ),
                RECHECK,
            ));
        }
        Ok(over_max_lag(worst, self.max_lag))
    }

    async fn check_replicas(&self, replicas: &[DatabaseConnection]) -> Result<Check, DbErr> {
        if replicas.is_empty() {
            return Ok(no_replicas());
        }
        let mut worst: Option<(String, f64)> = None;
        for (i, replica) in replicas.iter().enumerate() {
            let row = replica
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT pg_is_in_recovery(), \
                            COALESCE(host(inet_server_addr()), 'local') || ':' || current_setting('port'), \
                            CASE WHEN pg_last_wal_receive_lsn() IS NULL \
                                   OR pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0 \
                                 ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) \
                            END::float8",
                ))
                .await?
                .ok_or_else(|| DbErr::Custom("the replica lag query returned no row".into()))?;
            let in_recovery: bool = row.try_get_by_index(0)?;
            let name: String = row.try_get_by_index(1)?;
            if !in_recovery {
                return Ok(Check::hold(
                    format!(
                        "replica {} ({name}) is not in recovery: it is not a replica",
                        i + 1
                    ),
                    RECHECK,
                ));
            }
            let lag: f64 = row.try_get_by_index(2)?;
            keep_worst(&mut worst, name, lag);
        }
        Ok(over_max_lag(worst, self.max_lag))
    }
}

/// What a throttle given no replica to ask answers: a list left empty by mistake must not let
/// everything through.
fn no_replicas() -> Check {
    Check::hold("no replica to ask: the throttle was given none", RECHECK)
}

/// Keeps the replica furthest behind: `name` and its `lag` in seconds, if more than `worst`'s.
fn keep_worst(worst: &mut Option<(String, f64)>, name: String, lag: f64) {
    if worst.as_ref().is_none_or(|(_, w)| lag > *w) {
        *worst = Some((name, lag));
    }
}

/// [`Check::Hold`] when the worst lag is over `max_lag`.
fn over_max_lag(worst: Option<(String, f64)>, max_lag: Duration) -> Check {
    match worst {
        Some((name, lag)) if lag > max_lag.as_secs_f64() => Check::hold(
            format!("replica {name} is {lag:.1} s behind (at most {max_lag:?})"),
            RECHECK,
        ),
        _ => Check::Go,
    }
}

impl Throttle for PostgresReplicaLag {
    fn check(&self) -> BoxFuture<'_, Result<Check, DbErr>> {
        Box::pin(async move {
            match &self.source {
                LagSource::Primary(primary) => self.check_primary(primary).await,
                LagSource::Replicas(replicas) => self.check_replicas(replicas).await,
            }
        })
    }
}

/// Holds batches while a MySQL or MariaDB replica is further behind than `max_lag`, by
/// `Seconds_Behind_Master` (MariaDB) or `Seconds_Behind_Source` (MySQL 8.0.22+) of `SHOW
/// REPLICA STATUS` on each replica given: every channel of a multi-source MySQL replica, the
/// default connection of a MariaDB one. A replica whose replication is not running (the value
/// is `NULL`) holds, as does a server that is not a replica (no row): both are what a typo'd
/// replica list looks like. The value counts whole seconds, and only while an event waits to
/// be applied.
#[derive(Debug)]
pub struct MySqlReplicaLag {
    replicas: Vec<DatabaseConnection>,
    max_lag: Duration,
}

impl MySqlReplicaLag {
    /// Measures the lag on each of `replicas`.
    pub fn new(replicas: Vec<DatabaseConnection>, max_lag: Duration) -> Self {
        MySqlReplicaLag { replicas, max_lag }
    }
}

impl Throttle for MySqlReplicaLag {
    fn check(&self) -> BoxFuture<'_, Result<Check, DbErr>> {
        Box::pin(async move {
            if self.replicas.is_empty() {
                return Ok(no_replicas());
            }
            let mut worst: Option<(String, f64)> = None;
            for (i, replica) in self.replicas.iter().enumerate() {
                let rows = replica
                    .query_all_raw(Statement::from_string(
                        DbBackend::MySql,
                        "SHOW REPLICA STATUS",
                    ))
                    .await?;
                let name = format!("{}", i + 1);
                if rows.is_empty() {
                    return Ok(Check::hold(
                        format!(
                            "replica {name}: SHOW REPLICA STATUS is empty, it is not a replica"
                        ),
                        RECHECK,
                    ));
                }
                for row in &rows {
                    let behind = ["Seconds_Behind_Master", "Seconds_Behind_Source"]
                        .iter()
                        .find_map(|column| int_column(row, column));
                    match behind {
                        Some(Some(seconds)) => {
                            let lag = seconds as f64;
                            keep_worst(&mut worst, name.clone(), lag);
                        }
                        _ => {
                            return Ok(Check::hold(
                                format!(
                                    "replica {name}: replication is not running \
                                     (Seconds_Behind_Master is NULL)"
                                ),
                                RECHECK,
                            ));
                        }
                    }
                }
            }
            Ok(over_max_lag(worst, self.max_lag))
        })
    }
}

/// A `SHOW … STATUS` column as a number: `None` when there is no such column, `Some(None)` when
/// it is `NULL`.
fn int_column(row: &QueryResult, column: &str) -> Option<Option<i64>> {
    if let Ok(value) = row.try_get::<Option<i64>>("", column) {
        return Some(value);
    }
    if let Ok(value) = row.try_get::<Option<u64>>("", column) {
        return Some(value.map(|v| v.min(i64::MAX as u64) as i64));
    }
    row.try_get::<Option<String>>("", column)
        .ok()
        .map(|value| value.and_then(|v| v.trim().parse().ok()))
}

/// Holds batches while a Galera cluster is throttling itself, asked on each node given:
///
/// * a node's receive queue (`wsrep_local_recv_queue`, write sets received but not yet
///   applied) longer than [`max_recv_queue`](Self::max_recv_queue) (8 by default; Galera's own
///   flow control starts at `gcs.fc_limit`, 16 by default);
/// * a node that paused replication for flow control more than
///   [`max_flow_control_paused`](Self::max_flow_control_paused) of the time since the last
///   check (from `wsrep_flow_control_paused_ns`; 10% by default);
/// * a node that is not `wsrep_ready` (out of the primary component, or still joining).
///
/// Give it a connection to every node: a write on one node is applied on the others, and the
/// slowest of them is the one that stalls the cluster.
#[derive(Debug)]
pub struct GaleraFlowControl {
    nodes: Vec<DatabaseConnection>,
    max_recv_queue: u64,
    max_paused: f64,
    /// Each node's `wsrep_flow_control_paused_ns` at the last check, and when.
    last: Mutex<HashMap<usize, (u64, Instant)>>,
}

impl GaleraFlowControl {
    /// Watches the nodes given.
    pub fn new(nodes: Vec<DatabaseConnection>) -> Self {
        GaleraFlowControl {
            nodes,
            max_recv_queue: 8,
            max_paused: 0.1,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Holds while a node has more than `write_sets` waiting to be applied.
    pub fn max_recv_queue(mut self, write_sets: u64) -> Self {
        self.max_recv_queue = write_sets;
        self
    }

    /// Holds while a node was paused by flow control more than `fraction` (0.0 ..= 1.0) of the
    /// time since the last check.
    pub fn max_flow_control_paused(mut self, fraction: f64) -> Self {
        self.max_paused = fraction;
        self
    }
}

impl Throttle for GaleraFlowControl {
    fn check(&self) -> BoxFuture<'_, Result<Check, DbErr>> {
        Box::pin(async move {
            for (i, node) in self.nodes.iter().enumerate() {
                let rows = node
                    .query_all_raw(Statement::from_string(
                        DbBackend::MySql,
                        "SHOW GLOBAL STATUS WHERE Variable_name IN \
                         ('wsrep_ready', 'wsrep_local_recv_queue', 'wsrep_flow_control_paused_ns')",
                    ))
                    .await?;
                let mut status = HashMap::new();
                for row in &rows {
                    let name: String = row.try_get_by_index(0)?;
                    let value: String = row.try_get_by_index(1)?;
                    status.insert(name.to_ascii_lowercase(), value);
                }
                let node_name = i + 1;
                let wsrep_on = node
                    .query_one_raw(Statement::from_string(
                        DbBackend::MySql,
                        "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'",
                    ))
                    .await?
                    .and_then(|row| row.try_get_by_index::<String>(1).ok());
                if !wsrep_on
                    .as_deref()
                    .is_some_and(|v| v.eq_ignore_ascii_case("ON"))
                {
                    return Ok(Check::hold(
                        format!(
                            "node {node_name} is not a Galera node (wsrep_on = {})",
                            wsrep_on.as_deref().unwrap_or("missing")
                        ),
                        RECHECK,
                    ));
                }
                let ready = status
                    .get("wsrep_ready")
                    .map(String::as_str)
                    .unwrap_or("missing");
                if ready != "ON" {
                    return Ok(Check::hold(
                        format!("Galera node {node_name} is not ready (wsrep_ready = {ready})"),
                        RECHECK,
                    ));
                }
                let queue: u64 = status
                    .get("wsrep_local_recv_queue")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                if queue > self.max_recv_queue {
                    return Ok(Check::hold(
                        format!(
                            "Galera node {node_name} has {queue} write sets waiting to be applied \
                             (at most {})",
                            self.max_recv_queue
                        ),
                        RECHECK,
                    ));
                }
                if let Some(paused) = status
                    .get("wsrep_flow_control_paused_ns")
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    let now = Instant::now();
                    let before = self
                        .last
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .insert(i, (paused, now));
                    if let Some((was, at)) = before {
                        let wall = now.duration_since(at).as_nanos().max(1) as f64;
                        let fraction = paused.saturating_sub(was) as f64 / wall;
                        if fraction > self.max_paused {
                            return Ok(Check::hold(
                                format!(
                                    "Galera node {node_name} was paused by flow control {:.0}% \
                                     of the last {:?} (at most {:.0}%)",
                                    fraction * 100.0,
                                    now.duration_since(at),
                                    self.max_paused * 100.0
                                ),
                                RECHECK,
                            ));
                        }
                    }
                }
            }
            Ok(Check::Go)
        })
    }
}
