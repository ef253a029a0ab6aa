//! How a row says it is soft-deleted: the entity's [`Marker`].
//!
//! Most schemas written for this crate mark a deleted row with a nullable timestamp,
//! `deleted_at`. Existing schemas often use something else, and the macros take each of them:
//!
//! | option | marker | live row | deleted row |
//! |---|---|---|---|
//! | (none) | [`Marker::Timestamp`] | `deleted_at IS NULL` | `deleted_at` = when |
//! | `flag = "is_deleted"` | [`Marker::Flag`] | `is_deleted = FALSE` | `is_deleted = TRUE` |
//! | `flag = "is_deleted", deleted_at` | [`Marker::Flag`] with a time | as above, `deleted_at` NULL | as above, `deleted_at` = when |
//! | `active = "is_active"` | [`Marker::Active`] | `is_active = TRUE` | `is_active = FALSE` |
//! | `epoch = "deleted_epoch"` | [`Marker::Epoch`] | `deleted_epoch = 0` | seconds since 1970 |
//! | `epoch = "deleted_epoch", epoch_unit = "millis"` | [`Marker::Epoch`] | `deleted_epoch = 0` | milliseconds since 1970 |
//!
//! A flag is declared `bool`, an epoch `i64`, the timestamp `Option<DateTimeUtc>`; the macros
//! refuse other types. `#[soft_delete]` adds the fields the model does not declare.
//!
//! The marker is a constant of the entity, chosen by the macro: every statement is built for it
//! once, when the statement is built, and no SQL this crate sends tests the kind of marker per
//! row. Scopes, one-record and bulk operations, cascades, statistics and the migration helpers
//! (including [`create_unique_among_active`](crate::migration)) work with every marker.
//!
//! A marker without a time (a flag or a reversed flag alone) cannot say which rows were deleted
//! before a cutoff: `hard_delete_before`, `purge_expired` and the `deleted_before` /
//! `deleted_after` scopes need [`TimedMarker`], which such an entity does not implement, so
//! using them is a compile error. Such rows are purged by condition with
//! [`SoftDeleteManager::purge_where`](crate::SoftDeleteManager::purge_where).
//!
//! An epoch keeps whole seconds (or milliseconds): a row deleted at 10.7 s holds 10. The
//! `deleted_before` and `deleted_after` scopes count such a row from the start of its second,
//! so that the two split the deleted rows at any instant; a purge moves its cutoff back to the
//! start of the cutoff's second, so that it never takes a row deleted after the cutoff. MySQL
//! schemas often carry `UNIQUE (email, deleted_epoch)` to keep emails unique among live rows
//! without a generated column; it works with this crate, but two rows with the same email
//! deleted in the same second (or millisecond) collide.
//! [`create_unique_among_active`](crate::migration) builds the generated column instead, for
//! every marker, which never refuses a soft delete.
//!
//! Two states of a legacy table fall outside what a marker can see, and need a backfill (or a
//! purge by condition) when a table is adopted:
//!
//! * a MySQL `TINYINT` flag holding something other than 0 or 1 matches neither the live test
//!   (`= FALSE`) nor the deleted one (`= TRUE`), although SeaORM reads it as `true`;
//! * with a flag and `deleted_at`, rows flagged before `deleted_at` existed have it NULL: they
//!   are deleted, but a purge by cutoff never takes them
//!   ([`purge_where`](crate::SoftDeleteManager::purge_where) does).
//!
//! ```
//! mod account {
//!     use sea_orm::entity::prelude::*;
//!
//!     // An existing table: `is_deleted` and `deleted_at`, kept in step.
//!     #[soft_delete_core::soft_delete(flag = "is_deleted", deleted_at)]
//!     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
//!     #[sea_orm(table_name = "accounts")]
//!     pub struct Model {
//!         #[sea_orm(primary_key)]
//!         pub id: i64,
//!         pub is_deleted: bool,
//!     }
//!
//!     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
//!     pub enum Relation {}
//!
//!     impl ActiveModelBehavior for ActiveModel {}
//! }
//!
//! use sea_orm::{DbBackend, QueryTrait};
//! use soft_delete_core::prelude::*;
//! use soft_delete_core::Marker;
//!
//! assert!(matches!(
//!     account::Entity::marker(),
//!     Marker::Flag { flag: account::Column::IsDeleted, at: Some(account::Column::DeletedAt) }
//! ));
//! assert_eq!(
//!     account::Entity::find_active().build(DbBackend::Postgres).to_string(),
//!     r#"SELECT "accounts"."id", "accounts"."is_deleted", "accounts"."deleted_at", "accounts"."deleted_by", "accounts"."deletion_reason" FROM "accounts" WHERE "accounts"."is_deleted" = FALSE"#
//! );
//! ```

