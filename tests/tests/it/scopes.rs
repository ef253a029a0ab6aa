//! Which rows a query sees: the scope of `find_active`/`find_deleted`/`find_with_deleted` and of
//! SeaORM's own queries, one scope per query with the last choice winning, the filters kept,
//! pagination and time comparisons. On the backend `DATABASE_URL` names.

use chrono::{Duration, TimeZone, Utc};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbBackend, EntityTrait, NotSet, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::user;
use soft_delete_tests::fixtures::{named_users, user_names};
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

#[tokio::test]
async fn scopes_split_rows_by_state() {
    let ctx = test_context!().await;
    let ids = named_users(&ctx, &["ann", "bob", "cid", "dan"]).await;
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
        user_names(user::Entity::find_active().into_inner(), &ctx).await,
        ["ann", "cid"]
    );
    assert_eq!(
        user_names(user::Entity::find_deleted().into_inner(), &ctx).await,
        ["bob", "dan"]
    );
    assert_eq!(
        user_names(user::Entity::find_with_deleted().into_inner(), &ctx).await,
        ["ann", "bob", "cid", "dan"]
    );
    assert_eq!(
        user_names(user::Entity::find().active(), &ctx).await,
        ["ann", "cid"]
    );
    assert_eq!(
        user_names(user::Entity::find().only_deleted(), &ctx).await,
        ["bob", "dan"]
    );
    assert_eq!(
        user_names(user::Entity::find().with_deleted(), &ctx)
            .await
            .len(),
        4
    );
    assert_eq!(
        user_names(user::Entity::find().deleted_by("admin"), &ctx).await,
        ["dan"]
    );
    assert_eq!(user::Entity::find_active().count(&ctx.db).await.unwrap(), 2);
}

#[tokio::test]
async fn scopes_compose_with_other_filters_in_any_order() {
    let ctx = test_context!().await;
    let ids = named_users(&ctx, &["alice", "albert", "bruno", "alma"]).await;
    user::Entity::soft_delete_by_id(&ctx.db, ids[1])
        .await
        .unwrap();

    let starts_with_al = user::Column::Name.starts_with("al");
    assert_eq!(
        user_names(
            user::Entity::find().active().filter(starts_with_al.clone()),
            &ctx
        )
        .await,
        ["alice", "alma"]
    );
    assert_eq!(
        user_names(
            user::Entity::find().filter(starts_with_al.clone()).active(),
            &ctx
        )
        .await,
        ["alice", "alma"]
    );
    assert_eq!(
        user_names(
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
async fn deleted_before_and_after_compare_times_not_text() {
    let ctx = test_context!().await;
    let ids = named_users(&ctx, &["a", "b", "c", "d", "e"]).await;
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
    let before = |cutoff| user_names(user::Entity::find().deleted_before(cutoff), &ctx);
    assert_eq!(before(stamps[0]).await, Vec::<String>::new());
    assert_eq!(before(stamps[1]).await, ["a"]);
    assert_eq!(before(stamps[2]).await, ["a", "b"]);
    assert_eq!(before(stamps[3]).await, ["a", "b", "c"]);
    assert_eq!(before(stamps[4]).await, ["a", "b", "c", "d"]);
    assert_eq!(
        user_names(user::Entity::find().deleted_after(stamps[2]), &ctx).await,
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
