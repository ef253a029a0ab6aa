//! Related rows without their deleted ones: joins, `find_also_related`/`find_with_related`, the
//! active-join helpers and `only_active` relations, under each scope. On the backend
//! `DATABASE_URL` names.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait, Set,
};
use soft_delete_core::only_active;
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{note, post, user};
use soft_delete_tests::fixtures::named_users;
use soft_delete_tests::graph::{graph, ids, note_ids, with_notes};
use soft_delete_tests::test_context;

#[tokio::test]
async fn related_loading_under_each_scope() {
    let ctx = test_context!().await;
    let g = graph(&ctx).await;
    let [ann_live, _ann_gone, bob_live, _cid_gone] = g.notes;
    let [post_live, post_gone] = g.posts;

    // `model.find_related`: covered through a relation written with `only_active` (notes)...
    let notes = g.ann.find_related(note::Entity).all(&ctx.db).await.unwrap();
    assert_eq!(note_ids(&notes), [ann_live]);
    // ...not covered through a plain relation (posts): the deleted post comes back.
    let posts = g.ann.find_related(post::Entity).all(&ctx.db).await.unwrap();
    assert_eq!(ids(&posts, |p| p.id), [post_live, post_gone]);

    // find_with_related: the scope is on the users; the notes' relation hides deleted notes.
    let active = with_notes(
        user::Entity::find_active().find_with_related(note::Entity),
        &ctx,
    )
    .await;
    assert_eq!(
        active,
        [
            ("ann".to_owned(), vec![ann_live]),
            ("cid".to_owned(), vec![])
        ]
    );
    let everyone = with_notes(
        user::Entity::find_active()
            .find_with_related(note::Entity)
            .with_deleted(),
        &ctx,
    )
    .await;
    assert_eq!(
        everyone,
        [
            ("ann".to_owned(), vec![ann_live]),
            ("bob".to_owned(), vec![bob_live]),
            ("cid".to_owned(), vec![])
        ]
    );
    let deleted = with_notes(
        user::Entity::find_active()
            .find_with_related(note::Entity)
            .only_deleted(),
        &ctx,
    )
    .await;
    assert_eq!(deleted, [("bob".to_owned(), vec![bob_live])]);

    // find_also_related over a plain relation, with the active-join helper for the posts.
    let rows = user::Entity::find_with_deleted()
        .find_also_active_related(post::Entity)
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    let rows: Vec<(String, Option<i64>)> = rows
        .into_iter()
        .map(|(u, p)| (u.name, p.map(|p| p.id)))
        .collect();
    assert_eq!(
        rows,
        [
            ("ann".to_owned(), Some(post_live)),
            ("bob".to_owned(), None),
            ("cid".to_owned(), None)
        ]
    );
    let rows = user::Entity::find_deleted()
        .find_also_related(post::Entity)
        .all(&ctx.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0.id, g.bob.id);
    assert_eq!(rows[0].1, None);
}

#[tokio::test]
async fn related_rows_do_not_leak_and_parents_stay() {
    let ctx = test_context!().await;
    let ids = named_users(&ctx, &["ann", "bob", "cid"]).await;
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
