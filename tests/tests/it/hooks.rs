//! Lifecycle hooks, after-commit events and metrics, on the backend `DATABASE_URL` names:
//! `members` (hooks with keys in bulk; see `entities::member`) and `sealed_notes` (per-record
//! hooks in bulk too).

use std::sync::Arc;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Schema, Set,
    TransactionTrait,
};
use soft_delete_core::events::{Event, Events};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::member::{self, COMMITS, POISON, ROLLS_BACK, RUNS_DDL, SWALLOW};
use soft_delete_tests::entities::{hook_audit, sealed};
use soft_delete_tests::{TestContext, test_context};

/// `members` 1..=`count` (member 3 protected, member 4 named `banned`), `sealed_notes`
/// 1..=`count` (note 5 sealed) and an empty `hook_audit`.
async fn seed(ctx: &TestContext, count: i64) {
    ctx.create_table::<member::Entity>().await;
    ctx.create_table::<sealed::Entity>().await;
    ctx.db
        .execute(&Schema::new(ctx.backend).create_table_from_entity(hook_audit::Entity))
        .await
        .expect("create hook_audit");
    member::Entity::insert_many((1..=count).map(|id| member::ActiveModel {
        id: Set(id),
        name: Set(if id == 4 { "banned" } else { "member" }.to_owned()),
        protected: Set(id == 3),
        ..Default::default()
    }))
    .exec_without_returning(&ctx.db)
    .await
    .expect("members");
    sealed::Entity::insert_many((1..=count).map(|id| sealed::ActiveModel {
        id: Set(id),
        sealed: Set(id == 5),
        ..Default::default()
    }))
    .exec_without_returning(&ctx.db)
    .await
    .expect("sealed notes");
}

/// The audit rows: (hook, table, row id, kind), in the order written.
async fn audit(ctx: &TestContext) -> Vec<(String, String, i64, String)> {
    hook_audit::Entity::find()
        .order_by_asc(hook_audit::Column::Id)
        .all(&ctx.db)
        .await
        .expect("read hook_audit")
        .into_iter()
        .map(|row| (row.hook, row.table_name, row.row_id, row.kind))
        .collect()
}

async fn deleted_members(ctx: &TestContext) -> Vec<i64> {
    member::Entity::find_deleted()
        .order_by_asc(member::Column::Id)
        .all(&ctx.db)
        .await
        .expect("read members")
        .into_iter()
        .map(|row| row.id)
        .collect()
}

fn entry(hook: &str, table: &str, id: i64, kind: &str) -> (String, String, i64, String) {
    (hook.to_owned(), table.to_owned(), id, kind.to_owned())
}

