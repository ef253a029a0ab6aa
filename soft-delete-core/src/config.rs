//! [`SoftDeleteConfig`]: batch sizes, timeouts, retries, alerts and rules for bulk operations.
//!
//! Build it in code with struct-update syntax, or read it from `SOFT_DELETE_*` environment
//! variables with [`SoftDeleteConfig::from_env`]:
//!
//! | field | variable | default |
//! |---|---|---|
//! | `bulk_operation_batch_size` | `SOFT_DELETE_BULK_OPERATION_BATCH_SIZE` | 1000 |
//! | `query_timeout_seconds` | `SOFT_DELETE_QUERY_TIMEOUT_SECONDS` | 30 (0: no timeout) |
//! | `enable_query_optimization` | `SOFT_DELETE_ENABLE_QUERY_OPTIMIZATION` | true |
//! | `alert_on_bulk_operations` | `SOFT_DELETE_ALERT_ON_BULK_OPERATIONS` | true |
//! | `bulk_operation_alert_threshold` | `SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD` | 10000 |
//! | `require_deleted_by` | `SOFT_DELETE_REQUIRE_DELETED_BY` | false |
//! | `require_deletion_reason` | `SOFT_DELETE_REQUIRE_DELETION_REASON` | false |
//! | `retry_attempts` | `SOFT_DELETE_RETRY_ATTEMPTS` | 3 |
//! | `retry_delay_ms` | `SOFT_DELETE_RETRY_DELAY_MS` | 100 |
//! | `retention_days` | `SOFT_DELETE_RETENTION_DAYS` | 30 |
//! | `pause_between_batches_ms` | `SOFT_DELETE_PAUSE_BETWEEN_BATCHES_MS` | 0 |
//!
//! Booleans accept `true`/`false`, `1`/`0`, `yes`/`no` and `on`/`off`, in any case.

use std::time::Duration;

use crate::error::{Error, Result};

/// Settings for bulk operations.
///
/// # Examples
///
/// ```
/// use soft_delete_core::SoftDeleteConfig;
///
/// let config = SoftDeleteConfig {
///     bulk_operation_batch_size: 5000,
///     require_deleted_by: true,
///     ..SoftDeleteConfig::default()
/// };
/// assert_eq!(config.bulk_operation_alert_threshold, 10_000);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoftDeleteConfig {
    /// Rows per batch (and per transaction) when a call does not set its own. At least 1.
    pub bulk_operation_batch_size: usize,
    /// Longest a single batch may run before it is rolled back and the operation fails; 0 means
    /// no limit.
    pub query_timeout_seconds: u64,
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
    /// lock wait timeout, dropped connection, database busy). 0 disables retries.
    pub retry_attempts: u32,
    /// Delay before the first retry, in milliseconds; it doubles with each further retry, up to
    /// 32 times this value.
    pub retry_delay_ms: u64,
    /// How long soft-deleted rows are kept before `purge_expired` removes them, in days.
    pub retention_days: u32,
    /// Pause between batches, in milliseconds, to leave room for other work.
    pub pause_between_batches_ms: u64,
}

impl Default for SoftDeleteConfig {
    fn default() -> Self {
        SoftDeleteConfig::DEFAULT
    }
}

const BOOL: &str = "one of true, false, 1, 0, yes, no, on, off";
const POSITIVE: &str = "a whole number of at least 1";
const NON_NEGATIVE: &str = "a whole number of at least 0";

