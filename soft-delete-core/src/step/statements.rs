//! The statements of the step that know what a soft delete is, per backend: the `UPDATE` of rows
//! named by key (built once per operation and reused), the `UPDATE` of a key range, the state
//! guards, and the purge's conditions.
//!
//! * **Rows named by key** (bulk soft delete and restore, and one-record operations, a batch of
//!   one key): one `UPDATE` per batch whose SQL text is built once per operation and reused, so
//!   sqlx's statement cache prepares it once. PostgreSQL with query optimization gets
//!   `pk = ANY($n)` with a single array parameter; other backends (and composite keys) get `IN`
//!   lists, split so that no statement exceeds the backend's bind-parameter limit whatever the
//!   batch size. Composite keys use tuple `IN`.
//! * **Rows chosen by condition** (bulk operations `..._where` and purges): a keyset walk. Each
//!   batch first finds the key of its last row (`SELECT key … WHERE cond AND key > cursor ORDER
//!   BY key LIMIT 1 OFFSET n-1`), then changes exactly the range `cursor < key <= last`. The walk
//!   never revisits rows behind the cursor, touches at most one batch of rows per statement
//!   (the range holds exactly `n` matching rows when it was measured), and needs no `LIMIT`
//!   inside an `IN` subquery, which MySQL and MariaDB reject. The same two statements serve
//!   every backend and composite keys (tuple comparison).

use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Query, SelectStatement, UpdateStatement, Value,
    ValueTuple,
};
use sea_orm::{DbBackend, IdenStatic, Statement};

use crate::change::Change;
use crate::entity::{SoftDelete, columns};
use crate::marker::Marker;
use crate::sql::{
    Table, in_range, key_columns, placeholder, push_rows, quote, remaining, rows_per_statement,
};
use crate::storage::Stored;
use crate::time::Timestamp;

/// One `UPDATE` shape for rows named by key, reused for every batch of an operation.
#[derive(Clone, Debug)]
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
    /// Prepares the statement shape for `change` on `E`, with `extra` assignments after the
    /// change's own (the other changes of an active model, for a one-record operation).
    /// `optimize` enables PostgreSQL's `= ANY($n)` form for single-column keys.
    pub(crate) fn new<E: SoftDelete>(
        backend: DbBackend,
        change: &Change,
        extra: Vec<(E::Column, Value)>,
        optimize: bool,
    ) -> Self {
        let mut assignments = change.assignments(&columns::<E>());
        assignments.extend(extra);
        let mut prefix = format!("UPDATE {} SET ", Table::of::<E>().sql(backend));
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
        let suffix = format!(" AND {}", E::marker().guard_sql(backend, change.restores()));
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

/// Which rows `change` applies to (active rows for a soft delete, deleted ones for a restore),
/// written so that the planner never reaches the rows through an index on `deleted_at`.
///
/// The statements that carry the guard already name their rows by primary key (a key list or a
/// key range); the guard only filters them. Written plainly (`deleted_at IS NULL`), it invites
/// the planner to walk an index on `deleted_at` instead and check each entry's key, which costs
/// every active (or deleted) row per batch. All three did it (`tests/tests/it/query_plans.rs`):
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
    Expr::cust(E::marker().guard_sql(backend, change.restores()))
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
    update.table(Table::of::<E>().table_ref());
    for (column, value) in change.assignments(&columns::<E>()) {
        update.value(column, value);
    }
    let range = in_range::<E>(
        &remaining::<E>(condition, cursor).add(state_guard::<E>(change, backend)),
        None,
        bound,
    );
    update.cond_where(range);
    update.to_owned()
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
        .from(Table::of::<E>().table_ref())
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
        let cutoff = column.storage().time(cutoff);
        let value = || match backend {
            DbBackend::MySql => Expr::cust_with_values("CAST(? AS DATETIME(6))", [cutoff.clone()]),
            _ => Expr::val(cutoff.clone()),
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

    use sea_orm::ColumnTrait;

    use super::*;
    use crate::sql::{bind_limit, count_where, delete_where, keyset_bound};
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
            KeyedUpdate::new::<user::Entity>(DbBackend::Postgres, &soft_delete(), Vec::new(), true);
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
        let mut update = KeyedUpdate::new::<user::Entity>(
            DbBackend::Postgres,
            &soft_delete(),
            Vec::new(),
            false,
        );
        let statements = update.statements(&ids(1..4));
        assert_eq!(
            statements[0].sql,
            r#"UPDATE "users" SET "deleted_at" = $1, "deleted_by" = $2, "deletion_reason" = $3 WHERE "id" IN ($4, $5, $6) AND ("deleted_at" IS NULL) IS TRUE"#
        );
    }

    #[test]
    fn sqlite_and_mysql_get_in_lists() {
        let mut sqlite =
            KeyedUpdate::new::<user::Entity>(DbBackend::Sqlite, &soft_delete(), Vec::new(), true);
        assert_eq!(
            sqlite.statements(&ids(1..3))[0].sql,
            r#"UPDATE "users" SET "deleted_at" = ?, "deleted_by" = ?, "deletion_reason" = ? WHERE "id" IN (?, ?) AND +"deleted_at" IS NULL"#
        );
        let mut mysql =
            KeyedUpdate::new::<user::Entity>(DbBackend::MySql, &soft_delete(), Vec::new(), true);
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
            reason: None,
        };
        let mut update =
            KeyedUpdate::new::<user::Entity>(DbBackend::Postgres, &restore, Vec::new(), true);
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
            let mut update =
                KeyedUpdate::new::<membership::Entity>(backend, &soft_delete(), Vec::new(), true);
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
            let mut update =
                KeyedUpdate::new::<user::Entity>(backend, &soft_delete(), Vec::new(), optimize);
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
        let mut update = KeyedUpdate::new::<membership::Entity>(
            DbBackend::Sqlite,
            &soft_delete(),
            Vec::new(),
            true,
        );
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
        let mut any =
            KeyedUpdate::new::<user::Entity>(DbBackend::Postgres, &soft_delete(), Vec::new(), true);
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
        let mut update =
            KeyedUpdate::new::<note::Entity>(DbBackend::Sqlite, &change, Vec::new(), true);
        assert_eq!(
            update.statements(&ids(1..2))[0].sql,
            r#"UPDATE "notes" SET "deleted_at" = ?, "deleted_by" = ?, "reason" = ?, "updated_at" = ?, "updated_by" = ? WHERE "id" IN (?) AND +"deleted_at" IS NULL"#
        );
        let anonymous = Change::Restore {
            op: crate::operation::OperationId::new(),
            at: at(),
            by: None,
            reason: None,
        };
        let mut update =
            KeyedUpdate::new::<note::Entity>(DbBackend::Sqlite, &anonymous, Vec::new(), true);
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
        let delete = delete_where::<user::Entity>(in_range::<user::Entity>(
            &condition,
            cursor.as_ref(),
            bound.as_ref(),
        ));
        let last = delete_where::<user::Entity>(in_range::<user::Entity>(
            &condition,
            cursor.as_ref(),
            None,
        ));
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
            reason: None,
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