#[tokio::test]
async fn a_before_hook_vetoes_a_one_record_change_and_the_row_stays_as_it_was() {
    let ctx = test_context!().await;
    seed(&ctx, 6).await;
    let error = member::Entity::soft_delete_by_id(&ctx.db, 3i64)
        .deleted_by("admin")
        .await
        .expect_err("member 3 is protected");
    match &error {
        Error::Vetoed {
            hook,
            table,
            source,
        } => {
            assert_eq!(*hook, "before_soft_delete");
            assert_eq!(table, "members");
            assert_eq!(source.to_string(), "member 3 is protected");
        }
        other => panic!("expected a veto, got {other:?}"),
    }
    assert!(
        deleted_members(&ctx).await.is_empty(),
        "a vetoed row changed"
    );
    assert!(audit(&ctx).await.is_empty(), "a vetoed change was audited");

    // A change the hooks allow runs them around it, in its transaction.
    let changed = member::Entity::soft_delete_by_id(&ctx.db, 4i64)
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let error = member::Entity::restore_by_id(&ctx.db, 4i64)
        .await
        .expect_err("banned members stay deleted");
    assert!(
        matches!(
            error,
            Error::Vetoed {
                hook: "before_restore",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(deleted_members(&ctx).await, vec![4]);
    member::Entity::soft_delete_by_id(&ctx.db, 2i64)
        .await
        .unwrap();
    assert_eq!(
        member::Entity::restore_by_id(&ctx.db, 2i64).await.unwrap(),
        1
    );
    assert_eq!(
        member::Entity::force_delete_by_id(&ctx.db, 6i64)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        audit(&ctx).await,
        vec![
            entry("after_soft_delete", "members", 4, "soft delete"),
            entry("after_soft_delete", "members", 2, "soft delete"),
            entry("after_restore", "members", 2, "restore"),
            entry("after_force_delete", "members", 6, "purge"),
        ]
    );
    // No hook runs for a row the change does not apply to.
    assert_eq!(
        member::Entity::soft_delete_by_id(&ctx.db, 4i64)
            .await
            .unwrap(),
        0
    );
    assert_eq!(audit(&ctx).await.len(), 4);
}

#[tokio::test]
async fn batch_hooks_write_in_the_batch_and_a_failing_batch_leaves_none_of_its_writes() {
    let ctx = test_context!().await;
    seed(&ctx, 12).await;
    let events = Events::new(64);
    let mut received = events.subscribe();
    let config = SoftDeleteConfig {
        events: Some(events.clone()),
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&ctx.db, config);

    // Batches of 3: [1, 2, 3], [4, 5, 6], [7, 8, 9] fails in `after_batch` (member 7).
    let error = manager
        .bulk_soft_delete::<member::Entity, _>(1..=12i64)
        .deleted_by("ops")
        .batch_size(3)
        .await
        .expect_err("the batch with member 7 fails");
    assert_eq!(error.partial_count(), Some(6), "{error}");
    let Error::Bulk {
        failed_batch,
        source,
        ..
    } = &error
    else {
        panic!("expected a bulk error, got {error:?}");
    };
    assert_eq!(*failed_batch, 3);
    assert!(
        matches!(
            **source,
            Error::Hook {
                hook: "after_batch",
                ..
            }
        ),
        "{source:?}"
    );
    // The bulk path does not run per-record hooks for `members`, so the protected member 3 is
    // deleted too: `BulkHooks::Keys` hands the batch's keys to `after_batch` only.
    assert_eq!(deleted_members(&ctx).await, vec![1, 2, 3, 4, 5, 6]);
    let audited = audit(&ctx).await;
    assert_eq!(
        audited,
        (1..=6)
            .map(|id| entry("after_batch", "members", id, "soft delete"))
            .collect::<Vec<_>>(),
        "the failed batch's audit rows must be rolled back with it"
    );

    // One event per committed batch, none for the one rolled back.
    let mut delivered: Vec<Arc<Event>> = Vec::new();
    while let Ok(event) = received.try_recv() {
        delivered.push(event);
    }
    assert_eq!(
        delivered
            .iter()
            .map(|e| (e.batch, e.rows))
            .collect::<Vec<_>>(),
        vec![(1, 3), (2, 3)]
    );
    for event in &delivered {
        assert_eq!(event.kind, OperationKind::SoftDelete);
        assert_eq!(event.table, "members");
        assert_eq!(event.actor.as_deref(), Some("ops"));
    }
    assert_eq!(
        delivered.iter().map(|e| e.rows).sum::<u64>(),
        error.partial_count().unwrap()
    );

    // Keys only for rows the batch changed: a restore of 1..=12 changes 1..=6, and
    // `after_batch` sees those (member 4's restore is not vetoed in bulk: no per-record hooks).
    let report = manager
        .bulk_restore::<member::Entity, _>(1..=12i64)
        .batch_size(100)
        .await
        .unwrap();
    assert_eq!(report.affected, 6);
    let restored: Vec<i64> = audit(&ctx)
        .await
        .into_iter()
        .filter(|(_, _, _, kind)| kind == "restore")
        .map(|(_, _, id, _)| id)
        .collect();
    assert_eq!(restored, vec![1, 2, 3, 4, 5, 6]);
    let event = received.try_recv().expect("the restore's event");
    assert_eq!(
        (event.kind, event.rows, event.operation),
        (OperationKind::Restore, 6, report.id)
    );
    assert!(received.try_recv().is_err(), "one batch, one event");

    // An atomic operation that fails keeps nothing and announces nothing.
    let audited = audit(&ctx).await.len();
    let error = manager
        .bulk_soft_delete::<member::Entity, _>(1..=12i64)
        .batch_size(3)
        .atomic()
        .await
        .expect_err("the batch with member 7 fails");
    assert_eq!(error.partial_count(), Some(0));
    assert!(deleted_members(&ctx).await.is_empty());
    assert_eq!(audit(&ctx).await.len(), audited);
    assert!(
        received.try_recv().is_err(),
        "an event of a rolled-back operation"
    );
    // One that commits announces its batches after its COMMIT.
    manager
        .bulk_soft_delete::<member::Entity, _>(1..=6i64)
        .batch_size(3)
        .atomic()
        .await
        .unwrap();
    let batches: Vec<u64> = std::iter::from_fn(|| received.try_recv().ok())
        .map(|event| event.rows)
        .collect();
    assert_eq!(batches, vec![3, 3]);

    // One-record operations through the manager announce their row.
    manager
        .soft_delete_by_id::<member::Entity, _>(8i64)
        .await
        .unwrap();
    let event = received.try_recv().expect("the one-record event");
    assert_eq!((event.batch, event.rows), (1, 1));
    assert_eq!(
        event.keys,
        vec![sea_orm::sea_query::ValueTuple::One(8i64.into())]
    );
}

#[tokio::test]
async fn batch_hooks_run_for_operations_by_condition_and_purges() {
    let ctx = test_context!().await;
    seed(&ctx, 6).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let report = manager
        .bulk_soft_delete_where::<member::Entity>(member::Column::Id.lte(5))
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!(report.affected, 5);
    let report = manager
        .hard_delete_before::<member::Entity>(chrono::Utc::now() + chrono::Duration::seconds(1))
        .filter(member::Column::Id.lte(2))
        .batch_size(10)
        .await
        .unwrap();
    assert_eq!(report.affected, 2);
    let mut audited = audit(&ctx).await;
    audited.sort();
    let mut expected: Vec<_> = (1..=5)
        .map(|id| entry("after_batch", "members", id, "soft delete"))
        .chain((1..=2).map(|id| entry("after_batch", "members", id, "purge")))
        .collect();
    expected.sort();
    assert_eq!(audited, expected);
}

#[tokio::test]
async fn per_record_hooks_in_bulk_veto_their_batch_and_see_every_row() {
    let ctx = test_context!().await;
    seed(&ctx, 8).await;
    // Batches of 2: [1, 2], [3, 4], [5, 6] is vetoed by the sealed note 5.
    let error = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<sealed::Entity, _>(1..=8i64)
        .batch_size(2)
        .await
        .expect_err("note 5 is sealed");
    assert_eq!(error.partial_count(), Some(4), "{error}");
    let Error::Bulk { source, .. } = &error else {
        panic!("expected a bulk error, got {error:?}");
    };
    assert!(
        matches!(
            **source,
            Error::Vetoed {
                hook: "before_soft_delete",
                ..
            }
        ),
        "{source:?}"
    );
    let deleted: Vec<i64> = sealed::Entity::find_deleted()
        .order_by_asc(sealed::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|note| note.id)
        .collect();
    assert_eq!(deleted, vec![1, 2, 3, 4]);
    let expected: Vec<_> = [[1, 2], [3, 4]]
        .iter()
        .flat_map(|batch| {
            batch
                .iter()
                .map(|&id| entry("after_soft_delete", "sealed_notes", id, "soft delete"))
                .chain(
                    batch
                        .iter()
                        .map(|&id| entry("after_batch", "sealed_notes", id, "soft delete")),
                )
                .collect::<Vec<_>>()
        })
        .collect();
    // Rows come back in no promised order: compare as sets.
    let mut audited = audit(&ctx).await;
    audited.sort();
    let mut expected = expected;
    expected.sort();
    assert_eq!(audited, expected);
}

/// Counter totals so far: the recorder's snapshots drain it, so they are added up here.
#[derive(Default)]
struct Counters(Vec<(String, Labels, u64)>);

/// A metric's labels, as (key, value) pairs.
type Labels = Vec<(String, String)>;

impl Counters {
    fn get(&mut self, snapshotter: &Snapshotter, name: &str, labels: &[(&str, &str)]) -> u64 {
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let DebugValue::Counter(count) = value else {
                continue;
            };
            let key = key.key();
            let key_labels: Labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            match self
                .0
                .iter_mut()
                .find(|(n, l, _)| n == key.name() && *l == key_labels)
            {
                Some((_, _, total)) => *total += count,
                None => self.0.push((key.name().to_owned(), key_labels, count)),
            }
        }
        self.0
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, total)| total)
            .sum()
    }
}

