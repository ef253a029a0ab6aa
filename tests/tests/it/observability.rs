//! Every metric and span the `events` module documents, seen through a metrics recorder and a
//! tracing subscriber installed by the test: names, labels and fields, counts equal to the rows
//! and batches committed, and nothing for work that was rolled back. On the backend
//! `DATABASE_URL` names.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use soft_delete_core::prelude::*;
use soft_delete_core::throttle::{Check, Throttle};
use soft_delete_tests::entities::user;
use soft_delete_tests::faulty::{FaultyDb, Injected};
use soft_delete_tests::fixtures::seed_users;
use soft_delete_tests::test_context;
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Every sample the recorder took, accumulated across its snapshots (each snapshot drains it):
/// per (name, labels), a counter's total or a histogram's samples.
#[derive(Default)]
struct Metrics {
    counters: BTreeMap<MetricId, u64>,
    histograms: BTreeMap<MetricId, Vec<f64>>,
}

/// A metric's name and its labels, sorted.
type MetricId = (String, Vec<(String, String)>);

impl Metrics {
    fn take(&mut self, snapshotter: &Snapshotter) {
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let key = key.key();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            let id = (key.name().to_owned(), labels);
            match value {
                DebugValue::Counter(count) => *self.counters.entry(id).or_default() += count,
                DebugValue::Histogram(samples) => self
                    .histograms
                    .entry(id)
                    .or_default()
                    .extend(samples.into_iter().map(|s| s.into_inner())),
                DebugValue::Gauge(_) => {}
            }
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut labels: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        labels.sort();
        labels
    }

    /// The counter with exactly these labels (0 when never incremented).
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.counters
            .get(&(name.to_owned(), Self::labels(labels)))
            .copied()
            .unwrap_or(0)
    }

    /// The samples of the histogram with exactly these labels.
    fn samples(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.histograms
            .get(&(name.to_owned(), Self::labels(labels)))
            .cloned()
            .unwrap_or_default()
    }

    /// Every metric name seen.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .counters
            .keys()
            .chain(self.histograms.keys())
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// One span as the subscriber saw it open.
#[derive(Clone, Debug)]
struct SpanSeen {
    id: u64,
    parent: Option<u64>,
    name: &'static str,
    fields: BTreeMap<String, String>,
}

/// A layer that records the spans opened on threads that asked for it ([`Spans::capture`]).
///
/// It is installed once as the global subscriber: tracing caches each callsite's interest, and
/// while only one thread-local subscriber exists a callsite first reached by another test's
/// thread is cached as uninteresting for every thread, so a `set_default` subscriber misses
/// spans when tests run in parallel.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<Vec<SpanSeen>>>);

thread_local! {
    static CAPTURING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Stops capturing on this thread when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURING.with(|c| c.set(false));
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> tracing_subscriber::Layer<S> for Spans
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !CAPTURING.with(|c| c.get()) {
            return;
        }
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let parent = ctx
            .span(id)
            .and_then(|span| span.parent())
            .map(|parent| parent.id().into_u64());
        self.0.lock().unwrap().push(SpanSeen {
            id: id.into_u64(),
            parent,
            name: attrs.metadata().name(),
            fields,
        });
    }
}

impl Spans {
    /// The global layer, installed on first use, capturing the spans this thread opens until
    /// the guard drops.
    fn capture() -> (Spans, Capturing) {
        static GLOBAL: std::sync::OnceLock<Spans> = std::sync::OnceLock::new();
        let spans = GLOBAL
            .get_or_init(|| {
                let spans = Spans::default();
                tracing::subscriber::set_global_default(
                    tracing_subscriber::registry().with(spans.clone()),
                )
                .expect("no other global subscriber in this test binary");
                spans
            })
            .clone();
        CAPTURING.with(|c| c.set(true));
        (spans, Capturing)
    }

    fn named(&self, name: &str) -> Vec<SpanSeen> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|span| span.name == name)
            .cloned()
            .collect()
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// A throttle that holds the first batch once, for 20 ms.
#[derive(Debug, Default)]
struct HoldOnce(Mutex<bool>);

impl Throttle for HoldOnce {
    fn check(&self) -> futures::future::BoxFuture<'_, Result<Check, sea_orm::DbErr>> {
        let held = std::mem::replace(&mut *self.0.lock().unwrap(), true);
        Box::pin(async move {
            Ok(match held {
                false => Check::Hold {
                    reason: "once".to_owned(),
                    recheck: Duration::from_millis(20),
                },
                true => Check::Go,
            })
        })
    }
}

