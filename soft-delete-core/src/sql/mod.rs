//! SQL on the ground floor: the one table reference every statement is built from, quoting,
//! keys, placeholders under each backend's bind limit, and the small statements every floor
//! above needs (counts, key ranges, row reads, whether a table exists).
//!
//! Nothing here knows what a soft delete is: these are statements over any SeaORM entity.
//!
//! # One table reference
//!
//! SeaORM entities may live in a schema (`#[sea_orm(schema_name = "tenant")]`: a PostgreSQL
//! schema, a MySQL/MariaDB database, an attached SQLite database). `EntityName::table_name()`
//! and the entity's `Iden` drop it, so a statement built from them reaches the connection's
//! default schema instead (PostgreSQL's `search_path`, MySQL's default database), where a
//! table of the same name may hold other rows. Every statement this crate sends names its
//! table through [`Table`], which keeps the schema, and qualifies its columns with it.

pub(crate) mod insert;
pub(crate) mod rows;

use std::fmt;

use sea_orm::sea_query::{
    Alias, Asterisk, ColumnName, Condition, DeleteStatement, DynIden, Expr, ExprTrait, IntoIden,
    LockType, Order, Query, SchemaName, SelectStatement, TableName, TableRef, Value, ValueTuple,
};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic, Iterable,
    PrimaryKeyToColumn, PrimaryKeyTrait, QueryResult, Statement, TryGetableMany,
};

use crate::error::Result;
use crate::time::bind_timestamps;

/// A table, with the schema it lives in when it has one: how every statement of the crate names
/// its table, and how reports, events, metrics and the operation log name it
/// (`tenant.orders`, or `orders` without a schema).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Table {
    schema: Option<String>,
    name: String,
}

impl Table {
    /// `E`'s table, in `E`'s schema.
    pub(crate) fn of<E: EntityName>() -> Table {
        let entity = E::default();
        Table {
            schema: entity.schema_name().map(str::to_owned),
            name: entity.table_name().to_owned(),
        }
    }

    /// The table a relation or a statement names, when it names one (not a subquery).
    pub(crate) fn from_ref(table: &TableRef) -> Option<Table> {
        match table {
            TableRef::Table(TableName(schema, name), _) => Some(Table {
                schema: schema.as_ref().map(|schema| schema.1.to_string()),
                name: name.to_string(),
            }),
            _ => None,
        }
    }

    /// A table named in configuration or by a caller: `schema.table`, or `table` in the
    /// connection's default schema.
    pub(crate) fn parse(text: &str) -> Table {
        match text.split_once('.') {
            Some((schema, name)) => Table {
                schema: Some(schema.to_owned()),
                name: name.to_owned(),
            },
            None => Table {
                schema: None,
                name: text.to_owned(),
            },
        }
    }

    /// The table `text` names, in this table's schema unless it names one itself: where an
    /// entity's archive goes.
    pub(crate) fn sibling(&self, text: &str) -> Table {
        match Table::parse(text) {
            Table { schema: None, name } => Table {
                schema: self.schema.clone(),
                name,
            },
            qualified => qualified,
        }
    }

    /// The table's own name, without its schema.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The schema, if the table names one.
    pub(crate) fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The name as sea-query writes it: `"tenant"."orders"`.
    pub(crate) fn table_name(&self) -> TableName {
        TableName(
            self.schema
                .as_ref()
                .map(|schema| SchemaName(None, Alias::new(schema).into_iden())),
            Alias::new(&self.name).into_iden(),
        )
    }

    /// The table for a `FROM`, `UPDATE` or `DELETE`.
    pub(crate) fn table_ref(&self) -> TableRef {
        TableRef::Table(self.table_name(), None)
    }

    /// `column` of this table, qualified: `"tenant"."orders"."id"`.
    pub(crate) fn column(&self, column: impl IntoIden) -> ColumnName {
        ColumnName(Some(self.table_name()), column.into_iden())
    }

    /// `column` of this table as an expression.
    pub(crate) fn col(&self, column: impl IntoIden) -> Expr {
        Expr::col(self.column(column))
    }

