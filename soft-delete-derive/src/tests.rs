//! Snapshot tests of what the macros expand to, and unit tests of their small helpers.
//!
//! The expansions are formatted with `prettyplease` and compared with the `.snap` files in
//! `src/snapshots/`. After an intended change, review the new output with `cargo insta review`
//! (or `INSTA_UPDATE=always cargo test -p soft-delete-derive` and `git diff`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::attr::{self, AuditMode, Options};
use crate::ctxt::Ctxt;
use crate::expand;
use crate::role::Role;
use crate::valid;

/// Formats generated tokens as Rust source. Panics if the output is not a valid file, which is a
/// bug in itself.
fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = match syn::parse2(tokens.clone()) {
        Ok(file) => file,
        Err(error) => panic!("expansion is not valid Rust ({error}):\n{tokens}"),
    };
    prettyplease::unparse(&file)
}

fn attribute(args: TokenStream, input: TokenStream) -> String {
    pretty(expand::attribute(args, input))
}

fn derive(input: TokenStream) -> String {
    pretty(expand::derive(input))
}

/// The messages of the `compile_error!`s in an expansion, in order.
fn errors(tokens: TokenStream) -> Vec<String> {
    let file: syn::File = syn::parse2(tokens).expect("expansion parses");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(item)
                if item.mac.path.segments.last().unwrap().ident == "compile_error" =>
            {
                let lit: syn::LitStr = item
                    .mac
                    .parse_body()
                    .expect("compile_error! takes a string");
                Some(lit.value())
            }
            _ => None,
        })
        .collect()
}

/// The names of the fields of the struct an attribute expansion re-emits.
fn field_names(tokens: TokenStream) -> Vec<String> {
    let file: syn::File = syn::parse2(tokens).expect("expansion parses");
    let item = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(item) => Some(item),
            _ => None,
        })
        .expect("the struct is re-emitted");
    item.fields
        .iter()
        .map(|field| field.ident.as_ref().expect("named field").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// `#[soft_delete]`

#[test]
fn attribute_plain_i64_model() {
    insta::assert_snapshot!(attribute(
        quote!(),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "users")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub name: String,
            }
        },
    ));
}

#[test]
fn attribute_keeps_declared_deleted_by() {
    let input = quote! {
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "documents")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub title: String,
            pub deleted_by: Option<String>,
        }
    };
    assert_eq!(
        field_names(expand::attribute(quote!(), input.clone())),
        ["id", "title", "deleted_by", "deleted_at", "deletion_reason"],
        "`deleted_by` is declared once, where the user wrote it"
    );
    insta::assert_snapshot!(attribute(quote!(), input));
}

#[test]
fn attribute_renamed_columns() {
    insta::assert_snapshot!(attribute(
        quote!(
            deleted_at = "removed_at",
            deleted_by = "removed_by",
            deletion_reason = "reason"
        ),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "items")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i32,
                // Declared, under its new name: kept.
                pub reason: Option<String>,
            }
        },
    ));
}

#[test]
fn attribute_column_found_by_column_name() {
    // A field whose `column_name` is the wanted name holds the role; nothing is injected for it.
    let tokens = expand::attribute(
        quote!(),
        quote! {
            #[derive(DeriveEntityModel)]
            #[sea_orm(table_name = "items")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i32,
                #[sea_orm(column_name = "deleted_at")]
                pub gone_at: Option<DateTimeUtc>,
            }
        },
    );
    assert_eq!(
        field_names(tokens.clone()),
        ["id", "gone_at", "deleted_by", "deletion_reason"]
    );
    let text = pretty(tokens);
    assert!(text.contains("Column::GoneAt"), "{text}");
    assert!(!text.contains("Column::DeletedAt"), "{text}");
}

#[test]
fn attribute_audit_full() {
    insta::assert_snapshot!(attribute(
        quote!(audit),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "audited_notes")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub body: String,
            }
        },
    ));
}

#[test]
fn attribute_audit_created_only() {
    insta::assert_snapshot!(attribute(
        quote!(audit = "created", created_by = "author"),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "notes")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                // An audit column may be declared non-null.
                pub created_at: DateTimeUtc,
            }
        },
    ));
}

#[test]
fn attribute_default_scope() {
    insta::assert_snapshot!(attribute(
        quote!(default_scope),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "notes")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
            }
        },
    ));
}

