//! Every deletion marker (`soft_delete_core::marker`) through scopes, one-record and bulk
//! operations, statistics, purges, cascades and the migration helpers, on the backend
//! `DATABASE_URL` names. The entities are in `soft_delete_tests::entities::marked`.

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Alias, ColumnDef, Table};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use soft_delete_core::migration::{
    AddSoftDeleteColumns, create_unique_among_active, drop_unique_among_active,
};
use soft_delete_core::prelude::*;
use soft_delete_tests::entities::marked::{
    enabled, enabled_at, epoch_ms, epoch_s, flagged, folder, paired,
};
use soft_delete_tests::{TestContext, test_context};

/// The ids of `E`'s soft-deleted rows, in order.
async fn deleted_ids<E>(ctx: &TestContext, id: E::Column) -> Vec<i64>
where
    E: SoftDelete,
    E::Model: IdOf,
{
    E::find_deleted()
        .order_by_asc(id)
        .all(&ctx.db)
        .await
        .expect("read deleted rows")
        .iter()
        .map(IdOf::id)
        .collect()
}

/// The `id` of a row of any of the marked entities.
trait IdOf {
    fn id(&self) -> i64;
}

macro_rules! id_of {
    ($($module:ident),*) => {
        $(impl IdOf for $module::Model {
            fn id(&self) -> i64 {
                self.id
            }
        })*
    };
}
id_of!(flagged, paired, enabled, enabled_at, epoch_s, epoch_ms);

/// The same life for each marker: rows made by the library (which writes a live marker) and by
/// SeaORM alone (the column's default), deleted one at a time, in batches and by condition,
/// restored, counted, and purged: by cutoff where the marker keeps the time, by condition
/// where it does not.
macro_rules! lifecycle {
    ($test:ident, $module:ident, timed = $timed:tt) => {
        #[tokio::test]
        async fn $test() {
            use $module as m;
            let ctx = test_context!().await;
            // `epoch_ms` rows have a foreign key to `marked_folders`.
            ctx.create_table::<folder::Entity>().await;
            ctx.create_table::<m::Entity>().await;
            let manager = SoftDeleteManager::new(&ctx.db);
            let row = |id: i64| m::ActiveModel {
                id: Set(id),
                email: Set(format!("u{id}@example.com")),
                folder_id: Set(None),
                ..Default::default()
            };
            let created = manager
                .bulk_create::<m::Entity, _>((1..=10).map(row))
                .await
                .expect("bulk create");
            assert!(created.iter().all(|model| !model.is_deleted()));
            m::Entity::insert_many((11..=20).map(row))
                .exec_without_returning(&ctx.db)
                .await
                .expect("insert through SeaORM");
            assert_eq!(m::Entity::find_active().count(&ctx.db).await.unwrap(), 20);
            let stats = manager.get_deletion_stats::<m::Entity>().await.unwrap();
            assert_eq!((stats.total, stats.deleted), (20, 0));

            // One record, twice: the second changes nothing.
            let before = Utc::now() - Duration::seconds(1);
            let changed = m::Entity::soft_delete_by_id(&ctx.db, 1i64)
                .deleted_by("admin")
                .await
                .expect("soft delete one");
            assert_eq!(changed, 1);
            let again = m::Entity::soft_delete_by_id(&ctx.db, 1i64).await.unwrap();
            assert_eq!(again, 0);
            let one = m::Entity::find_by_id(1i64)
                .one(&ctx.db)
                .await
                .unwrap()
                .expect("row 1 is still there");
            assert!(one.is_deleted());
            assert_eq!(one.deleted_by().as_deref(), Some("admin"));
            lifecycle!(@time $timed, one.deleted_at(), before);

            // In batches by key, then by condition.
            let report = manager
                .bulk_soft_delete::<m::Entity, _>(2..=8i64)
                .batch_size(3)
                .reason("cleanup")
                .await
                .expect("bulk soft delete");
            assert_eq!((report.affected, report.batches), (7, 3));
            let report = manager
                .bulk_soft_delete_where::<m::Entity>(m::Column::Id.gte(19))
                .batch_size(1)
                .await
                .expect("soft delete by condition");
            assert_eq!(report.affected, 2);

            // Restore: only deleted rows change.
            let report = manager
                .bulk_restore::<m::Entity, _>([2i64, 3, 9, 99])
                .await
                .expect("bulk restore");
            assert_eq!(report.affected, 2);
            assert_eq!(m::Entity::restore_by_id(&ctx.db, 4i64).await.unwrap(), 1);
            let restored = m::Entity::find_active()
                .filter(m::Column::Id.eq(2))
                .one(&ctx.db)
                .await
                .unwrap()
                .expect("row 2 is live again");
            assert!(!restored.is_deleted());
            assert_eq!(restored.deleted_at(), None);
            assert_eq!(restored.deletion_reason(), None);

            assert_eq!(
                deleted_ids::<m::Entity>(&ctx, m::Column::Id).await,
                [1, 5, 6, 7, 8, 19, 20]
            );
            assert_eq!(m::Entity::find_active().count(&ctx.db).await.unwrap(), 13);
            let stats = manager.get_deletion_stats::<m::Entity>().await.unwrap();
            assert_eq!((stats.total, stats.deleted), (20, 7));

            // Purge: a dry run counts, then the rows go; live rows stay.
            let dry = lifecycle!(@purge $timed, manager, m).dry_run().await.unwrap();
            assert_eq!(dry.affected, 7);
            assert_eq!(m::Entity::find_with_deleted().count(&ctx.db).await.unwrap(), 20);
            let report = lifecycle!(@purge $timed, manager, m).batch_size(2).await.unwrap();
            assert_eq!(report.affected, 7);
            assert!(deleted_ids::<m::Entity>(&ctx, m::Column::Id).await.is_empty());
            assert_eq!(m::Entity::find_with_deleted().count(&ctx.db).await.unwrap(), 13);
        }
    };
    (@time true, $at:expr, $before:expr) => {{
        let at = $at.expect("the marker keeps the time");
        assert!(at >= $before && at <= Utc::now() + Duration::seconds(1), "{at}");
    }};
    (@time false, $at:expr, $before:expr) => {{
        let _ = $before;
        assert_eq!($at, None, "a flag alone keeps no time");
    }};
    (@purge true, $manager:expr, $m:ident) => {
        $manager.hard_delete_before::<$m::Entity>(Utc::now() + Duration::seconds(2))
    };
    (@purge false, $manager:expr, $m:ident) => {
        $manager.purge_where::<$m::Entity>(sea_orm::Condition::all())
    };
}

