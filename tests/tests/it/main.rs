//! The integration tests: one binary, a module per behaviour, on the backend `DATABASE_URL`
//! names (`sqlite::memory:` by default; `TEST_BACKEND=postgres|mysql` with a server's URL, see
//! `soft_delete_tests::context`). Every test gets a database of its own.
//!
//! One binary because each binary links sea-orm, sea-query and sqlx for three backends again:
//! the 21 binaries this suite used to be spent most of `cargo test` linking. The suites that
//! need a cluster or a pair of servers (`cluster.rs`, `replica.rs`) stay binaries of their own,
//! built only with their features.

mod adoption;
mod bulk_operations;
mod cascade;
mod default_scope;
mod faults;
mod hooks;
mod keys_and_columns;
mod limits;
mod macro_errors;
mod markers;
mod memory;
mod migration;
mod model_based;
mod observability;
mod one_record;
mod operation_ids;
mod operation_log;
mod operator_command;
mod outside;
mod pacing;
mod parallel;
mod prune;
mod query_plans;
mod related;
mod schemas;
mod scopes;
mod servers;
mod service;
