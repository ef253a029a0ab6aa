// `.created_by(..)` exists only for entities declared with `audit`.
mod user {
    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    #[soft_delete]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub email: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use soft_delete_core::service::{BaseService, SoftDeleteService};

async fn import(db: &sea_orm::DatabaseConnection) {
    let users = BaseService::<user::Entity, _>::new(db);
    let _ = users.bulk_create(Vec::new()).created_by("importer").await;
}

fn main() {
    let _ = import;
}
