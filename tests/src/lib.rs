//! Shared fixtures for the integration tests: a fresh database per test on the backend that
//! `DATABASE_URL` names, and the entities the tests use.

pub mod context;
pub mod entities;
pub mod faulty;
pub mod fixtures;
pub mod graph;
pub mod tree;

pub use context::{SchemaGuard, TestContext};