use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, DbBackend, Value};

use crate::time::{Timestamp, ceil_micros, timestamp_value};

/// The unit of an epoch marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EpochUnit {
    /// Whole seconds since 1970-01-01 UTC.
    Seconds,
    /// Whole milliseconds since 1970-01-01 UTC.
    Millis,
}

impl EpochUnit {
    /// `t` in this unit, rounded down.
    pub fn of(self, t: Timestamp) -> i64 {
        match self {
            EpochUnit::Seconds => t.timestamp(),
            EpochUnit::Millis => t.timestamp_millis(),
        }
    }

    /// The first whole unit that starts at or after `t`: a row holding a value below it was
    /// deleted before `t` (its unit started before `t`), one holding it or more at or after.
    pub fn ceil(self, t: Timestamp) -> i64 {
        let floor = self.of(t);
        if self.start(floor) == Some(t) {
            floor
        } else {
            floor.saturating_add(1)
        }
    }

    /// The instant unit `value` starts at.
    fn start(self, value: i64) -> Option<Timestamp> {
        match self {
            EpochUnit::Seconds => Timestamp::from_timestamp(value, 0),
            EpochUnit::Millis => Timestamp::from_timestamp_millis(value),
        }
    }

    /// The time `value` stands for; `None` for 0 (a live row) and values out of range.
    pub fn to_timestamp(self, value: i64) -> Option<Timestamp> {
        if value == 0 {
            return None;
        }
        self.start(value)
    }
}

/// How an entity's rows say they are soft-deleted; see the [module documentation](self).
/// `C` is the entity's column type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Marker<C> {
    /// A nullable timestamp: `NULL` while the row is live, the time it was deleted after.
    Timestamp(C),
    /// A boolean that is `TRUE` once the row is deleted; `at`, when the entity has one, is a
    /// nullable timestamp kept in step (set by a soft delete, cleared by a restore).
    Flag {
        /// The flag column (`is_deleted`).
        flag: C,
        /// The timestamp column kept in step, if any.
        at: Option<C>,
    },
    /// A boolean that is `TRUE` while the row is live and `FALSE` once it is deleted (the
    /// reversed flag, Hibernate's `active`); `at` as for [`Flag`](Marker::Flag).
    Active {
        /// The flag column (`is_active`).
        flag: C,
        /// The timestamp column kept in step, if any.
        at: Option<C>,
    },
    /// An integer: 0 while the row is live, the time it was deleted in `unit` since 1970 after.
    Epoch {
        /// The epoch column (`deleted_epoch`).
        column: C,
        /// Seconds or milliseconds.
        unit: EpochUnit,
    },
}

/// A [`SoftDelete`](crate::SoftDelete) entity whose marker records when a row was deleted: every marker but a
/// flag alone. Implemented by the macros; needed by everything that compares deletion times
/// (purge by cutoff, `deleted_before` / `deleted_after`), beside the `SoftDelete` bound.
#[diagnostic::on_unimplemented(
    message = "`{Self}` records no deletion time",
    label = "comparing deletion times needs a soft-delete entity whose marker keeps the time",
    note = "a flag alone (`flag` or `active` without `deleted_at`) says that a row was deleted, \
            not when: purge such rows by condition with `SoftDeleteManager::purge_where`, or keep \
            a timestamp in step with the flag: `#[soft_delete(flag = \"is_deleted\", deleted_at)]`"
)]
pub trait TimedMarker: sea_orm::EntityTrait {}

/// The SQL of a boolean constant, written into the statement rather than bound, so that a
/// partial index's predicate and a query's condition read the same.
fn boolean(value: bool) -> Expr {
    Expr::Constant(Value::Bool(Some(value)))
}

impl<C> Marker<C> {
    /// The same marker over other column values (e.g. `DynIden`s qualified by table).
    pub fn map<D>(self, mut f: impl FnMut(C) -> D) -> Marker<D> {
        match self {
            Marker::Timestamp(at) => Marker::Timestamp(f(at)),
            Marker::Flag { flag, at } => Marker::Flag {
                flag: f(flag),
                at: at.map(f),
            },
            Marker::Active { flag, at } => Marker::Active {
                flag: f(flag),
                at: at.map(f),
            },
            Marker::Epoch { column, unit } => Marker::Epoch {
                column: f(column),
                unit,
            },
        }
    }

