//! Memory stays flat however many items go in: the release build of the bench
//! (`examples/examples/bench`, `--memory --max-growth 0.1`) runs a soft delete of streamed ids
//! and a streaming insert of new rows over 100k, 1M and 10M items, each in a process of its
//! own on a SQLite file, and fails when a peak resident size grows more than 10% from 1M to
//! 10M. A check on memory, not on time.
//!
//! On PostgreSQL the same soft delete runs with four workers taking batches of ids from the one
//! stream (`--parallel 4`), on the server `DATABASE_URL` names.
//!
//! It needs `target/release/examples/bench` built from the current sources (`.ci/run` builds it
//! before the tests): under `CI=true` a missing one fails; elsewhere the test says how to build
//! it and skips.

#[test]
fn peak_memory_of_streamed_ids_and_rows_is_flat_from_1m_to_10m() {
    if !matches!(
        soft_delete_tests::context::Target::from_env(),
        soft_delete_tests::context::Target::Sqlite(_)
    ) {
        soft_delete_tests::skip(
            "the memory check runs on its own SQLite file: the SQLite suite runs it",
        );
        return;
    }
    let stdout = memory_bench(&["--memory", "--max-growth", "0.1"], None);
    if let Some(stdout) = stdout {
        for workload in ["soft_delete", "insert"] {
            assert!(
                stdout.contains(&format!("{workload}: peak RSS")),
                "no figure for {workload}:\n{stdout}"
            );
        }
    }
}

#[test]
fn peak_memory_of_ids_shared_by_four_workers_is_flat_from_1m_to_10m() {
    let soft_delete_tests::context::Target::Postgres(url) =
        soft_delete_tests::context::Target::from_env()
    else {
        soft_delete_tests::skip(
            "four workers on one stream of ids are measured on PostgreSQL: its suite runs it",
        );
        return;
    };
    let args = [
        "--memory",
        "--max-growth",
        "0.1",
        "--backend",
        "postgres",
        "--parallel",
        "4",
    ];
    if let Some(stdout) = memory_bench(&args, Some(&url)) {
        let counts: Vec<&str> = stdout
            .lines()
            .filter(|line| line.starts_with("workload=soft_delete"))
            .collect();
        assert_eq!(counts.len(), 3, "{stdout}");
        assert!(
            counts.iter().all(|line| line.contains(" workers=4 ")),
            "not four workers:\n{stdout}"
        );
        assert!(stdout.contains("soft_delete: peak RSS"), "{stdout}");
    }
}

/// Runs the release bench with `args` (on the server `url`, or SQLite), failing the test when a
/// peak grew or a run failed; its output, or `None` when the bench is not built outside CI.
fn memory_bench(args: &[&str], url: Option<&str>) -> Option<String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let bench = match soft_delete_tests::fixtures::built_example(
        "release",
        "bench",
        &[
            "examples/examples/bench",
            "examples/src",
            "soft-delete-core/src",
        ],
    ) {
        Ok(bench) => bench,
        Err(why) if ci => panic!("{why}"),
        Err(why) => {
            soft_delete_tests::skip(&why);
            return None;
        }
    };
    let mut command = std::process::Command::new(&bench);
    command.args(args);
    match url {
        Some(url) => command.env("DATABASE_URL", url),
        None => command.env_remove("DATABASE_URL"),
    };
    let output = command.output().expect("run the bench");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "peak memory grew, or a run failed:\n{stdout}\n{stderr}"
    );
    Some(stdout)
}
