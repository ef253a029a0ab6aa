//! `tickets`: declared with `default_scope = "strict"`, so every query must choose its rows.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete(default_scope = "strict")]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
