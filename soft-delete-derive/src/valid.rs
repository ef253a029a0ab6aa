//! Every semantic check: which field plays which role, and whether its type fits.
//!
//! The result is a plan that expansion turns into code without failing.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{GenericArgument, Ident, PathArguments, Type, TypePath};

use crate::ast::FieldInfo;
use crate::attr::Options;
use crate::ctxt::Ctxt;
use crate::role::{Kind, Role};

/// How the macro was invoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `#[soft_delete]`: missing columns are injected.
    Attribute,
    /// `#[derive(SoftDelete)]`: every column must be declared.
    Derive,
}

impl Mode {
    pub fn attr_name(self) -> &'static str {
        match self {
            Mode::Attribute => "soft_delete",
            Mode::Derive => "soft_delete_columns",
        }
    }
}

/// A role and the field that holds it.
pub struct Column {
    pub role: Role,
    /// The field name, as declared or as it will be injected.
    pub field: Ident,
    /// True when the field must be added to the struct.
    pub inject: bool,
}

impl Column {
    /// The `Column` enum variant `DeriveEntityModel` generates for the field.
    pub fn variant(&self) -> Ident {
        let name = self.field.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        Ident::new(&upper_camel(name), self.field.span())
    }
}

/// Decides, for each role the entity has, which field holds it, and checks the declared ones.
pub fn resolve(
    fields: &[FieldInfo],
    struct_ident: &Ident,
    options: &Options,
    mode: Mode,
    cx: &Ctxt,
) -> Vec<Column> {
    let attr_name = mode.attr_name();
    if let (Some(first), None) = (options.cascade.first(), options.operation_id) {
        cx.error_spanned_by(
            first,
            format!(
                "`cascade` needs `operation_id` in {attr_name}: the operation id on every row is \
                 what lets a restore bring back exactly the children it deleted"
            ),
        );
    }
    let markers: Vec<(Role, &syn::LitStr)> = Role::ALL
        .into_iter()
        .filter(|role| role.is_marker())
        .filter_map(|role| options.rename(role).map(|lit| (role, lit)))
        .collect();
    if let [(first, _), (second, lit), ..] = markers.as_slice() {
        cx.error_spanned_by(
            lit,
            format!(
                "`{}` and `{}` cannot both mark deletions in {attr_name}: an entity has one \
                 marker; keep `flag`, `active` or `epoch` (a flag may keep `deleted_at` in step)",
                first.key(),
                second.key()
            ),
        );
    }
    let epoch = options.rename(Role::Epoch);
    if let (Some(_), Some(lit)) = (epoch, options.rename(Role::DeletedAt)) {
        cx.error_spanned_by(
            lit,
            format!(
                "`deleted_at` contradicts `epoch` in {attr_name}: the epoch column holds the \
                 deletion time itself; remove `deleted_at`"
            ),
        );
    }
    if let (None, Some((_, span))) = (epoch, options.epoch_millis) {
        cx.syn_error(syn::Error::new(
            span,
            format!("`epoch_unit` has no effect without `epoch = \"field_name\"` in {attr_name}"),
        ));
    }
    // A declared `deleted_at` that the marker does not keep would silently never change.
    if let Some((marker, _)) = markers.first()
        && options.rename(Role::DeletedAt).is_none()
        && let Some(field) = fields.iter().find(|field| {
            field.name() == Role::DeletedAt.key()
                || field.column_name.as_deref() == Some(Role::DeletedAt.key())
        })
    {
        let hint = if *marker == Role::Epoch {
            "the epoch holds the deletion time itself: remove the field, or rename it if it \
             means something else"
        } else {
            "write `deleted_at` among the options to keep it in step with the flag, or remove \
             the field"
        };
        cx.error_spanned_by(
            &field.ident,
            format!(
                "`{}` is declared, but the marker `{}` in {attr_name} does not write it: {hint}",
                field.ident,
                marker.key()
            ),
        );
    }
    let mut columns: Vec<Column> = Vec::new();
    for role in Role::ALL {
        let rename = options.rename(role);
        // A marker column only when its option is given; `deleted_at` unless another marker
        // replaces it (a flag keeps it when it is named too).
        if role.is_marker() && rename.is_none() {
            continue;
        }
        if role == Role::DeletedAt && (epoch.is_some() || (!markers.is_empty() && rename.is_none()))
        {
            continue;
        }
        if role.is_audit() && !options.has_audit(role) {
            if let Some(lit) = rename {
                let hint = if role.is_update_audit() && options.audit.is_some() {
                    "`audit = \"full\"` (it has `audit = \"created\"`)"
                } else {
                    "`audit`"
                };
                cx.error_spanned_by(
                    lit,
                    format!(
                        "`{}` has no effect without {hint} in {attr_name}",
                        role.key()
                    ),
                );
            }
            continue;
        }
        if role == Role::DeletionOp && options.operation_id.is_none() {
            if let Some(lit) = rename {
                cx.error_spanned_by(
                    lit,
                    format!("`deletion_op` has no effect without `operation_id` in {attr_name}"),
                );
            }
            continue;
        }
        let wanted = rename.map_or_else(|| role.default_field().to_owned(), |lit| lit.value());
        // `"r#type"` names the field `r#type`, whose column is `type`.
        let wanted_name = wanted.strip_prefix("r#").unwrap_or(&wanted);
        let declared = fields
            .iter()
            .find(|field| field.name() == wanted_name)
            .or_else(|| {
                fields
                    .iter()
                    .find(|field| field.column_name.as_deref() == Some(wanted_name))
            });
        match declared {
            Some(field) => {
                if field.ignored {
                    cx.error_spanned_by(
                        &field.ident,
                        format!(
                            "soft_delete column `{}` is marked `#[sea_orm(ignore)]`; it must be a \
                             database column",
                            role.key()
                        ),
                    );
                }
                check_type(
                    role,
                    &field.ty,
                    options.epoch_millis.is_some_and(|(on, _)| on),
                    cx,
                );
                columns.push(Column {
                    role,
                    field: field.ident.clone(),
                    inject: false,
                });
            }
            None if mode == Mode::Attribute => {
                let span = rename.map_or_else(Span::call_site, |lit| lit.span());
                // `attr` checked that a renamed field is an identifier (possibly a raw one).
                let field = match syn::parse_str::<Ident>(&wanted) {
                    Ok(mut ident) => {
                        ident.set_span(span);
                        ident
                    }
                    Err(_) => Ident::new(role.default_field(), span),
                };
                columns.push(Column {
                    role,
                    field,
                    inject: true,
                });
            }
            None => match rename {
                Some(lit) => cx.error_spanned_by(
                    lit,
                    format!(
                        "no field `{wanted}` in `{struct_ident}` for the `{}` column; declare \
                         `pub {wanted}: {}`, or use `#[soft_delete]` above the derive to inject it",
                        role.key(),
                        first_type(role)
                    ),
                ),
                None => cx.error_spanned_by(
                    struct_ident,
                    format!(
                        "`{struct_ident}` has no field `{wanted}`; declare `pub {wanted}: {}`, \
                         name the field with `#[soft_delete_columns({} = \"...\")]`, or use \
                         `#[soft_delete]` above the derive to inject it",
                        first_type(role),
                        role.key()
                    ),
                ),
            },
        }
    }
    for i in 0..columns.len() {
        let (earlier, rest) = columns.split_at_mut(i);
        let column = &mut rest[0];
        if let Some(other) = earlier.iter().find(|c| c.field == column.field) {
            cx.error_spanned_by(
                &column.field,
                format!(
                    "`{}` and `{}` cannot both be held by field `{}`",
                    other.role.key(),
                    column.role.key(),
                    column.field
                ),
            );
            // Declared or injected once already: injecting it again would add a duplicate field
            // and a cascade of errors from the derive.
            column.inject = false;
        }
    }
    columns
}