    /// The timestamp column, where the marker has one.
    pub fn at_column(&self) -> Option<&C> {
        match self {
            Marker::Timestamp(at) => Some(at),
            Marker::Flag { at, .. } | Marker::Active { at, .. } => at.as_ref(),
            Marker::Epoch { .. } => None,
        }
    }

    /// The column whose value tells a live row from a deleted one: the timestamp, the flag or
    /// the epoch.
    pub fn state_column(&self) -> &C {
        match self {
            Marker::Timestamp(at) => at,
            Marker::Flag { flag, .. } | Marker::Active { flag, .. } => flag,
            Marker::Epoch { column, .. } => column,
        }
    }

    /// The column an index of the deleted rows is keyed on: the time where there is one (it
    /// serves trash listings in order and purges by cutoff), else the flag.
    pub fn index_column(&self) -> &C {
        match self {
            Marker::Flag { at: Some(at), .. } | Marker::Active { at: Some(at), .. } => at,
            other => other.state_column(),
        }
    }

    /// Every column the marker writes.
    pub fn columns(&self) -> Vec<&C> {
        let mut columns = vec![self.state_column()];
        if let Marker::Flag { at: Some(at), .. } | Marker::Active { at: Some(at), .. } = self {
            columns.push(at);
        }
        columns
    }

    /// The cutoff a purge compares with, for a purge that must never take a row deleted at or
    /// after `cutoff`: an epoch's unit that contains the cutoff may hold rows deleted after it,
    /// so the cutoff moves back to the start of that unit. Other markers keep the cutoff.
    pub fn purge_cutoff(&self, cutoff: Timestamp) -> Timestamp {
        match self {
            Marker::Epoch { unit, .. } => unit.start(unit.of(cutoff)).unwrap_or(cutoff),
            _ => cutoff,
        }
    }

    /// True when the marker records when a row was deleted (every marker but a flag alone).
    pub fn is_timed(&self) -> bool {
        !matches!(
            self,
            Marker::Flag { at: None, .. } | Marker::Active { at: None, .. }
        )
    }
}

impl<C: Clone> Marker<C> {
    /// The condition "the row is live", with each column written by `col`.
    pub(crate) fn live_in(&self, col: impl Fn(C) -> Expr) -> Expr {
        match self.clone() {
            Marker::Timestamp(at) => col(at).is_null(),
            Marker::Flag { flag, .. } => col(flag).eq(boolean(false)),
            Marker::Active { flag, .. } => col(flag).eq(boolean(true)),
            Marker::Epoch { column, .. } => col(column).eq(Expr::Constant(Value::BigInt(Some(0)))),
        }
    }

    /// The condition "the row is soft-deleted", with each column written by `col`.
    pub(crate) fn deleted_in(&self, col: impl Fn(C) -> Expr) -> Expr {
        match self.clone() {
            Marker::Timestamp(at) => col(at).is_not_null(),
            Marker::Flag { flag, .. } => col(flag).eq(boolean(true)),
            Marker::Active { flag, .. } => col(flag).eq(boolean(false)),
            Marker::Epoch { column, .. } => col(column).ne(Expr::Constant(Value::BigInt(Some(0)))),
        }
    }

    /// "Soft-deleted strictly before `cutoff`"; `None` for a marker without a time. The cutoff
    /// is taken as [`ceil_micros`] gives it. An epoch row counts from the start of its second
    /// (or millisecond), as in [`deleted_since_in`](Self::deleted_since_in), so that the two
    /// split the deleted rows at any instant without a gap; a purge first moves its cutoff
    /// back with [`purge_cutoff`](Self::purge_cutoff). The deleted test is written as
    /// [`deleted_in`](Self::deleted_in) writes it, literals included, so that an index of the
    /// deleted rows (whose predicate is that test) can serve the condition.
    pub(crate) fn deleted_before_in(
        &self,
        cutoff: Timestamp,
        col: impl Fn(C) -> Expr,
    ) -> Option<Condition> {
        self.time_condition(cutoff, col, true)
    }

    /// "Soft-deleted at or after `since`"; `None` for a marker without a time. An epoch row
    /// counts from the start of its second (or millisecond).
    pub(crate) fn deleted_since_in(
        &self,
        since: Timestamp,
        col: impl Fn(C) -> Expr,
    ) -> Option<Condition> {
        self.time_condition(since, col, false)
    }

