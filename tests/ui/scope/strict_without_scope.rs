mod ticket {
    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    #[soft_delete(default_scope = "strict")]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tickets")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use sea_orm::{PaginatorTrait, QueryFilter};

async fn run(db: &sea_orm::DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    // No scope chosen: none of these can run.
    let _ = ticket::Entity::find().all(db).await?;
    let _ = ticket::Entity::find_by_id(1).one(db).await?;
    let _ = ticket::Entity::find().filter(sea_orm::sea_query::Condition::all()).count(db).await?;
    Ok(())
}

fn main() {
    let _ = run;
}
