//! `examples/prune.rs` run as an operator runs it: a separate process against the test's
//! database (`DATABASE_URL`), checked by its exit status, its output and the rows it leaves.
//!
//! The binary is the debug build of the example, `target/debug/examples/prune`, which `cargo
//! test --workspace` builds; `.ci/run` builds it before the server suites. Without it the tests
//! fail and say how to build it.

use std::path::PathBuf;
use std::process::{Command, Output};

use sea_orm::PaginatorTrait;
use soft_delete_core::prelude::*;
use soft_delete_examples::{customer, order};
use soft_delete_tests::{TestContext, test_context};

/// `target/debug/examples/prune`, built from the current sources.
fn binary() -> PathBuf {
    soft_delete_tests::fixtures::built_example(
        "debug",
        "prune",
        &[
            "examples/examples/prune.rs",
            "examples/src",
            "soft-delete-core/src",
        ],
    )
    .unwrap_or_else(|why| panic!("{why}"))
}

fn prune(ctx: &TestContext, args: &[&str]) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(binary())
        .args(args)
        .env("DATABASE_URL", &ctx.url)
        .env_remove("SOFT_DELETE_RETENTION_DAYS")
        .output()
        .expect("run prune");
    (
        status.code().expect("prune exited, not killed"),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_prune_command_reports_what_it_did_and_exits_accordingly() {
    let ctx = test_context!(shared).await;

    // Help, and bad arguments (exit 2, before touching the database).
    let (code, out, _) = prune(&ctx, &["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("--older-than") && out.contains("Exit status"),
        "{out}"
    );
    let (code, _, err) = prune(&ctx, &["--older-than", "5x"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown unit `x`"), "{err}");
    let (code, _, err) = prune(&ctx, &["--entity", "nope"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = prune(&ctx, &["--sleep-coef", "101"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a number from 0 to 100"), "{err}");

    // A dry run seeds the demo data and counts: 1,500 orders and 200 customers are past the
    // default 30 days, but each table is counted as it stands, and those customers' orders
    // still point to them; nothing changes.
    let (code, out, err) = prune(&ctx, &["--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("seeded demo data"), "{out}");
    assert!(out.contains("in order: orders, customers"), "{out}");
    assert!(out.contains("orders: 1500 rows would be removed"), "{out}");
    assert!(out.contains("customers: 0 rows would be removed"), "{out}");
    assert!(
        out.contains("finished: 1500 rows would be removed"),
        "{out}"
    );

    // Customers alone: every old one still has orders, so none goes (and no foreign-key error).
    let (code, out, err) = prune(&ctx, &["--entity", "customers"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("customers: 0 rows removed"), "{out}");
    assert_eq!(
        order::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        5000
    );

    // No time at all: nothing runs, exit 3.
    let (code, out, _) = prune(&ctx, &["--max-duration", "0s"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("orders: not run"), "{out}");
    assert!(out.contains("stopped before finishing"), "{out}");

    // A stop file that is already there: nothing runs, exit 3.
    let stop_file = std::env::temp_dir().join(format!("{}-stop", ctx.name));
    std::fs::write(&stop_file, b"").expect("the stop file");
    let (code, out, _) = prune(
        &ctx,
        &["--stop-file", stop_file.to_str().expect("a UTF-8 path")],
    );
    std::fs::remove_file(&stop_file).expect("remove the stop file");
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("orders: not run"), "{out}");

    // Replica lag: SQLite has no replicas, MySQL needs them named (exit 2); a server that is
    // not a replica holds every batch until the wait runs out, and the entity fails.
    let (code, out, err) = prune(
        &ctx,
        &[
            "--max-replica-lag",
            "1s",
            "--max-lag-wait",
            "300ms",
            "--entity",
            "orders",
        ],
    );
    match ctx.backend {
        sea_orm::DbBackend::Sqlite => {
            assert_eq!(code, 2, "{err}");
            assert!(err.contains("needs a PostgreSQL or MySQL/MariaDB"), "{err}");
        }
        sea_orm::DbBackend::MySql => {
            assert_eq!(code, 2, "{err}");
            assert!(err.contains("needs the replicas"), "{err}");
        }
        _ => {
            // On the primary: no standby streams.
            assert_eq!(code, 1, "{out}{err}");
            assert!(out.contains("0 standby(s) streaming"), "{out}");
        }
    }
    if ctx.backend != sea_orm::DbBackend::Sqlite {
        let (code, out, err) = prune(
            &ctx,
            &[
                "--max-replica-lag",
                "1s",
                "--replica",
                &ctx.url,
                "--max-lag-wait",
                "300ms",
                "--entity",
                "orders",
            ],
        );
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("not a replica"), "{out}");
    }

    // The real run, with archive, in batches of 400.
    let (code, out, err) = prune(
        &ctx,
        &[
            "--archive",
            "--batch-size",
            "400",
            "--sleep-coef",
            "0.5",
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("orders: 1500 rows removed (1500 archived) in 4 batches"),
        "{out}"
    );
    assert!(
        out.contains("customers: 200 rows removed (200 archived) in 1 batches"),
        "{out}"
    );
    assert_eq!(
        order::Entity::find_with_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        3500
    );
    assert_eq!(
        ctx.scalar_i64("SELECT COUNT(*) FROM orders_archive").await,
        1500
    );
    assert_eq!(
        ctx.scalar_i64("SELECT COUNT(*) FROM customers_archive")
            .await,
        200
    );

    // Only orders, younger: the 500 orders of the customers deleted 10 days ago.
    let (code, out, err) = prune(&ctx, &["--older-than", "5d", "--entity", "orders"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("orders: 500 rows removed"), "{out}");
    assert!(!out.contains("customers:"), "{out}");
    assert_eq!(
        customer::Entity::find_deleted()
            .count(&ctx.db)
            .await
            .unwrap(),
        100
    );
}
