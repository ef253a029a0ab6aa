//! [`SoftDeleteConfig`]: batch sizes, timeouts, retries, alerts and rules for bulk operations.
//!
//! Build it in code with struct-update syntax, or read it from `SOFT_DELETE_*` environment
//! variables with [`SoftDeleteConfig::from_env`]. Every time is a [`Duration`]; the variables keep
//! their units in their names:
//!
//! | field | variable | default | accepted |
//! |---|---|---|---|
//! | `bulk_operation_batch_size` | `SOFT_DELETE_BULK_OPERATION_BATCH_SIZE` | 1000 | 1 ..= 1,000,000 |
//! | `query_timeout` | `SOFT_DELETE_QUERY_TIMEOUT_SECONDS` | 30 s (0: none) | up to 24 h |
//! | `enable_query_optimization` | `SOFT_DELETE_ENABLE_QUERY_OPTIMIZATION` | true | |
//! | `alert_on_bulk_operations` | `SOFT_DELETE_ALERT_ON_BULK_OPERATIONS` | true | |
//! | `bulk_operation_alert_threshold` | `SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD` | 10000 | at least 1 |
//! | `require_deleted_by` | `SOFT_DELETE_REQUIRE_DELETED_BY` | false | |
//! | `require_deletion_reason` | `SOFT_DELETE_REQUIRE_DELETION_REASON` | false | |
//! | `retry_attempts` | `SOFT_DELETE_RETRY_ATTEMPTS` | 3 | 0 ..= 100 |
//! | `retry_delay` | `SOFT_DELETE_RETRY_DELAY_MS` | 100 ms | up to 1 h |
//! | `reconnect_for` | `SOFT_DELETE_RECONNECT_FOR_SECONDS` | 0 (none) | up to 1 h |
//! | `behind_pooler` | `SOFT_DELETE_BEHIND_POOLER` | false | |
//! | `parallelism` | `SOFT_DELETE_PARALLELISM` | 1 | 1 ..= 64 |
//! | `retention` | `SOFT_DELETE_RETENTION_DAYS` | 30 days | up to 36,500 days |
//! | `retention_by_table` | `SOFT_DELETE_RETENTION_DAYS_<TABLE>` | none | up to 36,500 days each |
//! | `pause_between_batches` | `SOFT_DELETE_PAUSE_BETWEEN_BATCHES_MS` | 0 | up to 1 h |
//! | `operation_log` | `SOFT_DELETE_OPERATION_LOG` | none | a table name (`schema.table` for another schema); `true` for `soft_delete_operations`, `false` for none |
//! | `log_condition_values` | `SOFT_DELETE_LOG_CONDITION_VALUES` | false | |
//!
//! Booleans accept `true`/`false`, `1`/`0`, `yes`/`no` and `on`/`off`, in any case. A value
//! outside its range is refused with [`Error::Config`] naming the variable (from the environment)
//! or the field (set in code), before anything is sent to the database.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{Error, Result};

