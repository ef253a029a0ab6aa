//! Schema helpers: tables, columns and indexes for soft-delete entities, right on every backend.
//!
//! * [`create_table_from_entity`]: SeaORM's `CREATE TABLE` for an entity, with timestamps that
//!   keep microseconds on MySQL/MariaDB (SeaORM maps `DateTimeUtc` to `timestamp` there, which
//!   keeps whole seconds: two deletions in the same second become indistinguishable and
//!   sub-second cutoffs go wrong).
//! * [`SoftDeleteTableExt`]: `Table::create()…soft_delete_columns(backend)` for hand-written
//!   migrations, and [`DeletedAtIndex`] for the index on `deleted_at`: which one this crate
//!   recommends per backend, with the measurements behind it ([`deleted_rows_index`],
//!   [`deleted_at_index`], [`deleted_at_index_on`]).
//! * [`AddSoftDeleteColumns`] (feature `migration`): a sea-orm-migration migration built from
//!   the entity type alone that adds the missing columns and the index to an existing table,
//!   idempotent on every backend, with a working `down`.
//! * [`create_unique_among_active`] (feature `migration`): uniqueness among the rows that are not
//!   soft-deleted, e.g. an email that a deleted user no longer holds. A partial unique index on
//!   PostgreSQL and SQLite; on MySQL/MariaDB, which have no partial indexes, a stored generated
//!   column that is 1 for active rows and NULL for deleted ones, inside the unique key (NULLs
//!   never collide in a unique index).

use sea_orm::sea_query::ConditionalStatement;
use sea_orm::sea_query::{
    Alias, ColumnDef, ColumnType, Index, IndexCreateStatement, Table, TableCreateStatement,
};
use sea_orm::{DbBackend, IdenStatic, Schema, Value};

use crate::entity::SoftDelete;
use crate::marker::Marker;
use crate::storage::Stored;
use crate::time::naive_timestamp_type;

pub use crate::time::timestamp_type;

/// The names of the timestamp columns this crate writes for `E`: `deleted_at` and, for audited
/// entities, `created_at` and `updated_at`.
pub(crate) fn timestamp_columns<E: SoftDelete>() -> Vec<E::Column> {
    let mut columns: Vec<E::Column> = E::marker().at_column().copied().into_iter().collect();
    if let Some(audit) = E::audit_columns() {
        columns.push(audit.created_at);
        columns.extend(audit.updated_at);
    }
    columns
}

/// The type of `E`'s timestamp column named `name`, as this crate creates it on `backend`:
/// [`timestamp_type`], or the type without a time zone for a column declared `DateTime`
/// (naive). `None` when `name` is none of `E`'s timestamps.
fn timestamp_type_of<E: SoftDelete>(backend: DbBackend, name: &str) -> Option<ColumnType> {
    let column = timestamp_columns::<E>()
        .into_iter()
        .find(|column| column.as_str() == name)?;
    Some(match column.storage().is_naive() {
        true => naive_timestamp_type(backend),
        false => timestamp_type(backend),
    })
}

/// The soft-delete columns of `E` (with its operation column and its audit columns, if any), in
/// order.
pub(crate) fn managed_columns<E: SoftDelete>() -> Vec<E::Column> {
    let mut columns: Vec<E::Column> = E::marker().columns().into_iter().copied().collect();
    columns.push(E::deleted_by_column());
    columns.push(E::deletion_reason_column());
    columns.extend(E::deletion_op_column());
    if let Some(audit) = E::audit_columns() {
        columns.push(audit.created_at);
        columns.push(audit.created_by);
        columns.extend(audit.updated_at);
        columns.extend(audit.updated_by);
    }
    columns
}

/// The value a marker's flag or epoch column holds for a live row, which it takes as its
/// default so that existing rows, and inserts that leave it out, are live. `None` for the
/// other columns (a timestamp is NULL while the row is live).
fn live_default<E: SoftDelete>(name: &str) -> Option<Value> {
    match E::marker() {
        Marker::Flag { flag, .. } if flag.as_str() == name => Some(flag.storage().flag(false)),
        Marker::Active { flag, .. } if flag.as_str() == name => Some(flag.storage().flag(true)),
        Marker::Epoch { column, .. } if column.as_str() == name => column.storage().int(0),
        _ => None,
    }
}

