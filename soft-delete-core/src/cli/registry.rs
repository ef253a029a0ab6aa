//! The application's entities and their policies, as the command knows them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};

use crate::entity::SoftDelete;
use crate::error::Result;
use crate::manager::{DeletionStats, SoftDeleteManager};
use crate::operation::OperationId;
use crate::prune::{Policy, Pruner};
use crate::report::BulkReport;
use crate::sql::Table;

/// Adds an entity's policy to a pruner; `true` archives even when the policy does not.
type AddPolicy = Arc<
    dyn for<'c> Fn(Pruner<'c, DatabaseConnection>, bool) -> Pruner<'c, DatabaseConnection>
        + Send
        + Sync,
>;

type Stats =
    for<'c> fn(SoftDeleteManager<'c, DatabaseConnection>) -> BoxFuture<'c, Result<DeletionStats>>;

/// An undo or a restore of one operation on one entity, by whom.
type Reverse = for<'c> fn(
    SoftDeleteManager<'c, DatabaseConnection>,
    OperationId,
    Option<String>,
) -> BoxFuture<'c, Result<BulkReport>>;

/// Creates (when missing) and fills demo tables; returns whether it did. See
/// [`Registry::demo`].
pub type DemoSeed =
    for<'a> fn(&'a DatabaseConnection) -> BoxFuture<'a, std::result::Result<bool, DbErr>>;

/// One registered entity.
#[derive(Clone)]
pub(crate) struct Entry {
    /// Its table (`schema.table` outside the default schema).
    pub(crate) table: Table,
    /// True for a policy by age.
    pub(crate) by_age: bool,
    /// The retention its policy sets in code.
    pub(crate) own_retention: Option<Duration>,
    /// The archive its policy writes to, if any; and the one `--archive` uses otherwise.
    pub(crate) archive: Option<Table>,
    pub(crate) default_archive: Table,
    pub(crate) add: AddPolicy,
    pub(crate) stats: Stats,
    pub(crate) undo: Reverse,
    pub(crate) restore: Reverse,
}

impl Entry {
    /// The archive this entity's rows go to in a run with (or without) `--archive`.
    pub(crate) fn archive_in(&self, archive_all: bool) -> Option<&Table> {
        self.archive
            .as_ref()
            .or(archive_all.then_some(&self.default_archive))
    }
}

/// The entities the command works on, each with its prune [`Policy`]; give it to
/// [`run`](super::run).
///
/// # Examples
///
/// ```
/// # mod order {
/// #     use sea_orm::entity::prelude::*;
/// #     #[soft_delete_core::soft_delete]
/// #     #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
/// #     #[sea_orm(table_name = "orders")]
/// #     pub struct Model {
/// #         #[sea_orm(primary_key)]
/// #         pub id: i64,
/// #     }
/// #     #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// #     pub enum Relation {}
/// #     impl ActiveModelBehavior for ActiveModel {}
/// # }
/// use std::time::Duration;
/// use soft_delete_core::cli::Registry;
/// use soft_delete_core::prune::Policy;
///
/// let registry = Registry::new()
///     .name("shop-ops")
///     .entity::<order::Entity>(Policy::retention().archive());
/// assert_eq!(registry.tables(), ["orders"]);
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    pub(crate) name: Option<String>,
    pub(crate) about: Option<String>,
    pub(crate) entries: Vec<Entry>,
    pub(crate) demo: Option<DemoSeed>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("name", &self.name)
            .field("tables", &self.tables())
            .field("demo", &self.demo.is_some())
            .finish()
    }
}

impl Registry {
    /// A registry with no entity.
    pub fn new() -> Self {
        Self::default()
    }

    /// The command's name in its help and messages (by default, the program's file name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The first line of the command's help.
    pub fn about(mut self, about: impl Into<String>) -> Self {
        self.about = Some(about.into());
        self
    }

    /// Registers `E` with the policy `prune` follows for it. Registering a table again replaces
    /// its policy. A prune takes the entities children first (see [`Pruner::order`]).
    pub fn entity<E: SoftDelete>(mut self, policy: Policy<E>) -> Self {
        let table = Table::of::<E>();
        let default_archive = table.sibling(&format!("{}_archive", table.name()));
        let archive = policy.archive_table().map(|name| table.sibling(name));
        let by_age = policy.by_age();
        let own_retention = policy.own_retention();
        let add: AddPolicy = Arc::new(move |pruner, archive_all| {
            let mut policy = policy.clone();
            if archive_all && policy.archive_table().is_none() {
                policy = policy.archive();
            }
            pruner.policy(policy)
        });
        self.entries.retain(|entry| entry.table != table);
        self.entries.push(Entry {
            table,
            by_age,
            own_retention,
            archive,
            default_archive,
            add,
            stats: stats_of::<E>,
            undo: undo_of::<E>,
            restore: restore_of::<E>,
        });
        self
    }

    /// Adds `--demo`, which runs `seed` after connecting (and, without a database URL, uses
    /// the SQLite file `<name>-demo.db` in the current directory). Without it the command never
    /// creates or fills a table.
    pub fn demo(mut self, seed: DemoSeed) -> Self {
        self.demo = Some(seed);
        self
    }

    /// The registered tables, in the order they were registered (`schema.table` outside the
    /// default schema).
    pub fn tables(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.table.to_string()).collect()
    }

    pub(crate) fn entry(&self, table: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.table.to_string() == table)
    }
}

fn stats_of<E: SoftDelete>(
    manager: SoftDeleteManager<'_, DatabaseConnection>,
) -> BoxFuture<'_, Result<DeletionStats>> {
    Box::pin(async move { manager.get_deletion_stats::<E>().await })
}

fn undo_of<E: SoftDelete>(
    manager: SoftDeleteManager<'_, DatabaseConnection>,
    op: OperationId,
    by: Option<String>,
) -> BoxFuture<'_, Result<BulkReport>> {
    Box::pin(async move {
        let mut undo = manager.undo::<E>(op);
        if let Some(by) = by {
            undo = undo.by(by);
        }
        undo.await
    })
}

fn restore_of<E: SoftDelete>(
    manager: SoftDeleteManager<'_, DatabaseConnection>,
    op: OperationId,
    by: Option<String>,
) -> BoxFuture<'_, Result<BulkReport>> {
    Box::pin(async move {
        let mut restore = manager.restore_operation::<E>(op)?;
        if let Some(by) = by {
            restore = restore.restored_by(by);
        }
        restore.await
    })
}