/// Settings for bulk operations.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use soft_delete_core::SoftDeleteConfig;
///
/// let config = SoftDeleteConfig {
///     bulk_operation_batch_size: 5000,
///     query_timeout: Some(Duration::from_secs(10)),
///     require_deleted_by: true,
///     ..SoftDeleteConfig::default()
/// };
/// assert_eq!(config.bulk_operation_alert_threshold, 10_000);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoftDeleteConfig {
    /// Rows per batch (and per transaction) when a call does not set its own.
    /// 1 ..= [`MAX_BATCH_SIZE`](Self::MAX_BATCH_SIZE).
    pub bulk_operation_batch_size: usize,
    /// Longest a single batch's statements may run (locks waited for included) before the
    /// database stops them, the batch is rolled back and the operation fails with
    /// [`Error::Timeout`]; `None` means no limit (and SQLite keeps the connection's own busy
    /// timeout). A `COMMIT` is not limited. At most [`MAX_TIMEOUT`](Self::MAX_TIMEOUT).
    pub query_timeout: Option<Duration>,
    /// Use each backend's fastest statement (PostgreSQL `= ANY($1)` with one array parameter
    /// instead of long `IN` lists).
    pub enable_query_optimization: bool,
    /// Send an alert for operations that reach `bulk_operation_alert_threshold` rows.
    pub alert_on_bulk_operations: bool,
    /// Row count at which an operation raises an alert. At least 1.
    pub bulk_operation_alert_threshold: u64,
    /// Refuse soft deletes that do not say who deleted.
    pub require_deleted_by: bool,
    /// Refuse soft deletes that do not say why.
    pub require_deletion_reason: bool,
    /// Retries of a batch that failed with a transient error (deadlock, serialization failure,
    /// lock wait timeout, dropped connection, database busy). 0 disables retries; at most
    /// [`MAX_RETRY_ATTEMPTS`](Self::MAX_RETRY_ATTEMPTS).
    pub retry_attempts: u32,
    /// Delay before the first retry; it doubles with each further retry, up to 32 times this
    /// value. At most [`MAX_PAUSE`](Self::MAX_PAUSE).
    pub retry_delay: Duration,
    /// How long a batch keeps trying to reach the database once it has lost it: a connection
    /// that broke or cannot be opened, a server shutting down, starting up or no longer the
    /// primary, a Galera node outside the primary component. That is what a failover (Patroni,
    /// RDS Multi-AZ, Cloud SQL HA, a Galera node lost behind a proxy) looks like from the
    /// client; within this time the batch is tried again after each loss, with a delay that
    /// starts at `retry_delay` and doubles up to [`MAX_RECONNECT_DELAY`](Self::MAX_RECONNECT_DELAY),
    /// whatever `retry_attempts` says, and a `COMMIT` whose reply was lost is checked on the
    /// server that answers next. Zero (the default) leaves lost connections to `retry_attempts`
    /// like any transient error. A failover takes 10–60 s on most setups: 60 s to 120 s covers
    /// it. At most [`MAX_PAUSE`](Self::MAX_PAUSE).
    ///
    /// ```
    /// use std::time::Duration;
    /// use soft_delete_core::SoftDeleteConfig;
    ///
    /// // A long purge that rides out a failover of its primary.
    /// let config = SoftDeleteConfig {
    ///     reconnect_for: Duration::from_secs(90),
    ///     ..SoftDeleteConfig::default()
    /// };
    /// assert!(config.validate().is_ok());
    /// ```
    pub reconnect_for: Duration,
    /// Say `true` when a connection pooler that shares server sessions between clients
    /// (PgBouncer, pgcat, Odyssey, ProxySQL) sits between the application and the database,
    /// and the pooler cannot be told from the server's port. The engine never ends a server
    /// session it cannot prove is a batch's own: after a lost `COMMIT` it waits for the batch's
    /// transaction to end instead. Without this setting the engine finds a pooler or a proxy by
    /// itself when the port the server reports is not the one the pool dials (the usual case:
    /// PgBouncer on 6432 in front of 5432).
    pub behind_pooler: bool,
    /// Workers per bulk operation: each runs its own batches, in its own transactions, on its
    /// own connection from the pool, over a part of the rows no other worker touches (see
    /// [`BatchOptions::parallel`](crate::BatchOptions::parallel), which overrides it for one
    /// operation). 1 (the default) runs one batch at a time. An atomic operation, an operation
    /// inside the caller's transaction and every operation on SQLite (one writer at a time) run
    /// one worker whatever this says. 1 ..= [`MAX_PARALLELISM`](Self::MAX_PARALLELISM); give
    /// the pool at least one connection per worker, and one more for the engine's checks.
    pub parallelism: usize,
    /// How long soft-deleted rows are kept before `purge_expired` removes them. At most
    /// [`MAX_RETENTION`](Self::MAX_RETENTION).
    pub retention: Duration,
    /// The retention of single tables, overriding `retention` for their
    /// [prune policies](crate::prune) by age: from `SOFT_DELETE_RETENTION_DAYS_<TABLE>`, the
    /// table's name in capitals (`SOFT_DELETE_RETENTION_DAYS_ORDERS=365`); only
    /// [`from_env`](Self::from_env) reads them. Each at most
    /// [`MAX_RETENTION`](Self::MAX_RETENTION).
    pub retention_by_table: BTreeMap<String, Duration>,
    /// Pause between batches, to leave room for other work. At most
    /// [`MAX_PAUSE`](Self::MAX_PAUSE).
    pub pause_between_batches: Duration,
    /// The table of the [operation log](crate::operation_log), where every bulk operation
    /// records itself in the same transactions as its rows; `None` (the default) keeps no log.
    /// A name of letters, digits and `_`, not starting with a digit, optionally after a schema
    /// written the same way (`audit.soft_delete_operations`).
    pub operation_log: Option<String>,
    /// Whether the operation log records the values of a condition that chose an operation's
    /// rows (`condition: "users"."email" = 'ada@example.com'`) or only its shape
    /// (`condition: "users"."email" = $1`, the default): the log outlives the rows, and a
    /// condition's values are often what a purge was meant to erase.
    pub log_condition_values: bool,
    /// Where committed changes are announced: see [`crate::events`]. `None` (the default)
    /// announces nothing (metrics are recorded either way). Not read from the environment.
    pub events: Option<crate::events::Events>,
}