/// SeaORM's definition of one of `E`'s columns, with the timestamp type fixed for `backend`.
/// A marker's flag or epoch is `NOT NULL` with the live value as default, even where the other
/// columns are added as nullable.
fn column_def<E: SoftDelete>(backend: DbBackend, column: E::Column, nullable: bool) -> ColumnDef {
    let original = Schema::new(backend).get_column_def::<E>(column);
    let name = column.as_str();
    if let Some(live) = live_default::<E>(name) {
        let mut def = match original.get_column_type() {
            Some(ty) => ColumnDef::new_with_type(Alias::new(name), ty.clone()),
            None => original.clone(),
        };
        def.not_null().default(live);
        return def;
    }
    let mut def = if let Some(ty) = timestamp_type_of::<E>(backend, name) {
        ColumnDef::new_with_type(Alias::new(name), ty)
    } else {
        match original.get_column_type() {
            Some(ty) => ColumnDef::new_with_type(Alias::new(name), ty.clone()),
            None => original.clone(),
        }
    };
    if nullable || original.get_column_spec().nullable != Some(false) {
        def.null();
    } else {
        def.not_null();
    }
    def
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
    let marker = *E::marker().state_column();
    if backend != DbBackend::MySql && live_default::<E>(marker.as_str()).is_none() {
        return original;
    }
    let mut table = Table::create();
    if let Some(name) = original.get_table_name() {
        table.table(name.clone());
    }
    if let Some(comment) = original.get_comment() {
        table.comment(comment);
    }
    for column in original.get_columns() {
        let name = column.get_column_name();
        if let Some(live) = live_default::<E>(&name) {
            let mut replaced = column.clone();
            replaced.not_null().default(live);
            table.col(replaced);
        } else if backend == DbBackend::MySql
            && let Some(ty) = timestamp_type_of::<E>(backend, &name)
        {
            let mut replaced = ColumnDef::new_with_type(Alias::new(name), ty);
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

/// The name of `E`'s `deleted_at` index: `idx_<table>_<deleted_at>` (for other markers, the
/// column is the marker's [`index_column`](Marker::index_column)).
pub fn deleted_at_index_name<E: SoftDelete>() -> String {
    format!(
        "idx_{}_{}",
        E::default().table_name(),
        E::marker().index_column().as_str()
    )
}

/// `CREATE INDEX idx_<table>_<deleted_at> ON <table> (<deleted_at>)`: an index of every row.
///
/// It serves trash listings, purges and statistics, but every soft delete and restore must
/// move the row's entry in it; see [`DeletedAtIndex`] for what that costs and the index this
/// crate recommends instead.
pub fn deleted_at_index<E: SoftDelete>() -> IndexCreateStatement {
    Index::create()
        .name(deleted_at_index_name::<E>())
        .table(E::default().table_ref())
        .col(*E::marker().index_column())
        .to_owned()
}

/// The name of `E`'s deleted-rows index: `idx_<table>_<deleted_at>_deleted`.
pub fn deleted_rows_index_name<E: SoftDelete>() -> String {
    format!("{}_deleted", deleted_at_index_name::<E>())
}

/// `CREATE INDEX idx_<table>_<deleted_at>_deleted ON <table> (<deleted_at>) WHERE <deleted_at>
/// IS NOT NULL`: an index of the soft-deleted rows only (SQLite and PostgreSQL; MySQL and
/// MariaDB have no partial indexes).
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
/// use sea_orm::sea_query::PostgresQueryBuilder;
/// use soft_delete_core::migration::deleted_rows_index;
///
/// assert_eq!(
///     deleted_rows_index::<user::Entity>().to_string(PostgresQueryBuilder),
///     r#"CREATE INDEX "idx_users_deleted_at_deleted" ON "users" ("deleted_at") WHERE "users"."deleted_at" IS NOT NULL"#
/// );
/// ```
///
/// For other markers the index is keyed on the marker's
/// [`index_column`](Marker::index_column), over the rows its deleted test selects
/// (`WHERE is_deleted = TRUE`).
pub fn deleted_rows_index<E: SoftDelete>() -> IndexCreateStatement {
    let marker = E::marker();
    Index::create()
        .name(deleted_rows_index_name::<E>())
        .table(E::default().table_ref())
        .col(*marker.index_column())
        .and_where(marker.deleted())
        .to_owned()
}

/// Which index a soft-delete table gets on `deleted_at`, and which one this crate recommends
/// per backend.
///
/// Soft delete and restore change `deleted_at`, so every index that contains the column must be
/// updated for every row they change, while what needs an index on `deleted_at` (trash
/// listings, `deleted_before`, a purge's dry-run count) reads only deleted rows. Measured with
/// the bench in one run per backend (`--index plain|deleted|none`; the README has the tables):
///
/// | backend | recommended | why |
/// |---|---|---|
/// | SQLite | [`DeletedRows`](Self::DeletedRows) | bulk soft delete 1.6x and restore 1.1x faster than with the plain index (1M rows), and it serves trash queries |
/// | PostgreSQL | [`DeletedRows`](Self::DeletedRows) | bulk work as fast as with the plain index (within the noise), no entry for active rows, serves trash queries |
/// | MySQL/MariaDB | [`None`](Self::None) | no partial indexes; the plain index cost bulk soft delete 1.5x, restore 1.9x and purge 1.9x (300k rows) |
///
/// No index at all is faster still for bulk work (SQLite soft delete 1.5x, PostgreSQL 1.3x
/// faster than with the recommended index): choose [`None`](Self::None) where nothing lists
/// or counts deleted rows.
///
/// On MySQL/MariaDB, add [`Plain`](Self::Plain) when trash listings must not scan the table,
/// and accept its cost on bulk work. Purges and bulk updates never need an index on
/// `deleted_at`: they reach rows by primary key (`tests/tests/it/query_plans.rs` pins that on every
/// backend, with each kind of index).
///
/// [`AddSoftDeleteColumns`] creates the recommended index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeletedAtIndex {
    /// `… (deleted_at) WHERE deleted_at IS NOT NULL` ([`deleted_rows_index`]).
    DeletedRows,
    /// `… (deleted_at)`, every row ([`deleted_at_index`]).
    Plain,
    /// No index on `deleted_at`.
    None,
}

impl DeletedAtIndex {
    /// The index this crate recommends on `backend`.
    pub fn recommended(backend: DbBackend) -> DeletedAtIndex {
        match backend {
            DbBackend::MySql => DeletedAtIndex::None,
            _ => DeletedAtIndex::DeletedRows,
        }
    }

    /// The statement that creates this index for `E` on `backend`; `None` for
    /// [`None`](Self::None), and for [`DeletedRows`](Self::DeletedRows) on MySQL/MariaDB, which
    /// cannot build it.
    pub fn statement<E: SoftDelete>(self, backend: DbBackend) -> Option<IndexCreateStatement> {
        match (self, backend) {
            (DeletedAtIndex::DeletedRows, DbBackend::MySql) => None,
            (DeletedAtIndex::DeletedRows, _) => Some(deleted_rows_index::<E>()),
            (DeletedAtIndex::Plain, _) => Some(deleted_at_index::<E>()),
            (DeletedAtIndex::None, _) => None,
        }
    }

    /// The name of the index [`statement`](Self::statement) creates.
    pub fn name<E: SoftDelete>(self) -> Option<String> {
        match self {
            DeletedAtIndex::DeletedRows => Some(deleted_rows_index_name::<E>()),
            DeletedAtIndex::Plain => Some(deleted_at_index_name::<E>()),
            DeletedAtIndex::None => None,
        }
    }
}

/// `CREATE INDEX idx_<table>_<column> ON <table> (<column>)` for a table without an entity.
pub fn deleted_at_index_on(table: &str, column: &str) -> IndexCreateStatement {
    Index::create()
        .name(format!("idx_{table}_{column}"))
        .table(Alias::new(table))
        .col(Alias::new(column))
        .to_owned()
}

/// Soft-delete and audit columns for `Table::create()`, typed for the backend.
///
/// # Examples
///
/// ```
/// use sea_orm::DbBackend;
/// use sea_orm::sea_query::{Alias, ColumnDef, PostgresQueryBuilder, SqliteQueryBuilder, MysqlQueryBuilder, Table};
/// use soft_delete_core::migration::SoftDeleteTableExt;
///
/// let table = |backend| {
///     Table::create()
///         .table(Alias::new("posts"))
///         .col(ColumnDef::new(Alias::new("id")).big_integer().primary_key())
///         .soft_delete_columns(backend)
///         .to_owned()
/// };
/// assert_eq!(
///     table(DbBackend::Postgres).to_string(PostgresQueryBuilder),
///     r#"CREATE TABLE "posts" ( "id" bigint PRIMARY KEY, "deleted_at" timestamp with time zone NULL, "deleted_by" varchar NULL, "deletion_reason" text NULL )"#
/// );
/// assert_eq!(
///     table(DbBackend::MySql).to_string(MysqlQueryBuilder),
///     "CREATE TABLE `posts` ( `id` bigint PRIMARY KEY, `deleted_at` DATETIME(6) NULL, `deleted_by` varchar(255) NULL, `deletion_reason` text NULL )"
/// );
/// assert_eq!(
///     table(DbBackend::Sqlite).to_string(SqliteQueryBuilder),
///     r#"CREATE TABLE "posts" ( "id" integer PRIMARY KEY, "deleted_at" timestamp_with_timezone_text NULL, "deleted_by" varchar NULL, "deletion_reason" text NULL )"#
/// );
/// ```
pub trait SoftDeleteTableExt {
    /// Adds `deleted_at`, `deleted_by` and `deletion_reason`, all nullable.
    fn soft_delete_columns(&mut self, backend: DbBackend) -> &mut Self;

    /// Adds `created_at`, `created_by`, `updated_at` and `updated_by`, all nullable.
    fn audit_columns(&mut self, backend: DbBackend) -> &mut Self;

    /// Adds `E`'s soft-delete (and audit) columns, under `E`'s column names and types.
    fn soft_delete_columns_of<E: SoftDelete>(&mut self, backend: DbBackend) -> &mut Self;
}

impl SoftDeleteTableExt for TableCreateStatement {
    fn soft_delete_columns(&mut self, backend: DbBackend) -> &mut Self {
        self.col(ColumnDef::new_with_type(Alias::new("deleted_at"), timestamp_type(backend)).null())
            .col(ColumnDef::new(Alias::new("deleted_by")).string().null())
            .col(ColumnDef::new(Alias::new("deletion_reason")).text().null())
    }

    fn audit_columns(&mut self, backend: DbBackend) -> &mut Self {
        self.col(ColumnDef::new_with_type(Alias::new("created_at"), timestamp_type(backend)).null())
            .col(ColumnDef::new(Alias::new("created_by")).string().null())
            .col(ColumnDef::new_with_type(Alias::new("updated_at"), timestamp_type(backend)).null())
            .col(ColumnDef::new(Alias::new("updated_by")).string().null())
    }

    fn soft_delete_columns_of<E: SoftDelete>(&mut self, backend: DbBackend) -> &mut Self {
        for column in managed_columns::<E>() {
            self.col(column_def::<E>(backend, column, false));
        }
        self
    }
}

/// The name of the unique index [`create_unique_among_active`] makes for these columns:
/// `ux_<table>_<columns>_active`, shortened to fit every backend's 63-character limit.
pub fn unique_among_active_name<E: SoftDelete>(columns: &[E::Column]) -> String {
    let mut name = format!("ux_{}", E::default().table_name());
    for column in columns {
        name.push('_');
        name.push_str(column.as_str());
    }
    let mut name = shortened(name);
    name.push_str("_active");
    name
}

/// `name` as it is when it has at most 56 bytes; otherwise its first 46 bytes (cut at a
/// character boundary: a table may be named in any script) and a hash of the whole.
fn shortened(mut name: String) -> String {
    if name.len() > 56 {
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let mut end = 46;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
        name.push_str(&format!("_{:08x}", hash as u32));
    }
    name
}

#[cfg(test)]
mod naming_tests {
    #[test]
    fn long_names_of_any_script_are_shortened_without_a_panic() {
        let short = super::shortened("ux_users_email".to_owned());
        assert_eq!(short, "ux_users_email");
        // 3-byte characters: byte 46 falls inside one.
        let long = format!("ux_{}", "表".repeat(30));
        let shortened = super::shortened(long.clone());
        assert!(shortened.len() <= 56, "{shortened}");
        assert!(shortened.starts_with("ux_表"), "{shortened}");
        assert_ne!(shortened, super::shortened(format!("{long}x")));
    }
}

/// The generated column that MySQL/MariaDB uniqueness among active rows is built on.
pub const ACTIVE_FLAG_COLUMN: &str = "soft_delete_active";

/// The default archive of `E`: `<table>_archive`, in `E`'s schema when it has one.
pub fn archive_table_name<E: sea_orm::EntityTrait>() -> String {
    format!("{}_archive", crate::sql::Table::of::<E>().name())
}

/// `CREATE TABLE IF NOT EXISTS <name>` for `E`'s archive on `backend` (see [`crate::archive`]). A bare `name` is a table in `E`'s schema; `schema.table` names
/// another.
pub fn create_archive_table<E: SoftDelete>(backend: DbBackend, name: &str) -> TableCreateStatement {
    let source = crate::migration::create_table_from_entity::<E>(backend);
    let mut table = Table::create();
    table
        .table(crate::sql::Table::of::<E>().sibling(name).table_name())
        .if_not_exists();
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
            Alias::new(crate::step::archive::ARCHIVED_AT),
            crate::time::timestamp_type(backend),
        )
        .not_null(),
    );
    table.to_owned()
}