    fn time_condition(
        &self,
        at: Timestamp,
        col: impl Fn(C) -> Expr,
        before: bool,
    ) -> Option<Condition> {
        let at = ceil_micros(at);
        let compare = |column: Expr, value: Value| {
            if before {
                column.lt(value)
            } else {
                column.gte(value)
            }
        };
        let time = match self.clone() {
            // NULL compares as unknown: live rows never match, and no deleted test is needed.
            Marker::Timestamp(column) => {
                return Some(Condition::all().add(compare(col(column), timestamp_value(at))));
            }
            Marker::Flag { at: column, .. } | Marker::Active { at: column, .. } => {
                compare(col(column?), timestamp_value(at))
            }
            Marker::Epoch { column, unit } => compare(col(column), Value::from(unit.ceil(at))),
        };
        Some(Condition::all().add(self.deleted_in(&col)).add(time))
    }

    /// The `(column, value)` pairs a soft delete at `at` writes.
    pub(crate) fn stamp(&self, at: Timestamp) -> Vec<(C, Value)> {
        let time = |column: Option<C>| column.map(|c| (c, Value::from(at)));
        match self.clone() {
            Marker::Timestamp(column) => vec![(column, Value::from(at))],
            Marker::Flag { flag, at: column } => std::iter::once((flag, Value::from(true)))
                .chain(time(column))
                .collect(),
            Marker::Active { flag, at: column } => std::iter::once((flag, Value::from(false)))
                .chain(time(column))
                .collect(),
            Marker::Epoch { column, unit } => vec![(column, Value::from(unit.of(at)))],
        }
    }

    /// The `(column, value)` pairs a restore writes: the marker of a live row.
    pub(crate) fn clear(&self) -> Vec<(C, Value)> {
        let time = |column: Option<C>| column.map(|c| (c, Value::from(Option::<Timestamp>::None)));
        match self.clone() {
            Marker::Timestamp(column) => vec![(column, Value::from(Option::<Timestamp>::None))],
            Marker::Flag { flag, at } => std::iter::once((flag, Value::from(false)))
                .chain(time(at))
                .collect(),
            Marker::Active { flag, at } => std::iter::once((flag, Value::from(true)))
                .chain(time(at))
                .collect(),
            Marker::Epoch { column, .. } => vec![(column, Value::from(0i64))],
        }
    }

    /// The condition a row soft-deleted at `at` meets, and whether it is exact: true when the
    /// marker keeps `at` to the microsecond (a timestamp), false when rows deleted at other
    /// times meet it too (an epoch's second, or a flag alone, which every deleted row meets).
    pub(crate) fn stamped_in(&self, at: Timestamp, col: impl Fn(C) -> Expr) -> (Condition, bool) {
        match self.at_column() {
            Some(column) => (
                Condition::all()
                    .add(self.deleted_in(&col))
                    .add(col(column.clone()).eq(Value::from(at))),
                true,
            ),
            None => match self.clone() {
                Marker::Epoch { column, unit } => {
                    (Condition::all().add(col(column).eq(unit.of(at))), false)
                }
                _ => (Condition::all().add(self.deleted_in(&col)), false),
            },
        }
    }

    /// The expression a statistics query counts to find the deleted rows: the timestamp
    /// itself (`COUNT(deleted_at)` counts its non-NULL values), else 1 for deleted rows and
    /// NULL for live ones.
    pub(crate) fn deleted_count_in(&self, col: impl Fn(C) -> Expr) -> Expr {
        match self.clone() {
            Marker::Timestamp(at) => col(at).count(),
            _ => Expr::case(self.deleted_in(&col), 1)
                .finally(Expr::null())
                .count(),
        }
    }
}

impl<C: ColumnTrait> Marker<C> {
    /// `deleted_at IS NULL`, `is_deleted = FALSE`, `is_active = TRUE` or `deleted_epoch = 0`.
    pub fn live(&self) -> Expr {
        self.live_in(|c| Expr::col(c.as_column_ref()))
    }

    /// `deleted_at IS NOT NULL`, `is_deleted = TRUE`, `is_active = FALSE` or
    /// `deleted_epoch <> 0`.
    pub fn deleted(&self) -> Expr {
        self.deleted_in(|c| Expr::col(c.as_column_ref()))
    }

    /// The rows soft-deleted strictly before `cutoff`; `None` for a marker without a time.
    pub fn deleted_before(&self, cutoff: Timestamp) -> Option<Condition> {
        self.deleted_before_in(cutoff, |c| Expr::col(c.as_column_ref()))
    }