    /// The quoted, qualified name as SQL text: `"tenant"."orders"`, `` `tenant`.`orders` ``.
    pub(crate) fn sql(&self, backend: DbBackend) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote(backend, schema), quote(backend, &self.name)),
            None => quote(backend, &self.name),
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// `ident` quoted for `backend`: `"name"`, or `` `name` `` on MySQL/MariaDB.
pub(crate) fn quote(backend: DbBackend, ident: &str) -> String {
    match backend {
        DbBackend::MySql => format!("`{}`", ident.replace('`', "``")),
        _ => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

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
pub(crate) fn placeholder(backend: DbBackend, n: usize) -> String {
    let mut sql = String::new();
    push_rows(&mut sql, backend, &mut { n }, 1, 1, false);
    sql
}

/// The primary-key value type of an entity: `i64`, `Uuid`, `(i32, i64)`, …
pub type PrimaryKeyValue<E> = <<E as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType;

/// The primary-key columns of `E`, in declaration order.
pub(crate) fn key_columns<E: EntityTrait>() -> Vec<E::Column> {
    E::PrimaryKey::iter().map(|pk| pk.into_column()).collect()
}

/// The names of `E`'s primary-key columns.
pub(crate) fn key_names<E: EntityTrait>() -> Vec<String> {
    key_columns::<E>()
        .iter()
        .map(|column| column.as_str().to_owned())
        .collect()
}

/// The primary key of `row`, whose key columns are `names`.
pub(crate) fn key_of<E: EntityTrait>(
    row: &QueryResult,
    names: &[String],
) -> std::result::Result<<E::PrimaryKey as PrimaryKeyTrait>::ValueType, DbErr> {
    <<E::PrimaryKey as PrimaryKeyTrait>::ValueType as TryGetableMany>::try_get_many(row, "", names)
        .map_err(Into::into)
}

/// The primary key in the first columns of `row`, as a tuple of values.
pub(crate) fn key_at_start<E: EntityTrait>(
    row: &QueryResult,
) -> std::result::Result<ValueTuple, DbErr> {
    use sea_orm::sea_query::IntoValueTuple;
    Ok(
        <<E::PrimaryKey as PrimaryKeyTrait>::ValueType as TryGetableMany>::try_get_many_by_index(
            row,
        )?
        .into_value_tuple(),
    )
}

/// `pk = v` for each key column of `E`, qualified by its table (`a = ? AND b = ?` for
/// composite keys).
pub(crate) fn key_condition<E: EntityTrait>(key: ValueTuple) -> Condition {
    let table = Table::of::<E>();
    key_columns::<E>()
        .into_iter()
        .zip(key)
        .fold(Condition::all(), |cond, (column, value)| {
            cond.add(table.col(column).eq(value))
        })
}

/// `pk IN (…)`, or `(a, b) IN ((…), …)` for composite keys, qualified by `E`'s table.
pub(crate) fn keys_condition<E: EntityTrait>(keys: &[ValueTuple]) -> Condition {
    let table = Table::of::<E>();
    let columns = key_columns::<E>();
    let condition = Condition::all();
    if columns.len() == 1 {
        let values: Vec<Value> = keys
            .iter()
            .flat_map(|key| key.clone().into_iter().take(1))
            .collect();
        condition.add(table.col(columns[0]).is_in(values))
    } else {
        let tuple = Expr::tuple(columns.iter().map(|column| table.col(*column)));
        condition.add(tuple.in_tuples(keys.iter().cloned()))
    }
}

/// Formats a key for error messages as SQL literals: `42`, `'ada'`, `(1, 'a')`.
pub(crate) fn format_key(key: &ValueTuple) -> String {
    use sea_orm::sea_query::{PostgresQueryBuilder, QueryBuilder};
    let parts: Vec<String> = key
        .clone()
        .into_iter()
        .map(|value| PostgresQueryBuilder.value_to_string(&value))
        .collect();
    match parts.as_slice() {
        [one] => one.clone(),
        many => format!("({})", many.join(", ")),
    }
}

/// `key > cursor` (tuple comparison for composite keys).
fn after<E: EntityTrait>(cursor: &ValueTuple) -> Expr {
    compare_keys::<E>(cursor, |left, right| left.gt(right))
}

/// `key <= bound`.
pub(crate) fn up_to<E: EntityTrait>(bound: &ValueTuple) -> Expr {
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

/// Phase one of a keyset batch: the key of the `batch_size`-th remaining row, if there are that
/// many.
pub(crate) fn keyset_bound<E: EntityTrait>(
    condition: &Condition,
    cursor: Option<&ValueTuple>,
    batch_size: usize,
) -> SelectStatement {
    remaining_keys::<E>(condition, cursor, Order::Asc)
        .offset(batch_size.saturating_sub(1) as u64)
        .to_owned()
}

/// The key of the last remaining row of a keyset walk (`ORDER BY key DESC LIMIT 1`).
pub(crate) fn keyset_last<E: EntityTrait>(
    condition: &Condition,
    cursor: Option<&ValueTuple>,
) -> SelectStatement {
    remaining_keys::<E>(condition, cursor, Order::Desc)
}

/// `SELECT key FROM t WHERE <remaining> ORDER BY key <order> LIMIT 1`.
fn remaining_keys<E: EntityTrait>(
    condition: &Condition,
    cursor: Option<&ValueTuple>,
    order: Order,
) -> SelectStatement {
    let columns = key_columns::<E>();
    let mut select = Query::select();
    select
        .columns(columns.iter().copied())
        .from(Table::of::<E>().table_ref())
        .cond_where(remaining::<E>(condition, cursor));
    for column in &columns {
        select.order_by(*column, order.clone());
    }
    select.limit(1).to_owned()
}

/// The integer `lo + (hi - lo) * part / parts`, in the variant of `lo`: a split point of an
/// integer key's range. `None` for keys that are not one integer.
pub(crate) fn split_point(
    lo: &ValueTuple,
    hi: &ValueTuple,
    part: u64,
    parts: u64,
) -> Option<ValueTuple> {
    let (ValueTuple::One(lo), ValueTuple::One(hi)) = (lo, hi) else {
        return None;
    };
    let (a, b) = (integer(lo)?, integer(hi)?);
    let at = a + (b - a) * i128::from(part) / i128::from(Ord::max(parts, 1));
    let value = match lo {
        Value::TinyInt(_) => Value::TinyInt(Some(i8::try_from(at).ok()?)),
        Value::SmallInt(_) => Value::SmallInt(Some(i16::try_from(at).ok()?)),
        Value::Int(_) => Value::Int(Some(i32::try_from(at).ok()?)),
        Value::BigInt(_) => Value::BigInt(Some(i64::try_from(at).ok()?)),
        Value::TinyUnsigned(_) => Value::TinyUnsigned(Some(u8::try_from(at).ok()?)),
        Value::SmallUnsigned(_) => Value::SmallUnsigned(Some(u16::try_from(at).ok()?)),
        Value::Unsigned(_) => Value::Unsigned(Some(u32::try_from(at).ok()?)),
        Value::BigUnsigned(_) => Value::BigUnsigned(Some(u64::try_from(at).ok()?)),
        _ => return None,
    };
    Some(ValueTuple::One(value))
}

/// An integer value, widened.
pub(crate) fn integer(value: &Value) -> Option<i128> {
    Some(match value {
        Value::TinyInt(Some(v)) => i128::from(*v),
        Value::SmallInt(Some(v)) => i128::from(*v),
        Value::Int(Some(v)) => i128::from(*v),
        Value::BigInt(Some(v)) => i128::from(*v),
        Value::TinyUnsigned(Some(v)) => i128::from(*v),
        Value::SmallUnsigned(Some(v)) => i128::from(*v),
        Value::Unsigned(Some(v)) => i128::from(*v),
        Value::BigUnsigned(Some(v)) => i128::from(*v),
        _ => return None,
    })
}

/// `DELETE FROM t WHERE condition`.
pub(crate) fn delete_where<E: EntityTrait>(condition: Condition) -> DeleteStatement {
    let mut delete = Query::delete();
    delete
        .from_table(Table::of::<E>().table_ref())
        .cond_where(condition);
    delete
}

/// `SELECT COUNT(*) FROM t WHERE condition`.
pub(crate) fn count_where<E: EntityTrait>(condition: &Condition) -> SelectStatement {
    Query::select()
        .expr(Expr::col(Asterisk).count())
        .from(Table::of::<E>().table_ref())
        .cond_where(condition.clone())
        .to_owned()
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
        .map(|chunk| count_where::<E>(&keys_condition::<E>(chunk).add(condition.clone())))
        .collect()
}

/// `SELECT <key or every column> FROM t WHERE target`, with columns qualified by the table.
pub(crate) fn select_rows<E: EntityTrait>(target: Condition, all_columns: bool) -> SelectStatement {
    let table = Table::of::<E>();
    let mut select = Query::select();
    if all_columns {
        for column in E::Column::iter() {
            select.column(table.column(column));
        }
    } else {
        for column in key_columns::<E>() {
            select.column(table.column(column));
        }
    }
    select.from(table.table_ref()).cond_where(target);
    select
}

/// `… FOR UPDATE` where the backend locks rows (SQLite's write lock covers the transaction).
pub(crate) fn lock(mut select: SelectStatement, backend: DbBackend) -> SelectStatement {
    if backend != DbBackend::Sqlite {
        select.lock(LockType::Update);
    }
    select
}

/// What a condition selects, for the operation log: `condition: <SQL>`, or `all rows` for an
/// empty one. Its values are left out (as placeholders) unless `values` is true: the log
/// outlives the rows, and a condition's values (an email address, a customer's name) are often
/// what a purge was meant to erase.
pub(crate) fn describe_condition<E: EntityTrait>(
    backend: DbBackend,
    condition: &Condition,
    values: bool,
) -> String {
    if condition.is_empty() {
        return "all rows".to_owned();
    }
    match where_text(backend, &count_where::<E>(condition), values) {
        Some(condition) => format!("condition: {condition}"),
        None => "all rows".to_owned(),
    }
}

/// The `WHERE` clause of `select` as SQL text for `backend`, without the keyword: with its
/// values written in when `values`, else with their placeholders. `None` without a `WHERE`.
pub(crate) fn where_text(
    backend: DbBackend,
    select: &SelectStatement,
    values: bool,
) -> Option<String> {
    let statement = backend.build(select);
    let sql = match values {
        true => statement.to_string(),
        false => statement.sql,
    };
    sql.split_once(" WHERE ")
        .map(|(_, condition)| condition.to_owned())
}

/// Runs a `SELECT COUNT(*) …` and reads the count.
pub(crate) async fn count<C: ConnectionTrait>(
    conn: &C,
    query: &SelectStatement,
) -> std::result::Result<u64, DbErr> {
    let statement = bind_timestamps(conn.get_database_backend().build(query));
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| DbErr::Custom("COUNT(*) returned no row".to_owned()))?;
    let count: i64 = row.try_get_by_index(0)?;
    Ok(Ord::max(count, 0) as u64)
}

/// True when `table` exists: in its schema, or in the connection's default schema (the current
/// schema on PostgreSQL, the default database on MySQL/MariaDB, `main` on SQLite). Asked of
/// the catalog, so that no failing statement aborts a caller's PostgreSQL transaction.
pub(crate) async fn table_exists<C: ConnectionTrait>(db: &C, table: &Table) -> Result<bool> {
    let backend = db.get_database_backend();
    let name: Value = table.name().into();
    let statement = match (backend, table.schema()) {
        (DbBackend::Sqlite, schema) => Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT COUNT(*) FROM {}.sqlite_master WHERE type = 'table' AND name = ?",
                quote(backend, schema.unwrap_or("main"))
            ),
            [name],
        ),
        (DbBackend::Postgres, schema) => Statement::from_sql_and_values(
            backend,
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2",
            [schema.map(str::to_owned).into(), name],
        ),
        (_, schema) => Statement::from_sql_and_values(
            backend,
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?",
            [schema.map(str::to_owned).into(), name],
        ),
    };
    let row = db.query_one_raw(statement).await?;
    let count: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(count > 0)
}

