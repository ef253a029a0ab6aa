//! `sealed_notes`: hooks that ask bulk operations for the per-record hooks too
//! ([`BulkHooks::Records`]): a `sealed` note refuses to be soft-deleted, in bulk as well, and
//! every row a batch changes is audited one by one, with the rows handed to `after_batch`.

use sea_orm::entity::prelude::*;
use soft_delete_core::hooks::{Batch, BulkHooks, HookContext, HookResult, SoftDeleteHooks};
use soft_delete_core::soft_delete;

use super::hook_audit;

#[soft_delete(hooks)]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sealed_notes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sealed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl SoftDeleteHooks for Entity {
    const BULK: BulkHooks = BulkHooks::Records;

    async fn before_soft_delete<C: ConnectionTrait>(
        _conn: &C,
        model: &Model,
        _cx: &HookContext<'_>,
    ) -> HookResult {
        if model.sealed {
            return Err(format!("note {} is sealed", model.id).into());
        }
        Ok(())
    }

    async fn after_soft_delete<C: ConnectionTrait>(
        conn: &C,
        model: &Model,
        cx: &HookContext<'_>,
    ) -> HookResult {
        hook_audit::record(conn, "after_soft_delete", &[model.id], cx).await
    }

    async fn after_batch<C: ConnectionTrait>(conn: &C, batch: &Batch<'_, Self>) -> HookResult {
        // The rows, as they are now, for exactly the keys.
        let ids: Vec<i64> = batch.rows.iter().map(|row| row.id).collect();
        assert_eq!(ids, batch.keys, "rows and keys differ");
        assert!(batch.rows.iter().all(|row| row.deleted_at.is_some()));
        hook_audit::record(conn, "after_batch", &batch.keys, batch.context).await
    }
}