#[test]
fn attribute_operation_id_injects_and_names_the_column() {
    let input = quote! {
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "invoices")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i64,
        }
    };
    let text = attribute(quote!(operation_id), input.clone());
    assert!(text.contains("pub deletion_op: Option<String>"), "{text}");
    assert!(text.contains("fn deletion_op_column()"), "{text}");
    assert!(text.contains("Some(Column::DeletionOp)"), "{text}");
    let renamed = attribute(quote!(operation_id, deletion_op = "op"), input.clone());
    assert!(renamed.contains("pub op: Option<String>"), "{renamed}");
    assert!(renamed.contains("Some(Column::Op)"), "{renamed}");
    // Without the option, no column and no method.
    let plain = attribute(quote!(), input);
    assert!(!plain.contains("deletion_op"), "{plain}");
}

#[test]
fn attribute_cascade_lists_its_children() {
    let text = attribute(
        quote!(
            operation_id,
            cascade(super::post::Entity, crate::comment::Entity)
        ),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "users")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
            }
        },
    );
    assert!(text.contains("fn cascade()"), "{text}");
    // `vec![…]` is not reformatted: compare without whitespace.
    let compact: String = text.split_whitespace().collect();
    assert!(
        compact.contains("CascadeChild::of::<Entity,super::post::Entity>()"),
        "{text}"
    );
    assert!(
        compact.contains("CascadeChild::of::<Entity,crate::comment::Entity>()"),
        "{text}"
    );
}

#[test]
fn attribute_strict_default_scope_returns_an_unscoped_query() {
    let text = attribute(
        quote!(default_scope = "strict"),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "tickets")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
            }
        },
    );
    assert!(text.contains("DefaultScope::Strict"), "{text}");
    assert!(text.contains("Unscoped<"), "{text}");
    assert!(!text.contains("Scope::Active"), "{text}");
}

#[test]
fn attribute_sea_orm_model() {
    insta::assert_snapshot!(attribute(
        quote!(deleted_at = "archived_at"),
        quote! {
            #[sea_orm::model]
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "articles")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub headline: String,
            }
        },
    ));
}

#[test]
fn attribute_model_ex_gets_fields_but_no_impl() {
    let output = attribute(
        quote!(),
        quote! {
            #[derive(Clone, Debug, PartialEq, DeriveModelEx)]
            pub struct ModelEx {
                pub id: i64,
                pub headline: String,
            }
        },
    );
    assert!(!output.contains("impl"), "{output}");
    insta::assert_snapshot!(output);
}

#[test]
fn attribute_composite_key() {
    // The expansion does not depend on the key: one composite case stands for i32, Uuid and
    // String keys as well.
    insta::assert_snapshot!(attribute(
        quote!(),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "memberships")]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub org_id: i32,
                #[sea_orm(primary_key, auto_increment = false)]
                pub user_id: i64,
                pub role: String,
            }
        },
    ));
}

#[test]
fn attribute_expansion_does_not_depend_on_the_key() {
    let with_key = |ty: TokenStream| {
        attribute(
            quote!(),
            quote! {
                #[derive(DeriveEntityModel)]
                #[sea_orm(table_name = "t")]
                pub struct Model {
                    #[sea_orm(primary_key, auto_increment = false)]
                    pub id: #ty,
                }
            },
        )
    };
    let i64_key = with_key(quote!(i64));
    for ty in [quote!(i32), quote!(Uuid), quote!(String)] {
        let other = with_key(ty.clone());
        assert_eq!(
            other.replace(&format!("pub id: {ty},"), "pub id: i64,"),
            i64_key,
            "key type {ty}"
        );
    }
}

