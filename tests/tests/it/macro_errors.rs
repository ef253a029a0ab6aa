//! Compile-fail tests of the macros' error messages: each case in `ui/<category>/<case>.rs` must
//! fail to compile with exactly the `.stderr` next to it.
//!
//! After an intended change of a message, regenerate with
//! `TRYBUILD=overwrite cargo test -p soft-delete-tests --test it macro_errors` and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/*.rs");
}
