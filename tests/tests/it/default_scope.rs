//! The default scope (`#[soft_delete(default_scope)]`): which SeaORM entry points it covers, and
//! a strict entity that must choose its rows. On the backend `DATABASE_URL` names.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, LoaderTrait, NotSet, PaginatorTrait, QueryFilter,
    Set,
};
use soft_delete_core::DefaultScope;
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::{note, ticket, user};
use soft_delete_tests::graph::{graph, loaded, note_ids};
use soft_delete_tests::test_context;

#[tokio::test]
async fn the_default_scope_covers_find_find_by_id_and_loaders() {
    let ctx = test_context!().await;
    let g = graph(&ctx).await;
    let [ann_live, ann_gone, bob_live, cid_gone] = g.notes;
    assert_eq!(note::Entity::default_scope(), DefaultScope::Active);
    assert_eq!(user::Entity::default_scope(), DefaultScope::Off);

    // Entity::find(): covered, and the scope can be replaced.
    let all = |query: Scoped<sea_orm::Select<note::Entity>>| async {
        note_ids(&query.all(&ctx.db).await.unwrap())
    };
    assert_eq!(all(note::Entity::find()).await, [ann_live, bob_live]);
    assert_eq!(
        all(note::Entity::find().with_deleted()).await,
        [ann_live, ann_gone, bob_live, cid_gone]
    );
    assert_eq!(
        all(note::Entity::find().only_deleted()).await,
        [ann_gone, cid_gone]
    );
    assert_eq!(note::Entity::find().count(&ctx.db).await.unwrap(), 2);
    // Filters before the scope change are kept.
    assert_eq!(
        all(note::Entity::find()
            .filter(note::Column::UserId.eq(g.ann.id))
            .with_deleted())
        .await,
        [ann_live, ann_gone]
    );

    // Entity::find_by_id(..): covered.
    assert_eq!(
        note::Entity::find_by_id(ann_gone)
            .one(&ctx.db)
            .await
            .unwrap(),
        None
    );
    let found = note::Entity::find_by_id(ann_gone)
        .with_deleted()
        .one(&ctx.db)
        .await
        .unwrap()
        .expect("the deleted note, with deleted rows");
    assert!(found.is_deleted());
    assert!(
        note::Entity::find_by_id(ann_live)
            .one(&ctx.db)
            .await
            .unwrap()
            .is_some()
    );

    // Not covered: the trait's own `find()`, as generic code calls it.
    assert_eq!(
        note_ids(
            &<note::Entity as EntityTrait>::find()
                .all(&ctx.db)
                .await
                .unwrap()
        ),
        [ann_live, ann_gone, bob_live, cid_gone]
    );
    async fn generic_count<E>(db: &sea_orm::DatabaseConnection) -> u64
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        E::find().count(db).await.unwrap()
    }
    assert_eq!(generic_count::<note::Entity>(&ctx.db).await, 4);

    // Loaders given `Entity::find()`: covered, with the scope it says.
    let users = vec![g.ann.clone(), g.bob.clone(), g.cid.clone()];
    let by_user = loaded(&users, note::Entity::find(), &ctx).await;
    assert_eq!(by_user, [vec![ann_live], vec![bob_live], vec![]]);
    let by_user = loaded(&users, note::Entity::find().with_deleted(), &ctx).await;
    assert_eq!(
        by_user,
        [vec![ann_live, ann_gone], vec![bob_live], vec![cid_gone]]
    );
    let by_user = loaded(&users, note::Entity::find().only_deleted(), &ctx).await;
    assert_eq!(by_user, [vec![ann_gone], vec![], vec![cid_gone]]);
    // Not covered: a loader given the entity value calls the trait's `find()`.
    let by_user = loaded(&users, note::Entity, &ctx).await;
    assert_eq!(
        by_user,
        [vec![ann_live, ann_gone], vec![bob_live], vec![cid_gone]]
    );
    // load_one from the child side, with a scoped parent query.
    let notes = note::Entity::find()
        .with_deleted()
        .all(&ctx.db)
        .await
        .unwrap();
    let owners = notes
        .load_one(user::Entity::find_active(), &ctx.db)
        .await
        .unwrap();
    let owners: Vec<Option<i64>> = owners.iter().map(|u| u.as_ref().map(|u| u.id)).collect();
    let expected: Vec<Option<i64>> = notes
        .iter()
        .map(|n| (n.user_id != g.bob.id).then_some(n.user_id))
        .collect();
    assert_eq!(owners, expected);
}

