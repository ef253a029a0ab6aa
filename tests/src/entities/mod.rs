//! The entities the integration tests use, one per kind of key and declaration style.

pub mod account;
pub mod article;
pub mod audited;
pub mod cli;
pub mod decoy;
pub mod document;
pub mod draft;
pub mod graded;
pub mod hook_audit;
pub mod invoice;
pub mod legacy;
pub mod marked;
pub mod member;
pub mod membership;
pub mod note;
pub mod paced;
pub mod post;
pub mod project;
pub mod sealed;
pub mod tag;
pub mod task;
pub mod tenant;
pub mod ticket;
pub mod typed;
pub mod user;