#[test]
fn attribute_raw_identifier_columns() {
    let model = |fields: TokenStream| {
        quote! {
            #[derive(DeriveEntityModel)]
            #[sea_orm(table_name = "t")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                #fields
            }
        }
    };
    // Declared: found under its raw name, and its `Column` variant has no `r#`.
    let declared = expand::attribute(
        quote!(deleted_by = "r#type"),
        model(quote!(pub r#type: Option<String>,)),
    );
    assert_eq!(errors(declared.clone()), Vec::<String>::new());
    assert_eq!(
        field_names(declared.clone()),
        ["id", "r#type", "deleted_at", "deletion_reason"]
    );
    let text = pretty(declared);
    assert!(text.contains("Column::Type"), "{text}");

    // Injected: written as a raw identifier (this used to panic in `Ident::new`).
    let injected = expand::attribute(quote!(deletion_reason = "r#type"), model(quote!()));
    assert_eq!(errors(injected.clone()), Vec::<String>::new());
    assert_eq!(
        field_names(injected),
        ["id", "deleted_at", "deleted_by", "r#type"]
    );

    // A keyword that is not written raw is not a field name.
    let keyword = expand::attribute(quote!(deletion_reason = "type"), model(quote!()));
    assert_eq!(
        errors(keyword),
        ["`type` is not a valid field name for `deletion_reason`"]
    );
}

#[test]
fn attribute_below_the_derive_emits_the_struct_unchanged() {
    let tokens = expand::attribute(
        quote!(),
        quote! {
            #[sea_orm(table_name = "t")]
            pub struct Model {
                pub id: i64,
            }
        },
    );
    assert_eq!(
        errors(tokens.clone()),
        [
            "`#[soft_delete]` must be placed above `#[derive(DeriveEntityModel)]` (or above \
          `#[sea_orm::model]`); move it above the derive. Written below it, the derive has \
          already run without the soft-delete columns"
        ]
    );
    assert_eq!(field_names(tokens.clone()), ["id"]);
    let text = pretty(tokens);
    assert!(!text.contains("impl"), "{text}");
}

#[test]
fn attribute_without_sea_orm_says_what_it_applies_to() {
    let tokens = expand::attribute(
        quote!(),
        quote!(
            pub struct Model {
                pub id: i64,
            }
        ),
    );
    assert_eq!(
        errors(tokens),
        [
            "`#[soft_delete]` applies to the `Model` of a SeaORM entity: write it above \
          `#[derive(DeriveEntityModel)]` (or above `#[sea_orm::model]`)"
        ]
    );
}

#[test]
fn attribute_with_derive_soft_delete_drops_the_derive() {
    // Left in, the derive would add a second impl and a "conflicting implementations" error.
    let tokens = expand::attribute(
        quote!(),
        quote! {
            #[derive(Clone, DeriveEntityModel, SoftDelete)]
            #[sea_orm(table_name = "t")]
            #[soft_delete_columns(deleted_at = "x")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
            }
        },
    );
    assert_eq!(
        errors(tokens.clone()),
        [
            "`#[derive(SoftDelete)]` is not needed with `#[soft_delete]`, which implements \
          `SoftDelete` itself; remove the derive"
        ]
    );
    let text = pretty(tokens);
    assert!(
        text.contains("#[derive(Clone, DeriveEntityModel)]\n"),
        "{text}"
    );
    assert!(!text.contains("#[soft_delete_columns("), "{text}");
    // The fallback impl stands in for the real one.
    assert_eq!(
        text.matches("impl ::soft_delete_core::__private::SoftDelete for Entity")
            .count(),
        1
    );
}

#[test]
fn attribute_rejects_the_derive_helper() {
    let tokens = expand::attribute(
        quote!(),
        quote! {
            #[derive(DeriveEntityModel)]
            #[soft_delete_columns(deleted_at = "x")]
            pub struct Model {
                pub id: i64,
            }
        },
    );
    assert_eq!(
        errors(tokens.clone()),
        [
            "`#[soft_delete_columns]` is the helper of `#[derive(SoftDelete)]`; with \
          `#[soft_delete]`, write the options in `#[soft_delete(...)]`"
        ]
    );
    let text = pretty(tokens);
    assert!(!text.contains("#[soft_delete_columns("), "{text}");
}

#[test]
fn attribute_injects_a_shared_field_once() {
    let tokens = expand::attribute(
        quote!(deleted_by = "note", deletion_reason = "note"),
        quote! {
            #[derive(DeriveEntityModel)]
            pub struct Model {
                pub id: i64,
            }
        },
    );
    assert_eq!(
        errors(tokens.clone()),
        ["`deleted_by` and `deletion_reason` cannot both be held by field `note`"]
    );
    assert_eq!(field_names(tokens), ["id", "deleted_at", "note"]);
}

