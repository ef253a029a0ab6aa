//! Shared fixtures for the integration tests: a fresh database per test on the backend that
//! `DATABASE_URL` names, and the entities the tests use.

pub mod context;
pub mod entities;
pub mod faulty;
pub mod fixtures;
pub mod graph;
pub mod tree;

pub use context::{SchemaGuard, TestContext};

/// Says that the running test does not apply here and why: printed on stderr, and appended as
/// one line (`<test>\t<reason>`) to the file `SOFT_DELETE_TEST_SKIPS` names, from which
/// `.ci/run` counts and lists the skips of each backend. The caller returns right after.
///
/// A skip is for a test whose behaviour the backend does not have (SQLite has no deadlock, no
/// server session to kill); under `CI=true` a server that is missing is a failure, never a
/// skip.
pub fn skip(reason: &str) {
    use std::io::Write as _;
    let test = std::thread::current()
        .name()
        .unwrap_or("an unnamed test")
        .to_owned();
    eprintln!("skipped {test}: {reason}");
    if let Some(path) = std::env::var_os("SOFT_DELETE_TEST_SKIPS") {
        let line = format!("{test}\t{reason}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(error) = written {
            panic!("recording a skip in {}: {error}", path.to_string_lossy());
        }
    }
}
