//! Scopes, one-record operations and related loading, on the backend `DATABASE_URL` names.

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, NotSet, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};
use soft_delete_core::only_active;
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{
    article, audited, document, legacy, membership, post, tag, user,
};
use soft_delete_tests::{TestContext, test_context};

async fn users(ctx: &TestContext, names: &[&str]) -> Vec<i64> {
    ctx.create_table::<user::Entity>().await;
    let mut ids = Vec::new();
    for name in names {
        let model = user::ActiveModel {
            id: NotSet,
            name: Set((*name).to_owned()),
            email: Set(format!("{name}@example.com")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .expect("insert user");
        ids.push(model.id);
    }
    ids
}

async fn names(query: sea_orm::Select<user::Entity>, ctx: &TestContext) -> Vec<String> {
    query
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await
        .expect("select users")
        .into_iter()
        .map(|u| u.name)
        .collect()
}

#[tokio::test]
async fn scopes_split_rows_by_state() {
    let ctx = test_context!().await;
    let ids = users(&ctx, &["ann", "bob", "cid", "dan"]).await;
    assert_eq!(
        user::Entity::soft_delete_by_id(&ctx.db, ids[1])
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        user::Entity::soft_delete_by_id(&ctx.db, ids[3])
            .deleted_by("admin")
            .await
            .unwrap(),
        1
    );

    assert_eq!(
        names(user::Entity::find_active().into_inner(), &ctx).await,
        ["ann", "cid"]
    );
    assert_eq!(
        names(user::Entity::find_deleted().into_inner(), &ctx).await,
        ["bob", "dan"]
    );
    assert_eq!(
        names(user::Entity::find_with_deleted().into_inner(), &ctx).await,
        ["ann", "bob", "cid", "dan"]
    );
    assert_eq!(
        names(user::Entity::find().active(), &ctx).await,
        ["ann", "cid"]
    );
    assert_eq!(
        names(user::Entity::find().only_deleted(), &ctx).await,
        ["bob", "dan"]
    );
    assert_eq!(
        names(user::Entity::find().with_deleted(), &ctx).await.len(),
        4
    );
    assert_eq!(
        names(user::Entity::find().deleted_by("admin"), &ctx).await,
        ["dan"]
    );
    assert_eq!(user::Entity::find_active().count(&ctx.db).await.unwrap(), 2);
}

#[tokio::test]
async fn scopes_compose_with_other_filters_in_any_order() {
    let ctx = test_context!().await;
    let ids = users(&ctx, &["alice", "albert", "bruno", "alma"]).await;
    user::Entity::soft_delete_by_id(&ctx.db, ids[1])
        .await
        .unwrap();

    let starts_with_al = user::Column::Name.starts_with("al");
    assert_eq!(
        names(
            user::Entity::find().active().filter(starts_with_al.clone()),
            &ctx
        )
        .await,
        ["alice", "alma"]
    );
    assert_eq!(
        names(
            user::Entity::find().filter(starts_with_al.clone()).active(),
            &ctx
        )
        .await,
        ["alice", "alma"]
    );
    assert_eq!(
        names(
            user::Entity::find().filter(starts_with_al).only_deleted(),
            &ctx
        )
        .await,
        ["albert"]
    );
    // Scopes on UpdateMany / DeleteMany: purge only the deleted rows.
    let removed = user::Entity::delete_many()
        .only_deleted()
        .exec(&ctx.db)
        .await
        .unwrap();
    assert_eq!(removed.rows_affected, 1);
    assert_eq!(
        user::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn soft_delete_is_idempotent_and_keeps_who_and_why() {
    let ctx = test_context!().await;
    let ids = users(&ctx, &["ann"]).await;
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
    let ids = users(&ctx, &["ann", "bob"]).await;
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
    let ids = users(&ctx, &["ann", "bob", "cid"]).await;
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
        names(user::Entity::find_with_deleted().into_inner(), &ctx).await,
        ["cid"]
    );
}

#[tokio::test]
async fn one_operation_stamps_the_time_it_was_given() {
    let ctx = test_context!().await;
    let ids = users(&ctx, &["ann"]).await;
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
async fn deleted_before_and_after_compare_times_not_text() {
    let ctx = test_context!().await;
    let ids = users(&ctx, &["a", "b", "c", "d", "e"]).await;
    let base = Utc.with_ymd_and_hms(2026, 3, 1, 9, 59, 59).unwrap();
    // Sub-second and whole-second neighbours, and a day boundary: the orders where a text
    // comparison with mixed formats would go wrong.
    let stamps = [
        base,
        base + Duration::milliseconds(500),
        base + Duration::seconds(1),
        base + Duration::seconds(1) + Duration::microseconds(1),
        base + Duration::days(1),
    ];
    for (id, at) in ids.iter().zip(stamps) {
        user::Entity::soft_delete_by_id(&ctx.db, *id)
            .at(at)
            .await
            .unwrap();
    }
    let before = |cutoff| names(user::Entity::find().deleted_before(cutoff), &ctx);
    assert_eq!(before(stamps[0]).await, Vec::<String>::new());
    assert_eq!(before(stamps[1]).await, ["a"]);
    assert_eq!(before(stamps[2]).await, ["a", "b"]);
    assert_eq!(before(stamps[3]).await, ["a", "b", "c"]);
    assert_eq!(before(stamps[4]).await, ["a", "b", "c", "d"]);
    assert_eq!(
        names(user::Entity::find().deleted_after(stamps[2]), &ctx).await,
        ["c", "d", "e"]
    );
    // Active rows are never "deleted before" anything.
    let live = users_with_one_active(&ctx).await;
    assert!(!before(base + Duration::days(365)).await.contains(&live));
}

async fn users_with_one_active(ctx: &TestContext) -> String {
    let live = user::ActiveModel {
        name: Set("live".into()),
        email: Set("live@example.com".into()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    live.name
}

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
async fn active_model_soft_delete_and_restore() {
    let ctx = test_context!().await;
    users(&ctx, &[]).await;
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
async fn related_rows_do_not_leak_and_parents_stay() {
    let ctx = test_context!().await;
    let ids = users(&ctx, &["ann", "bob", "cid"]).await;
    ctx.create_table::<post::Entity>().await;
    // ann: one live, one deleted post; bob: only a deleted post; cid: no posts.
    let posts = [
        (ids[0], "ann live"),
        (ids[0], "ann gone"),
        (ids[1], "bob gone"),
    ];
    let mut post_ids = Vec::new();
    for (user_id, title) in posts {
        let p = post::ActiveModel {
            user_id: Set(user_id),
            title: Set(title.into()),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
        post_ids.push(p.id);
    }
    post::Entity::soft_delete_by_id(&ctx.db, post_ids[1])
        .await
        .unwrap();
    post::Entity::soft_delete_by_id(&ctx.db, post_ids[2])
        .await
        .unwrap();

    let with_posts = user::Entity::find()
        .active()
        .find_with_active_related(post::Entity)
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    let shape: Vec<(String, Vec<String>)> = with_posts
        .into_iter()
        .map(|(u, ps)| (u.name, ps.into_iter().map(|p| p.title).collect()))
        .collect();
    assert_eq!(
        shape,
        [
            ("ann".to_owned(), vec!["ann live".to_owned()]),
            ("bob".to_owned(), vec![]),
            ("cid".to_owned(), vec![]),
        ]
    );

    let also = user::Entity::find()
        .find_also_active_related(post::Entity)
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    let pairs: Vec<(String, Option<String>)> = also
        .into_iter()
        .map(|(u, p)| (u.name, p.map(|p| p.title)))
        .collect();
    assert_eq!(
        pairs,
        [
            ("ann".to_owned(), Some("ann live".to_owned())),
            ("bob".to_owned(), None),
            ("cid".to_owned(), None),
        ]
    );

    // The naive way (the filter in WHERE) loses bob, whose posts are all deleted: the reason
    // the helpers exist.
    let naive = user::Entity::find()
        .find_with_related(post::Entity)
        .filter(post::Column::DeletedAt.is_null())
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    let naive: Vec<String> = naive.into_iter().map(|(u, _)| u.name).collect();
    assert_eq!(naive, ["ann", "cid"]);

    // A hand-written join through `only_active` behaves the same.
    let joined = user::Entity::find()
        .join(
            JoinType::LeftJoin,
            only_active::<post::Entity>(user::Relation::Post.def()),
        )
        .select_only()
        .column(user::Column::Name)
        .column_as(post::Column::Title, "title")
        .order_by_asc(user::Column::Id)
        .into_tuple::<(String, Option<String>)>()
        .all(&ctx.db)
        .await
        .unwrap();
    assert_eq!(joined, pairs);

    // The other direction: posts with their author, authors soft-deleted become None.
    user::Entity::soft_delete_by_id(&ctx.db, ids[0])
        .await
        .unwrap();
    let posts_with_author = post::Entity::find()
        .find_also_active_related(user::Entity)
        .order_by_asc(post::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    assert_eq!(posts_with_author.len(), 3);
    assert!(
        posts_with_author
            .iter()
            .all(|(p, u)| p.user_id != ids[0] || u.is_none())
    );
    assert!(
        posts_with_author
            .iter()
            .any(|(_, u)| u.as_ref().is_some_and(|u| u.name == "bob"))
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
