//! What bulk operations tell you: the final [`BulkReport`], a [`Progress`] per batch, and
//! [`BulkAlert`]s for large operations, delivered through an [`AlertSink`].

use std::fmt;
use std::time::Duration;

use crate::operation::OperationKind;

/// The outcome of a bulk operation that finished (or stopped at its time limit).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BulkReport {
    /// The operation's id: stamped on the rows a soft delete changed, for entities declared
    /// with `#[soft_delete(operation_id)]` (see
    /// [`restore_operation`](crate::SoftDeleteManager::restore_operation)).
    pub id: crate::operation::OperationId,
    /// What the operation did.
    pub operation: OperationKind,
    /// The table it ran on.
    pub table: String,
    /// Ids consumed from the input, duplicates and unknown ids included; for operations that
    /// select rows by condition, the rows they matched.
    pub requested: u64,
    /// Rows changed (or, for a dry run, rows that would be).
    pub affected: u64,
    /// Rows of related tables changed with them by a cascade (see [`crate::cascade`]).
    pub cascaded: u64,
    /// Rows a purge with an archive copied into its archive table (see [`crate::archive`]):
    /// as many as it deleted; 0 for every other operation.
    pub archived: u64,
    /// Batches run (each its own transaction unless the operation was atomic).
    pub batches: u64,
    /// Batches that were retried after a transient error, counted once per retry.
    pub retries: u64,
    /// Wall time of the whole operation.
    pub elapsed: Duration,
    /// Time its [`Throttle`](crate::throttle::Throttle) held batches back (part of `elapsed`;
    /// with several workers, summed over them).
    pub throttled: Duration,
    /// Time paused between batches, by `pause_between_batches` and `sleep_coefficient` (part of
    /// `elapsed`; with several workers, summed over them).
    pub paused: Duration,
    /// Workers that ran the operation's batches side by side (see
    /// [`BatchOptions::parallel`](crate::BatchOptions::parallel)): 1 unless it asked for more
    /// and could have them.
    pub workers: usize,
    /// True when nothing was changed because the operation was a dry run.
    pub dry_run: bool,
    /// True when the operation stopped before it was done: at its maximum duration, or on its
    /// [`StopSignal`](crate::StopSignal).
    pub stopped_early: bool,
    /// For operations that stopped early: rows still matching, counted after stopping.
    pub remaining: Option<u64>,
}

impl BulkReport {
    /// Rows changed per second (0 when no time passed).
    pub fn rate(&self) -> f64 {
        rate(self.affected, self.elapsed)
    }
}

impl fmt::Display for BulkReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on `{}`: {} of {} rows in {} batches, {:.3}s ({:.0} rows/s)",
            self.operation,
            self.table,
            self.affected,
            self.requested,
            self.batches,
            self.elapsed.as_secs_f64(),
            self.rate()
        )?;
        if self.workers > 1 {
            write!(f, ", {} workers", self.workers)?;
        }
        if self.archived > 0 {
            write!(f, ", {} archived", self.archived)?;
        }
        if !self.throttled.is_zero() {
            write!(f, ", {:.3}s throttled", self.throttled.as_secs_f64())?;
        }
        if self.dry_run {
            f.write_str(", dry run")?;
        }
        if self.stopped_early {
            match self.remaining {
                Some(left) => write!(f, ", stopped early with {left} rows left")?,
                None => f.write_str(", stopped early")?,
            }
        }
        Ok(())
    }
}

/// Where a bulk operation stands after a batch; passed to the progress callback.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// What the operation does.
    pub operation: OperationKind,
    /// Batches done so far.
    pub batches: u64,
    /// Ids (or matched rows) consumed so far.
    pub processed: u64,
    /// Rows changed so far.
    pub affected: u64,
    /// The total number of ids, when the input said so up front.
    pub total: Option<u64>,
    /// Time since the operation started.
    pub elapsed: Duration,
    /// Time its [`Throttle`](crate::throttle::Throttle) has held batches back so far (summed
    /// over the workers).
    pub throttled: Duration,
    /// Time paused between batches so far (summed over the workers).
    pub paused: Duration,
    /// Workers running the operation's batches side by side.
    pub workers: usize,
    /// Rows the next batch takes: the operation's batch size, as
    /// [`target_batch_time`](crate::BatchOptions::target_batch_time) (or a
    /// [`BatchSize`](crate::BatchSize) handle) last set it.
    pub batch_size: usize,
}

