//! The access paths the database chooses for the library's statements, through `EXPLAIN`, on the
//! backend `DATABASE_URL` names: bulk updates reach their rows by primary key whatever index
//! `deleted_at` has, purges walk the primary key, and trash listings use the index of deleted
//! rows. These pin the statement shapes and the index advice of `soft_delete_core::migration`.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use soft_delete_core::bulk::{Explain, explain};
use soft_delete_core::migration::DeletedAtIndex;
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::user;
use soft_delete_tests::fixtures::insert_users;
use soft_delete_tests::{TestContext, test_context};

const ROWS: i64 = 20_000;

/// `users` with `index` on `deleted_at`, `ROWS` rows of which the upper half are soft-deleted;
/// statistics gathered where `analyze`.
async fn table(ctx: &TestContext, index: DeletedAtIndex, analyze: bool) {
    let backend = ctx.backend;
    ctx.db
        .execute(&soft_delete_core::migration::create_table_from_entity::<
            user::Entity,
        >(backend))
        .await
        .expect("create table");
    if let Some(statement) = index.statement::<user::Entity>(backend) {
        ctx.db.execute(&statement).await.expect("create index");
    }
    insert_users(ctx, 1..=ROWS).await;
    SoftDeleteManager::new(&ctx.db)
        .bulk_soft_delete::<user::Entity, _>(ROWS / 2 + 1..=ROWS)
        .batch_size(5000)
        .await
        .expect("soft delete the upper half");
    if analyze {
        let sql = match backend {
            DbBackend::MySql => "ANALYZE TABLE users",
            _ => "ANALYZE",
        };
        ctx.db.execute_unprepared(sql).await.expect("analyze");
    }
}

/// Asserts that no plan uses an index on `deleted_at`.
fn assert_no_deleted_at_index(explain: &Explain, backend: DbBackend, what: &str) {
    assert!(!explain.statements.is_empty(), "{what}: nothing explained");
    // MySQL/MariaDB lines also list the candidates (`possible_keys=…`); only `key=` is chosen.
    let deleted_at_index = match backend {
        DbBackend::MySql => " key=idx_users_deleted_at",
        _ => "idx_users_deleted_at",
    };
    assert!(
        !explain.plan_text().contains(deleted_at_index),
        "{what} uses the deleted_at index:\n{explain}"
    );
}

/// Asserts that every statement's plan reaches `users` by its primary key, without sorting, and
/// that no plan uses an index on `deleted_at`.
fn assert_by_primary_key(explain: &Explain, backend: DbBackend, what: &str) {
    assert_no_deleted_at_index(explain, backend, what);
    for statement in &explain.statements {
        let text = statement.plan.join("\n");
        let by_key = match backend {
            DbBackend::Sqlite => text.contains("INTEGER PRIMARY KEY"),
            DbBackend::Postgres => text.contains("users_pkey"),
            _ => text.contains(" key=PRIMARY"),
        };
        assert!(by_key, "{what} does not use the primary key:\n{explain}");
        assert!(
            !text.contains("TEMP B-TREE") && !text.contains("filesort"),
            "{what} sorts:\n{explain}"
        );
    }
}

/// Explains a bulk soft delete, a bulk restore and a restore by condition, each of `keys` rows,
/// and checks each plan with `check`.
async fn explain_bulk_updates(
    ctx: &TestContext,
    keys: i64,
    check: impl Fn(&Explain, DbBackend, &str),
    what: &str,
) {
    let manager = SoftDeleteManager::new(&ctx.db);
    let batch = keys as usize;
    let delete = manager
        .bulk_soft_delete::<user::Entity, _>(1..=keys)
        .batch_size(batch)
        .explain()
        .await
        .expect("explain bulk soft delete");
    check(&delete, ctx.backend, &format!("{what}: bulk soft delete"));
    let restore = manager
        .bulk_restore::<user::Entity, _>(ROWS / 2 + 1..=ROWS / 2 + keys)
        .batch_size(batch)
        .explain()
        .await
        .expect("explain bulk restore");
    check(&restore, ctx.backend, &format!("{what}: bulk restore"));
    let restore_where = manager
        .bulk_restore_where::<user::Entity>(user::Column::Id.gt(ROWS / 2))
        .batch_size(batch)
        .explain()
        .await
        .expect("explain bulk restore by condition");
    check(
        &restore_where,
        ctx.backend,
        &format!("{what}: bulk restore by condition"),
    );
}

