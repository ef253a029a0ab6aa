//! `BaseService` and custom services on the backend `DATABASE_URL` names.

use chrono::Utc;
use futures::StreamExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use soft_delete_core::RowState;
use soft_delete_core::prelude::*;
use soft_delete_core::service::ServiceStatistics;
use soft_delete_tests::entities::{audited, document, user};
use soft_delete_tests::fixtures::seed_users;
use soft_delete_tests::{TestContext, test_context};

fn note(body: impl Into<String>) -> audited::ActiveModel {
    audited::ActiveModel {
        body: Set(body.into()),
        ..Default::default()
    }
}

async fn notes_table(ctx: &TestContext) -> BaseService<'_, audited::Entity, DatabaseConnection> {
    ctx.create_table::<audited::Entity>().await;
    BaseService::new(&ctx.db)
}

#[tokio::test]
async fn bulk_create_returns_models_in_input_order_with_audit_columns() {
    let ctx = test_context!().await;
    let notes = notes_table(&ctx).await;
    let before = Utc::now() - chrono::Duration::seconds(1);
    let bodies: Vec<String> = (0..2500)
        .map(|i| format!("note {:04}", (i * 7919) % 2500))
        .collect();
    let created = notes
        .bulk_create(bodies.iter().map(note))
        .created_by("importer")
        .batch_size(1000)
        .await
        .expect("bulk create");
    assert_eq!(created.len(), 2500);
    let got: Vec<&str> = created.iter().map(|n| n.body.as_str()).collect();
    let want: Vec<&str> = bodies.iter().map(String::as_str).collect();
    assert_eq!(got, want, "models come back in input order");
    assert!(
        created.windows(2).all(|w| w[0].id < w[1].id),
        "keys allocated in input order"
    );
    assert!(
        created
            .iter()
            .all(|n| n.created_by.as_deref() == Some("importer"))
    );
    assert!(
        created
            .iter()
            .all(|n| n.created_at.is_some_and(|t| t > before))
    );
    assert!(
        created
            .iter()
            .all(|n| n.updated_at.is_none() && n.deleted_at.is_none())
    );
    // What came back is what is stored.
    let stored = audited::Entity::find_by_id(created[1234].id)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, created[1234]);
    assert_eq!(notes.count().await.unwrap(), 2500);
}

#[tokio::test]
async fn bulk_create_with_given_keys_keeps_input_order() {
    let ctx = test_context!().await;
    ctx.create_table::<document::Entity>().await;
    let documents = BaseService::<document::Entity, _>::new(&ctx.db);
    let ids: Vec<uuid::Uuid> = (0..300).map(|_| uuid::Uuid::new_v4()).collect();
    let rows = ids.iter().enumerate().map(|(i, id)| document::ActiveModel {
        id: Set(*id),
        title: Set(format!("doc {i}")),
        ..Default::default()
    });
    let created = documents.bulk_create(rows).batch_size(128).await.unwrap();
    assert_eq!(created.iter().map(|d| d.id).collect::<Vec<_>>(), ids);
    assert!(
        created
            .iter()
            .enumerate()
            .all(|(i, d)| d.title == format!("doc {i}"))
    );

    // Explicit integer keys out of order, too.
    ctx.create_table::<user::Entity>().await;
    let users = BaseService::<user::Entity, _>::new(&ctx.db);
    let keys = [50i64, 3, 999, 7, 12];
    let rows = keys.iter().map(|&id| user::ActiveModel {
        id: Set(id),
        name: Set(format!("n{id}")),
        email: Set(format!("e{id}")),
        ..Default::default()
    });
    let created = users.bulk_create(rows).batch_size(2).await.unwrap();
    assert_eq!(created.iter().map(|u| u.id).collect::<Vec<_>>(), keys);
}

#[tokio::test]
async fn bulk_create_splits_statements_below_the_bind_limit() {
    let ctx = test_context!().await;
    let notes = notes_table(&ctx).await;
    // One batch of 20 000 rows × 8 columns: far more binds than SQLite takes in one statement.
    let created = notes
        .bulk_create((0..20_000).map(|i| note(format!("n{i}"))))
        .batch_size(100_000)
        .await
        .unwrap();
    assert_eq!(created.len(), 20_000);
    assert_eq!(created[19_999].body, "n19999");
    let report = notes
        .bulk_insert_stream(futures::stream::iter(
            (0..20_000).map(|i| note(format!("m{i}"))),
        ))
        .batch_size(100_000)
        .await
        .unwrap();
    assert_eq!((report.affected, report.batches), (20_000, 1));
}

