//! `tasks`: belong to a project by the composite key `(account_id, project_code)`.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete(operation_id)]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub project_code: String,
    pub title: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::project::Entity",
        from = "(Column::AccountId, Column::ProjectCode)",
        to = "(super::project::Column::AccountId, super::project::Column::Code)"
    )]
    Project,
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
