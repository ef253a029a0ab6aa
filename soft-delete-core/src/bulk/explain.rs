//! `EXPLAIN` for bulk operations: the statements of the first batch and the plan the database
//! chose for each, without changing a row.

use std::fmt;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult, Statement};

/// The plans the database chose for the statements of an operation's first batch; returned by
/// `explain()` on bulk builders.
///
/// Nothing is changed: PostgreSQL and MySQL/MariaDB `EXPLAIN` an `UPDATE` or `DELETE` without
/// running it, and SQLite's `EXPLAIN QUERY PLAN` never runs the statement. Keyset walks run
/// their first, read-only `SELECT` to find the batch's range, as the operation would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explain {
    /// Each statement of the first batch, in the order the batch sends them.
    pub statements: Vec<ExplainedStatement>,
}

/// One statement and its plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExplainedStatement {
    /// The SQL sent (with placeholders).
    pub sql: String,
    /// The plan, one line per step: SQLite's `EXPLAIN QUERY PLAN` details, PostgreSQL's `EXPLAIN`
    /// lines, or one line per MySQL/MariaDB `EXPLAIN` row (`table=… type=… key=… extra=…`).
    pub plan: Vec<String>,
}

impl Explain {
    /// Every plan line of every statement, joined by newlines: handy for `contains` checks.
    pub fn plan_text(&self) -> String {
        self.statements
            .iter()
            .flat_map(|s| s.plan.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for Explain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for statement in &self.statements {
            writeln!(f, "{}", statement.sql)?;
            for line in &statement.plan {
                writeln!(f, "  {line}")?;
            }
        }
        Ok(())
    }
}

/// Runs the backend's `EXPLAIN` on each statement (for example SeaORM queries built with
/// `QueryTrait::build`), in the same form bulk builders' `explain()` returns.
///
/// # Errors
///
/// The database error, e.g. for a statement the backend cannot explain.
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
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, QueryTrait};
/// use soft_delete_core::prelude::*;
///
/// # async fn run(db: &sea_orm::DatabaseConnection) -> Result<(), sea_orm::DbErr> {
/// let trash = user::Entity::find_deleted()
///     .order_by_desc(user::Column::DeletedAt)
///     .limit(50)
///     .build(db.get_database_backend());
/// println!("{}", soft_delete_core::bulk::explain(db, [trash]).await?);
/// # Ok(()) }
/// ```
pub async fn explain<C: ConnectionTrait>(
    db: &C,
    statements: impl IntoIterator<Item = Statement>,
) -> Result<Explain, DbErr> {
    let mut explained = Vec::new();
    for statement in statements {
        let statement = crate::time::bind_timestamps(statement);
        let prefix = match statement.db_backend {
            DbBackend::Sqlite => "EXPLAIN QUERY PLAN ",
            _ => "EXPLAIN ",
        };
        let query = Statement {
            sql: format!("{prefix}{}", statement.sql),
            values: statement.values.clone(),
            db_backend: statement.db_backend,
        };
        let rows = db.query_all_raw(query).await?;
        let plan = rows
            .iter()
            .map(|row| plan_line(statement.db_backend, row))
            .collect::<Result<Vec<_>, _>>()?;
        explained.push(ExplainedStatement {
            sql: statement.sql,
            plan,
        });
    }
    Ok(Explain {
        statements: explained,
    })
}

fn plan_line(backend: DbBackend, row: &QueryResult) -> Result<String, DbErr> {
    match backend {
        // id, parent, notused, detail
        DbBackend::Sqlite => row.try_get_by_index::<String>(3),
        // QUERY PLAN
        DbBackend::Postgres => row.try_get_by_index::<String>(0),
        _ => {
            let text = |column: &str| -> Result<String, DbErr> {
                Ok(row
                    .try_get::<Option<String>>("", column)?
                    .unwrap_or_else(|| "NULL".to_owned()))
            };
            Ok(format!(
                "table={} type={} possible_keys={} key={} extra={}",
                text("table")?,
                text("type")?,
                text("possible_keys")?,
                text("key")?,
                text("Extra")?
            ))
        }
    }
}
