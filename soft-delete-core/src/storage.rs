//! How the columns this crate writes hold their values, read from each column's declaration.
//!
//! SeaORM derives a column's type from its field's Rust type (`ColumnTrait::def`), and
//! `sea-orm-cli` derives the field's type from the table. So the declaration says what the
//! table holds, and every value this crate writes or compares with is typed from it:
//!
//! | declared as | column | written and compared as |
//! |---|---|---|
//! | `bool` | `BOOLEAN` | `TRUE` / `FALSE` |
//! | `i8` … `i64`, `u8` … `u64` | `TINYINT`, `SMALLINT`, `INTEGER`, `BIGINT` | `1` / `0`, or the epoch |
//! | `DateTimeUtc`, `DateTimeWithTimeZone` | `timestamptz`, MySQL `TIMESTAMP`, text | the instant, in UTC |
//! | `DateTime` (naive) | `timestamp`, MySQL `DATETIME`, text | the UTC wall-clock time |
//!
//! A naive timestamp is read and written as UTC: the crate stamps `2026-01-01 12:00:00` for
//! 12:00 UTC, and reads a stored naive value back as UTC.

use chrono::{DateTime, FixedOffset};
use sea_orm::sea_query::{ColumnType, DynIden, IntoIden};
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, Value};

use crate::time::{Timestamp, timestamp_value};

/// The integer types a flag or an epoch may be declared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Int {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

impl Int {
    /// `v` as this type's value; `None` when it does not fit.
    fn value(self, v: i64) -> Option<Value> {
        Some(match self {
            Int::I8 => Value::TinyInt(Some(i8::try_from(v).ok()?)),
            Int::I16 => Value::SmallInt(Some(i16::try_from(v).ok()?)),
            Int::I32 => Value::Int(Some(i32::try_from(v).ok()?)),
            Int::I64 => Value::BigInt(Some(v)),
            Int::U8 => Value::TinyUnsigned(Some(u8::try_from(v).ok()?)),
            Int::U16 => Value::SmallUnsigned(Some(u16::try_from(v).ok()?)),
            Int::U32 => Value::Unsigned(Some(u32::try_from(v).ok()?)),
            Int::U64 => Value::BigUnsigned(Some(u64::try_from(v).ok()?)),
        })
    }

    /// The largest value the type holds, as far as an `i64` reaches.
    fn max(self) -> i64 {
        match self {
            Int::I8 => i8::MAX.into(),
            Int::I16 => i16::MAX.into(),
            Int::I32 => i32::MAX.into(),
            Int::U8 => u8::MAX.into(),
            Int::U16 => u16::MAX.into(),
            Int::U32 => u32::MAX.into(),
            Int::I64 | Int::U64 => i64::MAX,
        }
    }
}

/// How one column holds its values, from its declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    /// `BOOLEAN`, declared `bool`.
    Bool,
    /// An integer: a flag holding 0 or 1, or an epoch.
    Int(Int),
    /// A timestamp with a time zone (`DateTimeUtc`, `DateTimeWithTimeZone`): the instant.
    Aware,
    /// A timestamp without one (`DateTime`): the UTC wall-clock time.
    Naive,
    /// Anything else (text, and the columns this crate writes no typed value into).
    Other,
}

impl Storage {
    /// The storage a column of type `ty` has.
    pub(crate) fn of(ty: &ColumnType) -> Storage {
        match ty {
            ColumnType::Boolean => Storage::Bool,
            ColumnType::TinyInteger => Storage::Int(Int::I8),
            ColumnType::SmallInteger => Storage::Int(Int::I16),
            ColumnType::Integer => Storage::Int(Int::I32),
            ColumnType::BigInteger => Storage::Int(Int::I64),
            ColumnType::TinyUnsigned => Storage::Int(Int::U8),
            ColumnType::SmallUnsigned => Storage::Int(Int::U16),
            ColumnType::Unsigned => Storage::Int(Int::U32),
            ColumnType::BigUnsigned => Storage::Int(Int::U64),
            ColumnType::DateTime | ColumnType::Timestamp => Storage::Naive,
            ColumnType::TimestampWithTimeZone => Storage::Aware,
            _ => Storage::Other,
        }
    }

