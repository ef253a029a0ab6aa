//! After-commit events, metrics and tracing: what every committed change tells the world.
//!
//! # Events
//!
//! Give the configuration an [`Events`] channel (`SoftDeleteConfig { events: Some(events.clone()),
//! .. }`) and subscribe to it: every batch that changed rows, of every operation run with that
//! configuration (a bulk soft delete, restore, purge, create or insert, and a one-record soft
//! delete, restore or force delete, a batch of one, through the manager, a service or
//! `.with_config(..)`), sends one [`Event`] **after its `COMMIT`**, never for a batch that was
//! rolled back (a failed batch, or every batch of an atomic operation that failed), and none for
//! a batch that changed nothing. An atomic operation sends its batches' events after its one
//! `COMMIT`. A batch whose `COMMIT` was lost is announced when the engine finds it committed;
//! so is a batch whose transaction a hook ended, when its rows are found committed.
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
//! exporter, StatsD, …) receives them with no code of yours. The labels and the batch duration
//! follow OpenTelemetry's database conventions: `db.operation.name` (`soft delete`, `restore`,
//! `purge`, `create`) and `db.collection.name` (the table, `schema.table` outside the default
//! schema). A Prometheus exporter writes the dots as underscores (`db_collection_name`).
//!
//! | name | type | what |
//! |---|---|---|
//! | `soft_delete_rows_total` | counter | rows changed, committed (a cascade's rows under their own `table`) |
//! | `soft_delete_batches_total` | counter | batches committed, changing rows or not (a one-record operation is one) |
//! | `soft_delete_retries_total` | counter | attempts retried after a transient error, for batches that then committed |
//! | `db.client.operation.duration` | histogram | seconds each committed batch took, retries included |
//! | `soft_delete_pause_seconds` | histogram | each pause between batches (`pause_between_batches`) |
//! | `soft_delete_throttled_seconds` | histogram | each time a throttle held a batch back |
//! | `soft_delete_operations_total` | counter | operations ended (one-record ones too), with a `status` label: `completed`, `stopped`, `failed` |
//!
//! # Tracing
//!
//! Every operation (one-record ones too) runs in a `soft_delete.bulk` span (`operation`,
//! `operation_id`, `table`, `atomic`) and each batch in a `soft_delete.batch` span inside it
//! (`batch`, `operation_id`, `table`), so an OpenTelemetry layer shows bulk work batch by batch.

use std::sync::Arc;

use sea_orm::sea_query::ValueTuple;
use tokio::sync::broadcast;

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
    capacity: usize,
}

impl Events {
    /// The most events a channel keeps for its slowest subscriber.
    pub const MAX_CAPACITY: usize = 1 << 16;

    /// A channel that keeps up to `capacity` events for its slowest subscriber, taken within
    /// 1 ..= [`MAX_CAPACITY`](Self::MAX_CAPACITY) (the channel's buffer is allocated up front).
    ///
    /// ```
    /// use soft_delete_core::events::Events;
    ///
    /// let events = Events::new(usize::MAX); // kept to MAX_CAPACITY, not a panic
    /// assert_eq!(events.capacity(), Events::MAX_CAPACITY);
    /// assert_eq!(Events::new(0).capacity(), 1);
    /// ```
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, Self::MAX_CAPACITY);
        let (sender, _) = broadcast::channel(capacity);
        Events { sender, capacity }
    }

    /// How many events the channel keeps for its slowest subscriber.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// A receiver of every event sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }

    /// Subscribers listening now.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    pub(crate) fn send(&self, event: Event) {
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
