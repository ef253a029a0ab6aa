//! `drafts`: declared with `default_scope` and `delete = "hard"`, so `find()` hides deleted
//! drafts while SeaORM's own deletes stay permanent.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete(default_scope, delete = "hard")]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drafts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub body: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
