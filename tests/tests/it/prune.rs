//! Retention policies, archive before purge and the `Pruner`, on the backend `DATABASE_URL`
//! names: `users` (with `users_archive`) and `posts`, which hold a foreign key to `users`.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use soft_delete_core::archive::{archive_key_index, create_archive_table};
use soft_delete_core::prelude::*;
use soft_delete_core::prune::{Outcome, Policy, Pruner};
use soft_delete_tests::entities::{post, user};
use soft_delete_tests::{TestContext, test_context};

/// `users` 1..=`count`, all soft-deleted `days` days ago except those in `live`, and the
/// empty `users_archive`.
async fn users(ctx: &TestContext, count: i64, days: i64, live: &[i64]) {
    ctx.create_table::<user::Entity>().await;
    ctx.db
        .execute(&create_archive_table::<user::Entity>(
            ctx.backend,
            "users_archive",
        ))
        .await
        .expect("create users_archive");
    ctx.db
        .execute(&archive_key_index::<user::Entity>("users_archive"))
        .await
        .expect("index users_archive");
    let at = Utc::now() - chrono::Duration::days(days);
    user::Entity::insert_many((1..=count).map(|id| {
        let deleted = !live.contains(&id);
        user::ActiveModel {
            id: Set(id),
            name: Set(format!("user {id}")),
            email: Set(format!("u{id}@example.com")),
            deleted_at: Set(deleted.then_some(at)),
            deleted_by: Set(deleted.then(|| "seed".to_owned())),
            deletion_reason: Set(None),
        }
    }))
    .exec_without_returning(&ctx.db)
    .await
    .expect("insert users");
}

/// `posts` with `(id, user_id)` rows, soft-deleted `days` days ago.
async fn deleted_posts(ctx: &TestContext, rows: impl IntoIterator<Item = (i64, i64)>, days: i64) {
    let at = Utc::now() - chrono::Duration::days(days);
    post::Entity::insert_many(rows.into_iter().map(|(id, user_id)| post::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        title: Set(format!("post {id}")),
        deleted_at: Set(Some(at)),
        ..Default::default()
    }))
    .exec_without_returning(&ctx.db)
    .await
    .expect("insert posts");
}

/// The ids in `users`, and those in `users_archive` (without `skip`), in order.
async fn where_rows_are(ctx: &TestContext, skip: Option<&str>) -> (Vec<i64>, Vec<i64>) {
    let live: Vec<i64> = user::Entity::find_with_deleted()
        .all(&ctx.db)
        .await
        .expect("read users")
        .iter()
        .map(|u| u.id)
        .collect();
    let mut select = Query::select();
    select
        .column(Alias::new("id"))
        .from(Alias::new("users_archive"))
        .order_by(Alias::new("id"), sea_orm::Order::Asc);
    if let Some(skip) = skip {
        select.and_where(Expr::col(Alias::new("email")).ne(skip));
    }
    let archived = ctx
        .db
        .query_all(&select)
        .await
        .expect("read users_archive")
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0).expect("an id"))
        .collect();
    let mut live = live;
    live.sort_unstable();
    (live, archived)
}

#[tokio::test]
async fn archive_and_purge_leave_every_row_in_exactly_one_table_when_batch_three_fails() {
    let ctx = test_context!().await;
    users(&ctx, 10, 90, &[]).await;
    // An earlier archive of user 7 and a unique key on the archive's `id`: the copy of batch 3
    // (users 7, 8, 9) collides with it and fails.
    ctx.exec(
        "INSERT INTO users_archive (id, name, email, archived_at) \
         VALUES (7, 'old', 'sentinel', '2020-01-01 00:00:00')",
    )
    .await;
    ctx.exec("CREATE UNIQUE INDEX ux_users_archive_id ON users_archive (id)")
        .await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let error = manager
        .hard_delete_before::<user::Entity>(Utc::now() - chrono::Duration::days(30))
        .archive()
        .batch_size(3)
        .await
        .expect_err("batch 3 collides in the archive");
    match &error {
        Error::Bulk {
            failed_batch,
            partial_count,
            ..
        } => assert_eq!((*failed_batch, *partial_count), (3, 6), "{error}"),
        other => panic!("expected a bulk error, got {other}"),
    }
    let (live, archived) = where_rows_are(&ctx, Some("sentinel")).await;
    assert_eq!(live, [7, 8, 9, 10]);
    assert_eq!(archived, [1, 2, 3, 4, 5, 6]);

    // Without the collision the rest goes the same way; each row is in one table.
    ctx.exec("DELETE FROM users_archive WHERE email = 'sentinel'")
        .await;
    let report = manager
        .hard_delete_before::<user::Entity>(Utc::now() - chrono::Duration::days(30))
        .archive()
        .batch_size(3)
        .await
        .expect("the rest");
    assert_eq!((report.affected, report.archived), (4, 4));
    let (live, archived) = where_rows_are(&ctx, None).await;
    assert!(live.is_empty());
    assert_eq!(archived, (1..=10).collect::<Vec<_>>());
    // The copies carry the rows' columns and the purge's time.
    let stamped = ctx
        .scalar_i64(
            "SELECT COUNT(*) FROM users_archive WHERE deleted_by = 'seed' \
             AND deleted_at IS NOT NULL AND archived_at IS NOT NULL",
        )
        .await;
    assert_eq!(stamped, 10);
    let mut emails = Query::select();
    emails
        .columns([Alias::new("id"), Alias::new("email")])
        .from(Alias::new("users_archive"));
    for row in ctx.db.query_all(&emails).await.expect("read the copies") {
        let id: i64 = row.try_get_by_index(0).expect("id");
        let email: String = row.try_get_by_index(1).expect("email");
        assert_eq!(email, format!("u{id}@example.com"));
    }
}

