//! Code generation. Everything here runs after the checks in `valid` and cannot fail; when the
//! checks did fail, it still emits the struct and a placeholder impl so that the user sees the
//! real error rather than a cascade of follow-on ones.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::Parser;
use syn::{Data, DeriveInput, Fields, ItemStruct, Meta};

use crate::ast::{self, Derives};
use crate::attr::{self, AuditMode, Options, ScopeMode};
use crate::ctxt::Ctxt;
use crate::role::{Kind, Role};
use crate::valid::{self, Column, Mode};

/// `#[soft_delete(...)]` on a struct.
pub fn attribute(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: ItemStruct = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[soft_delete]` applies to the `Model` struct of a SeaORM entity",
            )
            .to_compile_error();
            return quote!(#error #input);
        }
    };

    let cx = Ctxt::default();
    let mut options = Options::default();
    attr::parse_options(args, Mode::Attribute.attr_name(), &mut options, &cx);

    let derives = ast::derives(&item.attrs);
    if derives == Derives::Missing {
        let message = if ast::has_sea_orm_attributes(&item.attrs, &item.fields) {
            "`#[soft_delete]` must be placed above `#[derive(DeriveEntityModel)]` (or above \
             `#[sea_orm::model]`); move it above the derive. Written below it, the derive has \
             already run without the soft-delete columns"
        } else {
            "`#[soft_delete]` applies to the `Model` of a SeaORM entity: write it above \
             `#[derive(DeriveEntityModel)]` (or above `#[sea_orm::model]`)"
        };
        cx.syn_error(syn::Error::new(Span::call_site(), message));
    }
    if let Some((_, span)) = options.default_scope
        && ast::uses_dense_model(&item.attrs)
    {
        cx.syn_error(syn::Error::new(
            span,
            "`default_scope` cannot be used with `#[sea_orm::model]`: the `Entity::load()` and \
             `find_by_<unique>` it generates call `Entity::find()` and need a plain `Select` \
             back. Use `Entity::find_active()`, or declare the entity with \
             `#[derive(DeriveEntityModel)]`",
        ));
    }
    let derives_soft_delete = ast::derives_soft_delete(&item.attrs);
    if let Some(path) = &derives_soft_delete {
        cx.error_spanned_by(
            path,
            "`#[derive(SoftDelete)]` is not needed with `#[soft_delete]`, which implements \
             `SoftDelete` itself; remove the derive",
        );
        ast::remove_soft_delete_derive(&mut item.attrs);
    }
    // `#[soft_delete_columns]` is the derive's helper; without the derive it would be an unknown
    // attribute, and its options belong in `#[soft_delete(...)]` here.
    item.attrs.retain(|attr| {
        if !attr.path().is_ident(Mode::Derive.attr_name()) {
            return true;
        }
        if derives_soft_delete.is_none() {
            cx.error_spanned_by(
                attr.path(),
                "`#[soft_delete_columns]` is the helper of `#[derive(SoftDelete)]`; with \
                 `#[soft_delete]`, write the options in `#[soft_delete(...)]`",
            );
        }
        false
    });

    let columns = match ast::named_fields(&item.fields) {
        Some(fields) => valid::resolve(&fields, &item.ident, &options, Mode::Attribute, &cx),
        None => {
            cx.error_spanned_by(
                &item.ident,
                "`#[soft_delete]` needs a struct with named fields (the entity's `Model`)",
            );
            Vec::new()
        }
    };

    // The derive has not run yet when it is present: inject whatever can be injected, so that
    // the code it generates and the user's code agree with the struct even when there are errors.
    if derives != Derives::Missing {
        inject_fields(&mut item, &columns);
    }

    let ok = cx.is_ok();
    let errors = cx.into_compile_errors();
    let impls = match derives {
        Derives::EntityModel if ok => trait_impls(&columns, &options),
        Derives::EntityModel => fallback_impls(&options),
        // `ModelEx` shares the `Entity` with `Model`, which carries the impls.
        Derives::ModelEx | Derives::Missing => TokenStream::new(),
    };
    quote! {
        #errors
        #item
        #impls
    }
}

