//! Parsing of the options written in `#[soft_delete(...)]` or `#[soft_delete_columns(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Meta, Token};

use crate::ctxt::Ctxt;
use crate::role::Role;

/// Which audit columns an entity has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditMode {
    /// `created_at`, `created_by`, `updated_at` and `updated_by`.
    Full,
    /// `created_at` and `created_by` only.
    Created,
}

/// What `Entity::find()` returns, chosen with `default_scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeMode {
    /// The active rows, in a query whose scope can be changed.
    Active,
    /// A query that must choose its scope before it runs.
    Strict,
}

/// What SeaORM's own deletes (`Entity::delete_by_id`, `delete_many`, `ActiveModel::delete`,
/// `Model::delete`) do on the entity, chosen with `delete`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteMode {
    /// They soft-delete (the default with `default_scope`).
    Soft,
    /// They stay SeaORM's permanent deletes.
    Hard,
}

/// The options of one item.
#[derive(Default)]
pub struct Options {
    /// A field name per role, where the user renamed it (indexed by `Role::index`).
    pub renames: [Option<LitStr>; Role::ALL.len()],
    /// The audit option and the span of its key.
    pub audit: Option<(AuditMode, Span)>,
    /// The default-scope option and the span of its key.
    pub default_scope: Option<(ScopeMode, Span)>,
    /// The span of `operation_id`, when the entity stamps operation ids on its rows.
    pub operation_id: Option<Span>,
    /// The `hooks` option: the user implements `SoftDeleteHooks` for the entity.
    pub hooks: Option<Span>,
    /// The entities named in `cascade(…)`, whose rows follow this entity's.
    pub cascade: Vec<syn::Path>,
    /// `epoch_unit = "seconds" | "millis"`: true for milliseconds, with the span of the value.
    pub epoch_millis: Option<(bool, Span)>,
    /// `delete = "soft" | "hard"`, with the span of its key.
    pub delete: Option<(DeleteMode, Span)>,
}

impl Options {
    pub fn rename(&self, role: Role) -> Option<&LitStr> {
        self.renames[role.index()].as_ref()
    }

    /// Whether SeaORM's deletes are shadowed by soft ones: with `default_scope` unless
    /// `delete = "hard"`, and wherever `delete = "soft"` says so.
    pub fn soft_deletes(&self) -> bool {
        match self.delete {
            Some((mode, _)) => mode == DeleteMode::Soft,
            None => self.default_scope.is_some(),
        }
    }

    pub fn has_audit(&self, role: Role) -> bool {
        match (self.audit, role.is_update_audit()) {
            (None, _) => false,
            (Some((AuditMode::Full, _)), _) => true,
            (Some((AuditMode::Created, _)), update) => !update,
        }
    }
}

const KEYS: &str = "`deleted_at`, `flag`, `active`, `epoch`, `epoch_unit`, `deleted_by`, \
                    `deletion_reason`, `audit`, `default_scope`, `delete`, `operation_id`, \
                    `deletion_op`, `cascade`, `hooks`, `created_at`, `created_by`, `updated_at`, \
                    `updated_by`";

