//! What every committed change tells the world, after its `COMMIT`: the metrics and the event
//! (see [`crate::events`] for what is sent and when).

use std::time::Duration;

use sea_orm::sea_query::ValueTuple;

use super::Tally;
use crate::events::{Event, Events};
use crate::operation::{OperationId, OperationKind};

/// The label naming what the operation does (`soft delete`, `restore`, `purge`, `create`):
/// OpenTelemetry's `db.operation.name`.
pub(crate) const OPERATION: &str = "db.operation.name";
/// The label naming the table: OpenTelemetry's `db.collection.name`.
pub(crate) const COLLECTION: &str = "db.collection.name";
/// Each committed batch's time, in seconds: OpenTelemetry's `db.client.operation.duration`.
pub(crate) const DURATION: &str = "db.client.operation.duration";

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
    let labels = |table: &str| [(OPERATION, kind.to_owned()), (COLLECTION, table.to_owned())];
    metrics::counter!("soft_delete_rows_total", &labels(&event.table)).increment(event.rows);
    for (table, rows) in &event.cascaded {
        metrics::counter!("soft_delete_rows_total", &labels(table)).increment(*rows);
    }
    let own = labels(&event.table);
    metrics::counter!("soft_delete_batches_total", &own).increment(1);
    if retries > 0 {
        metrics::counter!("soft_delete_retries_total", &own).increment(u64::from(retries));
    }
    metrics::histogram!(DURATION, &own).record(elapsed.as_secs_f64());
    // A batch that changed nothing (its rows were already in the state it writes) has nothing
    // to tell a subscriber; its metrics are recorded all the same.
    let changed = event.rows > 0 || event.cascaded.iter().any(|(_, rows)| *rows > 0);
    if let (Some(events), true) = (events, changed) {
        events.send(event);
    }
}

/// Time paused between batches.
pub(crate) fn paused(kind: OperationKind, table: &str, pause: Duration) {
    metrics::histogram!(
        "soft_delete_pause_seconds",
        OPERATION => kind.as_str(),
        COLLECTION => table.to_owned()
    )
    .record(pause.as_secs_f64());
}

/// Time a throttle held one batch back.
pub(crate) fn throttled(kind: OperationKind, table: &str, held: Duration) {
    metrics::histogram!(
        "soft_delete_throttled_seconds",
        OPERATION => kind.as_str(),
        COLLECTION => table.to_owned()
    )
    .record(held.as_secs_f64());
}

/// A bulk operation's end.
pub(crate) fn ended(kind: OperationKind, table: &str, status: &'static str) {
    metrics::counter!(
        "soft_delete_operations_total",
        OPERATION => kind.as_str(),
        COLLECTION => table.to_owned(),
        "status" => status
    )
    .increment(1);
}