/// `CREATE INDEX idx_<name>_key ON <name> (<E's key columns>)`: finds a key's archived copies.
pub fn archive_key_index<E: SoftDelete>(name: &str) -> IndexCreateStatement {
    let table = crate::sql::Table::of::<E>().sibling(name);
    let mut index = Index::create();
    index
        .name(archive_key_index_name(table.name()))
        .table(table.table_name());
    for column in crate::sql::key_columns::<E>() {
        index.col(Alias::new(column.as_str()));
    }
    index.to_owned()
}

/// The name of [`archive_key_index`]: `idx_<name>_key`.
pub fn archive_key_index_name(name: &str) -> String {
    format!("idx_{name}_key")
}

#[cfg(feature = "migration")]
pub use with_migration::*;

#[cfg(feature = "migration")]
mod with_migration {
    use std::marker::PhantomData;

    use sea_orm::sea_query::{
        Alias, ColumnDef, ConditionalStatement, Expr, Index, IntoIden, Table,
    };
    use sea_orm::{ConnectionTrait, DbBackend, DbErr, IdenStatic};
    use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

    use super::{
        ACTIVE_FLAG_COLUMN, DeletedAtIndex, column_def, deleted_at_index_name,
        deleted_rows_index_name, managed_columns, unique_among_active_name,
    };
    use crate::entity::SoftDelete;

