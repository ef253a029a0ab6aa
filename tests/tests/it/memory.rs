//! Memory stays flat however many items go in: the release build of the bench
//! (`examples/examples/bench`, `--memory --max-growth 0.1`) runs a soft delete of streamed ids
//! and a streaming insert of new rows over 100k, 1M and 10M items, each in a process of its
//! own on a SQLite file, and fails when a peak resident size grows more than 10% from 1M to
//! 10M. A check on memory, not on time.
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
            return;
        }
    };
    let output = std::process::Command::new(&bench)
        .args(["--memory", "--max-growth", "0.1"])
        .env_remove("DATABASE_URL")
        .output()
        .expect("run the bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "peak memory grew, or a run failed:\n{stdout}\n{stderr}"
    );
    for workload in ["soft_delete", "insert"] {
        assert!(
            stdout.contains(&format!("{workload}: peak RSS")),
            "no figure for {workload}:\n{stdout}"
        );
    }
}
