//! `articles`: SeaORM 2.0's `#[sea_orm::model]` entity format, with the columns renamed.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete(deleted_at = "archived_at")]
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub headline: String,
}

impl ActiveModelBehavior for ActiveModel {}
