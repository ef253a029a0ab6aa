//! Shared pieces of the examples: the entity they use and a connection helper.

pub mod user {
    //! A `users` table with soft delete.

    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    /// A user; `#[soft_delete]` adds `deleted_at`, `deleted_by` and `deletion_reason`.
    #[soft_delete]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        /// The key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Display name.
        pub name: String,
        /// Email address.
        pub email: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod hooked_user {
    //! The `users` table again, declared with a trivial set-level hook: what the bench's
    //! `hooked_soft_delete` measures against the flat soft delete.

    use std::sync::atomic::{AtomicU64, Ordering};

    use sea_orm::entity::prelude::*;
    use soft_delete_core::hooks::{Batch, HookResult, SoftDeleteHooks};
    use soft_delete_core::soft_delete;

    /// Keys the hook has seen, over every batch of the process.
    pub static KEYS_SEEN: AtomicU64 = AtomicU64::new(0);

    /// A user, as in [`crate::user`].
    #[soft_delete(hooks)]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        /// The key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Display name.
        pub name: String,
        /// Email address.
        pub email: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl SoftDeleteHooks for Entity {
        /// Counts the batch's keys: the least a hook can do with them.
        async fn after_batch<C: ConnectionTrait>(_conn: &C, batch: &Batch<'_, Self>) -> HookResult {
            KEYS_SEEN.fetch_add(batch.keys.len() as u64, Ordering::Relaxed);
            Ok(())
        }
    }
}

pub mod post {
    //! A `posts` table with soft delete and audit columns.

    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    /// A post; `#[soft_delete(audit)]` adds the soft-delete and audit columns.
    #[soft_delete(audit)]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "posts")]
    pub struct Model {
        /// The key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The author.
        pub user_id: i64,
        /// The title.
        pub title: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod folder {
    //! A `folders` table whose files follow it: soft-deleting a folder soft-deletes its files
    //! in the same transaction, with the same operation id.

    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    /// A folder; `operation_id` adds `deletion_op`, which the cascade needs.
    #[soft_delete(operation_id, cascade(super::file::Entity))]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "folders")]
    pub struct Model {
        /// The key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The folder's name.
        pub name: String,
    }

    /// A folder has many files.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// Its files.
        #[sea_orm(has_many = "super::file::Entity")]
        File,
    }

    impl Related<super::file::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::File.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod file {
    //! A `files` table: each file belongs to a folder, and follows it.

    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    /// A file.
    #[soft_delete(operation_id)]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "files")]
    pub struct Model {
        /// The key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The folder it is in.
        pub folder_id: i64,
        /// The file's name.
        pub name: String,
    }

    /// A file belongs to a folder.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// Its folder.
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

pub mod demo;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// `DATABASE_URL`, or an in-memory SQLite database.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "sqlite::memory:".to_owned())
}

/// Connects without SeaORM's per-statement logging (which would dominate bulk timings).
///
/// # Errors
///
/// The connection error.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).max_connections(4);
    Database::connect(options).await
}

/// Rows per second, for printing.
pub fn per_second(rows: u64, elapsed: std::time::Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        rows as f64 / seconds
    } else {
        0.0
    }
}

/// A `users`-shaped entity marked by something other than `deleted_at`, for the bench's
/// `*_soft_delete` marker operations.
macro_rules! marked_user {
    ($module:ident, $table:literal, $doc:literal, ($($options:tt)*)) => {
        pub mod $module {
            #![doc = $doc]

            use sea_orm::entity::prelude::*;

            /// A user, as in [`crate::user`], with this module's marker.
            #[soft_delete_core::soft_delete($($options)*)]
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                /// The key.
                #[sea_orm(primary_key)]
                pub id: i64,
                /// Display name.
                pub name: String,
                /// Email address.
                pub email: String,
            }

            /// No relations.
            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

marked_user!(
    flag_user,
    "flag_users",
    "`flag_users`: deletions marked by `is_deleted` alone.",
    (flag = "is_deleted")
);
marked_user!(
    paired_user,
    "paired_users",
    "`paired_users`: `is_deleted` with `deleted_at` kept in step.",
    (flag = "is_deleted", deleted_at)
);
marked_user!(
    active_user,
    "active_users",
    "`active_users`: the reversed flag `is_active`.",
    (active = "is_active")
);
marked_user!(
    epoch_user,
    "epoch_users",
    "`epoch_users`: `deleted_epoch`, seconds since 1970, 0 while live.",
    (epoch = "deleted_epoch")
);

pub mod customer {
    //! `customers`: the parent table of the prune example (`examples/prune.rs`).

    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    /// A customer; its operations stamp their id (`deletion_op`), so `ops undo` can reverse them.
    #[soft_delete(operation_id)]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customers")]
    pub struct Model {
        /// The key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The customer's name.
        pub name: String,
    }

    /// A customer has many orders.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// Its orders.
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
    //! `orders`: each belongs to a customer (a foreign key), so a prune removes orders first.

    use sea_orm::entity::prelude::*;
    use soft_delete_core::soft_delete;

    /// An order; its operations stamp their id (`deletion_op`), as the customer's do.
    #[soft_delete(operation_id)]
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        /// The key.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The customer who placed it.
        pub customer_id: i64,
        /// The amount, in cents.
        pub total_cents: i64,
    }

    /// An order belongs to a customer.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// Its customer.
        #[sea_orm(
            belongs_to = "super::customer::Entity",
            from = "Column::CustomerId",
            to = "super::customer::Column::Id"
        )]
        Customer,
    }

    impl Related<super::customer::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Customer.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