/// With statistics, batches of 100 keys (0.5% of this table) reach their rows by primary key;
/// batches of 1000 (5%), for which a full scan of so small a table may be as cheap, and every
/// batch on a table without statistics, never through an index on `deleted_at`. Given the
/// guard `deleted_at IS NULL`, PostgreSQL chose the plain index for the 1000-key batch and
/// without statistics for the 100-key one, and MariaDB chose it for the 1000-key batch on some
/// of its sampled statistics; see `state_guard` in `bulk/sql.rs` for the forms that prevent it.
async fn bulk_updates_use_the_primary_key(ctx: &TestContext, what: &str, analyzed: bool) {
    if analyzed {
        explain_bulk_updates(ctx, 100, assert_by_primary_key, what).await;
    } else {
        explain_bulk_updates(ctx, 100, assert_no_deleted_at_index, what).await;
    }
    explain_bulk_updates(ctx, 1000, assert_no_deleted_at_index, what).await;
}

#[tokio::test]
async fn bulk_updates_reach_rows_by_key_with_the_recommended_index() {
    let ctx = test_context!().await;
    table(&ctx, DeletedAtIndex::recommended(ctx.backend), true).await;
    bulk_updates_use_the_primary_key(&ctx, "recommended index", true).await;
}

#[tokio::test]
async fn bulk_updates_reach_rows_by_key_with_the_recommended_index_and_no_statistics() {
    // PostgreSQL's bound IN list lost the key path on a table loaded without ANALYZE (0.33x);
    // `= ANY($1)` keeps it.
    let ctx = test_context!().await;
    table(&ctx, DeletedAtIndex::recommended(ctx.backend), false).await;
    bulk_updates_use_the_primary_key(&ctx, "recommended index, no statistics", false).await;
}

#[tokio::test]
async fn bulk_updates_reach_rows_by_key_with_a_plain_index() {
    let ctx = test_context!().await;
    table(&ctx, DeletedAtIndex::Plain, true).await;
    bulk_updates_use_the_primary_key(&ctx, "plain index", true).await;
}

#[tokio::test]
async fn bulk_updates_reach_rows_by_key_with_a_plain_index_and_no_statistics() {
    // Without statistics, SQLite reaches `… AND deleted_at IS NULL` rows through a plain index
    // on deleted_at (`USING INDEX … (deleted_at=? AND rowid=?)`) unless the guard is `+deleted_at`.
    let ctx = test_context!().await;
    table(&ctx, DeletedAtIndex::Plain, false).await;
    bulk_updates_use_the_primary_key(&ctx, "plain index, no statistics", false).await;
}

#[tokio::test]
async fn purge_walks_the_primary_key() {
    let ctx = test_context!().await;
    table(&ctx, DeletedAtIndex::recommended(ctx.backend), true).await;
    let manager = SoftDeleteManager::new(&ctx.db);
    // A filter on the key stands for the cursor every batch after the first carries.
    for (what, filter) in [
        ("first batch", user::Column::Id.gte(1)),
        ("later batch", user::Column::Id.gt(ROWS / 2)),
    ] {
        let explain = manager
            .hard_delete_before::<user::Entity>(Utc::now())
            .filter(filter)
            .batch_size(1000)
            .explain()
            .await
            .expect("explain purge");
        assert_eq!(explain.statements.len(), 2, "{explain}");
        assert_by_primary_key(&explain, ctx.backend, &format!("purge, {what}"));
    }
}

