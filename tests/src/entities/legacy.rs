//! `legacy_items`: an existing schema whose columns are `removed_at` and `reason`, declared by the
//! model and named through `#[derive(SoftDelete)]`.

use sea_orm::entity::prelude::*;
use soft_delete_core::SoftDelete;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, SoftDelete)]
#[sea_orm(table_name = "legacy_items")]
#[soft_delete_columns(deleted_at = "removed_at", deletion_reason = "reason")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub label: String,
    pub removed_at: Option<DateTimeUtc>,
    pub deleted_by: Option<String>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
