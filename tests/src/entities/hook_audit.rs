//! `hook_audit`: what the test entities' hooks wrote, one row per row a hook saw.

use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, Set};
use soft_delete_core::hooks::{HookContext, HookResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hook_audit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub hook: String,
    pub table_name: String,
    pub row_id: i64,
    pub kind: String,
    pub operation: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// One audit row per id, written on `conn` (the hook's transaction).
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    hook: &str,
    ids: &[i64],
    cx: &HookContext<'_>,
) -> HookResult {
    if ids.is_empty() {
        return Ok(());
    }
    Entity::insert_many(ids.iter().map(|&row_id| ActiveModel {
        hook: Set(hook.to_owned()),
        table_name: Set(cx.table.to_owned()),
        row_id: Set(row_id),
        kind: Set(cx.kind.as_str().to_owned()),
        operation: Set(cx.operation.to_string()),
        ..Default::default()
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