    /// A migration that adds `E`'s soft-delete (and audit) columns and its `deleted_at` index to
    /// an existing table. List it in a `Migrator` like any other:
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
    /// use sea_orm_migration::{MigrationName, MigrationTrait, MigratorTrait};
    /// use soft_delete_core::migration::AddSoftDeleteColumns;
    ///
    /// pub struct Migrator;
    ///
    /// impl MigratorTrait for Migrator {
    ///     fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    ///         vec![Box::new(AddSoftDeleteColumns::<user::Entity>::new())]
    ///     }
    /// }
    ///
    /// assert_eq!(
    ///     AddSoftDeleteColumns::<user::Entity>::new().name(),
    ///     "m_soft_delete_add_columns_users"
    /// );
    /// ```
    ///
    /// `up` checks each column and the index with the schema manager before adding it, so it is
    /// idempotent on SQLite, PostgreSQL and MySQL/MariaDB alike, and adds one column per `ALTER
    /// TABLE` (SQLite takes no more). Columns are added as nullable: existing rows have no
    /// deletion or creation data. The index is the one [`DeletedAtIndex::recommended`] names
    /// for the backend, unless [`with_index`](Self::with_index) chose another. `down` drops
    /// either kind of `deleted_at` index this crate makes and every one of these columns that
    /// exists, including any that the table had before `up` ran.
    pub struct AddSoftDeleteColumns<E> {
        name: String,
        index: Option<DeletedAtIndex>,
        _entity: PhantomData<fn() -> E>,
    }