#[test]
fn attribute_errors_are_all_reported_with_a_fallback_impl() {
    insta::assert_snapshot!(attribute(
        quote!(abc = "x", deleted_at = "a", deleted_at = "b"),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "t")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub deleted_by: Option<i32>,
            }
        },
    ));
}

// ---------------------------------------------------------------------------------------------
// `#[derive(SoftDelete)]`

#[test]
fn derive_with_renamed_columns() {
    insta::assert_snapshot!(derive(quote! {
        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, SoftDelete)]
        #[sea_orm(table_name = "legacy_items")]
        #[soft_delete_columns(deleted_at = "removed_at", deletion_reason = "reason")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            pub label: String,
            pub removed_at: Option<DateTimeUtc>,
            pub deleted_by: Option<String>,
            pub reason: Option<String>,
        }
    }));
}

#[test]
fn derive_with_default_columns_and_audit() {
    insta::assert_snapshot!(derive(quote! {
        #[derive(DeriveEntityModel, SoftDelete)]
        #[sea_orm(table_name = "t")]
        #[soft_delete_columns(audit)]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i64,
            pub deleted_at: Option<DateTimeUtc>,
            pub deleted_by: Option<String>,
            pub deletion_reason: Option<String>,
            pub created_at: DateTimeUtc,
            pub created_by: Option<String>,
            pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
            pub updated_by: String,
        }
    }));
}

#[test]
fn derive_options_split_across_attributes() {
    let tokens = expand::derive(quote! {
        #[derive(DeriveEntityModel, SoftDelete)]
        #[soft_delete_columns(deleted_at = "removed_at")]
        #[soft_delete_columns(deletion_reason = "reason")]
        pub struct Model {
            pub id: i64,
            pub removed_at: Option<DateTimeUtc>,
            pub deleted_by: Option<String>,
            pub reason: Option<String>,
        }
    });
    assert_eq!(errors(tokens.clone()), Vec::<String>::new());
    let text = pretty(tokens);
    assert!(text.contains("Column::RemovedAt"), "{text}");
    assert!(text.contains("Column::Reason"), "{text}");
}

