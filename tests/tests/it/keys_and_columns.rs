//! Every kind of key (UUID, string, composite) and column declaration (declared, renamed through
//! the derive, SeaORM's `#[sea_orm::model]` format). On the backend `DATABASE_URL` names.

use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, QueryOrder, Set};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{article, document, legacy, membership, tag};
use soft_delete_tests::test_context;

#[tokio::test]
async fn uuid_keys_and_a_declared_column_that_is_kept() {
    let ctx = test_context!().await;
    ctx.create_table::<document::Entity>().await;
    let id = uuid::Uuid::new_v4();
    let other = uuid::Uuid::new_v4();
    for (key, title) in [(id, "spec"), (other, "notes")] {
        document::ActiveModel {
            id: Set(key),
            title: Set(title.into()),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
    }
    assert_eq!(
        document::Entity::soft_delete_by_id(&ctx.db, id)
            .deleted_by("eve")
            .await
            .unwrap(),
        1
    );
    let doc = document::Entity::find_by_id(id)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(doc.deleted_by.as_deref(), Some("eve"));
    assert!(doc.is_deleted());
    let active: Vec<_> = document::Entity::find_active().all(&ctx.db).await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].id, other);
    assert_eq!(
        document::Entity::restore_by_id(&ctx.db, id).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn string_keys() {
    let ctx = test_context!().await;
    ctx.create_table::<tag::Entity>().await;
    for slug in ["rust", "sql"] {
        tag::ActiveModel {
            slug: Set(slug.into()),
            uses: Set(1),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
    }
    assert_eq!(
        tag::Entity::soft_delete_by_id(&ctx.db, "rust")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tag::Entity::soft_delete_by_id(&ctx.db, "rust")
            .await
            .unwrap(),
        0
    );
    let deleted = tag::Entity::find_deleted().all(&ctx.db).await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].slug, "rust");
    assert_eq!(
        tag::Entity::force_delete_by_id(&ctx.db, "rust".to_owned())
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn composite_keys() {
    let ctx = test_context!().await;
    ctx.create_table::<membership::Entity>().await;
    for (org, user) in [(1, 10), (1, 11), (2, 10)] {
        membership::ActiveModel {
            org_id: Set(org),
            user_id: Set(user),
            role: Set("member".into()),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
    }
    assert_eq!(
        membership::Entity::soft_delete_by_id(&ctx.db, (1, 10))
            .await
            .unwrap(),
        1
    );
    let active = membership::Entity::find_active()
        .order_by_asc(membership::Column::OrgId)
        .order_by_asc(membership::Column::UserId)
        .all(&ctx.db)
        .await
        .unwrap();
    let keys: Vec<_> = active.iter().map(|m| (m.org_id, m.user_id)).collect();
    assert_eq!(keys, [(1, 11), (2, 10)]);
    assert_eq!(
        membership::Entity::restore_by_id(&ctx.db, (1, 10))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        membership::Entity::restore_by_id(&ctx.db, (2, 10))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn renamed_columns_through_the_derive() {
    let ctx = test_context!().await;
    ctx.create_table::<legacy::Entity>().await;
    let item = legacy::ActiveModel {
        label: Set("old".into()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    legacy::Entity::soft_delete_by_id(&ctx.db, item.id)
        .deleted_by("ops")
        .reason("retired")
        .await
        .unwrap();
    let row = legacy::Entity::find_by_id(item.id)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.removed_at.is_some());
    assert_eq!(row.reason.as_deref(), Some("retired"));
    assert_eq!(row.deleted_by.as_deref(), Some("ops"));
    assert!(row.is_deleted());
    assert_eq!(
        legacy::Entity::find_active().count(&ctx.db).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn sea_orm_model_format_with_a_renamed_column() {
    let ctx = test_context!().await;
    ctx.create_table::<article::Entity>().await;
    let a = article::ActiveModel {
        headline: Set("hello".into()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    assert_eq!(
        article::Entity::soft_delete_by_id(&ctx.db, a.id)
            .await
            .unwrap(),
        1
    );
    let row = article::Entity::find_by_id(a.id)
        .one(&ctx.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.archived_at.is_some());
    assert!(row.is_deleted());
    assert_eq!(
        article::Entity::find_active().count(&ctx.db).await.unwrap(),
        0
    );
}
