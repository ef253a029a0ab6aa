//! One-record soft delete, restore and force delete (`soft_delete_by_id`, `restore_by_id`,
//! `force_delete_by_id`, the active-model calls): idempotent, who and why, the time given, the
//! audit columns, and an active model's other changes written with them. On the backend
//! `DATABASE_URL` names.

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, NotSet, PaginatorTrait, Set};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{audited, user};
use soft_delete_tests::fixtures::{named_users, user_names};
use soft_delete_tests::{TestContext, test_context};

#[tokio::test]
async fn soft_delete_is_idempotent_and_keeps_who_and_why() {
    let ctx = test_context!().await;
    let ids = named_users(&ctx, &["ann"]).await;
    let changed = user::Entity::soft_delete_by_id(&ctx.db, ids[0])
        .deleted_by("admin")
        .reason("spam")
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let first = user::Entity::find_by_id(ids[0])
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(first.is_deleted());
    assert_eq!(first.deleted_by.as_deref(), Some("admin"));
    assert_eq!(first.deletion_reason.as_deref(), Some("spam"));
    assert_eq!(first.deleted_at(), first.deleted_at);
    assert_eq!(
        SoftDeleteModelExt::deleted_by(&first).as_deref(),
        Some("admin")
    );
    assert_eq!(first.deletion_reason().as_deref(), Some("spam"));

    // A second delete touches nothing: not the time, not who, not why.
    let again = user::Entity::soft_delete_by_id(&ctx.db, ids[0])
        .deleted_by("someone else")
        .reason("other")
        .await
        .unwrap();
    assert_eq!(again, 0);
    let second = user::Entity::find_by_id(ids[0])
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second, first);

    // Unknown ids count 0 too.
    assert_eq!(
        user::Entity::soft_delete_by_id(&ctx.db, 999_999)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn restore_clears_the_columns_and_is_idempotent() {
    let ctx = test_context!().await;
    let ids = named_users(&ctx, &["ann", "bob"]).await;
    user::Entity::soft_delete_by_id(&ctx.db, ids[0])
        .deleted_by("admin")
        .reason("spam")
        .await
        .unwrap();

    assert_eq!(
        user::Entity::restore_by_id(&ctx.db, ids[0]).await.unwrap(),
        1
    );
    let restored = user::Entity::find_by_id(ids[0])
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!restored.is_deleted());
    assert_eq!(restored.deleted_at, None);
    assert_eq!(restored.deleted_by, None);
    assert_eq!(restored.deletion_reason, None);

    // Restoring an active row changes nothing.
    assert_eq!(
        user::Entity::restore_by_id(&ctx.db, ids[0]).await.unwrap(),
        0
    );
    assert_eq!(
        user::Entity::restore_by_id(&ctx.db, ids[1]).await.unwrap(),
        0
    );
    let untouched = user::Entity::find_by_id(ids[1])
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!untouched.is_deleted());
}

#[tokio::test]
async fn force_delete_removes_rows_in_either_state() {
    let ctx = test_context!().await;
    let ids = named_users(&ctx, &["ann", "bob", "cid"]).await;
    user::Entity::soft_delete_by_id(&ctx.db, ids[0])
        .await
        .unwrap();
    assert_eq!(
        user::Entity::force_delete_by_id(&ctx.db, ids[0])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        user::Entity::force_delete_by_id(&ctx.db, ids[1])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        user::Entity::force_delete_by_id(&ctx.db, ids[1])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        user_names(user::Entity::find_with_deleted().into_inner(), &ctx).await,
        ["cid"]
    );
}

#[tokio::test]
async fn one_operation_stamps_the_time_it_was_given() {
    let ctx = test_context!().await;
    let ids = named_users(&ctx, &["ann"]).await;
    let when =
        Utc.with_ymd_and_hms(2025, 6, 1, 12, 30, 0).unwrap() + Duration::microseconds(123_456);
    user::Entity::soft_delete_by_id(&ctx.db, ids[0])
        .at(when)
        .await
        .unwrap();
    let row = user::Entity::find_by_id(ids[0])
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.deleted_at, Some(when));
}

