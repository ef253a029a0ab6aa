//! An existing SeaORM application adopting soft delete: entities exactly as `sea-orm-cli`
//! generated them for each backend (`entities::cli`), with the attribute added and nothing else
//! changed, through every operation, scope, cutoff, migration helper, SeaORM's own deletes and
//! relations. On the backend `DATABASE_URL` names, with that backend's generated entities.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbBackend, IntoActiveModel, LoaderTrait, ModelTrait, NotSet,
    PaginatorTrait, QueryOrder, QueryTrait, Set,
};
use soft_delete_core::prelude::*;
use soft_delete_tests::TestContext;
use soft_delete_tests::test_context;

/// Runs `$body` with `$m` naming the generated entities of the context's backend: each body is
/// compiled for all three modules (their key and timestamp types differ) and run for one.
macro_rules! generated {
    ($ctx:expr, |$m:ident| $body:block) => {
        match $ctx.backend {
            DbBackend::Postgres => {
                use soft_delete_tests::entities::cli::postgres as $m;
                $body
            }
            DbBackend::MySql => {
                use soft_delete_tests::entities::cli::mysql as $m;
                $body
            }
            DbBackend::Sqlite => {
                use soft_delete_tests::entities::cli::sqlite as $m;
                $body
            }
            other => panic!("no generated entities for {other:?}"),
        }
    };
}

/// The schema the backend's entities were generated from.
fn schema_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => include_str!("../../src/entities/cli/postgres/schema.sql"),
        DbBackend::MySql => include_str!("../../src/entities/cli/mysql/schema.sql"),
        DbBackend::Sqlite => include_str!("../../src/entities/cli/sqlite/schema.sql"),
        other => panic!("no generated entities for {other:?}"),
    }
}

async fn create_schema(ctx: &TestContext) {
    for statement in schema_sql(ctx.backend).split(';') {
        if !statement.trim().is_empty() {
            ctx.exec(statement).await;
        }
    }
}

