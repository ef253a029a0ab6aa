//! One scope per query, the last choice winning; the default scope and each SeaORM entry point
//! it covers or cannot; pending changes kept by one-record operations. On the backend
//! `DATABASE_URL` names.

use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbBackend, EntityTrait, IntoActiveModel, LoaderTrait,
    ModelTrait, NotSet, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use soft_delete_core::prelude::*;
use soft_delete_core::{DefaultScope, Scoped};
use soft_delete_tests::entities::{note, post, ticket, user};
use soft_delete_tests::{TestContext, test_context};

type UserQuery = Scoped<sea_orm::Select<user::Entity>>;

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

async fn names(query: UserQuery, ctx: &TestContext) -> Vec<String> {
    query
        .order_by_asc(user::Column::Id)
        .all(&ctx.db)
        .await
        .expect("select users")
        .into_iter()
        .map(|u| u.name)
        .collect()
}

/// `name = 'bob' OR name = 'cid' OR name = 'eve'`: an OR group the scope must not split.
fn bob_cid_or_eve() -> Condition {
    Condition::any()
        .add(user::Column::Name.eq("bob"))
        .add(user::Column::Name.eq("cid"))
        .add(user::Column::Name.eq("eve"))
}

/// How many times the statement names `deleted_at`.
fn scope_conditions(query: &UserQuery, backend: DbBackend) -> usize {
    let sql = query.build(backend).to_string();
    sql.matches("deleted_at\" IS").count() + sql.matches("deleted_at` IS").count()
}

