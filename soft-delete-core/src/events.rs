//! After-commit events, metrics and tracing: what every committed change tells the world.
//!
//! # Events
//!
//! Give the configuration an [`Events`] channel (`SoftDeleteConfig { events: Some(events.clone()),
//! .. }`) and subscribe to it: every batch of a bulk soft delete, restore, purge, create or insert
//! run with that configuration, and every one-record soft delete or restore run through
//! [`SoftDeleteManager`](crate::SoftDeleteManager), sends one [`Event`] **after its `COMMIT`**,
//! never for a batch that was rolled back (a failed batch, or every batch of an atomic operation
//! that failed). An atomic operation sends its batches' events after its one `COMMIT`. A batch
//! whose `COMMIT` was lost is announced when the engine finds it committed.
//!
//! Inside a transaction of yours (a manager made with `&txn`), a batch's `COMMIT` only releases
//! a savepoint and whether anything is kept is up to your `COMMIT`: no event is sent there
//! (send your own after it). Metrics are recorded either way.
//!
//! The channel is a [`tokio::sync::broadcast`] channel: sending never waits for a subscriber,
//! and a subscriber that falls more than the channel's capacity behind misses the oldest events
//! (its next `recv` says how many, with `RecvError::Lagged`). Size the capacity for the
//! subscriber's pace; events are small.
//!
//! ```
//! use soft_delete_core::events::Events;
//! use soft_delete_core::SoftDeleteConfig;
//!
//! let events = Events::new(1024);
//! let mut received = events.subscribe();
//! let config = SoftDeleteConfig { events: Some(events.clone()), ..SoftDeleteConfig::default() };
//! // … SoftDeleteManager::with_config(&db, config) …, then, in a task of its own:
//! // while let Ok(event) = received.recv().await { search_index.remove(&event).await; }
//! # let _ = (config, &mut received);
//! ```
//!
//! # Metrics
//!
//! Through the [`metrics`] facade, so whatever recorder the application installed (a Prometheus
//! exporter, StatsD, …) receives them with no code of yours. Labels: `kind` (`soft delete`,
//! `restore`, `purge`, `create`) and `table`.
//!
//! | name | type | what |
//! |---|---|---|
//! | `soft_delete_rows_total` | counter | rows changed, committed (a cascade's rows under their own `table`) |
//! | `soft_delete_batches_total` | counter | batches committed (one-record operations count one) |
//! | `soft_delete_retries_total` | counter | attempts retried after a transient error, for batches that then committed |
//! | `soft_delete_batch_duration_seconds` | histogram | time of each committed batch, retries included |
//! | `soft_delete_pause_seconds` | histogram | each pause between batches (`pause_between_batches`) |
//! | `soft_delete_operations_total` | counter | bulk operations ended, with a `status` label: `completed`, `stopped`, `failed` |
//!
//! # Tracing
//!
//! Every bulk operation runs in a `soft_delete.bulk` span (`operation`, `operation_id`, `table`,
//! `atomic`) and each batch in a `soft_delete.batch` span inside it (`batch`, `operation_id`,
//! `table`), so an OpenTelemetry layer shows bulk work batch by batch.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::ValueTuple;
use tokio::sync::broadcast;

use crate::cascade::Tally;
use crate::operation::{OperationId, OperationKind};

/// One committed change: a batch of a bulk operation, or a one-record operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The operation it belongs to.
    pub operation: OperationId,
    /// What the operation does.
    pub kind: OperationKind,
    /// The operation's table.
    pub table: String,
    /// The batch's number, from 1 (1 for a one-record operation).
    pub batch: u64,
    /// Rows of `table` the batch changed.
    pub rows: u64,
    /// Rows of related tables a cascade changed with them, per table.
    pub cascaded: Vec<(String, u64)>,
    /// The key of the row, for a one-record operation; empty for a batch (whose count is
    /// `rows`; hooks see its keys, see [`crate::hooks`]).
    pub keys: Vec<ValueTuple>,
    /// Who ran the operation, when given.
    pub actor: Option<String>,
    /// Why, when given.
    pub reason: Option<String>,
}

