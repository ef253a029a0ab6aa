//! Schema helpers: tables and indexes for soft-delete entities, right on every backend.
//!
//! SeaORM's `Schema::create_table_from_entity` already sees the injected columns, but on
//! MySQL/MariaDB it maps `DateTimeUtc` to `timestamp`, which keeps whole seconds only: two
//! deletions in the same second become indistinguishable and sub-second cutoffs go wrong.
//! [`create_table_from_entity`] gives the soft-delete and audit timestamps `DATETIME(6)` there
//! and leaves every other backend and column as SeaORM makes them.

use sea_orm::sea_query::{
    ColumnDef, ColumnType, Index, IndexCreateStatement, Table, TableCreateStatement,
};
use sea_orm::{DbBackend, IdenStatic, Schema};

use crate::entity::SoftDelete;

/// The column type this crate gives soft-delete and audit timestamps on `backend`.
///
/// `timestamptz` on PostgreSQL, `DATETIME(6)` on MySQL/MariaDB (microseconds, no 2038 limit),
/// and SeaORM's text timestamp on SQLite.
pub fn timestamp_type(backend: DbBackend) -> ColumnType {
    match backend {
        DbBackend::MySql => ColumnType::custom("DATETIME(6)"),
        _ => ColumnType::TimestampWithTimeZone,
    }
}

/// The names of the timestamp columns this crate writes for `E`: `deleted_at` and, for audited
/// entities, `created_at` and `updated_at`.
pub(crate) fn timestamp_columns<E: SoftDelete>() -> Vec<&'static str> {
    let mut columns = vec![E::deleted_at_column().as_str()];
    if let Some(audit) = E::audit_columns() {
        columns.push(audit.created_at.as_str());
        columns.extend(audit.updated_at.map(|c| c.as_str()));
    }
    columns
}

/// `CREATE TABLE` for a soft-delete entity: SeaORM's statement, with the soft-delete and audit
/// timestamps given [`timestamp_type`].
///
/// # Examples
///
/// ```
/// # mod user {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete]
/// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
/// #     #[sea_orm(table_name = "users")]
/// #     pub struct Model {
/// #         #[sea_orm(primary_key)]
/// #         pub id: i64,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use sea_orm::DbBackend;
/// use sea_orm::sea_query::MysqlQueryBuilder;
/// use soft_delete_core::migration::create_table_from_entity;
///
/// let sql = create_table_from_entity::<user::Entity>(DbBackend::MySql).to_string(MysqlQueryBuilder);
/// assert!(sql.contains("`deleted_at` DATETIME(6) NULL"), "{sql}");
/// ```
pub fn create_table_from_entity<E: SoftDelete>(backend: DbBackend) -> TableCreateStatement {
    let original = Schema::new(backend).create_table_from_entity(E::default());
    if backend != DbBackend::MySql {
        return original;
    }
    let timestamps = timestamp_columns::<E>();
    let mut table = Table::create();
    if let Some(name) = original.get_table_name() {
        table.table(name.clone());
    }
    if let Some(comment) = original.get_comment() {
        table.comment(comment);
    }
    for column in original.get_columns() {
        let name = column.get_column_name();
        if timestamps.contains(&name.as_str()) {
            let mut replaced = ColumnDef::new_with_type(
                sea_orm::sea_query::Alias::new(name),
                timestamp_type(backend),
            );
            match column.get_column_spec().nullable {
                Some(false) => replaced.not_null(),
                _ => replaced.null(),
            };
            table.col(replaced);
        } else {
            table.col(column.clone());
        }
    }
    for index in original.get_indexes() {
        table.index(&mut index.clone());
    }
    for foreign_key in original.get_foreign_key_create_stmts() {
        table.foreign_key(&mut foreign_key.clone());
    }
    table
}

/// `CREATE INDEX idx_<table>_<deleted_at> ON <table> (<deleted_at>)`: what scopes and purges
/// filter on.
pub fn deleted_at_index<E: SoftDelete>() -> IndexCreateStatement {
    let entity = E::default();
    let column = E::deleted_at_column();
    Index::create()
        .name(format!("idx_{}_{}", entity.table_name(), column.as_str()))
        .table(entity.table_ref())
        .col(column)
        .to_owned()
}
