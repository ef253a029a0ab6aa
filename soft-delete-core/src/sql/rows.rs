//! Models read back from rows by position.
//!
//! SeaORM's derived `FromQueryResult` finds every column by name (two lookups per value) and,
//! for every NULL in a nullable field, builds the error it then discards: a `format!` of the
//! column's name (`sea-orm-2.0.4/src/executor/query.rs`, `err_null_idx_col`). A bulk create
//! reads back every row it inserts, so that cost is paid per value. [`ModelRows`] reads the
//! columns by their position instead, checks NULL on the driver's own row, and builds each model
//! through its active model; a row whose columns are not the entity's, in order, or a field of a
//! type it does not read, goes through `FromQueryResult` as before.

use sea_orm::sea_query::{ArrayType, Value};
use sea_orm::{
    ActiveModelTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, ModelTrait,
    QueryResult, TryGetable, TryIntoModel,
};

/// Reads models of `E` from rows that carry the entity's columns in `Column::iter()` order.
pub(crate) struct ModelRows<E: EntityTrait> {
    columns: Vec<E::Column>,
    /// Each column's type, when every one is a type read here.
    types: Option<Vec<ArrayType>>,
    /// Whether the rows' column names were checked against the entity's (once, on the first
    /// row): `Some(false)` sends every row through `FromQueryResult`.
    names_match: Option<bool>,
}

impl<E> ModelRows<E>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
{
    pub(crate) fn new() -> Self {
        let columns: Vec<E::Column> = E::Column::iter().collect();
        let types = columns
            .iter()
            .map(|c| {
                let ty = <E::Model as ModelTrait>::get_value_type(*c);
                read_here(&ty).then_some(ty)
            })
            .collect();
        ModelRows {
            columns,
            types,
            names_match: None,
        }
    }

    /// The models of `rows`, in their order.
    pub(crate) fn read(&mut self, rows: &[QueryResult]) -> Result<Vec<E::Model>, DbErr> {
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let names_match = *self.names_match.get_or_insert_with(|| {
            let names = first.column_names();
            names.len() == self.columns.len()
                && names
                    .iter()
                    .zip(&self.columns)
                    .all(|(n, c)| n == c.as_str())
        });
        match (&self.types, names_match) {
            (Some(types), true) => rows
                .iter()
                .map(|row| read_model::<E>(row, &self.columns, types))
                .collect(),
            _ => rows
                .iter()
                .map(|row| <E::Model as FromQueryResult>::from_query_result(row, ""))
                .collect(),
        }
    }
}

/// One model, column by column through its active model.
fn read_model<E>(
    row: &QueryResult,
    columns: &[E::Column],
    types: &[ArrayType],
) -> Result<E::Model, DbErr>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
{
    let mut model = <E::ActiveModel as ActiveModelTrait>::default();
    for (i, (column, ty)) in columns.iter().zip(types).enumerate() {
        model.try_set(*column, read_value(row, i, ty)?)?;
    }
    model.try_into_model()
}

/// The types [`read_value`] reads.
fn read_here(ty: &ArrayType) -> bool {
    matches!(
        ty,
        ArrayType::Bool
            | ArrayType::TinyInt
            | ArrayType::SmallInt
            | ArrayType::Int
            | ArrayType::BigInt
            | ArrayType::TinyUnsigned
            | ArrayType::SmallUnsigned
            | ArrayType::Unsigned
            | ArrayType::BigUnsigned
            | ArrayType::Float
            | ArrayType::Double
            | ArrayType::String
            | ArrayType::Bytes
            | ArrayType::ChronoDate
            | ArrayType::ChronoTime
            | ArrayType::ChronoDateTime
            | ArrayType::ChronoDateTimeUtc
            | ArrayType::ChronoDateTimeLocal
            | ArrayType::ChronoDateTimeWithTimeZone
    )
}

/// Column `i` of `row` as a value of type `ty` (NULL as that type's null).
fn read_value(row: &QueryResult, i: usize, ty: &ArrayType) -> Result<Value, DbErr> {
    use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, Utc};
    match ty {
        ArrayType::Bool => direct::<bool>(row, i),
        ArrayType::TinyInt => seaorm::<i8>(row, i),
        ArrayType::SmallInt => direct::<i16>(row, i),
        ArrayType::Int => direct::<i32>(row, i),
        ArrayType::BigInt => direct::<i64>(row, i),
        ArrayType::TinyUnsigned => seaorm::<u8>(row, i),
        ArrayType::SmallUnsigned => seaorm::<u16>(row, i),
        ArrayType::Unsigned => seaorm::<u32>(row, i),
        ArrayType::BigUnsigned => seaorm::<u64>(row, i),
        ArrayType::Float => direct::<f32>(row, i),
        ArrayType::Double => direct::<f64>(row, i),
        ArrayType::String => direct::<String>(row, i),
        ArrayType::Bytes => direct::<Vec<u8>>(row, i),
        ArrayType::ChronoDate => direct::<NaiveDate>(row, i),
        ArrayType::ChronoTime => direct::<NaiveTime>(row, i),
        ArrayType::ChronoDateTime => direct::<NaiveDateTime>(row, i),
        ArrayType::ChronoDateTimeUtc => direct::<DateTime<Utc>>(row, i),
        ArrayType::ChronoDateTimeLocal => seaorm::<DateTime<Local>>(row, i),
        ArrayType::ChronoDateTimeWithTimeZone => seaorm::<DateTime<FixedOffset>>(row, i),
        other => Err(DbErr::Type(format!(
            "cannot read a column of type {other:?} by position"
        ))),
    }
}