#[tokio::test]
async fn trash_listings_and_purge_counts_use_the_index_on_deleted_at() {
    let ctx = test_context!().await;
    // The recommended index where there is one; on MySQL/MariaDB, where none is recommended,
    // the plain index the docs suggest for trash listings.
    let index = match DeletedAtIndex::recommended(ctx.backend) {
        DeletedAtIndex::None => DeletedAtIndex::Plain,
        recommended => recommended,
    };
    table(&ctx, index, true).await;
    let name = index.name::<user::Entity>().expect("an index has a name");
    let listing = user::Entity::find_deleted()
        .order_by_desc(user::Column::DeletedAt)
        .limit(50)
        .build(ctx.backend);
    let recent = user::Entity::find()
        .filter(user::Column::DeletedAt.gt(Utc::now() - chrono::Duration::hours(1)))
        .select_only()
        .column(user::Column::Id)
        .build(ctx.backend);
    // Few rows are deleted compared with the table, as in a table that purges: the index is
    // worth using. (Half the rows deleted would make a full scan as good.)
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_restore::<user::Entity, _>(ROWS / 2 + 1..=ROWS - 200)
        .batch_size(5000)
        .await
        .expect("restore most");
    let analyze = match ctx.backend {
        DbBackend::MySql => "ANALYZE TABLE users",
        _ => "ANALYZE",
    };
    ctx.db.execute_unprepared(analyze).await.expect("analyze");
    let plans = explain(&ctx.db, [listing, recent]).await.expect("explain");
    let chosen = match ctx.backend {
        DbBackend::MySql => format!(" key={name}"),
        _ => name.clone(),
    };
    for statement in &plans.statements {
        assert!(
            statement.plan.join("\n").contains(&chosen),
            "trash query does not use {name}:\n{plans}"
        );
    }
    let count = manager
        .hard_delete_before::<user::Entity>(Utc::now())
        .dry_run()
        .explain()
        .await
        .expect("explain the dry run's count");
    assert!(
        count.plan_text().contains(&chosen),
        "the purge's count does not use {name}:\n{count}"
    );
}

