//! `audited_notes`: soft delete plus the four audit columns.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete(audit)]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audited_notes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub body: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