#[tokio::test]
async fn the_last_scope_wins_and_keeps_the_filters() {
    let ctx = test_context!().await;
    five_users(&ctx).await;
    let or = bob_cid_or_eve;

    // active → with deleted: the scope is lifted, the OR group kept.
    let query = user::Entity::find_active().filter(or()).with_deleted();
    assert_eq!(scope_conditions(&query, ctx.backend), 0);
    assert_eq!(names(query, &ctx).await, ["bob", "cid", "eve"]);
    // active → only deleted: replaced, not added to (no `IS NULL AND IS NOT NULL`).
    let query = user::Entity::find_active().filter(or()).only_deleted();
    assert_eq!(scope_conditions(&query, ctx.backend), 1);
    assert_eq!(names(query, &ctx).await, ["bob"]);
    // only deleted → active.
    let query = user::Entity::find_deleted().filter(or()).active();
    assert_eq!(scope_conditions(&query, ctx.backend), 1);
    assert_eq!(names(query, &ctx).await, ["cid", "eve"]);
    // with deleted → active.
    let query = user::Entity::find_with_deleted().filter(or()).active();
    assert_eq!(names(query, &ctx).await, ["cid", "eve"]);
    // Several changes: the last one counts.
    let query = user::Entity::find_active()
        .only_deleted()
        .filter(or())
        .with_deleted()
        .active()
        .only_deleted();
    assert_eq!(scope_conditions(&query, ctx.backend), 1);
    assert_eq!(names(query, &ctx).await, ["bob"]);
    // Filters added after the change still apply, and the order and limit survive it.
    let query = user::Entity::find_active()
        .order_by_desc(user::Column::Name)
        .limit(2)
        .with_deleted()
        .filter(user::Column::Name.ne("eve"));
    let rows: Vec<String> = query
        .all(&ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(rows, ["dan", "cid"]);
    // `deleted_by` and friends only match deleted rows: on an active scope they switch it.
    let query = user::Entity::find_active().deleted_after(chrono::DateTime::UNIX_EPOCH);
    assert_eq!(names(query, &ctx).await, ["bob", "dan"]);
}

#[tokio::test]
async fn pagination_counts_follow_the_scope() {
    let ctx = test_context!().await;
    five_users(&ctx).await;
    for (query, items, pages) in [
        (user::Entity::find_active(), 3, 2),
        (user::Entity::find_deleted(), 2, 1),
        (user::Entity::find_with_deleted(), 5, 3),
        (user::Entity::find_active().with_deleted(), 5, 3),
        (user::Entity::find_with_deleted().only_deleted(), 2, 1),
    ] {
        let scope = query.scope();
        assert_eq!(
            query.clone().count(&ctx.db).await.unwrap(),
            items,
            "count under {scope:?}"
        );
        let paginator = query.clone().paginate(&ctx.db, 2);
        let totals = paginator.num_items_and_pages().await.unwrap();
        assert_eq!(
            (totals.number_of_items, totals.number_of_pages),
            (items, pages),
            "pages under {scope:?}"
        );
        let mut seen = 0;
        let mut pages = query.order_by_asc(user::Column::Id).paginate(&ctx.db, 2);
        while let Some(page) = pages.fetch_and_next().await.unwrap() {
            seen += page.len() as u64;
        }
        assert_eq!(seen, items, "rows paged under {scope:?}");
    }
}

/// Users `ann` (active), `bob` (deleted), `cid` (active); notes and posts of theirs, some
/// deleted. Returns the users and a note id by name.
struct Graph {
    ann: user::Model,
    bob: user::Model,
    cid: user::Model,
    /// ann's active note, ann's deleted note, bob's active note, cid's deleted note.
    notes: [i64; 4],
    /// ann's active post, ann's deleted post.
    posts: [i64; 2],
}

async fn graph(ctx: &TestContext) -> Graph {
    ctx.create_table::<user::Entity>().await;
    ctx.create_table::<note::Entity>().await;
    ctx.create_table::<post::Entity>().await;
    let mut users = Vec::new();
    for name in ["ann", "bob", "cid"] {
        users.push(
            user::ActiveModel {
                id: NotSet,
                name: Set(name.to_owned()),
                email: Set(format!("{name}@example.com")),
                ..Default::default()
            }
            .insert(&ctx.db)
            .await
            .unwrap(),
        );
    }
    let mut notes = [0; 4];
    for (slot, (user, body)) in notes.iter_mut().zip([
        (users[0].id, "ann live"),
        (users[0].id, "ann gone"),
        (users[1].id, "bob live"),
        (users[2].id, "cid gone"),
    ]) {
        *slot = note::ActiveModel {
            id: NotSet,
            user_id: Set(user),
            body: Set(body.to_owned()),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap()
        .id;
    }
    let mut posts = [0; 2];
    for (slot, title) in posts.iter_mut().zip(["ann live", "ann gone"]) {
        *slot = post::ActiveModel {
            id: NotSet,
            user_id: Set(users[0].id),
            title: Set(title.to_owned()),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap()
        .id;
    }
    note::Entity::soft_delete_by_id(&ctx.db, notes[1])
        .await
        .unwrap();
    note::Entity::soft_delete_by_id(&ctx.db, notes[3])
        .await
        .unwrap();
    post::Entity::soft_delete_by_id(&ctx.db, posts[1])
        .await
        .unwrap();
    user::Entity::soft_delete_by_id(&ctx.db, users[1].id)
        .await
        .unwrap();
    let [ann, bob, cid]: [user::Model; 3] = users.try_into().expect("three users");
    Graph {
        ann,
        bob,
        cid,
        notes,
        posts,
    }
}

fn ids<M: ModelTrait>(models: &[M], id: impl Fn(&M) -> i64) -> Vec<i64> {
    let mut ids: Vec<i64> = models.iter().map(id).collect();
    ids.sort_unstable();
    ids
}

fn note_ids(notes: &[note::Model]) -> Vec<i64> {
    ids(notes, |n| n.id)
}

/// The note ids `load_many` gives each of `users` for `query`.
async fn loaded<S>(users: &[user::Model], query: S, ctx: &TestContext) -> Vec<Vec<i64>>
where
    S: sea_orm::EntityOrSelect<note::Entity>,
{
    users
        .load_many(query, &ctx.db)
        .await
        .unwrap()
        .iter()
        .map(|notes| note_ids(notes))
        .collect()
}

/// Each user the query selects, by name, with its note ids.
async fn with_notes(
    query: Scoped<sea_orm::SelectTwoMany<user::Entity, note::Entity>>,
    ctx: &TestContext,
) -> Vec<(String, Vec<i64>)> {
    query
        .all(&ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, n)| (u.name, note_ids(&n)))
        .collect()
}

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