#[tokio::test]
async fn archive_is_refused_for_a_missing_table_and_changes_nothing() {
    let ctx = test_context!().await;
    users(&ctx, 4, 90, &[]).await;
    let error = SoftDeleteManager::new(&ctx.db)
        .hard_delete_before::<user::Entity>(Utc::now())
        .archive_into("no_such_archive")
        .await
        .expect_err("the archive table is missing");
    assert!(error.to_string().contains("no_such_archive"), "{error}");
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        4
    );
}

#[tokio::test]
async fn a_dry_run_counts_per_entity_and_changes_nothing() {
    let ctx = test_context!().await;
    users(&ctx, 10, 90, &[1, 2, 3]).await;
    ctx.create_table::<post::Entity>().await;
    deleted_posts(&ctx, (1..=3).map(|id| (id, id)), 90).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let report = Pruner::new(&manager)
        .policy(Policy::<user::Entity>::retention().archive())
        .policy(Policy::<post::Entity>::retention())
        .dry_run()
        .run()
        .await
        .unwrap();
    assert!(report.dry_run && report.is_complete());
    let counts: Vec<(&str, u64)> = report
        .entities
        .iter()
        .map(|e| (e.table.as_str(), e.purged()))
        .collect();
    assert_eq!(counts, [("posts", 3), ("users", 7)]);
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        10
    );
    assert_eq!(
        post::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        3
    );
    let (_, archived) = where_rows_are(&ctx, None).await;
    assert!(archived.is_empty());
}

#[tokio::test]
async fn children_go_before_the_parents_they_point_to() {
    let ctx = test_context!().await;
    users(&ctx, 6, 90, &[]).await;
    ctx.create_table::<post::Entity>().await;
    // Every user has a deleted post; the foreign key refuses a user before its posts.
    deleted_posts(&ctx, (1..=6).map(|id| (id, id)), 90).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    // The parent's policy is added first; the run still takes the child first.
    let pruner = Pruner::new(&manager)
        .policy(Policy::<user::Entity>::retention())
        .policy(Policy::<post::Entity>::retention())
        .batch_size(4);
    assert_eq!(pruner.order(), ["posts", "users"]);
    let report = pruner.run().await.unwrap();
    assert!(report.is_complete(), "{:?}", report.entities);
    assert_eq!(report.purged(), 12);
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        0
    );

    // The other way round, the foreign key refuses the users (where it is enforced).
    users_with_posts_again(&ctx).await;
    let first = manager.hard_delete_before::<user::Entity>(Utc::now()).await;
    assert!(
        first.is_err(),
        "the foreign key holds the users while posts point to them"
    );
}

async fn users_with_posts_again(ctx: &TestContext) {
    let at = Utc::now() - chrono::Duration::days(90);
    user::Entity::insert(user::ActiveModel {
        id: Set(100),
        name: Set("again".to_owned()),
        email: Set("again@example.com".to_owned()),
        deleted_at: Set(Some(at)),
        ..Default::default()
    })
    .exec_without_returning(&ctx.db)
    .await
    .unwrap();
    deleted_posts(ctx, [(100, 100)], 90).await;
}

