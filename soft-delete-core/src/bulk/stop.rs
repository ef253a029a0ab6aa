//! [`StopSignal`]: asks a running bulk operation to stop after its current batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Asks bulk operations to stop after the batch they are running: what a shutdown handler or an
/// operator's stop file sets. Clones share one signal; once stopped it stays stopped.
///
/// An operation given the signal ([`BatchOptions::stop_on`](crate::BatchOptions::stop_on))
/// checks it before each batch, as it checks its maximum duration, and within 50 ms during its
/// pause between batches: no batch is cut short, and the report says `stopped_early`, with the
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
        let started = Instant::now();
        while !self.is_stopped() {
            let left = duration.saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            tokio::time::sleep(left.min(Duration::from_millis(50))).await;
        }
        started.elapsed().min(duration)
    }
}
