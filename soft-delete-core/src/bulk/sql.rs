//! The statements each backend receives for bulk work, built apart from the loop that runs them.
//!
//! * **Rows named by key** (bulk soft delete and restore): one `UPDATE` per batch whose SQL text
//!   is built once per operation and reused, so sqlx's statement cache prepares it once.
//!   PostgreSQL with query optimization gets `pk = ANY($n)` with a single array parameter; other
//!   backends (and composite keys) get `IN` lists, split so that no statement exceeds the
//!   backend's bind-parameter limit whatever the batch size. Composite keys use tuple `IN`.
//! * **Rows chosen by condition** (bulk operations `..._where` and purges): a keyset walk. Each
//!   batch first finds the key of its last row (`SELECT key … WHERE cond AND key > cursor ORDER
//!   BY key LIMIT 1 OFFSET n-1`), then changes exactly the range `cursor < key <= last`. The walk
//!   never revisits rows behind the cursor, touches at most one batch of rows per statement
//!   (the range holds exactly `n` matching rows when it was measured), and needs no `LIMIT`
//!   inside an `IN` subquery, which MySQL and MariaDB reject. The same two statements serve
//!   every backend and composite keys (tuple comparison).
//! * **New rows** (bulk insert and create): multi-row `INSERT`s, built by hand and reused while
//!   the shape stays the same.
//!
//! Every statement with many parameters is written by [`push_rows`], and every split below the
//! bind limit is computed by [`rows_per_statement`].

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, DeleteStatement, Expr, ExprTrait, Order, Query, SelectStatement,
    UpdateStatement, Value, ValueTuple,
};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn, Statement,
};

use crate::entity::{Change, SoftDelete, Timestamp};
use crate::marker::Marker;

/// The most bind parameters one statement may carry on `backend`.
pub(crate) fn bind_limit(backend: DbBackend) -> usize {
    match backend {
        // SQLITE_MAX_VARIABLE_NUMBER's default since SQLite 3.32.
        DbBackend::Sqlite => 32_766,
        // Both protocols count parameters in 16 bits.
        _ => 65_535,
    }
}

/// How many rows of `per_row` parameters fit in one statement on `backend` beside `fixed`
/// other parameters: at least 1, at most `cap`.
pub(crate) fn rows_per_statement(
    backend: DbBackend,
    fixed: usize,
    per_row: usize,
    cap: usize,
) -> usize {
    (bind_limit(backend).saturating_sub(fixed) / per_row.max(1)).clamp(1, cap.max(1))
}

/// Appends `rows` groups of `per_row` placeholders, numbered from `*next` on PostgreSQL:
/// `?, ?` (one per row, unwrapped) or `(?, ?), (?, ?)` (wrapped, as tuple `IN` lists and
/// `VALUES` need). Advances `*next` past the last one.
pub(crate) fn push_rows(
    sql: &mut String,
    backend: DbBackend,
    next: &mut usize,
    rows: usize,
    per_row: usize,
    wrap: bool,
) {
    use std::fmt::Write as _;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        if wrap {
            sql.push('(');
        }
        for column in 0..per_row {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                DbBackend::Postgres => {
                    // Writing into a String cannot fail.
                    let _ = write!(sql, "${next}");
                }
                _ => sql.push('?'),
            }
            *next += 1;
        }
        if wrap {
            sql.push(')');
        }
    }
}

/// One placeholder: `$n` on PostgreSQL, `?` elsewhere.
fn placeholder(backend: DbBackend, n: usize) -> String {
    let mut sql = String::new();
    push_rows(&mut sql, backend, &mut { n }, 1, 1, false);
    sql
}

