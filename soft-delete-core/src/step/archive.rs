//! How a batch of a purge with an archive moves its rows (see [`crate::archive`] for what the
//! archive is and how each backend keeps every row in exactly one of the two tables).

use sea_orm::sea_query::{Alias, Condition, Expr, IntoIden, Query};
use sea_orm::{DbBackend, EntityTrait, IdenStatic, Iterable, Statement};

use crate::error::{Error, Result};
use crate::sql::{Table, quote, table_exists_apart};
use crate::time::{Timestamp, timestamp_value};

/// The archive's column for when a row was archived (the purge's timestamp).
pub(crate) const ARCHIVED_AT: &str = "archived_at";

/// Where a purge archives its rows, and with which stamp.
#[derive(Clone, Debug)]
pub(crate) struct ArchiveTo {
    pub(crate) table: Table,
    pub(crate) at: Timestamp,
}

impl ArchiveTo {
    /// `INSERT INTO <archive> (<every column>, archived_at) SELECT <every column>, ? FROM
    /// <table> WHERE rows`.
    pub(crate) fn copy<E: EntityTrait>(&self, backend: DbBackend, rows: Condition) -> Statement {
        let source = Table::of::<E>();
        let columns: Vec<E::Column> = E::Column::iter().collect();
        let mut select = Query::select();
        for column in &columns {
            select.column(source.column(*column));
        }
        select
            .expr(Expr::val(timestamp_value(self.at)))
            .from(source.table_ref())
            .cond_where(rows);
        let mut insert = Query::insert();
        insert.into_table(self.table.table_ref()).columns(
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
    pub(crate) fn move_rows<E: EntityTrait>(&self, delete: Statement) -> Statement {
        let backend = delete.db_backend;
        let columns = E::Column::iter()
            .map(|column| quote(backend, column.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let mut values = delete.values.map(|v| v.0).unwrap_or_default();
        values.push(timestamp_value(self.at));
        let sql = format!(
            "WITH soft_delete_moved AS ({} RETURNING {columns}) INSERT INTO {} ({columns}, {}) \
             SELECT {columns}, ${} FROM soft_delete_moved",
            delete.sql,
            self.table.sql(backend),
            quote(backend, ARCHIVED_AT),
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

    /// Checks that the archive table exists, naming it when it does not.
    pub(crate) async fn probe<C: sea_orm::TransactionTrait>(&self, db: &C) -> Result<()> {
        if table_exists_apart(db, &self.table).await? {
            return Ok(());
        }
        Err(Error::InvalidArgument {
            name: "archive",
            reason: format!(
                "the archive table `{}` does not exist; create it with `CreateArchiveTable` or \
                 `create_archive_table`",
                self.table
            ),
        })
    }
}