#[test]
fn derive_missing_columns_name_each_one() {
    let tokens = expand::derive(quote! {
        #[derive(DeriveEntityModel, SoftDelete)]
        pub struct Model {
            pub id: i64,
            pub deleted_at: Option<DateTimeUtc>,
        }
    });
    let errors = errors(tokens);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("`Model` has no field `deleted_by`"),
        "{errors:#?}"
    );
    assert!(
        errors[1].starts_with("`Model` has no field `deletion_reason`"),
        "{errors:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Option parsing

fn parse(tokens: TokenStream) -> (Options, Vec<String>) {
    let cx = Ctxt::default();
    let mut options = Options::default();
    attr::parse_options(tokens, "soft_delete", &mut options, &cx);
    let messages = match cx.into_compile_errors() {
        Some(tokens) => errors(tokens),
        None => Vec::new(),
    };
    (options, messages)
}

#[test]
fn options_parse_renames_and_audit() {
    let (options, messages) = parse(quote!(deleted_at = "removed_at", audit = "created"));
    assert!(messages.is_empty(), "{messages:?}");
    assert_eq!(
        options
            .rename(Role::DeletedAt)
            .map(syn::LitStr::value)
            .as_deref(),
        Some("removed_at")
    );
    assert_eq!(options.rename(Role::DeletedBy), None);
    assert!(matches!(options.audit, Some((AuditMode::Created, _))));
    assert!(options.has_audit(Role::CreatedAt));
    assert!(!options.has_audit(Role::UpdatedAt));

    let (options, _) = parse(quote!(audit));
    assert!(options.has_audit(Role::UpdatedBy));
    let (options, _) = parse(quote!());
    assert!(!options.has_audit(Role::CreatedAt));
}

#[test]
fn options_report_every_error() {
    let (_, messages) = parse(quote!(
        abc = "x",
        oops,
        deleted_at = "a",
        deleted_at = "b",
        audit,
        audit,
        default_scope = "sometimes",
        default_scope,
        default_scope,
        deleted_by = 3,
        deletion_reason = "not a name",
        a::b
    ));
    let keys = "expected one of `deleted_at`, `flag`, `active`, `epoch`, `epoch_unit`, \
                `deleted_by`, `deletion_reason`, `audit`, `default_scope`, `delete`, \
                `operation_id`, `deletion_op`, `cascade`, `hooks`, `created_at`, `created_by`, \
                `updated_at`, `updated_by`";
    assert_eq!(
        messages,
        [
            format!("unknown soft_delete attribute `abc`; {keys}"),
            format!("unknown soft_delete attribute `oops`; {keys}"),
            "duplicate soft_delete attribute `deleted_at`".to_owned(),
            "duplicate soft_delete attribute `audit`".to_owned(),
            "expected `default_scope`, `default_scope = \"active\"` or `default_scope = \"strict\"` in soft_delete".to_owned(),
            "duplicate soft_delete attribute `default_scope`".to_owned(),
            "expected a string literal: `deleted_by = \"field_name\"`".to_owned(),
            "`not a name` is not a valid field name for `deletion_reason`".to_owned(),
            format!("unknown soft_delete attribute; {keys}"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers

#[test]
fn type_to_string_reads_like_source() {
    let cases: [(syn::Type, &str); 8] = [
        (syn::parse_quote!(String), "String"),
        (
            syn::parse_quote!(Option<DateTimeUtc>),
            "Option<DateTimeUtc>",
        ),
        (
            syn::parse_quote!(std::option::Option<chrono::DateTime<chrono::Utc>>),
            "std::option::Option<chrono::DateTime<chrono::Utc>>",
        ),
        (
            syn::parse_quote!(::core::option::Option<i32>),
            "::core::option::Option<i32>",
        ),
        (
            syn::parse_quote!(HashMap<String, Vec<u8>>),
            "HashMap<String, Vec<u8>>",
        ),
        (syn::parse_quote!(&'static str), "&'static str"),
        (syn::parse_quote!((i32, String)), "(i32, String)"),
        (syn::parse_quote!([u8; 4]), "[u8; 4]"),
    ];
    for (ty, expected) in cases {
        assert_eq!(valid::type_to_string(&ty), expected);
    }
}

#[test]
fn upper_camel_matches_derive_entity_model() {
    for (name, expected) in [
        ("deleted_at", "DeletedAt"),
        ("deletion_reason", "DeletionReason"),
        ("removed_at", "RemovedAt"),
        ("reason", "Reason"),
        ("created_by2", "CreatedBy2"),
    ] {
        assert_eq!(valid::upper_camel(name), expected);
    }
}

#[test]
fn column_variant_strips_raw_prefix() {
    let column = valid::Column {
        role: Role::DeletedBy,
        field: syn::Ident::new_raw("type", proc_macro2::Span::call_site()),
        inject: false,
    };
    assert_eq!(column.variant().to_string(), "Type");
}

#[test]
fn roles_round_trip_through_their_keys() {
    for (i, role) in Role::ALL.into_iter().enumerate() {
        assert_eq!(Role::from_key(role.key()), Some(role));
        assert_eq!(role.index(), i);
        // Every role is exactly one of: a marker, a soft-delete column (NULL while live), an
        // audit column.
        let kinds = [role.is_marker(), role.must_be_option(), role.is_audit()];
        assert_eq!(kinds.iter().filter(|k| **k).count(), 1, "{role:?}");
    }
    assert_eq!(Role::from_key("audit"), None);
}

// ---------------------------------------------------------------------------------------------
// Markers

#[test]
fn attribute_flag_marker_injects_a_bool() {
    insta::assert_snapshot!(attribute(
        quote!(flag = "is_deleted"),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "users")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
            }
        },
    ));
}

#[test]
fn attribute_flag_with_deleted_at_keeps_both_in_step() {
    insta::assert_snapshot!(attribute(
        quote!(flag, deleted_at = "removed_at"),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "users")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub is_deleted: bool,
                pub removed_at: Option<DateTimeUtc>,
            }
        },
    ));
}

#[test]
fn attribute_active_and_epoch_markers() {
    insta::assert_snapshot!(attribute(
        quote!(active = "enabled"),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "users")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub enabled: bool,
            }
        },
    ));
    insta::assert_snapshot!(attribute(
        quote!(epoch = "deleted_ms", epoch_unit = "millis"),
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "users")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
            }
        },
    ));
}