fn first_type(role: Role) -> &'static str {
    match role.kind() {
        Kind::Timestamp => "Option<DateTimeUtc>",
        Kind::Text => "Option<String>",
        Kind::Bool => "bool",
        Kind::Integer => "i64",
    }
}

/// The integer types a flag may be declared with (it holds 0 or 1), as `sea-orm-cli` writes
/// a MySQL `TINYINT(1)` or a `SMALLINT` flag.
const FLAG_INTEGERS: [&str; 8] = ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"];

/// The integer types an epoch may be declared with.
const EPOCH_INTEGERS: [&str; 2] = ["i64", "i32"];

/// Checks that a declared field has a type the library can read and write for its role.
fn check_type(role: Role, ty: &Type, epoch_millis: bool, cx: &Ctxt) {
    let expected = role.expected_type();
    let key = role.key();
    let found = type_to_string(ty);
    if matches!(role.kind(), Kind::Bool | Kind::Integer) {
        let bare = last_ident(ty).and_then(|(ident, args)| args.is_none().then_some(ident));
        let accepted: &[&str] = match role.kind() {
            Kind::Bool => &FLAG_INTEGERS,
            _ => &EPOCH_INTEGERS,
        };
        let fits = bare.as_deref().is_some_and(|ident| {
            (role.kind() == Kind::Bool && ident == "bool") || accepted.contains(&ident)
        });
        if !fits {
            let why = match role.kind() {
                Kind::Bool => "a flag is never NULL: FALSE or TRUE (0 or 1) on every row",
                _ => "an epoch is never NULL: 0 while the row is live",
            };
            cx.error_spanned_by(
                ty,
                format!(
                    "soft_delete column `{key}` must have type {expected}, found `{found}`: {why}"
                ),
            );
        } else if role.kind() == Kind::Integer && epoch_millis && bare.as_deref() == Some("i32") {
            cx.error_spanned_by(
                ty,
                format!(
                    "soft_delete column `{key}` must have type `i64` with `epoch_unit = \
                     \"millis\"`: milliseconds since 1970 passed `i32::MAX` on 1970-01-25, found \
                     `{found}`"
                ),
            );
        }
        return;
    }
    let (is_option, inner) = match option_inner(ty) {
        OptionShape::Literal(inner) => (true, inner),
        OptionShape::Qualified => {
            cx.error_spanned_by(
                ty,
                format!(
                    "write the type of soft_delete column `{key}` as `Option<...>`: \
                     DeriveEntityModel decides nullability from the literal text `Option<`, \
                     found `{found}`"
                ),
            );
            return;
        }
        OptionShape::NotOption => (false, ty),
    };
    if role.must_be_option() && !is_option {
        cx.error_spanned_by(
            ty,
            format!(
                "soft_delete column `{key}` must have type {expected}, found `{found}`: it is \
                 NULL while the row is active"
            ),
        );
        return;
    }
    let fits = match role.kind() {
        Kind::Timestamp => is_timestamp(inner),
        Kind::Text => {
            last_ident(inner).is_some_and(|(ident, args)| ident == "String" && args.is_none())
        }
        // Checked above.
        Kind::Bool | Kind::Integer => true,
    };
    if !fits {
        cx.error_spanned_by(
            ty,
            format!("soft_delete column `{key}` must have type {expected}, found `{found}`"),
        );
    }
}