lifecycle!(a_flag_alone_through_every_operation, flagged, timed = false);
lifecycle!(
    a_flag_with_a_timestamp_through_every_operation,
    paired,
    timed = true
);
lifecycle!(
    a_reversed_flag_through_every_operation,
    enabled,
    timed = false
);
lifecycle!(
    a_reversed_flag_with_a_timestamp_through_every_operation,
    enabled_at,
    timed = true
);
lifecycle!(
    an_epoch_in_seconds_through_every_operation,
    epoch_s,
    timed = true
);
lifecycle!(
    an_epoch_in_millis_through_every_operation,
    epoch_ms,
    timed = true
);

#[tokio::test]
async fn the_flag_and_its_timestamp_stay_in_step() {
    let ctx = test_context!().await;
    ctx.create_table::<paired::Entity>().await;
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_create::<paired::Entity, _>((1..=4).map(|id| paired::ActiveModel {
            id: Set(id),
            email: Set(format!("p{id}@example.com")),
            folder_id: Set(None),
            ..Default::default()
        }))
        .await
        .unwrap();
    let at = Utc::now() - Duration::days(3);
    let report = manager
        .bulk_soft_delete::<paired::Entity, _>([1i64, 2, 3])
        .at(at)
        .await
        .unwrap();
    manager
        .bulk_restore::<paired::Entity, _>([3i64])
        .await
        .unwrap();
    let rows = paired::Entity::find_with_deleted()
        .order_by_asc(paired::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    let states: Vec<(bool, bool)> = rows
        .iter()
        .map(|row| (row.is_deleted, row.deleted_at.is_some()))
        .collect();
    assert_eq!(
        states,
        [(true, true), (true, true), (false, false), (false, false)]
    );
    assert_eq!(
        rows[0].deleted_at(),
        Some(at.with_timezone(&Utc))
            .map(|t| { chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap() })
    );
    // The rows an operation deleted are found by its id; and by a cutoff between.
    let old = paired::Entity::find_deleted()
        .deleted_before(Utc::now() - Duration::days(1))
        .count(&ctx.db)
        .await
        .unwrap();
    assert_eq!(old, 2);
    let restored = manager
        .restore_operation::<paired::Entity>(report.id)
        .unwrap()
        .await
        .unwrap();
    assert_eq!(restored.affected, 2);
    assert_eq!(
        paired::Entity::find_active().count(&ctx.db).await.unwrap(),
        4
    );
}

#[tokio::test]
async fn an_epoch_cutoff_and_a_stamp_before_1970() {
    let ctx = test_context!().await;
    ctx.create_table::<epoch_s::Entity>().await;
    let manager = SoftDeleteManager::new(&ctx.db);
    manager
        .bulk_create::<epoch_s::Entity, _>((1..=3).map(|id| epoch_s::ActiveModel {
            id: Set(id),
            email: Set(format!("e{id}@example.com")),
            folder_id: Set(None),
            ..Default::default()
        }))
        .await
        .unwrap();
    let now = Utc::now();
    let day = |d: i64| now - Duration::days(d);
    manager
        .bulk_soft_delete::<epoch_s::Entity, _>([1i64])
        .at(day(10))
        .await
        .unwrap();
    manager
        .bulk_soft_delete::<epoch_s::Entity, _>([2i64])
        .at(day(2))
        .await
        .unwrap();
    let stored: Vec<i64> = epoch_s::Entity::find_deleted()
        .order_by_asc(epoch_s::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap()
        .iter()
        .map(|row| row.deleted_epoch)
        .collect();
    assert_eq!(stored, [day(10).timestamp(), day(2).timestamp()]);
    assert_eq!(
        epoch_s::Entity::find_active()
            .deleted_after(day(5))
            .count(&ctx.db)
            .await
            .unwrap(),
        1,
        "deleted_after turns the active scope into the deleted one"
    );
    let purged = manager
        .hard_delete_before::<epoch_s::Entity>(day(5))
        .await
        .unwrap();
    assert_eq!(purged.affected, 1);

    // 0 means live: a stamp at or before 1970 cannot be told from it, and is refused.
    let before_1970 = chrono::DateTime::from_timestamp(-5, 0).unwrap();
    let error = manager
        .bulk_soft_delete::<epoch_s::Entity, _>([3i64])
        .at(before_1970)
        .await
        .expect_err("an epoch cannot hold 1969");
    assert!(error.to_string().contains("1970"), "{error}");
    assert_eq!(
        epoch_s::Entity::find_active().count(&ctx.db).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn a_cascade_between_a_flag_and_an_epoch() {
    let ctx = test_context!().await;
    ctx.create_table::<folder::Entity>().await;
    ctx.create_table::<epoch_ms::Entity>().await;
    let manager = SoftDeleteManager::new(&ctx.db);
    folder::Entity::insert_many((1..=3).map(|id| folder::ActiveModel {
        id: Set(id),
        name: Set(format!("folder {id}")),
        ..Default::default()
    }))
    .exec_without_returning(&ctx.db)
    .await
    .unwrap();
    epoch_ms::Entity::insert_many((1..=9).map(|id| epoch_ms::ActiveModel {
        id: Set(id),
        email: Set(format!("f{id}@example.com")),
        folder_id: Set(Some((id - 1) / 3 + 1)),
        ..Default::default()
    }))
    .exec_without_returning(&ctx.db)
    .await
    .unwrap();
    // User 1 of folder 1 was deleted on its own before.
    epoch_ms::Entity::soft_delete_by_id(&ctx.db, 1i64)
        .await
        .unwrap();

    let deleted = manager
        .bulk_soft_delete::<folder::Entity, _>([1i64, 2])
        .await
        .unwrap();
    assert_eq!(deleted.affected, 2);
    assert_eq!(
        deleted_ids::<epoch_ms::Entity>(&ctx, epoch_ms::Column::Id).await,
        [1, 2, 3, 4, 5, 6]
    );
    // The restore brings back what the operation deleted, not user 1.
    let restored = manager
        .restore_operation::<folder::Entity>(deleted.id)
        .unwrap()
        .await
        .unwrap();
    assert_eq!(restored.affected, 2);
    assert_eq!(
        deleted_ids::<epoch_ms::Entity>(&ctx, epoch_ms::Column::Id).await,
        [1]
    );

    // A purge takes the rows under the folders it removes.
    manager
        .bulk_soft_delete::<folder::Entity, _>([3i64])
        .await
        .unwrap();
    let purged = manager
        .purge_where::<folder::Entity>(folder::Column::Id.eq(3))
        .await
        .unwrap();
    assert_eq!(purged.affected, 1);
    assert_eq!(
        epoch_ms::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        6
    );
    assert_eq!(
        folder::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        2
    );
}

/// `AddSoftDeleteColumns` on a table that had none: existing rows are live under every marker,
/// and uniqueness among live rows holds for each.
macro_rules! migrated {
    ($test:ident, $module:ident, $table:literal) => {
        #[tokio::test]
        async fn $test() {
            use $module as m;
            let ctx = test_context!().await;
            let schema = SchemaManager::new(&ctx.db);
            schema
                .create_table(
                    Table::create()
                        .table(Alias::new($table))
                        .col(
                            ColumnDef::new(Alias::new("id"))
                                .big_integer()
                                .not_null()
                                .primary_key(),
                        )
                        .col(ColumnDef::new(Alias::new("email")).string().not_null())
                        .col(ColumnDef::new(Alias::new("folder_id")).big_integer().null())
                        .to_owned(),
                )
                .await
                .expect("create the legacy table");
            ctx.exec(concat!(
                "INSERT INTO ",
                $table,
                " (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com')"
            ))
            .await;
            AddSoftDeleteColumns::<m::Entity>::new()
                .up(&schema)
                .await
                .expect("add the columns");
            assert_eq!(m::Entity::find_active().count(&ctx.db).await.unwrap(), 2);
            create_unique_among_active::<m::Entity>(&schema, &[m::Column::Email])
                .await
                .expect("unique among live rows");
            let insert = |id: i64| {
                m::Entity::insert(m::ActiveModel {
                    id: Set(id),
                    email: Set("a@example.com".to_owned()),
                    folder_id: Set(None),
                    ..Default::default()
                })
                .exec_without_returning(&ctx.db)
            };
            insert(3).await.expect_err("a live row holds the email");
            // Both rows with the email are deleted at the same instant: for an epoch, the same
            // second, which uniqueness among live rows must not refuse.
            let at = Utc::now() - Duration::hours(1);
            let manager = SoftDeleteManager::new(&ctx.db);
            manager
                .bulk_soft_delete::<m::Entity, _>([1i64])
                .at(at)
                .await
                .unwrap();
            insert(3)
                .await
                .expect("the email is free once its row is deleted");
            m::Entity::restore_by_id(&ctx.db, 1i64)
                .await
                .expect_err("restoring into a conflict is refused");
            assert_eq!(m::Entity::find_active().count(&ctx.db).await.unwrap(), 2);
            let second = manager
                .bulk_soft_delete::<m::Entity, _>([3i64])
                .at(at)
                .await
                .expect("two deleted rows may share the email and the deletion time");
            assert_eq!(second.affected, 1);
            assert_eq!(m::Entity::find_active().count(&ctx.db).await.unwrap(), 1);
            drop_unique_among_active::<m::Entity>(&schema, &[m::Column::Email])
                .await
                .expect("drop the unique index");
            AddSoftDeleteColumns::<m::Entity>::new()
                .down(&schema)
                .await
                .expect("down");
        }
    };
}

migrated!(a_flag_added_to_a_legacy_table, flagged, "flagged_users");
migrated!(
    a_reversed_flag_added_to_a_legacy_table,
    enabled,
    "enabled_users"
);
migrated!(an_epoch_added_to_a_legacy_table, epoch_s, "epoch_s_users");
migrated!(
    a_flag_and_timestamp_added_to_a_legacy_table,
    paired,
    "paired_users"
);