impl Default for SoftDeleteConfig {
    fn default() -> Self {
        SoftDeleteConfig::DEFAULT
    }
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const BOOL: &str = "one of true, false, 1, 0, yes, no, on, off";

impl SoftDeleteConfig {
    /// The defaults, as a constant (`SoftDeleteConfig::default()` returns it).
    pub const DEFAULT: SoftDeleteConfig = SoftDeleteConfig {
        bulk_operation_batch_size: 1000,
        query_timeout: Some(Duration::from_secs(30)),
        enable_query_optimization: true,
        alert_on_bulk_operations: true,
        bulk_operation_alert_threshold: 10_000,
        require_deleted_by: false,
        require_deletion_reason: false,
        retry_attempts: 3,
        retry_delay: Duration::from_millis(100),
        reconnect_for: Duration::ZERO,
        behind_pooler: false,
        parallelism: 1,
        retention: Duration::from_secs(30 * 24 * 60 * 60),
        retention_by_table: BTreeMap::new(),
        pause_between_batches: Duration::ZERO,
        operation_log: None,
        log_condition_values: false,
        events: None,
    };

    /// The largest batch: one transaction of a million rows. Larger all-or-nothing work runs
    /// in atomic mode, which keeps one transaction across batches.
    pub const MAX_BATCH_SIZE: usize = 1_000_000;
    /// The longest `query_timeout`: a day.
    pub const MAX_TIMEOUT: Duration = DAY;
    /// The most retries of one batch.
    pub const MAX_RETRY_ATTEMPTS: u32 = 100;
    /// The longest pause between batches or before a retry: an hour.
    pub const MAX_PAUSE: Duration = Duration::from_secs(60 * 60);
    /// The longest delay between two tries to reach a lost database within `reconnect_for`:
    /// a failover is noticed within this time of its end.
    pub const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);
    /// The longest retention: 36,500 days (about a hundred years).
    pub const MAX_RETENTION: Duration = Duration::from_secs(36_500 * 24 * 60 * 60);
    /// The most workers one operation runs: [`parallelism`](Self::parallelism) and
    /// [`BatchOptions::parallel`](crate::BatchOptions::parallel).
    pub const MAX_PARALLELISM: usize = 64;