impl Progress {
    /// Rows changed per second so far.
    pub fn rate(&self) -> f64 {
        rate(self.affected, self.elapsed)
    }
}

pub(crate) fn rate(rows: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        rows as f64 / seconds
    } else {
        0.0
    }
}

/// Raised once per operation that reaches `bulk_operation_alert_threshold` rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkAlert {
    /// What the operation did.
    pub operation: OperationKind,
    /// The table it runs on.
    pub table: String,
    /// The row count that triggered the alert: the input's size when known up front, otherwise
    /// the count reached when the threshold was crossed.
    pub rows: u64,
    /// The configured threshold.
    pub threshold: u64,
    /// True when the alert was raised before the operation started, from the input's size.
    pub known_up_front: bool,
}

/// Receives [`BulkAlert`]s. Implement it to page someone, count metrics, or record audits.
///
/// # Examples
///
/// ```
/// use std::sync::Mutex;
/// use soft_delete_core::{AlertSink, BulkAlert};
///
/// #[derive(Debug, Default)]
/// struct Collect(Mutex<Vec<BulkAlert>>);
///
/// impl AlertSink for Collect {
///     fn alert(&self, alert: &BulkAlert) {
///         self.0.lock().unwrap().push(alert.clone());
///     }
/// }
/// ```
pub trait AlertSink: Send + Sync + fmt::Debug {
    /// Called once per operation that reaches the threshold. Keep it quick: it runs on the
    /// operation's task.
    fn alert(&self, alert: &BulkAlert);
}

/// The default [`AlertSink`]: a `tracing` warning.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingAlertSink;

impl AlertSink for TracingAlertSink {
    fn alert(&self, alert: &BulkAlert) {
        tracing::warn!(
            operation = %alert.operation,
            table = %alert.table,
            rows = alert.rows,
            threshold = alert.threshold,
            known_up_front = alert.known_up_front,
            "bulk operation reached the alert threshold"
        );
    }
}

/// What a bulk create returns: the created models, in input order, and the operation's report.
///
/// It reads as the models themselves (`created[0]`, `created.len()`, `for model in &created`),
/// and says through [`report`](Self::report) whether the operation stopped early (at its
/// `max_duration` or stop signal), with only the rows of its committed batches created.
///
/// ```
/// use soft_delete_core::report::Created;
///
/// fn first_id(created: &Created<(i64, String)>) -> Option<i64> {
///     if created.report.stopped_early {
///         eprintln!("stopped after {} rows", created.len());
///     }
///     created.first().map(|(id, _)| *id)
/// }
/// # let _ = first_id;
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Created<M> {
    /// The created models, in the order their rows were given.
    pub models: Vec<M>,
    /// The operation's report: batches, retries, time, whether it stopped early.
    pub report: BulkReport,
}

impl<M> Created<M> {
    pub(crate) fn new(models: Vec<M>, report: BulkReport) -> Self {
        Created { models, report }
    }

    /// The models, without the report.
    pub fn into_models(self) -> Vec<M> {
        self.models
    }
}

impl<M> std::ops::Deref for Created<M> {
    type Target = [M];

    fn deref(&self) -> &[M] {
        &self.models
    }
}

impl<M> IntoIterator for Created<M> {
    type Item = M;
    type IntoIter = std::vec::IntoIter<M>;

    fn into_iter(self) -> Self::IntoIter {
        self.models.into_iter()
    }
}

impl<'a, M> IntoIterator for &'a Created<M> {
    type Item = &'a M;
    type IntoIter = std::slice::Iter<'a, M>;

    fn into_iter(self) -> Self::IntoIter {
        self.models.iter()
    }
}
