//! `prune`: the operator's command for the demo's `orders` and `customers`, as an application
//! mounts it in its own `main` (see `soft_delete_core::cli`).
//!
//! ```text
//! cargo run -p soft-delete-examples --example prune -- --demo prune --dry-run
//! cargo run -p soft-delete-examples --example prune -- --demo stats
//! DATABASE_URL=postgres://… cargo run -p soft-delete-examples --example prune -- prune --older-than 30d --archive
//! ```

use soft_delete_core::cli::{self, Registry};
use soft_delete_core::prune::Policy;
use soft_delete_examples::{customer, demo, order};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let registry = Registry::new()
        .entity::<order::Entity>(Policy::retention())
        .entity::<customer::Entity>(Policy::retention())
        .demo(demo::seed);
    cli::run(registry).await
}