/// An author with three articles, the second and third tagged, as the application wrote them
/// with SeaORM's own inserts (the markers left to the tables' defaults).
macro_rules! seed {
    ($ctx:expr, $m:ident) => {{
        use $m::{article, article_tag, author, tag};
        let db = &$ctx.db;
        let ann = author::ActiveModel {
            name: Set("ann".to_owned()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("author");
        let mut articles = Vec::new();
        for title in ["one", "two", "three"] {
            let article = article::ActiveModel {
                author_id: Set(ann.id),
                title: Set(title.to_owned()),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("article");
            articles.push(article);
        }
        let mut tags = Vec::new();
        for name in ["rust", "sql"] {
            tags.push(
                tag::ActiveModel {
                    name: Set(name.to_owned()),
                    ..Default::default()
                }
                .insert(db)
                .await
                .expect("tag"),
            );
        }
        for article in &articles[1..] {
            for tag in &tags {
                article_tag::ActiveModel {
                    article_id: Set(article.id),
                    tag_id: Set(tag.id),
                    deleted_at: NotSet,
                    deleted_by: NotSet,
                    deletion_reason: NotSet,
                }
                .insert(db)
                .await
                .expect("link");
            }
        }
        (ann, articles, tags)
    }};
}

/// The instant `t` as a whole number of seconds, for comparing stamps that backends keep at
/// different precisions.
fn close(t: Timestamp, to: Timestamp) -> bool {
    (t - to).num_seconds().abs() <= 5
}

#[tokio::test]
async fn generated_entities_go_through_every_operation() {
    let ctx = test_context!().await;
    create_schema(&ctx).await;
    generated!(ctx, |m| {
        use m::{article, author, tag};
        let db = &ctx.db;
        let (ann, articles, tags) = seed!(ctx, m);
        let manager = SoftDeleteManager::new(db);

        // One record: a flag kept in step with a naive (or aware) timestamp.
        let before = Utc::now();
        assert_eq!(
            article::Entity::soft_delete_by_id(db, articles[0].id)
                .deleted_by("ed")
                .reason("spam")
                .await
                .unwrap(),
            1
        );
        let gone = article::Entity::find_by_id(articles[0].id)
            .with_deleted()
            .one(db)
            .await
            .unwrap()
            .expect("still there");
        assert!(gone.is_deleted(), "{gone:?}");
        let at = gone.deleted_at().expect("the time is kept");
        assert!(close(at, before), "stamped {at}, at about {before}");
        assert_eq!(gone.deleted_by.as_deref(), Some("ed"));
        // The flag holds TRUE (1 for an integer flag), as the scopes read it.
        assert_eq!(article::Entity::find().count(db).await.unwrap(), 2);
        assert_eq!(
            article::Entity::find()
                .only_deleted()
                .count(db)
                .await
                .unwrap(),
            1
        );

        // Bulk, on an integer epoch, and the statistics.
        let report = manager
            .bulk_soft_delete::<tag::Entity, _>(tags.iter().map(|t| t.id))
            .await
            .unwrap();
        assert_eq!(report.affected, 2);
        let tag = tag::Entity::find_by_id(tags[0].id)
            .with_deleted()
            .one(db)
            .await
            .unwrap()
            .expect("still there");
        assert!(tag.deleted_epoch > 0 && tag.is_deleted(), "{tag:?}");
        assert!(close(
            tag.deleted_at().expect("an epoch keeps the time"),
            before
        ));
        let stats = manager.get_deletion_stats::<tag::Entity>().await.unwrap();
        assert_eq!((stats.total, stats.deleted), (2, 2));

        // Restores clear the markers, whatever their types.
        assert_eq!(
            manager
                .bulk_restore::<tag::Entity, _>([tags[0].id])
                .await
                .unwrap()
                .affected,
            1
        );
        assert_eq!(
            article::Entity::restore_by_id(db, articles[0].id)
                .await
                .unwrap(),
            1
        );
        let back = article::Entity::find_by_id(articles[0].id)
            .one(db)
            .await
            .unwrap()
            .expect("active again");
        assert!(!back.is_deleted() && back.deleted_at.is_none(), "{back:?}");

        // A timestamp marker, aware or naive, with the author's time given: the scopes and
        // a purge split the rows at a cutoff the same way.
        let old = Utc::now() - chrono::Duration::hours(3);
        let recent = Utc::now() - chrono::Duration::hours(1);
        let cutoff = Utc::now() - chrono::Duration::hours(2);
        let bob = author::ActiveModel {
            name: Set("bob".to_owned()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        author::Entity::soft_delete_by_id(db, ann.id)
            .at(old)
            .await
            .unwrap();
        author::Entity::soft_delete_by_id(db, bob.id)
            .at(recent)
            .await
            .unwrap();
        let ids = |rows: Vec<author::Model>| rows.into_iter().map(|a| a.id).collect::<Vec<_>>();
        assert_eq!(
            ids(author::Entity::find()
                .deleted_before(cutoff)
                .all(db)
                .await
                .unwrap()),
            [ann.id]
        );
        assert_eq!(
            ids(author::Entity::find()
                .deleted_after(cutoff)
                .all(db)
                .await
                .unwrap()),
            [bob.id]
        );
        let read = author::Entity::find_by_id(ann.id)
            .with_deleted()
            .one(db)
            .await
            .unwrap()
            .expect("deleted, still there");
        assert_eq!(
            read.deleted_at().map(|t| t.timestamp_micros()),
            Some(old.timestamp_micros()),
            "the stamp reads back as the instant it was written"
        );
        let purged = manager
            .hard_delete_before::<author::Entity>(cutoff)
            .dry_run()
            .await
            .unwrap();
        assert_eq!(purged.affected, 1);
    });
}

#[tokio::test]
async fn inserts_and_updates_set_values_of_the_declared_types() {
    let ctx = test_context!().await;
    create_schema(&ctx).await;
    generated!(ctx, |m| {
        use m::{article, author};
        let db = &ctx.db;
        let ann = author::ActiveModel {
            name: Set("ann".to_owned()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        // The crate's own insert writes the live marker (FALSE or 0, typed as declared).
        let created = SoftDeleteManager::new(db)
            .bulk_create::<article::Entity, _>((0..3).map(|i| article::ActiveModel {
                author_id: Set(ann.id),
                title: Set(format!("bulk {i}")),
                ..Default::default()
            }))
            .await
            .unwrap();
        assert_eq!(created.len(), 3);
        assert!(
            created
                .iter()
                .all(|a| !a.is_deleted() && a.deleted_at.is_none())
        );
        assert_eq!(article::Entity::find().count(db).await.unwrap(), 3);
    });
}

#[tokio::test]
async fn seaorm_deletes_soft_delete_under_the_default_scope() {
    let ctx = test_context!().await;
    create_schema(&ctx).await;
    generated!(ctx, |m| {
        use m::{article, author};
        let db = &ctx.db;
        let (ann, articles, _) = seed!(ctx, m);
        let total = || async {
            article::Entity::find()
                .with_deleted()
                .count(db)
                .await
                .unwrap()
        };

        // Entity::delete_by_id(..).exec(db): soft, with SeaORM's result.
        let result = article::Entity::delete_by_id(articles[0].id)
            .exec(db)
            .await
            .unwrap();
        assert_eq!(result.rows_affected, 1);
        assert_eq!(total().await, 3, "the row stays");
        assert_eq!(article::Entity::find().count(db).await.unwrap(), 2);
        // Again: already deleted, nothing changes.
        let again = article::Entity::delete_by_id(articles[0].id)
            .exec(db)
            .await
            .unwrap();
        assert_eq!(again.rows_affected, 0);

        // Model::delete and ActiveModel::delete.
        let two = article::Entity::find_by_id(articles[1].id)
            .one(db)
            .await
            .unwrap()
            .expect("live");
        assert_eq!(two.delete(db).await.unwrap().rows_affected, 1);
        let three = articles[2].clone().into_active_model();
        assert_eq!(three.delete(db).await.unwrap().rows_affected, 1);
        assert_eq!(total().await, 3);
        assert_eq!(article::Entity::find().count(db).await.unwrap(), 0);

        // Entity::delete_many().filter(..): batched, counted exactly.
        article::Entity::restore_by_id(db, articles[0].id)
            .await
            .unwrap();
        article::Entity::restore_by_id(db, articles[1].id)
            .await
            .unwrap();
        let many = article::Entity::delete_many()
            .filter(article::Column::AuthorId.eq(ann.id))
            .exec(db)
            .await
            .unwrap();
        assert_eq!(many.rows_affected, 2);
        assert_eq!(total().await, 3);

        // Entity::delete(active_model), on another entity.
        let result = author::Entity::delete(ann.clone().into_active_model())
            .exec(db)
            .await
            .unwrap();
        assert_eq!(result.rows_affected, 1);
        assert!(
            author::Entity::find_by_id(ann.id)
                .with_deleted()
                .one(db)
                .await
                .unwrap()
                .expect("the author stays")
                .is_deleted()
        );

        // A permanent delete is explicit (the first article has no tag pointing to it).
        assert_eq!(
            article::Entity::force_delete_by_id(db, articles[0].id)
                .await
                .unwrap(),
            1
        );
        assert_eq!(total().await, 2);
    });
}

#[tokio::test]
async fn relations_follow_the_related_entitys_default_scope() {
    let ctx = test_context!().await;
    create_schema(&ctx).await;
    generated!(ctx, |m| {
        use m::{article, article_tag, author, tag};
        let db = &ctx.db;
        let (ann, articles, tags) = seed!(ctx, m);
        let titles = |rows: Vec<article::Model>| {
            let mut titles: Vec<String> = rows.into_iter().map(|a| a.title).collect();
            titles.sort();
            titles
        };
        article::Entity::soft_delete_by_id(db, articles[0].id)
            .await
            .unwrap();

        // The statement is SeaORM's with the live test written by hand appended: the same
        // query, so the same plan and cost.
        let seaorm = ModelTrait::find_related(&ann, article::Entity)
            .build(ctx.backend)
            .to_string();
        let ours = ann
            .find_related(article::Entity)
            .build(ctx.backend)
            .to_string();
        let by_hand = match ctx.backend {
            DbBackend::MySql => "`article`.`is_deleted` = 0",
            _ => r#""article"."is_deleted" = FALSE"#,
        };
        assert_eq!(ours, format!("{seaorm} AND {by_hand}"));

        // has many: the deleted article stays out, unless the query says otherwise.
        assert_eq!(
            titles(ann.find_related(article::Entity).all(db).await.unwrap()),
            ["three", "two"]
        );
        assert_eq!(
            titles(
                ann.find_related(article::Entity)
                    .with_deleted()
                    .all(db)
                    .await
                    .unwrap()
            ),
            ["one", "three", "two"]
        );
        assert_eq!(
            titles(
                ann.find_related(article::Entity)
                    .only_deleted()
                    .all(db)
                    .await
                    .unwrap()
            ),
            ["one"]
        );
        assert_eq!(
            ann.clone()
                .into_active_model()
                .find_related(article::Entity)
                .count(db)
                .await
                .unwrap(),
            2
        );

        // find_with_related and find_also_related from a scoped query.
        let with = author::Entity::find()
            .find_with_related(article::Entity)
            .all(db)
            .await
            .unwrap();
        assert_eq!(with.len(), 1);
        assert_eq!(titles(with[0].1.clone()), ["three", "two"]);
        let also = author::Entity::find()
            .find_also_related(article::Entity)
            .order_by_asc(article::Column::Id)
            .all(db)
            .await
            .unwrap();
        assert_eq!(
            also.iter()
                .map(|(_, a)| a.as_ref().map(|a| a.title.clone()))
                .collect::<Vec<_>>(),
            [Some("two".to_owned()), Some("three".to_owned())]
        );

        // Loaders with the scoped query.
        let loaded = vec![ann.clone()]
            .load_many(article::Entity::find(), db)
            .await
            .unwrap();
        assert_eq!(titles(loaded[0].clone()), ["three", "two"]);

        // Many to many through the junction: a deleted link and a deleted tag stay out.
        let names = |rows: Vec<tag::Model>| {
            let mut names: Vec<String> = rows.into_iter().map(|t| t.name).collect();
            names.sort();
            names
        };
        let two = &articles[1];
        assert_eq!(
            names(two.find_related(tag::Entity).all(db).await.unwrap()),
            ["rust", "sql"]
        );
        // The link is the junction row (article 2, rust): its key is composite.
        article_tag::Entity::soft_delete_by_id(db, (two.id, tags[0].id))
            .await
            .unwrap();
        assert_eq!(
            names(two.find_related(tag::Entity).all(db).await.unwrap()),
            ["sql"]
        );
        tag::Entity::soft_delete_by_id(db, tags[1].id)
            .await
            .unwrap();
        assert!(
            two.find_related(tag::Entity)
                .all(db)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            names(
                two.find_related(tag::Entity)
                    .with_deleted()
                    .all(db)
                    .await
                    .unwrap()
            ),
            ["rust", "sql"]
        );
        // The other side of the junction: article 3's links are live, its tag `sql` is not.
        assert_eq!(
            names(articles[2].find_related(tag::Entity).all(db).await.unwrap()),
            ["rust"]
        );
        // SeaORM's own relation, through the trait, sees every row (documented).
        assert_eq!(
            ModelTrait::find_related(&ann, article::Entity)
                .count(db)
                .await
                .unwrap(),
            3
        );
    });
}

#[tokio::test]
async fn the_migration_adds_what_the_attribute_needs_to_a_legacy_table() {
    use sea_orm_migration::{MigrationTrait, SchemaManager};
    use soft_delete_core::migration::{AddSoftDeleteColumns, create_unique_among_active};

    let ctx = test_context!().await;
    // The legacy table: a flag and a time of its own kind, no `deleted_by` nor
    // `deletion_reason` yet.
    let legacy = match ctx.backend {
        DbBackend::Postgres => {
            "CREATE TABLE article (id serial PRIMARY KEY, author_id integer NOT NULL, \
             title text NOT NULL, is_deleted boolean NOT NULL DEFAULT false, deleted_at timestamp)"
        }
        DbBackend::MySql => {
            "CREATE TABLE article (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, author_id int NOT \
             NULL, title varchar(255) NOT NULL, is_deleted tinyint(1) NOT NULL DEFAULT 0, \
             deleted_at timestamp(6) NULL)"
        }
        DbBackend::Sqlite => {
            "CREATE TABLE article (id integer PRIMARY KEY AUTOINCREMENT, author_id integer NOT \
             NULL, title text NOT NULL, is_deleted boolean NOT NULL DEFAULT 0, deleted_at \
             datetime_text NULL)"
        }
        other => panic!("no legacy table for {other:?}"),
    };
    ctx.exec(legacy).await;
    generated!(ctx, |m| {
        use m::article;
        let db = &ctx.db;
        let manager = SchemaManager::new(db);
        AddSoftDeleteColumns::<article::Entity>::new()
            .up(&manager)
            .await
            .expect("columns added");
        create_unique_among_active::<article::Entity>(&manager, &[article::Column::Title])
            .await
            .expect("unique among live rows");
        let insert = |title: &str| {
            article::ActiveModel {
                author_id: Set(1),
                title: Set(title.to_owned()),
                ..Default::default()
            }
            .insert(db)
        };
        let first = insert("same").await.expect("first");
        insert("same")
            .await
            .expect_err("a second live row with the title is refused");
        article::Entity::soft_delete_by_id(db, first.id)
            .deleted_by("ed")
            .await
            .unwrap();
        insert("same")
            .await
            .expect("a deleted row no longer holds the title");
        assert_eq!(article::Entity::find().count(db).await.unwrap(), 1);
        assert_eq!(
            article::Entity::find()
                .only_deleted()
                .deleted_by("ed")
                .count(db)
                .await
                .unwrap(),
            1
        );
    });
}

#[tokio::test]
async fn a_time_an_i32_epoch_cannot_hold_is_refused_by_name() {
    let ctx = test_context!().await;
    create_schema(&ctx).await;
    generated!(ctx, |m| {
        use m::tag;
        let db = &ctx.db;
        let t = tag::ActiveModel {
            name: Set("far".to_owned()),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        let after_2038 = Utc::now() + chrono::Duration::days(365 * 20);
        let result = tag::Entity::soft_delete_by_id(db, t.id)
            .at(after_2038)
            .await;
        match ctx.backend {
            // SQLite's `integer` is generated as `i64`: it holds the time.
            DbBackend::Sqlite => assert_eq!(result.unwrap(), 1),
            _ => {
                let error = result.expect_err("an i32 epoch ends in 2038");
                assert!(
                    matches!(error, Error::InvalidArgument { name: "at", .. }),
                    "{error}"
                );
                assert!(error.to_string().contains("2147483647"), "{error}");
                let still = tag::Entity::find_by_id(t.id).one(db).await.unwrap();
                assert!(still.is_some(), "nothing changed");
            }
        }
    });
}
