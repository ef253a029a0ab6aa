//! Archive tables: where a purge with `.archive()` copies the rows it deletes, in the same
//! transaction, so that every row is in exactly one of the two tables.
//!
//! An entity's archive has every column of the entity, with the types
//! [`create_table_from_entity`](crate::migration::create_table_from_entity) gives them but all
//! nullable and without keys, unique indexes or defaults (a row purged, re-created and purged
//! again is archived twice), and [`ARCHIVED_AT`], the purge's timestamp. It has no key of its
//! own: on PostgreSQL an identity key cost the archive 40% of its rate (300k rows moved in one
//! statement: 657 ms with one, 399 ms without). [`archive_key_index`] (which the migration
//! creates) finds a row's archived copies by the entity's key. It is named `<table>_archive`
//! unless a purge names another ([`Purge::archive_into`](crate::bulk::Bulk::archive_into)).
//!
//! Each batch of such a purge archives and deletes the same rows, in one transaction, so that
//! a row another transaction restores or changes meanwhile cannot end in both tables or in
//! neither:
//!
//! * PostgreSQL: one statement, `WITH soft_delete_moved AS (DELETE FROM <table> WHERE <range>
//!   RETURNING …) INSERT INTO <archive> (…, archived_at) SELECT …, $n FROM soft_delete_moved`.
//! * SQLite: `INSERT INTO <archive> … SELECT … WHERE <range>`, then `DELETE … WHERE <range>`,
//!   both under the batch's write lock, which no other connection can take in between.
//! * MySQL/MariaDB (and entities with bulk hooks, on every backend): the batch reads and locks
//!   its keys first (`SELECT … FOR UPDATE`), then copies and deletes by those keys. Under
//!   `READ COMMITTED`, InnoDB would let a row of the range change between two statements that
//!   did not lock it.
//!
//! Every batch also checks that the archive received as many rows as were deleted, and a batch
//! that fails rolls back both.
//!
//! ```
//! # mod user {
//! #     use sea_orm::entity::prelude::*;
//! #     #[soft_delete_core::soft_delete]
//! #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//! #     #[sea_orm(table_name = "users")]
//! #     pub struct Model {
//! #         #[sea_orm(primary_key)]
//! #         pub id: i64,
//! #         pub email: String,
//! #     }
//! #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//! #     pub enum Relation {}
//! #     impl ActiveModelBehavior for ActiveModel {}
//! # }
//! use sea_orm::DbBackend;
//! use sea_orm::sea_query::PostgresQueryBuilder;
//! use soft_delete_core::archive::{archive_table_name, create_archive_table};
//!
//! assert_eq!(archive_table_name::<user::Entity>(), "users_archive");
//! let sql = create_archive_table::<user::Entity>(DbBackend::Postgres, "users_archive")
//!     .to_string(PostgresQueryBuilder);
//! assert!(sql.starts_with(r#"CREATE TABLE IF NOT EXISTS "users_archive" ( "id" bigint NULL"#), "{sql}");
//! assert!(sql.contains(r#""email" varchar NULL"#), "{sql}");
//! assert!(sql.ends_with(r#""archived_at" timestamp with time zone NOT NULL )"#), "{sql}");
//! ```

use sea_orm::sea_query::{
    Alias, ColumnDef, Condition, Expr, Index, IndexCreateStatement, IntoIden, Query, Table,
    TableCreateStatement,
};
use sea_orm::{DbBackend, EntityTrait, IdenStatic, Iterable, Statement};

use crate::entity::{SoftDelete, Timestamp, timestamp_value};
use crate::error::{Error, Result};

/// The archive's column for when a row was archived (the purge's timestamp).
pub const ARCHIVED_AT: &str = "archived_at";

/// The default archive of `E`: `<table>_archive`.
pub fn archive_table_name<E: EntityTrait>() -> String {
    format!("{}_archive", E::default().table_name())
}

