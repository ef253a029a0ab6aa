//! Entities exactly as `sea-orm-cli generate entity` (2.0.4) wrote them for an existing blog
//! schema on each backend, with one line added to each: the `#[soft_delete_core::soft_delete(…)]`
//! attribute. Nothing else is changed, so these modules prove that an application's generated
//! entities adopt soft delete as they are (the README's migration guide follows them).
//!
//! Each backend's `schema.sql` is the schema they were generated from: authors
//! (`deleted_at`), articles (an `is_deleted` flag kept in step with `deleted_at`), tags (an
//! integer epoch) and the `article_tag` junction (`deleted_at`), each with `deleted_by` and
//! `deletion_reason`. Regenerate with:
//!
//! ```sh
//! sea-orm-cli generate entity -u <database url> -o tests/src/entities/cli/<backend> --entity-format compact
//! ```
//!
//! then add the attribute line above each `#[derive(…, DeriveEntityModel)]`. What the generator
//! chose differs by backend, which is the point: PostgreSQL `timestamptz` became
//! `DateTimeWithTimeZone` and `timestamp` naive `DateTime`; MySQL `DATETIME` naive `DateTime`,
//! `TIMESTAMP` `DateTimeUtc` and `TINYINT(1)` `i8`; SQLite `integer` `i64`; `integer` epochs
//! `i32` on the servers.

pub mod mysql;
pub mod postgres;
pub mod sqlite;