#[tokio::test]
async fn metrics_count_exactly_the_committed_rows_and_batches() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // This test's thread only (tokio's test runtime polls everything here).
    let _guard = metrics::set_default_local_recorder(&recorder);
    let mut counters = Counters::default();
    let ctx = test_context!().await;
    seed(&ctx, 12).await;
    let error = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<member::Entity, _>(1..=12i64)
        .batch_size(4)
        .await
        .expect_err("the batch with member 7 fails");
    assert_eq!(error.partial_count(), Some(4));
    let labels = [
        ("db.operation.name", "soft delete"),
        ("db.collection.name", "members"),
    ];
    assert_eq!(
        counters.get(&snapshotter, "soft_delete_rows_total", &labels),
        4
    );
    assert_eq!(
        counters.get(&snapshotter, "soft_delete_batches_total", &labels),
        1
    );
    assert_eq!(
        counters.get(
            &snapshotter,
            "soft_delete_operations_total",
            &[("db.collection.name", "members"), ("status", "failed")]
        ),
        1
    );
    let report = SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<member::Entity, _>((8..=12i64).chain([5, 6]))
        .batch_size(4)
        .await
        .unwrap();
    assert_eq!(report.affected, 7);
    assert_eq!(
        counters.get(&snapshotter, "soft_delete_rows_total", &labels),
        11
    );
    assert_eq!(
        counters.get(&snapshotter, "soft_delete_batches_total", &labels),
        3
    );
    // One-record operations count too.
    member::Entity::soft_delete_by_id(&ctx.db, POISON)
        .await
        .unwrap();
    assert_eq!(
        counters.get(&snapshotter, "soft_delete_rows_total", &labels),
        12
    );
    assert_eq!(
        counters.get(
            &snapshotter,
            "soft_delete_rows_total",
            &[("db.operation.name", "soft delete")]
        ),
        member::Entity::find_deleted()
            .filter(member::Column::Id.lte(12))
            .all(&ctx.db)
            .await
            .unwrap()
            .len() as u64
    );
}