enum OptionShape<'a> {
    /// `Option<T>` written as one segment.
    Literal(&'a Type),
    /// `std::option::Option<T>` and the like, which DeriveEntityModel does not see as nullable.
    Qualified,
    NotOption,
}

fn option_inner(ty: &Type) -> OptionShape<'_> {
    let Type::Path(TypePath { qself: None, path }) = ty else {
        return OptionShape::NotOption;
    };
    let Some(last) = path.segments.last() else {
        return OptionShape::NotOption;
    };
    if last.ident != "Option" {
        return OptionShape::NotOption;
    }
    if path.segments.len() != 1 || path.leading_colon.is_some() {
        return OptionShape::Qualified;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(inner) => OptionShape::Literal(inner),
            _ => OptionShape::NotOption,
        },
        _ => OptionShape::NotOption,
    }
}

/// A timestamp SeaORM maps to a column type the library reads and writes, however qualified:
/// `DateTimeUtc` and `DateTimeWithTimeZone` (`DateTime<Utc>`, `DateTime<FixedOffset>`, and
/// their `Chrono…` names), and the naive `DateTime` (`NaiveDateTime`, `ChronoDateTime`), which
/// is read and written as UTC.
fn is_timestamp(ty: &Type) -> bool {
    match last_ident(ty) {
        Some((ident, None)) => matches!(
            ident.as_str(),
            "DateTimeUtc"
                | "ChronoDateTimeUtc"
                | "DateTimeWithTimeZone"
                | "ChronoDateTimeWithTimeZone"
                | "DateTime"
                | "ChronoDateTime"
                | "NaiveDateTime"
        ),
        Some((ident, Some(arg))) => {
            ident == "DateTime"
                && last_ident(arg).is_some_and(|(tz, _)| tz == "Utc" || tz == "FixedOffset")
        }
        None => false,
    }
}

/// The last path segment of a type and its single type argument, if any.
fn last_ident(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(TypePath { qself: None, path }) = ty else {
        return None;
    };
    let last = path.segments.last()?;
    let arg = match &last.arguments {
        PathArguments::None => None,
        PathArguments::AngleBracketed(args) => match (args.args.len(), args.args.first()) {
            (1, Some(GenericArgument::Type(inner))) => Some(inner),
            _ => return None,
        },
        PathArguments::Parenthesized(_) => return None,
    };
    Some((last.ident.to_string(), arg))
}

/// A type as the user wrote it, without the spaces `to_string` puts around punctuation.
pub fn type_to_string(ty: &Type) -> String {
    let text = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glue = |ch: Option<char>| {
                matches!(ch, Some('<' | '>' | ':' | '&' | '(' | ')' | '[' | ']'))
            };
            if glue(prev) || glue(next) || matches!(next, Some(',' | ';')) {
                if matches!(prev, Some(',' | ';')) {
                    out.push(' ');
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// `deleted_at` → `DeletedAt`, the way `DeriveEntityModel` names column variants.
pub fn upper_camel(name: &str) -> String {
    heck::ToUpperCamelCase::to_upper_camel_case(name)
}
