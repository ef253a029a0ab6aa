//! `paced_rows`: a batch hook that takes 100 µs per row, so that a batch's time grows with its
//! size on every backend: what batches sized by time (`target_batch_time`) steer by.

use std::time::Duration;

use sea_orm::entity::prelude::*;
use soft_delete_core::hooks::{Batch, HookResult, SoftDeleteHooks};
use soft_delete_core::soft_delete;

/// What one row adds to its batch's time.
pub const PER_ROW: Duration = Duration::from_micros(100);

#[soft_delete(hooks)]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paced_rows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl SoftDeleteHooks for Entity {
    async fn after_batch<C: ConnectionTrait>(_: &C, batch: &Batch<'_, Self>) -> HookResult {
        tokio::time::sleep(PER_ROW * batch.keys.len() as u32).await;
        Ok(())
    }
}
