//! A three-level cascade to test on: accounts → projects (keyed by `(account_id, code)`) →
//! tasks, and what is deleted in each table.

use sea_orm::{ActiveModelTrait, QueryOrder, Set};
use soft_delete_core::SoftDeleteEntityExt;

use crate::context::TestContext;
use crate::entities::{account, project, task};

/// Accounts 1..=3; projects (1, "p1"), (1, "p2"), (2, "p1"), (3, "p1"); tasks 1, 2 under
/// (1, "p1"), 3 under (1, "p2"), 4 under (2, "p1"), 5 under (3, "p1"). The shared code "p1" is
/// what makes the composite key matter.
pub async fn seed(ctx: &TestContext) {
    ctx.create_table::<account::Entity>().await;
    ctx.create_table::<project::Entity>().await;
    ctx.create_table::<task::Entity>().await;
    for id in 1..=3 {
        account::ActiveModel {
            id: Set(id),
            name: Set(format!("account {id}")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
    }
    for (account_id, code) in [(1, "p1"), (1, "p2"), (2, "p1"), (3, "p1")] {
        project::ActiveModel {
            account_id: Set(account_id),
            code: Set(code.to_owned()),
            name: Set(format!("{account_id}/{code}")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
    }
    for (id, account_id, code) in [
        (1, 1, "p1"),
        (2, 1, "p1"),
        (3, 1, "p2"),
        (4, 2, "p1"),
        (5, 3, "p1"),
    ] {
        task::ActiveModel {
            id: Set(id),
            account_id: Set(account_id),
            project_code: Set(code.to_owned()),
            title: Set(format!("task {id}")),
            ..Default::default()
        }
        .insert(&ctx.db)
        .await
        .unwrap();
    }
}

/// The deleted rows of each table: account ids, project keys, task ids.
#[derive(Debug, PartialEq, Eq)]
pub struct Deleted {
    pub accounts: Vec<i64>,
    pub projects: Vec<(i64, String)>,
    pub tasks: Vec<i64>,
}

/// The deleted rows of each table, in key order.
pub async fn deleted(ctx: &TestContext) -> Deleted {
    let accounts = account::Entity::find_deleted()
        .order_by_asc(account::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    let projects = project::Entity::find_deleted()
        .order_by_asc(project::Column::AccountId)
        .order_by_asc(project::Column::Code)
        .all(&ctx.db)
        .await
        .unwrap();
    let tasks = task::Entity::find_deleted()
        .order_by_asc(task::Column::Id)
        .all(&ctx.db)
        .await
        .unwrap();
    Deleted {
        accounts: accounts.into_iter().map(|a| a.id).collect(),
        projects: projects
            .into_iter()
            .map(|p| (p.account_id, p.code))
            .collect(),
        tasks: tasks.into_iter().map(|t| t.id).collect(),
    }
}

/// A [`Deleted`] from literals.
pub fn expect(accounts: &[i64], projects: &[(i64, &str)], tasks: &[i64]) -> Deleted {
    Deleted {
        accounts: accounts.to_vec(),
        projects: projects
            .iter()
            .map(|(a, c)| (*a, (*c).to_owned()))
            .collect(),
        tasks: tasks.to_vec(),
    }
}
