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

pub use crate::migration::{
    archive_key_index, archive_key_index_name, archive_table_name, create_archive_table,
};

/// The archive's column for when a row was archived (the purge's timestamp).
pub const ARCHIVED_AT: &str = crate::step::archive::ARCHIVED_AT;