#[tokio::test]
async fn empty_input_returns_empty_and_sends_nothing() {
    let ctx = test_context!().await;
    ctx.create_table::<audited::Entity>().await;
    let db = ctx.db.clone();
    db.clone().close().await.unwrap();
    let notes = BaseService::<audited::Entity, _>::new(&db);
    let created = notes.bulk_create(Vec::new()).created_by("x").await.unwrap();
    assert!(created.is_empty());
    let report = notes
        .bulk_insert_stream(futures::stream::empty())
        .atomic()
        .await
        .unwrap();
    assert_eq!((report.affected, report.batches), (0, 0));
    assert!(
        notes.bulk_create(vec![note("one")]).await.is_err(),
        "a real insert reaches the closed pool"
    );
}

#[tokio::test]
async fn a_constraint_violation_in_batch_k_keeps_earlier_batches() {
    let ctx = test_context!().await;
    let notes = notes_table(&ctx).await;
    ctx.exec("CREATE UNIQUE INDEX ux_audited_notes_body ON audited_notes (body)")
        .await;
    // Batches of 100; row 250 (batch 3) repeats row 10.
    let bodies: Vec<String> = (0..400)
        .map(|i| {
            if i == 250 {
                "b10".to_owned()
            } else {
                format!("b{i}")
            }
        })
        .collect();
    let error = notes
        .bulk_create(bodies.iter().map(note))
        .batch_size(100)
        .await
        .unwrap_err();
    assert_eq!(error.partial_count(), Some(200));
    assert!(
        matches!(
            error,
            Error::Bulk {
                failed_batch: 3,
                operation: OperationKind::Create,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(notes.count().await.unwrap(), 200);

    audited::Entity::delete_many().exec(&ctx.db).await.unwrap();
    let error = notes
        .bulk_create(bodies.iter().map(note))
        .batch_size(100)
        .atomic()
        .await
        .unwrap_err();
    assert_eq!(error.partial_count(), Some(0));
    assert_eq!(notes.count().await.unwrap(), 0, "atomic: nothing kept");
}

#[tokio::test]
async fn reads_see_active_rows_unless_asked() {
    let ctx = test_context!().await;
    seed_users(&ctx, 25).await;
    let users = BaseService::<user::Entity, _>::new(&ctx.db);
    for id in [2i64, 5, 11] {
        assert!(users.soft_delete(id).await.unwrap());
    }
    assert!(users.get(1).await.unwrap().is_some());
    assert!(users.get(2).await.unwrap().is_none());
    assert_eq!(users.get_deleted(2).await.unwrap().map(|u| u.id), Some(2));
    assert!(users.get_deleted(1).await.unwrap().is_none());
    assert_eq!(
        users.get_with_deleted(2).await.unwrap().map(|u| u.id),
        Some(2)
    );
    assert!(users.get(404).await.unwrap().is_none());
    assert_eq!(users.count().await.unwrap(), 22);

    let mut seen = Vec::new();
    for page in 0.. {
        let rows = users.list(page, 5).await.unwrap();
        if rows.is_empty() {
            break;
        }
        assert!(rows.len() <= 5);
        seen.extend(rows.into_iter().map(|u| u.id));
    }
    let expected: Vec<i64> = (1..=25).filter(|id| ![2, 5, 11].contains(id)).collect();
    assert_eq!(
        seen, expected,
        "pages cover the active rows once, in key order"
    );
    assert!(matches!(
        users.list(0, 0).await.unwrap_err(),
        Error::InvalidArgument {
            name: "per_page",
            ..
        }
    ));
}

#[tokio::test]
async fn create_and_update_stamp_the_audit_columns() {
    let ctx = test_context!().await;
    let notes = notes_table(&ctx).await;
    let created = notes.create(note("draft")).created_by("ann").await.unwrap();
    assert_eq!(created.created_by.as_deref(), Some("ann"));
    assert!(created.created_at.is_some());
    assert!(created.updated_at.is_none());

    let mut change: audited::ActiveModel = created.clone().into();
    change.body = Set("final".into());
    let updated = notes.update(change).updated_by("bob").await.unwrap();
    assert_eq!(updated.body, "final");
    assert_eq!(updated.updated_by.as_deref(), Some("bob"));
    assert!(updated.updated_at >= created.created_at);
    assert_eq!(
        updated.created_by.as_deref(),
        Some("ann"),
        "created_* untouched"
    );

    // A soft-deleted row is refused, unless asked.
    assert!(
        notes
            .soft_delete(created.id)
            .deleted_by("mod")
            .await
            .unwrap()
    );
    let mut change: audited::ActiveModel = updated.clone().into();
    change.body = Set("edited after delete".into());
    let refused = notes.update(change.clone()).await.unwrap_err();
    assert!(
        matches!(
            refused,
            Error::NotFound {
                state: RowState::Active,
                ..
            }
        ),
        "{refused:?}"
    );
    let stored = notes.get_deleted(created.id).await.unwrap().unwrap();
    assert_eq!(stored.body, "final", "nothing written");
    let forced = notes.update(change).include_deleted().await.unwrap();
    assert_eq!(forced.body, "edited after delete");
    assert!(forced.deleted_at.is_some());

    let missing = notes
        .update(audited::ActiveModel {
            id: sea_orm::Unchanged(424_242),
            body: Set("x".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
}

#[tokio::test]
async fn one_record_writes_say_what_happened() {
    let ctx = test_context!().await;
    seed_users(&ctx, 3).await;
    let strict = SoftDeleteConfig {
        require_deleted_by: true,
        ..SoftDeleteConfig::default()
    };
    let users = BaseService::<user::Entity, _>::with_config(&ctx.db, strict);
    let refused = users.soft_delete(1).await.unwrap_err();
    assert!(matches!(
        refused,
        Error::MissingRequired {
            field: "deleted_by",
            ..
        }
    ));
    assert!(users.get(1).await.unwrap().is_some(), "nothing written");

    assert!(
        users
            .soft_delete(1)
            .deleted_by("admin")
            .reason("spam")
            .await
            .unwrap()
    );
    assert!(
        !users.soft_delete(1).deleted_by("admin").await.unwrap(),
        "already deleted"
    );
    let missing = users.soft_delete(99).deleted_by("admin").await.unwrap_err();
    assert!(
        matches!(missing, Error::NotFound { ref key, .. } if key == "99"),
        "{missing:?}"
    );

    assert!(users.restore(1).await.unwrap());
    assert!(!users.restore(1).await.unwrap(), "already active");
    assert!(matches!(
        users.restore(99).await.unwrap_err(),
        Error::NotFound { .. }
    ));

    users.hard_delete(2).await.unwrap();
    assert!(users.get_with_deleted(2).await.unwrap().is_none());
    assert!(matches!(
        users.hard_delete(2).await.unwrap_err(),
        Error::NotFound { .. }
    ));
}

#[tokio::test]
async fn statistics_count_states_and_recent_creations() {
    let ctx = test_context!().await;
    let notes = notes_table(&ctx).await;
    let empty = notes.get_statistics().await.unwrap();
    assert_eq!(
        empty,
        ServiceStatistics {
            table: "audited_notes".into(),
            total_count: 0,
            active_count: 0,
            deleted_count: 0,
            deletion_ratio: 0.0,
            created_last_24h: Some(0),
        }
    );
    let created = notes
        .bulk_create((0..10).map(|i| note(format!("n{i}"))))
        .await
        .unwrap();
    // An old row, created two days ago.
    notes
        .create(audited::ActiveModel {
            body: Set("old".into()),
            created_at: Set(Some(Utc::now() - chrono::Duration::days(2))),
            ..Default::default()
        })
        .await
        .unwrap();
    for model in &created[..4] {
        notes.soft_delete(model.id).await.unwrap();
    }
    let stats = notes.get_statistics().await.unwrap();
    assert_eq!(
        (stats.total_count, stats.active_count, stats.deleted_count),
        (11, 7, 4)
    );
    assert_eq!(stats.created_last_24h, Some(10));
    assert!((stats.deletion_ratio - 4.0 / 11.0).abs() < 1e-12);

    seed_users(&ctx, 4).await;
    let users = BaseService::<user::Entity, _>::new(&ctx.db);
    assert_eq!(users.get_statistics().await.unwrap().created_last_24h, None);
}

/// A service of one's own: the provided methods plus one more.
struct UserService {
    db: DatabaseConnection,
}

impl SoftDeleteService for UserService {
    type Entity = user::Entity;
    type Connection = DatabaseConnection;

    fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

impl UserService {
    async fn find_by_email(&self, email: &str) -> soft_delete_core::Result<Option<user::Model>> {
        Ok(user::Entity::find_active()
            .filter(user::Column::Email.eq(email))
            .one(&self.db)
            .await?)
    }
}

#[tokio::test]
async fn a_custom_service_adds_methods_beside_the_provided_ones() {
    let ctx = test_context!().await;
    seed_users(&ctx, 5).await;
    let service = UserService { db: ctx.db.clone() };
    let found = service.find_by_email("user-3@example.com").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some(3));
    assert!(service.soft_delete(3).await.unwrap());
    assert!(
        service
            .find_by_email("user-3@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(service.count().await.unwrap(), 4);
    let report = service
        .manager()
        .bulk_soft_delete::<user::Entity, _>(1..=5i64)
        .await
        .unwrap();
    assert_eq!(report.affected, 4);
}

#[tokio::test]
async fn streaming_insert_counts_what_it_inserted() {
    let ctx = test_context!().await;
    let notes = notes_table(&ctx).await;
    let rows = futures::stream::iter(0..25_000).map(|i| note(format!("s{i}")));
    let report = notes
        .bulk_insert_stream(rows.boxed())
        .created_by("loader")
        .batch_size(5000)
        .await
        .unwrap();
    assert_eq!(report.operation, OperationKind::Create);
    assert_eq!((report.affected, report.batches), (25_000, 5));
    let with_creator = audited::Entity::find()
        .filter(audited::Column::CreatedBy.eq("loader"))
        .filter(audited::Column::CreatedAt.is_not_null())
        .all(&ctx.db)
        .await
        .unwrap();
    assert_eq!(with_creator.len(), 25_000);
}

#[tokio::test]
async fn an_insert_stopped_early_says_so_and_returns_what_its_committed_batches_created() {
    use soft_delete_core::StopSignal;
    let ctx = test_context!().await;
    let notes = notes_table(&ctx).await;
    // A stop signal given from the progress callback after batch 2: batch 3 never runs.
    let stop = StopSignal::new();
    let progress = std::sync::Mutex::new(Vec::new());
    let created = notes
        .bulk_create((0..5000).map(|i| note(format!("c{i}"))))
        .batch_size(1000)
        .stop_on(stop.clone())
        .on_progress(|p| {
            progress.lock().unwrap().push((p.batches, p.affected));
            if p.batches == 2 {
                stop.stop();
            }
        })
        .await
        .unwrap();
    assert!(created.report.stopped_early, "{:?}", created.report);
    assert_eq!(created.report.affected, 2000);
    assert_eq!(created.len(), 2000);
    assert_eq!(created[1999].body, "c1999");
    assert_eq!(*progress.lock().unwrap(), [(1, 1000), (2, 2000)]);
    assert_eq!(notes.count().await.unwrap(), 2000);

    // A time limit already spent: no batch runs, and the report says so.
    let rows = futures::stream::iter(0..3000).map(|i| note(format!("s{i}")));
    let report = notes
        .bulk_insert_stream(rows.boxed())
        .batch_size(1000)
        .max_duration(std::time::Duration::ZERO)
        .await
        .unwrap();
    assert!(report.stopped_early);
    assert_eq!((report.affected, report.batches), (0, 0));
    // And one that lets every batch run reports each batch to the callback.
    let seen = std::sync::Mutex::new(0u64);
    let rows = futures::stream::iter(0..3000).map(|i| note(format!("t{i}")));
    let report = notes
        .bulk_insert_stream(rows.boxed())
        .batch_size(1000)
        .on_progress(|p| *seen.lock().unwrap() = p.affected)
        .await
        .unwrap();
    assert!(!report.stopped_early);
    assert_eq!(*seen.lock().unwrap(), 3000);
    assert_eq!(notes.count().await.unwrap(), 5000);
}

/// What one one-record operation left in the log and on the events channel, without its ids
/// and times: (kind, actor, reason, status, rows per table) and the events' (kind, rows, keys,
/// actor, reason).
type Trace = (
    Vec<(
        OperationKind,
        Option<String>,
        Option<String>,
        String,
        Vec<(String, u64)>,
    )>,
    Vec<(OperationKind, u64, usize, Option<String>, Option<String>)>,
);

#[tokio::test]
async fn one_record_calls_of_the_service_are_logged_and_announced_as_the_managers() {
    use sea_orm::ConnectionTrait;
    use soft_delete_core::events::Events;
    use soft_delete_core::operation_log::{self, DEFAULT_TABLE};
    let ctx = test_context!().await;
    seed_users(&ctx, 4).await;
    ctx.db
        .execute(&operation_log::create_table(ctx.backend, DEFAULT_TABLE))
        .await
        .unwrap();
    let events = Events::new(64);
    let config = SoftDeleteConfig {
        operation_log: Some(DEFAULT_TABLE.to_owned()),
        events: Some(events.clone()),
        ..SoftDeleteConfig::default()
    };
    let manager = SoftDeleteManager::with_config(&ctx.db, config.clone());
    let service = BaseService::<user::Entity, _>::with_config(&ctx.db, config);

    async fn trace(
        manager: &SoftDeleteManager<'_, DatabaseConnection>,
        received: &mut tokio::sync::broadcast::Receiver<
            std::sync::Arc<soft_delete_core::events::Event>,
        >,
        since: usize,
    ) -> Trace {
        let mut logged = manager.operations().await.unwrap();
        logged.reverse();
        let logged = logged
            .into_iter()
            .skip(since)
            .map(|op| {
                (
                    op.kind,
                    op.actor,
                    op.reason,
                    op.status.to_string(),
                    op.rows_by_table,
                )
            })
            .collect();
        let mut announced = Vec::new();
        while let Ok(event) = received.try_recv() {
            announced.push((
                event.kind,
                event.rows,
                event.keys.len(),
                event.actor.clone(),
                event.reason.clone(),
            ));
        }
        (logged, announced)
    }

    let mut received = events.subscribe();
    manager
        .soft_delete_by_id::<user::Entity, _>(1i64)
        .deleted_by("admin")
        .reason("spam")
        .await
        .unwrap();
    manager
        .restore_by_id::<user::Entity, _>(1i64)
        .restored_by("support")
        .reason("appeal")
        .await
        .unwrap();
    manager
        .soft_delete_by_id::<user::Entity, _>(1i64)
        .await
        .unwrap();
    manager
        .force_delete_by_id::<user::Entity, _>(1i64)
        .deleted_by("gdpr")
        .reason("erasure")
        .await
        .unwrap();
    let by_manager = trace(&manager, &mut received, 0).await;
    assert_eq!(by_manager.0.len(), 4, "{by_manager:?}");
    assert_eq!(by_manager.1.len(), 4, "{by_manager:?}");

    assert!(
        service
            .soft_delete(2i64)
            .deleted_by("admin")
            .reason("spam")
            .await
            .unwrap()
    );
    assert!(
        service
            .restore(2i64)
            .restored_by("support")
            .reason("appeal")
            .await
            .unwrap()
    );
    assert!(service.soft_delete(2i64).await.unwrap());
    assert!(
        service
            .hard_delete(2i64)
            .deleted_by("gdpr")
            .reason("erasure")
            .await
            .unwrap()
    );
    let by_service = trace(&manager, &mut received, 4).await;
    assert_eq!(by_service, by_manager);
    // Nothing happened twice, and a call that changes nothing is logged but not announced.
    assert!(service.soft_delete(3i64).await.unwrap());
    assert!(!service.soft_delete(3i64).await.unwrap());
    let repeat = trace(&manager, &mut received, 8).await;
    assert_eq!(repeat.0.len(), 2);
    assert_eq!(
        repeat.1.len(),
        1,
        "only the change that happened is announced"
    );
}

#[tokio::test]
async fn an_update_cannot_write_what_only_soft_delete_and_restore_write() {
    let ctx = test_context!().await;
    seed_users(&ctx, 2).await;
    let users = BaseService::<user::Entity, _>::new(&ctx.db);
    let error = users
        .update(user::ActiveModel {
            id: Set(1),
            deleted_at: Set(Some(Utc::now())),
            deleted_by: Set(Some("sneaky".to_owned())),
            ..Default::default()
        })
        .await
        .expect_err("the marker is the soft delete's to write");
    let Error::InvalidArgument { name, reason } = &error else {
        panic!("expected InvalidArgument, got {error:?}");
    };
    assert_eq!(*name, "active model");
    assert!(
        reason.contains("`deleted_at`") && reason.contains("`deleted_by`"),
        "{reason}"
    );
    let row = users.get_with_deleted(1i64).await.unwrap().expect("row 1");
    assert_eq!((row.deleted_at, row.deleted_by), (None, None));
    // Other columns update as before.
    let renamed = users
        .update(user::ActiveModel {
            id: Set(1),
            name: Set("renamed".to_owned()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(renamed.name, "renamed");
}
