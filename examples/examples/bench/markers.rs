//! `flag_soft_delete`, `paired_soft_delete`, `active_soft_delete`, `epoch_soft_delete`: the
//! flat bulk soft delete of a `users`-shaped table whose rows are marked by a flag, a flag with
//! `deleted_at`, a reversed flag or an epoch (see `soft_delete_core::marker`), to compare with
//! `bulk_soft_delete` (the `deleted_at` marker) in the same run. The raw side writes the
//! library's statement shape by hand: per batch, in its own transaction, `UPDATE … SET <marker>,
//! deleted_by, deletion_reason WHERE id IN (…)` (PostgreSQL: `id = ANY($n)`) with the live test
//! no index can serve (`+is_deleted = FALSE` on SQLite, `(…) IS TRUE` elsewhere).

use std::time::Instant;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Set, Statement, TransactionTrait,
    Value,
};
use soft_delete_core::prelude::*;
use soft_delete_examples::{active_user, epoch_user, flag_user, paired_user};

use crate::args::Op;
use crate::table::{Target, create_table, now_micros};
use crate::{BoxError, Sample};

/// The marker an operation's table has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Flag,
    Paired,
    Active,
    Epoch,
}

impl Kind {
    /// The marker operation `op` measures, if it is one.
    pub fn of(op: Op) -> Option<Kind> {
        match op {
            Op::FlagSoftDelete => Some(Kind::Flag),
            Op::PairedSoftDelete => Some(Kind::Paired),
            Op::ActiveSoftDelete => Some(Kind::Active),
            Op::EpochSoftDelete => Some(Kind::Epoch),
            _ => None,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Kind::Flag => "flag_users",
            Kind::Paired => "paired_users",
            Kind::Active => "active_users",
            Kind::Epoch => "epoch_users",
        }
    }

    /// The marker's columns and the values a soft delete writes into them, as the library
    /// orders them.
    fn stamp(self) -> Vec<(&'static str, Value)> {
        let now = now_micros();
        match self {
            Kind::Flag => vec![("is_deleted", true.into())],
            Kind::Paired => vec![("is_deleted", true.into()), ("deleted_at", now.into())],
            Kind::Active => vec![("is_active", false.into())],
            Kind::Epoch => vec![("deleted_epoch", now.timestamp().into())],
        }
    }

    /// The live test, written so that no index can serve it.
    fn guard(self, backend: DbBackend) -> String {
        let (column, live) = match self {
            Kind::Flag | Kind::Paired => ("is_deleted", "FALSE"),
            Kind::Active => ("is_active", "TRUE"),
            Kind::Epoch => ("deleted_epoch", "0"),
        };
        match backend {
            DbBackend::Sqlite => format!("+{column} = {live}"),
            _ => format!("({column} = {live}) IS TRUE"),
        }
    }
}