    /// The rows soft-deleted at or after `since`; `None` for a marker without a time.
    pub fn deleted_since(&self, since: Timestamp) -> Option<Condition> {
        self.deleted_since_in(since, |c| Expr::col(c.as_column_ref()))
    }
}

impl<C: sea_orm::IdenStatic> Marker<C> {
    /// The test of a row's state that the bulk statements add to conditions that already name
    /// their rows by key, as SQL text with the columns unqualified: `"deleted_at" IS NULL` or
    /// `"is_deleted" = FALSE`, for live rows when `deleted` is false. Written so that no index
    /// on the marker can serve it (see `bulk::sql::state_guard`): SQLite gets a unary `+` on
    /// the column, the others `(…) IS TRUE`.
    pub(crate) fn guard_sql(&self, backend: DbBackend, deleted: bool) -> String {
        let quoted = |column: &C| {
            let name = crate::sql::quote(backend, column.as_str());
            match backend {
                DbBackend::Sqlite => format!("+{name}"),
                _ => name,
            }
        };
        let test = match (self, deleted) {
            (Marker::Timestamp(at), false) => format!("{} IS NULL", quoted(at)),
            (Marker::Timestamp(at), true) => format!("{} IS NOT NULL", quoted(at)),
            (Marker::Flag { flag, .. }, deleted) => format!(
                "{} = {}",
                quoted(flag),
                if deleted { "TRUE" } else { "FALSE" }
            ),
            (Marker::Active { flag, .. }, deleted) => format!(
                "{} = {}",
                quoted(flag),
                if deleted { "FALSE" } else { "TRUE" }
            ),
            (Marker::Epoch { column, .. }, false) => format!("{} = 0", quoted(column)),
            (Marker::Epoch { column, .. }, true) => format!("{} <> 0", quoted(column)),
        };
        match backend {
            DbBackend::Sqlite => test,
            _ => format!("({test}) IS TRUE"),
        }
    }
}

impl<C> Marker<C> {
    /// True for an epoch that would hold `at` as 0 or less: a time it cannot tell from a live
    /// row.
    pub(crate) fn refuses_stamp(&self, at: Timestamp) -> bool {
        matches!(self, Marker::Epoch { unit, .. } if unit.of(at) <= 0)
    }
}

/// `value` as a `T`, or `None` when it is NULL or of another type.
pub(crate) fn value_to<T>(value: Value) -> Option<T>
where
    T: sea_orm::sea_query::ValueType + sea_orm::sea_query::Nullable,
{
    <Option<T> as sea_orm::sea_query::ValueType>::try_from(value)
        .ok()
        .flatten()
}

