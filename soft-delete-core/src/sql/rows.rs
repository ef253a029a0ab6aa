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
    /// Each column's reader, when every column is of a type read here.
    readers: Option<Vec<Reader>>,
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
        let readers = columns
            .iter()
            .map(|c| reader(&<E::Model as ModelTrait>::get_value_type(*c)))
            .collect();
        ModelRows {
            columns,
            readers,
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
        match (&self.readers, names_match) {
            (Some(readers), true) => rows
                .iter()
                .map(|row| read_model::<E>(row, &self.columns, readers))
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
    readers: &[Reader],
) -> Result<E::Model, DbErr>
where
    E: EntityTrait,
    E::ActiveModel: TryIntoModel<E::Model>,
{
    let mut model = <E::ActiveModel as ActiveModelTrait>::default();
    for (i, (column, read)) in columns.iter().zip(readers).enumerate() {
        model.try_set(*column, read(row, i)?)?;
    }
    model.try_into_model()
}

/// Reads column `i` of a row as a value of its field's type (NULL as that type's null).
type Reader = fn(&QueryResult, usize) -> Result<Value, DbErr>;

/// The reader of a field whose values are of type `ty`, if it is one read here.
fn reader(ty: &ArrayType) -> Option<Reader> {
    use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, NaiveTime, Utc};
    Some(match ty {
        ArrayType::Bool => direct::<bool>,
        ArrayType::TinyInt => seaorm::<i8>,
        ArrayType::SmallInt => direct::<i16>,
        ArrayType::Int => direct::<i32>,
        ArrayType::BigInt => direct::<i64>,
        ArrayType::TinyUnsigned => seaorm::<u8>,
        ArrayType::SmallUnsigned => seaorm::<u16>,
        ArrayType::Unsigned => seaorm::<u32>,
        ArrayType::BigUnsigned => seaorm::<u64>,
        ArrayType::Float => direct::<f32>,
        ArrayType::Double => direct::<f64>,
        ArrayType::String => direct::<String>,
        ArrayType::Bytes => direct::<Vec<u8>>,
        ArrayType::ChronoDate => direct::<NaiveDate>,
        ArrayType::ChronoTime => direct::<NaiveTime>,
        ArrayType::ChronoDateTime => direct::<NaiveDateTime>,
        ArrayType::ChronoDateTimeUtc => direct::<DateTime<Utc>>,
        ArrayType::ChronoDateTimeLocal => seaorm::<DateTime<Local>>,
        ArrayType::ChronoDateTimeWithTimeZone => seaorm::<DateTime<FixedOffset>>,
        _ => return None,
    })
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
        assert!(ModelRows::<user::Entity>::new().readers.is_some());
        assert!(ModelRows::<membership::Entity>::new().readers.is_some());
        let notes = ModelRows::<note::Entity>::new();
        assert_eq!(
            notes.readers.as_ref().map(Vec::len),
            Some(notes.columns.len())
        );
    }
}
