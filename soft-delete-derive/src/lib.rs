//! Procedural macros for [`soft-delete-core`](https://docs.rs/soft-delete-core).
//!
//! Use them through `soft_delete_core`, which re-exports both:
//!
//! * `#[soft_delete]`, an attribute written **above** `#[derive(DeriveEntityModel)]` (or above
//!   `#[sea_orm::model]`), injects the `deleted_at`, `deleted_by` and `deletion_reason` columns
//!   into the `Model` (keeping any the model already declares) and implements `SoftDelete` for the
//!   module's `Entity`.
//! * `#[derive(SoftDelete)]` implements the same trait for a model that declares the columns
//!   itself; its options go in a `#[soft_delete_columns(...)]` helper attribute.
//!
//! This crate generates code only; it knows nothing of databases.

#![warn(missing_docs, rust_2018_idioms)]

mod ast;
mod attr;
mod ctxt;
mod expand;
mod role;
#[cfg(test)]
mod tests;
mod valid;

use proc_macro::TokenStream;

/// Injects the soft-delete columns into a SeaORM `Model` and implements `SoftDelete`.
///
/// Options: `deleted_at = "field"`, `deleted_by = "field"`, `deletion_reason = "field"` to use
/// other column names, and `audit` (or `audit = "created"`) for the audit columns. See the
/// `soft_delete_core` documentation for examples.
#[proc_macro_attribute]
pub fn soft_delete(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::attribute(args.into(), input.into()).into()
}

/// Implements `SoftDelete` for the `Entity` of a `Model` that declares the columns itself.
///
/// Options go in `#[soft_delete_columns(...)]` and are the same as those of `#[soft_delete]`.
#[proc_macro_derive(SoftDelete, attributes(soft_delete_columns))]
pub fn derive_soft_delete(input: TokenStream) -> TokenStream {
    expand::derive(input.into()).into()
}