/// Drops and recreates the marker's table (with the index the target asks for, on the marker)
/// and loads `rows` live rows, leaving the marker to its column's default. Not timed.
pub async fn fresh(
    db: &DatabaseConnection,
    target: &Target,
    kind: Kind,
    rows: i64,
) -> Result<(), BoxError> {
    let backend = db.get_database_backend();
    let ddl = db.begin().await?;
    ddl.execute_unprepared(&format!("DROP TABLE IF EXISTS {}", kind.table()))
        .await?;
    match kind {
        Kind::Flag => create_table::<flag_user::Entity>(&ddl, target).await?,
        Kind::Paired => create_table::<paired_user::Entity>(&ddl, target).await?,
        Kind::Active => create_table::<active_user::Entity>(&ddl, target).await?,
        Kind::Epoch => create_table::<epoch_user::Entity>(&ddl, target).await?,
    }
    ddl.commit().await?;
    let ids: Vec<i64> = (1..=rows).collect();
    for chunk in ids.chunks(5000) {
        macro_rules! load {
            ($module:ident) => {
                $module::Entity::insert_many(chunk.iter().map(|&id| $module::ActiveModel {
                    id: Set(id),
                    name: Set(format!("user {id}")),
                    email: Set(format!("user{id}@example.com")),
                    ..Default::default()
                }))
                .exec_without_returning(db)
                .await?
            };
        }
        match kind {
            Kind::Flag => load!(flag_user),
            Kind::Paired => load!(paired_user),
            Kind::Active => load!(active_user),
            Kind::Epoch => load!(epoch_user),
        };
    }
    match backend {
        DbBackend::Postgres => {
            db.execute_unprepared(&format!("ANALYZE {}", kind.table()))
                .await?;
        }
        DbBackend::Sqlite => {
            db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Drops the marker tables.
pub async fn clean_up(db: &DatabaseConnection) -> Result<(), BoxError> {
    for kind in [Kind::Flag, Kind::Paired, Kind::Active, Kind::Epoch] {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {}", kind.table()))
            .await?;
    }
    Ok(())
}

/// The library: one bulk soft delete of every row, by id.
pub async fn library(
    db: &DatabaseConnection,
    kind: Kind,
    rows: i64,
    batch: usize,
) -> Result<Sample, BoxError> {
    let manager = SoftDeleteManager::new(db);
    let started = Instant::now();
    macro_rules! delete {
        ($module:ident) => {
            manager
                .bulk_soft_delete::<$module::Entity, _>(1..=rows)
                .deleted_by("bench")
                .batch_size(batch)
                .await?
                .affected
        };
    }
    let done = match kind {
        Kind::Flag => delete!(flag_user),
        Kind::Paired => delete!(paired_user),
        Kind::Active => delete!(active_user),
        Kind::Epoch => delete!(epoch_user),
    };
    Ok(Sample::new(done, started.elapsed()))
}

/// The library's statements, written by hand.
pub async fn raw(
    db: &DatabaseConnection,
    kind: Kind,
    rows: i64,
    batch: usize,
) -> Result<Sample, BoxError> {
    let backend = db.get_database_backend();
    let started = Instant::now();
    let mut values = kind.stamp();
    values.push(("deleted_by", "bench".into()));
    values.push(("deletion_reason", Option::<String>::None.into()));
    let mark = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let set = values
        .iter()
        .enumerate()
        .map(|(i, (column, _))| format!("{column} = {}", mark(i + 1)))
        .collect::<Vec<_>>()
        .join(", ");
    let guard = kind.guard(backend);
    let ids: Vec<i64> = (1..=rows).collect();
    let mut done = 0;
    for chunk in ids.chunks(batch) {
        let mut binds: Vec<Value> = values.iter().map(|(_, v)| v.clone()).collect();
        let keys = match backend {
            DbBackend::Postgres => {
                binds.push(Value::from(chunk.to_vec()));
                format!("id = ANY({})", mark(binds.len()))
            }
            _ => {
                let first = binds.len() + 1;
                binds.extend(chunk.iter().map(|&id| Value::from(id)));
                format!(
                    "id IN ({})",
                    (first..first + chunk.len())
                        .map(mark)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        };
        let sql = format!("UPDATE {} SET {set} WHERE {keys} AND {guard}", kind.table());
        let txn = db.begin().await?;
        done += txn
            .execute_raw(Statement::from_sql_and_values(backend, sql, binds))
            .await?
            .rows_affected();
        txn.commit().await?;
    }
    Ok(Sample::new(done, started.elapsed()))
}

/// The same work one row at a time through the library's one-record soft delete.
pub async fn row_by_row(
    db: &DatabaseConnection,
    kind: Kind,
    rows: i64,
) -> Result<Sample, BoxError> {
    let started = Instant::now();
    let mut done = 0;
    for id in 1..=rows {
        done += match kind {
            Kind::Flag => {
                flag_user::Entity::soft_delete_by_id(db, id)
                    .deleted_by("bench")
                    .await?
            }
            Kind::Paired => {
                paired_user::Entity::soft_delete_by_id(db, id)
                    .deleted_by("bench")
                    .await?
            }
            Kind::Active => {
                active_user::Entity::soft_delete_by_id(db, id)
                    .deleted_by("bench")
                    .await?
            }
            Kind::Epoch => {
                epoch_user::Entity::soft_delete_by_id(db, id)
                    .deleted_by("bench")
                    .await?
            }
        };
    }
    Ok(Sample::new(done, started.elapsed()))
}