    /// A flag's value: `TRUE`/`FALSE`, or 1/0 for an integer flag.
    pub(crate) fn flag(self, on: bool) -> Value {
        match self {
            Storage::Int(int) => int.value(i64::from(on)).unwrap_or(Value::Bool(Some(on))),
            _ => Value::Bool(Some(on)),
        }
    }

    /// A flag's value as SQL text, for statements written as text.
    pub(crate) fn flag_sql(self, on: bool) -> &'static str {
        match (self, on) {
            (Storage::Int(_), true) => "1",
            (Storage::Int(_), false) => "0",
            (_, true) => "TRUE",
            (_, false) => "FALSE",
        }
    }

    /// An integer's value; `None` when the declared type cannot hold it.
    pub(crate) fn int(self, v: i64) -> Option<Value> {
        match self {
            Storage::Int(int) => int.value(v),
            _ => Some(Value::BigInt(Some(v))),
        }
    }

    /// The largest integer the column holds.
    pub(crate) fn int_max(self) -> i64 {
        match self {
            Storage::Int(int) => int.max(),
            _ => i64::MAX,
        }
    }

    /// The value an `UPDATE` or `INSERT` writes for the instant `t`.
    pub(crate) fn time(self, t: Timestamp) -> Value {
        match self {
            Storage::Naive => Value::ChronoDateTime(Some(t.naive_utc())),
            _ => Value::ChronoDateTimeUtc(Some(t)),
        }
    }

    /// NULL, typed as the column's timestamps are.
    pub(crate) fn null_time(self) -> Value {
        match self {
            Storage::Naive => Value::ChronoDateTime(None),
            _ => Value::ChronoDateTimeUtc(None),
        }
    }

    /// The value a condition compares the column with for the instant `t`: see
    /// [`timestamp_value`] for the aware columns.
    pub(crate) fn time_param(self, t: Timestamp) -> Value {
        match self {
            Storage::Naive => Value::ChronoDateTime(Some(t.naive_utc())),
            _ => timestamp_value(t),
        }
    }

    /// True for a timestamp without a time zone.
    pub(crate) fn is_naive(self) -> bool {
        self == Storage::Naive
    }
}

/// A column whose [`Storage`] is known: an entity's `Column` (from its declaration), or a
/// [`StoredIden`] that carries it. Public in a private module, as the bound of crate-internal
/// methods of the public `Marker`.
pub trait Stored: Clone + IntoIden {
    /// How the column holds its values.
    fn storage(&self) -> Storage;
}

impl<C: ColumnTrait> Stored for C {
    fn storage(&self) -> Storage {
        Storage::of(self.def().get_column_type())
    }
}

/// A column of an entity only known by name (a cascade's child), with its storage.
#[derive(Clone, Debug)]
pub(crate) struct StoredIden {
    pub(crate) iden: DynIden,
    pub(crate) storage: Storage,
}

impl StoredIden {
    /// `column`'s name and storage.
    pub(crate) fn of<C: ColumnTrait>(column: C) -> StoredIden {
        StoredIden {
            storage: column.storage(),
            iden: column.into_iden(),
        }
    }
}

impl From<StoredIden> for DynIden {
    fn from(column: StoredIden) -> Self {
        column.iden
    }
}

impl Stored for StoredIden {
    fn storage(&self) -> Storage {
        self.storage
    }
}

impl PartialEq for StoredIden {
    fn eq(&self, other: &Self) -> bool {
        self.iden.to_string() == other.iden.to_string() && self.storage == other.storage
    }
}

impl Eq for StoredIden {}

/// The instant a timestamp value holds, whatever chrono type it has: a naive value is read as
/// UTC. `None` for NULL and for other values.
pub(crate) fn read_time(value: &Value) -> Option<Timestamp> {
    match value {
        Value::ChronoDateTimeUtc(Some(t)) => Some(*t),
        Value::ChronoDateTimeWithTimeZone(Some(t)) => Some(t.to_utc()),
        Value::ChronoDateTimeLocal(Some(t)) => Some(t.to_utc()),
        Value::ChronoDateTime(Some(t)) => Some(t.and_utc()),
        _ => None,
    }
}