#[tokio::test]
async fn a_strict_entity_runs_once_it_chooses() {
    let ctx = test_context!().await;
    ctx.create_table::<ticket::Entity>().await;
    let mut ids = Vec::new();
    for title in ["open", "closed"] {
        ids.push(
            ticket::ActiveModel {
                id: NotSet,
                title: Set(title.to_owned()),
                ..Default::default()
            }
            .insert(&ctx.db)
            .await
            .unwrap()
            .id,
        );
    }
    ticket::Entity::soft_delete_by_id(&ctx.db, ids[1])
        .await
        .unwrap();
    assert_eq!(ticket::Entity::default_scope(), DefaultScope::Strict);
    let titles =
        |rows: Vec<ticket::Model>| -> Vec<String> { rows.into_iter().map(|t| t.title).collect() };
    assert_eq!(
        titles(ticket::Entity::find().active().all(&ctx.db).await.unwrap()),
        ["open"]
    );
    assert_eq!(
        titles(
            ticket::Entity::find()
                .only_deleted()
                .all(&ctx.db)
                .await
                .unwrap()
        ),
        ["closed"]
    );
    assert_eq!(
        ticket::Entity::find()
            .filter(ticket::Column::Title.starts_with("c"))
            .with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        1
    );
    assert!(
        ticket::Entity::find_by_id(ids[1])
            .active()
            .one(&ctx.db)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn seaorm_deletes_are_soft_under_the_default_scope_unless_the_entity_says_hard() {
    use soft_delete_tests::entities::draft;

    let ctx = test_context!().await;
    let g = graph(&ctx).await;
    let [ann_live, _, bob_live, _] = g.notes;
    // `notes`: SeaORM's delete soft-deletes; the row stays.
    let result = note::Entity::delete_by_id(ann_live)
        .exec(&ctx.db)
        .await
        .unwrap();
    assert_eq!(result.rows_affected, 1);
    let kept = note::Entity::find_by_id(ann_live)
        .with_deleted()
        .one(&ctx.db)
        .await
        .unwrap()
        .expect("the note stays");
    assert!(kept.is_deleted());
    // SeaORM's own, named through its trait, deletes for good (documented, not shadowed).
    let hard = <note::Entity as EntityTrait>::delete_by_id(bob_live)
        .exec(&ctx.db)
        .await
        .unwrap();
    assert_eq!(hard.rows_affected, 1);
    assert!(
        note::Entity::find_by_id(bob_live)
            .with_deleted()
            .one(&ctx.db)
            .await
            .unwrap()
            .is_none()
    );

    // `drafts` says `delete = "hard"`: its deletes stay SeaORM's.
    ctx.create_table::<draft::Entity>().await;
    let kept = draft::ActiveModel {
        body: Set("keep".to_owned()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    let gone = draft::ActiveModel {
        body: Set("gone".to_owned()),
        ..Default::default()
    }
    .insert(&ctx.db)
    .await
    .unwrap();
    assert_eq!(
        draft::Entity::delete_by_id(gone.id)
            .exec(&ctx.db)
            .await
            .unwrap()
            .rows_affected,
        1
    );
    assert_eq!(
        draft::Entity::find()
            .with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        1,
        "the row is gone for good"
    );
    // Its default scope still holds for queries.
    draft::Entity::soft_delete_by_id(&ctx.db, kept.id)
        .await
        .unwrap();
    assert_eq!(draft::Entity::find().count(&ctx.db).await.unwrap(), 0);
}