/// Parses a comma-separated option list. `attr_name` is the attribute the options were written
/// in, for messages (`soft_delete` or `soft_delete_columns`).
pub fn parse_options(tokens: TokenStream, attr_name: &str, options: &mut Options, cx: &Ctxt) {
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(metas) => metas,
        Err(error) => {
            cx.syn_error(error);
            return;
        }
    };
    for meta in metas {
        let Some(ident) = meta.path().get_ident().cloned() else {
            cx.error_spanned_by(
                meta.path(),
                format!("unknown {attr_name} attribute; expected one of {KEYS}"),
            );
            continue;
        };
        let key = ident.to_string();
        if key == "audit" {
            parse_audit(&meta, &ident, attr_name, options, cx);
        } else if key == "default_scope" {
            parse_default_scope(&meta, &ident, attr_name, options, cx);
        } else if key == "delete" {
            parse_delete(&meta, &ident, attr_name, options, cx);
        } else if key == "cascade" {
            parse_cascade(&meta, attr_name, options, cx);
        } else if key == "epoch_unit" {
            parse_epoch_unit(&meta, &ident, attr_name, options, cx);
        } else if key == "hooks" {
            if !matches!(meta, Meta::Path(_)) {
                cx.error_spanned_by(
                    &meta,
                    format!(
                        "expected `hooks` in {attr_name} (then implement \
                         `soft_delete_core::SoftDeleteHooks` for the entity)"
                    ),
                );
            } else if options.hooks.is_some() {
                cx.error_spanned_by(&ident, format!("duplicate {attr_name} attribute `hooks`"));
            } else {
                options.hooks = Some(ident.span());
            }
        } else if key == "operation_id" {
            if !matches!(meta, Meta::Path(_)) {
                cx.error_spanned_by(
                    &meta,
                    format!(
                        "expected `operation_id` in {attr_name} (rename the column with \
                         `deletion_op = \"field_name\"`)"
                    ),
                );
            } else if options.operation_id.is_some() {
                cx.error_spanned_by(
                    &ident,
                    format!("duplicate {attr_name} attribute `operation_id`"),
                );
            } else {
                options.operation_id = Some(ident.span());
            }
        } else if let Some(role) = Role::from_key(&key) {
            parse_rename(&meta, &ident, role, attr_name, options, cx);
        } else {
            cx.error_spanned_by(
                &ident,
                format!("unknown {attr_name} attribute `{key}`; expected one of {KEYS}"),
            );
        }
    }
}

fn parse_audit(meta: &Meta, ident: &Ident, attr_name: &str, options: &mut Options, cx: &Ctxt) {
    let mode = match meta {
        Meta::Path(_) => Some(AuditMode::Full),
        Meta::NameValue(nv) => match string_literal(&nv.value) {
            Some(lit) if lit.value() == "created" => Some(AuditMode::Created),
            Some(lit) if lit.value() == "full" => Some(AuditMode::Full),
            _ => {
                cx.error_spanned_by(
                    &nv.value,
                    format!("expected `audit`, `audit = \"full\"` or `audit = \"created\"` in {attr_name}"),
                );
                None
            }
        },
        Meta::List(list) => {
            cx.error_spanned_by(
                list,
                format!(
                    "expected `audit`, `audit = \"full\"` or `audit = \"created\"` in {attr_name}"
                ),
            );
            None
        }
    };
    if options.audit.is_some() {
        cx.error_spanned_by(ident, format!("duplicate {attr_name} attribute `audit`"));
    } else if let Some(mode) = mode {
        options.audit = Some((mode, ident.span()));
    }
}

fn parse_default_scope(
    meta: &Meta,
    ident: &Ident,
    attr_name: &str,
    options: &mut Options,
    cx: &Ctxt,
) {
    const EXPECTED: &str = "expected `default_scope`, `default_scope = \"active\"` or \
                            `default_scope = \"strict\"`";
    let mode = match meta {
        Meta::Path(_) => Some(ScopeMode::Active),
        Meta::NameValue(nv) => match string_literal(&nv.value) {
            Some(lit) if lit.value() == "active" => Some(ScopeMode::Active),
            Some(lit) if lit.value() == "strict" => Some(ScopeMode::Strict),
            _ => {
                cx.error_spanned_by(&nv.value, format!("{EXPECTED} in {attr_name}"));
                None
            }
        },
        Meta::List(list) => {
            cx.error_spanned_by(list, format!("{EXPECTED} in {attr_name}"));
            None
        }
    };
    if options.default_scope.is_some() {
        cx.error_spanned_by(
            ident,
            format!("duplicate {attr_name} attribute `default_scope`"),
        );
    } else if let Some(mode) = mode {
        options.default_scope = Some((mode, ident.span()));
    }
}

