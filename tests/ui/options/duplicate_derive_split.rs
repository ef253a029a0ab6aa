use sea_orm::entity::prelude::*;
use soft_delete_core::SoftDelete;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, SoftDelete)]
#[sea_orm(table_name = "users")]
#[soft_delete_columns(deleted_at = "removed_at", deletion_reason = "reason")]
#[soft_delete_columns(deleted_at = "gone_at")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub removed_at: Option<DateTimeUtc>,
    pub gone_at: Option<DateTimeUtc>,
    pub deleted_by: Option<String>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

fn main() {}