#[tokio::test]
async fn metrics_and_spans_count_exactly_what_committed() {
    // This test's thread only: tokio's test runtime polls everything on it.
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _metrics = metrics::set_default_local_recorder(&recorder);
    let (spans, _capturing) = Spans::capture();
    let mut seen = Metrics::default();

    let ctx = test_context!().await;
    seed_users(&ctx, 20).await;
    let db = FaultyDb::new(ctx.db.clone());
    let soft_delete = [
        ("db.operation.name", "soft delete"),
        ("db.collection.name", "users"),
    ];

    // Batches of 4 over ids 1..=10: three batches; the first held once by the throttle, a pause
    // after each but the last, the second lost its connection once and was retried.
    db.inject(1, Injected::ConnectionLost);
    let report = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<user::Entity, _>(1..=10i64)
        .batch_size(4)
        .pause_between_batches(Duration::from_millis(2))
        .throttle(Arc::new(HoldOnce::default()))
        .await
        .unwrap();
    assert_eq!(
        (report.affected, report.batches, report.retries),
        (10, 3, 1)
    );
    seen.take(&snapshotter);
    assert_eq!(seen.counter("soft_delete_rows_total", &soft_delete), 10);
    assert_eq!(seen.counter("soft_delete_batches_total", &soft_delete), 3);
    assert_eq!(seen.counter("soft_delete_retries_total", &soft_delete), 1);
    let durations = seen.samples("db.client.operation.duration", &soft_delete);
    assert_eq!(durations.len(), 3);
    assert!(durations.iter().all(|d| *d > 0.0));
    let pauses = seen.samples("soft_delete_pause_seconds", &soft_delete);
    assert_eq!(pauses.len(), 2, "a pause after each batch but the last");
    assert!(pauses.iter().all(|p| *p >= 0.002));
    let holds = seen.samples("soft_delete_throttled_seconds", &soft_delete);
    assert_eq!(holds.len(), 1);
    assert!(holds[0] >= 0.02);
    assert_eq!(
        seen.counter(
            "soft_delete_operations_total",
            &[
                ("db.operation.name", "soft delete"),
                ("db.collection.name", "users"),
                ("status", "completed")
            ]
        ),
        1
    );

    // One operation span, and a batch span per batch inside it, with the documented fields.
    let operations = spans.named("soft_delete.bulk");
    assert_eq!(operations.len(), 1, "{operations:?}");
    let operation = &operations[0];
    assert_eq!(operation.fields["operation"], "soft delete");
    assert_eq!(operation.fields["operation_id"], report.id.to_string());
    assert_eq!(operation.fields["table"], "users");
    assert_eq!(operation.fields["atomic"], "false");
    let batches = spans.named("soft_delete.batch");
    assert_eq!(
        batches
            .iter()
            .map(|b| b.fields["batch"].clone())
            .collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    for batch in &batches {
        assert_eq!(batch.parent, Some(operation.id));
        assert_eq!(batch.fields["operation_id"], report.id.to_string());
        assert_eq!(batch.fields["table"], "users");
    }
    spans.clear();

    // A batch that fails is rolled back: nothing of it is counted, and the operation ends
    // failed. Batch 1 (ids 11, 12) commits; batch 2 fails for good.
    db.inject(1, Injected::StatementError);
    let error = SoftDeleteManager::new(&db)
        .bulk_soft_delete::<user::Entity, _>(11..=16i64)
        .batch_size(2)
        .await
        .expect_err("batch 2 fails");
    assert_eq!(error.partial_count(), Some(2));
    seen.take(&snapshotter);
    assert_eq!(seen.counter("soft_delete_rows_total", &soft_delete), 12);
    assert_eq!(seen.counter("soft_delete_batches_total", &soft_delete), 4);
    assert_eq!(seen.counter("soft_delete_retries_total", &soft_delete), 1);
    assert_eq!(
        seen.samples("db.client.operation.duration", &soft_delete)
            .len(),
        4
    );
    assert_eq!(
        seen.counter(
            "soft_delete_operations_total",
            &[
                ("db.operation.name", "soft delete"),
                ("db.collection.name", "users"),
                ("status", "failed")
            ]
        ),
        1
    );

    // The failed operation's spans: its batches, the failed one too.
    assert_eq!(spans.named("soft_delete.bulk").len(), 1);
    assert_eq!(spans.named("soft_delete.batch").len(), 2);
    spans.clear();

    // A one-record operation is an operation of one batch, with its spans; a restore is
    // counted under its own kind.
    assert_eq!(user::Entity::restore_by_id(&ctx.db, 1i64).await.unwrap(), 1);
    seen.take(&snapshotter);
    let restore = [
        ("db.operation.name", "restore"),
        ("db.collection.name", "users"),
    ];
    assert_eq!(seen.counter("soft_delete_rows_total", &restore), 1);
    assert_eq!(seen.counter("soft_delete_batches_total", &restore), 1);
    assert_eq!(
        seen.counter(
            "soft_delete_operations_total",
            &[
                ("db.operation.name", "restore"),
                ("db.collection.name", "users"),
                ("status", "completed")
            ]
        ),
        1
    );
    assert_eq!(spans.named("soft_delete.bulk").len(), 1);
    assert_eq!(spans.named("soft_delete.batch").len(), 1);

    // Every metric the documentation names was seen, and no other.
    assert_eq!(
        seen.names(),
        [
            "db.client.operation.duration",
            "soft_delete_batches_total",
            "soft_delete_operations_total",
            "soft_delete_pause_seconds",
            "soft_delete_retries_total",
            "soft_delete_rows_total",
            "soft_delete_throttled_seconds",
        ]
    );
}
