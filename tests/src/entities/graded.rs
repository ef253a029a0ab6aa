//! `graded_rows`: a column of a native enum type (PostgreSQL's `CREATE TYPE … AS ENUM`, MySQL's
//! `ENUM(…)`), which SeaORM reads and writes through casts, and which rows may leave unset.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

/// A grade, stored as the database's own enum type `grade`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "grade")]
pub enum Grade {
    /// Top.
    #[sea_orm(string_value = "high")]
    High,
    /// Bottom.
    #[sea_orm(string_value = "low")]
    Low,
}

#[soft_delete]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "graded_rows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub grade: Option<Grade>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