/// [`table_exists`], asked in a transaction of its own on `db` (a pool): behind a pooler in
/// transaction pooling, a statement with bound values is only sure to reach one server session
/// inside a transaction.
pub(crate) async fn table_exists_apart<C>(db: &C, table: &Table) -> Result<bool>
where
    C: sea_orm::TransactionTrait,
{
    use sea_orm::TransactionSession;
    let txn = db.begin().await?;
    let exists = table_exists(&txn, table).await;
    txn.rollback().await?;
    exists
}

/// An identifier for the crate's own aliases (a derived table's name, say).
pub(crate) fn alias(name: &str) -> DynIden {
    Alias::new(name).into_iden()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_entities::user;

    #[test]
    fn an_integer_key_range_splits_evenly_in_its_own_type() {
        let one = |v: Value| ValueTuple::One(v);
        let (lo, hi) = (
            one(Value::BigInt(Some(1))),
            one(Value::BigInt(Some(20_000))),
        );
        assert_eq!(
            split_point(&lo, &hi, 1, 2),
            Some(one(Value::BigInt(Some(10_000))))
        );
        let (lo, hi) = (one(Value::Int(Some(-10))), one(Value::Int(Some(10))));
        assert_eq!(split_point(&lo, &hi, 3, 4), Some(one(Value::Int(Some(5)))));
        let (lo, hi) = (
            one(Value::BigUnsigned(Some(u64::MAX - 3))),
            one(Value::BigUnsigned(Some(u64::MAX))),
        );
        assert_eq!(
            split_point(&lo, &hi, 1, 3),
            Some(one(Value::BigUnsigned(Some(u64::MAX - 2))))
        );
        // Not one integer: no split point (the walk counts rows instead).
        let text = one(Value::String(Some("a".to_owned())));
        assert_eq!(split_point(&text, &text, 1, 2), None);
        let pair = ValueTuple::Two(Value::BigInt(Some(1)), Value::BigInt(Some(2)));
        assert_eq!(split_point(&pair, &pair, 1, 2), None);
    }

    #[test]
    fn a_table_keeps_its_schema_in_every_form() {
        let table = Table::parse("tenant.orders");
        assert_eq!(table.to_string(), "tenant.orders");
        assert_eq!(table.sql(DbBackend::MySql), "`tenant`.`orders`");
        let select = Query::select()
            .column(table.column(Alias::new("id")))
            .from(table.table_ref())
            .to_owned();
        assert_eq!(
            DbBackend::Postgres.build(&select).to_string(),
            r#"SELECT "tenant"."orders"."id" FROM "tenant"."orders""#
        );
        assert_eq!(
            table.sibling("orders_archive").to_string(),
            "tenant.orders_archive"
        );
        assert_eq!(table.sibling("cold.orders").to_string(), "cold.orders");
        assert_eq!(Table::of::<user::Entity>().to_string(), "users");
    }

    #[test]
    fn a_logged_condition_keeps_its_values_only_when_asked() {
        use sea_orm::ColumnTrait;
        let condition = Condition::all().add(user::Column::Name.eq("ada@example.com"));
        let without = describe_condition::<user::Entity>(DbBackend::Postgres, &condition, false);
        assert_eq!(without, r#"condition: "users"."name" = $1"#);
        let with = describe_condition::<user::Entity>(DbBackend::Postgres, &condition, true);
        assert_eq!(with, r#"condition: "users"."name" = 'ada@example.com'"#);
        assert_eq!(
            describe_condition::<user::Entity>(DbBackend::Sqlite, &Condition::all(), false),
            "all rows"
        );
    }
}
