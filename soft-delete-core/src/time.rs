//! Time, on the ground floor: the stamps an operation writes, the precision every backend keeps,
//! how a timestamp is bound so that every backend compares it exactly, and the one rule that
//! turns a retention into a cutoff.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ColumnType;
use sea_orm::{DbBackend, Statement, Value};

use crate::error::{Error, Result};

/// A point in time, in UTC, as SeaORM's `DateTimeUtc`.
pub type Timestamp = DateTime<Utc>;

/// The current time, truncated to microseconds: the precision PostgreSQL and MySQL `DATETIME(6)`
/// keep, so that the value a call reports is the value the database stores.
pub(crate) fn now() -> Timestamp {
    to_micros(Utc::now())
}

/// The stamp of a new operation: the current time in microseconds, and later than every stamp
/// this process handed out before, so that no two operations of the process share one (a
/// batch whose `COMMIT` was lost is found by its operation's stamp).
pub(crate) fn operation_stamp() -> Timestamp {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(i64::MIN);
    let wanted = Utc::now().timestamp_micros();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = wanted.max(last.saturating_add(1));
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return DateTime::from_timestamp_micros(next).unwrap_or_else(now),
            Err(seen) => last = seen,
        }
    }
}

/// `t` truncated to microseconds, the precision every backend stores.
pub(crate) fn to_micros(t: Timestamp) -> Timestamp {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The first whole microsecond at or after `t`. Stored timestamps are whole microseconds, so
/// `stored < t` exactly when `stored < ceil_micros(t)` (and likewise for `>=`): a cutoff with
/// nanoseconds compares the same on every backend, although PostgreSQL and MySQL round such a
/// parameter and SQLite compares its text.
pub(crate) fn ceil_micros(t: Timestamp) -> Timestamp {
    let down = to_micros(t);
    if down == t {
        t
    } else {
        down.checked_add_signed(chrono::Duration::microseconds(1))
            .unwrap_or(down)
    }
}

/// The cutoff of a retention: the rows deleted more than `retention` before `now` are past it.
/// The one place this rule is written, for purges by age and prune policies alike.
///
/// # Errors
///
/// [`Error::InvalidArgument`] naming `retention` when the cutoff would fall before the first
/// date a timestamp can hold.
pub(crate) fn retention_cutoff(now: Timestamp, retention: Duration) -> Result<Timestamp> {
    chrono::Duration::from_std(retention)
        .ok()
        .and_then(|retention| now.checked_sub_signed(retention))
        .ok_or_else(|| Error::InvalidArgument {
            name: "retention",
            reason: format!(
                "{retention:?} before {now} is before the first date a timestamp holds"
            ),
        })
}

/// A timestamp as a comparison value that every backend compares exactly: a
/// `DateTime<FixedOffset>` at UTC.
///
/// sqlx-mysql sends a `DateTime<Utc>` as a `TIMESTAMP` parameter, which MySQL and MariaDB can
/// only hold from 1970 to 2038: outside it the value silently became NULL (an `UPDATE` reported
/// its row changed and left `deleted_at` NULL; a purge's dry run counted nothing). sea-query-sqlx
/// sends this variant to them as its UTC text, which the server reads as a `DATETIME` over that
/// type's whole range. PostgreSQL and SQLite receive exactly what they would for a
/// `DateTime<Utc>` (`timestamptz`, and the same RFC 3339 text with `+00:00`).
pub(crate) fn timestamp_value(t: Timestamp) -> Value {
    Value::from(t.fixed_offset())
}

/// Rewrites the `DateTime<Utc>` values of a statement for MySQL/MariaDB as
/// [`timestamp_value`] does; other backends' statements are returned as they are. Every
/// statement this crate sends goes through it, so a timestamp set on a model (typed
/// `DateTimeUtc`) is bound the same way as one the crate stamps.
pub(crate) fn bind_timestamps(mut statement: Statement) -> Statement {
    if statement.db_backend != DbBackend::MySql {
        return statement;
    }
    if let Some(values) = statement.values.as_mut() {
        for value in values.0.iter_mut() {
            bind_timestamp(statement.db_backend, value);
        }
    }
    statement
}

/// [`bind_timestamps`] for one value.
pub(crate) fn bind_timestamp(backend: DbBackend, value: &mut Value) {
    if backend == DbBackend::MySql
        && let Value::ChronoDateTimeUtc(Some(t)) = value
    {
        *value = timestamp_value(*t);
    }
}

/// The timestamps `backend` stores and compares exactly, as text for messages and bounds.
pub(crate) fn timestamp_range(backend: DbBackend) -> (Timestamp, Timestamp, &'static str) {
    let at = |y, mo, d, h, mi, s, us| {
        chrono::NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_micro_opt(h, mi, s, us))
            .map(|naive| naive.and_utc())
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    match backend {
        // DATETIME(6): the documented range.
        DbBackend::MySql => (
            at(1000, 1, 1, 0, 0, 0, 0),
            at(9999, 12, 31, 23, 59, 59, 999_999),
            "MySQL/MariaDB DATETIME holds 1000-01-01 00:00:00 to 9999-12-31 23:59:59.999999",
        ),
        // RFC 3339 text, compared as text: only four-digit years sort as time does.
        DbBackend::Sqlite => (
            at(0, 1, 1, 0, 0, 0, 0),
            at(9999, 12, 31, 23, 59, 59, 999_999),
            "SQLite stores timestamps as text, which compares correctly for years 0000 to 9999",
        ),
        // timestamptz: 4713 BC (year -4712) to 294276 AD, beyond chrono's own maximum.
        _ => (
            at(-4712, 1, 1, 0, 0, 0, 0),
            DateTime::<Utc>::MAX_UTC,
            "PostgreSQL timestamptz holds 4713 BC to 294276 AD",
        ),
    }
}

/// Refuses a timestamp `backend` cannot store or compare exactly, naming the argument.
pub(crate) fn check_timestamp(backend: DbBackend, name: &'static str, t: Timestamp) -> Result<()> {
    let (min, max, range) = timestamp_range(backend);
    if t < min || t > max {
        return Err(Error::InvalidArgument {
            name,
            reason: format!("{t} is out of range: {range}"),
        });
    }
    Ok(())
}

/// The column type this crate creates for its timestamps on `backend`: PostgreSQL
/// `timestamp with time zone`, MySQL/MariaDB `DATETIME(6)` (microseconds, and the whole
/// `DATETIME` range, where SeaORM's default `timestamp` keeps whole seconds from 1970 to 2038),
/// SQLite's text.
pub fn timestamp_type(backend: DbBackend) -> ColumnType {
    match backend {
        DbBackend::MySql => ColumnType::custom("DATETIME(6)"),
        _ => ColumnType::TimestampWithTimeZone,
    }
}

/// The column type this crate creates for a timestamp declared naive (`DateTime`) on `backend`:
/// PostgreSQL `timestamp without time zone`, MySQL/MariaDB `DATETIME(6)`, SQLite's text.
pub(crate) fn naive_timestamp_type(backend: DbBackend) -> ColumnType {
    match backend {
        DbBackend::MySql => ColumnType::custom("DATETIME(6)"),
        _ => ColumnType::DateTime,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_past_the_first_date_is_refused_by_name() {
        let now = Timestamp::from_timestamp(1_000, 0).expect("valid");
        assert_eq!(
            retention_cutoff(now, Duration::from_secs(400)).ok(),
            Timestamp::from_timestamp(600, 0)
        );
        let error = retention_cutoff(now, Duration::MAX).expect_err("out of range");
        assert!(
            matches!(
                error,
                Error::InvalidArgument {
                    name: "retention",
                    ..
                }
            ),
            "{error}"
        );
    }
}
