//! One entity per deletion marker (see `soft_delete_core::marker`), all with the same fields
//! (`id`, `email`, `folder_id`) so that one test body runs over each:
//!
//! | module | table | marker |
//! |---|---|---|
//! | `flagged` | `flagged_users` | `is_deleted` alone |
//! | `paired` | `paired_users` | `is_deleted` with `deleted_at` in step |
//! | `enabled` | `enabled_users` | `is_active`, reversed |
//! | `enabled_at` | `enabled_at_users` | `is_active`, reversed, with `deleted_at` in step |
//! | `epoch_s` | `epoch_s_users` | `deleted_epoch`, seconds |
//! | `epoch_ms` | `epoch_ms_users` | `deleted_epoch`, milliseconds |
//!
//! `folder` (`marked_folders`, a flag with `deleted_at`) cascades to `epoch_ms` through
//! `folder_id`, so a cascade runs between two markers that are not timestamps.

macro_rules! marked_entity {
    ($module:ident, $table:literal, ($($options:tt)*)) => {
        #[doc = concat!("`", $table, "`: see the module documentation.")]
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[soft_delete_core::soft_delete($($options)*)]
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: i64,
                pub email: String,
                pub folder_id: Option<i64>,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

marked_entity!(flagged, "flagged_users", (flag = "is_deleted"));
marked_entity!(paired, "paired_users", (flag, deleted_at, operation_id));
marked_entity!(enabled, "enabled_users", (active = "is_active"));
marked_entity!(enabled_at, "enabled_at_users", (active, deleted_at));
marked_entity!(epoch_s, "epoch_s_users", (epoch));

/// `epoch_ms_users`: see the module documentation; the children of `folder`.
pub mod epoch_ms {
    use sea_orm::entity::prelude::*;

    #[soft_delete_core::soft_delete(epoch = "deleted_epoch", epoch_unit = "millis", operation_id)]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "epoch_ms_users")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub email: String,
        pub folder_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::folder::Entity",
            from = "Column::FolderId",
            to = "super::folder::Column::Id"
        )]
        Folder,
    }

    impl Related<super::folder::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Folder.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// `marked_folders`: a flag with `deleted_at`, whose `epoch_ms` rows follow it.
pub mod folder {
    use sea_orm::entity::prelude::*;

    #[soft_delete_core::soft_delete(
        flag,
        deleted_at,
        operation_id,
        cascade(super::epoch_ms::Entity)
    )]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "marked_folders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::epoch_ms::Entity")]
        Users,
    }

    impl Related<super::epoch_ms::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Users.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