impl SoftDeleteConfig {
    /// The defaults, as a constant (`SoftDeleteConfig::default()` returns it).
    pub const DEFAULT: SoftDeleteConfig = SoftDeleteConfig {
        bulk_operation_batch_size: 1000,
        query_timeout_seconds: 30,
        enable_query_optimization: true,
        alert_on_bulk_operations: true,
        bulk_operation_alert_threshold: 10_000,
        require_deleted_by: false,
        require_deletion_reason: false,
        retry_attempts: 3,
        retry_delay_ms: 100,
        retention_days: 30,
        pause_between_batches_ms: 0,
    };

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
        })
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
    /// use soft_delete_core::{Error, SoftDeleteConfig};
    ///
    /// let config = SoftDeleteConfig::from_lookup(|name| match name {
    ///     "SOFT_DELETE_BULK_OPERATION_BATCH_SIZE" => Some("2500".into()),
    ///     "SOFT_DELETE_REQUIRE_DELETED_BY" => Some("yes".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.bulk_operation_batch_size, 2500);
    /// assert!(config.require_deleted_by);
    ///
    /// let error = SoftDeleteConfig::from_lookup(|name| {
    ///     (name == "SOFT_DELETE_BULK_OPERATION_BATCH_SIZE").then(|| "lots".to_owned())
    /// })
    /// .unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "invalid value `lots` for SOFT_DELETE_BULK_OPERATION_BATCH_SIZE: expected a whole number of at least 1"
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    pub fn from_lookup<F>(lookup: F) -> Result<Self>
    where
        F: Fn(&str) -> Option<String>,
    {
        let env = Lookup(lookup);
        let defaults = SoftDeleteConfig::default();
        Ok(SoftDeleteConfig {
            bulk_operation_batch_size: env.positive(
                "SOFT_DELETE_BULK_OPERATION_BATCH_SIZE",
                defaults.bulk_operation_batch_size,
            )?,
            query_timeout_seconds: env.number(
                "SOFT_DELETE_QUERY_TIMEOUT_SECONDS",
                defaults.query_timeout_seconds,
            )?,
            enable_query_optimization: env.boolean(
                "SOFT_DELETE_ENABLE_QUERY_OPTIMIZATION",
                defaults.enable_query_optimization,
            )?,
            alert_on_bulk_operations: env.boolean(
                "SOFT_DELETE_ALERT_ON_BULK_OPERATIONS",
                defaults.alert_on_bulk_operations,
            )?,
            bulk_operation_alert_threshold: env.positive(
                "SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD",
                defaults.bulk_operation_alert_threshold,
            )?,
            require_deleted_by: env.boolean(
                "SOFT_DELETE_REQUIRE_DELETED_BY",
                defaults.require_deleted_by,
            )?,
            require_deletion_reason: env.boolean(
                "SOFT_DELETE_REQUIRE_DELETION_REASON",
                defaults.require_deletion_reason,
            )?,
            retry_attempts: env.number("SOFT_DELETE_RETRY_ATTEMPTS", defaults.retry_attempts)?,
            retry_delay_ms: env.number("SOFT_DELETE_RETRY_DELAY_MS", defaults.retry_delay_ms)?,
            retention_days: env.number("SOFT_DELETE_RETENTION_DAYS", defaults.retention_days)?,
            pause_between_batches_ms: env.number(
                "SOFT_DELETE_PAUSE_BETWEEN_BATCHES_MS",
                defaults.pause_between_batches_ms,
            )?,
        })
    }

    /// Checks the values that code can set out of range (a batch size or alert threshold of 0).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.bulk_operation_batch_size == 0 {
            return Err(config_error("bulk_operation_batch_size", "0", POSITIVE));
        }
        if self.bulk_operation_alert_threshold == 0 {
            return Err(config_error(
                "bulk_operation_alert_threshold",
                "0",
                POSITIVE,
            ));
        }
        Ok(())
    }

    /// The batch size an operation runs with: its own, or `bulk_operation_batch_size`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a batch size of 0; [`Error::Config`] when the configuration
    /// itself is out of range.
    pub(crate) fn batch_size_for(&self, requested: Option<usize>) -> Result<usize> {
        self.validate()?;
        match requested.unwrap_or(self.bulk_operation_batch_size) {
            0 => Err(Error::InvalidArgument {
                name: "batch_size",
                reason: "must be at least 1, got 0".to_owned(),
            }),
            size => Ok(size),
        }
    }

    /// `query_timeout_seconds` as a duration; `None` when there is no limit.
    pub fn query_timeout(&self) -> Option<Duration> {
        (self.query_timeout_seconds > 0).then(|| Duration::from_secs(self.query_timeout_seconds))
    }

    /// The delay before retry number `retry` (1-based): `retry_delay_ms` doubled per retry,
    /// capped at 32 times the base.
    pub fn retry_delay(&self, retry: u32) -> Duration {
        let factor = 1u64 << retry.saturating_sub(1).min(5);
        Duration::from_millis(self.retry_delay_ms.saturating_mul(factor))
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

fn config_error(setting: &str, value: &str, expected: &'static str) -> Error {
    Error::Config {
        setting: setting.to_owned(),
        value: value.to_owned(),
        expected,
    }
}

struct Lookup<F>(F);

impl<F: Fn(&str) -> Option<String>> Lookup<F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|_| config_error(name, &raw, NON_NEGATIVE)),
        }
    }

    fn positive<T: std::str::FromStr + PartialEq + Default>(
        &self,
        name: &str,
        default: T,
    ) -> Result<T> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<T>() {
                Ok(value) if value != T::default() => Ok(value),
                _ => Err(config_error(name, &raw, POSITIVE)),
            },
        }
    }

    fn boolean(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" => Ok(false),
                _ => Err(config_error(name, &raw, BOOL)),
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
    fn unset_variables_keep_the_defaults() {
        assert_eq!(with(&[]).expect("defaults"), SoftDeleteConfig::default());
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
            ("SOFT_DELETE_RETENTION_DAYS", "90"),
            ("SOFT_DELETE_PAUSE_BETWEEN_BATCHES_MS", " 20 "),
        ])
        .expect("valid values");
        assert_eq!(
            config,
            SoftDeleteConfig {
                bulk_operation_batch_size: 250,
                query_timeout_seconds: 0,
                enable_query_optimization: false,
                alert_on_bulk_operations: false,
                bulk_operation_alert_threshold: 7,
                require_deleted_by: true,
                require_deletion_reason: true,
                retry_attempts: 0,
                retry_delay_ms: 5,
                retention_days: 90,
                pause_between_batches_ms: 20,
            }
        );
        assert_eq!(config.query_timeout(), None);
    }

    #[test]
    fn bad_values_name_the_variable_the_value_and_what_was_expected() {
        let cases = [
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "abc", POSITIVE),
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "0", POSITIVE),
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "-5", POSITIVE),
            ("SOFT_DELETE_BULK_OPERATION_BATCH_SIZE", "1.5", POSITIVE),
            ("SOFT_DELETE_QUERY_TIMEOUT_SECONDS", "-1", NON_NEGATIVE),
            ("SOFT_DELETE_QUERY_TIMEOUT_SECONDS", "soon", NON_NEGATIVE),
            ("SOFT_DELETE_ENABLE_QUERY_OPTIMIZATION", "maybe", BOOL),
            ("SOFT_DELETE_ALERT_ON_BULK_OPERATIONS", "enabled", BOOL),
            ("SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD", "0", POSITIVE),
            (
                "SOFT_DELETE_BULK_OPERATION_ALERT_THRESHOLD",
                "ten",
                POSITIVE,
            ),
            ("SOFT_DELETE_REQUIRE_DELETED_BY", "2", BOOL),
            ("SOFT_DELETE_REQUIRE_DELETION_REASON", "", BOOL),
            ("SOFT_DELETE_RETRY_ATTEMPTS", "-3", NON_NEGATIVE),
            ("SOFT_DELETE_RETRY_DELAY_MS", "100ms", NON_NEGATIVE),
            ("SOFT_DELETE_RETENTION_DAYS", "30d", NON_NEGATIVE),
            ("SOFT_DELETE_PAUSE_BETWEEN_BATCHES_MS", "x", NON_NEGATIVE),
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
                    assert_eq!(*wanted, expected, "{name}={value}");
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
    fn validate_rejects_zero_sizes_set_in_code() {
        let zero_batch = SoftDeleteConfig {
            bulk_operation_batch_size: 0,
            ..SoftDeleteConfig::default()
        };
        assert!(matches!(
            zero_batch.validate(),
            Err(Error::Config { ref setting, .. }) if setting == "bulk_operation_batch_size"
        ));
        let zero_threshold = SoftDeleteConfig {
            bulk_operation_alert_threshold: 0,
            ..SoftDeleteConfig::default()
        };
        assert!(zero_threshold.validate().is_err());
        assert!(SoftDeleteConfig::default().validate().is_ok());
    }

    #[test]
    fn retry_delay_doubles_and_is_capped() {
        let config = SoftDeleteConfig {
            retry_delay_ms: 10,
            ..SoftDeleteConfig::default()
        };
        let delays: Vec<u64> = (1..=8)
            .map(|n| config.retry_delay(n).as_millis() as u64)
            .collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 320, 320]);
    }
}