#[tokio::test]
async fn active_model_soft_delete_and_restore() {
    let ctx = test_context!().await;
    named_users(&ctx, &[]).await;
    let model = user::ActiveModel {
        name: Set("ann".into()),
        email: Set("ann@example.com".into()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    let active: user::ActiveModel = model.clone().into();
    assert_eq!(active.soft_delete(&ctx.db).reason("left").await.unwrap(), 1);
    assert_eq!(active.soft_delete(&ctx.db).await.unwrap(), 0);
    let row = user::Entity::find_by_id(model.id)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.deletion_reason.as_deref(), Some("left"));
    assert_eq!(active.restore(&ctx.db).await.unwrap(), 1);

    // Without a key there is nothing to name: a clear error, and nothing written.
    let keyless = <user::ActiveModel as Default>::default();
    let error = keyless.soft_delete(&ctx.db).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidArgument {
                name: "primary key",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("users"), "{error}");
    assert_eq!(
        user::Entity::find_deleted().count(&ctx.db).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn soft_delete_and_restore_stamp_the_update_audit_columns() {
    let ctx = test_context!().await;
    ctx.create_table::<audited::Entity>().await;
    let note = audited::ActiveModel {
        body: Set("hi".into()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    assert_eq!(note.updated_at, None);
    audited::Entity::soft_delete_by_id(&ctx.db, note.id)
        .deleted_by("mod")
        .await
        .unwrap();
    let deleted = audited::Entity::find_by_id(note.id)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.updated_at, deleted.deleted_at);
    assert_eq!(deleted.updated_by.as_deref(), Some("mod"));

    audited::Entity::restore_by_id(&ctx.db, note.id)
        .restored_by("admin")
        .await
        .unwrap();
    let restored = audited::Entity::find_by_id(note.id)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored.updated_by.as_deref(), Some("admin"));
    assert!(restored.updated_at >= deleted.updated_at);
    assert_eq!(restored.deleted_at, None);
}

/// Users `ann`, `bob`, `cid`, `dan`, `eve`, with `bob` and `dan` soft-deleted; their ids.
async fn five_users(ctx: &TestContext) -> Vec<i64> {
    ctx.create_table::<user::Entity>().await;
    let mut ids = Vec::new();
    for name in ["ann", "bob", "cid", "dan", "eve"] {
        let model = user::ActiveModel {
            id: NotSet,
            name: Set(name.to_owned()),
            email: Set(format!("{name}@example.com")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .expect("insert user");
        ids.push(model.id);
    }
    for id in [ids[1], ids[3]] {
        assert_eq!(
            user::Entity::soft_delete_by_id(&ctx.db, id).await.unwrap(),
            1
        );
    }
    ids
}

#[tokio::test]
async fn one_record_operations_write_the_pending_changes_too() {
    let ctx = test_context!().await;
    let ids = five_users(&ctx).await;
    let db = &ctx.db;
    let load = |id| async move {
        user::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .expect("user")
    };

    // Soft delete with a new email on the model: both in one statement.
    let mut ann = load(ids[0]).await.into_active_model();
    ann.email = Set("ann@new.example".to_owned());
    assert_eq!(ann.soft_delete(&ctx.db).await.unwrap(), 1);
    let row = load(ids[0]).await;
    assert!(row.is_deleted());
    assert_eq!(row.email, "ann@new.example");

    // Restore with a new name: both written.
    let mut ann = row.into_active_model();
    ann.name = Set("ann2".to_owned());
    assert_eq!(ann.restore(&ctx.db).await.unwrap(), 1);
    let row = load(ids[0]).await;
    assert!(!row.is_deleted());
    assert_eq!(row.name, "ann2");

    // The row is not in the state the operation applies to: nothing is written, changes too.
    let mut bob = load(ids[1]).await.into_active_model();
    bob.email = Set("bob@new.example".to_owned());
    assert_eq!(bob.soft_delete(&ctx.db).await.unwrap(), 0);
    assert_eq!(load(ids[1]).await.email, "bob@example.com");

    // A column the operation writes itself is refused, by name, and nothing changes.
    let mut cid = load(ids[2]).await.into_active_model();
    cid.deleted_by = Set(Some("mallory".to_owned()));
    cid.email = Set("cid@new.example".to_owned());
    let error = cid.soft_delete(&ctx.db).await.unwrap_err();
    assert!(
        matches!(error, Error::InvalidArgument { .. }),
        "unexpected {error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("`deleted_by`"), "{message}");
    assert!(!message.contains("`email`"), "{message}");
    let row = load(ids[2]).await;
    assert!(!row.is_deleted());
    assert_eq!(row.email, "cid@example.com");
    let mut dan = load(ids[3]).await.into_active_model();
    dan.deleted_at = Set(None);
    let error = dan.restore(&ctx.db).await.unwrap_err();
    assert!(error.to_string().contains("`deleted_at`"), "{error}");
    assert!(load(ids[3]).await.is_deleted());

    // The primary key is how the row is found, not a change.
    let eve = user::ActiveModel {
        id: Set(ids[4]),
        ..Default::default()
    };
    assert_eq!(eve.soft_delete(&ctx.db).await.unwrap(), 1);
    assert_eq!(load(ids[4]).await.name, "eve");
}
