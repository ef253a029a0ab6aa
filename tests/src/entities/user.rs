//! `users`: an auto-increment `i64` key, soft delete injected by the attribute.

use sea_orm::entity::prelude::*;
use soft_delete_core::soft_delete;

#[soft_delete]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub email: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::post::Entity")]
    Post,
    #[sea_orm(has_many = "super::note::Entity")]
    Note,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

/// Notes are related through `only_active`: `user.find_related(note::Entity)` and joins leave
/// deleted notes out. Posts are related plainly, so their deleted rows come back.
impl Related<super::note::Entity> for Entity {
    fn to() -> RelationDef {
        soft_delete_core::only_active::<super::note::Entity>(Relation::Note.def())
    }
}

impl ActiveModelBehavior for ActiveModel {}