/// The deletion state of a loaded row, from the values `get` reads for the marker's columns:
/// whether it is deleted, and when, where the marker says.
pub(crate) fn read_state<C: Clone>(
    marker: &Marker<C>,
    get: impl Fn(C) -> Value,
) -> (bool, Option<Timestamp>) {
    let time = |column: Option<C>| value_to::<Timestamp>(get(column?));
    let flag = |column: C| matches!(get(column), Value::Bool(Some(true)));
    match marker.clone() {
        Marker::Timestamp(at) => {
            let at = time(Some(at));
            (at.is_some(), at)
        }
        Marker::Flag { flag: column, at } => (flag(column), time(at)),
        Marker::Active { flag: column, at } => (!flag(column), time(at)),
        Marker::Epoch { column, unit } => {
            let value = match get(column) {
                Value::BigInt(Some(v)) => v,
                Value::Int(Some(v)) => i64::from(v),
                _ => 0,
            };
            (value != 0, unit.to_timestamp(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, PostgresQueryBuilder, Query};

    use super::*;

    fn sql(expr: Expr) -> String {
        Query::select()
            .expr(expr)
            .to_string(PostgresQueryBuilder)
            .trim_start_matches("SELECT ")
            .to_owned()
    }

    fn col(name: &'static str) -> Expr {
        Expr::col(Alias::new(name))
    }

    #[test]
    fn each_marker_writes_its_own_state_tests() {
        let flag = Marker::Flag {
            flag: "is_deleted",
            at: None,
        };
        let active = Marker::Active {
            flag: "is_active",
            at: Some("deleted_at"),
        };
        let epoch = Marker::Epoch {
            column: "deleted_epoch",
            unit: EpochUnit::Millis,
        };
        assert_eq!(sql(flag.live_in(col)), r#""is_deleted" = FALSE"#);
        assert_eq!(sql(flag.deleted_in(col)), r#""is_deleted" = TRUE"#);
        assert_eq!(sql(active.live_in(col)), r#""is_active" = TRUE"#);
        assert_eq!(sql(epoch.live_in(col)), r#""deleted_epoch" = 0"#);
        assert_eq!(sql(epoch.deleted_in(col)), r#""deleted_epoch" <> 0"#);
        assert!(flag.deleted_before_in(Timestamp::UNIX_EPOCH, col).is_none());
        assert!(!flag.is_timed() && active.is_timed() && epoch.is_timed());
        assert_eq!(active.index_column(), &"deleted_at");
    }

    #[test]
    fn epoch_scopes_split_the_deleted_rows_and_a_purge_never_takes_a_later_one() {
        let epoch = Marker::Epoch {
            column: "e",
            unit: EpochUnit::Seconds,
        };
        let text = |condition: Condition| {
            Query::select()
                .cond_where(condition)
                .to_string(PostgresQueryBuilder)
        };
        let cutoff = Timestamp::from_timestamp(100, 500_000_000).expect("valid");
        // A row holding 100 was deleted in [100 s, 101 s): it started before the cutoff, so it
        // is "before" for the scopes, and not "since".
        let before = epoch
            .deleted_before_in(cutoff, col)
            .expect("an epoch has a time");
        assert!(text(before).ends_with(r#""e" <> 0 AND "e" < 101"#));
        let since = epoch
            .deleted_since_in(cutoff, col)
            .expect("an epoch has a time");
        assert!(text(since).ends_with(r#""e" <> 0 AND "e" >= 101"#));
        // A purge moves the cutoff back to the start of its second: the row holding 100 may
        // have been deleted at 100.7 s, after the cutoff.
        let purge = epoch
            .deleted_before_in(epoch.purge_cutoff(cutoff), col)
            .expect("an epoch has a time");
        assert!(text(purge).ends_with(r#""e" <> 0 AND "e" < 100"#));
        // A cutoff on a whole second changes nothing.
        let whole = Timestamp::from_timestamp(100, 0).expect("valid");
        assert_eq!(epoch.purge_cutoff(whole), whole);
        assert_eq!(EpochUnit::Millis.ceil(whole), 100_000);
        assert!(epoch.refuses_stamp(Timestamp::from_timestamp(0, 999_000_000).expect("valid")));
        assert!(!epoch.refuses_stamp(whole));
    }

    #[test]
    fn only_a_marker_that_keeps_the_microsecond_marks_a_change_exactly() {
        let at = Timestamp::from_timestamp(1_000, 123_456_000).expect("valid");
        let exact = |marker: Marker<&'static str>| marker.stamped_in(at, col).1;
        assert!(exact(Marker::Timestamp("deleted_at")));
        assert!(exact(Marker::Flag {
            flag: "is_deleted",
            at: Some("deleted_at"),
        }));
        assert!(!exact(Marker::Flag {
            flag: "is_deleted",
            at: None,
        }));
        assert!(!exact(Marker::Active {
            flag: "is_active",
            at: None,
        }));
        assert!(!exact(Marker::Epoch {
            column: "e",
            unit: EpochUnit::Millis,
        }));
        let (condition, _) = Marker::Epoch {
            column: "e",
            unit: EpochUnit::Millis,
        }
        .stamped_in(at, col);
        let text = Query::select()
            .cond_where(condition)
            .to_string(PostgresQueryBuilder);
        assert!(text.ends_with(r#""e" = 1000123"#), "{text}");
    }

    #[test]
    fn the_guard_keeps_indexes_out_on_every_backend() {
        let flag = Marker::Flag {
            flag: "is_deleted",
            at: None,
        }
        .map(TestColumn);
        assert_eq!(
            flag.guard_sql(DbBackend::Sqlite, false),
            r#"+"is_deleted" = FALSE"#
        );
        assert_eq!(
            flag.guard_sql(DbBackend::MySql, true),
            "(`is_deleted` = TRUE) IS TRUE"
        );
    }

    #[derive(Clone, Copy, Debug)]
    struct TestColumn(&'static str);

    impl sea_orm::Iden for TestColumn {
        fn unquoted(&self) -> &str {
            self.0
        }
    }

    impl sea_orm::IdenStatic for TestColumn {
        fn as_str(&self) -> &'static str {
            self.0
        }
    }
}