/// Column `i` through SeaORM's own reading of `T` (its conversions, such as unsigned integers on
/// PostgreSQL), with NULL checked on the driver's row first so that no error is built for it.
fn seaorm<T>(row: &QueryResult, i: usize) -> Result<Value, DbErr>
where
    T: TryGetable + Into<Value> + sea_orm::sea_query::Nullable,
    Option<T>: Into<Value>,
{
    match is_null(row, i) {
        Some(true) => Ok(None::<T>.into()),
        Some(false) => Ok(row.try_get_by_index::<T>(i)?.into()),
        // A row of no sqlx driver: SeaORM's own reading of a NULL.
        None => Ok(row.try_get_by_index::<Option<T>>(i)?.into()),
    }
}

/// Column `i` read by sqlx itself, as SeaORM reads a `T` that sqlx decodes on every backend
/// (one lookup of the value instead of SeaORM's two); SeaORM's reading when sqlx cannot (another
/// driver, a column of another type), which then also gives the error.
fn direct<T>(row: &QueryResult, i: usize) -> Result<Value, DbErr>
where
    T: TryGetable
        + Into<Value>
        + sea_orm::sea_query::Nullable
        + PgDecode
        + MySqlDecode
        + SqliteDecode,
    Option<T>: Into<Value>,
{
    #[cfg(any(
        feature = "sqlx-postgres",
        feature = "sqlx-mysql",
        feature = "sqlx-sqlite"
    ))]
    use sea_orm::sqlx::Row;
    #[cfg(feature = "sqlx-postgres")]
    if let Some(pg) = row.try_as_pg_row()
        && let Ok(value) = pg.try_get::<Option<T>, usize>(i)
    {
        return Ok(value.into());
    }
    #[cfg(feature = "sqlx-mysql")]
    if let Some(mysql) = row.try_as_mysql_row()
        && let Ok(value) = mysql.try_get::<Option<T>, usize>(i)
    {
        return Ok(value.into());
    }
    #[cfg(feature = "sqlx-sqlite")]
    if let Some(sqlite) = row.try_as_sqlite_row()
        && let Ok(value) = sqlite.try_get::<Option<T>, usize>(i)
    {
        return Ok(value.into());
    }
    seaorm::<T>(row, i)
}

/// `Decodes`: a type sqlx decodes on the backend `$db` when its feature is on; every type when
/// it is off (nothing reads it then).
macro_rules! decodes {
    ($name:ident, $feature:literal, $db:path) => {
        #[cfg(feature = $feature)]
        trait $name: for<'r> sea_orm::sqlx::Decode<'r, $db> + sea_orm::sqlx::Type<$db> {}
        #[cfg(feature = $feature)]
        impl<T: for<'r> sea_orm::sqlx::Decode<'r, $db> + sea_orm::sqlx::Type<$db>> $name for T {}
        #[cfg(not(feature = $feature))]
        trait $name {}
        #[cfg(not(feature = $feature))]
        impl<T> $name for T {}
    };
}
decodes!(PgDecode, "sqlx-postgres", sea_orm::sqlx::Postgres);
decodes!(MySqlDecode, "sqlx-mysql", sea_orm::sqlx::MySql);
decodes!(SqliteDecode, "sqlx-sqlite", sea_orm::sqlx::Sqlite);

/// Whether column `i` of `row` is NULL, read on the driver's row (`None`: not a sqlx row).
fn is_null(row: &QueryResult, i: usize) -> Option<bool> {
    #[cfg(any(
        feature = "sqlx-postgres",
        feature = "sqlx-mysql",
        feature = "sqlx-sqlite"
    ))]
    use sea_orm::sqlx::{Row, ValueRef};
    #[cfg(feature = "sqlx-postgres")]
    if let Some(row) = row.try_as_pg_row() {
        return row.try_get_raw(i).ok().map(|v| v.is_null());
    }
    #[cfg(feature = "sqlx-mysql")]
    if let Some(row) = row.try_as_mysql_row() {
        return row.try_get_raw(i).ok().map(|v| v.is_null());
    }
    #[cfg(feature = "sqlx-sqlite")]
    if let Some(row) = row.try_as_sqlite_row() {
        return row.try_get_raw(i).ok().map(|v| v.is_null());
    }
    let _ = (row, i);
    None
}

#[cfg(test)]
mod tests {
    use super::ModelRows;
    use crate::test_entities::{membership, note, user};

    #[test]
    fn the_usual_column_types_are_read_by_position() {
        // Keys, strings, the marker's and the audit's timestamps: no entity of these falls back
        // to `FromQueryResult` for its types.
        assert!(ModelRows::<user::Entity>::new().types.is_some());
        assert!(ModelRows::<membership::Entity>::new().types.is_some());
        let notes = ModelRows::<note::Entity>::new();
        assert_eq!(
            notes.types.as_ref().map(Vec::len),
            Some(notes.columns.len())
        );
    }
}
