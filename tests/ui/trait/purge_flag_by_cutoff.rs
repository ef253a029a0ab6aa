mod user {
    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    #[soft_delete(flag = "is_deleted")]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

async fn purge(db: &sea_orm::DatabaseConnection) {
    let manager = soft_delete_core::SoftDeleteManager::new(db);
    let _ = manager
        .hard_delete_before::<user::Entity>(chrono::Utc::now())
        .await;
}

fn main() {
    let _ = purge;
}