#[tokio::test]
async fn a_shutdown_stops_the_run_after_the_batch_in_flight() {
    let ctx = test_context!().await;
    users(&ctx, 50, 90, &[]).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let tx = std::sync::Mutex::new(Some(tx));
    let pruner = Pruner::new(&manager)
        .policy(Policy::<user::Entity>::retention().archive())
        .batch_size(5)
        .pause_between_batches(Duration::from_millis(50))
        .on_progress(move |_, progress| {
            if progress.batches == 2
                && let Some(tx) = tx.lock().expect("not poisoned").take()
            {
                let _ = tx.send(());
            }
        });
    let shutdown = async {
        let _ = rx.await;
    };
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        pruner.run_every(Duration::from_secs(3600), shutdown),
    )
    .await
    .expect("run_every returns once shut down")
    .unwrap()
    .expect("one run");
    assert!(!report.is_complete());
    let users = &report.entities[0];
    let Outcome::Done(purge) = &users.outcome else {
        panic!("the purge ran: {users}");
    };
    assert!(purge.stopped_early);
    // Stopped during the pause after batch 2: no third batch began.
    assert_eq!((purge.batches, purge.affected, purge.archived), (2, 10, 10));
    assert_eq!(purge.remaining, Some(40));
    let (live, archived) = where_rows_are(&ctx, None).await;
    assert_eq!(live.len(), 40);
    assert_eq!(archived, (1..=10).collect::<Vec<_>>());
    assert_eq!(
        user::Entity::find_with_deleted()
            .filter(user::Column::Id.lte(10))
            .count(&ctx.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn max_duration_leaves_later_entities_not_run() {
    let ctx = test_context!().await;
    users(&ctx, 3, 90, &[]).await;
    ctx.create_table::<post::Entity>().await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let report = Pruner::new(&manager)
        .policy(Policy::<user::Entity>::retention())
        .policy(Policy::<post::Entity>::retention())
        .max_duration(Duration::ZERO)
        .run()
        .await
        .unwrap();
    assert!(!report.is_complete());
    assert!(
        report
            .entities
            .iter()
            .all(|e| matches!(e.outcome, Outcome::NotRun))
    );
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn a_tables_own_retention_overrides_the_general_one() {
    let ctx = test_context!().await;
    users(&ctx, 4, 90, &[]).await;
    // 90 days old: past the default 30, within this table's 100.
    let mut config = SoftDeleteConfig::default();
    config
        .retention_by_table
        .insert("users".to_owned(), Duration::from_secs(100 * 86_400));
    let manager = SoftDeleteManager::with_config(&ctx.db, config);
    let kept = Pruner::new(&manager)
        .policy(Policy::<user::Entity>::retention())
        .run()
        .await
        .unwrap();
    assert_eq!(kept.purged(), 0);
    // The entity's own setting in code wins over the table's.
    let purged = Pruner::new(&manager)
        .policy(Policy::<user::Entity>::retention().older_than(Duration::from_secs(60 * 86_400)))
        .run()
        .await
        .unwrap();
    assert_eq!(purged.purged(), 4);
}

#[tokio::test]
async fn a_row_stays_while_another_table_still_points_to_it() {
    let ctx = test_context!().await;
    users(&ctx, 5, 90, &[]).await;
    ctx.create_table::<post::Entity>().await;
    // User 2 still has a post (deleted, but not purged); the others have none.
    deleted_posts(&ctx, [(1, 2)], 1).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    let report = Pruner::new(&manager)
        .policy(Policy::<user::Entity>::retention().archive())
        .policy(Policy::<post::Entity>::retention())
        .batch_size(2)
        .run()
        .await
        .unwrap();
    assert!(report.is_complete(), "{:?}", report.entities);
    assert_eq!(report.purged(), 4);
    let (live, archived) = where_rows_are(&ctx, None).await;
    assert_eq!(live, [2]);
    assert_eq!(archived, [1, 3, 4, 5]);
}

#[tokio::test]
async fn a_stop_during_the_pause_ends_the_operation_without_waiting_it_out() {
    let ctx = test_context!().await;
    users(&ctx, 20, 90, &[]).await;
    let stop = soft_delete_core::StopSignal::new();
    let on_batch = stop.clone();
    let started = std::time::Instant::now();
    let report = SoftDeleteManager::new(&ctx.db)
        .hard_delete_before::<user::Entity>(Utc::now())
        .batch_size(5)
        .pause_between_batches(Duration::from_secs(30))
        .stop_on(stop)
        .on_progress(move |_| on_batch.stop())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(report.stopped_early);
    assert_eq!(
        (report.batches, report.affected, report.remaining),
        (1, 5, Some(15))
    );
}