/// `#[derive(SoftDelete)]`.
pub fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let cx = Ctxt::default();
    let mut options = Options::default();
    for attr in &input.attrs {
        if !attr.path().is_ident(Mode::Derive.attr_name()) {
            continue;
        }
        match &attr.meta {
            Meta::List(list) => attr::parse_options(
                list.tokens.clone(),
                Mode::Derive.attr_name(),
                &mut options,
                &cx,
            ),
            other => cx.error_spanned_by(
                other,
                "expected `#[soft_delete_columns(...)]`, e.g. \
                 `#[soft_delete_columns(deleted_at = \"removed_at\")]`",
            ),
        }
    }

    let columns = match &input.data {
        Data::Struct(data) => match ast::named_fields(&data.fields) {
            Some(fields) => valid::resolve(&fields, &input.ident, &options, Mode::Derive, &cx),
            None => {
                cx.error_spanned_by(
                    &input.ident,
                    "`#[derive(SoftDelete)]` needs a struct with named fields (the entity's `Model`)",
                );
                Vec::new()
            }
        },
        Data::Enum(_) | Data::Union(_) => {
            cx.error_spanned_by(
                &input.ident,
                "`#[derive(SoftDelete)]` applies to the `Model` struct of a SeaORM entity",
            );
            Vec::new()
        }
    };

    let ok = cx.is_ok();
    let errors = cx.into_compile_errors();
    let impls = if ok {
        trait_impls(&columns, &options)
    } else {
        fallback_impls(&options)
    };
    quote! {
        #errors
        #impls
    }
}

