//! Multi-row `INSERT`s for one entity, built by hand from its table reference and reused while
//! the shape stays the same.

use sea_orm::sea_query::{Expr, Value};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, IdenStatic, Iterable, Statement};

use super::{Table, push_rows, quote};

/// Multi-row `INSERT`s for one entity, built by hand: the entity's columns and how they are
/// written. Rows are read with `ActiveModelTrait::get`, so the caller keeps them for a retry
/// without cloning them; [`RowInsert::values`] takes a chunk's values (which needs only `&self`,
/// so it can run beside a batch in flight) and [`InsertSql`] makes them a statement.
#[derive(Debug)]
pub(crate) struct RowInsert {
    backend: DbBackend,
    /// `INSERT INTO "t" `
    head: String,
    /// The quoted name of every column, in `Column::iter()` order.
    names: Vec<String>,
    /// Columns whose values need SeaORM's own casts (enums, `save_as`): statements that set
    /// them are built by SeaORM instead.
    needs_cast: Vec<bool>,
    /// ` RETURNING "a", "b", …`, when models are wanted and the backend has it.
    returning: Option<String>,
    /// False when models are wanted from a backend with `RETURNING` but a column is read
    /// through a cast (a native enum): every statement is then SeaORM's, whose `RETURNING`
    /// carries the casts, since one without them could not return the rows.
    builds: bool,
}

/// The values of one multi-row `INSERT`, row after row, and which columns they fill.
#[derive(Debug)]
pub(crate) struct RowValues {
    /// Per column (in `Column::iter()` order), whether the statement writes it.
    used: Vec<bool>,
    rows: usize,
    values: Vec<Value>,
}

/// The text of the last `INSERT` built, reused while the set of columns and the number of rows
/// stay the same (so sqlx prepares each shape once).
#[derive(Debug, Default)]
pub(crate) struct InsertSql {
    cached: Option<(Vec<bool>, usize, String)>,
}

impl InsertSql {
    /// The statement of `values`, as `insert` writes them.
    pub(crate) fn statement(&mut self, insert: &RowInsert, values: RowValues) -> Statement {
        let RowValues { used, rows, values } = values;
        let sql = match &self.cached {
            Some((shape, count, sql)) if *shape == used && *count == rows => sql.clone(),
            _ => {
                let sql = insert.sql(&used, rows);
                self.cached = Some((used, rows, sql.clone()));
                sql
            }
        };
        Statement::from_sql_and_values(insert.backend, sql, values)
    }
}

impl RowInsert {
    pub(crate) fn new<E: EntityTrait>(backend: DbBackend, returning: bool) -> Self {
        let mut names = Vec::new();
        let mut needs_cast = Vec::new();
        let mut plain_select = true;
        for column in E::Column::iter() {
            names.push(quote(backend, column.as_str()));
            let is_enum = matches!(
                column.def().get_column_type(),
                sea_orm::sea_query::ColumnType::Enum { .. }
            );
            let plain_save = matches!(column.save_as(Expr::val(0i32)), Expr::Value(_));
            plain_select &= matches!(column.select_as(Expr::col(column)), Expr::Column(_));
            needs_cast.push(is_enum || !plain_save);
        }
        let returns = returning && backend != DbBackend::MySql;
        let builds = !returns || plain_select;
        let returning =
            (returns && plain_select).then(|| format!(" RETURNING {}", names.join(", ")));
        RowInsert {
            backend,
            head: format!("INSERT INTO {} ", Table::of::<E>().sql(backend)),
            names,
            needs_cast,
            returning,
            builds,
        }
    }

    /// True when statements carry `RETURNING` (so executing them yields the rows).
    pub(crate) fn returns_rows(&self) -> bool {
        self.returning.is_some()
    }

    /// The values of the `INSERT` for `rows`, with `defaults` (column, value) filled in where a
    /// row leaves that column unset. `None` when SeaORM must build the statement: a column
    /// needs a cast, the rows must be returned through a cast, or no column is set at all.
    pub(crate) fn values<E: EntityTrait>(
        &self,
        rows: &[E::ActiveModel],
        defaults: &[(E::Column, Value)],
    ) -> Option<RowValues> {
        use sea_orm::{ActiveModelTrait, ActiveValue};
        if !self.builds {
            return None;
        }
        let columns: Vec<E::Column> = E::Column::iter().collect();
        // Each default by its column's position, so that the per-value loop compares indices.
        let defaults: Vec<(usize, &Value)> = defaults
            .iter()
            .filter_map(|(column, value)| {
                let name = column.as_str();
                let i = columns.iter().position(|c| c.as_str() == name)?;
                Some((i, value))
            })
            .collect();
        let mut used = vec![false; columns.len()];
        let mut nulls: Vec<Option<Value>> = vec![None; columns.len()];
        for (i, column) in columns.iter().enumerate() {
            for row in rows {
                if let ActiveValue::Set(value) | ActiveValue::Unchanged(value) = row.get(*column) {
                    used[i] = true;
                    nulls[i] = Some(value.as_null());
                    break;
                }
            }
        }
        for (i, value) in &defaults {
            used[*i] = true;
            nulls[*i].get_or_insert_with(|| value.as_null());
        }
        if !used.iter().any(|u| *u)
            || used
                .iter()
                .zip(&self.needs_cast)
                .any(|(u, cast)| *u && *cast)
        {
            return None;
        }
        let per_row = used.iter().filter(|u| **u).count();
        let mut values = Vec::with_capacity(rows.len() * per_row);
        for row in rows {
            for (i, column) in columns.iter().enumerate() {
                if !used[i] {
                    continue;
                }
                let value = match row.get(*column) {
                    ActiveValue::Set(value) | ActiveValue::Unchanged(value) => value,
                    ActiveValue::NotSet => match defaults.iter().find(|(d, _)| *d == i) {
                        Some((_, value)) => (*value).clone(),
                        None => nulls[i].clone().unwrap_or(Value::Int(None)),
                    },
                };
                values.push(value);
            }
        }
        Some(RowValues {
            used,
            rows: rows.len(),
            values,
        })
    }

    fn sql(&self, used: &[bool], rows: usize) -> String {
        let names: Vec<&str> = self
            .names
            .iter()
            .zip(used)
            .filter(|(_, u)| **u)
            .map(|(n, _)| n.as_str())
            .collect();
        let mut sql = String::with_capacity(self.head.len() + rows * names.len() * 6 + 64);
        sql.push_str(&self.head);
        sql.push('(');
        sql.push_str(&names.join(", "));
        sql.push_str(") VALUES ");
        push_rows(&mut sql, self.backend, &mut 1, rows, names.len(), true);
        if let Some(returning) = &self.returning {
            sql.push_str(returning);
        }
        sql
    }
}
