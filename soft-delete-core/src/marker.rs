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
//! A flag is declared `bool` or an integer (`i8` … `i64`, `u8` … `u64`, holding 0 or 1, as
//! `sea-orm-cli` generates a MySQL `TINYINT(1)`); an epoch `i64` or `i32` (seconds only: an
//! `i32` ends in 2038, and a time past it is refused by name); a timestamp
//! `Option<DateTimeUtc>`, `Option<DateTimeWithTimeZone>` or `Option<DateTime>` (naive, read and
//! written as UTC). Every value is written and compared as the column's declaration says (see
//! `storage`): `is_deleted = 0` for an integer flag, a naive timestamp for a naive column. The
//! macros refuse other types, naming the accepted ones. `#[soft_delete]` adds the fields the
//! model does not declare.
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
//! * a `TINYINT` or other integer flag holding something other than 0 or 1 matches neither the
//!   live test (`= 0`) nor the deleted one (`= 1`), although a model reads it as deleted;
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

use crate::storage::{Stored, read_int, read_time};
use crate::time::{Timestamp, ceil_micros};

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

/// The SQL of a flag's constant (`TRUE`, or 1 for an integer flag), written into the statement
/// rather than bound, so that a partial index's predicate and a query's condition read the same.
fn flag_value<C: Stored>(flag: &C, on: bool) -> Expr {
    Expr::Constant(flag.storage().flag(on))
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

impl<C: Stored> Marker<C> {
    /// The condition "the row is live", with each column written by `col`.
    pub(crate) fn live_in(&self, col: impl Fn(C) -> Expr) -> Expr {
        match self.clone() {
            Marker::Timestamp(at) => col(at).is_null(),
            Marker::Flag { flag, .. } => {
                let live = flag_value(&flag, false);
                col(flag).eq(live)
            }
            Marker::Active { flag, .. } => {
                let live = flag_value(&flag, true);
                col(flag).eq(live)
            }
            Marker::Epoch { column, .. } => col(column).eq(Expr::Constant(Value::BigInt(Some(0)))),
        }
    }

    /// The condition "the row is soft-deleted", with each column written by `col`.
    pub(crate) fn deleted_in(&self, col: impl Fn(C) -> Expr) -> Expr {
        match self.clone() {
            Marker::Timestamp(at) => col(at).is_not_null(),
            Marker::Flag { flag, .. } => {
                let deleted = flag_value(&flag, true);
                col(flag).eq(deleted)
            }
            Marker::Active { flag, .. } => {
                let deleted = flag_value(&flag, false);
                col(flag).eq(deleted)
            }
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
                let value = column.storage().time_param(at);
                return Some(Condition::all().add(compare(col(column), value)));
            }
            Marker::Flag { at: column, .. } | Marker::Active { at: column, .. } => {
                let column = column?;
                let value = column.storage().time_param(at);
                compare(col(column), value)
            }
            Marker::Epoch { column, unit } => compare(col(column), Value::from(unit.ceil(at))),
        };
        Some(Condition::all().add(self.deleted_in(&col)).add(time))
    }

    /// The `(column, value)` pairs a soft delete at `at` writes.
    pub(crate) fn stamp(&self, at: Timestamp) -> Vec<(C, Value)> {
        self.state(Some(at))
    }

    /// The `(column, value)` pairs a restore writes: the marker of a live row.
    pub(crate) fn clear(&self) -> Vec<(C, Value)> {
        self.state(None)
    }

    /// The marker's columns with the values of a row deleted at `deleted` (`None`: a live
    /// row), each typed as its column holds it.
    fn state(&self, deleted: Option<Timestamp>) -> Vec<(C, Value)> {
        let time = |column: C| {
            let storage = column.storage();
            let value = match deleted {
                Some(at) => storage.time(at),
                None => storage.null_time(),
            };
            (column, value)
        };
        let flag = |column: C, on: bool| {
            let value = column.storage().flag(on);
            (column, value)
        };
        match self.clone() {
            Marker::Timestamp(column) => vec![time(column)],
            Marker::Flag { flag: f, at } => std::iter::once(flag(f, deleted.is_some()))
                .chain(at.map(time))
                .collect(),
            Marker::Active { flag: f, at } => std::iter::once(flag(f, deleted.is_none()))
                .chain(at.map(time))
                .collect(),
            Marker::Epoch { column, unit } => {
                let since = deleted.map_or(0, |at| unit.of(at));
                // `refuses_stamp` refused an epoch the column cannot hold.
                let value = column
                    .storage()
                    .int(since)
                    .unwrap_or(Value::BigInt(Some(since)));
                vec![(column, value)]
            }
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
                    .add(col(column.clone()).eq(column.storage().time_param(at))),
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

impl<C: sea_orm::IdenStatic + Stored> Marker<C> {
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
            (Marker::Flag { flag, .. }, deleted) => {
                format!("{} = {}", quoted(flag), flag.storage().flag_sql(deleted))
            }
            (Marker::Active { flag, .. }, deleted) => {
                format!("{} = {}", quoted(flag), flag.storage().flag_sql(!deleted))
            }
            (Marker::Epoch { column, .. }, false) => format!("{} = 0", quoted(column)),
            (Marker::Epoch { column, .. }, true) => format!("{} <> 0", quoted(column)),
        };
        match backend {
            DbBackend::Sqlite => test,
            _ => format!("({test}) IS TRUE"),
        }
    }
}

impl<C: Stored> Marker<C> {
    /// Why the marker cannot hold a soft delete at `at`, if it cannot: an epoch that would hold
    /// it as 0 or less (a time it cannot tell from a live row), or more than its declared
    /// integer holds (an `i32` epoch of seconds ends in 2038).
    pub(crate) fn refuses_stamp(&self, at: Timestamp) -> Option<String> {
        let Marker::Epoch { column, unit } = self else {
            return None;
        };
        let value = unit.of(at);
        if value <= 0 {
            return Some(format!(
                "{at} is not after 1970-01-01 00:00:00 UTC: the epoch would hold {value}, which \
                 it cannot tell from a live row's 0"
            ));
        }
        let max = column.storage().int_max();
        (value > max).then(|| {
            format!("{at} is {value} since 1970, more than the epoch column's type holds ({max})")
        })
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
    let time = |column: Option<C>| read_time(&get(column?));
    let flag = |column: C| read_int(&get(column)).is_some_and(|v| v != 0);
    match marker.clone() {
        Marker::Timestamp(at) => {
            let at = time(Some(at));
            (at.is_some(), at)
        }
        Marker::Flag { flag: column, at } => (flag(column), time(at)),
        Marker::Active { flag: column, at } => (!flag(column), time(at)),
        Marker::Epoch { column, unit } => {
            let value = read_int(&get(column)).unwrap_or(0);
            (value != 0, unit.to_timestamp(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, IntoIden, PostgresQueryBuilder, Query};

    use super::*;
    use crate::storage::{Int, Storage, StoredIden};

    /// The marker over named columns of `storage` (a flag's or an epoch's; timestamps aware).
    fn stored(marker: Marker<&'static str>, storage: Storage) -> Marker<StoredIden> {
        let state = *marker.state_column();
        marker.map(|name| StoredIden {
            iden: Alias::new(name).into_iden(),
            storage: if name == state {
                storage
            } else {
                Storage::Aware
            },
        })
    }

    fn named(marker: Marker<&'static str>) -> Marker<StoredIden> {
        let storage = match marker {
            Marker::Timestamp(_) => Storage::Aware,
            Marker::Epoch { .. } => Storage::Int(Int::I64),
            _ => Storage::Bool,
        };
        stored(marker, storage)
    }

    fn sql(expr: Expr) -> String {
        Query::select()
            .expr(expr)
            .to_string(PostgresQueryBuilder)
            .trim_start_matches("SELECT ")
            .to_owned()
    }

    fn col(column: StoredIden) -> Expr {
        Expr::col(column.iden)
    }

    #[test]
    fn each_marker_writes_its_own_state_tests() {
        let flag = named(Marker::Flag {
            flag: "is_deleted",
            at: None,
        });
        let active = named(Marker::Active {
            flag: "is_active",
            at: Some("deleted_at"),
        });
        let epoch = named(Marker::Epoch {
            column: "deleted_epoch",
            unit: EpochUnit::Millis,
        });
        assert_eq!(sql(flag.live_in(col)), r#""is_deleted" = FALSE"#);
        assert_eq!(sql(flag.deleted_in(col)), r#""is_deleted" = TRUE"#);
        assert_eq!(sql(active.live_in(col)), r#""is_active" = TRUE"#);
        assert_eq!(sql(epoch.live_in(col)), r#""deleted_epoch" = 0"#);
        assert_eq!(sql(epoch.deleted_in(col)), r#""deleted_epoch" <> 0"#);
        assert!(flag.deleted_before_in(Timestamp::UNIX_EPOCH, col).is_none());
        assert!(!flag.is_timed() && active.is_timed() && epoch.is_timed());
        assert_eq!(active.index_column().iden.to_string(), "deleted_at");
    }

    #[test]
    fn an_integer_flag_is_written_as_1_and_0() {
        let flag = stored(
            Marker::Flag {
                flag: "is_deleted",
                at: Some("deleted_at"),
            },
            Storage::Int(Int::I8),
        );
        assert_eq!(sql(flag.live_in(col)), r#""is_deleted" = 0"#);
        assert_eq!(sql(flag.deleted_in(col)), r#""is_deleted" = 1"#);
        let at = Timestamp::from_timestamp(1_000, 0).expect("valid");
        let stamp: Vec<Value> = flag.stamp(at).into_iter().map(|(_, v)| v).collect();
        assert_eq!(
            stamp,
            [Value::TinyInt(Some(1)), Value::ChronoDateTimeUtc(Some(at))]
        );
        let active = stored(
            Marker::Active {
                flag: "is_active",
                at: None,
            },
            Storage::Int(Int::I32),
        );
        assert_eq!(sql(active.live_in(col)), r#""is_active" = 1"#);
        assert_eq!(active.clear()[0].1, Value::Int(Some(1)));
    }

    #[test]
    fn a_naive_timestamp_is_compared_and_written_as_utc_wall_clock_time() {
        let marker = stored(Marker::Timestamp("deleted_at"), Storage::Naive);
        let at = Timestamp::from_timestamp(1_000, 0).expect("valid");
        assert_eq!(
            marker.stamp(at)[0].1,
            Value::ChronoDateTime(Some(at.naive_utc()))
        );
        assert_eq!(marker.clear()[0].1, Value::ChronoDateTime(None));
        let before = marker
            .deleted_before_in(at, col)
            .expect("a timestamp has a time");
        let text = Query::select()
            .cond_where(before)
            .to_string(PostgresQueryBuilder);
        assert!(
            text.ends_with(r#""deleted_at" < '1970-01-01 00:16:40.000000'"#),
            "{text}"
        );
    }

    #[test]
    fn an_i32_epoch_refuses_a_time_past_2038() {
        let epoch = stored(
            Marker::Epoch {
                column: "e",
                unit: EpochUnit::Seconds,
            },
            Storage::Int(Int::I32),
        );
        let fits = Timestamp::from_timestamp(i64::from(i32::MAX), 0).expect("valid");
        assert!(epoch.refuses_stamp(fits).is_none());
        let past = Timestamp::from_timestamp(i64::from(i32::MAX) + 1, 0).expect("valid");
        let reason = epoch.refuses_stamp(past).expect("refused");
        assert!(reason.contains("2147483647"), "{reason}");
    }

    #[test]
    fn epoch_scopes_split_the_deleted_rows_and_a_purge_never_takes_a_later_one() {
        let epoch = named(Marker::Epoch {
            column: "e",
            unit: EpochUnit::Seconds,
        });
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
        assert!(
            epoch
                .refuses_stamp(Timestamp::from_timestamp(0, 999_000_000).expect("valid"))
                .is_some()
        );
        assert!(epoch.refuses_stamp(whole).is_none());
    }

    #[test]
    fn only_a_marker_that_keeps_the_microsecond_marks_a_change_exactly() {
        let at = Timestamp::from_timestamp(1_000, 123_456_000).expect("valid");
        let exact = |marker: Marker<&'static str>| named(marker).stamped_in(at, col).1;
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
        let (condition, _) = named(Marker::Epoch {
            column: "e",
            unit: EpochUnit::Millis,
        })
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

    impl Stored for TestColumn {
        fn storage(&self) -> Storage {
            Storage::Bool
        }
    }
}
