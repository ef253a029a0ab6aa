//! `typed_rows`: a column of most types SeaORM maps, nullable and not, to check that the models a
//! bulk create reads back are the ones SeaORM reads from the table.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "typed_rows")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub flag: bool,
    pub small: i16,
    pub count: i32,
    pub ratio: f64,
    pub label: String,
    pub blob: Vec<u8>,
    pub day: Date,
    pub at: DateTime,
    pub maybe_count: Option<i32>,
    pub maybe_label: Option<String>,
    pub maybe_day: Option<Date>,
    pub maybe_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
