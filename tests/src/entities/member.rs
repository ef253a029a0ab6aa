//! `members`: an entity with hooks (`#[soft_delete(hooks)]`). Its hooks write every change into
//! `hook_audit` in the operation's transaction, refuse to delete a `protected` member or to
//! restore one named `banned`, and fail a batch that contains the member with
//! [`POISON`] as its id.

use sea_orm::entity::prelude::*;
use soft_delete_core::hooks::{Batch, HookContext, HookResult, SoftDeleteHooks};
use soft_delete_core::soft_delete;

use super::hook_audit;

/// A batch that changes the member with this id fails in `after_batch`.
pub const POISON: i64 = 7;

/// A batch that changes the member with this id runs a failing statement in `after_batch` and
/// ignores its error.
pub const SWALLOW: i64 = 13;

/// A batch (or one-record operation) that changes the member with this id commits its
/// transaction in `after_batch` (and `after_soft_delete`), then fails.
pub const COMMITS: i64 = 17;

/// A batch that changes the member with this id rolls its transaction back in `after_batch`,
/// then says all is well.
pub const ROLLS_BACK: i64 = 19;

/// A batch that changes the member with this id creates a table in `after_batch`: DDL, which
/// MySQL and MariaDB commit implicitly (PostgreSQL and SQLite keep it in the transaction).
pub const RUNS_DDL: i64 = 23;

#[soft_delete(hooks, operation_id)]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub protected: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl SoftDeleteHooks for Entity {
    async fn before_soft_delete<C: ConnectionTrait>(
        _conn: &C,
        model: &Model,
        _cx: &HookContext<'_>,
    ) -> HookResult {
        if model.protected {
            return Err(format!("member {} is protected", model.id).into());
        }
        Ok(())
    }

    async fn after_soft_delete<C: ConnectionTrait>(
        conn: &C,
        model: &Model,
        cx: &HookContext<'_>,
    ) -> HookResult {
        assert!(
            model.deleted_at.is_some(),
            "after_soft_delete sees the row as it is now"
        );
        hook_audit::record(conn, "after_soft_delete", &[model.id], cx).await?;
        if model.id == COMMITS {
            conn.execute_unprepared("COMMIT").await?;
            return Err("committed the operation's transaction".into());
        }
        Ok(())
    }

    async fn before_restore<C: ConnectionTrait>(
        _conn: &C,
        model: &Model,
        _cx: &HookContext<'_>,
    ) -> HookResult {
        if model.name == "banned" {
            return Err("banned members stay deleted".into());
        }
        Ok(())
    }

    async fn after_restore<C: ConnectionTrait>(
        conn: &C,
        model: &Model,
        cx: &HookContext<'_>,
    ) -> HookResult {
        hook_audit::record(conn, "after_restore", &[model.id], cx).await
    }

    async fn after_force_delete<C: ConnectionTrait>(
        conn: &C,
        model: &Model,
        cx: &HookContext<'_>,
    ) -> HookResult {
        hook_audit::record(conn, "after_force_delete", &[model.id], cx).await
    }

    async fn after_batch<C: ConnectionTrait>(conn: &C, batch: &Batch<'_, Self>) -> HookResult {
        hook_audit::record(conn, "after_batch", &batch.keys, batch.context).await?;
        if batch.keys.contains(&POISON) {
            return Err(format!("member {POISON} poisons its batch").into());
        }
        if batch.keys.contains(&SWALLOW) {
            let _ignored = conn
                .execute_unprepared("INSERT INTO no_such_table VALUES (1)")
                .await;
        }
        if batch.keys.contains(&COMMITS) {
            conn.execute_unprepared("COMMIT").await?;
            return Err("committed the batch's transaction".into());
        }
        if batch.keys.contains(&ROLLS_BACK) {
            conn.execute_unprepared("ROLLBACK").await?;
        }
        if batch.keys.contains(&RUNS_DDL) {
            conn.execute_unprepared("CREATE TABLE hook_ddl (id INTEGER)")
                .await?;
        }
        Ok(())
    }
}