/// A channel of [`Event`]s; cheap to clone (every clone sends into the same channel).
#[derive(Clone, Debug)]
pub struct Events {
    sender: broadcast::Sender<Arc<Event>>,
}

impl Events {
    /// A channel that keeps up to `capacity` events for its slowest subscriber (at least 1).
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Events { sender }
    }

    /// A receiver of every event sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }

    /// Subscribers listening now.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    fn send(&self, event: Event) {
        // No subscriber is not an error: the event is simply not kept.
        let _ = self.sender.send(Arc::new(event));
    }
}

impl PartialEq for Events {
    /// The same channel.
    fn eq(&self, other: &Self) -> bool {
        self.sender.same_channel(&other.sender)
    }
}

impl Eq for Events {}

/// A batch (or one-record operation) that committed, told to metrics and to `events`.
pub(crate) struct Committed<'a> {
    pub(crate) operation: OperationId,
    pub(crate) kind: OperationKind,
    pub(crate) table: &'a str,
    pub(crate) batch: u64,
    pub(crate) rows: u64,
    pub(crate) cascaded: Tally,
    pub(crate) keys: Vec<ValueTuple>,
    pub(crate) actor: Option<&'a str>,
    pub(crate) reason: Option<&'a str>,
    pub(crate) retries: u32,
    pub(crate) elapsed: Duration,
}

impl Committed<'_> {
    /// The event, kept with what the metrics need until it is [announced](announce).
    pub(crate) fn pending(self) -> Pending {
        Pending {
            event: Event {
                operation: self.operation,
                kind: self.kind,
                table: self.table.to_owned(),
                batch: self.batch,
                rows: self.rows,
                cascaded: self.cascaded.0,
                keys: self.keys,
                actor: self.actor.map(str::to_owned),
                reason: self.reason.map(str::to_owned),
            },
            retries: self.retries,
            elapsed: self.elapsed,
        }
    }
}

/// A committed change not yet announced: an atomic operation's batches wait for its `COMMIT`.
#[derive(Debug)]
pub(crate) struct Pending {
    event: Event,
    retries: u32,
    elapsed: Duration,
}

/// Records a committed change's metrics and sends its event to `events`, if any.
pub(crate) fn announce(pending: Pending, events: Option<&Events>) {
    let Pending {
        event,
        retries,
        elapsed,
    } = pending;
    let kind = event.kind.as_str();
    let labels = |table: &str| [("kind", kind.to_owned()), ("table", table.to_owned())];
    metrics::counter!("soft_delete_rows_total", &labels(&event.table)).increment(event.rows);
    for (table, rows) in &event.cascaded {
        metrics::counter!("soft_delete_rows_total", &labels(table)).increment(*rows);
    }
    let own = labels(&event.table);
    metrics::counter!("soft_delete_batches_total", &own).increment(1);
    if retries > 0 {
        metrics::counter!("soft_delete_retries_total", &own).increment(u64::from(retries));
    }
    metrics::histogram!("soft_delete_batch_duration_seconds", &own).record(elapsed.as_secs_f64());
    if let Some(events) = events {
        events.send(event);
    }
}

/// Time paused between batches.
pub(crate) fn paused(kind: OperationKind, table: &str, pause: Duration) {
    metrics::histogram!(
        "soft_delete_pause_seconds",
        "kind" => kind.as_str(),
        "table" => table.to_owned()
    )
    .record(pause.as_secs_f64());
}

/// Time a throttle held one batch back.
pub(crate) fn throttled(kind: OperationKind, table: &str, held: Duration) {
    metrics::histogram!(
        "soft_delete_throttled_seconds",
        "kind" => kind.as_str(),
        "table" => table.to_owned()
    )
    .record(held.as_secs_f64());
}

/// A bulk operation's end.
pub(crate) fn ended(kind: OperationKind, table: &str, status: &'static str) {
    metrics::counter!(
        "soft_delete_operations_total",
        "kind" => kind.as_str(),
        "table" => table.to_owned(),
        "status" => status
    )
    .increment(1);
}