    impl<E> std::fmt::Debug for AddSoftDeleteColumns<E> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("AddSoftDeleteColumns")
                .field("name", &self.name)
                .field("index", &self.index)
                .finish()
        }
    }

    impl<E: SoftDelete> AddSoftDeleteColumns<E> {
        /// The migration for `E`, named `m_soft_delete_add_columns_<schema>_<table>`.
        pub fn new() -> Self {
            let entity = E::default();
            let name = match entity.schema_name() {
                Some(schema) => {
                    format!("m_soft_delete_add_columns_{schema}_{}", entity.table_name())
                }
                None => format!("m_soft_delete_add_columns_{}", entity.table_name()),
            };
            AddSoftDeleteColumns {
                name,
                index: None,
                _entity: PhantomData,
            }
        }

        /// Creates `index` instead of the recommended one ([`DeletedAtIndex::None`]: no index).
        pub fn with_index(mut self, index: DeletedAtIndex) -> Self {
            self.index = Some(index);
            self
        }
    }

    impl<E: SoftDelete> Default for AddSoftDeleteColumns<E> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<E: SoftDelete> MigrationName for AddSoftDeleteColumns<E> {
        fn name(&self) -> &str {
            &self.name
        }
    }

    // `MigrationTrait` is declared with an elided `SchemaManager` lifetime; async-trait needs the
    // impl to match it exactly.
    #[allow(elided_lifetimes_in_paths)]
    #[async_trait::async_trait]
    impl<E: SoftDelete> MigrationTrait for AddSoftDeleteColumns<E> {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let backend = manager.get_database_backend();
            let entity = E::default();
            let table = entity.table_name();
            for column in managed_columns::<E>() {
                if manager.has_column(table, column.as_str()).await? {
                    continue;
                }
                manager
                    .alter_table(
                        Table::alter()
                            .table(entity.table_ref())
                            .add_column(column_def::<E>(backend, column, true))
                            .to_owned(),
                    )
                    .await?;
            }
            let index = self
                .index
                .unwrap_or_else(|| DeletedAtIndex::recommended(backend));
            if let (Some(name), Some(statement)) =
                (index.name::<E>(), index.statement::<E>(backend))
                && !manager.has_index(table, &name).await?
            {
                manager.create_index(statement).await?;
            }
            Ok(())
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let entity = E::default();
            let table = entity.table_name();
            drop_index_if_present::<E>(manager, &deleted_at_index_name::<E>()).await?;
            drop_index_if_present::<E>(manager, &deleted_rows_index_name::<E>()).await?;
            for column in managed_columns::<E>().into_iter().rev() {
                if !manager.has_column(table, column.as_str()).await? {
                    continue;
                }
                manager
                    .alter_table(
                        Table::alter()
                            .table(entity.table_ref())
                            .drop_column(column)
                            .to_owned(),
                    )
                    .await?;
            }
            Ok(())
        }
    }

    /// A migration that creates the [operation log](crate::operation_log)'s table, its index
    /// and its parts table (for [parallel](crate::BatchOptions::parallel) operations),
    /// idempotently; `down` drops both tables. A log made by an earlier version of this
    /// migration lacks the parts table: create it with
    /// [`create_parts_table`](crate::operation_log::create_parts_table).
    ///
    /// ```
    /// use sea_orm_migration::MigrationName;
    /// use soft_delete_core::migration::CreateOperationLog;
    ///
    /// assert_eq!(CreateOperationLog::new().name(), "m_soft_delete_create_soft_delete_operations");
    /// assert_eq!(CreateOperationLog::named("ops").table(), "ops");
    /// ```
    #[derive(Debug, Clone)]
    pub struct CreateOperationLog {
        table: String,
        name: String,
    }

    impl CreateOperationLog {
        /// The log with the default name, [`DEFAULT_TABLE`](crate::operation_log::DEFAULT_TABLE).
        pub fn new() -> Self {
            Self::named(crate::config::DEFAULT_OPERATION_LOG)
        }

        /// The log named `table` (as in [`SoftDeleteConfig::operation_log`](crate::SoftDeleteConfig::operation_log)).
        pub fn named(table: impl Into<String>) -> Self {
            let table = table.into();
            CreateOperationLog {
                name: format!("m_soft_delete_create_{table}"),
                table,
            }
        }

        /// The table it creates.
        pub fn table(&self) -> &str {
            &self.table
        }
    }

    impl Default for CreateOperationLog {
        fn default() -> Self {
            Self::new()
        }
    }

    impl MigrationName for CreateOperationLog {
        fn name(&self) -> &str {
            &self.name
        }
    }

    #[allow(elided_lifetimes_in_paths)]
    #[async_trait::async_trait]
    impl MigrationTrait for CreateOperationLog {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            use crate::operation_log::{create_table, index, index_name};
            let backend = manager.get_database_backend();
            create_table_with_index(
                manager,
                create_table(backend, &self.table),
                &self.table,
                &index_name(&self.table),
                index(&self.table),
            )
            .await?;
            manager
                .create_table(crate::operation_log::create_parts_table(&self.table))
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            let parts = crate::operation_log::parts_table_name(&self.table);
            drop_table_if_present(manager, &parts).await?;
            drop_table_if_present(manager, &self.table).await
        }
    }

    /// A migration that creates `E`'s [archive table](crate::archive) and the index on its
    /// original key, idempotently; `down` drops the table. Named
    /// `m_soft_delete_create_<archive>`.
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
    /// use sea_orm_migration::MigrationName;
    /// use soft_delete_core::migration::CreateArchiveTable;
    ///
    /// let migration = CreateArchiveTable::<user::Entity>::new();
    /// assert_eq!(migration.table(), "users_archive");
    /// assert_eq!(migration.name(), "m_soft_delete_create_users_archive");
    /// ```
    pub struct CreateArchiveTable<E> {
        table: String,
        name: String,
        _entity: PhantomData<fn() -> E>,
    }

    impl<E> std::fmt::Debug for CreateArchiveTable<E> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("CreateArchiveTable")
                .field("table", &self.table)
                .finish()
        }
    }

    impl<E: SoftDelete> CreateArchiveTable<E> {
        /// The entity's default archive, `<table>_archive`.
        pub fn new() -> Self {
            Self::named(crate::migration::archive_table_name::<E>())
        }

        /// An archive named `table`.
        pub fn named(table: impl Into<String>) -> Self {
            let table = table.into();
            CreateArchiveTable {
                name: format!("m_soft_delete_create_{table}"),
                table,
                _entity: PhantomData,
            }
        }

        /// The table it creates.
        pub fn table(&self) -> &str {
            &self.table
        }
    }

    impl<E: SoftDelete> Default for CreateArchiveTable<E> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<E> MigrationName for CreateArchiveTable<E> {
        fn name(&self) -> &str {
            &self.name
        }
    }

    #[allow(elided_lifetimes_in_paths)]
    #[async_trait::async_trait]
    impl<E: SoftDelete> MigrationTrait for CreateArchiveTable<E> {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            use crate::migration::{
                archive_key_index, archive_key_index_name, create_archive_table,
            };
            create_table_with_index(
                manager,
                create_archive_table::<E>(manager.get_database_backend(), &self.table),
                &self.table,
                &archive_key_index_name(&self.table),
                archive_key_index::<E>(&self.table),
            )
            .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            drop_table_if_present(manager, &self.table).await
        }
    }

    /// `table` (a `CREATE TABLE IF NOT EXISTS`), then its index `index_name` unless the schema
    /// manager finds it: what the crate's table migrations do in `up`.
    async fn create_table_with_index(
        manager: &SchemaManager<'_>,
        table: sea_orm::sea_query::TableCreateStatement,
        name: &str,
        index_name: &str,
        index: sea_orm::sea_query::IndexCreateStatement,
    ) -> Result<(), DbErr> {
        manager.create_table(table).await?;
        if !manager.has_index(name, index_name).await? {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    /// `DROP TABLE IF EXISTS name`: what the crate's table migrations do in `down`.
    async fn drop_table_if_present(manager: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new(name)).if_exists().to_owned())
            .await
    }

    /// Drops index `name` of `E`'s table if the schema manager finds it.
    async fn drop_index_if_present<E: SoftDelete>(
        manager: &SchemaManager<'_>,
        name: &str,
    ) -> Result<(), DbErr> {
        let entity = E::default();
        if manager.has_index(entity.table_name(), name).await? {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(entity.table_ref())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    /// Makes `columns` unique among the rows of `E` that are not soft-deleted: two active rows
    /// may not share the values, while any number of deleted rows may (and restoring a row into
    /// a conflict is rejected). Idempotent.
    ///
    /// * PostgreSQL and SQLite: `CREATE UNIQUE INDEX … (columns) WHERE deleted_at IS NULL`.
    /// * MySQL/MariaDB: a stored generated column [`ACTIVE_FLAG_COLUMN`] (`CASE WHEN deleted_at
    ///   IS NULL THEN 1 ELSE NULL END`, shared by all such indexes of the table), then `CREATE
    ///   UNIQUE INDEX … (columns, soft_delete_active)`. Models need not declare the column.
    ///
    /// For other [markers](crate::marker) the live test is the marker's (`is_deleted = FALSE`,
    /// `deleted_epoch = 0`, …). An epoch gets the generated column on MySQL/MariaDB too: the
    /// shorter `UNIQUE (columns, deleted_epoch)` that such schemas often carry works with this
    /// crate as it is, but refuses the soft delete of a second row with the same values in the
    /// same second (or millisecond).
    ///
    /// # Errors
    ///
    /// The database error, e.g. when active rows already hold duplicates.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # mod user {
    /// #     use sea_orm::entity::prelude::*;
    /// #     #[soft_delete_core::soft_delete]
    /// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    /// #     #[sea_orm(table_name = "users")]
    /// #     pub struct Model {
    /// #         #[sea_orm(primary_key)]
    /// #         pub id: i64,
    /// #         pub email: String,
    /// #     }
    /// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    /// #     pub enum Relation {}
    /// #     impl ActiveModelBehavior for ActiveModel {}
    /// # }
    /// use sea_orm_migration::SchemaManager;
    /// use soft_delete_core::migration::create_unique_among_active;
    ///
    /// # async fn up(manager: &SchemaManager<'_>) -> Result<(), sea_orm::DbErr> {
    /// create_unique_among_active::<user::Entity>(manager, &[user::Column::Email]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_unique_among_active<E: SoftDelete>(
        manager: &SchemaManager<'_>,
        columns: &[E::Column],
    ) -> Result<(), DbErr> {
        let entity = E::default();
        let table = entity.table_name();
        let name = unique_among_active_name::<E>(columns);
        if manager.has_index(table, &name).await? {
            return Ok(());
        }
        let mut index = Index::create();
        index.name(&name).table(entity.table_ref()).unique();
        for column in columns {
            index.col(*column);
        }
        let marker = E::marker();
        match manager.get_database_backend() {
            // Also for an epoch: `UNIQUE (email, deleted_epoch)` would hold live rows apart
            // without a generated column, but two rows with one email deleted in the same second
            // would then collide, which uniqueness among active rows must never refuse.
            DbBackend::MySql => {
                if !manager.has_column(table, ACTIVE_FLAG_COLUMN).await? {
                    let flag = Expr::case(marker.live(), 1).finally(Expr::null());
                    manager
                        .alter_table(
                            Table::alter()
                                .table(entity.table_ref())
                                .add_column(
                                    ColumnDef::new(Alias::new(ACTIVE_FLAG_COLUMN))
                                        .tiny_integer()
                                        .generated(flag, true),
                                )
                                .to_owned(),
                        )
                        .await?;
                }
                index.col(Alias::new(ACTIVE_FLAG_COLUMN).into_iden());
            }
            _ => {
                index.and_where(marker.live());
            }
        }
        manager.create_index(index).await
    }

    /// Undoes [`create_unique_among_active`]: drops the index and, on MySQL/MariaDB, the
    /// generated column once no index of the table uses it any more. Idempotent.
    ///
    /// # Errors
    ///
    /// The database error.
    pub async fn drop_unique_among_active<E: SoftDelete>(
        manager: &SchemaManager<'_>,
        columns: &[E::Column],
    ) -> Result<(), DbErr> {
        let entity = E::default();
        let table = entity.table_name();
        drop_index_if_present::<E>(manager, &unique_among_active_name::<E>(columns)).await?;
        if manager.get_database_backend() == DbBackend::MySql
            && manager.has_column(table, ACTIVE_FLAG_COLUMN).await?
        {
            let still_used = manager
                .get_connection()
                .query_one_raw(sea_orm::Statement::from_sql_and_values(
                    DbBackend::MySql,
                    "SELECT COUNT(*) FROM information_schema.STATISTICS \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
                    [table.into(), ACTIVE_FLAG_COLUMN.into()],
                ))
                .await?
                .map(|row| row.try_get_by_index::<i64>(0))
                .transpose()?
                .unwrap_or(0);
            if still_used == 0 {
                manager
                    .alter_table(
                        Table::alter()
                            .table(entity.table_ref())
                            .drop_column(Alias::new(ACTIVE_FLAG_COLUMN))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}