/// `CREATE TABLE IF NOT EXISTS <name>` for `E`'s archive on `backend` (see the [module
/// documentation](self)).
pub fn create_archive_table<E: SoftDelete>(backend: DbBackend, name: &str) -> TableCreateStatement {
    let source = crate::migration::create_table_from_entity::<E>(backend);
    let mut table = Table::create();
    table.table(Alias::new(name)).if_not_exists();
    for column in source.get_columns() {
        let name = column.get_column_name();
        let mut copy = match column.get_column_type() {
            Some(ty) => ColumnDef::new_with_type(Alias::new(&name), ty.clone()),
            None => ColumnDef::new(Alias::new(&name)),
        };
        copy.null();
        table.col(copy);
    }
    table.col(
        ColumnDef::new_with_type(
            Alias::new(ARCHIVED_AT),
            crate::migration::timestamp_type(backend),
        )
        .not_null(),
    );
    table.to_owned()
}

/// `CREATE INDEX idx_<name>_key ON <name> (<E's key columns>)`: finds a key's archived copies.
pub fn archive_key_index<E: SoftDelete>(name: &str) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(archive_key_index_name(name))
        .table(Alias::new(name));
    for column in crate::bulk::sql::key_columns::<E>() {
        index.col(Alias::new(column.as_str()));
    }
    index.to_owned()
}

/// The name of [`archive_key_index`]: `idx_<name>_key`.
pub fn archive_key_index_name(name: &str) -> String {
    format!("idx_{name}_key")
}

/// Checks that the archive table `table` exists, naming it when it does not.
pub(crate) async fn probe<C: sea_orm::ConnectionTrait>(db: &C, table: &str) -> Result<()> {
    if crate::prune::table_exists(db, table).await? {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        name: "archive",
        reason: format!(
            "the archive table `{table}` does not exist; create it with `CreateArchiveTable` or \
             `create_archive_table`"
        ),
    })
}

/// Where a purge archives its rows, and with which stamp.
#[derive(Clone, Debug)]
pub(crate) struct ArchiveTo {
    pub(crate) table: String,
    pub(crate) at: Timestamp,
}

impl ArchiveTo {
    /// `INSERT INTO <archive> (<every column>, archived_at) SELECT <every column>, ? FROM
    /// <table> WHERE keys`.
    pub(crate) fn copy<E: SoftDelete>(&self, backend: DbBackend, keys: Condition) -> Statement {
        let columns: Vec<E::Column> = E::Column::iter().collect();
        let mut select = Query::select();
        select
            .columns(columns.iter().copied())
            .expr(Expr::val(timestamp_value(self.at)))
            .from(E::default().table_ref())
            .cond_where(keys);
        let mut insert = Query::insert();
        insert.into_table(Alias::new(&self.table)).columns(
            columns
                .iter()
                .map(|column| Alias::new(column.as_str()).into_iden())
                .chain([Alias::new(ARCHIVED_AT).into_iden()]),
        );
        insert
            .select_from(select)
            .expect("the SELECT names as many columns as the INSERT");
        backend.build(&insert)
    }

    /// PostgreSQL's move of the rows `delete` removes: `WITH soft_delete_moved AS (<delete>
    /// RETURNING <every column>) INSERT INTO <archive> (<every column>, archived_at) SELECT
    /// <every column>, $n FROM soft_delete_moved`. Its count is the rows moved.
    pub(crate) fn move_rows<E: SoftDelete>(&self, delete: Statement) -> Statement {
        let backend = delete.db_backend;
        let quote = |name: &str| crate::bulk::sql::quote(backend, name);
        let columns = E::Column::iter()
            .map(|column| quote(column.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut values = delete.values.map(|v| v.0).unwrap_or_default();
        values.push(timestamp_value(self.at));
        let sql = format!(
            "WITH soft_delete_moved AS ({} RETURNING {columns}) INSERT INTO {} ({columns}, {}) \
             SELECT {columns}, ${} FROM soft_delete_moved",
            delete.sql,
            quote(&self.table),
            quote(ARCHIVED_AT),
            values.len()
        );
        Statement::from_sql_and_values(backend, sql, values)
    }

    /// Refuses a batch whose copy and delete counted different rows (rolled back by the caller).
    pub(crate) fn check(&self, copied: u64, deleted: u64) -> Result<()> {
        if copied == deleted {
            return Ok(());
        }
        Err(Error::Db(sea_orm::DbErr::Custom(format!(
            "the archive `{}` received {copied} rows but the purge deleted {deleted}: the batch \
             is rolled back so that no row is in both tables or in neither",
            self.table
        ))))
    }
}