pub(crate) fn quote(backend: DbBackend, ident: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{}`", ident.replace('`', "``")),
        _ => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

fn table_sql<E: EntityTrait>(backend: DbBackend) -> String {
    let entity = E::default();
    match entity.schema_name() {
        Some(schema) => format!(
            "{}.{}",
            quote(backend, schema),
            quote(backend, entity.table_name())
        ),
        None => quote(backend, entity.table_name()),
    }
}

/// The primary-key columns of `E`, in declaration order.
pub(crate) fn key_columns<E: EntityTrait>() -> Vec<E::Column> {
    E::PrimaryKey::iter().map(|pk| pk.into_column()).collect()
}

/// One `UPDATE` shape for rows named by key, reused for every batch of an operation.
#[derive(Debug)]
pub(crate) struct KeyedUpdate {
    backend: DbBackend,
    /// `UPDATE t SET a = $1, b = $2 WHERE `
    prefix: String,
    /// ` AND "deleted_at" IS NULL`
    suffix: String,
    set_values: Vec<Value>,
    keys: Vec<String>,
    array_any: bool,
    max_keys: usize,
    cached: Option<(usize, String)>,
    /// ` RETURNING …` for hooks, or empty.
    returning: String,
}

impl KeyedUpdate {
    /// Prepares the statement shape for `change` on `E`. `optimize` enables PostgreSQL's
    /// `= ANY($n)` form for single-column keys.
    pub(crate) fn new<E: SoftDelete>(backend: DbBackend, change: &Change, optimize: bool) -> Self {
        let assignments = change.assignments::<E>();
        let mut prefix = format!("UPDATE {} SET ", table_sql::<E>(backend));
        for (i, (column, _)) in assignments.iter().enumerate() {
            if i > 0 {
                prefix.push_str(", ");
            }
            prefix.push_str(&quote(backend, column.as_str()));
            prefix.push_str(" = ");
            prefix.push_str(&placeholder(backend, i + 1));
        }
        prefix.push_str(" WHERE ");
        // The same guard as `state_guard` writes, for the same reasons.
        let deleted = matches!(change, Change::Restore { .. });
        let suffix = format!(" AND {}", E::marker().guard_sql(backend, deleted));
        let keys: Vec<String> = key_columns::<E>()
            .iter()
            .map(|c| quote(backend, c.as_str()))
            .collect();
        let set_values: Vec<Value> = assignments.into_iter().map(|(_, v)| v).collect();
        let max_keys = rows_per_statement(backend, set_values.len(), keys.len(), usize::MAX);
        KeyedUpdate {
            backend,
            prefix,
            suffix,
            array_any: optimize && backend == DbBackend::Postgres && keys.len() == 1,
            set_values,
            keys,
            max_keys,
            cached: None,
            returning: String::new(),
        }
    }

    /// Appends `clause` (` RETURNING …`, see `hooks::Returning`) to every statement.
    pub(crate) fn returning(&mut self, clause: String) {
        self.returning = clause;
        self.cached = None;
    }

    /// The statements for one batch of keys: one, or several when the keys would exceed the
    /// backend's bind limit. Empty for no keys.
    pub(crate) fn statements(&mut self, keys: &[ValueTuple]) -> Vec<Statement> {
        if keys.is_empty() {
            return Vec::new();
        }
        if self.array_any
            && let Some(statement) = self.any_statement(keys)
        {
            return vec![statement];
        }
        let max_keys = self.max_keys;
        keys.chunks(max_keys)
            .map(|chunk| self.in_list_statement(chunk))
            .collect()
    }

    fn any_statement(&self, keys: &[ValueTuple]) -> Option<Statement> {
        let first = match keys.first()? {
            ValueTuple::One(value) => value,
            _ => return None,
        };
        // The element types whose arrays every sea-query-sqlx build binds.
        if !matches!(
            first,
            Value::SmallInt(Some(_))
                | Value::Int(Some(_))
                | Value::BigInt(Some(_))
                | Value::String(Some(_))
        ) {
            return None;
        }
        let array_type = first.array_type();
        let mut elements = Vec::with_capacity(keys.len());
        for key in keys {
            match key {
                ValueTuple::One(value) if value.is_some() => elements.push(value.clone()),
                _ => return None,
            }
        }
        let sql = format!(
            "{}{} = ANY({}){}{}",
            self.prefix,
            self.keys[0],
            placeholder(self.backend, self.set_values.len() + 1),
            self.suffix,
            self.returning
        );
        let mut values = self.set_values.clone();
        values.push(Value::Array(array_type, Some(Box::new(elements))));
        Some(Statement::from_sql_and_values(self.backend, sql, values))
    }

    fn in_list_statement(&mut self, keys: &[ValueTuple]) -> Statement {
        let sql = match &self.cached {
            Some((len, sql)) if *len == keys.len() => sql.clone(),
            _ => {
                let sql = self.in_list_sql(keys.len());
                self.cached = Some((keys.len(), sql.clone()));
                sql
            }
        };
        let arity = self.keys.len();
        let mut values = Vec::with_capacity(self.set_values.len() + keys.len() * arity);
        values.extend(self.set_values.iter().cloned());
        for key in keys {
            values.extend(key.clone());
        }
        Statement::from_sql_and_values(self.backend, sql, values)
    }

    fn in_list_sql(&self, count: usize) -> String {
        let arity = self.keys.len();
        let mut sql = String::with_capacity(self.prefix.len() + count * (arity * 8 + 4) + 64);
        sql.push_str(&self.prefix);
        if arity == 1 {
            sql.push_str(&self.keys[0]);
        } else {
            sql.push('(');
            sql.push_str(&self.keys.join(", "));
            sql.push(')');
        }
        sql.push_str(" IN (");
        let mut next = self.set_values.len() + 1;
        push_rows(&mut sql, self.backend, &mut next, count, arity, arity > 1);
        sql.push(')');
        sql.push_str(&self.suffix);
        sql.push_str(&self.returning);
        sql
    }
}

/// Multi-row `INSERT`s for one entity, built by hand and reused while the set of columns and the
/// number of rows stay the same (so sqlx prepares each shape once). Rows are read with
/// `ActiveModelTrait::get`, so the caller keeps them for a retry without cloning them.
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
    cached: Option<(Vec<bool>, usize, String)>,
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
        let returning = (returning && backend != DbBackend::MySql && plain_select)
            .then(|| format!(" RETURNING {}", names.join(", ")));
        RowInsert {
            backend,
            head: format!("INSERT INTO {} ", table_sql::<E>(backend)),
            names,
            needs_cast,
            returning,
            cached: None,
        }
    }

    /// True when statements carry `RETURNING` (so executing them yields the rows).
    pub(crate) fn returns_rows(&self) -> bool {
        self.returning.is_some()
    }

    /// The `INSERT` for `rows`, with `defaults` (column, value) filled in where a row
    /// leaves that column unset. `None` when SeaORM must build it: a column needs a cast, or no
    /// column is set at all.
    pub(crate) fn statement<E: EntityTrait>(
        &mut self,
        rows: &[E::ActiveModel],
        defaults: &[(E::Column, Value)],
    ) -> Option<Statement> {
        use sea_orm::{ActiveModelTrait, ActiveValue};
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
        let sql = match &self.cached {
            Some((shape, count, sql)) if *shape == used && *count == rows.len() => sql.clone(),
            _ => {
                let sql = self.sql(&used, rows.len());
                self.cached = Some((used.clone(), rows.len(), sql.clone()));
                sql
            }
        };
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
        Some(Statement::from_sql_and_values(self.backend, sql, values))
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

/// `key > cursor` (tuple comparison for composite keys).
fn after<E: EntityTrait>(cursor: &ValueTuple) -> Expr {
    compare_keys::<E>(cursor, |left, right| left.gt(right))
}

/// `key <= bound`.
fn up_to<E: EntityTrait>(bound: &ValueTuple) -> Expr {
    compare_keys::<E>(bound, |left, right| left.lte(right))
}

fn compare_keys<E: EntityTrait>(values: &ValueTuple, op: impl Fn(Expr, Expr) -> Expr) -> Expr {
    let columns = key_columns::<E>();
    let values: Vec<Value> = values.clone().into_iter().collect();
    if columns.len() == 1 {
        return op(Expr::col(columns[0]), Expr::val(values[0].clone()));
    }
    op(
        Expr::tuple(columns.into_iter().map(Expr::col)),
        Expr::tuple(values.into_iter().map(Expr::val)),
    )
}

/// The rows a keyset walk has left to visit: `condition AND key > cursor`.
pub(crate) fn remaining<E: EntityTrait>(
    condition: &Condition,
    cursor: Option<&ValueTuple>,
) -> Condition {
    let mut condition = condition.clone();
    if let Some(cursor) = cursor {
        condition = condition.add(after::<E>(cursor));
    }
    condition
}

/// Phase one of a keyset batch: the key of the `batch_size`-th remaining row, if there are that
/// many.
pub(crate) fn keyset_bound<E: EntityTrait>(
    condition: &Condition,
    cursor: Option<&ValueTuple>,
    batch_size: usize,
) -> SelectStatement {
    let columns = key_columns::<E>();
    let mut select = Query::select();
    select
        .columns(columns.iter().copied())
        .from(E::default().table_ref())
        .cond_where(remaining::<E>(condition, cursor));
    for column in &columns {
        select.order_by(*column, Order::Asc);
    }
    select
        .limit(1)
        .offset(batch_size.saturating_sub(1) as u64)
        .to_owned()
}

/// Which rows `change` applies to (active rows for a soft delete, deleted ones for a restore),
/// written so that the planner never reaches the rows through an index on `deleted_at`.
///
/// The statements that carry the guard already name their rows by primary key (a key list or a
/// key range); the guard only filters them. Written plainly (`deleted_at IS NULL`), it invites
/// the planner to walk an index on `deleted_at` instead and check each entry's key, which costs
/// every active (or deleted) row per batch. All three did it (`tests/tests/plans.rs`):
///
/// * SQLite, with a plain index and no statistics: `USING INDEX idx (deleted_at=? AND
///   rowid=?)`. Unary `+` makes a term unusable for any index (SQLite's documented way to
///   disqualify one) without changing its value.
/// * PostgreSQL, with a plain index, for a batch of 5% of the table: `Index Scan using idx`,
///   `Filter: id = ANY(…)`. It rejects unary `+` on `timestamptz`.
/// * MariaDB, with a plain index, for the same batch, depending on its sampled statistics:
///   `key=idx`.
///
/// PostgreSQL and MySQL/MariaDB get `(deleted_at IS NULL) IS TRUE`: the same value, and no
/// index is a candidate for it (`possible_keys` drops the index).
pub(crate) fn state_guard<E: SoftDelete>(change: &Change, backend: DbBackend) -> Expr {
    let deleted = matches!(change, Change::Restore { .. });
    Expr::cust(E::marker().guard_sql(backend, deleted))
}

/// Phase two of a keyset batch for a soft delete or restore: `UPDATE … WHERE condition AND
/// cursor < key [<= bound]`.
pub(crate) fn keyset_update<E: SoftDelete>(
    change: &Change,
    backend: DbBackend,
    condition: &Condition,
    cursor: Option<&ValueTuple>,
    bound: Option<&ValueTuple>,
) -> UpdateStatement {
    let mut update = Query::update();
    update.table(E::default().table_ref());
    for (column, value) in change.assignments::<E>() {
        update.value(column, value);
    }
    let mut range = remaining::<E>(condition, cursor).add(state_guard::<E>(change, backend));
    if let Some(bound) = bound {
        range = range.add(up_to::<E>(bound));
    }
    update.cond_where(range);
    update.to_owned()
}

/// Phase two of a keyset batch for a purge: `DELETE … WHERE condition AND cursor < key
/// [<= bound]`.
pub(crate) fn keyset_delete<E: EntityTrait>(
    condition: &Condition,
    cursor: Option<&ValueTuple>,
    bound: Option<&ValueTuple>,
) -> DeleteStatement {
    let mut delete = Query::delete();
    delete.from_table(E::default().table_ref());
    let mut range = remaining::<E>(condition, cursor);
    if let Some(bound) = bound {
        range = range.add(up_to::<E>(bound));
    }
    delete.cond_where(range);
    delete.to_owned()
}

/// `SELECT COUNT(*) FROM t WHERE condition`.
pub(crate) fn count_where<E: EntityTrait>(condition: &Condition) -> SelectStatement {
    Query::select()
        .expr(Expr::col(Asterisk).count())
        .from(E::default().table_ref())
        .cond_where(condition.clone())
        .to_owned()
}

/// What a condition selects, for the operation log: `condition: <SQL>` with its values inlined,
/// or `all rows` for an empty one.
pub(crate) fn describe_condition<E: EntityTrait>(
    backend: DbBackend,
    condition: &Condition,
) -> String {
    let sql = backend.build(&count_where::<E>(condition)).to_string();
    match sql.split_once(" WHERE ") {
        Some((_, condition)) => format!("condition: {condition}"),
        None => "all rows".to_owned(),
    }
}

/// `SELECT COUNT(*) FROM t WHERE key IN (keys) AND condition`, split below the bind limit.
pub(crate) fn count_keys<E: EntityTrait>(
    backend: DbBackend,
    keys: &[ValueTuple],
    condition: &Condition,
) -> Vec<SelectStatement> {
    let columns = key_columns::<E>();
    // A few binds spare for the condition (a timestamp or two).
    let per_statement = rows_per_statement(backend, 16, columns.len(), usize::MAX);
    keys.chunks(per_statement)
        .map(|chunk| {
            let keys = chunk.iter().cloned();
            let in_keys = if columns.len() == 1 {
                Expr::col(columns[0]).is_in(keys.flat_map(|key| key.into_iter()))
            } else {
                Expr::tuple(columns.iter().map(|c| Expr::col(*c))).in_tuples(keys)
            };
            count_where::<E>(&Condition::all().add(in_keys).add(condition.clone()))
        })
        .collect()
}

/// The rows of the range `cursor < key <= bound` that match `condition`.
pub(crate) fn in_range<E: EntityTrait>(
    condition: &Condition,
    cursor: Option<&ValueTuple>,
    bound: Option<&ValueTuple>,
) -> Condition {
    let mut range = remaining::<E>(condition, cursor);
    if let Some(bound) = bound {
        range = range.add(up_to::<E>(bound));
    }
    range
}

/// `SELECT COUNT(*), COUNT(deleted_at) FROM t`: total and deleted rows in one scan (for other
/// markers, `COUNT(CASE WHEN <deleted> THEN 1 END)`).
pub(crate) fn deletion_counts<E: SoftDelete>() -> SelectStatement {
    Query::select()
        .expr_as(Expr::col(Asterisk).count(), Alias::new("total"))
        .expr_as(
            E::marker().deleted_count_in(Expr::col),
            Alias::new("deleted"),
        )
        .from(E::default().table_ref())
        .to_owned()
}

/// The purge condition: soft-deleted strictly before `cutoff` (every soft-deleted row for no
/// cutoff). Live rows never match.
pub(crate) fn deleted_before<E: SoftDelete>(cutoff: Option<Timestamp>) -> Condition {
    let marker = E::marker();
    cutoff
        .and_then(|cutoff| marker.deleted_before(cutoff))
        .unwrap_or_else(|| Condition::all().add(marker.deleted()))
}

/// The purge condition as the keyset walk writes it, matching exactly the same rows as
/// [`deleted_before`] but unusable for any index on the marker: for a timestamp,
/// `COALESCE(deleted_at, cutoff) < cutoff`; for the other markers, the condition with its
/// columns behind SQLite's unary `+`, or inside `(…) IS TRUE` elsewhere (see [`state_guard`]).
///
/// Planners otherwise pick that index for a purge whenever they believe few rows match
/// (SQLite always, PostgreSQL after a mass soft delete its statistics have not seen yet), then
/// sort every matching row to find the batch's last key: each batch costs as much as all the
/// rows left, and a purge of a million rows takes minutes instead of seconds. Written this way,
/// the only index that serves the query is the primary key, and the walk reads the table once,
/// in key order. On MySQL/MariaDB the cutoff is cast to `DATETIME(6)`: it arrives as text (see
/// `timestamp_value`), and `COALESCE` of a `DATETIME` and text is text.
pub(crate) fn deleted_before_for_keyset<E: SoftDelete>(
    cutoff: Option<Timestamp>,
    backend: DbBackend,
) -> Condition {
    let marker = E::marker();
    if let (Marker::Timestamp(column), Some(cutoff)) = (&marker, cutoff) {
        let value = || match backend {
            DbBackend::MySql => Expr::cust_with_values("CAST(? AS DATETIME(6))", [cutoff]),
            _ => Expr::val(cutoff),
        };
        return Condition::all().add(
            Expr::expr(sea_orm::sea_query::Func::coalesce([
                Expr::col(*column),
                value(),
            ]))
            .lt(value()),
        );
    }
    let unindexed = |column: E::Column| match backend {
        DbBackend::Sqlite => Expr::cust_with_expr("+?", Expr::col(column)),
        _ => Expr::col(column),
    };
    let condition = match cutoff.and_then(|cutoff| marker.deleted_before_in(cutoff, unindexed)) {
        Some(condition) => condition,
        None => Condition::all().add(marker.deleted_in(unindexed)),
    };
    match backend {
        DbBackend::Sqlite => condition,
        DbBackend::Postgres => {
            Condition::all().add(Expr::cust_with_expr("($1) IS TRUE", condition))
        }
        _ => Condition::all().add(Expr::cust_with_expr("(?) IS TRUE", condition)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use sea_orm::sea_query::IntoValueTuple;

    use super::*;
    use crate::test_entities::{membership, note, user};

    fn at() -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .expect("valid time")
    }

    fn soft_delete() -> Change {
        Change::SoftDelete {
            op: crate::operation::OperationId::new(),
            unique: true,
            at: at(),
            by: Some("admin".into()),
            reason: None,
            reverses: None,
        }
    }

    fn ids(range: std::ops::Range<i64>) -> Vec<ValueTuple> {
        range.map(|id| id.into_value_tuple()).collect()
    }

    #[test]
    fn postgres_gets_one_array_parameter() {
        let mut update =
            KeyedUpdate::new::<user::Entity>(DbBackend::Postgres, &soft_delete(), true);
        let statements = update.statements(&ids(1..4));
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].sql,
            r#"UPDATE "users" SET "deleted_at" = $1, "deleted_by" = $2, "deletion_reason" = $3 WHERE "id" = ANY($4) AND ("deleted_at" IS NULL) IS TRUE"#
        );
        let values = &statements[0].values.as_ref().expect("values").0;
        assert_eq!(values.len(), 4);
        assert_eq!(values[0], Value::from(at()));
        assert_eq!(values[1], Value::from(Some("admin".to_owned())));
        assert_eq!(values[2], Value::String(None));
        assert_eq!(
            values[3],
            Value::Array(
                sea_orm::sea_query::ArrayType::BigInt,
                Some(Box::new(vec![1i64.into(), 2i64.into(), 3i64.into()]))
            )
        );
    }

    #[test]
    fn without_optimization_postgres_gets_an_in_list() {
        let mut update =
            KeyedUpdate::new::<user::Entity>(DbBackend::Postgres, &soft_delete(), false);
        let statements = update.statements(&ids(1..4));
        assert_eq!(
            statements[0].sql,
            r#"UPDATE "users" SET "deleted_at" = $1, "deleted_by" = $2, "deletion_reason" = $3 WHERE "id" IN ($4, $5, $6) AND ("deleted_at" IS NULL) IS TRUE"#
        );
    }

    #[test]
    fn sqlite_and_mysql_get_in_lists() {
        let mut sqlite = KeyedUpdate::new::<user::Entity>(DbBackend::Sqlite, &soft_delete(), true);
        assert_eq!(
            sqlite.statements(&ids(1..3))[0].sql,
            r#"UPDATE "users" SET "deleted_at" = ?, "deleted_by" = ?, "deletion_reason" = ? WHERE "id" IN (?, ?) AND +"deleted_at" IS NULL"#
        );
        let mut mysql = KeyedUpdate::new::<user::Entity>(DbBackend::MySql, &soft_delete(), true);
        let statement = &mysql.statements(&ids(1..3))[0];
        assert_eq!(
            statement.sql,
            "UPDATE `users` SET `deleted_at` = ?, `deleted_by` = ?, `deletion_reason` = ? WHERE `id` IN (?, ?) AND (`deleted_at` IS NULL) IS TRUE"
        );
        assert_eq!(statement.values.as_ref().expect("values").0.len(), 5);
    }

    #[test]
    fn restore_clears_and_guards_deleted_rows() {
        let restore = Change::Restore {
            op: crate::operation::OperationId::new(),
            at: at(),
            by: None,
        };
        let mut update = KeyedUpdate::new::<user::Entity>(DbBackend::Postgres, &restore, true);
        let statement = &update.statements(&ids(7..8))[0];
        assert_eq!(
            statement.sql,
            r#"UPDATE "users" SET "deleted_at" = $1, "deleted_by" = $2, "deletion_reason" = $3 WHERE "id" = ANY($4) AND ("deleted_at" IS NOT NULL) IS TRUE"#
        );
        let values = &statement.values.as_ref().expect("values").0;
        assert!(values[..3].iter().all(|v| !v.is_some()), "{values:?}");
    }

    #[test]
    fn composite_keys_use_tuple_in_everywhere() {
        let keys: Vec<ValueTuple> = vec![
            (1i32, 10i64).into_value_tuple(),
            (2i32, 20i64).into_value_tuple(),
        ];
        let expected = [
            (
                DbBackend::Postgres,
                r#"UPDATE "memberships" SET "deleted_at" = $1, "deleted_by" = $2, "deletion_reason" = $3 WHERE ("org_id", "user_id") IN (($4, $5), ($6, $7)) AND ("deleted_at" IS NULL) IS TRUE"#,
            ),
            (
                DbBackend::Sqlite,
                r#"UPDATE "memberships" SET "deleted_at" = ?, "deleted_by" = ?, "deletion_reason" = ? WHERE ("org_id", "user_id") IN ((?, ?), (?, ?)) AND +"deleted_at" IS NULL"#,
            ),
            (
                DbBackend::MySql,
                "UPDATE `memberships` SET `deleted_at` = ?, `deleted_by` = ?, `deletion_reason` = ? WHERE (`org_id`, `user_id`) IN ((?, ?), (?, ?)) AND (`deleted_at` IS NULL) IS TRUE",
            ),
        ];
        for (backend, sql) in expected {
            let mut update = KeyedUpdate::new::<membership::Entity>(backend, &soft_delete(), true);
            let statements = update.statements(&keys);
            assert_eq!(statements.len(), 1);
            assert_eq!(statements[0].sql, sql, "{backend:?}");
            assert_eq!(statements[0].values.as_ref().expect("values").0.len(), 7);
        }
    }

    #[test]
    fn large_batches_split_below_the_bind_limit() {
        for (backend, optimize) in [
            (DbBackend::Sqlite, true),
            (DbBackend::MySql, true),
            (DbBackend::Postgres, false),
        ] {
            let mut update = KeyedUpdate::new::<user::Entity>(backend, &soft_delete(), optimize);
            let keys = ids(0..100_000);
            let statements = update.statements(&keys);
            let limit = bind_limit(backend);
            assert!(statements.len() > 1, "{backend:?}");
            let mut covered = 0;
            for statement in &statements {
                let binds = statement.values.as_ref().expect("values").0.len();
                assert!(binds <= limit, "{backend:?}: {binds} > {limit}");
                covered += binds - 3;
            }
            assert_eq!(covered, keys.len(), "{backend:?}");
        }
        // Composite keys take two binds per row.
        let mut update =
            KeyedUpdate::new::<membership::Entity>(DbBackend::Sqlite, &soft_delete(), true);
        let keys: Vec<ValueTuple> = (0..20_000)
            .map(|i| (1i32, i64::from(i)).into_value_tuple())
            .collect();
        let statements = update.statements(&keys);
        assert_eq!(statements.len(), 2);
        assert!(
            statements
                .iter()
                .all(|s| s.values.as_ref().expect("values").0.len() <= 32_766)
        );
        // One array parameter on PostgreSQL, whatever the size.
        let mut any = KeyedUpdate::new::<user::Entity>(DbBackend::Postgres, &soft_delete(), true);
        assert_eq!(any.statements(&ids(0..100_000)).len(), 1);
        assert!(any.statements(&[]).is_empty());
    }

    #[test]
    fn audited_entities_also_stamp_updated_columns() {
        let change = Change::SoftDelete {
            op: crate::operation::OperationId::new(),
            unique: true,
            at: at(),
            by: Some("mod".into()),
            reason: Some("spam".into()),
            reverses: None,
        };
        let mut update = KeyedUpdate::new::<note::Entity>(DbBackend::Sqlite, &change, true);
        assert_eq!(
            update.statements(&ids(1..2))[0].sql,
            r#"UPDATE "notes" SET "deleted_at" = ?, "deleted_by" = ?, "reason" = ?, "updated_at" = ?, "updated_by" = ? WHERE "id" IN (?) AND +"deleted_at" IS NULL"#
        );
        let anonymous = Change::Restore {
            op: crate::operation::OperationId::new(),
            at: at(),
            by: None,
        };
        let mut update = KeyedUpdate::new::<note::Entity>(DbBackend::Sqlite, &anonymous, true);
        assert_eq!(
            update.statements(&ids(1..2))[0].sql,
            r#"UPDATE "notes" SET "deleted_at" = ?, "deleted_by" = ?, "reason" = ?, "updated_at" = ? WHERE "id" IN (?) AND +"deleted_at" IS NOT NULL"#
        );
    }

    #[test]
    fn keyset_statements_per_backend() {
        let condition = deleted_before_for_keyset::<user::Entity>(Some(at()), DbBackend::Postgres);
        let cursor = Some(100i64.into_value_tuple());
        let bound = Some(600i64.into_value_tuple());
        let select = keyset_bound::<user::Entity>(&condition, cursor.as_ref(), 500);
        let delete = keyset_delete::<user::Entity>(&condition, cursor.as_ref(), bound.as_ref());
        let last = keyset_delete::<user::Entity>(&condition, cursor.as_ref(), None);
        let t = "'2026-01-02 03:04:05.000000 +00:00'";
        assert_eq!(
            DbBackend::Postgres.build(&select).to_string(),
            format!(
                r#"SELECT "id" FROM "users" WHERE COALESCE("deleted_at", {t}) < {t} AND "id" > 100 ORDER BY "id" ASC LIMIT 1 OFFSET 499"#
            )
        );
        assert_eq!(
            DbBackend::MySql.build(&select).to_string(),
            format!(
                "SELECT `id` FROM `users` WHERE COALESCE(`deleted_at`, {t}) < {t} AND `id` > 100 ORDER BY `id` ASC LIMIT 1 OFFSET 499"
            )
        );
        assert_eq!(
            DbBackend::Sqlite.build(&delete).to_string(),
            format!(
                r#"DELETE FROM "users" WHERE COALESCE("deleted_at", {t}) < {t} AND "id" > 100 AND "id" <= 600"#
            )
        );
        assert_eq!(
            DbBackend::MySql.build(&last).to_string(),
            format!("DELETE FROM `users` WHERE COALESCE(`deleted_at`, {t}) < {t} AND `id` > 100")
        );
        let first = keyset_bound::<user::Entity>(&condition, None, 1);
        assert!(
            DbBackend::Postgres
                .build(&first)
                .to_string()
                .ends_with(&format!(r#"< {t} ORDER BY "id" ASC LIMIT 1 OFFSET 0"#))
        );
        // The dry run and the report of what is left count through the indexable form.
        assert_eq!(
            DbBackend::Postgres
                .build(&count_where::<user::Entity>(
                    &deleted_before::<user::Entity>(Some(at()))
                ))
                .to_string(),
            format!(r#"SELECT COUNT(*) FROM "users" WHERE "users"."deleted_at" < {t}"#)
        );
    }

    #[test]
    fn keyset_update_adds_the_state_guard_and_composite_cursor() {
        let update = keyset_update::<membership::Entity>(
            &soft_delete(),
            DbBackend::Postgres,
            &Condition::all().add(membership::Column::OrgId.eq(1)),
            Some(&(1i32, 5i64).into_value_tuple()),
            Some(&(1i32, 9i64).into_value_tuple()),
        );
        assert_eq!(
            DbBackend::Postgres.build(&update).to_string(),
            r#"UPDATE "memberships" SET "deleted_at" = '2026-01-02 03:04:05.000000 +00:00', "deleted_by" = 'admin', "deletion_reason" = NULL WHERE "memberships"."org_id" = 1 AND ("org_id", "user_id") > (1, 5) AND (("deleted_at" IS NULL) IS TRUE) AND ("org_id", "user_id") <= (1, 9)"#
        );
    }

    #[test]
    fn the_state_guard_cannot_steer_sqlite_to_an_index() {
        let restore = Change::Restore {
            op: crate::operation::OperationId::new(),
            at: at(),
            by: None,
        };
        let update = keyset_update::<user::Entity>(
            &restore,
            DbBackend::Sqlite,
            &Condition::all(),
            Some(&1i64.into_value_tuple()),
            Some(&9i64.into_value_tuple()),
        );
        assert_eq!(
            DbBackend::Sqlite.build(&update).to_string(),
            r#"UPDATE "users" SET "deleted_at" = NULL, "deleted_by" = NULL, "deletion_reason" = NULL WHERE "id" > 1 AND (+"deleted_at" IS NOT NULL) AND "id" <= 9"#
        );
        // PostgreSQL rejects unary plus on timestamptz: `IS TRUE` keeps indexes out instead.
        let update = keyset_update::<user::Entity>(
            &restore,
            DbBackend::Postgres,
            &Condition::all(),
            None,
            None,
        );
        assert_eq!(
            DbBackend::Postgres.build(&update).to_string(),
            r#"UPDATE "users" SET "deleted_at" = NULL, "deleted_by" = NULL, "deletion_reason" = NULL WHERE ("deleted_at" IS NOT NULL) IS TRUE"#
        );
    }

    #[test]
    fn stats_count_both_in_one_query() {
        assert_eq!(
            DbBackend::Postgres
                .build(&deletion_counts::<user::Entity>())
                .to_string(),
            r#"SELECT COUNT(*) AS "total", COUNT("deleted_at") AS "deleted" FROM "users""#
        );
    }
}
