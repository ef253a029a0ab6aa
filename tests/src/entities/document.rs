//! `documents`: a `Uuid` key, and a `deleted_by` the model declares itself (kept, not duplicated).

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    pub deleted_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