#[test]
fn markers_refuse_contradictions_and_wrong_types() {
    let model = |fields: TokenStream| {
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "users")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                #fields
            }
        }
    };
    let cases: [(TokenStream, TokenStream, &str); 12] = [
        (
            quote!(flag, active),
            quote!(),
            "`flag` and `active` cannot both mark deletions in soft_delete",
        ),
        (
            quote!(epoch, flag = "gone"),
            quote!(),
            "`flag` and `epoch` cannot both mark deletions in soft_delete",
        ),
        (
            quote!(epoch, deleted_at),
            quote!(),
            "`deleted_at` contradicts `epoch` in soft_delete",
        ),
        (
            quote!(epoch_unit = "millis"),
            quote!(),
            "`epoch_unit` has no effect without `epoch = \"field_name\"` in soft_delete",
        ),
        (
            quote!(epoch, epoch_unit = "hours"),
            quote!(),
            "expected `epoch_unit = \"seconds\"` or `epoch_unit = \"millis\"` in soft_delete",
        ),
        (
            quote!(flag),
            quote!(pub is_deleted: Option<bool>,),
            "soft_delete column `flag` must have type `bool` or an integer (`i8`, `i16`, `i32`, \
             `i64`, `u8`, `u16`, `u32`, `u64`), found `Option<bool>`: a flag is never NULL",
        ),
        (
            quote!(flag),
            quote!(pub is_deleted: String,),
            "soft_delete column `flag` must have type `bool` or an integer",
        ),
        (
            quote!(flag),
            quote!(pub deleted_at: Option<DateTimeUtc>,),
            "`deleted_at` is declared, but the marker `flag` in soft_delete does not write it: \
             write `deleted_at` among the options",
        ),
        (
            quote!(epoch),
            quote!(pub deleted_at: Option<DateTimeUtc>,),
            "`deleted_at` is declared, but the marker `epoch` in soft_delete does not write it: \
             the epoch holds the deletion time itself",
        ),
        (
            quote!(epoch),
            quote!(pub deleted_epoch: f64,),
            "soft_delete column `epoch` must have type `i64` or `i32`, found `f64`: an epoch is \
             never NULL",
        ),
        (
            quote!(epoch, epoch_unit = "millis"),
            quote!(pub deleted_epoch: i32,),
            "soft_delete column `epoch` must have type `i64` with `epoch_unit = \"millis\"`",
        ),
        (
            quote!(delete = "sometimes"),
            quote!(),
            "expected `delete = \"soft\"` (SeaORM's deletes soft-delete) or `delete = \"hard\"`",
        ),
    ];
    for (args, fields, expected) in cases {
        let messages = errors(expand::attribute(args.clone(), model(fields)));
        assert!(
            messages.iter().any(|m| m.starts_with(expected)),
            "{args}: {messages:?}"
        );
    }
}

#[test]
fn the_types_sea_orm_cli_generates_are_accepted() {
    let model = |fields: TokenStream| {
        quote! {
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "users")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                #fields
            }
        }
    };
    let cases: [(TokenStream, TokenStream); 11] = [
        (
            quote!(),
            quote!(pub deleted_at: Option<DateTimeWithTimeZone>,),
        ),
        (quote!(), quote!(pub deleted_at: Option<DateTime>,)),
        (
            quote!(),
            quote!(pub deleted_at: Option<chrono::NaiveDateTime>,),
        ),
        (
            quote!(),
            quote!(pub deleted_at: Option<chrono::DateTime<chrono::FixedOffset>>,),
        ),
        (quote!(flag), quote!(pub is_deleted: i8,)),
        (
            quote!(flag, deleted_at),
            quote!(pub is_deleted: u8, pub deleted_at: Option<DateTime>,),
        ),
        (quote!(active), quote!(pub is_active: i32,)),
        (quote!(epoch), quote!(pub deleted_epoch: i32,)),
        (quote!(audit), quote!(pub created_at: DateTimeWithTimeZone,)),
        (quote!(default_scope, delete = "hard"), quote!()),
        (quote!(delete = "soft"), quote!()),
    ];
    for (args, fields) in cases {
        let messages = errors(expand::attribute(args.clone(), model(fields.clone())));
        assert!(messages.is_empty(), "{args} / {fields}: {messages:?}");
    }
}
