//! Entities in a schema of their own, [`SCHEMA`] (a PostgreSQL schema, a MySQL/MariaDB database,
//! an attached SQLite database): `sd_tenant.customers` → `sd_tenant.orders` (a cascade, orders
//! with hooks that refuse any row of another table), and `sd_tenant.lines` (neither). Their
//! twins of the same names in the default schema are [`super::decoy`]'s.

/// The schema the tenant's tables live in.
pub const SCHEMA: &str = "sd_tenant";

/// What the `note` column of every tenant row starts with; decoy rows say `decoy`.
pub const MARK: &str = "tenant";

pub mod customer {
    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    #[soft_delete(operation_id, cascade(super::order::Entity))]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(schema_name = "sd_tenant", table_name = "customers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub note: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::order::Entity")]
        Order,
    }

    impl Related<super::order::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Order.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod order {
    use sea_orm::entity::prelude::*;
    use soft_delete_core::hooks::{Batch, BulkHooks, HookContext, HookResult, SoftDeleteHooks};
    use soft_delete_core::soft_delete;

    #[soft_delete(operation_id, hooks)]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(schema_name = "sd_tenant", table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub customer_id: i64,
        pub note: String,
    }

    /// No foreign key in the DDL: sea-query cannot write one that names another schema for
    /// MySQL (it panics, "Not supported"); the tests check for orphans themselves.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::customer::Entity",
            from = "Column::CustomerId",
            to = "super::customer::Column::Id",
            skip_fk
        )]
        Customer,
    }

    impl Related<super::customer::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Customer.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}

    /// Refuses a row that is not the tenant's: a hook given a row read from another table.
    fn own(model: &Model, cx: &HookContext<'_>) -> HookResult {
        if !model.note.starts_with(super::MARK) || cx.table != "sd_tenant.orders" {
            return Err(format!(
                "{} got order {} of another table ({:?})",
                cx.table, model.id, model.note
            )
            .into());
        }
        Ok(())
    }

    impl SoftDeleteHooks for Entity {
        const BULK: BulkHooks = BulkHooks::Rows;

        async fn before_soft_delete<C: ConnectionTrait>(
            _: &C,
            model: &Model,
            cx: &HookContext<'_>,
        ) -> HookResult {
            own(model, cx)
        }

        async fn after_soft_delete<C: ConnectionTrait>(
            _: &C,
            model: &Model,
            cx: &HookContext<'_>,
        ) -> HookResult {
            own(model, cx)
        }

        async fn before_restore<C: ConnectionTrait>(
            _: &C,
            model: &Model,
            cx: &HookContext<'_>,
        ) -> HookResult {
            own(model, cx)
        }

        async fn before_force_delete<C: ConnectionTrait>(
            _: &C,
            model: &Model,
            cx: &HookContext<'_>,
        ) -> HookResult {
            own(model, cx)
        }

        async fn after_batch<C: ConnectionTrait>(_: &C, batch: &Batch<'_, Self>) -> HookResult {
            if batch.rows.len() != batch.keys.len() {
                return Err("keys and rows disagree".into());
            }
            batch
                .rows
                .iter()
                .try_for_each(|model| own(model, batch.context))
        }
    }
}

pub mod line {
    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    #[soft_delete(operation_id)]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(schema_name = "sd_tenant", table_name = "lines")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub note: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