fn parse_delete(meta: &Meta, ident: &Ident, attr_name: &str, options: &mut Options, cx: &Ctxt) {
    const EXPECTED: &str = "expected `delete = \"soft\"` (SeaORM's deletes soft-delete) or \
                            `delete = \"hard\"` (they stay permanent)";
    let mode = match meta {
        Meta::NameValue(nv) => match string_literal(&nv.value) {
            Some(lit) if lit.value() == "soft" => Some(DeleteMode::Soft),
            Some(lit) if lit.value() == "hard" => Some(DeleteMode::Hard),
            _ => {
                cx.error_spanned_by(&nv.value, format!("{EXPECTED} in {attr_name}"));
                None
            }
        },
        other => {
            cx.error_spanned_by(other, format!("{EXPECTED} in {attr_name}"));
            None
        }
    };
    if options.delete.is_some() {
        cx.error_spanned_by(ident, format!("duplicate {attr_name} attribute `delete`"));
    } else if let Some(mode) = mode {
        options.delete = Some((mode, ident.span()));
    }
}

fn parse_epoch_unit(meta: &Meta, ident: &Ident, attr_name: &str, options: &mut Options, cx: &Ctxt) {
    const EXPECTED: &str = "expected `epoch_unit = \"seconds\"` or `epoch_unit = \"millis\"`";
    let millis = match meta {
        Meta::NameValue(nv) => match string_literal(&nv.value) {
            Some(lit) if lit.value() == "seconds" => Some((false, lit.span())),
            Some(lit) if lit.value() == "millis" => Some((true, lit.span())),
            _ => {
                cx.error_spanned_by(&nv.value, format!("{EXPECTED} in {attr_name}"));
                None
            }
        },
        other => {
            cx.error_spanned_by(other, format!("{EXPECTED} in {attr_name}"));
            None
        }
    };
    if options.epoch_millis.is_some() {
        cx.error_spanned_by(
            ident,
            format!("duplicate {attr_name} attribute `epoch_unit`"),
        );
    } else if let Some(millis) = millis {
        options.epoch_millis = Some(millis);
    }
}

fn parse_cascade(meta: &Meta, attr_name: &str, options: &mut Options, cx: &Ctxt) {
    const EXPECTED: &str = "expected `cascade(super::post::Entity, …)`: the related soft-delete \
                            entities whose rows follow this one's";
    let Meta::List(list) = meta else {
        cx.error_spanned_by(meta, format!("{EXPECTED} in {attr_name}"));
        return;
    };
    match list.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated) {
        Ok(paths) if !paths.is_empty() => {
            if !options.cascade.is_empty() {
                cx.error_spanned_by(list, format!("duplicate {attr_name} attribute `cascade`"));
                return;
            }
            options.cascade = paths.into_iter().collect();
        }
        Ok(_) => cx.error_spanned_by(list, format!("{EXPECTED} in {attr_name}")),
        Err(error) => cx.syn_error(error),
    }
}

fn parse_rename(
    meta: &Meta,
    ident: &Ident,
    role: Role,
    attr_name: &str,
    options: &mut Options,
    cx: &Ctxt,
) {
    let key = role.key();
    let nv = match meta {
        Meta::NameValue(nv) => nv,
        // `flag`, `deleted_at`: the column under its default name.
        Meta::Path(_) if role.may_be_bare() => {
            let slot = &mut options.renames[role.index()];
            if slot.is_some() {
                cx.error_spanned_by(ident, format!("duplicate {attr_name} attribute `{key}`"));
            } else {
                *slot = Some(LitStr::new(role.default_field(), ident.span()));
            }
            return;
        }
        _ => {
            let bare = if role.may_be_bare() {
                format!("`{key}` or ")
            } else {
                String::new()
            };
            cx.error_spanned_by(
                meta,
                format!("expected {bare}`{key} = \"field_name\"` in {attr_name}"),
            );
            return;
        }
    };
    let Some(lit) = string_literal(&nv.value) else {
        cx.error_spanned_by(
            &nv.value,
            format!("expected a string literal: `{key} = \"field_name\"`"),
        );
        return;
    };
    if syn::parse_str::<Ident>(&lit.value()).is_err() {
        cx.error_spanned_by(
            lit,
            format!("`{}` is not a valid field name for `{key}`", lit.value()),
        );
        return;
    }
    let slot = &mut options.renames[role.index()];
    if slot.is_some() {
        cx.error_spanned_by(ident, format!("duplicate {attr_name} attribute `{key}`"));
    } else {
        *slot = Some(lit.clone());
    }
}

fn string_literal(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        _ => None,
    }
}