#[tokio::test]
async fn batch_hooks_see_each_changed_key_once_and_never_a_swallowed_error() {
    let ctx = test_context!().await;
    seed(&ctx, 14).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    // Batches [1, 2], [3, 1], [5, 5], [6]: member 1 changes in the first batch only, and
    // member 5 once although named twice.
    let report = manager
        .bulk_soft_delete::<member::Entity, _>([1i64, 2, 3, 1, 5, 5, 6])
        .batch_size(2)
        .await
        .unwrap();
    assert_eq!(report.affected, 5);
    let mut seen: Vec<i64> = audit(&ctx).await.into_iter().map(|row| row.2).collect();
    seen.sort();
    assert_eq!(seen, vec![1, 2, 3, 5, 6]);

    // A hook that swallows the error of its own statement fails its batch: the transaction
    // cannot be trusted (PostgreSQL refuses to commit it after any error).
    let error = manager
        .bulk_soft_delete::<member::Entity, _>([9i64, 10, SWALLOW, 14])
        .batch_size(2)
        .await
        .expect_err("the hook's statement failed");
    assert_eq!(error.partial_count(), Some(2), "{error}");
    let Error::Bulk { source, .. } = &error else {
        panic!("expected a bulk error, got {error:?}");
    };
    assert!(
        matches!(
            **source,
            Error::Hook {
                hook: "after_batch",
                ..
            }
        ),
        "{source:?}"
    );
    let deleted = deleted_members(&ctx).await;
    assert_eq!(deleted, vec![1, 2, 3, 5, 6, 9, 10]);
}

#[tokio::test]
async fn no_event_is_sent_for_work_inside_the_callers_transaction() {
    let ctx = test_context!().await;
    seed(&ctx, 6).await;
    let events = Events::new(16);
    let mut received = events.subscribe();
    let config = SoftDeleteConfig {
        events: Some(events.clone()),
        ..SoftDeleteConfig::default()
    };
    let txn = ctx.db.begin().await.unwrap();
    let manager = SoftDeleteManager::with_config(&txn, config);
    manager
        .bulk_soft_delete::<member::Entity, _>(1..=4i64)
        .batch_size(2)
        .await
        .unwrap();
    manager
        .soft_delete_by_id::<member::Entity, _>(5i64)
        .await
        .unwrap();
    drop(manager);
    txn.rollback().await.unwrap();
    assert!(deleted_members(&ctx).await.is_empty());
    assert!(
        received.try_recv().is_err(),
        "an event for work the caller rolled back"
    );
}

