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

use sea_orm::IntoActiveModel;

async fn run(db: &sea_orm::DatabaseConnection, model: ticket::Model) -> Result<(), sea_orm::DbErr> {
    // SeaORM's deletes do not say whether they are soft or permanent: none of these compiles.
    let _ = ticket::Entity::delete_by_id(1).exec(db).await?;
    let _ = ticket::Entity::delete_many().exec(db).await?;
    let _ = model.clone().into_active_model().delete(db).await?;
    let _ = model.delete(db).await?;
    // Saying so does.
    let _ = ticket::Entity::delete_by_id(1).soft().exec(db).await?;
    Ok(())
}

fn main() {
    let _ = run;
}
