//! A typed view of the struct the macros are applied to.

use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Fields, Ident, Lit, Meta, Path, Token, Type};

/// What the struct's own attributes say about how SeaORM will expand it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derives {
    /// `#[derive(DeriveEntityModel)]` or `#[sea_orm::model]` follows: the entity's `Model`.
    EntityModel,
    /// `#[derive(DeriveModelEx)]` follows: the `ModelEx` that `#[sea_orm::model]` writes beside
    /// the `Model`. It gets the injected fields but no trait impl.
    ModelEx,
    /// Neither: the derive already ran (the attribute was written below it) or is missing.
    Missing,
}

/// One named field of the struct.
pub struct FieldInfo {
    pub ident: Ident,
    pub ty: Type,
    /// `#[sea_orm(column_name = "...")]`, when present.
    pub column_name: Option<String>,
    /// `#[sea_orm(ignore)]`: not a column at all.
    pub ignored: bool,
}

impl FieldInfo {
    pub fn from_field(field: &syn::Field) -> Option<FieldInfo> {
        let ident = field.ident.clone()?;
        let (column_name, ignored) = sea_orm_field_options(&field.attrs);
        Some(FieldInfo {
            ident,
            ty: field.ty.clone(),
            column_name,
            ignored,
        })
    }

    /// The field name without a raw-identifier prefix.
    pub fn name(&self) -> String {
        let name = self.ident.to_string();
        name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
    }
}

/// The named fields of `fields`, or `None` for tuple and unit structs.
pub fn named_fields(fields: &Fields) -> Option<Vec<FieldInfo>> {
    match fields {
        Fields::Named(named) => Some(
            named
                .named
                .iter()
                .filter_map(FieldInfo::from_field)
                .collect(),
        ),
        Fields::Unnamed(_) | Fields::Unit => None,
    }
}

/// Reads the derives and SeaORM attributes of the struct.
pub fn derives(attrs: &[Attribute]) -> Derives {
    let mut found = Derives::Missing;
    for attr in attrs {
        if is_sea_orm_model_attribute(attr.path()) {
            return Derives::EntityModel;
        }
        if !attr.path().is_ident("derive") {
            continue;
        }
        for path in derive_paths(attr) {
            match last_segment(&path).as_deref() {
                Some("DeriveEntityModel") => return Derives::EntityModel,
                Some("DeriveModelEx") => found = Derives::ModelEx,
                _ => {}
            }
        }
    }
    found
}

/// True when `#[derive(SoftDelete)]` is also present.
pub fn derives_soft_delete(attrs: &[Attribute]) -> Option<Path> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("derive"))
        .flat_map(derive_paths)
        .find(is_soft_delete)
}

/// Takes `SoftDelete` out of the derive lists, for when `#[soft_delete]` reports it: left in,
/// the derive would implement the trait a second time and add a "conflicting implementations"
/// error to ours.
pub fn remove_soft_delete_derive(attrs: &mut [Attribute]) {
    for attr in attrs
        .iter_mut()
        .filter(|attr| attr.path().is_ident("derive"))
    {
        let paths = derive_paths(attr);
        if !paths.iter().any(is_soft_delete) {
            continue;
        }
        let kept = paths.iter().filter(|path| !is_soft_delete(path));
        let path = attr.path().clone();
        attr.meta = syn::parse_quote!(#path(#(#kept),*));
    }
}

fn is_soft_delete(path: &Path) -> bool {
    last_segment(path).as_deref() == Some("SoftDelete")
}

/// True when the struct or one of its fields carries a `#[sea_orm(...)]` attribute: the helper
/// attributes `DeriveEntityModel` leaves behind once it has run.
pub fn has_sea_orm_attributes(attrs: &[Attribute], fields: &Fields) -> bool {
    let is_sea_orm = |attr: &Attribute| attr.path().is_ident("sea_orm");
    attrs.iter().any(is_sea_orm)
        || fields
            .iter()
            .any(|field| field.attrs.iter().any(is_sea_orm))
}

fn derive_paths(attr: &Attribute) -> Vec<Path> {
    attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)
        .map(|paths| paths.into_iter().collect())
        .unwrap_or_default()
}

fn last_segment(path: &Path) -> Option<String> {
    path.segments
        .last()
        .map(|segment| segment.ident.to_string())
}

/// `#[sea_orm::model]` and `#[sea_orm::compact_model]`.
/// `#[sea_orm::model]` (the dense format, whose generated `Entity::load()` and
/// `find_by_<unique>` call `Entity::find()` and need a `Select` back).
pub fn uses_dense_model(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let segments: Vec<String> = attr
            .path()
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        segments == ["sea_orm", "model"]
    })
}

fn is_sea_orm_model_attribute(path: &Path) -> bool {
    let segments: Vec<String> = path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect();
    matches!(
        segments
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["sea_orm", "model" | "compact_model"]
    )
}

/// Reads `column_name` and `ignore` from a field's `#[sea_orm(...)]` attributes. Anything it
/// cannot read is left for `DeriveEntityModel` to report.
fn sea_orm_field_options(attrs: &[Attribute]) -> (Option<String>, bool) {
    let mut column_name = None;
    let mut ignored = false;
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("sea_orm")) {
        let Ok(metas) = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        else {
            continue;
        };
        for meta in metas {
            match &meta {
                Meta::Path(path) if path.is_ident("ignore") => ignored = true,
                Meta::NameValue(nv) if nv.path.is_ident("column_name") => {
                    if let Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) = &nv.value
                    {
                        column_name = Some(lit.value());
                    }
                }
                _ => {}
            }
        }
    }
    (column_name, ignored)
}