    /// Reads every `SOFT_DELETE_*` variable (see the [module documentation](self)); unset
    /// variables keep their defaults.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the first variable whose value cannot be used, the value, and
    /// what was expected.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| match std::env::var(name) {
            Ok(value) => Some(value),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(raw)) => Some(raw.to_string_lossy().into_owned()),
        })?
        .with_table_retentions(std::env::vars_os().map(|(name, value)| {
            (
                name.to_string_lossy().into_owned(),
                value.to_string_lossy().into_owned(),
            )
        }))
    }

    /// Reads `SOFT_DELETE_RETENTION_DAYS_<TABLE>` from `vars` into `retention_by_table`.
    fn with_table_retentions(
        mut self,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<Self> {
        const PREFIX: &str = "SOFT_DELETE_RETENTION_DAYS_";
        for (name, value) in vars {
            let Some(table) = name.strip_prefix(PREFIX).filter(|t| !t.is_empty()) else {
                continue;
            };
            let days = Lookup(|_: &str| Some(value.clone())).number(
                &name,
                0,
                0,
                Self::MAX_RETENTION.as_secs() / DAY.as_secs(),
            )?;
            self.retention_by_table
                .insert(table.to_lowercase(), DAY * days as u32);
        }
        Ok(self)
    }

    /// The retention of `table`: its entry in `retention_by_table` (names compared in lower
    /// case, as the variables are read), else `retention`.
    pub fn retention_for(&self, table: &str) -> Duration {
        self.retention_by_table
            .get(table)
            .or_else(|| self.retention_by_table.get(&table.to_lowercase()))
            .copied()
            .unwrap_or(self.retention)
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` instead of the
    /// process environment.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] as for [`from_env`](Self::from_env).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use soft_delete_core::{Error, SoftDeleteConfig};
    ///
    /// let config = SoftDeleteConfig::from_lookup(|name| match name {
    ///     "SOFT_DELETE_BULK_OPERATION_BATCH_SIZE" => Some("2500".into()),
    ///     "SOFT_DELETE_QUERY_TIMEOUT_SECONDS" => Some("0".into()),
    ///     "SOFT_DELETE_REQUIRE_DELETED_BY" => Some("yes".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.bulk_operation_batch_size, 2500);
    /// assert_eq!(config.query_timeout, None);
    /// assert!(config.require_deleted_by);
    ///
    /// let error = SoftDeleteConfig::from_lookup(|name| {
    ///     (name == "SOFT_DELETE_BULK_OPERATION_BATCH_SIZE").then(|| "lots".to_owned())
    /// })
    /// .unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "invalid value `lots` for SOFT_DELETE_BULK_OPERATION_BATCH_SIZE: expected a whole number from 1 to 1000000"
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    pub fn from_lookup<F>(lookup: F) -> Result<Self>
    where
        F: Fn(&str) -> Option<String>,
    {
        let env = Lookup(lookup);
        let d = SoftDeleteConfig::DEFAULT;
        let config = SoftDeleteConfig {
            bulk_operation_batch_size: env.number(
                "SOFT_DELETE_BULK_OPERATION_BATCH_SIZE",
                d.bulk_operation_batch_size as u64,
                1,
                Self::MAX_BATCH_SIZE as u64,
            )? as usize,
            query_timeout: match env.number(
                "SOFT_DELETE_QUERY_TIMEOUT_SECONDS",
                d.query_timeout.map_or(0, |t| t.as_secs()),
                0,
                Self::MAX_TIMEOUT.as_secs(),
            )? {
                0 => None,
                seconds => Some(Duration::from_secs(seconds)),
            },
            enable_query_optimization: env.boolean(
                "SOFT_DELETE_ENABLE_QUERY_OPTIMIZATION",
                d.enable_query_optimization,
            )?,
            alert_on_bulk_operations: env.boolean(
                "SOFT_DELETE_ALERT_ON_BULK_OPERATIONS",
                d.alert_on_bulk_operations,
            )?,
            bulk_operation_alert_threshold: env.number(
                "SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD",
                d.bulk_operation_alert_threshold,
                1,
                u64::MAX,
            )?,
            require_deleted_by: env
                .boolean("SOFT_DELETE_REQUIRE_DELETED_BY", d.require_deleted_by)?,
            require_deletion_reason: env.boolean(
                "SOFT_DELETE_REQUIRE_DELETION_REASON",
                d.require_deletion_reason,
            )?,
            retry_attempts: env.number(
                "SOFT_DELETE_RETRY_ATTEMPTS",
                u64::from(d.retry_attempts),
                0,
                u64::from(Self::MAX_RETRY_ATTEMPTS),
            )? as u32,
            retry_delay: Duration::from_millis(env.number(
                "SOFT_DELETE_RETRY_DELAY_MS",
                d.retry_delay.as_millis() as u64,
                0,
                Self::MAX_PAUSE.as_millis() as u64,
            )?),
            reconnect_for: Duration::from_secs(env.number(
                "SOFT_DELETE_RECONNECT_FOR_SECONDS",
                d.reconnect_for.as_secs(),
                0,
                Self::MAX_PAUSE.as_secs(),
            )?),
            behind_pooler: env.boolean("SOFT_DELETE_BEHIND_POOLER", d.behind_pooler)?,
            parallelism: env.number(
                "SOFT_DELETE_PARALLELISM",
                d.parallelism as u64,
                1,
                Self::MAX_PARALLELISM as u64,
            )? as usize,
            retention: DAY
                * env.number(
                    "SOFT_DELETE_RETENTION_DAYS",
                    d.retention.as_secs() / DAY.as_secs(),
                    0,
                    Self::MAX_RETENTION.as_secs() / DAY.as_secs(),
                )? as u32,
            retention_by_table: BTreeMap::new(),
            pause_between_batches: Duration::from_millis(env.number(
                "SOFT_DELETE_PAUSE_BETWEEN_BATCHES_MS",
                d.pause_between_batches.as_millis() as u64,
                0,
                Self::MAX_PAUSE.as_millis() as u64,
            )?),
            operation_log: env.table_name("SOFT_DELETE_OPERATION_LOG")?,
            log_condition_values: env
                .boolean("SOFT_DELETE_LOG_CONDITION_VALUES", d.log_condition_values)?,
            events: None,
        };
        Ok(config)
    }

    /// Checks every value that code can set out of range.
    ///
    /// Bulk operations call it before they send anything, so a configuration built in code with
    /// a value out of range fails with an error instead of a panic or an allocation failure.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the first field out of range, its value and what is accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// use soft_delete_core::{Error, SoftDeleteConfig};
    ///
    /// let config = SoftDeleteConfig { bulk_operation_batch_size: usize::MAX, ..Default::default() };
    /// assert!(matches!(
    ///     config.validate(),
    ///     Err(Error::Config { ref setting, .. }) if setting == "bulk_operation_batch_size"
    /// ));
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_batch_size(self.bulk_operation_batch_size).map_err(|expected| {
            config_error(
                "bulk_operation_batch_size",
                self.bulk_operation_batch_size,
                expected,
            )
        })?;
        if self.bulk_operation_alert_threshold == 0 {
            return Err(config_error(
                "bulk_operation_alert_threshold",
                0,
                "a whole number of at least 1".to_owned(),
            ));
        }
        if let Some(timeout) = self.query_timeout {
            check_duration(timeout, Duration::from_millis(1), Self::MAX_TIMEOUT).map_err(
                |expected| config_error("query_timeout", format_args!("{timeout:?}"), expected),
            )?;
        }
        if !(1..=Self::MAX_PARALLELISM).contains(&self.parallelism) {
            return Err(config_error(
                "parallelism",
                self.parallelism,
                format!("a whole number from 1 to {}", Self::MAX_PARALLELISM),
            ));
        }
        if self.retry_attempts > Self::MAX_RETRY_ATTEMPTS {
            return Err(config_error(
                "retry_attempts",
                self.retry_attempts,
                format!("a whole number from 0 to {}", Self::MAX_RETRY_ATTEMPTS),
            ));
        }
        for (name, value, max) in [
            ("retry_delay", self.retry_delay, Self::MAX_PAUSE),
            ("reconnect_for", self.reconnect_for, Self::MAX_PAUSE),
            (
                "pause_between_batches",
                self.pause_between_batches,
                Self::MAX_PAUSE,
            ),
            ("retention", self.retention, Self::MAX_RETENTION),
        ] {
            check_duration(value, Duration::ZERO, max)
                .map_err(|expected| config_error(name, format_args!("{value:?}"), expected))?;
        }
        for (table, retention) in &self.retention_by_table {
            check_duration(*retention, Duration::ZERO, Self::MAX_RETENTION).map_err(
                |expected| {
                    config_error(
                        &format!("retention_by_table[{table}]"),
                        format_args!("{retention:?}"),
                        expected,
                    )
                },
            )?;
        }
        if let Some(table) = &self.operation_log
            && !is_table_name(table)
        {
            return Err(config_error("operation_log", table, TABLE_NAME.to_owned()));
        }
        Ok(())
    }

    /// The delay before retry number `retry` (1-based): `retry_delay` doubled per retry,
    /// capped at 32 times the base.
    pub fn retry_delay(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(5);
        self.retry_delay.saturating_mul(factor)
    }

    /// The delay before try number `retry` (1-based) to reach a lost database:
    /// [`retry_delay`](Self::retry_delay) capped at
    /// [`MAX_RECONNECT_DELAY`](Self::MAX_RECONNECT_DELAY), and at least a millisecond.
    pub fn reconnect_delay(&self, retry: u32) -> Duration {
        self.retry_delay(retry)
            .clamp(Duration::from_millis(1), Self::MAX_RECONNECT_DELAY)
    }
}

/// Checks a batch size given to an operation or in the configuration.
pub(crate) fn check_batch_size(size: usize) -> std::result::Result<(), String> {
    if (1..=SoftDeleteConfig::MAX_BATCH_SIZE).contains(&size) {
        Ok(())
    } else {
        Err(format!(
            "a whole number from 1 to {}",
            SoftDeleteConfig::MAX_BATCH_SIZE
        ))
    }
}

/// Checks that `value` lies in `min ..= max`.
pub(crate) fn check_duration(
    value: Duration,
    min: Duration,
    max: Duration,
) -> std::result::Result<(), String> {
    if value >= min && value <= max {
        Ok(())
    } else {
        Err(format!("a duration from {min:?} to {max:?}"))
    }
}

/// Checks `require_deleted_by` and `require_deletion_reason` against what a call gave. Blank
/// strings count as not given.
pub(crate) fn check_required(
    config: &SoftDeleteConfig,
    deleted_by: Option<&str>,
    reason: Option<&str>,
) -> Result<()> {
    let given = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
    if config.require_deleted_by && !given(deleted_by) {
        return Err(Error::MissingRequired {
            field: "deleted_by",
            setting: "require_deleted_by",
        });
    }
    if config.require_deletion_reason && !given(reason) {
        return Err(Error::MissingRequired {
            field: "reason",
            setting: "require_deletion_reason",
        });
    }
    Ok(())
}

const TABLE_NAME: &str = "a table name of letters, digits and `_`, not starting with a digit \
     (optionally `schema.table`), or true or false";

/// The operation log's table when the configuration names none of its own.
pub(crate) const DEFAULT_OPERATION_LOG: &str = "soft_delete_operations";

/// A name that needs no quoting on any backend, so that no configuration can smuggle SQL:
/// `table` or `schema.table`.
fn is_table_name(name: &str) -> bool {
    let identifier = |part: &str| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && part.len() <= 64
    };
    match name.split_once('.') {
        Some((schema, table)) => identifier(schema) && identifier(table),
        None => identifier(name),
    }
}

fn config_error(setting: &str, value: impl std::fmt::Display, expected: String) -> Error {
    Error::Config {
        setting: setting.to_owned(),
        value: value.to_string(),
        expected,
    }
}

struct Lookup<F>(F);

impl<F: Fn(&str) -> Option<String>> Lookup<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    /// A whole number in `min ..= max`.
    fn number(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match raw.trim().parse::<u64>() {
            Ok(value) if (min..=max).contains(&value) => Ok(value),
            _ if max == u64::MAX => Err(config_error(
                name,
                &raw,
                format!("a whole number of at least {min}"),
            )),
            _ => Err(config_error(
                name,
                &raw,
                format!("a whole number from {min} to {max}"),
            )),
        }
    }

    /// A table name, `true` (the default name) or `false` (none).
    fn table_name(&self, name: &str) -> Result<Option<String>> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        let value = raw.trim();
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => {
                return Ok(Some(DEFAULT_OPERATION_LOG.to_owned()));
            }
            "false" | "0" | "no" | "off" | "" => return Ok(None),
            _ => {}
        }
        if is_table_name(value) {
            Ok(Some(value.to_owned()))
        } else {
            Err(config_error(name, &raw, TABLE_NAME.to_owned()))
        }
    }

    fn boolean(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(config_error(name, &raw, BOOL.to_owned())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<SoftDeleteConfig> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        SoftDeleteConfig::from_lookup(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn reconnect_delays_grow_to_a_second() {
        let config = SoftDeleteConfig::default();
        let delays: Vec<u128> = (1..=6)
            .map(|n| config.reconnect_delay(n).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        let none = SoftDeleteConfig {
            retry_delay: Duration::ZERO,
            ..SoftDeleteConfig::default()
        };
        assert_eq!(none.reconnect_delay(1), Duration::from_millis(1));
    }

    #[test]
    fn unset_variables_keep_the_defaults() {
        // The documented defaults, as literals: a change of one is a change of the contract.
        let expected = SoftDeleteConfig {
            bulk_operation_batch_size: 1000,
            query_timeout: Some(Duration::from_secs(30)),
            enable_query_optimization: true,
            alert_on_bulk_operations: true,
            bulk_operation_alert_threshold: 10_000,
            require_deleted_by: false,
            require_deletion_reason: false,
            retry_attempts: 3,
            retry_delay: Duration::from_millis(100),
            reconnect_for: Duration::ZERO,
            behind_pooler: false,
            parallelism: 1,
            retention: Duration::from_secs(30 * 24 * 60 * 60),
            retention_by_table: BTreeMap::new(),
            pause_between_batches: Duration::ZERO,
            operation_log: None,
            log_condition_values: false,
            events: None,
        };
        assert_eq!(SoftDeleteConfig::default(), expected);
        assert_eq!(with(&[]).expect("defaults"), expected);
        assert!(expected.validate().is_ok());
    }

    #[test]
    fn every_field_has_a_variable() {
        let config = with(&[
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "250"),
            ("SOFT_DELETE_QUERY_TIMEOUT_SECONDS", "0"),
            ("SOFT_DELETE_ENABLE_QUERY_OPTIMIZATION", "off"),
            ("SOFT_DELETE_ALERT_ON_BULK_OPERATIONS", "FALSE"),
            ("SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD", "7"),
            ("SOFT_DELETE_REQUIRE_DELETED_BY", "1"),
            ("SOFT_DELETE_REQUIRE_DELETION_REASON", "Yes"),
            ("SOFT_DELETE_RETRY_ATTEMPTS", "0"),
            ("SOFT_DELETE_RETRY_DELAY_MS", "5"),
            ("SOFT_DELETE_RECONNECT_FOR_SECONDS", "90"),
            ("SOFT_DELETE_BEHIND_POOLER", "yes"),
            ("SOFT_DELETE_PARALLELISM", "4"),
            ("SOFT_DELETE_RETENTION_DAYS", "90"),
            ("SOFT_DELETE_PAUSE_BETWEEN_BATCHES_MS", " 20 "),
            ("SOFT_DELETE_OPERATION_LOG", "audit.ops_log"),
            ("SOFT_DELETE_LOG_CONDITION_VALUES", "on"),
        ])
        .expect("valid values");
        assert_eq!(
            config,
            SoftDeleteConfig {
                bulk_operation_batch_size: 250,
                query_timeout: None,
                enable_query_optimization: false,
                alert_on_bulk_operations: false,
                bulk_operation_alert_threshold: 7,
                require_deleted_by: true,
                require_deletion_reason: true,
                retry_attempts: 0,
                retry_delay: Duration::from_millis(5),
                reconnect_for: Duration::from_secs(90),
                behind_pooler: true,
                parallelism: 4,
                retention: DAY * 90,
                retention_by_table: BTreeMap::new(),
                pause_between_batches: Duration::from_millis(20),
                operation_log: Some("audit.ops_log".to_owned()),
                log_condition_values: true,
                events: None,
            }
        );
        let timeout = with(&[("SOFT_DELETE_QUERY_TIMEOUT_SECONDS", "12")]).expect("timeout");
        assert_eq!(timeout.query_timeout, Some(Duration::from_secs(12)));
        let log = |value| with(&[("SOFT_DELETE_OPERATION_LOG", value)]).map(|c| c.operation_log);
        assert_eq!(
            log("on").ok(),
            Some(Some("soft_delete_operations".to_owned()))
        );
        assert_eq!(log("false").ok(), Some(None));
        let error = log("ops; DROP TABLE users")
            .expect_err("not a name")
            .to_string();
        assert!(error.contains("SOFT_DELETE_OPERATION_LOG"), "{error}");
        for bad in ["1ops", "a.b.c", ".ops", "ops.", "a b"] {
            let in_code = SoftDeleteConfig {
                operation_log: Some(bad.to_owned()),
                ..SoftDeleteConfig::default()
            };
            assert!(in_code.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_values_name_the_variable_the_value_and_what_was_expected() {
        let batch = "a whole number from 1 to 1000000";
        let cases = [
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "abc", batch),
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "0", batch),
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "-5", batch),
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "1.5", batch),
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "1000001", batch),
            (
                "SOFT_DELETE_BULK_OPERATION_BATCH_SIZE",
                "18446744073709551615",
                batch,
            ),
            (
                "SOFT_DELETE_QUERY_TIMEOUT_SECONDS",
                "-1",
                "a whole number from 0 to 86400",
            ),
            (
                "SOFT_DELETE_QUERY_TIMEOUT_SECONDS",
                "86401",
                "a whole number from 0 to 86400",
            ),
            ("SOFT_DELETE_ENABLE_QUERY_OPTIMIZATION", "maybe", BOOL),
            ("SOFT_DELETE_ALERT_ON_BULK_OPERATIONS", "enabled", BOOL),
            (
                "SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD",
                "0",
                "a whole number of at least 1",
            ),
            (
                "SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD",
                "ten",
                "a whole number of at least 1",
            ),
            ("SOFT_DELETE_REQUIRE_DELETED_BY", "2", BOOL),
            ("SOFT_DELETE_REQUIRE_DELETION_REASON", "", BOOL),
            (
                "SOFT_DELETE_RETRY_ATTEMPTS",
                "-3",
                "a whole number from 0 to 100",
            ),
            (
                "SOFT_DELETE_RETRY_ATTEMPTS",
                "4294967296",
                "a whole number from 0 to 100",
            ),
            (
                "SOFT_DELETE_RETRY_DELAY_MS",
                "100ms",
                "a whole number from 0 to 3600000",
            ),
            (
                "SOFT_DELETE_RETENTION_DAYS",
                "30d",
                "a whole number from 0 to 36500",
            ),
            (
                "SOFT_DELETE_RETENTION_DAYS",
                "100000000",
                "a whole number from 0 to 36500",
            ),
            (
                "SOFT_DELETE_PAUSE_BETWEEN_BATCHES_MS",
                "x",
                "a whole number from 0 to 3600000",
            ),
        ];
        for (name, value, expected) in cases {
            let error = with(&[(name, value)]).expect_err(name);
            match &error {
                Error::Config {
                    setting,
                    value: got,
                    expected: wanted,
                } => {
                    assert_eq!(setting, name);
                    assert_eq!(got, value);
                    assert_eq!(wanted, expected, "{name}={value}");
                }
                other => panic!("{name}={value}: unexpected {other:?}"),
            }
            let message = error.to_string();
            assert!(
                message.contains(name) && message.contains(expected),
                "{message}"
            );
        }
    }

    #[test]
    fn per_table_retention_comes_from_its_own_variable() {
        let vars = [
            ("SOFT_DELETE_RETENTION_DAYS_ORDERS", "365"),
            ("SOFT_DELETE_RETENTION_DAYS_", "5"),
            ("PATH", "/usr/bin"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()));
        let config = SoftDeleteConfig::DEFAULT
            .with_table_retentions(vars.into_iter())
            .expect("valid");
        assert_eq!(config.retention_for("orders"), DAY * 365);
        assert_eq!(config.retention_for("users"), config.retention);
        assert_eq!(config.retention_by_table.len(), 1);
        let bad = [(
            "SOFT_DELETE_RETENTION_DAYS_USERS".to_owned(),
            "soon".to_owned(),
        )];
        let error = SoftDeleteConfig::DEFAULT
            .with_table_retentions(bad.into_iter())
            .expect_err("`soon` is not a number of days");
        assert!(
            error
                .to_string()
                .contains("SOFT_DELETE_RETENTION_DAYS_USERS"),
            "{error}"
        );
        let mut too_long = SoftDeleteConfig::default();
        too_long
            .retention_by_table
            .insert("users".to_owned(), SoftDeleteConfig::MAX_RETENTION * 2);
        assert!(too_long.validate().is_err());
    }

    #[test]
    fn validate_names_each_field_set_out_of_range_in_code() {
        let d = SoftDeleteConfig::default;
        let cases = [
            (
                "bulk_operation_batch_size",
                SoftDeleteConfig {
                    bulk_operation_batch_size: 0,
                    ..d()
                },
            ),
            (
                "bulk_operation_batch_size",
                SoftDeleteConfig {
                    bulk_operation_batch_size: usize::MAX,
                    ..d()
                },
            ),
            (
                "bulk_operation_alert_threshold",
                SoftDeleteConfig {
                    bulk_operation_alert_threshold: 0,
                    ..d()
                },
            ),
            (
                "query_timeout",
                SoftDeleteConfig {
                    query_timeout: Some(Duration::ZERO),
                    ..d()
                },
            ),
            (
                "query_timeout",
                SoftDeleteConfig {
                    query_timeout: Some(Duration::MAX),
                    ..d()
                },
            ),
            (
                "parallelism",
                SoftDeleteConfig {
                    parallelism: 0,
                    ..d()
                },
            ),
            (
                "parallelism",
                SoftDeleteConfig {
                    parallelism: 65,
                    ..d()
                },
            ),
            (
                "retry_attempts",
                SoftDeleteConfig {
                    retry_attempts: u32::MAX,
                    ..d()
                },
            ),
            (
                "retry_delay",
                SoftDeleteConfig {
                    retry_delay: Duration::MAX,
                    ..d()
                },
            ),
            (
                "reconnect_for",
                SoftDeleteConfig {
                    reconnect_for: DAY,
                    ..d()
                },
            ),
            (
                "pause_between_batches",
                SoftDeleteConfig {
                    pause_between_batches: DAY,
                    ..d()
                },
            ),
            (
                "retention",
                SoftDeleteConfig {
                    retention: DAY * 100_000_000,
                    ..d()
                },
            ),
        ];
        for (field, config) in cases {
            match config.validate() {
                Err(Error::Config { setting, .. }) => assert_eq!(setting, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn retry_delay_doubles_and_is_capped() {
        let config = SoftDeleteConfig {
            retry_delay: Duration::from_millis(10),
            ..SoftDeleteConfig::default()
        };
        let delays: Vec<u64> = (1..=8)
            .map(|n| config.retry_delay(n).as_millis() as u64)
            .collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 320, 320]);
    }
}
