//! What a caller holds to steer an operation while it runs: [`StopSignal`] (stop after the
//! current batch, pt-archiver's `--sentinel`) and [`BatchSize`] (rows per batch, changed
//! between batches).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::config::check_batch_size;
use crate::error::{Error, Result};

/// Asks bulk operations to stop after the batch they are running: what a shutdown handler or an
/// operator's stop file sets. Clones share one signal; once stopped it stays stopped.
///
/// An operation given the signal ([`BatchOptions::stop_on`](crate::BatchOptions::stop_on))
/// checks it before each batch, as it checks its maximum duration, and within 50 ms during its
/// pause between batches and while its [`Throttle`](crate::throttle::Throttle) holds the next
/// batch: no batch is cut short, and the report says `stopped_early`, with the
/// rows left where it can count them.
///
/// # Examples
///
/// ```
/// use soft_delete_core::{BatchOptions, StopSignal};
///
/// let stop = StopSignal::new();
/// let options = BatchOptions::new().stop_on(stop.clone());
/// // From a signal handler, another task, …
/// stop.stop();
/// assert!(stop.is_stopped());
/// # let _ = options;
/// ```
#[derive(Clone, Debug, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    /// A signal that has not been given.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every operation holding the signal to stop after its current batch.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sleeps `duration`, or less when the signal is given meanwhile (seen within 50 ms).
    /// Returns how long it slept.
    pub(crate) async fn sleep(&self, duration: Duration) -> Duration {
        sleep_unless(duration, || self.is_stopped()).await
    }
}

/// Sleeps `duration`, or less once `stopped` says so (asked every 50 ms at most). Returns how
/// long it slept.
pub(crate) async fn sleep_unless(duration: Duration, stopped: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !stopped() {
        let left = duration.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        tokio::time::sleep(left.min(Duration::from_millis(50))).await;
    }
    started.elapsed().min(duration)
}

/// Rows per batch, changeable while an operation runs: the next batch takes the size set last.
/// (A batch held by a [`Throttle`](crate::throttle::Throttle) has taken its ids or rows
/// already, so a size set during the hold applies from the batch after it; a walk by condition
/// sizes each batch as it runs it.)
/// Clones share one value. Hand it to an operation with
/// [`BatchOptions::batch_size_from`](crate::BatchOptions::batch_size_from).
///
/// What pt-archiver and gh-ost let an operator do to a running job: smaller batches when the
/// primary or its replicas struggle, larger ones when there is room.
///
/// # Examples
///
/// ```
/// use soft_delete_core::{BatchOptions, BatchSize};
///
/// let size = BatchSize::new(5_000)?;
/// let options = BatchOptions::new().batch_size_from(size.clone());
/// // Later, from another task, while the operation runs:
/// size.set(500)?;
/// assert_eq!(size.get(), 500);
/// assert!(size.set(0).is_err()); // refused, the size stays 500
/// # let _ = options;
/// # Ok::<(), soft_delete_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BatchSize(Arc<AtomicUsize>);

impl BatchSize {
    /// A batch size of `rows`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] naming `batch_size` unless `rows` is 1 ..=
    /// [`SoftDeleteConfig::MAX_BATCH_SIZE`](crate::SoftDeleteConfig::MAX_BATCH_SIZE).
    pub fn new(rows: usize) -> Result<Self> {
        check(rows)?;
        Ok(BatchSize(Arc::new(AtomicUsize::new(rows))))
    }

    /// Makes the next batch (of every operation holding this handle) `rows` long.
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new); the size is then left as it was.
    pub fn set(&self, rows: usize) -> Result<()> {
        check(rows)?;
        self.0.store(rows, Ordering::Relaxed);
        Ok(())
    }

    /// A handle holding `rows` as given, checked when the operation starts.
    pub(crate) fn unchecked(rows: usize) -> Self {
        BatchSize(Arc::new(AtomicUsize::new(rows)))
    }

    /// Sets a size the caller has already kept within bounds.
    pub(crate) fn set_unchecked(&self, rows: usize) {
        self.0.store(rows, Ordering::Relaxed);
    }

    /// The size the next batch takes.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

fn check(rows: usize) -> Result<()> {
    check_batch_size(rows).map_err(|expected| Error::InvalidArgument {
        name: "batch_size",
        reason: format!("expected {expected}, got {rows}"),
    })
}