/// Appends the fields that the model does not declare.
fn inject_fields(item: &mut ItemStruct, columns: &[Column]) {
    let Fields::Named(named) = &mut item.fields else {
        return;
    };
    for column in columns.iter().filter(|column| column.inject) {
        let ident = &column.field;
        let doc = field_doc(column.role);
        let ty = match column.role.kind() {
            Kind::Timestamp => quote!(Option<::soft_delete_core::__private::DateTimeUtc>),
            // `String` is written bare: SeaORM recognises string columns by that exact text.
            Kind::Text => quote!(Option<String>),
            Kind::Bool => quote!(bool),
            Kind::Integer => quote!(i64),
        };
        // A marker's column defaults to the live value, so that tables made by SeaORM's own
        // `Schema::create_table_from_entity` accept rows that leave it out.
        let default = match column.role {
            Role::Flag => Some(quote!(#[sea_orm(default_value = false)])),
            Role::Active => Some(quote!(#[sea_orm(default_value = true)])),
            Role::Epoch => Some(quote!(#[sea_orm(default_value = 0)])),
            _ => None,
        };
        let tokens = quote! {
            #[doc = #doc]
            #default
            pub #ident: #ty
        };
        match syn::Field::parse_named.parse2(tokens) {
            Ok(field) => named.named.push(field),
            // The tokens are built from a checked identifier and fixed types.
            Err(error) => unreachable!("injected field does not parse: {error}"),
        }
    }
}

fn field_doc(role: Role) -> &'static str {
    match role {
        Role::DeletedAt => " When the row was soft-deleted; `None` while it is active.",
        Role::Flag => " True once the row is soft-deleted.",
        Role::Active => " True while the row is active; false once it is soft-deleted.",
        Role::Epoch => " When the row was soft-deleted, since 1970; 0 while it is active.",
        Role::DeletedBy => " Who soft-deleted the row, when known.",
        Role::DeletionReason => " Why the row was soft-deleted, when given.",
        Role::DeletionOp => " The id of the operation that soft-deleted the row.",
        Role::CreatedAt => " When the row was created.",
        Role::CreatedBy => " Who created the row, when known.",
        Role::UpdatedAt => " When the row was last updated.",
        Role::UpdatedBy => " Who last updated the row, when known.",
    }
}

fn variant(columns: &[Column], role: Role) -> Option<TokenStream> {
    columns
        .iter()
        .find(|column| column.role == role)
        .map(|column| {
            let variant = column.variant();
            quote!(Column::#variant)
        })
}

fn trait_impls(columns: &[Column], options: &Options) -> TokenStream {
    let get = |role| variant(columns, role).unwrap_or_else(|| quote!(::core::unreachable!()));
    let (marker, timed) = marker(columns, options);
    let deleted_by = get(Role::DeletedBy);
    let deletion_reason = get(Role::DeletionReason);
    let audit_columns = options.audit.map(|_| {
        quote! {
            #[inline]
            fn audit_columns() -> ::core::option::Option<
                ::soft_delete_core::__private::AuditColumns<Column>,
            > {
                ::core::option::Option::Some(
                    ::soft_delete_core::__private::AuditColumns::of::<Self>(),
                )
            }
        }
    });
    let default_scope = options.default_scope.map(|(mode, _)| {
        let variant = match mode {
            ScopeMode::Active => quote!(Active),
            ScopeMode::Strict => quote!(Strict),
        };
        quote! {
            #[inline]
            fn default_scope() -> ::soft_delete_core::__private::DefaultScope {
                ::soft_delete_core::__private::DefaultScope::#variant
            }
        }
    });
    let deletion_op = variant(columns, Role::DeletionOp).map(|variant| {
        quote! {
            #[inline]
            fn deletion_op_column() -> ::core::option::Option<Column> {
                ::core::option::Option::Some(#variant)
            }
        }
    });
    let cascade = (!options.cascade.is_empty()).then(|| {
        let children = &options.cascade;
        quote! {
            fn cascade() -> ::std::vec::Vec<::soft_delete_core::__private::CascadeChild> {
                ::std::vec![
                    #(::soft_delete_core::__private::CascadeChild::of::<Entity, #children>()),*
                ]
            }
        }
    });
    let soft_delete = quote! {
        #[automatically_derived]
        impl ::soft_delete_core::__private::SoftDelete for Entity {
            #[inline]
            fn marker() -> ::soft_delete_core::__private::Marker<Column> {
                #marker
            }
            #deletion_op
            #cascade
            #[inline]
            fn deleted_by_column() -> Column {
                #deleted_by
            }
            #[inline]
            fn deletion_reason_column() -> Column {
                #deletion_reason
            }
            #audit_columns
            #default_scope
        }
    };
    let timed = timed.then(timed_impl);
    let hooks = hooks_impl(options);
    let scope_fns = options.default_scope.map(|(mode, _)| scope_functions(mode));
    let register = options.default_scope.map(|_| {
        quote! {
            ::soft_delete_core::__private::inventory::submit! {
                ::soft_delete_core::__private::Registered::new::<Entity>()
            }
        }
    });
    let relation_fns = relation_functions();
    let delete_fns = options.soft_deletes().then(|| {
        let strict = matches!(options.default_scope, Some((ScopeMode::Strict, _)));
        delete_functions(strict)
    });
    let audit = options.audit.map(|(mode, _)| {
        let created_at = get(Role::CreatedAt);
        let created_by = get(Role::CreatedBy);
        let optional = |role| match (mode, variant(columns, role)) {
            (AuditMode::Full, Some(variant)) => quote!(::core::option::Option::Some(#variant)),
            _ => quote!(::core::option::Option::None),
        };
        let updated_at = optional(Role::UpdatedAt);
        let updated_by = optional(Role::UpdatedBy);
        quote! {
            #[automatically_derived]
            impl ::soft_delete_core::__private::Audit for Entity {
                #[inline]
                fn created_at_column() -> Column {
                    #created_at
                }
                #[inline]
                fn created_by_column() -> Column {
                    #created_by
                }
                #[inline]
                fn updated_at_column() -> ::core::option::Option<Column> {
                    #updated_at
                }
                #[inline]
                fn updated_by_column() -> ::core::option::Option<Column> {
                    #updated_by
                }
            }
        }
    });
    quote! {
        #soft_delete
        #timed
        #hooks
        #audit
        #scope_fns
        #register
        #relation_fns
        #delete_fns
    }
}

/// The entity's marker, as the body of `SoftDelete::marker`, and whether it records the time.
fn marker(columns: &[Column], options: &Options) -> (TokenStream, bool) {
    let p = quote!(::soft_delete_core::__private);
    let at = match variant(columns, Role::DeletedAt) {
        Some(at) => quote!(::core::option::Option::Some(#at)),
        None => quote!(::core::option::Option::None),
    };
    let has_at = variant(columns, Role::DeletedAt).is_some();
    if let Some(flag) = variant(columns, Role::Flag) {
        (quote!(#p::Marker::Flag { flag: #flag, at: #at }), has_at)
    } else if let Some(flag) = variant(columns, Role::Active) {
        (quote!(#p::Marker::Active { flag: #flag, at: #at }), has_at)
    } else if let Some(column) = variant(columns, Role::Epoch) {
        let unit = match options.epoch_millis {
            Some((true, _)) => quote!(Millis),
            _ => quote!(Seconds),
        };
        (
            quote!(#p::Marker::Epoch { column: #column, unit: #p::EpochUnit::#unit }),
            true,
        )
    } else {
        let at =
            variant(columns, Role::DeletedAt).unwrap_or_else(|| quote!(::core::unreachable!()));
        (quote!(#p::Marker::Timestamp(#at)), true)
    }
}

/// `TimedMarker`, for entities whose marker records when a row was deleted.
fn timed_impl() -> TokenStream {
    quote! {
        #[automatically_derived]
        impl ::soft_delete_core::__private::TimedMarker for Entity {}
    }
}

/// `Entity::find()` and `Entity::find_by_id(..)` for an entity with a default scope: inherent
/// associated functions, which Rust picks over `EntityTrait`'s wherever the entity is named.
fn scope_functions(mode: ScopeMode) -> TokenStream {
    let p = quote!(::soft_delete_core::__private);
    let (output, wrap, doc) = match mode {
        ScopeMode::Active => (
            quote!(#p::Scoped<#p::Select<Entity>>),
            quote!(#p::Scoped::new),
            " The active rows (`default_scope`): a query whose scope `.with_deleted()` or \
             `.only_deleted()` replace. `<Entity as EntityTrait>::find()` is SeaORM's, \
             unscoped.",
        ),
        ScopeMode::Strict => (
            quote!(#p::Unscoped<#p::Select<Entity>>),
            quote!(#p::Unscoped::new),
            " A query that must choose its rows (`default_scope = \"strict\"`) with \
             `.active()`, `.only_deleted()` or `.with_deleted()` before it can run. \
             `<Entity as EntityTrait>::find()` is SeaORM's, unscoped.",
        ),
    };
    let scope_arg = match mode {
        ScopeMode::Active => quote!(, #p::Scope::Active),
        ScopeMode::Strict => TokenStream::new(),
    };
    quote! {
        #[automatically_derived]
        impl Entity {
            #[doc = #doc]
            #[inline]
            pub fn find() -> #output {
                #wrap(<Entity as #p::EntityTrait>::find() #scope_arg)
            }

            /// The row with this primary key, in the entity's default scope; see `find()`.
            #[inline]
            pub fn find_by_id<T>(values: T) -> #output
            where
                T: ::core::convert::Into<
                    <<Entity as #p::EntityTrait>::PrimaryKey as #p::PrimaryKeyTrait>::ValueType,
                >,
            {
                #wrap(<Entity as #p::EntityTrait>::find_by_id(values) #scope_arg)
            }
        }
    }
}

/// `model.find_related(R)` and `active_model.find_related(R)` following `R`'s default scope
/// (and a junction's): inherent functions that Rust picks over SeaORM's trait functions, which
/// return the same rows scoped (see `soft_delete_core::scope`).
fn relation_functions() -> TokenStream {
    let p = quote!(::soft_delete_core::__private);
    quote! {
        #[automatically_derived]
        impl Model {
            /// The `R` rows related to this one, as SeaORM's `find_related`, without the
            /// soft-deleted ones where `R` (or a junction it is reached through) is declared with
            /// a default scope; `.with_deleted()` or `.only_deleted()` replace that scope.
            /// `ModelTrait::find_related(&model, R)` is SeaORM's.
            #[inline]
            pub fn find_related<R>(&self, r: R) -> #p::Scoped<#p::Select<R>>
            where
                R: #p::EntityTrait,
                Entity: #p::Related<R>,
            {
                #p::related::<Entity, R>(<Model as #p::ModelTrait>::find_related(self, r))
            }
        }

        #[automatically_derived]
        impl ActiveModel {
            /// The `R` rows related to this one; see `Model::find_related`.
            /// `ActiveModelTrait::find_related(&am, R)` is SeaORM's.
            #[inline]
            pub fn find_related<R>(&self, r: R) -> #p::Scoped<#p::Select<R>>
            where
                R: #p::EntityTrait,
                Entity: #p::Related<R>,
            {
                #p::related::<Entity, R>(<ActiveModel as #p::ActiveModelTrait>::find_related(self, r))
            }
        }
    }
}

/// SeaORM's deletes, soft (`default_scope`, or `delete = "soft"`): inherent functions of
/// `Entity`, `ActiveModel` and `Model` named like SeaORM's, which Rust picks over the traits'
/// wherever the type is named. With `strict`, they must say which delete they are.
fn delete_functions(strict: bool) -> TokenStream {
    let p = quote!(::soft_delete_core::__private);
    let output = match strict {
        false => quote!(#p::SoftDeletes<Entity>),
        true => quote!(#p::ChooseDelete<Entity>),
    };
    let wrap = |delete: TokenStream| match strict {
        false => delete,
        true => quote!(#p::ChooseDelete::new(#delete)),
    };
    let by_id = wrap(quote!(#p::SoftDeletes::by_id(values)));
    let of_model = wrap(quote!(#p::SoftDeletes::of_model(&model)));
    let many = wrap(quote!(#p::SoftDeletes::many()));
    let entity_doc = match strict {
        false => {
            " Soft-deletes instead of deleting (the entity's deletes are soft): run it with \
             `.exec(db)`. `Entity::force_delete_by_id(db, id)` deletes for good; \
             `<Entity as EntityTrait>::…` is SeaORM's."
        }
        true => {
            " A delete that must say which it is (`default_scope = \"strict\"`): `.soft()`, or \
             `Entity::force_delete_by_id(db, id)` for good. `<Entity as EntityTrait>::…` is \
             SeaORM's."
        }
    };
    let model_fns = match strict {
        false => quote! {
            #[automatically_derived]
            impl ActiveModel {
                /// Soft-deletes the row this active model's key names, between
                /// `ActiveModelBehavior::before_delete` and `after_delete` (the entity's deletes
                /// are soft). `ActiveModelTrait::delete(am, db)` is SeaORM's.
                pub async fn delete<C>(
                    self,
                    db: &C,
                ) -> ::core::result::Result<#p::DeleteResult, #p::DbErr>
                where
                    C: #p::BulkConnection,
                {
                    #p::delete_active_model(self, db).await
                }
            }

            #[automatically_derived]
            impl Model {
                /// Soft-deletes this row (the entity's deletes are soft); see
                /// `ActiveModel::delete`. `ModelTrait::delete(model, db)` is SeaORM's.
                pub async fn delete<C>(
                    self,
                    db: &C,
                ) -> ::core::result::Result<#p::DeleteResult, #p::DbErr>
                where
                    C: #p::BulkConnection,
                {
                    #p::delete_model::<Model, ActiveModel, C>(self, db).await
                }
            }
        },
        true => quote! {
            #[automatically_derived]
            impl ActiveModel {
                /// Does not compile (`default_scope = "strict"`): say which delete, with
                /// `.soft_delete(db)` or `.force_delete(db)`.
                pub async fn delete<C>(
                    self,
                    db: &C,
                ) -> ::core::result::Result<#p::DeleteResult, #p::DbErr>
                where
                    C: #p::SaysWhichDelete,
                {
                    let _ = (self, db);
                    ::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl Model {
                /// Does not compile (`default_scope = "strict"`): say which delete, with
                /// `Entity::soft_delete_by_id(db, id)` or `Entity::force_delete_by_id(db, id)`.
                pub async fn delete<C>(
                    self,
                    db: &C,
                ) -> ::core::result::Result<#p::DeleteResult, #p::DbErr>
                where
                    C: #p::SaysWhichDelete,
                {
                    let _ = (self, db);
                    ::core::unreachable!()
                }
            }
        },
    };
    quote! {
        #[automatically_derived]
        impl Entity {
            #[doc = #entity_doc]
            #[inline]
            pub fn delete_by_id<T>(values: T) -> #output
            where
                T: ::core::convert::Into<
                    <<Entity as #p::EntityTrait>::PrimaryKey as #p::PrimaryKeyTrait>::ValueType,
                >,
            {
                #by_id
            }

            #[doc = #entity_doc]
            #[inline]
            pub fn delete<A>(model: A) -> #output
            where
                A: #p::ActiveModelTrait<Entity = Entity>,
            {
                #of_model
            }

            #[doc = #entity_doc]
            #[inline]
            pub fn delete_many() -> #output {
                #many
            }
        }

        #model_fns
    }
}

/// `SoftDeleteHooks` with no hook, unless the entity is declared with `hooks` (then the user's
/// impl takes its place).
fn hooks_impl(options: &Options) -> Option<TokenStream> {
    options.hooks.is_none().then(|| {
        quote! {
            #[automatically_derived]
            impl ::soft_delete_core::__private::SoftDeleteHooks for Entity {
                const HOOKS: bool = false;
                const BULK: ::soft_delete_core::__private::BulkHooks =
                    ::soft_delete_core::__private::BulkHooks::Off;
            }
        }
    })
}

/// Placeholder impls emitted next to compile errors, so that code using the entity's soft-delete
/// API does not report a second, misleading "not implemented" error.
fn fallback_impls(options: &Options) -> TokenStream {
    let soft_delete = quote! {
        #[automatically_derived]
        impl ::soft_delete_core::__private::SoftDelete for Entity {
            fn marker() -> ::soft_delete_core::__private::Marker<Column> {
                ::core::unreachable!()
            }
            fn deleted_by_column() -> Column {
                ::core::unreachable!()
            }
            fn deletion_reason_column() -> Column {
                ::core::unreachable!()
            }
        }
    };
    let audit = options.audit.map(|_| {
        quote! {
            #[automatically_derived]
            impl ::soft_delete_core::__private::Audit for Entity {
                fn created_at_column() -> Column {
                    ::core::unreachable!()
                }
                fn created_by_column() -> Column {
                    ::core::unreachable!()
                }
                fn updated_at_column() -> ::core::option::Option<Column> {
                    ::core::unreachable!()
                }
                fn updated_by_column() -> ::core::option::Option<Column> {
                    ::core::unreachable!()
                }
            }
        }
    });
    let hooks = hooks_impl(options);
    let timed = timed_impl();
    quote! {
        #soft_delete
        #timed
        #hooks
        #audit
    }
}