/// The integer a value holds, whatever its width; `None` for NULL and for other values. A
/// boolean reads as 0 or 1.
pub(crate) fn read_int(value: &Value) -> Option<i64> {
    match value {
        Value::Bool(Some(v)) => Some(i64::from(*v)),
        Value::TinyInt(Some(v)) => Some(i64::from(*v)),
        Value::SmallInt(Some(v)) => Some(i64::from(*v)),
        Value::Int(Some(v)) => Some(i64::from(*v)),
        Value::BigInt(Some(v)) => Some(*v),
        Value::TinyUnsigned(Some(v)) => Some(i64::from(*v)),
        Value::SmallUnsigned(Some(v)) => Some(i64::from(*v)),
        Value::Unsigned(Some(v)) => Some(i64::from(*v)),
        Value::BigUnsigned(Some(v)) => i64::try_from(*v).ok(),
        _ => None,
    }
}

/// The same instant (or NULL) as every chrono type a model field may be declared with.
fn time_variants(value: &Value) -> Vec<Value> {
    let null = matches!(
        value,
        Value::ChronoDateTimeUtc(None)
            | Value::ChronoDateTimeWithTimeZone(None)
            | Value::ChronoDateTime(None)
            | Value::ChronoDateTimeLocal(None)
    );
    if null {
        return vec![
            Value::ChronoDateTimeUtc(None),
            Value::ChronoDateTimeWithTimeZone(None),
            Value::ChronoDateTime(None),
        ];
    }
    match read_time(value) {
        Some(t) => vec![
            Value::ChronoDateTimeUtc(Some(t)),
            Value::ChronoDateTimeWithTimeZone(Some(DateTime::<FixedOffset>::from(t))),
            Value::ChronoDateTime(Some(t.naive_utc())),
        ],
        None => Vec::new(),
    }
}

/// `value` as the field of `column` in `A` takes it: a timestamp converted to the chrono type
/// the field is declared with (`DateTimeUtc`, `DateTimeWithTimeZone` or naive `DateTime`,
/// which share a column type), an integer to the field's width; `value` itself when no
/// conversion fits. Found by setting it on a default active model: done once per value (per
/// operation for an insert's defaults), not per row.
pub(crate) fn fitted<A: ActiveModelTrait>(
    column: <A::Entity as EntityTrait>::Column,
    value: Value,
) -> Value {
    let mut others = time_variants(&value);
    if others.is_empty()
        && let Some(v) = read_int(&value)
        && let Some(typed) = column.storage().int(v)
    {
        others.push(typed);
    }
    let mut probe = A::default();
    std::iter::once(value.clone())
        .chain(others)
        .find(|candidate| probe.try_set(column, candidate.clone()).is_ok())
        .unwrap_or(value)
}

/// Sets `column` of `row` to `value` converted as [`fitted`] converts it.
pub(crate) fn set_column<A: ActiveModelTrait>(
    row: &mut A,
    column: <A::Entity as EntityTrait>::Column,
    value: Value,
) -> Result<(), DbErr> {
    row.try_set(column, fitted::<A>(column, value))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn integers_refuse_what_their_type_cannot_hold() {
        let i32 = Storage::Int(Int::I32);
        assert_eq!(i32.int(5), Some(Value::Int(Some(5))));
        assert_eq!(i32.int(i64::from(i32::MAX) + 1), None);
        assert_eq!(Storage::Int(Int::I8).flag(true), Value::TinyInt(Some(1)));
        assert_eq!(Storage::Bool.flag(false), Value::Bool(Some(false)));
        assert_eq!(Storage::Int(Int::U8).flag_sql(false), "0");
    }

    #[test]
    fn a_naive_timestamp_is_utc() {
        let t = Utc::now();
        let naive = Storage::Naive.time(t);
        assert_eq!(naive, Value::ChronoDateTime(Some(t.naive_utc())));
        assert_eq!(read_time(&naive), Some(t));
        assert_eq!(
            read_time(&Value::ChronoDateTimeWithTimeZone(Some(t.fixed_offset()))),
            Some(t)
        );
    }
}