/// The configuration with the operation log on, and its table created.
async fn logged(ctx: &TestContext) -> SoftDeleteConfig {
    use soft_delete_core::operation_log::{self, DEFAULT_TABLE};
    ctx.db
        .execute(&operation_log::create_table(ctx.backend, DEFAULT_TABLE))
        .await
        .expect("create the log");
    SoftDeleteConfig {
        operation_log: Some(DEFAULT_TABLE.to_owned()),
        ..SoftDeleteConfig::default()
    }
}

/// The source of a failed bulk operation, with its partial count.
fn bulk_source(error: &Error) -> (&Error, u64) {
    match error {
        Error::Bulk {
            source,
            partial_count,
            ..
        } => (source, *partial_count),
        other => panic!("expected a bulk error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hook_that_commits_stops_the_operation_and_its_rows_are_counted_committed() {
    let ctx = test_context!().await;
    seed(&ctx, 30).await;
    let manager = SoftDeleteManager::with_config(&ctx.db, logged(&ctx).await);
    // Batch 1 commits; batch 2's `after_batch` commits the transaction itself, then fails.
    let error = manager
        .bulk_soft_delete::<member::Entity, _>([1i64, 2, COMMITS, 18, 20, 21])
        .batch_size(2)
        .await
        .expect_err("the hook ended its batch's transaction");
    let (source, partial) = bulk_source(&error);
    assert!(
        matches!(
            source,
            Error::TransactionEnded {
                hook: "after_batch",
                rows: 2,
                committed: Some(true),
                ..
            }
        ),
        "{source:?}"
    );
    // The rows that stay changed are counted: never 0 for them.
    assert_eq!(partial, 4, "{error}");
    assert_eq!(error.uncertain_count(), 0);
    assert_eq!(deleted_members(&ctx).await, vec![1, 2, COMMITS, 18]);
    // The log agrees with the data.
    let logged = manager.operations().await.unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].status, OperationStatus::Failed);
    assert_eq!(logged[0].rows_changed(), 4);

    // A per-record hook of a one-record operation, the same. (A restore's batch hook would
    // commit too: the member is made live again by hand.)
    let live = member::Entity::update_many()
        .col_expr(
            member::Column::DeletedAt,
            sea_orm::sea_query::Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(member::Column::Id.eq(COMMITS))
        .exec(&ctx.db)
        .await
        .unwrap();
    assert_eq!(live.rows_affected, 1);
    let error = manager
        .soft_delete_by_id::<member::Entity, _>(COMMITS)
        .await
        .expect_err("after_soft_delete ended the transaction");
    assert!(
        matches!(
            error,
            Error::TransactionEnded {
                hook: "after_soft_delete",
                rows: 1,
                committed: Some(true),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(deleted_members(&ctx).await, vec![1, 2, COMMITS, 18]);
}

#[tokio::test]
async fn a_hook_that_rolls_back_stops_the_operation_and_nothing_of_its_batch_is_counted() {
    let ctx = test_context!().await;
    seed(&ctx, 30).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let error = manager
        .bulk_soft_delete::<member::Entity, _>([1i64, 2, ROLLS_BACK, 20, 21, 22])
        .batch_size(2)
        .await
        .expect_err("the hook ended its batch's transaction");
    let (source, partial) = bulk_source(&error);
    assert!(
        matches!(
            source,
            Error::TransactionEnded {
                rows: 2,
                committed: Some(false),
                ..
            }
        ),
        "{source:?}"
    );
    assert_eq!(partial, 2, "{error}");
    assert_eq!(deleted_members(&ctx).await, vec![1, 2]);
    // Nothing was sent after the hook: the next batch never ran.
    assert!(
        audit(&ctx)
            .await
            .iter()
            .all(|(_, _, id, _)| ![21, 22].contains(id))
    );
}

#[tokio::test]
async fn a_hook_that_runs_ddl_ends_the_transaction_on_mysql_only() {
    let ctx = test_context!().await;
    seed(&ctx, 30).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let result = manager
        .bulk_soft_delete::<member::Entity, _>([1i64, 2, RUNS_DDL, 24, 25, 26])
        .batch_size(2)
        .await;
    match ctx.backend {
        // DDL commits implicitly there: the batch's rows are committed and counted.
        sea_orm::DbBackend::MySql => {
            let error = result.expect_err("the DDL ended the batch's transaction");
            let (source, partial) = bulk_source(&error);
            assert!(
                matches!(
                    source,
                    Error::TransactionEnded {
                        rows: 2,
                        committed: Some(true),
                        ..
                    }
                ),
                "{source:?}"
            );
            assert_eq!(partial, 4);
            assert_eq!(deleted_members(&ctx).await, vec![1, 2, RUNS_DDL, 24]);
        }
        // Transactional DDL: the batch commits with it, and the operation goes on.
        _ => {
            assert_eq!(result.expect("DDL stays in the transaction").affected, 6);
            assert_eq!(
                deleted_members(&ctx).await,
                vec![1, 2, RUNS_DDL, 24, 25, 26]
            );
        }
    }
}

#[tokio::test]
async fn a_quiet_operation_runs_no_hook_sends_no_event_and_is_logged_quiet() {
    use soft_delete_core::operation_log::{self, DEFAULT_TABLE};

    let ctx = test_context!().await;
    seed(&ctx, 12).await;
    ctx.db
        .execute(&operation_log::create_table(ctx.backend, DEFAULT_TABLE))
        .await
        .expect("create the log");
    let events = Events::new(64);
    let mut received = events.subscribe();
    let config = SoftDeleteConfig {
        events: Some(events.clone()),
        operation_log: Some(DEFAULT_TABLE.to_owned()),
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&ctx.db, config.clone());

    // Member 3 is protected by `before_soft_delete`: quietly, no hook refuses it.
    let one = member::Entity::soft_delete_by_id(&ctx.db, 3i64)
        .with_config(&config)
        .quietly();
    let one_op = one.operation_id();
    assert_eq!(one.await.unwrap(), 1);
    // Member 7 poisons its batch in `after_batch`: quietly, the batch commits.
    let bulk = manager
        .bulk_soft_delete::<member::Entity, _>(5..=8i64)
        .quietly()
        .await
        .unwrap();
    assert_eq!(bulk.affected, 4);
    // A quiet restore and force delete, through the service's and the model's entry points.
    assert_eq!(
        member::Entity::restore_by_id(&ctx.db, 5i64)
            .with_config(&config)
            .quietly()
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        member::Entity::force_delete_by_id(&ctx.db, 6i64)
            .with_config(&config)
            .quietly()
            .await
            .unwrap(),
        1
    );
    // And the service's one-record entry point.
    let service = BaseService::<member::Entity, _>::with_config(&ctx.db, config.clone());
    let through_service = service.soft_delete(10i64).quietly();
    let service_op = through_service.operation_id();
    assert!(through_service.await.unwrap());
    assert_eq!(audit(&ctx).await, [], "no hook ran");
    assert!(received.try_recv().is_err(), "no event was sent");
    assert_eq!(deleted_members(&ctx).await, vec![3, 7, 8, 10]);
    let by_service = manager
        .operation(service_op)
        .await
        .unwrap()
        .expect("logged");
    assert!(
        by_service.quiet && by_service.rows_changed() == 1,
        "{by_service:?}"
    );

    // The log says which operations were quiet.
    let quiet = manager.operation(one_op).await.unwrap().expect("logged");
    assert!(quiet.quiet && quiet.rows_changed() == 1, "{quiet:?}");
    let bulk_record = manager.operation(bulk.id).await.unwrap().expect("logged");
    assert!(bulk_record.quiet, "{bulk_record:?}");

    // The same operation, not quiet: the hooks run and an event is sent.
    let loud = member::Entity::soft_delete_by_id(&ctx.db, 9i64).with_config(&config);
    let loud_op = loud.operation_id();
    assert_eq!(loud.await.unwrap(), 1);
    assert_eq!(audit(&ctx).await.len(), 1, "after_soft_delete ran");
    assert!(received.try_recv().is_ok(), "an event was sent");
    let record = manager.operation(loud_op).await.unwrap().expect("logged");
    assert!(!record.quiet, "{record:?}");
}
