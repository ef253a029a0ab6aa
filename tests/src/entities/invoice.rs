//! `invoices`: declared with `operation_id`, so each soft-deleted row carries the id of the
//! operation that deleted it in `deletion_op`.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete(operation_id)]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub number: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