/// A cascade's statements reach the children through their foreign key's index, never by
/// reading a child table whole: soft delete, restore and purge. A purge sends its `DELETE`s by
/// the keys of the parents it removes, never with the `NOT EXISTS` that keeps parents with kept
/// rows (MariaDB took 41 s for 2,000 parents with it inside the `DELETE`). On MariaDB 10.11 a single-table `UPDATE`
/// with `IN (SELECT …)` read the whole child table per statement (no semi-join for
/// `UPDATE`/`DELETE` before 11.1), which made a cascade of 100k folders 13 times slower than
/// the flat soft delete; the library joins the parents there instead.
#[tokio::test]
async fn cascades_reach_children_by_their_foreign_key() {
    use sea_orm::Set;
    use soft_delete_tests::entities::{account, project, task};
    let ctx = test_context!().await;
    ctx.create_table::<account::Entity>().await;
    ctx.create_table::<project::Entity>().await;
    ctx.create_table::<task::Entity>().await;
    ctx.exec("CREATE INDEX idx_tasks_project ON tasks (account_id, project_code)")
        .await;
    const ACCOUNTS: i64 = 500;
    account::Entity::insert_many((1..=ACCOUNTS).map(|id| account::ActiveModel {
        id: Set(id),
        name: Set(format!("account {id}")),
        ..Default::default()
    }))
    .exec_without_returning(&ctx.db)
    .await
    .expect("accounts");
    let projects: Vec<(i64, String)> = (1..=ACCOUNTS)
        .flat_map(|account| ["a", "b"].map(|code| (account, code.to_owned())))
        .collect();
    project::Entity::insert_many(projects.iter().map(|(account, code)| project::ActiveModel {
        account_id: Set(*account),
        code: Set(code.clone()),
        name: Set(format!("{account}/{code}")),
        ..Default::default()
    }))
    .exec_without_returning(&ctx.db)
    .await
    .expect("projects");
    let tasks: Vec<task::ActiveModel> = projects
        .iter()
        .flat_map(|(account, code)| (0..5).map(move |k| (*account, code.clone(), k)))
        .enumerate()
        .map(|(n, (account, code, k))| task::ActiveModel {
            id: Set(n as i64 + 1),
            account_id: Set(account),
            project_code: Set(code),
            title: Set(format!("task {k}")),
            ..Default::default()
        })
        .collect();
    for chunk in tasks.chunks(1000) {
        task::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&ctx.db)
            .await
            .expect("tasks");
    }
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_soft_delete::<account::Entity, _>(1..=20)
        .await
        .expect("soft delete accounts 1..=20, for the restore to explain");
    let analyze = match ctx.backend {
        DbBackend::MySql => "ANALYZE TABLE accounts, projects, tasks",
        _ => "ANALYZE",
    };
    ctx.db.execute_unprepared(analyze).await.expect("analyze");
    let delete = manager
        .bulk_soft_delete::<account::Entity, _>(101..=120)
        .explain()
        .await
        .expect("explain the cascading soft delete");
    let restore = manager
        .bulk_restore::<account::Entity, _>(1..=20)
        .explain()
        .await
        .expect("explain the cascading restore");
    // Accounts 1..=20 are deleted and have nothing kept under them once their cascade is
    // deleted too: the purge removes them.
    manager
        .bulk_soft_delete::<project::Entity, _>(
            (1..=20i64).flat_map(|account| ["a", "b"].map(|code| (account, code.to_owned()))),
        )
        .await
        .expect("soft delete the projects of accounts 1..=20");
    let purge = manager
        .hard_delete_before::<account::Entity>(chrono::Utc::now())
        .explain()
        .await
        .expect("explain the purge with its cascade");
    // The walk's bound, the children's DELETEs (deepest first), the accounts' own.
    assert_eq!(purge.statements.len(), 4, "purge:\n{purge}");
    for statement in &purge.statements[1..] {
        assert!(
            statement.sql.starts_with("DELETE") && !statement.sql.contains("EXISTS"),
            "a purge DELETE not by key:\n{purge}"
        );
    }
    let mut checked = vec![("soft delete", delete), ("restore", restore)];
    // PostgreSQL may hash 1,000 projects against 20 accounts for the purge's DELETE of tasks
    // (a fair plan at this size; at 200,000 rows it purges at 0.33x its flat purge). What
    // MariaDB cannot do in a DELETE is what this pins, so the purge's plans are checked there.
    if ctx.backend == DbBackend::MySql {
        checked.push(("purge", purge));
    }
    for (what, explain) in checked {
        // The accounts' own statement and one per child table (and the purge's bound).
        let own = if what == "purge" { 2 } else { 1 };
        assert_eq!(explain.statements.len(), own + 2, "{what}:\n{explain}");
        for child in ["projects", "tasks"] {
            let statement = explain
                .statements
                .iter()
                .find(|statement| {
                    let sql = statement.sql.to_lowercase();
                    ["update ", "delete from ", "delete "].iter().any(|verb| {
                        sql.starts_with(&format!("{verb}\"{child}\""))
                            || sql.starts_with(&format!("{verb}`{child}`"))
                    })
                })
                .unwrap_or_else(|| panic!("{what}: no statement for {child}:\n{explain}"));
            for table in ["projects", "tasks"] {
                let whole = match ctx.backend {
                    DbBackend::Sqlite => statement
                        .plan
                        .iter()
                        .any(|line| line.starts_with(&format!("SCAN {table}"))),
                    DbBackend::Postgres => statement
                        .plan
                        .iter()
                        .any(|line| line.contains(&format!("Seq Scan on {table}"))),
                    // `ALL` reads the rows, `index` the whole of an index.
                    _ => statement.plan.iter().any(|line| {
                        line.contains(&format!("table={table} "))
                            && (line.contains(" type=ALL") || line.contains(" type=index "))
                    }),
                };
                assert!(
                    !whole,
                    "{what}: the statement for {child} reads {table} whole:\n{explain}"
                );
            }
        }
    }
}
